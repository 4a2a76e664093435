"""fastinf.diagnostics against ArviZ 0.23: rhat, ess, mcse on the same draws.

Tolerance: rtol=1e-12 (RTOL). The normal scores of the ranks are the same
bits as ArviZ's (one table of ``ndtri`` values, same arithmetic), the
quantiles use the same formula; what differs is the order of summation
(sequential here, NumPy's pairwise sums there) and how the autocovariances
are computed (direct sums or a radix-2 FFT here, NumPy's pocketfft there),
each good to a few ulp of ``sum |x_i x_{i+t}|``. Geyer's sum adds up to
``K`` such rounding errors (``K`` the truncation lag), so ESS agrees to
about ``K * 1e-16`` relative: ~1e-14 in these cases, ~2e-13 for a random
walk of 20 000 draws (K ~ 7000, RTOL_LONG).

ArviZ with Numba computes variances by one-pass sums (``sum x^2 / n -
mean^2``), which lose ``log10(mean^2 / var)`` digits; fastinf computes them
in two passes like ``np.var``, so parity is checked against ArviZ with its
Numba path disabled (the ``arviz`` fixture), plus one test of the default
path on centred draws, where the two agree.

One genuine discontinuity remains: Geyer's sequence stops at the first pair
of autocorrelations whose sum is not positive. For discrete draws
(indicators of quantiles, tied values) a pair can sum to exactly zero in
exact arithmetic, and then each implementation's rounding decides; the
parity helper accepts a difference only when exact rational arithmetic
(``fractions.Fraction``) shows such a tie.
"""

import subprocess
import sys
import warnings
from fractions import Fraction

import numpy as np
import pytest

from fastinf.diagnostics import ess, mcse, rhat
from fastinf.kernels import diagnostics as K
from fastinf.ragged import SmallSampleWarning

RTOL = 1e-12
RTOL_LONG = 2e-12
RHAT_METHODS = ["rank", "split", "folded", "z_scale", "identity"]
ESS_METHODS = ["bulk", "tail", "quantile", "mean", "sd", "median", "mad", "z_scale",
               "folded", "identity", "local"]
ESS_PROB = {"quantile": 0.3, "local": (0.2, 0.7)}
TIE_CHECKED = {"tail", "quantile", "median", "mad", "local", "identity", "mean"}
MCSE_METHODS = ["mean", "sd", "median", "quantile"]


@pytest.fixture(scope="module")
def arviz():
    """ArviZ with its Numba path off (two-pass variances), restored afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import arviz as az
    flag = az.Numba.numba_flag
    az.Numba.disable_numba()
    yield az
    if flag:
        az.Numba.enable_numba()


def _ref(fn, *args, **kwargs):
    """An ArviZ call, its warnings (0 / 0, deprecations) silenced."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(np.ravel(fn(*args, **kwargs))[0])


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def ar1(rng, n_chain, n_draw, phi, shift=0.0, heavy=False):
    """``n_chain`` AR(1) chains (stationary start); Student-t(1.5) innovations if heavy."""
    e = rng.standard_t(1.5, size=(n_chain, n_draw)) if heavy else rng.standard_normal(
        (n_chain, n_draw))
    x = np.empty((n_chain, n_draw))
    x[:, 0] = e[:, 0] / np.sqrt(max(1 - phi**2, 1e-3))
    for t in range(1, n_draw):
        x[:, t] = phi * x[:, t - 1] + e[:, t]
    return x + shift


CASES = {
    "iid": dict(phi=0.0),
    "ar0.5": dict(phi=0.5, shift=3.0),
    "ar0.95": dict(phi=0.95, shift=-10.0),
    "ar0.999": dict(phi=0.999),
    "anti": dict(phi=-0.8, shift=1.0),
    "heavy": dict(phi=0.6, heavy=True),
}
SHAPES = [(1, 4), (2, 5), (2, 10), (3, 11), (4, 100), (4, 101), (8, 64), (2, 1000)]


def _data(case, n_chain, n_draw):
    seed = 0x5EED_D1A6 + 1000 * n_chain + n_draw + 7919 * sorted(CASES).index(case)
    return ar1(np.random.default_rng(seed), n_chain, n_draw, **CASES[case])


# --------------------------------------------------------------------------
# Exact Geyer tie detection for discrete draws
# --------------------------------------------------------------------------


def _split(a):
    h = a.shape[1] // 2
    return np.vstack((a[:, :h], a[:, a.shape[1] - h:]))


