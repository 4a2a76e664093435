"""Kernels of the bootstrap: resampled statistics, jackknife values, intervals.

The bootstrap distribution is computed in parallel over (experiment,
resample) tasks, interleaved so that a ragged batch of experiments of very
different sizes balances across threads. Resample ``r`` of experiment ``e``
draws from the stream ``stream_key(seed, e, r)`` (sample ``j > 0`` of an
unpaired statistic from a key mixed with ``j``), so a task's value depends on
nothing but its address: not on the thread that ran it, nor on ``batch``, nor
on whether it was appended later through ``bootstrap_result``.

Two resampling schemes:

* multinomial (scipy's): ``n`` indices drawn uniformly with replacement;
* Poisson: unit ``i`` gets an independent Poisson(1) weight addressed by
  ``(seed, e, r, i)``. Weighted sums over disjoint partitions of the units add
  up to the sums over the whole, so partitions can be resampled apart and
  merged (Hanley & MacGibbon 2006; Chamandy et al. 2012).

Smooth statistics never materialise a resample: they accumulate centred
moments while gathering. A chunk of index draws is taken branch-free with
Lemire's multiply-shift and an "any rejection?" flag; the rare chunk with a
possible rejection is recomputed with the exact rejection sampler, so the
draws are exactly uniform and the common path has no branch.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit
from fastinf.kernels.rng import (
    _LOW32,
    _S32,
    _TWO32,
    bounded32,
    draw64,
    poisson1,
    poisson_of,
    redraw_key,
    sample_key,
    stream_key,
)
from fastinf.kernels.statistics import (
    combine,
    moment_value,
    nearest,
    order_value,
    sorted_loo_value,
    trim_loo,
)
from fastinf.statistics import DIFF, ONE, SUM, TRIM_MEAN

_CHUNK = 256  # index pairs per rejection check


@jit
def gather_moments(x, key, c, need_s2, idx):  # type: ignore[no-untyped-def]
    """Centred sums ``(sum(u), sum(u**2))`` of a multinomial resample of ``x``, ``u = x* - c``.

    Per chunk, a first pass draws the indices into the scratch ``idx``
    (uint32, ``2 * _CHUNK`` long) with Lemire's multiply-shift and a
    branch-free "could any draw be rejected?" flag; the rare flagged chunk is
    redrawn with the exact rejection sampler. A second pass gathers into
    four independent accumulators, a loop short enough for the CPU to keep
    many cache misses in flight. ``sum(u**2)`` is 0 unless ``need_s2``.
    """
    n = x.size
    nn = np.uint64(n)
    thr = (_TWO32 - nn) % nn
    n_pairs = n >> 1
    s1 = 0.0
    s2 = 0.0
    for p in range(0, n_pairs, _CHUNK):
        m = min(_CHUNK, n_pairs - p)
        bad = 0
        for k in range(m):
            z = draw64(key, p + k)
            lo = (z & _LOW32) * nn
            hi = (z >> _S32) * nn
            bad |= np.int64((lo & _LOW32) < thr) | np.int64((hi & _LOW32) < thr)
            idx[2 * k] = np.uint32(lo >> _S32)
            idx[2 * k + 1] = np.uint32(hi >> _S32)
        if bad:
            for k in range(m):
                z = draw64(key, p + k)
                idx[2 * k] = np.uint32(bounded32(key, 2 * (p + k), z & _LOW32, nn))
                idx[2 * k + 1] = np.uint32(bounded32(key, 2 * (p + k) + 1, z >> _S32, nn))
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        if need_s2:
            for k in range(0, 2 * m, 2):
                u = x[idx[k]] - c
                v = x[idx[k + 1]] - c
                a0 += u
                a1 += v
                a2 += u * u
                a3 += v * v
        else:
            k = 0
            while k + 3 < 2 * m:
                a0 += x[idx[k]] - c
                a1 += x[idx[k + 1]] - c
                a2 += x[idx[k + 2]] - c
                a3 += x[idx[k + 3]] - c
                k += 4
            while k < 2 * m:
                a0 += x[idx[k]] - c
                k += 1
            a0 += a2
            a1 += a3
            a2 = 0.0
            a3 = 0.0
        s1 += a0 + a1
        s2 += a2 + a3
    if n & 1:
        u = x[resample_index(key, n - 1, nn)] - c
        s1 += u
        s2 += u * u
    return s1, s2


@jit
def resample_index(key, i, nn):  # type: ignore[no-untyped-def]
    """Index ``i`` of a multinomial resample, identical to :func:`gather_moments`'s."""
    z = draw64(key, i >> 1)
    if i & 1:
        return bounded32(key, i, z >> _S32, nn)
    return bounded32(key, i, z & _LOW32, nn)


