"""The unit-level columns of ``fastinf reanalyze``: a rank test and bootstrap intervals.

For each output row (experiment x metric x treatment) of a unit-level chunk
(:class:`fastinf._unit_archive.UnitChunk`):

* ``mannwhitney_p_value``: :func:`fastinf.ranks.mannwhitneyu` of the
  treatment's units against the control's (``method='auto'``, continuity
  correction, the run's ``alternative``), one batched call per chunk;
* ``boot_ci_low``, ``boot_ci_high``: a bootstrap interval of the difference
  of means (treatment minus control) at confidence ``1 - alpha``:

  - ``'poisson'``: the mergeable Poisson-bootstrap percentile interval of
    :mod:`fastinf.units` (arm ``(experiment_id, variant)`` resampled from the
    stream :func:`fastinf.units.arm_keys` gives it, one weight per unit and
    resample for all its metrics); one parallel call per chunk;
  - ``'percentile'``, ``'basic'``, ``'BCa'``: :func:`fastinf.bootstrap`
    with ``statistic='mean_diff'`` and multinomial resampling, one call per
    experiment (its rows as a Ragged batch, in output order) seeded with
    :func:`fastinf.units.experiment_seed`.

Either way an experiment's intervals depend on the seed and the experiment
alone: not on the chunk it was read in, nor on the other experiments.
"""

from __future__ import annotations

import warnings

import numpy as np

from fastinf._unit_archive import UnitChunk

__all__ = ["BOOTSTRAP_METHODS", "EXTRA_COLUMNS", "unit_columns"]

#: Values of ``bootstrap`` (case-insensitive; 'bca' is 'BCa').
BOOTSTRAP_METHODS = ("none", "poisson", "percentile", "basic", "BCa")
#: The columns unit-level input adds to the output.
EXTRA_COLUMNS = ("mannwhitney_p_value", "boot_ci_low", "boot_ci_high")


