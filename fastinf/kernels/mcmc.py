"""Kernels of random-walk Metropolis-Hastings: many chains of many experiments at once.

One parallel loop runs over (experiment, chain) tasks; each task is a whole
chain (warm-up with adaptation, then the kept draws) and writes only its own
slots of the outputs. Chain ``c`` of experiment ``e`` draws from the stream
``stream_key(seed, e, c)``: step ``t`` (counted from the start of the
warm-up) takes its ``d`` standard normal increments from counters
``t * (d + 1) + j`` (``j < d``) and its acceptance uniform from counter
``t * (d + 1) + d``; the jitter of the default starting point comes from a
side stream of the same key. A chain therefore depends only on its address,
its data and the options, never on the thread that ran it nor on the other
experiments of the batch.

The log-density is either a built-in target (``kind > 0``: evaluated from
per-experiment sufficient statistics ``stats[e]`` and the prior parameters
``params``, inlined) or a user ``@njit`` function ``f(theta, data)`` passed
as a first-class function (a cfunc), so these kernels are compiled and
cached once for every user function.

The "normal" target (the issue's benchmark case) has its own warm-up and
frozen loops, :func:`_warmup_normal` and :func:`_frozen_normal`: the
general loop's arithmetic in the same order, hence the same bits (a test
runs both), but with the state in registers, the log-density inlined
without the kind dispatch or array views, and a branch-free accept
(:func:`select`). That halves the instructions per chain-step (about 540
to 270 under callgrind, 2 000 kept + 500 warm-up steps); what remains is
dominated by the three counter-based draws of a step (about 90
instructions) and libm's ``exp`` (about 60 per call, one per kept step,
two or three per warm-up step).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange, types
from numba.extending import intrinsic

from fastinf.kernels._jit import jit
from fastinf.kernels.linalg import cholesky_into
from fastinf.kernels.rng import exponential, mix64, normal, stream_key, uniform

USER = 0
NORMAL = 1
BINOMIAL = 2
LOGISTIC = 3
MVNORMAL = 4

# status of a chain
OK = 0
BAD_INIT = 1  # the log-density is not finite at the starting point
RAISED = 2  # the user function raised (its caught exception came back as a NaN payload)
PLUS_INF = 3  # the log-density returned +inf
SKIPPED = 4  # the experiment is not sampled (NaN data with nan_policy='propagate')

_K_INIT = np.uint64(0x6A09E667F3BCC909)
_RAISED_BITS = np.uint64(0x7FF8DEADBEEF0001)  # fastinf.statistics.RAISED


@intrinsic
def select(typingctx, cond, a, b):  # type: ignore[no-untyped-def]
    """``a if cond else b`` for float64 ``a``, ``b``, without a branch.

    An LLVM ``select`` marked ``!unpredictable``: left to itself LLVM turns
    the accept/reject choice of a Metropolis step into a branch, which the
    CPU mispredicts on about half of the steps.
    """
    if not (isinstance(cond, types.Boolean) and a == types.float64 and b == types.float64):
        return None
    sig = types.float64(cond, a, b)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        c, x, y = args
        bit = context.cast(builder, c, signature.args[0], types.boolean)
        if bit.type.width != 1:
            bit = builder.trunc(bit, bit.type.__class__(1))
        inst = builder.select(bit, x, y)
        inst.set_metadata("unpredictable", builder.module.add_metadata([]))
        return inst

    return sig, codegen


@jit(inline="always")
def normal_logp(mu, ls, n, mean, ss, mu_loc, mu_scale, ls_loc, ls_scale):  # type: ignore[no-untyped-def]
    """The "normal" target at ``(mu, log sigma)`` from ``(n, mean, sum of squared deviations)``.

    Shared by :func:`builtin_logp` and the specialised frozen loop, so both
    compute the same bits. A scale of 0 is a flat prior.
    """
    dm = mean - mu
    lp = -n * ls - 0.5 * (ss + n * dm * dm) * math.exp(-2.0 * ls)
    if mu_scale > 0.0:
        u = (mu - mu_loc) / mu_scale
        lp -= 0.5 * u * u
    if ls_scale > 0.0:
        u = (ls - ls_loc) / ls_scale
        lp -= 0.5 * u * u
    return lp


@jit(inline="always")
def softplus(x):  # type: ignore[no-untyped-def]
    """``log(1 + exp(x))`` without overflow."""
    if x > 0.0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@jit(inline="always")
def builtin_logp(kind, theta, x, s, params):  # type: ignore[no-untyped-def]
    """Log-density (up to a constant) of a built-in target at ``theta``.

    ``x`` is the experiment's data (rows), ``s`` its sufficient statistics,
    ``params`` the prior's parameters; the layouts are those built by
    :mod:`fastinf.mcmc`.
    """
    if kind == NORMAL:
        # s = (n, mean, sum of squared deviations); theta = (mu, log sigma).
        # params = (mu_loc, mu_scale, ls_loc, ls_scale); scale 0: flat prior.
        return normal_logp(
            theta[0], theta[1], s[0], s[1], s[2], params[0], params[1], params[2], params[3]
        )
    if kind == BINOMIAL:
        # s = (a + successes, b + failures); theta = logit p. The Beta prior's
        # density times the Jacobian dp/dtheta = p (1 - p) gives
        # p**(a + k) (1 - p)**(b + n - k) in theta.
        t = theta[0]
        return -s[0] * softplus(-t) - s[1] * softplus(t)
    if kind == LOGISTIC:
        # s = X' y; rows of x = (x_1 .. x_d, y); params = (prior scale,).
        d = theta.size
        lp = 0.0
        for j in range(d):
            lp += theta[j] * (s[j] - 0.5 * theta[j] / (params[0] * params[0]))
        for i in range(x.shape[0]):
            eta = 0.0
            for j in range(d):
                eta += x[i, j] * theta[j]
            lp -= softplus(eta)
        return lp
    # MVNORMAL: s = (mean (d), lower Cholesky factor of the precision (d * d)):
    # -|L' (theta - mean)|**2 / 2.
    d = theta.size
    q = 0.0
    for j in range(d):
        w = 0.0
        for i in range(j, d):
            w += s[d + i * d + j] * (theta[i] - s[i])
        q += w * w
    return -0.5 * q


@jit(inline="always")
def _logp(f, kind, theta, x, s, params):  # type: ignore[no-untyped-def]
    if kind == USER:
        return f(theta, x)
    return builtin_logp(kind, theta, x, s, params)


@jit
def _status_of(lp):  # type: ignore[no-untyped-def]
    # Only called for a non-finite value: which kind of failure is it?
    if lp == np.inf:
        return PLUS_INF
    if lp != lp:
        box = np.empty(1)
        box[0] = lp
        if box.view(np.uint64)[0] == _RAISED_BITS:
            return RAISED
    return OK


@jit(parallel=True)
def metropolis(  # type: ignore[no-untyped-def]
    f, kind, values, offsets, stats, params, centre, jitter, chol, seed, block,
    n_warmup, n_draws, thin, adapt, target, gains, ends, cov_start, avg_from,
    skip, fast, draws, accept, scale, cov, start, status,
):
    """Run every chain of every experiment; outputs are written in place.

    Parameters (``E`` experiments, ``C`` chains, ``d`` parameters)
    ----------------------------------------------------------------
    f, kind : the user's first-class function (``kind == 0``) or a built-in
        target's code (``f`` is then a placeholder).
    values, offsets : data rows ``values[offsets[e]:offsets[e + 1]]`` (2-D).
    stats : ``(E, k)`` sufficient statistics of the built-in targets.
    params : prior parameters of a built-in target.
    centre, jitter : ``(E, C, d)``; a chain starts at
        ``centre + jitter * (2 u - 1)``, ``u`` uniform from the side stream.
    chol : ``(E, d, d)`` lower Cholesky factor of the initial proposal
        covariance (the increment is ``exp(log_scale) * chol @ z``).
    block : chains per task, stepped in lockstep so that the CPU overlaps
        their (otherwise serial) steps; any value gives the same draws.
    gains : Robbins-Monro gains, ``gains[t]`` at warm-up step ``t``.
    ends : warm-up steps after which the proposal covariance is re-estimated
        from the draws since the previous end (or since ``cov_start``); the
        scale is then rescaled so that the proposal keeps its volume.
    avg_from : the frozen log scale is the mean of its iterates from this
        warm-up step on.
    skip : ``(E,)`` experiments not to sample (their outputs are NaN).
    fast : run the frozen phase of the "normal" target in its specialised
        loop (:func:`_frozen_normal`); False takes the general loop, which
        gives the same bits (tests compare them).
    draws : ``(E, C, n_draws, d)``; accept, scale : ``(E, C)``;
    cov : ``(E, C, d, d)`` frozen proposal covariance; start : ``(E, C, d)``
    starting points; status : ``(E, C)`` codes (``OK``, ``BAD_INIT``, ...).
    """
    n_exp = offsets.size - 1
    n_chains = centre.shape[1]
    per_exp = (n_chains + block - 1) // block
    for task in prange(n_exp * per_exp):
        e = task // per_exp
        c0 = (task - e * per_exp) * block
        nb = min(block, n_chains - c0)
        if skip[e]:
            for b in range(nb):
                _fail(SKIPPED, e, c0 + b, draws, accept, scale, cov, status)
                start[e, c0 + b] = np.nan
            continue
        _run_block(
            f, kind, values[offsets[e] : offsets[e + 1]], stats[e], params, centre[e],
            jitter[e], chol[e], seed, e, c0, nb, n_warmup, n_draws, thin, adapt, target,
            gains, ends, cov_start, avg_from, fast, draws, accept, scale, cov, start, status,
        )


@jit
def _fail(code, e, c, draws, accept, scale, cov, status):  # type: ignore[no-untyped-def]
    status[e, c] = code
    draws[e, c] = np.nan
    accept[e, c] = np.nan
    scale[e, c] = np.nan
    cov[e, c] = np.nan


@jit
def _close_block(failed, n_acc, e, c0, n_steps, draws, accept, scale, cov, status):  # type: ignore[no-untyped-def]
    """Each chain of a block: its failure, or its acceptance rate over ``n_steps`` and OK."""
    for b in range(failed.size):
        c = c0 + b
        if failed[b]:
            _fail(failed[b], e, c, draws, accept, scale, cov, status)
            continue
        accept[e, c] = n_acc[b] / n_steps
        status[e, c] = OK


@jit
def _run_block(  # type: ignore[no-untyped-def]
    f, kind, x, s, params, centre, jitter, chol, seed, e, c0, nb, n_warmup, n_draws,
    thin, adapt, target, gains, ends, cov_start, avg_from, fast, draws, accept, scale, cov,
    start, status,
):
    # Chains c0 .. c0 + nb - 1 of experiment e, one step of each in turn: the
    # steps of one chain form a serial chain of dependencies, those of
    # different chains overlap in the CPU. st[b, 0] is chain b's state
    # (theta, logdensity), st[b, 1] its proposal; the accepted row is copied
    # by index, without a branch to mispredict.
    d = centre.shape[1]
    step = d + 1
    n_ends = ends.size
    keys = np.empty(nb, dtype=np.uint64)
    st = np.empty((nb, 2, d + 1))
    low = np.empty((nb, d, d))
    log_scale = np.zeros(nb)
    failed = np.zeros(nb, dtype=np.int64)
    z = np.empty(d)
    for b in range(nb):
        c = c0 + b
        keys[b] = stream_key(seed, e, c)
        side = mix64(keys[b] ^ _K_INIT)
        for j in range(d):
            st[b, 0, j] = centre[c, j] + jitter[c, j] * (2.0 * uniform(side, j) - 1.0)
            start[e, c, j] = st[b, 0, j]
        low[b] = chol
        lp = _logp(f, kind, st[b, 0, :d], x, s, params)
        st[b, 0, d] = lp
        if not (lp > -np.inf and lp < np.inf):
            code = _status_of(lp)
            failed[b] = BAD_INIT if code == OK or code == PLUS_INF else code
    # ---------------------------------------------------------------- warm-up
    w = 0  # next covariance window end
    n_win = np.zeros(nb, dtype=np.int64)  # draws in the chain's current estimate
    moves = np.zeros(nb, dtype=np.int64)  # accepted proposals among them
    mean = np.zeros((nb, d))
    m2 = np.zeros((nb, d, d))
    dev = np.empty(d)
    a = np.empty((d, d))
    trial = np.empty((d, d))
    avg = np.zeros(nb)
    n_avg = 0
    special = fast and kind == NORMAL
    if special:
        for b in range(nb):
            if not failed[b]:
                n_avg = _warmup_normal(
                    keys[b], st[b, 0], low[b], log_scale, avg, b, s, params, n_warmup, adapt,
                    target, gains, ends, cov_start, avg_from, a, trial,
                )
    for t in range(0 if special else n_warmup):
        for b in range(nb):
            if failed[b]:
                continue
            key = keys[b]
            lam = math.exp(log_scale[b])
            for j in range(d):
                z[j] = normal(key, t * step + j)
            for i in range(d):
                acc_i = 0.0
                for j in range(i + 1):
                    acc_i += low[b, i, j] * z[j]
                st[b, 1, i] = st[b, 0, i] + lam * acc_i
            lpp = _logp(f, kind, st[b, 1, :d], x, s, params)
            if not lpp < np.inf:
                code = _status_of(lpp)
                if code != OK:
                    failed[b] = code
                    continue
            st[b, 1, d] = lpp
            delta = lpp - st[b, 0, d]
            # accept with probability min(1, exp(delta)): -log(U) is Exp(1)
            row = np.int64(-delta < exponential(key, t * step + d))
            for j in range(d + 1):
                st[b, 0, j] = st[b, row, j]
            moves[b] += row
            if adapt:
                # Robbins-Monro on the log scale towards the target acceptance
                # (Andrieu & Thoms 2008, section 5), with the acceptance
                # probability min(1, exp(delta)) rather than the 0/1 outcome.
                alpha = 1.0 if delta >= 0.0 else (math.exp(delta) if delta == delta else 0.0)
                log_scale[b] += gains[t] * (alpha - target)
                if t >= avg_from:
                    avg[b] += log_scale[b]
        if not adapt:
            continue
        if t >= avg_from:
            n_avg += 1
        if t < cov_start:
            for b in range(nb):
                moves[b] = 0
        elif w < n_ends:
            # Welford's running mean and co-moments of the window's draws.
            for b in range(nb):
                n_win[b] += 1
                for j in range(d):
                    dev[j] = st[b, 0, j] - mean[b, j]
                    mean[b, j] += dev[j] / n_win[b]
                for i in range(d):
                    for j in range(d):
                        m2[b, i, j] += dev[i] * (st[b, 0, j] - mean[b, j])
            if t + 1 == ends[w]:
                for b in range(nb):
                    # Fewer than 10 d accepted moves say little about the
                    # covariance: keep the draws for the next window (this
                    # also stops a degenerate estimate from feeding itself).
                    if moves[b] < 10 * d:
                        continue
                    old = 0.0
                    for j in range(d):
                        old += math.log(low[b, j, j])
                    if _new_covariance(m2[b], n_win[b], a, trial, low[b]):
                        new = 0.0
                        for j in range(d):
                            new += math.log(low[b, j, j])
                        # Keep the proposal's volume: only its shape changes.
                        log_scale[b] += (old - new) / d
                    n_win[b] = 0
                    moves[b] = 0
                    mean[b] = 0.0
                    m2[b] = 0.0
                w += 1
    for b in range(nb):
        c = c0 + b
        if failed[b]:
            _fail(failed[b], e, c, draws, accept, scale, cov, status)
            continue
        if adapt and n_avg > 0:
            log_scale[b] = avg[b] / n_avg
        lam = math.exp(log_scale[b])
        scale[e, c] = lam
        for i in range(d):
            for j in range(d):
                low[b, i, j] *= lam
        for i in range(d):
            for j in range(d):
                q = 0.0
                for k in range(min(i, j) + 1):
                    q += low[b, i, k] * low[b, j, k]
                cov[e, c, i, j] = q
    # ----------------------------------------------------- the frozen kernel
    n_acc = np.zeros(nb, dtype=np.int64)
    if fast and kind == NORMAL:
        for b in range(nb):
            if not failed[b]:
                n_acc[b] = _frozen_normal(
                    keys[b], st[b, 0, 0], st[b, 0, 1], st[b, 0, 2], low[b, 0, 0],
                    low[b, 1, 0], low[b, 1, 1], s[0], s[1], s[2], params[0], params[1],
                    params[2], params[3], n_warmup, n_draws, thin, draws[e, c0 + b],
                )
        _close_block(failed, n_acc, e, c0, n_draws * thin, draws, accept, scale, cov, status)
        return
    kept = 0
    until = thin
    for k in range(n_draws * thin):
        t = n_warmup + k
        until -= 1
        for b in range(nb):
            if failed[b]:
                continue
            key = keys[b]
            for j in range(d):
                z[j] = normal(key, t * step + j)
            for i in range(d):
                acc_i = st[b, 0, i]
                for j in range(i + 1):
                    acc_i += low[b, i, j] * z[j]
                st[b, 1, i] = acc_i
            lpp = _logp(f, kind, st[b, 1, :d], x, s, params)
            if not lpp < np.inf:
                code = _status_of(lpp)
                if code != OK:
                    failed[b] = code
                    continue
            st[b, 1, d] = lpp
            row = np.int64(st[b, 0, d] - lpp < exponential(key, t * step + d))
            for j in range(d + 1):
                st[b, 0, j] = st[b, row, j]
            n_acc[b] += row
            if until == 0:
                for j in range(d):
                    draws[e, c0 + b, kept, j] = st[b, 0, j]
        if until == 0:
            kept += 1
            until = thin
    _close_block(failed, n_acc, e, c0, n_draws * thin, draws, accept, scale, cov, status)


@jit
def _warmup_normal(  # type: ignore[no-untyped-def]
    key, state, low, log_scale, avg, b, s, params, n_warmup, adapt, target, gains, ends,
    cov_start, avg_from, a, trial,
):
    # The warm-up of one chain of the "normal" target: the general loop of
    # _run_block in the same order (the same bits), with the state, the
    # proposal factor and the Welford sums in registers. Updates state
    # (theta, logdensity), low, log_scale[b] and avg[b] in place; returns the
    # number of averaged log scales.
    n_ends = ends.size
    n, mean, ss = s[0], s[1], s[2]
    mu_loc, mu_scale, ls_loc, ls_scale = params[0], params[1], params[2], params[3]
    th0, th1, lp = state[0], state[1], state[2]
    l00, l10, l11 = low[0, 0], low[1, 0], low[1, 1]
    ls_b = log_scale[b]
    avg_b = avg[b]
    n_avg = 0
    w = 0
    n_win = 0
    moves = 0
    mean0 = mean1 = 0.0
    m00 = m01 = m10 = m11 = 0.0
    for t in range(n_warmup):
        lam = math.exp(ls_b)
        c = t * 3
        z0 = normal(key, c)
        z1 = normal(key, c + 1)
        p0 = th0 + lam * (0.0 + l00 * z0)
        p1 = th1 + lam * (0.0 + l10 * z0 + l11 * z1)
        lpp = normal_logp(p0, p1, n, mean, ss, mu_loc, mu_scale, ls_loc, ls_scale)
        delta = lpp - lp
        acc = -delta < exponential(key, c + 2)
        th0 = select(acc, p0, th0)
        th1 = select(acc, p1, th1)
        lp = select(acc, lpp, lp)
        moves += acc
        if not adapt:
            continue
        alpha = 1.0 if delta >= 0.0 else (math.exp(delta) if delta == delta else 0.0)
        ls_b += gains[t] * (alpha - target)
        if t >= avg_from:
            avg_b += ls_b
            n_avg += 1
        if t < cov_start:
            moves = 0
        elif w < n_ends:
            n_win += 1
            dev0 = th0 - mean0
            mean0 += dev0 / n_win
            dev1 = th1 - mean1
            mean1 += dev1 / n_win
            m00 += dev0 * (th0 - mean0)
            m01 += dev0 * (th1 - mean1)
            m10 += dev1 * (th0 - mean0)
            m11 += dev1 * (th1 - mean1)
            if t + 1 == ends[w]:
                if moves >= 20:
                    old = 0.0
                    old += math.log(l00)
                    old += math.log(l11)
                    m2 = np.empty((2, 2))
                    m2[0, 0], m2[0, 1], m2[1, 0], m2[1, 1] = m00, m01, m10, m11
                    if _new_covariance(m2, n_win, a, trial, low):
                        l00, l10, l11 = low[0, 0], low[1, 0], low[1, 1]
                        new = 0.0
                        new += math.log(l00)
                        new += math.log(l11)
                        ls_b += (old - new) / 2
                    n_win = 0
                    moves = 0
                    mean0 = mean1 = 0.0
                    m00 = m01 = m10 = m11 = 0.0
                w += 1
    state[0], state[1], state[2] = th0, th1, lp
    log_scale[b] = ls_b
    avg[b] = avg_b
    return n_avg


@jit
def _frozen_normal(  # type: ignore[no-untyped-def]
    key, th0, th1, lp, l00, l10, l11, n, mean, ss, mu_loc, mu_scale, ls_loc, ls_scale,
    n_warmup, n_draws, thin, out,
):
    # The frozen phase of one chain of the "normal" target (d = 2): the
    # general loop's arithmetic in the same order (so the same bits), with
    # the state in registers, the log-density inlined, no array views and a
    # branch-free accept. Returns the number of accepted proposals; writes
    # the kept states to out (n_draws, 2). This target's log-density is
    # never +inf and never raises, so no status check is needed: a NaN
    # proposal compares False and is rejected, as in the general loop.
    n_acc = 0
    kept = 0
    until = thin
    for k in range(n_draws * thin):
        t = (n_warmup + k) * 3
        z0 = normal(key, t)
        z1 = normal(key, t + 1)
        p0 = th0 + l00 * z0
        p1 = th1 + l10 * z0 + l11 * z1
        lpp = normal_logp(p0, p1, n, mean, ss, mu_loc, mu_scale, ls_loc, ls_scale)
        acc = lp - lpp < exponential(key, t + 2)
        th0 = select(acc, p0, th0)
        th1 = select(acc, p1, th1)
        lp = select(acc, lpp, lp)
        n_acc += acc
        until -= 1
        if until == 0:
            out[kept, 0] = th0
            out[kept, 1] = th1
            kept += 1
            until = thin
    return n_acc


@jit
def _new_covariance(m2, n, a, trial, low):  # type: ignore[no-untyped-def]
    # The window's sample covariance S, shrunk towards its diagonal:
    # n / (n + 5) S + 5 / (n + 5) diag(S) (positive definite whenever every
    # variance is). A window in which some coordinate never moved keeps the
    # previous factor.
    d = m2.shape[0]
    if n < 2:
        return False
    for j in range(d):
        if not m2[j, j] > 0.0:
            return False
    shrink = n / (n + 5.0)
    for i in range(d):
        for j in range(d):
            v = m2[i, j] / (n - 1.0)
            a[i, j] = v if i == j else shrink * v
    if cholesky_into(a, trial):
        for i in range(d):
            for j in range(d):
                low[i, j] = trial[i, j]
        return True
    return False


@jit(parallel=True)
def logdensity_at(f, kind, values, offsets, stats, params, thetas):  # type: ignore[no-untyped-def]
    """The log-density at ``thetas[e, i]`` for every experiment ``e`` (for tests and checks)."""
    n_exp = offsets.size - 1
    n = thetas.shape[1]
    out = np.empty((n_exp, n))
    for task in prange(n_exp * n):
        e = task // n
        i = task - e * n
        out[e, i] = _logp(
            f, kind, thetas[e, i].copy(), values[offsets[e] : offsets[e + 1]], stats[e], params
        )
    return out



@jit(parallel=True)
def segment_sums(x, offsets):  # type: ignore[no-untyped-def]
    """Column sums of the rows of each experiment, ``(E, k)``, each in row order.

    Summed experiment by experiment (not as differences of a running sum), so
    an experiment's sums, and everything sampled from them, do not depend on
    the other experiments of the batch.
    """
    n_exp = offsets.size - 1
    k = x.shape[1]
    out = np.zeros((n_exp, k))
    for e in prange(n_exp):
        for i in range(offsets[e], offsets[e + 1]):
            for j in range(k):
                out[e, j] += x[i, j]
    return out