@jit
def poisson_moments(x, key, c, need_s2, w):  # type: ignore[no-untyped-def]
    """Poisson-weighted moments of ``x``, conditioned on a non-empty resample.

    An all-zero draw (probability ``e**-n``) is redrawn from
    :func:`~fastinf.kernels.rng.redraw_key` streams, so the statistic is
    always defined (the usual convention of the Poisson bootstrap).
    """
    attempt = 0
    k = key
    while True:
        cnt, s1, s2 = _poisson_moments_once(x, k, c, need_s2, w)
        if cnt > 0.0 or x.size == 0:
            return cnt, s1, s2
        attempt += 1
        k = redraw_key(key, attempt)


@jit
def _poisson_moments_once(x, key, c, need_s2, w):  # type: ignore[no-untyped-def]
    """``(sum(w), sum(w u), sum(w u**2))`` with Poisson(1) weights ``w``, ``u = x - c``.

    Weights come two per 64-bit word (:func:`~fastinf.kernels.rng.poisson1`).
    Per chunk, one pass draws the weights into the scratch ``w`` (float64,
    ``2 * _CHUNK`` long), a second reads ``x`` in order into independent
    accumulators: a fused loop would serialise on the floating-point sums.
    ``sum(w u**2)`` is 0 unless ``need_s2``.
    """
    n = x.size
    cnt = 0.0
    s1 = 0.0
    s2 = 0.0
    n_pairs = n >> 1
    for p in range(0, n_pairs, _CHUNK):
        m = min(_CHUNK, n_pairs - p)
        for k in range(m):
            z = draw64(key, p + k)
            w[2 * k] = poisson_of(z & _LOW32)
            w[2 * k + 1] = poisson_of(z >> _S32)
        a0 = 0.0
        a1 = 0.0
        b0 = 0.0
        b1 = 0.0
        q0 = 0.0
        q1 = 0.0
        base = 2 * p
        if need_s2:
            for k in range(m):
                u = x[base + 2 * k] - c
                v = x[base + 2 * k + 1] - c
                w0 = w[2 * k]
                w1 = w[2 * k + 1]
                a0 += w0
                a1 += w1
                b0 += w0 * u
                b1 += w1 * v
                q0 += w0 * u * u
                q1 += w1 * v * v
        else:
            for k in range(m):
                w0 = w[2 * k]
                w1 = w[2 * k + 1]
                a0 += w0
                a1 += w1
                b0 += w0 * (x[base + 2 * k] - c)
                b1 += w1 * (x[base + 2 * k + 1] - c)
        cnt += a0 + a1
        s1 += b0 + b1
        s2 += q0 + q1
    if n & 1:
        wl = np.float64(poisson1(key, n - 1))
        u = x[n - 1] - c
        cnt += wl
        s1 += wl * u
        s2 += wl * u * u
    return cnt, s1, s2


@jit
def paired_moments(x, y, key, cx, cy, poisson):  # type: ignore[no-untyped-def]
    """Weighted centred moments of two paired samples under one resample.

    Returns ``(cnt, sx, sxx, sy, syy, sxy)``. An empty Poisson resample is
    redrawn, as in :func:`poisson_moments`.
    """
    n = x.size
    if poisson:
        attempt = 0
        k = key
        while True:
            r = _paired_sums(x, y, k, cx, cy, True)
            if r[0] > 0.0 or n == 0:
                return r
            attempt += 1
            k = redraw_key(key, attempt)
    return _paired_sums(x, y, key, cx, cy, False)


@jit
def _paired_sums(x, y, key, cx, cy, poisson):  # type: ignore[no-untyped-def]
    n = x.size
    nn = np.uint64(n)
    cnt = 0.0
    sx = 0.0
    sxx = 0.0
    sy = 0.0
    syy = 0.0
    sxy = 0.0
    for i in range(n):
        if poisson:
            w = np.float64(poisson1(key, i))
            u = x[i] - cx
            v = y[i] - cy
        else:
            w = 1.0
            k = resample_index(key, i, nn)
            u = x[k] - cx
            v = y[k] - cy
        cnt += w
        sx += w * u
        sxx += w * u * u
        sy += w * v
        syy += w * v * v
        sxy += w * u * v
    return cnt, sx, sxx, sy, syy, sxy


