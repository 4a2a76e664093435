"""Kernels of Gaussian-mixture EM: one fused pass over the data per iteration.

Single mixture (:class:`fastinf.mixture.GaussianMixture`)
---------------------------------------------------------
:func:`em_pass` is the E-step and the data half of the M-step at once. For
every point it computes the ``k`` weighted log-densities
``log w_j + log|U_j| - d/2 log(2 pi) - |(x - mu_j) U_j|^2 / 2`` (``U_j`` the
upper-triangular Cholesky factor of the precision, as scikit-learn stores
it), their log-sum-exp (the point's log-likelihood) and the
responsibilities ``r_j = exp(wlp_j - lse)``, and accumulates per component

* ``N_j = sum r``, ``Sx_j = sum r x`` (the means are ``Sx / (N + 10 eps)``
  as in scikit-learn),
* ``Sc_j = sum r (x - c_j)`` and ``Scc_j = sum r (x - c_j)(x - c_j)^T``
  about a shift ``c_j`` (the current means), upper triangle only (or the
  diagonal for diagonal covariances),

so no ``n x k`` array is ever written. The scatter about the new mean
``m = Sx / nk`` follows without cancellation from the shifted sums,
``Scc - d Sc^T - Sc d^T + N d d^T`` with ``d = m - c``; near convergence
``d`` is tiny, and the result is what scikit-learn's two-pass
``sum r (x - m)(x - m)^T`` computes, to rounding. The points are cut into
fixed-size chunks, one partial sum each, run in parallel and added in chunk
order, so results are bit-identical at any thread count.

:func:`m_step` turns the reduced sums into the new weights' counts, means,
covariances (``reg_covar`` on the diagonal) and precision Cholesky factors;
a covariance whose Cholesky factorisation fails (or a non-positive
variance) returns a status the caller turns into scikit-learn's error.
:func:`kmeanspp` and :func:`lloyd_step` are the pieces of the k-means
initialisation (scikit-learn's greedy k-means++ and Lloyd's iteration).

Many 1-D mixtures (:func:`fastinf.mixture.fit_batch`)
------------------------------------------------------
:func:`fit_batch_1d` runs whole fits, initialisation included, one
experiment per task in a ``prange`` over cost-balanced blocks of
experiments. Random initialisations draw from the counter-based generator
keyed by ``stream_key(seed, experiment, init)``, so an experiment's result
depends only on its data, the seed and its index.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.extending import intrinsic

from fastinf.kernels._jit import jit
from fastinf.kernels.linalg import cholesky_into
from fastinf.kernels.rng import bounded, stream_key, uniform

_EPS10 = 10.0 * 2.220446049250313e-16  # scikit-learn: nk = sum(resp) + 10 * eps
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_INF = np.inf

# Covariance types (the caller's codes).
FULL, TIED, DIAG, SPHERICAL = 0, 1, 2, 3

# Initialisations of the batch kernel.
INIT_KMEANS, INIT_KMEANSPP, INIT_RANDOM, INIT_RANDOM_FROM_DATA = 0, 1, 2, 3


_BLOCK = 256  # points per vector block of the 1-D E-step

# exp on (-inf, 0]: Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2, then the
# degree-13 Taylor polynomial of exp(r) (truncation error < 5e-18 relative) and
# 2**n from its bits. Branch-free, so LLVM vectorises the loops that call it
# (libm's exp is a scalar call); error within 1 ulp of libm's on [-708, 0].
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # fdlibm's split of ln 2: n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_C = tuple(1.0 / math.factorial(i) for i in range(14))
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C[2:]


@intrinsic
def _bits_to_double(typingctx, bits):  # type: ignore[no-untyped-def]
    """Reinterpret an int64's bits as a float64 (a no-op bitcast)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@jit(inline="always")
