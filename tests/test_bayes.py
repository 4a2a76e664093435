"""Tests of fastinf.bayes: exact Beta-binomial A/B quantities and the normal-normal model.

References, all independent of the kernel's quadrature:

* Evan Miller's closed form for integer parameters, summed in exact rational
  arithmetic (``fractions.Fraction``): the chance to win and, through the
  shifted-parameter identity, the expected losses, exactly;
* ``scipy.integrate.quad`` of the same one-dimensional integrals in the
  log-odds, with ``scipy.stats.beta`` densities and ``scipy.special.betainc``
  distribution functions, for arbitrary (also non-integer) parameters and
  counts up to 1e7;
* NumPy Monte-Carlo Beta draws, with the Monte-Carlo error stated;
* the normal-normal formulas written out with ``scipy.stats.norm`` and
  ``scipy.stats.truncnorm``, as gbstats computes them.

mpmath is not installed here, so the exact sums are the high-precision reference.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from scipy import integrate, special, stats

from fastinf.bayes import (
    beta_binomial_ab,
    beta_binomial_chance_to_win,
    normal_ab,
    normal_ab_from_estimate,
)

# --------------------------------------------------------------------------
# references


def _fbeta(x: int, y: int) -> Fraction:
    """B(x, y) for positive integers, exactly."""
    return Fraction(math.factorial(x - 1) * math.factorial(y - 1), math.factorial(x + y - 1))


def _miller(a_a: int, b_a: int, a_b: int, b_b: int) -> Fraction:
    """P(p_B > p_A) for integer posteriors (Evan Miller's sum), exactly."""
    total = Fraction(0)
    for i in range(a_b):
        total += _fbeta(a_a + i, b_a + b_b) / ((b_b + i) * _fbeta(1 + i, b_b) * _fbeta(a_a, b_a))
    return total


def _miller_losses(a_a: int, b_a: int, a_b: int, b_b: int) -> tuple[Fraction, Fraction]:
    """(E[max(p_B - p_A, 0)], E[max(p_A - p_B, 0)]) exactly, via the a + 1 identity."""
    m_a = Fraction(a_a, a_a + b_a)
    m_b = Fraction(a_b, a_b + b_b)
    loss_a = m_b * _miller(a_a, b_a, a_b + 1, b_b) - m_a * _miller(a_a + 1, b_a, a_b, b_b)
    return loss_a, loss_a - (m_b - m_a)


def _quad_t(fun, a: float, b: float, extra_points=()) -> float:
    """Integrate fun(x) f(x; a, b) dx over the log-odds, adaptively, to ~1e-14."""
    lo = special.logit(max(special.betaincinv(a, b, 1e-22), 1e-300))
    hi = -special.logit(max(special.betaincinv(b, a, 1e-22), 1e-300))  # 1 - x of the upper end
    pts = [p for p in (math.log(a / b), *extra_points) if lo < p < hi]

    def g(t):
        x = special.expit(t)
        omx = special.expit(-t)
        # scipy's pdf (Boost's ibeta_derivative) keeps its relative accuracy
        # at counts of 1e7, where logpdf (via betaln) loses ~7 digits.
        # Within 1e-8 of an end (where x or 1 - x rounds) the log form is
        # accurate: its terms are small there.
        if min(x, omx) > 1e-8:
            return stats.beta.pdf(x, a, b) * x * omx * fun(x)
        return math.exp(a * math.log(x) + b * math.log(omx) - special.betaln(a, b)) * fun(x)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, _ = integrate.quad(g, lo, hi, points=sorted(pts) or None, epsabs=1e-15,
                                epsrel=1e-13, limit=1000)
    return val


def _quad_reference(a_a, b_a, a_b, b_b):
    """(chance, loss_a, loss_b) by quadrature of one density against the other's CDF.

    The outer density is the narrower one (in the log-odds), so that quad
    meets a smooth distribution function rather than a narrow step:
    ``P(B > A) = int f_A S_B = int f_B F_A``, ``E[max(B - A, 0)] = int f_A
    (m_B S_B+ - x S_B) = int f_B (y F_A - m_A F_A+)`` and likewise for A - B
    (``+``: the parameter alpha + 1).
    """
    m_a = a_a / (a_a + b_a)
    m_b = a_b / (a_b + b_b)
    if 1 / a_a + 1 / b_a <= 1 / a_b + 1 / b_b:
        pts = (math.log(a_b / b_b),)
        chance = _quad_t(lambda x: special.betaincc(a_b, b_b, x), a_a, b_a, pts)
        loss_a = _quad_t(lambda x: m_b * special.betaincc(a_b + 1, b_b, x)
                         - x * special.betaincc(a_b, b_b, x), a_a, b_a, pts)
        loss_b = _quad_t(lambda x: x * special.betainc(a_b, b_b, x)
                         - m_b * special.betainc(a_b + 1, b_b, x), a_a, b_a, pts)
    else:
        pts = (math.log(a_a / b_a),)
        chance = _quad_t(lambda y: special.betainc(a_a, b_a, y), a_b, b_b, pts)
        loss_a = _quad_t(lambda y: y * special.betainc(a_a, b_a, y)
                         - m_a * special.betainc(a_a + 1, b_a, y), a_b, b_b, pts)
        loss_b = _quad_t(lambda y: m_a * special.betaincc(a_a + 1, b_a, y)
                         - y * special.betaincc(a_a, b_a, y), a_b, b_b, pts)
    return chance, loss_a, loss_b


def _posteriors(res):
    return (float(res.alpha_a), float(res.beta_a), float(res.alpha_b), float(res.beta_b))


# --------------------------------------------------------------------------
# exactness


EXACT_CASES = [
    (0, 10, 0, 10), (0, 1, 1, 1), (3, 10, 7, 12), (10, 10, 0, 10), (5, 40, 9, 40),
    (1, 50, 1, 3), (30, 60, 20, 60), (0, 0, 0, 5), (12, 20, 12, 20),
]


@pytest.mark.parametrize("case", EXACT_CASES)
def test_exact_rational_reference(case):
    # Exact rationals against the kernel: only the kernel's own error (the
    # quadrature, < 1e-13 here) and rounding of the reference to float remain.
    sa, na, sb, nb = case
    res = beta_binomial_ab(sa, na, sb, nb, intervals=False)
    a_a, b_a, a_b, b_b = sa + 1, na - sa + 1, sb + 1, nb - sb + 1
    chance = _miller(a_a, b_a, a_b, b_b)
    loss_a, loss_b = _miller_losses(a_a, b_a, a_b, b_b)
    assert abs(res.chance_to_win - float(chance)) < 1e-13
    assert abs(res.expected_loss_a - float(loss_a)) < 1e-13
    assert abs(res.expected_loss_b - float(loss_b)) < 1e-13


def test_quadrature_reference_random_parameters():
    # Random priors (also non-integer, Jeffreys-like), counts from 0 to 1e7,
    # rates from 0 to 1 including zero and all successes. quad's own error
    # is ~1e-13 here; the target is 1e-10 absolute in probabilities and losses.
    rng = np.random.default_rng(20240611)
    rows = []
    for _ in range(40):
        n_a, n_b = (int(10 ** rng.uniform(0, 7)) for _ in range(2))
        p = rng.uniform(0.0, 1.0) ** 2
        s_a = int(rng.binomial(n_a, p))
        s_b = int(rng.binomial(n_b, min(1.0, p * rng.uniform(0.9, 1.1))))
        rows.append((s_a, n_a, s_b, n_b, rng.uniform(0.2, 3.0), rng.uniform(0.2, 3.0)))
    rows += [(0, 10_000_000, 3, 10_000_000, 0.5, 0.5), (10_000_000, 10_000_000, 9_999_990,
             10_000_000, 1.0, 1.0), (0, 5, 5, 5, 0.3, 0.3), (500_000, 10_000_000, 500_400,
             10_000_000, 1.0, 1.0)]
    arr = np.array(rows, dtype=float)
    res = beta_binomial_ab(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], prior_alpha=arr[:, 4],
                           prior_beta=arr[:, 5], intervals=False)
    for i in range(len(rows)):
        ref = _quad_reference(res.alpha_a[i], res.beta_a[i], res.alpha_b[i], res.beta_b[i])
        got = (res.chance_to_win[i], res.expected_loss_a[i], res.expected_loss_b[i])
        assert np.allclose(got, ref, rtol=0, atol=1e-10), (rows[i], got, ref)


