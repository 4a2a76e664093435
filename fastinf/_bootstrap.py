"""Bootstrap confidence intervals: a drop-in for :func:`scipy.stats.bootstrap`.

``fastinf.bootstrap`` takes scipy's arguments and returns scipy's result
fields. Built-in statistics (:mod:`fastinf.statistics`, or ``np.mean``,
``np.median``, ...) run inside compiled kernels, in parallel over resamples
and experiments; any other callable is handed to scipy itself, so swapping
the import never breaks a call.

Beyond scipy: the studentized (bootstrap-t) interval, the Poisson bootstrap,
``nan_policy``, and batches of many experiments (N-D arrays, or
:class:`~fastinf.Ragged` experiments of different sizes), each experiment
with its own random stream.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from fastinf.ragged import Experiments, Ragged, standardize
from fastinf.rng import as_seed
from fastinf.statistics import Statistic, count_raised, placeholder, resolve, user_function

__all__ = [
    "bootstrap",
    "poisson_partial_sums",
    "BootstrapResult",
    "ConfidenceInterval",
    "DegenerateDataWarning",
]

_METHODS = ("percentile", "basic", "bca", "studentized")
_ALTERNATIVES = ("two-sided", "less", "greater")
_RESAMPLINGS = ("multinomial", "poisson")


class DegenerateDataWarning(RuntimeWarning):
    """The interval could not be computed for some experiment (e.g. a constant distribution)."""


class ConfidenceInterval(NamedTuple):
    """A confidence interval, as scipy's ``ConfidenceInterval``."""

    low: Any
    high: Any


@dataclass(frozen=True, slots=True)
class BootstrapResult:
    """Result of :func:`bootstrap`, with the fields of scipy's ``BootstrapResult``.

    Attributes
    ----------
    confidence_interval : ConfidenceInterval
        ``low`` and ``high``: floats, or arrays of the batch shape.
    bootstrap_distribution : ndarray
        The statistic of each resample; the last axis runs over resamples.
    standard_error : float or ndarray
        The sample standard deviation (``ddof=1``) of the bootstrap
        distribution.
    """

    confidence_interval: ConfidenceInterval
    bootstrap_distribution: np.ndarray
    standard_error: Any


