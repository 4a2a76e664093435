"""Kernels of the permutation test: null distributions by unranking or shuffling.

A task is one resample ``b`` of one experiment ``e``. In an *exact* test the
task computes the statistic of the ``b``-th arrangement in a fixed
enumeration, found by unranking ``b`` directly (the combinatorial number
system for the independent type, the binary digits of ``b`` for the samples
type, mixed-radix Lehmer codes for the pairings type); in a *randomised* test
it draws its arrangement from the stream ``stream_key(seed, e, b)``. Either
way a task's value depends on nothing but its address, so the null
distribution is bit-identical whatever the thread count or ``batch``.

Tasks are ordered experiment-major and cut into contiguous chunks of equal
*cost* (the caller computes the cut, :func:`fastinf.permutation._schedule`),
which ``prange`` spreads over the threads. Each chunk owns scratch buffers and
a private pooled copy of its current experiment, reloaded only when the
experiment changes; each task writes its own slot ``out[e, b]``.

Independent two-sample tests use a partial Fisher-Yates shuffle of the
pooled copy: only the ``k`` positions of the smaller group are drawn, and the
swaps are undone afterwards, so the copy is back in its original order before
the next task. For mean-type statistics (means, sums, variances, Student and
Welch t, Mann-Whitney U on midranks) the group moments are sums over the
``k`` chosen values, accumulated during the shuffle, the other group's being
the pooled totals minus those: O(k) per resample, no gathering.

Moments are summed about a centre that is a data value (the one nearest the
mean, :func:`nearest_to_mean`), fixed per experiment. For integer or dyadic
data (0/1 conversions, counts) every ``x - c`` and every sum is then exact,
so arrangements that are tied in theory are tied in floating point too, and
counting ``null <= observed`` agrees with scipy's.

The observed statistic is computed by :func:`observed` through the same
helpers on the identity arrangement, so in an exact test the identity's entry
of the null distribution equals the observed value bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit
from fastinf.kernels.rng import (
    _LOW32,
    _ONE,
    _S32,
    bounded,
    bounded32,
    draw64,
    sample_key,
    stream_key,
)
from fastinf.kernels.statistics import (
    combine,
    midranks,
    moment_value,
    mwu_statistic,
    nearest,
    order_value,
    t_statistic,
)
from fastinf.statistics import MEAN, MWU, ONE, PEARSON, SPEARMAN, STD, TTEST, WELCH

# Permutation types.
INDEPENDENT, SAMPLES, PAIRINGS = 0, 1, 2
# Arity of a user statistic (0: built-in).
NO_USER, USER_ONE, USER_TWO = 0, 1, 2

# The largest rank the int64 unranking handles.
MAX_EXACT = 2**62


# --------------------------------------------------------------------------
# Statistics of materialised samples
# --------------------------------------------------------------------------


@jit
def nearest_to_mean(values, lo0, hi0, lo1, hi1):  # type: ignore[no-untyped-def]
    """The value of ``values[lo0:hi0]`` and ``values[lo1:hi1]`` nearest their mean.

    The centre of the moment sums (see :func:`~fastinf.kernels.statistics.nearest`):
    arrangements with equal group multisets then give bit-identical
    statistics, so ties compare equal, as in scipy.
    """
    s = 0.0
    for i in range(lo0, hi0):
        s += values[i]
    for i in range(lo1, hi1):
        s += values[i]
    mean = s / (hi0 - lo0 + hi1 - lo1)
    best = nearest(values, lo0, hi0, mean, values[lo0])
    return nearest(values, lo1, hi1, mean, best)


@jit
def _moments(x, c):  # type: ignore[no-untyped-def]
    s1 = 0.0
    s2 = 0.0
    for i in range(x.size):
        u = x[i] - c
        s1 += u
        s2 += u * u
    return np.float64(x.size), s1, s2


@jit
def _summary(kind, param, x, c):  # type: ignore[no-untyped-def]
    if kind <= STD:  # MEAN, SUM, VAR, STD
        cnt, s1, s2 = _moments(x, c)
        return moment_value(kind, param, cnt, s1, s2, c)
    return order_value(kind, param, x, x.size)


@jit
def pearson(x, y):  # type: ignore[no-untyped-def]
    """Pearson's r of paired ``x`` and ``y`` (two-pass), clipped to [-1, 1]."""
    n = x.size
    mx = 0.0
    my = 0.0
    for i in range(n):
        mx += x[i]
        my += y[i]
    mx /= n
    my /= n
    sxy = 0.0
    sxx = 0.0
    syy = 0.0
    for i in range(n):
        u = x[i] - mx
        v = y[i] - my
        sxy += u * v
        sxx += u * u
        syy += v * v
    r = sxy / (math.sqrt(sxx) * math.sqrt(syy))
    if r > 1.0:
        r = 1.0
    elif r < -1.0:
        r = -1.0
    return r


