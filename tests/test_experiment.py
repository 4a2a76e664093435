"""The experiment layer against scipy/statsmodels on unit data, and its statistics."""

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests as sm_multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)

from fastinf import Ragged
from fastinf.experiment import DECISIONS, REASONS, analyze, sufficient_statistics

SEED = 0x5EED_E2E2_0001


def _units(rng, E, M, A, kind="mean"):
    """Unit-level data per (experiment, metric, arm), and its Ragged layout."""
    arrays = []
    for _ in range(E * M * A):
        n = int(rng.integers(5, 60))
        if kind == "binomial":
            arrays.append(rng.binomial(1, rng.uniform(0.1, 0.9), n).astype(float))
        else:
            arrays.append(rng.normal(rng.uniform(-1, 1), rng.uniform(0.5, 2), n))
    return arrays, Ragged.from_arrays(arrays)


def _reshape(d, shape):
    return {k: v.reshape(shape) for k, v in d.items()}


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_mean_metrics_equal_scipy_welch(alternative):
    rng = np.random.default_rng(SEED)
    E, M, A = 6, 2, 3
    arrays, rag = _units(rng, E, M, A)
    suff = _reshape(sufficient_statistics(rag), (E, M, A))
    res = analyze(**suff, alternative=alternative, alpha=0.1, correction=None)
    i = 0
    for e in range(E):
        for m in range(M):
            ctrl = arrays[(e * M + m) * A]
            for t in range(1, A):
                trt = arrays[(e * M + m) * A + t]
                ref = stats.ttest_ind(trt, ctrl, equal_var=False, alternative=alternative)
                ci = ref.confidence_interval(0.9)
                np.testing.assert_allclose(res.statistic[i], ref.statistic, rtol=1e-10)
                np.testing.assert_allclose(res.p_value[i], ref.pvalue, rtol=1e-10)
                np.testing.assert_allclose(res.df[i], ref.df, rtol=1e-10)
                np.testing.assert_allclose([res.ci_low[i], res.ci_high[i]], [ci.low, ci.high], rtol=1e-10)
                np.testing.assert_allclose(res.treatment_estimate[i], trt.mean(), rtol=1e-12)
                np.testing.assert_allclose(res.control_estimate[i], ctrl.mean(), rtol=1e-12)
                sp = np.sqrt(((len(trt) - 1) * trt.var(ddof=1) + (len(ctrl) - 1) * ctrl.var(ddof=1))
                             / (len(trt) + len(ctrl) - 2))
                np.testing.assert_allclose(res.effect_size[i], (trt.mean() - ctrl.mean()) / sp, rtol=1e-10)
                assert (res.experiment[i], res.metric[i], res.treatment[i]) == (e, m, t)
                i += 1
    # rtol 1e-10, not 1e-12: the summaries lose a few digits to the
    # sum_sq - sum**2 / n cancellation that scipy's two-pass variance avoids.


def test_published_two_proportion_example():
    # 4 820 / 50 000 (control) vs 5 140 / 50 000 (treatment), as in the issue.
    res = analyze([50_000, 50_000], [4_820, 5_140], metric_type="binomial", correction=None)
    z, p = proportions_ztest([5_140, 4_820], [50_000, 50_000])
    np.testing.assert_allclose(res.statistic[0], z, rtol=1e-12)
    np.testing.assert_allclose(res.p_value[0], p, rtol=1e-12)
    low, high = confint_proportions_2indep(5_140, 50_000, 4_820, 50_000, method="wald", alpha=0.05)
    np.testing.assert_allclose([res.ci_low[0], res.ci_high[0]], [low, high], rtol=1e-12)
    np.testing.assert_allclose(res.effect_size[0], proportion_effectsize(0.1028, 0.0964), rtol=1e-12)
    assert DECISIONS[res.decision[0]] == "ship"


