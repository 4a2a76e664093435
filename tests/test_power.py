"""fastinf.power against statsmodels.stats.power (and a published table).

Tolerances:

* ``power()`` uses statsmodels' formulas operation for operation with the
  same ``scipy.special`` functions, so it matches to 1e-12 relative.
* statsmodels' ``solve_power`` stops ``brentq`` at ``xtol=1e-5`` (absolute,
  in the unknown), so its solutions are compared within ``_SM_XTOL``; ours
  are checked directly: the power at our solution equals the target to 1e-10.
"""

import doctest
import math
import warnings

import numpy as np
import pytest
from scipy import special
from statsmodels.stats import power as smp
from statsmodels.stats.proportion import proportion_effectsize as sm_proportion_effectsize

import fastinf.power as fp
from fastinf.power import (
    NormalIndPower,
    SampleSize,
    TTestIndPower,
    mde_means,
    mde_proportions,
    proportion_effectsize,
    sample_size_means,
    sample_size_proportions,
    tt_ind_solve_power,
    zt_ind_solve_power,
)

ALTERNATIVES = ["two-sided", "larger", "smaller"]
CLASSES = [
    (NormalIndPower, smp.NormalIndPower),
    (TTestIndPower, smp.TTestIndPower),
]
# Brent's guarantee for statsmodels' xtol=1e-5: |x - root| <= xtol + 4 eps |x|.
_SM_XTOL = 1.2e-5


def _sm(fn, *args, **kwargs):
    """Call statsmodels with its warnings (convergence, effect 0) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _sm_solve(sm, **kw):
    """statsmodels' solution and whether its bracketed brentq converged."""
    if kw.get("power", 0) is None:
        return _sm(sm.solve_power, **kw), True
    try:
        value = _sm(sm.solve_power, **kw)
    except ValueError:  # statsmodels' fallback brentq can fail ("different signs")
        return np.nan, False
    res = sm.cache_fit_res
    brent = res[0] == 1 and res[1] is not None and res[1].converged
    return value, brent


def _signed(d, alternative):
    return -d if alternative == "smaller" else d


# --------------------------------------------------------------------------
# power()


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_normal_power_matches_statsmodels(alternative):
    rng = np.random.default_rng(0x5EED_0001_A11C_E001)
    d = rng.uniform(-1.5, 1.5, 300)
    n1 = rng.uniform(2, 500, 300)
    alpha = rng.uniform(0.001, 0.3, 300)
    for ratio in (0.0, 0.3, 1.0, 4.0):
        ours = NormalIndPower().power(d, n1, alpha, ratio=ratio, alternative=alternative)
        ref = smp.NormalIndPower().power(d, n1, alpha, ratio=ratio, alternative=alternative)
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=0)
    # ddof, and ratio as an array (statsmodels takes a scalar ratio only)
    ratio = rng.uniform(0.2, 3, 300)
    ours = NormalIndPower(ddof=1).power(d, n1 + 10, alpha, ratio=ratio, alternative=alternative)
    ref = [
        smp.NormalIndPower(ddof=1).power(d[i], n1[i] + 10, alpha[i], ratio=ratio[i],
                                         alternative=alternative)
        for i in range(300)
    ]
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=0)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_t_power_matches_statsmodels(alternative):
    rng = np.random.default_rng(0x5EED_0001_A11C_E002)
    d = rng.uniform(-1.5, 1.5, 300)
    n1 = rng.uniform(2, 500, 300)
    alpha = rng.uniform(0.001, 0.3, 300)
    ratio = rng.uniform(0.2, 5, 300)
    df = rng.uniform(1, 100, 300)
    for dfs in (None, df):
        ours = TTestIndPower().power(d, n1, alpha, ratio=ratio, df=dfs, alternative=alternative)
        ref = smp.TTestIndPower().power(d, n1, alpha, ratio=ratio, df=dfs, alternative=alternative)
        # statsmodels is NaN where scipy's nctdtr fails in a far tail (a tail
        # below ~1e-11); fastinf is finite there (see the test below).
        ok = np.isfinite(ref)
        assert ok.mean() > 0.9 and np.all(np.isfinite(ours))
        np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-12, atol=0)


