"""fastinf.stats against scipy.stats and statsmodels.

Tolerance: 1e-12 relative throughout. fastinf's moments are a corrected
two-pass sum (a few ulps from the exact value) and scipy's are pairwise sums
(also a few ulps), so statistics agree to ~1e-15 on these sizes; p-values
come from the same scipy.special ufuncs and inherit at most a few times that
relative error (condition number of stdtr/betainc at the values used).
"""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.stats as ss
from statsmodels.stats.proportion import proportions_ztest as sm_ztest

from fastinf import Ragged, SmallSampleWarning
from fastinf import stats as fs

RTOL = 1e-12
ALTS = ["two-sided", "less", "greater"]


def close(a, b, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=0)


def quiet(f, *args, **kwargs):
    """Run the scipy reference, silencing the NumPy warnings it lets through."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kwargs)


@pytest.fixture
def rng():
    return np.random.default_rng(0x5EED_1234_ABCD_0042)


# --------------------------------------------------------------------------
# ttest_ind
# --------------------------------------------------------------------------


@pytest.mark.parametrize("equal_var", [True, False])
@pytest.mark.parametrize("alternative", ALTS)
def test_ttest_ind_nd_parity(rng, equal_var, alternative):
    a = rng.normal(size=(4, 25, 3))
    b = rng.normal(loc=0.3, scale=2.0, size=(4, 31, 3))
    res = fs.ttest_ind(a, b, axis=1, equal_var=equal_var, alternative=alternative)
    ref = ss.ttest_ind(a, b, axis=1, equal_var=equal_var, alternative=alternative)
    assert res.statistic.shape == (4, 3)
    close(res.statistic, ref.statistic)
    close(res.pvalue, ref.pvalue)
    close(res.df, ref.df)
    for level in (0.95, 0.8):
        ci, ci_ref = res.confidence_interval(level), ref.confidence_interval(level)
        close(ci.low, ci_ref.low)
        close(ci.high, ci_ref.high)
    t, p = res  # unpacks as scipy's
    assert t is res.statistic and p is res.pvalue and len(res) == 2


def test_ttest_ind_axis_variants(rng):
    a = rng.normal(size=(6, 7))
    b = rng.normal(size=(1, 9))  # broadcasts along the other axis
    for axis in (-1, 1):
        close(fs.ttest_ind(a, b, axis=axis).pvalue, ss.ttest_ind(a, b, axis=axis).pvalue)
    res = fs.ttest_ind(a, b, axis=1, keepdims=True)
    ref = ss.ttest_ind(a, b, axis=1, keepdims=True)
    assert res.statistic.shape == ref.statistic.shape == (6, 1)
    close(res.statistic, ref.statistic)
    c = rng.normal(loc=0.5, size=(3, 5))
    res = fs.ttest_ind(a, c, axis=None, equal_var=False)
    ref = ss.ttest_ind(a, c, axis=None, equal_var=False)
    assert np.ndim(res.statistic) == 0
    close(res.statistic, ref.statistic)
    res = fs.ttest_ind(a, b.ravel(), axis=None, keepdims=True)
    ref = ss.ttest_ind(a, b.ravel(), axis=None, keepdims=True)
    assert np.shape(res.pvalue) == np.shape(ref.pvalue)
    close(res.pvalue, ref.pvalue)


def test_ttest_ind_scalar_and_integer_input():
    a = [1, 3, 4, 6, 11, 13, 15, 19, 22, 24, 25, 26, 26]
    b = [2, 4, 6, 9, 11, 13, 14, 15, 18, 19, 21]
    res, ref = fs.ttest_ind(a, b), ss.ttest_ind(a, b)
    assert isinstance(res.statistic, np.float64)
    close(res.statistic, ref.statistic)
    close(res.pvalue, ref.pvalue)
    assert res.df == ref.df == 22.0


@pytest.mark.parametrize("equal_var", [True, False])
def test_ttest_ind_ragged_equals_scipy_loop(rng, equal_var):
    sizes_a = rng.integers(2, 40, size=30)
    sizes_b = rng.integers(2, 40, size=30)
    xs = [rng.normal(size=n) for n in sizes_a]
    ys = [rng.normal(loc=0.2, size=n) for n in sizes_b]
    for alt in ALTS:
        res = fs.ttest_ind(Ragged.from_arrays(xs), Ragged.from_arrays(ys),
                           equal_var=equal_var, alternative=alt)
        refs = [ss.ttest_ind(x, y, equal_var=equal_var, alternative=alt)
                for x, y in zip(xs, ys, strict=True)]
        close(res.statistic, [r.statistic for r in refs])
        close(res.pvalue, [r.pvalue for r in refs])
        close(res.df, [r.df for r in refs])
        ci = res.confidence_interval()
        close(ci.low, [r.confidence_interval().low for r in refs])


def test_ttest_ind_ragged_nan_omit_and_propagate(rng):
    xs = [rng.normal(size=n) for n in (5, 8, 3, 6)]
    ys = [rng.normal(size=n) for n in (4, 7, 6, 5)]
    xs[1][2] = np.nan
    ys[2][0] = np.nan
    ra, rb = Ragged.from_arrays(xs), Ragged.from_arrays(ys)
    res = fs.ttest_ind(ra, rb, nan_policy="omit")
    ref = [ss.ttest_ind(x, y, nan_policy="omit") for x, y in zip(xs, ys, strict=True)]
    close(res.statistic, [r.statistic for r in ref])
    close(res.df, [r.df for r in ref])
    res = fs.ttest_ind(ra, rb)
    assert np.isnan(res.statistic[[1, 2]]).all() and np.isnan(res.df[[1, 2]]).all()
    close(res.statistic[[0, 3]], [ss.ttest_ind(xs[e], ys[e]).statistic for e in (0, 3)])
    with pytest.raises(ValueError, match="The input contains nan values"):
        fs.ttest_ind(ra, rb, nan_policy="raise")


def test_ttest_ind_ragged_empty_after_omit_warns(rng):
    xs = [np.array([np.nan, np.nan]), rng.normal(size=4)]
    ys = [rng.normal(size=3), rng.normal(size=5)]
    with pytest.warns(SmallSampleWarning, match="After omitting NaNs"):
        res = fs.ttest_ind(Ragged.from_arrays(xs), Ragged.from_arrays(ys), nan_policy="omit")
    assert np.isnan(res.statistic[0])
    close(res.statistic[1], ss.ttest_ind(xs[1], ys[1]).statistic)


@pytest.mark.parametrize("nan_policy", ["propagate", "omit"])
def test_ttest_ind_nan_policy_nd(rng, nan_policy):
    a = rng.normal(size=(12, 5))
    b = rng.normal(size=(10, 5))
    a[3, 1] = np.nan
    a[:11, 4] = np.nan  # one left: Welch's df undefined, Student's defined
    b[0, 2] = np.nan
    for ev in (True, False):
        res = fs.ttest_ind(a, b, nan_policy=nan_policy, equal_var=ev)
        ref = quiet(ss.ttest_ind, a, b, nan_policy=nan_policy, equal_var=ev)
        np.testing.assert_array_equal(np.isnan(res.statistic), np.isnan(ref.statistic))
        np.testing.assert_array_equal(np.isnan(res.df), np.isnan(ref.df))
        ok = ~np.isnan(ref.statistic)
        close(res.statistic[ok], ref.statistic[ok])
        close(res.pvalue[ok], ref.pvalue[ok])
        close(res.df[~np.isnan(ref.df)], ref.df[~np.isnan(ref.df)])


def test_ttest_ind_nan_omit_1d_and_small_samples():
    a = np.array([1.0, np.nan, 3.0, 7.0])
    b = np.array([2.0, 2.5, 5.0])
    res, ref = fs.ttest_ind(a, b, nan_policy="omit"), ss.ttest_ind(a, b, nan_policy="omit")
    close(res.statistic, ref.statistic)
    close(res.df, ref.df)
    # n = 1 in one sample: Student's test is defined (scipy's convention).
    res, ref = fs.ttest_ind([1.0], [2.0, 3.0]), ss.ttest_ind([1.0], [2.0, 3.0])
    close(res.statistic, ref.statistic)
    close(res.pvalue, ref.pvalue)
    with pytest.warns(SmallSampleWarning, match="One or more sample arguments is too small"):
        res = fs.ttest_ind([], [1.0, 2.0])
    assert np.isnan(res.statistic) and np.isnan(res.df)
    with pytest.warns(SmallSampleWarning, match="After omitting NaNs"):
        res = fs.ttest_ind([np.nan], [1.0, 2.0], nan_policy="omit")
    assert np.isnan(res.pvalue)


def test_ttest_ind_zero_variance_matches_scipy():
    cases = [([1.0, 1.0], [2.0, 2.0]), ([1.0, 1.0], [1.0, 1.0]), ([3.0, 3.0, 3.0], [1.0, 2.0])]
    for a, b in cases:
        for ev in (True, False):
            res = fs.ttest_ind(a, b, equal_var=ev)  # no NumPy warnings from fastinf
            ref = quiet(ss.ttest_ind, a, b, equal_var=ev)
            np.testing.assert_array_equal(res.statistic, ref.statistic)
            np.testing.assert_array_equal(res.pvalue, ref.pvalue)
            np.testing.assert_array_equal(res.df, ref.df)


def test_ttest_ind_delegates_trim_and_method(rng):
    a, b = rng.normal(size=15), rng.normal(size=12)
    res, ref = fs.ttest_ind(a, b, trim=0.2), ss.ttest_ind(a, b, trim=0.2)
    assert res.statistic == ref.statistic and res.pvalue == ref.pvalue
    method = ss.PermutationMethod(n_resamples=99, rng=1)
    res = fs.ttest_ind(a, b, method=method)
    ref = ss.ttest_ind(a, b, method=ss.PermutationMethod(n_resamples=99, rng=1))
    assert res.pvalue == ref.pvalue
    with pytest.raises(NotImplementedError, match="Ragged samples support only"):
        fs.ttest_ind(Ragged.from_arrays([a]), Ragged.from_arrays([b]), trim=0.1)


def test_ttest_errors(rng):
    a, b = rng.normal(size=5), rng.normal(size=6)
    with pytest.raises(ValueError, match="`alternative` must be 'less', 'greater', or"):
        fs.ttest_ind(a, b, alternative="bigger")
    with pytest.raises(ValueError, match="nan_policy must be one of"):
        fs.ttest_ind(a, b, nan_policy="drop")
    with pytest.raises(ValueError, match="The input contains nan values"):
        fs.ttest_ind(np.r_[a, np.nan], b, nan_policy="raise")
    with pytest.raises(ValueError, match="Array shapes are incompatible for broadcasting"):
        fs.ttest_ind(np.ones((2, 3)), np.ones((3, 3)), axis=1)
    with pytest.raises(np.exceptions.AxisError, match="out of bounds"):
        fs.ttest_ind(np.ones((2, 3)), np.ones((3, 3)), axis=2)
    with pytest.raises(TypeError, match="`a` must be numeric"):
        fs.ttest_ind(["x", "y"], b)
    with pytest.raises(TypeError, match="must both be Ragged or both be arrays"):
        fs.ttest_ind(Ragged.from_arrays([a]), b)
    with pytest.raises(ValueError, match="`a` has 1 experiments, `b` has 2"):
        fs.ttest_ind(Ragged.from_arrays([a]), Ragged.from_arrays([a, b]))
    with pytest.raises(ValueError, match="`a` and `b` must have the same sizes; experiment 0"):
        fs.ttest_rel(Ragged.from_arrays([a]), Ragged.from_arrays([b]))
    with pytest.raises(ValueError, match="`popmean.shape\\[axis\\]` must equal 1"):
        fs.ttest_1samp(np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="one value per experiment"):
        fs.ttest_1samp(Ragged.from_arrays([a, b]), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="`confidence_level` must be a number between 0 and 1"):
        fs.ttest_ind(a, b).confidence_interval(1.5)


# --------------------------------------------------------------------------
# ttest_1samp, ttest_rel, ttest_ind_from_stats
# --------------------------------------------------------------------------


@pytest.mark.parametrize("alternative", ALTS)
def test_ttest_1samp_parity(rng, alternative):
    a = rng.normal(loc=0.2, size=(20, 4))
    popmean = np.array([[0.0, 0.1, 0.2, -0.3]])
    res = fs.ttest_1samp(a, popmean, alternative=alternative)
    ref = ss.ttest_1samp(a, popmean, alternative=alternative)
    close(res.statistic, ref.statistic)
    close(res.pvalue, ref.pvalue)
    close(res.df, ref.df)
    ci, ci_ref = res.confidence_interval(0.9), ref.confidence_interval(0.9)
    close(ci.low, ci_ref.low)
    close(ci.high, ci_ref.high)
    res = fs.ttest_1samp(a, 0.1, axis=1, alternative=alternative)
    close(res.pvalue, ss.ttest_1samp(a, 0.1, axis=1, alternative=alternative).pvalue)


def test_ttest_1samp_ragged_and_nan(rng):
    xs = [rng.normal(size=n) for n in (3, 9, 20)]
    pm = np.array([0.0, 0.5, -0.5])
    res = fs.ttest_1samp(Ragged.from_arrays(xs), pm)
    close(res.statistic, [ss.ttest_1samp(x, m).statistic for x, m in zip(xs, pm, strict=True)])
    a = rng.normal(size=(8, 3))
    a[2, 0] = np.nan
    res = fs.ttest_1samp(a, 0.0, nan_policy="omit")
    ref = ss.ttest_1samp(a, 0.0, nan_policy="omit")
    close(res.statistic, ref.statistic)
    close(res.df, ref.df)
    res = fs.ttest_1samp(a, 0.0)
    assert np.isnan(res.statistic[0]) and np.isnan(res.df[0])
    close(res.pvalue[1:], ss.ttest_1samp(a[:, 1:], 0.0).pvalue)


@pytest.mark.parametrize("alternative", ALTS)
def test_ttest_rel_parity(rng, alternative):
    a = rng.normal(size=(15, 3))
    b = a + rng.normal(loc=0.1, scale=0.5, size=(15, 3))
    res = fs.ttest_rel(a, b, alternative=alternative)
    ref = ss.ttest_rel(a, b, alternative=alternative)
    close(res.statistic, ref.statistic)
    close(res.pvalue, ref.pvalue)
    ci, ci_ref = res.confidence_interval(), ref.confidence_interval()
    close(ci.low, ci_ref.low)
    close(ci.high, ci_ref.high)
    b[4, 1] = np.nan
    res = fs.ttest_rel(a, b, nan_policy="omit", alternative=alternative)
    ref = ss.ttest_rel(a, b, nan_policy="omit", alternative=alternative)
    close(res.statistic, ref.statistic)
    close(res.df, ref.df)
    # Broadcasting a column against a matrix, as scipy.
    close(fs.ttest_rel(a, a[:, :1] * 0.5).statistic, ss.ttest_rel(a, a[:, :1] * 0.5).statistic)


def test_ttest_rel_ragged(rng):
    xs = [rng.normal(size=n) for n in (4, 11, 6)]
    ys = [x + rng.normal(size=x.size) for x in xs]
    ys[1][3] = np.nan
    res = fs.ttest_rel(Ragged.from_arrays(xs), Ragged.from_arrays(ys), nan_policy="omit")
    ref = [ss.ttest_rel(x, y, nan_policy="omit") for x, y in zip(xs, ys, strict=True)]
    close(res.statistic, [r.statistic for r in ref])
    close(res.df, [r.df for r in ref])


@pytest.mark.parametrize("equal_var", [True, False])
def test_ttest_ind_from_stats_broadcasts(rng, equal_var):
    m1 = rng.normal(size=(50, 1))
    m2 = rng.normal(size=(1, 4))
    s1 = rng.uniform(0.5, 2, size=(50, 1))
    s2 = rng.uniform(0.5, 2, size=4)
    n1 = rng.integers(2, 100, size=(50, 1))
    n2 = 30
    for alt in ALTS:
        res = fs.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var, alt)
        ref = ss.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var, alt)
        assert res.statistic.shape == (50, 4)
        close(res.statistic, ref.statistic)
        close(res.pvalue, ref.pvalue)
    res = fs.ttest_ind_from_stats(15.0, np.sqrt(87.5), 13, 12.0, np.sqrt(39.0), 11)
    ref = ss.ttest_ind_from_stats(15.0, np.sqrt(87.5), 13, 12.0, np.sqrt(39.0), 11)
    assert np.ndim(res.statistic) == 0
    close(tuple(res), tuple(ref))


def test_ttest_threads_identical(rng, threads):
    a = rng.normal(size=(3000, 17))
    b = rng.normal(size=(3000, 23))
    with threads(1):
        one = fs.ttest_ind(a, b, axis=1, equal_var=False)
    with threads(2):
        two = fs.ttest_ind(a, b, axis=1, equal_var=False)
    np.testing.assert_array_equal(one.statistic, two.statistic)
    np.testing.assert_array_equal(one.pvalue, two.pvalue)


# --------------------------------------------------------------------------
# f_oneway, pearsonr
# --------------------------------------------------------------------------


@pytest.mark.parametrize("equal_var", [True, False])
def test_f_oneway_parity(rng, equal_var):
    groups = [rng.normal(loc=m, size=(n, 5)) for m, n in ((0, 10), (0.5, 14), (0.2, 7))]
    res = fs.f_oneway(*groups, equal_var=equal_var)
    ref = ss.f_oneway(*groups, equal_var=equal_var)
    close(res.statistic, ref.statistic)
    close(res.pvalue, ref.pvalue)
    groups[1][3, 2] = np.nan
    res = fs.f_oneway(*groups, equal_var=equal_var, nan_policy="omit")
    ref = ss.f_oneway(*groups, equal_var=equal_var, nan_policy="omit")
    close(res.statistic, ref.statistic)
    res = fs.f_oneway(*groups, equal_var=equal_var)
    assert np.isnan(res.statistic[2]) and not np.isnan(res.statistic[[0, 1, 3, 4]]).any()


def test_f_oneway_ragged_and_constant(rng):
    gs = [[rng.normal(size=n) for n in sizes] for sizes in ((5, 9), (6, 3), (4, 12))]
    res = fs.f_oneway(*(Ragged.from_arrays(g) for g in gs))
    for e in range(2):
        ref = ss.f_oneway(*(g[e] for g in gs))
        close(res.statistic[e], ref.statistic)
        close(res.pvalue[e], ref.pvalue)
    const = ([1.0, 1.0], [2.0, 2.0, 2.0])
    assert fs.f_oneway(*const).statistic == quiet(ss.f_oneway, *const).statistic == np.inf
    same = ([1.0, 1.0], [1.0, 1.0])
    assert np.isnan(fs.f_oneway(*same).statistic)
    with pytest.raises(TypeError, match="At least two samples are required; got 1"):
        fs.f_oneway([1.0, 2.0])
    # scipy warns twice: its own message and the generic too-small one.
    with pytest.warns(SmallSampleWarning) as record:
        res = fs.f_oneway([1.0], [2.0])
    messages = [str(w.message) for w in record]
    assert "all input arrays have length 1" in messages[0]
    assert "One or more sample arguments is too small" in messages[1]
    assert np.isnan(res.statistic)


@pytest.mark.parametrize("alternative", ALTS)
def test_pearsonr_parity(rng, alternative):
    x = rng.normal(size=(30, 6))
    y = 0.3 * x + rng.normal(size=(30, 6))
    res = fs.pearsonr(x, y, alternative=alternative)
    ref = ss.pearsonr(x, y, alternative=alternative)
    close(res.statistic, ref.statistic)
    close(res.pvalue, ref.pvalue)
    ci, ci_ref = res.confidence_interval(0.9), ref.confidence_interval(0.9)
    close(ci.low, ci_ref.low)
    close(ci.high, ci_ref.high)
    res = fs.pearsonr(x.T, y.T, axis=1, alternative=alternative)
    close(res.statistic, ref.statistic)


def test_pearsonr_edges(rng):
    res, ref = fs.pearsonr([1.0, 2.0], [3.0, 1.0]), ss.pearsonr([1.0, 2.0], [3.0, 1.0])
    assert res.statistic == ref.statistic == -1.0 and res.pvalue == ref.pvalue == 1.0
    ci = res.confidence_interval()
    assert (ci.low, ci.high) == (-1.0, 1.0)
    with pytest.warns(ss.ConstantInputWarning, match="An input array is constant"):
        res = fs.pearsonr([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])
    assert np.isnan(res.statistic)
    with pytest.raises(ValueError, match="`x` and `y` must have length at least 2"):
        fs.pearsonr([1.0], [2.0])
    with pytest.raises(ValueError, match="`x` and `y` must be broadcastable"):
        fs.pearsonr([1.0, 2.0], [1.0, 2.0, 3.0])
    x, y = rng.normal(size=9), rng.normal(size=9)
    method = ss.PermutationMethod(n_resamples=50, rng=3)
    res = fs.pearsonr(x, y, method=method)
    ref = ss.pearsonr(x, y, method=ss.PermutationMethod(n_resamples=50, rng=3))
    assert res.pvalue == ref.pvalue


# --------------------------------------------------------------------------
# chi-square tests
# --------------------------------------------------------------------------


def test_chisquare_parity(rng):
    obs = rng.integers(5, 50, size=(6, 4)).astype(float)
    close(fs.chisquare(obs).statistic, ss.chisquare(obs).statistic)
    close(fs.chisquare(obs, ddof=1, axis=1).pvalue, ss.chisquare(obs, ddof=1, axis=1).pvalue)
    exp = obs.sum(axis=0) / 6 * np.ones((6, 1))
    res, ref = fs.chisquare(obs, exp), ss.chisquare(obs, exp)
    close(res.statistic, ref.statistic)
    close(res.pvalue, ref.pvalue)
    res = fs.chisquare([16, 18, 16, 14, 12, 12], ddof=[0, 1, 2])
    close(res.pvalue, ss.chisquare([16, 18, 16, 14, 12, 12], ddof=[0, 1, 2]).pvalue)
    with pytest.raises(ValueError, match="the sum of the observed frequencies must agree"):
        fs.chisquare([1.0, 2.0], [1.0, 3.0])
    with pytest.raises(ValueError, match="The input contains nan values"):
        fs.chisquare([1.0, np.nan], nan_policy="raise")


@pytest.mark.parametrize("correction", [True, False])
@pytest.mark.parametrize("lambda_", [None, "log-likelihood", "mod-log-likelihood", 2 / 3])
def test_chi2_contingency_batch_equals_scipy_loop(rng, correction, lambda_):
    for shape in ((2, 2), (3, 4), (2, 3)):
        tables = rng.integers(1, 30, size=(25,) + shape)
        res = fs.chi2_contingency(tables, correction, lambda_, batch=True)
        for e in range(25):
            ref = ss.chi2_contingency(tables[e], correction, lambda_)
            close(res.statistic[e], ref.statistic)
            close(res.pvalue[e], ref.pvalue)
            close(res.expected_freq[e], ref.expected_freq)
            assert res.dof == ref.dof
        one = fs.chi2_contingency(tables[0], correction, lambda_)
        assert one.statistic == res.statistic[0] and len(one) == 4


def test_chi2_contingency_edges(rng):
    # A correction bounded by |E - O| (gh-13875) and a 1 x c table (dof 0).
    table = np.array([[10, 10], [10, 10.2]])
    close(fs.chi2_contingency(table).statistic, ss.chi2_contingency(table).statistic)
    res, ref = fs.chi2_contingency([[3, 4, 5]]), ss.chi2_contingency([[3, 4, 5]])
    assert (res.statistic, res.pvalue, res.dof) == (ref.statistic, ref.pvalue, ref.dof) == (0.0, 1.0, 0)
    three_way = rng.integers(1, 9, size=(2, 2, 3))
    close(fs.chi2_contingency(three_way).statistic, ss.chi2_contingency(three_way).statistic)
    stack = rng.integers(1, 9, size=(4, 3, 2, 2))
    res = fs.chi2_contingency(stack, batch=True)
    assert res.statistic.shape == (4, 3) and res.expected_freq.shape == stack.shape
    close(res.pvalue[2, 1], ss.chi2_contingency(stack[2, 1]).pvalue)
    with pytest.raises(ValueError, match="All values in `observed` must be nonnegative"):
        fs.chi2_contingency([[1, -1], [2, 3]])
    bad = np.ones((3, 2, 2))
    bad[1, 0, 0] = -1
    with pytest.raises(ValueError, match="nonnegative; table 1 has a negative value"):
        fs.chi2_contingency(bad, batch=True)
    zero = np.ones((3, 2, 2))
    zero[2, 0] = 0
    with pytest.raises(ValueError, match="has a zero element at \\(0, 0\\) of table 2"):
        fs.chi2_contingency(zero, batch=True)
    with pytest.raises(ValueError, match="No data; `observed` has size 0"):
        fs.chi2_contingency(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="invalid string for lambda_"):
        fs.chi2_contingency([[1, 2], [3, 4]], lambda_="pearsons")
    with pytest.raises(ValueError, match="must have at least two dimensions"):
        fs.chi2_contingency([1, 2], batch=True)


# --------------------------------------------------------------------------
# Fisher's exact test
# --------------------------------------------------------------------------


@pytest.mark.parametrize("alternative", [None, *ALTS])
def test_fisher_exact_batch_equals_scipy_loop(rng, alternative):
    tables = rng.integers(0, 25, size=(300, 2, 2))
    tables[:40] = rng.integers(0, 3, size=(40, 2, 2))  # zeros, empty margins
    tables[40:45] = [[6, 6], [6, 6]]  # the observed table is the mode
    tables[45:50] = [[2, 7], [7, 2]]  # symmetric tails: ties within 1e-14
    tables[50:60] = rng.integers(200, 800, size=(10, 2, 2))
    res = fs.fisher_exact(tables, alternative, batch=True)
    for e in range(tables.shape[0]):
        ref = ss.fisher_exact(tables[e], alternative)
        np.testing.assert_allclose(res.statistic[e], ref.statistic, rtol=RTOL)
        np.testing.assert_allclose(res.pvalue[e], ref.pvalue, rtol=RTOL)
    one = fs.fisher_exact(tables[45], alternative)
    assert tuple(one) == tuple(ss.fisher_exact(tables[45], alternative))


def test_fisher_exact_published_and_errors():
    # scipy's documented example (Fisher's tea tasting counts, 8 vs 2).
    res = fs.fisher_exact([[6, 2], [1, 4]])
    ref = ss.fisher_exact([[6, 2], [1, 4]])
    assert res.statistic == ref.statistic and res.pvalue == ref.pvalue
    with pytest.raises(ValueError, match="should be one of"):
        fs.fisher_exact([[1, 2], [3, 4]], "bigger")
    with pytest.raises(ValueError, match="must have shape \\(..., 2, 2\\)"):
        fs.fisher_exact(np.ones((4, 2, 3), int), batch=True)
    negative = np.ones((2, 2, 2, 2), int)
    negative[1, 0, 0, 1] = -1
    with pytest.raises(ValueError, match="table \\(1, 0\\) has a negative value"):
        fs.fisher_exact(negative, batch=True)
    with pytest.raises(ValueError, match="All values in `table` must be nonnegative"):
        fs.fisher_exact([[1, -2], [3, 4]])


# --------------------------------------------------------------------------
# proportions_ztest
# --------------------------------------------------------------------------


def test_proportions_ztest_published_example():
    # 4 820 / 50 000 against 5 140 / 50 000: equal to statsmodels bit for bit.
    res = fs.proportions_ztest([4820, 5140], [50000, 50000])
    ref = sm_ztest([4820, 5140], [50000, 50000])
    assert res[0] == ref[0] and res[1] == ref[1]
    np.testing.assert_allclose(res[0], -3.379111839138177, rtol=1e-15)


@pytest.mark.parametrize("alternative", ["two-sided", "smaller", "larger"])
def test_proportions_ztest_batch_equals_statsmodels_loop(rng, alternative):
    nobs = rng.integers(100, 5000, size=(40, 2))
    count = rng.binomial(nobs, 0.3)
    z, p = fs.proportions_ztest(count, nobs, alternative=alternative, batch=True)
    refs = [sm_ztest(c, n, alternative=alternative) for c, n in zip(count, nobs, strict=True)]
    close(z, [r[0] for r in refs])
    close(p, [r[1] for r in refs])
    z, p = fs.proportions_ztest(count, nobs, value=0.01, prop_var=0.3,
                                alternative=alternative, batch=True)
    refs = [sm_ztest(c, n, value=0.01, prop_var=0.3, alternative=alternative)
            for c, n in zip(count, nobs, strict=True)]
    close(z, [r[0] for r in refs])
    z, p = fs.proportions_ztest(count[:, :1], nobs[:, :1], value=0.3,
                                alternative=alternative, batch=True)
    refs = [sm_ztest(c[0], n[0], value=0.3, alternative=alternative)
            for c, n in zip(count, nobs, strict=True)]
    close(p, [r[1] for r in refs])
    one = fs.proportions_ztest(30, 100, value=0.25, alternative=alternative)
    assert one == sm_ztest(30, 100, value=0.25, alternative=alternative)


def test_proportions_ztest_errors():
    with pytest.raises(ValueError, match="value must be provided for a 1-sample test"):
        fs.proportions_ztest(5, 10)
    with pytest.raises(NotImplementedError, match="more than two samples"):
        fs.proportions_ztest([1, 2, 3], [10, 10, 10])
    with pytest.raises(NotImplementedError, match="more than two samples"):
        fs.proportions_ztest(np.ones((4, 3)), 10, batch=True)
    with pytest.raises(ValueError, match="alternative must be one of"):
        fs.proportions_ztest([1, 2], [10, 10], alternative="less")
    with pytest.raises(ValueError, match="must broadcast"):
        fs.proportions_ztest(np.ones((4, 2)), np.ones((3, 2)), batch=True)


# --------------------------------------------------------------------------
# Kernels, determinism
# --------------------------------------------------------------------------


def test_moment_kernels_against_numpy(rng):
    from fastinf.kernels import ttests as k

    x = np.ascontiguousarray(rng.normal(loc=1e6, size=(7, 33)))
    count, mean, ss_, n_nan = k.row_moments(x, False)
    assert (count == 33).all() and (n_nan == 0).all()
    close(mean, x.mean(axis=1))
    close(ss_, ((x - x.mean(axis=1, keepdims=True)) ** 2).sum(axis=1), rtol=1e-10)
    offsets = np.array([0, 0, 5, 33 * 7], dtype=np.int64)
    count, mean, _, _ = k.ragged_moments(x.ravel(), offsets, False)
    assert count.tolist() == [0, 5, 226] and np.isnan(mean[0])
    close(mean[1:], [x.ravel()[:5].mean(), x.ravel()[5:].mean()])


def test_determinism_in_subprocess():
    """Identical bytes from two processes at 1 and 2 Numba threads."""
    code = (
        "import numpy as np, numba, hashlib\n"
        "from fastinf import stats as fs\n"
        "from fastinf import Ragged\n"
        "numba.set_num_threads(min({n}, numba.config.NUMBA_NUM_THREADS))\n"
        "rng = np.random.default_rng(7)\n"
        "xs = [rng.normal(size=int(s)) for s in rng.integers(2, 50, 500)]\n"
        "r = fs.ttest_ind(Ragged.from_arrays(xs), Ragged.from_arrays(xs[::-1]), equal_var=False)\n"
        "t = fs.chi2_contingency(rng.integers(1, 20, (500, 2, 3)), batch=True)\n"
        "f = fs.fisher_exact(rng.integers(0, 20, (500, 2, 2)), batch=True)\n"
        "h = hashlib.sha256(r.statistic.tobytes() + t.statistic.tobytes() + f.pvalue.tobytes())\n"
        "print(h.hexdigest())\n"
    )
    out = [
        subprocess.run([sys.executable, "-c", code.format(n=n)], capture_output=True,
                       text=True, check=True).stdout
        for n in (1, 2)
    ]
    assert out[0] == out[1] and len(out[0]) > 10


def test_rank_tests_exported():
    assert {"ks_2samp", "mannwhitneyu", "spearmanr"} <= set(fs.__all__)
