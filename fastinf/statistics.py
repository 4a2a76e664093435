r"""Built-in statistics: computed inside the kernels, named as in NumPy/SciPy.

A statistic is a :class:`Statistic`: a per-sample summary (``kind``) and, for
two samples, how the two summaries combine (``combine``). Strings and NumPy
functions resolve to these, so ``statistic=np.mean``, ``statistic="mean"``
and ``statistic=fastinf.statistics.mean()`` are the same thing:

=================  ======================================  ===========
name               value                                   samples
=================  ======================================  ===========
``mean``           :math:`\bar x` (``np.mean``)            1
``sum``            :math:`\sum x` (``np.sum``)             1
``var``/``std``    ``np.var``/``np.std`` (``ddof=0``)      1
``median``         ``np.median``                           1
``quantile(q)``    ``np.quantile(x, q)``, linear           1
``trim_mean(p)``   ``scipy.stats.trim_mean(x, p)``         1
``proportion``     mean of 0/1 outcomes                    1
``mean_diff``      :math:`\bar x - \bar y`                  2
``median_diff``    ``median(x) - median(y)``               2
``mean_lift``      :math:`\bar x / \bar y - 1`             2
``ratio``          :math:`\sum x / \sum y` (paired units)   2
``ttest``          Student's t of ``ttest_ind(x, y)``      2 (permutation only)
``welch``          Welch's t, ``equal_var=False``          2 (permutation only)
``mannwhitneyu``   :math:`U_1 = R_1 - n_1(n_1+1)/2`         2 (permutation only)
``pearsonr``       Pearson's r of paired samples           2 (permutation only)
``spearmanr``      Spearman's rho of paired samples        2 (permutation only)
=================  ======================================  ===========

``difference(s)`` and ``lift(s)`` build the two-sample versions of any
one-sample statistic. The order is always "first sample against second", as
in ``scipy.stats.ttest_ind(x, y)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Statistic",
    "mean",
    "sum",
    "var",
    "std",
    "median",
    "quantile",
    "trim_mean",
    "proportion",
    "difference",
    "lift",
    "ratio",
    "ttest",
    "welch",
    "mannwhitneyu",
    "pearsonr",
    "spearmanr",
    "resolve",
]

# Codes shared with fastinf.kernels.statistics (kept in one place: here).
MEAN, SUM, VAR, STD, MEDIAN, QUANTILE, TRIM_MEAN = range(7)
ONE, DIFF, LIFT, RATIO, TTEST, WELCH, MWU, PEARSON, SPEARMAN = range(9)
_SMOOTH = (MEAN, SUM, VAR, STD)


@dataclass(frozen=True, slots=True)
class Statistic:
    """A built-in statistic the kernels compute.

    Attributes
    ----------
    name : str
        Readable name.
    kind : int
        Per-sample summary code.
    param : float
        Its parameter: ``ddof`` for var/std, ``q`` for quantile, the
        proportion cut for trim_mean.
    combine : int
        How two samples' summaries combine (``ONE`` for one sample).
    n_samples : int
        Samples the statistic takes.
    paired : bool
        Whether it needs paired units (``ratio``).
    permutation_only : bool
        Test statistics meaningful only under permutation.
    """

    name: str
    kind: int
    param: float = 0.0
    combine: int = ONE
    n_samples: int = 1
    paired: bool = False
    permutation_only: bool = False

    @property
    def smooth(self) -> bool:
        """Whether the per-sample summary is a function of moments (O(n) jackknife)."""
        return self.kind in _SMOOTH

    @property
    def has_standard_error(self) -> bool:
        """Whether a closed-form standard error exists (for studentized intervals)."""
        return self.kind in (MEAN, SUM) and self.combine in (ONE, DIFF, LIFT, RATIO)


def mean() -> Statistic:
    """The sample mean, as :func:`numpy.mean`."""
    return Statistic("mean", MEAN)


def sum() -> Statistic:  # noqa: A001 - mirrors numpy's name on purpose
    """The sample sum, as :func:`numpy.sum`."""
    return Statistic("sum", SUM)


def var(ddof: int = 0) -> Statistic:
    """The variance, as ``numpy.var(x, ddof=ddof)``."""
    return Statistic(f"var(ddof={ddof})", VAR, float(_ddof(ddof)))


def std(ddof: int = 0) -> Statistic:
    """The standard deviation, as ``numpy.std(x, ddof=ddof)``."""
    return Statistic(f"std(ddof={ddof})", STD, float(_ddof(ddof)))


def median() -> Statistic:
    """The median, as :func:`numpy.median`."""
    return Statistic("median", MEDIAN)


def quantile(q: float) -> Statistic:
    """The ``q`` quantile with linear interpolation, as ``numpy.quantile(x, q)``."""
    q = float(q)
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"`q` must be in [0, 1], got {q}.")
    return Statistic(f"quantile({q})", QUANTILE, q)


def trim_mean(proportiontocut: float) -> Statistic:
    """The trimmed mean, as ``scipy.stats.trim_mean(x, proportiontocut)``."""
    p = float(proportiontocut)
    if not 0.0 <= p < 0.5:
        raise ValueError(f"`proportiontocut` must be in [0, 0.5), got {p}.")
    return Statistic(f"trim_mean({p})", TRIM_MEAN, p)


def proportion() -> Statistic:
    """The proportion of successes in 0/1 outcomes (their mean)."""
    return Statistic("proportion", MEAN)


def difference(stat: Statistic | str) -> Statistic:
    """``stat(x) - stat(y)`` for two independent samples."""
    s = resolve(stat)
    _one_sample(s, "difference")
    return Statistic(f"{s.name}_diff", s.kind, s.param, DIFF, 2)


def lift(stat: Statistic | str) -> Statistic:
    """The relative lift ``stat(x) / stat(y) - 1``."""
    s = resolve(stat)
    _one_sample(s, "lift")
    return Statistic(f"{s.name}_lift", s.kind, s.param, LIFT, 2)


def ratio() -> Statistic:
    """The ratio of sums ``sum(x) / sum(y)`` over paired units (ratio metrics)."""
    return Statistic("ratio", SUM, 0.0, RATIO, 2, paired=True)


def ttest() -> Statistic:
    """Student's t statistic of ``scipy.stats.ttest_ind(x, y)`` (pooled variance)."""
    return Statistic("ttest", MEAN, 0.0, TTEST, 2, permutation_only=True)


