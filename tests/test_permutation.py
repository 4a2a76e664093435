"""Permutation test: scipy parity (exact and randomised), null uniformity,
determinism, batching, user statistics, nan_policy and validation."""

import itertools
import math

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

import fastinf
from fastinf import Ragged
from fastinf import statistics as S
from fastinf.kernels import permutation as K
from fastinf.kernels.rng import stream_key
from fastinf.permutation import _schedule, pearsonr, spearmanr
from fastinf.ragged import SmallSampleWarning

SEED = 20261123
ALTERNATIVES = ("two-sided", "less", "greater")


def _by_experiment(result):
    """The null distribution with resamples on the last axis (scipy puts them first)."""
    return np.moveaxis(result.null_distribution, 0, -1)


def _data(n, seed=0, loc=0.0):
    return np.random.default_rng(seed).lognormal(size=n) + loc


# ------------------------------------------------------ scipy's statistics


def _mean_diff(x, y, axis=-1):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


REFERENCES = {
    "mean_diff": _mean_diff,
    "median_diff": lambda x, y, axis: np.median(x, axis=axis) - np.median(y, axis=axis),
    "mean_lift": lambda x, y, axis: np.mean(x, axis=axis) / np.mean(y, axis=axis) - 1,
    "ttest": lambda x, y, axis: stats.ttest_ind(x, y, axis=axis).statistic,
    "welch": lambda x, y, axis: stats.ttest_ind(x, y, axis=axis, equal_var=False).statistic,
    "mannwhitneyu": lambda x, y, axis: stats.mannwhitneyu(x, y, axis=axis).statistic,
    "var_diff": lambda x, y, axis: np.var(x, axis=axis, ddof=1) - np.var(y, axis=axis, ddof=1),
    "q30_diff": lambda x, y, axis: (
        np.quantile(x, 0.3, axis=axis) - np.quantile(y, 0.3, axis=axis)
    ),
    "trim_diff": lambda x, y, axis: (
        stats.trim_mean(x, 0.2, axis=axis) - stats.trim_mean(y, 0.2, axis=axis)
    ),
    "sum_ratio": lambda x, y, axis: np.sum(x, axis=axis) / np.sum(y, axis=axis),
}
OURS = {
    "var_diff": S.difference(S.var(1)),
    "q30_diff": S.difference(S.quantile(0.3)),
    "trim_diff": S.difference(S.trim_mean(0.2)),
    "sum_ratio": S.ratio(),
}


def _pearson(x, y, axis):
    return stats.pearsonr(x, y, axis=axis).statistic


def _spearman(x, y, axis):
    return _pearson(stats.rankdata(x, axis=axis), stats.rankdata(y, axis=axis), axis)


def _assert_same_test(res, ref, rtol=1e-12):
    """Same statistic, p-value to 1e-12 and the same null distribution as a multiset."""
    np.testing.assert_allclose(res.statistic, ref.statistic, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(res.pvalue, ref.pvalue, rtol=0, atol=1e-12)
    ours = np.sort(_by_experiment(res), axis=-1)
    theirs = np.sort(np.moveaxis(ref.null_distribution, 0, -1), axis=-1)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-12)


def _assert_same_for_all_alternatives(data, statistic, reference, **kwargs):
    """:func:`_assert_same_test` for each alternative; returns the last result."""
    for alternative in ALTERNATIVES:
        res = fastinf.permutation_test(data, statistic, alternative=alternative, **kwargs)
        ref = stats.permutation_test(data, reference, alternative=alternative, **kwargs)
        _assert_same_test(res, ref)
    return res


# ------------------------------------------------------------ exact parity


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_exact_independent_matches_scipy(name):
    """comb(9, 4) = 126 <= 9999 partitions: both enumerate them all."""
    x, y = _data(5, 1), _data(4, 2, loc=0.5)
    for alternative in ALTERNATIVES:
        res = fastinf.permutation_test((x, y), OURS.get(name, name), alternative=alternative)
        ref = stats.permutation_test((x, y), REFERENCES[name], alternative=alternative)
        _assert_same_test(res, ref)
    assert _by_experiment(res).shape == (126,)