def bootstrap(
    data: Sequence[Any],
    statistic: Any,
    *,
    n_resamples: int = 9999,
    batch: int | None = None,
    vectorized: bool | None = None,
    paired: bool = False,
    axis: int = 0,
    confidence_level: float = 0.95,
    alternative: str = "two-sided",
    method: str = "BCa",
    bootstrap_result: Any = None,
    rng: Any = None,
    resampling: str = "multinomial",
    nan_policy: str = "propagate",
) -> BootstrapResult:
    r"""Compute a two-sided bootstrap confidence interval of a statistic.

    Same arguments and result as :func:`scipy.stats.bootstrap`, plus
    ``resampling``, ``nan_policy`` and :class:`~fastinf.Ragged` samples.

    Parameters
    ----------
    data : sequence of array_like or Ragged
        The samples. Array samples hold experiments along every axis but
        ``axis`` (broadcast as in scipy); :class:`~fastinf.Ragged` samples
        hold one experiment per row, of any sizes.
    statistic : str, Statistic, NumPy function or callable
        A built-in (``"mean"``, ``np.median``, ``"mean_diff"``,
        ``fastinf.statistics.quantile(0.9)``, ...; see
        :mod:`fastinf.statistics`) runs in the kernels. Any other callable is
        passed to :func:`scipy.stats.bootstrap` (per experiment for ragged
        data), with the same result type.
    n_resamples : int, default 9999
        Resamples per experiment.
    batch : int or None
        Accepted for scipy compatibility. Built-in statistics never
        materialise resamples, so it changes neither memory nor results.
    vectorized : bool or None
        Passed to scipy for callables it handles.
    paired : bool, default False
        Resample units (observation ``i`` of every sample) together.
    axis : int, default 0
        The observation axis of array samples.
    confidence_level : float, default 0.95
        In (0, 1).
    alternative : {'two-sided', 'less', 'greater'}
        One-sided intervals put ``-inf`` (``'less'``) or ``inf``
        (``'greater'``) on the open side, as scipy.
    method : {'BCa', 'percentile', 'basic', 'studentized'}
        Case-insensitive. ``'studentized'`` (bootstrap-t, absent from scipy)
        needs a statistic with a closed-form standard error: mean, sum,
        proportion, their differences and lifts, and ratio of sums.
    bootstrap_result : BootstrapResult, optional
        A previous result: its distribution is extended by ``n_resamples``
        new resamples. With the same seed, extending a result of ``a``
        resamples by ``b`` equals one call with ``a + b``.
    rng : None, int or numpy.random.Generator
        The random source, as in scipy.
    resampling : {'multinomial', 'poisson'}
        ``'multinomial'`` draws ``n`` observations with replacement (scipy's
        bootstrap); ``'poisson'`` weights each unit by an independent
        Poisson(1) count, which can be computed on partitions and merged.
    nan_policy : {'propagate', 'omit', 'raise'}
        NaN makes an experiment's result NaN, is left out, or raises.

    Returns
    -------
    BootstrapResult

    Notes
    -----
    With :math:`\hat\theta^*_b` the resampled statistics,
    :math:`\alpha = (1 - \text{level})/2` (two-sided) and :math:`q_p` the
    linearly interpolated ``p`` quantile of the distribution, the intervals
    are [1]_:

    - percentile: :math:`[q_\alpha, q_{1-\alpha}]`;
    - basic: :math:`[2\hat\theta - q_{1-\alpha}, 2\hat\theta - q_\alpha]`;
    - BCa: :math:`[q_{\alpha_1}, q_{\alpha_2}]` with
      :math:`\alpha_{1,2} = \Phi\big(\hat z_0 + \frac{\hat z_0 + z_{\alpha,1-\alpha}}
      {1 - \hat a(\hat z_0 + z_{\alpha,1-\alpha})}\big)`, bias
      :math:`\hat z_0 = \Phi^{-1}(\#\{\hat\theta^* < \hat\theta\}/B +
      \#\{\hat\theta^* = \hat\theta\}/2B)` and acceleration
      :math:`\hat a = \sum_j \sum_i U_{ji}^3 / n_j^3 \,/\,
      6 (\sum_j \sum_i U_{ji}^2/n_j^2)^{3/2}` from the jackknife values
      :math:`U_{ji} = (n_j - 1)(\bar\theta_{j\cdot} - \hat\theta_{j(i)})`
      ([1]_ eq. 14.15, 15.36; scipy's multi-sample form);
    - studentized: :math:`[\hat\theta - t^*_{1-\alpha}\hat{se},
      \hat\theta - t^*_{\alpha}\hat{se}]` with
      :math:`t^*_b = (\hat\theta^*_b - \hat\theta)/\hat{se}^*_b` ([1]_ 12.5).

    The jackknife costs O(n) per sample for smooth statistics (one term
    removed from the moments) and O(n log n) for order statistics (one sort,
    then each reduced order statistic in O(1)); scipy's is O(n^2). A user
    ``@njit`` statistic gets the general O(n^2) jackknife.

    Unlike scipy, which draws one set of resample indices for a whole batch,
    every experiment gets its own random stream, keyed by its index in the
    batch: its results depend on the seed and that index only, not on the
    other experiments' data, on ``batch``, or on the number of threads.
    Extending a result with ``bootstrap_result`` reproduces one longer call
    when ``rng`` is the same integer seed. A resample of Poisson weights that
    are all zero (probability :math:`e^{-n}`) is redrawn.

    References
    ----------
    .. [1] B. Efron and R. J. Tibshirani, *An Introduction to the
       Bootstrap*, Chapman & Hall/CRC, 1993.
    .. [2] J. A. Hanley and B. MacGibbon, "Creating non-parametric bootstrap
       samples using Poisson frequencies", Computer Methods and Programs in
       Biomedicine 83 (2006).

    Examples
    --------
    >>> import numpy as np
    >>> import fastinf
    >>> x = np.random.default_rng(0).normal(size=1000)
    >>> res = fastinf.bootstrap((x,), np.mean, n_resamples=999, rng=1)
    >>> bool(res.confidence_interval.low < 0 < res.confidence_interval.high)
    True
    """
    if isinstance(data, np.ndarray) and data.ndim >= 2:
        data = tuple(data)  # as scipy: the rows of an array are the samples
    args = _bootstrap_iv(
        data, statistic, n_resamples, batch, vectorized, paired, confidence_level,
        alternative, method, bootstrap_result, resampling, nan_policy,
    )
    stat, method, alternative, n_resamples = args
    user = None if stat is not None else user_function(statistic, len(data))
    if user is not None:
        exps = standardize(data, axis=axis, paired=paired, nan_policy=nan_policy)
        _check_size(exps, resampling)
        return _bootstrap_user(
            exps, user, n_resamples, paired, confidence_level, alternative, method,
            bootstrap_result, as_seed(rng), resampling == "poisson",
        )
    if stat is None:
        if resampling != "multinomial":
            raise ValueError(
                "resampling='poisson' needs a built-in or @njit statistic; scipy "
                "resamples callables multinomially."
            )
        return _scipy_bootstrap(
            data, statistic, n_resamples=n_resamples, batch=batch,
            vectorized=vectorized, paired=paired, axis=axis,
            confidence_level=confidence_level, alternative=alternative,
            method=method, bootstrap_result=bootstrap_result, rng=rng,
            nan_policy=nan_policy,
        )
    exps = standardize(data, axis=axis, paired=paired, nan_policy=nan_policy)
    _check_size(exps, resampling)
    seed = as_seed(rng)
    return _bootstrap_builtin(
        exps, stat, n_resamples, paired, confidence_level, alternative, method,
        bootstrap_result, seed, resampling == "poisson",
    )