def _segment_index(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Indices of the segments ``[starts[k], starts[k] + sizes[k])``, one after another."""
    return np.repeat(starts - np.r_[0, np.cumsum(sizes)[:-1]], sizes) + np.arange(sizes.sum())


def unit_columns(
    uc: UnitChunk, experiment: np.ndarray, metric: np.ndarray, treatment_arm: np.ndarray,
    metric_names: tuple[str, ...], *, alpha: float, alternative: str, bootstrap: str,
    n_resamples: int, seed: int,
) -> dict[str, np.ndarray]:
    """The :data:`EXTRA_COLUMNS` of output rows given by experiment, metric and treatment arm.

    ``experiment`` indexes ``uc.experiment_ids``, ``metric`` the layout's
    metrics, ``treatment_arm`` the chunk's arms; rows of one experiment are
    contiguous.
    """
    n = experiment.size
    out = {name: np.full(n, np.nan) for name in EXTRA_COLUMNS}
    if n == 0:
        return out
    control_arm = uc.control_arm[experiment]
    out["mannwhitney_p_value"] = _mannwhitney(uc, metric, treatment_arm, control_arm,
                                              alternative)
    if bootstrap == "none":
        return out
    level = 1.0 - alpha
    if bootstrap == "poisson":
        low, high = _poisson(uc, experiment, metric, treatment_arm, control_arm, metric_names,
                             level, alternative, n_resamples, seed)
    else:
        low, high = _multinomial(uc, experiment, metric, treatment_arm, control_arm, level,
                                 alternative, bootstrap, n_resamples, seed)
    out["boot_ci_low"], out["boot_ci_high"] = low, high
    return out


def _mannwhitney(
    uc: UnitChunk, metric: np.ndarray, treatment_arm: np.ndarray, control_arm: np.ndarray,
    alternative: str,
) -> np.ndarray:
    """:func:`fastinf.ranks.mannwhitneyu` of each row's treatment arm against its control.

    The arms lie in disjoint segments of ``uc.values[j]``: a copy of a
    metric's units is sorted arm by arm, once, and every row reads its two
    sorted arms in place (a control shared by several treatments is sorted
    once). Rows whose two arms hold only 0 and 1 need no sort: ``U`` and the
    tie term follow from the counts of ones (the same bits). The test is the
    public function's, ``method='auto'`` decided per experiment as for
    Ragged input.
    """
    from fastinf.kernels import ranks as K
    from fastinf.ranks import _mwu_pvalue, _mwu_segments, _sort_segments

    p = np.empty(metric.size)
    start, size = uc.arm_start, uc.arm_size
    for j in np.unique(metric):
        r = np.flatnonzero(metric == j)
        t, c = treatment_arm[r], control_arm[r]
        two = uc.arm_binary[j][t] & uc.arm_binary[j][c]
        if two.any():
            rb, tb, cb = r[two], t[two], c[two]
            u1, tie = np.empty(rb.size), np.empty(rb.size)
            ones = uc.arm_total[j]
            K.mwu_two_values(ones[tb].astype(np.int64), size[tb], ones[cb].astype(np.int64),
                             size[cb], u1, tie)
            p[rb] = _mwu_pvalue(u1, tie, size[tb], size[cb], np.zeros(rb.size, dtype=bool),
                                True, alternative, "auto", False)
            r, t, c = r[~two], t[~two], c[~two]
            if not r.size:
                continue
        arms = np.unique(np.concatenate([t, c]))
        values = uc.values[j].copy()
        _sort_segments(values, start[arms], start[arms] + size[arms])
        _, p[r] = _mwu_segments(values, start[t], start[t] + size[t], start[c],
                                start[c] + size[c], np.zeros(r.size, dtype=bool), True,
                                alternative, "auto")
    return p


def _poisson(
    uc: UnitChunk, experiment: np.ndarray, metric: np.ndarray, treatment_arm: np.ndarray,
    control_arm: np.ndarray, metric_names: tuple[str, ...], level: float, alternative: str,
    n_resamples: int, seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    import pyarrow as pa

    from fastinf.units import arm_keys, poisson_difference_interval, poisson_sums

    # Each arm that some row needs, all metrics at once: a unit's weight is
    # drawn once per resample for all its metrics.
    A = uc.arm_size.size
    arms = np.unique(np.concatenate([treatment_arm, control_arm]))
    columns = uc.values  # (metrics, units)
    if arms.size == A:
        offsets = np.r_[uc.arm_start, columns.shape[1]]
    else:
        sizes = uc.arm_size[arms]
        columns = columns[:, _segment_index(uc.arm_start[arms], sizes)]
        offsets = np.r_[0, np.cumsum(sizes)]
    group = np.full(A, -1, dtype=np.int64)
    group[arms] = np.arange(arms.size)
    ids = uc.experiment_ids.take(pa.array(uc.arm_experiment[arms])).to_pylist()
    keys = arm_keys(ids, [uc.arm_variant[a] for a in arms])
    s = poisson_sums(columns.T, offsets.astype(np.int64), keys, None, n_resamples, seed)
    return poisson_difference_interval(
        s[group[control_arm], :, metric], s[group[treatment_arm], :, metric],
        confidence_level=level, alternative=alternative)


def _multinomial(
    uc: UnitChunk, experiment: np.ndarray, metric: np.ndarray, treatment_arm: np.ndarray,
    control_arm: np.ndarray, level: float, alternative: str, method: str, n_resamples: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    from fastinf._bootstrap import DegenerateDataWarning, bootstrap
    from fastinf.ragged import Ragged
    from fastinf.units import experiment_seed

    n = experiment.size
    low, high = np.full(n, np.nan), np.full(n, np.nan)
    starts = np.flatnonzero(np.r_[True, experiment[1:] != experiment[:-1]])
    ends = np.r_[starts[1:], n]
    ids = uc.experiment_ids.to_pylist()
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        rows = np.arange(a, b)
        m = metric[rows]
        t = [uc.values[j][uc.arm_start[k]:uc.arm_start[k] + uc.arm_size[k]]
             for j, k in zip(m, treatment_arm[rows], strict=True)]
        c = [uc.values[j][uc.arm_start[k]:uc.arm_start[k] + uc.arm_size[k]]
             for j, k in zip(m, control_arm[rows], strict=True)]
        with warnings.catch_warnings():
            # A constant resample distribution (e.g. a metric that is 0 for
            # every unit) has no interval: NaN in the output says so.
            warnings.simplefilter("ignore", DegenerateDataWarning)
            res = bootstrap((Ragged.from_arrays(t), Ragged.from_arrays(c)), "mean_diff",
                            n_resamples=n_resamples, method=method, confidence_level=level,
                            alternative=alternative,
                            rng=experiment_seed(seed, ids[int(experiment[a])]))
        low[rows] = res.confidence_interval.low
        high[rows] = res.confidence_interval.high
    return low, high
