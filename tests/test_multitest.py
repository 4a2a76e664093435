"""Tests of fastinf.multitest against statsmodels.stats.multitest and scipy.

Tolerance: adjusted p-values must agree with statsmodels / scipy to 1e-12
relative. fastinf evaluates each of statsmodels' expressions with the same
operands in the same order; the only differences left are libm's
``log1p``/``expm1``/``pow`` against NumPy's SIMD versions (an ulp or so) and,
for Hommel, which of two mathematically tied candidates the hull search
picks (again an ulp). Rejections must agree exactly.
"""

import warnings
from unittest import mock

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats import multitest as sm

from fastinf import Ragged
from fastinf import multitest as fm
from fastinf.kernels import multitest as km

RTOL = 1e-12
METHODS = [
    "b", "bonf", "bonferroni", "s", "sidak", "hs", "holm-sidak", "h", "holm",
    "sh", "simes-hochberg", "ho", "hommel", "fdr_bh", "fdr_i", "fdr_p", "fdri", "fdrp",
    "fdr_by", "fdr_n", "fdr_c", "fdrn", "fdrcorr", "fdr_tsbh", "fdr_2sbh",
    "fdr_tsbky", "fdr_2sbky", "fdr_twostage", "fdr_gbs", "lfdr", "lfdr_sl",
]
CANONICAL = ["b", "s", "hs", "h", "sh", "ho", "fdr_bh", "fdr_by", "fdr_tsbh",
             "fdr_tsbky", "fdr_gbs", "lfdr"]
STEP = ["hs", "h", "sh", "ho", "fdr_bh", "fdr_by", "fdr_gbs"]


def sm_multipletests(p, **kw):
    # statsmodels warns (divide by zero) for fdr_gbs at p = 1 and lfdr; the
    # values it returns are still the reference.
    # Its 'holm' branch also calls gc.collect() on every call (tens of ms);
    # that does not touch the result, so it is stubbed out here.
    with np.errstate(all="ignore"), warnings.catch_warnings(), \
            mock.patch("gc.collect", lambda *a: 0):
        warnings.simplefilter("ignore")
        return sm.multipletests(p, **kw)