def test_monte_carlo_agreement():
    # 400 000 NumPy Beta draws per experiment: the chance's MC standard error
    # is <= sqrt(0.25 / 4e5) = 7.9e-4 and the losses' is below sd(max(.,0)) /
    # sqrt(4e5); a 5-sigma band fails by chance with probability ~6e-7 per check.
    rng = np.random.default_rng(7)
    cases = [(120, 1000, 140, 1000), (3, 40, 1, 35), (20_000, 200_000, 20_300, 200_000)]
    for sa, na, sb, nb in cases:
        res = beta_binomial_ab(sa, na, sb, nb)
        pa = rng.beta(sa + 1, na - sa + 1, 400_000)
        pb = rng.beta(sb + 1, nb - sb + 1, 400_000)
        win = pb > pa
        assert abs(res.chance_to_win - win.mean()) < 5 * math.sqrt(0.25 / win.size)
        for got, draws in ((res.expected_loss_a, np.maximum(pb - pa, 0)),
                           (res.expected_loss_b, np.maximum(pa - pb, 0))):
            assert abs(got - draws.mean()) < 5 * draws.std() / math.sqrt(draws.size) + 1e-12
        # The intervals' endpoints are MC quantiles to within a few sample quantile
        # standard errors; 0.5 % of the interval width is > 5 of them here.
        for (lo, hi), draws in ((res.lift_interval, pb / pa - 1), (res.difference_interval, pb - pa)):
            q = np.quantile(draws, [0.025, 0.975])
            assert abs(lo - q[0]) < 0.005 * (hi - lo) and abs(hi - q[1]) < 0.005 * (hi - lo)