def test_power_broadcasts_like_numpy():
    d = np.array([0.1, 0.3, 0.5])[:, None, None]
    n1 = np.array([20.0, 80.0])[None, :, None]
    alpha = np.array([0.01, 0.05, 0.1, 0.2])
    for ours_cls, sm_cls in CLASSES:
        out = ours_cls().power(d, n1, alpha)
        assert out.shape == (3, 2, 4)
        for i, j, k in np.ndindex(out.shape):
            ref = sm_cls().power(float(d[i, 0, 0]), float(n1[0, j, 0]), float(alpha[k]))
            assert out[i, j, k] == pytest.approx(ref, rel=1e-12, abs=0)


def test_power_invariants():
    rng = np.random.default_rng(0x5EED_0001_A11C_E003)
    n1 = np.sort(rng.uniform(2, 1000, 200))
    for cls, _ in CLASSES:
        p = cls().power(0.2, n1, 0.05)
        assert np.all((p >= 0.05 - 1e-12) & (p <= 1))  # two-sided: power >= alpha
        assert np.all(np.diff(p) > 0)  # more observations, more power
        # symmetric in the effect's sign (two-sided), mirrored one-sided
        np.testing.assert_allclose(cls().power(-0.2, n1, 0.05), p, rtol=1e-12)
        np.testing.assert_allclose(
            cls().power(-0.2, n1, 0.05, alternative="smaller"),
            cls().power(0.2, n1, 0.05, alternative="larger"), rtol=1e-12)


def test_t_power_finite_where_scipy_nctdtr_fails():
    # scipy's nctdtr returns NaN in far tails (statsmodels then returns NaN);
    # fastinf fills the negligible tail and agrees with the normal limit.
    alpha = np.logspace(-16, -1, 16)
    ours = TTestIndPower().power(0.811210741946077, 146.5379122338142, alpha)
    ref = np.array([smp.TTestIndPower().power(0.811210741946077, 146.5379122338142, a)
                    for a in alpha])
    assert np.isnan(ref).any()
    assert np.all(np.isfinite(ours)) and np.all(np.diff(ours) > 0)
    ok = np.isfinite(ref)
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-12)


# --------------------------------------------------------------------------
# solve_power()


def _grid(rng, n, alternative):
    """Parameters with noncentrality d sqrt(n1 r / (1 + r)) in [0.5, 3.5]: power well inside (0, 1)."""
    n1 = rng.uniform(8, 300, n)
    ratio = rng.uniform(0.3, 3, n)
    d = _signed(rng.uniform(0.5, 3.5, n) / np.sqrt(n1 * ratio / (1 + ratio)), alternative)
    alpha = rng.uniform(0.005, 0.15, n)
    return d, n1, alpha, ratio


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("key", ["effect_size", "nobs1", "alpha", "ratio"])
@pytest.mark.parametrize("classes", CLASSES, ids=["normal", "t"])
def test_solve_power_matches_statsmodels(classes, key, alternative):
    ours_cls, sm_cls = classes
    seed = 0x5EED_0002_0000_0000 + 97 * ALTERNATIVES.index(alternative) + len(key)
    rng = np.random.default_rng(seed)
    n = 10
    d, n1, alpha, ratio = _grid(rng, n, alternative)
    target = np.asarray(ours_cls().power(d, n1, alpha, ratio=ratio, alternative=alternative))
    known = {"effect_size": d, "nobs1": n1, "alpha": alpha, "power": target, "ratio": ratio}
    known[key] = None
    got = ours_cls().solve_power(**known, alternative=alternative)
    assert got.shape == (n,)
    # our solution reproduces the target power to 1e-10
    check = dict(known)
    check[key] = got
    check.pop("power")
    achieved = ours_cls().power(**check, alternative=alternative)
    np.testing.assert_allclose(achieved, target, rtol=0, atol=1e-10)
    # ... and the element generating it (the solution is unique)
    truth = {"effect_size": d, "nobs1": n1, "alpha": alpha, "ratio": ratio}[key]
    np.testing.assert_allclose(got, truth, rtol=1e-8)
    # elementwise statsmodels loop
    compared = 0
    for i in range(n):
        kw = {k: (None if v is None else float(v[i])) for k, v in known.items()}
        ref, brent = _sm_solve(sm_cls(), **kw, alternative=alternative)
        if brent:
            compared += 1
            assert abs(got[i] - ref) <= _SM_XTOL + 4e-16 * abs(ref)
        elif np.isfinite(ref):  # statsmodels fell back to fsolve: |power - target| < 1e-4
            kw[key] = ref
            kw.pop("power")
            assert abs(_sm(sm_cls().power, **kw, alternative=alternative) - target[i]) < 1e-4
    assert compared >= n // 2