@jit
def fill_resample(x, key, poisson, buf):  # type: ignore[no-untyped-def]
    """Write a resample of ``x`` into ``buf``; return its length (-1: grow ``buf``).

    An empty Poisson resample is redrawn, as in :func:`poisson_moments`.
    """
    attempt = 0
    k = key
    while True:
        m = _fill_resample_once(x, k, poisson, buf)
        if m != 0 or x.size == 0:
            return m
        attempt += 1
        k = redraw_key(key, attempt)


@jit
def _fill_resample_once(x, key, poisson, buf):  # type: ignore[no-untyped-def]
    n = x.size
    if poisson:
        m = 0
        for i in range(n):
            w = poisson1(key, i)
            if m + w > buf.size:
                return -1  # caller grows the buffer
            for _ in range(w):
                buf[m] = x[i]
                m += 1
        return m
    nn = np.uint64(n)
    for i in range(n):
        buf[i] = x[resample_index(key, i, nn)]
    return n


@jit
def fill_paired(samples, starts, n, key, poisson, bufs):  # type: ignore[no-untyped-def]
    """One resample of paired units into ``bufs[j, :m]``; return ``m`` (-1: grow).

    An empty Poisson resample is redrawn, as in :func:`poisson_moments`.
    """
    attempt = 0
    k = key
    while True:
        m = _fill_paired_once(samples, starts, n, k, poisson, bufs)
        if m != 0 or n == 0:
            return m
        attempt += 1
        k = redraw_key(key, attempt)


@jit
def _fill_paired_once(samples, starts, n, key, poisson, bufs):  # type: ignore[no-untyped-def]
    nn = np.uint64(n)
    m = 0
    for i in range(n):
        if poisson:
            w = poisson1(key, i)
            if m + w > bufs.shape[1]:
                return -1
            for _ in range(w):
                for j in range(starts.size):
                    bufs[j, m] = samples[starts[j] + i]
                m += 1
        else:
            k = resample_index(key, i, nn)
            for j in range(starts.size):
                bufs[j, m] = samples[starts[j] + k]
            m += 1
    return m


@jit
def _smooth_se(kind, cnt, s1, s2):  # type: ignore[no-untyped-def]
    # Standard error of the mean (or sum) from centred moments, ddof = 1.
    ss = max(s2 - s1 * (s1 / cnt), 0.0)
    v = ss / (cnt - 1.0)
    if kind == SUM:
        return math.sqrt(cnt * v)
    return math.sqrt(v / cnt)


@jit
def smooth_stat(kind, param, how, paired, m):  # type: ignore[no-untyped-def]
    """Statistic and its standard error from a moment vector ``m``.

    Unpaired: ``m = (cnt0, s10, s20, c0, cnt1, s11, s21, c1)``; paired:
    ``m = (cnt, sx, sxx, cx, sy, syy, cy, sxy)``. The standard error (for the
    studentized interval) is the delta-method one; NaN where none applies.
    """
    if paired:
        cnt = m[0]
        v0 = moment_value(kind, param, cnt, m[1], m[2], m[3])
        v1 = moment_value(kind, param, cnt, m[4], m[5], m[6])
        stat = combine(how, v0, v1)
        mx = m[3] + m[1] / cnt
        my = m[6] + m[4] / cnt
        vx = max(m[2] - m[1] * (m[1] / cnt), 0.0) / (cnt - 1.0)
        vy = max(m[5] - m[4] * (m[4] / cnt), 0.0) / (cnt - 1.0)
        cxy = (m[7] - m[1] * (m[4] / cnt)) / (cnt - 1.0)
        if how == DIFF:
            scale = cnt if kind == SUM else 1.0 / cnt
            return stat, math.sqrt(max(vx + vy - 2.0 * cxy, 0.0) * scale)
        # LIFT or RATIO of means (= ratio of sums): delta method, eq. (3) of
        # Deng, Knoblich & Lu (2018), "Applying the delta method in metric
        # analytics", KDD.
        r = mx / my
        var_r = (vx - 2.0 * r * cxy + r * r * vy) / (cnt * my * my)
        return stat, math.sqrt(max(var_r, 0.0))
    v0 = moment_value(kind, param, m[0], m[1], m[2], m[3])
    se0 = _smooth_se(kind, m[0], m[1], m[2])
    if how == ONE:
        return v0, se0
    v1 = moment_value(kind, param, m[4], m[5], m[6], m[7])
    se1 = _smooth_se(kind, m[4], m[5], m[6])
    stat = combine(how, v0, v1)
    if how == DIFF:
        return stat, math.sqrt(se0 * se0 + se1 * se1)
    r = v0 / v1
    return stat, abs(r) * math.sqrt((se0 / v0) ** 2 + (se1 / v1) ** 2)