def poisson_partial_sums(
    x: Any,
    n_resamples: int,
    *,
    rng: Any,
    experiment: int = 0,
    first_unit: int = 0,
    centre: float = 0.0,
) -> np.ndarray:
    r"""Mergeable Poisson-bootstrap sums of one partition of an experiment's units.

    Parameters
    ----------
    x : array_like, 1-D
        The partition's values: units ``first_unit`` to
        ``first_unit + len(x) - 1`` of the experiment.
    n_resamples : int
        Resamples.
    rng : int
        The seed shared by every partition (a Generator would give each
        partition a different seed, so only an integer is accepted).
    experiment : int, default 0
        The experiment's index: its weights are those ``bootstrap`` gives
        experiment ``experiment`` of a batch.
    first_unit : int, default 0
        Global index of the partition's first unit.
    centre : float, default 0.0
        Subtracted before summing (use a rough mean for precise variances).

    Returns
    -------
    ndarray, shape ``(n_resamples, 3)``
        :math:`(\sum_i w_{bi}, \sum_i w_{bi} u_i, \sum_i w_{bi} u_i^2)`
        with :math:`u_i = x_i - c` and :math:`w_{bi}` the Poisson(1) weight
        of unit ``i`` in resample ``b``.

    Notes
    -----
    The weights depend only on ``(seed, experiment, b, unit)``, so the sums
    of disjoint partitions add up to the sums over all units, whatever the
    partitioning; the resampled mean is ``s[:, 1] / s[:, 0] + c``. This is
    the Poisson bootstrap of [1]_ and [2]_, which needs no gather of an
    experiment on one machine.

    References
    ----------
    .. [1] J. A. Hanley and B. MacGibbon, "Creating non-parametric bootstrap
       samples using Poisson frequencies", Computer Methods and Programs in
       Biomedicine 83 (2006).
    .. [2] N. Chamandy, O. Muralidharan, A. Najmi and S. Naidu, "Estimating
       uncertainty for massive data streams", Google Technical Report (2012).

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf import poisson_partial_sums
    >>> x = np.arange(10.0)
    >>> whole = poisson_partial_sums(x, 5, rng=1)
    >>> parts = poisson_partial_sums(x[:4], 5, rng=1) + poisson_partial_sums(
    ...     x[4:], 5, rng=1, first_unit=4)
    >>> bool(np.allclose(whole, parts))
    True
    """
    import numbers

    from fastinf.kernels import bootstrap as K

    if not isinstance(rng, numbers.Integral) or isinstance(rng, bool):
        raise ValueError(
            "`rng` must be an integer seed shared by every partition; got "
            f"{type(rng).__name__}."
        )
    arr = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    if arr.ndim != 1:
        raise ValueError(f"`x` must be 1-D, got shape {arr.shape}.")
    for name, v in (("n_resamples", n_resamples), ("experiment", experiment),
                    ("first_unit", first_unit)):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 0:
            raise ValueError(f"`{name}` must be a non-negative integer.")
    if not np.isfinite(arr).all():
        raise ValueError("`x` contains NaN or inf; drop or impute it before summing.")
    if not np.isfinite(centre):
        raise ValueError("`centre` must be finite.")
    out = np.empty((int(n_resamples), 3))
    K.poisson_partial_sums(
        arr, as_seed(rng), int(experiment), int(first_unit), float(centre), int(n_resamples), out
    )
    return out


