"""Permutation tests: :func:`scipy.stats.permutation_test`, compiled and batched.

A permutation test compares a statistic of the data with its distribution
over rearrangements of the data that the null hypothesis says are equally
likely: group labels (``'independent'``), the sample each paired observation
belongs to (``'samples'``; sign flips for one sample) or the pairing of
observations across samples (``'pairings'``). When there are few enough
distinct arrangements, every one is visited once (an exact test); otherwise
``n_resamples`` are drawn at random.

fastinf computes the built-in statistics of :mod:`fastinf.statistics` (and
the correlations :func:`~fastinf.statistics.pearsonr` and
:func:`~fastinf.statistics.spearmanr`), as well
as a user's ``@numba.njit`` statistic of 1-D samples, inside Numba kernels
(:mod:`fastinf.kernels.permutation`): in parallel, over many experiments at
once, with every resample addressed by ``(seed, experiment, resample)`` so
that results never depend on the thread count or ``batch``. Any other
callable is handed to :func:`scipy.stats.permutation_test` itself.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from fastinf.kernels import permutation as _k
from fastinf.ragged import Experiments, standardize
from fastinf.rng import as_seed
from fastinf.statistics import (
    DIFF,
    LIFT,
    MEAN,
    MWU,
    ONE,
    PEARSON,
    RATIO,
    SPEARMAN,
    STD,
    SUM,
    TTEST,
    WELCH,
    Statistic,
    count_raised,
    pearsonr,
    placeholder,
    resolve,
    spearmanr,
    user_function,
)

__all__ = ["PermutationTestResult", "permutation_test", "pearsonr", "spearmanr"]

_TYPES = {"independent": _k.INDEPENDENT, "samples": _k.SAMPLES, "pairings": _k.PAIRINGS}
_TYPES_TEXT = "{'independent', 'pairings', 'samples'}"
_ALTERNATIVES = ("two-sided", "less", "greater")
_ALTERNATIVES_TEXT = "{'greater', 'less', 'two-sided'}"
# scipy's relative tolerance for ties with the observed value (float64).
_RTOL = 100 * np.finfo(np.float64).eps


@dataclass(frozen=True, slots=True)
class PermutationTestResult:
    """Result of :func:`permutation_test`.

    Attributes
    ----------
    statistic : float or ndarray
        The observed statistic of each experiment (batch shape).
    pvalue : float or ndarray
        The p-value for the given alternative (batch shape).
    null_distribution : ndarray
        The statistic under the rearrangements, shape ``(n,) + batch_shape``
        as in scipy: the *first* axis runs over resamples (``(n, E)`` for
        Ragged data). ``n`` is the largest number of resamples of any
        experiment; an experiment with fewer (an exact test with fewer
        arrangements than the others) is padded with NaN.
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    null_distribution: np.ndarray