@pytest.mark.parametrize("alternative,sm_alt", [("two-sided", "two-sided"), ("greater", "larger"), ("less", "smaller")])
def test_binomial_metrics_equal_statsmodels(alternative, sm_alt):
    rng = np.random.default_rng(SEED + 1)
    E, A = 40, 3
    n = rng.integers(20, 2000, size=(E, A))
    s = rng.binomial(n, rng.uniform(0.05, 0.95, size=(E, 1)))
    res = analyze(n, s, metric_type="binomial", alternative=alternative, correction=None)
    for e in range(E):
        for t in range(1, A):
            i = e * (A - 1) + t - 1
            z, p = proportions_ztest([s[e, t], s[e, 0]], [n[e, t], n[e, 0]], alternative=sm_alt)
            np.testing.assert_allclose([res.statistic[i], res.p_value[i]], [z, p], rtol=1e-12)


def test_ratio_metric_delta_method():
    rng = np.random.default_rng(SEED + 2)
    E, A = 5, 2
    num, den = [], []
    for _ in range(E * A):
        k = int(rng.integers(30, 300))
        w = rng.poisson(3.0, k) + 1.0
        num.append(w * rng.uniform(0.5, 1.5) + rng.normal(0, 1, k))
        den.append(w)
    suff = sufficient_statistics(Ragged.from_arrays(num), denominator=Ragged.from_arrays(den))
    res = analyze(**_reshape(suff, (E, A)), metric_type="ratio", correction=None)
    for e in range(E):
        se2 = []
        ratios = []
        for a in range(A):
            y, w = num[e * A + a], den[e * A + a]
            ratio = y.sum() / w.sum()
            # Linearisation (Deng et al. 2018): R_hat - R ~ mean((y - R w) / w_bar).
            lin = (y - ratio * w) / w.mean()
            se2.append(lin.var(ddof=1) / len(y))
            ratios.append(ratio)
        diff = ratios[1] - ratios[0]
        z = diff / np.sqrt(se2[0] + se2[1])
        np.testing.assert_allclose(res.treatment_estimate[e], ratios[1], rtol=1e-12)
        np.testing.assert_allclose(res.statistic[e], z, rtol=1e-9)
        np.testing.assert_allclose(res.p_value[e], 2 * stats.norm.sf(abs(z)), rtol=1e-8)


def test_cuped_equals_welch_on_adjusted_units():
    rng = np.random.default_rng(SEED + 3)
    E, A = 8, 2
    ys, xs = [], []
    for _ in range(E * A):
        k = int(rng.integers(20, 200))
        x = rng.normal(10, 2, k)
        ys.append(0.8 * x + rng.normal(0, 1, k))
        xs.append(x)
    suff = sufficient_statistics(Ragged.from_arrays(ys), covariate=Ragged.from_arrays(xs))
    res = analyze(**_reshape(suff, (E, A)), correction=None)
    plain = analyze(**_reshape({k: suff[k] for k in ("n", "sum", "sum_sq")}, (E, A)), correction=None)
    for e in range(E):
        y0, y1 = ys[2 * e], ys[2 * e + 1]
        x0, x1 = xs[2 * e], xs[2 * e + 1]
        xall, yall = np.r_[x0, x1], np.r_[y0, y1]
        theta = np.cov(xall, yall)[0, 1] / xall.var(ddof=1)
        adj0 = y0 - theta * (x0 - xall.mean())
        adj1 = y1 - theta * (x1 - xall.mean())
        ref = stats.ttest_ind(adj1, adj0, equal_var=False)
        np.testing.assert_allclose(res.theta[e], theta, rtol=1e-9)
        np.testing.assert_allclose(res.statistic[e], ref.statistic, rtol=1e-8)
        np.testing.assert_allclose(res.p_value[e], ref.pvalue, rtol=1e-7)
        np.testing.assert_allclose(res.control_estimate[e], adj0.mean(), rtol=1e-10)
        raw = stats.ttest_ind(y1, y0, equal_var=False)
        se_raw = (y1.mean() - y0.mean()) / raw.statistic
        se_adj = (adj1.mean() - adj0.mean()) / ref.statistic
        np.testing.assert_allclose(res.variance_reduction[e], 1 - se_adj**2 / se_raw**2, rtol=1e-7)
        np.testing.assert_allclose(plain.statistic[e], raw.statistic, rtol=1e-9)
    assert (res.variance_reduction > 0.5).all()  # rho ~ 0.85 in this model


