"""Bootstrap: parity with scipy, kernels against naive references, statistics."""

import numpy as np
import pytest
from scipy import stats
from scipy.special import ndtri
from scipy.stats._resampling import _bca_interval

import fastinf
from fastinf import Ragged
from fastinf import statistics as S
from fastinf.kernels import rng as R
from fastinf.ragged import SmallSampleWarning
from fastinf.rng import as_seed

SEED = 20261123


def _data(n, seed=0, ties=False):
    x = np.random.default_rng(seed).lognormal(size=n)
    # ties on a dyadic grid: sums are exact, so tied statistics compare equal
    return np.round(16 * x) / 16 if ties else x


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_resamples": -1}, "`n_resamples` must be a non-negative integer"),
        ({"n_resamples": 1.5}, "`n_resamples` must be a non-negative integer"),
        ({"n_resamples": 0}, "Either `bootstrap_result"),
        ({"confidence_level": 1.0}, "`confidence_level` must be in"),
        ({"confidence_level": "x"}, "`confidence_level` must be a number"),
        ({"method": "abc"}, "`method` must be in"),
        ({"alternative": "bigger"}, "`alternative` must be one of"),
        ({"batch": 0}, "`batch` must be a positive integer"),
        ({"paired": 1.5}, "`paired` must be `True` or `False`"),
        ({"vectorized": "yes"}, "`vectorized` must be"),
        ({"resampling": "bayes"}, "`resampling` must be one of"),
        ({"nan_policy": "drop"}, "`nan_policy` must be one of"),
        ({"rng": "seed"}, "`rng` must be None"),
        ({"bootstrap_result": object()}, "must have attribute `bootstrap_distribution"),
    ],
)
def test_invalid_arguments(kwargs, match):
    x = _data(10)
    err = TypeError if "rng" in kwargs else ValueError
    with pytest.raises(err, match=match):
        fastinf.bootstrap((x,), "mean", **kwargs)


def test_invalid_data():
    x = _data(10)
    with pytest.raises(ValueError, match="`data` must be a sequence of samples"):
        fastinf.bootstrap(x, "mean")
    with pytest.raises(ValueError, match="at least one sample"):
        fastinf.bootstrap((), "mean")
    with pytest.raises(ValueError, match="two or more observations.*sample 0 of the data has 1"):
        fastinf.bootstrap((x[:1],), "mean")
    with pytest.raises(ValueError, match=r"sample 0 of experiment \(0,\) has 1"):
        fastinf.bootstrap((np.ones((3, 1)).T,), "mean", axis=-2)
    with pytest.raises(ValueError, match="takes 2 sample"):
        fastinf.bootstrap((x,), "mean_diff")
    with pytest.raises(ValueError, match="needs `paired=True`"):
        fastinf.bootstrap((x, x), "ratio")
    with pytest.raises(ValueError, match="same length.*sizes are \\[10, 9\\]"):
        fastinf.bootstrap((x, x[:9]), "mean_diff", paired=True)
    with pytest.raises(TypeError, match="must be numeric"):
        fastinf.bootstrap((np.array(["a", "b"]),), "mean")
    with pytest.raises(ValueError, match="unknown statistic 'mode'"):
        fastinf.bootstrap((x,), "mode")
    with pytest.raises(ValueError, match="closed-form standard error"):
        fastinf.bootstrap((x,), np.median, method="studentized")
    with pytest.raises(ValueError, match="permutation_test"):
        fastinf.bootstrap((x, x), "ttest")
    with pytest.raises(ValueError, match="must broadcast"):
        fastinf.bootstrap((np.ones((2, 5)), np.ones((3, 5))), "mean_diff", axis=-1)
    with pytest.raises(TypeError, match="mixes Ragged and array"):
        fastinf.bootstrap((Ragged.from_arrays([x]), x), "mean_diff")
    with pytest.raises(ValueError, match="sample 1 of `data` has 2 experiments"):
        fastinf.bootstrap(
            (Ragged.from_arrays([x]), Ragged.from_arrays([x, x])), "mean_diff"
        )


def test_ragged_validation():
    with pytest.raises(ValueError, match="must start at 0 and end at len"):
        Ragged(np.arange(3.0), np.array([0, 2]))
    with pytest.raises(ValueError, match="experiment 1 has a negative size"):
        Ragged(np.arange(3.0), np.array([0, 2, 1, 3]))
    with pytest.raises(TypeError, match="must be integers"):
        Ragged(np.arange(3.0), np.array([0.0, 3.0]))