def welch() -> Statistic:
    """Welch's t statistic of ``scipy.stats.ttest_ind(x, y, equal_var=False)``."""
    return Statistic("welch", MEAN, 0.0, WELCH, 2, permutation_only=True)


def mannwhitneyu() -> Statistic:
    """The Mann-Whitney U statistic of the first sample, as ``scipy.stats.mannwhitneyu``."""
    return Statistic("mannwhitneyu", MEAN, 0.0, MWU, 2, permutation_only=True)


def pearsonr() -> Statistic:
    """Pearson's correlation ``r`` of two paired samples, as ``scipy.stats.pearsonr``.

    A test of association with ``permutation_type='pairings'``.
    """
    return Statistic("pearsonr", MEAN, 0.0, PEARSON, 2, permutation_only=True)


def spearmanr() -> Statistic:
    """Spearman's rank correlation ``rho`` of two paired samples, as ``scipy.stats.spearmanr``."""
    return Statistic("spearmanr", MEAN, 0.0, SPEARMAN, 2, permutation_only=True)


def _ddof(ddof: int) -> int:
    if int(ddof) != ddof or ddof < 0:
        raise ValueError(f"`ddof` must be a non-negative integer, got {ddof}.")
    return int(ddof)


def _one_sample(s: Statistic, what: str) -> None:
    if s.n_samples != 1:
        raise ValueError(f"{what}() takes a one-sample statistic, got {s.name!r}.")


_NAMES = {
    "mean": mean,
    "sum": sum,
    "var": var,
    "std": std,
    "median": median,
    "proportion": proportion,
    "mean_diff": lambda: difference(mean()),
    "median_diff": lambda: difference(median()),
    "sum_diff": lambda: difference(sum()),
    "proportion_diff": lambda: difference(proportion()),
    "mean_lift": lambda: lift(mean()),
    "sum_lift": lambda: lift(sum()),
    "ratio": ratio,
    "ttest": ttest,
    "welch": welch,
    "mannwhitneyu": mannwhitneyu,
    "pearsonr": pearsonr,
    "spearmanr": spearmanr,
}
_FUNCTIONS = {
    np.mean: mean,
    np.sum: sum,
    np.var: var,
    np.std: std,
    np.median: median,
}


