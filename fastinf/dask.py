"""The Dask engine of ``fastinf reanalyze``: the same kernels, partitioned by experiment.

:func:`reanalyze_dask` (``fastinf reanalyze --engine dask [--scheduler
ADDRESS]``) re-analyses an archive of sufficient statistics on a Dask
cluster -- a :class:`distributed.LocalCluster` of worker processes when no
address is given -- and writes the same file as :func:`fastinf.reanalyze.reanalyze`:
the same columns, rows, row order and values, bit for bit.
:func:`analyze_dataframe` does it for a :class:`dask.dataframe.DataFrame`
and returns a :class:`pyarrow.Table`.

How the work is split
---------------------
*Partitions of whole experiments.* Each Parquet file is cut into partitions
of whole row groups (about ``chunk_rows`` rows each); a CSV file is one
partition; a dask DataFrame keeps its partitions. The archive is clustered by
experiment (as the local engine requires), so an experiment can straddle
only the boundary of two consecutive partitions. Rather than shuffling the
whole archive by ``experiment_id`` (every row crosses the network), the
engine first asks each partition for its first and last experiment id
and the length of its leading run (a few bytes), then moves each straddling
experiment's rows to the partition where it begins: only those rows travel.
The same metadata (the partition's distinct ids, 8 bytes or so each) lets
the client check that no experiment appears again after its rows ended,
with the local engine's message. A dask DataFrame that is *not* clustered
(``clustered=False``) is shuffled by ``experiment_id`` instead, and the
output is put back in order of first appearance.

*Corrections.* Each partition runs the local engine's steps (checks,
grouping, kernels: :func:`fastinf.experiment.analyze`'s contrasts) on its
worker. Families inside an experiment are corrected there. Families that
span partitions (``family='metric'`` or ``'all'``) are exact: the raw
p-values (8 bytes per output row) and their family labels come to the
client, are corrected together by :func:`fastinf.multitest.multipletests`
in the local engine's row order, and each partition's slice goes back to
its worker, which decides (significance, guardrails, ship) with it. The
partitions' analyses stay in the workers' memory in between, so the input
is read once (the local engine reads it twice instead, to bound memory).

*Unit-level rows.* :func:`poisson_bootstrap_dataframe` takes one row per
unit, an arm's units in any partitions: each partition sums its pieces of
each arm with :func:`fastinf.units.poisson_sums` (``first_unit`` from a
first pass that counts each arm's units per partition), the pieces' sums
are added in a fixed pairwise tree per bucket of experiments, and the
intervals come from :func:`fastinf.units.poisson_difference_interval`; no
arm is gathered on one worker.

*Output.* The client fetches the partitions' output tables in order and
writes them to a temporary file beside ``output``, renamed when complete.

Threads
-------
The kernels are Numba code. Each worker runs its tasks with
``max(1, cores // (workers on its host x threads per worker))`` Numba
threads, set around each task (and restored) so that the workers do not
oversubscribe the cores. The threading layer must be safe in Dask's worker
processes: Numba's OpenMP layer kills forked children, and the workqueue
layer aborts when two Python threads launch a parallel kernel at once. The
local cluster therefore starts worker processes with
``NUMBA_THREADING_LAYER`` set to ``tbb`` when it is importable, else
``workqueue``, one Python thread per worker by default; on a worker with
several threads and the workqueue layer, a lock serialises the tasks'
kernel calls. On a cluster started elsewhere the layer is chosen the same
way before a worker's first parallel kernel, unless its environment set one.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf.archive import ArchiveError

__all__ = [
    "UNIT_COLUMNS",
    "analyze_dataframe",
    "poisson_bootstrap_dataframe",
    "reanalyze_dask",
    "safe_threading_layer",
    "worker_numba_threads",
]


# --------------------------------------------------------------------------
# threads on the workers

_KERNEL_LOCK = threading.Lock()


def safe_threading_layer() -> str:
    """The Numba threading layer for Dask workers: 'tbb' if importable, else 'workqueue'."""
    import importlib

    try:
        importlib.import_module("numba.np.ufunc.tbbpool")
    except ImportError:
        return "workqueue"
    return "tbb"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worker_numba_threads(cores: int, workers: int, threads_per_worker: int = 1) -> int:
    """Numba threads per worker so that ``workers`` workers do not oversubscribe ``cores``."""
    return max(1, cores // max(1, workers * threads_per_worker))


@contextlib.contextmanager
def _numba_threads(n: int) -> Iterator[None]:
    """Run with ``n`` Numba threads in this thread (the count is per thread), then restore it."""
    import numba

    config: Any = numba.config
    old = numba.get_num_threads()
    numba.set_num_threads(max(1, min(n, config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(old)


def _ensure_safe_layer() -> str:
    """Choose a safe threading layer before this process's first parallel kernel."""
    import numba
    from numba.np.ufunc import parallel

    config: Any = numba.config
    if not parallel._is_initialized and config.THREADING_LAYER in ("default", "omp"):
        config.THREADING_LAYER = safe_threading_layer()
    return str(config.THREADING_LAYER)