def families(seed, n, low=1, high=50):
    """Random families with heavy ties, exact 0 and 1 and plain uniforms."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        m = int(rng.integers(low, high + 1))
        kind = i % 4
        if kind == 0:
            p = rng.random(m)
        elif kind == 1:
            p = rng.integers(0, 21, m) / 20  # ties, 0 and 1
        elif kind == 2:
            p = np.round(rng.random(m) ** 3, 2)  # ties near 0
        else:
            p = rng.choice([0.0, 1e-4, 0.01, 0.05, 0.5, 1.0], size=m)
        out.append(p)
    return out


def assert_same(ref, got):
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_allclose(got[1], ref[1], rtol=RTOL, atol=0)


@pytest.mark.parametrize("method", METHODS)
def test_parity_every_method_and_alias(method):
    fams = families(0x5EED_0001_2345_6789, 60)
    if method.startswith("lfdr"):  # statsmodels' lfdr cannot take p = 0
        fams = [np.where(p == 0, 1e-6, p) for p in fams]
    for alpha in (0.05, 0.2) if method in CANONICAL else (0.1,):
        rag = Ragged.from_arrays(fams)
        rej, adj, sid, bonf = fm.multipletests(rag, alpha=alpha, method=method)
        assert isinstance(rej, Ragged) and np.array_equal(rej.offsets, rag.offsets)
        for f, p in enumerate(fams):
            ref = sm_multipletests(p, alpha=alpha, method=method)
            assert_same(ref, (rej[f], adj[f]))
            np.testing.assert_allclose(sid[f], ref[2], rtol=RTOL)
            assert bonf[f] == ref[3]
        # one family on its own: scalar corrected alphas
        ref = sm_multipletests(fams[1], alpha=alpha, method=method)
        got = fm.multipletests(fams[1], alpha=alpha, method=method)
        assert_same(ref, got)
        assert isinstance(got[2], float) and got[3] == ref[3]


@pytest.mark.parametrize("method", ["fdr_tsbh", "fdr_tsbky"])
@pytest.mark.parametrize("maxiter", [0, 1, 2, 3, -1, None, True, False])
def test_two_stage_maxiter(method, maxiter):
    rng = np.random.default_rng(0x0123_4567_89AB_CDEF)
    for m in (5, 20, 60):
        for _ in range(30):
            # a mixture with many small p-values so later stages reject more
            p = np.where(rng.random(m) < 0.6, rng.random(m) * 0.02, rng.random(m))
            for alpha in (0.05, 0.3):
                ref = sm_multipletests(p, alpha=alpha, method=method, maxiter=maxiter)
                assert_same(ref, fm.multipletests(p, alpha=alpha, method=method,
                                                  maxiter=maxiter))


@pytest.mark.parametrize("method", CANONICAL)
def test_is_sorted_and_returnsorted(method):
    for p in families(0x1111_2222_3333_4444, 40):
        if method == "lfdr":
            p = np.where(p == 0, 1e-6, p)
        s = np.sort(p)
        assert_same(sm_multipletests(s, method=method, is_sorted=True),
                     fm.multipletests(s, method=method, is_sorted=True))
        assert_same(sm_multipletests(p, method=method, returnsorted=True),
                     fm.multipletests(p, method=method, returnsorted=True))


def test_hommel_large_family_matches_statsmodels():
    """m = 5000 (statsmodels' loop is O(m^2)); plain, tied and 0/1 p-values."""
    rng = np.random.default_rng(0xABCD_EF01_2345_6789)
    for p in (
        np.where(rng.random(5000) < 0.1, rng.random(5000) * 1e-4, rng.random(5000)),
        rng.integers(0, 200, 5000) / 199,
    ):
        assert_same(sm_multipletests(p, method="hommel"), fm.multipletests(p, method="hommel"))


def test_fdrcorrection_parity():
    for method in ("i", "indep", "p", "poscorr", "n", "negcorr"):
        for p in families(0x7777_0000_1111_2222, 60):
            for is_sorted in (False, True):
                q = np.sort(p) if is_sorted else p
                ref = sm.fdrcorrection(q, alpha=0.1, method=method, is_sorted=is_sorted)
                assert_same(ref, fm.fdrcorrection(q, alpha=0.1, method=method,
                                                  is_sorted=is_sorted))


@pytest.mark.parametrize("method", ["bh", "by", "BH"])
def test_false_discovery_control_parity(method):
    rng = np.random.default_rng(0x0F0F_0F0F_1234_5678)
    for shape, axis in [((30,), 0), ((7, 13), 0), ((7, 13), 1), ((4, 5, 6), -1),
                        ((4, 5, 6), 1), ((4, 5), None)]:
        ps = rng.integers(0, 11, shape) / 10 if rng.random() < 0.5 else rng.random(shape)
        ref = stats.false_discovery_control(ps, axis=axis, method=method)
        got = fm.false_discovery_control(ps, axis=axis, method=method)
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, rtol=RTOL, atol=0)
    # degenerate sizes come back unchanged, as in scipy
    for ps in ([0.3], np.array(0.2), np.ones((3, 1)), [1]):
        ref = stats.false_discovery_control(ps, method=method, axis=-1)
        got = fm.false_discovery_control(ps, method=method, axis=-1)
        assert np.shape(got) == np.shape(ref) and np.asarray(got).dtype == np.asarray(ref).dtype
        np.testing.assert_array_equal(got, ref)
    # Ragged: each row as scipy sees it
    fams = families(0x2468_ACE0_1357_9BDF, 50)
    got = fm.false_discovery_control(Ragged.from_arrays(fams), method=method)
    for f, p in enumerate(fams):
        np.testing.assert_allclose(got[f], stats.false_discovery_control(p, method=method),
                                   rtol=RTOL, atol=0)


