"""fastinf.ranks against scipy.stats: mannwhitneyu, ks_2samp, spearmanr.

Tolerance: rtol=1e-12 throughout. The statistics are computed from exact
half-integer rank sums / exact ECDF fractions and come out bit-identical to
scipy's in practice; the p-values go through the same scipy ufuncs and
private helpers, so only the order of a few vectorised operations can differ.
"""

import warnings

import numpy as np
import pytest
from scipy import stats

from fastinf.kernels import ranks as K
from fastinf.ragged import Ragged, SmallSampleWarning
from fastinf.ranks import ks_2samp, mannwhitneyu, spearmanr

ALTS = ["two-sided", "less", "greater"]
RTOL = 1e-12


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=RTOL, atol=0)


def _same(res, ref, fields=("statistic", "pvalue")):
    for f in fields:
        _close(getattr(res, f), getattr(ref, f))
        assert np.shape(getattr(res, f)) == np.shape(getattr(ref, f)), f


def _samples(rng, n1, n2, ties, shift=0.3):
    x = rng.normal(size=n1)
    y = rng.normal(loc=shift, size=n2)
    if ties:  # heavy ties: a handful of distinct values
        x, y = np.round(x * 1.5), np.round(y * 1.5)
    return x, y


SIZES = [(3, 5), (6, 8), (8, 30), (12, 9), (40, 35)]


# --------------------------------------------------------------------------
# Mann-Whitney U
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("n1", "n2"), SIZES)
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("alternative", ALTS)
def test_mwu_parity_1d(n1, n2, ties, alternative):
    rng = np.random.default_rng(0x5EED_0001 + 7 * n1 + n2)
    x, y = _samples(rng, n1, n2, ties)
    for method in ["auto", "asymptotic", "exact"]:
        for cont in [True, False]:
            res = mannwhitneyu(x, y, cont, alternative, method=method)
            ref = stats.mannwhitneyu(x, y, cont, alternative, method=method)
            _same(res, ref)


def test_mwu_scipy_example_and_unpacking():
    res = mannwhitneyu([19, 22, 16, 29, 24], [20, 11, 17, 12], method="exact")
    u, p = res
    assert u == 17.0 and res[0] == 17.0 and len(res) == 2
    np.testing.assert_allclose(p, 0.1111111111111111, rtol=RTOL)


def test_mwu_auto_rule_is_batch_wide_for_nd_like_scipy():
    # One tie in one row of a small-sample batch: scipy's vectorised path goes
    # asymptotic for *every* row; a row-by-row loop would pick exact for most.
    rng = np.random.default_rng(0x5EED_0002)
    x = rng.normal(size=(5, 6))
    y = rng.normal(size=(5, 7))
    y[2, 0] = x[2, 3]
    res = mannwhitneyu(x, y, axis=1)
    _same(res, stats.mannwhitneyu(x, y, axis=1))
    exact_row0 = stats.mannwhitneyu(x[0], y[0]).pvalue
    assert not np.isclose(res.pvalue[0], exact_row0, rtol=1e-6)
    # Ragged: per experiment, as a scipy loop
    rx, ry = Ragged.from_arrays(list(x)), Ragged.from_arrays(list(y))
    rr = mannwhitneyu(rx, ry)
    _close(rr.pvalue, [stats.mannwhitneyu(a, b).pvalue for a, b in zip(x, y, strict=True)])


@pytest.mark.parametrize("method", ["auto", "asymptotic", "exact"])
def test_mwu_nd_axis_and_broadcasting(method):
    rng = np.random.default_rng(0x5EED_0003)
    x = np.round(rng.normal(size=(3, 7, 4)) * 2)
    y = np.round(rng.normal(size=(3, 9, 4)) * 2)
    for alt in ALTS:
        _same(mannwhitneyu(x, y, alternative=alt, axis=1, method=method),
              stats.mannwhitneyu(x, y, alternative=alt, axis=1, method=method))
    xb = rng.normal(size=(4, 6))
    yb = rng.normal(size=10)
    _same(mannwhitneyu(xb, yb, axis=-1, method=method),
          stats.mannwhitneyu(xb, yb, axis=-1, method=method))
    res = mannwhitneyu(x, y, axis=1, keepdims=True, method=method)
    ref = stats.mannwhitneyu(x, y, axis=1, keepdims=True, method=method)
    assert res.statistic.shape == (3, 1, 4)
    _same(res, ref)