@jit
def evaluate(kind, param, how, user, f1, f2, x, y, cx, cy):  # type: ignore[no-untyped-def]
    """The statistic of samples ``x`` and ``y`` (scratch arrays: may be reordered).

    ``y`` is ignored by one-sample statistics. For ``MWU`` the samples hold
    pooled midranks. Moments are summed about ``cx`` and ``cy``, which must
    not depend on the arrangement (see :func:`nearest_to_mean`).
    """
    if user == USER_ONE:
        return f1(x)
    if user == USER_TWO:
        return f2(x, y)
    if how == MWU:
        r = 0.0
        for i in range(x.size):
            r += x[i]
        return mwu_statistic(r, np.float64(x.size))
    if how == PEARSON:
        return pearson(x, y)
    if how == SPEARMAN:
        return pearson(midranks(x), midranks(y))
    if how == TTEST or how == WELCH:
        n0, a0, q0 = _moments(x, cx)
        n1, a1, q1 = _moments(y, cy)
        return t_statistic(how, n0, a0, q0, cx, n1, a1, q1, cy)
    v0 = _summary(kind, param, x, cx)
    if how == ONE:
        return v0
    return combine(how, v0, _summary(kind, param, y, cy))


# --------------------------------------------------------------------------
# Independent samples
# --------------------------------------------------------------------------


@jit
def load_pair(values, offsets, e, work):  # type: ignore[no-untyped-def]
    """Pool experiment ``e``'s two samples into ``work``.

    Returns ``(n0, n, g, k, c, t1, t2)``: the first sample's size, the pooled
    size, the smaller group ``g`` and its size ``k``, the centre ``c`` (the
    pooled value nearest the pooled mean) and the pooled sums
    ``t1 = sum(x - c)``, ``t2 = sum((x - c)**2)``.
    """
    a0 = offsets[0, e]
    n0 = offsets[0, e + 1] - a0
    a1 = offsets[1, e]
    n1 = offsets[1, e + 1] - a1
    n = n0 + n1
    for i in range(n0):
        work[i] = values[a0 + i]
    for i in range(n1):
        work[n0 + i] = values[a1 + i]
    c = nearest_to_mean(values, a0, a0 + n0, a1, a1 + n1)
    t1 = 0.0
    t2 = 0.0
    for i in range(n):
        u = work[i] - c
        t1 += u
        t2 += u * u
    g = 0 if n0 <= n1 else 1
    return n0, n, g, min(n0, n1), c, t1, t2