def _pair_sum_tie(mat):
    """Whether Geyer's positive sequence meets a pair summing to exactly 0 (Fractions).

    ``mat``: the (chains, draws) matrix ArviZ's ``_ess`` receives, with
    values that are exact in binary (0/1 indicators, integers).
    """
    rows, n = mat.shape
    m = [[Fraction(float(v)) for v in row] for row in mat]
    if len({v for row in m for v in row}) == 1:
        return False
    means = [sum(row) / n for row in m]
    cen = [[v - mu for v in row] for row, mu in zip(m, means, strict=True)]

    def acov(t):
        return sum(sum(r[j] * r[j + t] for j in range(n - t)) / n for r in cen) / rows

    mean_var = acov(0) * n / (n - 1)
    var_plus = mean_var * (n - 1) / n
    if rows > 1:
        g = sum(means) / rows
        var_plus += sum((mu - g) ** 2 for mu in means) / (rows - 1)
    if var_plus == 0:
        return False
    even, odd = Fraction(1), 1 - (mean_var - acov(1)) / var_plus
    t = 1
    while t < n - 3 and even + odd > 0:
        even = 1 - (mean_var - acov(t + 1)) / var_plus
        odd = 1 - (mean_var - acov(t + 2)) / var_plus
        if even + odd == 0:
            return True
        t += 2
    return False


def _indicators(az, x, method, prob):
    """The matrices ArviZ's ``_ess`` sees for a method of TIE_CHECKED."""
    from arviz.stats.stats_utils import quantile

    if method == "identity":
        return [x]
    if method == "mean":
        return [_split(x)]
    if method == "local":
        q = quantile(x, prob)
        return [_split((q[0] <= x) & (x <= q[1]))]
    if method == "mad":
        d = np.abs(x - np.median(x))
        return [_split(d <= np.median(d))]
    probs = {"tail": (0.05, 0.95), "median": (0.5,), "quantile": (prob,)}[method]
    return [_split(x <= quantile(x, p)[0]) for p in probs]


def _check_ess(az, x, method, relative=False, rtol=RTOL, **kw):
    want = _ref(az.ess, x, method=method, relative=relative, **kw)
    got = ess(x, method=method, relative=relative, **kw)
    assert isinstance(got, float)
    if np.isnan(want):
        assert np.isnan(got)
        return
    if abs(got - want) <= rtol * abs(want):
        return
    if method in TIE_CHECKED and any(
        _pair_sum_tie(m) for m in _indicators(az, x, method, kw.get("prob"))
    ):
        return  # an exact tie in Geyer's stopping rule: either answer is ArviZ's
    pytest.fail(f"ess {method}: fastinf {got!r}, ArviZ {want!r}")


# --------------------------------------------------------------------------
# Parity with ArviZ, one (chain, draw) matrix at a time
# --------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(("n_chain", "n_draw"), SHAPES)
def test_rhat_parity(arviz, case, n_chain, n_draw):
    x = _data(case, n_chain, n_draw)
    for method in RHAT_METHODS:
        want = _ref(arviz.rhat, x, method=method)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallSampleWarning)
            got = rhat(x, method=method)
        assert isinstance(got, float)
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0, err_msg=method)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(("n_chain", "n_draw"), SHAPES)
def test_ess_parity(arviz, case, n_chain, n_draw):
    x = _data(case, n_chain, n_draw)
    for method in ESS_METHODS:
        for relative in (False, True):
            _check_ess(arviz, x, method, relative, **(
                {"prob": ESS_PROB[method]} if method in ESS_PROB else {}))


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(("n_chain", "n_draw"), SHAPES)
def test_mcse_parity(arviz, case, n_chain, n_draw):
    x = _data(case, n_chain, n_draw)
    for method in MCSE_METHODS:
        kw = {"prob": 0.8} if method == "quantile" else {}
        want = _ref(arviz.mcse, x, method=method, **kw)
        got = mcse(x, method=method, **kw)
        assert isinstance(got, float)
        if method in ("median", "quantile") and abs(got - want) > RTOL * abs(want):
            # an order statistic picked through ess_quantile: only an exact Geyer
            # tie (see the module docstring) may move it
            p = kw.get("prob", 0.5)
            assert any(_pair_sum_tie(m) for m in _indicators(arviz, x, "quantile", p))
            continue
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=0, err_msg=method)


