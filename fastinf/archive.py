"""Archives of experiment results for :mod:`fastinf.reanalyze`: the schema, readers and checks.

An *archive* is what an experimentation platform exports: Parquet (one file,
a folder of files, or a glob) or CSV (optionally gzipped), in the
**sufficient-statistics schema**, one row per experiment x metric x variant:

=================  ===================  ==============================================
column             type                 meaning
=================  ===================  ==============================================
``experiment_id``  string or integer    the experiment (CSV: read as strings)
``metric``         string (or integer)  the metric's name
``variant``        string (or integer)  the arm; the control is ``control`` unless
                                        ``control=`` (``--control``) names another
``n``              number               units in the arm (a whole number >= 0)
``sum``            number               sum of the metric over the units; successes
                                        for binomial metrics; the numerator's sum for
                                        ratio metrics
``sum_sq``         number               sum of squares of the metric (may be null for
                                        binomial metrics: 0/1 data have
                                        ``sum_sq == sum``)
``metric_type``    string               ``binomial`` (two-proportion z test),
                                        ``mean`` (Welch's t test) or ``ratio``
                                        (delta method); optional when a metrics spec
                                        gives every metric's type
``cov_sum``,       number, optional     CUPED: sums of a pre-period covariate ``x``,
``cov_sum_sq``,                         of ``x**2`` and of ``x * y``; all three or
``cross_sum``                           none; null in a row: no CUPED for that metric
                                        of that experiment; ignored for ratio metrics
``den_sum``,       number, optional     ratio metrics: sums of the denominator ``w``,
``den_sum_sq``,                         of ``w**2`` and of ``y * w``; all three or
``num_den_sum``                         none; required for ratio metrics
=================  ===================  ==============================================

Other columns are ignored, unless a name is a near miss of a schema column
that is absent (``sum_sqr`` for ``sum_sq``), which is an error. Experiments
may have different metrics and different numbers of treatment arms, but each
metric of an experiment has one row for each of the experiment's variants.

**The archive must be clustered by experiment**: all rows of an experiment
contiguous (in any order inside the experiment), as a platform's export per
experiment is. It is read in chunks of whole experiments, so memory stays
bounded by the chunk, not the archive; an experiment id met again after its
rows ended is an error (a clustering violation, or duplicate rows).

The **unit-level schema** (``experiment_id``, ``variant``, one column per
metric) is recognised and refused for now with a clear message.

This module finds the files (:func:`find_sources`), checks each file's
columns and types (:func:`check_schema`), reads it in batches of normalised
columns (:func:`iter_batches`), and checks and groups a chunk of rows by
experiment (:func:`group_chunk`). Every mistake in the input raises
:class:`ArchiveError` naming the file, the column and the experiment.
"""

from __future__ import annotations

import difflib
import glob
import gzip
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ArchiveError",
    "Layout",
    "MetricSpec",
    "Source",
    "check_schema",
    "find_sources",
    "group_chunk",
    "iter_batches",
    "parse_metrics",
]

KEYS = ("experiment_id", "metric", "variant")
STATS = ("n", "sum", "sum_sq")
COVARIATES = ("cov_sum", "cov_sum_sq", "cross_sum")
RATIO = ("den_sum", "den_sum_sq", "num_den_sum")
TYPE = "metric_type"
NUMERIC = (*STATS, *COVARIATES, *RATIO)
SCHEMA = (*KEYS, *NUMERIC, TYPE)
METRIC_TYPES = ("mean", "binomial", "ratio")  # codes of fastinf.experiment
_MEAN, _BINOMIAL, _RATIO = range(3)
PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz")


class ArchiveError(ValueError):
    """A mistake in the input or the options: the command prints it and exits with 2."""


# --------------------------------------------------------------------------
# files


@dataclass(frozen=True)
class Source:
    """One input file: its path, kind ('parquet' or 'csv'), size in bytes and rows if known."""

    path: str
    kind: str
    size: int
    rows: int | None = None


def _kind(path: str) -> str | None:
    low = path.lower()
    if low.endswith(CSV_SUFFIXES):
        return "csv"
    if low.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


def find_sources(input: Any) -> list[Source]:  # noqa: A002 - the command's word
    """The files of ``input``: a file, a folder (searched recursively) or a glob pattern."""
    text = os.fspath(input)
    if os.path.isdir(text):
        paths = []
        for root, dirs, files in os.walk(text):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            paths += [os.path.join(root, f) for f in files
                      if not f.startswith((".", "_")) and _kind(f) is not None]
        if not paths:
            raise ArchiveError(f"{text}: the folder holds no Parquet or CSV files.")
    elif os.path.exists(text):
        paths = [text]
    elif any(c in text for c in "*?["):
        paths = [p for p in glob.glob(text, recursive=True) if os.path.isfile(p)]
        if not paths:
            raise ArchiveError(f"{text}: no file matches the pattern.")
    else:
        raise ArchiveError(f"{text}: no such file or folder.")
    return [Source(p, _kind(p) or "parquet", os.path.getsize(p)) for p in sorted(paths)]