@jit
def split_value(kind, param, how, g, k, n, s1, s2, c, t1, t2):  # type: ignore[no-untyped-def]
    """A mean-type statistic from the chosen group's sums about the centre ``c``.

    Group ``g`` holds ``k`` values with ``s1 = sum(x - c)``, ``s2 =
    sum((x - c)**2)``; the other group holds the rest, whose sums are the
    pooled totals ``t1``, ``t2`` minus those.
    """
    chosen = (np.float64(k), s1, s2)
    rest = (np.float64(n - k), t1 - s1, t2 - s2)
    m0, a0, q0 = chosen if g == 0 else rest
    m1, a1, q1 = rest if g == 0 else chosen
    if how == MWU:
        # rank sum of the first sample: m0 * c + a0 (exact for midranks)
        return mwu_statistic(m0 * c + a0, m0)
    if how == TTEST or how == WELCH:
        return t_statistic(how, m0, a0, q0, c, m1, a1, q1, c)
    v0 = moment_value(kind, param, m0, a0, q0, c)
    v1 = moment_value(kind, param, m1, a1, q1, c)
    return combine(how, v0, v1)


@jit
def subset_sums(work, idx, k, c):  # type: ignore[no-untyped-def]
    """``(sum(u), sum(u**2))`` of ``u = work[idx[:k]] - c``."""
    s1 = 0.0
    s2 = 0.0
    for i in range(k):
        u = work[idx[i]] - c
        s1 += u
        s2 += u * u
    return s1, s2


@jit
def split_buffers(work, idx, k, n, chosen, rest):  # type: ignore[no-untyped-def]
    """``chosen = work[idx[:k]]`` and ``rest`` the other positions, both in order.

    ``idx[:k]`` must be increasing.
    """
    p = 0
    r = 0
    for i in range(n):
        if p < k and idx[p] == i:
            chosen[p] = work[i]
            p += 1
        else:
            rest[r] = work[i]
            r += 1


@jit
def split_evaluate(kind, param, how, user, f1, f2, g, k, n, chosen, rest, c):  # type: ignore[no-untyped-def]
    """The statistic with group ``g`` in ``chosen[:k]`` and the other in ``rest``."""
    if g == 0:
        return evaluate(kind, param, how, user, f1, f2, chosen[:k], rest[: n - k], c, c)
    return evaluate(kind, param, how, user, f1, f2, rest[: n - k], chosen[:k], c, c)


@jit
def unrank_combination(rank, n, k, binom, idx):  # type: ignore[no-untyped-def]
    """The ``rank``-th ``k``-subset of ``range(n)`` in lexicographic order, into ``idx``.

    The combinatorial number system: the first element is the smallest ``x``
    such that fewer than ``binom[n - x - 1, k - 1]`` subsets start below it,
    and so on. ``binom[m, j]`` is ``comb(m, j)``.
    """
    r = rank
    x = 0
    for i in range(k):
        while True:
            cnt = binom[n - x - 1, k - i - 1]
            if r < cnt:
                break
            r -= cnt
            x += 1
        idx[i] = x
        x += 1


@jit
def partial_shuffle(work, n, k, key, swaps, c):  # type: ignore[no-untyped-def]
    """Put a uniformly random ``k``-subset of ``work[:n]`` into ``work[:k]``.

    The first ``k`` steps of a Fisher-Yates shuffle: step ``i`` swaps
    position ``i`` with a uniform position in ``[i, n)``, recorded in
    ``swaps[i]`` for :func:`unshuffle`. Steps ``2p`` and ``2p + 1`` use the two
    halves of the word ``draw64(key, p)``. Returns ``(sum(u), sum(u**2))`` of
    the chosen ``u = work[:k] - c``, accumulated on the way (a fused pass).
    """
    s1 = 0.0
    s2 = 0.0
    i = 0
    while i < k:
        z = draw64(key, i >> 1)
        j = i + bounded32(key, i, z & _LOW32, np.uint64(n - i))
        v = work[j]
        work[j] = work[i]
        work[i] = v
        swaps[i] = j
        u = v - c
        s1 += u
        s2 += u * u
        if i + 1 < k:
            j = i + 1 + bounded32(key, i + 1, z >> _S32, np.uint64(n - i - 1))
            v = work[j]
            work[j] = work[i + 1]
            work[i + 1] = v
            swaps[i + 1] = j
            u = v - c
            s1 += u
            s2 += u * u
        i += 2
    return s1, s2