def _bootstrap_iv(
    data: Any, statistic: Any, n_resamples: Any, batch: Any, vectorized: Any,
    paired: Any, confidence_level: Any, alternative: Any, method: Any,
    bootstrap_result: Any, resampling: Any, nan_policy: Any,
) -> tuple[Statistic | None, str, str, int]:
    if vectorized not in (True, False, None):
        raise ValueError("`vectorized` must be `True`, `False`, or `None`.")
    if paired not in (True, False):
        raise ValueError("`paired` must be `True` or `False`.")
    if isinstance(data, (np.ndarray, Ragged)) or not isinstance(data, Sequence):
        raise ValueError("`data` must be a sequence of samples.")
    if len(data) == 0:
        raise ValueError("`data` must contain at least one sample.")
    try:
        level = float(confidence_level)
    except (TypeError, ValueError):
        raise ValueError("`confidence_level` must be a number in (0, 1).") from None
    if not 0.0 < level < 1.0:
        raise ValueError(f"`confidence_level` must be in (0, 1), got {confidence_level}.")
    if not isinstance(alternative, str) or alternative.lower() not in _ALTERNATIVES:
        raise ValueError(f"`alternative` must be one of {set(_ALTERNATIVES)}.")
    if not isinstance(method, str) or method.lower() not in _METHODS:
        raise ValueError(f"`method` must be in {set(_METHODS)}.")
    if resampling not in _RESAMPLINGS:
        raise ValueError(f"`resampling` must be one of {set(_RESAMPLINGS)}.")
    if nan_policy not in ("propagate", "omit", "raise"):
        raise ValueError("`nan_policy` must be one of 'propagate', 'omit', 'raise'.")
    try:
        n_int = int(n_resamples)
    except (TypeError, ValueError):
        n_int = -1
    if isinstance(n_resamples, bool) or n_int != n_resamples or n_int < 0:
        raise ValueError("`n_resamples` must be a non-negative integer.")
    if batch is not None:
        try:
            batch_ok = int(batch) == batch and int(batch) > 0
        except (TypeError, ValueError):
            batch_ok = False
        if not batch_ok:
            raise ValueError("`batch` must be a positive integer or None.")
    if bootstrap_result is not None and not hasattr(
        bootstrap_result, "bootstrap_distribution"
    ):
        raise ValueError(
            "`bootstrap_result` must have attribute `bootstrap_distribution'"
        )
    prior_shape = () if bootstrap_result is None else np.shape(
        bootstrap_result.bootstrap_distribution
    )
    prior = prior_shape[-1] if prior_shape else 0
    if n_int == 0 and prior == 0:
        raise ValueError(
            "Either `bootstrap_result.bootstrap_distribution.size` or "
            "`n_resamples` must be positive."
        )
    try:
        stat: Statistic | None = resolve(statistic)
    except KeyError:
        stat = None
    if stat is not None and stat.permutation_only:
        raise ValueError(
            f"statistic {stat.name!r} is a test statistic for permutation_test, "
            "not an estimate to bootstrap."
        )
    if stat is None and not callable(statistic):
        raise TypeError("`statistic` must be a built-in statistic name or a callable.")
    if stat is not None and len(data) != stat.n_samples:
        raise ValueError(
            f"statistic {stat.name!r} takes {stat.n_samples} sample(s); "
            f"`data` has {len(data)}."
        )
    if stat is not None and stat.paired and not paired:
        raise ValueError(f"statistic {stat.name!r} needs `paired=True`.")
    if method.lower() == "studentized" and (stat is None or not stat.has_standard_error):
        name = stat.name if stat is not None else getattr(statistic, "__name__", "callable")
        raise ValueError(
            "method='studentized' needs a built-in statistic with a closed-form "
            "standard error (mean, sum, proportion, their difference or lift, ratio); "
            f"got {name!r}."
        )
    return stat, method.lower(), alternative.lower(), n_int