def permutation_test(
    data: Sequence[Any],
    statistic: Any,
    *,
    permutation_type: str = "independent",
    vectorized: bool | None = None,
    n_resamples: float = 9999,
    batch: int | None = None,
    alternative: str = "two-sided",
    axis: int = 0,
    rng: Any = None,
    nan_policy: str = "propagate",
) -> PermutationTestResult:
    r"""Permutation test of a statistic, a drop-in for :func:`scipy.stats.permutation_test`.

    Parameters
    ----------
    data : sequence of array_like or of Ragged
        The samples. N-D arrays hold one experiment per position along the
        axes other than `axis` (they broadcast, as in scipy);
        :class:`fastinf.Ragged` samples hold one experiment per row.
    statistic : str, Statistic, numba dispatcher or callable
        A built-in statistic, by name (``'mean_diff'``, ``'median_diff'``,
        ``'mean_lift'``, ``'ttest'``, ``'welch'``, ``'mannwhitneyu'``,
        ``'mean'``, ``'pearsonr'``, ``'spearmanr'``, ...), as a
        :class:`fastinf.statistics.Statistic` (e.g.
        ``fastinf.statistics.difference(fastinf.statistics.quantile(0.9))``)
        or as a NumPy function (``np.mean``). Or an ``@numba.njit`` function
        of 1-D float64 samples returning a float (``f(x, y)``, or ``f(x)``
        for one sample), run inside the kernels. Any other callable is
        passed, with all arguments, to :func:`scipy.stats.permutation_test`.
    permutation_type : {'independent', 'samples', 'pairings'}, optional
        What the null hypothesis makes exchangeable: group labels
        (``'independent'``, the default), the sample each of a set of paired
        observations belongs to (``'samples'``; with one sample, its signs),
        or the pairing of observations across samples (``'pairings'``).
    vectorized : bool, optional
        As in scipy; used only when `statistic` goes to scipy (an ``@njit``
        statistic with ``vectorized=True`` goes to scipy too).
    n_resamples : int or np.inf, default: 9999
        Random rearrangements to draw. If at least the number of distinct
        arrangements of an experiment, that experiment's test is exact.
    batch : int, optional
        Resamples computed per kernel call. Results do not depend on it;
        memory does not either (the null distribution is returned whole).
    alternative : {'two-sided', 'less', 'greater'}, optional
        The alternative hypothesis.
    axis : int, default: 0
        The observation axis of N-D samples.
    rng : None, int or numpy.random.Generator, optional
        The random source (see :func:`fastinf.rng.as_seed`).
    nan_policy : {'propagate', 'omit', 'raise'}, optional
        ``'propagate'``: an experiment with NaN gets NaN results;
        ``'omit'``: NaN are dropped (for the paired types, the whole unit);
        ``'raise'``: NaN raise ``ValueError``.

    Returns
    -------
    PermutationTestResult
        ``statistic`` and ``pvalue`` with the batch shape (scalars for one
        experiment), ``null_distribution`` of shape ``(n,) + batch_shape``
        (resamples first, as in scipy).

    Raises
    ------
    ValueError
        For invalid arguments, with scipy's messages where scipy has them.

    Notes
    -----
    With :math:`t` the observed statistic, :math:`t_1, \dots, t_B` the null
    distribution and :math:`\gamma = 100\,\epsilon\,|t|` scipy's tolerance for
    values equal to :math:`t` up to rounding (:math:`\epsilon` the float64
    machine epsilon), the p-values are

    .. math::

        p_\le = \frac{\#\{b : t_b \le t + \gamma\} + a}{B + a}, \qquad
        p_\ge = \frac{\#\{b : t_b \ge t - \gamma\} + a}{B + a}, \qquad
        p_{\ne} = \min(1, 2 \min(p_\le, p_\ge)),

    for ``'less'``, ``'greater'`` and ``'two-sided'``, with :math:`a = 0` for
    an exact test (:math:`B` is then the number of distinct arrangements) and
    :math:`a = 1` for a randomised one, which counts the observed
    arrangement among the resamples so that the p-value is never zero and
    the test is valid [2]_.

    A test is exact when ``n_resamples`` is at least the number of distinct
    arrangements, counted as scipy counts them: :math:`\binom{n_0 + n_1}{n_0}`
    for ``'independent'``, :math:`(n!)^m` for ``'pairings'`` with ``m``
    samples of ``n``, :math:`(m!)^n` for ``'samples'`` (one sample counts as
    two: :math:`2^n` sign patterns). It is decided per experiment.

    Differences from scipy: each experiment of a batch draws its own
    resamples, from a stream keyed by its index, where scipy applies one set
    of permutations to the whole batch; the results are bit-identical
    whatever the number of threads or `batch`, but not equal to scipy's
    draws. An ``@njit`` statistic runs through a C function pointer; an
    exception it raises is caught there and reported as a ``ValueError``.

    References
    ----------
    .. [1] SciPy, ``scipy.stats.permutation_test``,
       https://docs.scipy.org/doc/scipy/reference/generated/scipy.stats.permutation_test.html
    .. [2] B. Phipson and G. K. Smyth, "Permutation P-values Should Never Be
       Zero: Calculating Exact P-values When Permutations Are Randomly
       Drawn", Statistical Applications in Genetics and Molecular Biology
       9(1), 2010.
    .. [3] M. D. Ernst, "Permutation Methods: A Basis for Exact Inference",
       Statistical Science 19(4), 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf import permutation_test
    >>> x = np.array([0.3, 1.2, -0.4, 0.9, 1.5])
    >>> y = np.array([1.9, 2.2, 1.1, 2.6])
    >>> res = permutation_test((x, y), "mean_diff", alternative="less")
    >>> res.null_distribution.shape  # exact: comb(9, 4) partitions
    (126,)
    >>> print(f"{res.pvalue:.4f}")  # 3 of the 126 as extreme, as scipy finds
    0.0238
    """
    if isinstance(data, np.ndarray) and data.ndim >= 2:
        data = tuple(data)  # as scipy: the rows of an array are the samples
    iv = _permutation_test_iv(
        data, statistic, permutation_type, vectorized, n_resamples, batch,
        alternative, axis, rng, nan_policy,
    )
    if iv.statistic is None:
        return _scipy_fallback(data, statistic, iv)
    return _kernel_test(iv)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Validated:
    experiments: Experiments
    statistic: Statistic | None  # None: hand to scipy
    user: int
    functions: tuple[Any, Any]
    ptype: int
    permutation_type: str
    vectorized: bool | None
    n_resamples: float
    batch: int | None
    alternative: str
    axis: int
    rng: Any
    seed: np.uint64 | None
    nan_policy: str