def exp_neg(x):  # type: ignore[no-untyped-def]
    """``exp(x)`` for ``x <= 0`` (``-inf`` and anything below -708 give 0)."""
    xc = max(x, -708.0)
    n = math.floor(xc * _LOG2E + 0.5)
    r = xc - n * _LN2_HI
    r = r - n * _LN2_LO
    p = _C13
    p = p * r + _C12
    p = p * r + _C11
    p = p * r + _C10
    p = p * r + _C9
    p = p * r + _C8
    p = p * r + _C7
    p = p * r + _C6
    p = p * r + _C5
    p = p * r + _C4
    p = p * r + _C3
    p = p * r + _C2
    p = p * r + 1.0
    p = p * r + 1.0
    scale = _bits_to_double((np.int64(np.int32(n)) + 1023) << 52)
    v = p * scale
    return v if x >= -708.0 else 0.0


# --------------------------------------------------------------------------
# Single mixture: fused E-step + sufficient statistics
# --------------------------------------------------------------------------


@jit(inline="always")
def _log_densities(X, i, const, means, prec, tri, dx, wlp):  # type: ignore[no-untyped-def]
    """``wlp[j] = const[j] - |(x_i - mu_j) U_j|^2 / 2`` for every component."""
    k, d = means.shape
    for j in range(k):
        s2 = 0.0
        if tri:
            for a in range(d):
                dx[a] = X[i, a] - means[j, a]
            for b in range(d):
                t = 0.0
                for a in range(b + 1):
                    t += dx[a] * prec[j, a, b]
                s2 += t * t
        else:
            for a in range(d):
                t = (X[i, a] - means[j, a]) * prec[j, a, a]
                s2 += t * t
        wlp[j] = const[j] - 0.5 * s2


