"""asv benchmarks: fastinf.mcmc.metropolis against a NumPy sampler vectorised across chains.

The issue's case, smaller when ``benchmarks.QUICK``: many Metropolis
problems with 2 parameters (the "normal" target: the posterior of a normal
mean and log standard deviation, one dataset of 50 observations per
problem), 4 chains each, warm-up with adaptation then kept draws.

The reference, :func:`numpy_metropolis_normal`, runs the same target and the
same adaptation scheme (Robbins-Monro on the log scale with gains
``(t + 1) ** -0.6``, covariance windows of Stan's schedule shrunk towards
their diagonal, volume-preserving rescaling, the frozen scale averaged over
the second half of the terminal buffer) with every chain of every problem in
one set of NumPy arrays: each step is a few dozen whole-array operations.
It stores the draws step-major, ``(draws, dim, chains)``, the layout NumPy
writes fastest (fastinf returns ``(problems, chains, draws, dim)``).

Nothing is imported at module level but NumPy and this package (asv imports
every module to discover benchmarks); fastinf is imported and warmed in
``setup``.
"""

from __future__ import annotations

import math

import numpy as np

from . import DATA_SEED, QUICK, RESAMPLE_SEED

PROBLEMS = [200] if QUICK else [200, 2000]
CHAINS = 4
DRAWS = 1000
WARMUP = 500
N_OBS = 50
TARGET_2D = 0.3885  # fastinf.mcmc.default_target_accept(2)


def normal_problems(n_problems: int, n_obs: int = N_OBS, seed: int = DATA_SEED) -> np.ndarray:
    """``(n_problems, n_obs, 1)`` normal datasets with their own means and scales."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=(n_problems, 1, 1))
    sigma = np.exp(rng.normal(scale=0.3, size=(n_problems, 1, 1)))
    return mu + sigma * rng.normal(size=(n_problems, n_obs, 1))


def warmup_schedule(n_warmup: int) -> tuple[int, list[int], int]:
    """``(first window step, window ends, first averaged step)``: Stan's windows."""
    w = n_warmup
    if w < 20:
        return w, [], w // 2
    if w < 150:
        init, ends = int(0.15 * w), [w - int(0.1 * w)]
    else:
        init, term = max(75, int(0.15 * w)), max(50, int(0.1 * w))
        ends, start, size = [], init, 25
        while True:
            end = start + size
            if end + 2 * size > w - term:
                ends.append(w - term)
                break
            ends.append(end)
            start, size = end, 2 * size
    return init, ends, ends[-1] + (w - ends[-1]) // 2


