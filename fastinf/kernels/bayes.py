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

Where every Beta parameter is at least ``_A_FAST`` (400: about 400
conversions per arm, almost every experiment of realistic size) a second
path, exact too and ~10x cheaper, replaces the quadrature:

* Characteristic functions. The log-odds of a Beta(a, b) rate is ``log G_a -
  log G_b`` (independent Gamma variables), so ``T_B - T_A`` and ``log p_B -
  log p_A`` have closed-form cumulant generating functions, sums of ``D(a,
  s) = lgamma(a + s) - lgamma(a)``, evaluated as power series in ``s``
  centred at ``s log a`` (no cancellation of large ``lgamma`` values; the
  remainder is checked at every node). The chance to win and both expected
  losses come from one grid: the shifted-parameter identity turns the losses
  into ``(m_B - m_A) P(T_B > T_A) + (1/n_A + 1/n_B) g(0)``, ``g`` the density
  of ``T_B - T_A``.
* Inversion. Gil-Pelaez, ``F(x) = 1/2 - (1/pi) int_0^inf Im(e^{-iux}
  phi(u)) / u du``, by the trapezoid rule with step ``2 pi / span``: by
  Poisson summation its error is the mass beyond ``x +- span`` (Chernoff
  bounds from the same cumulant series put it below exp(-41)) plus the
  dropped nodes (``|phi|`` decreases in ``u``; nodes stop below 1e-18). For
  experiments of realistic size 15-40 nodes suffice.
* The difference ``p_B - p_A`` has no closed-form transform: each arm's
  characteristic function is the trapezoid rule on its density in rate space
  (exact up to aliasing, kept below 1e-18), their product is inverted as
  above. Quantiles (rates, lift, difference) are Newton iterations on the
  inverted distribution functions from Cornish-Fisher starts, typically three
  steps, each O(nodes) once the grid exists.

Every experiment writes its own output slots; nothing is shared between the
``prange`` iterations, so results do not depend on the thread count. The
batch runs in fixed chunks of ``_CHUNK`` experiments sharing scratch space.
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


@jit(inline="always")
def _chance_by_quadrature(e, a1, b1, a2, b2, levels, nodes, weights, cumul, bpU, bpV, grid,  # type: ignore[no-untyped-def]
                          work, out, chance, loss_a, loss_b):
    """Chance to win and expected losses of experiment ``e`` by adaptive quadrature.

    Equal posteriors get exactly 1/2 and equal losses, whatever the rounding.
    """
    _core(a1, b1, a2, b2, 1.0, 0.0, True, levels, nodes, weights, cumul,
          bpU, bpV, grid, work, out)
    if a1 == a2 and b1 == b2:
        chance[e] = 0.5
        half_loss = 0.5 * (out[4] + out[5])
        loss_a[e] = half_loss
        loss_b[e] = half_loss
    else:
        chance[e] = out[1] / (out[0] + out[1])
        loss_a[e] = out[4]
        loss_b[e] = out[5]