def test_srm_equals_scipy_chisquare():
    n = np.array([[5000, 5100, 4900], [5000, 5400, 4600]])
    s = n * 0.1
    res = analyze(n, s, metric_type="binomial", correction=None, srm_weights=[2, 1, 1])
    for e in range(2):
        exp = n[e].sum() * np.array([0.5, 0.25, 0.25])
        ref = stats.chisquare(n[e], exp).pvalue
        np.testing.assert_allclose(res.reshape("srm_p_value")[e, 0], ref, rtol=1e-12)


@pytest.mark.parametrize("family", ["experiment", "metric", "all", "experiment-treatment"])
@pytest.mark.parametrize("method", ["fdr_bh", "holm"])
def test_adjustment_within_families_equals_statsmodels(family, method):
    rng = np.random.default_rng(SEED + 4)
    E, M, A = 7, 3, 3
    n = rng.integers(50, 500, size=(E, M, A)).astype(float)
    s = rng.binomial(n.astype(int), 0.3 + 0.02 * rng.standard_normal((E, M, A)).clip(-5, 5))
    res = analyze(n, s, metric_type="binomial", correction=method, family=family)
    p = res.reshape("p_value")
    adj = res.reshape("p_value_adjusted")
    groups = {
        "experiment": [(e, slice(None), slice(None)) for e in range(E)],
        "metric": [(slice(None), m, slice(None)) for m in range(M)],
        "all": [(slice(None),) * 3],
        "experiment-treatment": [(e, slice(None), t) for e in range(E) for t in range(A - 1)],
    }[family]
    for g in groups:
        ref = sm_multipletests(p[g].ravel(), method=method)[1]
        np.testing.assert_allclose(adj[g].ravel(), ref, rtol=1e-12)


def test_custom_family_labels():
    rng = np.random.default_rng(SEED + 5)
    n = rng.integers(50, 500, size=(4, 2, 2))
    s = rng.binomial(n, 0.3)
    labels = np.array([[1], [0]])  # metric 0 in family 1, metric 1 in family 0
    res = analyze(n, s, metric_type="binomial", family=labels, correction="bonferroni")
    p = res.reshape("p_value")[:, :, 0]
    adj = res.reshape("p_value_adjusted")[:, :, 0]
    np.testing.assert_allclose(adj, np.minimum(p * 4, 1.0), rtol=1e-12)


def test_decisions():
    # metric 0: big win; 1: tiny significant win; 2: significant loss; 3: noise.
    n = np.full((1, 4, 2), 100_000)
    s = np.array([[[10_000, 11_000], [10_000, 10_300], [10_000, 9_000], [10_000, 10_010]]])
    res = analyze(n, s, metric_type="binomial", min_effect=0.05, correction=None)
    assert [DECISIONS[d] for d in res.decision] == [
        "ship", "stat_sig_not_practical", "dont_ship", "inconclusive"]
    # Lower-is-better metric 2 (e.g. errors): its drop is a win.
    res = analyze(n, s, metric_type="binomial", min_effect=0.05, correction=None,
                  higher_is_better=[True, True, False, True])
    assert DECISIONS[res.decision[2]] == "ship"
    # A harmed guardrail blocks shipping the big win.
    res = analyze(n, s, metric_type="binomial", min_effect=0.05, correction=None,
                  guardrail=[False, False, True, False])
    assert res.guardrail_violated.all()
    assert DECISIONS[res.decision[0]] == "dont_ship"


def test_non_inferiority_margin():
    # Treatment 1 % worse than control; margin 2 % of the control mean.
    rng = np.random.default_rng(SEED + 6)
    y0 = rng.normal(100, 10, 5000)
    y1 = rng.normal(99, 10, 5000)
    suff = sufficient_statistics(Ragged.from_arrays([y0, y1]))
    res = analyze(**suff, alternative="greater", margin=2.0, correction=None)
    ref = stats.ttest_ind(y1 + 2.0, y0, equal_var=False, alternative="greater")
    np.testing.assert_allclose(res.statistic[0], ref.statistic, rtol=1e-9)
    np.testing.assert_allclose(res.p_value[0], ref.pvalue, rtol=1e-8)
    rel = analyze(**suff, alternative="greater", margin=0.02, relative_margin=True, correction=None)
    ref = stats.ttest_ind(y1 + 0.02 * y0.mean(), y0, equal_var=False, alternative="greater")
    np.testing.assert_allclose(rel.statistic[0], ref.statistic, rtol=1e-9)
    assert res.ci_high[0] == np.inf


