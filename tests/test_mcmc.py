"""Random-walk Metropolis: known targets, batching, determinism, validation, the normal stream.

Statistical checks use fixed seeds. Each states its false-failure rate: most
are z-scores bounded at 5 (two-sided, 6e-7 per check for a normal z) with
Monte-Carlo errors derived from the effective sample size, or from the
spread over a batch of independent experiments.
"""

import warnings

import numba
import numpy as np
import pytest
from scipy import optimize, special, stats

from fastinf import Ragged
from fastinf import mcmc as M
from fastinf.kernels import rng as R
from fastinf.mcmc import (
    binomial_target,
    logistic_target,
    metropolis,
    mvnormal_target,
    normal_target,
)

SEED = 20261124
KEY = np.uint64(0x5EED5EED5EED5EED)
Z = 5.0  # z bound: 5.7e-7 two-sided per check for a normal z

diagnostics = pytest.importorskip("fastinf.diagnostics")


@numba.njit
def _user_normal(theta, data):
    # the posterior of a normal mean with known unit variance and a flat prior
    s = 0.0
    for i in range(data.shape[0]):
        s += (data[i, 0] - theta[0]) ** 2
    return -0.5 * s


@numba.njit
def _user_bivariate(theta, data):
    # N(0, diag(data[0, 0]**2, 1))
    return -0.5 * ((theta[0] / data[0, 0]) ** 2 + theta[1] ** 2)


@numba.njit
def _half_line(theta, data):
    return -theta[0] if theta[0] > 0 else -np.inf


@numba.njit
def _raises(theta, data):
    if theta[0] > 1e300:
        return 0.0
    raise ValueError("boom")


@numba.njit
def _plus_inf(theta, data):
    return np.inf if theta[0] > 0.5 else 0.0


@numba.njit
def _one_arg(theta):
    return 0.0


@numba.njit
def _returns_array(theta, data):
    return theta


# --------------------------------------------------------------------------
# The counter-based normal and exponential streams
# --------------------------------------------------------------------------


def test_normal_stream_is_standard_normal():
    """KS against N(0, 1) on 400 000 draws, and the first four moments within
    5 standard errors (6e-7 each): the ziggurat's layers, wedges and tail
    together. The tail beyond R = 3.654 (all slow path) has the normal mass
    within 5 binomial standard errors.
    """
    z = R.normals(KEY, 3, 8, 50_000).ravel()
    n = z.size
    assert stats.kstest(z, "norm").pvalue > 1e-6
    assert abs(z.mean()) < Z / np.sqrt(n)
    assert abs(z.var() - 1) < Z * np.sqrt(2 / n)
    assert abs(stats.skew(z)) < Z * np.sqrt(6 / n)
    assert abs(stats.kurtosis(z)) < Z * np.sqrt(24 / n)
    p = 2 * stats.norm.sf(R._ZIG_R)
    tail = np.mean(np.abs(z) > R._ZIG_R)
    assert abs(tail - p) < Z * np.sqrt(p * (1 - p) / n)


def test_normal_tail_and_wedges_by_chi_square():
    """Counts in 40 equal-probability cells of N(0, 1) plus the two tails
    beyond +-4: chi-square at the 1e-6 level (false-failure rate 1e-6)."""
    z = R.normals(KEY, 5, 10, 60_000).ravel()
    edges = np.concatenate(([-np.inf, -4.0], stats.norm.ppf(np.arange(1, 40) / 40), [4.0, np.inf]))
    observed = np.histogram(z, edges)[0]
    expected = np.diff(stats.norm.cdf(edges)) * z.size
    assert stats.chisquare(observed, expected).pvalue > 1e-6


def test_normal_streams_are_independent():
    """Lag-1 within a stream, adjacent replicates and experiments: |r| < 6 / sqrt(n)."""
    a = R.normals(KEY, 0, 2, 40_000)
    b = R.normals(KEY, 1, 1, 40_000)[0]
    limit = 6 / np.sqrt(40_000)
    assert abs(np.corrcoef(a[0], a[1])[0, 1]) < limit
    assert abs(np.corrcoef(a[0], b)[0, 1]) < limit
    assert abs(np.corrcoef(a[0][:-1], a[0][1:])[0, 1]) < limit
    # squares too: dependence in the magnitudes would show here
    assert abs(np.corrcoef(a[0][:-1] ** 2, a[0][1:] ** 2)[0, 1]) < limit