# ------------------------------------------- deterministic parity with scipy

STATS_ONE = [
    ("mean", np.mean),
    ("sum", np.sum),
    (S.var(), np.var),
    (S.std(ddof=1), lambda x, axis=-1: np.std(x, ddof=1, axis=axis)),
    ("median", np.median),
    (S.quantile(0.9), lambda x, axis=-1: np.quantile(x, 0.9, axis=axis)),
    (S.quantile(0.25), lambda x, axis=-1: np.quantile(x, 0.25, axis=axis)),
    (S.trim_mean(0.1), lambda x, axis=-1: stats.trim_mean(x, 0.1, axis=axis)),
]
STATS_TWO = [
    ("mean_diff", lambda x, y, axis=-1: x.mean(axis) - y.mean(axis)),
    ("median_diff", lambda x, y, axis=-1: np.median(x, axis) - np.median(y, axis)),
    ("mean_lift", lambda x, y, axis=-1: x.mean(axis) / y.mean(axis) - 1),
    (S.difference(S.quantile(0.75)),
     lambda x, y, axis=-1: np.quantile(x, 0.75, axis) - np.quantile(y, 0.75, axis)),
]


def _bca_reference(data, ref, dist, alpha, paired=False):
    """Scipy's own BCa levels for our bootstrap distribution."""
    if paired:
        n = data[0].shape[-1]

        def ref_paired(i, axis=-1):
            return ref(*[d[..., i] for d in data], axis=axis)

        return _bca_interval((np.arange(n),), ref_paired, -1, alpha, dist, None, xp=np)
    return _bca_interval(data, ref, -1, alpha, dist, None, xp=np)


@pytest.mark.parametrize(("stat", "ref"), STATS_ONE + STATS_TWO)
@pytest.mark.parametrize("ties", [False, True])
def test_bca_and_percentile_match_scipy_on_same_distribution(stat, ref, ties):
    """Given our bootstrap distribution, every interval equals scipy's formula to 1e-12.

    This pins theta-hat, the O(n) jackknife acceleration, z0 and the quantile
    rule: scipy's `_bca_interval` recomputes them from the same distribution.
    """
    n_samples = 2 if stat in [s for s, _ in STATS_TWO] else 1
    data = tuple(_data(23 + 4 * j, seed=j, ties=ties) for j in range(n_samples))
    res = fastinf.bootstrap(data, stat, n_resamples=2000, method="BCa", rng=SEED)
    dist = res.bootstrap_distribution
    a1, a2, _ = _bca_reference(data, ref, dist, 0.025)
    expected = np.quantile(dist, [float(a1), float(a2)])
    np.testing.assert_allclose(
        [res.confidence_interval.low, res.confidence_interval.high], expected, rtol=1e-12
    )
    pct = fastinf.bootstrap(data, stat, n_resamples=2000, method="percentile", rng=SEED)
    np.testing.assert_array_equal(pct.bootstrap_distribution, dist)
    np.testing.assert_allclose(
        [pct.confidence_interval.low, pct.confidence_interval.high],
        np.quantile(dist, [0.025, 0.975]), rtol=1e-12,
    )
    basic = fastinf.bootstrap(data, stat, n_resamples=2000, method="basic", rng=SEED)
    theta = ref(*data, axis=-1)
    np.testing.assert_allclose(
        [basic.confidence_interval.low, basic.confidence_interval.high],
        [2 * theta - np.quantile(dist, 0.975), 2 * theta - np.quantile(dist, 0.025)],
        rtol=1e-12,
    )
    np.testing.assert_allclose(res.standard_error, np.std(dist, ddof=1), rtol=1e-12)


def test_paired_ratio_bca_matches_scipy():
    rng = np.random.default_rng(3)
    den = rng.poisson(5, size=40) + 1.0
    num = den * rng.uniform(0.1, 0.5, size=40)

    def ratio(x, y, axis=-1):
        return x.sum(axis) / y.sum(axis)

    res = fastinf.bootstrap((num, den), "ratio", paired=True, n_resamples=3000, rng=SEED)
    a1, a2, _ = _bca_reference((num, den), ratio, res.bootstrap_distribution, 0.025, True)
    np.testing.assert_allclose(
        [res.confidence_interval.low, res.confidence_interval.high],
        np.quantile(res.bootstrap_distribution, [float(a1), float(a2)]),
        rtol=1e-12,
    )