@pytest.mark.parametrize("classes", CLASSES, ids=["normal", "t"])
def test_solve_power_scalar_drop_in(classes):
    ours_cls, sm_cls = classes
    base = {"effect_size": 0.3, "nobs1": 50, "alpha": 0.05, "power": 0.4, "ratio": 1.0}
    for alternative in ALTERNATIVES:
        base["effect_size"] = _signed(0.3, alternative)
        for key in base:
            kw = dict(base)
            kw[key] = None
            got = ours_cls().solve_power(**kw, alternative=alternative)
            ref, _ = _sm_solve(sm_cls(), **kw, alternative=alternative)
            assert type(got) is type(ref)  # float, np.float64 for power
            assert got == pytest.approx(ref, rel=1e-12 if key == "power" else 0,
                                        abs=0 if key == "power" else _SM_XTOL)
    # positional arguments as statsmodels: solve_power(effect_size, nobs1, alpha, power)
    assert type(ours_cls().solve_power(0.2, None, 0.05, 0.8)) is float
    p = ours_cls().power(0.2, 100, 0.05)
    assert type(p) is np.float64
    assert p == pytest.approx(sm_cls().power(0.2, 100, 0.05), rel=1e-12)


def test_module_aliases():
    assert zt_ind_solve_power(0.2, None, 0.05, 0.8) == NormalIndPower().solve_power(
        0.2, None, 0.05, 0.8)
    assert tt_ind_solve_power(effect_size=0.5, alpha=0.05, power=0.8) == pytest.approx(
        smp.tt_ind_solve_power(effect_size=0.5, alpha=0.05, power=0.8), abs=_SM_XTOL)


def test_solve_power_grid_equals_elementwise_loop():
    rng = np.random.default_rng(0x5EED_0003_0000_0001)
    d = rng.uniform(0.1, 1.0, (4, 1))
    power = rng.uniform(0.5, 0.95, (1, 5))
    for ours_cls, sm_cls in CLASSES:
        got = ours_cls().solve_power(d, None, 0.05, power)
        assert got.shape == (4, 5)
        for i, j in np.ndindex(4, 5):
            ref, brent = _sm_solve(sm_cls(), effect_size=float(d[i, 0]), nobs1=None,
                                   alpha=0.05, power=float(power[0, j]))
            assert brent
            assert abs(got[i, j] - ref) <= _SM_XTOL
            # scalar call of ours: same number
            assert got[i, j] == ours_cls().solve_power(float(d[i, 0]), None, 0.05,
                                                      float(power[0, j]))


def test_solve_one_sided_wrong_sign_below_alpha():
    # power decreases with nobs1 here; a target below alpha is reachable (statsmodels too)
    for ours_cls, sm_cls in CLASSES:
        got = ours_cls().solve_power(-0.2, None, 0.05, 0.01, alternative="larger")
        ref, brent = _sm_solve(sm_cls(), effect_size=-0.2, nobs1=None, alpha=0.05, power=0.01,
                               alternative="larger")
        assert brent and abs(got - ref) <= _SM_XTOL
        assert ours_cls().power(-0.2, got, 0.05, alternative="larger") == pytest.approx(
            0.01, abs=1e-12)


def test_solve_alpha_with_zero_effect_returns_power():
    # statsmodels: "Effect size of 0 detected", alpha = power
    for ours_cls, _ in CLASSES:
        assert ours_cls().solve_power(0.0, 50, None, 0.2) == pytest.approx(0.2, abs=1e-13)


def test_solve_nan_propagates():
    for ours_cls, _ in CLASSES:
        got = ours_cls().solve_power(np.array([0.2, np.nan, 0.5]), None, 0.05, 0.8)
        assert np.isnan(got[1]) and np.all(np.isfinite(got[[0, 2]]))
        assert got[2] == ours_cls().solve_power(0.5, None, 0.05, 0.8)


def test_solve_monotone_in_effect():
    d = np.linspace(0.05, 2, 40)
    for ours_cls, _ in CLASSES:
        n = ours_cls().solve_power(d, None, 0.05, 0.8)
        assert np.all(np.diff(n) < 0)


