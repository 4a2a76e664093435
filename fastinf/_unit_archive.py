"""Unit-level archives for :mod:`fastinf.reanalyze`: schema, checks, and aggregation by chunk.

The **unit-level schema** has one row per unit (user, session, ...):

=================  ==================  ===============================================
column             type                meaning
=================  ==================  ===============================================
``experiment_id``  string or integer   the experiment
``variant``        string or integer   the unit's arm; the control is ``control``
                                       unless ``control=`` names another
*metric*           number or boolean   one column per metric: the unit's value
``pre_<metric>``   number, optional    the metric's pre-period covariate (CUPED), by
                                       convention; a metrics spec may name another
                                       column (``covariate = "col"``) or none
                                       (``covariate = false``)
=================  ==================  ===============================================

The metrics are the metrics spec's names when one is given; otherwise every
numeric (or boolean) column other than ``experiment_id``, ``variant``, the
``pre_`` covariates and id-like columns (``unit_id``, ``user_id``, any name
ending in ``_id``); other columns are ignored. (In CSV files, which carry no
types, every such column is a metric and must hold numbers.) A metric's type
is the spec's (``mean`` or ``binomial``); without one it is ``binomial``
for a boolean column or, per experiment, when all its values are 0 or 1,
and ``mean`` otherwise. Ratio metrics need sufficient statistics.

As for sufficient statistics, the rows must be clustered by experiment. Each
chunk of whole experiments is checked (a null or non-finite metric value, an
experiment without control or treatment, a variant with fewer than 2 units,
a non-0/1 value of a binomial metric) and aggregated into the
sufficient-statistics rows of :mod:`fastinf.archive` (``n``, ``sum``,
``sum_sq`` and the CUPED sums), which :func:`fastinf.experiment.analyze`
then analyses exactly as it would an aggregated archive. The units stay at
hand for the rank test and the bootstrap (:mod:`fastinf._unit_extras`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf._archive_checks import _codes, _first_per_group, experiment_runs
from fastinf.archive import ArchiveError, Layout, MetricSpec, normalize
from fastinf.kernels import units as K

__all__ = ["UnitChunk", "UnitLayout", "aggregate_chunk", "check_unit_schema"]

UNIT_KEYS = ("experiment_id", "variant")
COVARIATE_PREFIX = "pre_"


def _id_like(name: str) -> bool:
    return name in ("unit", "user", "unit_id", "user_id") or name.endswith("_id")


@dataclass(frozen=True)
class UnitLayout:
    """The columns of a unit-level archive: metrics (sorted), their covariates, the id type."""

    id_type: str  # 'int64' or 'string'
    metrics: tuple[str, ...]
    covariates: tuple[str | None, ...]
    boolean: frozenset[str]  # metric columns of Arrow type bool

    @property
    def summary_layout(self) -> Layout:
        """The layout of the sufficient statistics a chunk aggregates to."""
        return Layout(has_type=True, has_sum_sq=True,
                      has_covariates=any(c is not None for c in self.covariates),
                      has_ratio=False, id_type=self.id_type)

    def _wanted(self) -> list[str]:
        return [*UNIT_KEYS, *self.metrics, *(c for c in self.covariates if c is not None)]

    def read_columns(self, names: Sequence[str]) -> list[str]:
        """The columns of a source that are read."""
        want = set(self._wanted())
        return [c for c in names if c in want]

    def csv_types(self, names: Sequence[str]) -> dict[str, Any]:
        """Arrow types of the columns read from a CSV file."""
        import pyarrow as pa

        return {c: (pa.string() if c in UNIT_KEYS else pa.float64())
                for c in self.read_columns(names)}

    def normalize(self, table: Any) -> Any:
        """Ids int64/string, variant dictionary-encoded strings, metrics and covariates float64.

        Absent columns become nulls. The variant stays (or becomes) a
        dictionary of strings with ``int32`` codes: decoding it to one
        string per unit would cost more than the whole aggregation.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        n = table.num_rows
        have = set(table.schema.names)
        ids = pa.int64() if self.id_type == "int64" else pa.string()
        cols = {}
        for name in dict.fromkeys(self._wanted()):
            if name == "variant":
                cols[name] = (_variant_codes(table.column(name)) if name in have
                              else pa.nulls(n, _variant_type()))
                continue
            target = ids if name == "experiment_id" else pa.float64()
            if name not in have:
                cols[name] = pa.nulls(n, target)
                continue
            col = table.column(name)
            if pa.types.is_dictionary(col.type):
                col = pc.cast(col, col.type.value_type)
            if pa.types.is_boolean(col.type):
                col = pc.cast(col, pa.int8())
            if col.type != target:
                col = pc.cast(col, target, safe=False)
            cols[name] = col
        return pa.table(cols)

    def merge(self, other: UnitLayout) -> UnitLayout:
        """The layout of two sources read together (their metrics' union)."""
        cov = dict(zip(other.metrics, other.covariates, strict=True))
        cov.update({m: c for m, c in zip(self.metrics, self.covariates, strict=True)
                    if c is not None or m not in cov})
        metrics = tuple(sorted(cov))
        return UnitLayout(
            "int64" if self.id_type == other.id_type == "int64" else "string", metrics,
            tuple(cov[m] for m in metrics), self.boolean | other.boolean)


