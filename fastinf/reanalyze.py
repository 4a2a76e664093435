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

Bad input raises :class:`ArchiveError` (a ``ValueError``) naming the file,
column and experiment; with ``errors='skip'`` bad experiments are left out
(and out of every correction family) and listed, with their reason and
file, in ``OUTPUT.skipped.csv``.
"""

from __future__ import annotations

import difflib
import math
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fastinf.archive import (
    METRIC_TYPES,
    ArchiveError,
    Grouped,
    Layout,
    MetricSpec,
    MetricTable,
    Source,
    check_schema,
    find_sources,
    group_chunk,
    iter_batches,
    normalize,
    parse_metrics,
    read_schema,
)
from fastinf.progress import Progress

__all__ = [
    "ArchiveError",
    "DEFAULT_CHUNK_ROWS",
    "OUTPUT_COLUMNS",
    "RunSummary",
    "load_config",
    "load_metrics",
    "reanalyze",
    "reanalyze_table",
]

#: Rows per chunk by default (a few hundred MB at most, all temporaries included).
DEFAULT_CHUNK_ROWS = 1 << 18

_FLOAT_COLUMNS = (
    ("control_n", "control_n"), ("treatment_n", "treatment_n"),
    ("control_estimate", "control_estimate"), ("treatment_estimate", "treatment_estimate"),
    ("estimate", "difference"), ("ci_low", "ci_low"), ("ci_high", "ci_high"),
    ("relative_difference", "relative_difference"), ("relative_ci_low", "relative_ci_low"),
    ("relative_ci_high", "relative_ci_high"), ("statistic", "statistic"), ("df", "df"),
    ("p_value", "p_value"), ("p_value_adjusted", "p_value_adjusted"),
    ("effect_size", "effect_size"), ("srm_p_value", "srm_p_value"), ("theta", "theta"),
    ("variance_reduction", "variance_reduction"),
)
_BOOL_COLUMNS = ("significant", "guardrail_violated")
#: Names of the output columns, in order.
OUTPUT_COLUMNS = (
    "experiment_id", "metric", "variant", "metric_type",
    *(name for name, _ in _FLOAT_COLUMNS), *_BOOL_COLUMNS, "decision", "reason",
)
_ALTERNATIVES = ("two-sided", "greater", "less")
_FAMILIES = ("experiment", "experiment-treatment", "metric", "all")


def _output_schema(id_type: str) -> Any:
    import pyarrow as pa

    fields = [
        ("experiment_id", pa.int64() if id_type == "int64" else pa.string()),
        ("metric", pa.string()), ("variant", pa.string()), ("metric_type", pa.string()),
        *((name, pa.float64()) for name, _ in _FLOAT_COLUMNS),
        *((name, pa.bool_()) for name in _BOOL_COLUMNS),
        ("decision", pa.string()), ("reason", pa.string()),
    ]
    return pa.schema(fields)


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
        lines.append(f"{self.seconds:.2f} s, {self.rows_per_second:,.0f} rows/s"
                     + (f", {self.passes} passes" if self.passes > 1 else ""))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


# --------------------------------------------------------------------------
# options


@dataclass(frozen=True)
class _Options:
    control: str
    spec: dict[str, MetricSpec]
    guardrails: frozenset[str]
    alpha: float
    alternative: str
    correction: str | None
    family: str
    cuped: bool
    min_effect: float
    relative_min_effect: bool
    errors: str
    chunk_rows: int


def _choice(value: Any, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        close = difflib.get_close_matches(str(value), choices, n=1)
        more = f" (did you mean {close[0]!r}?)" if close else ""
        raise ArchiveError(f"`{name}` must be one of {', '.join(choices)}; got {value!r}{more}.")
    return str(value)


def _options_iv(
    control: Any, metrics: Any, alpha: Any, alternative: Any, correction: Any, family: Any,
    cuped: Any, min_effect: Any, relative_min_effect: Any, guardrails: Any, errors: Any,
    chunk_rows: Any,
) -> _Options:
    from fastinf.multitest import _METHOD

    if not isinstance(control, str) or not control:
        raise ArchiveError("`control` must be the (non-empty) name of the control variant.")
    if metrics is None:
        spec: dict[str, MetricSpec] = {}
    elif isinstance(metrics, Mapping):
        spec = parse_metrics(metrics)
    else:
        spec = load_metrics(metrics)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ArchiveError(f"`alpha` must be a number in (0, 1); got {alpha!r}.")
    if correction in (None, "none"):
        correction = None
    elif correction not in _METHOD:
        _choice(correction, "correction", ["none", *sorted(set(_METHOD.values()))])
    for name, value in (("cuped", cuped), ("relative_min_effect", relative_min_effect)):
        if not isinstance(value, bool):
            raise ArchiveError(f"`{name}` must be True or False; got {value!r}.")
    if (isinstance(min_effect, bool) or not isinstance(min_effect, (int, float))
            or not math.isfinite(min_effect) or min_effect < 0):
        raise ArchiveError(f"`min_effect` must be a number >= 0; got {min_effect!r}.")
    if isinstance(guardrails, str):
        guardrails = (guardrails,)
    guardrails = tuple(guardrails)
    if not all(isinstance(g, str) for g in guardrails):
        raise ArchiveError("`guardrails` must be metric names.")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ArchiveError(f"`chunk_rows` must be a positive integer; got {chunk_rows!r}.")
    return _Options(
        control=control, spec=spec, guardrails=frozenset(guardrails), alpha=float(alpha),
        alternative=_choice(alternative, "alternative", _ALTERNATIVES),
        correction=None if correction is None else str(correction),
        family=_choice(family, "family", _FAMILIES), cuped=cuped, min_effect=float(min_effect),
        relative_min_effect=relative_min_effect, errors=_choice(errors, "errors", ("raise", "skip")),
        chunk_rows=chunk_rows,
    )


def _read_mapping(path: str, what: str) -> dict[str, Any]:
    import json

    low = path.lower()
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read the {what} ({exc.strerror or exc}).") from None
    try:
        if low.endswith(".toml"):
            try:
                import tomllib
            except ImportError:  # Python < 3.11
                import tomli as tomllib  # type: ignore[no-redef]
            data = tomllib.loads(raw.decode("utf-8"))
        elif low.endswith((".yaml", ".yml")):
            try:
                import yaml
            except ImportError:
                raise ArchiveError(
                    f"{path}: reading YAML needs PyYAML (pip install pyyaml); or write the "
                    f"{what} as TOML or JSON.") from None
            data = yaml.safe_load(raw.decode("utf-8"))
        elif low.endswith(".json"):
            data = json.loads(raw.decode("utf-8"))
        else:
            raise ArchiveError(f"{path}: the {what} must be a .toml, .yaml/.yml or .json file.")
    except ArchiveError:
        raise
    except Exception as exc:  # each parser has its own error class
        raise ArchiveError(f"{path}: cannot parse the {what}: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ArchiveError(f"{path}: the {what} must be a table (a mapping) of settings.")
    return data


def load_metrics(path: Any) -> dict[str, MetricSpec]:
    """Read a metrics spec (TOML, YAML or JSON): ``metric -> type`` or a table of settings.

    Each metric maps to its type (``'binomial'``, ``'mean'``, ``'ratio'``) or
    to a table with any of ``type``, ``guardrail`` (bool),
    ``higher_is_better`` (bool) and ``min_effect`` (number >= 0). A file
    whose only key is ``metrics`` holding such a table is read as that table.
    """
    path = os.fspath(path)
    data = _read_mapping(path, "metrics spec")
    if set(data) == {"metrics"} and isinstance(data["metrics"], Mapping):
        data = dict(data["metrics"])
    return parse_metrics(data, path)


#: Keys of a config file: the options of :func:`reanalyze` and of the command.
CONFIG_KEYS = (
    "control", "metrics", "alpha", "alternative", "correction", "family", "cuped",
    "min_effect", "relative_min_effect", "guardrails", "errors", "chunk_rows", "format",
    "quiet", "report", "bootstrap_method", "n_resamples",
)
_CONFIG_ALIASES = {"sides": "alternative", "guardrail": "guardrails", "resamples": "n_resamples"}


def load_config(path: Any) -> dict[str, Any]:
    """Read a config file (TOML, YAML or JSON) holding the command's options.

    Keys are the options' long names, with ``_`` or ``-`` (``alpha``,
    ``alternative``, ``correction``, ``family``, ``cuped``, ``min_effect``,
    ``relative_min_effect``, ``guardrails``, ``control``, ``metrics`` (a
    spec file, relative to the config file, or an inline table),
    ``errors``, ``chunk_rows``, ``format``, ``quiet``, ``report``,
    ``bootstrap_method``, ``n_resamples``); a file whose only key is
    ``reanalyze`` is read as that table. Returns a dict of those names.
    """
    path = os.fspath(path)
    data = _read_mapping(path, "config file")
    if set(data) == {"reanalyze"} and isinstance(data["reanalyze"], Mapping):
        data = dict(data["reanalyze"])
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        name = _CONFIG_ALIASES.get(name, name)
        if name not in CONFIG_KEYS:
            close = difflib.get_close_matches(name, CONFIG_KEYS, n=1)
            more = f" (did you mean {close[0]!r}?)" if close else ""
            raise ArchiveError(f"{path}: unknown option {key!r}{more}.")
        out[name] = value
    m = out.get("metrics")
    if isinstance(m, str) and not os.path.isabs(m):
        out["metrics"] = os.path.join(os.path.dirname(os.path.abspath(path)), m)
    if isinstance(m, Mapping):
        parse_metrics(m, f"{path}: metrics")  # check it here, to name the file
    return out


# --------------------------------------------------------------------------
# the analysis of one chunk


@dataclass(frozen=True, eq=False)
class _Chunk:
    grouped: Grouped
    parts: list[tuple[Any, Any]]  # (validated input, contrasts) per batch
    p: np.ndarray  # raw p-value per output row
    metric: np.ndarray  # global metric id per output row
    treatment: np.ndarray  # treatment index (0-based) per output row
    variant: np.ndarray  # chunk-local variant code per output row
    mtype: np.ndarray  # metric type code per output row


class _Analyzer:
    """Checks, groups and analyses chunks with fixed options; owns the metric ids."""

    def __init__(self, opts: _Options, layout: Layout) -> None:
        self.opts = opts
        self.layout = layout
        self.metrics = MetricTable(opts.spec, opts.guardrails, opts.min_effect)
        self.schema = _output_schema(layout.id_type)
        self.metric_seen: set[int] = set()

    def contrasts(self, table: Any, where: Any, *, clustered: bool, check_new: Any = None) -> _Chunk:
        from fastinf.experiment import _analyze_iv, _contrasts

        o = self.opts
        g = group_chunk(
            table, where, control=o.control, metrics=self.metrics, cuped=o.cuped,
            layout=self.layout, errors="raise" if o.errors == "raise" else "skip",
            clustered=clustered, check_new=check_new,
        )
        n = g.n_out
        p = np.empty(n)
        metric = np.empty(n, dtype=np.int64)
        treatment = np.empty(n, dtype=np.int64)
        variant = np.empty(n, dtype=np.int64)
        mtype = np.empty(n, dtype=np.int8)
        types = np.array(METRIC_TYPES)
        min_eff = np.asarray(self.metrics.min_effects, dtype=np.float64)
        hib = np.asarray(self.metrics.higher_is_better, dtype=bool)
        guard = np.asarray(self.metrics.guardrail, dtype=bool)
        parts = []
        for b in g.batches:
            s = b.stats
            E, M, A = s["n"].shape
            T = A - 1
            iv = _analyze_iv(
                s["n"], s["sum"], s["sum_sq"], types[b.metric_type], s.get("cov_sum"),
                s.get("cov_sum_sq"), s.get("cross_sum"), s.get("den_sum"), s.get("den_sum_sq"),
                s.get("num_den_sum"), o.alpha, o.alternative, 0.0, False,
                min_eff[b.metric_id], o.relative_min_effect, hib[b.metric_id],
                guard[b.metric_id], None, "experiment", None, "coerce",
            )
            c = _contrasts(iv)
            parts.append((iv, c))
            p[b.dest] = c.p.reshape(-1)
            metric[b.dest] = np.repeat(b.metric_id.reshape(-1), T)
            treatment[b.dest] = np.tile(np.arange(T), E * M)
            variant[b.dest] = np.repeat(b.variant, M, axis=0).reshape(-1)
            mtype[b.dest] = np.repeat(b.metric_type.reshape(-1), T)
        return _Chunk(g, parts, p, metric, treatment, variant, mtype)

    def labels(self, ch: _Chunk) -> np.ndarray:
        """Family label of each output row (within the chunk for the experiment families)."""
        fam = self.opts.family
        if fam == "experiment":
            return ch.grouped.out_experiment
        if fam == "experiment-treatment":
            width = int(ch.treatment.max(initial=0)) + 1
            return ch.grouped.out_experiment * width + ch.treatment
        if fam == "metric":
            return ch.metric
        return np.zeros(ch.p.size, dtype=np.int64)

    def adjust(self, p: np.ndarray, labels: np.ndarray) -> np.ndarray:
        from fastinf.experiment import _adjust_labels

        if self.opts.correction is None or p.size == 0:
            return p.copy()
        return _adjust_labels(p, labels, self.opts.correction)

    def finish(self, ch: _Chunk, p_adj: np.ndarray) -> Any:
        """The output table of a chunk, deciding with the adjusted p-values ``p_adj``."""
        import pyarrow as pa

        from fastinf.experiment import DECISIONS, REASONS, _decide

        n = ch.p.size
        out = {name: np.empty(n) for name, _ in _FLOAT_COLUMNS}
        flags = {name: np.empty(n, dtype=bool) for name in _BOOL_COLUMNS}
        decision = np.empty(n, dtype=np.int8)
        reason = np.empty(n, dtype=np.int8)
        adjusted = self.opts.correction is not None
        for b, (iv, c) in zip(ch.grouped.batches, ch.parts, strict=True):
            res = _decide(iv, c, p_adj[b.dest], adjusted)
            for name, src in _FLOAT_COLUMNS:
                out[name][b.dest] = getattr(res, src)
            for name in _BOOL_COLUMNS:
                flags[name][b.dest] = getattr(res, name)
            decision[b.dest] = res.decision
            reason[b.dest] = res.reason
        self.metric_seen.update(int(m) for m in ch.grouped.metric_ids)
        g = ch.grouped
        cols = [
            g.experiment_ids.take(pa.array(g.out_experiment)),
            pa.array(self.metrics.names, pa.string()).take(pa.array(ch.metric)),
            g.variant_names.take(pa.array(ch.variant)),
            pa.array(METRIC_TYPES, pa.string()).take(pa.array(ch.mtype)),
            *(pa.array(out[name]) for name, _ in _FLOAT_COLUMNS),
            *(pa.array(flags[name]) for name in _BOOL_COLUMNS),
            pa.array(DECISIONS, pa.string()).take(pa.array(decision)),
            pa.array(REASONS, pa.string()).take(pa.array(reason)),
        ]
        return pa.Table.from_arrays(cols, schema=self.schema)


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
) -> Any:
    """Re-analyse an in-memory archive: a :class:`pyarrow.Table` in, a Table out.

    Parameters
    ----------
    table : pyarrow.Table
        Rows in the sufficient-statistics schema of :mod:`fastinf.archive`
        (anything :func:`pyarrow.table` accepts). Unlike the files read by
        :func:`reanalyze`, it need not be clustered by experiment.
    control, metrics, alpha, alternative, correction, family, cuped, min_effect, relative_min_effect, guardrails, errors
        As for :func:`reanalyze`.
    skipped : list, optional
        With ``errors='skip'`` (where it is required), receives
        ``(experiment_id, reason, '<table>')`` for each experiment left out.

    Returns
    -------
    pyarrow.Table
        The columns :data:`OUTPUT_COLUMNS`, one row per experiment x metric
        x treatment.

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
                       min_effect, relative_min_effect, guardrails, errors, 1)
    if opts.errors == "skip" and skipped is None:
        raise ArchiveError("with errors='skip', pass a list as `skipped` to receive the "
                           "experiments left out.")
    if not isinstance(table, pa.Table):
        try:
            table = pa.table(table)
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise ArchiveError(f"`table` must be a pyarrow Table (or convertible): {exc}") from None
    where_name = "<table>"
    layout = check_schema(table.schema, where_name, spec_types=bool(opts.spec))
    if table.num_rows == 0:
        raise ArchiveError(f"{where_name}: the input has no rows.")
    an = _Analyzer(opts, layout)
    ch = an.contrasts(normalize(table, layout), lambda r: (where_name, r + 1), clustered=False)
    if skipped is not None:
        skipped.extend(ch.grouped.bad)
    return an.finish(ch, an.adjust(ch.p, an.labels(ch)))


