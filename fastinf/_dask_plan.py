"""The partition plan of the Dask engine (:mod:`fastinf.dask`): load, move straddling rows, analyse.

Partitions of whole experiments: each partition reports its first and last
experiment id and the length of its leading run; the leading run of a
partition that continues the previous partition's last experiment moves to
the partition where that experiment begins (:func:`_plan`), and each
partition is analysed on its worker by the local engine's steps
(:func:`_analyse`). See :mod:`fastinf.dask` for the whole story.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf._dask_cluster import _submit
from fastinf.archive import ArchiveError

# --------------------------------------------------------------------------
# tasks: loading partitions


def _load_parquet(path: str, row_groups: list[int], layout: Any) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        cols = layout.read_columns(pf.schema_arrow.names)
        table = pf.read_row_groups(row_groups, columns=cols)
    except (OSError, pa.ArrowException) as exc:
        raise ArchiveError(f"{path}: cannot read the file as Parquet ({exc}).") from None
    return layout.normalize(table)


def _load_csv(source: Any, layout: Any) -> Any:
    import pyarrow as pa

    from fastinf.archive import iter_batches

    tables = [t for t, _, _ in iter_batches([source], layout, 1 << 16)]
    return pa.concat_tables(tables) if tables else None


def _load_pandas(df: Any, layout: Any) -> Any:
    import pyarrow as pa

    keep = layout.read_columns(list(df.columns))
    return layout.normalize(pa.Table.from_pandas(df[keep], preserve_index=False))


@dataclass(frozen=True)
class _Info:
    """A loaded partition's boundary: its rows, first and last ids, leading run, distinct ids."""

    rows: int
    first: Any
    last: Any
    head: int  # rows of the leading run of ``first``
    rest_ids: Any  # distinct ids of rows[head:], in order of first appearance (Arrow array)
    rest_rows: np.ndarray  # the row of each one's first appearance


def _info(table: Any) -> _Info:
    import pyarrow as pa
    import pyarrow.compute as pc

    if table is None or table.num_rows == 0:
        return _Info(0, None, None, 0, pa.array([], pa.string()), np.zeros(0, np.int64))
    ids = table.column("experiment_id").combine_chunks()
    first = ids[0].as_py()
    differs = np.asarray(pc.not_equal(ids, ids[0]).fill_null(True)
                         .to_numpy(zero_copy_only=False), dtype=bool)
    head = int(np.argmax(differs)) if differs.any() else len(ids)
    rest = ids.slice(head)
    codes = np.asarray(pc.dictionary_encode(rest).indices.to_numpy(zero_copy_only=False))
    uniq, where = np.unique(codes, return_index=True)
    return _Info(len(ids), first, ids[len(ids) - 1].as_py(), head,
                 pc.dictionary_encode(rest).dictionary.take(pa.array(uniq)),
                 head + where.astype(np.int64))


def _head(table: Any, n: int) -> Any:
    return table.slice(0, n)


# --------------------------------------------------------------------------
# tasks: analysing partitions


@dataclass(frozen=True)
class _Part:
    """What a partition sends back: its output table and its counts."""

    table: Any
    bad: list[tuple[Any, str, str]]
    experiments: int
    metrics: frozenset[str]
    significant: int
    decisions: dict[str, int]


def _where(pieces: Sequence[tuple[int, str, int]]) -> Any:
    """``where(row)`` of a partition assembled from ``(first row, label, row in source)`` runs."""
    starts = np.array([p[0] for p in pieces], dtype=np.int64)

    def where(row: int) -> tuple[str, int]:
        i = int(np.searchsorted(starts, row, side="right")) - 1
        s, label, r = pieces[i]
        return label, r + row - s + 1

    return where


def _analyse(own: Any, start: int, heads: list[Any], pieces: list[tuple[int, str, int]],
             opts: Any, layout: Any, clustered: bool, wide: bool) -> Any:
    """Contrasts of one partition; its output now (``wide`` False) or the state to finish later."""
    import pyarrow as pa

    from fastinf.reanalyze import _Analyzer

    parts = ([own.slice(start)] if own is not None else []) + list(heads)
    parts = [t for t in parts if t.num_rows]
    an = _Analyzer(opts, layout)
    if not parts:
        return None
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    uc = None
    if an.units is not None:  # whole experiments' units: every column as the local engine
        ch, uc = an.unit_contrasts(table, _where(pieces), clustered=clustered)
    else:
        ch = an.contrasts(table, _where(pieces), clustered=clustered)
    if wide:
        return an, ch, uc
    return _finish((an, ch, uc), an.adjust(ch.p, an.labels(ch)))