@jit(parallel=True)
def distribution(  # type: ignore[no-untyped-def]
    values, offsets, centres, seed, first, n_resamples, kind, param, how,
    paired, poisson, smooth, bounds, out, se_out,
):
    """Fill ``out[e, b]`` with the statistic of resample ``first + b`` of experiment ``e``.

    ``se_out`` (same shape, or ``(0, 0)``) receives the resample's standard
    error for studentized intervals. Tasks ``t = e * n_resamples + b`` run
    in the blocks ``bounds[k]:bounds[k + 1]`` of equal cost (see
    :func:`fastinf._bootstrap._blocks`), one scratch area per block, so that
    an experiment's data stays in cache across its resamples and ragged
    experiments balance across threads. A task's value does not depend on
    its block.
    """
    for blk in prange(bounds.size - 1):
        idx = np.empty(2 * _CHUNK, dtype=np.uint32)
        wbuf = np.empty(2 * _CHUNK)
        m = np.zeros(8)
        for t in range(bounds[blk], bounds[blk + 1]):
            e = t // n_resamples
            b = t - e * n_resamples
            key = stream_key(seed, e, first + b)
            if smooth:
                stat, se = _smooth_resample(
                    values, offsets, centres, e, key, kind, param, how, paired,
                    poisson, se_out.shape[0] > 0, idx, wbuf, m,
                )
                out[e, b] = stat
                if se_out.shape[0] > 0:
                    se_out[e, b] = se
            else:
                out[e, b] = _order_resample(
                    values, offsets, e, key, kind, param, how, paired, poisson
                )


@jit
def _smooth_resample(  # type: ignore[no-untyped-def]
    values, offsets, centres, e, key, kind, param, how, paired, poisson, want_se, idx, wbuf, m
):
    n_samples = offsets.shape[0]
    m[:] = 0.0
    if paired and n_samples == 2:
        s0 = offsets[0, e]
        s1 = offsets[1, e]
        n = offsets[0, e + 1] - s0
        cnt, sx, sxx, sy, syy, sxy = paired_moments(
            values[s0 : s0 + n], values[s1 : s1 + n], key,
            centres[0, e], centres[1, e], poisson,
        )
        m[0] = cnt
        m[1] = sx
        m[2] = sxx
        m[3] = centres[0, e]
        m[4] = sy
        m[5] = syy
        m[6] = centres[1, e]
        m[7] = sxy
        return smooth_stat(kind, param, how, True, m)
    for j in range(n_samples):
        x = values[offsets[j, e] : offsets[j, e + 1]]
        kj = sample_key(key, j)
        c = centres[j, e]
        need_s2 = want_se or kind > SUM
        if poisson:
            cnt, a, q = poisson_moments(x, kj, c, need_s2, wbuf)
        else:
            cnt = np.float64(x.size)
            a, q = gather_moments(x, kj, c, need_s2, idx)
        m[4 * j] = cnt
        m[4 * j + 1] = a
        m[4 * j + 2] = q
        m[4 * j + 3] = c
    return smooth_stat(kind, param, how, False, m)


@jit
def _order_resample(  # type: ignore[no-untyped-def]
    values, offsets, e, key, kind, param, how, paired, poisson
):
    n_samples = offsets.shape[0]
    v = np.empty(n_samples)
    if paired:
        n = offsets[0, e + 1] - offsets[0, e]
        starts = offsets[:, e].copy()
        size = n if not poisson else 2 * n + 16
        m = -1
        while m < 0:
            bufs = np.empty((n_samples, size))
            m = fill_paired(values, starts, n, key, poisson, bufs)
            size *= 2
        for j in range(n_samples):
            v[j] = order_value(kind, param, bufs[j], m) if m > 0 else np.nan
    else:
        for j in range(n_samples):
            x = values[offsets[j, e] : offsets[j, e + 1]]
            kj = sample_key(key, j)
            size = x.size if not poisson else 2 * x.size + 16
            m = -1
            while m < 0:
                buf = np.empty(size)
                m = fill_resample(x, kj, poisson, buf)
                size *= 2
            v[j] = order_value(kind, param, buf, m) if m > 0 else np.nan
    if n_samples == 1:
        return v[0]
    return combine(how, v[0], v[1])