def test_equal_arms_and_swap_symmetry():
    res = beta_binomial_ab([0, 37, 5_000], [10, 500, 1_000_000], [0, 37, 5_000],
                           [10, 500, 1_000_000], intervals=False)
    assert np.all(res.chance_to_win == 0.5)
    assert np.array_equal(res.expected_loss_a, res.expected_loss_b)
    rng = np.random.default_rng(3)
    n = rng.integers(1, 100_000, 50)
    sa, sb = rng.binomial(n, 0.1), rng.binomial(n, 0.11)
    ab = beta_binomial_ab(sa, n, sb, n, intervals=False)
    ba = beta_binomial_ab(sb, n, sa, n, intervals=False)
    # Swapping arms exchanges which density is integrated: equal to rounding.
    assert np.allclose(ab.chance_to_win, 1 - ba.chance_to_win, rtol=0, atol=1e-13)
    assert np.allclose(ab.expected_loss_a, ba.expected_loss_b, rtol=1e-11, atol=1e-15)
    # E[max(B - A, 0)] - E[max(A - B, 0)] = E[B] - E[A]
    assert np.allclose(ab.expected_loss_a - ab.expected_loss_b, ab.mean_b - ab.mean_a,
                       rtol=0, atol=1e-14)


def test_normal_limit_of_huge_counts():
    # At 1e7 trials the posteriors are normal to O(1/sqrt(n)): the normal
    # approximation's chance agrees to ~1e-3 (its own error, not ours).
    n = 10_000_000
    res = beta_binomial_ab(1_000_000, n, 1_000_900, n, intervals=False)
    ma, mb = res.mean_a, res.mean_b
    sd = math.sqrt(ma * (1 - ma) / n + mb * (1 - mb) / n)
    assert abs(res.chance_to_win - stats.norm.cdf((mb - ma) / sd)) < 1e-3