@pytest.mark.parametrize("method", ["holm", "fdr_bh", "hommel", "fdr_tsbky", "sidak"])
def test_batched_nd_equals_loop(method):
    rng = np.random.default_rng(0x3C3C_5A5A_9696_A5A5)
    p = np.round(rng.random((3, 8, 5)), 2)
    for axis in (0, 1, 2, -1):
        rej, adj, sid, bonf = fm.multipletests(p, method=method, axis=axis)
        assert rej.shape == adj.shape == p.shape
        moved_r, moved_a = np.moveaxis(rej, axis, -1), np.moveaxis(adj, axis, -1)
        fam = np.moveaxis(p, axis, -1)
        assert sid.shape == bonf.shape == fam.shape[:-1]
        for idx in np.ndindex(fam.shape[:-1]):
            ref = sm_multipletests(fam[idx], method=method)
            assert_same(ref, (moved_r[idx], moved_a[idx]))
            assert bonf[idx] == ref[3]
    # axis=None flattens, as statsmodels on the raveled array
    assert_same(sm_multipletests(p.ravel(), method=method), fm.multipletests(p, method=method))
    # fdrcorrection on a 2-D batch
    got = fm.fdrcorrection(p[0], axis=1)
    for i in range(p.shape[1]):
        assert_same(sm.fdrcorrection(p[0, i]), (got[0][i], got[1][i]))


def test_large_family_parallel_sort(monkeypatch):
    """Families above the size threshold go through the parallel bucket sort."""
    monkeypatch.setattr(fm, "_BIG", 200)
    rng = np.random.default_rng(0x9E37_79B9_7F4A_7C15)
    fams = [
        rng.random(3000),
        rng.integers(0, 50, 2500) / 49,  # heavy ties, 0 and 1
        np.where(rng.random(2000) < 0.5, rng.random(2000) * 1e-9, 1.0),  # skewed
        rng.random(150),  # below the threshold, same call
        np.full(500, 0.25),
    ]
    rag = Ragged.from_arrays(fams)
    for method in ("holm", "fdr_bh", "hommel", "fdr_tsbh", "bonferroni", "sh"):
        rej, adj, _, _ = fm.multipletests(rag, method=method)
        rej_s, adj_s, _, _ = fm.multipletests(rag, method=method, returnsorted=True)
        for f, p in enumerate(fams):
            assert_same(sm_multipletests(p, method=method), (rej[f], adj[f]))
            assert_same(sm_multipletests(p, method=method, returnsorted=True),
                        (rej_s[f], adj_s[f]))
    q, perm = km.parallel_argsort(fams[1], np.empty(0, dtype=np.int64), True)
    np.testing.assert_array_equal(q, np.sort(fams[1]))
    np.testing.assert_array_equal(fams[1][perm], q)
    # NaN in a large family: propagate and omit
    p = fams[0].copy()
    p[[5, 17, 2000]] = np.nan
    rej, adj, _, bonf = fm.multipletests(p, method="fdr_bh", nan_policy="omit")
    keep = ~np.isnan(p)
    assert_same(sm_multipletests(p[keep], method="fdr_bh"), (rej[keep], adj[keep]))
    assert np.isnan(adj[~keep]).all() and not rej[~keep].any() and bonf == 0.05 / keep.sum()
    rej, adj, _, _ = fm.multipletests(p, method="fdr_bh")
    assert np.isnan(adj).all() and not rej.any()


def test_nan_policy():
    p = np.array([0.01, np.nan, 0.04, 0.03, 0.2])
    keep = ~np.isnan(p)
    for method in ("holm", "fdr_bh", "hommel"):
        rej, adj, sid, bonf = fm.multipletests(p, method=method)
        assert np.isnan(adj).all() and not rej.any() and bonf == 0.05 / 5
        rej, adj, sid, bonf = fm.multipletests(p, method=method, nan_policy="omit")
        assert_same(sm_multipletests(p[keep], method=method), (rej[keep], adj[keep]))
        assert np.isnan(adj[1]) and not rej[1] and bonf == 0.05 / 4
        rej, adj, _, _ = fm.multipletests(p, method=method, nan_policy="omit",
                                          returnsorted=True)
        assert_same(sm_multipletests(p[keep], method=method, returnsorted=True),
                    (rej[:4], adj[:4]))
        assert np.isnan(adj[4]) and not rej[4]
    # in a batch only the family with NaN is affected
    batch = np.array([[0.01, 0.02, 0.5], [0.01, np.nan, 0.5]])
    rej, adj, _, _ = fm.multipletests(batch, method="holm", axis=1)
    assert_same(sm_multipletests(batch[0], method="holm"), (rej[0], adj[0]))
    assert np.isnan(adj[1]).all() and not rej[1].any()
    got = fm.false_discovery_control(batch, axis=1, nan_policy="omit")
    np.testing.assert_allclose(got[1, [0, 2]], stats.false_discovery_control([0.01, 0.5]))
    # a family of only NaN under omit is empty: NaN corrected alphas
    _, adj, sid, bonf = fm.multipletests(np.array([np.nan, np.nan]), nan_policy="omit")
    assert np.isnan(adj).all() and np.isnan(sid) and np.isnan(bonf)