def _bootstrap_builtin(
    exps: Experiments, stat: Statistic, n_resamples: int, paired: bool,
    level: float, alternative: str, method: str, bootstrap_result: Any,
    seed: np.uint64, poisson: bool,
) -> BootstrapResult:
    from fastinf.kernels import bootstrap as K

    n_exp = exps.n_experiments
    centres = _centres(exps)
    smooth = stat.smooth
    theta_hat, se_hat = K.statistic_values(
        exps.values, exps.offsets, centres, stat.kind, stat.param, stat.combine,
        paired, smooth,
    )
    prior = _prior_distribution(bootstrap_result, n_exp, exps.shape)
    dist = np.empty((n_exp, n_resamples))
    studentized = method == "studentized"
    se_star = np.empty((n_exp, n_resamples) if studentized else (0, 0))
    if studentized and prior.shape[1]:
        raise ValueError(
            "`bootstrap_result` cannot be extended with method='studentized': "
            "the resamples' standard errors are not stored."
        )
    if n_resamples:
        K.distribution(
            exps.values, exps.offsets, centres, seed, prior.shape[1], n_resamples,
            stat.kind, stat.param, stat.combine, paired, poisson, smooth,
            _blocks(exps, n_resamples), dist, se_star,
        )

    def jackknife() -> np.ndarray:
        loo = np.empty_like(exps.values)
        K.jackknife(
            exps.values, exps.offsets, centres, stat.kind, stat.param, stat.combine,
            paired, smooth, loo,
        )
        return loo

    return _result(
        exps, theta_hat, np.concatenate([prior, dist], axis=1), jackknife, paired,
        level, alternative, method, se_hat, se_star,
    )


def _bootstrap_user(
    exps: Experiments, user: Any, n_resamples: int, paired: bool, level: float,
    alternative: str, method: str, bootstrap_result: Any, seed: np.uint64,
    poisson: bool,
) -> BootstrapResult:
    """An ``@njit`` statistic of 1-D arrays: compiled kernels, O(n^2) jackknife."""
    from fastinf.kernels import bootstrap as K

    n_exp, n_samples = exps.n_experiments, exps.n_samples
    f1 = user if n_samples == 1 else placeholder(1)
    f2 = user if n_samples == 2 else placeholder(2)
    theta_hat = K.user_values(f1, f2, n_samples, exps.values, exps.offsets)
    prior = _prior_distribution(bootstrap_result, n_exp, exps.shape)
    dist = np.empty((n_exp, n_resamples))
    if n_resamples and n_samples == 1:
        K.user_distribution1(
            user, exps.values, exps.offsets, seed, prior.shape[1], n_resamples, poisson, dist
        )
    elif n_resamples:
        K.user_distribution2(
            user, exps.values, exps.offsets, seed, prior.shape[1], n_resamples, paired,
            poisson, dist,
        )

    live = ~exps.nan_experiments
    _check_raised(theta_hat[live], dist[live])

    def jackknife() -> np.ndarray:
        loo = np.empty_like(exps.values)
        K.user_jackknife(f1, f2, n_samples, exps.values, exps.offsets, paired, loo)
        units = np.concatenate([np.repeat(live, n) for n in exps.sizes()])
        _check_raised(loo[units])
        return loo

    return _result(
        exps, theta_hat, np.concatenate([prior, dist], axis=1), jackknife, paired,
        level, alternative, method, None, None,
    )


def _check_raised(*arrays: np.ndarray) -> None:
    # The kernels call a user statistic through a C pointer, which cannot
    # raise: its exceptions come back as a NaN payload (statistics.RAISED).
    # Callers leave out experiments that nan_policy masks.
    n = count_raised(*arrays)
    if n:
        raise ValueError(
            f"`statistic` raised an exception on {n} resample(s) or subsample(s); "
            "call it on the data directly to see the error."
        )