@jit
def unshuffle(work, k, swaps):  # type: ignore[no-untyped-def]
    """Undo :func:`partial_shuffle`, restoring ``work``'s original order."""
    for i in range(k - 1, -1, -1):
        j = swaps[i]
        v = work[j]
        work[j] = work[i]
        work[i] = v


@jit
def _experiment_of(task_start, t):  # type: ignore[no-untyped-def]
    return np.searchsorted(task_start, t, side="right") - 1


@jit
def chunk_size(offsets, task_start, lo, hi, pooled):  # type: ignore[no-untyped-def]
    """Largest sample (``pooled``: largest experiment) among tasks ``[lo, hi)``.

    Scratch buffers are sized per chunk, so one huge experiment in a ragged
    batch does not make every thread allocate for it.
    """
    best = 0
    if hi <= lo:
        return best
    for e in range(_experiment_of(task_start, lo), _experiment_of(task_start, hi - 1) + 1):
        tot = 0
        for j in range(offsets.shape[0]):
            m = offsets[j, e + 1] - offsets[j, e]
            if pooled:
                tot += m
            elif m > tot:
                tot = m
        if tot > best:
            best = tot
    return best


@jit(parallel=True)
def null_independent(  # type: ignore[no-untyped-def]
    values, offsets, seed, first, task_start, bounds, exact, binom,
    kind, param, how, user, f1, f2, fast, out,
):
    """Null distribution of a two-sample statistic under random group labels.

    Task ``t`` of chunk ``[bounds[c], bounds[c + 1])`` is resample
    ``b = first + t - task_start[e]`` of the experiment ``e`` with
    ``task_start[e] <= t < task_start[e + 1]``; its value goes to
    ``out[e, b]``. Exact experiments (``exact[e]``) enumerate the subsets of
    the smaller group by rank; the others shuffle.
    """
    for ch in prange(bounds.size - 1):
        maxn = chunk_size(offsets, task_start, bounds[ch], bounds[ch + 1], True)
        work = np.empty(maxn)
        swaps = np.empty(maxn, dtype=np.int64)
        idx = np.empty(maxn, dtype=np.int64)
        chosen = np.empty(0 if fast else maxn)
        rest = np.empty(0 if fast else maxn)
        e = -1
        n = 0
        g = 0
        k = 0
        c = 0.0
        t1 = 0.0
        t2 = 0.0
        for t in range(bounds[ch], bounds[ch + 1]):
            if e < 0 or t >= task_start[e + 1]:
                e = _experiment_of(task_start, t)
                _, n, g, k, c, t1, t2 = load_pair(values, offsets, e, work)
            b = first + t - task_start[e]
            if exact[e]:
                unrank_combination(b, n, k, binom, idx)
                if fast:
                    s1, s2 = subset_sums(work, idx, k, c)
                    v = split_value(kind, param, how, g, k, n, s1, s2, c, t1, t2)
                else:
                    split_buffers(work, idx, k, n, chosen, rest)
                    v = split_evaluate(
                        kind, param, how, user, f1, f2, g, k, n, chosen, rest, c
                    )
            else:
                key = stream_key(seed, e, b)
                s1, s2 = partial_shuffle(work, n, k, key, swaps, c)
                if fast:
                    unshuffle(work, k, swaps)
                    v = split_value(kind, param, how, g, k, n, s1, s2, c, t1, t2)
                else:
                    chosen[:k] = work[:k]
                    rest[: n - k] = work[k:n]
                    unshuffle(work, k, swaps)
                    v = split_evaluate(
                        kind, param, how, user, f1, f2, g, k, n, chosen, rest, c
                    )
            out[e, b] = v


# --------------------------------------------------------------------------
# Paired samples: permute which sample each observation belongs to
# --------------------------------------------------------------------------