def test_exact_mannwhitneyu_with_ties_matches_scipy():
    """Midranks of tied data: U is a half-integer, computed exactly by both."""
    rng = np.random.default_rng(3)
    x, y = rng.integers(0, 4, 6).astype(float), rng.integers(1, 5, 5).astype(float)
    for alternative in ALTERNATIVES:
        res = fastinf.permutation_test((x, y), "mannwhitneyu", alternative=alternative)
        ref = stats.permutation_test(
            (x, y), REFERENCES["mannwhitneyu"], alternative=alternative
        )
        _assert_same_test(res, ref, rtol=0)


# Discrete data: many arrangements tie with the observed one exactly, so a
# statistic computed with arrangement-dependent rounding would count them
# differently from scipy. Counts 3, 3, 3, 2: no group can be constant.
_TIED = (np.array([0.0, 1, 2, 3, 1, 2]), np.array([3.0, 0, 2, 1, 0]))
_BINARY = (np.array([1.0, 0, 1, 1, 0, 1, 1]), np.array([0.0, 1, 0, 0, 1, 0]))


@pytest.mark.parametrize(
    ("statistic", "data"),
    [
        ("proportion_diff", _BINARY),
        ("mean_diff", _TIED),
        ("ttest", _TIED),
        ("welch", _TIED),
        ("var_diff", _TIED),
        ("median_diff", _TIED),
        ("mannwhitneyu", _TIED),
    ],
)
def test_exact_tied_data_matches_scipy(statistic, data):
    reference = REFERENCES.get(statistic, _mean_diff)
    for alternative in ALTERNATIVES:
        res = fastinf.permutation_test(data, OURS.get(statistic, statistic), alternative=alternative)
        ref = stats.permutation_test(data, reference, alternative=alternative)
        _assert_same_test(res, ref)


@pytest.mark.parametrize("statistic", ["proportion_diff", "ttest", "welch", "var_diff"])
def test_tied_arrangements_give_identical_bits(statistic):
    """0/1 outcomes: a statistic is a function of the first group's count S0 alone.

    Arrangements with the same S0 must give the same bits (and the observed
    value those of its S0), or counting ``null <= observed`` would depend on
    rounding. S0 is read off the mean difference of the same arrangements
    (same seed, same draws).
    """
    rng = np.random.default_rng(SEED)
    x, y = (rng.random(60) < 0.3).astype(float), (rng.random(50) < 0.4).astype(float)
    kw = {"n_resamples": 999, "rng": SEED}
    diff = fastinf.permutation_test((x, y), "mean_diff", **kw)
    res = fastinf.permutation_test((x, y), OURS.get(statistic, statistic), **kw)
    total = x.sum() + y.sum()
    s0 = np.round((_by_experiment(diff) + total / 50) / (1 / 60 + 1 / 50)).astype(int)
    for count in np.unique(s0):
        values = np.unique(_by_experiment(res)[s0 == count])
        assert values.size == 1, (count, values)
        if count == x.sum():
            assert values[0] == res.statistic


def test_exact_tied_paired_data_matches_scipy():
    x, y = _TIED[0][:5], _TIED[1]
    for statistic, reference in [("mean_diff", _mean_diff), ("welch", REFERENCES["welch"])]:
        _assert_same_for_all_alternatives(
            (x, y), statistic, reference, permutation_type="samples"
        )


@pytest.mark.parametrize(
    ("statistic", "reference", "n_samples"),
    [
        ("mean", lambda x, axis: np.mean(x, axis=axis), 1),
        (np.median, lambda x, axis: np.median(x, axis=axis), 1),
        ("mean_diff", _mean_diff, 2),
        ("median_diff", REFERENCES["median_diff"], 2),
        ("welch", REFERENCES["welch"], 2),
        ("mannwhitneyu", REFERENCES["mannwhitneyu"], 2),
        (spearmanr(), _spearman, 2),
    ],
)
def test_exact_samples_matches_scipy(statistic, reference, n_samples):
    """Paired: 2**7 = 128 swap (or, for one sample, sign) patterns."""
    data = (_data(7, 4, loc=-1.2), _data(7, 5, loc=-1.0))[:n_samples]
    res = _assert_same_for_all_alternatives(
        data, statistic, reference, permutation_type="samples"
    )
    assert _by_experiment(res).shape == (128,)


