"""Kernels of :mod:`fastinf.tables`: contingency tables and 2x2 tables.

Every kernel runs ``prange`` over independent tables of a stack; table ``e``
writes only slot ``e`` of each output, and its own sums run serially in a
fixed order, so results are bit-identical whatever the thread count.

The p-values are not computed here: the kernels return statistics (and, for
Fisher's test, the boundaries of the tails), and :mod:`fastinf.tables`
applies ``scipy.special`` ufuncs and scipy's ``hypergeom`` to those arrays.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit

# Power-divergence families (``lambda_`` of scipy's ``power_divergence``).
PEARSON, LOG_LIKELIHOOD, MOD_LOG_LIKELIHOOD, CRESSIE_READ = 0, 1, 2, 3


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
