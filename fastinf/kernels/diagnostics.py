"""Kernels of the MCMC convergence diagnostics: split R-hat, ESS, MCSE.

Each batch element is one ``(C, N)`` matrix of draws (``C`` chains of ``N``
draws), stored flat as a row of ``x`` of shape ``(B, C * N)``. Work is
parallel over elements (``prange`` over blocks of elements, each block with
its own scratch buffers); every element is computed serially in a fixed
order and writes only its own output slot, so results do not depend on the
number of threads.

The steps follow ArviZ's (``arviz.stats.diagnostics``) on one element:

* *split*: ``C`` chains of ``N`` draws become ``2 C`` chains of
  ``h = N // 2``: the first halves, then the last halves (an odd ``N``
  drops the middle draw of every chain);
* *rank normalisation*: the average rank ``r`` of every value among all
  ``S`` values (ties share the mean of their ranks), mapped to
  ``ndtri((r - 3/8) / (S + 1/4))``. Ranks are half-integers, so the caller
  passes the ``2 S - 1`` possible normal scores as a table (``ztab``,
  computed by :func:`scipy.special.ndtri`): a run of ties at sorted
  positions ``lo .. hi - 1`` (0-based) has rank ``(lo + hi + 1) / 2`` and
  score ``ztab[lo + hi - 1]``, the same bits as ArviZ's ``norm.ppf``;
* *folding*: ``|y - median(y)|``; its sorted order is a merge of the values
  below the median (read backwards) and those above, so no second sort;
* *quantiles* and medians of the full chains: R's type 7
  (``mquantiles(alphap=1, betap=1)``) by selection (quickselect), no
  sort;
* R-hat of a matrix: ``sqrt(((B / W) + n - 1) / n)`` with ``W`` the mean
  within-chain variance and ``B / n`` the variance of the chain means;
* ESS of a matrix: Geyer's initial positive and monotone sequences of the
  combined autocorrelations ``rho_t = 1 - (W - mean_c acov_c(t)) / var_plus``.
  The autocovariances are computed lag by lag, only as far as the sequence
  runs (most chains need a few dozen lags); past ``_FFT_AFTER`` lags the
  remaining ones come from one zero-padded FFT of every pair of chains
  (:func:`_fft`, radix 2), as ArviZ computes all of them.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit
from fastinf.kernels.statistics import _min_from, select

# method codes (fastinf.diagnostics maps the names to these)
RHAT_RANK, RHAT_SPLIT, RHAT_FOLDED, RHAT_Z, RHAT_IDENTITY = 0, 1, 2, 3, 4
(
    ESS_BULK, ESS_TAIL, ESS_QUANTILE, ESS_MEAN, ESS_SD, ESS_MAD, ESS_FOLDED,
    ESS_IDENTITY, ESS_LOCAL,
) = 0, 1, 2, 3, 4, 5, 6, 7, 8
MCSE_MEAN, MCSE_SD = 0, 1

_RESOLUTION = 1e-15  # np.finfo(float).resolution: ArviZ's test for a constant array


# --------------------------------------------------------------------------
# Sorting and ranks
# --------------------------------------------------------------------------


@jit
def _order_keys(v, keys):  # type: ignore[no-untyped-def]
    """Order-preserving unsigned keys of float64 ``v`` (no NaN): ``v_i < v_j`` implies ``k_i < k_j``.

    Negative numbers get their bits flipped, the others their sign bit set.
    ``-0.0`` sorts just before ``0.0``; the rank step compares values, so the
    two still form one run of ties.
    """
    bits = v.view(np.uint64)
    sign = np.uint64(0x8000000000000000)
    for i in range(v.size):
        b = bits[i]
        keys[i] = ~b if b & sign else b | sign


@jit
def _argsort(v, order, keys, tmp_keys, tmp_order, counts):  # type: ignore[no-untyped-def]
    """``order`` := a permutation sorting ``v`` (float64, no NaN), by LSD radix sort.

    Eight passes of 8 bits over order-preserving keys (:func:`_order_keys`),
    with the histograms of all passes counted in one sweep; a pass in
    which every key has the same byte is skipped. ``counts`` is ``(8, 256)``
    scratch; the other buffers have ``v.size`` elements. Ties keep their
    input order (irrelevant here: ties are averaged).
    """
    n = v.size
    _order_keys(v, keys)
    counts[:, :] = 0
    for i in range(n):
        k = keys[i]
        for p in range(8):
            counts[p, (k >> np.uint64(8 * p)) & np.uint64(255)] += 1
    for i in range(n):
        order[i] = i
    src_k = keys
    src_o = order
    dst_k = tmp_keys
    dst_o = tmp_order
    swapped = False
    for p in range(8):
        skip = False
        for d in range(256):
            if counts[p, d] == n:
                skip = True
                break
            if counts[p, d] != 0:
                break
        if skip:
            continue
        total = 0
        for d in range(256):
            c = counts[p, d]
            counts[p, d] = total
            total += c
        shift = np.uint64(8 * p)
        for i in range(n):
            k = src_k[i]
            d = (k >> shift) & np.uint64(255)
            pos = counts[p, d]
            counts[p, d] = pos + 1
            dst_k[pos] = k
            dst_o[pos] = src_o[i]
        src_k, dst_k = dst_k, src_k
        src_o, dst_o = dst_o, src_o
        swapped = not swapped
    if swapped:
        for i in range(n):
            order[i] = src_o[i]


@jit
def _zscores(vals, order, ztab, out):  # type: ignore[no-untyped-def]
    """``out[i]`` := the normal score of the average rank of ``vals[i]`` (``order`` sorts ``vals``)."""
    n = vals.size
    lo = 0
    while lo < n:
        v = vals[order[lo]]
        hi = lo + 1
        while hi < n and vals[order[hi]] == v:
            hi += 1
        z = ztab[lo + hi - 1]  # rank (lo + hi + 1) / 2
        for k in range(lo, hi):
            out[order[k]] = z
        lo = hi


@jit
def _median_sorted(vals, order, n):  # type: ignore[no-untyped-def]
    """``np.median`` of ``vals[order[:n]]`` (sorted)."""
    m = n // 2
    if n % 2 == 1:
        return vals[order[m]]
    return (vals[order[m - 1]] + vals[order[m]]) / 2.0


@jit
def _fold(vals, order, dev, dev_order):  # type: ignore[no-untyped-def]
    """``dev := |vals - median(vals)|`` and ``dev_order`` sorting it; returns the median.

    With ``vals`` sorted by ``order``, the deviations of the values at or
    below the median grow leftwards and those above it grow rightwards
    (``fl(m - v)`` is monotone in ``v``, and equals ``|fl(v - m)|``): two
    sorted runs, merged.
    """
    n = vals.size
    med = _median_sorted(vals, order, n)
    for i in range(n):
        dev[i] = abs(vals[i] - med)
    k_left = 0
    while k_left < n and vals[order[k_left]] <= med:
        k_left += 1
    i = k_left - 1
    j = k_left
    k = 0
    while i >= 0 and j < n:
        a = order[i]
        b = order[j]
        if dev[a] <= dev[b]:
            dev_order[k] = a
            i -= 1
        else:
            dev_order[k] = b
            j += 1
        k += 1
    while i >= 0:
        dev_order[k] = order[i]
        i -= 1
        k += 1
    while j < n:
        dev_order[k] = order[j]
        j += 1
        k += 1
    return med


@jit
def _select_pair(v, k):  # type: ignore[no-untyped-def]
    """The ``k``-th and ``k + 1``-th smallest (0-based) of ``v``, by selection (O(n))."""
    a = v.copy()
    select(a, 0, a.size, k)
    if k + 1 < a.size:
        return a[k], _min_from(a, k + 1, a.size)
    return a[k], a[k]


@jit
def _median_select(v):  # type: ignore[no-untyped-def]
    """``np.median(v)`` by selection."""
    n = v.size
    if n % 2 == 1:
        a, _ = _select_pair(v, n // 2)
        return a
    a, b = _select_pair(v, n // 2 - 1)
    return (a + b) / 2.0


@jit
def _type7_index(n, p):  # type: ignore[no-untyped-def]
    """``(k, gamma)`` of ``mquantiles(p, alphap=1, betap=1)``: ``(1 - gamma) x_(k-1) + gamma x_(k)``."""
    m = 1.0 + p * (1.0 - 1.0 - 1.0)
    aleph = n * p + m
    k = int(math.floor(min(max(aleph, 1.0), float(n - 1))))
    gamma = min(max(aleph - k, 0.0), 1.0)
    return k, gamma


@jit
def _quantile7_pair(v, p_lo, p_hi):  # type: ignore[no-untyped-def]
    """R's type-7 quantiles of ``v`` at ``p_lo`` and ``p_hi``: one selection, ArviZ's operations."""
    n = v.size
    if n == 1:
        return v[0], v[0]
    k0, g0 = _type7_index(n, p_lo)
    k1, g1 = _type7_index(n, p_hi)
    a = v.copy()
    select(a, 0, n, k0 - 1)
    lo0 = a[k0 - 1]
    hi0 = _min_from(a, k0, n)
    # a[k0:] holds the n - k0 largest: the second pair lies there if k1 - 1 >= k0
    select(a, k0 if k1 - 1 >= k0 else 0, n, k1 - 1)
    lo1 = a[k1 - 1]
    hi1 = _min_from(a, k1, n)
    q0 = (1.0 - g0) * lo0 + g0 * hi0
    q1 = (1.0 - g1) * lo1 + g1 * hi1
    return q0, q1


# --------------------------------------------------------------------------
# Layout: split chains
# --------------------------------------------------------------------------


@jit
def _split(xe, n_chain, n_draw, y):  # type: ignore[no-untyped-def]
    """``y`` := the ``2 C`` split chains of ``h = N // 2`` draws, flat: first halves, then last."""
    h = n_draw // 2
    for c in range(n_chain):
        for j in range(h):
            y[c * h + j] = xe[c * n_draw + j]
            y[(n_chain + c) * h + j] = xe[c * n_draw + n_draw - h + j]


