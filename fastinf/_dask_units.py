"""Unit-level rows on a Dask cluster: Poisson-bootstrap sums merged over partitions.

:func:`poisson_bootstrap_dataframe` (re-exported by :mod:`fastinf.dask`)
takes one row per unit, an arm's units in any partitions: each partition
sums its pieces of each arm with :func:`fastinf.units.poisson_sums`
(``first_unit`` from a first pass that counts each arm's units per
partition), the pieces' sums are added in a fixed pairwise tree per bucket
of experiments, and the intervals come from
:func:`fastinf.units.poisson_difference_interval`; no arm is gathered on one
worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fastinf._dask_cluster import _client, _is_frame, _submit, _thread_plan
from fastinf.archive import ArchiveError

__all__ = ["UNIT_COLUMNS", "poisson_bootstrap_dataframe"]


# --------------------------------------------------------------------------
# unit-level data: the Poisson bootstrap over partitions


def _unit_groups(df: Any) -> tuple[list[tuple[Any, Any]], np.ndarray, np.ndarray]:
    """A partition's ``(experiment_id, variant)`` groups (first appearance), row order, counts."""
    g = df.groupby(["experiment_id", "variant"], sort=False)
    codes = np.asarray(g.ngroup().to_numpy(), dtype=np.int64)
    groups = [tuple(k) for k in g.size().index]
    return groups, np.argsort(codes, kind="stable"), np.bincount(codes, minlength=len(groups))


def _unit_counts(df: Any) -> tuple[list[tuple[Any, Any]], np.ndarray]:
    groups, _, counts = _unit_groups(df)
    return groups, counts


def _unit_sums(df: Any, metrics: list[str], first_unit: np.ndarray, n_resamples: int,
               seed: int, buckets: int) -> dict[int, tuple[list[Any], np.ndarray, np.ndarray]]:
    """Poisson sums ``(G, M, B, 3)`` and plain ``(n, sum)`` ``(G, M, 2)`` of a partition, by bucket."""
    from fastinf.units import arm_keys, experiment_keys, poisson_sums

    groups, order, counts = _unit_groups(df)
    G, M = len(groups), len(metrics)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    exps = [e for e, _ in groups]
    variants = [v for _, v in groups]
    columns = np.empty((M, int(offsets[-1])))
    plain = np.empty((G, M, 2))
    for j, m in enumerate(metrics):
        x = np.asarray(df[m].to_numpy(dtype=np.float64, na_value=np.nan))[order]
        if not np.isfinite(x).all():
            g = int(np.searchsorted(offsets, int(np.flatnonzero(~np.isfinite(x))[0]),
                                    side="right")) - 1
            raise ArchiveError(f"experiment {exps[g]!r}, variant {variants[g]!r}: column {m!r} "
                               "holds a null or non-finite value; drop or impute it first.")
        columns[j] = x
        plain[:, j, 0] = counts
        plain[:, j, 1] = np.add.reduceat(x, offsets[:-1]) * (counts > 0) if G else 0.0
    # One weight per unit and resample for all its metrics: (G, B, M, 3) -> (G, M, B, 3).
    S = np.moveaxis(poisson_sums(columns.T, offsets, arm_keys(exps, variants), first_unit,
                                 n_resamples, seed), 2, 1)
    bucket = experiment_keys(exps, "", "") % np.uint64(buckets) if G else np.zeros(0, np.uint64)
    out = {}
    for b in np.unique(bucket):
        sel = np.flatnonzero(bucket == b)
        out[int(b)] = ([groups[i] for i in sel], S[sel], plain[sel])
    return out


def _bucket(parts: dict[int, Any], b: int) -> Any:
    return parts.get(b)


def _merge(a: Any, c: Any) -> Any:
    """Add the sums of two pieces' groups (``a``'s groups first, then ``c``'s new ones)."""
    if a is None or c is None:
        return a if c is None else c
    groups = list(a[0])
    index = {g: i for i, g in enumerate(groups)}
    new = [g for g in c[0] if g not in index]
    S = np.concatenate([a[1], np.zeros((len(new), *a[1].shape[1:]))])
    plain = np.concatenate([a[2], np.zeros((len(new), *a[2].shape[1:]))])
    for g in new:
        index[g] = len(groups)
        groups.append(g)
    at = np.array([index[g] for g in c[0]], dtype=np.int64)
    S[at] += c[1]  # the groups of one piece are distinct: no repeated index
    plain[at] += c[2]
    return groups, S, plain


