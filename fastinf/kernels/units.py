"""Kernels of unit-level archives: units grouped into arms, and each arm's sums.

A chunk of a unit-level archive (:mod:`fastinf._unit_archive`) arrives in
file order; its units are grouped by arm, ``key = experiment * (V + 1) +
variant rank``, with a *stable counting sort* (:func:`arm_order`): one pass
counts the units of each key, a prefix sum gives each key's first slot, a
second pass drops every unit into the next free slot of its key. That is the
permutation ``np.lexsort((rank, experiment))`` gives, in O(n + keys) instead
of O(n log n), so the units of an arm keep their file order. When the
units are clustered by experiment (as archives are), an experiment's units
stay within its own rows and :func:`arm_order_runs` sorts the experiments
in parallel.

:func:`arm_sums` then gathers a metric (and its covariate) into that order
and sums each arm: ``n``, ``sum y``, ``sum y**2`` and, with a covariate
``x``, ``sum x``, ``sum x**2``, ``sum x y`` -- the sufficient statistics of
Welch's test and CUPED -- and whether every value of the arm is 0 or 1.
Arms are independent, so the loop is parallel over arms, each writing its
own slots; a sum runs in file order within its arm, so it is the same
whatever the thread count.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit


@jit
def arm_order(key, n_keys):  # type: ignore[no-untyped-def]
    """Stable counting sort of ``key`` (values in ``0 .. n_keys - 1``).

    Returns ``(order, start)``: ``key[order]`` is sorted, equal keys in
    their original order, and key ``k`` occupies ``order[start[k]:start[k + 1]]``.
    """
    n = key.size
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for i in range(n):
        start[key[i] + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    nxt = start[:-1].copy()
    order = np.empty(n, dtype=np.int64)
    for i in range(n):
        k = key[i]
        order[nxt[k]] = i
        nxt[k] += 1
    return order, start


@jit(parallel=True)
def arm_order_runs(run_start, code, rank, order, counts):  # type: ignore[no-untyped-def]
    """:func:`arm_order` of units clustered by experiment, in parallel over experiments.

    Experiment ``e`` holds rows ``run_start[e]:run_start[e + 1]``; a unit's
    key is ``rank[code]`` (``code`` -1, a null, is the last key,
    ``rank.size - 1``). Its units stay in those rows, grouped by key in file
    order. ``counts[e * rank.size + k]``: its units of key ``k``.
    """
    width = rank.size
    for e in prange(run_start.size - 1):
        lo = run_start[e]
        hi = run_start[e + 1]
        nxt = np.zeros(width, dtype=np.int64)
        for i in range(lo, hi):
            c = code[i]
            nxt[rank[c] if c >= 0 else width - 1] += 1
        at = lo
        for k in range(width):
            c = nxt[k]
            counts[e * width + k] = c
            nxt[k] = at
            at += c
        for i in range(lo, hi):
            c = code[i]
            k = rank[c] if c >= 0 else width - 1
            order[nxt[k]] = i
            nxt[k] += 1


@jit(parallel=True)
def arm_sums(y, x, order, arm_start, arm_size, values, sums, is01, n_bad):  # type: ignore[no-untyped-def]
    """Gather ``y`` into ``values = y[order]`` and sum each arm.

    Arm ``a`` is ``values[arm_start[a]:arm_start[a] + arm_size[a]]``.
    ``sums[a]`` receives ``(sum y, sum y**2, sum x, sum x**2, sum x y)``;
    the last three only when ``x`` has ``y``'s size (a covariate; pass an
    empty array for none). ``is01[a]``: every value of the arm is 0 or 1;
    ``n_bad[a]``: how many of its ``y`` and ``x`` are not finite (NaN, inf).
    """
    with_x = x.size == y.size
    for a in prange(arm_size.size):
        s1 = 0.0
        s2 = 0.0
        c1 = 0.0
        c2 = 0.0
        cxy = 0.0
        binary = True
        bad_y = 0
        bad_x = 0
        lo = arm_start[a]
        for i in range(lo, lo + arm_size[a]):
            r = order[i]
            v = y[r]
            values[i] = v
            s1 += v
            s2 += v * v
            if v != 0.0 and v != 1.0:
                binary = False
                bad_y += not math.isfinite(v)
            if with_x:
                u = x[r]
                c1 += u
                c2 += u * u
                cxy += u * v
                bad_x += not math.isfinite(u)
        sums[a, 0] = s1
        sums[a, 1] = s2
        sums[a, 2] = c1
        sums[a, 3] = c2
        sums[a, 4] = cxy
        is01[a] = binary
        n_bad[a, 0] = bad_y
        n_bad[a, 1] = bad_x