@jit
def _split_map(n_chain, n_draw):  # type: ignore[no-untyped-def]
    """Position of every full-chain draw ``c * N + j`` among the split chains (-1: dropped)."""
    h = n_draw // 2
    smap = np.full(n_chain * n_draw, -1, dtype=np.int64)
    for c in range(n_chain):
        for j in range(h):
            smap[c * n_draw + j] = c * h + j
            smap[c * n_draw + n_draw - h + j] = (n_chain + c) * h + j
    return smap


@jit
def _split_order(order, smap, split_order):  # type: ignore[no-untyped-def]
    """The sorting order of the split chains from that of the full chains (middle draws dropped)."""
    k = 0
    for q in range(order.size):
        i = smap[order[q]]
        if i >= 0:
            split_order[k] = i
            k += 1


# --------------------------------------------------------------------------
# R-hat and ESS of one (rows, cols) matrix
# --------------------------------------------------------------------------


@jit
def _var1(a, lo, n, mean):  # type: ignore[no-untyped-def]
    """``sum((a[lo:lo+n] - mean)**2) / (n - 1)`` (``np.var(ddof=1)``'s two passes)."""
    s = 0.0
    for j in range(lo, lo + n):
        d = a[j] - mean
        s += d * d
    return s / (n - 1)


@jit
def _rhat2d(a, rows, cols, means):  # type: ignore[no-untyped-def]
    """ArviZ's ``_rhat`` of ``a`` as ``(rows, cols)``: ``sqrt((B / W + n - 1) / n)``."""
    w = 0.0
    grand = 0.0
    for r in range(rows):
        s = 0.0
        for j in range(r * cols, (r + 1) * cols):
            s += a[j]
        m = s / cols
        means[r] = m
        grand += m
        w += _var1(a, r * cols, cols, m)
    w = w / rows
    grand = grand / rows
    s = 0.0
    for r in range(rows):
        d = means[r] - grand
        s += d * d
    between = cols * (s / (rows - 1))
    return math.sqrt((between / w + cols - 1) / cols)