@pytest.mark.parametrize("alternative", ["less", "greater"])
def test_one_sided(alternative):
    x = _data(30)
    res = fastinf.bootstrap((x,), "mean", n_resamples=999, method="percentile",
                            alternative=alternative, rng=SEED)
    q = np.quantile(res.bootstrap_distribution, 0.95 if alternative == "less" else 0.05)
    if alternative == "less":
        assert res.confidence_interval.low == -np.inf
        assert res.confidence_interval.high == pytest.approx(q, rel=1e-12)
    else:
        assert res.confidence_interval.high == np.inf
        assert res.confidence_interval.low == pytest.approx(q, rel=1e-12)


# ---------------------------------------------- kernels vs naive references


def test_multinomial_resamples_are_the_documented_stream():
    """Resample b of experiment e uses exactly `kernels.rng.integers(seed, e, ...)` indices."""
    x = _data(37, ties=True)
    seed = as_seed(SEED)
    for stat, f in [("mean", np.mean), ("median", np.median), (S.var(ddof=1),
                    lambda a, axis: np.var(a, ddof=1, axis=axis))]:
        res = fastinf.bootstrap((x,), stat, n_resamples=50, method="percentile", rng=SEED)
        idx = R.integers(seed, 0, 50, x.size, x.size)
        np.testing.assert_allclose(res.bootstrap_distribution, f(x[idx], axis=1), rtol=1e-12)


def test_poisson_resamples_are_the_documented_stream():
    x = _data(41)
    seed = as_seed(SEED)
    res = fastinf.bootstrap((x,), "mean", n_resamples=60, method="percentile",
                            resampling="poisson", rng=SEED)
    w = R.poissons(seed, 0, 60, x.size)
    np.testing.assert_allclose(res.bootstrap_distribution, (w * x).sum(1) / w.sum(1), rtol=1e-12)
    med = fastinf.bootstrap((x,), "median", n_resamples=60, method="percentile",
                            resampling="poisson", rng=SEED)
    expected = [np.median(np.repeat(x, wb)) for wb in w]
    np.testing.assert_allclose(med.bootstrap_distribution, expected, rtol=1e-12)


def test_paired_resamples_share_indices():
    x, y = _data(29, 1), _data(29, 2)
    seed = as_seed(SEED)
    idx = R.integers(seed, 0, 40, 29, 29)
    res = fastinf.bootstrap((x, y), "ratio", paired=True, n_resamples=40,
                            method="percentile", rng=SEED)
    np.testing.assert_allclose(res.bootstrap_distribution,
                               x[idx].sum(1) / y[idx].sum(1), rtol=1e-12)
    res = fastinf.bootstrap((x, y), "median_diff", paired=True, n_resamples=40,
                            method="percentile", rng=SEED)
    np.testing.assert_allclose(res.bootstrap_distribution,
                               np.median(x[idx], 1) - np.median(y[idx], 1), rtol=1e-12)


def test_studentized_matches_definition():
    x = _data(40)
    res = fastinf.bootstrap((x,), "mean", n_resamples=500, method="studentized", rng=SEED)
    idx = R.integers(as_seed(SEED), 0, 500, x.size, x.size)
    xb = x[idx]
    t = (xb.mean(1) - x.mean()) / (xb.std(1, ddof=1) / np.sqrt(x.size))
    se = x.std(ddof=1) / np.sqrt(x.size)
    lo = x.mean() - np.quantile(t, 0.975) * se
    hi = x.mean() - np.quantile(t, 0.025) * se
    np.testing.assert_allclose([res.confidence_interval.low, res.confidence_interval.high],
                               [lo, hi], rtol=1e-12)


# ------------------------------------------ Monte-Carlo parity with scipy