# --------------------------------------------------------------------------
# streaming


class _SeenIds:
    """The experiment ids already processed: sorted int64 runs merged like an LSM tree.

    Integer ids are kept as themselves; string ids as their 64-bit hash (a
    false "seen again" needs a hash collision: odds about ``n**2 / 2**65``).
    8 bytes per experiment.
    """

    def __init__(self) -> None:
        self.levels: list[np.ndarray] = []

    @staticmethod
    def keys(ids: Any) -> np.ndarray:
        import pyarrow as pa

        if pa.types.is_integer(ids.type):
            return np.asarray(ids.to_numpy(), dtype=np.int64)
        return np.fromiter(map(hash, ids.to_pylist()), dtype=np.int64, count=len(ids))

    def first_seen(self, ids: Any) -> int:
        """Index of the first of ``ids`` seen before (-1: none); then remember them all."""
        keys = self.keys(ids)
        hit = np.zeros(keys.size, dtype=bool)
        for level in self.levels:
            i = np.minimum(np.searchsorted(level, keys), level.size - 1)
            hit |= level[i] == keys
        new = np.unique(keys)
        self.levels.append(new)
        while len(self.levels) > 1 and self.levels[-2].size <= 2 * self.levels[-1].size:
            last = self.levels.pop()
            self.levels[-1] = np.union1d(self.levels[-1], last)
        return int(np.argmax(hit)) if hit.any() else -1


