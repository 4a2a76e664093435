"""fastinf.drift: PSI against a NumPy reference, KS against scipy.stats.ks_2samp.

The NumPy reference (``naive_psi``) states the semantics: interior edges
``np.unique(np.quantile(reference, [1/k, ..., (k-1)/k]))`` (NumPy's default
linear quantiles, duplicates from ties merged), outer edges -inf and +inf,
counts by ``np.histogram`` (bins closed on the left, the last one closed on
both sides), shares ``count / n`` with an empty bin's share set to
``epsilon``, and ``sum((c - r) * log(c / r))``. Tolerance rtol=1e-12: the
edges and shares are the same floating-point operations; only the order of
the final sum of at most ``k`` non-negative terms differs.
"""

import numpy as np
import pytest
from scipy import stats

from fastinf.drift import PSIResult, drift, psi, psi_label
from fastinf.ragged import Ragged, SmallSampleWarning

RTOL = 1e-12


def naive_psi(reference, current, bins=10, epsilon=1e-4):
    if np.ndim(bins) == 0:
        cuts = np.unique(np.quantile(reference, np.arange(1, bins) / bins))
    else:
        cuts = np.asarray(bins, dtype=float)
    edges = np.concatenate(([-np.inf], cuts, [np.inf]))
    r_counts, _ = np.histogram(reference, edges)
    c_counts, _ = np.histogram(current, edges)
    r = r_counts / reference.size
    c = c_counts / current.size
    r[r_counts == 0] = epsilon
    c[c_counts == 0] = epsilon
    return float(np.sum((c - r) * np.log(c / r)))


def _features(seed, n_features=8, n_ref=400, n_cur=300):
    rng = np.random.default_rng(seed)
    ref = rng.normal(size=(n_features, n_ref))
    shift = np.linspace(0.0, 1.0, n_features)[:, None]
    cur = rng.normal(loc=shift, scale=1.2, size=(n_features, n_cur))
    ref[1] = np.round(ref[1])  # heavy ties: merged edges
    cur[1] = np.round(cur[1])
    ref[2] = rng.integers(0, 3, size=n_ref)  # three values only
    cur[3] = cur[3] * 4  # current far beyond the reference's range
    ref[4, :5] = 0.0
    return ref, cur


@pytest.mark.parametrize("bins", [2, 5, 10, 20])
def test_psi_matches_numpy_reference(bins):
    ref, cur = _features(0xD21F_0001)
    res = psi(ref, cur, bins=bins, axis=1)
    expected = [naive_psi(r, c, bins) for r, c in zip(ref, cur, strict=True)]
    np.testing.assert_allclose(res.statistic, expected, rtol=RTOL)
    assert isinstance(res, PSIResult)
    assert res.edges.shape == (8, bins + 1)
    assert res.current_proportions.shape == (8, bins)
    n_cuts = [np.unique(np.quantile(r, np.arange(1, bins) / bins)).size for r in ref]
    np.testing.assert_array_equal(res.n_bins, np.array(n_cuts) + 1)
    assert res.n_bins[2] < bins or bins == 2  # ties merged
    cuts = np.unique(np.quantile(ref[1], np.arange(1, bins) / bins))
    np.testing.assert_array_equal(res.edges[1, 1 : cuts.size + 1], cuts)
    assert np.all(np.isnan(res.edges[1, cuts.size + 2 :]))
    assert np.all(res.statistic >= 0)
    # shares sum to 1 when no bin is empty
    full = np.nansum(res.reference_proportions, axis=1)
    np.testing.assert_allclose(full[[0, 5, 6, 7]], 1.0, rtol=1e-12)


def test_psi_axis0_explicit_cuts_and_epsilon():
    ref, cur = _features(0xD21F_0002)
    cuts = [-1.0, 0.0, 0.5, 2.5]
    res = psi(ref.T, cur.T, bins=cuts, epsilon=1e-7)  # axis=0
    expected = [naive_psi(r, c, cuts, 1e-7) for r, c in zip(ref, cur, strict=True)]
    np.testing.assert_allclose(res.statistic, expected, rtol=RTOL)
    # an empty current bin gets exactly epsilon
    r = np.arange(10.0)
    c = np.full(5, 4.2)
    out = psi(r, c, bins=5, epsilon=0.003)
    assert out.current_proportions.tolist().count(0.003) == 4
    assert out.statistic == pytest.approx(naive_psi(r, c, 5, 0.003), rel=RTOL)


def test_psi_identical_samples_is_zero_and_labels():
    ref, _ = _features(0xD21F_0003)
    assert np.all(psi(ref, ref, axis=1).statistic == 0.0)
    assert psi_label(0.05) == "stable"
    assert psi_label([0.1, 0.19999, 0.2, np.nan]).tolist() == [
        "minor", "minor", "significant", "nan"]