@pytest.mark.parametrize("method", ["percentile", "basic", "BCa"])
@pytest.mark.parametrize(("stat", "ref"), [("mean", np.mean), ("median", np.median)])
def test_intervals_agree_with_scipy_within_monte_carlo_error(method, stat, ref):
    """Two independent bootstraps of B resamples differ in an endpoint by about
    sqrt(2 p (1 - p) / B) / f(q), f the density of the distribution at the
    quantile; with the normal approximation f(q) = phi(z_p) / se. We allow 6
    such standard errors (false-failure rate ~2e-9 per endpoint); medians of a
    discrete sample get the width of their largest gap in addition.
    """
    x = _data(60, seed=5)
    B = 20000
    ours = fastinf.bootstrap((x,), stat, n_resamples=B, method=method, rng=SEED)
    theirs = stats.bootstrap((x,), ref, n_resamples=B, method=method, rng=7)
    p = 0.025
    se_q = np.sqrt(2 * p * (1 - p) / B) * theirs.standard_error / stats.norm.pdf(ndtri(p))
    slack = 6 * se_q + (np.max(np.diff(np.sort(x))) if stat == "median" else 0)
    assert abs(ours.confidence_interval.low - theirs.confidence_interval.low) < slack
    assert abs(ours.confidence_interval.high - theirs.confidence_interval.high) < slack
    assert ours.standard_error == pytest.approx(theirs.standard_error, rel=0.05)


# --------------------------------------------------------- batching, seeds


def test_batched_nd_matches_moved_axis_and_experiments_are_independent():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 25, 4))
    a = fastinf.bootstrap((x,), "mean", axis=1, n_resamples=300, rng=SEED)
    b = fastinf.bootstrap((np.moveaxis(x, 1, -1),), "mean", axis=-1, n_resamples=300, rng=SEED)
    np.testing.assert_array_equal(a.bootstrap_distribution, b.bootstrap_distribution)
    assert a.confidence_interval.low.shape == (3, 4)
    assert a.bootstrap_distribution.shape == (3, 4, 300)
    # Ragged: an experiment's result depends on its index, not on its neighbours
    r1 = Ragged.from_arrays([x[0, :, 0], x[1, :20, 1], x[2, :7, 2]])
    r2 = Ragged.from_arrays([x[0, :, 0], x[2, :, 3], x[2, :7, 2]])
    o1 = fastinf.bootstrap((r1,), "median", n_resamples=300, rng=SEED)
    o2 = fastinf.bootstrap((r2,), "median", n_resamples=300, rng=SEED)
    np.testing.assert_array_equal(o1.bootstrap_distribution[[0, 2]],
                                  o2.bootstrap_distribution[[0, 2]])
    np.testing.assert_array_equal(o1.confidence_interval.low[[0, 2]],
                                  o2.confidence_interval.low[[0, 2]])
    # a Ragged of equal-sized rows is the 2-D array
    flat = fastinf.bootstrap((Ragged.from_arrays(list(x[:, :, 0])),), "mean",
                             n_resamples=300, rng=SEED)
    nd = fastinf.bootstrap((x[:, :, 0],), "mean", axis=-1, n_resamples=300, rng=SEED)
    np.testing.assert_array_equal(flat.bootstrap_distribution, nd.bootstrap_distribution)


def test_two_sample_broadcasting():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 30))
    y = rng.normal(size=(1, 20))
    res = fastinf.bootstrap((x, y), "mean_diff", axis=-1, n_resamples=200, rng=SEED)
    assert res.confidence_interval.low.shape == (4,)