@pytest.mark.parametrize("prob", [0.05, 0.1, (0.01, 0.8), (0.0, 1.0), 0.5])
def test_ess_tail_and_quantile_probs(arviz, prob):
    x = _data("ar0.5", 4, 101)
    _check_ess(arviz, x, "tail", prob=prob)
    if np.ndim(prob) == 0:
        _check_ess(arviz, x, "quantile", prob=prob)
        np.testing.assert_allclose(
            mcse(x, method="quantile", prob=prob),
            _ref(arviz.mcse, x, method="quantile", prob=prob), rtol=RTOL)
    else:
        _check_ess(arviz, x, "local", prob=prob)


def test_random_walk_long_chains_use_the_fft(arviz):
    """Geyer runs thousands of lags: the FFT path, against ArviZ's FFT (RTOL_LONG)."""
    x = np.cumsum(np.random.default_rng(0x5EED_0002).standard_normal((4, 20_001)), axis=1)
    for method in ("bulk", "mean", "identity", "tail"):
        _check_ess(arviz, x, method, rtol=RTOL_LONG)


@pytest.mark.parametrize("levels", [2, 3, 7])
@pytest.mark.parametrize(("n_chain", "n_draw"), [(2, 9), (4, 50), (3, 201)])
def test_ties_and_discrete_draws(arviz, levels, n_chain, n_draw):
    rng = np.random.default_rng(0x5EED_0003 + 10 * levels + n_draw)
    x = rng.integers(0, levels, size=(n_chain, n_draw)).astype(float)
    x[:, 1:] = np.where(rng.random((n_chain, n_draw - 1)) < 0.5, x[:, :-1], x[:, 1:])
    for method in RHAT_METHODS:
        np.testing.assert_allclose(
            rhat(x, method=method), _ref(arviz.rhat, x, method=method), rtol=RTOL)
    for method in ESS_METHODS:
        _check_ess(arviz, x, method, **(
            {"prob": ESS_PROB[method]} if method in ESS_PROB else {}))


def test_exact_geyer_tie_is_detected_and_either_branch_is_accepted(arviz):
    """Split indicators whose lag-2 and lag-3 autocorrelations sum to exactly 0.

    In exact arithmetic rho_2 + rho_3 = -0.05 + 0.05: ArviZ's FFT rounding
    and fastinf's direct sums land on different sides of the stopping rule
    (17.22 and 17.99 at the time of writing); the parity helper must see the
    tie to accept that.
    """
    x = np.array([[0.0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 0]])
    assert _pair_sum_tie(x)
    assert not _pair_sum_tie(np.array([[0.0, 1, 1, 0, 1], [0, 1, 0, 1, 0]]))
    got = ess(x, method="identity")
    assert 0 < got <= x.size * np.log10(x.size)
    _check_ess(arviz, x, "identity")


def test_constant_chains(arviz):
    x = np.full((3, 20), 2.5)
    for method in RHAT_METHODS:
        assert np.isnan(rhat(x, method=method))
        assert np.isnan(_ref(arviz.rhat, x, method=method))
    for method in ESS_METHODS:
        kw = {"prob": ESS_PROB[method]} if method in ESS_PROB else {}
        for relative in (False, True):
            assert ess(x, method=method, relative=relative, **kw) == _ref(
                arviz.ess, x, method=method, relative=relative, **kw)
    # chains constant but at different levels: no within-chain variance
    y = np.repeat(np.arange(3.0)[:, None], 20, axis=1)
    for method in RHAT_METHODS:
        assert rhat(y, method=method) == _ref(arviz.rhat, y, method=method)


def test_default_arviz_numba_path_on_centred_draws(arviz):
    """ArviZ's default (one-pass variances) agrees where those lose no digits.

    The one-pass variance loses about ``eps * mean^2 / var`` relative: ~1e-16
    for these centred draws, so rtol=1e-10 leaves a wide margin.
    """
    x = _data("ar0.5", 4, 200) - 3.0
    arviz.Numba.enable_numba()
    try:
        for method in RHAT_METHODS:
            np.testing.assert_allclose(rhat(x, method=method),
                                       _ref(arviz.rhat, x, method=method), rtol=1e-10)
        for method in ("bulk", "tail", "mean"):
            np.testing.assert_allclose(ess(x, method=method),
                                       _ref(arviz.ess, x, method=method), rtol=1e-10)
    finally:
        arviz.Numba.disable_numba()


# --------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------


