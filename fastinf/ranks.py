"""Rank and ECDF tests of two samples, batched: Mann-Whitney U, two-sample KS, Spearman.

Drop-ins for :func:`scipy.stats.mannwhitneyu`, :func:`scipy.stats.ks_2samp`
and :func:`scipy.stats.spearmanr` that run many experiments at once: N-D
arrays with the observations along ``axis`` (experiments along the other
axes, broadcasting as in scipy) or :class:`fastinf.Ragged` samples (one
experiment per row, every experiment with its own sizes).

Both U and the KS statistic depend on the data only through the merged order
of the two samples. Each sample is sorted once, by NumPy's vectorised
quicksort, run over cost-balanced chunks of experiments in a thread pool
(NumPy releases the GIL while it sorts); a Numba kernel
(:mod:`fastinf.kernels.ranks`) then walks the two sorted samples together in
one pass per experiment, in parallel over experiments, to get the midrank sum
and tie term ``sum(t**3 - t)`` (U) or the extremes of the ECDF difference and
where they occur (KS). The p-values are scipy's: the normal approximation
with scipy's tie and continuity corrections, scipy's exact U distribution,
scipy's exact and asymptotic KS distributions.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf._results import KstestResult, MannwhitneyuResult, SignificanceResult
from fastinf.ragged import Experiments, Ragged, SmallSampleWarning, check_nan_policy, standardize

__all__ = [
    "KstestResult",
    "MannwhitneyuResult",
    "SignificanceResult",
    "ks_2samp",
    "mannwhitneyu",
    "spearmanr",
]

_ALTERNATIVES = ("two-sided", "less", "greater")
_ALTERNATIVES_TEXT = "{'two-sided', 'less', 'greater'}"
_MAX_AUTO_N = 10000  # scipy's ks_2samp: 'auto' is exact up to this size
_SORT_THREADED = 200_000  # observations from which sorting uses threads


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# Shared plumbing: validation, sorting, scheduling
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pair:
    """Two samples per experiment laid out for the kernels."""

    exps: Experiments
    xlo: np.ndarray
    xhi: np.ndarray
    ylo: np.ndarray
    yhi: np.ndarray
    n1: np.ndarray
    n2: np.ndarray
    skip: np.ndarray
    keepdims_axis: int | None  # where to re-insert the reduced axis


def _check_alternative(alternative: Any) -> str:
    alt = alternative.lower() if isinstance(alternative, str) else None
    if alt not in _ALTERNATIVES:
        raise ValueError(f"`alternative` must be one of {_ALTERNATIVES_TEXT}.")
    return str(alt)


def _check_axis(axis: Any) -> int:
    try:
        axis_int = int(axis)
    except (TypeError, ValueError):
        raise ValueError("`axis` must be an integer.") from None
    if axis_int != axis:
        raise ValueError("`axis` must be an integer.")
    return axis_int


def _pair(
    x: Any, y: Any, axis: int, nan_policy: str, names: tuple[str, str],
    paired: bool = False, keepdims: bool = False, min_size: int = 1,
) -> _Pair:
    """Standardise two samples; flag experiments with NaN (propagate) or too few values."""
    if isinstance(x, Ragged) != isinstance(y, Ragged):
        raise TypeError(
            f"`{names[0]}` and `{names[1]}` must both be Ragged or both be arrays."
        )
    try:
        exps = standardize(
            (x, y), axis=axis, paired=paired, nan_policy=nan_policy, min_size=0,
            paired_reason=f"As `{names[0]}` and `{names[1]}` are paired",
        )
    except ValueError as exc:  # name the arguments, not 'sample j of `data`'
        msg = str(exc).replace("sample 0 of `data`", f"`{names[0]}`")
        msg = msg.replace("sample 1 of `data`", f"`{names[1]}`")
        msg = msg.replace("sample 0", f"`{names[0]}`").replace("sample 1", f"`{names[1]}`")
        raise ValueError(msg) from None
    except TypeError as exc:
        msg = str(exc).replace("sample 0 of `data`", f"`{names[0]}`")
        msg = msg.replace("sample 1 of `data`", f"`{names[1]}`")
        raise TypeError(msg) from None
    off = exps.offsets
    n1 = off[0, 1:] - off[0, :-1]
    n2 = off[1, 1:] - off[1, :-1]
    skip = exps.nan_experiments.copy()
    small = ((n1 < min_size) | (n2 < min_size)) & ~skip
    if small.any():
        first = int(np.argmax(small))
        where = "the data" if exps.shape == () else f"experiment {first}" + (
            "" if exps.shape is None else
            f" {tuple(int(i) for i in np.unravel_index(first, exps.shape))}"
        )
        warnings.warn(
            f"{int(small.sum())} experiment(s) have a sample with fewer than "
            f"{min_size} observation(s) (first: {where}); their results are NaN.",
            SmallSampleWarning, stacklevel=3,
        )
        skip |= small
    kd_axis = None
    if keepdims and exps.shape is not None:
        kd_axis = axis % (len(exps.shape) + 1)
    return _Pair(
        exps, off[0, :-1], off[0, 1:], off[1, :-1], off[1, 1:], n1, n2, skip, kd_axis
    )


def _cost_blocks(cost: np.ndarray, per_thread: int = 64) -> np.ndarray:
    """Bounds of contiguous blocks of experiments of about equal total ``cost``.

    Numba's ``prange`` gives each thread a contiguous run of blocks; with many
    blocks of equal cost, experiments of very different sizes still keep
    every thread busy until the end.
    """
    import numba

    n = cost.size
    n_blocks = int(min(n, per_thread * numba.get_num_threads()))
    if n_blocks <= 1:
        return np.array([0, n], dtype=np.int64)
    before = np.concatenate(([0.0], np.cumsum(cost, dtype=np.float64)))
    targets = before[-1] * np.arange(1, n_blocks) / n_blocks
    cuts = np.searchsorted(before, targets, side="left")
    return np.concatenate(([0], np.maximum.accumulate(cuts), [n])).astype(np.int64)


_POOL: tuple[int, int, Any] | None = None  # (process id, threads, executor)
_POOL_LOCK = threading.Lock()


def _sort_pool(n_threads: int) -> Any:
    """The process's thread pool for sorting, made once (again after a fork or a new size).

    Starting a pool costs more than sorting a chunk of experiments, and a
    pool inherited through ``fork`` has no threads behind it.
    """
    global _POOL
    from concurrent.futures import ThreadPoolExecutor

    with _POOL_LOCK:
        pid = os.getpid()
        if _POOL is None or _POOL[0] != pid or _POOL[1] != n_threads:
            if _POOL is not None and _POOL[0] == pid:
                _POOL[2].shutdown(wait=False)
            _POOL = (pid, n_threads,
                     ThreadPoolExecutor(n_threads, thread_name_prefix="fastinf-sort"))
        return _POOL[2]


def _sort_segments(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    """Sort each disjoint ``values[lo[k]:hi[k]]`` in place, with NumPy.

    NumPy's quicksort (vectorised on x86) is several times faster than
    Numba's ``np.sort``, and NumPy releases the GIL while sorting, so the
    segments are cut into one run of about equal size per Numba thread and
    sorted in a thread pool.
    """
    import numba

    lo_l = lo.tolist()
    hi_l = hi.tolist()
    n_threads = numba.get_num_threads()
    total = int(np.sum(hi - lo)) if lo.size else 0

    def work(first: int, last: int) -> None:
        for k in range(first, last):
            if hi_l[k] - lo_l[k] > 1:
                values[lo_l[k] : hi_l[k]].sort()

    if n_threads == 1 or total < _SORT_THREADED or lo.size < 2:
        work(0, lo.size)
        return
    cum = np.cumsum((hi - lo) + 16)
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_threads) / n_threads)
    bounds = [0, *cuts.tolist(), lo.size]
    pool = _sort_pool(n_threads)
    futures = [pool.submit(work, bounds[t], bounds[t + 1]) for t in range(1, n_threads)]
    work(bounds[0], bounds[1])  # this thread takes the first run
    for f in futures:
        f.result()


def _sort_pair(values: np.ndarray, pair: _Pair) -> None:
    """Sort both samples of every experiment of ``pair`` (disjoint segments), in one call."""
    _sort_segments(values, np.concatenate([pair.xlo, pair.ylo]),
                   np.concatenate([pair.xhi, pair.yhi]))


def _finish(pair: _Pair, a: np.ndarray) -> Any:
    """Per-experiment results to the batch shape (and keepdims)."""
    out = pair.exps.reshape(a)
    if pair.keepdims_axis is not None:
        out = np.expand_dims(np.asarray(out), pair.keepdims_axis)
    return out


# --------------------------------------------------------------------------
# Mann-Whitney U
# --------------------------------------------------------------------------


def mannwhitneyu(
    x: Any,
    y: Any,
    use_continuity: bool = True,
    alternative: str = "two-sided",
    axis: int = 0,
    method: Any = "auto",
    *,
    nan_policy: str = "propagate",
    keepdims: bool = False,
) -> MannwhitneyuResult:
    r"""Mann-Whitney U rank test of two independent samples, a drop-in for scipy's.

    Parameters
    ----------
    x, y : array_like or Ragged
        The samples. N-D arrays broadcast except along `axis`, one experiment
        per position along the other axes; two :class:`fastinf.Ragged` with
        the same number of experiments give one test per experiment.
    use_continuity : bool, default: True
        Whether to apply the continuity correction (1/2) of the asymptotic
        method.
    alternative : {'two-sided', 'less', 'greater'}, optional
        The alternative: the distribution of `x` differs from / is
        stochastically less than / greater than that of `y`.
    axis : int, default: 0
        The observation axis of N-D samples.
    method : {'auto', 'asymptotic', 'exact'} or scipy.stats.PermutationMethod
        ``'asymptotic'``: normal approximation with tie correction;
        ``'exact'``: scipy's exact null distribution of U (no tie
        correction); ``'auto'``: exact when a sample has 8 or fewer
        observations and there are no ties, as scipy decides it (see Notes).
        A ``PermutationMethod`` is handed to :func:`scipy.stats.mannwhitneyu`.
    nan_policy : {'propagate', 'omit', 'raise'}, optional
        NaN make the experiment's result NaN, are dropped, or raise.
    keepdims : bool, default: False
        Keep the reduced axis, with length 1 (N-D input only).

    Returns
    -------
    MannwhitneyuResult
        ``statistic`` (U of `x`) and ``pvalue``, with the batch shape
        (scalars for 1-D input, length ``E`` for Ragged).

    Notes
    -----
    With :math:`R_1` the sum of the midranks of `x` in the pooled sample of
    :math:`n = n_1 + n_2` observations and :math:`t_k` the sizes of the
    groups of tied values,

    .. math::

        U_1 = R_1 - \frac{n_1 (n_1 + 1)}{2}, \qquad
        z = \frac{U - n_1 n_2 / 2 - c}
                 {\sqrt{\frac{n_1 n_2}{12}\left(n + 1 -
                  \frac{\sum_k (t_k^3 - t_k)}{n (n - 1)}\right)}},

    with :math:`U = U_1` ('greater'), :math:`U_2 = n_1 n_2 - U_1` ('less')
    or :math:`\max(U_1, U_2)` (two-sided, p doubled), :math:`c = 1/2` with
    the continuity correction, and :math:`p = \Phi(-z)` [1]_ [2]_. The exact
    p-value is the survival function of the null distribution of U,
    computed by scipy's private ``scipy.stats._mannwhitneyu._MWU`` (Löffler's
    recursion), from U truncated to an integer as scipy does.

    ``method='auto'`` follows scipy exactly: for N-D input without NaN, scipy
    looks for ties in the *whole batch* at once (any tie in any experiment
    makes every experiment asymptotic), and so does this function; for
    Ragged input, or N-D input with NaN (which scipy handles slice by slice),
    the choice is made per experiment.

    References
    ----------
    .. [1] H. B. Mann and D. R. Whitney, "On a test of whether one of two
       random variables is stochastically larger than the other", Annals of
       Mathematical Statistics 18, 1947.
    .. [2] SciPy, ``scipy.stats.mannwhitneyu``,
       https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.mannwhitneyu.html

    Examples
    --------
    >>> from fastinf.ranks import mannwhitneyu
    >>> males = [19, 22, 16, 29, 24]
    >>> females = [20, 11, 17, 12]
    >>> res = mannwhitneyu(males, females, method="exact")
    >>> print(res.statistic, round(float(res.pvalue), 4))
    17.0 0.1111
    """
    iv = _mannwhitneyu_iv(x, y, use_continuity, alternative, axis, method, nan_policy, keepdims)
    if iv is None:
        return _mwu_scipy(x, y, use_continuity, alternative, axis, method, nan_policy, keepdims)
    pair, use_continuity, alternative, method, batch_ties = iv
    values = pair.exps.values
    _sort_pair(values, pair)
    u1, p = _mwu_segments(values, pair.xlo, pair.xhi, pair.ylo, pair.yhi, pair.skip,
                          use_continuity, alternative, method, batch_ties)
    return MannwhitneyuResult(_finish(pair, u1), _finish(pair, p))


def _mannwhitneyu_iv(
    x: Any, y: Any, use_continuity: Any, alternative: Any, axis: Any, method: Any,
    nan_policy: Any, keepdims: Any,
) -> tuple[_Pair, bool, str, str, bool] | None:
    """Validate; ``None`` means: hand the call to scipy (a PermutationMethod)."""
    if use_continuity not in (True, False):
        raise ValueError("`use_continuity` must be one of {True, False}.")
    alt = _check_alternative(alternative)
    axis_int = _check_axis(axis)
    nan_policy = check_nan_policy(nan_policy)
    if not isinstance(method, str):
        from scipy import stats

        if isinstance(method, stats.PermutationMethod):
            return None
        raise ValueError(
            "`method` must be one of {'auto', 'asymptotic', 'exact'} or a "
            "PermutationMethod."
        )
    method = method.lower()
    if method not in ("auto", "asymptotic", "exact"):
        raise ValueError(
            "`method` must be one of {'auto', 'asymptotic', 'exact'} or a "
            "PermutationMethod."
        )
    pair = _pair(x, y, axis_int, nan_policy, ("x", "y"), keepdims=bool(keepdims))
    # scipy decides 'auto' over the whole N-D batch when it has no NaN (its
    # vectorised path), slice by slice otherwise (and a Ragged is a loop).
    batch_ties = False
    if method == "auto" and pair.exps.shape not in (None, ()):
        batch_ties = not (_has_nan(x) or _has_nan(y))
    return pair, bool(use_continuity), alt, method, batch_ties


def _has_nan(a: Any) -> bool:
    arr = np.asarray(a)
    return bool(np.issubdtype(arr.dtype, np.inexact) and np.isnan(arr).any())


def _mwu_segments(
    values: np.ndarray, xlo: np.ndarray, xhi: np.ndarray, ylo: np.ndarray, yhi: np.ndarray,
    skip: np.ndarray, use_continuity: bool, alternative: str, method: str,
    batch_ties: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``(U_1, p)`` of each experiment ``x = values[xlo:xhi]``, ``y = values[ylo:yhi]``.

    Both samples must be sorted already (:func:`_sort_segments`); experiments
    flagged in ``skip`` get NaN. ``batch_ties``: as scipy's N-D 'auto', a tie
    anywhere makes every experiment asymptotic.
    """
    from fastinf.kernels import ranks as K

    n1 = xhi - xlo
    n2 = yhi - ylo
    u1 = np.empty(n1.size)
    tie = np.empty(n1.size)
    cost = (n1 + n2).astype(np.float64) + 32.0
    K.mwu_sorted(values, xlo, xhi, ylo, yhi, skip, _cost_blocks(cost), u1, tie)
    return u1, _mwu_pvalue(u1, tie, n1, n2, skip, use_continuity, alternative, method,
                           batch_ties)