def _result(
    exps: Experiments, theta_hat: np.ndarray, dist: np.ndarray,
    jackknife: Any, paired: bool, level: float, alternative: str, method: str,
    se_hat: np.ndarray | None, se_star: np.ndarray | None,
) -> BootstrapResult:
    """Intervals from the bootstrap distribution: every method, every experiment."""
    n_exp = exps.n_experiments
    dist[exps.nan_experiments] = np.nan
    theta_hat[exps.nan_experiments] = np.nan
    alpha = (1.0 - level) / 2.0 if alternative == "two-sided" else 1.0 - level
    alphas = np.full(n_exp, alpha)
    if method == "bca":
        p_low, p_high = _bca_levels(exps, paired, jackknife(), theta_hat, dist, alpha)
        low, high = _quantiles(dist, p_low), _quantiles(dist, p_high)
    elif method == "studentized":
        assert se_hat is not None and se_star is not None
        # A resample with no spread (e.g. no successes among 0/1 outcomes)
        # has no t: leave it out of the t quantiles, and say so.
        flat = (se_star == 0.0) & ~exps.nan_experiments[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (dist - theta_hat[:, None]) / np.where(flat, np.nan, se_star)
        if flat.any():
            warnings.warn(
                DegenerateDataWarning(
                    f"{int(flat.sum())} resample(s) in {int(flat.any(axis=1).sum())} "
                    "experiment(s) have a zero standard error and were left out of "
                    "the studentized interval; prefer method='BCa' for such data."
                ),
                stacklevel=4,
            )
        t_low = _quantiles(t, alphas, skip_nan=True)
        t_high = _quantiles(t, 1.0 - alphas, skip_nan=True)
        low, high = theta_hat - t_high * se_hat, theta_hat - t_low * se_hat
    else:
        low, high = _quantiles(dist, alphas), _quantiles(dist, 1.0 - alphas)
        if method == "basic":
            low, high = 2.0 * theta_hat - high, 2.0 * theta_hat - low
    bad = (np.isnan(low) | np.isnan(high)) & ~exps.nan_experiments
    if bad.any():
        warnings.warn(
            DegenerateDataWarning(
                f"The {method} confidence interval cannot be calculated for "
                f"{int(bad.sum())} experiment(s). This problem is known to occur "
                "when the distribution is degenerate or the statistic is np.min."
            ),
            stacklevel=4,
        )
    if alternative == "less":
        low = np.full_like(low, -np.inf)
    elif alternative == "greater":
        high = np.full_like(high, np.inf)
    with np.errstate(invalid="ignore"):
        se = np.std(dist, axis=1, ddof=1) if dist.shape[1] > 1 else np.full(n_exp, np.nan)
    return BootstrapResult(
        ConfidenceInterval(_out(exps, low), _out(exps, high)),
        exps.reshape(dist),
        _out(exps, se),
    )


def _blocks(exps: Experiments, n_resamples: int, per_thread: int = 64) -> np.ndarray:
    """Bounds of equal-cost blocks of tasks ``t = e * n_resamples + b``.

    A task costs about its experiment's observations (plus a constant for the
    per-task overhead). Numba hands each thread a contiguous run of blocks,
    so equal-cost blocks balance ragged batches across threads.
    """
    import numba

    cost = exps.sizes().sum(axis=0).astype(np.float64) + 32.0
    n_tasks = exps.n_experiments * n_resamples
    n_blocks = int(min(n_tasks, per_thread * numba.get_num_threads()))
    before = np.concatenate(([0.0], np.cumsum(cost * n_resamples)))
    targets = before[-1] * np.arange(1, n_blocks) / n_blocks
    e = np.searchsorted(before, targets, side="right") - 1
    b = np.ceil((targets - before[e]) / cost[e]).astype(np.int64)
    inner = np.minimum(e * n_resamples + b, n_tasks)
    return np.concatenate(([0], np.maximum.accumulate(inner), [n_tasks])).astype(np.int64)


def _check_size(exps: Experiments, resampling: str) -> None:
    # Indices are drawn from 32-bit words (Lemire's method for n <= 2**32).
    sizes = exps.sizes()
    if resampling == "multinomial" and sizes.size and sizes.max() > 2**32:
        raise ValueError(
            "samples of more than 2**32 observations are not supported; "
            "use resampling='poisson' on partitions (poisson_partial_sums)."
        )


def _out(exps: Experiments, a: np.ndarray) -> Any:
    r = exps.reshape(a)
    return float(r) if np.ndim(r) == 0 else r


def _centres(exps: Experiments) -> np.ndarray:
    """The centres of the moment sums: each sample's observed value nearest its mean."""
    from fastinf.kernels import bootstrap as K

    return K.centres(exps.values, exps.offsets)


def _prior_distribution(
    bootstrap_result: Any, n_exp: int, exps_shape: tuple[int, ...] | None
) -> np.ndarray:
    if bootstrap_result is None:
        return np.empty((n_exp, 0))
    prior = np.asarray(bootstrap_result.bootstrap_distribution, dtype=np.float64)
    batch_shape = (n_exp,) if exps_shape is None else exps_shape
    if prior.ndim == 0 or prior.shape[:-1] != batch_shape:
        raise ValueError(
            "`bootstrap_result.bootstrap_distribution` has shape "
            f"{prior.shape}; for this `data` it must be {batch_shape} + (resamples,)."
        )
    return prior.reshape(n_exp, prior.shape[-1])


def _quantiles(dist: np.ndarray, p: np.ndarray, skip_nan: bool = False) -> np.ndarray:
    """Row ``e``'s ``p[e]`` quantile, NumPy's linear method.

    A row with NaN gives NaN, unless ``skip_nan``: then the quantile is of
    the row's other values (``np.nanquantile``).
    """
    n_exp, n = dist.shape
    out = np.full(n_exp, np.nan)
    if n == 0:
        return out
    srt = np.sort(dist, axis=1)  # NaN sort last
    if skip_nan:
        count = (~np.isnan(srt)).sum(axis=1)
        ok = (count > 0) & np.isfinite(p)
        n_row = count[ok]
    else:
        ok = ~np.isnan(srt[:, -1]) & np.isfinite(p)
        n_row = np.full(int(ok.sum()), n)
    h = (n_row - 1) * p[ok]
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, n_row - 1)
    t = h - lo
    rows = srt[ok]
    a = np.take_along_axis(rows, lo[:, None], axis=1)[:, 0]
    b = np.take_along_axis(rows, hi[:, None], axis=1)[:, 0]
    with np.errstate(invalid="ignore"):  # infinite statistics: inf - inf
        d = b - a
        out[ok] = np.where(t >= 0.5, b - d * (1.0 - t), a + d * t)
    return out