def test_intervals_exact():
    n = np.array([10, 200, 5_000, 1_000_000, 30])
    sa = np.array([0, 20, 400, 100_000, 30])
    sb = np.array([2, 30, 380, 100_600, 29])
    res = beta_binomial_ab(sa, n, sb, n, prior_alpha=0.5, prior_beta=0.5, credible_level=0.9)
    a_a, b_a, a_b, b_b = res.alpha_a, res.beta_a, res.alpha_b, res.beta_b
    # Rate intervals: scipy's own Beta quantiles.
    for (lo, hi), a, b in ((res.rate_a_interval, a_a, b_a), (res.rate_b_interval, a_b, b_b)):
        assert np.allclose(lo, stats.beta.ppf(0.05, a, b), rtol=1e-12, atol=0)
        assert np.allclose(hi, stats.beta.ppf(0.95, a, b), rtol=1e-12, atol=0)
    # Lift and difference: the reference distribution function (quad) at the
    # endpoints is the target probability, to quad's accuracy.
    for i in range(n.size):
        args = (a_a[i], b_a[i])
        a_bi, b_bi = a_b[i], b_b[i]
        for r, q in ((res.lift_interval.low[i] + 1, 0.05), (res.lift_interval.high[i] + 1, 0.95)):
            cdf = _quad_t(lambda x, r=r, a_bi=a_bi, b_bi=b_bi: special.betainc(a_bi, b_bi, min(r * x, 1.0)), *args,
                          extra_points=(math.log(a_bi / b_bi) - math.log(r),))
            assert abs(cdf - q) < 1e-9
        for d, q in ((res.difference_interval.low[i], 0.05),
                     (res.difference_interval.high[i], 0.95)):
            cdf = _quad_t(lambda x, d=d, a_bi=a_bi, b_bi=b_bi: special.betainc(a_bi, b_bi, min(max(x + d, 0.0), 1.0)),
                          *args)
            assert abs(cdf - q) < 1e-9


# --------------------------------------------------------------------------
# large counts: the characteristic-function path


_DENSE_RULE = np.polynomial.legendre.leggauss(300)


def _dense(kind, arg, a_a, b_a, a_b, b_b):
    """``P(p_B > p_A)``, ``E[max(p_B - p_A, 0)]`` or the ratio's or difference's CDF at ``arg``.

    Dense Gauss-Legendre (300 nodes, +-12 sd; the same to 4e-16 as 3000
    nodes) over the narrower arm's Beta density, independent of both kernel
    paths: scipy's (Boost's) ``beta.pdf`` and ``betainc``, normalised by the
    rule's own mass (which removes its bias of ~1e-14 at 1e6 counts).
    """
    nodes, weights = _DENSE_RULE
    v_a = a_a * b_a / ((a_a + b_a) ** 2 * (a_a + b_a + 1))
    v_b = a_b * b_b / ((a_b + b_b) ** 2 * (a_b + b_b + 1))
    outer_a = v_a <= v_b
    a, b = (a_a, b_a) if outer_a else (a_b, b_b)
    m, sd = a / (a + b), math.sqrt(min(v_a, v_b))
    lo, hi = max(m - 12 * sd, 0.0), min(m + 12 * sd, 1.0)
    x = 0.5 * (hi - lo) * nodes + 0.5 * (hi + lo)
    m_a, m_b = a_a / (a_a + b_a), a_b / (a_b + b_b)
    if kind == "chance":
        g = special.betaincc(a_b, b_b, x) if outer_a else special.betainc(a_a, b_a, x)
    elif kind == "loss_a":
        g = (m_b * special.betaincc(a_b + 1, b_b, x) - x * special.betaincc(a_b, b_b, x)
             if outer_a else
             x * special.betainc(a_a, b_a, x) - m_a * special.betainc(a_a + 1, b_a, x))
    elif kind == "ratio":  # P(p_B / p_A <= arg)
        g = (special.betainc(a_b, b_b, np.minimum(arg * x, 1.0)) if outer_a
             else special.betaincc(a_a, b_a, np.minimum(x / arg, 1.0)))
    else:  # P(p_B - p_A <= arg)
        g = (special.betainc(a_b, b_b, np.clip(x + arg, 0.0, 1.0)) if outer_a
             else special.betaincc(a_a, b_a, np.clip(x - arg, 0.0, 1.0)))
    f = weights * stats.beta.pdf(x, a, b)
    return float(np.sum(f * g) / np.sum(f))


