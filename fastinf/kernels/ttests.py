"""Kernels of :mod:`fastinf.ttests`: per-experiment moments of samples.

Every kernel runs ``prange`` over independent experiments (rows or ragged
segments); experiment ``e`` writes only slot ``e`` of each output, and its
own reduction runs serially in a fixed order, so results are bit-identical
whatever the thread count.

Moments are computed in two passes, as scipy computes them: the mean first,
then sums about it. The second pass also sums the residuals ``x - m``, which
would be zero in exact arithmetic; adding ``sum(x - m) / n`` to the mean and
subtracting ``sum(x - m)**2 / n`` from the sum of squares (the corrected
two-pass algorithm of Chan, Golub and LeVeque) removes the rounding error of
the first pass, so the variance is accurate to a few ulps, like scipy's
pairwise sums.

The p-values are not computed here: the kernels return moments, and
:mod:`fastinf.ttests` turns them into statistics and degrees of freedom and
applies ``scipy.special`` ufuncs to those arrays.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit


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