@pytest.mark.parametrize(
    ("statistic", "reference"), [("pearsonr", _pearson), (spearmanr(), _spearman)]
)
def test_exact_pairings_matches_scipy(statistic, reference):
    """Both samples permuted: (4!)**2 = 576 arrangements, as scipy enumerates."""
    x, y = _data(4, 6), _data(4, 7)
    res = _assert_same_for_all_alternatives(
        (x, y), statistic, reference, permutation_type="pairings"
    )
    assert _by_experiment(res).shape == (576,)


def test_exact_when_n_resamples_is_infinite():
    x, y = _data(5, 1), _data(4, 2)
    res = fastinf.permutation_test((x, y), "mean_diff", n_resamples=np.inf)
    ref = stats.permutation_test((x, y), _mean_diff, n_resamples=np.inf)
    _assert_same_test(res, ref)


def test_exact_decision_is_scipys():
    """Exact iff n_resamples >= n_max; else n_resamples draws and the +1 adjustment."""
    x, y = _data(5, 1), _data(4, 2)
    exact = fastinf.permutation_test((x, y), "mean_diff", n_resamples=126)
    randomised = fastinf.permutation_test((x, y), "mean_diff", n_resamples=125, rng=1)
    assert _by_experiment(exact).shape == (126,)
    assert _by_experiment(randomised).shape == (125,)
    # p = (count + 1) / (125 + 1) for the randomised test
    count = np.count_nonzero(
        _by_experiment(randomised)
        <= randomised.statistic + abs(randomised.statistic) * 100 * np.finfo(float).eps
    )
    less = fastinf.permutation_test(
        (x, y), "mean_diff", n_resamples=125, rng=1, alternative="less"
    )
    assert less.pvalue == (count + 1) / 126


def _rank_sum_u(x, y, axis):
    ranks = stats.rankdata(np.concatenate([x, y], axis=axis), axis=axis)
    n0 = x.shape[axis]
    return np.sum(ranks[..., :n0], axis=axis) - n0 * (n0 + 1) / 2


_grid = st.integers(-8, 8).map(lambda v: v / 4.0)  # coarse grid: ties are common


