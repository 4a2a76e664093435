"""Statistic kernels against NumPy/SciPy, property-based (hypothesis)."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from fastinf import statistics as S
from fastinf.kernels import statistics as K

# values on a coarse grid so that ties are common
samples = arrays(
    np.float64, st.integers(2, 40),
    elements=st.integers(-20, 20).map(lambda v: v / 4.0),
)
qs = st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.77, 0.9, 1.0])
cuts = st.sampled_from([0.0, 0.1, 0.2, 0.3, 0.45])


@given(samples, qs)
def test_quantile_and_median(x, q):
    assert K.order_value(S.QUANTILE, q, x.copy(), x.size) == np.quantile(x, q)
    assert K.order_value(S.MEDIAN, 0.0, x.copy(), x.size) == np.median(x)


@given(samples, cuts)
def test_trim_mean(x, p):
    assert K.order_value(S.TRIM_MEAN, p, x.copy(), x.size) == pytest.approx(
        stats.trim_mean(x, p), rel=1e-12, abs=1e-12)


@given(arrays(np.float64, st.integers(3, 30), elements=st.integers(-20, 20).map(float)), qs, cuts)
def test_leave_one_out_order_statistics(x, q, p):
    srt = np.sort(x)
    prefix = np.concatenate(([0.0], np.cumsum(srt)))
    for drop in range(x.size):
        reduced = np.delete(srt, drop)
        assert K.sorted_loo_value(S.QUANTILE, q, srt, x.size, drop) == np.quantile(reduced, q)
        assert K.sorted_loo_value(S.MEDIAN, 0.0, srt, x.size, drop) == np.median(reduced)
        assert K.trim_loo(p, prefix, x.size, drop) == pytest.approx(
            stats.trim_mean(reduced, p), rel=1e-12, abs=1e-12)


@given(arrays(np.float64, st.integers(2, 50),
              elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)))
def test_moments(x):
    c = x.mean()
    s1, s2 = (x - c).sum(), ((x - c) ** 2).sum()
    n = float(x.size)
    assert K.moment_value(S.MEAN, 0.0, n, s1, s2, c) == pytest.approx(x.mean(), rel=1e-12, abs=1e-9)
    assert K.moment_value(S.SUM, 0.0, n, s1, s2, c) == pytest.approx(x.sum(), rel=1e-12, abs=1e-6)
    # numpy's own rounding noise on a constant array is ~eps * x**2
    noise = 1e-13 * (1.0 + np.max(x * x))
    for ddof in (0, 1):
        assert K.moment_value(S.VAR, ddof, n, s1, s2, c) == pytest.approx(
            np.var(x, ddof=ddof), rel=1e-10, abs=noise)
        assert K.moment_value(S.STD, ddof, n, s1, s2, c) == pytest.approx(
            np.std(x, ddof=ddof), rel=1e-10, abs=np.sqrt(noise))


@given(samples)
def test_midranks(x):
    np.testing.assert_array_equal(K.midranks(x), stats.rankdata(x))


@given(samples, samples)
def test_t_statistics(x, y):
    cx, cy = x.mean(), y.mean()
    args = (float(x.size), (x - cx).sum(), ((x - cx) ** 2).sum(), cx,
            float(y.size), (y - cy).sum(), ((y - cy) ** 2).sum(), cy)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy: "precision loss"
        for how, equal_var in ((S.TTEST, True), (S.WELCH, False)):
            ours = K.t_statistic(how, *args)
            ref = stats.ttest_ind(x, y, equal_var=equal_var).statistic
            if np.isfinite(ref):
                assert ours == pytest.approx(ref, rel=1e-9)


def test_statistic_registry():
    assert S.resolve(np.mean) == S.mean()
    assert S.resolve("mean_diff") == S.difference("mean")
    assert S.resolve(S.quantile(0.3)).param == 0.3
    assert S.ratio().paired and S.ratio().n_samples == 2
    assert S.mean().has_standard_error and not S.median().has_standard_error
    with pytest.raises(KeyError):
        S.resolve(np.nanmean)
    with pytest.raises(ValueError, match="`q` must be in"):
        S.quantile(1.5)
    with pytest.raises(ValueError, match="`proportiontocut` must be in"):
        S.trim_mean(0.5)
    with pytest.raises(ValueError, match="`ddof` must be a non-negative integer"):
        S.var(-1)
    with pytest.raises(ValueError, match="takes a one-sample statistic"):
        S.difference("mean_diff")