def test_empty_families():
    ref = sm_multipletests(np.array([]), method="holm")
    got = fm.multipletests(np.array([]), method="holm")
    assert got[0].shape == got[1].shape == (0,) and np.isnan(got[2]) and np.isnan(got[3])
    assert np.isnan(ref[2])
    rag = Ragged.from_arrays([np.array([0.01, 0.2]), np.array([]), np.array([0.5])])
    rej, adj, sid, bonf = fm.multipletests(rag, method="fdr_bh")
    assert adj[1].size == 0 and np.isnan(bonf[1]) and bonf[2] == 0.05
    assert_same(sm_multipletests(rag[0], method="fdr_bh"), (rej[0], adj[0]))


@pytest.mark.parametrize("method", CANONICAL)
def test_invariants(method):
    fams = families(0x4242_4242_4242_4242, 80, 1, 40)
    if method == "lfdr":
        fams = [np.where(p == 0, 1e-6, p) for p in fams]
    rag = Ragged.from_arrays(fams)
    rej, adj, _, _ = fm.multipletests(rag, method=method, alpha=0.1)
    for f, p in enumerate(fams):
        a = adj[f]
        assert (a <= 1).all()
        if method not in ("fdr_tsbh", "fdr_tsbky", "fdr_gbs", "lfdr"):
            assert (a >= p).all()
        if method in STEP:
            order = np.argsort(p, kind="stable")
            assert (np.diff(a[order]) >= 0).all()
            # rejections are a set of the smallest p-values
            if rej[f].any():
                assert p[rej[f]].max() <= p[~rej[f]].min(initial=1.0)


def test_threads_identical(threads, monkeypatch):
    monkeypatch.setattr(fm, "_BIG", 500)
    fams = families(0x1357_2468_1357_2468, 300) + [
        np.random.default_rng(3).random(2000)
    ]
    rag = Ragged.from_arrays(fams)
    for method in ("hommel", "fdr_bh", "holm-sidak"):
        with threads(1):
            one = fm.multipletests(rag, method=method)
        with threads(2):
            two = fm.multipletests(rag, method=method)
        assert one[1].values.tobytes() == two[1].values.tobytes()
        assert one[0].values.tobytes() == two[0].values.tobytes()


def test_pairwise_harmonic_matches_numpy():
    for m in (1, 7, 8, 9, 127, 128, 129, 1000, 8193, 20011):
        assert km.harmonic(m, np.empty(m)) == np.sum(1.0 / np.arange(1, m + 1))