def _permutation_test_iv(
    data: Any, statistic: Any, permutation_type: Any, vectorized: Any,
    n_resamples: Any, batch: Any, alternative: Any, axis: Any, rng: Any,
    nan_policy: Any,
) -> _Validated:
    """Validate every argument and standardise ``data``."""
    try:
        axis_int = int(axis)
    except (TypeError, ValueError):
        raise ValueError("`axis` must be an integer.") from None
    if axis != axis_int:
        raise ValueError("`axis` must be an integer.")

    ptype_name = permutation_type.lower() if isinstance(permutation_type, str) else None
    if ptype_name not in _TYPES:
        raise ValueError(f"`permutation_type` must be in {_TYPES_TEXT}.")
    ptype = _TYPES[ptype_name]

    if vectorized not in (True, False, None):
        raise ValueError("`vectorized` must be `True`, `False`, or `None`.")

    message = "`data` must be a tuple containing at least two samples"
    try:
        n_data = len(data)
    except TypeError:
        raise TypeError(message) from None
    if n_data < 2 and ptype == _k.INDEPENDENT:
        raise ValueError(message)

    try:
        n_res = n_resamples if math.isinf(n_resamples) else int(n_resamples)
    except (TypeError, ValueError, OverflowError):
        n_res = None
    if n_res is None or n_resamples != n_res or n_res <= 0:
        raise ValueError("`n_resamples` must be a positive integer.")

    if batch is not None:
        try:
            batch_int = int(batch)
        except (TypeError, ValueError, OverflowError):
            batch_int = 0
        if batch != batch_int or batch_int <= 0:
            raise ValueError("`batch` must be a positive integer or None.")
        batch = batch_int

    alt = alternative.lower() if isinstance(alternative, str) else None
    if alt not in _ALTERNATIVES:
        raise ValueError(f"`alternative` must be in {_ALTERNATIVES_TEXT}")

    stat, user, functions = _resolve_statistic(statistic, n_data, vectorized)
    if stat is not None and stat.n_samples != n_data:
        raise ValueError(
            f"statistic {stat.name!r} takes {stat.n_samples} sample(s), but "
            f"`data` has {n_data}."
        )
    paired = ptype != _k.INDEPENDENT or (
        stat is not None and stat.combine in (PEARSON, SPEARMAN)
    )
    reason = (
        f"With permutation_type={ptype_name!r}" if ptype != _k.INDEPENDENT
        else f"Statistic {stat.name!r} pairs observations" if stat is not None
        else ""
    )
    experiments = standardize(
        data, axis=axis_int, paired=paired, nan_policy=nan_policy, min_size=2,
        paired_reason=reason,
    )
    # scipy validates rng itself on the fallback path; don't advance it here.
    seed = as_seed(rng) if stat is not None else None
    return _Validated(
        experiments, stat, user, functions, ptype, ptype_name, vectorized,
        n_res, batch, alt, axis_int, rng, seed, nan_policy,
    )


def _placeholders() -> tuple[Any, Any]:
    return placeholder(1), placeholder(2)


def _n_positional(func: Any) -> int | None:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.name == "axis" for p in params):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(p.kind in kinds for p in params)