@jit(parallel=True)
def em_pass(X, const, means, prec, shift, tri, chunk):  # type: ignore[no-untyped-def]
    """One E-step over ``X`` with the responsibilities' sufficient statistics.

    Parameters: ``X (n, d)``; ``const (k,)`` = log weight + log det of the
    precision Cholesky factor - d/2 log(2 pi); ``means (k, d)``; ``prec
    (k, d, d)`` upper-triangular precision Cholesky factors (only the
    diagonal is read when ``tri`` is false); ``shift (k, d)`` the centre of
    the scatter sums. Returns ``(stats (k, 1 + 2d + q), sum of log p(x_i))``
    with ``q = d(d+1)/2`` (``tri``) or ``d``: per component ``N``, ``Sx``
    (d), ``Sc`` (d), then ``Scc`` (upper triangle row by row, or diagonal).

    Each chunk is walked in blocks of ``_BLOCK`` points copied feature-major,
    and every step (log-densities, :func:`exp_neg`, responsibilities, sums)
    is a loop over the block's points, which LLVM vectorises. The
    log-likelihood is a running product of the per-point normalisers (each in
    ``[1, k]``) whose log is taken only when it grows large.
    """
    n, d = X.shape
    k = means.shape[0]
    q = d * (d + 1) // 2 if tri else d
    width = 1 + 2 * d + q
    base = 1 + 2 * d
    n_chunks = (n + chunk - 1) // chunk
    part = np.zeros((n_chunks, k, width))
    part_ll = np.zeros(n_chunks)
    for c in prange(n_chunks):
        lo = c * chunk
        hi = min(n, lo + chunk)
        acc = np.zeros((k, width))
        xt = np.empty((d, _BLOCK))
        xc = np.empty((d, _BLOCK))
        wl = np.empty((k, _BLOCK))
        top = np.empty(_BLOCK)
        tot = np.empty(_BLOCK)
        t = np.empty(_BLOCK)
        s2 = np.empty(_BLOCK)
        ll = 0.0
        prod = 1.0
        for bs in range(lo, hi, _BLOCK):
            nb = min(_BLOCK, hi - bs)
            for i in range(nb):
                for a in range(d):
                    xt[a, i] = X[bs + i, a]
            for i in range(nb):
                top[i] = -_INF
            for j in range(k):
                for i in range(nb):
                    s2[i] = 0.0
                if tri:
                    for b in range(d):
                        for i in range(nb):
                            t[i] = 0.0
                        for a in range(b + 1):
                            u = prec[j, a, b]
                            mu = means[j, a]
                            for i in range(nb):
                                t[i] += (xt[a, i] - mu) * u
                        for i in range(nb):
                            s2[i] += t[i] * t[i]
                else:
                    for a in range(d):
                        u = prec[j, a, a]
                        mu = means[j, a]
                        for i in range(nb):
                            v = (xt[a, i] - mu) * u
                            s2[i] += v * v
                cj = const[j]
                for i in range(nb):
                    v = cj - 0.5 * s2[i]
                    wl[j, i] = v
                    top[i] = max(top[i], v)
            for i in range(nb):
                tot[i] = 0.0
            for j in range(k):
                for i in range(nb):
                    ev = exp_neg(wl[j, i] - top[i])
                    wl[j, i] = ev
                    tot[i] += ev
            for i in range(nb):
                ll += top[i]
                prod *= tot[i]
                if prod > 1e280:
                    ll += math.log(prod)
                    prod = 1.0
                tot[i] = 1.0 / tot[i]
            for j in range(k):
                s0 = 0.0
                for i in range(nb):
                    r = wl[j, i] * tot[i]
                    wl[j, i] = r
                    s0 += r
                acc[j, 0] += s0
                for a in range(d):
                    sh = shift[j, a]
                    sx = 0.0
                    sc = 0.0
                    for i in range(nb):
                        xc[a, i] = xt[a, i] - sh
                        sx += wl[j, i] * xt[a, i]
                        sc += wl[j, i] * xc[a, i]
                    acc[j, 1 + a] += sx
                    acc[j, 1 + d + a] += sc
                if tri:
                    p = 0
                    for a in range(d):
                        for b in range(a, d):
                            sab = 0.0
                            for i in range(nb):
                                sab += wl[j, i] * xc[a, i] * xc[b, i]
                            acc[j, base + p] += sab
                            p += 1
                else:
                    for a in range(d):
                        saa = 0.0
                        for i in range(nb):
                            saa += wl[j, i] * xc[a, i] * xc[a, i]
                        acc[j, base + a] += saa
        part[c] = acc
        part_ll[c] = ll + math.log(prod)
    stats = np.zeros((k, width))
    total = 0.0
    for c in range(n_chunks):  # fixed order: identical at any thread count
        stats += part[c]
        total += part_ll[c]
    return stats, total