def numpy_metropolis_normal(
    data: np.ndarray, n_chains: int, n_draws: int, n_warmup: int, target: float,
    seed: int = RESAMPLE_SEED,
) -> np.ndarray:
    """Adaptive random-walk Metropolis on the "normal" target, vectorised over all chains.

    ``data`` is ``(problems, n_obs, 1)``; returns draws ``(n_draws, 2, problems * n_chains)``.
    """
    rng = np.random.default_rng(seed)
    x = data[:, :, 0]
    e, n_obs = x.shape
    m = e * n_chains
    d = 2
    xbar = x.mean(axis=1)
    ss = ((x - xbar[:, None]) ** 2).sum(axis=1)
    n = float(n_obs)
    sd = np.sqrt(ss / (n - 1))
    xbar_c, ss_c = np.repeat(xbar, n_chains), np.repeat(ss, n_chains)
    spread = np.stack([np.repeat(sd / math.sqrt(n), n_chains), np.full(m, 1 / math.sqrt(2 * n))])
    centre = np.stack([xbar_c, np.repeat(np.log(sd), n_chains)])

    def logp(th):
        dm = xbar_c - th[0]
        return -n * th[1] - 0.5 * (ss_c + n * dm * dm) * np.exp(-2.0 * th[1])

    theta = centre + 2.0 * spread * rng.uniform(-1.0, 1.0, size=(d, m))
    lp = logp(theta)
    low = np.zeros((d, d, m))  # low[i, j]: lower Cholesky factor, per chain
    for i in range(d):
        low[i, i] = 2.38 / math.sqrt(d) * spread[i]
    log_scale = np.zeros(m)
    avg = np.zeros(m)
    n_avg = 0
    cov_start, ends, avg_from = warmup_schedule(n_warmup)
    gains = (np.arange(n_warmup + 1) + 1.0) ** -0.6
    w, n_win = 0, 0
    mean = np.zeros((d, m))
    m2 = np.zeros((d, d, m))
    out = np.empty((n_draws, d, m))
    prop = np.empty((d, m))
    for t in range(n_warmup + n_draws):
        z = rng.standard_normal((d, m))
        lam = np.exp(log_scale) if t < n_warmup else 1.0
        for i in range(d):
            inc = low[i, 0] * z[0]
            for j in range(1, i + 1):
                inc += low[i, j] * z[j]
            prop[i] = theta[i] + lam * inc
        lpp = logp(prop)
        delta = lpp - lp
        acc = -delta < rng.standard_exponential(m)  # log U < delta, U uniform
        np.copyto(theta, prop, where=acc)
        np.copyto(lp, lpp, where=acc)
        if t >= n_warmup:
            out[t - n_warmup] = theta
            continue
        alpha = np.where(delta >= 0, 1.0, np.exp(np.minimum(delta, 0.0)))
        alpha[np.isnan(delta)] = 0.0
        log_scale += gains[t] * (alpha - target)
        if t >= avg_from:
            avg += log_scale
            n_avg += 1
        if w < len(ends) and t >= cov_start:
            n_win += 1
            dev = theta - mean
            mean += dev / n_win
            m2 += dev[:, None, :] * (theta - mean)[None, :, :]
            if t + 1 == ends[w]:
                s = m2 / (n_win - 1)
                shrunk = s * (n_win / (n_win + 5.0))
                for i in range(d):
                    shrunk[i, i] = s[i, i]
                ok = (np.diagonal(s).T > 0).all(axis=0) if n_win >= 2 else np.zeros(m, bool)
                mats = np.where(ok, shrunk, np.eye(d)[:, :, None]).transpose(2, 0, 1)
                try:
                    chol = np.linalg.cholesky(mats).transpose(1, 2, 0)
                except np.linalg.LinAlgError:  # one bad window: factor chain by chain
                    chol = np.full((d, d, m), np.nan)
                    for k in range(m):
                        try:
                            chol[:, :, k] = np.linalg.cholesky(mats[k])
                        except np.linalg.LinAlgError:
                            pass
                ok &= np.isfinite(chol).all(axis=(0, 1))
                old = np.log(np.diagonal(low).T).sum(axis=0)
                new = np.log(np.diagonal(chol).T).sum(axis=0)
                log_scale = np.where(ok, log_scale + (old - new) / d, log_scale)
                low = np.where(ok, chol, low)
                w, n_win = w + 1, 0
                mean[:] = 0.0
                m2[:] = 0.0
        if t + 1 == n_warmup:
            if n_avg:
                log_scale = avg / n_avg
            low = low * np.exp(log_scale)
    return out


class MetropolisNormal:
    """``fastinf.mcmc.metropolis("normal", ...)``: problems x 4 chains x 1 000 draws."""

    params = (PROBLEMS,)
    param_names = ["problems"]
    timeout = 600

    def setup(self, problems):
        from fastinf.mcmc import metropolis

        self.data = normal_problems(problems)
        self.f = metropolis
        self.f("normal", self.data[:2], n_draws=10, n_warmup=10, rng=RESAMPLE_SEED)

    def time_metropolis(self, problems):
        self.f("normal", self.data, n_chains=CHAINS, n_draws=DRAWS, n_warmup=WARMUP,
               rng=RESAMPLE_SEED)

    def peakmem_metropolis(self, problems):
        self.f("normal", self.data, n_chains=CHAINS, n_draws=DRAWS, n_warmup=WARMUP,
               rng=RESAMPLE_SEED)


class NumpyMetropolisNormal:
    """Reference for :class:`MetropolisNormal`: NumPy, vectorised across all chains."""

    params = (PROBLEMS,)
    param_names = ["problems"]
    timeout = 1200

    def setup(self, problems):
        self.data = normal_problems(problems)

    def time_metropolis(self, problems):
        numpy_metropolis_normal(self.data, CHAINS, DRAWS, WARMUP, TARGET_2D)

    def peakmem_metropolis(self, problems):
        numpy_metropolis_normal(self.data, CHAINS, DRAWS, WARMUP, TARGET_2D)