def test_batch_matches_arviz_dataset(arviz):
    rng = np.random.default_rng(0x5EED_0004)
    x = np.stack([ar1(rng, 4, 61, phi) for phi in (0.0, 0.3, 0.9, -0.5, 0.7, 0.99)], axis=-1)
    x = x.reshape(4, 61, 3, 2)  # (chain, draw, dim_0, dim_1), ArviZ's layout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = arviz.convert_to_dataset(x)
        for method in RHAT_METHODS:
            want = arviz.rhat(ds, method=method)["x"].values
            got = rhat(x, method=method, chain_axis=0, draw_axis=1)
            assert got.shape == (3, 2)
            np.testing.assert_allclose(got, want, rtol=RTOL)
        for method in ("bulk", "tail", "mean", "sd", "folded"):
            want = arviz.ess(ds, method=method)["x"].values
            np.testing.assert_allclose(ess(x, method=method, chain_axis=0, draw_axis=1),
                                       want, rtol=RTOL)
        for method in ("mean", "sd"):
            want = arviz.mcse(ds, method=method)["x"].values
            np.testing.assert_allclose(mcse(x, method=method, chain_axis=0, draw_axis=1),
                                       want, rtol=RTOL)


@pytest.mark.parametrize("n_draw", [40, 41])
def test_batch_equals_loop(n_draw):
    rng = np.random.default_rng(0x5EED_0005 + n_draw)
    x = rng.standard_normal((3, 4, 2, n_draw))  # (exp, chain, param, draw)
    x[..., 1:] += 0.7 * x[..., :-1]
    x[1, :, 1] = np.round(x[1, :, 1])  # ties in one element
    calls = [(rhat, m, None) for m in RHAT_METHODS]
    calls += [(ess, m, ESS_PROB.get(m)) for m in ESS_METHODS]
    calls += [(mcse, m, 0.3 if m == "quantile" else None) for m in MCSE_METHODS]
    for fn, method, prob in calls:
        kw = {} if prob is None else {"prob": prob}
        got = fn(x, method=method, chain_axis=1, draw_axis=3, **kw)
        assert got.shape == (3, 2)
        loop = [[fn(x[e, :, p, :], method=method, **kw) for p in range(2)] for e in range(3)]
        np.testing.assert_array_equal(got, np.array(loop), err_msg=f"{fn.__name__} {method}")


def test_nan_element_is_nan_and_others_unaffected():
    rng = np.random.default_rng(0x5EED_0006)
    x = rng.standard_normal((5, 3, 50))
    clean = [rhat(x), ess(x), ess(x, method="tail"), mcse(x), mcse(x, method="median")]
    x[2, 1, 7] = np.nan
    dirty = [rhat(x), ess(x), ess(x, method="tail"), mcse(x), mcse(x, method="median")]
    for a, b in zip(clean, dirty, strict=True):
        assert np.isnan(b[2])
        keep = [0, 1, 3, 4]
        np.testing.assert_array_equal(a[keep], b[keep])


def test_empty_batch_and_axis_order():
    assert rhat(np.zeros((0, 4, 10))).shape == (0,)
    rng = np.random.default_rng(0x5EED_0007)
    x = rng.standard_normal((4, 30, 2))
    a = ess(x, chain_axis=0, draw_axis=1)
    b = ess(np.moveaxis(x, 2, 0))
    np.testing.assert_array_equal(a, b)
    # swapping the two axes' roles transposes the matrix
    assert ess(x[:, :, 0].T, chain_axis=-1, draw_axis=-2) == ess(x[:, :, 0])


def test_integer_and_bool_input():
    x = np.random.default_rng(0x5EED_0008).integers(0, 5, size=(3, 40))
    assert rhat(x) == rhat(x.astype(float))
    assert ess(x > 2, method="mean") == ess((x > 2).astype(float), method="mean")


def test_identical_results_at_1_and_2_threads(threads):
    rng = np.random.default_rng(0x5EED_0009)
    x = rng.standard_normal((64, 4, 101))
    x[..., 1:] += 0.9 * x[..., :-1]
    results = []
    for k in (1, 2):
        with threads(k):
            results.append([rhat(x).tobytes(), ess(x).tobytes(),
                            ess(x, method="tail").tobytes(), mcse(x, method="sd").tobytes()])
    assert results[0] == results[1]