def _call(fn: Any, threads: dict[str, int], *args: Any) -> Any:
    """Run ``fn(*args)`` on a worker with its share of Numba threads (see the module's notes)."""
    from distributed import get_worker

    worker = get_worker()
    layer = _ensure_safe_layer()
    n = threads.get(worker.address, 1)
    lock: Any = _KERNEL_LOCK if worker.state.nthreads > 1 and layer != "tbb" \
        else contextlib.nullcontext()
    with lock, _numba_threads(n):
        return fn(*args)


def _numba_state() -> dict[str, Any]:
    """The Numba setup a task sees on its worker (after a parallel kernel ran)."""
    import numba

    from fastinf._bootstrap import poisson_partial_sums

    poisson_partial_sums(np.arange(64.0), 8, rng=1)  # a parallel kernel
    return {"threads": numba.get_num_threads(), "layer": numba.threading_layer(),
            "env_layer": os.environ.get("NUMBA_THREADING_LAYER"), "pid": os.getpid()}


def _thread_plan(client: Any) -> dict[str, int]:
    """Numba threads of each worker: its host's cores over the Python threads on the host."""
    info = client.scheduler_info(n_workers=-1)["workers"] if _takes_n_workers(client) \
        else client.scheduler_info()["workers"]
    if not info:
        raise ArchiveError("the Dask cluster has no workers.")
    cores = client.run(_cores)
    per_host: dict[str, int] = {}
    for w in info.values():
        per_host[w["host"]] = per_host.get(w["host"], 0) + int(w["nthreads"])
    return {addr: worker_numba_threads(int(cores.get(addr, 1)), per_host[w["host"]])
            for addr, w in info.items()}


def _takes_n_workers(client: Any) -> bool:
    import inspect

    return "n_workers" in inspect.signature(client.scheduler_info).parameters


# --------------------------------------------------------------------------
# the cluster


