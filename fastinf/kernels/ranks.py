"""Kernels of the rank and ECDF tests: one merge pass over two sorted samples.

Experiment ``e`` has sample ``x = values[xlo[e]:xhi[e]]`` and sample
``y = values[ylo[e]:yhi[e]]``. For the Mann-Whitney U and Kolmogorov-Smirnov
kernels both samples arrive *sorted* (the caller sorts them with NumPy's
vectorised quicksort, about ten times faster than Numba's ``np.sort``, see
:func:`fastinf.ranks._sort_segments`); one merge walk over the two then visits
every distinct value of the pooled sample once, in increasing order, with the
counts ``cx`` and ``cy`` of ``x`` and ``y`` observations equal to it. That is
all the two statistics need:

* the ``t = cx + cy`` tied observations share the midrank
  ``pos + (t + 1) / 2`` (``pos`` observations are smaller), so the rank sum of
  ``x`` grows by ``cx`` midranks and the tie term ``sum(t**3 - t)`` by
  ``t**3 - t``: :func:`_mwu_one`. That walk branches on every comparison of
  the two samples, which the CPU cannot predict; :func:`mwu_sorted` first
  tries a branch-free walk (:func:`_count_below`) that counts
  ``U_1 = sum_i #{y < x_i}`` and whether any value occurs in both samples;
  if none does (continuous data), that count and the two samples' own tie
  terms are the answer, bit for bit, otherwise the general walk runs;
* after the value, the two ECDFs are ``i / n_x`` and ``j / n_y`` (``i``,
  ``j`` observations of each at or below it), whose difference is the
  quantity scipy maximises and minimises: :func:`ks_sorted`.

Ranks and rank sums are half-integers, so they (and the tie term, a sum of
integers) are exact in float64 up to 2**53: the same bits as scipy's
``rankdata`` and sums, whatever the summation order.

Work is parallel over experiments (``prange``), each writing its own output
slots. The caller cuts the experiments, in order, into blocks of equal cost
(``bounds``, :func:`fastinf.ranks._cost_blocks`); Numba hands every thread a
contiguous run of blocks, so ragged batches stay balanced across threads.
An experiment flagged in ``skip`` (NaN under ``nan_policy='propagate'``, or an
empty sample) gets NaN.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit
from fastinf.kernels.statistics import midranks


@jit
def _mwu_one(values, x0, x1, y0, y1):  # type: ignore[no-untyped-def]
    """Rank sum of ``x`` and tie term of sorted ``values[x0:x1]``, ``values[y0:y1]``.

    The general merge walk, one distinct pooled value at a time; used when
    some value occurs in both samples (see :func:`_mwu_fast`).
    """
    i = x0
    j = y0
    pos = 0.0
    r1 = 0.0
    tie = 0.0
    while i < x1 or j < y1:
        if j >= y1 or (i < x1 and values[i] <= values[j]):
            v = values[i]
        else:
            v = values[j]
        cx = 0
        while i < x1 and values[i] == v:
            i += 1
            cx += 1
        cy = 0
        while j < y1 and values[j] == v:
            j += 1
            cy += 1
        t = float(cx + cy)
        r1 += cx * (pos + (t + 1.0) * 0.5)
        tie += t * t * t - t
        pos += t
    return r1, tie


@jit
def _first_not_below(values, lo, hi, v):  # type: ignore[no-untyped-def]
    """First index ``k`` of sorted ``values[lo:hi]`` with ``values[k] >= v`` (``hi`` if none)."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if values[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit
def _count_below(values, x0, x1, y0, y1):  # type: ignore[no-untyped-def]
    """``(sum_i #{y < x_i}, any x_i = y_j)`` of sorted ``x = values[x0:x1]``, ``y = values[y0:y1]``.

    A merge walk that takes ``x`` first on a tie; when it takes ``x_i``, the
    ``y`` already taken are those below ``x_i`` and the next one is the
    smallest ``y >= x_i``, so ``x_i`` occurs in ``y`` iff it equals that one.
    Each step advances one pointer by a 0/1 flag instead of branching on the
    (unpredictable) comparison. The walk is latency-bound (load, compare,
    advance), so ``x`` is cut in two halves walked side by side: the second
    starts at the first ``y`` not below its first ``x`` (a binary search),
    and the two dependency chains overlap.
    """
    n2 = y1 - y0
    xm = (x0 + x1) >> 1
    ia = x0
    ja = y0
    ib = xm
    jb = y0
    if xm < x1:
        jb = _first_not_below(values, y0, y1, values[xm])
    s = 0
    eq = 0
    while ia < xm and ja < y1 and ib < x1 and jb < y1:
        yv = values[ja]
        xv = values[ia]
        ta = yv < xv  # y strictly below: take y
        s += (ja - y0) * (1 - ta)
        eq |= (yv == xv) & (1 - ta)
        ia += 1 - ta
        ja += ta
        yv = values[jb]
        xv = values[ib]
        tb = yv < xv
        s += (jb - y0) * (1 - tb)
        eq |= (yv == xv) & (1 - tb)
        ib += 1 - tb
        jb += tb
    while ia < xm and ja < y1:
        yv = values[ja]
        xv = values[ia]
        ta = yv < xv
        s += (ja - y0) * (1 - ta)
        eq |= (yv == xv) & (1 - ta)
        ia += 1 - ta
        ja += ta
    while ib < x1 and jb < y1:
        yv = values[jb]
        xv = values[ib]
        tb = yv < xv
        s += (jb - y0) * (1 - tb)
        eq |= (yv == xv) & (1 - tb)
        ib += 1 - tb
        jb += tb
    # y exhausted: every remaining x is above all of y
    s += (xm - ia) * n2 + (x1 - ib) * n2
    return s, eq != 0


@jit
def _tie_term(values, lo, hi):  # type: ignore[no-untyped-def]
    """``sum(t**3 - t)`` over the runs of equal values of sorted ``values[lo:hi]``.

    ``t**3 - t = sum_{r=0}^{t-1} 3 r (r + 1)``, so each element adds
    ``3 r (r + 1)`` with ``r`` its position in its run, updated without a
    branch: ``r = (r + 1) * [equal to the previous]``. A vectorisable count
    of equal neighbours first skips samples without ties.
    """
    n_eq = 0
    for k in range(lo + 1, hi):
        n_eq += values[k] == values[k - 1]
    if n_eq == 0:
        return 0
    s = 0
    r = 0
    for k in range(lo + 1, hi):
        r = (r + 1) * (values[k] == values[k - 1])
        s += r * (r + 1)
    return 3 * s


@jit
def _mwu_fast(values, x0, x1, y0, y1):  # type: ignore[no-untyped-def]
    """``(U_1, sum(t**3 - t))`` of sorted ``values[x0:x1]``, ``values[y0:y1]``.

    When no value occurs in both samples, ``U_1 = sum_i #{y < x_i}`` (an
    integer: exactly the float64 the midrank sum gives) and the pooled tie
    groups are those of each sample, so the tie term is the sum of the two
    samples' (integers, exact). Otherwise the general walk :func:`_mwu_one`
    does it.
    """
    s, shared = _count_below(values, x0, x1, y0, y1)
    if not shared:
        tie = _tie_term(values, x0, x1) + _tie_term(values, y0, y1)
        return float(s), float(tie)
    r1, tie_f = _mwu_one(values, x0, x1, y0, y1)
    n1 = float(x1 - x0)
    return r1 - n1 * (n1 + 1.0) / 2.0, tie_f