def test_identical_results_in_a_subprocess_with_one_thread():
    code = (
        "import numpy as np; from fastinf.diagnostics import ess;"
        "x = np.random.default_rng(5).standard_normal((32, 4, 99));"
        "print(ess(x).tobytes().hex())"
    )
    env_one = {"NUMBA_NUM_THREADS": "1"}
    import os

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, **env_one}, check=True).stdout.strip()
    x = np.random.default_rng(5).standard_normal((32, 4, 99))
    assert out == ess(x).tobytes().hex()


# --------------------------------------------------------------------------
# Statistical behaviour
# --------------------------------------------------------------------------


def test_iid_draws_rhat_near_one_ess_near_size():
    """500 experiments of 4 x 1000 iid normal draws.

    rhat - 1 ~ (chi2_7 / 7 - 1) / (2 n), n = 500: above 0.01 needs
    chi2_7 > 77, probability < 1e-13 per experiment. ESS / S has mean about
    0.985 (Geyer's truncation) and sd about 0.04: the mean over 500 is within
    0.95..1.02 (> 15 standard errors) and every value in 0.7..1.3 (> 6 sd);
    false-failure rate below 1e-8.
    """
    x = np.random.default_rng(0x5EED_000A).standard_normal((500, 4, 1000))
    r = rhat(x)
    assert r.max() < 1.01 and r.min() > 0.99
    for method in ("bulk", "tail", "mean"):
        e = ess(x, method=method) / 4000
        assert 0.95 < e.mean() < 1.02, method
        assert 0.7 < e.min() and e.max() < 1.3, method


def test_ar1_ess_matches_theory():
    """AR(1), phi = 0.5: ESS / S -> (1 - phi) / (1 + phi) = 1/3.

    The sd of ESS / S over experiments is about 0.024 here, so the mean of 300
    has a standard error of 0.0014; the band of 0.01 is 7 standard errors
    (false-failure rate ~1e-12), and a bias larger than that would be a bug.
    """
    rng = np.random.default_rng(0x5EED_000B)
    e = rng.standard_normal((300, 4, 1000))
    x = np.empty_like(e)
    x[..., 0] = e[..., 0] / np.sqrt(0.75)
    for t in range(1, 1000):
        x[..., t] = 0.5 * x[..., t - 1] + e[..., t]
    for method in ("bulk", "mean"):
        assert abs((ess(x, method=method) / 4000).mean() - 1 / 3) < 0.01, method
    m = mcse(x)  # sd / sqrt(ESS): sd = 1 / sqrt(0.75), ESS ~ 4000 / 3
    assert abs(m.mean() - np.sqrt(3 / 4000 / 0.75)) < 0.002


def test_chains_with_different_means_have_large_rhat():
    """One chain of four shifted by one sd: B/W ~ n / 4, rhat ~ 1.06 or more, always > 1.01."""
    x = np.random.default_rng(0x5EED_000C).standard_normal((200, 4, 500))
    x[:, 0] += 1.0
    for method in ("rank", "split", "z_scale", "identity"):
        assert rhat(x, method=method).min() > 1.01, method
    # a chain with a larger spread but the same centre: the folded R-hat sees it
    y = np.random.default_rng(0x5EED_000D).standard_normal((200, 4, 500))
    y[:, 0] *= 3.0
    assert rhat(y, method="folded").min() > 1.01
    assert rhat(y, method="rank").min() > 1.01


# --------------------------------------------------------------------------
# Kernels against naive references
# --------------------------------------------------------------------------


def test_radix_argsort_sorts():
    rng = np.random.default_rng(0x5EED_000E)
    v = np.concatenate([rng.standard_normal(500) * 10.0 ** rng.integers(-300, 300, 500),
                        [0.0, -0.0, np.inf, -np.inf, 5e-324, -5e-324, 1.0, 1.0, -2.0]])
    rng.shuffle(v)
    n = v.size
    order = np.empty(n, np.int64)
    K._argsort(v, order, np.empty(n, np.uint64), np.empty(n, np.uint64),
               np.empty(n, np.int64), np.empty((8, 256), np.int64))
    assert sorted(order.tolist()) == list(range(n))
    np.testing.assert_array_equal(v[order], np.sort(v))


def test_fft_autocovariance_matches_direct_sums():
    rng = np.random.default_rng(0x5EED_000F)
    for rows, cols in [(1, 7), (3, 33), (4, 64), (5, 100)]:
        c = rng.standard_normal(rows * cols)
        acov = np.empty(cols)
        K._acov_fft(c, rows, cols, acov)
        m = c.reshape(rows, cols)
        want = np.array([np.mean([r[: cols - t] @ r[t:] for r in m]) / cols
                         for t in range(cols)])
        np.testing.assert_allclose(acov, want, rtol=0, atol=1e-13 * want[0])