_FFT_AFTER = 48  # lags computed directly before switching to the FFT


@jit
def _fft(re, im, inverse):  # type: ignore[no-untyped-def]
    """In-place radix-2 complex FFT of length ``re.size`` (a power of two), unnormalised."""
    n = re.size
    j = 0
    for i in range(1, n):
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            re[i], re[j] = re[j], re[i]
            im[i], im[j] = im[j], im[i]
    sign = 1.0 if inverse else -1.0
    length = 2
    while length <= n:
        half = length >> 1
        ang = sign * 2.0 * math.pi / length
        for k in range(half):
            wr = math.cos(ang * k)
            wi = math.sin(ang * k)
            for s in range(0, n, length):
                u = s + k
                v = u + half
                tr = re[v] * wr - im[v] * wi
                ti = re[v] * wi + im[v] * wr
                re[v] = re[u] - tr
                im[v] = im[u] - ti
                re[u] += tr
                im[u] += ti
        length <<= 1


@jit
def _acov_fft(c, rows, cols, acov):  # type: ignore[no-untyped-def]
    """``acov[t] := mean_r sum_j c[r, j] c[r, j + t] / cols`` for every lag, by FFT.

    Two real chains ride in one complex transform (``c_a + i c_b``); the sum
    of their power spectra is ``(|Z_k|^2 + |Z_{m-k}|^2) / 2``, and one inverse
    transform of the summed spectrum gives the summed autocovariances.
    """
    m = 1
    while m < 2 * cols:
        m <<= 1
    power = np.zeros(m)
    re = np.empty(m)
    im = np.empty(m)
    for r0 in range(0, rows, 2):
        re[:] = 0.0
        im[:] = 0.0
        for j in range(cols):
            re[j] = c[r0 * cols + j]
        if r0 + 1 < rows:
            for j in range(cols):
                im[j] = c[(r0 + 1) * cols + j]
        _fft(re, im, False)
        for k in range(m):
            k2 = (m - k) & (m - 1)
            power[k] += 0.5 * (re[k] * re[k] + im[k] * im[k] + re[k2] * re[k2] + im[k2] * im[k2])
    im[:] = 0.0
    _fft(power, im, True)
    for t in range(cols):
        acov[t] = power[t] / m / cols / rows