def _trailing_start(table: Any) -> int:
    """Row where the last experiment of ``table`` begins (its rows may continue)."""
    import pyarrow.compute as pc

    ids = table.column("experiment_id")
    last = ids[len(ids) - 1]
    other = np.asarray(pc.not_equal(ids, last).to_numpy(zero_copy_only=False), dtype=bool)
    idx = np.flatnonzero(other)
    return int(idx[-1]) + 1 if idx.size else 0


def _chunks(
    sources: Sequence[Source], layout: Layout, chunk_rows: int, on_batch: Any
) -> Iterator[tuple[Any, list[tuple[int, int, int]]]]:
    """Chunks of whole experiments: ``(table, pieces)``.

    ``pieces`` are ``(first chunk row, source index, its row in the source)``
    for each run of rows from one source.
    """
    import pyarrow as pa

    pending: list[Any] = []
    pieces: list[tuple[int, int, int]] = []
    rows = 0
    source_row = [0] * len(sources)
    for batch, si, done in iter_batches(sources, layout, max(1, min(chunk_rows, 1 << 16))):
        k = batch.num_rows
        on_batch(k, done)
        if k == 0:
            continue
        pieces.append((rows, si, source_row[si]))
        source_row[si] += k
        pending.append(batch)
        rows += k
        if rows < chunk_rows:
            continue
        table = pa.concat_tables(pending)
        cut = _trailing_start(table)
        if cut == 0:  # one experiment so far: keep reading
            continue
        ends = [p[0] for p in pieces[1:]] + [rows]
        head = [p for p in pieces if p[0] < cut]
        tail = [(max(s, cut) - cut, i, r + max(cut - s, 0))
                for (s, i, r), end in zip(pieces, ends, strict=True) if end > cut]
        yield table.slice(0, cut), head
        rest = table.slice(cut).combine_chunks()
        pending, pieces, rows = [rest], tail, rest.num_rows
    if rows:
        yield pa.concat_tables(pending), pieces