def test_normal_fast_path_matches_the_documented_formula():
    """Word c: layer = bits 0-7, sign = bit 8, u = bits 11-63; x = u X[layer] when x < X[layer+1]."""
    from tests import naive

    w = naive.words(KEY, 2, 1, 5000)
    layer = (w & np.uint64(255)).astype(np.int64)
    sign = 1.0 - 2.0 * ((w >> np.uint64(8)) & np.uint64(1)).astype(np.float64)
    x = (w >> np.uint64(11)).astype(np.float64) * 2.0**-53 * R._ZIG_X[layer]
    fast = x < R._ZIG_X[layer + 1]
    got = R.normals(KEY, 2, 2, 5000)[1]
    assert 0.98 < fast.mean() < 1.0
    np.testing.assert_array_equal(got[fast], (sign * x)[fast])


def test_ziggurat_layers_have_equal_area():
    x, y = R._ZIG_X, R._ZIG_Y
    v = x[1:256] * (y[2:257] - y[1:256])
    np.testing.assert_allclose(v, v[0], rtol=1e-12)
    base = x[1] * y[1] + np.sqrt(np.pi / 2) * special.erfc(x[1] / np.sqrt(2))
    np.testing.assert_allclose(base, v[0], rtol=1e-12)
    assert y[256] >= 1.0  # the top layer covers the mode


def test_exponential_stream():
    """KS against Exp(1), mean and variance within 5 SE, the tail beyond R in 5 SE."""
    e = R.exponentials(KEY, 7, 8, 50_000).ravel()
    n = e.size
    assert e.min() >= 0
    assert stats.kstest(e, "expon").pvalue > 1e-6
    assert abs(e.mean() - 1) < Z / np.sqrt(n)
    assert abs(e.var() - 1) < Z * np.sqrt(8 / n)
    p = np.exp(-R._EZIG_R)
    assert abs(np.mean(e > R._EZIG_R) - p) < Z * np.sqrt(p / n) + 1 / n


# --------------------------------------------------------------------------
# Known targets
# --------------------------------------------------------------------------


def test_bivariate_normal_correlation_07():
    """100 independent runs of N(m, S) with corr 0.7 (sds 1 and 2).

    Means: z = (mean - m) / (sd / sqrt(ESS_bulk)) per run and coordinate;
    the 200 z must average 0 within 5 / sqrt(200) and have a standard
    deviation in [0.75, 1.3] (the ESS is itself estimated; the bounds are
    beyond 5 sigma of the sd of 200 normal z). Covariances: the batch means
    of the five moments within 5 standard errors of their spread over runs.
    """
    m = np.array([1.0, -1.0])
    s = np.array([[1.0, 1.4], [1.4, 4.0]])
    e = 100
    res = metropolis(mvnormal_target(np.tile(m, (e, 1)), s), n_draws=2000, n_warmup=1000,
                     rng=SEED)
    assert res.draws.shape == (e, 4, 2000, 2)
    z = (res.mean() - m) / (np.sqrt(np.diag(s)) / np.sqrt(res.ess_bulk))
    assert abs(z.mean()) < Z / np.sqrt(z.size)
    assert 0.75 < z.std() < 1.3
    flat = res.draws.reshape(e, -1, 2)
    covs = np.stack([np.cov(f.T) for f in flat])
    for i, j in [(0, 0), (1, 1), (0, 1)]:
        c = covs[:, i, j]
        assert abs(c.mean() - s[i, j]) < Z * c.std(ddof=1) / np.sqrt(e), (i, j)
    corr = covs[:, 0, 1] / np.sqrt(covs[:, 0, 0] * covs[:, 1, 1])
    assert abs(corr.mean() - 0.7) < Z * corr.std(ddof=1) / np.sqrt(e)
    assert (res.rhat < 1.05).mean() > 0.95