@jit(parallel=True)
def log_prob(X, const, means, prec, tri, wlp, lpn):  # type: ignore[no-untyped-def]
    """Weighted log-densities ``wlp (n, k)`` and their log-sum-exp ``lpn (n,)``."""
    n, d = X.shape
    k = means.shape[0]
    chunk = 1024
    for c in prange((n + chunk - 1) // chunk):
        dx = np.empty(d)
        row = np.empty(k)
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            _log_densities(X, i, const, means, prec, tri, dx, row)
            top = row[0]
            for j in range(k):
                wlp[i, j] = row[j]
                if row[j] > top:
                    top = row[j]
            if top == -_INF:
                lpn[i] = -_INF
                continue
            tot = 0.0
            for j in range(k):
                tot += math.exp(row[j] - top)
            lpn[i] = top + math.log(tot)


# --------------------------------------------------------------------------
# Single mixture: M-step on the reduced statistics
# --------------------------------------------------------------------------


@jit
def _cholesky_upper_inverse(cov, out):  # type: ignore[no-untyped-def]
    """``out = L^-T`` for ``cov = L L^T``; False if ``cov`` is not positive definite."""
    d = cov.shape[0]
    L = np.empty((d, d))
    if not cholesky_into(cov, L):
        return False
    # Linv lower triangular by forward substitution, column by column.
    inv = np.zeros((d, d))
    for c in range(d):
        inv[c, c] = 1.0 / L[c, c]
        for r in range(c + 1, d):
            t = 0.0
            for s in range(c, r):
                t += L[r, s] * inv[s, c]
            inv[r, c] = -t / L[r, r]
    for a in range(d):
        for b in range(d):
            out[a, b] = inv[b, a]
    return True


@jit
def m_step(stats, shift, reg, cov_type, d):  # type: ignore[no-untyped-def]
    """New ``(nk, means, cov (k, d, d), prec (k, d, d), status)`` from the sums.

    ``nk = N + 10 eps``; ``cov`` holds the covariance of every component
    (for 'tied' every slice is the shared matrix, for 'diag' and
    'spherical' only the diagonal is set); ``prec`` the upper-triangular
    precision Cholesky factors (diagonal for 'diag'/'spherical'). ``status``
    is 0, or 1 + the first component whose covariance is not positive
    definite.
    """
    k = stats.shape[0]
    tri = cov_type == FULL or cov_type == TIED
    nk = stats[:, 0] + _EPS10
    means = np.empty((k, d))
    cov = np.zeros((k, d, d))
    base = 1 + 2 * d
    for j in range(k):
        N = stats[j, 0]
        delta = np.empty(d)
        for a in range(d):
            means[j, a] = stats[j, 1 + a] / nk[j]
            delta[a] = means[j, a] - shift[j, a]
        if tri:
            p = 0
            for a in range(d):
                sa = stats[j, 1 + d + a]
                for b in range(a, d):
                    sb = stats[j, 1 + d + b]
                    v = (stats[j, base + p] - delta[a] * sb - sa * delta[b]
                         + N * delta[a] * delta[b])
                    cov[j, a, b] = v
                    cov[j, b, a] = v
                    p += 1
        else:
            for a in range(d):
                sa = stats[j, 1 + d + a]
                cov[j, a, a] = stats[j, base + a] - 2.0 * delta[a] * sa + N * delta[a] * delta[a]
    if cov_type == TIED:
        shared = np.zeros((d, d))
        for j in range(k):
            shared += cov[j]
        shared /= nk.sum()
        for a in range(d):
            shared[a, a] += reg
        for j in range(k):
            cov[j] = shared
    else:
        for j in range(k):
            cov[j] /= nk[j]
            for a in range(d):
                cov[j, a, a] += reg
        if cov_type == SPHERICAL:
            for j in range(k):
                v = 0.0
                for a in range(d):
                    v += cov[j, a, a]
                v /= d
                for a in range(d):
                    cov[j, a, a] = v
    prec = np.zeros((k, d, d))
    for j in range(k):
        if tri:
            if not _cholesky_upper_inverse(cov[j], prec[j]):
                return nk, means, cov, prec, j + 1
        else:
            for a in range(d):
                if not cov[j, a, a] > 0.0:
                    return nk, means, cov, prec, j + 1
                prec[j, a, a] = 1.0 / math.sqrt(cov[j, a, a])
    return nk, means, cov, prec, 0


# --------------------------------------------------------------------------
# k-means initialisation (scikit-learn's algorithm)
# --------------------------------------------------------------------------


@jit
def _sq_dist_to(X, x_sq, row, out):  # type: ignore[no-untyped-def]
    """``out[i] = max(0, |X[row]|^2 - 2 X[row].X[i] + |X[i]|^2)``."""
    n, d = X.shape
    cn = x_sq[row]
    for i in range(n):
        dot = 0.0
        for a in range(d):
            dot += X[row, a] * X[i, a]
        v = -2.0 * dot + cn + x_sq[i]
        out[i] = v if v > 0.0 else 0.0


@jit
def kmeanspp(X, x_sq, first, uniforms):  # type: ignore[no-untyped-def]
    """Indices of greedy k-means++ seeds (Arthur & Vassilvitskii 2007).

    ``first`` is the first seed; ``uniforms (k - 1, n_trials)`` the uniforms
    that pick each later seed's candidates (in scikit-learn's order: the
    candidates of seed ``c`` are ``searchsorted(cumsum(D^2), u * sum(D^2))``
    and the one that lowers the potential most is kept).
    """
    n = X.shape[0]
    k = uniforms.shape[0] + 1
    n_trials = uniforms.shape[1]
    idx = np.empty(k, dtype=np.int64)
    idx[0] = first
    closest = np.empty(n)
    _sq_dist_to(X, x_sq, first, closest)
    pot = closest.sum()
    dist = np.empty(n)
    cand = np.empty(n_trials, dtype=np.int64)
    for c in range(1, k):
        cum = np.cumsum(closest)
        for t in range(n_trials):
            cand[t] = min(np.searchsorted(cum, uniforms[c - 1, t] * pot), n - 1)
        best_pot = _INF
        best = 0
        for t in range(n_trials):
            _sq_dist_to(X, x_sq, cand[t], dist)
            p = 0.0
            for i in range(n):
                p += min(closest[i], dist[i])
            if p < best_pot:
                best_pot = p
                best = t
        _sq_dist_to(X, x_sq, cand[best], dist)
        for i in range(n):
            closest[i] = min(closest[i], dist[i])
        pot = best_pot
        idx[c] = cand[best]
    return idx


@jit(parallel=True)
def lloyd_step(X, centers, labels, sums, counts):  # type: ignore[no-untyped-def]
    """Assign each point to its nearest centre; per-cluster sums and counts.

    The nearest centre minimises ``|c|^2 - 2 x.c`` (the first on ties), as
    scikit-learn's Lloyd iteration does.
    """
    n, d = X.shape
    k = centers.shape[0]
    cn = np.zeros(k)
    for j in range(k):
        for a in range(d):
            cn[j] += centers[j, a] * centers[j, a]
    chunk = 4096
    n_chunks = (n + chunk - 1) // chunk
    part_s = np.zeros((n_chunks, k, d))
    part_c = np.zeros((n_chunks, k))
    for c in prange(n_chunks):
        for i in range(c * chunk, min(n, (c + 1) * chunk)):
            best = 0
            best_v = _INF
            for j in range(k):
                dot = 0.0
                for a in range(d):
                    dot += X[i, a] * centers[j, a]
                v = cn[j] - 2.0 * dot
                if v < best_v:
                    best_v = v
                    best = j
            labels[i] = best
            part_c[c, best] += 1.0
            for a in range(d):
                part_s[c, best, a] += X[i, a]
    sums[:] = 0.0
    counts[:] = 0.0
    for c in range(n_chunks):
        sums += part_s[c]
        counts += part_c[c]


# --------------------------------------------------------------------------
# Many 1-D mixtures
# --------------------------------------------------------------------------


@jit
def _estep_1d(x, logw, m, pc, stats):  # type: ignore[no-untyped-def]
    """One E-step of a 1-D mixture; fills ``stats (k, 4)`` = N, Sx, Sc, Scc about ``m``.

    Blocks of points are processed a component at a time so that the
    log-densities and :func:`exp_neg` run as vector loops; the
    log-likelihood is accumulated as a running product of the per-point
    normalisers (each in ``[1, k]``) whose log is taken only when it grows
    large, one ``log`` per several hundred points instead of one per point.
    """
    k = m.size
    n = x.size
    const = np.empty(k)
    for j in range(k):
        const[j] = logw[j] + math.log(pc[j]) - _HALF_LOG_2PI
    stats[:] = 0.0
    wl = np.empty((k, _BLOCK))
    top = np.empty(_BLOCK)
    tot = np.empty(_BLOCK)
    ll = 0.0
    prod = 1.0
    for start in range(0, n, _BLOCK):
        nb = min(_BLOCK, n - start)
        xb = x[start : start + nb]
        top[:nb] = -_INF
        for j in range(k):
            cj = const[j]
            mj = m[j]
            pj = pc[j]
            for i in range(nb):
                z = (xb[i] - mj) * pj
                v = cj - 0.5 * z * z
                wl[j, i] = v
                top[i] = max(top[i], v)
        tot[:nb] = 0.0
        for j in range(k):
            for i in range(nb):
                ev = exp_neg(wl[j, i] - top[i])
                wl[j, i] = ev
                tot[i] += ev
        for i in range(nb):
            ll += top[i]
            prod *= tot[i]
            if prod > 1e280:
                ll += math.log(prod)
                prod = 1.0
            tot[i] = 1.0 / tot[i]
        for j in range(k):
            mj = m[j]
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for i in range(nb):
                r = wl[j, i] * tot[i]
                dd = xb[i] - mj
                rd = r * dd
                s0 += r
                s1 += r * xb[i]
                s2 += rd
                s3 += rd * dd
            stats[j, 0] += s0
            stats[j, 1] += s1
            stats[j, 2] += s2
            stats[j, 3] += s3
    return ll + math.log(prod)


@jit
def _mstep_1d(stats, shift, tied, reg, nk, m, var, pc):  # type: ignore[no-untyped-def]
    """M-step of a 1-D mixture from :func:`_estep_1d`'s sums; False if a variance <= 0."""
    k = m.size
    total = 0.0
    scatter_sum = 0.0
    for j in range(k):
        N = stats[j, 0]
        nk[j] = N + _EPS10
        m[j] = stats[j, 1] / nk[j]
        dd = m[j] - shift[j]
        var[j] = stats[j, 3] - 2.0 * dd * stats[j, 2] + N * dd * dd
        total += nk[j]
        scatter_sum += var[j]
    for j in range(k):
        if tied:
            var[j] = scatter_sum / total + reg
        else:
            var[j] = var[j] / nk[j] + reg
        if not var[j] > 0.0:
            return False
        pc[j] = 1.0 / math.sqrt(var[j])
    return True


@jit
def _kmeanspp_1d(x, k, key, seeds):  # type: ignore[no-untyped-def]
    """Indices of greedy k-means++ seeds of a 1-D sample into ``seeds``."""
    n = x.size
    n_trials = 2 + int(math.log(k))
    counter = 0
    first = bounded(key, counter, n)
    counter += 1
    seeds[0] = first
    closest = np.empty(n)
    for i in range(n):
        dd = x[i] - x[first]
        closest[i] = dd * dd
    pot = closest.sum()
    cum = np.empty(n)
    for c in range(1, k):
        s = 0.0
        for i in range(n):
            s += closest[i]
            cum[i] = s
        best_pot = _INF
        best = 0
        for _ in range(n_trials):
            u = uniform(key, counter)
            counter += 1
            cand = min(np.searchsorted(cum, u * pot), n - 1)
            xc = x[cand]
            p = 0.0
            for i in range(n):
                dd = x[i] - xc
                p += min(closest[i], dd * dd)
            if p < best_pot:
                best_pot = p
                best = cand
        for i in range(n):
            dd = x[i] - x[best]
            closest[i] = min(closest[i], dd * dd)
        pot = best_pot
        seeds[c] = best


@jit
def _lloyd_1d(x, centers, labels):  # type: ignore[no-untyped-def]
    """Lloyd's k-means from ``centers`` (tol 1e-4 of the variance, at most 300 rounds)."""
    n = x.size
    k = centers.size
    mean = x.mean()
    var = 0.0
    for i in range(n):
        var += (x[i] - mean) ** 2
    tol = var / n * 1e-4
    sums = np.empty(k)
    counts = np.empty(k)
    old = np.empty(k)
    labels[:] = -1
    for _ in range(300):
        sums[:] = 0.0
        counts[:] = 0.0
        changed = False
        for i in range(n):
            best = 0
            best_v = _INF
            for j in range(k):
                dd = x[i] - centers[j]
                if dd * dd < best_v:
                    best_v = dd * dd
                    best = j
            if labels[i] != best:
                changed = True
            labels[i] = best
            sums[best] += x[i]
            counts[best] += 1.0
        if not changed:
            return
        for j in range(k):  # an empty cluster takes the point farthest from its centre
            if counts[j] == 0.0:
                far = -1
                far_v = 0.0
                for i in range(n):
                    if counts[labels[i]] > 1.0:
                        dd = x[i] - centers[labels[i]]
                        if dd * dd > far_v:
                            far_v = dd * dd
                            far = i
                if far >= 0:
                    counts[labels[far]] -= 1.0
                    sums[labels[far]] -= x[far]
                    labels[far] = j
                    counts[j] = 1.0
                    sums[j] = x[far]
        shift = 0.0
        for j in range(k):
            old[j] = centers[j]
            if counts[j] > 0.0:
                centers[j] = sums[j] / counts[j]
            shift += (centers[j] - old[j]) ** 2
        if shift <= tol:
            break
    for i in range(n):  # labels of the final centres
        best = 0
        best_v = _INF
        for j in range(k):
            dd = x[i] - centers[j]
            if dd * dd < best_v:
                best_v = dd * dd
                best = j
        labels[i] = best


@jit
def _init_1d(x, k, tied, reg, init_code, key, nk, m, var, pc):  # type: ignore[no-untyped-def]
    """Initial parameters of a 1-D mixture from responsibilities (scikit-learn's scheme)."""
    n = x.size
    stats = np.zeros((k, 4))
    zero = np.zeros(k)
    if init_code == INIT_RANDOM:
        # resp_ij = u_ij / sum_j u_ij; two passes (means, then scatter about them).
        u = np.empty(k)
        for rep in range(2):
            stats[:] = 0.0
            for i in range(n):
                tot = 0.0
                for j in range(k):
                    u[j] = uniform(key, i * k + j)
                    tot += u[j]
                for j in range(k):
                    r = u[j] / tot
                    dd = x[i] - zero[j]
                    stats[j, 0] += r
                    stats[j, 1] += r * x[i]
                    stats[j, 2] += r * dd
                    stats[j, 3] += r * dd * dd
            if rep == 0:
                for j in range(k):
                    zero[j] = stats[j, 1] / (stats[j, 0] + _EPS10)
        return _mstep_1d(stats, zero, tied, reg, nk, m, var, pc)
    labels = np.empty(n, dtype=np.int64)
    if init_code == INIT_RANDOM_FROM_DATA:
        chosen = np.empty(k, dtype=np.int64)
        counter = 0
        got = 0
        while got < k:  # k distinct indices, by rejection (k <= n)
            cand = bounded(key, counter, n)
            counter += 1
            fresh = True
            for t in range(got):
                if chosen[t] == cand:
                    fresh = False
            if fresh:
                chosen[got] = cand
                got += 1
        labels[:] = -1
        for j in range(k):
            labels[chosen[j]] = j
    else:
        seeds = np.empty(k, dtype=np.int64)
        _kmeanspp_1d(x, k, key, seeds)
        if init_code == INIT_KMEANSPP:
            labels[:] = -1
            for j in range(k):
                labels[seeds[j]] = j
        else:
            centers = np.empty(k)
            for j in range(k):
                centers[j] = x[seeds[j]]
            _lloyd_1d(x, centers, labels)
    unlabelled = 0.0
    for rep in range(2):
        stats[:] = 0.0
        for i in range(n):
            j = labels[i]
            if j >= 0:
                dd = x[i] - zero[j]
                stats[j, 0] += 1.0
                stats[j, 1] += x[i]
                stats[j, 2] += dd
                stats[j, 3] += dd * dd
            elif rep == 0:
                unlabelled += x[i] * x[i]
        if rep == 0:
            for j in range(k):
                zero[j] = stats[j, 1] / (stats[j, 0] + _EPS10)
    if tied:
        # scikit-learn's tied estimate (X^T X - sum_j nk_j m_j^2) / sum(nk) counts
        # the points outside the one-hot seeds too.
        stats[0, 3] += unlabelled
    return _mstep_1d(stats, zero, tied, reg, nk, m, var, pc)


@jit(parallel=True)
def fit_batch_1d(  # type: ignore[no-untyped-def]
    values, offsets, bounds, k, tied, tol, reg, max_iter, n_init, init_code, seed,
    w0, m0, p0, given, out_w, out_m, out_v, out_conv, out_iter, out_lb, status,
):
    """EM to convergence for every 1-D experiment ``values[offsets[e]:offsets[e+1]]``.

    ``given`` flags (weights, means, precisions) taken from ``w0``, ``m0``,
    ``p0`` (rows per experiment) instead of the initialisation. ``status[e]``
    is 0, or 1 when a variance came out non-positive.
    """
    for blk in prange(bounds.size - 1):
        nk = np.empty(k)
        m = np.empty(k)
        var = np.empty(k)
        pc = np.empty(k)
        logw = np.empty(k)
        w_cur = np.empty(k)
        shift = np.empty(k)
        stats = np.empty((k, 4))
        for e in range(bounds[blk], bounds[blk + 1]):
            x = values[offsets[e] : offsets[e + 1]]
            n = x.size
            best = -_INF
            for init in range(n_init):
                key = stream_key(seed, e, init)
                if not (given[0] and given[1] and given[2]):
                    if not _init_1d(x, k, tied, reg, init_code, key, nk, m, var, pc):
                        status[e] = 1
                        break
                    for j in range(k):
                        w_cur[j] = nk[j] / n
                else:
                    var[:] = np.nan
                if given[0]:
                    w_cur[:] = w0[e]
                if given[1]:
                    m[:] = m0[e]
                if given[2]:
                    for j in range(k):
                        pc[j] = math.sqrt(p0[e, j])
                        var[j] = 1.0 / p0[e, j]
                for j in range(k):
                    logw[j] = math.log(w_cur[j])
                lb = -_INF
                converged = False
                it = 0
                for step in range(1, max_iter + 1):
                    it = step
                    prev = lb
                    shift[:] = m
                    lb = _estep_1d(x, logw, m, pc, stats) / n
                    if not _mstep_1d(stats, shift, tied, reg, nk, m, var, pc):
                        status[e] = 1
                        break
                    total = nk.sum()
                    for j in range(k):
                        w_cur[j] = nk[j] / total
                        logw[j] = math.log(w_cur[j])
                    if abs(lb - prev) < tol:
                        converged = True
                        break
                if status[e] != 0:
                    break
                if max_iter == 0 or lb > best or best == -_INF:
                    if max_iter > 0:
                        best = lb
                    out_w[e] = w_cur
                    out_m[e] = m
                    out_v[e] = var
                    out_conv[e] = converged
                    out_iter[e] = it if max_iter > 0 else 0
                    out_lb[e] = best


@jit(parallel=True)
def log_prob_1d(values, offsets, w, m, v, wlp, lpn):  # type: ignore[no-untyped-def]
    """Weighted log-densities ``wlp (N, k)`` and ``lpn (N,)`` of every point of every experiment."""
    E = offsets.size - 1
    k = w.shape[1]
    for e in prange(E):
        const = np.empty(k)
        pc = np.empty(k)
        for j in range(k):
            pc[j] = 1.0 / math.sqrt(v[e, j])
            const[j] = math.log(w[e, j]) + math.log(pc[j]) - _HALF_LOG_2PI
        for i in range(offsets[e], offsets[e + 1]):
            top = -_INF
            for j in range(k):
                z = (values[i] - m[e, j]) * pc[j]
                wlp[i, j] = const[j] - 0.5 * z * z
                if wlp[i, j] > top:
                    top = wlp[i, j]
            tot = 0.0
            for j in range(k):
                tot += math.exp(wlp[i, j] - top)
            lpn[i] = top + math.log(tot)