def _mwu_pvalue(
    u1: np.ndarray, tie: np.ndarray, n1: np.ndarray, n2: np.ndarray, skip: np.ndarray,
    use_continuity: bool, alternative: str, method: str, batch_ties: bool,
) -> np.ndarray:
    from scipy import special

    u2 = n1 * n2 - u1
    if alternative == "greater":
        u, f = u1, 1.0
    elif alternative == "less":
        u, f = u2, 1.0
    else:
        u, f = np.maximum(u1, u2), 2.0
    ok = ~skip
    if method == "auto":
        ties = tie > 0  # some t > 1
        if batch_ties:
            ties = np.full(ties.shape, bool(ties[ok].any()))
        exact = ((n1 <= 8) | (n2 <= 8)) & ~ties & ok
    elif method == "exact":
        exact = ok.copy()
    else:
        exact = np.zeros(u1.shape, dtype=bool)
    p = np.full(u1.shape, np.nan)
    asym = ok & ~exact
    if asym.any():
        a1, a2, ua, ta = n1[asym], n2[asym], u[asym], tie[asym]
        # scipy's _get_mwu_z, operation by operation
        n = a1 + a2
        mu = a1 * a2 / 2
        s = np.sqrt(a1 * a2 / 12 * ((n + 1) - ta / (n * (n - 1))))
        num = ua - mu
        if use_continuity:
            num = num - 0.5
        with np.errstate(divide="ignore", invalid="ignore"):
            z = num / s
        p[asym] = special.ndtr(-z)
    if exact.any():
        # scipy's private exact null distribution of U (Löffler's recursion):
        # one table per pair of sizes, evaluated for all its experiments.
        from scipy.stats._mannwhitneyu import _MWU

        idx = np.flatnonzero(exact)
        keys = np.stack([np.minimum(n1[idx], n2[idx]), np.maximum(n1[idx], n2[idx])])
        for k1, k2 in np.unique(keys, axis=1).T:
            sel = idx[(keys[0] == k1) & (keys[1] == k2)]
            dist = _MWU(int(k1), int(k2))
            p[sel] = dist.sf(np.asarray(u[sel], np.int64))
    p *= f
    return np.clip(p, 0.0, 1.0)