def test_beta_posterior_via_binomial():
    """p = expit(theta) is Beta(a + k, b + n - k): mean within 5 MCSE (ESS of p),
    variance within 5 SE (ESS of (p - mean)**2), and the posterior CDF at
    scipy's 5/25/50/75/95 % quantiles within 5 SE with the quantile ESS.
    """
    a, b, k, n = 2.0, 3.0, 7, 30
    res = metropolis(binomial_target(a, b), np.array([[3, 10], [4, 20]]), n_draws=5000,
                     n_warmup=1000, rng=SEED)
    assert res.draws.shape == (4, 5000, 1)
    p = special.expit(res.draws[..., 0])
    ref = stats.beta(a + k, b + n - k)
    ess_mean = diagnostics.ess(p, method="mean")
    assert abs(p.mean() - ref.mean()) < Z * ref.std() / np.sqrt(ess_mean)
    dev2 = (p - ref.mean()) ** 2
    ess_sd = diagnostics.ess(dev2, method="mean")
    assert abs(dev2.mean() - ref.var()) < Z * dev2.std() / np.sqrt(ess_sd)
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        ess_q = diagnostics.ess(p, method="quantile", prob=q)
        cdf = np.mean(p <= ref.ppf(q))
        assert abs(cdf - q) < Z * np.sqrt(q * (1 - q) / ess_q), q


def test_binomial_batch_of_beta_posteriors():
    """300 experiments with their own (k, n) and Bernoulli rows: the z-scores of
    the posterior means (MCSE from the bulk ESS) average 0 within 5 / sqrt(300)
    and have sd in [0.8, 1.25]."""
    rng = np.random.default_rng(1)
    n = rng.integers(1, 60, 300)
    k = rng.binomial(n, rng.uniform(0.05, 0.95, 300))
    data = [np.r_[np.ones(ki), np.zeros(ni - ki)] for ki, ni in zip(k, n, strict=True)]
    res = metropolis("binomial", data, n_draws=1000, n_warmup=500, rng=SEED)
    ref = stats.beta(1 + k, 1 + n - k)
    p = special.expit(res.draws[..., 0])
    ess = diagnostics.ess(p, method="mean")
    z = (p.mean(axis=(1, 2)) - ref.mean()) / (ref.std() / np.sqrt(ess))
    assert abs(z.mean()) < Z / np.sqrt(z.size)
    assert 0.8 < z.std() < 1.25


def test_normal_target_matches_the_conjugate_posterior():
    """Flat prior on (mu, log sigma): mu | x is t(n-1, xbar, s / sqrt(n)) and
    E[log sigma] = log s + (log(n-1) - log 2 - digamma((n-1)/2)) / 2. Over 100
    datasets of 20, the z-scores of both posterior means (bulk ESS) average 0
    within 5 / sqrt(100) and have sd in [0.75, 1.3]; the posterior sd of mu
    matches the t's within 10 % on average."""
    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, size=(100, 20))
    res = metropolis("normal", Ragged.from_arrays(list(x)), n_draws=2000, rng=SEED)
    n, nu = 20, 19
    s = x.std(axis=1, ddof=1)
    mu_sd = s / np.sqrt(n) * np.sqrt(nu / (nu - 2))
    true = np.stack([x.mean(axis=1), np.log(s) + (np.log(nu) - np.log(2)
                                                  - special.digamma(nu / 2)) / 2], axis=1)
    ls_sd = np.sqrt(special.polygamma(1, nu / 2) / 4) * np.ones(100)
    sd = np.stack([mu_sd, ls_sd], axis=1)
    z = (res.mean() - true) / (sd / np.sqrt(res.ess_bulk))
    for j in range(2):
        assert abs(z[:, j].mean()) < Z / 10, j
        assert 0.75 < z[:, j].std() < 1.3, j
    assert abs((res.std()[:, 0] / mu_sd).mean() - 1) < 0.1
    assert abs((res.std()[:, 1] / ls_sd).mean() - 1) < 0.1


def test_normal_target_with_priors_matches_grid_quadrature():
    """Normal priors on mu and log sigma: posterior means and sds against a
    400 x 400 grid integration of the same density, within 5 MCSE (means) and
    8 % (sds; the sd's Monte-Carlo error at ESS ~ 1500 is ~ 2-3 %)."""
    x = np.random.default_rng(3).normal(1.0, 0.5, size=8)
    target = normal_target(mu_prior=(0.0, 1.0), log_sigma_prior=(0.0, 0.5))
    res = metropolis(target, x, n_draws=4000, rng=SEED)
    mu = np.linspace(-1.5, 3.0, 400)
    ls = np.linspace(-3.0, 1.5, 400)
    mm, ll = np.meshgrid(mu, ls, indexing="ij")
    lp = (-len(x) * ll - ((x[None, None, :] - mm[..., None]) ** 2).sum(-1) / (2 * np.exp(2 * ll))
          - 0.5 * mm**2 - 0.5 * (ll / 0.5) ** 2)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    mean = np.array([(w * mm).sum(), (w * ll).sum()])
    sd = np.sqrt([(w * (mm - mean[0]) ** 2).sum(), (w * (ll - mean[1]) ** 2).sum()])
    assert (np.abs(res.mean() - mean) < Z * sd / np.sqrt(res.ess_bulk)).all()
    np.testing.assert_allclose(res.std(), sd, rtol=0.08)