@jit(parallel=True)
def jackknife(values, offsets, centres, kind, param, how, paired, smooth, out):  # type: ignore[no-untyped-def]
    """Leave-one-out statistics, O(n) per sample for every built-in statistic.

    ``out`` is laid out like ``values``: ``out[offsets[j, e] + i]`` is the
    statistic with observation ``i`` of sample ``j`` left out (for paired
    data, unit ``i`` left out of every sample, written under sample 0).
    Smooth summaries subtract one term from the moments; order summaries
    read the reduced order statistics from the sorted sample (prefix sums for
    the trimmed mean).
    """
    n_samples = offsets.shape[0]
    n_exp = offsets.shape[1] - 1
    n_groups = 1 if paired else n_samples
    for t in prange(n_exp * n_groups):
        e = t // n_groups
        g = t - e * n_groups
        # full-sample summaries of every sample
        full = np.empty(n_samples)
        sums = np.zeros((n_samples, 3))
        srt = []
        pos = []
        for j in range(n_samples):
            x = values[offsets[j, e] : offsets[j, e + 1]]
            c = centres[j, e]
            if smooth:
                for i in range(x.size):
                    u = x[i] - c
                    sums[j, 1] += u
                    sums[j, 2] += u * u
                sums[j, 0] = x.size
                full[j] = moment_value(kind, param, sums[j, 0], sums[j, 1], sums[j, 2], c)
                srt.append(np.empty(0))
                pos.append(np.empty(0, dtype=np.int64))
            else:
                order = np.argsort(x, kind="mergesort")
                s = x[order]
                rank = np.empty(x.size, dtype=np.int64)
                rank[order] = np.arange(x.size)
                if kind == TRIM_MEAN:
                    prefix = np.zeros(x.size + 1)
                    for i in range(x.size):
                        prefix[i + 1] = prefix[i] + s[i]
                    srt.append(prefix)
                    full[j] = trim_loo(param, prefix, x.size + 1, x.size)
                else:
                    srt.append(s)
                    full[j] = sorted_loo_value(kind, param, s, x.size + 1, x.size)
                pos.append(rank)
        n = offsets[g, e + 1] - offsets[g, e]
        base = offsets[g, e]
        v = full.copy()
        for i in range(n):
            for j in range(n_samples):
                if not paired and j != g:
                    continue
                x = values[offsets[j, e] : offsets[j, e + 1]]
                m = x.size
                if smooth:
                    u = x[i] - centres[j, e]
                    v[j] = moment_value(
                        kind, param, sums[j, 0] - 1.0, sums[j, 1] - u,
                        sums[j, 2] - u * u, centres[j, e],
                    )
                elif kind == TRIM_MEAN:
                    v[j] = trim_loo(param, srt[j], m, pos[j][i])
                else:
                    v[j] = sorted_loo_value(kind, param, srt[j], m, pos[j][i])
            if n_samples == 1:
                out[base + i] = v[0]
            else:
                out[base + i] = combine(how, v[0], v[1])
            for j in range(n_samples):
                v[j] = full[j]


@jit(parallel=True)
def statistic_values(values, offsets, centres, kind, param, how, paired, smooth):  # type: ignore[no-untyped-def]
    """The statistic on each experiment's original data, and its standard error.

    The standard error is the one :func:`smooth_stat` gives a resample (NaN
    for order statistics), used by the studentized interval.
    """
    n_samples = offsets.shape[0]
    n_exp = offsets.shape[1] - 1
    out = np.empty(n_exp)
    se = np.full(n_exp, np.nan)
    for e in prange(n_exp):
        if smooth:
            m = np.zeros(8)
            if paired and n_samples == 2:
                x = values[offsets[0, e] : offsets[0, e + 1]]
                y = values[offsets[1, e] : offsets[1, e + 1]]
                cx = centres[0, e]
                cy = centres[1, e]
                m[0] = x.size
                m[3] = cx
                m[6] = cy
                for i in range(x.size):
                    u = x[i] - cx
                    w = y[i] - cy
                    m[1] += u
                    m[2] += u * u
                    m[4] += w
                    m[5] += w * w
                    m[7] += u * w
                out[e], se[e] = smooth_stat(kind, param, how, True, m)
            else:
                for j in range(n_samples):
                    x = values[offsets[j, e] : offsets[j, e + 1]]
                    c = centres[j, e]
                    m[4 * j] = x.size
                    m[4 * j + 3] = c
                    for i in range(x.size):
                        u = x[i] - c
                        m[4 * j + 1] += u
                        m[4 * j + 2] += u * u
                out[e], se[e] = smooth_stat(kind, param, how, False, m)
        else:
            v = np.empty(n_samples)
            for j in range(n_samples):
                buf = values[offsets[j, e] : offsets[j, e + 1]].copy()
                v[j] = order_value(kind, param, buf, buf.size)
            out[e] = v[0] if n_samples == 1 else combine(how, v[0], v[1])
    return out, se