def _mwu_scipy(
    x: Any, y: Any, use_continuity: bool, alternative: str, axis: int, method: Any,
    nan_policy: str, keepdims: bool,
) -> MannwhitneyuResult:
    """A PermutationMethod: scipy's own test (one call per Ragged experiment)."""
    from scipy import stats

    kw = {"use_continuity": use_continuity, "alternative": alternative,
          "method": method, "nan_policy": nan_policy}
    if isinstance(x, Ragged) and isinstance(y, Ragged):
        if x.n_experiments != y.n_experiments:
            raise ValueError(
                f"`y` has {y.n_experiments} experiments, `x` has {x.n_experiments}."
            )
        res = [stats.mannwhitneyu(x[e], y[e], **kw) for e in range(x.n_experiments)]
        return MannwhitneyuResult(
            np.array([r.statistic for r in res], dtype=np.float64),
            np.array([r.pvalue for r in res], dtype=np.float64),
        )
    r = stats.mannwhitneyu(x, y, axis=axis, keepdims=keepdims, **kw)
    return MannwhitneyuResult(r.statistic, r.pvalue)


# --------------------------------------------------------------------------
# Two-sample Kolmogorov-Smirnov
# --------------------------------------------------------------------------


def ks_2samp(
    data1: Any,
    data2: Any,
    alternative: str = "two-sided",
    method: str = "auto",
    *,
    axis: int = 0,
    nan_policy: str = "propagate",
    keepdims: bool = False,
) -> KstestResult:
    r"""Two-sample Kolmogorov-Smirnov test, a drop-in for :func:`scipy.stats.ks_2samp`.

    Parameters
    ----------
    data1, data2 : array_like or Ragged
        The samples. N-D arrays broadcast except along `axis`, one experiment
        per position along the other axes; two :class:`fastinf.Ragged` with
        the same number of experiments give one test per experiment.
    alternative : {'two-sided', 'less', 'greater'}, optional
        The alternative (a leading 't', 'l' or 'g' suffices, as in scipy):
        the CDFs differ / the CDF of `data1` is below / above that of `data2`
        somewhere (``'less'`` uses :math:`D^- = \max(F_2 - F_1)`).
    method : {'auto', 'exact', 'asymp'}, optional
        How the p-value is computed: ``'auto'`` is exact when both samples
        have at most 10 000 observations, asymptotic otherwise (per
        experiment). An exact computation that fails falls back to the
        asymptotic one with a ``RuntimeWarning``, as in scipy.
    axis : int, default: 0
        The observation axis of N-D samples.
    nan_policy : {'propagate', 'omit', 'raise'}, optional
        NaN make the experiment's result NaN, are dropped, or raise.
    keepdims : bool, default: False
        Keep the reduced axis, with length 1 (N-D input only).

    Returns
    -------
    KstestResult
        ``statistic``, ``pvalue``, ``statistic_location``, ``statistic_sign``
        with the batch shape.

    Notes
    -----
    With :math:`F_1, F_2` the ECDFs of the samples, evaluated at every
    pooled observation :math:`z`,

    .. math::

        D^+ = \max_z (F_1(z) - F_2(z)), \qquad
        D^- = \max_z (F_2(z) - F_1(z)), \qquad
        D = \max(D^+, D^-).

    The exact p-values are scipy's lattice-path counts: for a two-sided
    test of samples of equal size a port of scipy's private
    ``_compute_prob_outside_square`` (:func:`fastinf.kernels.ranks.prob_outside_square`,
    same operations, same bits), otherwise scipy's private
    ``scipy.stats._stats_py._attempt_exact_2kssamp`` itself (called once per
    distinct ``(n_1, n_2, D)``). As scipy, an exact test reports ``D``
    rounded to the lattice, ``h / \mathrm{lcm}(n_1, n_2)``. The asymptotic
    two-sided p-value is ``scipy.stats.kstwo.sf(D, round(n_1 n_2 / (n_1 + n_2)))``,
    the one-sided one Hodges' approximation as in scipy [1]_ [2]_.

    References
    ----------
    .. [1] J. L. Hodges Jr., "The Significance Probability of the Smirnov
       Two-Sample Test", Arkiv för Matematik 3, 1958.
    .. [2] SciPy, ``scipy.stats.ks_2samp``,
       https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.ks_2samp.html

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.ranks import ks_2samp
    >>> res = ks_2samp([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    >>> print(res.statistic, round(float(res.pvalue), 4), res.statistic_sign)
    1.0 0.1 1
    """
    pair, alternative, method = _ks_2samp_iv(
        data1, data2, alternative, method, axis, nan_policy, keepdims
    )
    values = pair.exps.values
    _sort_pair(values, pair)
    dmax, locmax, dmin, locmin = _ks_extremes(values, pair)
    d, p, loc, sign = _ks_finish(
        dmax, locmax, dmin, locmin, pair.n1, pair.n2, pair.skip, alternative, method
    )
    if pair.exps.shape == () and not pair.skip[0] and pair.keepdims_axis is None:
        sign_out: Any = np.int8(sign[0])
    else:
        sign_out = _finish(pair, sign)
    return KstestResult(_finish(pair, d), _finish(pair, p), _finish(pair, loc), sign_out)