# --------------------------------------------------------------------------
# columns and types


@dataclass(frozen=True)
class Layout:
    """Which optional columns the archive has, and the type of its experiment ids."""

    has_type: bool
    has_sum_sq: bool
    has_covariates: bool
    has_ratio: bool
    id_type: str  # 'int64' or 'string'

    def merge(self, other: Layout) -> Layout:
        """The layout of two sources read together."""
        return Layout(
            self.has_type or other.has_type, self.has_sum_sq or other.has_sum_sq,
            self.has_covariates or other.has_covariates, self.has_ratio or other.has_ratio,
            "int64" if self.id_type == other.id_type == "int64" else "string",
        )


def _csv_header(path: str) -> list[str]:
    import csv

    opener = gzip.open if path.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", newline="", encoding="utf-8") as f:  # type: ignore[operator]
            return next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise ArchiveError(f"{path}: cannot read the file as CSV ({exc}).") from None


def read_schema(source: Source) -> tuple[Any, Source]:
    """The Arrow schema of a source (CSV: its header, all strings), and the source with its rows."""
    import pyarrow as pa

    if source.kind == "csv":
        names = _csv_header(source.path)
        return pa.schema([(n, pa.string()) for n in names]), source
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(source.path)
        schema = meta.schema.to_arrow_schema()
    except (OSError, pa.ArrowException) as exc:
        raise ArchiveError(f"{source.path}: cannot read the file as Parquet ({exc}).") from None
    return schema, Source(source.path, source.kind, source.size, int(meta.num_rows))


def detect_schema(names: Sequence[str]) -> str | None:
    """'sufficient' or 'unit' (unit-level rows), from the column names; None if neither."""
    have = set(names)
    if {"n", "sum", "metric"} & have:
        return "sufficient"
    if {"experiment_id", "variant"} <= have:
        return "unit"
    return None


def check_schema(schema: Any, where: str, *, spec_types: bool, csv: bool = False) -> Layout:
    """Check the columns and types of one source; its :class:`Layout`.

    ``spec_types``: a metrics spec gives the types, so ``metric_type`` may be
    absent. ``csv``: the types are fixed when reading (numbers as float64,
    the rest as strings), so only the names are checked here.
    """
    import pyarrow as pa

    names = list(schema.names)
    if detect_schema(names) == "unit":
        raise ArchiveError(
            f"{where}: the columns ({', '.join(names)}) look like unit-level rows "
            "(experiment_id, variant, one column per metric); that schema is not supported "
            "yet: aggregate to sufficient statistics (one row per experiment x metric x "
            "variant with n, sum, sum_sq)."
        )
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ArchiveError(f"{where}: duplicate column names: {', '.join(dupes)}.")
    present = set(names)
    unknown = [n for n in names if n not in SCHEMA]
    required = [*KEYS, "n", "sum"] + ([] if spec_types else [TYPE])
    optional_groups = {"sum_sq": ("sum_sq",), "covariates": COVARIATES, "ratio": RATIO}

    def hint(name: str) -> str:
        close = difflib.get_close_matches(name, unknown, n=1, cutoff=0.6)
        return f" (did you mean {close[0]!r}?)" if close else ""

    for name in required:
        if name not in present:
            more = "" if name != TYPE else " (or give a metrics spec with each metric's type)"
            raise ArchiveError(
                f"{where}: missing column {name!r}{hint(name)}{more}; the columns are: "
                f"{', '.join(names)}."
            )
    # A near miss of an absent optional column is a misspelling, not an extra.
    for name in unknown:
        close = difflib.get_close_matches(
            name, [c for c in SCHEMA if c not in present], n=1, cutoff=0.8)
        if close:
            raise ArchiveError(
                f"{where}: column {name!r} is not in the schema; did you mean {close[0]!r}?")
    for group, cols in optional_groups.items():
        have = [c for c in cols if c in present]
        if have and len(have) < len(cols):
            missing = [c for c in cols if c not in present]
            raise ArchiveError(
                f"{where}: the {group} columns come together: {', '.join(have)} without "
                f"{', '.join(missing)}.")

    id_type = "string"
    if not csv:
        for name in names:
            if name not in SCHEMA:
                continue
            t = schema.field(name).type
            if pa.types.is_dictionary(t):
                t = t.value_type
            if name == "experiment_id":
                if pa.types.is_integer(t):
                    id_type = "int64"
                elif not (pa.types.is_string(t) or pa.types.is_large_string(t)):
                    raise ArchiveError(
                        f"{where}: column 'experiment_id' must hold strings or integers; "
                        f"it holds {t}.")
            elif name in ("metric", "variant"):
                if not (pa.types.is_integer(t) or pa.types.is_string(t)
                        or pa.types.is_large_string(t)):
                    raise ArchiveError(
                        f"{where}: column {name!r} must hold strings (or integers); it holds {t}.")
            elif name == TYPE:
                if not (pa.types.is_string(t) or pa.types.is_large_string(t)
                        or pa.types.is_null(t)):
                    raise ArchiveError(f"{where}: column 'metric_type' must hold strings; "
                                       f"it holds {t}.")
            elif not (pa.types.is_integer(t) or pa.types.is_floating(t)
                      or pa.types.is_decimal(t) or pa.types.is_null(t)):
                raise ArchiveError(
                    f"{where}: column {name!r} must be numeric; it holds {t}.")
    return Layout(
        has_type=TYPE in present, has_sum_sq="sum_sq" in present,
        has_covariates=COVARIATES[0] in present, has_ratio=RATIO[0] in present,
        id_type=id_type,
    )