# ----------------------------------------------------------------------------
# User statistics: an @njit function of 1-D arrays, passed as a first-class
# function (a cfunc of signature float64(array, ...)), so these kernels are
# compiled and cached once for every user function.


@jit
def _resample_into(values, offsets, e, key, j, paired, poisson, size):  # type: ignore[no-untyped-def]
    x = values[offsets[j, e] : offsets[j, e + 1]]
    kj = key if paired else sample_key(key, j)
    m = -1
    while m < 0:
        buf = np.empty(size)
        m = fill_resample(x, kj, poisson, buf)
        size *= 2
    return buf[:m]


@jit(parallel=True)
def user_distribution1(f, values, offsets, seed, first, n_resamples, poisson, out):  # type: ignore[no-untyped-def]
    """:func:`distribution` for a one-sample user statistic ``f(x)``."""
    n_exp = offsets.shape[1] - 1
    for t in prange(n_exp * n_resamples):
        b = t // n_exp
        e = t - b * n_exp
        key = stream_key(seed, e, first + b)
        n = offsets[0, e + 1] - offsets[0, e]
        size = 2 * n + 16 if poisson else n
        out[e, b] = f(_resample_into(values, offsets, e, key, 0, False, poisson, size))


@jit(parallel=True)
def user_distribution2(f, values, offsets, seed, first, n_resamples, paired, poisson, out):  # type: ignore[no-untyped-def]
    """:func:`distribution` for a two-sample user statistic ``f(x, y)``."""
    n_exp = offsets.shape[1] - 1
    for t in prange(n_exp * n_resamples):
        b = t // n_exp
        e = t - b * n_exp
        key = stream_key(seed, e, first + b)
        if paired:
            n = offsets[0, e + 1] - offsets[0, e]
            size = 2 * n + 16 if poisson else n
            m = -1
            while m < 0:
                bufs = np.empty((2, size))
                m = fill_paired(values, offsets[:, e].copy(), n, key, poisson, bufs)
                size *= 2
            out[e, b] = f(bufs[0, :m], bufs[1, :m])
        else:
            n0 = offsets[0, e + 1] - offsets[0, e]
            n1 = offsets[1, e + 1] - offsets[1, e]
            x = _resample_into(values, offsets, e, key, 0, False, poisson,
                               2 * n0 + 16 if poisson else n0)
            y = _resample_into(values, offsets, e, key, 1, False, poisson,
                               2 * n1 + 16 if poisson else n1)
            out[e, b] = f(x, y)


@jit(parallel=True)
def user_values(f1, f2, n_samples, values, offsets):  # type: ignore[no-untyped-def]
    """A user statistic on each experiment's original data (``f2`` unused for one sample)."""
    n_exp = offsets.shape[1] - 1
    out = np.empty(n_exp)
    for e in prange(n_exp):
        x = values[offsets[0, e] : offsets[0, e + 1]].copy()
        if n_samples == 1:
            out[e] = f1(x)
        else:
            out[e] = f2(x, values[offsets[1, e] : offsets[1, e + 1]].copy())
    return out


@jit(parallel=True)
def user_jackknife(f1, f2, n_samples, values, offsets, paired, out):  # type: ignore[no-untyped-def]
    """Leave-one-out values of a user statistic, laid out as in :func:`jackknife` (O(n^2))."""
    n_exp = offsets.shape[1] - 1
    n_groups = 1 if paired else n_samples
    total = offsets[n_groups - 1, n_exp] - offsets[0, 0]
    base0 = offsets[0, 0]
    for t in prange(total):
        pos = base0 + t
        g = 0
        while g + 1 < n_groups and pos >= offsets[g + 1, 0]:
            g += 1
        e = np.searchsorted(offsets[g], pos, side="right") - 1
        i = pos - offsets[g, e]
        bufs = []
        for j in range(n_samples):
            x = values[offsets[j, e] : offsets[j, e + 1]]
            if paired or j == g:
                y = np.empty(x.size - 1)
                y[:i] = x[:i]
                y[i:] = x[i + 1 :]
                bufs.append(y)
            else:
                bufs.append(x.copy())
        if n_samples == 1:
            out[pos] = f1(bufs[0])
        else:
            out[pos] = f2(bufs[0], bufs[1])