def _resolve_statistic(
    statistic: Any, n_data: int, vectorized: bool | None
) -> tuple[Statistic | None, int, tuple[Any, Any]]:
    """The kernels' statistic, the user function's arity, and the function arguments."""
    if isinstance(statistic, str):
        return resolve(statistic), _k.NO_USER, _placeholders()
    if isinstance(statistic, Statistic):
        return statistic, _k.NO_USER, _placeholders()
    if not callable(statistic):
        raise TypeError(
            "`statistic` must be callable or the name of a built-in statistic; "
            f"got {type(statistic).__name__}."
        )
    try:
        return resolve(statistic), _k.NO_USER, _placeholders()
    except KeyError:
        pass
    py_func = getattr(statistic, "py_func", None)  # a Numba dispatcher's
    if py_func is not None and vectorized is not True:
        n_args = _n_positional(py_func)
        if n_args == n_data and n_args in (1, 2):
            # a cfunc the kernels take as a FunctionType argument: they are
            # compiled once for all user functions; None if it does not
            # compile for 1-D float64 samples (scipy then runs it)
            fn = user_function(statistic, n_args)
            if fn is not None:
                one, two = _placeholders()
                functions = (fn, two) if n_args == 1 else (one, fn)
                user = _k.USER_ONE if n_args == 1 else _k.USER_TWO
                # kind and combine are unused for a user function; n_samples
                # records its arity.
                stat = Statistic(getattr(statistic, "__name__", "njit"), MEAN,
                                 0.0, ONE if n_args == 1 else DIFF, n_args)
                return stat, user, functions
    return None, _k.NO_USER, _placeholders()


# --------------------------------------------------------------------------
# The kernel path
# --------------------------------------------------------------------------


def _log_count(ptype: int, sizes: tuple[int, ...]) -> float:
    """Natural log of the number of distinct arrangements (as scipy counts them)."""
    m = len(sizes)
    if ptype == _k.INDEPENDENT:
        return math.lgamma(sum(sizes) + 1) - sum(math.lgamma(s + 1) for s in sizes)
    if ptype == _k.PAIRINGS:
        return m * math.lgamma(sizes[0] + 1)
    return sizes[0] * math.lgamma(max(m, 2) + 1)


def _count(ptype: int, sizes: tuple[int, ...]) -> int:
    """The number of distinct arrangements, exactly as scipy computes ``n_max``."""
    if ptype == _k.INDEPENDENT:
        cum = np.cumsum((0,) + sizes).tolist()
        return math.prod(math.comb(n, k) for n, k in zip(cum[1:], cum[:-1], strict=True))
    if ptype == _k.PAIRINGS:
        return math.factorial(sizes[0]) ** len(sizes)
    return math.factorial(max(len(sizes), 2)) ** sizes[0]


def _exact_count(ptype: int, sizes: tuple[int, ...], n_resamples: float) -> int | None:
    """``n_max`` if the test is exact (``n_max <= n_resamples``), else None."""
    cap = min(n_resamples, _k.MAX_EXACT)
    if _log_count(ptype, sizes) > math.log(cap) + 1.0:
        if n_resamples > _k.MAX_EXACT:
            raise ValueError(
                f"an exact test of samples of sizes {list(sizes)} would enumerate "
                f"more than 2**62 arrangements; pass a finite `n_resamples` for "
                "a randomised test."
            )
        return None
    n_max = _count(ptype, sizes)
    if n_max > n_resamples:
        return None
    if n_max > _k.MAX_EXACT:
        raise ValueError(
            f"an exact test of samples of sizes {list(sizes)} would enumerate "
            f"{n_max} > 2**62 arrangements; pass a smaller `n_resamples`."
        )
    return n_max


def _plan(
    ptype: int, sizes: np.ndarray, skip: np.ndarray, n_resamples: float
) -> tuple[np.ndarray, np.ndarray]:
    """Resamples per experiment and whether each is exact."""
    n_exp = sizes.shape[1]
    n_used = np.zeros(n_exp, dtype=np.int64)
    exact = np.zeros(n_exp, dtype=np.bool_)
    memo: dict[tuple[int, ...], int | None] = {}
    for e in range(n_exp):
        if skip[e]:
            continue
        key = tuple(int(s) for s in sizes[:, e])
        if key not in memo:
            memo[key] = _exact_count(ptype, key, n_resamples)
        n_max = memo[key]
        if n_max is None:
            n_used[e] = int(n_resamples)
        else:
            n_used[e] = n_max
            exact[e] = True
    return n_used, exact