@pytest.mark.slow
@settings(derandomize=True, max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(
    arrays(np.float64, st.integers(2, 5), elements=_grid),
    arrays(np.float64, st.integers(2, 5), elements=_grid),
    st.sampled_from(["mean_diff", "median_diff", "mannwhitneyu", "q30_diff", "trim_diff"]),
)
def test_exact_independent_property(x, y, name):
    """Any small samples on a grid (ties everywhere): scipy's exact p-values."""
    reference = _rank_sum_u if name == "mannwhitneyu" else REFERENCES[name]
    for alternative in ALTERNATIVES:
        res = fastinf.permutation_test((x, y), OURS.get(name, name), alternative=alternative)
        ref = stats.permutation_test((x, y), reference, alternative=alternative)
        _assert_same_test(res, ref)


@pytest.mark.slow
@settings(derandomize=True, max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(arrays(np.float64, st.integers(2, 7), elements=_grid), st.booleans())
def test_exact_samples_property(d, one_sample):
    """Sign flips of one sample, or swaps within pairs (y = d / 2 - 1)."""
    data = (d,) if one_sample else (d, d / 2 - 1)
    reference = (lambda x, axis: np.mean(x, axis=axis)) if one_sample else _mean_diff
    statistic = "mean" if one_sample else "mean_diff"
    _assert_same_for_all_alternatives(
        data, statistic, reference, permutation_type="samples"
    )


# ---------------------------------------------------- randomised vs scipy


@pytest.mark.parametrize(
    ("permutation_type", "data", "statistic", "reference"),
    [
        ("independent", (_data(30, 8, 0.35), _data(30, 9)), "mean_diff", _mean_diff),
        ("samples", (_data(30, 10, -1.2),), "mean", lambda x, axis: np.mean(x, axis=axis)),
        ("pairings", (_data(30, 11), _data(30, 12)), "pearsonr", _pearson),
    ],
)
def test_randomised_agrees_with_scipy(permutation_type, data, statistic, reference):
    """Both estimate the same p-value from N = 9999 independent draws.

    A two-sided p-value is 2q with q a one-sided proportion of N draws, so each
    estimate has standard error about 2 sqrt(q (1 - q) / N) and their
    difference sqrt(2) times that. Five such errors: a correct implementation
    fails with probability below 1e-6 (normal approximation).
    """
    n = 9999
    res = fastinf.permutation_test(
        data, statistic, permutation_type=permutation_type, n_resamples=n, rng=SEED
    )
    ref = stats.permutation_test(
        data, reference, permutation_type=permutation_type, n_resamples=n, rng=SEED
    )
    np.testing.assert_allclose(res.statistic, ref.statistic, rtol=1e-12)
    q = ref.pvalue / 2
    assert 0.01 < q < 0.49  # the data give a non-trivial p-value
    se = 2 * math.sqrt(q * (1 - q) / n)
    assert abs(res.pvalue - ref.pvalue) < 5 * math.sqrt(2) * se
    assert _by_experiment(res).shape == (n,)


@pytest.mark.parametrize(
    ("permutation_type", "statistic", "n_samples", "alternative"),
    [
        ("independent", "mean_diff", 2, "less"),
        ("independent", "ttest", 2, "greater"),
        ("samples", "mean", 1, "greater"),
        ("pairings", "pearsonr", 2, "less"),
    ],
)
def test_null_pvalues_are_uniform(permutation_type, statistic, n_samples, alternative):
    """2 000 null experiments in one batched call; p-values uniform on {1/100, ..., 1}.

    With B = 99 draws and continuous data, the observed arrangement and the
    draws are exchangeable, so a one-sided p = (count + 1) / (B + 1) takes each
    value j / 100 with probability 1/100 (ties between arrangements, of
    probability below 1e-3, only make it conservative). A chi-square test on
    ten equiprobable bins rejects a correct implementation with probability
    1e-3 (fixed seeds make the outcome deterministic).
    """
    rng = np.random.default_rng(SEED)
    shape = (2000, 8)
    if permutation_type == "samples":
        data = (rng.standard_normal(shape),)  # symmetric about 0: signs exchangeable
    else:
        data = (rng.standard_normal(shape), rng.standard_normal(shape))[:n_samples]
    res = fastinf.permutation_test(
        data, statistic, permutation_type=permutation_type, n_resamples=99,
        alternative=alternative, axis=-1, rng=SEED,
    )
    assert res.pvalue.shape == (2000,)
    assert _by_experiment(res).shape == (2000, 99)
    counts = np.bincount(np.round(res.pvalue * 100).astype(int) - 1, minlength=100)
    bins = counts.reshape(10, 10).sum(axis=1)
    assert stats.chisquare(bins).pvalue > 1e-3


# ------------------------------------------------------------- determinism


def _ragged_pair(seed=0, n_exp=5):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 40, size=(2, n_exp))
    xs = [rng.normal(size=s) for s in sizes[0]]
    ys = [rng.normal(size=s) for s in sizes[1]]
    return Ragged.from_arrays(xs), Ragged.from_arrays(ys)


def _paired_ragged(seed=0, n_exp=5):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(4, 40, size=n_exp)
    xs = [rng.normal(size=s) for s in sizes]
    ys = [rng.normal(size=s) + 0.3 for s in sizes]
    return Ragged.from_arrays(xs), Ragged.from_arrays(ys)


@pytest.mark.parametrize(
    ("permutation_type", "statistic"),
    [
        ("independent", "mean_diff"),
        ("independent", "median_diff"),
        ("samples", "mean_diff"),
        ("samples", "median_diff"),
        ("pairings", "pearsonr"),
    ],
)
def test_identical_bytes_whatever_threads_or_batch(threads, permutation_type, statistic):
    data = _ragged_pair() if permutation_type == "independent" else _paired_ragged()
    kw = {"permutation_type": permutation_type, "n_resamples": 301, "rng": SEED}
    with threads(1):
        one = fastinf.permutation_test(data, statistic, **kw)
    with threads(2):
        two = fastinf.permutation_test(data, statistic, **kw)
        batched = fastinf.permutation_test(data, statistic, batch=7, **kw)
    for res in (two, batched):
        assert _by_experiment(res).tobytes() == _by_experiment(one).tobytes()
        assert res.pvalue.tobytes() == one.pvalue.tobytes()
        assert res.statistic.tobytes() == one.statistic.tobytes()


def test_experiment_results_depend_only_on_seed_and_index():
    """Experiment e draws from stream (seed, e): a prefix of a batch is a batch."""
    x, y = _ragged_pair(n_exp=6)
    full = fastinf.permutation_test((x, y), "mean_diff", n_resamples=99, rng=SEED)
    head = fastinf.permutation_test(
        (Ragged.from_arrays(x.to_list()[:3]), Ragged.from_arrays(y.to_list()[:3])),
        "mean_diff", n_resamples=99, rng=SEED,
    )
    single = fastinf.permutation_test((x[0], y[0]), "mean_diff", n_resamples=99, rng=SEED)
    np.testing.assert_array_equal(_by_experiment(full)[:3], _by_experiment(head))
    np.testing.assert_array_equal(_by_experiment(full)[0], _by_experiment(single))
    assert full.pvalue[0] == single.pvalue


# ------------------------------------------------------------------ batches


def test_nd_batch_equals_per_experiment_exact_calls():
    """Experiments along non-axis dims, broadcast as scipy: (3, 1, 6) with (1, 2, 5)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 1, 6))
    y = rng.normal(size=(1, 2, 5)) + 0.5
    res = fastinf.permutation_test((x, y), "ttest", axis=-1, alternative="less")
    assert res.statistic.shape == res.pvalue.shape == (3, 2)
    assert _by_experiment(res).shape == (3, 2, math.comb(11, 5))
    ref = stats.permutation_test((x, y), REFERENCES["ttest"], axis=-1, alternative="less")
    _assert_same_test(res, ref)
    for i, j in itertools.product(range(3), range(2)):
        one = fastinf.permutation_test((x[i, 0], y[0, j]), "ttest", alternative="less")
        assert one.pvalue == res.pvalue[i, j]
        assert _by_experiment(one).tobytes() == _by_experiment(res)[i, j].tobytes()


def test_nd_batch_along_axis_0_equals_ragged_batch():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(12, 4)), rng.normal(size=(15, 4))
    res = fastinf.permutation_test((x, y), "welch", n_resamples=199, rng=SEED)
    rag = fastinf.permutation_test(
        (Ragged.from_arrays(list(x.T)), Ragged.from_arrays(list(y.T))),
        "welch", n_resamples=199, rng=SEED,
    )
    assert _by_experiment(res).shape == (4, 199)
    np.testing.assert_array_equal(_by_experiment(res), _by_experiment(rag))
    np.testing.assert_array_equal(res.pvalue, rag.pvalue)


def test_ragged_mixes_exact_and_randomised_experiments():
    """Each experiment decides exactness alone; shorter null rows are NaN-padded."""
    small = (_data(3, 1), _data(3, 2))  # comb(6, 3) = 20 partitions: exact
    large = (_data(20, 3), _data(20, 4))  # randomised
    data = tuple(Ragged.from_arrays([s, b]) for s, b in zip(small, large, strict=True))
    res = fastinf.permutation_test(data, "mean_diff", n_resamples=99, rng=SEED)
    assert _by_experiment(res).shape == (2, 99)
    assert np.isnan(_by_experiment(res)[0, 20:]).all()
    assert not np.isnan(_by_experiment(res)[1]).any()
    exact = fastinf.permutation_test(small, "mean_diff", n_resamples=99)
    ref = stats.permutation_test(small, _mean_diff, n_resamples=99)
    assert res.pvalue[0] == exact.pvalue
    np.testing.assert_allclose(exact.pvalue, ref.pvalue, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(_by_experiment(res)[0, :20], _by_experiment(exact))


# ------------------------------------------------------------ user statistics


@numba.njit
def _njit_mean_diff(x, y):
    return np.mean(x) - np.mean(y)


@numba.njit
def _njit_median_diff(x, y):
    return np.median(x) - np.median(y)


@numba.njit
def _njit_mean(x):
    return np.mean(x)


_WEIGHTS = np.arange(5.0)


@numba.njit
def _njit_weighted(x):
    return np.sum(x * _WEIGHTS)


def test_plain_callable_falls_back_to_scipy():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(2, 12)), rng.normal(size=(2, 10))

    def statistic(a, b, axis):
        return np.mean(a, axis=axis) - np.mean(b, axis=axis)

    res = fastinf.permutation_test((x, y), statistic, n_resamples=99, axis=-1, rng=SEED)
    ref = stats.permutation_test((x, y), statistic, n_resamples=99, axis=-1, rng=SEED)
    assert isinstance(res, fastinf.PermutationTestResult)
    np.testing.assert_array_equal(res.statistic, ref.statistic)
    np.testing.assert_array_equal(res.pvalue, ref.pvalue)
    np.testing.assert_array_equal(_by_experiment(res), np.moveaxis(ref.null_distribution, 0, -1))


def test_plain_callable_on_ragged_runs_scipy_per_experiment():
    x, y = _ragged_pair(n_exp=3)

    def statistic(a, b):
        return np.mean(a) - np.mean(b)

    res = fastinf.permutation_test(
        (x, y), statistic, vectorized=False, n_resamples=49, rng=SEED
    )
    gen = np.random.default_rng(SEED)
    for e in range(3):
        ref = stats.permutation_test(
            (x[e], y[e]), statistic, vectorized=False, n_resamples=49, rng=gen
        )
        assert res.pvalue[e] == ref.pvalue
        np.testing.assert_array_equal(_by_experiment(res)[e], ref.null_distribution)


def test_plain_callable_with_nan_omitted():
    x, y = _data(9, 1), _data(8, 2)
    x[3] = np.nan

    def statistic(a, b, axis):
        return np.mean(a, axis=axis) - np.mean(b, axis=axis)

    res = fastinf.permutation_test(
        (x, y), statistic, n_resamples=99, nan_policy="omit", rng=SEED
    )
    ref = stats.permutation_test(
        (x[~np.isnan(x)], y), statistic, n_resamples=99, rng=np.random.default_rng(SEED)
    )
    assert res.pvalue == ref.pvalue
    np.testing.assert_array_equal(_by_experiment(res), ref.null_distribution)


@pytest.mark.skipif(numba.config.DISABLE_JIT, reason="no dispatchers without the JIT")
def test_njit_statistic_runs_in_the_kernels_without_recompiling():
    x, y = _data(5, 1), _data(4, 2)
    built_in = fastinf.permutation_test((x, y), "mean_diff")
    user = fastinf.permutation_test((x, y), _njit_mean_diff)
    _assert_same_test(user, built_in)
    # randomised: the same arrangements as the built-in (same streams)
    a, b = _data(30, 3), _data(25, 4)
    built_in = fastinf.permutation_test((a, b), "median_diff", n_resamples=199, rng=SEED)
    user = fastinf.permutation_test((a, b), _njit_median_diff, n_resamples=199, rng=SEED)
    np.testing.assert_allclose(_by_experiment(user), _by_experiment(built_in), rtol=1e-12)
    # a second user function reuses the compiled kernel
    n_signatures = len(K.null_independent.signatures)
    fastinf.permutation_test((a, b), _njit_mean_diff, n_resamples=199, rng=SEED)
    assert len(K.null_independent.signatures) == n_signatures


def test_njit_one_sample_statistic():
    x = _data(6, 5, loc=-1.3)
    res = fastinf.permutation_test((x,), _njit_mean, permutation_type="samples")
    ref = fastinf.permutation_test((x,), "mean", permutation_type="samples")
    _assert_same_test(res, ref)
    # pairings of one sample: the statistic sees the permuted sample (5! = 120)
    z = _data(5, 6)
    res = fastinf.permutation_test((z,), _njit_weighted, permutation_type="pairings")
    ref = stats.permutation_test(
        (z,), lambda s: np.sum(s * _WEIGHTS), permutation_type="pairings", vectorized=False
    )
    _assert_same_test(res, ref)


def test_njit_statistic_with_axis_goes_to_scipy():
    @numba.njit
    def statistic(a, b, axis=-1):
        return np.mean(a) - np.mean(b)

    x, y = _data(6, 1), _data(5, 2)
    res = fastinf.permutation_test((x, y), statistic, vectorized=False, rng=SEED)
    ref = stats.permutation_test((x, y), statistic, vectorized=False, rng=SEED)
    assert res.pvalue == ref.pvalue


# --------------------------------------------------------------- nan_policy


def test_nan_propagate_marks_only_its_experiment():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(3, 10)), rng.normal(size=(3, 9))
    clean = fastinf.permutation_test((x, y), "mean_diff", axis=-1, n_resamples=99, rng=SEED)
    x[1, 4] = np.nan
    res = fastinf.permutation_test((x, y), "mean_diff", axis=-1, n_resamples=99, rng=SEED)
    assert np.isnan(res.statistic[1]) and np.isnan(res.pvalue[1])
    assert np.isnan(_by_experiment(res)[1]).all()
    keep = [0, 2]
    np.testing.assert_array_equal(res.pvalue[keep], clean.pvalue[keep])
    np.testing.assert_array_equal(_by_experiment(res)[keep], _by_experiment(clean)[keep])


def test_nan_omit_drops_observations_or_units():
    x, y = _data(8, 1), _data(7, 2)
    x[2] = np.nan
    res = fastinf.permutation_test((x, y), "mean_diff", nan_policy="omit")
    ref = fastinf.permutation_test((x[~np.isnan(x)], y), "mean_diff")
    _assert_same_test(res, ref, rtol=0)
    # paired: the unit leaves both samples
    a, b = _data(8, 3), _data(8, 4)
    b[5] = np.nan
    res = fastinf.permutation_test(
        (a, b), "mean_diff", permutation_type="samples", nan_policy="omit"
    )
    keep = ~np.isnan(b)
    ref = stats.permutation_test((a[keep], b[keep]), _mean_diff, permutation_type="samples")
    _assert_same_test(res, ref)


def test_nan_omit_leaving_too_few_observations_warns():
    x, y = np.array([1.0, np.nan, np.nan]), np.array([1.0, 2.0, 3.0])
    with pytest.warns(SmallSampleWarning, match="fewer than 2 observations"):
        res = fastinf.permutation_test((x, y), "mean_diff", nan_policy="omit")
    assert np.isnan(res.pvalue)


def test_nan_raise():
    x = _data(5)
    x[0] = np.nan
    with pytest.raises(ValueError, match="The input contains nan values"):
        fastinf.permutation_test((x, _data(5)), "mean_diff", nan_policy="raise")


# --------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"axis": 1.5}, ValueError, "`axis` must be an integer."),
        ({"permutation_type": "paired"}, ValueError, "`permutation_type` must be in"),
        ({"vectorized": "yes"}, ValueError, "`vectorized` must be `True`, `False`, or `None`."),
        ({"n_resamples": 0}, ValueError, "`n_resamples` must be a positive integer."),
        ({"n_resamples": 1.5}, ValueError, "`n_resamples` must be a positive integer."),
        ({"n_resamples": "many"}, ValueError, "`n_resamples` must be a positive integer."),
        ({"batch": 0}, ValueError, r"`batch` must be a positive integer or None."),
        ({"batch": 2.5}, ValueError, r"`batch` must be a positive integer or None."),
        ({"alternative": "bigger"}, ValueError, "`alternative` must be in"),
        ({"nan_policy": "drop"}, ValueError, "`nan_policy` must be one of"),
        ({"rng": "seed"}, TypeError, "`rng` must be None"),
        ({"axis": 2}, ValueError, "`axis` 2 is out of bounds"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        fastinf.permutation_test((_data(5), _data(4)), "mean_diff", **kwargs)


def test_invalid_data_and_statistics():
    x, y = _data(5), _data(4)
    with pytest.raises(ValueError, match="`data` must be a tuple containing at least two"):
        fastinf.permutation_test((x,), "mean")
    with pytest.raises(TypeError, match="`data` must be a tuple containing at least two"):
        fastinf.permutation_test(3, "mean_diff")
    with pytest.raises(ValueError, match="two or more observations"):
        fastinf.permutation_test((x, y[:1]), "mean_diff")
    with pytest.raises(ValueError, match="With permutation_type='samples', all samples "
                                         "must have the same length"):
        fastinf.permutation_test((x, y), "mean_diff", permutation_type="samples")
    with pytest.raises(ValueError, match="Statistic 'pearsonr' pairs observations, all samples"):
        fastinf.permutation_test((x, y), "pearsonr")
    with pytest.raises(ValueError, match="unknown statistic 'kendall'.*'pearsonr'"):
        fastinf.permutation_test((x, y), "kendall")
    with pytest.raises(TypeError, match="`statistic` must be callable"):
        fastinf.permutation_test((x, y), 3)
    with pytest.raises(ValueError, match="statistic 'mean' takes 1 sample"):
        fastinf.permutation_test((x, y), "mean")
    with pytest.raises(ValueError, match="statistic 'mean_diff' takes 2 sample"):
        fastinf.permutation_test((x,), "mean_diff", permutation_type="samples")
    with pytest.raises(ValueError, match="more than 2\\*\\*62 arrangements"):
        fastinf.permutation_test((_data(80), _data(80)), "mean_diff", n_resamples=np.inf)
    with pytest.raises(TypeError, match="mixes Ragged and array samples"):
        fastinf.permutation_test((Ragged.from_arrays([x]), y), "mean_diff")


def test_result_is_frozen():
    res = fastinf.permutation_test((_data(4), _data(3)), "mean_diff")
    with pytest.raises(AttributeError):
        res.pvalue = 0.0
    assert not hasattr(res, "__dict__")
    assert pearsonr().name == "pearsonr"


# ------------------------------------------------- kernels vs naive references


def test_unrank_combination_enumerates_in_lexicographic_order():
    n, k = 7, 3
    binom = np.array([[math.comb(m, j) for j in range(k + 1)] for m in range(n + 1)])
    idx = np.empty(k, dtype=np.int64)
    got = []
    for r in range(math.comb(n, k)):
        K.unrank_combination(r, n, k, binom, idx)
        got.append(tuple(idx))
    assert got == list(itertools.combinations(range(n), k))


def test_unrank_permutation_enumerates_in_lexicographic_order():
    n = 4
    fact = np.array([math.factorial(i) for i in range(n + 1)])
    src = np.arange(n, dtype=np.float64)
    dst = np.empty(n)
    avail = np.empty(n, dtype=np.int64)
    got = []
    for r in range(math.factorial(n)):
        K.unrank_permutation(r, n, fact, src, dst, avail)
        got.append(tuple(dst.astype(int)))
    assert got == list(itertools.permutations(range(n)))


def test_partial_shuffle_is_undone_and_uniform():
    """Each of n = 10 positions is chosen with probability k / n = 0.3.

    Over 20 000 shuffles the count of each position is binomial (sd 65);
    six standard deviations: false failure below 1e-8 per position.
    """
    n, k, reps = 10, 3, 20000
    work = np.arange(n, dtype=np.float64)
    swaps = np.empty(n, dtype=np.int64)
    hits = np.zeros(n)
    for b in range(reps):
        key = np.uint64(stream_key(np.uint64(SEED), 0, b))
        s1, _ = K.partial_shuffle(work, n, k, key, swaps, 1.0)
        assert s1 == np.sum(work[:k] - 1.0)
        hits[work[:k].astype(int)] += 1
        assert len(set(work[:k])) == k
        K.unshuffle(work, k, swaps)
    np.testing.assert_array_equal(work, np.arange(n))
    sd = math.sqrt(reps * 0.3 * 0.7)
    assert np.all(np.abs(hits - reps * 0.3) < 6 * sd)


def test_schedule_covers_every_task_once():
    counts = np.array([5, 0, 17, 3, 0, 40])
    cost = np.array([10.0, 3.0, 2.0, 50.0, 1.0, 4.0])
    for n_chunks in (1, 2, 7, 65):
        task_start, bounds = _schedule(counts, cost, n_chunks)
        assert task_start[-1] == counts.sum()
        assert bounds[0] == 0 and bounds[-1] == counts.sum()
        assert np.all(np.diff(bounds) >= 0) and bounds.size == n_chunks + 1


def test_batched_null_distribution_has_scipys_layout():
    """Resamples on the first axis, then the batch shape, as scipy returns them."""
    from scipy import stats

    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(3, 5)), rng.normal(size=(3, 4))
    ours = fastinf.permutation_test((x, y), "mean_diff", axis=-1, rng=1)

    def mean_diff(a, b, axis=-1):
        return a.mean(axis=axis) - b.mean(axis=axis)

    ref = stats.permutation_test((x, y), mean_diff, axis=-1, rng=1)
    assert ours.null_distribution.shape == ref.null_distribution.shape == (126, 3)
    np.testing.assert_allclose(np.sort(ours.null_distribution, axis=0),
                               np.sort(ref.null_distribution, axis=0), rtol=1e-12)
    np.testing.assert_allclose(ours.pvalue, ref.pvalue, rtol=1e-12)