def test_seed_reproducibility_and_generator():
    x = _data(30)
    a = fastinf.bootstrap((x,), "mean", n_resamples=100, rng=SEED)
    b = fastinf.bootstrap((x,), "mean", n_resamples=100, rng=SEED)
    c = fastinf.bootstrap((x,), "mean", n_resamples=100, rng=SEED + 1)
    np.testing.assert_array_equal(a.bootstrap_distribution, b.bootstrap_distribution)
    assert not np.array_equal(a.bootstrap_distribution, c.bootstrap_distribution)
    g1 = fastinf.bootstrap((x,), "mean", n_resamples=100, rng=np.random.default_rng(4))
    g2 = fastinf.bootstrap((x,), "mean", n_resamples=100, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(g1.bootstrap_distribution, g2.bootstrap_distribution)


def test_bootstrap_result_extends_like_one_call():
    x, y = _data(30, 1), _data(35, 2)
    whole = fastinf.bootstrap((x, y), "mean_diff", n_resamples=500, rng=SEED)
    part = fastinf.bootstrap((x, y), "mean_diff", n_resamples=200, rng=SEED)
    rest = fastinf.bootstrap((x, y), "mean_diff", n_resamples=300, rng=SEED,
                             bootstrap_result=part)
    np.testing.assert_array_equal(whole.bootstrap_distribution, rest.bootstrap_distribution)
    assert whole.confidence_interval == rest.confidence_interval
    only_prior = fastinf.bootstrap((x, y), "mean_diff", n_resamples=0, rng=SEED,
                                   bootstrap_result=whole)
    assert only_prior.confidence_interval == whole.confidence_interval


@pytest.mark.parametrize("stat", ["mean", "median", S.trim_mean(0.2)])
def test_identical_bytes_across_thread_counts(stat, threads):
    r = Ragged.from_arrays([_data(n, n) for n in (15, 200, 31, 77, 5)])
    with threads(1):
        a = fastinf.bootstrap((r,), stat, n_resamples=257, rng=SEED)
    with threads(2):
        b = fastinf.bootstrap((r,), stat, n_resamples=257, rng=SEED)
    assert a.bootstrap_distribution.tobytes() == b.bootstrap_distribution.tobytes()
    assert a.confidence_interval.low.tobytes() == b.confidence_interval.low.tobytes()
    c = fastinf.bootstrap((r,), stat, n_resamples=257, rng=SEED, batch=16)
    assert c.bootstrap_distribution.tobytes() == a.bootstrap_distribution.tobytes()


# --------------------------------------------------------------- NaN policy


def test_nan_policy():
    x = _data(20)
    xn = x.copy()
    xn[[3, 7]] = np.nan
    with pytest.raises(ValueError, match="contains nan values: sample 0 of the data"):
        fastinf.bootstrap((xn,), "mean", nan_policy="raise")
    prop = fastinf.bootstrap((xn,), "mean", n_resamples=99, rng=SEED)
    assert np.isnan(prop.confidence_interval.low) and np.isnan(prop.standard_error)
    omit = fastinf.bootstrap((xn,), "median", n_resamples=99, rng=SEED, nan_policy="omit")
    clean = fastinf.bootstrap((x[~np.isnan(xn)],), "median", n_resamples=99, rng=SEED)
    np.testing.assert_array_equal(omit.bootstrap_distribution, clean.bootstrap_distribution)
    # in a batch, only the experiment with NaN is NaN, and raise names it
    r = Ragged.from_arrays([x, xn, x])
    res = fastinf.bootstrap((r,), "mean", n_resamples=99, rng=SEED)
    assert np.isnan(res.confidence_interval.low).tolist() == [False, True, False]
    with pytest.raises(ValueError, match="sample 0 of experiment 1"):
        fastinf.bootstrap((r,), "mean", nan_policy="raise")
    # omit leaving fewer than two observations: NaN for that experiment, with a warning
    tiny = Ragged.from_arrays([x, np.array([1.0, np.nan, np.nan])])
    with pytest.warns(SmallSampleWarning, match="experiment 1"):
        res = fastinf.bootstrap((tiny,), "mean", n_resamples=99, rng=SEED, nan_policy="omit")
    assert np.isnan(res.confidence_interval.low).tolist() == [False, True]
    # paired omit drops the unit from both samples
    y = _data(20, 3)
    po = fastinf.bootstrap((xn, y), "ratio", paired=True, n_resamples=50, rng=SEED,
                           nan_policy="omit", method="percentile")
    keep = ~np.isnan(xn)
    pc = fastinf.bootstrap((x[keep], y[keep]), "ratio", paired=True, n_resamples=50,
                           rng=SEED, method="percentile")
    np.testing.assert_array_equal(po.bootstrap_distribution, pc.bootstrap_distribution)


def test_degenerate_data():
    # constant data: no spread, no skewness (acceleration 0, not 0/0)
    res = fastinf.bootstrap((np.ones(10),), "mean", n_resamples=99, rng=SEED)
    assert res.confidence_interval == (1.0, 1.0)
    # a lift over a zero mean is undefined: NaN, with scipy's warning text
    with pytest.warns(fastinf._bootstrap.DegenerateDataWarning, match="cannot be calculated"):
        res = fastinf.bootstrap((np.ones(10), np.zeros(10)), "mean_lift", n_resamples=99,
                                rng=SEED)
    assert np.isnan(res.confidence_interval.low)


def test_bca_with_tied_jackknife_values_is_finite():
    x = np.array([1.0] * 8 + [2.0] * 9 + [3.0] * 8)
    res = fastinf.bootstrap((x,), np.median, n_resamples=999, rng=SEED)
    assert np.isfinite(res.confidence_interval.low) and np.isfinite(res.confidence_interval.high)


def test_poisson_resamples_are_never_empty():
    """A resample whose Poisson weights are all zero (probability e**-n) is redrawn."""
    rng = np.random.default_rng(0)
    r = Ragged.from_arrays([rng.normal(size=3) for _ in range(100)])
    for stat in ("mean", "median"):
        res = fastinf.bootstrap((r,), stat, resampling="poisson", n_resamples=500, rng=SEED)
        assert np.isfinite(res.bootstrap_distribution).all()
    res = fastinf.bootstrap((r, r), "ratio", paired=True, resampling="poisson",
                            n_resamples=500, rng=SEED)
    assert not np.isnan(res.bootstrap_distribution).any()


# ------------------------------------------------------------- scipy fallback


def test_callable_falls_back_to_scipy():
    x = _data(25)

    def stat(a, axis=-1):
        return np.max(a, axis=axis) - np.min(a, axis=axis)

    ours = fastinf.bootstrap((x,), stat, n_resamples=200, method="percentile",
                             rng=np.random.default_rng(9))
    theirs = stats.bootstrap((x,), stat, n_resamples=200, method="percentile",
                             rng=np.random.default_rng(9))
    assert isinstance(ours, fastinf.BootstrapResult)
    assert ours.confidence_interval.low == theirs.confidence_interval.low
    np.testing.assert_array_equal(ours.bootstrap_distribution, theirs.bootstrap_distribution)
    r = Ragged.from_arrays([x, x[:10]])
    res = fastinf.bootstrap((r,), stat, n_resamples=50, method="percentile", rng=1)
    assert res.confidence_interval.low.shape == (2,)
    with pytest.raises(ValueError, match="studentized.*got 'stat'"):
        fastinf.bootstrap((x,), stat, method="studentized")
    with pytest.raises(ValueError, match="resampling='poisson' needs a built-in or @njit"):
        fastinf.bootstrap((x,), stat, resampling="poisson")


# --------------------------------------------------- statistical behaviour


@pytest.mark.parametrize("method", ["percentile", "basic", "BCa", "studentized"])
@pytest.mark.parametrize("population", ["normal", "lognormal"])
def test_coverage(method, population):
    """95% intervals for the mean cover the true mean about 95% of the time.

    1 000 simulated datasets of n = 100 in one batched call. Binomial SE of
    the coverage is 0.0069; bootstrap intervals for skewed data undercover
    by a few points at this n (Efron & Tibshirani ch. 14), so the band is
    [0.90, 0.985] for lognormal and [0.925, 0.975] for normal (>3.6 SE on
    the tight side: false-failure rate below 3e-4 per case).
    """
    rng = np.random.default_rng(SEED)
    if population == "normal":
        x, mu = rng.normal(size=(1000, 100)), 0.0
    else:
        x, mu = rng.lognormal(sigma=0.5, size=(1000, 100)), np.exp(0.125)
    res = fastinf.bootstrap((x,), "mean", axis=-1, n_resamples=999, method=method, rng=SEED)
    lo, hi = res.confidence_interval
    coverage = np.mean((lo <= mu) & (mu <= hi))
    band = (0.925, 0.975) if population == "normal" else (0.90, 0.985)
    assert band[0] <= coverage <= band[1], coverage


def test_coverage_of_difference_and_median():
    """Difference of means (studentized) and median (BCa): same bands as above."""
    rng = np.random.default_rng(SEED + 1)
    x = rng.exponential(size=(800, 80))
    y = rng.exponential(size=(800, 60))
    res = fastinf.bootstrap((x, y), "mean_diff", axis=-1, n_resamples=999,
                            method="studentized", rng=SEED)
    cov = np.mean((res.confidence_interval.low <= 0) & (0 <= res.confidence_interval.high))
    assert 0.90 <= cov <= 0.985, cov
    res = fastinf.bootstrap((x,), "median", axis=-1, n_resamples=999, method="BCa", rng=SEED)
    cov = np.mean((res.confidence_interval.low <= np.log(2))
                  & (np.log(2) <= res.confidence_interval.high))
    assert 0.90 <= cov <= 0.985, cov


# ------------------------------------------------------- user @njit statistic


def test_user_njit_statistic_runs_in_kernels_and_matches_scipy_formula():
    import numba

    @numba.njit
    def midrange(x):
        return 0.5 * (np.max(x) + np.min(x))

    @numba.njit
    def diff_of_max(x, y):
        return np.max(x) - np.max(y)

    x, y = _data(31, 1), _data(26, 2)
    res = fastinf.bootstrap((x,), midrange, n_resamples=300, method="BCa", rng=SEED)
    # the documented stream: identical to computing midrange on the kernel's indices
    idx = R.integers(as_seed(SEED), 0, 300, x.size, x.size)
    np.testing.assert_allclose(res.bootstrap_distribution,
                               0.5 * (x[idx].max(1) + x[idx].min(1)), rtol=1e-12)

    def midrange_np(a, axis=-1):
        return 0.5 * (np.max(a, axis=axis) + np.min(a, axis=axis))

    a1, a2, _ = _bca_reference((x,), midrange_np, res.bootstrap_distribution, 0.025)
    expected = np.quantile(res.bootstrap_distribution, [float(a1), float(a2)])
    np.testing.assert_allclose([res.confidence_interval.low, res.confidence_interval.high],
                               expected, rtol=1e-12)

    two = fastinf.bootstrap((x, y), diff_of_max, n_resamples=300, method="BCa", rng=SEED)

    def dmax(a, b, axis=-1):
        return np.max(a, axis=axis) - np.max(b, axis=axis)

    a1, a2, _ = _bca_reference((x, y), dmax, two.bootstrap_distribution, 0.025)
    expected = np.quantile(two.bootstrap_distribution, [float(a1), float(a2)])
    np.testing.assert_allclose([two.confidence_interval.low, two.confidence_interval.high],
                               expected, rtol=1e-12)
    paired = fastinf.bootstrap((x[:26], y), diff_of_max, paired=True, n_resamples=100,
                               method="percentile", rng=SEED)
    idx = R.integers(as_seed(SEED), 0, 100, 26, 26)
    np.testing.assert_allclose(paired.bootstrap_distribution,
                               x[:26][idx].max(1) - y[idx].max(1), rtol=1e-12)
    with pytest.raises(ValueError, match="studentized"):
        fastinf.bootstrap((x,), midrange, method="studentized")


def test_user_njit_statistic_one_sample_and_non_fitting_ones():
    import numba

    from fastinf.statistics import user_function

    @numba.njit
    def total(x):
        return np.sum(x)

    @numba.njit
    def not_a_scalar(x):
        return x[:2]

    x = _data(20)
    res = fastinf.bootstrap((x,), total, n_resamples=50, method="percentile", rng=SEED)
    idx = R.integers(as_seed(SEED), 0, 50, x.size, x.size)
    np.testing.assert_allclose(res.bootstrap_distribution, x[idx].sum(1), rtol=1e-12)
    assert user_function(not_a_scalar, 1) is None
    assert user_function(np.mean, 1) is None
    assert user_function(total, 3) is None


def test_poisson_partial_sums_merge_to_the_whole_and_match_bootstrap():
    x = _data(101, 4)
    whole = fastinf.poisson_partial_sums(x, 40, rng=SEED, experiment=2)
    cuts = [0, 13, 50, 101]
    parts = sum(
        fastinf.poisson_partial_sums(x[a:b], 40, rng=SEED, experiment=2, first_unit=a)
        for a, b in zip(cuts[:-1], cuts[1:], strict=True)
    )
    np.testing.assert_allclose(parts, whole, rtol=1e-12)
    # experiment 2 of a batch, resampled by bootstrap(resampling='poisson')
    r = Ragged.from_arrays([x[:5], x[:7], x])
    res = fastinf.bootstrap((r,), "mean", n_resamples=40, resampling="poisson",
                            method="percentile", rng=SEED)
    np.testing.assert_allclose(res.bootstrap_distribution[2], whole[:, 1] / whole[:, 0],
                               rtol=1e-12)
    for bad in (None, np.random.default_rng(1)):
        with pytest.raises(ValueError, match="`rng` must be an integer seed shared"):
            fastinf.poisson_partial_sums(x, 5, rng=bad)
    with pytest.raises(ValueError, match="`first_unit` must be a non-negative integer"):
        fastinf.poisson_partial_sums(x, 5, rng=1, first_unit=-1)
    with pytest.raises(ValueError, match="`experiment` must be a non-negative integer"):
        fastinf.poisson_partial_sums(x, 5, rng=1, experiment="a")
    with pytest.raises(ValueError, match="contains NaN or inf"):
        fastinf.poisson_partial_sums(np.array([1.0, np.inf]), 5, rng=1)
    with pytest.raises(ValueError, match="`centre` must be finite"):
        fastinf.poisson_partial_sums(x, 5, rng=1, centre=np.nan)


def test_task_blocks_cover_every_task_once_with_balanced_cost():
    from fastinf._bootstrap import _blocks
    from fastinf.ragged import standardize

    rng = np.random.default_rng(0)
    r = Ragged.from_arrays([np.ones(n) for n in np.sort(rng.integers(2, 3000, 300))])
    exps = standardize((r,), axis=0, paired=False, nan_policy="propagate")
    bounds = _blocks(exps, 17, per_thread=8)
    assert bounds[0] == 0 and bounds[-1] == 300 * 17
    assert np.all(np.diff(bounds) >= 0)
    # cost of each block: within one task of the mean
    cost = np.repeat(exps.sizes()[0] + 32.0, 17)
    per_block = np.add.reduceat(cost, bounds[:-1][np.diff(bounds) > 0])
    assert per_block.max() - per_block.min() <= 2 * cost.max()
    assert _blocks(exps, 1, per_thread=10_000)[-1] == 300


def test_studentized_leaves_out_resamples_without_spread():
    """3 successes in 30: ~4% of resamples have none, so no t; they are left out, with a warning."""
    x = np.zeros(30)
    x[:3] = 1
    with pytest.warns(fastinf._bootstrap.DegenerateDataWarning, match="zero standard error"):
        res = fastinf.bootstrap((x,), "proportion", method="studentized", n_resamples=2000,
                                rng=SEED)
    low, high = res.confidence_interval
    assert 0.0 <= low < 0.1 < high < 0.5


def test_user_njit_statistic_that_raises_is_an_error_not_a_number():
    import numba

    @numba.njit
    def fragile(a):
        if a[0] > 2.5:
            raise ValueError("boom")
        return np.mean(a)

    with pytest.raises(ValueError, match="`statistic` raised an exception on"):
        fastinf.bootstrap((np.array([1.0, 2, 3, 4]),), fragile, n_resamples=20, rng=1)
    with pytest.raises(ValueError, match="`statistic` raised an exception on"):
        fastinf.permutation_test((np.array([3.0, 2, 1, 4]),), fragile,
                                 permutation_type="samples", n_resamples=20, rng=1)


def test_bootstrap_result_must_match_the_batch():
    x = np.random.default_rng(0).normal(size=(3, 20))
    res = fastinf.bootstrap((x,), "mean", axis=-1, n_resamples=50, rng=SEED)
    with pytest.raises(ValueError, match=r"must be \(20,\) \+ \(resamples,\)"):
        fastinf.bootstrap((x.T,), "mean", axis=-1, n_resamples=50, rng=SEED,
                          bootstrap_result=res)

    class Odd:
        bootstrap_distribution = np.float64(1.0)

    with pytest.raises(ValueError, match=r"has shape \(\)"):
        fastinf.bootstrap((x[0],), "mean", n_resamples=5, rng=SEED, bootstrap_result=Odd())


def test_rng_accepts_seed_sequence_and_bit_generator():
    x = _data(20)
    a = fastinf.bootstrap((x,), "mean", n_resamples=30, rng=np.random.SeedSequence(5))
    b = fastinf.bootstrap((x,), "mean", n_resamples=30, rng=np.random.PCG64(5))
    np.testing.assert_array_equal(a.bootstrap_distribution, b.bootstrap_distribution)
    assert fastinf.DegenerateDataWarning is fastinf._bootstrap.DegenerateDataWarning
    assert issubclass(fastinf.SmallSampleWarning, RuntimeWarning)


def test_rows_of_a_2d_array_are_samples_as_in_scipy():
    xy = np.random.default_rng(3).normal(size=(2, 15))
    a = fastinf.bootstrap(xy, "mean_diff", n_resamples=40, rng=SEED)
    b = fastinf.bootstrap((xy[0], xy[1]), "mean_diff", n_resamples=40, rng=SEED)
    np.testing.assert_array_equal(a.bootstrap_distribution, b.bootstrap_distribution)
    p = fastinf.permutation_test(xy, "mean_diff", n_resamples=40, rng=SEED)
    q = fastinf.permutation_test((xy[0], xy[1]), "mean_diff", n_resamples=40, rng=SEED)
    assert p.pvalue == q.pvalue