def _unit_intervals(merged: Any, metrics: list[str], control: str, confidence_level: float,
                    alternative: str) -> list[tuple[Any, ...]]:
    """Rows ``(experiment, metric, variant, n_c, n_t, mean_c, mean_t, diff, low, high)``."""
    from fastinf.units import poisson_difference_interval

    if merged is None:
        return []
    groups, S, plain = merged
    arms: dict[Any, dict[Any, int]] = {}
    for i, (e, v) in enumerate(groups):
        arms.setdefault(e, {})[v] = i
    ci, ti, rows = [], [], []
    names = sorted(range(len(metrics)), key=lambda j: metrics[j])
    for e, by_variant in arms.items():
        if control not in by_variant:
            raise ArchiveError(f"experiment {e!r}: no control variant {control!r}.")
        c = by_variant[control]
        treatments = sorted((v for v in by_variant if v != control), key=str)
        for j in names:
            for v in treatments:
                ci.append((c, j))
                ti.append((by_variant[v], j))
                rows.append((e, metrics[j], v))
    if not rows:
        return []
    cg, cm = np.array(ci).T
    tg, tm = np.array(ti).T
    low, high = poisson_difference_interval(S[cg, cm], S[tg, tm],
                                            confidence_level=confidence_level,
                                            alternative=alternative)
    nc, nt = plain[cg, cm, 0], plain[tg, tm, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        mc, mt = plain[cg, cm, 1] / nc, plain[tg, tm, 1] / nt
    return [(*r, nc[k], nt[k], mc[k], mt[k], mt[k] - mc[k], low[k], high[k])
            for k, r in enumerate(rows)]


def _tree(client: Any, threads: dict[str, int], items: list[Any]) -> Any:
    """Pairwise sums of adjacent items, level by level (a fixed order of additions)."""
    while len(items) > 1:
        nxt = [_submit(client, threads, _merge, items[i], items[i + 1])
               for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]


UNIT_COLUMNS = ("experiment_id", "metric", "variant", "control_n", "treatment_n",
                "control_estimate", "treatment_estimate", "estimate", "ci_low", "ci_high")


def poisson_bootstrap_dataframe(
    ddf: Any,
    metrics: Sequence[str],
    *,
    n_resamples: int = 1000,
    seed: int = 0,
    control: str = "control",
    confidence_level: float = 0.95,
    alternative: str = "two-sided",
    scheduler: Any = None,
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    buckets: int | None = None,
    connect_timeout: float = 10.0,
) -> Any:
    r"""Poisson-bootstrap intervals of mean differences from unit-level rows spread over partitions.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        One row per unit: ``experiment_id``, ``variant`` and the ``metrics``
        columns. An arm's units may lie in any partitions; unit ``i`` of an
        arm is its ``i``-th row in partition order.
    metrics : sequence of str
        The metric columns (finite numbers).
    n_resamples, seed
        Resamples and the integer seed of :func:`fastinf.units.poisson_sums`.
    control : str
        The control variant of every experiment.
    confidence_level, alternative
        As for :func:`fastinf.units.poisson_difference_interval`.
    scheduler, n_workers, threads_per_worker, connect_timeout
        As for :func:`analyze_dataframe`.
    buckets : int, optional
        Experiments are reduced in this many independent groups (by a stable
        hash of their id); default: the number of partitions.

    Returns
    -------
    pyarrow.Table
        :data:`UNIT_COLUMNS`: per experiment (in order of first appearance),
        metric (by name) and treatment (by name), the arms' units and means,
        the difference (treatment minus control) and its interval.

    Notes
    -----
    Each partition sums its pieces of each arm with
    :func:`fastinf.units.poisson_sums`, ``first_unit`` being the arm's
    units in earlier partitions (counted first, in a cheap pass); the
    pieces' sums are added in a fixed pairwise tree, bucket by bucket, so no
    arm is gathered on one worker and the client receives only the
    intervals. The weights are those of the single-machine Poisson bootstrap
    with the same seed: counts agree exactly, and the weighted sums to
    rounding (exactly for integer-valued metrics such as 0/1 conversions),
    as :func:`fastinf.units.poisson_sums` explains.
    """
    import pyarrow as pa

    if not _is_frame(ddf):
        raise ArchiveError(f"`ddf` must be a dask.dataframe.DataFrame; got {type(ddf).__name__}.")
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    missing = [m for m in ("experiment_id", "variant", *metrics) if m not in ddf.columns]
    if missing or not metrics:
        raise ArchiveError(f"missing column {missing[0]!r}; the columns are "
                           f"{', '.join(map(str, ddf.columns))}." if missing
                           else "`metrics` must name at least one metric column.")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 1:
        raise ArchiveError(f"`n_resamples` must be a positive integer; got {n_resamples!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ArchiveError(f"`seed` must be a non-negative integer; got {seed!r}.")
    frame = ddf[["experiment_id", "variant", *metrics]]
    with _client(scheduler, n_workers, threads_per_worker, connect_timeout) as client:
        threads = _thread_plan(client)
        parts = client.compute(frame.to_delayed())
        R = buckets if buckets is not None else max(1, len(parts))
        counted = client.gather([_submit(client, threads, _unit_counts, p) for p in parts])
        seen: dict[Any, int] = {}
        firsts = []
        for groups, counts in counted:
            firsts.append(np.array([seen.get(g, 0) for g in groups], dtype=np.int64))
            for g, k in zip(groups, counts, strict=True):
                seen[g] = seen.get(g, 0) + int(k)
        sums = [_submit(client, threads, _unit_sums, p, metrics, f, n_resamples, seed, R)
                for p, f in zip(parts, firsts, strict=True)]
        del parts
        results = [_submit(client, threads, _unit_intervals,
                           _tree(client, threads, [_submit(client, threads, _bucket, s, b)
                                                   for s in sums]),
                           metrics, control, confidence_level, alternative)
                   for b in range(R)]
        rows = [r for chunk in client.gather(results) for r in chunk]
    rank = {e: i for i, e in enumerate(dict.fromkeys(e for e, _ in seen))}
    rows.sort(key=lambda r: rank[r[0]])  # stable: metric and variant order kept
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(UNIT_COLUMNS)
    return pa.table({name: pa.array(list(col)) for name, col in zip(UNIT_COLUMNS, cols,
                                                                     strict=True)})