@jit
def _acov_lag2(c, rows, cols, t):  # type: ignore[no-untyped-def]
    """Mean over chains of the autocovariances at lags ``t`` and ``t + 1``, directly.

    Four partial sums per lag (a fixed order) break the chain of dependent
    additions, so the loop runs at the CPU's throughput, not its latency.
    """
    s0 = 0.0
    s1 = 0.0
    n_pair = cols - t - 1  # terms the two lags share
    for r in range(rows):
        base = r * cols
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        b0 = 0.0
        b1 = 0.0
        b2 = 0.0
        b3 = 0.0
        j = 0
        while j + 4 <= n_pair:
            i = base + j
            c0 = c[i]
            c1 = c[i + 1]
            c2 = c[i + 2]
            c3 = c[i + 3]
            a0 += c0 * c[i + t]
            a1 += c1 * c[i + t + 1]
            a2 += c2 * c[i + t + 2]
            a3 += c3 * c[i + t + 3]
            b0 += c0 * c[i + t + 1]
            b1 += c1 * c[i + t + 2]
            b2 += c2 * c[i + t + 3]
            b3 += c3 * c[i + t + 4]
            j += 4
        while j < n_pair:
            i = base + j
            a0 += c[i] * c[i + t]
            b0 += c[i] * c[i + t + 1]
            j += 1
        a = (a0 + a1) + (a2 + a3)
        b = (b0 + b1) + (b2 + b3)
        if t < cols:
            a += c[base + cols - t - 1] * c[base + cols - 1]
        s0 += a / cols
        s1 += b / cols
    return s0 / rows, s1 / rows