def test_errors():
    p = np.array([0.1, 0.2])
    with pytest.raises(ValueError, match="`method` 'foo' is not recognized; use one of 'bonferroni'"):
        fm.multipletests(p, method="foo")
    with pytest.raises(ValueError, match=r"`alpha` must be a number in \(0, 1\); got 1.5"):
        fm.multipletests(p, alpha=1.5)
    with pytest.raises(ValueError, match=r"`alpha` must be a number in \(0, 1\); got 'x'"):
        fm.fdrcorrection(p, alpha="x")
    with pytest.raises(ValueError, match=r"`pvals` contains values outside \[0, 1\]"):
        fm.multipletests([0.1, 1.5])
    with pytest.raises(ValueError, match=r"`pvals` family 1 contains values outside \[0, 1\]"):
        fm.multipletests(Ragged.from_arrays([p, np.array([-0.1])]))
    with pytest.raises(ValueError, match=r"`pvals` family \(1, 0\) contains values outside"):
        fm.multipletests(np.array([[[0.1, 0.2]], [[0.1, np.inf]]]), axis=-1)
    with pytest.raises(ValueError, match=r"`pvals` family 1 contains NaN \(nan_policy='raise'\)"):
        fm.multipletests(np.array([[0.1, 0.2], [np.nan, 0.1]]), axis=1, nan_policy="raise")
    with pytest.raises(ValueError, match="`nan_policy` must be one of"):
        fm.multipletests(p, nan_policy="drop")
    with pytest.raises(ValueError, match="method 'lfdr' needs p-values above 0"):
        fm.multipletests([0.0, 0.5], method="lfdr")
    with pytest.raises(ValueError, match="`maxiter` must be a non-negative integer, -1 or None"):
        fm.multipletests(p, method="fdr_tsbh", maxiter=-2)
    with pytest.raises(ValueError, match="`is_sorted` must be True or False"):
        fm.multipletests(p, is_sorted="yes")
    with pytest.raises(ValueError, match="`returnsorted` must be True or False"):
        fm.multipletests(p, returnsorted=None)
    with pytest.raises(ValueError, match="`axis` must be an integer or None"):
        fm.multipletests(p, axis=1.5)
    with pytest.raises(ValueError, match="`axis` 2 is out of bounds for `pvals` with 1 dim"):
        fm.multipletests(p, axis=2)
    with pytest.raises(ValueError, match="`pvals` must have at least one dimension"):
        fm.multipletests(np.array(0.5), axis=0)
    with pytest.raises(TypeError, match="`pvals` must hold real numbers; got dtype complex128"):
        fm.multipletests(np.array([0.1 + 1j]))
    with pytest.raises(ValueError, match="`method` must be one of 'i', 'indep'"):
        fm.fdrcorrection(p, method="bh")
    with pytest.raises(ValueError, match="`ps` must include only numbers between 0 and 1"):
        fm.false_discovery_control([0.5, 2.0])
    with pytest.raises(ValueError, match=r"between 0 and 1\. Here `ps` family 1 contains"):
        fm.false_discovery_control(np.array([[0.1, 0.2], [0.1, -1.0]]), axis=1)
    with pytest.raises(ValueError, match="`ps` must include only numbers between 0 and 1"):
        fm.false_discovery_control(np.array([True, False]))
    with pytest.raises(ValueError, match="Unrecognized `method` 'xy'. Method must be one of"):
        fm.false_discovery_control(p, method="xy")
    with pytest.raises(ValueError, match="`axis` must be an integer or `None`"):
        fm.false_discovery_control(p, axis=0.5)
    with pytest.raises(ValueError, match="`axis` 3 is out of bounds for `ps`"):
        fm.false_discovery_control(p, axis=3)
    with pytest.raises(ValueError, match=r"`ps` family 0 contains NaN \(nan_policy='raise'\)"):
        fm.false_discovery_control(np.array([[0.1, np.nan]]), axis=1, nan_policy="raise")


def test_bucket_sort_with_underflowed_pvalues(monkeypatch):
    """A bucket of zeros and subnormal p-values (t tests whose p underflowed).

    Its width is subnormal, so k / width overflows to inf; the sub-bucket
    index must still be finite and monotone (this crashed before).
    """
    rng = np.random.default_rng(0xBADC_0FFE_E0DD_F00D)
    n = 4 * km.SMALL + 100
    q = np.where(rng.random(n) < 0.4, 0.0, rng.random(n) * 1e-310)
    src_p = np.arange(n, dtype=np.int64)
    out_q = np.empty(n)
    out_p = np.empty(n, dtype=np.int64)
    km.bucket_sort_range(q, src_p, 0, n, out_q, out_p)
    np.testing.assert_array_equal(out_q, np.sort(q))
    np.testing.assert_array_equal(q[out_p], out_q)
    # and end to end, through the large-family path
    monkeypatch.setattr(fm, "_BIG", 200)
    p = np.concatenate([q, rng.random(3 * n)])
    rng.shuffle(p)
    for method in ("fdr_bh", "holm"):
        assert_same(sm_multipletests(p, method=method), fm.multipletests(p, method=method)[:2])