@contextlib.contextmanager
def _client(scheduler: Any, n_workers: int | None, threads_per_worker: int | None,
            connect_timeout: float) -> Iterator[Any]:
    """A :class:`distributed.Client`: the given one, one connected to an address, or a local cluster."""
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        yield scheduler
        return
    if scheduler is not None:
        if not isinstance(scheduler, str) or not scheduler:
            raise ArchiveError("`scheduler` must be the address of a Dask scheduler "
                               f"(e.g. 'tcp://10.0.0.5:8786') or a Client; got {scheduler!r}.")
        try:
            client = Client(scheduler, timeout=connect_timeout)
        except (OSError, ValueError, TypeError) as exc:  # TimeoutError is an OSError
            raise ArchiveError(f"cannot connect to the Dask scheduler at {scheduler!r}: "
                               f"{exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    for name, v in (("n_workers", n_workers), ("threads_per_worker", threads_per_worker)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ArchiveError(f"`{name}` must be a positive integer; got {v!r}.")
    cores = _cores()
    workers = n_workers if n_workers is not None else max(1, min(cores, 4))
    tpw = threads_per_worker if threads_per_worker is not None else 1
    env = {"NUMBA_THREADING_LAYER": safe_threading_layer(),
           "NUMBA_NUM_THREADS": str(worker_numba_threads(cores, workers, tpw))}
    cluster = LocalCluster(n_workers=workers, threads_per_worker=tpw, processes=True,
                           dashboard_address=":0", env=env)
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


# --------------------------------------------------------------------------
# tasks: loading partitions


def _load_parquet(path: str, row_groups: list[int], layout: Any) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from fastinf.archive import SCHEMA, normalize

    try:
        pf = pq.ParquetFile(path)
        cols = [c for c in pf.schema_arrow.names if c in SCHEMA]
        table = pf.read_row_groups(row_groups, columns=cols)
    except (OSError, pa.ArrowException) as exc:
        raise ArchiveError(f"{path}: cannot read the file as Parquet ({exc}).") from None
    return normalize(table, layout)


def _load_csv(source: Any, layout: Any) -> Any:
    import pyarrow as pa

    from fastinf.archive import iter_batches

    tables = [t for t, _, _ in iter_batches([source], layout, 1 << 16)]
    return pa.concat_tables(tables) if tables else None


def _load_pandas(df: Any, layout: Any) -> Any:
    import pyarrow as pa

    from fastinf.archive import SCHEMA, normalize

    keep = [c for c in df.columns if c in SCHEMA]
    return normalize(pa.Table.from_pandas(df[keep], preserve_index=False), layout)


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
    ch = an.contrasts(table, _where(pieces), clustered=clustered)
    if wide:
        return an, ch
    return _finish((an, ch), an.adjust(ch.p, an.labels(ch)))


def _raw(state: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Raw p-values, family labels and the metric names the labels index."""
    if state is None:
        return np.zeros(0), np.zeros(0, np.int64), []
    an, ch = state
    return ch.p, an.labels(ch), list(an.metrics.names)


def _finish(state: Any, p_adj: np.ndarray) -> _Part | None:
    from fastinf.reanalyze import _value_counts

    if state is None:
        return None
    an, ch = state
    table = an.finish(ch, p_adj)
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


def _submit(client: Any, threads: dict[str, int], fn: Any, *args: Any) -> Any:
    return client.submit(_call, fn, threads, *args, pure=False)


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
    from fastinf.archive import check_schema, find_sources, read_schema

    sources = find_sources(in_text)
    layout = None
    checked = []
    for src in sources:
        schema, src = read_schema(src)
        lay = check_schema(schema, src.path, spec_types=bool(opts.spec), csv=src.kind == "csv")
        layout = lay if layout is None else layout.merge(lay)
        checked.append(src)
    assert layout is not None
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

    from fastinf.archive import SCHEMA, check_schema

    meta = ddf._meta
    fields = []
    for name in meta.columns:
        t = pa.Schema.from_pandas(meta[[name]], preserve_index=False).field(0).type
        if pa.types.is_null(t) and name in SCHEMA:  # an object column of an empty frame
            t = pa.string()
        fields.append((str(name), t))
    return check_schema(pa.schema(fields), "<dataframe>", spec_types=bool(opts.spec))


def _load_frame(client: Any, threads: dict[str, int], ddf: Any, opts: Any,
                clustered: bool) -> _Input:
    layout = _frame_layout(ddf, opts)
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


# --------------------------------------------------------------------------
# public entries


def _options(options: dict[str, Any]) -> Any:
    from fastinf.reanalyze import DEFAULT_CHUNK_ROWS, _options_iv

    defaults = dict(control="control", metrics=None, alpha=0.05, alternative="two-sided",
                    correction="fdr_bh", family="experiment", cuped=True, min_effect=0.0,
                    relative_min_effect=True, guardrails=(), errors="raise",
                    chunk_rows=DEFAULT_CHUNK_ROWS)
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], list(defaults), n=1)
        more = f" (did you mean {close[0]!r}?)" if close else ""
        raise ArchiveError(f"unknown option {unknown[0]!r}{more}.")
    o = {**defaults, **options}
    return _options_iv(o["control"], o["metrics"], o["alpha"], o["alternative"], o["correction"],
                       o["family"], o["cuped"], o["min_effect"], o["relative_min_effect"],
                       o["guardrails"], o["errors"], o["chunk_rows"])


def _is_frame(obj: Any) -> bool:
    try:
        import dask.dataframe as dd
    except ImportError:  # pragma: no cover - dask is required to get here
        return False
    return isinstance(obj, dd.DataFrame)


def analyze_dataframe(
    ddf: Any,
    *,
    scheduler: Any = None,
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    clustered: bool = True,
    skipped: list[tuple[Any, str, str]] | None = None,
    connect_timeout: float = 10.0,
    **options: Any,
) -> Any:
    """Re-analyse a dask DataFrame of sufficient statistics on a Dask cluster; a pyarrow Table.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Rows in the sufficient-statistics schema of :mod:`fastinf.archive`.
    scheduler : str or distributed.Client, optional
        A scheduler's address, or a connected client; by default a
        :class:`distributed.LocalCluster` of ``n_workers`` worker processes
        started for the call (and closed after it).
    n_workers, threads_per_worker : int, optional
        The local cluster's workers (default: the cores, at most 4) and
        Python threads per worker (default 1).
    clustered : bool, default True
        Whether each experiment's rows are contiguous in partition order (as
        the local engine requires of files). If not, the frame is shuffled
        by ``experiment_id`` (every row moves) and the output sorted back into
        order of the experiments' first appearance.
    skipped : list, optional
        With ``errors='skip'`` (where it is required), receives
        ``(experiment_id, reason, where)`` for each experiment left out.
    connect_timeout : float
        Seconds to wait for the scheduler at ``scheduler``.
    **options
        The options of :func:`fastinf.reanalyze.reanalyze_table` (``control``,
        ``metrics``, ``alpha``, ``alternative``, ``correction``, ``family``,
        ``cuped``, ``min_effect``, ``relative_min_effect``, ``guardrails``,
        ``errors``, ``chunk_rows``).

    Returns
    -------
    pyarrow.Table
        What :func:`fastinf.reanalyze.reanalyze_table` returns for the whole
        frame: the same columns, rows, order and values.
    """
    import pyarrow as pa

    if not _is_frame(ddf):
        raise ArchiveError(f"`ddf` must be a dask.dataframe.DataFrame; got {type(ddf).__name__}.")
    if not isinstance(clustered, bool):
        raise ArchiveError(f"`clustered` must be True or False; got {clustered!r}.")
    opts = _options(options)
    if opts.errors == "skip" and skipped is None:
        raise ArchiveError("with errors='skip', pass a list as `skipped` to receive the "
                           "experiments left out.")
    from fastinf.reanalyze import _output_schema

    tables: list[Any] = []
    bad: list[tuple[Any, str, str]] = []
    with _client(scheduler, n_workers, threads_per_worker, connect_timeout) as client:
        threads = _thread_plan(client)
        inp = _load_frame(client, threads, ddf, opts, clustered)
        schema = _output_schema(inp.layout.id_type)
        order = None if clustered else _first_appearance(client, threads, ddf)

        def on_part(part: _Part) -> None:
            tables.append(part.table)
            bad.extend(part.bad)

        _run(client, threads, inp, opts, clustered, on_part)
    out = pa.concat_tables(tables) if tables else schema.empty_table()
    if order is not None:
        out, bad = _reorder(out, bad, order)
    if skipped is not None:
        skipped.extend(bad)
    return out


def _unique_in_order(df: Any) -> Any:
    return df["experiment_id"].drop_duplicates()


def _first_appearance(client: Any, threads: dict[str, int], ddf: Any) -> Any:
    """The experiment ids in order of first appearance over the partitions (a pyarrow Array)."""
    import pandas as pd
    import pyarrow as pa

    parts = client.compute(ddf.to_delayed())
    uniq = client.gather([_submit(client, threads, _unique_in_order, p) for p in parts])
    ids = pd.concat(uniq, ignore_index=True).drop_duplicates() if uniq else pd.Series([])
    return pa.array(ids)


def _reorder(out: Any, bad: list[tuple[Any, str, str]], order: Any) -> tuple[Any, list[Any]]:
    import pyarrow as pa
    import pyarrow.compute as pc

    order = order.cast(out.schema.field("experiment_id").type)
    rank = np.asarray(pc.index_in(out.column("experiment_id"), value_set=order)
                      .to_numpy(zero_copy_only=False))
    out = out.take(pa.array(np.argsort(rank, kind="stable")))
    pos = {v: i for i, v in enumerate(order.to_pylist())}
    bad = sorted(bad, key=lambda b: pos.get(b[0], len(pos)))
    return out, bad


def reanalyze_dask(
    input: Any,  # noqa: A002 - the command's word
    output: Any,
    *,
    scheduler: Any = None,
    n_workers: int | None = None,
    threads_per_worker: int | None = None,
    format: str | None = None,  # noqa: A002 - the option's name
    progress: Any = None,
    clustered: bool = True,
    connect_timeout: float = 10.0,
    **options: Any,
) -> Any:
    """Re-analyse an archive on a Dask cluster: :func:`fastinf.reanalyze.reanalyze`'s output.

    Parameters
    ----------
    input : str, path or dask.dataframe.DataFrame
        What :func:`fastinf.reanalyze.reanalyze` reads (a Parquet file, a
        folder, a glob, a CSV file; clustered by experiment), or a dask
        DataFrame in the same schema (see :func:`analyze_dataframe` for
        ``clustered``). Paths must be readable by the workers (a shared
        file system; always so for the local cluster).
    output : str or path
        The output file (Parquet, or CSV for a ``.csv`` name or
        ``format='csv'``), written by the client and replaced atomically.
    scheduler, n_workers, threads_per_worker, clustered, connect_timeout
        As for :func:`analyze_dataframe`.
    format, progress
        As for :func:`fastinf.reanalyze.reanalyze`.
    **options
        The other options of :func:`fastinf.reanalyze.reanalyze` (``control``,
        ``metrics``, ``alpha``, ``alternative``, ``correction``, ``family``,
        ``cuped``, ``min_effect``, ``relative_min_effect``, ``guardrails``,
        ``errors``, ``chunk_rows``: about the rows of a partition).

    Returns
    -------
    fastinf.reanalyze.RunSummary
        As the local engine's (``passes`` is 1: the partitions' analyses
        stay in the workers' memory between the correction and the
        decisions).
    """
    from fastinf._streaming import _make_progress, _Output, _write_skipped
    from fastinf.experiment import DECISIONS
    from fastinf.reanalyze import RunSummary, _output_format, _output_schema

    t0 = time.perf_counter()
    opts = _options(options)
    frame = _is_frame(input)
    in_text = "<dataframe>" if frame else os.fspath(input)
    out_path = os.fspath(output)
    fmt = _output_format(out_path, format)
    if os.path.isdir(out_path):
        raise ArchiveError(f"{out_path}: the output is a folder; give a file name.")
    folder = os.path.dirname(os.path.abspath(out_path))
    if not os.path.isdir(folder):
        raise ArchiveError(f"{out_path}: the output's folder {folder} does not exist.")
    if not frame:
        from fastinf.archive import find_sources

        find_sources(in_text)  # a missing input fails before a cluster starts
    skipped_path = out_path + ".skipped.csv" if opts.errors == "skip" else None

    counts = {"experiments": 0, "output_rows": 0, "significant": 0, "done": 0}
    decisions: dict[str, int] = {}
    metrics: set[str] = set()
    bad: list[tuple[Any, str, str]] = []
    out: Any = None
    bar = None
    try:
        with _client(scheduler, n_workers, threads_per_worker,
                     connect_timeout) as client:
            threads = _thread_plan(client)
            inp = (_load_frame(client, threads, input, opts, clustered) if frame
                   else _load_files(client, threads, in_text, opts, out_path))
            schema = _output_schema(inp.layout.id_type)
            bar = _make_progress(progress, float(len(inp.tables)))
            order = _first_appearance(client, threads, input) if frame and not clustered \
                else None
            held: list[_Part] = []
            out = _Output(out_path, fmt, schema)

            def on_part(part: _Part) -> None:
                counts["experiments"] += part.experiments
                counts["output_rows"] += part.table.num_rows
                counts["significant"] += part.significant
                counts["done"] += 1
                metrics.update(part.metrics)
                for name, k in part.decisions.items():
                    decisions[name] = decisions.get(name, 0) + k
                if order is not None:
                    held.append(part)
                else:
                    out.write(part.table)
                    bad.extend(part.bad)
                assert bar is not None
                bar.update(counts["done"], rows=0, experiments=counts["experiments"])

            rows, _ = _run(client, threads, inp, opts, clustered, on_part)
            if order is not None:
                import pyarrow as pa

                table = pa.concat_tables([h.table for h in held]) if held else schema.empty_table()
                table, bad = _reorder(table, [b for h in held for b in h.bad], order)
                out.write(table)
        out.commit()
        out = None
        if skipped_path is not None:
            _write_skipped(skipped_path, bad)
    except BaseException:
        if out is not None:
            out.abort()
        raise
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    notes = tuple(f"guardrail metric {g!r} is not among the analysed metrics"
                  for g in sorted(opts.guardrails) if g not in metrics)
    return RunSummary(
        input=in_text, output=out_path, format=fmt, rows_read=rows,
        experiments=counts["experiments"], metrics=len(metrics),
        output_rows=counts["output_rows"], skipped_experiments=len(bad),
        skipped_path=skipped_path, significant=counts["significant"],
        ship=decisions.get("ship", 0), invalid_rows=decisions.get("invalid", 0),
        decisions={d: decisions.get(d, 0) for d in DECISIONS}, passes=1,
        seconds=seconds, rows_per_second=rows / seconds if seconds > 0 else 0.0, notes=notes,
    )


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
    from fastinf.units import experiment_keys, poisson_sums

    groups, order, counts = _unit_groups(df)
    G, M = len(groups), len(metrics)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    exps = [e for e, _ in groups]
    variants = [v for _, v in groups]
    S = np.empty((G, M, n_resamples, 3))
    plain = np.empty((G, M, 2))
    for j, m in enumerate(metrics):
        x = np.asarray(df[m].to_numpy(dtype=np.float64, na_value=np.nan))[order]
        if not np.isfinite(x).all():
            g = int(np.searchsorted(offsets, int(np.flatnonzero(~np.isfinite(x))[0]),
                                    side="right")) - 1
            raise ArchiveError(f"experiment {exps[g]!r}, variant {variants[g]!r}: column {m!r} "
                               "holds a null or non-finite value; drop or impute it first.")
        S[:, j] = poisson_sums(x, offsets, experiment_keys(exps, m, variants), first_unit,
                               n_resamples, seed)
        plain[:, j, 0] = counts
        plain[:, j, 1] = np.add.reduceat(x, offsets[:-1]) * (counts > 0) if G else 0.0
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