@jit
def sign_word(key, rank, exact, w):  # type: ignore[no-untyped-def]
    """Swap bits of units ``64 w`` to ``64 w + 63``: the rank's binary digits, or random."""
    if exact:
        if w == 0:
            return np.uint64(rank)
        return np.uint64(0)
    return draw64(key, w)


@jit
def signed_sum(d, n, key, rank, exact):  # type: ignore[no-untyped-def]
    """``sum(s_i d_i)`` with ``s_i = -1`` where unit ``i``'s swap bit is set."""
    s = 0.0
    for w in range((n + 63) >> 6):
        z = sign_word(key, rank, exact, w)
        lo = w << 6
        hi = min(lo + 64, n)
        for i in range(lo, hi):
            s += d[i] * (1.0 - 2.0 * np.float64(z & _ONE))
            z = z >> _ONE
    return s


@jit
def swap_samples(values, offsets, e, m, n, key, rank, exact, bx, by):  # type: ignore[no-untyped-def]
    """Materialise one arrangement: unit ``i`` swapped between the samples where its bit is set.

    With one sample (``m == 1``) a swap flips the sign, as scipy does.
    """
    ax = offsets[0, e]
    ay = offsets[m - 1, e]
    for w in range((n + 63) >> 6):
        z = sign_word(key, rank, exact, w)
        lo = w << 6
        hi = min(lo + 64, n)
        for i in range(lo, hi):
            bit = (z & _ONE) != 0
            z = z >> _ONE
            xi = values[ax + i]
            if m == 1:
                bx[i] = -xi if bit else xi
            else:
                yi = values[ay + i]
                if bit:
                    bx[i] = yi
                    by[i] = xi
                else:
                    bx[i] = xi
                    by[i] = yi


@jit
def load_differences(values, offsets, e, m, d):  # type: ignore[no-untyped-def]
    """``d = x`` (one sample) or ``d = x - y`` (two) for experiment ``e``; returns ``n``."""
    ax = offsets[0, e]
    n = offsets[0, e + 1] - ax
    if m == 1:
        for i in range(n):
            d[i] = values[ax + i]
    else:
        ay = offsets[1, e]
        for i in range(n):
            d[i] = values[ax + i] - values[ay + i]
    return n


@jit
def samples_centre(values, offsets, e, m):  # type: ignore[no-untyped-def]
    """Centre of the samples type: 0 for sign flips, else the pooled value nearest the mean.

    Swaps within units keep the pooled values, so the centre is the same
    for every arrangement.
    """
    if m == 1:
        return 0.0
    return nearest_to_mean(
        values, offsets[0, e], offsets[0, e + 1], offsets[1, e], offsets[1, e + 1]
    )


@jit
def samples_value(kind, param, how, user, f1, f2, fast, values, offsets, e, m, n,
                  key, rank, exact, d, c, bx, by):  # type: ignore[no-untyped-def]
    """The statistic of one arrangement of the samples type.

    ``d`` holds the differences when ``fast``; ``c`` is :func:`samples_centre`.
    """
    if fast:
        s = signed_sum(d, n, key, rank, exact)
        if kind == MEAN:
            return s / n
        return s
    swap_samples(values, offsets, e, m, n, key, rank, exact, bx, by)
    return evaluate(kind, param, how, user, f1, f2, bx[:n], by[:n], c, c)