@jit
def _ess2d(a, rows, cols, relative, cen, means, rho, acov):  # type: ignore[no-untyped-def]
    """ArviZ's ``_ess`` of ``a`` as ``(rows, cols)``: Geyer's initial monotone sequence.

    ``cen``: ``rows * cols`` scratch; ``means``: ``rows``; ``rho`` and
    ``acov``: ``cols``.
    """
    size = rows * cols
    lo = a[0]
    hi = a[0]
    for i in range(size):
        lo = min(lo, a[i])
        hi = max(hi, a[i])
    if hi - lo < _RESOLUTION:
        return float(size)  # ArviZ: a constant array has ess = its size (even relative)
    grand = 0.0
    for r in range(rows):
        s = 0.0
        for j in range(r * cols, (r + 1) * cols):
            s += a[j]
        m = s / cols
        means[r] = m
        grand += m
        for j in range(r * cols, (r + 1) * cols):
            cen[j] = a[j] - m
    n = float(cols)
    acov0, acov1 = _acov_lag2(cen, rows, cols, 0)
    mean_var = acov0 * n / (n - 1.0)
    var_plus = mean_var * (n - 1.0) / n
    if rows > 1:
        grand = grand / rows
        s = 0.0
        for r in range(rows):
            d = means[r] - grand
            s += d * d
        var_plus += s / (rows - 1)
    rho[:cols] = 0.0
    rho_even = 1.0
    rho[0] = rho_even
    rho_odd = 1.0 - (mean_var - acov1) / var_plus
    rho[1] = rho_odd
    have_fft = False
    # Geyer's initial positive sequence (pairs of lags t + 1, t + 2)
    t = 1
    while t < cols - 3 and (rho_even + rho_odd) > 0.0:
        if t + 1 > _FFT_AFTER and not have_fft:
            _acov_fft(cen, rows, cols, acov)
            have_fft = True
        if have_fft:
            g0 = acov[t + 1]
            g1 = acov[t + 2]
        else:
            g0, g1 = _acov_lag2(cen, rows, cols, t + 1)
        rho_even = 1.0 - (mean_var - g0) / var_plus
        rho_odd = 1.0 - (mean_var - g1) / var_plus
        if (rho_even + rho_odd) >= 0:
            rho[t + 1] = rho_even
            rho[t + 2] = rho_odd
        t += 2
    max_t = t - 2
    if rho_even > 0:
        rho[max_t + 1] = rho_even
    # Geyer's initial monotone sequence
    t = 1
    while t <= max_t - 2:
        if (rho[t + 1] + rho[t + 2]) > (rho[t - 1] + rho[t]):
            rho[t + 1] = (rho[t - 1] + rho[t]) / 2.0
            rho[t + 2] = rho[t + 1]
        t += 2
    s = 0.0
    for k in range(max_t + 1):
        s += rho[k]
    tau = -1.0 + 2.0 * s
    if max_t + 1 < cols:
        tau += rho[max_t + 1]
    floor = 1.0 / math.log10(size)
    if floor > tau:  # Python's max(tau, floor): NaN stays NaN
        tau = floor
    ess = (1.0 if relative else float(size)) / tau
    for k in range(cols):
        if np.isnan(rho[k]):
            return np.nan
    return ess


# --------------------------------------------------------------------------
# Scratch and per-element drivers
# --------------------------------------------------------------------------


@jit
def _has_nan(xe):  # type: ignore[no-untyped-def]
    for i in range(xe.size):
        if np.isnan(xe[i]):
            return True
    return False


@jit
def _blocks(n):  # type: ignore[no-untyped-def]
    """Number of work blocks for ``n`` elements (each block allocates its scratch once)."""
    return min(n, 512)


@jit
def _sorted_full(xe, order, keys, tk, to, counts):  # type: ignore[no-untyped-def]
    _argsort(xe, order, keys, tk, to, counts)


@jit
def _rhat_one(xe, n_chain, n_draw, code, ztab, y, z, z2, order, sorder, dorder,
              keys, tk, to, counts, means, smap):  # type: ignore[no-untyped-def]
    rows = 2 * n_chain
    h = n_draw // 2
    if code == RHAT_IDENTITY:
        return _rhat2d(xe, n_chain, n_draw, means)
    _split(xe, n_chain, n_draw, y)
    if code == RHAT_SPLIT:
        return _rhat2d(y, rows, h, means)
    _sorted_full(xe, order, keys, tk, to, counts)
    _split_order(order, smap, sorder)
    res = np.nan
    if code == RHAT_RANK or code == RHAT_Z:
        _zscores(y, sorder, ztab, z)
        res = _rhat2d(z, rows, h, means)
        if code == RHAT_Z:
            return res
    _fold(y, sorder, z2, dorder)
    _zscores(z2, dorder, ztab, z2)
    tail = _rhat2d(z2, rows, h, means)
    if code == RHAT_FOLDED:
        return tail
    if tail > res:  # Python's max(bulk, tail)
        res = tail
    return res