@jit(parallel=True)
def beta_ab_quadrature(aA: np.ndarray, bA: np.ndarray, aB: np.ndarray, bB: np.ndarray,
            levels: np.ndarray, nodes: np.ndarray, weights: np.ndarray, cumul: np.ndarray,
            chance: np.ndarray, loss_a: np.ndarray, loss_b: np.ndarray) -> None:
    """Chance to win ``P(p_B > p_A)`` and the expected losses by quadrature alone.

    The reference for :func:`beta_ab` in the tests. ``loss_a = E[max(p_B - p_A, 0)]`` (the loss of choosing A),
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
        _chance_by_quadrature(e, a1, b1, a2, b2, levels, nodes, weights, cumul, bpU, bpV,
                              grid, work, out, chance, loss_a, loss_b)


# --------------------------------------------------------------------------
# Characteristic-function path for large counts.
#
# The log-odds of a Beta(a, b) rate is log G_a - log G_b (independent Gamma
# variables), so T_B - T_A and log p_B - log p_A (log p = log G_a -
# log(G_a + G_b), E p^s = Gamma(a + s) Gamma(n) / (Gamma(a) Gamma(n + s))) have
# closed-form cumulant generating functions: sums of D(a, s) = lgamma(a + s) -
# lgamma(a). With every parameter >= _A_FAST, D is a short power series in s
# on the whole range that matters; the distribution function follows from
# Gil-Pelaez inversion by the trapezoid rule (see _gp_grid).

_A_FAST = 400.0
_R = 24  # highest power of s kept in the cumulant series
_N_MAX = 256  # most trapezoid nodes before falling back to quadrature
_PHI_TOL = 1e-18
_TAIL = 41.0  # Chernoff exponent: aliasing terms below exp(-41) ~ 1.6e-18
_STIRLING = np.array([1.0 / 12.0, -1.0 / 360.0, 1.0 / 1260.0, -1.0 / 1680.0])
_INV_PI = 1.0 / math.pi


@jit
def _psi_minus_log(a: float) -> float:
    """``digamma(a) - log(a)`` for large ``a`` (asymptotic series; a >= _A_FAST)."""
    ia2 = 1.0 / (a * a)
    acc = 0.0
    p = ia2
    for j in range(_STIRLING.size):
        acc += _STIRLING[j] * (2 * j + 1) * p
        p *= ia2
    return -0.5 / a - acc


@jit
def _coef_add(a: float, weight: float, flip: float, kap: np.ndarray) -> None:
    """Add ``weight`` times the coefficients of ``s^r`` (r >= 2) of ``D(a, flip s)`` to ``kap``.

    ``D(a, s) = s log a + a ((1 + w) log1p(w) - w) - log1p(w) / 2 +
    stirlerr(a + s) - stirlerr(a)``, ``w = s / a``: the coefficient of
    ``s^r`` is ``(-1)^r [1 / (r (r - 1) a^(r-1)) + 1 / (2 r a^r) + sum_j C_j
    binom(2j - 2 + r, r) a^-(2j - 1 + r)]`` (C_j: Stirling's coefficients).
    """
    ia = 1.0 / a
    ia2 = ia * ia
    c1, c2, c3, c4 = _STIRLING[0], _STIRLING[1], _STIRLING[2], _STIRLING[3]
    # binom(m + r - 1, r) for m = 1, 3, 5, 7, at r = 2, then updated in r
    b1, b3, b5, b7 = 1.0, 6.0, 15.0, 28.0  # b1 stays binom(r, r) = 1
    p = ia  # a^-(r-1)
    for r in range(2, kap.size):
        if r > 2:
            b3 *= (r + 2.0) / r
            b5 *= (r + 4.0) / r
            b7 *= (r + 6.0) / r
        q = p * ia2  # a^-(r + 1)
        st = q * (c1 * b1 + ia2 * (c2 * b3 + ia2 * (c3 * b5 + ia2 * c4 * b7)))
        c = p / (r * (r - 1.0)) + 0.5 * p * ia / r + st
        sgn = 1.0 if r % 2 == 0 else -1.0  # (-1)^r, times flip^r
        if flip < 0.0 and r % 2 == 1:
            sgn = -sgn
        kap[r] += weight * sgn * c
        p *= ia


@jit
def _cgf_real(mu: float, kap: np.ndarray, c: float) -> float:
    """``K(c) = mu c + sum_r kap_r c^r`` for real ``c``."""
    acc = 0.0
    for r in range(kap.size - 1, 1, -1):
        acc = (acc + kap[r]) * c
    return (acc + mu) * c


@jit
def _tail_points(mu: float, sd: float, kap: np.ndarray, rate_hi: float, rate_lo: float
                 ) -> tuple[float, float]:
    """``(y_lo, y_hi)`` with ``P(X < y_lo), P(X > y_hi) <= exp(-_TAIL)`` (Chernoff).

    ``P(X > y) <= exp(K(c) - c y)`` for ``0 < c`` below the pole ``rate_hi``
    of the moment generating function (likewise on the left); two ``c`` are
    tried, each kept well inside the series' range (``c <= rate / 4``).
    """
    y_hi = math.inf
    y_lo = -math.inf
    for theta in (7.0, 10.0):
        c = min(theta / sd, 0.25 * rate_hi)
        y_hi = min(y_hi, (_cgf_real(mu, kap, c) + _TAIL) / c)
        c = min(theta / sd, 0.25 * rate_lo)
        y_lo = max(y_lo, -(_cgf_real(mu, kap, -c) + _TAIL) / c)
    return y_lo, y_hi


@jit
def _gp_grid(mu: float, kap: np.ndarray, a_min: float, span: float,
             phr: np.ndarray, phi: np.ndarray) -> int:
    """Characteristic function ``phi(u_k) = exp(K(i u_k))`` at ``u_k = k h``, ``h = 2 pi / span``.

    Trapezoid (Poisson summation): the rule with step ``h`` applied to the
    Gil-Pelaez integrals at a point ``x`` is exact up to the distribution's
    mass beyond ``x +- span`` (made below exp(-41) by the caller's choice of
    ``span``) plus the dropped nodes: ``|phi|`` decreases in ``u`` (each
    ``|Gamma(a + iu) / Gamma(a)|`` does), and nodes stop once it and the
    geometric bound on the rest are below 1e-18. Each node checks the series'
    remainder, ``~ a_min (u / a_min)^(R+1) / R^2`` per Gamma factor, times
    ``|phi|``; the node count is capped. Returns the node count, or -1 when a
    check fails (the caller falls back to quadrature).
    """
    h = 2.0 * math.pi / span
    n_coef = kap.size
    prev = 1.0
    for k in range(1, _N_MAX + 1):
        u = k * h
        u2 = u * u
        # K(iu): even powers real, odd powers imaginary; i^r = (-1)^(r/2) or i (-1)^((r-1)/2)
        re = 0.0
        im = 0.0
        for r in range(n_coef - 1, 1, -1):
            if r % 2 == 0:
                re = re * u2 + (kap[r] if r % 4 == 0 else -kap[r])
            else:
                im = im * u2 + (kap[r] if r % 4 == 1 else -kap[r])
        re *= u2
        im = u * (mu + u2 * im)
        mag = math.exp(re)
        q = u / a_min
        if q >= 0.5:
            return -1
        rem = 4.0 * a_min * q ** (n_coef) / (n_coef * (n_coef - 1.0)) / (1.0 - q)
        if mag * rem > 1e-18:
            return -1
        phr[k - 1] = mag * math.cos(im)
        phi[k - 1] = mag * math.sin(im)
        ratio = mag / prev
        prev = mag
        if mag < _PHI_TOL and (ratio < 0.5 or mag < _PHI_TOL * 1e-3):
            return k
    return -1


@jit
def _gp_eval(mu: float, span: float, n: int, phr: np.ndarray, phi: np.ndarray, x: float
             ) -> tuple[float, float, float]:
    """``(F(x), 1 - F(x), f(x))`` from the grid of :func:`_gp_grid` (Gil-Pelaez).

    ``F(x) = 1/2 - (1/pi) int_0^inf Im(e^{-iux} phi(u)) / u du`` and ``f(x) =
    (1/pi) int_0^inf Re(e^{-iux} phi(u)) du``; the ``u = 0`` node carries the
    limits ``mu - x`` and 1. ``e^{-iu_k x}`` by rotation.
    """
    h = 2.0 * math.pi / span
    cr = math.cos(h * x)
    ci = -math.sin(h * x)
    er = 1.0
    ei = 0.0
    s_im = 0.5 * (mu - x)
    s_re = 0.5
    for k in range(n):
        er, ei = er * cr - ei * ci, er * ci + ei * cr
        vr = er * phr[k] - ei * phi[k]
        vi = er * phi[k] + ei * phr[k]
        s_im += vi / ((k + 1) * h)
        s_re += vr
    s_im *= h * _INV_PI
    return 0.5 - s_im, 0.5 + s_im, max(s_re * h * _INV_PI, 0.0)


@jit
def _fast_chance(aA: float, bA: float, aB: float, bB: float, kap: np.ndarray,
                 phr: np.ndarray, phi: np.ndarray) -> tuple[bool, float, float, float]:
    """``(ok, P(p_B > p_A), P(p_B <= p_A), density of T_B - T_A at 0)`` by Gil-Pelaez.

    ``K(s) = D(aB, s) + D(bB, -s) + D(aA, -s) + D(bA, s)``; the mean is
    ``log(aB bA / (bB aA))`` (as ``2 atanh`` of the relative difference, so
    near-equal arms keep relative accuracy) plus the digamma corrections.
    """
    a_min = min(min(aA, bA), min(aB, bB))
    if not a_min >= _A_FAST:
        return False, 0.0, 0.0, 0.0
    kap[:] = 0.0
    _coef_add(aB, 1.0, 1.0, kap)
    _coef_add(aA, 1.0, -1.0, kap)
    _coef_add(bA, 1.0, 1.0, kap)
    _coef_add(bB, 1.0, -1.0, kap)
    p1 = aB * bA
    p2 = bB * aA
    mu = 2.0 * math.atanh((p1 - p2) / (p1 + p2)) + (
        (_psi_minus_log(aB) - _psi_minus_log(aA)) + (_psi_minus_log(bA) - _psi_minus_log(bB)))
    sd = math.sqrt(2.0 * kap[2])
    y_lo, y_hi = _tail_points(mu, sd, kap, min(aA, bB), min(aB, bA))
    span = max(y_hi, -y_lo, 1e-300)
    n = _gp_grid(mu, kap, a_min, span, phr, phi)
    if n < 0:
        return False, 0.0, 0.0, 0.0
    cdf, sf, dens = _gp_eval(mu, span, n, phr, phi, 0.0)
    return True, sf, cdf, dens


@jit
def _gp_quantile(mu: float, sd: float, span: float, n: int, phr: np.ndarray, phi: np.ndarray,
                 q: float, guess: float, x_lo: float, x_hi: float) -> tuple[bool, float]:
    """Quantile ``q`` from the grid of :func:`_gp_grid`.

    Newton from ``guess`` inside ``[x_lo, x_hi]``, bisection when a step
    leaves the bracket; the residual is taken from the smaller tail.
    """
    upper = q > 0.5
    target = 1.0 - q if upper else q
    lo = x_lo
    hi = x_hi
    x = min(max(guess, x_lo), x_hi)
    for _ in range(40):
        cdf, sf, dens = _gp_eval(mu, span, n, phr, phi, x)
        res = (target - sf) if upper else (cdf - target)
        if res == 0.0:
            return True, x
        if res < 0.0:
            lo = x
        else:
            hi = x
        step = -res / dens if dens > 0.0 else math.nan
        if abs(step) <= 1e-14 * sd + 4e-16 * abs(x):
            # quadratic convergence: this step is exact to ~(1e-14)^2 sd
            return True, x + step
        new = x + step
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        if hi - lo <= 1e-14 * sd:
            return True, new
        x = new
    return False, x


@jit
def _gp_setup_quantiles(mu: float, kap: np.ndarray, a_min: float, rate_hi: float,
                        rate_lo: float, z_max: float, phr: np.ndarray, phi: np.ndarray
                        ) -> tuple[int, float, float, float, float, float]:
    """Grid for quantiles within ``mu +- (z_max + 3) sd``: ``(n, span, sd, skew, x_lo, x_hi)``."""
    sd = math.sqrt(2.0 * kap[2])
    skew = 6.0 * kap[3] / (sd * sd * sd)
    y_lo, y_hi = _tail_points(mu, sd, kap, rate_hi, rate_lo)
    x_lo = mu - (z_max + 3.0) * sd
    x_hi = mu + (z_max + 3.0) * sd
    span = max(y_hi - x_lo, x_hi - y_lo)
    n = _gp_grid(mu, kap, a_min, span, phr, phi)
    return n, span, sd, skew, x_lo, x_hi


@jit
def _gp_pair(mu: float, kap: np.ndarray, a_min: float, rate_hi: float, rate_lo: float,
             z_lo: float, z_hi: float, q_lo: float, q_hi: float, phr: np.ndarray,
             phi: np.ndarray) -> tuple[bool, float, float]:
    """Both quantiles from one grid; Cornish-Fisher starting points."""
    z_max = max(abs(z_lo), abs(z_hi))
    n, span, sd, skew, x_lo, x_hi = _gp_setup_quantiles(mu, kap, a_min, rate_hi, rate_lo,
                                                        z_max, phr, phi)
    if n < 0:
        return False, 0.0, 0.0
    g_lo = mu + sd * (z_lo + skew * (z_lo * z_lo - 1.0) / 6.0)
    g_hi = mu + sd * (z_hi + skew * (z_hi * z_hi - 1.0) / 6.0)
    ok1, r_lo = _gp_quantile(mu, sd, span, n, phr, phi, q_lo, g_lo, x_lo, x_hi)
    ok2, r_hi = _gp_quantile(mu, sd, span, n, phr, phi, q_hi, g_hi, x_lo, x_hi)
    ok = ok1 and ok2 and x_lo < r_lo < x_hi and x_lo < r_hi < x_hi
    return ok, r_lo, r_hi


@jit
def _fast_rate(a: float, b: float, z_lo: float, z_hi: float, q_lo: float, q_hi: float,
               kap: np.ndarray, phr: np.ndarray, phi: np.ndarray) -> tuple[bool, float, float]:
    """Quantiles of a Beta(a, b) rate via its log-odds ``log G_a - log G_b``."""
    a_min = min(a, b)
    if not a_min >= _A_FAST:
        return False, 0.0, 0.0
    kap[:] = 0.0
    _coef_add(a, 1.0, 1.0, kap)
    _coef_add(b, 1.0, -1.0, kap)
    mu = 2.0 * math.atanh((a - b) / (a + b)) + (_psi_minus_log(a) - _psi_minus_log(b))
    ok, t_lo, t_hi = _gp_pair(mu, kap, a_min, b, a, z_lo, z_hi, q_lo, q_hi, phr, phi)
    x_lo, _ = sigmoid(t_lo)
    x_hi, _ = sigmoid(t_hi)
    return ok, x_lo, x_hi


@jit
def _fast_log_ratio(aA: float, bA: float, aB: float, bB: float, z_lo: float, z_hi: float,
                    q_lo: float, q_hi: float, kap: np.ndarray, phr: np.ndarray,
                    phi: np.ndarray) -> tuple[bool, float, float]:
    """Quantiles of ``log(p_B / p_A)``: ``K(s) = D(aB, s) - D(nB, s) + D(aA, -s) - D(nA, -s)``."""
    a_min = min(aA, aB)
    if not (a_min >= _A_FAST and min(bA, bB) >= _A_FAST):
        return False, 0.0, 0.0
    nA = aA + bA
    nB = aB + bB
    kap[:] = 0.0
    _coef_add(aB, 1.0, 1.0, kap)
    _coef_add(aA, 1.0, -1.0, kap)
    _coef_add(nA, -1.0, -1.0, kap)
    _coef_add(nB, -1.0, 1.0, kap)
    p1 = aB * nA
    p2 = nB * aA
    mu = 2.0 * math.atanh((p1 - p2) / (p1 + p2)) + (
        (_psi_minus_log(aB) - _psi_minus_log(aA)) + (_psi_minus_log(nA) - _psi_minus_log(nB)))
    # poles of the moment generating function: Gamma(aB + s) at -aB, Gamma(aA - s) at aA
    return _gp_pair(mu, kap, a_min, aA, aB, z_lo, z_hi, q_lo, q_hi, phr, phi)


_CHUNK = 64


@jit(parallel=True)
def beta_ab(aA: np.ndarray, bA: np.ndarray, aB: np.ndarray, bB: np.ndarray,
                 levels: np.ndarray, nodes: np.ndarray, weights: np.ndarray, cumul: np.ndarray,
                 chance: np.ndarray, loss_a: np.ndarray, loss_b: np.ndarray) -> None:
    """As :func:`beta_ab_quadrature`, by Gil-Pelaez where every parameter is >= ``_A_FAST``.

    ``E[max(p_B - p_A, 0)] = m_B P(p_B^+ > p_A) - m_A P(p_B > p_A^+)`` (``+``:
    alpha + 1) multiplies the moment generating function by ``(aB + s) /
    aB`` and ``(aA - s) / aA``, so it equals ``(m_B - m_A) P(T_B > T_A) +
    (1 / n_A + 1 / n_B) g(0)``, ``g`` the density of ``T_B - T_A``: both from
    one grid. Fixed chunks of experiments share their scratch space.
    """
    n_lev = levels.size
    size = aA.size
    n_chunks = (size + _CHUNK - 1) // _CHUNK
    for ch in prange(n_chunks):
        bpU = np.empty(2 * n_lev + 1)
        bpV = np.empty(2 * n_lev + 1)
        grid = np.empty(6 * n_lev + 4)
        work = np.empty((13, max(4 * n_lev + 2, nodes.size)))
        out = np.empty(6)
        kap = np.empty(_R + 1)
        phr = np.empty(_N_MAX)
        phi = np.empty(_N_MAX)
        for e in range(ch * _CHUNK, min(size, (ch + 1) * _CHUNK)):
            a1, b1, a2, b2 = aA[e], bA[e], aB[e], bB[e]
            if not (a1 > 0.0 and b1 > 0.0 and a2 > 0.0 and b2 > 0.0):
                chance[e] = math.nan
                loss_a[e] = math.nan
                loss_b[e] = math.nan
                continue
            if a1 == a2 and b1 == b2:
                ok = False
            else:
                ok, sf, cdf, dens = _fast_chance(a1, b1, a2, b2, kap, phr, phi)
            if ok:
                nA = a1 + b1
                nB = a2 + b2
                dm = (a2 * b1 - a1 * b2) / (nA * nB)  # m_B - m_A
                kg = (1.0 / nA + 1.0 / nB) * dens
                chance[e] = sf
                loss_a[e] = max(dm * sf + kg, 0.0)
                loss_b[e] = max(kg - dm * cdf, 0.0)
                continue
            _chance_by_quadrature(e, a1, b1, a2, b2, levels, nodes, weights, cumul, bpU, bpV,
                                  grid, work, out, chance, loss_a, loss_b)


@jit
def _arm_support(a: float, b: float, tail: np.ndarray, bp: np.ndarray) -> tuple[float, float]:
    """Rates where the Beta(a, b) log density has declined by ``tail[0]`` (~43) from the mode."""
    breakpoints(a, b, tail, bp)
    lo, _ = sigmoid(bp[0])
    hi, _ = sigmoid(bp[2])
    return lo, hi


@jit
def _arm_cf(a: float, b: float, lo: float, hi: float, centre: float, hx: float,
            hu: float, n: int, phr: np.ndarray, phi: np.ndarray) -> None:
    """Add the characteristic function of ``p - centre``, ``p ~ Beta(a, b)``, at ``u_k = k hu``.

    Trapezoid rule with step ``hx`` over ``[lo, hi]`` (beyond which the
    density is below exp(-43) of its peak): for a smooth density that is
    negligible at both ends it is exact up to ``|phi(2 pi / hx - u)|``,
    which the caller keeps below 1e-18. ``e^{i u_k y}`` by rotation.
    """
    mode = math.log(a) - math.log(b)
    peak = log_peak(a, b)
    m = int(math.ceil((hi - lo) / hx))
    start = 0.5 * (lo + hi) - 0.5 * m * hx
    for j in range(m + 1):
        x = start + j * hx
        if not (0.0 < x < 1.0):
            continue
        omx = 1.0 - x
        t = math.log(x / omx)
        f = math.exp(log_density(a, b, mode, peak, t)) / (x * omx) * hx
        y = x - centre
        cr = math.cos(hu * y)
        ci = math.sin(hu * y)
        zr = f
        zi = 0.0
        for k in range(n):
            zr, zi = zr * cr - zi * ci, zr * ci + zi * cr
            phr[k] += zr
            phi[k] += zi


@jit
def _fast_difference(aA: float, bA: float, aB: float, bB: float, z_lo: float, z_hi: float,
                     q_lo: float, q_hi: float, tail: np.ndarray, bp: np.ndarray,
                     pa: np.ndarray, pb: np.ndarray, phr: np.ndarray, phi: np.ndarray
                     ) -> tuple[bool, float, float]:
    """Quantiles of ``p_B - p_A`` by Gil-Pelaez.

    The characteristic function is the product of the arms' (each by
    :func:`_arm_cf`, centred at the arm's mean).
    """
    if not min(min(aA, bA), min(aB, bB)) >= _A_FAST:
        return False, 0.0, 0.0
    nA = aA + bA
    nB = aB + bB
    mA = aA / nA
    mB = aB / nB
    vA = aA * bA / (nA * nA * (nA + 1.0))
    vB = aB * bB / (nB * nB * (nB + 1.0))
    sdA = math.sqrt(vA)
    sdB = math.sqrt(vB)
    sd = math.sqrt(vA + vB)
    # third cumulants of the Beta rates: skewness 2 (b - a) sqrt(n + 1) / ((n + 2) sqrt(a b))
    k3 = (2.0 * (bB - aB) * math.sqrt(nB + 1.0) / ((nB + 2.0) * math.sqrt(aB * bB)) * vB * sdB
          - 2.0 * (bA - aA) * math.sqrt(nA + 1.0) / ((nA + 2.0) * math.sqrt(aA * bA)) * vA * sdA)
    skew = k3 / (sd * sd * sd)
    loA, hiA = _arm_support(aA, bA, tail, bp)
    loB, hiB = _arm_support(aB, bB, tail, bp)
    y_lo = (loB - mB) - (hiA - mA)
    y_hi = (hiB - mB) - (loA - mA)
    z_max = max(abs(z_lo), abs(z_hi)) + 3.0
    x_lo = -z_max * sd
    x_hi = z_max * sd
    span = max(y_hi - x_lo, x_hi - y_lo)
    hu = 2.0 * math.pi / span
    # |phi_D(u)| ~ exp(-sd^2 u^2 / 2): below 1e-18 by u_max (checked after)
    u_max = 1.15 * math.sqrt(2.0 * 41.5) / sd
    n = int(math.ceil(u_max / hu))
    if n > _N_MAX:
        return False, 0.0, 0.0
    for k in range(n):
        pa[k] = 0.0
        phi[k] = 0.0
        pb[k] = 0.0
        phr[k] = 0.0
    # Trapezoid step of each arm X, 2 pi / H_X: its aliasing error phi_X(H_X - u)
    # enters phi_D times the other arm's |phi(u)|, u <= u_max. Either bound
    # suffices: (a) H_X - u_max beyond X's own decay to 1e-18 (sqrt(2 * 43) /
    # sd_X, 10 % margin for non-normal tails); (b) for near-normal arms the
    # product peaks at exp(-H^2 sdA^2 sdB^2 / (2 sd^2)), below 1e-18 for
    # H = 1.1 sqrt(2 * 43) sd / (sdA sdB) (valid while H >= u_max).
    cut = 1.1 * math.sqrt(2.0 * 43.0)
    both = cut * sd / (sdA * sdB)
    hxA = 2.0 * math.pi / max(1.2 * u_max, min(both, u_max + cut / sdA))
    hxB = 2.0 * math.pi / max(1.2 * u_max, min(both, u_max + cut / sdB))
    _arm_cf(aA, bA, loA, hiA, mA, hxA, hu, n, pa, pb)
    _arm_cf(aB, bB, loB, hiB, mB, hxB, hu, n, phr, phi)
    for k in range(n):
        ar = pa[k]
        ai = pb[k]
        br = phr[k]
        bi = phi[k]
        # phi_D = phi_B conj(phi_A)
        phr[k] = br * ar + bi * ai
        phi[k] = bi * ar - br * ai
    # |phi_D(u_max)| ~ 1e-26 in theory; the DFT's rounding floor is ~1e-16, so
    # this only catches a grid too short for the arms (|phi| still >= 1e-14).
    if math.hypot(phr[n - 1], phi[n - 1]) > 1e-14:
        return False, 0.0, 0.0
    g_lo = sd * (z_lo + skew * (z_lo * z_lo - 1.0) / 6.0)
    g_hi = sd * (z_hi + skew * (z_hi * z_hi - 1.0) / 6.0)
    ok1, r_lo = _gp_quantile(0.0, sd, span, n, phr, phi, q_lo, g_lo, x_lo, x_hi)
    ok2, r_hi = _gp_quantile(0.0, sd, span, n, phr, phi, q_hi, g_hi, x_lo, x_hi)
    ok = ok1 and ok2 and x_lo < r_lo < x_hi and x_lo < r_hi < x_hi
    shift = (aB * bA - aA * bB) / (nA * nB)  # m_B - m_A
    return ok, r_lo + shift, r_hi + shift


@jit(parallel=True)
def beta_ab_intervals(aA: np.ndarray, bA: np.ndarray, aB: np.ndarray, bB: np.ndarray,
                           q_lo: float, q_hi: float, z_lo: float, z_hi: float,
                           levels: np.ndarray, tail: np.ndarray, nodes: np.ndarray,
                           weights: np.ndarray, cumul: np.ndarray, out_rates: np.ndarray,
                           out_ratio: np.ndarray, out_diff: np.ndarray) -> None:
    """Quantiles ``q_lo, q_hi`` of both rates, ``log(p_B / p_A)`` and ``p_B - p_A``.

    ``z_lo, z_hi`` are the standard normal quantiles of ``q_lo, q_hi``.
    Where every parameter is >= ``_A_FAST`` the characteristic-function path
    is used; otherwise (or when one of its checks fails) the lift and the
    difference come from :func:`_quantile` on the quadrature, and the rate
    quantiles are left NaN with ``out_rates[e, 4] = 1`` for the caller to fill
    in (scipy's ``betaincinv``). ``out_rates`` (E, 5): A low, A high, B low,
    B high, flag.
    """
    n_lev = levels.size
    size = aA.size
    n_chunks = (size + _CHUNK - 1) // _CHUNK
    for ch in prange(n_chunks):
        bpU = np.empty(2 * n_lev + 1)
        bpV = np.empty(2 * n_lev + 1)
        grid = np.empty(6 * n_lev + 4)
        work = np.empty((13, max(4 * n_lev + 2, nodes.size)))
        out = np.empty(6)
        kap = np.empty(_R + 1)
        phr = np.empty(_N_MAX)
        phi = np.empty(_N_MAX)
        pa = np.empty(_N_MAX)
        pb = np.empty(_N_MAX)
        bp3 = np.empty(3)
        for e in range(ch * _CHUNK, min(size, (ch + 1) * _CHUNK)):
            a1, b1, a2, b2 = aA[e], bA[e], aB[e], bB[e]
            if not (a1 > 0.0 and b1 > 0.0 and a2 > 0.0 and b2 > 0.0):
                for j in range(4):
                    out_rates[e, j] = math.nan
                out_rates[e, 4] = 0.0
                for j in range(2):
                    out_ratio[e, j] = math.nan
                    out_diff[e, j] = math.nan
                continue
            okA, r0, r1 = _fast_rate(a1, b1, z_lo, z_hi, q_lo, q_hi, kap, phr, phi)
            okB, r2, r3 = _fast_rate(a2, b2, z_lo, z_hi, q_lo, q_hi, kap, phr, phi)
            if okA and okB:
                out_rates[e, 0] = r0
                out_rates[e, 1] = r1
                out_rates[e, 2] = r2
                out_rates[e, 3] = r3
                out_rates[e, 4] = 0.0
            else:
                for j in range(4):
                    out_rates[e, j] = math.nan
                out_rates[e, 4] = 1.0
            nA = a1 + b1
            nB = a2 + b2
            ok, l0, l1 = _fast_log_ratio(a1, b1, a2, b2, z_lo, z_hi, q_lo, q_hi, kap, phr, phi)
            if ok:
                out_ratio[e, 0] = l0
                out_ratio[e, 1] = l1
            else:
                # normal start: log p has mean ~ log(a / n) - 1/(2a) + 1/(2n), var ~ 1/a - 1/n
                lm = (math.log(a2 / nB) - 0.5 / a2 + 0.5 / nB) - (
                    math.log(a1 / nA) - 0.5 / a1 + 0.5 / nA)
                ls = math.sqrt(max(1.0 / a2 - 1.0 / nB + 1.0 / a1 - 1.0 / nA, 1e-300))
                for j in range(2):
                    q = q_lo if j == 0 else q_hi
                    z = z_lo if j == 0 else z_hi
                    out_ratio[e, j] = _quantile(a1, b1, a2, b2, q, True, lm + z * ls, ls,
                                                -math.inf, math.inf, levels, nodes, weights,
                                                cumul, bpU, bpV, grid, work, out)
            ok, d0, d1 = _fast_difference(a1, b1, a2, b2, z_lo, z_hi, q_lo, q_hi, tail, bp3,
                                          pa, pb, phr, phi)
            if ok:
                out_diff[e, 0] = d0
                out_diff[e, 1] = d1
            else:
                mA = a1 / nA
                mB = a2 / nB
                dm = mB - mA
                ds = math.sqrt(mA * (1 - mA) / (nA + 1) + mB * (1 - mB) / (nB + 1))
                for j in range(2):
                    q = q_lo if j == 0 else q_hi
                    z = z_lo if j == 0 else z_hi
                    out_diff[e, j] = _quantile(a1, b1, a2, b2, q, False, dm + z * ds, ds,
                                               -1.0, 1.0, levels, nodes, weights, cumul,
                                               bpU, bpV, grid, work, out)