def _bca_levels(
    exps: Experiments, paired: bool, loo: np.ndarray, theta_hat: np.ndarray,
    dist: np.ndarray, alpha: float,
) -> tuple[np.ndarray, np.ndarray]:
    from scipy.special import ndtr, ndtri

    from fastinf.kernels import bootstrap as K

    n = dist.shape[1]
    th = theta_hat[:, None]
    # z0 from the percentile of theta_hat in the distribution, ties counted half
    pct = ((dist < th).sum(axis=1) + (dist <= th).sum(axis=1)) / (2.0 * n)
    z0 = ndtri(pct)

    a_hat = K.acceleration(loo, exps.offsets, 1 if paired else exps.n_samples)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_alpha = ndtri(alpha)
        n1 = z0 + z_alpha
        n2 = z0 - z_alpha
        p_low = ndtr(z0 + n1 / (1.0 - a_hat * n1))
        p_high = ndtr(z0 + n2 / (1.0 - a_hat * n2))
    return p_low, p_high


def _scipy_bootstrap(data: Sequence[Any], statistic: Any, **kw: Any) -> BootstrapResult:
    """Any other callable: scipy computes it (per experiment for Ragged data)."""
    from scipy import stats

    nan_policy = kw.pop("nan_policy")
    if nan_policy == "omit":
        raise ValueError(
            "nan_policy='omit' needs a built-in statistic; for a callable, "
            "drop NaN before calling."
        )
    if any(isinstance(s, Ragged) for s in data):
        exps = standardize(data, axis=0, paired=kw["paired"], nan_policy=nan_policy)
        seed_rng = np.random.default_rng(int(as_seed(kw.pop("rng"))))
        kw.pop("axis")
        prior = kw.pop("bootstrap_result")
        if prior is not None:
            raise ValueError("`bootstrap_result` with Ragged data needs a built-in statistic.")
        results = [
            stats.bootstrap(
                [exps.sample(j, e) for j in range(exps.n_samples)], statistic,
                rng=seed_rng, **kw,
            )
            for e in range(exps.n_experiments)
        ]
        return BootstrapResult(
            ConfidenceInterval(
                np.array([r.confidence_interval.low for r in results]),
                np.array([r.confidence_interval.high for r in results]),
            ),
            np.stack([r.bootstrap_distribution for r in results]),
            np.array([r.standard_error for r in results]),
        )
    if nan_policy == "raise" and any(np.isnan(np.asarray(s, dtype=float)).any() for s in data):
        raise ValueError("The input contains nan values.")
    res = stats.bootstrap(data, statistic, **kw)
    ci = res.confidence_interval
    return BootstrapResult(
        ConfidenceInterval(ci.low, ci.high), res.bootstrap_distribution, res.standard_error
    )