def _large_cases(rng, k):
    n_a = rng.integers(5_000, 2_000_000, k)
    n_b = rng.integers(5_000, 2_000_000, k)
    p = rng.uniform(0.02, 0.5, k)
    s_a = rng.binomial(n_a, p)
    s_b = rng.binomial(n_b, p * rng.uniform(0.97, 1.03, k))
    return s_a, n_a, s_b, n_b


def test_large_counts_against_dense_quadrature():
    # Every parameter >= 400 here, so the kernel takes the characteristic-
    # function path. The arbiter agrees with it to ~7e-15 (the old panel
    # quadrature is off by up to 2e-13 at these counts: its log density
    # carries eps a |d| rounding); 3e-14 leaves room for both.
    rng = np.random.default_rng(20240612)
    s_a, n_a, s_b, n_b = _large_cases(rng, 12)
    res = beta_binomial_ab(s_a, n_a, s_b, n_b, intervals=False)
    for i in range(s_a.size):
        a_a, b_a, a_b, b_b = (float(v[i]) for v in (res.alpha_a, res.beta_a, res.alpha_b,
                                                     res.beta_b))
        assert min(a_a, b_a, a_b, b_b) >= 400
        m_a, m_b = a_a / (a_a + b_a), a_b / (a_b + b_b)
        chance = _dense("chance", None, a_a, b_a, a_b, b_b)
        loss_a = _dense("loss_a", None, a_a, b_a, a_b, b_b)
        assert abs(res.chance_to_win[i] - chance) < 3e-14
        assert abs(res.expected_loss_a[i] - loss_a) < 3e-15
        assert abs(res.expected_loss_b[i] - (loss_a - (m_b - m_a))) < 3e-15


def test_paths_agree_at_the_threshold():
    # Around 400 conversions both paths are accurate to ~5e-15 (see above);
    # below it the result is the quadrature kernel's, bit for bit.
    from fastinf.bayes import _LEVELS, _NODES, _rule
    from fastinf.kernels import bayes as K

    rng = np.random.default_rng(11)
    a_a = rng.uniform(300, 700, 60).round()
    a_b = (a_a * rng.uniform(0.9, 1.1, 60)).round()
    b_a = rng.uniform(300, 20_000, 60).round()
    b_b = (b_a * rng.uniform(0.9, 1.1, 60)).round()
    res = beta_binomial_ab(a_a - 1, a_a + b_a - 2, a_b - 1, a_b + b_b - 2, intervals=False)
    x, w, c = _rule(_NODES)
    ref = [np.empty(60) for _ in range(3)]
    K.beta_ab_quadrature(a_a, b_a, a_b, b_b, _LEVELS, x, w, c, *ref)
    got = (res.chance_to_win, res.expected_loss_a, res.expected_loss_b)
    small = np.minimum(np.minimum(a_a, b_a), np.minimum(a_b, b_b)) < 400
    assert small.any() and (~small).any()
    for g, r in zip(got, ref, strict=True):
        assert np.array_equal(g[small], r[small])
        assert np.allclose(g, r, rtol=0, atol=5e-14)