@jit(parallel=True)
def poisson_partial_sums(x, seed, experiment, first_unit, centre, n_resamples, out):  # type: ignore[no-untyped-def]
    """Poisson-weighted ``(sum w, sum w u, sum w u**2)`` of a partition of units.

    Unit ``i`` of ``x`` is unit ``first_unit + i`` of the experiment, so its
    weight in resample ``b`` is the one the whole experiment would give it:
    partitions' sums add up to the experiment's.
    """
    n = x.size
    for b in prange(n_resamples):
        key = stream_key(seed, experiment, b)
        cnt = 0.0
        s1 = 0.0
        s2 = 0.0
        for i in range(n):
            w = np.float64(poisson1(key, first_unit + i))
            u = x[i] - centre
            cnt += w
            s1 += w * u
            s2 += w * u * u
        out[b, 0] = cnt
        out[b, 1] = s1
        out[b, 2] = s2


@jit(parallel=True)
def acceleration(loo, offsets, n_groups):  # type: ignore[no-untyped-def]
    """BCa acceleration per experiment from leave-one-out values (as :func:`jackknife` lays them out).

    ``a = sum_j sum_i U_ji**3 / n_j**3 / (6 (sum_j sum_i U_ji**2 / n_j**2)**1.5)``
    with ``U_ji = (n_j - 1) (mean_i theta_ji - theta_ji)`` over the first
    ``n_groups`` samples (1 for paired data).
    """
    n_exp = offsets.shape[1] - 1
    out = np.empty(n_exp)
    for e in prange(n_exp):
        num = 0.0
        den = 0.0
        for j in range(n_groups):
            lo = offsets[j, e]
            hi = offsets[j, e + 1]
            n = np.float64(hi - lo)
            mean = 0.0
            for i in range(lo, hi):
                mean += loo[i]
            mean /= n
            s2 = 0.0
            s3 = 0.0
            for i in range(lo, hi):
                u = (n - 1.0) * (mean - loo[i])
                s2 += u * u
                s3 += u * u * u
            num += s3 / n**3
            den += s2 / n**2
        # All leave-one-out values equal (e.g. a median of tied data): no
        # skewness to correct for, and a = 0 is the limit, not 0/0.
        out[e] = num / (6.0 * den**1.5) if den > 0.0 else 0.0
    return out


@jit(parallel=True)
def centres(values, offsets):  # type: ignore[no-untyped-def]
    """Per sample and experiment, the finite observed value nearest the mean.

    The centre of the moment sums (see :func:`~fastinf.kernels.statistics.nearest`):
    a constant resample then has exactly zero variance, so its studentized t
    is recognisable. 0.0 when nothing finite is left.
    """
    n_samples = offsets.shape[0]
    n_exp = offsets.shape[1] - 1
    out = np.zeros((n_samples, n_exp))
    for t in prange(n_samples * n_exp):
        j = t // n_exp
        e = t - j * n_exp
        lo = offsets[j, e]
        hi = offsets[j, e + 1]
        s = 0.0
        k = 0
        for i in range(lo, hi):
            if np.isfinite(values[i]):
                s += values[i]
                k += 1
        if k == 0:
            continue
        out[j, e] = nearest(values, lo, hi, s / k, np.inf)
    return out


@jit(inline="always")
def _poisson_unit(w, u, cnt, s1, s2):  # type: ignore[no-untyped-def]
    wf = np.float64(w)
    return cnt + wf, s1 + wf * u, s2 + wf * u * u


