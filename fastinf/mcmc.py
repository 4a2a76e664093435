r"""Random-walk Metropolis-Hastings, many chains of many experiments in one call.

:func:`metropolis` samples a log-density with a multivariate normal random
walk: an ``@numba.njit`` function ``f(theta, data)`` of your own, or a
built-in target (the posterior of a normal mean and log standard deviation,
of a binomial rate on the logit scale, of logistic-regression coefficients,
or a fixed multivariate normal). The same model runs over thousands of
datasets at once: every experiment gets its own chains, its own adapted
proposal and its own diagnostics, and all chains of all experiments run in
one parallel loop of compiled code.

Each chain first adapts its proposal during the warm-up (the scale towards a
target acceptance rate by Robbins-Monro, the shape from the covariance of
its own warm-up draws, in Stan's doubling windows), then freezes it, so the
kept draws are an ordinary Metropolis chain with a fixed kernel. Every chain
draws from its own counter-based stream, addressed by (seed, experiment,
chain), so the draws depend only on ``rng`` and that address: not on the
thread count, nor on what else is in the batch.

The result has the draws, shaped ``(chains, draws, dim)`` (or
``(experiments, chains, draws, dim)``), the acceptance rates, the frozen
proposals, and rank-normalised split R-hat and bulk/tail effective sample
sizes (Vehtari et al. 2021) computed by :mod:`fastinf.diagnostics`.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from fastinf._mcmc_data import _numeric, _placeholder, _Rows, _rows, _user_cfunc
from fastinf._mcmc_targets import (
    _NAMES,
    Target,
    _check_spd,
    _prepare,
    _Prepared,
    binomial_target,
    logistic_target,
    mvnormal_target,
    normal_target,
)
from fastinf.ragged import check_nan_policy
from fastinf.rng import as_seed

__all__ = [
    "MetropolisResult",
    "Target",
    "binomial_target",
    "default_target_accept",
    "logistic_target",
    "metropolis",
    "mvnormal_target",
    "normal_target",
]

# Codes of the kernels (fastinf.kernels.mcmc); repeated here so that building
# a target imports no Numba.
_OK, _BAD_INIT, _RAISED, _PLUS_INF, _SKIPPED = 0, 1, 2, 3, 4
_RM_EXPONENT = 0.6  # Robbins-Monro gains (k + 1) ** -0.6
# The specialised frozen loop of the "normal" target (same bits as the
# general loop; tests switch it off to compare).
_FAST = True


# --------------------------------------------------------------------------
# The result
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MetropolisResult:
    """Result of :func:`metropolis`.

    Arrays have a leading experiments axis only when ``data`` was a batch.

    Attributes
    ----------
    draws : ndarray, shape ``(chains, draws, dim)`` or ``(experiments, chains, draws, dim)``
        The kept draws (after warm-up and thinning).
    acceptance_rate : ndarray, shape ``(chains,)`` or ``(experiments, chains)``
        The fraction of accepted proposals among the kept-phase steps
        (``n_draws * thin`` per chain).
    proposal_cov : ndarray, shape ``(..., chains, dim, dim)``
        The frozen covariance of each chain's random-walk increment.
    scale : ndarray, shape ``(..., chains)``
        The adapted scale factor of each chain: ``proposal_cov`` is
        ``scale**2`` times the chain's last shape estimate (the initial
        proposal covariance if none was made).
    init : ndarray, shape ``(..., chains, dim)``
        The starting points.
    target_accept : float
        The acceptance rate the warm-up aimed for.
    n_warmup, thin : int
        As passed.
    """

    draws: np.ndarray
    acceptance_rate: np.ndarray
    proposal_cov: np.ndarray
    scale: np.ndarray
    init: np.ndarray
    target_accept: float
    n_warmup: int
    thin: int

    @property
    def n_chains(self) -> int:
        """Chains per experiment."""
        return int(self.draws.shape[-3])

    @property
    def n_draws(self) -> int:
        """Kept draws per chain."""
        return int(self.draws.shape[-2])

    @property
    def dim(self) -> int:
        """The number of parameters."""
        return int(self.draws.shape[-1])

    @cached_property
    def rhat(self) -> np.ndarray:
        """Rank-normalised split R-hat per parameter, shape ``(dim,)`` or ``(experiments, dim)``."""
        from fastinf.diagnostics import rhat

        return np.asarray(rhat(self.draws, method="rank", chain_axis=-3, draw_axis=-2))

    @cached_property
    def ess_bulk(self) -> np.ndarray:
        """Bulk effective sample size per parameter (Vehtari et al. 2021)."""
        from fastinf.diagnostics import ess

        return np.asarray(ess(self.draws, method="bulk", chain_axis=-3, draw_axis=-2))

    @cached_property
    def ess_tail(self) -> np.ndarray:
        """Tail effective sample size per parameter (Vehtari et al. 2021)."""
        from fastinf.diagnostics import ess

        return np.asarray(ess(self.draws, method="tail", chain_axis=-3, draw_axis=-2))

    def mean(self) -> np.ndarray:
        """Posterior mean per parameter, over all chains and draws."""
        return np.asarray(self.draws.mean(axis=(-3, -2)))

    def std(self) -> np.ndarray:
        """Posterior standard deviation per parameter (``ddof=1``), over all chains and draws."""
        flat = self.draws.reshape(self.draws.shape[:-3] + (-1, self.dim))
        return np.asarray(flat.std(axis=-2, ddof=1))

    def summary(self, quantiles: Sequence[float] = (0.05, 0.5, 0.95)) -> dict[str, np.ndarray]:
        """Posterior summaries per parameter, as the columns of ``arviz.summary``.

        Parameters
        ----------
        quantiles : sequence of float, default (0.05, 0.5, 0.95)
            Quantiles to report (pooled over chains).

        Returns
        -------
        dict of str to ndarray
            ``"mean"``, ``"sd"``, ``"q5%"``-style keys per quantile,
            ``"ess_bulk"``, ``"ess_tail"``, ``"r_hat"``; each of shape
            ``(dim,)`` or ``(experiments, dim)``.
        """
        q = np.asarray(quantiles, dtype=np.float64)
        if q.ndim != 1 or ((q < 0) | (q > 1)).any():
            raise ValueError("`quantiles` must be a 1-D sequence of numbers in [0, 1].")
        flat = self.draws.reshape(self.draws.shape[:-3] + (-1, self.dim))
        out = {"mean": self.mean(), "sd": self.std()}
        values = np.quantile(flat, q, axis=-2)
        for p, v in zip(q, values, strict=True):
            out[f"q{100 * p:g}%"] = v
        out["ess_bulk"] = self.ess_bulk
        out["ess_tail"] = self.ess_tail
        out["r_hat"] = self.rhat
        return out


# --------------------------------------------------------------------------
# The sampler
# --------------------------------------------------------------------------


def default_target_accept(dim: int) -> float:
    """The default target acceptance rate for ``dim`` parameters.

    0.44 for one parameter and 0.234 from five on, the optimal rates of a
    random-walk Metropolis sampler on Gaussian-like targets (Roberts, Gelman
    & Gilks 1997; Roberts & Rosenthal 2001), linearly interpolated in
    between (0.389, 0.337, 0.286 for two to four parameters, close to the
    rates Gelman, Roberts & Gilks 1996 found best there).

    Examples
    --------
    >>> from fastinf.mcmc import default_target_accept
    >>> default_target_accept(1), default_target_accept(10)
    (0.44, 0.234)
    """
    if dim <= 1:
        return 0.44
    if dim >= 5:
        return 0.234
    return 0.44 + (0.234 - 0.44) * (dim - 1) / 4.0


def metropolis(
    logdensity: Any,
    data: Any = None,
    *,
    dim: int | None = None,
    n_chains: int = 4,
    n_draws: int = 1000,
    n_warmup: int = 1000,
    thin: int = 1,
    init: Any = None,
    proposal_cov: Any = None,
    target_accept: float | None = None,
    adapt: bool = True,
    offsets: Any = None,
    nan_policy: str = "propagate",
    rng: Any = None,
) -> MetropolisResult:
    r"""Sample a density by adaptive random-walk Metropolis-Hastings, for many datasets at once.

    Parameters
    ----------
    logdensity : numba.njit function, str or Target
        The log-density, up to a constant. Either an ``@numba.njit``
        function ``f(theta, data) -> float`` of a 1-D float64 array
        ``theta`` (the parameters, on an unconstrained scale) and a 2-D
        float64 array ``data`` (one experiment's rows; shape ``(0, 0)`` when
        ``data`` is None), which runs inside the compiled sampler; or a
        built-in target: ``"normal"``, ``"binomial"``, ``"logistic"`` (flat
        / Beta(1, 1) / N(0, 2.5**2) priors) or a :class:`Target` from
        :func:`normal_target`, :func:`binomial_target`,
        :func:`logistic_target`, :func:`mvnormal_target`, whose
        parameterisations and priors are documented there. Return ``-inf``
        outside the support; a NaN proposal is rejected.
    data : array_like, sequence of array_like, Ragged or None
        One experiment: a 1-D array (one column) or a 2-D array of rows.
        A batch: a sequence of such arrays (any numbers of rows, the same
        columns), a :class:`~fastinf.Ragged` (one column), a 3-D array
        ``(experiments, rows, columns)``, or all experiments' rows stacked
        in one array with ``offsets``.
    dim : int, optional
        The number of parameters; needed for a user ``logdensity`` unless
        ``init`` is given.
    n_chains : int, default 4
        Chains per experiment.
    n_draws : int, default 1000
        Kept draws per chain (after thinning).
    n_warmup : int, default 1000
        Warm-up (adaptation, then discarded) steps per chain.
    thin : int, default 1
        Keep every ``thin``-th state of the frozen chain: each chain runs
        ``n_warmup + n_draws * thin`` steps.
    init : array_like, optional
        Starting points, shape ``(dim,)``, ``(n_chains, dim)`` or
        ``(experiments, n_chains, dim)``. By default each chain starts at
        ``centre + u * 2 * spread``, ``u`` uniform on [-1, 1] per
        coordinate (from the chain's own stream): for a user density
        ``centre = 0`` and ``spread = 1`` (Stan's uniform(-2, 2)); for a
        built-in target a data-based estimate and about one posterior
        standard deviation (e.g. ``(mean(x), log sd(x))`` for "normal").
    proposal_cov : array_like, optional
        The covariance of the random-walk increment at the start: a scalar
        (times the identity), ``(dim,)`` (a diagonal), ``(dim, dim)`` or
        ``(experiments, dim, dim)``. Default ``2.38**2 / dim`` times the
        diagonal of squared ``spread``. With ``adapt=False`` it is used
        throughout.
    target_accept : float, optional
        The acceptance rate the warm-up aims for; default
        :func:`default_target_accept` of ``dim`` (0.44 in 1-D, 0.234 from 5-D).
    adapt : bool, default True
        Adapt the proposal during the warm-up; False keeps ``proposal_cov``
        (the warm-up is then plain burn-in).
    offsets : array_like of int, optional
        With ``data`` an array of rows: experiment ``e`` is
        ``data[offsets[e]:offsets[e + 1]]`` (``offsets[0] = 0``,
        ``offsets[-1] = len(data)``). The layout for ragged multi-column data.
    nan_policy : {'propagate', 'omit', 'raise'}, default 'propagate'
        An experiment with NaN in its data is not sampled and gets NaN
        draws ('propagate'), loses the rows holding NaN ('omit'), or raises.
    rng : None, int or numpy.random.Generator
        The seed (see :func:`fastinf.rng.as_seed`).

    Returns
    -------
    MetropolisResult
        ``draws``, ``acceptance_rate``, the frozen ``proposal_cov`` and
        ``scale``, ``init``; ``rhat``, ``ess_bulk`` and ``ess_tail`` per
        parameter, and ``summary()``.

    Notes
    -----
    From the state :math:`\theta` with log-density :math:`\ell(\theta)`, a
    step proposes :math:`\theta' = \theta + \lambda L z`, :math:`z \sim
    N(0, I_d)`, :math:`L L^\top = C`, and accepts it with probability
    :math:`\alpha = \min\{1, e^{\ell(\theta') - \ell(\theta)}\}`
    (Metropolis et al. 1953 [1]_; the proposal is symmetric, so Hastings'
    correction [2]_ cancels).

    Warm-up (each chain on its own, with Stan's schedule [6]_): an initial
    buffer of ``max(75, 0.15 W)`` steps, then covariance windows of 25, 50,
    100, ... steps (the last one stretched to fill), then a terminal buffer
    of ``max(50, 0.1 W)`` steps; for ``W < 150`` 15 % / 75 % / 10 %, and for
    ``W < 20`` the scale alone. All along, the log scale follows the
    Robbins-Monro recursion [4]_

    .. math::

        \log\lambda_{k+1} = \log\lambda_k + (k + 1)^{-0.6}
        (\alpha_k - \alpha^\ast),

    with :math:`k` the warm-up step, :math:`\alpha_k` the step's acceptance
    probability and :math:`\alpha^\ast` = ``target_accept``. The initial
    :math:`\lambda^2 C` is ``proposal_cov`` (by default the ``2.38**2 / d``
    scaling that is optimal for a Gaussian target, Roberts, Gelman & Gilks
    1997 [5]_). At the end of a window, :math:`C` becomes the covariance
    :math:`S` of the chain's draws since its last update (Haario et al.
    2001 [3]_), shrunk towards its diagonal, :math:`\tfrac{n}{n+5} S +
    \tfrac{5}{n+5} \operatorname{diag} S`, and :math:`\lambda` is rescaled
    by :math:`(\det C_{old} / \det C_{new})^{1/(2d)}` so that the proposal
    keeps its volume and the scale found so far carries over. A window with
    fewer than ``10 d`` accepted moves, or in which a coordinate never moved,
    updates nothing and its draws carry into the next window (an estimate
    from a few points would otherwise shrink the proposal in some direction
    and feed on itself). The frozen scale is the mean of
    :math:`\log\lambda_k` over the second half of the terminal buffer.
    The kept draws come from the frozen kernel, so they form a
    time-homogeneous Metropolis chain with the target as its stationary
    distribution; ``acceptance_rate`` is measured on them.

    The standard normal increments and the acceptance test come from the
    counter-based generator of :mod:`fastinf.kernels.rng` through the
    ziggurats of Marsaglia & Tsang (2000): a proposal is accepted when
    :math:`\ell(\theta') - \ell(\theta) > -E`, :math:`E \sim
    \operatorname{Exp}(1)` (that is, :math:`\log U < \ell(\theta') -
    \ell(\theta)`). Chain ``c`` of experiment ``e`` uses the stream
    ``(seed, e, c)``, step ``t`` its counters ``t (d + 1)`` to ``t (d + 1) +
    d``; so the draws depend on ``rng``, the experiment's index and data
    and the options only, never on the thread count or the rest of the
    batch.

    Rank-normalised split R-hat and bulk / tail ESS are those of Vehtari
    et al. [7]_, computed by :mod:`fastinf.diagnostics` with ArviZ's
    numbers.

    References
    ----------
    .. [1] Metropolis, N., Rosenbluth, A. W., Rosenbluth, M. N., Teller,
       A. H. & Teller, E. (1953). Equation of state calculations by fast
       computing machines. *J. Chem. Phys.* 21(6), 1087-1092.
    .. [2] Hastings, W. K. (1970). Monte Carlo sampling methods using Markov
       chains and their applications. *Biometrika* 57(1), 97-109.
    .. [3] Haario, H., Saksman, E. & Tamminen, J. (2001). An adaptive
       Metropolis algorithm. *Bernoulli* 7(2), 223-242.
    .. [4] Andrieu, C. & Thoms, J. (2008). A tutorial on adaptive MCMC.
       *Statistics and Computing* 18, 343-373.
    .. [5] Roberts, G. O., Gelman, A. & Gilks, W. R. (1997). Weak
       convergence and optimal scaling of random walk Metropolis
       algorithms. *Ann. Appl. Probab.* 7(1), 110-120.
    .. [6] Stan Development Team. *Stan Reference Manual*, "HMC algorithm
       parameters: automatic parameter tuning" (windowed adaptation).
    .. [7] Vehtari, A., Gelman, A., Simpson, D., Carpenter, B. & Bürkner,
       P.-C. (2021). Rank-normalization, folding, and localization: an
       improved R-hat for assessing convergence of MCMC. *Bayesian
       Analysis* 16(2), 667-718.

    Examples
    --------
    The Beta(1 + 7, 1 + 13) posterior of a rate after 7 successes in 20
    trials, on the logit scale:

    >>> import numpy as np
    >>> from fastinf.mcmc import metropolis
    >>> res = metropolis("binomial", np.array([[7, 20]]), n_draws=2000, rng=1)
    >>> res.draws.shape
    (4, 2000, 1)
    >>> p = 1 / (1 + np.exp(-res.draws))
    >>> bool(abs(p.mean() - 8 / 22) < 0.02)
    True

    A user density, here a standard bivariate normal, for 3 experiments
    with different scales given as data:

    >>> import numba
    >>> @numba.njit
    ... def logp(theta, data):
    ...     return -0.5 * ((theta[0] / data[0, 0]) ** 2 + theta[1] ** 2)
    >>> res = metropolis(logp, [np.array([1.0]), np.array([2.0]), np.array([5.0])], dim=2, rng=2)
    >>> res.draws.shape
    (3, 4, 1000, 2)
    """
    iv = _metropolis_iv(
        logdensity, data, dim, n_chains, n_draws, n_warmup, thin, init, proposal_cov,
        target_accept, adapt, offsets, nan_policy, rng,
    )
    from fastinf.kernels import mcmc as K

    prep, rows = iv.prep, iv.rows
    n_exp, d, n_chains = rows.n_experiments, prep.dim, iv.n_chains
    draws = np.empty((n_exp, n_chains, iv.n_draws, d))
    accept = np.empty((n_exp, n_chains))
    scale = np.empty((n_exp, n_chains))
    cov = np.empty((n_exp, n_chains, d, d))
    start = np.empty((n_exp, n_chains, d))
    status = np.zeros((n_exp, n_chains), dtype=np.int64)
    cov_start, ends, avg_from = _warmup_schedule(iv.n_warmup)
    gains = (np.arange(iv.n_warmup + 1, dtype=np.float64) + 1.0) ** -_RM_EXPONENT
    K.metropolis(
        iv.f, prep.kind, rows.values, rows.offsets, prep.stats, prep.params, iv.centre,
        iv.jitter, iv.chol, iv.seed, _block(n_exp, n_chains), iv.n_warmup, iv.n_draws,
        iv.thin, iv.adapt, iv.target, gains, ends, cov_start, avg_from,
        rows.nan_experiments, _FAST, draws, accept, scale, cov, start, status,
    )
    _check_status(status, start, iv, K)
    if not rows.batched:
        draws, accept, scale, cov, start = draws[0], accept[0], scale[0], cov[0], start[0]
    return MetropolisResult(
        draws=draws, acceptance_rate=accept, proposal_cov=cov, scale=scale, init=start,
        target_accept=iv.target, n_warmup=iv.n_warmup, thin=iv.thin,
    )


def _block(n_exp: int, n_chains: int) -> int:
    """Chains stepped together by one task: all of an experiment's, unless that starves threads."""
    import numba

    threads = numba.get_num_threads()
    if n_exp >= 8 * threads:
        return n_chains
    per = max(1, (n_exp * n_chains) // (8 * threads))
    return min(n_chains, per)


def _warmup_schedule(n_warmup: int) -> tuple[int, np.ndarray, int]:
    """``(cov_start, window ends, avg_from)`` of Stan's windowed adaptation."""
    w = n_warmup
    if w < 20:
        return w, np.zeros(0, dtype=np.int64), w // 2
    if w < 150:
        init, term = int(0.15 * w), int(0.1 * w)
        ends = [w - term]
    else:
        init, term = max(75, int(0.15 * w)), max(50, int(0.1 * w))
        ends = []
        start, size, last = init, 25, w - term
        while True:
            end = start + size
            if end + 2 * size > last:
                ends.append(last)
                break
            ends.append(end)
            start, size = end, 2 * size
    last_end = ends[-1]
    return init, np.array(ends, dtype=np.int64), last_end + (w - last_end) // 2


@dataclass(frozen=True)
class _IV:
    f: Any
    prep: _Prepared
    rows: _Rows
    centre: np.ndarray
    jitter: np.ndarray
    chol: np.ndarray
    seed: np.uint64
    n_chains: int
    n_draws: int
    n_warmup: int
    thin: int
    adapt: bool
    target: float


def _integer(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise ValueError(f"`{name}` must be {kind} integer.")
    return int(value)


def _metropolis_iv(
    logdensity: Any, data: Any, dim: Any, n_chains: Any, n_draws: Any, n_warmup: Any,
    thin: Any, init: Any, proposal_cov: Any, target_accept: Any, adapt: Any,
    offsets: Any, nan_policy: Any, rng: Any,
) -> _IV:
    n_chains = _integer(n_chains, "n_chains", 1)
    n_draws = _integer(n_draws, "n_draws", 1)
    n_warmup = _integer(n_warmup, "n_warmup", 0)
    thin = _integer(thin, "thin", 1)
    if dim is not None:
        dim = _integer(dim, "dim", 1)
    if not isinstance(adapt, (bool, np.bool_)):
        raise ValueError("`adapt` must be True or False.")
    check_nan_policy(nan_policy)

    target: Target | None
    if isinstance(logdensity, str):
        if logdensity == "mvnormal":
            raise ValueError(
                "the 'mvnormal' target needs a mean and covariance: pass "
                "fastinf.mcmc.mvnormal_target(mean, cov)."
            )
        if logdensity not in _NAMES:
            raise ValueError(
                f"unknown target {logdensity!r}; built-in targets are "
                f"{sorted(_NAMES)} and mvnormal_target(mean, cov), or pass an "
                "@numba.njit function f(theta, data)."
            )
        target = _NAMES[logdensity]()
    elif isinstance(logdensity, Target):
        target = logdensity
    else:
        from numba.core.registry import CPUDispatcher

        if not isinstance(logdensity, CPUDispatcher):
            raise TypeError(
                "`logdensity` must be an @numba.njit function f(theta, data), the name "
                "of a built-in target or a Target; got "
                f"{type(logdensity).__name__}."
            )
        target = None

    if target is not None and target.name == "mvnormal":
        if data is not None or offsets is not None:
            raise ValueError("the 'mvnormal' target takes no `data`.")
        assert target.mean is not None
        n_t = target.mean.shape[0]
        rows = _Rows(
            np.zeros((0, 0)), np.zeros(n_t + 1, dtype=np.int64), target.batched,
            np.zeros(n_t, dtype=bool),
        )
    else:
        rows = _rows(data, offsets, str(nan_policy))

    init_arr = None
    if init is not None:
        init_arr = _numeric(init, "`init`")
        if init_arr.ndim not in (1, 2, 3) or init_arr.shape[-1] < 1:
            raise ValueError(
                "`init` must have shape (dim,), (n_chains, dim) or "
                f"(n_experiments, n_chains, dim); got {init_arr.shape}."
            )
        if dim is None and target is None:
            dim = int(init_arr.shape[-1])
    prep = _prepare(target, rows, dim)
    d = prep.dim
    if dim is not None and dim != d:
        raise ValueError(f"`dim` is {dim} but the {target.name!r} target has {d} parameter(s).")  # type: ignore[union-attr]
    n_exp = rows.n_experiments

    if init_arr is not None:
        shapes = [(d,), (n_chains, d), (n_exp, n_chains, d)]
        if init_arr.shape not in shapes:
            raise ValueError(
                f"`init` must have shape (dim,), (n_chains, dim) or (n_experiments, "
                f"n_chains, dim) = {shapes[0]}, {shapes[1]} or {shapes[2]}; got "
                f"{init_arr.shape}."
            )
        if not np.isfinite(init_arr).all():
            raise ValueError("`init` must be finite.")
        centre = np.ascontiguousarray(np.broadcast_to(init_arr, (n_exp, n_chains, d)))
        jitter = np.zeros((n_exp, n_chains, d))
    else:
        centre = np.ascontiguousarray(
            np.broadcast_to(prep.centre[:, None, :], (n_exp, n_chains, d))
        )
        jitter = np.ascontiguousarray(
            np.broadcast_to(2.0 * prep.spread[:, None, :], (n_exp, n_chains, d))
        )
    centre = np.where(rows.nan_experiments[:, None, None], 0.0, centre)

    if proposal_cov is None:
        c3 = np.zeros((n_exp, d, d))
        idx = np.arange(d)
        c3[:, idx, idx] = 2.38**2 / d * prep.spread**2
        chol = np.ascontiguousarray(np.sqrt(c3))
    else:
        pc = _numeric(proposal_cov, "`proposal_cov`")
        if pc.ndim == 0:
            c3 = np.broadcast_to(pc * np.eye(d), (n_exp, d, d))
        elif pc.shape == (d,):
            c3 = np.broadcast_to(np.diag(pc), (n_exp, d, d))
        elif pc.shape in ((d, d), (n_exp, d, d)):
            c3 = np.broadcast_to(pc, (n_exp, d, d))
        else:
            raise ValueError(
                f"`proposal_cov` must be a scalar or have shape ({d},), ({d}, {d}) or "
                f"({n_exp}, {d}, {d}); got {pc.shape}."
            )
        if not np.isfinite(c3).all():
            raise ValueError("`proposal_cov` must be finite.")
        c3 = np.ascontiguousarray(c3)
        chol = np.ascontiguousarray(_check_spd(c3, "proposal_cov", pc.ndim == 3))

    if target_accept is None:
        target_value = default_target_accept(d)
    else:
        target_value = float(target_accept)
        if not 0.0 < target_value < 1.0:
            raise ValueError("`target_accept` must be in (0, 1).")

    f = _user_cfunc(logdensity) if target is None else _placeholder()
    return _IV(
        f, prep, rows, centre, jitter, chol, as_seed(rng), n_chains, n_draws, n_warmup,
        thin, bool(adapt), target_value,
    )


def _check_status(status: np.ndarray, start: np.ndarray, iv: _IV, K: Any) -> None:
    bad = np.argwhere((status != _OK) & (status != _SKIPPED))
    if bad.size == 0:
        return
    e, c = (int(v) for v in bad[0])
    code = int(status[e, c])
    where = f"{iv.rows.label(e)}, chain {c}" if iv.rows.batched else f"chain {c}"
    theta = np.array2string(start[e, c], precision=6, separator=", ")
    if code == _RAISED:
        raise ValueError(
            f"`logdensity` raised an exception ({where}); call it on that "
            "experiment's data directly to see the error."
        )
    if code == _PLUS_INF:
        raise ValueError(
            f"`logdensity` returned +inf ({where}); a log-density must be finite in "
            "its support and -inf outside it."
        )
    thetas = np.ascontiguousarray(start[e, c][None, None, :])
    value = K.logdensity_at(
        iv.f, iv.prep.kind, iv.rows.values, iv.rows.offsets[e : e + 2],
        iv.prep.stats[e : e + 1], iv.prep.params, thetas,
    )[0, 0]
    raise ValueError(
        f"`logdensity` is not finite at the starting point of {where}: "
        f"logdensity({theta}) = {value}. Pass an `init` inside the target's support."
    )