def test_relative_interval_coverage():
    """Delta-method intervals for the lift cover the truth ~95 % of the time.

    4 000 binomial experiments with a true lift of 5 %: the coverage has
    Monte-Carlo SD sqrt(.95 * .05 / 4000) = 0.0034; the band is +-4.5 SD, so a
    correct interval fails this test with probability < 1e-5.
    """
    rng = np.random.default_rng(SEED + 7)
    E = 4000
    n = np.full((E, 2), 20_000)
    p = np.array([0.1, 0.105])
    s = rng.binomial(n, p)
    res = analyze(n, s, metric_type="binomial", correction=None)
    cover = (res.relative_ci_low <= 0.05) & (0.05 <= res.relative_ci_high)
    assert abs(cover.mean() - 0.95) < 4.5 * 0.0034


def test_null_pvalues_uniform():
    """A/A mean metrics: p-values are uniform (KS test; false-failure rate 1e-4)."""
    rng = np.random.default_rng(SEED + 8)
    E, k = 3000, 40
    y = rng.exponential(1.0, size=(E, 2, k))
    res = analyze(np.full((E, 2), k), y.sum(-1), (y**2).sum(-1), correction=None)
    assert stats.kstest(res.p_value, "uniform").pvalue > 1e-4


def test_one_dimensional_and_broadcast_options():
    n = np.array([[1000, 1000], [2000, 2100]])[:, None, :].repeat(2, axis=1)
    s = np.array([[100, 130], [300, 280]])[:, None, :].repeat(2, axis=1).astype(float)
    ss = s * 3
    res = analyze(n, s, ss, metric_type=["binomial", "mean"], alternative=["two-sided", "less"])
    assert res.shape == (2, 2, 1)
    assert list(res.labels("metric_type")) == ["binomial", "mean"] * 2
    one = analyze(n[1, 1], s[1, 1], ss[1, 1], alternative="less")
    np.testing.assert_allclose(one.p_value[0], res.reshape("p_value")[1, 1, 0], rtol=1e-15)


def test_frames_share_the_column_buffers():
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    res = analyze(np.full((5, 2), 1000), np.array([[100, 120]] * 5), metric_type="binomial")
    df = res.to_pandas()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == list(res.columns)
    assert np.shares_memory(df["p_value"].to_numpy(), res.p_value)
    assert list(df["decision"].astype(str)) == list(res.labels("decision"))
    table = res.to_arrow()
    assert isinstance(table, pa.Table)
    buf = table.column("p_value").chunk(0).buffers()[1]
    assert buf.address == res.p_value.ctypes.data
    assert table.column("decision").to_pylist() == list(res.labels("decision"))