def _ks_2samp_iv(
    data1: Any, data2: Any, alternative: Any, method: Any, axis: Any,
    nan_policy: Any, keepdims: Any,
) -> tuple[_Pair, str, str]:
    if method not in ("auto", "exact", "asymp"):
        raise ValueError(f"Invalid value for mode: {method}")
    alt = alternative
    if isinstance(alternative, str) and alternative:
        alt = {"t": "two-sided", "g": "greater", "l": "less"}.get(
            alternative.lower()[0], alternative
        )
    if alt not in _ALTERNATIVES:
        raise ValueError(f"Invalid value for alternative: {alternative}")
    axis_int = _check_axis(axis)
    nan_policy = check_nan_policy(nan_policy)
    pair = _pair(
        data1, data2, axis_int, nan_policy, ("data1", "data2"), keepdims=bool(keepdims)
    )
    return pair, str(alt), str(method)


def _ks_extremes(
    values: np.ndarray, pair: Any, x_sorted: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The kernel's ``(dmax, locmax, dmin, locmin)`` over sorted samples."""
    from fastinf.kernels import ranks as K

    n_exp = pair.n1.size
    out = [np.empty(n_exp) for _ in range(4)]
    cost = (pair.n1 + pair.n2).astype(np.float64) + 32.0
    K.ks_sorted(
        values, pair.xlo, pair.xhi, pair.ylo, pair.yhi, pair.skip,
        _cost_blocks(cost), *out,
    )
    return out[0], out[1], out[2], out[3]


def _ks_finish(
    dmax: np.ndarray, locmax: np.ndarray, dmin: np.ndarray, locmin: np.ndarray,
    n1: np.ndarray, n2: np.ndarray, skip: np.ndarray, alternative: str, method: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(D, p, location, sign)`` from the ECDF extremes, as scipy's ``ks_2samp``."""
    from scipy.stats import distributions

    ok = ~skip
    min_s = np.clip(-dmin, 0.0, 1.0)
    if alternative == "less":
        use_min = np.ones(dmax.shape, dtype=bool)
    elif alternative == "two-sided":
        use_min = min_s > dmax
    else:
        use_min = np.zeros(dmax.shape, dtype=bool)
    d = np.where(use_min, min_s, dmax)
    loc = np.where(use_min, locmin, locmax)
    sign = np.where(use_min, -1.0, 1.0)
    d[skip] = np.nan
    sign[skip] = np.nan
    p = np.full(d.shape, np.nan)

    g = np.gcd(n1, n2)
    n1g = n1 // g
    n2g = n2 // g
    if method == "auto":
        exact = ok & (np.maximum(n1, n2) <= _MAX_AUTO_N)
    elif method == "exact":
        exact = ok.copy()
        too_big = ok & (n1g >= np.iinfo(np.int32).max / np.maximum(n2g, 1))
        if too_big.any():
            e = int(np.argmax(too_big))
            warnings.warn(
                f"Exact ks_2samp calculation not possible with samples sizes "
                f"{n1[e]} and {n2[e]} ({int(too_big.sum())} experiment(s)). "
                "Switching to 'asymp'.", RuntimeWarning, stacklevel=3,
            )
            exact &= ~too_big
    else:
        exact = np.zeros(d.shape, dtype=bool)

    if exact.any():
        failed = _ks_exact(d, p, exact, n1, n2, g, alternative)
        if failed.any():
            warnings.warn(
                "ks_2samp: Exact calculation unsuccessful. Switching to "
                f"method=asymp ({int(failed.sum())} experiment(s)).",
                RuntimeWarning, stacklevel=3,
            )
    asym = ok & np.isnan(p)
    if asym.any():
        m = np.maximum(n1[asym], n2[asym]).astype(np.float64)
        n = np.minimum(n1[asym], n2[asym]).astype(np.float64)
        da = d[asym]
        en = m * n / (m + n)
        if alternative == "two-sided":
            p[asym] = distributions.kstwo.sf(da, np.round(en))
        else:
            z = np.sqrt(en) * da
            # Hodges' approximation, eq. 5.3 (m the larger size), as scipy
            expt = -2 * z**2 - 2 * z * (m + 2 * n) / np.sqrt(m * n * (m + n)) / 3.0
            p[asym] = np.exp(expt)
    p = np.clip(p, 0.0, 1.0)
    return d, p, loc, sign


def _ks_exact(
    d: np.ndarray, p: np.ndarray, exact: np.ndarray, n1: np.ndarray, n2: np.ndarray,
    g: np.ndarray, alternative: str,
) -> np.ndarray:
    """Exact p-values into ``p`` (and D rounded to the lattice into ``d``).

    Returns the mask of experiments whose exact computation failed (their
    ``p`` stays NaN and they go to the asymptotic formula, as in scipy).
    """
    from fastinf.kernels import ranks as K

    idx = np.flatnonzero(exact)
    lcm = (n1[idx] // g[idx]) * n2[idx]
    d0 = d[idx].copy()
    h = np.round(d0 * lcm).astype(np.int64)
    d[idx] = h * 1.0 / lcm
    failed = np.zeros(d.shape, dtype=bool)
    zero = h == 0
    p[idx[zero]] = 1.0
    square = ~zero & (n1[idx] == n2[idx]) & (alternative == "two-sided")
    if square.any():
        out = np.empty(int(square.sum()))
        K.prob_outside_square_many(n1[idx[square]], h[square], out)
        p[idx[square]] = out
        bad = ~((out >= 0.0) & (out <= 1.0))
        if bad.any():
            failed[idx[square][bad]] = True
            p[idx[square][bad]] = np.nan
    rest = ~zero & ~square
    if rest.any():
        # scipy's private exact helper, once per distinct (n1, n2, h).
        from scipy.stats._stats_py import _attempt_exact_2kssamp

        cache: dict[tuple[int, int, int], tuple[bool, float]] = {}
        for k in np.flatnonzero(rest).tolist():
            e = int(idx[k])
            key = (int(n1[e]), int(n2[e]), int(h[k]))
            if key not in cache:
                success, _, prob = _attempt_exact_2kssamp(
                    key[0], key[1], int(g[e]), float(d0[k]), alternative
                )
                cache[key] = (bool(success), float(prob))
            success, prob = cache[key]
            if success:
                p[e] = prob
            else:
                failed[e] = True
    return failed


# --------------------------------------------------------------------------
# Spearman's rho
# --------------------------------------------------------------------------


def spearmanr(
    a: Any,
    b: Any = None,
    axis: int | None = 0,
    nan_policy: str = "propagate",
    alternative: str = "two-sided",
    *,
    batched: bool = False,
) -> SignificanceResult:
    r"""Spearman's rank correlation with its p-value, a drop-in for scipy's ``spearmanr``.

    Parameters
    ----------
    a, b : array_like or Ragged
        Paired samples. Two 1-D arrays give one correlation, as in scipy. A
        2-D `a` (with or without `b`) gives scipy's correlation matrix of
        the variables: that form is handed to :func:`scipy.stats.spearmanr`.
        Two :class:`fastinf.Ragged` with equal sizes per experiment, or N-D
        arrays with ``batched=True``, give one correlation per experiment.
    axis : int or None, default: 0
        As in scipy for the unbatched forms; with ``batched=True`` the
        observation axis (experiments along the other axes, which
        broadcast).
    nan_policy : {'propagate', 'omit', 'raise'}, optional
        NaN make the result NaN, drop the pair (both values), or raise.
    alternative : {'two-sided', 'less', 'greater'}, optional
        The alternative for the sign of the correlation.
    batched : bool, default: False
        Whether N-D `a` and `b` are batches of pairs rather than scipy's
        variables (keyword-only, fastinf's extension).

    Returns
    -------
    SignificanceResult
        ``statistic`` (rho; also ``correlation``) and ``pvalue``.

    Notes
    -----
    rho is Pearson's correlation of the midranks :math:`r_i, s_i` of the
    two samples, and its p-value that of

    .. math::

        t = \rho \sqrt{\frac{n - 2}{(1 + \rho)(1 - \rho)}}

    under Student's t with :math:`n - 2` degrees of freedom [1]_ [2]_
    (``scipy.special.stdtr``). A constant sample gives NaN with scipy's
    ``ConstantInputWarning``; fewer than two pairs give NaN. With
    ``nan_policy='omit'`` an experiment left with fewer than two pairs gives
    NaN with a :class:`fastinf.SmallSampleWarning` (scipy raises).

    References
    ----------
    .. [1] D. Zwillinger and S. Kokoska, CRC Standard Probability and
       Statistics Tables and Formulae, Chapman & Hall, 2000, section 14.7.
    .. [2] SciPy, ``scipy.stats.spearmanr``,
       https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.spearmanr.html

    Examples
    --------
    >>> from fastinf.ranks import spearmanr
    >>> res = spearmanr([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
    >>> print(round(float(res.statistic), 4), round(float(res.pvalue), 4))
    0.8208 0.0886
    """
    iv = _spearmanr_iv(a, b, axis, nan_policy, alternative, batched)
    if iv is None:
        from scipy import stats

        r = stats.spearmanr(a, b, axis=axis, nan_policy=nan_policy, alternative=alternative)
        return SignificanceResult(r.statistic, r.pvalue)
    pair, alternative = iv
    from scipy import special

    from fastinf.kernels import ranks as K

    n_exp = pair.n1.size
    rho = np.empty(n_exp)
    constant = np.zeros(n_exp, dtype=bool)
    n = pair.n1
    cost = n * np.log2(n + 2.0) + 32.0
    K.spearman(
        pair.exps.values, pair.xlo, pair.ylo, n, pair.skip, _cost_blocks(cost),
        rho, constant,
    )
    if constant.any():
        from scipy.stats import ConstantInputWarning

        warnings.warn(
            ConstantInputWarning(
                "An input array is constant; the correlation coefficient is not "
                f"defined ({int(constant.sum())} experiment(s))."
            ),
            stacklevel=2,
        )
    dof = (n - 2).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = rho * np.sqrt((dof / ((rho + 1.0) * (1.0 - rho))).clip(0))
    if alternative == "less":
        p = special.stdtr(dof, t)
    elif alternative == "greater":
        p = special.stdtr(dof, -t)
    else:
        p = 2 * special.stdtr(dof, -np.abs(t))
    p[np.isnan(rho)] = np.nan
    return SignificanceResult(_finish(pair, rho), _finish(pair, p))


def _spearmanr_iv(
    a: Any, b: Any, axis: Any, nan_policy: Any, alternative: Any, batched: Any
) -> tuple[_Pair, str] | None:
    """Validate; ``None`` means scipy's matrix form (handed to scipy)."""
    alt = _check_alternative(alternative)
    nan_policy = check_nan_policy(nan_policy)
    ragged = isinstance(a, Ragged) or isinstance(b, Ragged)
    if ragged or batched:
        if b is None:
            raise ValueError("`b` is required for batched or Ragged input.")
        axis_int = _check_axis(0 if axis is None else axis)
        pair = _pair(a, b, axis_int, nan_policy, ("a", "b"), paired=True, min_size=0)
        _warn_few_pairs(pair, nan_policy)
        return pair, alt
    if axis is not None and _check_axis(axis) > 1:
        raise ValueError(
            "spearmanr only handles 1-D or 2-D arrays, supplied axis argument "
            f"{axis}, please use only values 0, 1 or None for axis"
        )
    a_arr = np.asarray(a)
    if b is None or a_arr.ndim > 1 or np.ndim(b) > 1:
        return None
    b_arr = np.asarray(b)
    if a_arr.ndim == 0 or b_arr.ndim == 0:
        return None
    if a_arr.shape != b_arr.shape:
        raise ValueError(
            f"`a` and `b` must have the same length; got {a_arr.size} and {b_arr.size}."
        )
    pair = _pair(a_arr.ravel(), b_arr.ravel(), 0, nan_policy, ("a", "b"), paired=True,
                 min_size=0)
    _warn_few_pairs(pair, nan_policy)
    return pair, alt


def _warn_few_pairs(pair: _Pair, nan_policy: str) -> None:
    few = (pair.n1 < 2) & ~pair.skip
    if nan_policy == "omit" and few.any():
        warnings.warn(
            f"{int(few.sum())} experiment(s) have fewer than two pairs left after "
            "omitting NaN; their results are NaN.",
            SmallSampleWarning, stacklevel=4,
        )
