"""Kernels of the experiment layer: arm estimates and control-vs-treatment contrasts.

Everything here works from sufficient statistics. A *row* is one experiment x
metric; its arms lie along the second axis of every ``(rows, arms)`` input,
arm 0 being the control. Rows are independent, so :func:`contrasts` runs
``prange`` over rows and each row writes its own output slots.

Metric codes (``mtype``): 0 = mean (Welch t), 1 = binomial (two-proportion z),
2 = ratio of sums (delta method, z). The formulas are in the docstring of
:func:`fastinf.experiment.analyze`; comments here cite the equation used.

:func:`unit_sums` turns unit-level ragged data into the same sufficient
statistics (one pass per arm, two-pass centring is not needed because the
platform-style inputs it imitates are raw power sums).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from fastinf.kernels._jit import jit

MEAN = 0
BINOMIAL = 1
RATIO = 2


@jit
def _centred(sq: float, a: float, b: float, n: float) -> float:
    # Sum of (x - xbar)(y - ybar) from raw sums: sum(xy) - sum(x) sum(y) / n.
    return sq - a * b / n


@jit(parallel=True)
def contrasts(
    n: np.ndarray,
    s: np.ndarray,
    ss: np.ndarray,
    cs: np.ndarray,
    css: np.ndarray,
    xs: np.ndarray,
    ds: np.ndarray,
    dss: np.ndarray,
    nds: np.ndarray,
    mtype: np.ndarray,
    cuped: np.ndarray,
    null: np.ndarray,
    est: np.ndarray,
    se: np.ndarray,
    theta: np.ndarray,
    diff: np.ndarray,
    se_diff: np.ndarray,
    se_test: np.ndarray,
    df: np.ndarray,
    rel: np.ndarray,
    se_rel: np.ndarray,
    effect: np.ndarray,
    var_red: np.ndarray,
) -> None:
    """Per-arm estimates and, for each treatment, the contrast with arm 0.

    Inputs are ``(rows, arms)`` float64 (``mtype``, ``cuped``: ``(rows,)``;
    ``null``: ``(rows, arms - 1)``, the difference under the null hypothesis).
    Outputs ``est``, ``se``: ``(rows, arms)``; ``theta``: ``(rows,)``; the
    rest ``(rows, arms - 1)``. ``se_test`` is the standard error the test
    statistic divides by (pooled for binomial metrics with a zero null,
    otherwise ``se_diff``); ``df`` is Welch's for mean metrics, ``inf`` else.
    """
    rows, arms = n.shape
    for r in prange(rows):
        code = mtype[r]
        th = 0.0
        if cuped[r]:
            # theta = cov(Y, X) / var(X) on all units of the row (Deng et al.
            # 2013, eq. 3), so every arm is adjusted by the same slope.
            nt = 0.0
            st = 0.0
            ct = 0.0
            cct = 0.0
            xt = 0.0
            for a in range(arms):
                nt += n[r, a]
                st += s[r, a]
                ct += cs[r, a]
                cct += css[r, a]
                xt += xs[r, a]
            vx = _centred(cct, ct, ct, nt)
            th = _centred(xt, st, ct, nt) / vx if vx > 0.0 else 0.0
            xbar = ct / nt
        theta[r] = th
        for a in range(arms):
            na = n[r, a]
            if code == RATIO:
                # Delta method for mean(num) / mean(den) (Deng et al. 2018,
                # eq. 4): Var = (V_n - 2 R C + R^2 V_d) / (n mu_d^2).
                mu_d = ds[r, a] / na
                ratio = s[r, a] / ds[r, a]
                vn = _centred(ss[r, a], s[r, a], s[r, a], na) / (na - 1.0)
                vd = _centred(dss[r, a], ds[r, a], ds[r, a], na) / (na - 1.0)
                cnd = _centred(nds[r, a], s[r, a], ds[r, a], na) / (na - 1.0)
                v = (vn - 2.0 * ratio * cnd + ratio * ratio * vd) / (mu_d * mu_d)
                est[r, a] = ratio
                se[r, a] = math.sqrt(max(v, 0.0) / na)
                continue
            mean = s[r, a] / na
            if code == BINOMIAL and not cuped[r]:
                v = mean * (1.0 - mean)  # Bernoulli variance, as the z test
            else:
                v = _centred(ss[r, a], s[r, a], s[r, a], na) / (na - 1.0)
            if cuped[r]:
                # Adjusted mean Y - theta (Xbar_a - Xbar) and its variance
                # V_y - 2 theta C_xy + theta^2 V_x (Deng et al. 2013, eq. 4).
                vx = _centred(css[r, a], cs[r, a], cs[r, a], na) / (na - 1.0)
                cxy = _centred(xs[r, a], s[r, a], cs[r, a], na) / (na - 1.0)
                mean = mean - th * (cs[r, a] / na - xbar)
                v = v - 2.0 * th * cxy + th * th * vx
            est[r, a] = mean
            se[r, a] = math.sqrt(max(v, 0.0) / na)
        c = est[r, 0]
        vc = se[r, 0] * se[r, 0]
        for t in range(arms - 1):
            a = t + 1
            d = est[r, a] - c
            vt = se[r, a] * se[r, a]
            var_d = vc + vt
            sd = math.sqrt(var_d)
            diff[r, t] = d
            se_diff[r, t] = sd
            # Relative lift T/C - 1 by the delta method:
            # Var = V_T / C^2 + T^2 V_C / C^4.
            rel[r, t] = est[r, a] / c - 1.0
            se_rel[r, t] = math.sqrt(vt / (c * c) + est[r, a] ** 2 * vc / c**4)
            n0 = n[r, 0]
            n1 = n[r, a]
            if code == MEAN:
                # Welch-Satterthwaite degrees of freedom.
                df[r, t] = var_d * var_d / (vc * vc / (n0 - 1.0) + vt * vt / (n1 - 1.0))
            else:
                df[r, t] = math.inf
            if code == BINOMIAL and null[r, t] == 0.0 and not cuped[r]:
                # Pooled variance under H0: p_T = p_C (statsmodels'
                # proportions_ztest with prop_var=False).
                pp = (s[r, 0] + s[r, a]) / (n0 + n1)
                se_test[r, t] = math.sqrt(pp * (1.0 - pp) * (1.0 / n0 + 1.0 / n1))
            else:
                se_test[r, t] = sd
            # Effect size: Cohen's h for proportions, Cohen's d otherwise
            # (difference over the pooled unit standard deviation).
            if code == BINOMIAL:
                p0 = s[r, 0] / n0
                p1 = s[r, a] / n1
                effect[r, t] = 2.0 * math.asin(math.sqrt(p1)) - 2.0 * math.asin(math.sqrt(p0))
            else:
                if code == RATIO:
                    u0 = se[r, 0] * se[r, 0] * n0
                    u1 = se[r, a] * se[r, a] * n1
                else:
                    u0 = _centred(ss[r, 0], s[r, 0], s[r, 0], n0) / (n0 - 1.0)
                    u1 = _centred(ss[r, a], s[r, a], s[r, a], n1) / (n1 - 1.0)
                pooled = ((n0 - 1.0) * u0 + (n1 - 1.0) * u1) / (n0 + n1 - 2.0)
                effect[r, t] = d / math.sqrt(pooled)
            if cuped[r]:
                # Share of the unadjusted variance of the difference removed.
                raw = (_centred(ss[r, 0], s[r, 0], s[r, 0], n0) / ((n0 - 1.0) * n0)
                       + _centred(ss[r, a], s[r, a], s[r, a], n1) / ((n1 - 1.0) * n1))
                var_red[r, t] = 1.0 - var_d / raw
            else:
                var_red[r, t] = 0.0


@jit(parallel=True)
def unit_sums(
    y: np.ndarray, x: np.ndarray, w: np.ndarray, offsets: np.ndarray, out: np.ndarray
) -> None:
    """Power sums of ragged unit data: one output row per segment.

    ``out[g]`` receives ``n, sum y, sum y^2, sum x, sum x^2, sum x y, sum w,
    sum w^2, sum y w`` over ``offsets[g]:offsets[g + 1]``. ``x`` and ``w``
    (covariate, denominator) may be empty, then their sums stay 0.
    """
    has_x = x.size > 0
    has_w = w.size > 0
    for g in prange(offsets.size - 1):
        c = 0.0
        sy = 0.0
        syy = 0.0
        sx = 0.0
        sxx = 0.0
        sxy = 0.0
        sw = 0.0
        sww = 0.0
        syw = 0.0
        for i in range(offsets[g], offsets[g + 1]):
            v = y[i]
            c += 1.0
            sy += v
            syy += v * v
            if has_x:
                sx += x[i]
                sxx += x[i] * x[i]
                sxy += x[i] * v
            if has_w:
                sw += w[i]
                sww += w[i] * w[i]
                syw += v * w[i]
        out[g, 0] = c
        out[g, 1] = sy
        out[g, 2] = syy
        out[g, 3] = sx
        out[g, 4] = sxx
        out[g, 5] = sxy
        out[g, 6] = sw
        out[g, 7] = sww
        out[g, 8] = syw