@jit(parallel=True)
def mwu_sorted(values, xlo, xhi, ylo, yhi, skip, bounds, u1, tie):  # type: ignore[no-untyped-def]
    """Mann-Whitney ``U_1 = R_1 - n_x (n_x + 1) / 2`` and ``sum(t**3 - t)`` per experiment."""
    for blk in prange(bounds.size - 1):
        for e in range(bounds[blk], bounds[blk + 1]):
            if skip[e]:
                u1[e] = np.nan
                tie[e] = np.nan
                continue
            u1[e], tie[e] = _mwu_fast(values, xlo[e], xhi[e], ylo[e], yhi[e])


@jit
def _mwu_two_values(x0, x1, y0, y1):  # type: ignore[no-untyped-def]
    """:func:`_mwu_fast` of samples holding only two values, from their counts.

    ``x`` has ``x0`` units of the lower value and ``x1`` of the upper, ``y``
    likewise. The arithmetic is the merge walk's, step for step, so ``U_1``
    and the tie term have the bits the sorted walk gives.
    """
    if not ((x0 > 0 and y0 > 0) or (x1 > 0 and y1 > 0)):  # no value in both
        tie = 0
        for t in (x0, x1, y0, y1):
            tie += t * t * t - t
        return float(x1 * y0), float(tie)
    pos = 0.0
    r1 = 0.0
    tie_f = 0.0
    for cx, cy in ((x0, y0), (x1, y1)):
        if cx + cy == 0:
            continue
        t = float(cx + cy)
        r1 += cx * (pos + (t + 1.0) * 0.5)
        tie_f += t * t * t - t
        pos += t
    n1 = float(x0 + x1)
    return r1 - n1 * (n1 + 1.0) / 2.0, tie_f


@jit(parallel=True)
def mwu_two_values(x_upper, x_n, y_upper, y_n, u1, tie):  # type: ignore[no-untyped-def]
    """Mann-Whitney ``U_1`` and ``sum(t**3 - t)`` of 0/1 samples from their counts.

    ``x_upper``: the ones of ``x`` (of ``x_n`` units), ``y_upper`` likewise;
    the same numbers :func:`mwu_sorted` gives on the sorted samples.
    """
    for e in prange(u1.size):
        u1[e], tie[e] = _mwu_two_values(x_n[e] - x_upper[e], x_upper[e],
                                        y_n[e] - y_upper[e], y_upper[e])


@jit(parallel=True)
def ks_sorted(  # type: ignore[no-untyped-def]
    values, xlo, xhi, ylo, yhi, skip, bounds, dmax, locmax, dmin, locmin
):
    """Extremes of ``F_x - F_y`` over the pooled values, located as scipy locates them.

    scipy evaluates ``cdf1 - cdf2`` at ``data_all = [sorted x, sorted y]`` and
    takes ``argmax``/``argmin``: the *first* position attaining the extreme,
    i.e. the smallest value of ``x`` attaining it, or if no value of ``x``
    does, the smallest of ``y``. Both candidates are tracked separately.
    ``dmin`` is the (signed) minimum, before scipy's ``clip(-dmin, 0, 1)``.
    """
    for blk in prange(bounds.size - 1):
        for e in range(bounds[blk], bounds[blk + 1]):
            if skip[e]:
                dmax[e] = np.nan
                locmax[e] = np.nan
                dmin[e] = np.nan
                locmin[e] = np.nan
                continue
            x0, x1, y0, y1 = xlo[e], xhi[e], ylo[e], yhi[e]
            n1 = x1 - x0
            n2 = y1 - y0
            i = x0
            j = y0
            # extremes over values present in x (a) and in y (b)
            max_a = -np.inf
            max_b = -np.inf
            min_a = np.inf
            min_b = np.inf
            lmax_a = np.nan
            lmax_b = np.nan
            lmin_a = np.nan
            lmin_b = np.nan
            while i < x1 or j < y1:
                if j >= y1 or (i < x1 and values[i] <= values[j]):
                    v = values[i]
                else:
                    v = values[j]
                in_x = False
                while i < x1 and values[i] == v:
                    i += 1
                    in_x = True
                in_y = False
                while j < y1 and values[j] == v:
                    j += 1
                    in_y = True
                # scipy: searchsorted(side='right') / n, then the difference
                diff = (i - x0) / n1 - (j - y0) / n2
                if in_x:
                    if diff > max_a:
                        max_a = diff
                        lmax_a = v
                    if diff < min_a:
                        min_a = diff
                        lmin_a = v
                if in_y:
                    if diff > max_b:
                        max_b = diff
                        lmax_b = v
                    if diff < min_b:
                        min_b = diff
                        lmin_b = v
            if max_a >= max_b:
                dmax[e] = max_a
                locmax[e] = lmax_a
            else:
                dmax[e] = max_b
                locmax[e] = lmax_b
            if min_a <= min_b:
                dmin[e] = min_a
                locmin[e] = lmin_a
            else:
                dmin[e] = min_b
                locmin[e] = lmin_b