def _raw(state: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Raw p-values, family labels and the metric names the labels index."""
    if state is None:
        return np.zeros(0), np.zeros(0, np.int64), []
    an, ch, _ = state
    return ch.p, an.labels(ch), list(an.metrics.names)


def _finish(state: Any, p_adj: np.ndarray) -> _Part | None:
    from fastinf.reanalyze import _value_counts

    if state is None:
        return None
    an, ch, uc = state
    table = an.finish(ch, p_adj, uc)
    return _Part(
        table=table, bad=list(ch.grouped.bad), experiments=ch.grouped.experiments,
        metrics=frozenset(an.metrics.names[i] for i in an.metric_seen),
        significant=int(np.count_nonzero(table.column("significant"))),
        decisions=_value_counts(table.column("decision")) if table.num_rows else {},
    )


# --------------------------------------------------------------------------
# the plan


@dataclass(frozen=True)
class _Input:
    """Loaded partitions (futures of normalised tables), their labels and first rows."""

    tables: list[Any]
    labels: list[str]
    first_rows: list[int]
    layout: Any
    sources: list[Any]  # the files (empty for a DataFrame)



def _parquet_groups(path: str, chunk_rows: int) -> list[tuple[list[int], int]]:
    """Row groups of a Parquet file in runs of about ``chunk_rows`` rows: ``(groups, first row)``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except (OSError, pa.ArrowException) as exc:
        raise ArchiveError(f"{path}: cannot read the file as Parquet ({exc}).") from None
    out: list[tuple[list[int], int]] = []
    run: list[int] = []
    rows = first = 0
    for g in range(meta.num_row_groups):
        run.append(g)
        rows += meta.row_group(g).num_rows
        if rows - first >= chunk_rows:
            out.append((run, first))
            run, first = [], rows
    if run:
        out.append((run, first))
    return out


def _load_files(client: Any, threads: dict[str, int], in_text: str, opts: Any,
                out_path: str | None) -> _Input:
    """Check the files as the local engine does and submit the loading of their partitions."""
    from fastinf.reanalyze import _check_sources

    checked, layout = _check_sources(in_text, opts)
    if out_path is not None:
        real_out = os.path.realpath(out_path)
        if any(os.path.realpath(s.path) == real_out for s in checked):
            raise ArchiveError(f"{out_path}: the output would overwrite an input file.")
    if all(s.rows == 0 for s in checked):
        raise ArchiveError(f"{in_text}: the input has no rows.")
    tables, labels, firsts = [], [], []
    for src in checked:
        if src.kind == "csv":
            tables.append(_submit(client, threads, _load_csv, src, layout))
            labels.append(src.path)
            firsts.append(0)
            continue
        for groups, first in _parquet_groups(src.path, opts.chunk_rows):
            tables.append(_submit(client, threads, _load_parquet, src.path, groups, layout))
            labels.append(src.path)
            firsts.append(first)
    return _Input(tables, labels, firsts, layout, checked)


def _frame_layout(ddf: Any, opts: Any) -> Any:
    import pyarrow as pa

    from fastinf._unit_archive import UNIT_KEYS
    from fastinf.archive import SCHEMA
    from fastinf.reanalyze import _layout_of

    meta = ddf._meta
    fields = []
    for name in meta.columns:
        t = pa.Schema.from_pandas(meta[[name]], preserve_index=False).field(0).type
        if pa.types.is_null(t) and (name in SCHEMA or name in UNIT_KEYS):  # object, empty frame
            t = pa.string()
        fields.append((str(name), t))
    return _layout_of(pa.schema(fields), "<dataframe>", opts)


def _load_frame(client: Any, threads: dict[str, int], ddf: Any, opts: Any,
                clustered: bool) -> _Input:
    from fastinf._unit_archive import UnitLayout

    layout = _frame_layout(ddf, opts)
    if isinstance(layout, UnitLayout) and not clustered:
        raise ArchiveError(
            "unit-level rows need clustered=True: a shuffle does not keep the order of an "
            "arm's units, on which the bootstrap intervals depend; sort the frame by "
            "experiment_id first.")
    frame = ddf if clustered else ddf.shuffle(on="experiment_id")
    parts = client.compute(frame.to_delayed())
    tables = [_submit(client, threads, _load_pandas, p, layout) for p in parts]
    label = "<dataframe partition {}>" if clustered else "<dataframe shuffled by experiment_id, partition {}>"
    return _Input(tables, [label.format(k) for k in range(len(tables))], [0] * len(tables),
                  layout, [])


def _plan(infos: list[_Info]) -> list[tuple[int, list[tuple[int, int]]]]:
    """Per partition: rows to drop at its head, and ``(partition, rows)`` heads to append.

    An experiment belongs to the partition where it begins; the leading run
    of a partition that continues the previous partition's last experiment
    moves there (through all-one-experiment partitions, if need be).
    """
    K = len(infos)
    cont = [False] * K
    last = None
    for k, info in enumerate(infos):
        if info.rows == 0:
            continue
        cont[k] = last is not None and info.first == last
        last = info.last
    plan = []
    for k, info in enumerate(infos):
        drop = info.head if cont[k] else 0
        heads: list[tuple[int, int]] = []
        if info.rows > drop:
            j = k + 1
            while j < K:
                if infos[j].rows == 0:
                    j += 1
                    continue
                if not cont[j]:
                    break
                heads.append((j, infos[j].head))
                if infos[j].head < infos[j].rows:
                    break
                j += 1
        plan.append((drop, heads))
    return plan


def _check_clustered(infos: list[_Info], labels: list[str], first_rows: list[int],
                     plan: list[tuple[int, list[tuple[int, int]]]]) -> None:
    """The local engine's error for an experiment that appears again after its rows ended."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays, where = [], []
    for k, (info, (drop, _)) in enumerate(zip(infos, plan, strict=True)):
        if info.rows == 0:
            continue
        if drop == 0:
            arrays.append(pa.array([info.first]))
            where.append((k, 0))
        arrays.append(info.rest_ids)
        where += [(k, int(r)) for r in info.rest_rows]
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        return
    ids = pa.concat_arrays([a.cast(arrays[0].type) for a in arrays])
    codes = np.asarray(pc.dictionary_encode(ids).indices.to_numpy(zero_copy_only=False))
    _, first = np.unique(codes, return_index=True)
    if first.size == codes.size:
        return
    again = np.ones(codes.size, dtype=bool)
    again[first] = False
    i = int(np.argmax(again))
    k, row = where[i]
    raise ArchiveError(
        f"{labels[k]} (row {first_rows[k] + row + 1}): experiment {ids[i].as_py()!r} appears "
        "again after its rows ended: the input must be clustered by experiment (all rows of "
        "an experiment contiguous; sort it by experiment_id), or it has duplicate rows.")


def _run(client: Any, threads: dict[str, int], inp: _Input, opts: Any, clustered: bool,
         on_part: Any) -> tuple[int, dict[str, Any]]:
    """Analyse all partitions; call ``on_part`` with each :class:`_Part` in output order."""
    wide = opts.correction is not None and opts.family in ("metric", "all")
    infos = client.gather([_submit(client, threads, _info, t) for t in inp.tables])
    rows = sum(i.rows for i in infos)
    if rows == 0:
        raise ArchiveError("the input has no rows.")
    K = len(infos)
    plan = _plan(infos) if clustered else [(0, [])] * K
    if clustered:
        _check_clustered(infos, inp.labels, inp.first_rows, plan)
    states = []
    for k, (drop, heads) in enumerate(plan):
        pieces = [(0, inp.labels[k], inp.first_rows[k] + drop)]
        at = infos[k].rows - drop
        head_futs = []
        for j, n in heads:
            pieces.append((at, inp.labels[j], inp.first_rows[j]))
            head_futs.append(_submit(client, threads, _head, inp.tables[j], n))
            at += n
        states.append(_submit(client, threads, _analyse, inp.tables[k], drop, head_futs,
                              pieces, opts, inp.layout, clustered, wide))
    del inp  # the loaded tables are released once their partitions are analysed
    if wide:
        from fastinf.experiment import _adjust_labels

        raws = client.gather([_submit(client, threads, _raw, s) for s in states])
        p, labels, sizes = _global_labels(raws, opts.family)
        p_adj = _adjust_labels(p, labels, opts.correction) if p.size else p.copy()
        bounds = np.r_[0, np.cumsum(sizes)]
        # Scatter each slice to the worker holding its partition's state.
        parts = [_submit(client, threads, _finish, s, p_adj[bounds[k]:bounds[k + 1]])
                 for k, s in enumerate(states)]
    else:
        parts = states
    del states
    for k in range(len(parts)):
        part = parts[k].result()
        parts[k] = None  # release it on the cluster
        if part is not None:
            on_part(part)
    return rows, {}


def _global_labels(raws: list[tuple[np.ndarray, np.ndarray, list[str]]],
                   family: str) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """All partitions' raw p-values in output order, with archive-wide family labels."""
    p = np.concatenate([r[0] for r in raws]) if raws else np.zeros(0)
    sizes = [r[0].size for r in raws]
    if family == "all":
        return p, np.zeros(p.size, dtype=np.int64), sizes
    ids: dict[str, int] = {}
    labels = []
    for _, lab, names in raws:
        lut = np.array([ids.setdefault(name, len(ids)) for name in names], dtype=np.int64)
        labels.append(lut[lab] if lab.size else np.zeros(0, np.int64))
    return p, np.concatenate(labels) if labels else np.zeros(0, np.int64), sizes