def test_logistic_against_the_laplace_approximation():
    """n = 400, intercept + 2 covariates: the posterior mean within 0.15
    posterior sds of the MAP (Laplace's error at this n is a few hundredths;
    MCSE at ESS ~ 700 is 0.04 sd) and the posterior sds within 10 % of the
    inverse Hessian's."""
    rng = np.random.default_rng(4)
    n = 400
    xs = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    beta = np.array([-0.5, 1.0, -0.7])
    y = rng.uniform(size=n) < special.expit(xs @ beta)
    data = np.column_stack([xs, y])
    s2 = 2.5**2

    def negpost(b):
        eta = xs @ b
        return -(y @ eta - np.logaddexp(0, eta).sum() - b @ b / (2 * s2))

    opt = optimize.minimize(negpost, np.zeros(3), method="BFGS", options={"gtol": 1e-10})
    p = special.expit(xs @ opt.x)
    hess = xs.T @ (xs * (p * (1 - p))[:, None]) + np.eye(3) / s2
    laplace_sd = np.sqrt(np.diag(np.linalg.inv(hess)))
    res = metropolis("logistic", data, n_draws=3000, rng=SEED)
    assert res.dim == 3
    assert (np.abs(res.mean() - opt.x) < 0.15 * laplace_sd).all()
    np.testing.assert_allclose(res.std(), laplace_sd, rtol=0.1)
    same = metropolis(logistic_target(2.5), data, n_draws=3000, rng=SEED)
    assert same.draws.tobytes() == res.draws.tobytes()


def test_user_njit_density():
    """A user density over data: the flat-prior posterior of a normal mean with
    unit variance is N(mean(x), 1 / n); the z-scores (ESS) of 50 experiments
    average 0 within 5 / sqrt(50), and the posterior sds are within 10 %."""
    rng = np.random.default_rng(5)
    xs = [rng.normal(size=int(m)) for m in rng.integers(5, 80, 50)]
    res = metropolis(_user_normal, xs, dim=1, n_draws=2000, rng=SEED)
    means = np.array([x.mean() for x in xs])
    sds = np.array([1 / np.sqrt(x.size) for x in xs])
    z = (res.mean()[:, 0] - means) / (sds / np.sqrt(res.ess_bulk[:, 0]))
    assert abs(z.mean()) < Z / np.sqrt(50)
    assert abs((res.std()[:, 0] / sds).mean() - 1) < 0.1


def test_user_density_without_data_and_support_boundary():
    """Exp(1) on the half line (-inf outside): the mean within 5 MCSE of 1."""
    res = metropolis(_half_line, None, init=np.array([1.0]), n_draws=5000, rng=SEED)
    assert res.draws.shape == (4, 5000, 1)
    assert res.draws.min() > 0
    ess = diagnostics.ess(res.draws[..., 0], method="mean")
    assert abs(res.draws.mean() - 1) < Z / np.sqrt(ess)


# --------------------------------------------------------------------------
# Adaptation, thinning, options
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [1, 2, 5])
def test_adaptation_reaches_the_target_acceptance(dim):
    """Mean acceptance over 200 chains within 0.03 of the target (the spread of
    one chain's rate is ~0.03, from its adapted scale), every chain within 0.15."""
    target = mvnormal_target(np.zeros((50, dim)), np.diag(np.logspace(-3, 3, dim)))
    res = metropolis(target, n_draws=1000, rng=SEED)
    want = M.default_target_accept(dim)
    assert res.target_accept == want
    assert abs(res.acceptance_rate.mean() - want) < 0.03
    assert np.abs(res.acceptance_rate - want).max() < 0.15


def test_custom_target_accept_and_default_rates():
    assert M.default_target_accept(1) == 0.44
    assert M.default_target_accept(7) == 0.234
    assert M.default_target_accept(3) == pytest.approx(0.337)
    res = metropolis(mvnormal_target(np.zeros((50, 2)), np.eye(2)), n_draws=1000,
                     target_accept=0.6, rng=SEED)
    assert abs(res.acceptance_rate.mean() - 0.6) < 0.03