@jit(parallel=True)
def null_samples(  # type: ignore[no-untyped-def]
    values, offsets, seed, first, task_start, bounds, exact,
    kind, param, how, user, f1, f2, fast, out,
):
    """Null distribution with paired observations swapped between samples.

    Same task layout as :func:`null_independent`. Unit ``i`` of resample ``b``
    is swapped where bit ``i`` of ``b`` is set (exact) or bit ``i mod 64`` of
    ``draw64(key, i // 64)`` (randomised). ``fast``: a mean or sum of one
    sample, or a difference of them, as ``sum(+-d_i)``.
    """
    m = offsets.shape[0]
    for ch in prange(bounds.size - 1):
        maxn = chunk_size(offsets, task_start, bounds[ch], bounds[ch + 1], False)
        d = np.empty(maxn if fast else 0)
        bx = np.empty(0 if fast else maxn)
        by = np.empty(0 if fast else maxn)
        e = -1
        n = 0
        c = 0.0
        for t in range(bounds[ch], bounds[ch + 1]):
            if e < 0 or t >= task_start[e + 1]:
                e = _experiment_of(task_start, t)
                n = offsets[0, e + 1] - offsets[0, e]
                c = samples_centre(values, offsets, e, m)
                if fast:
                    load_differences(values, offsets, e, m, d)
            b = first + t - task_start[e]
            key = stream_key(seed, e, b)
            out[e, b] = samples_value(
                kind, param, how, user, f1, f2, fast, values, offsets, e, m, n,
                key, b, exact[e], d, c, bx, by,
            )


# --------------------------------------------------------------------------
# Paired samples: permute the pairings
# --------------------------------------------------------------------------


@jit
def shuffle(src, n, key, dst):  # type: ignore[no-untyped-def]
    """``dst[:n]`` = a uniformly random permutation of ``src[:n]`` (Fisher-Yates)."""
    for i in range(n):
        dst[i] = src[i]
    for i in range(n - 1, 0, -1):
        j = bounded(key, i, i + 1)
        v = dst[j]
        dst[j] = dst[i]
        dst[i] = v


@jit
def unrank_permutation(rank, n, fact, src, dst, avail):  # type: ignore[no-untyped-def]
    """``dst[:n]`` = the ``rank``-th permutation of ``src[:n]`` (Lehmer code; rank 0 is the identity)."""
    for i in range(n):
        avail[i] = i
    r = rank
    for i in range(n):
        f = fact[n - 1 - i]
        q = r // f
        r -= q * f
        p = avail[q]
        for s in range(q, n - 1 - i):
            avail[s] = avail[s + 1]
        dst[i] = src[p]


@jit
def pairings_value(kind, param, how, user, f1, f2, values, offsets, e, n, key,
                   rank, exact, fact, bx, by, avail):  # type: ignore[no-untyped-def]
    """The statistic with every sample permuted (rank split into one digit per sample)."""
    m = offsets.shape[0]
    cx, cy = pairings_centres(values, offsets, e)
    r = rank
    nf = fact[n] if exact else 0
    for j in range(m - 1, -1, -1):
        src = values[offsets[j, e] : offsets[j, e + 1]]
        dst = bx if j == 0 else by
        if exact:
            rj = r % nf
            r //= nf
            unrank_permutation(rj, n, fact, src, dst, avail)
        else:
            shuffle(src, n, sample_key(key, j), dst)
    return evaluate(kind, param, how, user, f1, f2, bx[:n], by[:n], cx, cy)


@jit
def pairings_centres(values, offsets, e):  # type: ignore[no-untyped-def]
    """Each sample's own centre: permutations within a sample keep its values."""
    m = offsets.shape[0]
    a, b = offsets[0, e], offsets[0, e + 1]
    cx = nearest_to_mean(values, a, b, b, b)
    a, b = offsets[m - 1, e], offsets[m - 1, e + 1]
    return cx, nearest_to_mean(values, a, b, b, b)


