"""Re-analyse a whole archive of experiments: ``fastinf reanalyze INPUT --out OUTPUT``.

The input is an archive of sufficient statistics in Parquet (a file, a
folder of files or a glob) or CSV, one row per experiment x metric x variant;
its schema is documented in :mod:`fastinf.archive` (``experiment_id``,
``metric``, ``variant``, ``n``, ``sum``, ``sum_sq``, ``metric_type``, and
optional CUPED covariate and ratio-denominator sums). The output (Parquet or
CSV) has one row per experiment x metric x treatment, every treatment
compared with the experiment's control, in input order of the experiments,
then by metric name, then by variant name:

``experiment_id``, ``metric``, ``variant`` (the treatment), ``metric_type``,
``control_n``, ``treatment_n``, ``control_estimate``, ``treatment_estimate``,
``estimate`` (treatment minus control: the experiment layer's
``difference``), ``ci_low``, ``ci_high``, ``relative_difference``,
``relative_ci_low``, ``relative_ci_high``, ``statistic``, ``df``,
``p_value``, ``p_value_adjusted``, ``effect_size``, ``srm_p_value``,
``theta``, ``variance_reduction``, ``significant``, ``guardrail_violated``,
``decision`` and ``reason`` (strings), as computed by
:func:`fastinf.experiment.analyze`: mean metrics by Welch's t test, binomial
ones by the two-proportion z test, ratio metrics by the delta method; CUPED
where covariate sums are given. A row whose statistic is undefined (zero
variance in both arms) has decision ``invalid`` and its ``reason``.

**Unit-level input** (one row per unit: ``experiment_id``, ``variant``, one
column per metric, optional ``pre_<metric>`` covariates; see
:mod:`fastinf._unit_archive`) is aggregated chunk by chunk to the same
sufficient statistics and analysed by the same path, so its columns above
equal those of its aggregated archive; three columns follow ``reason``
(:data:`UNIT_OUTPUT_COLUMNS`): ``mannwhitney_p_value`` and
``boot_ci_low``/``boot_ci_high``, a bootstrap interval of the (unadjusted)
difference of means at confidence ``1 - alpha`` (``bootstrap='poisson'`` by
default, 999 resamples, seed 0; see :mod:`fastinf._unit_extras`), which
depend on the seed and the experiment only, not on the chunking.

How it runs: the archive is read in chunks of about ``chunk_rows`` rows, cut
at experiment boundaries (an experiment straddling a batch is carried into
the next chunk), so memory is bounded by the chunk, not the archive; the
input must therefore be clustered by experiment (see :mod:`fastinf.archive`).
Within a chunk, experiments with the same numbers of metrics and arms are
stacked into ``(experiments, metrics, arms)`` arrays and analysed in one
call each. Corrections within each experiment (``family='experiment'`` or
``'experiment-treatment'``) are local to a chunk; ``'metric'`` and ``'all'``
span the archive and are exact: a first pass collects the raw p-values (8
bytes per output row), corrects them together, and a second pass recomputes
each chunk and decides with the global adjusted p-values. The output is
written to a temporary file beside ``output`` and renamed when complete, so
an interrupted run leaves no partial output.

Three stages overlap, each a thread: reading and decoding the next batch
(whole Parquet row groups), checking and analysing the next chunk, and the
rank tests, bootstrap, decisions and writing of the current one; most of
their work (Arrow, NumPy, the kernels) runs without the GIL. Chunks still go
through every stage in order, so the output, the error raised for bad input
and the progress are those of a one-thread run. (With Numba's workqueue
threading layer, which cannot run two parallel kernels at once, the middle
stage runs in the main thread.) During a run, glibc keeps freed memory for
the next chunk instead of returning it to the system (see
:func:`fastinf._streaming._reuse_heap`).

Bad input raises :class:`ArchiveError` (a ``ValueError``) naming the file,
column and experiment; with ``errors='skip'`` bad experiments are left out
(and out of every correction family) and listed, with their reason and
file, in ``OUTPUT.skipped.csv``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fastinf._analyzer import (  # _FLOAT_COLUMNS, _output_schema: for tests and fastinf.dask
    _FLOAT_COLUMNS,  # noqa: F401
    OUTPUT_COLUMNS,
    UNIT_OUTPUT_COLUMNS,
    _Analyzer,
    _Chunk,
    _output_schema,  # noqa: F401
)
from fastinf._reanalyze_config import _choice, _Options, _options_iv, load_config, load_metrics
from fastinf._streaming import (
    _chunks,
    _kernels_concurrent,
    _locator,
    _make_progress,
    _Output,
    _prefetched,
    _reuse_heap,
    _SeenIds,
    _write_skipped,
)
from fastinf._unit_archive import UnitChunk, UnitLayout, check_unit_schema
from fastinf.archive import (
    ArchiveError,
    Layout,
    check_schema,
    detect_schema,
    find_sources,
    normalize,
    read_schema,
)

__all__ = [
    "ArchiveError",
    "DEFAULT_CHUNK_ROWS",
    "OUTPUT_COLUMNS",
    "RunSummary",
    "UNIT_OUTPUT_COLUMNS",
    "load_config",
    "load_metrics",
    "reanalyze",
    "reanalyze_table",
]

#: Rows per chunk by default (a few hundred MB at most, all temporaries included).
#: Input rows per chunk: Arrow's default Parquet row group (2**20). Larger
#: chunks spread each chunk's fixed costs (grouping, the contrasts, an output
#: row group) over more rows; the arrays of a few chunks in flight stay
#: within a few hundred MB for unit-level rows.
DEFAULT_CHUNK_ROWS = 1 << 20

@dataclass(frozen=True)
class RunSummary:
    """What a :func:`reanalyze` run did.

    Attributes
    ----------
    input, output : str
        The paths read and written; ``format`` is 'parquet' or 'csv'.
    rows_read : int
        Input rows (of one pass).
    experiments, metrics, output_rows : int
        Experiments analysed, distinct metrics among them, output rows.
    skipped_experiments : int
        Experiments left out under ``errors='skip'``; listed in
        ``skipped_path`` (None under ``errors='raise'``).
    significant, ship, invalid_rows : int
        Rows significant after the correction, rows whose decision is
        'ship', rows whose statistic was undefined.
    decisions : dict
        Rows per decision.
    passes : int
        Passes over the input (2 for the archive-wide families).
    seconds, rows_per_second : float
        Wall time of the run and input rows per second (all passes).
    notes : tuple of str
        Remarks worth a user's attention (e.g. a guardrail metric that no
        experiment has).
    bootstrap : str or None
        Unit-level input: the bootstrap method of the intervals (with
        ``n_resamples`` and ``seed``); None for sufficient statistics.
    """

    input: str
    output: str
    format: str
    rows_read: int
    experiments: int
    metrics: int
    output_rows: int
    skipped_experiments: int
    skipped_path: str | None
    significant: int
    ship: int
    invalid_rows: int
    decisions: dict[str, int] = field(default_factory=dict)
    passes: int = 1
    seconds: float = 0.0
    rows_per_second: float = 0.0
    notes: tuple[str, ...] = ()
    bootstrap: str | None = None
    n_resamples: int = 0
    seed: int = 0

    def __str__(self) -> str:
        lines = [
            f"read {self.rows_read:,} rows from {self.input}; analysed {self.experiments:,} "
            f"experiments, {self.metrics:,} metrics; wrote {self.output_rows:,} rows to "
            f"{self.output} ({self.format})",
            f"significant: {self.significant:,}; decisions: "
            + ", ".join(f"{k} {v:,}" for k, v in self.decisions.items() if v),
        ]
        if self.skipped_path is not None:
            lines.append(f"skipped {self.skipped_experiments:,} experiments with bad input "
                         f"(listed in {self.skipped_path})")
        if self.invalid_rows:
            lines.append(f"{self.invalid_rows:,} rows invalid (see their `reason`)")
        if self.bootstrap is not None:
            boot = ("no bootstrap" if self.bootstrap == "none" else
                    f"{self.bootstrap} bootstrap intervals ({self.n_resamples:,} resamples, "
                    f"seed {self.seed})")
            lines.append(f"unit-level input: Mann-Whitney p-values, {boot}")
        lines.append(f"{self.seconds:.2f} s, {self.rows_per_second:,.0f} rows/s"
                     + (f", {self.passes} passes" if self.passes > 1 else ""))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


# --------------------------------------------------------------------------
# the in-memory entry


def reanalyze_table(
    table: Any,
    *,
    control: str = "control",
    metrics: Any = None,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    correction: str | None = "fdr_bh",
    family: str = "experiment",
    cuped: bool = True,
    min_effect: float = 0.0,
    relative_min_effect: bool = True,
    guardrails: Iterable[str] = (),
    errors: str = "raise",
    skipped: list[tuple[Any, str, str]] | None = None,
    bootstrap: str = "poisson",
    n_resamples: int = 999,
    seed: int = 0,
) -> Any:
    """Re-analyse an in-memory archive: a :class:`pyarrow.Table` in, a Table out.

    Parameters
    ----------
    table : pyarrow.Table
        Rows in the sufficient-statistics schema of :mod:`fastinf.archive`
        or the unit-level schema of :mod:`fastinf._unit_archive` (anything
        :func:`pyarrow.table` accepts). Unlike the files read by
        :func:`reanalyze`, it need not be clustered by experiment.
    control, metrics, alpha, alternative, correction, family, cuped, min_effect, relative_min_effect, guardrails, errors, bootstrap, n_resamples, seed
        As for :func:`reanalyze`.
    skipped : list, optional
        With ``errors='skip'`` (where it is required), receives
        ``(experiment_id, reason, '<table>')`` for each experiment left out.

    Returns
    -------
    pyarrow.Table
        The columns :data:`OUTPUT_COLUMNS` (unit-level input:
        :data:`UNIT_OUTPUT_COLUMNS`), one row per experiment x metric x
        treatment.

    Examples
    --------
    >>> import pyarrow as pa
    >>> from fastinf.reanalyze import reanalyze_table
    >>> archive = pa.table({
    ...     "experiment_id": ["e1", "e1"], "metric": ["signup", "signup"],
    ...     "variant": ["control", "new"], "n": [50_000, 50_000],
    ...     "sum": [4_820, 5_140], "sum_sq": [4_820, 5_140],
    ...     "metric_type": ["binomial", "binomial"]})
    >>> out = reanalyze_table(archive)
    >>> out.column("variant")[0].as_py(), round(out.column("p_value")[0].as_py(), 6)
    ('new', 0.000727)
    >>> out.column("decision")[0].as_py()
    'ship'
    """
    import pyarrow as pa

    opts = _options_iv(control, metrics, alpha, alternative, correction, family, cuped,
                       min_effect, relative_min_effect, guardrails, errors, 1, bootstrap,
                       n_resamples, seed)
    if opts.errors == "skip" and skipped is None:
        raise ArchiveError("with errors='skip', pass a list as `skipped` to receive the "
                           "experiments left out.")
    if not isinstance(table, pa.Table):
        try:
            table = pa.table(table)
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise ArchiveError(f"`table` must be a pyarrow Table (or convertible): {exc}") from None
    where_name = "<table>"
    layout = _layout_of(table.schema, where_name, opts)
    if table.num_rows == 0:
        raise ArchiveError(f"{where_name}: the input has no rows.")
    an = _Analyzer(opts, layout)
    where = lambda r: (where_name, r + 1)  # noqa: E731
    uc = None
    if isinstance(layout, UnitLayout):
        ch, uc = an.unit_contrasts(layout.normalize(table), where, clustered=False)
    else:
        ch = an.contrasts(normalize(table, layout), where, clustered=False)
    if skipped is not None:
        skipped.extend(ch.grouped.bad)
    return an.finish(ch, an.adjust(ch.p, an.labels(ch)), uc)


def _layout_of(schema: Any, where: str, opts: _Options, csv: bool = False) -> Layout | UnitLayout:
    """The layout of a source: sufficient statistics, or unit-level rows."""
    if detect_schema(list(schema.names)) == "unit":
        return check_unit_schema(schema, where, spec=opts.spec, cuped=opts.cuped, csv=csv)
    return check_schema(schema, where, spec_types=bool(opts.spec), csv=csv)


# --------------------------------------------------------------------------
# the run



def _output_format(output: str, fmt: str | None) -> str:
    if fmt is None:
        return "csv" if output.lower().endswith(".csv") else "parquet"
    return _choice(fmt, "format", ("parquet", "csv"))


def _check_sources(in_text: str, opts: Any) -> tuple[list[Any], Any]:
    """The input's files, each with its schema checked, and their merged layout (both engines)."""
    layout: Any = None
    checked = []
    for src in find_sources(in_text):
        schema, src = read_schema(src)
        lay: Any = _layout_of(schema, src.path, opts, csv=src.kind == "csv")
        if layout is not None and type(lay) is not type(layout):
            raise ArchiveError(
                f"{src.path}: the files mix unit-level rows and sufficient statistics; give "
                "one kind at a time.")
        layout = lay if layout is None else layout.merge(lay)
        checked.append(src)
    assert layout is not None
    return checked, layout