def _locator(sources: Sequence[Source], pieces: list[tuple[int, int, int]]) -> Any:
    starts = np.array([p[0] for p in pieces], dtype=np.int64)

    def where(row: int) -> tuple[str, int]:
        i = int(np.searchsorted(starts, row, side="right")) - 1
        s, si, r = pieces[i]
        return sources[si].path, r + row - s + 1

    return where


class _Output:
    """An output file written under a temporary name and renamed when complete."""

    def __init__(self, path: str, fmt: str, schema: Any) -> None:
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        folder, name = os.path.split(os.path.abspath(path))
        self.path = path
        self.tmp = os.path.join(folder, f".{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            # Dictionary-encode the string columns only: trying it on the float
            # columns costs more than the rest of the write.
            strings = [f.name for f in schema if f.type == "string"]
            self.writer: Any = (pq.ParquetWriter(self.tmp, schema, use_dictionary=strings)
                                if fmt == "parquet" else pacsv.CSVWriter(self.tmp, schema))
        except OSError as exc:
            self._remove()
            raise ArchiveError(f"{path}: cannot write the output ({exc}).") from None

    def write(self, table: Any) -> None:
        self.writer.write_table(table)

    def commit(self) -> None:
        self.writer.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            self.writer.close()
        except Exception:  # noqa: S110 - already failing; the file is removed next
            pass
        self._remove()

    def _remove(self) -> None:
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


def _write_skipped(path: str, bad: list[tuple[Any, str, str]]) -> None:
    import pyarrow as pa

    table = pa.table({
        "experiment_id": pa.array([str(b[0]) for b in bad], pa.string()),
        "reason": pa.array([b[1] for b in bad], pa.string()),
        "file": pa.array([b[2] for b in bad], pa.string()),
    })
    out = _Output(path, "csv", table.schema)
    try:
        out.write(table)
        out.commit()
    except BaseException:
        out.abort()
        raise


def _output_format(output: str, fmt: str | None) -> str:
    if fmt is None:
        return "csv" if output.lower().endswith(".csv") else "parquet"
    return _choice(fmt, "format", ("parquet", "csv"))


def _make_progress(progress: Any, total: float) -> Progress:
    if isinstance(progress, Progress):
        progress.total = total if progress.total is None else progress.total
        return progress
    if progress is None:
        return Progress(total)
    return Progress(total, enabled=bool(progress))


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
) -> RunSummary:
    """Re-analyse an archive of experiments, streaming it chunk by chunk to ``output``.

    Parameters
    ----------
    input : str or path
        A Parquet file, a folder of Parquet/CSV files (searched recursively,
        read in sorted path order), a glob pattern, or a CSV file (``.csv``,
        ``.csv.gz``), in the schema of :mod:`fastinf.archive`, clustered by
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
        a chunk grows to hold an experiment larger than this).
    format : {'parquet', 'csv'}, optional
        Output format; by default from the output's suffix.
    progress : bool or Progress, optional
        A progress bar on standard error: by default when it is a terminal.

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
                       min_effect, relative_min_effect, guardrails, errors, chunk_rows)
    in_text = os.fspath(input)
    out_path = os.fspath(output)
    fmt = _output_format(out_path, format)
    sources = find_sources(in_text)
    layout: Layout | None = None
    checked = []
    for src in sources:
        schema, src = read_schema(src)
        lay = check_schema(schema, src.path, spec_types=bool(opts.spec), csv=src.kind == "csv")
        layout = lay if layout is None else layout.merge(lay)
        checked.append(src)
    sources = checked
    assert layout is not None
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

    def run_pass(label: str) -> Iterator[_Chunk]:
        seen = _SeenIds()
        state["rows"] = 0
        state["experiments"] = 0
        bar.label = label
        for table, pieces in _chunks(sources, layout, opts.chunk_rows, on_batch):
            ch = an.contrasts(table, _locator(sources, pieces), clustered=True,
                              check_new=seen.first_seen)
            state["experiments"] += ch.grouped.experiments + len(ch.grouped.bad)
            yield ch

    out: _Output | None = None
    try:
        global_adj = None
        if passes == 2:
            ps, labels = [], []
            for ch in run_pass("pass 1/2"):
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
        for ch in run_pass("pass 2/2" if passes == 2 else ""):
            n_out = ch.p.size
            if global_adj is not None:
                if offset + n_out > global_adj.size:
                    raise ArchiveError(f"{in_text}: the input changed between the two passes.")
                p_adj = global_adj[offset:offset + n_out]
            else:
                p_adj = an.adjust(ch.p, an.labels(ch))
            offset += n_out
            table = an.finish(ch, p_adj)
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
        notes=tuple(notes),
    )


def _value_counts(col: Any) -> dict[str, int]:
    import pyarrow.compute as pc

    vc = pc.value_counts(col)
    return {str(v): int(c) for v, c in zip(vc.field("values").to_pylist(),
                                            vc.field("counts").to_pylist(), strict=True)}
