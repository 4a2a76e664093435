"""Kernels of multiple-testing corrections: sort each family, adjust, put back.

A *family* is ``values[offsets[f]:offsets[f + 1]]``. Every method works on the
family's p-values sorted ascending, ``q[0] <= ... <= q[m - 1]``, writes the
adjusted p-values and rejections in that order (:func:`adjust_sorted`), and
the caller scatters them back through the sorting permutation. Each
expression is written as statsmodels writes it (same operands, same order of
operations), so the adjusted values agree with statsmodels to the last bit
or two (NumPy's SIMD ``log1p``/``expm1``/``power`` may differ from libm by an
ulp).

Two drivers:

* :func:`adjust_many`: ``prange`` over chunks of families (cut by element
  count by the caller); each family is sorted serially (by counting ranks up
  to 32 values, :func:`small_ranks`, otherwise Numba's quicksort) in the
  chunk's own buffers.
* :func:`adjust_one`: one large family, sorted in parallel by
  :func:`parallel_argsort` (a two-level bucket sort: sample splitters, a
  stable parallel scatter into 2 048 buckets, then inside each bucket a
  counting sort by value into sub-buckets finished by insertion sort). The
  bucket of a value is a monotone function of the value, so the result is a
  correct sort; sub-buckets that stay large fall back to a comparison sort.

Nothing depends on the thread count: chunks are fixed, every scatter is
stable, and the adjusted values of tied p-values are equal whatever order
ties end up in.

Hommel's method uses the O(m log m) algorithm of :func:`hommel_sorted`
(after Meijer, Krebs & Goeman, 2019) rather than statsmodels' O(m^2) loop.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit

# Method codes (the public module maps names and aliases to these).
BONFERRONI = 0
SIDAK = 1
HOLM_SIDAK = 2
HOLM = 3
SIMES_HOCHBERG = 4
HOMMEL = 5
FDR_BH = 6
FDR_BY = 7
FDR_TSBH = 8
FDR_TSBKY = 9
FDR_GBS = 10
LFDR = 11
FDC_BH = 12  # scipy.stats.false_discovery_control, method='bh'
FDC_BY = 13  # scipy.stats.false_discovery_control, method='by'

SMALL = 32  # rank counting (many families) or insertion sort up to this size
N_BUCKETS = 2048  # first-level buckets of the parallel sort
N_CHUNKS = 64  # fixed chunks of the parallel sort's scatter


# --------------------------------------------------------------------------
# Sorting
# --------------------------------------------------------------------------


@jit
def insertion_sort(q, perm, lo, hi):  # type: ignore[no-untyped-def]
    """Sort ``q[lo:hi]`` ascending in place (stable), moving ``perm`` alongside."""
    for i in range(lo + 1, hi):
        v = q[i]
        p = perm[i]
        j = i - 1
        while j >= lo and q[j] > v:
            q[j + 1] = q[j]
            perm[j + 1] = perm[j]
            j -= 1
        q[j + 1] = v
        perm[j + 1] = p


@jit
def small_ranks(raw, n, rank):  # type: ignore[no-untyped-def]
    """Stable ranks of ``raw[:n]`` (no NaN, ``n <= SMALL``) into ``rank[:n]``.

    First the count of strictly smaller values, ``rank_i = #{j: raw_j <
    raw_i}``, accumulated a whole row at a time (``rank += raw_j < raw``, a
    loop that vectorises with no horizontal sums) over ``raw`` padded with
    ``inf`` to a multiple of 4 (``raw`` needs ``n + 3`` slots). Without ties
    these are ``0 .. n - 1`` and sum to ``n (n - 1) / 2``; a tie makes the
    tied values share their lowest rank, so the sum falls short, and then
    the ranks are recounted with ties broken by position, ``rank_i = #{j <
    i: raw_j <= raw_i} + #{j > i: raw_j < raw_i}``. Either way the ranks are
    those of a stable sort (the same ``q`` whatever the path).
    """
    npad = (n + 3) & ~3
    for i in range(n, npad):
        raw[i] = np.inf
    for i in range(npad):
        rank[i] = 0
    for j in range(n):
        y = raw[j]
        for i in range(npad):
            rank[i] += y < raw[i]
    total = 0
    for i in range(n):
        total += rank[i]
    if total != (n * (n - 1)) // 2:
        for i in range(n):
            x = raw[i]
            r = 0
            for j in range(i):
                r += raw[j] <= x
            for j in range(i + 1, n):
                r += raw[j] < x
            rank[i] = r


@jit
def sort_range(q, perm, lo, hi):  # type: ignore[no-untyped-def]
    """Sort ``q[lo:hi]`` in place with ``perm`` alongside (any tie order)."""
    n = hi - lo
    if n <= SMALL:
        insertion_sort(q, perm, lo, hi)
        return
    first = q[lo]
    same = True
    for i in range(lo + 1, hi):
        if q[i] != first:
            same = False
            break
    if same:
        return
    order = np.argsort(q[lo:hi])
    vals = q[lo:hi][order]
    idx = perm[lo:hi][order]
    q[lo:hi] = vals
    perm[lo:hi] = idx


@jit
def bucket_sort_range(src_q, src_p, lo, hi, dst_q, dst_p):  # type: ignore[no-untyped-def]
    """Sort ``src_q[lo:hi]`` (with ``src_p``) into ``dst_*[lo:hi]``.

    A counting sort by value into ``n + 1`` sub-buckets spanning
    ``[min, max]``, then :func:`sort_range` inside each sub-bucket. The
    sub-bucket ``min(int((x - min) / (max - min) * k), k - 1)`` never decreases as
    ``x`` grows, so the concatenated sub-buckets are in order.
    """
    n = hi - lo
    if n <= SMALL:
        for i in range(lo, hi):
            dst_q[i] = src_q[i]
            dst_p[i] = src_p[i]
        insertion_sort(dst_q, dst_p, lo, hi)
        return
    vmin = src_q[lo]
    vmax = src_q[lo]
    for i in range(lo + 1, hi):
        v = src_q[i]
        if v < vmin:
            vmin = v
        if v > vmax:
            vmax = v
    if vmin == vmax:
        for i in range(lo, hi):
            dst_q[i] = src_q[i]
            dst_p[i] = src_p[i]
        return
    k = n + 1
    # Divide by the width rather than multiply by k / width: for subnormal
    # widths (p-values that underflowed) k / width is inf and 0 * inf NaN.
    # A correctly rounded division by a fixed width stays monotone in x.
    width = vmax - vmin
    sub = np.empty(n, dtype=np.int64)
    count = np.zeros(k + 1, dtype=np.int64)
    for i in range(lo, hi):
        s = min(int((src_q[i] - vmin) / width * k), k - 1)
        sub[i - lo] = s
        count[s + 1] += 1
    for s in range(k):
        count[s + 1] += count[s]
    start = count.copy()
    for i in range(lo, hi):
        s = sub[i - lo]
        pos = lo + count[s]
        count[s] += 1
        dst_q[pos] = src_q[i]
        dst_p[pos] = src_p[i]
    for s in range(k):
        a = lo + start[s]
        b = lo + start[s + 1]
        if b - a > SMALL:
            sort_range(dst_q, dst_p, a, b)
        elif b - a > 1:
            insertion_sort(dst_q, dst_p, a, b)


@jit
def _cell(x, n_cells):  # type: ignore[no-untyped-def]
    # A monotone coarse index of x in [0, 1].
    return min(int(x * n_cells), n_cells - 1)


@jit
def _bucket_of(splitters, lower, upper, n_cells, x):  # type: ignore[no-untyped-def]
    # Number of splitters <= x. Splitters in cells before x's cell are
    # smaller than x and those in later cells larger (the cell index is
    # monotone), so only the few splitters in x's own cell are searched.
    g = _cell(x, n_cells)
    lo = lower[g]
    hi = upper[g]
    while lo < hi:
        mid = (lo + hi) // 2
        if splitters[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit(parallel=True)
def parallel_argsort(keys, index, identity):  # type: ignore[no-untyped-def]
    """``(sorted keys, index permuted alike)`` of a large 1-D float64 array in [0, 1].

    With ``identity``, ``index`` is taken to be ``arange(n)`` (not read).

    Two-level bucket sort: ``N_BUCKETS - 1`` splitters from an evenly strided
    sample, a stable parallel scatter of ``(key, index)`` into the buckets in
    ``N_CHUNKS`` fixed chunks, then every bucket sorted on its own by
    :func:`bucket_sort_range` (``prange`` over buckets).
    """
    n = keys.size
    nb = N_BUCKETS
    n_sample = min(n, 16 * nb)
    sample = np.empty(n_sample)
    for k in range(n_sample):
        sample[k] = keys[(k * n) // n_sample]
    sample.sort()
    splitters = np.empty(nb)
    for b in range(nb - 1):
        splitters[b] = sample[((b + 1) * n_sample) // nb]
    splitters[nb - 1] = np.inf
    n_cells = 1 << 16
    lower = np.zeros(n_cells, dtype=np.int64)  # splitters in earlier cells
    upper = np.zeros(n_cells, dtype=np.int64)  # splitters in this or earlier cells
    for b in range(nb - 1):
        upper[_cell(splitters[b], n_cells)] += 1
    for g in range(1, n_cells):
        upper[g] += upper[g - 1]
    for g in range(1, n_cells):
        lower[g] = upper[g - 1]

    n_chunks = N_CHUNKS
    bid = np.empty(n, dtype=np.uint16)
    counts = np.zeros((n_chunks, nb), dtype=np.int64)
    for c in prange(n_chunks):
        lo = (c * n) // n_chunks
        hi = ((c + 1) * n) // n_chunks
        for i in range(lo, hi):
            b = _bucket_of(splitters, lower, upper, n_cells, keys[i])
            bid[i] = b
            counts[c, b] += 1
    bucket_start = np.empty(nb + 1, dtype=np.int64)
    total = 0
    for b in range(nb):
        bucket_start[b] = total
        for c in range(n_chunks):
            here = counts[c, b]
            counts[c, b] = total
            total += here
    bucket_start[nb] = total

    tmp_q = np.empty(n)
    tmp_p = np.empty(n, dtype=np.int64)
    for c in prange(n_chunks):
        lo = (c * n) // n_chunks
        hi = ((c + 1) * n) // n_chunks
        for i in range(lo, hi):
            b = bid[i]
            pos = counts[c, b]
            counts[c, b] = pos + 1
            tmp_q[pos] = keys[i]
            tmp_p[pos] = i if identity else index[i]

    out_q = np.empty(n)
    out_p = np.empty(n, dtype=np.int64)
    for b in prange(nb):
        bucket_sort_range(tmp_q, tmp_p, bucket_start[b], bucket_start[b + 1], out_q, out_p)
    return out_q, out_p


# --------------------------------------------------------------------------
# Methods on one sorted family
# --------------------------------------------------------------------------


@jit
def _leaf_sum(a, lo, n):  # type: ignore[no-untyped-def]
    # NumPy's pairwise-sum leaf: sequential below 8, else 8 accumulators.
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r = np.empty(8)
    for j in range(8):
        r[j] = a[lo + j]
    i = 8
    stop = n - (n % 8)
    while i < stop:
        for j in range(8):
            r[j] += a[lo + i + j]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@jit
def pairwise_sum(a, lo, n):  # type: ignore[no-untyped-def]
    """``a[lo:lo + n].sum()`` in NumPy's pairwise order (so equal to ``np.sum``).

    NumPy halves blocks longer than 128 (the first half a multiple of 8) and
    adds the halves; this walks the same tree with an explicit stack.
    """
    depth = 130
    los = np.empty(depth, dtype=np.int64)
    ns = np.empty(depth, dtype=np.int64)
    stage = np.zeros(depth, dtype=np.int64)
    partial = np.empty(depth)
    sp = 0
    rsp = 0
    los[0] = lo
    ns[0] = n
    stage[0] = 0
    sp = 1
    while sp > 0:
        t = sp - 1
        k = ns[t]
        if k <= 128:
            partial[rsp] = _leaf_sum(a, los[t], k)
            rsp += 1
            sp -= 1
            continue
        n2 = k // 2
        n2 -= n2 % 8
        if stage[t] == 0:
            stage[t] = 1
            los[sp] = los[t]
            ns[sp] = n2
            stage[sp] = 0
            sp += 1
        elif stage[t] == 1:
            stage[t] = 2
            los[sp] = los[t] + n2
            ns[sp] = k - n2
            stage[sp] = 0
            sp += 1
        else:
            partial[rsp - 2] = partial[rsp - 2] + partial[rsp - 1]
            rsp -= 1
            sp -= 1
    return partial[0]


@jit
def harmonic(m, work):  # type: ignore[no-untyped-def]
    """``np.sum(1.0 / np.arange(1, m + 1))``, bit for bit (``work`` has ``m`` slots)."""
    for i in range(m):
        work[i] = 1.0 / (i + 1)
    return pairwise_sum(work, 0, m)


@jit
def bh_count(q, m, cm, a):  # type: ignore[no-untyped-def]
    """Rejections of the step-up procedure: the largest ``k`` with ``q[k-1] <= (k/m/cm) a``."""
    for k in range(m - 1, -1, -1):
        f = (k + 1) / m
        if cm != 1.0:
            f = f / cm
        if q[k] <= f * a:
            return k + 1
    return 0


@jit
def bh_adjusted(q, m, cm, adj):  # type: ignore[no-untyped-def]
    """Statsmodels' ``fdrcorrection`` adjusted values: running min of ``q / ecdf`` from the top."""
    # ``q / ecdf`` first (a loop without a carried value: it vectorises),
    # then the running minimum; the same operations as one fused loop.
    for k in range(m):
        f = (k + 1) / m
        if cm != 1.0:
            f = f / cm
        adj[k] = q[k] / f
    run = np.inf
    for k in range(m - 1, -1, -1):
        v = adj[k]
        if v < run:
            run = v
        adj[k] = run if run <= 1.0 else 1.0