@jit(parallel=True)
def rhat_many(x, n_chain, n_draw, code, ztab, out):  # type: ignore[no-untyped-def]
    """R-hat of every row of ``x`` (``(B, C * N)``, one element per row) into ``out``."""
    n_elem = x.shape[0]
    n_full = n_chain * n_draw
    size = 2 * n_chain * (n_draw // 2)
    nb = _blocks(n_elem)
    for blk in prange(nb):
        y = np.empty(size)
        z = np.empty(size)
        z2 = np.empty(size)
        order = np.empty(n_full, dtype=np.int64)
        sorder = np.empty(size, dtype=np.int64)
        dorder = np.empty(size, dtype=np.int64)
        keys = np.empty(n_full, dtype=np.uint64)
        tk = np.empty(n_full, dtype=np.uint64)
        to = np.empty(n_full, dtype=np.int64)
        counts = np.empty((8, 256), dtype=np.int64)
        means = np.empty(2 * n_chain)
        smap = _split_map(n_chain, n_draw)
        for e in range(blk * n_elem // nb, (blk + 1) * n_elem // nb):
            xe = x[e]
            if _has_nan(xe):
                out[e] = np.nan
                continue
            out[e] = _rhat_one(xe, n_chain, n_draw, code, ztab, y, z, z2, order, sorder,
                               dorder, keys, tk, to, counts, means, smap)


@jit
def _indicator_split(xe, n_chain, n_draw, lo, hi, y, tmp):  # type: ignore[no-untyped-def]
    """``y`` := split chains of ``lo <= x <= hi`` as 0.0 / 1.0."""
    for i in range(xe.size):
        v = xe[i]
        tmp[i] = 1.0 if (lo <= v and v <= hi) else 0.0
    _split(tmp, n_chain, n_draw, y)


@jit
def _ess_one(xe, n_chain, n_draw, code, p_lo, p_hi, relative, ztab, y, z, z2, order,
             sorder, dorder, keys, tk, to, counts, cen, means, rho, acov, full,
             full2, smap):  # type: ignore[no-untyped-def]
    rows = 2 * n_chain
    h = n_draw // 2
    n_full = n_chain * n_draw
    if code == ESS_IDENTITY:
        return _ess2d(xe, n_chain, n_draw, relative, full, means, rho, acov)
    if code == ESS_MEAN:
        _split(xe, n_chain, n_draw, y)
        return _ess2d(y, rows, h, relative, cen, means, rho, acov)
    if code == ESS_SD:
        s = 0.0
        for i in range(n_full):
            s += xe[i]
        m = s / n_full
        for i in range(n_full):
            d = xe[i] - m
            full[i] = d * d
        _split(full, n_chain, n_draw, y)
        return _ess2d(y, rows, h, relative, cen, means, rho, acov)
    if code == ESS_BULK or code == ESS_FOLDED:
        _sorted_full(xe, order, keys, tk, to, counts)
        _split(xe, n_chain, n_draw, y)
        _split_order(order, smap, sorder)
        if code == ESS_BULK:
            _zscores(y, sorder, ztab, z)
        else:
            _fold(y, sorder, z2, dorder)
            _zscores(z2, dorder, ztab, z)
        return _ess2d(z, rows, h, relative, cen, means, rho, acov)
    if code == ESS_MAD:
        # |x - median(x)| <= its median, over the full chains; then split and z-scale
        med = _median_select(xe)
        for i in range(n_full):
            full[i] = abs(xe[i] - med)
        mad = _median_select(full)
        for i in range(n_full):
            full2[i] = 1.0 if full[i] <= mad else 0.0
        _split(full2, n_chain, n_draw, y)
        size = rows * h
        n_zero = 0
        for i in range(size):
            n_zero += y[i] == 0.0
        z_zero = ztab[n_zero - 1] if n_zero > 0 else 0.0
        z_one = ztab[n_zero + size - 1] if n_zero < size else 0.0
        for i in range(size):
            z[i] = z_zero if y[i] == 0.0 else z_one
        return _ess2d(z, rows, h, relative, cen, means, rho, acov)
    if code == ESS_LOCAL:
        q0, q1 = _quantile7_pair(xe, p_lo, p_hi)
        _indicator_split(xe, n_chain, n_draw, q0, q1, y, full)
        return _ess2d(y, rows, h, relative, cen, means, rho, acov)
    # quantile (p_lo) or tail (min over p_lo and p_hi): the indicator x <= q
    q, q_hi = _quantile7_pair(xe, p_lo, p_hi)
    _indicator_split(xe, n_chain, n_draw, -np.inf, q, y, full)
    res = _ess2d(y, rows, h, relative, cen, means, rho, acov)
    if code == ESS_QUANTILE:
        return res
    _indicator_split(xe, n_chain, n_draw, -np.inf, q_hi, y, full)
    other = _ess2d(y, rows, h, relative, cen, means, rho, acov)
    if other < res:  # Python's min(low, high)
        res = other
    return res


@jit(parallel=True)
def ess_many(x, n_chain, n_draw, code, p_lo, p_hi, relative, ztab, out):  # type: ignore[no-untyped-def]
    """ESS of every row of ``x`` (``(B, C * N)``, one element per row) into ``out``."""
    n_elem = x.shape[0]
    n_full = n_chain * n_draw
    size = 2 * n_chain * (n_draw // 2)
    nb = _blocks(n_elem)
    for blk in prange(nb):
        y = np.empty(size)
        z = np.empty(size)
        z2 = np.empty(size)
        cen = np.empty(max(size, n_full))
        full = np.empty(n_full)
        full2 = np.empty(n_full)
        order = np.empty(n_full, dtype=np.int64)
        sorder = np.empty(size, dtype=np.int64)
        dorder = np.empty(size, dtype=np.int64)
        keys = np.empty(n_full, dtype=np.uint64)
        tk = np.empty(n_full, dtype=np.uint64)
        to = np.empty(n_full, dtype=np.int64)
        counts = np.empty((8, 256), dtype=np.int64)
        means = np.empty(2 * n_chain)
        rho = np.empty(n_draw)
        acov = np.empty(n_draw)
        smap = _split_map(n_chain, n_draw)
        for e in range(blk * n_elem // nb, (blk + 1) * n_elem // nb):
            xe = x[e]
            if _has_nan(xe):
                out[e] = np.nan
                continue
            out[e] = _ess_one(xe, n_chain, n_draw, code, p_lo, p_hi, relative, ztab, y, z,
                              z2, order, sorder, dorder, keys, tk, to, counts, cen, means,
                              rho, acov, full, full2, smap)


@jit(parallel=True)
def mcse_moments(x, n_chain, n_draw, code, out):  # type: ignore[no-untyped-def]
    """MCSE of the mean or the sd of every row of ``x`` (``(B, C * N)``) into ``out``.

    ``mean``: ``sd(x, ddof=1) / sqrt(ess_mean(x))``; ``sd``: with
    ``s = (x - mean(x))**2``, ``sqrt((mean(s**2) - mean(s)**2) / ess_mean(s) / mean(s) / 4)``.
    """
    n_elem = x.shape[0]
    n_full = n_chain * n_draw
    rows = 2 * n_chain
    h = n_draw // 2
    size = rows * h
    nb = _blocks(n_elem)
    for blk in prange(nb):
        y = np.empty(size)
        cen = np.empty(size)
        full = np.empty(n_full)
        means = np.empty(rows)
        rho = np.empty(n_draw)
        acov = np.empty(n_draw)
        for e in range(blk * n_elem // nb, (blk + 1) * n_elem // nb):
            xe = x[e]
            if _has_nan(xe):
                out[e] = np.nan
                continue
            s = 0.0
            for i in range(n_full):
                s += xe[i]
            m = s / n_full
            if code == MCSE_MEAN:
                sd = math.sqrt(_var1(xe, 0, n_full, m))
                _split(xe, n_chain, n_draw, y)
                ess = _ess2d(y, rows, h, False, cen, means, rho, acov)
                out[e] = sd / math.sqrt(ess)
                continue
            s1 = 0.0
            s2 = 0.0
            for i in range(n_full):
                d = xe[i] - m
                d2 = d * d
                full[i] = d2
                s1 += d2
                s2 += d2 * d2
            evar = s1 / n_full
            _split(full, n_chain, n_draw, y)
            ess = _ess2d(y, rows, h, False, cen, means, rho, acov)
            varvar = (s2 / n_full - evar * evar) / ess
            out[e] = math.sqrt(varvar / evar / 4.0)