def test_threads_identical(threads):
    rng = np.random.default_rng(SEED + 9)
    n = rng.integers(10, 100, size=(200, 3, 3))
    s = rng.binomial(n, 0.4).astype(float)
    ss = s * 1.7
    with threads(1):
        a = analyze(n, s, ss)
    with threads(2):
        b = analyze(n, s, ss)
    for name in res_columns(a):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def res_columns(res):
    return res.columns


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs,match", [
    (dict(n=[[10, 10], [-3, 10]], sum=[[1, 2], [1, 2]], metric_type="binomial"),
     r"`n`: negative n in experiment 1, metric 0, arm 0"),
    (dict(n=[[10, 10], [3, 10]], sum=[[1, 2], [4, 2]], metric_type="binomial"),
     r"`sum`: successes > n in experiment 1, metric 0, arm 0"),
    (dict(n=[[10, 10], [3, 10]], sum=[[1, 2], [-1, 2]], metric_type="binomial"),
     r"`sum`: negative successes in experiment 1"),
    (dict(n=[[10, 1]], sum=[[1, 2]], sum_sq=[[3, 4]]),
     r"`n`: n < 2 \(a variance is needed\) in experiment 0, metric 0, arm 1"),
    (dict(n=[[10, 10]], sum=[[1, np.nan]], sum_sq=[[3, 4]]),
     r"`sum`: NaN in the input in experiment 0, metric 0, arm 1"),
    (dict(n=[[10, 10.5]], sum=[[1, 2]], sum_sq=[[3, 4]]),
     r"`n`: n is not a whole number"),
    (dict(n=[[10, 10]], sum=[[10, 2]], sum_sq=[[3, 4]]),
     r"`sum_sq`: sum_sq < sum\*\*2 / n in experiment 0, metric 0, arm 0"),
    (dict(n=[[10, 10]], sum=[[10, 20]], sum_sq=[[10, 40]]),
     r"both arms have zero variance in experiment 0, metric 0 \(control and arm 1\)"),
    (dict(n=[[10, 10]], sum=[[0, 0]], metric_type="binomial"),
     r"both arms have zero variance"),
    (dict(n=[10], sum=[1], metric_type="binomial"),
     r"needs a control and at least one treatment"),
    (dict(n=np.ones((2, 3)), sum=np.ones((3, 3))),
     r"do not broadcast together: `n` \(2, 3\), `sum` \(3, 3\)"),
    (dict(n=[[10, 10]], sum=[[1, 2]]),
     r"mean metrics need `sum_sq`"),
    (dict(n=[[10, 10]], sum=[[1, 2]], sum_sq=[[3, 4]], metric_type="ratio"),
     r"ratio metrics need `den_sum`"),
    (dict(n=[[10, 10]], sum=[[1, 2]], metric_type="binary"),
     r"`metric_type` must be one of"),
    (dict(n=[[10, 10]], sum=[[1, 2]], metric_type="binomial", alternative="larger"),
     r"`alternative` must be one of"),
    (dict(n=[[10, 10]], sum=[[1, 2]], metric_type="binomial", margin=0.1),
     r"`margin` must be 0 for two-sided"),
    (dict(n=[[10, 10]], sum=[[1, 2]], metric_type="binomial", alpha=1.5),
     r"`alpha` must be a number in \(0, 1\)"),
    (dict(n=[[10, 10]], sum=[[1, 2]], metric_type="binomial", family="team"),
     r"`family` must be one of"),
    (dict(n=[[10, 10]], sum=[[1, 2]], metric_type="binomial", errors="ignore"),
     r"`errors` must be 'raise' or 'coerce'"),
    (dict(n=[[10, 10]], sum=[[1, 2]], metric_type="binomial", srm_weights=[1, 0]),
     r"`srm_weights` must be positive"),
    (dict(n=[[10, 10]], sum=[[1, 2]], sum_sq=[[1, 2]], cov_sum=[[1, 2]]),
     r"CUPED needs all of"),
    (dict(n=[[10, 10]], sum=[[1, 2]], sum_sq=[[1, 2]], cov_sum=[[1, 2]], cov_sum_sq=[[1, 2]],
          cross_sum=[[1, 2]], den_sum=[[3, 4]], den_sum_sq=[[9, 9]], num_den_sum=[[3, 4]],
          metric_type="ratio"),
     r"CUPED is not available for ratio metrics \(experiment 0, metric 0\)"),
])
def test_bad_input_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        analyze(**kwargs)


def test_wrong_dtype_raises():
    with pytest.raises(TypeError, match=r"`n` must be numeric"):
        analyze(np.array([["a", "b"]]), [[1, 2]], metric_type="binomial")


def test_coerce_gives_nan_and_reasons():
    n = np.array([[100, 100], [100, -5], [100, 100], [50, 60]])
    s = np.array([[10, 12], [10, 2], [120, 3], [5, 9]])
    res = analyze(n, s, metric_type="binomial", errors="coerce", correction="fdr_bh", family="all")
    assert list(res.labels("reason")) == ["", "negative n", "successes > n", ""]
    assert list(res.labels("decision"))[1:3] == ["invalid", "invalid"]
    assert np.isnan(res.p_value[1:3]).all() and np.isnan(res.p_value_adjusted[1:3]).all()
    good = res.p_value[[0, 3]]
    # Invalid rows are left out of their family: m = 2, not 4.
    np.testing.assert_allclose(res.p_value_adjusted[[0, 3]], sm_multipletests(good, method="fdr_bh")[1])
    assert REASONS[0] == ""
