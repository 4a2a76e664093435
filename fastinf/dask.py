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

*Unit-level archives* (one row per unit, :mod:`fastinf._unit_archive`)
take the same path: partitions of whole experiments, the rows of a
straddling experiment moved to the partition where it begins, and each
partition analysed on its worker by the local engine's unit-level steps
(aggregation to sufficient statistics, Welch/z/CUPED, Mann-Whitney, the
bootstrap intervals). Every output column is therefore the local engine's
bit for bit, whatever the partitioning -- the arm sums are the same
additions over the same units in the same order, the Poisson weights depend
on ``(seed, experiment, variant, unit)`` only (one weight for all of a
unit's metrics), and the multinomial
methods (``bootstrap='percentile'``, ``'basic'``, ``'BCa'``) are seeded per
experiment. Merging per-partition sufficient statistics instead would save
nothing -- the Mann-Whitney p-value needs all of an experiment's units in
one place, so the straddling rows must travel anyway (a partition's leading
run, at most one experiment per partition boundary) -- and would make the
sums agree only to rounding. The cost: as for the local engine, an
experiment is analysed on one worker, so the largest experiment's units
must fit in a worker's memory.

*Unit-level rows from a DataFrame.* :func:`poisson_bootstrap_dataframe` takes one row per
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

import os
import time
from typing import Any

import numpy as np

from fastinf._dask_cluster import (  # noqa: F401 - private names for the tests
    _call,
    _client,
    _cores,
    _is_frame,
    _numba_state,
    _numba_threads,
    _submit,
    _thread_plan,
    safe_threading_layer,
    worker_numba_threads,
)
from fastinf._dask_plan import _load_files, _load_frame, _Part, _run
from fastinf._dask_units import UNIT_COLUMNS, poisson_bootstrap_dataframe
from fastinf._unit_archive import UnitLayout
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
# public entries


def _options(options: dict[str, Any]) -> Any:
    from fastinf.reanalyze import DEFAULT_CHUNK_ROWS, _options_iv

    defaults = dict(control="control", metrics=None, alpha=0.05, alternative="two-sided",
                    correction="fdr_bh", family="experiment", cuped=True, min_effect=0.0,
                    relative_min_effect=True, guardrails=(), errors="raise",
                    chunk_rows=DEFAULT_CHUNK_ROWS, bootstrap="poisson", n_resamples=999, seed=0)
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], list(defaults), n=1)
        more = f" (did you mean {close[0]!r}?)" if close else ""
        raise ArchiveError(f"unknown option {unknown[0]!r}{more}.")
    o = {**defaults, **options}
    return _options_iv(o["control"], o["metrics"], o["alpha"], o["alternative"], o["correction"],
                       o["family"], o["cuped"], o["min_effect"], o["relative_min_effect"],
                       o["guardrails"], o["errors"], o["chunk_rows"], o["bootstrap"],
                       o["n_resamples"], o["seed"])


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
    """Re-analyse a dask DataFrame of experiments on a Dask cluster; a pyarrow Table.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        Rows in the sufficient-statistics schema of :mod:`fastinf.archive`,
        or unit-level rows (:mod:`fastinf._unit_archive`; these need
        ``clustered=True``: a shuffle would lose the order of an arm's
        units, on which the bootstrap intervals depend).
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
        ``errors``, ``chunk_rows``; unit-level rows: ``bootstrap``,
        ``n_resamples``, ``seed``).

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
        schema = _output_schema(inp.layout.id_type, isinstance(inp.layout, UnitLayout))
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
        ``errors``, ``chunk_rows``: about the rows of a partition; unit-level
        input: ``bootstrap``, ``n_resamples``, ``seed``).

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
    units = False
    try:
        with _client(scheduler, n_workers, threads_per_worker,
                     connect_timeout) as client:
            threads = _thread_plan(client)
            inp = (_load_frame(client, threads, input, opts, clustered) if frame
                   else _load_files(client, threads, in_text, opts, out_path))
            units = isinstance(inp.layout, UnitLayout)
            schema = _output_schema(inp.layout.id_type, units)
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
        bootstrap=opts.bootstrap if units else None, n_resamples=opts.n_resamples,
        seed=opts.seed,
    )