# --------------------------------------------------------------------------
# published values


def test_textbook_sample_sizes():
    # Normal approximation, two-sided alpha 0.05, power 0.8, d = 0.2:
    # n = 2 (z_.975 + z_.8)^2 / d^2 = 392.4 per group (the far tail adds ~1e-9).
    z = special.ndtri(0.975) + special.ndtri(0.8)
    n = NormalIndPower().solve_power(0.2, None, 0.05, 0.8)
    assert n == pytest.approx(2 * z**2 / 0.04, rel=1e-5)
    assert n == pytest.approx(smp.NormalIndPower().solve_power(0.2, None, 0.05, 0.8),
                              abs=_SM_XTOL)
    # Cohen (1988), Table 2.4.1 (t-test, a2 = .05, power .80): n = 393, 64, 26.
    got = TTestIndPower().solve_power(np.array([0.2, 0.5, 0.8]), None, 0.05, 0.8)
    np.testing.assert_array_equal(np.round(got), [393, 64, 26])
    for d, n in zip([0.2, 0.5, 0.8], got, strict=True):
        assert n == pytest.approx(smp.TTestIndPower().solve_power(d, None, 0.05, 0.8),
                                  abs=_SM_XTOL)


# --------------------------------------------------------------------------
# experimenters' functions


def test_proportion_effectsize_identical():
    rng = np.random.default_rng(0x5EED_0004_0000_0001)
    p1 = rng.uniform(0, 1, 50)
    p2 = rng.uniform(0, 1, (3, 1))
    np.testing.assert_array_equal(proportion_effectsize(p1, p2), sm_proportion_effectsize(p1, p2))
    assert proportion_effectsize(0.5, 0.4) == sm_proportion_effectsize(0.5, 0.4)
    assert type(proportion_effectsize(0.5, 0.4)) is np.float64


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_sample_size_proportions_matches_statsmodels(alternative):
    rng = np.random.default_rng(0x5EED_0004_0000_0002 + len(alternative))
    n = 8
    p1 = rng.uniform(0.02, 0.6, n)
    rel = _signed(rng.uniform(0.05, 0.5, n), alternative)
    alpha = rng.uniform(0.01, 0.1, n)
    power = rng.uniform(0.6, 0.95, n)
    ratio = rng.uniform(0.5, 2, n)
    for relative in (False, True):
        effect = rel if relative else rel * p1
        res = sample_size_proportions(p1, effect, relative=relative, alpha=alpha, power=power,
                                      ratio=ratio, alternative=alternative)
        assert isinstance(res, SampleSize)
        np.testing.assert_allclose(res.nobs2, ratio * res.nobs1, rtol=1e-15)
        np.testing.assert_allclose(res.total, res.nobs1 + res.nobs2, rtol=1e-15)
        p2 = p1 * (1 + rel)
        h = sm_proportion_effectsize(p2, p1)
        for i in range(n):
            ref, brent = _sm_solve(smp.NormalIndPower(), effect_size=h[i], nobs1=None,
                                   alpha=alpha[i], power=power[i], ratio=ratio[i],
                                   alternative=alternative)
            assert brent and abs(res.nobs1[i] - ref) <= _SM_XTOL
            achieved = smp.NormalIndPower().power(h[i], res.nobs1[i], alpha[i], ratio[i],
                                                 alternative=alternative)
            assert achieved == pytest.approx(power[i], abs=1e-10)
        # mde at that size gives back the effect
        mde = mde_proportions(p1, res.nobs1, relative=relative, alpha=alpha, power=power,
                              ratio=ratio, alternative=alternative)
        np.testing.assert_allclose(mde, effect, rtol=1e-9)


def test_sample_size_proportions_scalar_and_ceil():
    res = sample_size_proportions(0.10, 0.01)
    assert isinstance(res.nobs1, float)
    n1, n2, total = res
    assert n1 == n2 and total == 2 * n1 and len(res) == 3 and res[0] == n1
    ref = _sm(smp.NormalIndPower().solve_power, sm_proportion_effectsize(0.11, 0.10), None,
              0.05, 0.8)
    assert n1 == pytest.approx(ref, abs=_SM_XTOL)
    h = sm_proportion_effectsize(0.11, 0.10)
    assert smp.NormalIndPower().power(h, math.ceil(n1), 0.05) >= 0.8


