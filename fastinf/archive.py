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
metric) is recognised by :func:`detect_schema` and read through
:mod:`fastinf._unit_archive`.

This module finds the files (:func:`find_sources`), checks each file's
columns and types (:func:`check_schema`), reads it in batches of normalised
columns (:func:`iter_batches`); :func:`fastinf._archive_checks.group_chunk`
checks and groups a chunk of rows by experiment. Every mistake in the input raises
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

    def read_columns(self, names: Sequence[str]) -> list[str]:
        """The columns of a source that are read."""
        return [c for c in names if c in SCHEMA]

    def csv_types(self, names: Sequence[str]) -> dict[str, Any]:
        """Arrow types of the columns read from a CSV file (numbers float64, the rest strings)."""
        import pyarrow as pa

        return {c: (pa.float64() if c in NUMERIC else pa.string()) for c in self.read_columns(names)}

    def normalize(self, table: Any) -> Any:
        """The canonical columns of a batch (see :func:`normalize`)."""
        return normalize(table, self)

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
    if {"experiment_id", "variant"} & have and len(have) > 2:
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
            "(experiment_id, variant, one column per metric); read them with "
            "fastinf._unit_archive.check_unit_schema.")
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


def _parquet_tables(pf: Any, cols: list[str], batch_rows: int) -> Iterator[Any]:
    """The rows of a Parquet file as tables of whole row groups, about ``batch_rows`` rows each.

    Whole row groups, because Arrow's batch reader (``iter_batches``) is
    two to four times slower and erratic on the same data; a row group of
    more than ``4 * batch_rows`` rows is still read in batches, so that
    memory stays bounded by the chunk.
    """
    import pyarrow as pa

    meta = pf.metadata
    run: list[int] = []
    rows = 0
    for g in range(meta.num_row_groups):
        k = meta.row_group(g).num_rows
        if k > 4 * batch_rows:
            if run:
                yield pf.read_row_groups(run, columns=cols)
                run, rows = [], 0
            for batch in pf.iter_batches(batch_size=batch_rows, row_groups=[g], columns=cols):
                yield pa.Table.from_batches([batch])
            continue
        run.append(g)
        rows += k
        if rows >= batch_rows:
            yield pf.read_row_groups(run, columns=cols)
            run, rows = [], 0
    if run:
        yield pf.read_row_groups(run, columns=cols)


def iter_batches(
    sources: Sequence[Source], layout: Any, batch_rows: int
) -> Iterator[tuple[Any, int, float]]:
    """Normalised batches of all sources in order: ``(table, source index, bytes done)``.

    ``layout`` (a :class:`Layout`, or the unit-level layout of
    :mod:`fastinf._unit_archive`) says which columns are read and how they
    are normalised.

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
                cols = layout.read_columns(pf.schema_arrow.names)
                read = 0
                for table in _parquet_tables(pf, cols, batch_rows):
                    read += table.num_rows
                    frac = read / src.rows if src.rows else 1.0
                    yield layout.normalize(table), i, done + frac * src.size
            except (OSError, pa.ArrowException) as exc:
                raise ArchiveError(f"{src.path}: cannot read the file as Parquet ({exc}).") from None
        else:
            names = _csv_header(src.path)
            types = layout.csv_types(names)
            raw = pa.OSFile(src.path)
            try:
                stream = pa.CompressedInputStream(raw, "gzip") if src.path.lower().endswith(".gz") else raw
                try:
                    reader = pacsv.open_csv(
                        stream, convert_options=pacsv.ConvertOptions(
                            column_types=types, include_columns=list(types)))
                    for batch in reader:
                        yield (layout.normalize(pa.Table.from_batches([batch])), i,
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
    covariate: str | bool | None = None  # unit-level input: the covariate column, or False


_SPEC_KEYS = ("type", "guardrail", "higher_is_better", "min_effect", "covariate")


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
        cov = value.get("covariate")
        if cov is not None and cov is not False and not (isinstance(cov, str) and cov):
            raise ArchiveError(f"{where}: metric {metric!r}: covariate must be a column name "
                               "or false.")
        out[str(metric)] = MetricSpec(t, bool(value.get("guardrail", False)),
                                      bool(value.get("higher_is_better", True)),
                                      None if me is None else float(me), cov)
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