def _variant_type() -> Any:
    import pyarrow as pa

    return pa.dictionary(pa.int32(), pa.string())


def _variant_codes(col: Any) -> Any:
    """A variant column as a dictionary of distinct, non-null strings with ``int32`` codes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = col.type
    if pa.types.is_dictionary(t) and pa.types.is_string(t.value_type):
        chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
        if all(c.dictionary.null_count == 0 and len(pc.unique(c.dictionary)) == len(c.dictionary)
               for c in chunks):
            return pc.cast(col, _variant_type()) if t != _variant_type() else col
    if pa.types.is_dictionary(t):
        col = pc.cast(col, t.value_type)
    if not pa.types.is_string(col.type):
        col = pc.cast(col, pa.string())
    out = pc.dictionary_encode(col)
    return pc.cast(out, _variant_type()) if out.type != _variant_type() else out


def _variant_row_codes(col: Any) -> tuple[np.ndarray, Any, np.ndarray]:
    """:func:`fastinf._archive_checks._codes` of a normalised variant column, without copies.

    The column is already a dictionary of distinct strings
    (:func:`_variant_codes`): its ``int32`` indices are the codes (nulls
    -1); the null mask is all-false unless there are nulls.
    """
    arr = col.combine_chunks() if hasattr(col, "combine_chunks") else col
    if arr.null_count:
        return _codes(arr)
    codes = np.asarray(arr.indices.to_numpy())
    return codes, arr.dictionary, np.zeros(len(arr), dtype=bool)


def _float_column(col: Any) -> np.ndarray:
    """A normalised float64 column as one NumPy array (nulls as NaN).

    Chunk by chunk, because Arrow converts a chunked column value by value,
    checking each for null, several times slower than copying the chunks'
    buffers; a chunk without nulls is a view.
    """
    chunks = col.chunks if hasattr(col, "chunks") else [col]
    parts = [np.asarray(c.to_numpy(zero_copy_only=False), dtype=np.float64) for c in chunks]
    if not parts:
        return np.zeros(0)
    return np.ascontiguousarray(parts[0]) if len(parts) == 1 else np.concatenate(parts)


def _numeric(t: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return False
    return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
            or pa.types.is_boolean(t) or pa.types.is_null(t))


def check_unit_schema(
    schema: Any, where: str, *, spec: Mapping[str, MetricSpec], cuped: bool, csv: bool = False,
) -> UnitLayout:
    """Check the columns and types of one unit-level source; its :class:`UnitLayout`."""
    import pyarrow as pa

    names = list(schema.names)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ArchiveError(f"{where}: duplicate column names: {', '.join(dupes)}.")
    for key in UNIT_KEYS:
        if key not in names:
            raise ArchiveError(
                f"{where}: missing column {key!r}: unit-level rows need experiment_id, variant "
                f"and one numeric column per metric; the columns are: {', '.join(names)}.")

    def kind(name: str) -> Any:
        t = schema.field(name).type
        return t.value_type if pa.types.is_dictionary(t) else t

    id_type = "string"
    if not csv:
        t = kind("experiment_id")
        if pa.types.is_integer(t):
            id_type = "int64"
        elif not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            raise ArchiveError(f"{where}: column 'experiment_id' must hold strings or "
                               f"integers; it holds {t}.")
        t = kind("variant")
        if not (pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_large_string(t)):
            raise ArchiveError(f"{where}: column 'variant' must hold strings (or integers); "
                               f"it holds {t}.")

    def check_numeric(name: str, what: str) -> None:
        if not csv and not _numeric(kind(name)):
            raise ArchiveError(f"{where}: column {name!r} must be numeric ({what}); it holds "
                               f"{kind(name)}.")

    present = set(names)
    if spec:
        for m, s in spec.items():
            if m not in present:
                raise ArchiveError(
                    f"{where}: metric {m!r} of the metrics spec is not a column; the columns "
                    f"are: {', '.join(names)}.")
            if s.type == "ratio":
                raise ArchiveError(
                    f"{where}: metric {m!r} is a ratio metric: unit-level input supports mean "
                    "and binomial metrics; aggregate ratio metrics to sufficient statistics.")
            check_numeric(m, "a metric")
        metrics = sorted(spec)
    else:
        cands = [n for n in names if n not in UNIT_KEYS and not _id_like(n)
                 and (csv or _numeric(kind(n)))]
        covs = {COVARIATE_PREFIX + n for n in cands}
        metrics = sorted(n for n in cands if n not in covs)
    if not metrics:
        raise ArchiveError(
            f"{where}: no metric columns: unit-level rows need one numeric column per metric "
            f"besides experiment_id and variant; the columns are: {', '.join(names)}.")
    covariates: list[str | None] = []
    for m in metrics:
        c = spec[m].covariate if m in spec else None
        if c is None:
            c = COVARIATE_PREFIX + m if COVARIATE_PREFIX + m in present else None
        elif c is False:
            c = None
        elif c not in present:
            raise ArchiveError(f"{where}: the covariate {c!r} of metric {m!r} is not a column.")
        if c is not None:
            check_numeric(str(c), f"the covariate of {m!r}")
        covariates.append(str(c) if cuped and c is not None else None)
    boolean = frozenset(m for m in metrics if not csv and pa.types.is_boolean(kind(m)))
    return UnitLayout(id_type, tuple(metrics), tuple(covariates), boolean)


@dataclass(frozen=True, eq=False)
class UnitChunk:
    """A checked chunk of units, its sufficient statistics, and the units for the extras.

    Arms are the (experiment, variant) groups of the good experiments, in
    order of experiment, then control first, then variant name; unit ``i`` of
    arm ``a`` and metric ``j`` is ``values[j][arm_start[a] + i]``, in file order.
    """

    summary: Any  # pyarrow Table, sufficient-statistics schema (normalised)
    where: Any  # summary row -> (file, row) of the arm's first unit
    bad: list[tuple[Any, str, str]]
    experiment_ids: Any  # pyarrow Array: ids of the good experiments, in order
    values: np.ndarray  # (metrics, units): per metric, the units of all arms
    arm_start: np.ndarray
    arm_size: np.ndarray
    arm_experiment: np.ndarray  # index into experiment_ids
    arm_variant: list[str]
    control_arm: np.ndarray  # per good experiment, its control's arm
    rows: int  # units in the chunk
    arm_binary: list[np.ndarray]  # per metric, per arm: all its values are 0 or 1
    arm_total: list[np.ndarray]  # per metric, per arm: the sum of its values


def aggregate_chunk(
    table: Any, where: Any, *, layout: UnitLayout, spec: Mapping[str, MetricSpec],
    control: str, errors: str, clustered: bool = True, check_new: Any = None,
) -> UnitChunk:
    """Check a chunk of whole experiments' units and aggregate it to sufficient statistics.

    ``where``, ``clustered`` and ``check_new`` as for
    :func:`fastinf._archive_checks.group_chunk`; ``errors='skip'`` leaves
    out the bad experiments and lists them in ``UnitChunk.bad``.
    """
    import pyarrow as pa

    nrows = table.num_rows
    e_row, exp_ids, run_start = experiment_runs(table, where, clustered=clustered,
                                                check_new=check_new)
    E = len(exp_ids)
    v_row, v_dict, v_null = _variant_row_codes(table.column("variant"))
    v_names = [str(x) for x in v_dict.to_pylist()]
    v_order = sorted(range(len(v_names)), key=lambda i: (v_names[i] != control, v_names[i]))
    V = len(v_names)
    v_rank = np.empty(V + 1, dtype=np.int64)
    v_rank[np.array(v_order, dtype=np.int64)] = np.arange(V)
    v_rank[-1] = V  # nulls (code -1) last
    # Units grouped by arm (experiment, then variant rank), in file order within an arm.
    width = V + 1
    if run_start.size == E:  # clustered: each experiment's units stay in its rows
        order = np.empty(nrows, dtype=np.int64)
        counts = np.empty(E * width, dtype=np.int64)
        K.arm_order_runs(np.r_[run_start, nrows].astype(np.int64), v_row, v_rank, order, counts)
        key_start = np.r_[0, np.cumsum(counts)]
    else:
        assert e_row is not None  # several runs of one experiment: codes were spelt out
        order, key_start = K.arm_order(e_row * width + v_rank[v_row], E * width)
        counts = np.diff(key_start)
    present = np.flatnonzero(counts)
    arm_start, arm_size = key_start[present], counts[present]
    arm_e, arm_r = present // width, present % width
    e_start = key_start[np.arange(E) * width]

    def arm_at(rows: Any) -> Any:  # the arm of sorted rows
        return np.searchsorted(arm_start, rows, side="right") - 1

    M = len(layout.metrics)
    A_all = arm_size.size
    X = np.empty((len(layout.metrics), nrows))  # per metric, the units grouped by arm
    arm_stats: list[np.ndarray] = []
    arm_is01: list[np.ndarray] = []
    arm_bad: list[np.ndarray] = []
    raw_c = []
    for j, (m, c) in enumerate(zip(layout.metrics, layout.covariates, strict=True)):
        y = _float_column(table.column(m))
        x = np.zeros(0) if c is None else _float_column(table.column(c))
        stats = np.empty((A_all, 5))
        is01_arm = np.empty(A_all, dtype=np.bool_)
        n_bad = np.empty((A_all, 2), dtype=np.int64)
        K.arm_sums(y, x, order, arm_start, arm_size, X[j], stats, is01_arm, n_bad)
        arm_stats.append(stats)
        arm_is01.append(is01_arm)
        arm_bad.append(np.asarray(n_bad.any(axis=0)))
        raw_c.append(None if c is None else x)
    # Values are looked at one by one only to name a bad one.
    C = [x[order] if x is not None and bad[1] else None
         for x, bad in zip(raw_c, arm_bad, strict=True)]
    Xbad = [x if bad[0] else None for x, bad in zip(X, arm_bad, strict=True)]

    # Problems: (experiment, priority, sorted row, message maker).
    found: dict[int, tuple[int, int, Any]] = {}

    def flag(exps: np.ndarray, rows: np.ndarray, priority: int, text: Any) -> None:
        for ex, r in zip(exps.tolist(), rows.tolist(), strict=True):
            old = found.get(ex)
            if old is None or (priority, r) < old[:2]:
                found[ex] = (priority, r, text)

    null_v = np.flatnonzero(v_null[order]) if v_null.any() else np.zeros(0, np.int64)
    if null_v.size:
        ex, i = np.unique(arm_e[arm_at(null_v)], return_index=True)
        flag(ex, null_v[i], 0, lambda r: "column 'variant' is null")
    has_control = np.zeros(E, dtype=bool)
    has_control[arm_e[(arm_r == 0) & (control in v_names)]] = True
    arms = np.bincount(arm_e[arm_r < V], minlength=E)

    def arm_names(ex: int) -> list[str]:
        return [v_names[v_order[j]] for j in arm_r[(arm_e == ex) & (arm_r < V)]]

    no_c = np.flatnonzero(~has_control)
    flag(no_c, e_start[no_c], 1, lambda r: (
        f"column 'variant': no control variant {control!r} (the variants are "
        f"{', '.join(map(repr, arm_names(int(arm_e[arm_at(r)]))))}); name the control with --control"))
    lone = np.flatnonzero(has_control & (arms < 2))
    flag(lone, e_start[lone], 2, lambda r: (
        f"column 'variant': only the variant {control!r}, no treatment to compare"))
    small = np.flatnonzero((arm_size < 2) & (arm_r < V))
    flag(arm_e[small], arm_start[small], 3, lambda r: (
        f"variant {v_names[v_order[int(arm_r[arm_at(r)])]]!r} has {int(arm_size[arm_at(r)])} "
        "unit; each variant needs at least 2"))
    spec_type = [spec[m].type if m in spec else None for m in layout.metrics]
    binary = np.zeros((E, M), dtype=bool)
    first_arm = _first_per_group(arm_e)
    for j, m in enumerate(layout.metrics):
        for col, name in ((Xbad[j], m), (C[j], layout.covariates[j])):
            if col is None:
                continue
            bad = np.flatnonzero(~np.isfinite(col))
            if bad.size:
                ex, i = np.unique(arm_e[arm_at(bad)], return_index=True)
                flag(ex, bad[i], 4, lambda r, name=name, col=col: (
                    f"column {name!r} is {'null or NaN' if np.isnan(col[r]) else 'infinite'} "
                    f"(variant {v_names[v_order[int(arm_r[arm_at(r)])]]!r})"
                    if arm_r[arm_at(r)] < V else f"column {name!r} is null"))
        if A_all:
            binary[arm_e[first_arm], j] = np.minimum.reduceat(arm_is01[j], first_arm)
        if spec_type[j] == "binomial" and not arm_is01[j].all():
            is01 = (X[j] == 0.0) | (X[j] == 1.0)
            bad = np.flatnonzero(~is01 & np.isfinite(X[j]))
            if bad.size:
                ex, i = np.unique(arm_e[arm_at(bad)], return_index=True)
                flag(ex, bad[i], 5, lambda r, m=m, j=j: (
                    f"column {m!r} = {X[j][r]:.10g} is not 0 or 1 (the metrics spec says "
                    f"{m!r} is binomial)"))

    bad_list: list[tuple[Any, str, str]] = []
    good = np.ones(E, dtype=bool)
    for k in sorted(found, key=lambda k: found[k][1]):
        _, r, text = found[k]
        file, line = where(int(order[r]))
        message = text(r)
        if errors == "raise":
            raise ArchiveError(f"{file} (row {line}): experiment {exp_ids[k].as_py()!r}: "
                               f"{message}.")
        bad_list.append((exp_ids[k].as_py(), message, file))
        good[k] = False

    # Sufficient statistics of the good experiments' arms.
    keep = good[arm_e]
    a_idx = np.flatnonzero(keep)
    good_e = np.flatnonzero(good)
    new_e = np.full(E, -1, dtype=np.int64)
    new_e[good_e] = np.arange(good_e.size)
    starts = arm_start[a_idx]
    sizes = arm_size[a_idx]
    values = X if keep.all() else X[:, np.repeat(keep, arm_size)]
    new_start = np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64)
    A = a_idx.size

    n_f = sizes.astype(np.float64)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "n", "sum", "sum_sq", "cov_sum", "cov_sum_sq", "cross_sum")}
    mtype: list[np.ndarray] = []
    for j, m in enumerate(layout.metrics):
        st = arm_stats[j][a_idx]
        cols["n"].append(n_f)
        cols["sum"].append(st[:, 0])
        cols["sum_sq"].append(st[:, 1])
        if layout.covariates[j] is None:
            nan = np.full(A, np.nan)
            cols["cov_sum"].append(nan)
            cols["cov_sum_sq"].append(nan)
            cols["cross_sum"].append(nan)
        else:
            cols["cov_sum"].append(st[:, 2])
            cols["cov_sum_sq"].append(st[:, 3])
            cols["cross_sum"].append(st[:, 4])
        if spec_type[j] is not None:
            t = np.full(A, spec_type[j] == "binomial")
        elif m in layout.boolean:
            t = np.ones(A, dtype=bool)
        else:
            t = binary[arm_e[a_idx], j]
        mtype.append(t)
    # Rows in order of experiment, metric, variant (metric-major within an experiment).
    arm_of = np.tile(np.arange(A), M)
    met_of = np.repeat(np.arange(M), A)
    # Arms are already in order (control first, then by name) within an experiment.
    row_order = np.lexsort((arm_of, met_of, arm_e[a_idx][arm_of]))
    arm_of, met_of = arm_of[row_order], met_of[row_order]
    flat = {k: np.concatenate(v)[met_of * A + arm_of] if A else np.zeros(0)
            for k, v in cols.items()}
    is_binom = np.concatenate(mtype)[met_of * A + arm_of] if A else np.zeros(0, bool)
    arm_variant = [v_names[v_order[int(r)]] for r in arm_r[a_idx]]
    summary = pa.table({
        "experiment_id": exp_ids.take(pa.array(arm_e[a_idx][arm_of], pa.int64())),
        "metric": pa.array(np.array(layout.metrics, dtype=object)[met_of], pa.string())
        if A else pa.array([], pa.string()),
        "variant": pa.array([arm_variant[a] for a in arm_of.tolist()], pa.string()),
        **{k: pa.array(v, pa.float64()) for k, v in flat.items()},
        "metric_type": pa.array(np.where(is_binom, "binomial", "mean").astype(object),
                                pa.string()),
    })
    first_row = order[starts[arm_of]]

    def where_summary(r: int) -> tuple[str, int]:
        return where(int(first_row[r]))

    control_arm = np.full(good_e.size, -1, dtype=np.int64)
    ctl = np.flatnonzero(arm_r[a_idx] == 0)
    control_arm[new_e[arm_e[a_idx][ctl]]] = ctl
    return UnitChunk(
        summary=normalize(summary, layout.summary_layout), where=where_summary, bad=bad_list,
        experiment_ids=exp_ids.take(pa.array(good_e, pa.int64())), values=values,
        arm_start=new_start, arm_size=sizes.astype(np.int64),
        arm_experiment=new_e[arm_e[a_idx]], arm_variant=arm_variant, control_arm=control_arm,
        rows=nrows, arm_binary=[b[a_idx] for b in arm_is01],
        arm_total=[st[a_idx, 0] for st in arm_stats],
    )
