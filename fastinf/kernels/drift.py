"""Kernels of the population stability index: quantile bin edges and bin shares.

Reference row ``r`` is ``values[lo[r]:hi[r]]``, *sorted* (the caller sorts
with NumPy). :func:`quantile_edges` puts the interior bin edges at its
quantiles ``q_1 < ... < q_{k-1}`` by NumPy's default ``'linear'`` rule
(virtual index ``(n - 1) q``, NumPy's two-sided lerp), drops an edge equal to
the previous one (tied reference data), and closes the row with ``-inf`` and
``+inf``; unused trailing slots are NaN. :func:`bin_shares` counts any row's
values into the bins ``[e_b, e_{b+1})`` of its edges row (the last bin also
holds ``+inf``, as ``np.histogram``'s closed last bin) by binary search, and
turns counts into shares, an empty bin's share being ``epsilon``.

Both are parallel over rows, each writing its own output row.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit
from fastinf.kernels.statistics import lerp


@jit(parallel=True)
def quantile_edges(values, lo, hi, skip, q, edges, n_bins):  # type: ignore[no-untyped-def]
    """Edges ``[-inf, distinct quantiles q of the row..., +inf]`` of each sorted row."""
    for r in prange(lo.size):
        edges[r, :] = np.nan
        if skip[r]:
            n_bins[r] = 0
            continue
        s = values[lo[r] : hi[r]]
        n = s.size
        edges[r, 0] = -np.inf
        m = 1
        for k in range(q.size):
            h = (n - 1) * q[k]
            j = int(math.floor(h))
            t = h - j
            a = s[min(j, n - 1)]
            b = s[min(j + 1, n - 1)]
            cut = lerp(a, b, t)
            if cut > edges[r, m - 1]:  # merge duplicates (tied data)
                edges[r, m] = cut
                m += 1
        edges[r, m] = np.inf
        n_bins[r] = m


@jit
def _bin_of(edges_row, n_cuts, v):  # type: ignore[no-untyped-def]
    """Number of interior edges ``edges_row[1:n_cuts + 1]`` at or below ``v``."""
    a = 0
    b = n_cuts
    while a < b:
        mid = (a + b) >> 1
        if edges_row[mid + 1] <= v:
            a = mid + 1
        else:
            b = mid
    return a


@jit(parallel=True)
def bin_shares(values, lo, hi, emap, skip, edges, n_bins, epsilon, shares):  # type: ignore[no-untyped-def]
    """Shares of row ``r``'s values in the bins of edges row ``emap[r]`` (empty -> epsilon)."""
    for r in prange(lo.size):
        shares[r, :] = np.nan
        if skip[r]:
            continue
        er = emap[r]
        nb = n_bins[er]
        counts = np.zeros(nb, dtype=np.int64)
        for i in range(lo[r], hi[r]):
            counts[_bin_of(edges[er], nb - 1, values[i])] += 1
        n = float(hi[r] - lo[r])
        for b in range(nb):
            shares[r, b] = counts[b] / n if counts[b] > 0 else epsilon