def reanalyze(
    input: Any,  # noqa: A002 - the command's word
    output: Any,
    *,
    control: str = "control",
    metrics: Any = None,
    alpha: float = 0.05,
    alternative: str = "two-sided",
    correction: str | None = "fdr_bh",
    family: str = "experiment",
    cuped: bool = True,
    min_effect: float = 0.0,
    relative_min_effect: bool = True,
    guardrails: Iterable[str] = (),
    errors: str = "raise",
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    format: str | None = None,  # noqa: A002 - the option's name
    progress: Any = None,
    bootstrap: str = "poisson",
    n_resamples: int = 999,
    seed: int = 0,
) -> RunSummary:
    """Re-analyse an archive of experiments, streaming it chunk by chunk to ``output``.

    Parameters
    ----------
    input : str or path
        A Parquet file, a folder of Parquet/CSV files (searched recursively,
        read in sorted path order), a glob pattern, or a CSV file (``.csv``,
        ``.csv.gz``), in the schema of :mod:`fastinf.archive` or the
        unit-level schema of :mod:`fastinf._unit_archive`, clustered by
        experiment.
    output : str or path
        The output file (Parquet, or CSV for a ``.csv`` name or
        ``format='csv'``); replaced atomically when the run completes.
    control : str
        Name of the control variant of every experiment.
    metrics : str, path or mapping, optional
        A metrics spec (file or mapping, see :func:`load_metrics`): per
        metric its type, whether it is a guardrail, whether higher is better
        and its ``min_effect``.
    alpha : float
        Significance level; intervals have confidence ``1 - alpha``.
    alternative : {'two-sided', 'greater', 'less'}
        'greater': the treatment is higher than the control.
    correction : str or None
        A method of :func:`fastinf.multitest.multipletests` ('fdr_bh',
        'holm', 'bonferroni', ...), or None (or 'none').
    family : {'experiment', 'experiment-treatment', 'metric', 'all'}
        Rows corrected together: all metrics and treatments of an
        experiment; one treatment's metrics; each metric across the archive;
        everything. The last two read the input twice.
    cuped : bool
        Use the covariate sums where given (CUPED).
    min_effect : float
        Smallest effect worth shipping (the spec may set it per metric).
    relative_min_effect : bool
        Whether ``min_effect`` is relative (a fraction of the control) or
        absolute.
    guardrails : iterable of str
        Guardrail metrics: a significant harm blocks shipping the treatment.
    errors : {'raise', 'skip'}
        Bad input raises :class:`ArchiveError`, or ('skip') leaves out the
        experiments concerned and lists them in ``OUTPUT.skipped.csv``.
    chunk_rows : int
        About how many input rows are analysed at a time (whole experiments;
        a chunk grows to hold an experiment larger than this); default
        :data:`DEFAULT_CHUNK_ROWS` (1 048 576).
    format : {'parquet', 'csv'}, optional
        Output format; by default from the output's suffix.
    progress : bool or Progress, optional
        A progress bar on standard error: by default when it is a terminal.
    bootstrap : {'poisson', 'percentile', 'basic', 'BCa', 'none'}
        Unit-level input: the interval of ``boot_ci_low``/``boot_ci_high``.
        'poisson' (the default): the mergeable Poisson-bootstrap percentile
        interval of :mod:`fastinf.units`, one parallel call per chunk; the
        others: :func:`fastinf.bootstrap` with multinomial resampling, one
        call per experiment (slower on many small experiments); 'none': NaN.
    n_resamples : int
        Unit-level input: bootstrap resamples (999).
    seed : int
        Unit-level input: the bootstrap's seed (0): the same seed gives the
        same intervals, whatever the chunking or the order of the files.

    Returns
    -------
    RunSummary

    Examples
    --------
    >>> import os, tempfile
    >>> import pyarrow as pa, pyarrow.parquet as pq
    >>> from fastinf.reanalyze import reanalyze
    >>> folder = tempfile.mkdtemp()
    >>> pq.write_table(pa.table({
    ...     "experiment_id": [1, 1, 1, 1], "metric": ["signup", "signup", "revenue", "revenue"],
    ...     "variant": ["control", "new"] * 2, "n": [50_000] * 4,
    ...     "sum": [4_820, 5_140, 251_000, 249_500],
    ...     "sum_sq": [4_820, 5_140, 5_300_000, 5_280_000],
    ...     "metric_type": ["binomial", "binomial", "mean", "mean"]}),
    ...     os.path.join(folder, "archive.parquet"))
    >>> summary = reanalyze(os.path.join(folder, "archive.parquet"),
    ...                     os.path.join(folder, "results.parquet"), progress=False)
    >>> summary.output_rows, summary.ship
    (2, 1)
    >>> pq.read_table(os.path.join(folder, "results.parquet")).column("metric").to_pylist()
    ['revenue', 'signup']
    """
    t0 = time.perf_counter()
    opts = _options_iv(control, metrics, alpha, alternative, correction, family, cuped,
                       min_effect, relative_min_effect, guardrails, errors, chunk_rows,
                       bootstrap, n_resamples, seed)
    in_text = os.fspath(input)
    out_path = os.fspath(output)
    fmt = _output_format(out_path, format)
    sources, layout = _check_sources(in_text, opts)
    if os.path.isdir(out_path):
        raise ArchiveError(f"{out_path}: the output is a folder; give a file name.")
    folder = os.path.dirname(os.path.abspath(out_path))
    if not os.path.isdir(folder):
        raise ArchiveError(f"{out_path}: the output's folder {folder} does not exist.")
    real_out = os.path.realpath(out_path)
    if any(os.path.realpath(s.path) == real_out for s in sources):
        raise ArchiveError(f"{out_path}: the output would overwrite an input file.")
    known = [s.rows for s in sources]
    rows_known = None if any(r is None for r in known) else sum(r for r in known if r is not None)
    if rows_known == 0:
        raise ArchiveError(f"{in_text}: the input has no rows.")
    wide = opts.correction is not None and opts.family in ("metric", "all")
    passes = 2 if wide and (rows_known is None or rows_known >= opts.chunk_rows) else 1
    total = float(sum(s.size for s in sources)) * passes
    skipped_path = out_path + ".skipped.csv" if opts.errors == "skip" else None

    bar = _make_progress(progress, total)
    an = _Analyzer(opts, layout)
    state = {"rows": 0, "experiments": 0, "base": 0.0}

    def on_batch(k: int, done: float) -> None:
        state["rows"] += k
        bar.update(state["base"] + done, rows=int(state["rows"]),
                   experiments=int(state["experiments"]))

    def run_pass(label: str) -> Iterator[tuple[_Chunk, UnitChunk | None]]:
        # The checks and contrasts of the next chunk overlap with the rank
        # tests, decisions and writing of this one, where kernels may run
        # in two threads at once.
        analysed = analyse_pass(label)
        return _prefetched(analysed) if _kernels_concurrent() else analysed

    def analyse_pass(label: str) -> Iterator[tuple[_Chunk, UnitChunk | None]]:
        seen = _SeenIds()
        state["rows"] = 0
        state["experiments"] = 0
        bar.label = label
        for table, pieces in _chunks(sources, layout, opts.chunk_rows, on_batch):
            where = _locator(sources, pieces)
            uc = None
            if an.units is not None:
                ch, uc = an.unit_contrasts(table, where, clustered=True,
                                           check_new=seen.first_seen)
            else:
                ch = an.contrasts(table, where, clustered=True, check_new=seen.first_seen)
            state["experiments"] += ch.grouped.experiments + len(ch.grouped.bad)
            yield ch, uc

    out: _Output | None = None
    restore_heap = _reuse_heap()
    try:
        global_adj = None
        if passes == 2:
            ps, labels = [], []
            for ch, _ in run_pass("pass 1/2"):
                ps.append(ch.p)
                labels.append(an.labels(ch).astype(np.int32 if opts.family == "metric" else np.int8))
            state["base"] = total / 2
            p_all = np.concatenate(ps) if ps else np.zeros(0)
            lab = np.concatenate(labels).astype(np.int64) if labels else np.zeros(0, np.int64)
            del ps, labels
            global_adj = an.adjust(p_all, lab)
            del p_all, lab
        out = _Output(out_path, fmt, an.schema)
        offset = 0
        counts = dict(experiments=0, output_rows=0, significant=0)
        decisions: dict[str, int] = {}
        bad: list[tuple[Any, str, str]] = []
        for ch, uc in run_pass("pass 2/2" if passes == 2 else ""):
            n_out = ch.p.size
            if global_adj is not None:
                if offset + n_out > global_adj.size:
                    raise ArchiveError(f"{in_text}: the input changed between the two passes.")
                p_adj = global_adj[offset:offset + n_out]
            else:
                p_adj = an.adjust(ch.p, an.labels(ch))
            offset += n_out
            table = an.finish(ch, p_adj) if uc is None else an.finish(ch, p_adj, uc)
            out.write(table)
            bad += ch.grouped.bad
            counts["experiments"] += ch.grouped.experiments
            counts["output_rows"] += n_out
            counts["significant"] += int(np.count_nonzero(table.column("significant")))
            for name, k in _value_counts(table.column("decision")).items():
                decisions[name] = decisions.get(name, 0) + k
        if state["rows"] == 0:
            raise ArchiveError(f"{in_text}: the input has no rows.")
        if global_adj is not None and offset != global_adj.size:
            raise ArchiveError(f"{in_text}: the input changed between the two passes.")
        out.commit()
        out = None
        if skipped_path is not None:
            _write_skipped(skipped_path, bad)
        bar.update(total, rows=int(state["rows"]), experiments=int(state["experiments"]),
                   force=True)
    except BaseException:
        if out is not None:
            out.abort()
        raise
    finally:
        bar.close()
        restore_heap()
    seconds = time.perf_counter() - t0
    notes = []
    seen_names = {an.metrics.names[i] for i in an.metric_seen}
    for g in sorted(opts.guardrails):
        if g not in seen_names:
            notes.append(f"guardrail metric {g!r} is not among the analysed metrics")
    from fastinf.experiment import DECISIONS

    return RunSummary(
        input=in_text, output=out_path, format=fmt, rows_read=int(state["rows"]),
        experiments=counts["experiments"], metrics=len(an.metric_seen),
        output_rows=counts["output_rows"], skipped_experiments=len(bad),
        skipped_path=skipped_path, significant=counts["significant"],
        ship=decisions.get("ship", 0), invalid_rows=decisions.get("invalid", 0),
        decisions={d: decisions.get(d, 0) for d in DECISIONS}, passes=passes,
        seconds=seconds, rows_per_second=state["rows"] * passes / seconds if seconds > 0 else 0.0,
        notes=tuple(notes), bootstrap=opts.bootstrap if an.units is not None else None,
        n_resamples=opts.n_resamples, seed=opts.seed,
    )


def _value_counts(col: Any) -> dict[str, int]:
    import pyarrow.compute as pc

    vc = pc.value_counts(col)
    return {str(v): int(c) for v, c in zip(vc.field("values").to_pylist(),
                                            vc.field("counts").to_pylist(), strict=True)}
