"""Kernels for the built-in statistics of :mod:`fastinf.statistics`.

Two families. *Smooth* summaries (mean, sum, var, std) are functions of the
weighted moments ``(count, sum(x - c), sum((x - c)**2))`` about a per-sample
centre ``c``: a resample only needs three running sums, and a leave-one-out
value is O(1). Centring keeps the variance free of the catastrophic
cancellation of ``sum(x**2) - sum(x)**2 / n``. *Order* summaries (median,
quantile, trimmed mean) need the resampled values: they are gathered into a
scratch buffer and reduced by selection (expected O(n)) or sorting.

The interpolation rules are NumPy's: ``np.median`` averages the two middle
values, ``np.quantile(method='linear')`` uses the virtual index ``(n-1) q`` and
NumPy's two-sided lerp, and ``scipy.stats.trim_mean`` cuts
``int(p * n)`` values from each end.
"""

from __future__ import annotations

import math

import numpy as np

from fastinf.kernels._jit import jit
from fastinf.statistics import (
    DIFF,
    LIFT,
    MEAN,
    MEDIAN,
    MWU,
    QUANTILE,
    RATIO,
    STD,
    SUM,
    TRIM_MEAN,
    TTEST,
    VAR,
    WELCH,
)


@jit
def moment_value(kind, param, cnt, s1, s2, centre):  # type: ignore[no-untyped-def]
    """A smooth summary from moments about ``centre``.

    ``s1 = sum(w (x - c))`` and ``s2 = sum(w (x - c)**2)`` with total weight
    ``cnt``; the variance is ``(s2 - s1**2 / cnt) / (cnt - ddof)``.
    """
    if kind == MEAN:
        return centre + s1 / cnt
    if kind == SUM:
        return s1 + centre * cnt
    ss = s2 - s1 * (s1 / cnt)
    if ss < 0.0:
        ss = 0.0
    v = ss / (cnt - param)
    if kind == VAR:
        return v
    return math.sqrt(v)


@jit
def select(a, lo, hi, k):  # type: ignore[no-untyped-def]
    """Partially order ``a[lo:hi]`` in place so that ``a[k]`` is its k-th smallest.

    Quickselect with median-of-three pivots; returns ``a[k]``.
    """
    hi -= 1
    while hi > lo:
        mid = (lo + hi) >> 1
        # median of three into a[mid], then use it as the pivot
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[hi] < a[mid]:
            a[hi], a[mid] = a[mid], a[hi]
        pivot = a[mid]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return a[k]
    return a[k]


@jit
def _min_from(a, lo, hi):  # type: ignore[no-untyped-def]
    m = a[lo]
    for i in range(lo + 1, hi):
        if a[i] < m:
            m = a[i]
    return m


@jit
def lerp(a, b, t):  # type: ignore[no-untyped-def]
    """NumPy's ``_lerp``: exact at both ends, monotone in ``t``."""
    d = b - a
    if t >= 0.5:
        return b - d * (1.0 - t)
    return a + d * t


@jit
def order_value(kind, param, buf, m):  # type: ignore[no-untyped-def]
    """An order summary of ``buf[:m]`` (which it reorders)."""
    if kind == MEDIAN:
        k = (m - 1) >> 1
        a = select(buf, 0, m, k)
        if m % 2 == 1:
            return a
        b = _min_from(buf, k + 1, m)
        return (a + b) / 2.0
    if kind == QUANTILE:
        h = (m - 1) * param
        k = int(math.floor(h))
        t = h - k
        a = select(buf, 0, m, k)
        if k + 1 >= m:
            return a
        b = _min_from(buf, k + 1, m)
        return lerp(a, b, t)
    # TRIM_MEAN: sort-free: select both cut points, then sum the middle.
    low = int(param * m)
    high = m - low
    if low > 0:
        select(buf, 0, m, low - 1)
        select(buf, low, m, low)
    if high < m:
        select(buf, low, m, high)
    s = 0.0
    for i in range(low, high):
        s += buf[i]
    return s / (high - low)