# --------------------------------------------------------------------------
# reading


def normalize(table: Any, layout: Layout) -> Any:
    """The canonical columns of a batch: ids int64/string, keys string, numbers float64.

    Columns of the schema that the batch lacks become nulls, so every batch
    of an archive has the same columns.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    names = set(table.schema.names)
    cols = {}
    for name in SCHEMA:
        if name not in names:
            if name in ("metric", "variant", TYPE):
                cols[name] = pa.nulls(n, pa.string())
            elif name == "experiment_id":
                cols[name] = pa.nulls(n, pa.int64() if layout.id_type == "int64" else pa.string())
            else:
                cols[name] = pa.nulls(n, pa.float64())
            continue
        col = table.column(name)
        if pa.types.is_dictionary(col.type):
            col = pc.cast(col, col.type.value_type)
        if name == "experiment_id":
            target = pa.int64() if layout.id_type == "int64" else pa.string()
        elif name in ("metric", "variant", TYPE):
            target = pa.string()
        else:
            target = pa.float64()
        if col.type != target:
            col = pc.cast(col, target, safe=False)
        cols[name] = col
    return pa.table(cols)


def _csv_failure(source: Source, exc: Exception, names: list[str]) -> ArchiveError:
    """Turn Arrow's CSV conversion error into one naming the column and, if found, the experiment."""
    import re

    import pyarrow as pa
    import pyarrow.csv as pacsv

    text = str(exc)
    m = re.search(r"CSV column #(\d+)", text)
    if not m or int(m.group(1)) >= len(names):
        return ArchiveError(f"{source.path}: cannot read the CSV file ({text}).")
    column = names[int(m.group(1))]
    detail = text.split(": ", 1)[-1]
    where = ""
    try:  # the error path only: read as strings to find the first bad value
        opts = pacsv.ConvertOptions(column_types={c: pa.string() for c in names},
                                    include_columns=["experiment_id", column]
                                    if "experiment_id" in names else [column])
        row = 0
        for batch in pacsv.open_csv(source.path, convert_options=opts):
            values = batch.column(column).to_pylist()
            ids = batch.column("experiment_id").to_pylist() if "experiment_id" in names else None
            for i, v in enumerate(values):
                if v is None:
                    continue
                try:
                    float(v)
                except ValueError:
                    who = f"experiment {ids[i]!r}, " if ids is not None else ""
                    where = f" ({who}data row {row + i + 1}: {v!r})"
                    raise StopIteration from None
            row += len(values)
    except StopIteration:
        pass
    except (OSError, pa.ArrowException):
        pass
    return ArchiveError(
        f"{source.path}: column {column!r} must be numeric{where}: {detail}.")