@jit
def prob_outside_square(n, h):  # type: ignore[no-untyped-def]
    """``P(D_{n,n} >= h / n)``, two-sided, two samples of ``n``.

    A line-by-line port of scipy's private
    ``scipy.stats._stats_py._compute_prob_outside_square`` (the same
    operations in the same order, so the same bits; the tests compare the two):
    the alternating sum ``2 (A_0 - A_0 A_1 + A_0 A_1 A_2 - ...)`` of ratios of
    binomial coefficients, by Horner's rule.
    """
    p = 0.0
    k = int(math.floor(n / h))
    while k >= 0:
        p1 = 1.0
        for j in range(h):
            p1 = float(n - k * h - j) * p1 / float(n + k * h + j + 1)
        p = p1 * (1.0 - p)
        k -= 1
    return 2.0 * p


@jit(parallel=True)
def prob_outside_square_many(n, h, out):  # type: ignore[no-untyped-def]
    """:func:`prob_outside_square` for many ``(n, h)`` (``h >= 1``)."""
    for e in prange(n.size):
        out[e] = prob_outside_square(n[e], h[e])


@jit(parallel=True)
def spearman(values, xlo, ylo, sizes, skip, bounds, rho, constant):  # type: ignore[no-untyped-def]
    """Spearman's rho of paired ``x``, ``y`` of ``sizes[e]`` each, as ``np.corrcoef`` of midranks.

    Ranks are half-integers and their mean is exactly ``(n + 1) / 2``, so the
    centred cross-products and sums of squares are exact; the final
    divisions follow ``np.corrcoef``'s order: ``(s_xy / (n - 1)) / sd_y / sd_x``
    (``np.cov`` multiplies by ``1 / (n - 1)``),
    clipped to [-1, 1]. ``constant[e]`` flags a constant sample (rho NaN).
    """
    for blk in prange(bounds.size - 1):
        for e in range(bounds[blk], bounds[blk + 1]):
            n = sizes[e]
            if skip[e] or n < 2:
                rho[e] = np.nan
                continue
            x = values[xlo[e] : xlo[e] + n]
            y = values[ylo[e] : ylo[e] + n]
            const = True
            for k in range(1, n):
                if x[k] != x[0]:
                    const = False
                    break
            if not const:
                const = True
                for k in range(1, n):
                    if y[k] != y[0]:
                        const = False
                        break
            if const:
                constant[e] = True
                rho[e] = np.nan
                continue
            rx = midranks(x)
            ry = midranks(y)
            m = (n + 1.0) / 2.0
            sxy = 0.0
            sxx = 0.0
            syy = 0.0
            for k in range(n):
                dx = rx[k] - m
                dy = ry[k] - m
                sxy += dx * dy
                sxx += dx * dx
                syy += dy * dy
            inv = 1.0 / float(n - 1)  # np.cov: c *= 1 / (n - 1)
            r = (sxy * inv) / math.sqrt(syy * inv) / math.sqrt(sxx * inv)
            rho[e] = min(max(r, -1.0), 1.0)