def test_mwu_ragged_equals_scipy_loop():
    rng = np.random.default_rng(0x5EED_0004)
    sizes = rng.integers(2, 60, size=(2, 25))
    xs = [np.round(rng.normal(size=n)) if e % 3 == 0 else rng.normal(size=n)
          for e, n in enumerate(sizes[0])]
    ys = [np.round(rng.normal(0.2, size=n)) if e % 3 == 0 else rng.normal(0.2, size=n)
          for e, n in enumerate(sizes[1])]
    rx, ry = Ragged.from_arrays(xs), Ragged.from_arrays(ys)
    for alt in ALTS:
        for method in ["auto", "asymptotic", "exact"]:
            res = mannwhitneyu(rx, ry, alternative=alt, method=method)
            refs = [stats.mannwhitneyu(a, b, alternative=alt, method=method)
                    for a, b in zip(xs, ys, strict=True)]
            _close(res.statistic, [r.statistic for r in refs])
            _close(res.pvalue, [r.pvalue for r in refs])
            assert res.statistic.shape == (25,)


def test_mwu_fast_path_within_sample_ties_and_signed_zeros():
    """The branch-free U and tie term: ties only inside a sample, -0.0 vs 0.0 across."""
    rng = np.random.default_rng(0x5EED_0031)
    xs, ys = [], []
    for n1, n2 in [(1, 1), (1, 7), (7, 1), (2, 3), (500, 700), (3000, 2500)]:
        # x even, y odd integers: many ties within a sample, none across
        xs.append(2.0 * rng.integers(-20, 20, size=n1))
        ys.append(2.0 * rng.integers(-20, 20, size=n2) + 1.0)
    xs.append(np.array([-0.0, 1.0, -2.0]))  # -0.0 and 0.0 tie across samples
    ys.append(np.array([0.0, 3.0]))
    xs.append(rng.normal(size=900))  # continuous, no ties at all
    ys.append(rng.normal(size=1100))
    res = mannwhitneyu(Ragged.from_arrays(xs), Ragged.from_arrays(ys))
    for e, (x, y) in enumerate(zip(xs, ys, strict=True)):
        ref = stats.mannwhitneyu(x, y)
        assert res.statistic[e] == ref.statistic, e
        _close(res.pvalue[e], ref.pvalue)


def test_mwu_nan_policies():
    rng = np.random.default_rng(0x5EED_0005)
    x = rng.normal(size=(4, 12))
    y = rng.normal(size=(4, 10))
    x[1, 3] = np.nan
    y[2, 0] = np.nan
    for policy in ["propagate", "omit"]:
        _same(mannwhitneyu(x, y, axis=1, nan_policy=policy),
              stats.mannwhitneyu(x, y, axis=1, nan_policy=policy))
        _same(mannwhitneyu(x[1], y[1], nan_policy=policy),
              stats.mannwhitneyu(x[1], y[1], nan_policy=policy))
    # Ragged omit equals a scipy loop
    rx, ry = Ragged.from_arrays(list(x)), Ragged.from_arrays(list(y))
    res = mannwhitneyu(rx, ry, nan_policy="omit")
    _close(res.pvalue, [stats.mannwhitneyu(a, b, nan_policy="omit").pvalue
                        for a, b in zip(x, y, strict=True)])
    with pytest.raises(ValueError, match="The input contains nan values: `x` of experiment"):
        mannwhitneyu(rx, ry, nan_policy="raise")


def test_mwu_empty_sample_warns_and_gives_nan():
    rx = Ragged.from_arrays([np.array([1.0, 2.0, 3.0]), np.array([np.nan])])
    ry = Ragged.from_arrays([np.array([0.5, 2.5]), np.array([1.0, 2.0])])
    with pytest.warns(SmallSampleWarning, match="fewer than 1 observation"):
        res = mannwhitneyu(rx, ry, nan_policy="omit")
    assert np.isnan(res.pvalue[1]) and np.isnan(res.statistic[1])
    _close(res.pvalue[0], stats.mannwhitneyu([1.0, 2.0, 3.0], [0.5, 2.5]).pvalue)


def test_mwu_permutation_method_goes_to_scipy():
    rng = np.random.default_rng(0x5EED_0006)
    x, y = rng.normal(size=7), rng.normal(size=6)
    pm = stats.PermutationMethod(n_resamples=99, rng=1)
    res = mannwhitneyu(x, y, method=pm)
    ref = stats.mannwhitneyu(x, y, method=stats.PermutationMethod(n_resamples=99, rng=1))
    _same(res, ref)
    rr = mannwhitneyu(Ragged.from_arrays([x]), Ragged.from_arrays([y]),
                      method=stats.PermutationMethod(n_resamples=99, rng=1))
    _close(rr.pvalue, [ref.pvalue])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"use_continuity": 2}, r"`use_continuity` must be one of \{True, False\}"),
        ({"alternative": "bigger"}, "`alternative` must be one of"),
        ({"method": "fast"}, "`method` must be one of"),
        ({"method": 3}, "`method` must be one of"),
        ({"axis": 1.5}, "`axis` must be an integer"),
        ({"nan_policy": "drop"}, "`nan_policy` must be one of"),
    ],
)
def test_mwu_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mannwhitneyu([1.0, 2.0, 3.0], [2.0, 4.0], **kwargs)