@jit(parallel=True)
def null_pairings(  # type: ignore[no-untyped-def]
    values, offsets, seed, first, task_start, bounds, exact, fact,
    kind, param, how, user, f1, f2, out,
):
    """Null distribution with each sample permuted independently (scipy's 'pairings').

    Same task layout as :func:`null_independent`. Exact rank ``b`` has digit
    ``b_j`` in base ``n!`` for sample ``j`` (the last sample varies fastest).
    """
    for ch in prange(bounds.size - 1):
        maxn = chunk_size(offsets, task_start, bounds[ch], bounds[ch + 1], False)
        bx = np.empty(maxn)
        by = np.empty(maxn)
        avail = np.empty(maxn, dtype=np.int64)
        for t in range(bounds[ch], bounds[ch + 1]):
            e = _experiment_of(task_start, t)
            n = offsets[0, e + 1] - offsets[0, e]
            b = first + t - task_start[e]
            key = stream_key(seed, e, b)
            out[e, b] = pairings_value(
                kind, param, how, user, f1, f2, values, offsets, e, n, key, b,
                exact[e], fact, bx, by, avail,
            )


# --------------------------------------------------------------------------
# Observed statistics and preprocessing
# --------------------------------------------------------------------------


@jit(parallel=True)
def observed(  # type: ignore[no-untyped-def]
    values, offsets, ptype, kind, param, how, user, f1, f2, fast, skip, out
):
    """The statistic of each experiment's data, by the null kernels' own helpers.

    Each experiment is evaluated as the identity arrangement, so an exact
    null distribution contains this value bit for bit.
    """
    m = offsets.shape[0]
    for e in prange(offsets.shape[1] - 1):
        if skip[e]:
            out[e] = np.nan
            continue
        if ptype == INDEPENDENT:
            n = offsets[0, e + 1] - offsets[0, e] + offsets[1, e + 1] - offsets[1, e]
            work = np.empty(n)
            n0, n, g, k, c, t1, t2 = load_pair(values, offsets, e, work)
            idx = np.arange(k) + (0 if g == 0 else n0)
            if fast:
                s1, s2 = subset_sums(work, idx, k, c)
                out[e] = split_value(kind, param, how, g, k, n, s1, s2, c, t1, t2)
            else:
                chosen = np.empty(n)
                rest = np.empty(n)
                split_buffers(work, idx, k, n, chosen, rest)
                out[e] = split_evaluate(
                    kind, param, how, user, f1, f2, g, k, n, chosen, rest, c
                )
        elif ptype == SAMPLES:
            n = offsets[0, e + 1] - offsets[0, e]
            d = np.empty(n)
            bx = np.empty(n)
            by = np.empty(n)
            if fast:
                load_differences(values, offsets, e, m, d)
            out[e] = samples_value(
                kind, param, how, user, f1, f2, fast, values, offsets, e, m, n,
                np.uint64(0), 0, True, d, samples_centre(values, offsets, e, m), bx, by,
            )
        else:
            n = offsets[0, e + 1] - offsets[0, e]
            bx = np.empty(n)
            by = np.empty(n)
            for i in range(n):
                bx[i] = values[offsets[0, e] + i]
                by[i] = values[offsets[m - 1, e] + i]
            cx, cy = pairings_centres(values, offsets, e)
            out[e] = evaluate(kind, param, how, user, f1, f2, bx, by, cx, cy)


@jit(parallel=True)
def rank_transform(values, offsets, pooled):  # type: ignore[no-untyped-def]
    """Midranks of each experiment: of all samples pooled, or of each sample alone."""
    out = np.empty_like(values)
    m = offsets.shape[0]
    for e in prange(offsets.shape[1] - 1):
        if pooled:
            total = 0
            for j in range(m):
                total += offsets[j, e + 1] - offsets[j, e]
            buf = np.empty(total)
            p = 0
            for j in range(m):
                for i in range(offsets[j, e], offsets[j, e + 1]):
                    buf[p] = values[i]
                    p += 1
            r = midranks(buf)
            p = 0
            for j in range(m):
                for i in range(offsets[j, e], offsets[j, e + 1]):
                    out[i] = r[p]
                    p += 1
        else:
            for j in range(m):
                a = offsets[j, e]
                b = offsets[j, e + 1]
                out[a:b] = midranks(values[a:b])
    return out