def test_proposal_covariance_learns_the_target_shape():
    """After warm-up the frozen proposal is ~ scale**2 * cov: its correlation is
    the target's (0.9) within 0.1 on average over 50 runs."""
    s = np.array([[1.0, 9.0], [9.0, 100.0]])
    res = metropolis(mvnormal_target(np.zeros((50, 2)), s), n_draws=10, rng=SEED)
    pc = res.proposal_cov
    corr = pc[..., 0, 1] / np.sqrt(pc[..., 0, 0] * pc[..., 1, 1])
    assert abs(corr.mean() - 0.9) < 0.1
    ratio = pc[..., 1, 1] / pc[..., 0, 0]
    assert 50 < np.median(ratio) < 200


def test_thinning_keeps_every_thin_th_state():
    data = np.random.default_rng(6).normal(size=30)
    full = metropolis("normal", data, n_draws=300, n_warmup=200, rng=SEED)
    thin = metropolis("normal", data, n_draws=100, n_warmup=200, thin=3, rng=SEED)
    np.testing.assert_array_equal(thin.draws, full.draws[:, 2::3])
    assert thin.thin == 3


def test_no_adaptation_keeps_the_proposal():
    cov = np.array([[0.5, 0.1], [0.1, 0.3]])
    res = metropolis(mvnormal_target([0.0, 0.0], np.eye(2)), proposal_cov=cov, adapt=False,
                     n_draws=200, rng=SEED)
    np.testing.assert_allclose(res.proposal_cov, np.broadcast_to(cov, (4, 2, 2)), rtol=1e-15)
    np.testing.assert_array_equal(res.scale, 1.0)


def test_init_shapes_and_starting_points():
    target = mvnormal_target(np.zeros((3, 2)), np.eye(2))
    init = np.arange(3 * 4 * 2, dtype=float).reshape(3, 4, 2) / 10
    res = metropolis(target, init=init, n_draws=10, rng=SEED)
    np.testing.assert_array_equal(res.init, init)
    res = metropolis(target, init=init[0], n_draws=10, rng=SEED)
    np.testing.assert_array_equal(res.init, np.broadcast_to(init[0], (3, 4, 2)))
    res = metropolis(target, init=[0.5, -0.5], n_draws=10, rng=SEED)
    np.testing.assert_array_equal(res.init, np.broadcast_to([0.5, -0.5], (3, 4, 2)))
    # default: centre +- 2 spread, different per chain, from the chain's own stream
    res = metropolis(target, n_draws=10, rng=SEED)
    assert np.abs(res.init).max() <= 2.0
    assert len(np.unique(res.init[0, :, 0])) == 4


def test_default_init_of_the_normal_target_is_near_the_estimate():
    x = np.random.default_rng(7).normal(10.0, 3.0, size=100)
    res = metropolis("normal", x, n_draws=10, rng=SEED)
    spread = np.array([x.std(ddof=1) / 10, 1 / np.sqrt(200)])
    centre = np.array([x.mean(), np.log(x.std(ddof=1))])
    assert (np.abs(res.init - centre) <= 2 * spread + 1e-12).all()


# --------------------------------------------------------------------------
# Batching and determinism
# --------------------------------------------------------------------------


def _batch(seed=8, n=5):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=int(m)) for m in rng.integers(5, 40, n)]


def test_batch_equals_loop_and_other_experiments_do_not_matter():
    """Experiment e's chains depend only on (seed, e, its data): the same whether
    alone (e = 0), in a batch, or beside different or fewer experiments."""
    xs = _batch()
    batch = metropolis("normal", xs, n_draws=200, n_warmup=200, rng=SEED)
    alone = metropolis("normal", xs[0], n_draws=200, n_warmup=200, rng=SEED)
    assert alone.draws.tobytes() == batch.draws[0].tobytes()
    assert alone.acceptance_rate.tobytes() == batch.acceptance_rate[0].tobytes()
    others = _batch(seed=9, n=7)
    for e in range(1, len(xs)):
        mixed = others[:e] + [xs[e]] + others[e + 1 :]
        again = metropolis("normal", mixed, n_draws=200, n_warmup=200, rng=SEED)
        assert again.draws[e].tobytes() == batch.draws[e].tobytes()
        assert again.proposal_cov[e].tobytes() == batch.proposal_cov[e].tobytes()
    shorter = metropolis("normal", xs[:3], n_draws=200, n_warmup=200, rng=SEED)
    assert shorter.draws.tobytes() == batch.draws[:3].tobytes()