@jit
def _poisson_one(values, m, lo, n, c, f, key, out, g, b):  # type: ignore[no-untyped-def]
    """The sums of column ``m`` in one (group, resample) task, unit by unit in order."""
    cnt = 0.0
    s1 = 0.0
    s2 = 0.0
    i = 0
    if n > 0 and f & 1:  # an odd first unit: the high half of its word
        cnt, s1, s2 = _poisson_unit(poisson1(key, f), values[m, lo] - c, cnt, s1, s2)
        i = 1
    while i + 1 < n:
        z = draw64(key, (f + i) >> 1)
        cnt, s1, s2 = _poisson_unit(poisson_of(z & _LOW32), values[m, lo + i] - c, cnt, s1,
                                    s2)
        cnt, s1, s2 = _poisson_unit(poisson_of(z >> _S32), values[m, lo + i + 1] - c, cnt,
                                    s1, s2)
        i += 2
    if i < n:
        cnt, s1, s2 = _poisson_unit(poisson1(key, f + i), values[m, lo + i] - c, cnt, s1, s2)
    out[g, b, m, 0] = cnt
    out[g, b, m, 1] = s1
    out[g, b, m, 2] = s2


@jit(inline="always")
def _poisson_pair(w, u, v, cnt, s1, s2, t1, t2):  # type: ignore[no-untyped-def]
    wf = np.float64(w)
    return cnt + wf, s1 + wf * u, s2 + wf * u * u, t1 + wf * v, t2 + wf * v * v


@jit
def _poisson_two(values, m, lo, n, c0, c1, f, key, out, g, b):  # type: ignore[no-untyped-def]
    """:func:`_poisson_one` of columns ``m`` and ``m + 1`` at once: each weight drawn once.

    The two columns keep their own sums, added in unit order: the bits of
    two calls of :func:`_poisson_one`, for a little more than the price of one.
    """
    cnt = s1 = s2 = t1 = t2 = 0.0
    i = 0
    if n > 0 and f & 1:
        cnt, s1, s2, t1, t2 = _poisson_pair(poisson1(key, f), values[m, lo] - c0,
                                            values[m + 1, lo] - c1, cnt, s1, s2, t1, t2)
        i = 1
    while i + 1 < n:
        z = draw64(key, (f + i) >> 1)
        cnt, s1, s2, t1, t2 = _poisson_pair(poisson_of(z & _LOW32), values[m, lo + i] - c0,
                                            values[m + 1, lo + i] - c1, cnt, s1, s2, t1, t2)
        cnt, s1, s2, t1, t2 = _poisson_pair(poisson_of(z >> _S32), values[m, lo + i + 1] - c0,
                                            values[m + 1, lo + i + 1] - c1, cnt, s1, s2, t1,
                                            t2)
        i += 2
    if i < n:
        cnt, s1, s2, t1, t2 = _poisson_pair(poisson1(key, f + i), values[m, lo + i] - c0,
                                            values[m + 1, lo + i] - c1, cnt, s1, s2, t1, t2)
    out[g, b, m, 0] = cnt
    out[g, b, m, 1] = s1
    out[g, b, m, 2] = s2
    out[g, b, m + 1, 0] = cnt
    out[g, b, m + 1, 1] = t1
    out[g, b, m + 1, 2] = t2


@jit(parallel=True)
def poisson_group_sums(values, offsets, keys, first_unit, centres, seed, n_resamples, blocks, out):  # type: ignore[no-untyped-def]
    """Poisson-weighted ``(sum w, sum w u, sum w u**2)`` of many groups, ``out[g, b, m]``.

    ``values`` is ``(M, n)``: ``M`` columns (metrics) of the same units.
    Group ``g`` is units ``offsets[g]:offsets[g + 1]``; its unit ``i`` is
    unit ``first_unit[g] + i`` of the stream ``stream_key(seed, keys[g], b)``,
    one weight for all the unit's columns, and ``u = x - centres[g, m]``:
    per group and column, the same sums (same weights, same order of
    additions) as :func:`poisson_partial_sums`. Tasks
    ``t = g * n_resamples + b`` run in the equal-cost ``blocks``; columns go
    two at a time (:func:`_poisson_two`), and two units share one 64-bit
    word, so each word is mixed once per pair of columns.
    """
    M = values.shape[0]
    for k in prange(blocks.size - 1):
        for t in range(blocks[k], blocks[k + 1]):
            g = t // n_resamples
            b = t - g * n_resamples
            key = stream_key(seed, keys[g], b)
            lo = offsets[g]
            n = offsets[g + 1] - lo
            f = first_unit[g]
            m = 0
            while m + 1 < M:
                _poisson_two(values, m, lo, n, centres[g, m], centres[g, m + 1], f, key,
                             out, g, b)
                m += 2
            if m < M:
                _poisson_one(values, m, lo, n, centres[g, m], f, key, out, g, b)