@pytest.mark.parametrize("level", [0.95, 0.999])
def test_large_count_intervals(level):
    rng = np.random.default_rng(17)
    s_a, n_a, s_b, n_b = _large_cases(rng, 6)
    res = beta_binomial_ab(s_a, n_a, s_b, n_b, credible_level=level)
    q = (0.5 * (1 - level), 0.5 * (1 + level))
    # Rates: scipy's own Beta quantiles within 1e-12 relative (the brief's pin;
    # at 1e6 counts betaincinv itself misses q by ~2e-11, which the in-kernel
    # Newton does not), and scipy's betainc at the endpoints is q to 1e-13.
    for (lo, hi), a, b in ((res.rate_a_interval, res.alpha_a, res.beta_a),
                           (res.rate_b_interval, res.alpha_b, res.beta_b)):
        assert np.allclose(lo, stats.beta.ppf(q[0], a, b), rtol=1e-12, atol=0)
        assert np.allclose(hi, stats.beta.ppf(q[1], a, b), rtol=1e-12, atol=0)
        assert np.allclose(special.betainc(a, b, lo), q[0], rtol=0, atol=1e-13)
        assert np.allclose(special.betainc(a, b, hi), q[1], rtol=0, atol=1e-13)
    # Lift and difference: the dense arbiter's distribution function at the
    # endpoints is the target probability (to ~1e-14; 1e-13 asserted).
    for i in range(s_a.size):
        a_a, b_a, a_b, b_b = (float(v[i]) for v in (res.alpha_a, res.beta_a, res.alpha_b,
                                                     res.beta_b))
        for r, target in ((res.lift_interval.low[i] + 1, q[0]),
                          (res.lift_interval.high[i] + 1, q[1])):
            cdf = _dense("ratio", r, a_a, b_a, a_b, b_b)
            assert abs(cdf - target) < 1e-13
        for d, target in ((res.difference_interval.low[i], q[0]),
                          (res.difference_interval.high[i], q[1])):
            cdf = _dense("difference", d, a_a, b_a, a_b, b_b)
            assert abs(cdf - target) < 1e-13


# --------------------------------------------------------------------------
# shapes, batching, determinism


def test_shapes_and_broadcasting():
    res = beta_binomial_ab(10, 100, 12, 100)
    assert np.ndim(res.chance_to_win) == 0 and np.ndim(res.lift_interval.low) == 0
    sa = np.array([[1, 2, 3], [4, 5, 6]])
    res = beta_binomial_ab(sa, 50, 7, [50, 60, 70], prior_alpha=[[1.0], [2.0]])
    assert res.chance_to_win.shape == (2, 3) and res.lift_interval.high.shape == (2, 3)
    assert res.alpha_a[1, 0] == 2.0 + 4 and res.alpha_b[0, 2] == 1.0 + 7
    assert res.beta_b[1, 2] == 1.0 + 63
    res_b = beta_binomial_ab(3, 10, 4, 10, prior_alpha=2.0, prior_beta=3.0, prior_alpha_b=1.0,
                             prior_beta_b=1.0, intervals=False)
    assert _posteriors(res_b) == (5.0, 10.0, 5.0, 7.0)
    assert beta_binomial_chance_to_win(3, 10, 4, 10) == beta_binomial_ab(3, 10, 4, 10).chance_to_win


def test_batch_equals_loop():
    rng = np.random.default_rng(5)
    n = rng.integers(1, 10_000, 12)
    sa, sb = rng.binomial(n, 0.2), rng.binomial(n, 0.21)
    batch = beta_binomial_ab(sa, n, sb, n)
    for i in range(n.size):
        one = beta_binomial_ab(sa[i], n[i], sb[i], n[i])
        assert one.chance_to_win == batch.chance_to_win[i]
        assert one.expected_loss_a == batch.expected_loss_a[i]
        assert one.lift_interval.low == batch.lift_interval.low[i]
        assert one.difference_interval.high == batch.difference_interval.high[i]