def iter_batches(
    sources: Sequence[Source], layout: Layout, batch_rows: int
) -> Iterator[tuple[Any, int, float]]:
    """Normalised batches of all sources in order: ``(table, source index, bytes done)``.

    ``bytes done`` counts all earlier sources in full and this one by the
    share read (Parquet: rows read over its rows; CSV: the file position).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    done = 0.0
    for i, src in enumerate(sources):
        if src.kind == "parquet":
            try:
                pf = pq.ParquetFile(src.path)
                cols = [c for c in pf.schema_arrow.names if c in SCHEMA]
                read = 0
                for batch in pf.iter_batches(batch_size=batch_rows, columns=cols):
                    read += batch.num_rows
                    frac = read / src.rows if src.rows else 1.0
                    yield normalize(pa.Table.from_batches([batch]), layout), i, done + frac * src.size
            except (OSError, pa.ArrowException) as exc:
                raise ArchiveError(f"{src.path}: cannot read the file as Parquet ({exc}).") from None
        else:
            names = _csv_header(src.path)
            types = {c: (pa.float64() if c in NUMERIC else pa.string()) for c in names
                     if c in SCHEMA}
            raw = pa.OSFile(src.path)
            try:
                stream = pa.CompressedInputStream(raw, "gzip") if src.path.lower().endswith(".gz") else raw
                try:
                    reader = pacsv.open_csv(
                        stream, convert_options=pacsv.ConvertOptions(
                            column_types=types, include_columns=list(types)))
                    for batch in reader:
                        yield (normalize(pa.Table.from_batches([batch]), layout), i,
                               done + min(raw.tell(), src.size))
                except pa.ArrowInvalid as exc:
                    raise _csv_failure(src, exc, names) from None
                except (OSError, pa.ArrowException) as exc:
                    raise ArchiveError(f"{src.path}: cannot read the CSV file ({exc}).") from None
            finally:
                raw.close()
        done += src.size


# --------------------------------------------------------------------------
# metrics spec


@dataclass(frozen=True)
class MetricSpec:
    """What a metrics spec says about one metric (None: not said)."""

    type: str | None = None
    guardrail: bool = False
    higher_is_better: bool = True
    min_effect: float | None = None


_SPEC_KEYS = ("type", "guardrail", "higher_is_better", "min_effect")


def parse_metrics(spec: Mapping[str, Any], where: str = "the metrics spec") -> dict[str, MetricSpec]:
    """Check a mapping ``metric -> type`` or ``metric -> {type, guardrail, higher_is_better, min_effect}``."""
    if not isinstance(spec, Mapping):
        raise ArchiveError(f"{where} must map metric names to their settings.")
    out = {}
    for metric, value in spec.items():
        if isinstance(value, str):
            value = {"type": value}
        if not isinstance(value, Mapping):
            raise ArchiveError(f"{where}: metric {metric!r} must map to a type or a table of "
                               f"settings ({', '.join(_SPEC_KEYS)}).")
        for key in value:
            if key not in _SPEC_KEYS:
                close = difflib.get_close_matches(str(key), _SPEC_KEYS, n=1)
                more = f" (did you mean {close[0]!r}?)" if close else ""
                raise ArchiveError(f"{where}: metric {metric!r}: unknown setting {key!r}{more}; "
                                   f"the settings are {', '.join(_SPEC_KEYS)}.")
        t = value.get("type")
        if t is not None and t not in METRIC_TYPES:
            raise ArchiveError(f"{where}: metric {metric!r}: type must be one of "
                               f"{', '.join(METRIC_TYPES)}; got {t!r}.")
        for key in ("guardrail", "higher_is_better"):
            if key in value and not isinstance(value[key], bool):
                raise ArchiveError(f"{where}: metric {metric!r}: {key} must be true or false.")
        me = value.get("min_effect")
        if me is not None and (isinstance(me, bool) or not isinstance(me, (int, float))
                               or not math.isfinite(me) or me < 0):
            raise ArchiveError(f"{where}: metric {metric!r}: min_effect must be a number >= 0.")
        out[str(metric)] = MetricSpec(t, bool(value.get("guardrail", False)),
                                      bool(value.get("higher_is_better", True)),
                                      None if me is None else float(me))
    return out


@dataclass
class MetricTable:
    """Global metric ids (in order of first appearance) and their per-metric settings."""

    spec: dict[str, MetricSpec]
    guardrails: frozenset[str]
    min_effect: float
    names: list[str] = field(default_factory=list)
    ids: dict[str, int] = field(default_factory=dict)
    type_code: list[int] = field(default_factory=list)
    guardrail: list[bool] = field(default_factory=list)
    higher_is_better: list[bool] = field(default_factory=list)
    min_effects: list[float] = field(default_factory=list)

    def lookup(self, names: Sequence[str]) -> np.ndarray:
        """Global ids of ``names``, registering the new ones."""
        out = np.empty(len(names), dtype=np.int64)
        for i, name in enumerate(names):
            j = self.ids.get(name)
            if j is None:
                j = self.ids[name] = len(self.names)
                s = self.spec.get(name, MetricSpec())
                self.names.append(name)
                self.type_code.append(-1 if s.type is None else METRIC_TYPES.index(s.type))
                self.guardrail.append(s.guardrail or name in self.guardrails)
                self.higher_is_better.append(s.higher_is_better)
                self.min_effects.append(self.min_effect if s.min_effect is None else s.min_effect)
            out[i] = j
        return out


# --------------------------------------------------------------------------
# checking and grouping a chunk


@dataclass(frozen=True, eq=False)
class Batch:
    """Experiments of a chunk with the same numbers of metrics and arms, as analyze takes them."""

    experiments: np.ndarray  # chunk-local experiment codes, ascending
    stats: dict[str, np.ndarray]  # (experiments, metrics, arms)
    metric_type: np.ndarray  # (experiments, metrics) int8 codes
    metric_id: np.ndarray  # (experiments, metrics) global ids
    variant: np.ndarray  # (experiments, treatments) chunk-local variant codes
    dest: np.ndarray  # output row of each result row (C order of E x M x T)


@dataclass(frozen=True, eq=False)
class Grouped:
    """A checked chunk: its batches, its bad experiments, and the output layout."""

    experiment_ids: Any  # pyarrow Array of the chunk's experiment ids (codes index it)
    variant_names: Any  # pyarrow Array of variant names
    batches: list[Batch]
    n_out: int
    out_experiment: np.ndarray  # local experiment code per output row
    bad: list[tuple[Any, str, str]]  # (experiment id, reason, file)
    experiments: int  # analysed experiments
    metric_ids: np.ndarray  # global ids of the metrics with output rows


_VALUE_CHECKS = (
    ("n", "is null or not finite"),
    ("n", "is negative"),
    ("n", "is not a whole number"),
    ("n", "is 0"),
    ("n", "is less than 2 (a mean or ratio metric needs a variance)"),
    ("sum", "is null or not finite"),
    ("sum", "is negative (successes of a binomial metric)"),
    ("sum", "is greater than n"),
    ("sum_sq", "is null or not finite"),
    ("sum_sq", "is less than sum**2 / n"),
    ("den_sum", "is null or not finite (a ratio metric needs den_sum, den_sum_sq, num_den_sum)"),
    ("den_sum_sq", "is null or not finite"),
    ("num_den_sum", "is null or not finite"),
    ("den_sum", "is 0"),
    ("den_sum_sq", "is less than den_sum**2 / n (the sums are inconsistent)"),
    ("cov_sum", "is one of covariate sums that are partly null (give all three or none)"),
    ("cov_sum_sq", "is less than cov_sum**2 / n (the sums are inconsistent)"),
)


def _codes(col: Any) -> tuple[np.ndarray, Any, np.ndarray]:
    """Dictionary codes (nulls as -1), the dictionary, and the null mask of a column."""
    import pyarrow.compute as pc

    arr = col.combine_chunks() if hasattr(col, "combine_chunks") else col
    null = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    enc = pc.dictionary_encode(arr)
    idx = enc.indices
    codes = np.asarray(idx.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64) \
        if idx.null_count else np.asarray(idx.to_numpy(), dtype=np.int64)
    return codes, enc.dictionary, null


def _first_per_group(keys: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if keys.size else np.zeros(0, np.int64)


def group_chunk(
    table: Any,
    where: Any,
    *,
    control: str,
    metrics: MetricTable,
    cuped: bool,
    layout: Layout,
    errors: str,
    clustered: bool,
    check_new: Any = None,
) -> Grouped:
    """Check a chunk of whole experiments and group it into :class:`Batch` es.

    ``where(row)`` gives the file and the (1-based) row in it of a chunk row,
    for messages.
    ``clustered``: an experiment's rows must be contiguous in the chunk.
    ``check_new(ids)``: the index of the first of the chunk's experiment ids
    already seen in an earlier chunk, or -1 (a clustering violation).
    With ``errors='raise'`` the first bad experiment raises
    :class:`ArchiveError`; with 'skip' bad experiments are left out and
    listed in ``Grouped.bad``.
    """
    import pyarrow as pa

    nrows = table.num_rows
    id_col = table.column("experiment_id").combine_chunks()
    if id_col.null_count:
        row = int(np.argmax(np.asarray(id_col.is_null().to_numpy(zero_copy_only=False))))
        file, line = where(row)
        raise ArchiveError(f"{file} (row {line}): column 'experiment_id' is null.")
    e_row, exp_ids, _ = _codes(id_col)
    E = len(exp_ids)
    if clustered and E:
        starts = _first_per_group(e_row)
        if starts.size != E:
            run_code = e_row[starts]
            seen = np.zeros(E, dtype=bool)
            for s, c in zip(starts, run_code, strict=True):
                if seen[c]:
                    file, line = where(int(s))
                    raise ArchiveError(
                        f"{file} (row {line}): experiment {exp_ids[int(c)].as_py()!r} appears again "
                        "after rows of other experiments: the input must be clustered by "
                        "experiment (all rows of an experiment contiguous; sort it by "
                        "experiment_id).")
                seen[c] = True
    if check_new is not None and E:
        j = check_new(exp_ids)
        if j >= 0:
            file, line = where(int(np.argmax(e_row == j)))
            raise ArchiveError(
                f"{file} (row {line}): experiment {exp_ids[j].as_py()!r} appears again after "
                "its rows ended: the input must be clustered by experiment (all rows of an "
                "experiment contiguous; sort it by experiment_id), or it has duplicate rows.")
    m_row, m_dict, m_null = _codes(table.column("metric"))
    v_row, v_dict, v_null = _codes(table.column("variant"))
    m_names = [str(x) for x in m_dict.to_pylist()]
    v_names = [str(x) for x in v_dict.to_pylist()]
    m_global = metrics.lookup(m_names)
    m_rank = np.empty(len(m_names), dtype=np.int64)
    m_rank[np.argsort(np.array(m_names, dtype=object), kind="stable")] = np.arange(len(m_names))
    # Variant order: control first, then by name.
    v_order = sorted(range(len(v_names)), key=lambda i: (v_names[i] != control, v_names[i]))
    v_rank = np.empty(len(v_names) + 1, dtype=np.int64)
    v_rank[np.array(v_order, dtype=np.int64)] = np.arange(len(v_names))
    v_rank[-1] = len(v_names)  # nulls (code -1) last
    has_control = control in v_names

    mr = np.where(m_row >= 0, m_rank[m_row], len(m_names))
    vr = v_rank[v_row]
    order = np.lexsort((vr, mr, e_row))
    e, mr, vr = e_row[order], mr[order], vr[order]
    vcode, mcode = v_row[order], m_row[order]
    mid = np.where(mcode >= 0, m_global[np.maximum(mcode, 0)], -1)

    # Metric types: the column, the spec, or both in agreement.
    spec_type = np.asarray(metrics.type_code, dtype=np.int64)
    st = np.where(mid >= 0, spec_type[np.maximum(mid, 0)], -1)
    t_row, t_dict, t_null = _codes(table.column(TYPE))
    t_names = [str(x) for x in t_dict.to_pylist()]
    t_lut = np.array([METRIC_TYPES.index(t) if t in METRIC_TYPES else -2 for t in t_names] + [-1],
                     dtype=np.int64)
    ct = t_lut[t_row[order]]  # -1 null, -2 unknown
    mtype = np.where(ct >= 0, ct, st)

    wanted = (*STATS, *(COVARIATES if cuped and layout.has_covariates else ()),
              *(RATIO if layout.has_ratio else ()))
    col = {k: np.asarray(table.column(k).to_numpy(), dtype=np.float64)[order] for k in wanted}
    n, s, ss = col["n"], col["sum"], col["sum_sq"]
    binom = mtype == _BINOMIAL
    ratio = mtype == _RATIO
    ss = np.where(binom & np.isnan(ss), s, ss)  # 0/1 data: sum_sq == sum
    col["sum_sq"] = ss

    # Group boundaries: (experiment, metric) and experiment.
    em_key = e * (len(m_names) + 1) + mr
    g_start = _first_per_group(em_key)
    g_size = np.diff(np.r_[g_start, nrows])
    g_exp = e[g_start]
    e_start = _first_per_group(e)
    ev_unique = np.unique(e * (len(v_names) + 1) + vr)
    arms = np.bincount(ev_unique // (len(v_names) + 1), minlength=E)

    # CUPED per (experiment, metric): every arm has the three covariate sums.
    cov_rows = np.zeros(nrows, dtype=bool)
    cov_part = np.zeros(nrows, dtype=bool)
    if cuped and layout.has_covariates:
        fin = [np.isfinite(col[k]) for k in COVARIATES]
        cov_rows = fin[0] & fin[1] & fin[2] & ~ratio
        cov_part = (fin[0] | fin[1] | fin[2]) & ~cov_rows & ~ratio
    cuped_em = np.minimum.reduceat(cov_rows, g_start) if nrows else cov_rows
    cuped_row = np.repeat(cuped_em, g_size)
    needs_var = (mtype == _MEAN) | ratio | (binom & cuped_row)

    # Problems: (experiment, check, row); the smallest check, then row, wins.
    found_e: list[np.ndarray] = []
    found_c: list[np.ndarray] = []
    found_r: list[np.ndarray] = []

    def flag(mask: np.ndarray, check: int, rows: np.ndarray | None = None) -> None:
        idx = np.flatnonzero(mask)
        if idx.size:
            r = idx if rows is None else rows[idx]
            found_e.append(e[r])
            found_r.append(r)
            found_c.append(np.full(idx.size, check, dtype=np.int64))

    flag(m_null[order], 0)
    flag(v_null[order], 1)
    same = np.zeros(nrows, dtype=bool)
    same[1:] = (em_key[1:] == em_key[:-1]) & (vr[1:] == vr[:-1])
    flag(same, 2)
    exp_has_control = np.zeros(E, dtype=bool)
    if has_control:
        exp_has_control[e[vr == 0]] = True
    flag(~exp_has_control[e[e_start]], 3, e_start)
    flag(arms[e[e_start]] < 2, 4, e_start)
    flag(g_size != arms[g_exp], 5, g_start)
    flag(ct == -2, 6)
    flag((ct >= 0) & (st >= 0) & (ct != st), 7)
    flag(mtype == -1, 8)
    if nrows:
        lo = np.minimum.reduceat(mtype, g_start)
        hi = np.maximum.reduceat(mtype, g_start)
        flag(lo != hi, 9, g_start)
    value = np.zeros(nrows, dtype=np.int64)

    def vflag(mask: np.ndarray, code: int) -> None:
        value[mask & (value == 0)] = code

    with np.errstate(invalid="ignore", divide="ignore"):
        vflag(~np.isfinite(n), 1)
        vflag(n < 0, 2)
        vflag(n != np.floor(n), 3)
        vflag(n == 0, 4)
        vflag((n < 2) & needs_var, 5)
        vflag(~np.isfinite(s), 6)
        vflag(binom & (s < 0), 7)
        vflag(binom & (s > n), 8)
        vflag(needs_var & ~np.isfinite(ss), 9)
        vflag(needs_var & (ss - s * s / n < -1e-9 * np.abs(ss)), 10)
        if layout.has_ratio:
            ds, dss, nds = col["den_sum"], col["den_sum_sq"], col["num_den_sum"]
            vflag(ratio & ~np.isfinite(ds), 11)
            vflag(ratio & ~np.isfinite(dss), 12)
            vflag(ratio & ~np.isfinite(nds), 13)
            vflag(ratio & (ds == 0), 14)
            vflag(ratio & (dss - ds * ds / n < -1e-9 * np.abs(dss)), 15)
        else:
            vflag(ratio, 11)
        vflag(cov_part, 16)
        if cuped and layout.has_covariates:
            cs, css = col["cov_sum"], col["cov_sum_sq"]
            vflag(cov_rows & (css - cs * cs / n < -1e-9 * np.abs(css)), 17)
    flag(value > 0, 10)

    bad: list[tuple[Any, str, str]] = []
    bad_exp = np.zeros(E, dtype=bool)
    if found_e:
        fe, fc, fr = np.concatenate(found_e), np.concatenate(found_c), np.concatenate(found_r)
        pick = np.lexsort((fr, fc, fe))
        fe, fc, fr = fe[pick], fc[pick], fr[pick]
        first = _first_per_group(fe)
        if errors == "raise":
            first = first[:1]
        for i in first:
            r = int(fr[i])
            ex = int(fe[i])
            text = _message(int(fc[i]), r, dict(
                vcode=vcode, mcode=mcode, ct=ct, st=st, mtype=mtype, value=value, col=col,
                arms=[v_names[v_order[j]] for j in np.unique(vr[e == ex]) if j < len(v_names)],
                em_key=em_key, m_names=m_names, v_names=v_names, t_names=t_names,
                t_row=t_row[order], control=control, has_ratio=layout.has_ratio))
            file, line = where(int(order[r]))
            if errors == "raise":
                raise ArchiveError(
                    f"{file} (row {line}): experiment {exp_ids[ex].as_py()!r}: {text}.")
            bad.append((exp_ids[ex].as_py(), text, file))
        bad_exp[fe[first]] = True

    # Batches of the good experiments, by (metrics, arms).
    good_exp = ~bad_exp
    g_count = np.bincount(g_exp, minlength=E)  # metrics per experiment
    out_rows = np.where(good_exp, g_count * (arms - 1), 0)
    out_off = np.r_[0, np.cumsum(out_rows)]
    n_out = int(out_off[-1])
    e_first = np.full(E, -1, dtype=np.int64)
    e_first[e[e_start]] = e_start
    batches = []
    exps = np.flatnonzero(good_exp)
    key = g_count[exps] * (int(arms.max(initial=0)) + 1) + arms[exps]
    for k in np.unique(key):
        bx = exps[key == k]
        M, A = int(g_count[bx[0]]), int(arms[bx[0]])
        T = A - 1
        rows = (e_first[bx][:, None] + np.arange(M * A)[None, :]).reshape(-1)
        shape = (bx.size, M, A)
        stats = {k2: col[k2][rows].reshape(shape) for k2 in ("n", "sum", "sum_sq")}
        if cuped and layout.has_covariates:
            use = cov_rows[rows]
            for k2 in COVARIATES:
                stats[k2] = np.where(use, col[k2][rows], np.nan).reshape(shape)
        if layout.has_ratio:
            for k2 in RATIO:
                stats[k2] = col[k2][rows].reshape(shape)
        heads = rows.reshape(bx.size, M, A)[:, :, 0]
        dest = (out_off[bx][:, None] + np.arange(M * T)[None, :]).reshape(-1)
        batches.append(Batch(
            experiments=bx, stats=stats, metric_type=mtype[heads].astype(np.int8),
            metric_id=mid[heads], variant=vcode[rows.reshape(bx.size, M, A)[:, 0, 1:]],
            dest=dest))
    out_experiment = np.repeat(np.arange(E), out_rows)
    used = np.unique(np.concatenate([b.metric_id.reshape(-1) for b in batches])) \
        if batches else np.zeros(0, np.int64)
    return Grouped(
        experiment_ids=exp_ids, variant_names=pa.array(v_names, pa.string()), batches=batches,
        n_out=n_out, out_experiment=out_experiment, bad=bad, experiments=int(exps.size),
        metric_ids=used,
    )


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _message(check: int, r: int, L: dict[str, Any]) -> str:
    """The text of a problem found by :func:`group_chunk` at sorted row ``r``."""
    m_names, v_names = L["m_names"], L["v_names"]
    metric = m_names[L["mcode"][r]] if L["mcode"][r] >= 0 else None
    variant = v_names[L["vcode"][r]] if L["vcode"][r] >= 0 else None
    if check == 0:
        return f"column 'metric' is null (variant {variant!r})"
    if check == 1:
        return f"column 'variant' is null (metric {metric!r})"
    if check == 2:
        return f"duplicate rows for metric {metric!r}, variant {variant!r}"
    arms = L["arms"]
    if check == 3:
        return (f"column 'variant': no control variant {L['control']!r} (the variants are "
                f"{', '.join(map(repr, arms))}); name the control with --control")
    if check == 4:
        return f"column 'variant': only the variant {arms[0]!r}, no treatment to compare"
    if check == 5:
        em = L["em_key"]
        mine = {v_names[v] for v in L["vcode"][(em == em[r])] if v >= 0}
        missing = [a for a in arms if a not in mine]
        return f"column 'variant': metric {metric!r} has no row for variant {missing[0]!r}"
    if check == 6:
        t = L["t_names"][L["t_row"][r]]
        return (f"column 'metric_type': unknown type {t!r} for metric {metric!r} "
                f"(use {', '.join(METRIC_TYPES)})")
    if check == 7:
        return (f"column 'metric_type': metric {metric!r} is {METRIC_TYPES[L['ct'][r]]!r} but the "
                f"metrics spec says {METRIC_TYPES[L['st'][r]]!r}")
    if check == 8:
        return (f"column 'metric_type': metric {metric!r} has no type (the column is null or "
                "absent, and the metrics spec does not give it)")
    if check == 9:
        em = L["em_key"]
        types = sorted({METRIC_TYPES[t] for t in L["mtype"][em == em[r]] if t >= 0})
        return f"column 'metric_type': metric {metric!r} has more than one type ({', '.join(types)})"
    code = int(L["value"][r])
    column, text = _VALUE_CHECKS[code - 1]
    c = L["col"]
    v = c[column][r] if column in c else np.nan
    shown = f" = {_fmt(v)}" if np.isfinite(v) and code != 16 else ""
    if code == 8:
        text = f"is greater than n = {_fmt(c['n'][r])} (successes of a binomial metric)"
    elif code == 10:
        text = (f"is less than sum**2 / n (sum = {_fmt(c['sum'][r])}, n = {_fmt(c['n'][r])}): "
                "the sums are inconsistent")
    elif code == 11 and not L["has_ratio"]:
        return (f"metric {metric!r} is a ratio metric but the columns den_sum, den_sum_sq, "
                "num_den_sum are missing")
    return f"metric {metric!r}, variant {variant!r}: column {column!r}{shown} {text}"