def _binomial_table(sizes: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """``comb(m, j)`` for the exact independent experiments, saturated at 2**62.

    Entries the unranking reads are at most the experiment's own count, so
    saturation never changes a value that is used.
    """
    if not exact.any():
        return np.zeros((1, 1), dtype=np.int64)
    n = sizes[:, exact].sum(axis=0)
    k = sizes[:, exact].min(axis=0)
    big_n, big_k = int(n.max()), int(k.max())
    table = np.zeros((big_n + 1, big_k + 1), dtype=np.int64)
    row = [1] + [0] * big_k
    for m in range(big_n + 1):
        table[m] = row
        row = [1] + [min(row[j - 1] + row[j], _k.MAX_EXACT) for j in range(1, big_k + 1)]
    return table


def _schedule(
    counts: np.ndarray, cost: np.ndarray, n_chunks: int
) -> tuple[np.ndarray, np.ndarray]:
    """Experiment-major task offsets, and chunk bounds of equal total cost.

    ``counts[e]`` tasks of cost ``cost[e]`` each; returns ``task_start``
    (``E + 1``) and ``bounds`` (``n_chunks + 1``, non-decreasing).
    """
    task_start = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=task_start[1:])
    total = int(task_start[-1])
    weight = np.zeros(counts.size + 1)
    np.cumsum(counts * cost, out=weight[1:])
    targets = weight[-1] * np.arange(1, n_chunks) / n_chunks
    e = np.minimum(np.searchsorted(weight, targets, side="right") - 1, counts.size - 1)
    within = np.ceil((targets - weight[e]) / cost[e]).astype(np.int64)
    inner = task_start[e] + np.clip(within, 0, counts[e])
    bounds = np.concatenate(([0], inner, [total])).astype(np.int64)
    return task_start, np.maximum.accumulate(bounds)


_FACTORIALS = np.array([math.factorial(i) for i in range(21)], dtype=np.int64)


def _kernel_test(iv: _Validated) -> PermutationTestResult:
    exps = iv.experiments
    stat = iv.statistic
    assert stat is not None and iv.seed is not None
    kind, param, how = int(stat.kind), float(stat.param), int(stat.combine)
    user = iv.user
    f1, f2 = iv.functions
    ptype = iv.ptype
    values, offsets = exps.values, exps.offsets
    skip = exps.nan_experiments
    sizes = exps.sizes()
    n_exp = exps.n_experiments

    if user == _k.NO_USER and how == MWU:
        values = _k.rank_transform(values, offsets, True)
    elif user == _k.NO_USER and how == SPEARMAN and ptype == _k.PAIRINGS:
        # within-sample permutations keep each sample's ranks
        values = _k.rank_transform(values, offsets, False)
        how = PEARSON

    if ptype == _k.INDEPENDENT:
        fast = user == _k.NO_USER and (
            how in (TTEST, WELCH, MWU)
            or (kind <= STD and how in (DIFF, LIFT, RATIO))
        )
    elif ptype == _k.SAMPLES:
        fast = user == _k.NO_USER and kind in (MEAN, SUM) and how in (ONE, DIFF)
    else:
        fast = False
    # The fast paths get one group's sums as total minus the other's, which
    # turns inf - inf into NaN: with infinite data, recompute each group.
    fast = fast and not np.isinf(values).any()

    n_used, exact = _plan(ptype, sizes, skip, iv.n_resamples)
    if (~skip).any():
        length = int(n_used.max())
    else:
        length = 0 if math.isinf(iv.n_resamples) else int(iv.n_resamples)

    obs = np.empty(n_exp)
    _k.observed(values, offsets, ptype, kind, param, how, user, f1, f2, fast, skip, obs)

    null = np.full((n_exp, length), np.nan)
    binom = _binomial_table(sizes, exact) if ptype == _k.INDEPENDENT else None
    cost = sizes.sum(axis=0).astype(np.float64) + 8.0
    block = iv.batch or max(length, 1)
    n_threads = numba.get_num_threads()
    for first in range(0, length, block):
        counts = np.clip(n_used - first, 0, block)
        total = int(counts.sum())
        if total == 0:
            continue
        task_start, bounds = _schedule(counts, cost, min(total, 4 * n_threads))
        if ptype == _k.INDEPENDENT:
            _k.null_independent(
                values, offsets, iv.seed, first, task_start, bounds, exact, binom,
                kind, param, how, user, f1, f2, fast, null,
            )
        elif ptype == _k.SAMPLES:
            _k.null_samples(
                values, offsets, iv.seed, first, task_start, bounds, exact,
                kind, param, how, user, f1, f2, fast, null,
            )
        else:
            _k.null_pairings(
                values, offsets, iv.seed, first, task_start, bounds, exact,
                _FACTORIALS, kind, param, how, user, f1, f2, null,
            )

    if user != _k.NO_USER and count_raised(obs[~skip], null[~skip]):
        # a C function pointer cannot raise: see fastinf.statistics.RAISED
        raise ValueError(
            f"`statistic` raised an exception on {count_raised(obs[~skip], null[~skip])} "
            "arrangement(s); call it on the data directly to see the error."
        )
    pvalue = _pvalues(null, obs, n_used, exact, iv.alternative)
    pvalue[skip] = np.nan
    return _result(exps, obs, pvalue, null)