def test_one_reference_many_windows():
    rng = np.random.default_rng(0xD21F_0004)
    ref = rng.normal(size=500)
    windows = rng.normal(loc=np.linspace(0, 0.8, 6)[:, None], size=(6, 200))
    res = drift(ref, windows, axis=-1)
    np.testing.assert_allclose(
        res.psi.statistic, [naive_psi(ref, w) for w in windows], rtol=RTOL)
    refs = [stats.ks_2samp(ref, w) for w in windows]
    for f in ("statistic", "pvalue", "statistic_location", "statistic_sign"):
        np.testing.assert_allclose(
            getattr(res.ks, f), [getattr(r, f) for r in refs], rtol=RTOL)
    assert res.label.shape == (6,)
    # the same windows as a Ragged of different lengths
    ws = [w[: 50 + 30 * i] for i, w in enumerate(windows)]
    rr = drift(ref, Ragged.from_arrays(ws), bins=7)
    np.testing.assert_allclose(
        rr.psi.statistic, [naive_psi(ref, w, 7) for w in ws], rtol=RTOL)
    np.testing.assert_allclose(
        rr.ks.pvalue, [stats.ks_2samp(ref, w).pvalue for w in ws], rtol=RTOL)


def test_ragged_features_and_ks_alternatives():
    rng = np.random.default_rng(0xD21F_0005)
    refs = [np.round(rng.normal(size=n) * 3) for n in rng.integers(20, 300, size=12)]
    curs = [rng.normal(0.3, size=n) * 3 for n in rng.integers(20, 300, size=12)]
    for alt in ["two-sided", "less", "greater"]:
        res = drift(Ragged.from_arrays(refs), Ragged.from_arrays(curs), alternative=alt)
        np.testing.assert_allclose(
            res.psi.statistic, [naive_psi(r, c) for r, c in zip(refs, curs, strict=True)],
            rtol=RTOL)
        np.testing.assert_allclose(
            res.ks.pvalue,
            [stats.ks_2samp(r, c, alt).pvalue for r, c in zip(refs, curs, strict=True)],
            rtol=RTOL)


def test_nan_policies():
    ref, cur = _features(0xD21F_0006, n_features=5)
    ref[1, 7] = np.nan
    cur[2, 3] = np.nan
    res = psi(ref, cur, axis=1)
    assert np.isnan(res.statistic[[1, 2]]).all() and not np.isnan(res.statistic[[0, 3, 4]]).any()
    omit = drift(ref, cur, axis=1, nan_policy="omit")
    clean = [(r[~np.isnan(r)], c[~np.isnan(c)]) for r, c in zip(ref, cur, strict=True)]
    np.testing.assert_allclose(omit.psi.statistic, [naive_psi(r, c) for r, c in clean],
                               rtol=RTOL)
    np.testing.assert_allclose(
        omit.ks.pvalue, stats.ks_2samp(ref, cur, axis=1, nan_policy="omit").pvalue, rtol=RTOL)
    with pytest.raises(ValueError, match="The input contains nan values: `reference` row 1"):
        psi(ref, cur, axis=1, nan_policy="raise")
    with pytest.warns(SmallSampleWarning, match="empty sample"):
        out = psi(np.array([np.nan, np.nan]), np.ones(3), nan_policy="omit")
    assert np.isnan(out.statistic)


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        ({"bins": 1}, ValueError, "`bins` must be an integer >= 2 or a 1-D increasing"),
        ({"bins": [1.0, 1.0]}, ValueError, "`bins` must be an integer >= 2"),
        ({"bins": 2.5}, ValueError, "`bins` must be an integer >= 2"),
        ({"epsilon": 0.0}, ValueError, "`epsilon` must be a positive number"),
        ({"nan_policy": "drop"}, ValueError, "`nan_policy` must be one of"),
        ({"axis": 3}, ValueError, "`axis` 3 is out of bounds"),
    ],
)
def test_psi_errors(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        psi(np.ones((2, 5)), np.ones((2, 4)), **kwargs)


def test_layout_errors():
    r = Ragged.from_arrays([np.ones(3), np.ones(4)])
    with pytest.raises(ValueError, match="`reference` has 2 experiments and `current` 3"):
        psi(r, Ragged.from_arrays([np.ones(3)] * 3))
    with pytest.raises(TypeError, match="a Ragged `reference` needs a Ragged `current`"):
        psi(r, np.ones(3))
    with pytest.raises(ValueError, match="must broadcast along every axis but `axis`"):
        psi(np.ones((2, 5)), np.ones((3, 5)), axis=1)
    with pytest.raises(ValueError, match="Invalid value for mode: fast"):
        drift(np.ones(5), np.ones(5), method="fast")
    with pytest.raises(TypeError, match="`current` must be numeric"):
        psi(np.ones(5), np.array(["a"]))


def test_identical_results_at_1_and_2_threads(threads):
    rng = np.random.default_rng(0xD21F_0007)
    ref = rng.normal(size=(60, 3000))
    cur = rng.normal(0.05, size=(60, 3000))
    out = []
    for k in (1, 2):
        with threads(k):
            res = drift(ref, cur, axis=1)
            out.append(np.concatenate([res.psi.statistic, res.ks.statistic, res.ks.pvalue]))
    assert out[0].tobytes() == out[1].tobytes()