@pytest.mark.parametrize("test", ["t", "normal"])
def test_sample_size_means_matches_statsmodels(test):
    sm = smp.TTestIndPower() if test == "t" else smp.NormalIndPower()
    rng = np.random.default_rng(0x5EED_0004_0000_0003 + len(test))
    n = 8
    sd = rng.uniform(1, 20, n)
    rel = rng.uniform(0.02, 0.3, n)
    mean = rng.uniform(0.1, 1.2, n) * sd / rel  # effect size d in [0.1, 1.2]
    ratio = rng.uniform(0.5, 2, n)
    res_abs = sample_size_means(sd, rel * mean, ratio=ratio, test=test)
    res_rel = sample_size_means(sd, rel, baseline=mean, relative=True, ratio=ratio, test=test)
    np.testing.assert_allclose(res_rel.nobs1, res_abs.nobs1, rtol=1e-9)
    for i in range(n):
        ref, brent = _sm_solve(sm, effect_size=rel[i] * mean[i] / sd[i], nobs1=None, alpha=0.05,
                               power=0.8, ratio=ratio[i])
        assert brent and abs(res_abs.nobs1[i] - ref) <= _SM_XTOL
    back = mde_means(sd, res_abs.nobs1, ratio=ratio, test=test)
    np.testing.assert_allclose(back, rel * mean, rtol=1e-9)
    back_rel = mde_means(sd, res_abs.nobs1, baseline=mean, relative=True, ratio=ratio, test=test)
    np.testing.assert_allclose(back_rel, rel, rtol=1e-9)
    assert mde_means(5.0, 100, alternative="smaller") < 0


def test_mde_scalar_returns_float():
    assert type(mde_proportions(0.1, 1000)) is float
    assert type(mde_means(1.0, 100)) is float
    assert mde_proportions(0.1, 1000, alternative="smaller") < 0


# --------------------------------------------------------------------------
# errors


@pytest.mark.parametrize("cls", [NormalIndPower, TTestIndPower])
def test_power_errors(cls):
    with pytest.raises(ValueError, match=r"`alpha` must be in the open interval \(0, 1\); got 1.5"):
        cls().power(0.2, 50, 1.5)
    with pytest.raises(ValueError, match=r"`alpha` must be .*; element \(2,\) is 0.0"):
        cls().power(0.2, 50, [0.05, 0.1, 0.0])
    with pytest.raises(ValueError, match=r"`nobs1` must be positive; element \(0, 1\) is -3.0"):
        cls().power(0.2, [[5, -3]], 0.05)
    with pytest.raises(ValueError, match=r"`effect_size` must be finite; got inf"):
        cls().power(np.inf, 50, 0.05)
    with pytest.raises(ValueError, match=r"`alternative` must be one of .*got 'two_sided'"):
        cls().power(0.2, 50, 0.05, alternative="two_sided")
    with pytest.raises(ValueError, match=r"`ratio` must be .*; got -1.0"):
        cls().power(0.2, 50, 0.05, ratio=-1.0)
    with pytest.raises(TypeError, match="`nobs1` must be a real number"):
        cls().power(0.2, "many", 0.05)


def test_class_specific_errors():
    with pytest.raises(ValueError, match=r"`ratio` must be positive and finite; got 0.0"):
        TTestIndPower().power(0.2, 50, 0.05, ratio=0.0)
    with pytest.raises(ValueError, match=r"`nobs1` is too small: .* element \(1,\) gives df = -0.5"):
        TTestIndPower().power(0.2, [5, 0.75], 0.05)
    with pytest.raises(ValueError, match=r"`df` must be positive; got 0.0"):
        TTestIndPower().power(0.2, 50, 0.05, df=0.0)
    with pytest.raises(ValueError, match=r"`nobs1` must be greater than ddof = 3; got 2.0"):
        NormalIndPower(ddof=3).power(0.2, 2.0, 0.05)
    assert NormalIndPower().power(0.2, 50, 0.05, ratio=0.0) == smp.NormalIndPower().power(
        0.2, 50, 0.05, ratio=0)