def resolve(statistic: object) -> Statistic:
    """Return the built-in :class:`Statistic` for ``statistic``.

    Raises
    ------
    KeyError
        If ``statistic`` is neither a :class:`Statistic`, a known name, nor a
        NumPy function fastinf computes in its kernels.
    """
    if isinstance(statistic, Statistic):
        return statistic
    if isinstance(statistic, str):
        if statistic not in _NAMES:
            raise ValueError(
                f"unknown statistic {statistic!r}; built-in names are "
                f"{sorted(_NAMES)}, or pass fastinf.statistics.quantile(q), "
                "trim_mean(p), difference(s), lift(s), an @njit function or "
                "any callable."
            )
        return _NAMES[statistic]()
    try:
        factory = _FUNCTIONS.get(statistic)  # type: ignore[call-overload]
    except TypeError:  # unhashable callables
        factory = None
    if factory is None:
        raise KeyError(statistic)
    return factory()


# ---------------------------------------------------------------- user @njit

_USER_CACHE: dict[tuple[int, int], Any] = {}


def user_function(statistic: object, n_samples: int) -> Any:
    """A first-class function for an ``@numba.njit`` statistic, or ``None``.

    A user statistic takes ``n_samples`` 1-D float64 arrays and returns a
    float (``f(x)`` or ``f(x, y)``; no ``axis``). It is wrapped in a
    :func:`numba.cfunc` of signature ``float64(array, ...)``, which the
    kernels take as an argument of ``FunctionType``: the kernels are then
    compiled and cached once for every user function, and only the small
    wrapper is compiled per function (once per process). Returns ``None``
    when ``statistic`` is not a Numba dispatcher, or does not compile for
    that signature (the caller then hands it to scipy).
    """
    if n_samples not in (1, 2):
        return None
    try:
        from numba.core.registry import CPUDispatcher
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    if not isinstance(statistic, CPUDispatcher):
        return None
    key = (id(statistic), n_samples)
    cached = _USER_CACHE.get(key)
    if cached is not None and cached[0] is statistic:
        return cached[1]
    import numba
    from numba import types

    arr = types.Array(types.float64, 1, "A")
    sig = types.float64(*([arr] * n_samples))
    try:
        wrapped = numba.cfunc(sig)(_guard(statistic, n_samples))
    except Exception:  # typing errors of the user's function: scipy decides
        return None
    _USER_CACHE[key] = (statistic, wrapped)
    return wrapped


# A C function cannot raise: an exception in a user statistic is caught in
# jitted code and returned as this NaN payload, which the public functions
# look for (count_raised) and turn back into an error.
RAISED = np.uint64(0x7FF8DEADBEEF0001)


def _guard(statistic: Any, n_samples: int) -> Any:
    import numba

    # Jitted per user function (it closes over it); only this small wrapper
    # and its cfunc are compiled per function, never the kernels.
    if n_samples == 1:

        def guarded1(x):  # type: ignore[no-untyped-def]
            try:
                return np.float64(statistic(x))
            except Exception:
                return np.array([RAISED]).view(np.float64)[0]

        return numba.njit(guarded1)

    def guarded2(x, y):  # type: ignore[no-untyped-def]
        try:
            return np.float64(statistic(x, y))
        except Exception:
            return np.array([RAISED]).view(np.float64)[0]

    return numba.njit(guarded2)


def count_raised(*arrays: np.ndarray) -> int:
    """How many values in ``arrays`` are a user statistic's caught exception."""
    total = 0
    for a in arrays:
        bits = np.ascontiguousarray(a, dtype=np.float64).view(np.uint64)
        total += int(np.count_nonzero(bits == RAISED))
    return total


def _nan1(x):  # type: ignore[no-untyped-def]
    return np.nan


def _nan2(x, y):  # type: ignore[no-untyped-def]
    return np.nan


def placeholder(n_samples: int) -> Any:
    """A do-nothing first-class function filling the unused slot of a kernel."""
    import numba

    cached = _USER_CACHE.get((0, n_samples))
    if cached is None:
        f = numba.njit(_nan1 if n_samples == 1 else _nan2)
        cached = (None, user_function(f, n_samples))
        _USER_CACHE[(0, n_samples)] = cached
    return cached[1]