@jit
def hommel_sorted(q, m, adj, cvals, hull, kept):  # type: ignore[no-untyped-def]
    r"""Hommel adjusted p-values of sorted ``q`` in O(m log m).

    statsmodels (after Wright, 1992) sets, for every subset size ``j``,
    ``c_j = min_{k=1..j} j q_{m-j+k} / k`` (the Simes p-value of the ``j``
    largest p-values) and ``a_i = max(p_i, max_j min(j p_i, c_j))``. Both
    parts are computed here without the O(m^2) double loop:

    * ``c_j / j`` is the smallest slope from the point ``(m - j, 0)`` to the
      points ``(r, q_r)``, ``r > m - j``: the tangent from that point to the
      lower convex hull of those points (Meijer, Krebs & Goeman, 2019). The
      hull is kept on a stack while points are added from the right end
      leftwards; the tangent vertex is found by binary search (the slope is
      unimodal along the hull), O(log m) per ``j``.
    * ``a(x) = max_j min(j x, c_j)``: a ``j`` with a larger ``j'`` whose
      ``c_{j'} >= c_j`` never matters, so only the ``j`` whose ``c_j``
      exceeds every ``c`` of larger sets are kept; along them ``j x`` rises
      and ``c_j`` falls, so the maximum sits where ``j x`` crosses ``c_j``,
      and that crossing moves one way as ``x = q_i`` increases: one pass.

    The value at the tangent is evaluated as statsmodels evaluates it,
    ``(j * q_r) / k``, at the tangent vertex and its hull neighbours.
    """
    # cvals[j] for j = 1..m; the hull stack holds indices r (0-based, point
    # (r + 1, q[r])), leftmost on top.
    top = -1
    for s in range(m - 1, -1, -1):
        # add point r = s
        while top >= 1:
            b = hull[top]
            c = hull[top - 1]
            # keep b only if it is strictly below the segment s -> c
            cross = (b - s) * (q[c] - q[s]) - (q[b] - q[s]) * (c - s)
            if cross > 0.0:
                break
            top -= 1
        top += 1
        hull[top] = s
        # tangent from (s, 0): the slope q[r] / (r + 1 - s) is unimodal
        # along hull[top] (left) ... hull[0] (right); binary search its min.
        lo = 0
        hi = top  # positions counted from the left: hull[top - pos]
        while lo < hi:
            mid = (lo + hi) // 2
            r0 = hull[top - mid]
            r1 = hull[top - mid - 1]
            if q[r1] / (r1 + 1 - s) < q[r0] / (r0 + 1 - s):
                lo = mid + 1
            else:
                hi = mid
        j = m - s
        best = np.inf
        for pos in range(max(lo - 1, 0), min(lo + 2, top + 1)):
            r = hull[top - pos]
            v = (j * q[r]) / (r - s + 1)
            if v < best:
                best = v
        cvals[j] = best
    # keep the j whose c_j exceeds all c of larger j, in increasing j
    nk = 0
    running = -np.inf
    for j in range(m, 0, -1):
        if cvals[j] > running:
            running = cvals[j]
            kept[nk] = j
            nk += 1
    # reverse to increasing j (c strictly decreasing)
    for t in range(nk // 2):
        tmp = kept[t]
        kept[t] = kept[nk - 1 - t]
        kept[nk - 1 - t] = tmp
    n_prefix = nk
    for i in range(m):
        x = q[i]
        while n_prefix > 0 and kept[n_prefix - 1] * x > cvals[kept[n_prefix - 1]]:
            n_prefix -= 1
        v = -np.inf
        if n_prefix > 0:
            v = kept[n_prefix - 1] * x
        if n_prefix < nk:
            w = cvals[kept[n_prefix]]
            if w > v:
                v = w
        adj[i] = v


@jit
def lfdr_sorted(q, m, adj, fwork, iwork):  # type: ignore[no-untyped-def]
    """Statsmodels' ``local_fdr_correction(...).lfdr`` of sorted ``q`` (all > 0).

    The Grenander density: a decreasing isotonic regression (pool adjacent
    violators) of ``counts / (m * gaps)`` over the distinct values, weighted
    by the gaps; ``lfdr = min(1, 1 / slope)``.
    """
    # distinct values and their counts
    nu = 0
    i = 0
    while i < m:
        j = i + 1
        while j < m and q[j] == q[i]:
            j += 1
        iwork[nu] = j - i
        fwork[nu] = q[i]
        nu += 1
        i = j
    # blocks: value (weighted mean), weight, number of distinct values
    val = np.empty(nu)
    wt = np.empty(nu)
    size = np.empty(nu, dtype=np.int64)
    nbk = 0
    prev = 0.0
    for u in range(nu):
        gap = fwork[u] - prev
        prev = fwork[u]
        y = iwork[u] / (m * gap)
        val[nbk] = y
        wt[nbk] = gap
        size[nbk] = 1
        nbk += 1
        while nbk > 1 and val[nbk - 2] <= val[nbk - 1]:
            w = wt[nbk - 2] + wt[nbk - 1]
            val[nbk - 2] = (wt[nbk - 2] * val[nbk - 2] + wt[nbk - 1] * val[nbk - 1]) / w
            wt[nbk - 2] = w
            size[nbk - 2] += size[nbk - 1]
            nbk -= 1
    pos = 0
    u = 0
    for b in range(nbk):
        slope = val[b]
        v = 1.0 / slope
        if v > 1.0:
            v = 1.0
        for _ in range(size[b]):
            for _ in range(iwork[u]):
                adj[pos] = v
                pos += 1
            u += 1


@jit
def adjust_sorted(q, m, code, alpha, maxiter, adj, rej, fwork, iwork):  # type: ignore[no-untyped-def]
    """Adjusted p-values and rejections of one family sorted ascending, as statsmodels."""
    if m == 0:
        return
    n_reject = -1  # -1: rejections are adj <= alpha / per element below
    if code == BONFERRONI:
        thr = alpha / m
        for k in range(m):
            adj[k] = q[k] * m
            rej[k] = q[k] <= thr
    elif code == SIDAK:
        thr = 1.0 - (1.0 - alpha) ** (1.0 / m)
        for k in range(m):
            adj[k] = -math.expm1(m * math.log1p(-q[k]))
            rej[k] = q[k] <= thr
    elif code == HOLM_SIDAK or code == HOLM:
        n_reject = m
        run = -np.inf
        for k in range(m):
            r = m - k
            if code == HOLM:
                thr = alpha / r
                v = q[k] * r
            else:
                thr = 1.0 - (1.0 - alpha) ** (1.0 / r)
                v = -math.expm1(r * math.log1p(-q[k]))
            if n_reject == m and q[k] > thr:
                n_reject = k
            if v > run:
                run = v
            adj[k] = run
    elif code == SIMES_HOCHBERG:
        n_reject = 0
        run = np.inf
        for k in range(m - 1, -1, -1):
            r = m - k
            if n_reject == 0 and q[k] <= alpha / r:
                n_reject = k + 1
            v = r * q[k]
            if v < run:
                run = v
            adj[k] = run
    elif code == HOMMEL:
        hommel_sorted(q, m, adj, fwork, iwork, iwork[m + 1 :])
        for k in range(m):
            rej[k] = adj[k] <= alpha
    elif code == FDR_BH or code == FDR_BY:
        cm = harmonic(m, fwork) if code == FDR_BY else 1.0
        n_reject = bh_count(q, m, cm, alpha)
        bh_adjusted(q, m, cm, adj)
    elif code == FDR_TSBH or code == FDR_TSBKY:
        fact = 1.0 + alpha if code == FDR_TSBKY else 1.0
        alpha_prime = alpha / fact
        r1 = bh_count(q, m, 1.0, alpha_prime)
        bh_adjusted(q, m, 1.0, adj)
        if r1 == 0 or r1 == m:
            n_reject = r1
            for k in range(m):
                adj[k] *= fact
        else:
            ri_old = r1
            ri = r1
            ntests0 = 1.0 * m
            iters = m if maxiter == -1 else maxiter
            for it in range(iters):
                ntests0 = 1.0 * m - ri_old
                alpha_star = alpha_prime * m / ntests0
                ri = bh_count(q, m, 1.0, alpha_star)
                if it >= iters - 1 or ri == ri_old:
                    break
                ri_old = ri
            n_reject = ri
            factor = ntests0 * 1.0 / m
            for k in range(m):
                adj[k] *= factor
                if code == FDR_TSBKY:
                    adj[k] *= 1.0 + alpha
    elif code == FDR_GBS:
        run = -np.inf
        for k in range(m):
            i = k + 1
            v = (m + 1.0 - i) / i * q[k] / (1.0 - q[k])
            if v > run:
                run = v
            adj[k] = run
        run = np.inf
        for k in range(m - 1, -1, -1):
            if adj[k] < run:
                run = adj[k]
            adj[k] = run
            rej[k] = run <= alpha
    elif code == LFDR:
        lfdr_sorted(q, m, adj, fwork, iwork)
        for k in range(m):
            rej[k] = adj[k] <= alpha
    elif code == FDC_BH or code == FDC_BY:
        cm = harmonic(m, fwork) if code == FDC_BY else 1.0
        for k in range(m):  # vectorises; then the running minimum
            v = q[k] * (m / (k + 1))
            if code == FDC_BY:
                v *= cm
            adj[k] = v
        run = np.inf
        for k in range(m - 1, -1, -1):
            v = adj[k]
            if v < run:
                run = v
            adj[k] = run
        for k in range(m):
            rej[k] = adj[k] <= alpha
    if n_reject >= 0:
        for k in range(m):
            rej[k] = k < n_reject
    for k in range(m):
        if adj[k] > 1.0:
            adj[k] = 1.0


# --------------------------------------------------------------------------
# Drivers
# --------------------------------------------------------------------------


@jit
def _elementwise(code):  # type: ignore[no-untyped-def]
    return code == BONFERRONI or code == SIDAK


@jit
def _write_back(start, n, m, perm, adj_s, rej_s, returnsorted, adj, rej):  # type: ignore[no-untyped-def]
    if returnsorted:
        for k in range(m):
            adj[start + k] = adj_s[k]
            rej[start + k] = rej_s[k]
        for k in range(m, n):
            adj[start + k] = np.nan
            rej[start + k] = False
    else:
        for k in range(m):
            adj[start + perm[k]] = adj_s[k]
            rej[start + perm[k]] = rej_s[k]


@jit(parallel=True)
def adjust_many(  # type: ignore[no-untyped-def]
    values, offsets, chunks, skip, code, alpha, maxiter, is_sorted, returnsorted, omit,
    adj, rej, m_eff,
):
    """Adjust every family not in ``skip``; ``prange`` over the chunks of families.

    ``chunks`` are family indices cutting the families into contiguous
    groups. A family with NaN gets NaN / False everywhere unless ``omit``,
    in which case its NaN entries get NaN / False and the rest form the
    family (``m_eff[f]`` values).

    Scratch buffers are allocated once per chunk. A family is copied once
    (noting whether it holds NaN; only then is it compacted); families of
    at most ``SMALL`` values are ranked by :func:`small_ranks` and their
    adjusted values read back by rank straight into the output.
    """
    for ch in prange(chunks.size - 1):
        f0 = chunks[ch]
        f1 = chunks[ch + 1]
        biggest = 0
        for f in range(f0, f1):
            biggest = max(biggest, offsets[f + 1] - offsets[f])
        raw = np.empty(biggest + 4)
        pos = np.empty(biggest, dtype=np.int64)
        rank = np.empty(biggest + 4, dtype=np.int64)
        q = np.empty(biggest)
        perm = np.empty(biggest, dtype=np.int64)
        adj_s = np.empty(biggest)
        rej_s = np.empty(biggest, dtype=np.bool_)
        fwork = np.empty(biggest + 2)
        iwork = np.empty(2 * biggest + 4, dtype=np.int64)
        in_order = is_sorted or (_elementwise(code) and not returnsorted)
        for f in range(f0, f1):
            if skip[f]:
                continue
            start = offsets[f]
            n = offsets[f + 1] - start
            has_nan = False
            for i in range(n):
                v = values[start + i]
                raw[i] = v
                has_nan |= v != v
            m = n
            if has_nan:
                if not omit:
                    for i in range(n):
                        adj[start + i] = np.nan
                        rej[start + i] = False
                    m_eff[f] = n
                    continue
                m = 0
                for i in range(n):
                    v = raw[i]
                    if v != v:
                        adj[start + i] = np.nan
                        rej[start + i] = False
                    else:
                        raw[m] = v
                        pos[m] = i
                        m += 1
            else:
                for i in range(n):
                    pos[i] = i
            m_eff[f] = m
            if in_order:
                adjust_sorted(raw, m, code, alpha, maxiter, adj_s, rej_s, fwork, iwork)
                _write_back(start, n, m, pos, adj_s, rej_s, returnsorted, adj, rej)
            elif m <= SMALL:
                small_ranks(raw, m, rank)
                for i in range(m):
                    q[rank[i]] = raw[i]
                adjust_sorted(q, m, code, alpha, maxiter, adj_s, rej_s, fwork, iwork)
                if returnsorted:
                    _write_back(start, n, m, pos, adj_s, rej_s, True, adj, rej)
                elif has_nan:
                    for i in range(m):
                        adj[start + pos[i]] = adj_s[rank[i]]
                        rej[start + pos[i]] = rej_s[rank[i]]
                else:
                    for i in range(m):
                        adj[start + i] = adj_s[rank[i]]
                        rej[start + i] = rej_s[rank[i]]
            else:
                for i in range(m):
                    q[i] = raw[i]
                    perm[i] = pos[i]
                sort_range(q, perm, 0, m)
                adjust_sorted(q, m, code, alpha, maxiter, adj_s, rej_s, fwork, iwork)
                _write_back(start, n, m, perm, adj_s, rej_s, returnsorted, adj, rej)


@jit(parallel=True)
def in_unit_interval(x):  # type: ignore[no-untyped-def]
    """Whether every value of 1-D ``x`` lies in [0, 1] (False for any NaN); one parallel pass."""
    n = x.size
    n_chunks = N_CHUNKS
    part = np.zeros(n_chunks, dtype=np.bool_)
    for c in prange(n_chunks):
        ok = True
        for i in range((c * n) // n_chunks, ((c + 1) * n) // n_chunks):
            v = x[i]
            ok &= (v >= 0.0) & (v <= 1.0)
        part[c] = ok
    return part.all()


@jit(parallel=True)
def _nan_count(x):  # type: ignore[no-untyped-def]
    n = x.size
    n_chunks = N_CHUNKS
    part = np.zeros(n_chunks, dtype=np.int64)
    for c in prange(n_chunks):
        s = 0
        for i in range((c * n) // n_chunks, ((c + 1) * n) // n_chunks):
            if x[i] != x[i]:
                s += 1
        part[c] = s
    return part.sum()


@jit(parallel=True)
def _scatter(start, perm, adj_s, rej_s, adj, rej):  # type: ignore[no-untyped-def]
    for k in prange(perm.size):
        adj[start + perm[k]] = adj_s[k]
        rej[start + perm[k]] = rej_s[k]


@jit(parallel=True)
def _fill_nan(adj, rej, lo, hi):  # type: ignore[no-untyped-def]
    for i in prange(lo, hi):
        adj[i] = np.nan
        rej[i] = False


@jit
def adjust_one(  # type: ignore[no-untyped-def]
    values, start, stop, code, alpha, maxiter, is_sorted, returnsorted, omit, adj, rej,
):
    """Adjust one large family ``values[start:stop]``, sorting it in parallel; returns ``m``."""
    n = stop - start
    x = values[start:stop]
    n_nan = _nan_count(x)
    if n_nan > 0 and not omit:
        _fill_nan(adj, rej, start, stop)
        return n
    m = n - n_nan
    if n_nan > 0:
        _fill_nan(adj, rej, start, stop)
        keys = np.empty(m)
        index = np.empty(m, dtype=np.int64)
        k = 0
        for i in range(n):
            if x[i] == x[i]:
                keys[k] = x[i]
                index[k] = i
                k += 1
    else:
        keys = x
        index = np.empty(0, dtype=np.int64)
    if is_sorted or (_elementwise(code) and not returnsorted):
        q = keys.copy()
        perm = index if n_nan > 0 else np.arange(m)
    else:
        q, perm = parallel_argsort(keys, index, n_nan == 0)
    adj_s = np.empty(m)
    rej_s = np.empty(m, dtype=np.bool_)
    fwork = np.empty(m + 2)
    iwork = np.empty(2 * m + 4, dtype=np.int64)
    adjust_sorted(q, m, code, alpha, maxiter, adj_s, rej_s, fwork, iwork)
    if returnsorted:
        adj[start : start + m] = adj_s
        rej[start : start + m] = rej_s
    else:
        _scatter(start, perm, adj_s, rej_s, adj, rej)
    return m