def test_pair_errors():
    r = Ragged.from_arrays([np.ones(3)])
    with pytest.raises(TypeError, match="`x` and `y` must both be Ragged or both be arrays"):
        mannwhitneyu(r, np.ones(3))
    with pytest.raises(ValueError, match="`y` has 2 experiments, `x` has 1"):
        mannwhitneyu(r, Ragged.from_arrays([np.ones(3), np.ones(2)]))
    with pytest.raises(ValueError, match="must broadcast along every axis"):
        ks_2samp(np.ones((3, 4)), np.ones((2, 5)), axis=1)
    with pytest.raises(TypeError, match="`data1` must be numeric"):
        ks_2samp(np.array(["a", "b"]), np.ones(2))


# --------------------------------------------------------------------------
# Kolmogorov-Smirnov
# --------------------------------------------------------------------------

KS_FIELDS = ("statistic", "pvalue", "statistic_location", "statistic_sign")


@pytest.mark.parametrize(("n1", "n2"), [(4, 4), (5, 7), (20, 20), (30, 45), (64, 48)])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("alternative", ALTS)
def test_ks_parity_1d(n1, n2, ties, alternative):
    rng = np.random.default_rng(0x5EED_0010 + 11 * n1 + n2)
    x, y = _samples(rng, n1, n2, ties, shift=0.6)
    for method in ["auto", "exact", "asymp"]:
        res = ks_2samp(x, y, alternative, method)
        ref = stats.ks_2samp(x, y, alternative, method)
        _same(res, ref, KS_FIELDS)
        assert type(res.statistic_sign) is np.int8
        assert tuple(res) == (res.statistic, res.pvalue)


def test_ks_alternative_abbreviations_and_identical_samples():
    x = np.array([1.0, 2.0, 2.0, 5.0])
    _same(ks_2samp(x, x, "g"), stats.ks_2samp(x, x, "g"), KS_FIELDS)
    _same(ks_2samp(x, x + 10, "L"), stats.ks_2samp(x, x + 10, "L"), KS_FIELDS)


def test_ks_prob_outside_square_port_is_scipys():
    from scipy.stats._stats_py import _compute_prob_outside_square

    for n in [1, 2, 7, 50, 333, 1000]:
        for h in sorted({1, 2, max(1, n // 7), max(1, n // 2), n}):
            assert K.prob_outside_square(n, h) == _compute_prob_outside_square(n, h)


def test_ks_auto_switches_to_asymptotic_above_10000():
    rng = np.random.default_rng(0x5EED_0011)
    x, y = rng.normal(size=10001), rng.normal(0.05, size=40)
    for alt in ALTS:
        _same(ks_2samp(x, y, alt), stats.ks_2samp(x, y, alt), KS_FIELDS)


def test_ks_exact_too_large_warns_like_scipy():
    rng = np.random.default_rng(0x5EED_0012)
    x, y = rng.normal(size=50000), rng.normal(size=49999)
    with pytest.warns(RuntimeWarning, match="Exact ks_2samp calculation not possible"):
        res = ks_2samp(x, y, method="exact")
    with pytest.warns(RuntimeWarning, match="Exact ks_2samp calculation not possible"):
        ref = stats.ks_2samp(x, y, method="exact")
    _same(res, ref, KS_FIELDS)


def test_ks_nd_ragged_nan_keepdims():
    rng = np.random.default_rng(0x5EED_0013)
    x = np.round(rng.normal(size=(3, 15, 2)) * 2)
    y = np.round(rng.normal(0.5, size=(3, 11, 2)) * 2)
    for alt in ALTS:
        _same(ks_2samp(x, y, alt, axis=1), stats.ks_2samp(x, y, alt, axis=1), KS_FIELDS)
    res = ks_2samp(x, y, axis=1, keepdims=True)
    assert res.pvalue.shape == (3, 1, 2)
    _same(res, stats.ks_2samp(x, y, axis=1, keepdims=True), KS_FIELDS)
    x[1, 2, 0] = np.nan
    for policy in ["propagate", "omit"]:
        _same(ks_2samp(x, y, axis=1, nan_policy=policy),
              stats.ks_2samp(x, y, axis=1, nan_policy=policy), KS_FIELDS)
    xs = [rng.normal(size=n) for n in rng.integers(1, 80, size=20)]
    ys = [np.round(rng.normal(size=n)) for n in rng.integers(1, 80, size=20)]
    for alt in ALTS:
        res = ks_2samp(Ragged.from_arrays(xs), Ragged.from_arrays(ys), alt)
        refs = [stats.ks_2samp(a, b, alt) for a, b in zip(xs, ys, strict=True)]
        for f in KS_FIELDS:
            _close(getattr(res, f), [getattr(r, f) for r in refs])
    r1 = ks_2samp(x[1, :, 0], y[1, :, 0])
    assert np.isnan(r1.statistic_sign) and np.isnan(r1.statistic_location)
    with pytest.raises(ValueError, match="The input contains nan values: `data1`"):
        ks_2samp(x, y, axis=1, nan_policy="raise")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "approx"}, "Invalid value for mode: approx"),
        ({"alternative": "bigger"}, "Invalid value for alternative: bigger"),
        ({"nan_policy": "drop"}, "`nan_policy` must be one of"),
    ],
)
def test_ks_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ks_2samp([1.0, 2.0, 3.0], [2.0, 4.0], **kwargs)