@pytest.mark.parametrize("cls", [NormalIndPower, TTestIndPower])
def test_solve_errors(cls):
    with pytest.raises(ValueError, match="need exactly one keyword that is None.* got 2"):
        cls().solve_power(0.2, None, None, 0.8)
    with pytest.raises(ValueError, match="need exactly one keyword that is None.* got 0"):
        cls().solve_power(0.2, 50, 0.05, 0.8)
    with pytest.raises(ValueError, match=r"`power` must be in the open interval \(0, 1\); "
                                         r"element \(1,\) is 1.0"):
        cls().solve_power(0.2, None, 0.05, [0.8, 1.0])
    # two-sided: the power never falls below alpha
    with pytest.raises(ValueError, match=r"Cannot solve for `nobs1` at grid element \(1,\) "
                                         r"\(effect_size=0.2, alpha=0.05, power=0.01.*no `nobs1`"):
        cls().solve_power(0.2, None, 0.05, [0.8, 0.01])
    # one-sided with the wrong sign (statsmodels raises too)
    with pytest.raises(ValueError, match=r"Cannot solve for `nobs1` \(effect_size=-0.2.*"
                                         r"alternative='larger'\): no `nobs1`"):
        cls().solve_power(-0.2, None, 0.05, 0.8, alternative="larger")
    with pytest.raises(ValueError, match="Cannot detect an effect-size of 0"):
        cls().solve_power(0.0, None, 0.05, 0.8)
    # the ratio cannot make the second sample count for more than the first
    with pytest.raises(ValueError, match=r"Cannot solve for `ratio`.*no `ratio` reaches it"):
        cls().solve_power(0.3, 50, 0.05, 0.9, ratio=None)
    with pytest.raises(ValueError, match=r"Cannot solve for `effect_size` .*no `effect_size`"):
        cls().solve_power(None, 50, 0.05, 0.01)


def test_solve_t_df_error():
    with pytest.raises(ValueError, match=r"`nobs1` is too small: .*df = -0.5"):
        TTestIndPower().solve_power(None, 0.75, 0.05, 0.8)


def test_experimenter_errors():
    with pytest.raises(ValueError, match=r"`baseline` must be a rate in the open interval "
                                         r"\(0, 1\); element \(1,\) is 1.2"):
        sample_size_proportions([0.1, 1.2], 0.01)
    with pytest.raises(ValueError, match=r"`effect` must be such that the treated rate "
                                         r"baseline \* \(1 \+ effect\) is in \[0, 1\] "
                                         r"\(relative effect\); element \(0,\) is 2.0"):
        sample_size_proportions([0.5, 0.1], 2.0, relative=True)
    with pytest.raises(ValueError, match=r"baseline \+ effect is in \[0, 1\].*got -0.2"):
        sample_size_proportions(0.1, -0.2)
    with pytest.raises(ValueError, match="`effect` must be non-zero; got 0.0"):
        sample_size_proportions(0.1, 0.0)
    with pytest.raises(ValueError, match=r"`power` must be in the open interval"):
        sample_size_proportions(0.1, 0.01, power=0)
    with pytest.raises(ValueError, match=r"`ratio` must be non-negative"):
        sample_size_proportions(0.1, 0.01, ratio=-2)
    with pytest.raises(ValueError, match=r"`alternative` must be one of"):
        mde_proportions(0.1, 100, alternative="greater")
    with pytest.raises(ValueError, match=r"`nobs1` must be large enough that a rate in \[0, 1\]"):
        mde_proportions(0.9, 5)
    with pytest.raises(ValueError, match=r"`sd` must be positive and finite; got 0.0"):
        sample_size_means(0.0, 1.0)
    with pytest.raises(ValueError, match=r"`baseline` \(the control mean\) is required"):
        sample_size_means(1.0, 0.1, relative=True)
    with pytest.raises(ValueError, match=r"`baseline` must be non-zero for a relative effect"):
        mde_means(1.0, 100, baseline=0.0, relative=True)
    with pytest.raises(ValueError, match=r"`test` must be 't' or 'normal', got 'z'"):
        sample_size_means(1.0, 0.1, test="z")
    with pytest.raises(ValueError, match=r"`method` must be 'normal'"):
        proportion_effectsize(0.1, 0.2, method="arcsin")
    with pytest.raises(ValueError, match=r"`prop2` must be in \[0, 1\]; got 1.5"):
        proportion_effectsize(0.1, 1.5)


def test_docstring_examples():
    result = doctest.testmod(fp, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