def _result(
    exps: Experiments, obs: np.ndarray, pvalue: np.ndarray, null: np.ndarray
) -> PermutationTestResult:
    # scipy's layout: resamples on the first axis, then the batch shape
    return PermutationTestResult(
        exps.reshape(obs), exps.reshape(pvalue), np.moveaxis(exps.reshape(null), -1, 0)
    )


def _pvalues(
    null: np.ndarray, observed: np.ndarray, n_used: np.ndarray, exact: np.ndarray,
    alternative: str,
) -> np.ndarray:
    """P-values as scipy computes them, per experiment; NaN padding never counts."""
    adjustment = np.where(exact, 0, 1)  # Phipson & Smyth (2010): +1 when randomised
    denominator = (n_used + adjustment).astype(np.float64)
    gamma = np.abs(_RTOL * observed)

    def less() -> np.ndarray:
        count = np.count_nonzero(null <= (observed + gamma)[:, None], axis=-1)
        return (count + adjustment) / denominator

    def greater() -> np.ndarray:
        count = np.count_nonzero(null >= (observed - gamma)[:, None], axis=-1)
        return (count + adjustment) / denominator

    with np.errstate(invalid="ignore"):  # an infinite statistic: inf - inf, as in scipy
        if alternative == "less":
            p = less()
        elif alternative == "greater":
            p = greater()
        else:
            p = np.minimum(less(), greater()) * 2
    return np.clip(p, 0.0, 1.0)


# --------------------------------------------------------------------------
# Any other callable: scipy itself
# --------------------------------------------------------------------------


def _scipy_fallback(data: Any, statistic: Any, iv: _Validated) -> PermutationTestResult:
    """Run :func:`scipy.stats.permutation_test` and wrap its result.

    N-D input goes to scipy in one call (scipy then shares its permutations
    across the batch). Ragged input, and N-D input from which ``'omit'``
    removed NaN, are tested one experiment at a time with one generator.
    Experiments that ``nan_policy='propagate'`` marks get NaN results.
    """
    from scipy import stats

    exps = iv.experiments
    kwargs = {
        "permutation_type": iv.permutation_type,
        "vectorized": iv.vectorized,
        "n_resamples": iv.n_resamples,
        "batch": iv.batch,
        "alternative": iv.alternative,
    }
    ragged = exps.shape is None
    if not ragged:
        lengths = [np.shape(s)[iv.axis] for s in data]
        removed = exps.values.size != exps.n_experiments * sum(lengths)
    if not ragged and not removed:
        res = stats.permutation_test(data, statistic, axis=iv.axis, rng=iv.rng, **kwargs)
        obs = np.array(res.statistic, dtype=np.float64).reshape(-1)
        pvalue = np.array(res.pvalue, dtype=np.float64).reshape(-1)
        null = np.moveaxis(np.asarray(res.null_distribution, dtype=np.float64), 0, -1)
        null = np.ascontiguousarray(null).reshape(exps.n_experiments, -1)
    else:
        gen = iv.rng
        if not isinstance(gen, (np.random.Generator, np.random.RandomState)):
            gen = np.random.default_rng(gen)
        rows: list[Any] = []
        for e in range(exps.n_experiments):
            if exps.nan_experiments[e]:
                rows.append(None)
                continue
            samples = [exps.sample(j, e) for j in range(exps.n_samples)]
            rows.append(stats.permutation_test(samples, statistic, axis=-1, rng=gen, **kwargs))
        length = max((r.null_distribution.size for r in rows if r is not None), default=0)
        obs = np.full(exps.n_experiments, np.nan)
        pvalue = np.full(exps.n_experiments, np.nan)
        null = np.full((exps.n_experiments, length), np.nan)
        for e, r in enumerate(rows):
            if r is not None:
                obs[e] = r.statistic
                pvalue[e] = r.pvalue
                null[e, : r.null_distribution.size] = r.null_distribution
    mask = exps.nan_experiments
    obs[mask] = np.nan
    pvalue[mask] = np.nan
    null[mask] = np.nan
    return _result(exps, obs, pvalue, null)

