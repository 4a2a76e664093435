"""Kernels of the classical tests in :mod:`fastinf.stats`: moments and tables.

Every kernel runs ``prange`` over independent experiments (rows, ragged
segments or tables); experiment ``e`` writes only slot ``e`` of each output,
and its own reduction runs serially in a fixed order, so results are
bit-identical whatever the thread count.

Moments are computed in two passes, as scipy computes them: the mean first,
then sums about it. The second pass also sums the residuals ``x - m``, which
would be zero in exact arithmetic; adding ``sum(x - m) / n`` to the mean and
subtracting ``sum(x - m)**2 / n`` from the sum of squares (the corrected
two-pass algorithm of Chan, Golub and LeVeque) removes the rounding error of
the first pass, so the variance is accurate to a few ulps, like scipy's
pairwise sums.

The p-values are not computed here: the kernels return statistics and
degrees of freedom, and :mod:`fastinf.stats` applies ``scipy.special`` ufuncs
to those arrays.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit

# Power-divergence families (``lambda_`` of scipy's ``power_divergence``).
PEARSON, LOG_LIKELIHOOD, MOD_LOG_LIKELIHOOD, CRESSIE_READ = 0, 1, 2, 3


@jit
def segment_moments(values, start, stop, skip_nan):  # type: ignore[no-untyped-def]
    """``(count, mean, centred sum of squares, NaN count)`` of ``values[start:stop]``.

    With ``skip_nan`` the NaN are left out of all three moments; without it a
    NaN makes the mean and the sum of squares NaN.
    """
    cnt = 0
    n_nan = 0
    s = 0.0
    for i in range(start, stop):
        v = values[i]
        if v != v:
            n_nan += 1
            if skip_nan:
                continue
        s += v
        cnt += 1
    if cnt == 0:
        return 0, np.nan, np.nan, n_nan
    m = s / cnt
    s1 = 0.0
    s2 = 0.0
    for i in range(start, stop):
        v = values[i]
        if skip_nan and v != v:
            continue
        d = v - m
        s1 += d
        s2 += d * d
    # Corrected two-pass: remove the first pass's rounding error.
    mean = m + s1 / cnt
    ss = s2 - s1 * (s1 / cnt)
    if ss < 0.0:
        ss = 0.0
    return cnt, mean, ss, n_nan


@jit(parallel=True)
def row_moments(x, skip_nan):  # type: ignore[no-untyped-def]
    """Moments of each row of a C-contiguous 2-D array.

    Returns ``count`` (int64), ``mean``, ``ss`` (centred sum of squares) and
    ``n_nan`` (int64), each of length ``x.shape[0]``.
    """
    n_exp, n = x.shape
    flat = x.ravel()
    count = np.empty(n_exp, np.int64)
    mean = np.empty(n_exp)
    ss = np.empty(n_exp)
    n_nan = np.empty(n_exp, np.int64)
    for e in prange(n_exp):
        c, m, s, k = segment_moments(flat, e * n, (e + 1) * n, skip_nan)
        count[e] = c
        mean[e] = m
        ss[e] = s
        n_nan[e] = k
    return count, mean, ss, n_nan


@jit(parallel=True)
def ragged_moments(values, offsets, skip_nan):  # type: ignore[no-untyped-def]
    """Moments of each segment ``values[offsets[e]:offsets[e + 1]]``.

    Same outputs as :func:`row_moments`, of length ``offsets.size - 1``.
    """
    n_exp = offsets.size - 1
    count = np.empty(n_exp, np.int64)
    mean = np.empty(n_exp)
    ss = np.empty(n_exp)
    n_nan = np.empty(n_exp, np.int64)
    for e in prange(n_exp):
        c, m, s, k = segment_moments(values, offsets[e], offsets[e + 1], skip_nan)
        count[e] = c
        mean[e] = m
        ss[e] = s
        n_nan[e] = k
    return count, mean, ss, n_nan


@jit(parallel=True)
def paired_moments(a, b, skip_nan):  # type: ignore[no-untyped-def]
    """Moments of ``a - b`` row by row (two C-contiguous 2-D arrays of one shape).

    With ``skip_nan`` a unit whose ``a`` or ``b`` is NaN is left out.
    """
    n_exp, n = a.shape
    fa = a.ravel()
    fb = b.ravel()
    count = np.empty(n_exp, np.int64)
    mean = np.empty(n_exp)
    ss = np.empty(n_exp)
    n_nan = np.empty(n_exp, np.int64)
    for e in prange(n_exp):
        base = e * n
        cnt = 0
        k = 0
        s = 0.0
        for i in range(n):
            d = fa[base + i] - fb[base + i]
            if d != d:
                k += 1
                if skip_nan:
                    continue
            s += d
            cnt += 1
        if cnt == 0:
            count[e] = 0
            mean[e] = np.nan
            ss[e] = np.nan
            n_nan[e] = k
            continue
        m = s / cnt
        s1 = 0.0
        s2 = 0.0
        for i in range(n):
            d = fa[base + i] - fb[base + i]
            if skip_nan and d != d:
                continue
            r = d - m
            s1 += r
            s2 += r * r
        q = s2 - s1 * (s1 / cnt)
        count[e] = cnt
        mean[e] = m + s1 / cnt
        ss[e] = q if q > 0.0 else 0.0
        n_nan[e] = k
    return count, mean, ss, n_nan


@jit(parallel=True)
def pearson_moments(x, y):  # type: ignore[no-untyped-def]
    """Centred cross moments of the rows of two C-contiguous 2-D arrays.

    Returns ``mean_x``, ``mean_y``, ``sxx``, ``syy``, ``sxy`` and ``const``
    (int8: 1 when the row of ``x`` or of ``y`` has all values equal).
    """
    n_exp, n = x.shape
    fx = x.ravel()
    fy = y.ravel()
    mx = np.empty(n_exp)
    my = np.empty(n_exp)
    sxx = np.empty(n_exp)
    syy = np.empty(n_exp)
    sxy = np.empty(n_exp)
    const = np.zeros(n_exp, np.int8)
    for e in prange(n_exp):
        base = e * n
        sx = 0.0
        sy = 0.0
        cx = True
        cy = True
        x0 = fx[base]
        y0 = fy[base]
        for i in range(n):
            xi = fx[base + i]
            yi = fy[base + i]
            sx += xi
            sy += yi
            if xi != x0:
                cx = False
            if yi != y0:
                cy = False
        ax = sx / n
        ay = sy / n
        rx = 0.0
        ry = 0.0
        qxx = 0.0
        qyy = 0.0
        qxy = 0.0
        for i in range(n):
            dx = fx[base + i] - ax
            dy = fy[base + i] - ay
            rx += dx
            ry += dy
            qxx += dx * dx
            qyy += dy * dy
            qxy += dx * dy
        mx[e] = ax + rx / n
        my[e] = ay + ry / n
        sxx[e] = qxx - rx * (rx / n)
        syy[e] = qyy - ry * (ry / n)
        sxy[e] = qxy - rx * (ry / n)
        if cx or cy:
            const[e] = 1
    return mx, my, sxx, syy, sxy, const


@jit
def _divergence(o, ex, family, lam):  # type: ignore[no-untyped-def]
    """One term of the power divergence of observed ``o`` from expected ``ex``."""
    if family == PEARSON:
        d = o - ex
        return d * d / ex
    if family == LOG_LIKELIHOOD:
        if o == 0.0:
            return 0.0
        return 2.0 * (o * math.log(o / ex))
    if family == MOD_LOG_LIKELIHOOD:
        if ex == 0.0:
            return 0.0
        return 2.0 * (ex * math.log(ex / o))
    return o * ((o / ex) ** lam - 1.0) / (0.5 * lam * (lam + 1.0))


@jit(parallel=True)
def contingency(tables, yates, family, lam):  # type: ignore[no-untyped-def]
    """Expected frequencies and power-divergence statistics of a stack of tables.

    ``tables`` is C-contiguous float64 of shape ``(E, r, c)``. Expected
    frequencies are ``row_i * col_j / total``; with ``yates`` (the caller
    sets it only when ``(r - 1)(c - 1) == 1``) each observed count moves
    towards its expected value by ``min(0.5, |e - o|)`` first. Returns
    ``statistic`` (E,) and ``expected`` (E, r, c).
    """
    n_exp, r, c = tables.shape
    stat = np.empty(n_exp)
    expected = np.empty((n_exp, r, c))
    for e in prange(n_exp):
        rows = np.zeros(r)
        cols = np.zeros(c)
        total = 0.0
        for i in range(r):
            for j in range(c):
                v = tables[e, i, j]
                rows[i] += v
                cols[j] += v
                total += v
        acc = 0.0
        for i in range(r):
            for j in range(c):
                ex = rows[i] * cols[j] / total
                expected[e, i, j] = ex
                o = tables[e, i, j]
                if yates:
                    diff = ex - o
                    mag = min(0.5, abs(diff))
                    if diff > 0.0:
                        o = o + mag
                    elif diff < 0.0:
                        o = o - mag
                acc += _divergence(o, ex, family, lam)
        stat[e] = acc
    return stat, expected


@jit(parallel=True)
def fisher_2x2(tables, two_sided):  # type: ignore[no-untyped-def]
    """Odds ratios, modes and two-sided boundaries of many 2x2 tables.

    ``tables`` is int64 of shape ``(E, 2, 2)`` with positive margins. For the
    hypergeometric law of the top-left cell ``x`` (population
    ``N = n1 + n2``, ``n1`` successes, ``n`` draws) the kernel returns, per
    table, the sample odds ratio, scipy's mode ``int((n + 1)(n1 + 1) / (N + 2))``
    and, when ``two_sided``, the boundary ``guess`` of the far tail: with
    ``p*`` the probability of the observed ``a`` and ``g = 1 + 1e-14``, the
    largest ``x >= mode`` with ``pmf(x) >= g p*`` when ``a < mode``, else the
    largest ``x < mode`` with ``pmf(x) <= g p*`` (``lo - 1`` if none). The
    ratios ``pmf(x +- 1) / pmf(x)`` are walked in log space from ``a``; the
    caller checks the boundary against scipy's ``hypergeom.pmf``.
    """
    n_exp = tables.shape[0]
    oddsratio = np.empty(n_exp)
    mode = np.empty(n_exp, np.int64)
    guess = np.empty(n_exp, np.int64)
    log_gamma = math.log1p(1e-14)
    for e in prange(n_exp):
        a = tables[e, 0, 0]
        b = tables[e, 0, 1]
        c = tables[e, 1, 0]
        d = tables[e, 1, 1]
        if c > 0 and b > 0:
            oddsratio[e] = (a * d) / (c * b)
        else:
            oddsratio[e] = np.inf
        n1 = a + b
        n2 = c + d
        n = a + c
        md = np.int64((n + 1) * (n1 + 1) / (n1 + n2 + 2))
        mode[e] = md
        guess[e] = 0
        if not two_sided:
            continue
        lo = max(0, n - n2)
        hi = min(n1, n)
        lr = 0.0  # log(pmf(x) / pmf(a))
        if a < md:
            x = a
            g = hi
            while x < hi:
                lr += math.log(((n1 - x) * (n - x)) / ((x + 1.0) * (n2 - n + x + 1.0)))
                x += 1
                if x >= md and lr < log_gamma:
                    g = x - 1
                    break
            guess[e] = g
        else:
            x = a
            g = lo - 1
            while x > lo:
                lr += math.log((x * (n2 - n + x)) / ((n1 - x + 1.0) * (n - x + 1.0)))
                x -= 1
                if x < md and lr <= log_gamma:
                    g = x
                    break
            guess[e] = g
    return oddsratio, mode, guess