@jit
def sorted_loo_value(kind, param, srt, m, drop):  # type: ignore[no-untyped-def]
    """Order summary of sorted ``srt[:m]`` with position ``drop`` removed, in O(1).

    Uses ``srt`` as a view: element ``k`` of the reduced array is ``srt[k]``
    below ``drop`` and ``srt[k + 1]`` from it on. For the trimmed mean the
    caller passes prefix sums in ``srt`` instead (see :func:`trim_loo`).
    """
    n = m - 1
    if kind == MEDIAN:
        k = (n - 1) >> 1
        a = srt[k] if k < drop else srt[k + 1]
        if n % 2 == 1:
            return a
        b = srt[k + 1] if k + 1 < drop else srt[k + 2]
        return (a + b) / 2.0
    h = (n - 1) * param
    k = int(math.floor(h))
    t = h - k
    a = srt[k] if k < drop else srt[k + 1]
    if k + 1 >= n:
        return a
    b = srt[k + 1] if k + 1 < drop else srt[k + 2]
    return lerp(a, b, t)


@jit
def trim_loo(param, prefix, m, drop):  # type: ignore[no-untyped-def]
    """Trimmed mean of sorted data with position ``drop`` removed, from prefix sums.

    ``prefix[k]`` is the sum of the ``k`` smallest values.
    """
    n = m - 1
    low = int(param * n)
    high = n - low
    # reduced positions [low, high) = original [low, min(high, drop)) and
    # original [max(low, drop) + 1, high + 1)
    s = 0.0
    a_hi = min(high, drop)
    if a_hi > low:
        s += prefix[a_hi] - prefix[low]
    b_lo = max(low, drop)
    if high > b_lo:
        s += prefix[high + 1] - prefix[b_lo + 1]
    return s / (high - low)


@jit
def trim_value_sorted(param, prefix, m):  # type: ignore[no-untyped-def]
    """Trimmed mean of sorted data from its prefix sums."""
    low = int(param * m)
    high = m - low
    return (prefix[high] - prefix[low]) / (high - low)


@jit
def nearest(values, lo, hi, target, best):  # type: ignore[no-untyped-def]
    """The value of ``values[lo:hi]`` nearest ``target``, if nearer than ``best``.

    NaN and inf are never nearer, so ``best = inf`` finds the nearest finite
    value (or returns inf when there is none). Kernels sum moments about
    such an observed value: it makes ``x - c`` exact for integer or dyadic
    data (tied arrangements give identical bits, a constant resample an
    exactly zero variance), and being near the mean it keeps the variance
    well conditioned.
    """
    for i in range(lo, hi):
        if abs(values[i] - target) < abs(best - target):
            best = values[i]
    return best


@jit
def combine(how, a, b):  # type: ignore[no-untyped-def]
    """Two samples' summaries into one statistic (DIFF, LIFT or RATIO)."""
    if how == DIFF:
        return a - b
    if how == LIFT:
        return a / b - 1.0
    if how == RATIO:
        return a / b
    return a


@jit
def t_statistic(how, n0, s10, s20, c0, n1, s11, s21, c1):  # type: ignore[no-untyped-def]
    """Student's (TTEST) or Welch's (WELCH) t from two samples' centred moments.

    As ``scipy.stats.ttest_ind``: Student pools ``ss0 + ss1`` over
    ``n0 + n1 - 2`` degrees of freedom; Welch adds ``v0/n0 + v1/n1``.
    """
    m0 = c0 + s10 / n0
    m1 = c1 + s11 / n1
    ss0 = max(s20 - s10 * (s10 / n0), 0.0)
    ss1 = max(s21 - s11 * (s11 / n1), 0.0)
    if how == TTEST:
        sp2 = (ss0 + ss1) / (n0 + n1 - 2.0)
        return (m0 - m1) / math.sqrt(sp2 * (1.0 / n0 + 1.0 / n1))
    v0 = ss0 / (n0 - 1.0)
    v1 = ss1 / (n1 - 1.0)
    return (m0 - m1) / math.sqrt(v0 / n0 + v1 / n1)


@jit
def mwu_statistic(rank_sum0, n0):  # type: ignore[no-untyped-def]
    """Mann-Whitney ``U_1 = R_1 - n_1 (n_1 + 1) / 2`` from the first sample's rank sum."""
    return rank_sum0 - n0 * (n0 + 1.0) / 2.0


@jit
def midranks(x):  # type: ignore[no-untyped-def]
    """Ranks 1..n of ``x`` with ties given their average rank (``rankdata``)."""
    n = x.size
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(n)
    i = 0
    while i < n:
        j = i
        while j + 1 < n and x[order[j + 1]] == x[order[i]]:
            j += 1
        r = 0.5 * (i + j) + 1.0
        for k in range(i, j + 1):
            ranks[order[k]] = r
        i = j + 1
    return ranks


KINDS = (MEAN, SUM, VAR, STD, MEDIAN, QUANTILE, TRIM_MEAN)
TESTS = (TTEST, WELCH, MWU)