def test_data_layouts_agree():
    """A list, a Ragged, rows + offsets and a 3-D array give identical draws."""
    xs = [a[:12] for a in _batch(n=4) if a.size >= 12]
    args = {"n_draws": 100, "n_warmup": 100, "rng": SEED}
    ref = metropolis("normal", xs, **args).draws
    r = Ragged.from_arrays(xs)
    assert metropolis("normal", r, **args).draws.tobytes() == ref.tobytes()
    assert metropolis("normal", r.values, offsets=r.offsets, **args).draws.tobytes() == \
        ref.tobytes()
    assert metropolis("normal", np.stack(xs)[..., None], **args).draws.tobytes() == ref.tobytes()


def test_identical_bytes_across_thread_counts(threads):
    xs = _batch(n=6)
    with threads(1):
        a = metropolis("normal", xs, n_draws=300, n_warmup=300, rng=SEED)
        u = metropolis(_user_bivariate, [np.array([2.0])] * 3, dim=2, n_draws=100, rng=SEED)
    with threads(2):
        b = metropolis("normal", xs, n_draws=300, n_warmup=300, rng=SEED)
        v = metropolis(_user_bivariate, [np.array([2.0])] * 3, dim=2, n_draws=100, rng=SEED)
    assert a.draws.tobytes() == b.draws.tobytes()
    assert a.proposal_cov.tobytes() == b.proposal_cov.tobytes()
    assert u.draws.tobytes() == v.draws.tobytes()


def test_chain_grouping_does_not_change_draws(monkeypatch):
    """Tasks step 1, 3 or all 4 chains together: the same bytes."""
    xs = _batch(n=3)
    outs = []
    for block in (1, 3, 4):
        monkeypatch.setattr(M, "_block", lambda n_exp, n_chains, block=block: block)
        outs.append(metropolis("normal", xs, n_draws=150, n_warmup=150, rng=SEED).draws)
    assert outs[0].tobytes() == outs[1].tobytes() == outs[2].tobytes()


def test_seed_reproducibility():
    xs = _batch(n=2)
    a = metropolis("normal", xs, n_draws=50, rng=SEED).draws
    b = metropolis("normal", xs, n_draws=50, rng=SEED).draws
    c = metropolis("normal", xs, n_draws=50, rng=SEED + 1).draws
    assert a.tobytes() == b.tobytes() != c.tobytes()
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    assert metropolis("normal", xs, n_draws=5, rng=g1).draws.tobytes() == \
        metropolis("normal", xs, n_draws=5, rng=g2).draws.tobytes()


# --------------------------------------------------------------------------
# NaN policy
# --------------------------------------------------------------------------


def test_nan_policy():
    xs = _batch(n=3)
    xs[1] = xs[1].copy()
    xs[1][2] = np.nan
    args = {"n_draws": 100, "n_warmup": 100, "rng": SEED}
    prop = metropolis("normal", xs, **args)
    assert np.isnan(prop.draws[1]).all() and np.isnan(prop.acceptance_rate[1]).all()
    clean = metropolis("normal", [xs[0], xs[1][~np.isnan(xs[1])], xs[2]], **args)
    assert prop.draws[0].tobytes() == clean.draws[0].tobytes()
    omit = metropolis("normal", xs, nan_policy="omit", **args)
    assert omit.draws.tobytes() == clean.draws.tobytes()
    with pytest.raises(ValueError, match="The input contains nan values: experiment 1"):
        metropolis("normal", xs, nan_policy="raise", **args)
    with pytest.raises(ValueError, match="`nan_policy` must be one of"):
        metropolis("normal", xs, nan_policy="drop", **args)


# --------------------------------------------------------------------------
# Result and diagnostics
# --------------------------------------------------------------------------


