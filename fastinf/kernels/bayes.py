r"""Kernels of :mod:`fastinf.bayes`: exact Beta-binomial A/B quantities by quadrature.

Every quantity of the Beta-binomial A/B model is a one-dimensional integral
of one posterior density against the other posterior's distribution function,

.. math::

    Q = \int_0^1 f_U(x)\, G_V(c x - s)\, dx, \qquad G \in \{F, 1 - F\},

with ``c = 1, s = 0`` for the chance to win and the expected losses,
``0 < c <= 1`` for the distribution function of the ratio ``p_B / p_A`` and
``c = 1, s >= 0`` for that of the difference ``p_B - p_A`` (the arms are
swapped so that the map never leaves the support at 1).

How :func:`_core` evaluates it, per experiment:

* Coordinates. Both densities are written in the log-odds ``t = log(x /
  (1 - x))``, where the Beta(a, b) density ``x^a (1 - x)^b / B(a, b)`` is
  smooth, log-concave and has exponential tails (rates ``a`` and ``b``)
  whatever ``a, b > 0``: no end-point singularity is left for the quadrature.
  The log density is evaluated as its decline from the mode, a function of
  the log-odds itself, plus the peak from the Stirling remainder (as in
  Loader's algorithm for R's ``dbinom``), so it keeps full relative accuracy
  at counts of 1e7 where the naive ``lgamma`` form loses six digits.
* Panels. For each density, break points are placed where its log density
  has fallen by ``levels`` (e.g. 0.5, 2, ..., 40.5) from the mode on either
  side (Newton on the convex decline). The mass beyond the outermost level
  ``D`` is below ``exp(-D) f_max / |slope|`` (log-concavity), 1e-18 for the
  default ``D = 40.5``. The integration range is the range of ``U``; the
  break points of ``V`` that fall inside it (mapped through ``y = c x - s``)
  and the point where ``y = 0`` are added, so every panel lies within one
  level band of *both* densities, and each density changes by a bounded
  factor across it, whatever their relative widths and positions.
* Rule. Gauss-Legendre with ``n`` nodes on every panel. ``G_V`` at the nodes
  comes from the cumulative integral of ``V``'s density along the same nodes
  (the Gauss-Legendre indefinite-integration matrix, exact for the degree
  ``n - 1`` interpolant of the density on the panel), started from the mass
  of ``V`` left of the range (``F``) and, separately, right of it (``1 - F``;
  both computed by the same rule on ``V``'s own panels), so that a small
  ``F`` and a small ``1 - F`` both keep their relative accuracy.

With the shifted parameters ``a + 1`` (``x f(x; a, b) = m f(x; a + 1, b)``,
``m = a / (a + b)``) the same pass gives the expected losses
``E[max(p_V - p_U, 0)] = \int f_U(x) \int_x^1 (y - x) f_V(y) dy dx``.

Quantiles of the ratio and of the difference (the credible intervals) are
found by a bracketed Newton iteration on these distribution functions,
whose derivatives come out of the same pass.

Every experiment writes its own output slots; nothing is shared between the
``prange`` iterations, so results do not depend on the thread count.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_INV_2PI = 1.0 / (2.0 * math.pi)
_MAX_NEWTON = 60
_MAX_ROOT = 100


@jit
def stirlerr(x: float) -> float:
    """``lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2)``, accurate for x > 0."""
    if x >= 15.0:
        # Stirling's series; the next term, 691 / (360360 x^11), is < 3e-16.
        x2 = 1.0 / (x * x)
        return (
            1.0 / 12.0 - x2 * (1.0 / 360.0 - x2 * (1.0 / 1260.0 - x2 * (1.0 / 1680.0 - x2 / 1188.0)))
        ) / x
    return math.lgamma(x) - ((x - 0.5) * math.log(x) - x + _HALF_LOG_2PI)


@jit
def log_peak(a: float, b: float) -> float:
    """Log of the Beta(a, b) log-odds density at its mode, ``log((a/n)^a (b/n)^b / B(a, b))``."""
    n = a + b
    # = log(a b / (2 pi n)) / 2 + stirlerr(n) - stirlerr(a) - stirlerr(b)
    return 0.5 * math.log(a * b * _INV_2PI / n) + stirlerr(n) - stirlerr(a) - stirlerr(b)


@jit
def log_density(a: float, b: float, mode: float, peak: float, t: float) -> float:
    """Log of the log-odds density ``x^a (1-x)^b / B(a, b)`` at ``t = logit(x)``.

    In the distance ``d = t - mode`` from the mode ``log(a / b)``, the decline
    from the peak is ``n log(1 + p (e^d - 1)) - a d`` (``p = a / n``); it is
    evaluated from ``t`` itself, so no rounding of ``x`` enters, and its
    rounding error is of order ``eps a |d|``, the conditioning of the problem.
    """
    n = a + b
    d = t - mode
    if d < 30.0:
        dec = n * math.log1p((a / n) * math.expm1(d)) - a * d
    else:
        # log(1 + p (e^d - 1)) = d + log(p) + log1p((1 - p) / p e^-d)
        dec = b * d + n * (math.log(a / n) + math.log1p((b / a) * math.exp(-d)))
    return peak - dec


@jit
def sigmoid(t: float) -> tuple[float, float]:
    """``(x, 1 - x)`` for ``x = 1 / (1 + exp(-t))``, both to full relative accuracy."""
    e = math.exp(-abs(t))
    d = 1.0 / (1.0 + e)
    if t >= 0.0:
        return d, e * d
    return e * d, d


@jit
def breakpoints(a: float, b: float, levels: np.ndarray, out: np.ndarray) -> None:
    """Log-odds where the Beta(a, b) log density has declined by ``levels`` from its mode.

    ``out`` (length ``2 L + 1``) receives them in increasing order: the left
    side from the outermost level in, the mode, then the right side. Newton
    on the convex decline from the Gaussian guess; the points need not be
    exact (they only place panels), so it stops within 1 % of the level.
    """
    n_lev = levels.size
    mode = math.log(a) - math.log(b)
    peak = log_peak(a, b)
    out[n_lev] = mode
    n = a + b
    curv = a * b / n
    for side in (-1.0, 1.0):
        for j in range(n_lev):
            target = levels[j]
            t = mode + side * math.sqrt(2.0 * target / curv)
            for _ in range(_MAX_NEWTON):
                g = peak - log_density(a, b, mode, peak, t) - target
                x, omx = sigmoid(t)
                slope = n * x - a if x < 0.5 else b - n * omx  # d decline / dt
                if slope == 0.0:
                    break
                t_new = t - g / slope
                if side * (t_new - mode) <= 0.0:
                    t_new = 0.5 * (t + mode)
                t = t_new
                if abs(g) <= 0.01 * target:
                    break
            if side < 0:
                out[n_lev - 1 - j] = t
            else:
                out[n_lev + 1 + j] = t


@jit
def _mass(a: float, b: float, bp: np.ndarray, lo: float, hi: float,
          nodes: np.ndarray, weights: np.ndarray, moment: bool) -> tuple[float, float]:
    """``(int f, int x f)`` of the Beta(a, b) log-odds density over ``[lo, hi]``.

    Gauss-Legendre on the density's own panels ``bp`` clipped to ``[lo, hi]``;
    ``x f`` (only with ``moment``) is the first moment's integrand.
    """
    mode = math.log(a) - math.log(b)
    peak = log_peak(a, b)
    m0 = 0.0
    m1 = 0.0
    for p in range(bp.size - 1):
        t0 = max(bp[p], lo)
        t1 = min(bp[p + 1], hi)
        if t1 <= t0:
            continue
        half = 0.5 * (t1 - t0)
        mid = 0.5 * (t1 + t0)
        for k in range(nodes.size):
            t = mid + half * nodes[k]
            f = math.exp(log_density(a, b, mode, peak, t)) * weights[k] * half
            m0 += f
            if moment:
                x, _ = sigmoid(t)
                m1 += f * x
    return m0, m1


@jit
def _insertion_sort(v: np.ndarray, n: int) -> None:
    for i in range(1, n):
        key = v[i]
        j = i - 1
        while j >= 0 and v[j] > key:
            v[j + 1] = v[j]
            j -= 1
        v[j + 1] = key


@jit
def _core(aU: float, bU: float, aV: float, bV: float, c: float, s: float, loss: bool,
          levels: np.ndarray, nodes: np.ndarray, weights: np.ndarray, cumul: np.ndarray,
          bpU: np.ndarray, bpV: np.ndarray, grid: np.ndarray, work: np.ndarray,
          out: np.ndarray) -> None:
    """The integrals of ``f_U`` against ``V`` at ``y = c x - s``; see the module docstring.

    Writes ``out``: 0 ``int f_U F_V(y)``, 1 ``int f_U (1 - F_V(y))``,
    2 ``int f_U f_V(y) y`` (the derivative of 0 in log c), 3 ``int f_U f_V(y)``
    (its derivative in -s); with ``loss`` (c = 1, s = 0 only): 4
    ``E[max(p_V - p_U, 0)]``, 5 ``E[max(p_U - p_V, 0)]``. ``bpU``, ``bpV``
    (2L + 1), ``grid`` (6L + 4) and ``work`` (13, max(4L + 2, nodes)) are
    scratch space.
    """
    n_nodes = nodes.size
    modeU = math.log(aU) - math.log(bU)
    modeV = math.log(aV) - math.log(bV)
    peakU = log_peak(aU, bU)
    peakV = log_peak(aV, bV)
    breakpoints(aU, bU, levels, bpU)
    breakpoints(aV, bV, levels, bpV)
    n_bp = bpU.size
    lo = bpU[0]
    hi = bpU[n_bp - 1]
    ident = c == 1.0 and s == 0.0
    omc = 1.0 - c
    # Grid: U's break points, V's mapped into U's log-odds, and y = 0. A
    # point of V closer to a point of U than a fifth of V's own band there
    # is dropped (the panel then spans at most 1.2 of V's bands, which the
    # rule still resolves), so that similar densities leave no sliver panels.
    vt = grid[2 * n_bp + 1:]
    for j in range(n_bp):
        if ident:
            vt[j] = bpV[j]
        else:
            y, omy = sigmoid(bpV[j])
            x = (y + s) / c
            omx = (omy - omc - s) / c
            vt[j] = math.log(x / omx) if (x > 0.0 and omx > 0.0) else math.nan
    m = 0
    for j in range(n_bp):
        grid[m] = bpU[j]
        m += 1
    for j in range(n_bp):
        tj = vt[j]
        if not (lo < tj < hi):  # also drops NaN
            continue
        band = math.inf
        if j > 0 and vt[j - 1] == vt[j - 1]:
            band = tj - vt[j - 1]
        if j + 1 < n_bp and vt[j + 1] == vt[j + 1]:
            band = min(band, vt[j + 1] - tj)
        near = math.inf
        for i in range(n_bp):
            near = min(near, abs(bpU[i] - tj))
        if near > 0.2 * band:
            grid[m] = tj
            m += 1
    if 0.0 < s < c:
        xb = s / c  # where y = 0
        tb = math.log(xb) - math.log1p(-xb)
        if lo < tb < hi:
            grid[m] = tb
            m += 1
    _insertion_sort(grid, m)

    # Mass of V left and right of the range (in V's own coordinates).
    x_lo, omx_lo = sigmoid(lo)
    y_lo = c * x_lo - s
    f_left = 0.0
    g_left = 0.0
    if y_lo > 0.0:
        tau_lo = lo if ident else math.log(y_lo / (omc + c * omx_lo + s))
        f_left, g_left = _mass(aV, bV, bpV, -math.inf, tau_lo, nodes, weights, loss)
    x_hi, omx_hi = sigmoid(hi)
    y_hi = c * x_hi - s
    f_right = 0.0
    g_right = 0.0
    if y_hi > 0.0:
        tau_hi = hi if ident else math.log(y_hi / (omc + c * omx_hi + s))
        f_right, g_right = _mass(aV, bV, bpV, tau_hi, math.inf, nodes, weights, loss)
    else:
        f_right = 1.0  # the whole range maps to y <= 0, where F_V = 0

    # One pass over the panels, left to right. Per panel: the mass of V's
    # density h (and of h y) across it, and the sums over its nodes of the
    # weight f_U w times the partial integrals of h from the panel's left
    # end and to its right end. A second, short pass over the panels adds
    # the mass of V before (for F) and after (for 1 - F) each panel.
    n_pan = m - 1
    work[:, :n_pan] = 0.0
    tot = work[0]
    gtot = work[1]
    wsum = work[2]  # sum f_U w
    xsum = work[3]  # sum f_U w x
    lp = work[4]  # sum f_U w (int from panel start of h)
    rp = work[5]  # sum f_U w (int to panel end of h)
    xlp = work[6]
    xrp = work[7]
    glp = work[8]
    grp = work[9]
    hv = work[10]
    fu = work[11]
    xs = work[12]
    dlog = 0.0
    dshift = 0.0
    for p in range(n_pan):
        t0 = grid[p]
        t1 = grid[p + 1]
        half = 0.5 * (t1 - t0)
        if half <= 0.0:
            continue
        mid = 0.5 * (t1 + t0)
        tp = 0.0
        gp = 0.0
        for k in range(n_nodes):
            t = mid + half * nodes[k]
            fu[k] = math.exp(log_density(aU, bU, modeU, peakU, t)) * weights[k] * half
            if ident:
                fv = math.exp(log_density(aV, bV, modeV, peakV, t))
                h = fv
                x, omx = sigmoid(t)
                xs[k] = x
                dlog += fu[k] * fv / omx
                dshift += fu[k] * fv / (x * omx)
            else:
                x, omx = sigmoid(t)
                y = c * x - s
                if y > 0.0:
                    omy = omc + c * omx + s
                    fv = math.exp(log_density(aV, bV, modeV, peakV, math.log(y / omy)))
                    # d/dt F_V(c x(t) - s) = f_V^x(y) c x (1 - x), f_V^x = f_V^t / (y (1 - y))
                    h = fv * (c * x * omx) / (y * omy)
                    dlog += fu[k] * fv / omy
                    dshift += fu[k] * fv / (y * omy)
                else:
                    h = 0.0
            hv[k] = h * half
            tp += hv[k] * weights[k]
            if loss:
                gp += hv[k] * weights[k] * xs[k]
        tot[p] = tp
        gtot[p] = gp
        for k in range(n_nodes):
            left = 0.0
            gleft = 0.0
            if loss:
                for j in range(n_nodes):
                    cj = cumul[k, j] * hv[j]
                    left += cj
                    gleft += cj * xs[j]
            else:
                for j in range(n_nodes):
                    left += cumul[k, j] * hv[j]
            right = tp - left
            wsum[p] += fu[k]
            lp[p] += fu[k] * left
            rp[p] += fu[k] * right
            if loss:
                xsum[p] += fu[k] * xs[k]
                xlp[p] += fu[k] * xs[k] * left
                xrp[p] += fu[k] * xs[k] * right
                glp[p] += fu[k] * gleft
                grp[p] += fu[k] * (gp - gleft)
    pf = 0.0
    ps = 0.0
    e_plus = 0.0
    e_minus = 0.0
    before = f_left
    gbefore = g_left
    for p in range(n_pan):
        pf += before * wsum[p] + lp[p]
        if loss:
            # E[max(x - p_V, 0)] = x F_V(x) - int_0^x y f_V(y) dy
            e_minus += (before * xsum[p] + xlp[p]) - (gbefore * wsum[p] + glp[p])
        before += tot[p]
        gbefore += gtot[p]
    after = f_right
    gafter = g_right
    for p in range(n_pan - 1, -1, -1):
        ps += after * wsum[p] + rp[p]
        if loss:
            # E[max(p_V - x, 0)] = int_x^1 y f_V(y) dy - x (1 - F_V(x))
            e_plus += (gafter * wsum[p] + grp[p]) - (after * xsum[p] + xrp[p])
        after += tot[p]
        gafter += gtot[p]
    out[0] = pf
    out[1] = ps
    out[2] = dlog
    out[3] = dshift
    out[4] = max(e_plus, 0.0)
    out[5] = max(e_minus, 0.0)


@jit
def _ratio_cdf(aA: float, bA: float, aB: float, bB: float, logr: float,
               levels: np.ndarray, nodes: np.ndarray, weights: np.ndarray, cumul: np.ndarray,
               bpU: np.ndarray, bpV: np.ndarray, grid: np.ndarray, work: np.ndarray,
          out: np.ndarray
               ) -> tuple[float, float, float]:
    """``(P(p_B/p_A <= r), P(p_B/p_A > r), d/d log r of the first)`` at ``r = exp(logr)``."""
    if logr <= 0.0:
        # int f_A(x) F_B(r x) dx
        _core(aA, bA, aB, bB, math.exp(logr), 0.0, False, levels, nodes, weights, cumul,
              bpU, bpV, grid, work, out)
        return out[0], out[1], out[2]
    # P(p_A >= p_B / r) = int f_B(y) (1 - F_A(y / r)) dy
    _core(aB, bB, aA, bA, math.exp(-logr), 0.0, False, levels, nodes, weights, cumul,
          bpU, bpV, grid, work, out)
    return out[1], out[0], out[2]


@jit
def _diff_cdf(aA: float, bA: float, aB: float, bB: float, d: float,
              levels: np.ndarray, nodes: np.ndarray, weights: np.ndarray, cumul: np.ndarray,
              bpU: np.ndarray, bpV: np.ndarray, grid: np.ndarray, work: np.ndarray,
          out: np.ndarray
              ) -> tuple[float, float, float]:
    """``(P(p_B - p_A <= d), P(p_B - p_A > d), density of p_B - p_A at d)``.

    The integral maps one rate onto the other shifted down by ``|d|``, which
    meets the lower end of the shifted posterior's support, where its
    distribution function behaves as ``y^alpha``. As ``p_B - p_A`` has the
    law of ``(1 - p_A) - (1 - p_B)``, the arms can also be exchanged for
    their complements (``Beta(beta, alpha)``); of the two, the form whose
    exponent is larger (smoother) is used.
    """
    if d <= 0.0:
        # int f_A(x) F_B(x - |d|) dx; or the same with A' = Beta(bB, aB), B' = Beta(bA, aA)
        if aB < bA:
            aA, bA, aB, bB = bB, aB, bA, aA
        _core(aA, bA, aB, bB, 1.0, -d, False, levels, nodes, weights, cumul,
              bpU, bpV, grid, work, out)
        return out[0], out[1], out[3]
    # P(p_A >= p_B - d) = int f_B(y) (1 - F_A(y - d)) dy
    if aA < bB:
        aA, bA, aB, bB = bB, aB, bA, aA
    _core(aB, bB, aA, bA, 1.0, d, False, levels, nodes, weights, cumul,
          bpU, bpV, grid, work, out)
    return out[1], out[0], out[3]


@jit
def _quantile(aA: float, bA: float, aB: float, bB: float, q: float, ratio: bool,
              guess: float, scale: float, lo_limit: float, hi_limit: float,
              levels: np.ndarray, nodes: np.ndarray, weights: np.ndarray, cumul: np.ndarray,
              bpU: np.ndarray, bpV: np.ndarray, grid: np.ndarray, work: np.ndarray,
          out: np.ndarray) -> float:
    """Quantile ``q`` of log(p_B / p_A) (``ratio``) or of p_B - p_A.

    Safeguarded Newton inside a bracket: start at ``guess`` (a normal
    approximation), step outwards by ``scale``, doubling, until the target is
    bracketed, then Newton steps that fall outside the bracket are replaced
    by bisection. For ``q > 1/2`` the residual is taken from the upper tail
    probability, computed directly, so both ends keep their relative accuracy.
    """
    upper = q > 0.5
    target = 1.0 - q if upper else q
    lo = lo_limit
    hi = hi_limit
    have_lo = False
    have_hi = False
    x = min(max(guess, lo_limit), hi_limit)
    step = scale
    for _ in range(_MAX_ROOT):
        if ratio:
            cdf, sf, dens = _ratio_cdf(aA, bA, aB, bB, x, levels, nodes, weights, cumul,
                                       bpU, bpV, grid, work, out)
        else:
            cdf, sf, dens = _diff_cdf(aA, bA, aB, bB, x, levels, nodes, weights, cumul,
                                      bpU, bpV, grid, work, out)
        # res = F(x) - q, from the tail that is small
        res = (target - sf) if upper else (cdf - target)
        if res == 0.0:
            return x
        if res < 0.0:
            lo = x
            have_lo = True
        else:
            hi = x
            have_hi = True
        if abs(res) <= 1e-16:
            return x
        newton = x - res / dens if dens > 0.0 else math.nan
        if have_lo and have_hi:
            if not (lo < newton < hi):
                newton = 0.5 * (lo + hi)
            elif abs(newton - x) <= 1e-9 * scale:
                # Newton converges quadratically: this last step is exact to
                # ~(1e-9)^2 of the spread, below the quadrature's own error.
                return newton
            if hi - lo <= 4e-16 * max(1.0, abs(x)):
                return newton
        elif have_lo:
            # still below the target: move right at least a step
            far = x + step
            if not (x < newton <= far):
                newton = far
                step *= 2.0
            if newton >= hi_limit:
                newton = 0.5 * (x + hi_limit)
        else:
            near = x - step
            if not (near <= newton < x):
                newton = near
                step *= 2.0
            if newton <= lo_limit:
                newton = 0.5 * (x + lo_limit)
        x = newton
    return x


@jit(parallel=True)
def beta_ab(aA: np.ndarray, bA: np.ndarray, aB: np.ndarray, bB: np.ndarray,
            levels: np.ndarray, nodes: np.ndarray, weights: np.ndarray, cumul: np.ndarray,
            chance: np.ndarray, loss_a: np.ndarray, loss_b: np.ndarray) -> None:
    """Chance to win ``P(p_B > p_A)`` and the expected losses, per experiment.

    ``loss_a = E[max(p_B - p_A, 0)]`` (the loss of choosing A),
    ``loss_b = E[max(p_A - p_B, 0)]``. The probability is normalised by the
    computed total mass, ``P(B > A) / (P(B > A) + P(B <= A))``, which removes
    the (1e-18) truncation of both tails; identical arms give exactly 1/2.
    """
    n_lev = levels.size
    for e in prange(aA.size):
        bpU = np.empty(2 * n_lev + 1)
        bpV = np.empty(2 * n_lev + 1)
        grid = np.empty(6 * n_lev + 4)
        work = np.empty((13, max(4 * n_lev + 2, nodes.size)))
        out = np.empty(6)
        a1, b1, a2, b2 = aA[e], bA[e], aB[e], bB[e]
        if not (a1 > 0.0 and b1 > 0.0 and a2 > 0.0 and b2 > 0.0):
            chance[e] = math.nan
            loss_a[e] = math.nan
            loss_b[e] = math.nan
            continue
        _core(a1, b1, a2, b2, 1.0, 0.0, True, levels, nodes, weights, cumul,
              bpU, bpV, grid, work, out)
        total = out[0] + out[1]
        if a1 == a2 and b1 == b2:
            chance[e] = 0.5
            half_loss = 0.5 * (out[4] + out[5])
            loss_a[e] = half_loss
            loss_b[e] = half_loss
        else:
            chance[e] = out[1] / total
            loss_a[e] = out[4]
            loss_b[e] = out[5]


@jit(parallel=True)
def beta_ab_intervals(aA: np.ndarray, bA: np.ndarray, aB: np.ndarray, bB: np.ndarray,
                      q_lo: float, q_hi: float, guess: np.ndarray, scale: np.ndarray,
                      levels: np.ndarray, nodes: np.ndarray, weights: np.ndarray,
                      cumul: np.ndarray, out_ratio: np.ndarray, out_diff: np.ndarray) -> None:
    """Quantiles ``q_lo, q_hi`` of ``log(p_B / p_A)`` and of ``p_B - p_A``, per experiment.

    ``guess`` (E, 4) and ``scale`` (E, 2) are normal approximations of the
    four quantiles and of the two spreads, the starting points of
    :func:`_quantile`. Writes ``out_ratio`` and ``out_diff``, (E, 2).
    """
    n_lev = levels.size
    for e in prange(aA.size):
        bpU = np.empty(2 * n_lev + 1)
        bpV = np.empty(2 * n_lev + 1)
        grid = np.empty(6 * n_lev + 4)
        work = np.empty((13, max(4 * n_lev + 2, nodes.size)))
        out = np.empty(6)
        a1, b1, a2, b2 = aA[e], bA[e], aB[e], bB[e]
        if not (a1 > 0.0 and b1 > 0.0 and a2 > 0.0 and b2 > 0.0):
            for j in range(2):
                out_ratio[e, j] = math.nan
                out_diff[e, j] = math.nan
            continue
        for j in range(2):
            q = q_lo if j == 0 else q_hi
            out_ratio[e, j] = _quantile(a1, b1, a2, b2, q, True, guess[e, j], scale[e, 0],
                                        -math.inf, math.inf, levels, nodes, weights, cumul,
                                        bpU, bpV, grid, work, out)
            out_diff[e, j] = _quantile(a1, b1, a2, b2, q, False, guess[e, 2 + j],
                                       scale[e, 1], -1.0, 1.0, levels, nodes, weights, cumul,
                                       bpU, bpV, grid, work, out)