def test_zscores_average_ties():
    from scipy import special, stats

    v = np.array([3.0, 1.0, 3.0, -0.0, 0.0, 2.0, 3.0])
    order = np.argsort(v, kind="stable")
    n = v.size
    r = np.arange(2, 2 * n + 1) / 2.0
    ztab = special.ndtri((r - 0.375) / (n + 0.25))
    out = np.empty(n)
    K._zscores(v, order, ztab, out)
    want = special.ndtri((stats.rankdata(v) - 0.375) / (n + 0.25))
    np.testing.assert_array_equal(out, want)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


def test_too_few_draws_or_chains_warn_and_give_nan():
    x = np.zeros((4, 3))
    with pytest.warns(SmallSampleWarning, match=r"R-hat needs at least 2 chain\(s\) of at "
                                                r"least 4 draws; got 4 chain\(s\) of 3 draws"):
        assert np.isnan(rhat(x))
    with pytest.warns(SmallSampleWarning, match=r"R-hat needs at least 2 chain\(s\).*got 1"):
        assert np.isnan(rhat(np.ones((1, 10))))
    with pytest.warns(SmallSampleWarning, match="ESS needs at least 1 chain"):
        assert np.isnan(ess(x))
    with pytest.warns(SmallSampleWarning, match="MCSE needs at least 1 chain"):
        out = mcse(np.zeros((2, 4, 3)))
    assert out.shape == (2,) and np.isnan(out).all()


def test_validation_messages():
    x = np.zeros((2, 10))
    with pytest.raises(ValueError, match="`draws` must have a chain axis and a draw axis"):
        rhat(np.zeros(10))
    with pytest.raises(ValueError, match="`chain_axis` and `draw_axis` must be different"):
        ess(x, chain_axis=1, draw_axis=-1)
    with pytest.raises(np.exceptions.AxisError, match="`chain_axis` 2 is out of bounds"):
        ess(x, chain_axis=2)
    with pytest.raises(TypeError, match="`draw_axis` must be an integer"):
        ess(x, draw_axis=1.5)
    with pytest.raises(TypeError, match="`draws` must be numeric"):
        rhat(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(TypeError, match="`draws` must be real"):
        rhat(np.zeros((2, 10), complex))
    with pytest.raises(TypeError, match="R-hat method 'bulk' not found. Valid methods are: "
                                        "rank, split, folded, z_scale, identity"):
        rhat(x, method="bulk")
    with pytest.raises(TypeError, match="ess method 'rank' not found. Valid methods are: "
                                        "bulk, tail, quantile"):
        ess(x, method="rank")
    with pytest.raises(TypeError, match="mcse method 'bulk' not found. Valid methods are: "
                                        "mean, sd, median, quantile"):
        mcse(x, method="bulk")
    with pytest.raises(TypeError, match=r"Quantile \(prob\) information needs to be defined"):
        ess(x, method="quantile")
    with pytest.raises(TypeError, match=r"Quantile \(prob\) information needs to be defined"):
        mcse(x, method="quantile")
    with pytest.raises(ValueError, match=r"`prob` must be in \[0, 1\], got 1.5"):
        ess(x, method="quantile", prob=1.5)
    with pytest.raises(ValueError, match=r"`prob` must be in \[0, 1\], got -0.1"):
        ess(x, method="tail", prob=(-0.1, 0.9))
    with pytest.raises(ValueError, match=r"`prob` must be in \[0, 1\], got 2"):
        mcse(x, method="quantile", prob=2)
    with pytest.raises(TypeError, match="`prob` must be a number in"):
        ess(x, method="quantile", prob="a")
    with pytest.raises(ValueError, match="must be a number or a pair"):
        ess(x, method="tail", prob=(0.1, 0.5, 0.9))
    with pytest.raises(ValueError, match="Prob argument in ess local must be upper and lower"):
        ess(x, method="local", prob=0.3)
    with pytest.raises(TypeError, match="is required for ess method 'local'"):
        ess(x, method="local")
    with pytest.raises(TypeError, match="`prob` is only used by ess methods 'tail', "
                                        "'quantile' and 'local', not 'bulk'"):
        ess(x, prob=0.3)
    with pytest.raises(TypeError, match="`prob` is only used by mcse method 'quantile', "
                                        "not 'mean'"):
        mcse(x, prob=0.3)