def test_diagnostics_match_arviz():
    """R-hat and bulk/tail ESS of one experiment are ArviZ's on the same draws."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        az = pytest.importorskip("arviz")
    xs = _batch(n=2)
    res = metropolis("normal", xs, n_draws=300, n_warmup=200, rng=SEED)
    for e in range(2):
        for j in range(2):
            draws = res.draws[e, :, :, j]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert res.rhat[e, j] == pytest.approx(float(az.rhat(draws)), rel=1e-9)
                assert res.ess_bulk[e, j] == pytest.approx(
                    float(az.ess(draws, method="bulk")), rel=1e-9)
                assert res.ess_tail[e, j] == pytest.approx(
                    float(az.ess(draws, method="tail")), rel=1e-9)


def test_summary():
    res = metropolis("normal", np.random.default_rng(9).normal(size=40), n_draws=300,
                     rng=SEED)
    s = res.summary(quantiles=(0.1, 0.5))
    assert set(s) == {"mean", "sd", "q10%", "q50%", "ess_bulk", "ess_tail", "r_hat"}
    flat = res.draws.reshape(-1, 2)
    np.testing.assert_allclose(s["mean"], flat.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(s["sd"], flat.std(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(s["q10%"], np.quantile(flat, 0.1, axis=0), rtol=1e-12)
    assert s["r_hat"].shape == (2,)
    assert (res.n_chains, res.n_draws, res.dim) == (4, 300, 2)
    with pytest.raises(ValueError, match="`quantiles` must be"):
        res.summary(quantiles=(1.5,))


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_draws": 0}, "`n_draws` must be a positive integer."),
        ({"n_draws": 1.5}, "`n_draws` must be a positive integer."),
        ({"n_chains": 0}, "`n_chains` must be a positive integer."),
        ({"thin": 0}, "`thin` must be a positive integer."),
        ({"n_warmup": -1}, "`n_warmup` must be a non-negative integer."),
        ({"dim": 3}, "`dim` is 3 but the 'normal' target has 2"),
        ({"target_accept": 1.0}, r"`target_accept` must be in \(0, 1\)."),
        ({"adapt": "yes"}, "`adapt` must be True or False."),
        ({"init": np.zeros(3)}, r"`init` must have shape \(dim,\), \(n_chains, dim\)"),
        ({"init": np.zeros((3, 2))}, r"`init` must have shape"),
        ({"init": [np.nan, 0.0]}, "`init` must be finite."),
        ({"proposal_cov": np.zeros(3)}, "`proposal_cov` must be a scalar or have shape"),
        ({"proposal_cov": np.array([[1.0, 2.0], [2.0, 1.0]])},
         "`proposal_cov` must be symmetric positive definite."),
        ({"proposal_cov": np.array([[1.0, 0.5], [0.0, 1.0]])},
         "`proposal_cov` must be symmetric positive definite."),
        ({"rng": -1}, "non-negative integer seed"),
    ],
)
def test_argument_errors(kwargs, match):
    x = np.random.default_rng(10).normal(size=10)
    with pytest.raises(ValueError, match=match):
        metropolis("normal", x, **kwargs)


def test_logdensity_errors():
    with pytest.raises(TypeError, match="must be an @numba.njit function f\\(theta, data\\)"):
        metropolis(lambda theta, data: 0.0, None, dim=1)
    with pytest.raises(TypeError, match="does not compile for those types"):
        metropolis(_one_arg, None, dim=1)
    with pytest.raises(TypeError, match="does not compile for those types"):
        metropolis(_returns_array, None, dim=1)
    with pytest.raises(ValueError, match="unknown target 'gamma'"):
        metropolis("gamma", np.ones(3))
    with pytest.raises(ValueError, match="needs a mean and covariance"):
        metropolis("mvnormal")
    with pytest.raises(ValueError, match="`dim` is required"):
        metropolis(_user_normal, np.ones(3))
    with pytest.raises(ValueError, match="takes no `data`"):
        metropolis(mvnormal_target([0.0], [[1.0]]), np.ones(3))


def test_errors_raised_in_the_sampler_name_experiment_and_chain():
    data = [np.array([1.0]), np.array([2.0])]
    init = np.ones((2, 4, 1))
    init[1, 2] = -1.0
    with pytest.raises(ValueError, match=r"not finite at the starting point of experiment 1, "
                       r"chain 2: logdensity\(\[-1\.\]\) = -inf"):
        metropolis(_half_line, data, init=init)
    with pytest.raises(ValueError, match=r"not finite at the starting point of chain 0"):
        metropolis(_half_line, None, init=[-1.0])
    with pytest.raises(ValueError, match=r"`logdensity` raised an exception \(experiment 0, "
                       r"chain 0\)"):
        metropolis(_raises, data, dim=1)
    with pytest.raises(ValueError, match=r"`logdensity` returned \+inf"):
        metropolis(_plus_inf, data, init=[0.0])
    with pytest.raises(ValueError, match=r"starting point of chain 0: logdensity\(\[1\.\]\) = inf"):
        metropolis(_plus_inf, None, init=[1.0])


def test_data_errors():
    with pytest.raises(ValueError, match="experiment 1 of `data` has 2 column"):
        metropolis("normal", [np.ones(3), np.ones((3, 2))])
    with pytest.raises(ValueError, match="takes one column of observations"):
        metropolis("normal", np.ones((3, 2)))
    with pytest.raises(ValueError, match="posterior is improper for experiment 1"):
        metropolis("normal", [np.array([1.0, 2.0]), np.array([1.0])])
    with pytest.raises(ValueError, match="posterior is improper for the data"):
        metropolis("normal", np.array([2.0, 2.0, 2.0]))
    with pytest.raises(ValueError, match="0 <= successes <= trials; experiment 1"):
        metropolis("binomial", [np.array([[1, 2]]), np.array([[3, 2]])])
    with pytest.raises(ValueError, match="outcomes y in \\[0, 1\\]"):
        metropolis("logistic", np.array([[1.0, 2.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="'logistic' target takes rows"):
        metropolis("logistic", np.ones(4))
    with pytest.raises(ValueError, match="infinite value in experiment 0"):
        metropolis("normal", [np.array([1.0, np.inf, 2.0])])
    with pytest.raises(ValueError, match="`offsets` must start at 0"):
        metropolis("normal", np.ones(5), offsets=[0, 2, 4])
    with pytest.raises(TypeError, match="`data` must be numeric"):
        metropolis("normal", np.array(["a", "b"]))
    with pytest.raises(ValueError, match="`data` holds no experiments"):
        metropolis("normal", [])


def test_target_builder_errors():
    with pytest.raises(ValueError, match="`mu_prior` must be None or a pair"):
        normal_target(mu_prior=1.0)
    with pytest.raises(ValueError, match="positive finite scale"):
        normal_target(log_sigma_prior=(0.0, -1.0))
    with pytest.raises(ValueError, match="`a` and `b` must be positive"):
        binomial_target(0.0, 1.0)
    with pytest.raises(ValueError, match="`prior_scale` must be positive"):
        logistic_target(0.0)
    with pytest.raises(ValueError, match="`cov` must have shape"):
        mvnormal_target([0.0, 0.0], np.eye(3))
    with pytest.raises(ValueError, match="`cov` must be symmetric positive definite"):
        mvnormal_target([0.0, 0.0], -np.eye(2))
    with pytest.raises(ValueError, match="`mean` and `cov` hold 2 and 3 targets"):
        mvnormal_target(np.zeros((2, 1)), np.ones((3, 1, 1)))


def test_import_is_lazy():
    import subprocess
    import sys

    code = ("import sys, fastinf.mcmc; import fastinf.mcmc as m; "
            "m.normal_target(); print('numba' in sys.modules, 'scipy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "False"]


def test_normal_fast_path_gives_the_general_loops_bits(monkeypatch):
    """The specialised frozen loop of the "normal" target (fastinf.mcmc._FAST)
    repeats the general loop's arithmetic in the same order: identical bytes,
    warm-up (with and without adaptation) and kept draws, with and without
    priors, thinning, fewer chains per task and a skipped (NaN) experiment."""
    xs = _batch(n=4)
    xs[2] = np.array([1.0, np.nan, 2.0])
    cases = [
        ("normal", {"n_draws": 120, "n_warmup": 150}),
        (normal_target(mu_prior=(0.5, 2.0), log_sigma_prior=(0.0, 1.0)),
         {"n_draws": 60, "n_warmup": 40, "thin": 3, "n_chains": 3}),
        ("normal", {"n_draws": 50, "n_warmup": 30, "adapt": False}),
    ]
    for target, kw in cases:
        outs = []
        for fast in (True, False):
            monkeypatch.setattr(M, "_FAST", fast)
            r = metropolis(target, xs, rng=SEED, **kw)
            outs.append((r.draws, r.acceptance_rate, r.proposal_cov))
        for a, b in zip(outs[0], outs[1], strict=True):
            assert a.tobytes() == b.tobytes()
        assert np.isnan(outs[0][0][2]).all() and np.isfinite(outs[0][0][[0, 1, 3]]).all()