def test_thread_count_does_not_change_results(threads):
    rng = np.random.default_rng(9)
    n = rng.integers(100, 1_000_000, 64)
    sa, sb = rng.binomial(n, 0.05), rng.binomial(n, 0.052)
    out = []
    for k in (1, 2):
        with threads(k):
            r = beta_binomial_ab(sa, n, sb, n)
        out.append(np.concatenate([r.chance_to_win, r.expected_loss_a, r.expected_loss_b,
                                   *r.lift_interval, *r.difference_interval]).tobytes())
    assert out[0] == out[1]


def test_nan_propagates():
    res = beta_binomial_ab([1, np.nan], [10, 10], [2, 2], [10, 10])
    assert np.isnan(res.chance_to_win[1]) and np.isnan(res.lift_interval.low[1])
    assert not np.isnan(res.chance_to_win[0])


# --------------------------------------------------------------------------
# validation


@pytest.mark.parametrize("kwargs, match", [
    (dict(successes_a=[1, -1]), r"`successes_a` must hold non-negative integers; experiment \(1,\) has -1.0"),
    (dict(trials_b=[10, 2.5]), r"`trials_b` must hold non-negative integers; experiment \(1,\) has 2.5"),
    (dict(successes_b=[3, 11]), r"`successes_b` must not exceed `trials_b`; got 11.0 > 10.0 in experiment \(1,\)"),
    (dict(successes_a=[1, np.nan], nan_policy="raise"), r"`successes_a` contains NaN; experiment \(1,\)"),
    (dict(prior_alpha=0.0), r"`prior_alpha` must be positive and finite; experiment \(0,\) has 0.0"),
    (dict(prior_beta_b=[1.0, -2.0]), r"`prior_beta_b` must be positive and finite; experiment \(1,\) has -2.0"),
    (dict(trials_a=[10, 10, 10]), r"do not broadcast together: `successes_a` \(2,\), `trials_a` \(3,\)"),
    (dict(credible_level=1.0), r"`credible_level` must be in the open interval \(0, 1\); got 1.0"),
    (dict(nan_policy="omit"), r"`nan_policy` must be one of"),
])
def test_beta_binomial_errors(kwargs, match):
    args = dict(successes_a=[1, 2], trials_a=[10, 10], successes_b=[3, 4], trials_b=[10, 10])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        beta_binomial_ab(args.pop("successes_a"), args.pop("trials_a"), args.pop("successes_b"),
                         args.pop("trials_b"), **args)


def test_beta_binomial_type_errors():
    with pytest.raises(TypeError, match=r"`trials_a` must be a number or an array of numbers"):
        beta_binomial_ab(1, "10", 2, 10)
    with pytest.raises(TypeError, match=r"`credible_level` must be a number"):
        beta_binomial_ab(1, 10, 2, 10, credible_level="high")


# --------------------------------------------------------------------------
# normal-normal


def _gbstats_like(est, se, prior_mean=0.0, prior_var=None, alpha=0.05):
    """gbstats' EffectBayesianABTest posterior and risk, written with scipy.stats."""
    if prior_var is None:
        mu, sd = est, se
    else:
        prec = 1 / se**2 + 1 / prior_var
        mu, sd = (est / se**2 + prior_mean / prior_var) / prec, math.sqrt(1 / prec)
    ctw = stats.norm.sf(0, mu, sd)
    p_ctrl = stats.norm.cdf(0.0, mu, sd)
    mn_neg = stats.truncnorm.mean(-np.inf, (0 - mu) / sd, loc=mu, scale=sd)
    mn_pos = stats.truncnorm.mean((0 - mu) / sd, np.inf, loc=mu, scale=sd)
    risk = ((1 - p_ctrl) * mn_pos, -p_ctrl * mn_neg)
    ci = stats.norm.ppf([alpha / 2, 1 - alpha / 2], mu, sd)
    return ctw, risk, ci, mu, sd


