"""Mergeable Poisson-bootstrap sums of unit-level data, addressed by stable keys.

The unit-level path of ``fastinf reanalyze`` and the Dask engine share these
three functions, so that an archive analysed on one machine or on a cluster,
in chunks of any size and files in any order, gives the same bootstrap
intervals bit for bit:

* :func:`arm_keys`: a stable 64-bit key per ``(experiment_id, variant)``,
  the ``experiment`` address of an arm's Poisson bootstrap stream: a group's
  weights depend on what it is, not on where it sits in a chunk or which
  other experiments share it, and a unit has one weight for all its metrics
  (:func:`experiment_keys` keys ``(experiment_id, metric, variant)``
  instead, a stream per metric);
* :func:`poisson_sums`: the Poisson(1)-weighted sums ``(sum w, sum w u,
  sum w u**2)`` of many groups of units in one parallel call; a group's
  units may be split across partitions (``first_unit`` says where each
  piece starts) and the pieces' sums add up to the whole's;
* :func:`poisson_difference_interval`: the percentile interval of the
  difference of resampled means (treatment minus control) from merged sums.

This is the Poisson bootstrap of Hanley & MacGibbon [1]_ as Chamandy et al.
[2]_ run it on data too large for one machine: each unit gets an independent
Poisson(1) count per resample instead of a multinomial draw, so no gather of
an arm on one worker is needed.

References
----------
.. [1] J. A. Hanley and B. MacGibbon, "Creating non-parametric bootstrap
   samples using Poisson frequencies", Computer Methods and Programs in
   Biomedicine 83 (2006).
.. [2] N. Chamandy, O. Muralidharan, A. Najmi and S. Naidu, "Estimating
   uncertainty for massive data streams", Google Technical Report (2012).
"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = [
    "arm_keys",
    "experiment_keys",
    "experiment_seed",
    "poisson_difference_interval",
    "poisson_sums",
]

_ALTERNATIVES = ("two-sided", "less", "greater")


def _key(*parts: Any) -> int:
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def experiment_keys(experiment_ids: Iterable[Any], metric: Any, variant: Any) -> np.ndarray:
    """Stable 64-bit keys of ``(experiment_id, metric, variant)`` triples.

    Parameters
    ----------
    experiment_ids : iterable
        Experiment ids (anything; compared through ``str``, so the integer
        ``7`` and the string ``'7'`` have the same key, as a CSV and a
        Parquet copy of an archive must).
    metric, variant : str or iterable of str
        One name for all, or one per experiment id.

    Returns
    -------
    ndarray of uint64
        The first 8 bytes (little-endian) of
        ``blake2b(repr((str(experiment_id), str(metric), str(variant))), digest_size=8)``.
        The same on every machine, Python version and process (unlike
        ``hash``).

    Examples
    --------
    >>> from fastinf.units import experiment_keys
    >>> k = experiment_keys(["e1", "e2"], "revenue", "control")
    >>> k.dtype, bool(k[0] != k[1])
    (dtype('uint64'), True)
    >>> bool(experiment_keys([7], "revenue", "control")[0] == experiment_keys(["7"], "revenue", "control")[0])
    True
    """
    ids = [str(e) for e in experiment_ids]
    n = len(ids)
    metrics, variants = _spread(metric, "metric", n), _spread(variant, "variant", n)
    return np.fromiter((_key(e, m, v) for e, m, v in zip(ids, metrics, variants, strict=True)),
                       dtype=np.uint64, count=n)


def arm_keys(experiment_ids: Iterable[Any], variant: Any) -> np.ndarray:
    """Stable 64-bit keys of ``(experiment_id, variant)`` pairs: one stream per arm.

    The unit-level engines (:mod:`fastinf.reanalyze`, :mod:`fastinf.dask`)
    address an arm's Poisson bootstrap by this key, so that a unit has one
    weight per resample for all its metrics (:func:`poisson_sums` with 2-D
    `values`).

    Parameters
    ----------
    experiment_ids : iterable
        Experiment ids, compared through ``str`` as in :func:`experiment_keys`.
    variant : str or iterable of str
        One name for all, or one per experiment id.

    Returns
    -------
    ndarray of uint64
        The first 8 bytes (little-endian) of
        ``blake2b(repr(("arm", str(experiment_id), str(variant))), digest_size=8)``.

    Examples
    --------
    >>> from fastinf.units import arm_keys
    >>> k = arm_keys(["e1", "e1"], ["control", "b"])
    >>> k.dtype, bool(k[0] != k[1])
    (dtype('uint64'), True)
    """
    ids = [str(e) for e in experiment_ids]
    variants = _spread(variant, "variant", len(ids))
    return np.fromiter((_key("arm", e, v) for e, v in zip(ids, variants, strict=True)),
                       dtype=np.uint64, count=len(ids))


def _spread(value: Any, name: str, n: int) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [str(value)] * n
    out = [str(v) for v in value]
    if len(out) != n:
        raise ValueError(f"`{name}` must be one name or one per experiment id "
                         f"({n}); got {len(out)}.")
    return out


def experiment_seed(seed: int, experiment_id: Any) -> int:
    """The seed of one experiment's multinomial bootstrap: a stable hash of ``(seed, experiment_id)``.

    The multinomial bootstrap methods of the unit-level pipeline call
    :func:`fastinf.bootstrap` once per experiment with this seed, so an
    experiment's intervals do not depend on the chunk it was read in.
    """
    return _key("experiment", int(seed), str(experiment_id)) >> 1  # >= 0, < 2**63


def _int_seed(seed: Any) -> np.uint64:
    from fastinf.rng import as_seed

    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(
            "`seed` must be a non-negative integer shared by every partition; got "
            f"{seed!r}.")
    return as_seed(int(seed))


def _poisson_sums_iv(
    values: Any, offsets: Any, keys: Any, first_unit: Any, n_resamples: Any, centres: Any,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim not in (1, 2):
        raise ValueError(f"`values` must be 1-D (units) or 2-D (units x columns); got shape "
                         f"{x.shape}.")
    x = np.ascontiguousarray(x.reshape(x.shape[0], -1).T)  # (columns, units)
    n_units = x.shape[1]
    off = np.asarray(offsets)
    if off.ndim != 1 or off.size < 1 or not np.issubdtype(off.dtype, np.integer):
        raise ValueError("`offsets` must be a 1-D integer array of G + 1 group bounds.")
    off = np.ascontiguousarray(off, dtype=np.int64)
    if off[0] != 0 or off[-1] != n_units or (np.diff(off) < 0).any():
        raise ValueError(
            "`offsets` must start at 0, end at len(values) and never decrease.")
    G = off.size - 1
    k = np.asarray(keys)
    if k.shape != (G,) or not np.issubdtype(k.dtype, np.integer):
        raise ValueError(f"`keys` must be {G} integer keys (uint64), one per group.")
    k = np.ascontiguousarray(k.astype(np.uint64, copy=False))
    if first_unit is None:
        f = np.zeros(G, dtype=np.int64)
    else:
        f = np.asarray(first_unit)
        if f.shape != (G,) or not np.issubdtype(f.dtype, np.integer) or (f < 0).any():
            raise ValueError(f"`first_unit` must be {G} non-negative integers, one per group.")
        f = np.ascontiguousarray(f, dtype=np.int64)
    if (isinstance(n_resamples, bool) or not isinstance(n_resamples, numbers.Integral)
            or n_resamples < 1):
        raise ValueError(f"`n_resamples` must be a positive integer; got {n_resamples!r}.")
    M = x.shape[0]
    if centres is None:
        c = np.zeros((G, M))
    else:
        cc = np.asarray(centres, dtype=np.float64)
        try:
            c = np.ascontiguousarray(np.broadcast_to(cc, (G, M)) if np.ndim(values) == 2
                                     else np.broadcast_to(cc, (G,))[:, None])
        except ValueError:
            want = f"({G},)" if np.ndim(values) == 1 else f"({G}, {M}) or ({G}, 1)"
            raise ValueError(f"`centres` must be a number or of shape {want}; got shape "
                             f"{cc.shape}.") from None
        if not np.isfinite(c).all():
            raise ValueError("`centres` must be finite.")
    bad = ~np.isfinite(x).all(axis=0)
    if bad.any():
        g = int(np.searchsorted(off, int(np.flatnonzero(bad)[0]), side="right")) - 1
        raise ValueError(f"`values` of group {g} contain NaN or inf; drop or impute them first.")
    return x, off, k, f, c, int(n_resamples)


def _blocks(sizes: np.ndarray, n_resamples: int, per_thread: int = 64) -> np.ndarray:
    """Bounds of about equal-cost runs of tasks ``g * n_resamples + b`` (cost: units + 32)."""
    import numba

    n_tasks = sizes.size * n_resamples
    if n_tasks == 0:
        return np.zeros(1, dtype=np.int64)
    cost = sizes.astype(np.float64) + 32.0
    n_blocks = int(min(n_tasks, per_thread * numba.get_num_threads()))
    before = np.concatenate(([0.0], np.cumsum(cost * n_resamples)))
    targets = before[-1] * np.arange(1, n_blocks) / n_blocks
    g = np.minimum(np.searchsorted(before, targets, side="right") - 1, sizes.size - 1)
    b = np.ceil((targets - before[g]) / cost[g]).astype(np.int64)
    inner = np.minimum(g * n_resamples + b, n_tasks)
    return np.concatenate(([0], np.maximum.accumulate(inner), [n_tasks])).astype(np.int64)


def poisson_sums(
    values: Any,
    offsets: Any,
    keys: Any,
    first_unit: Any,
    n_resamples: int,
    seed: int,
    *,
    centres: Any = None,
) -> np.ndarray:
    r"""Poisson-bootstrap sums of many groups of units in one parallel call.

    Parameters
    ----------
    values : array_like, 1-D or 2-D
        The units of all groups, group after group (float64; finite): one
        value per unit, or a row of ``M`` values (columns, e.g. metrics) per
        unit, which then share the unit's weight.
    offsets : array_like of int, shape ``(G + 1,)``
        Group ``g`` is ``values[offsets[g]:offsets[g + 1]]`` (may be empty).
    keys : array_like of uint64, shape ``(G,)``
        Each group's stream address, from :func:`arm_keys` (one stream per
        arm, shared by its metrics, as the unit-level engines key it) or
        :func:`experiment_keys` (one per arm and metric).
    first_unit : array_like of int, shape ``(G,)``, or None
        Unit ``i`` of group ``g`` is unit ``first_unit[g] + i`` of the whole
        arm; None: all 0 (each group is a whole arm).
    n_resamples : int
        Resamples ``B``.
    seed : int
        The seed shared by every partition and worker (a non-negative
        integer; the kernels' seed is ``fastinf.rng.as_seed(seed)``).
    centres : float or array_like, shape ``(G,)`` (``(G, M)`` or ``(G, 1)`` for 2-D `values`), optional
        Subtracted from the values before summing (default 0). Pieces of one
        arm must use the same centre for their sums to add up.

    Returns
    -------
    ndarray, shape ``(G, B, 3)``, or ``(G, B, M, 3)`` for 2-D `values`
        :math:`(\sum_i w_{bi}, \sum_i w_{bi} u_i, \sum_i w_{bi} u_i^2)` with
        :math:`u_i = x_i - c_g` and :math:`w_{bi}` the Poisson(1) weight of
        unit ``first_unit[g] + i`` in resample ``b`` (for each column).

    Notes
    -----
    The weight :math:`w_{bi}` is a pure function of ``(seed, keys[g], b,
    first_unit[g] + i)``, so the sums of disjoint pieces of an arm add up to
    the sums of the arm, whatever the pieces; the resampled mean is
    ``s[..., 1] / s[..., 0] + c``. Counts (``s[..., 0]``) are integers and
    add up exactly. The other two sums add up **to rounding**: floating-point
    addition is not associative, so the sum of two pieces' sums can differ
    from the one-piece sum in the last bits (exactly equal when the values
    are integers of moderate size, e.g. 0/1 metrics). Results are
    bit-identical for the same pieces whatever the number of threads, and a
    single whole group equals :func:`fastinf.poisson_partial_sums` with
    ``experiment=keys[g]`` bit for bit (same weights, same order of
    additions). To get bit-identical merged sums on several engines, sum the
    same pieces in the same order. Column ``m`` of 2-D `values` gives the
    bits of the 1-D call on that column alone: one weight per unit and
    resample, drawn once for all columns (which also keeps the columns'
    correlation in every resample, as a ratio of two metrics needs).

    A resample whose weights are all zero (probability :math:`e^{-n}` for
    an arm of ``n`` units) has count 0 and no mean;
    :func:`poisson_difference_interval` leaves such resamples out.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.units import experiment_keys, poisson_sums
    >>> x = np.arange(10.0)
    >>> key = experiment_keys(["e1"], "revenue", "control")
    >>> whole = poisson_sums(x, [0, 10], key, [0], 5, seed=1)
    >>> parts = poisson_sums(x, [0, 4, 10], np.repeat(key, 2), [0, 4], 5, seed=1)
    >>> bool(np.array_equal(whole[0], parts[0] + parts[1]))
    True
    """
    from fastinf.kernels import bootstrap as K

    s = _int_seed(seed)
    x, off, k, f, c, B = _poisson_sums_iv(values, offsets, keys, first_unit, n_resamples,
                                          centres)
    M = x.shape[0]
    out = np.empty((off.size - 1, B, M, 3))
    if out.size:
        K.poisson_group_sums(x, off, k, f, c, s, B, _blocks(np.diff(off) * (M + 1) // 2, B),
                             out)
    return out[:, :, 0] if np.ndim(values) == 1 else out


def poisson_difference_interval(
    control_sums: Any,
    treatment_sums: Any,
    *,
    confidence_level: float = 0.95,
    alternative: str = "two-sided",
    centres: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Percentile interval of the difference of resampled means, per row.

    Parameters
    ----------
    control_sums, treatment_sums : array_like, shape ``(R, B, 3)``
        Merged :func:`poisson_sums` of each row's control and treatment arm.
    confidence_level : float, default 0.95
        In (0, 1).
    alternative : {'two-sided', 'less', 'greater'}
        One-sided intervals put ``-inf`` (``'less'``) or ``inf``
        (``'greater'``) on the open side, as :func:`fastinf.bootstrap`.
    centres : tuple of two float or array_like of shape ``(R,)``, optional
        ``(control_centres, treatment_centres)``: the centres the sums were
        taken about (default: 0 for both).

    Returns
    -------
    low, high : ndarray, shape ``(R,)``

    Notes
    -----
    Resample ``b`` gives
    :math:`\hat\delta^*_b = (S^t_{1b}/S^t_{0b} + c_t) - (S^c_{1b}/S^c_{0b} + c_c)`;
    the interval is :math:`[q_\alpha, q_{1-\alpha}]` with
    :math:`\alpha = (1 - \text{level})/2` and :math:`q_p` the linearly
    interpolated quantile of the resamples (NumPy's default method), as
    ``fastinf.bootstrap(..., method='percentile')``. Resamples in which an
    arm got no weight at all are left out; a row with none left is NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.units import experiment_keys, poisson_sums, poisson_difference_interval
    >>> rng = np.random.default_rng(0)
    >>> c, t = rng.normal(0.0, 1.0, 500), rng.normal(0.5, 1.0, 500)
    >>> keys = experiment_keys(["e1", "e1"], "m", ["control", "b"])
    >>> s = poisson_sums(np.r_[c, t], [0, 500, 1000], keys, None, 999, seed=3)
    >>> low, high = poisson_difference_interval(s[:1], s[1:])
    >>> bool(low[0] < 0.5 < high[0])
    True
    """
    from fastinf._bootstrap import _quantiles

    cs = np.asarray(control_sums, dtype=np.float64)
    ts = np.asarray(treatment_sums, dtype=np.float64)
    if cs.ndim != 3 or cs.shape[2] != 3 or ts.shape != cs.shape:
        raise ValueError(
            "`control_sums` and `treatment_sums` must have the same shape (R, B, 3); got "
            f"{cs.shape} and {ts.shape}.")
    if (isinstance(confidence_level, bool) or not isinstance(confidence_level, (int, float))
            or not 0 < confidence_level < 1):
        raise ValueError(f"`confidence_level` must be a number in (0, 1); got "
                         f"{confidence_level!r}.")
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"`alternative` must be one of {', '.join(_ALTERNATIVES)}; got "
                         f"{alternative!r}.")
    R = cs.shape[0]
    if centres is None:
        cc = ct = np.zeros(R)
    else:
        if not isinstance(centres, tuple) or len(centres) != 2:
            raise ValueError("`centres` must be a pair (control_centres, treatment_centres).")
        cc = np.broadcast_to(np.asarray(centres[0], dtype=np.float64), (R,))
        ct = np.broadcast_to(np.asarray(centres[1], dtype=np.float64), (R,))
    with np.errstate(invalid="ignore", divide="ignore"):
        mt = np.where(ts[:, :, 0] > 0, ts[:, :, 1] / ts[:, :, 0], np.nan) + ct[:, None]
        mc = np.where(cs[:, :, 0] > 0, cs[:, :, 1] / cs[:, :, 0], np.nan) + cc[:, None]
    dist = mt - mc
    level = float(confidence_level)
    alpha = (1.0 - level) / 2.0 if alternative == "two-sided" else 1.0 - level
    low = _quantiles(dist, np.full(R, alpha), skip_nan=True)
    high = _quantiles(dist, np.full(R, 1.0 - alpha), skip_nan=True)
    if alternative == "less":
        low = np.full(R, -np.inf)
    elif alternative == "greater":
        high = np.full(R, np.inf)
    return low, high