# --------------------------------------------------------------------------
# Spearman
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 10, 57])
@pytest.mark.parametrize("ties", [False, True])
def test_spearman_parity_1d(n, ties):
    rng = np.random.default_rng(0x5EED_0020 + n)
    x = rng.normal(size=n)
    y = x + rng.normal(size=n)
    if ties:
        x, y = np.round(x), np.round(y)
    for alt in ALTS:
        res = spearmanr(x, y, alternative=alt)
        ref = stats.spearmanr(x, y, alternative=alt)
        _same(res, ref)
        assert res.correlation == res.statistic


def test_spearman_batched_ragged_and_matrix_form():
    rng = np.random.default_rng(0x5EED_0021)
    a = np.round(rng.normal(size=(6, 30)) * 2)
    b = a + rng.normal(size=(6, 30))
    res = spearmanr(a, b, axis=1, batched=True)
    refs = [stats.spearmanr(u, v) for u, v in zip(a, b, strict=True)]
    _close(res.statistic, [r.statistic for r in refs])
    _close(res.pvalue, [r.pvalue for r in refs])
    sizes = [3, 9, 25, 40]
    xs = [rng.normal(size=n) for n in sizes]
    ys = [u + rng.normal(size=u.size) for u in xs]
    rr = spearmanr(Ragged.from_arrays(xs), Ragged.from_arrays(ys), alternative="greater")
    _close(rr.pvalue, [stats.spearmanr(u, v, alternative="greater").pvalue
                       for u, v in zip(xs, ys, strict=True)])
    # 2-D without `batched`: scipy's matrix form, handed to scipy
    m = spearmanr(a.T)
    _same(m, stats.spearmanr(a.T))


def test_spearman_nan_and_constant():
    rng = np.random.default_rng(0x5EED_0022)
    x, y = rng.normal(size=20), rng.normal(size=20)
    x[4], y[9] = np.nan, np.nan
    _same(spearmanr(x, y), stats.spearmanr(x, y))
    _same(spearmanr(x, y, nan_policy="omit"), stats.spearmanr(x, y, nan_policy="omit"))
    with pytest.raises(ValueError, match="The input contains nan values: `a`"):
        spearmanr(x, y, nan_policy="raise")
    with pytest.warns(stats.ConstantInputWarning, match="An input array is constant"):
        res = spearmanr(np.ones(5), np.arange(5.0))
    assert np.isnan(res.statistic) and np.isnan(res.pvalue)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isnan(spearmanr([1.0], [2.0]).statistic)


def test_spearman_errors():
    with pytest.raises(ValueError, match="spearmanr only handles 1-D or 2-D arrays"):
        spearmanr(np.ones(3), np.ones(3), axis=2)
    with pytest.raises(ValueError, match="`a` and `b` must have the same length"):
        spearmanr(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="`b` is required for batched or Ragged input"):
        spearmanr(np.ones((2, 3)), batched=True)
    with pytest.raises(ValueError, match="As `a` and `b` are paired, all samples must"):
        spearmanr(Ragged.from_arrays([np.ones(3)]), Ragged.from_arrays([np.ones(4)]))


# --------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------


def test_identical_results_at_1_and_2_threads(threads):
    rng = np.random.default_rng(0x5EED_0030)
    sizes = rng.integers(100, 12000, size=(2, 40))  # > 200 000 values: threaded sort
    xs = Ragged.from_arrays([np.round(rng.normal(size=n) * 20) for n in sizes[0]])
    ys = Ragged.from_arrays([rng.normal(size=n) * 20 for n in sizes[1]])
    out = []
    for k in (1, 2):
        with threads(k):
            m = mannwhitneyu(xs, ys)
            s = ks_2samp(xs, ys)
            out.append(np.concatenate([m.statistic, m.pvalue, s.statistic, s.pvalue,
                                       s.statistic_location]))
    assert out[0].tobytes() == out[1].tobytes()
    e = 7
    _close(m.pvalue[e], stats.mannwhitneyu(xs[e], ys[e]).pvalue)