@pytest.mark.parametrize("relative", [True, False])
@pytest.mark.parametrize("prior_sd", [None, 0.05])
def test_normal_ab_matches_gbstats_formulas(relative, prior_sd):
    rng = np.random.default_rng(13)
    ma, mb = rng.uniform(5, 15, 20), rng.uniform(5, 15, 20) * 0 + 10.1
    va, vb = rng.uniform(10, 50, 20), rng.uniform(10, 50, 20)
    na, nb = rng.integers(100, 20_000, 20), rng.integers(100, 20_000, 20)
    res = normal_ab(ma, va, na, mb, vb, nb, relative=relative, prior_sd=prior_sd, prior_mean=0.01)
    for i in range(20):
        if relative:
            est = (mb[i] - ma[i]) / ma[i]
            var = vb[i] / nb[i] / ma[i] ** 2 + va[i] / na[i] * mb[i] ** 2 / ma[i] ** 4
        else:
            est, var = mb[i] - ma[i], va[i] / na[i] + vb[i] / nb[i]
        ctw, risk, ci, mu, sd = _gbstats_like(
            est, math.sqrt(var), 0.01, None if prior_sd is None else prior_sd**2)
        assert math.isclose(res.chance_to_win[i], ctw, rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(res.expected[i], mu, rel_tol=1e-12)
        assert math.isclose(res.posterior_sd[i], sd, rel_tol=1e-12)
        # truncnorm's mean is itself accurate to ~1e-12 relative here.
        assert math.isclose(res.expected_loss_a[i], risk[0], rel_tol=1e-9, abs_tol=1e-15)
        assert math.isclose(res.expected_loss_b[i], risk[1], rel_tol=1e-9, abs_tol=1e-15)
        assert np.allclose([res.credible_interval.low[i], res.credible_interval.high[i]], ci,
                           rtol=1e-12)


def test_normal_ab_from_estimate_and_symmetry():
    res = normal_ab_from_estimate([0.02, -0.02], 0.01, prior_sd=0.05, credible_level=0.9)
    assert math.isclose(res.chance_to_win[0], 1 - res.chance_to_win[1], rel_tol=1e-14)
    assert math.isclose(res.expected_loss_a[0], res.expected_loss_b[1], rel_tol=1e-14)
    direct = normal_ab(10.0, 25.0, 5000, 10.2, 26.0, 5000)
    again = normal_ab_from_estimate(direct.estimate, direct.standard_error)
    assert again.chance_to_win == direct.chance_to_win
    # risk identity: E[max(X, 0)] - E[max(-X, 0)] = E[X]
    assert math.isclose(direct.expected_loss_a - direct.expected_loss_b, direct.expected,
                        rel_tol=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: normal_ab(0.0, 1, 10, 1, 1, 10), r"`mean_a` must be non-zero for a relative effect; got 0.0"),
    (lambda: normal_ab(1.0, -1, 10, 1, 1, 10), r"`var_a` must be non-negative; got -1.0"),
    (lambda: normal_ab(1.0, 1, [10, 0], 1, 1, 10), r"`n_a` must be positive; experiment \(1,\) has 0.0"),
    (lambda: normal_ab(1.0, 1, 10, np.nan, 1, 10), r"`mean_b` must be finite; got nan"),
    (lambda: normal_ab(1.0, 0, 10, 1, 0, 10), r"both arms have zero variance"),
    (lambda: normal_ab([1.0, 2.0], 1, 10, [1, 2, 3], 1, 10), r"do not broadcast together"),
    (lambda: normal_ab(1.0, 1, 10, 1, 1, 10, prior_sd=0.0), r"`prior_sd` must be positive and finite; got 0.0"),
    (lambda: normal_ab_from_estimate(0.1, [0.1, 0.0]), r"`standard_error` must be positive and finite; experiment \(1,\) has 0.0"),
    (lambda: normal_ab_from_estimate(0.1, 0.1, credible_level=0.0), r"`credible_level` must be in the open interval"),
])
def test_normal_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
