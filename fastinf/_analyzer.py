"""The analysis of one chunk of an archive for :mod:`fastinf.reanalyze`.

:class:`_Analyzer` holds a run's options and metric ids; per chunk it checks
and groups the rows (:func:`fastinf._archive_checks.group_chunk`; unit-level
rows are first aggregated by :func:`fastinf._unit_archive.aggregate_chunk`),
computes the contrasts of :func:`fastinf.experiment.analyze` batch by batch,
corrects the p-values of each family and builds the output table, with the
rank test and bootstrap columns of unit-level input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf._archive_checks import Grouped, group_chunk
from fastinf._reanalyze_config import _Options
from fastinf._unit_archive import UnitChunk, UnitLayout, aggregate_chunk
from fastinf._unit_extras import EXTRA_COLUMNS, unit_columns
from fastinf.archive import METRIC_TYPES, Layout, MetricTable

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
#: The output columns of unit-level input: :data:`OUTPUT_COLUMNS` and the unit-level ones.
UNIT_OUTPUT_COLUMNS = (*OUTPUT_COLUMNS, *EXTRA_COLUMNS)


def _output_schema(id_type: str, unit: bool = False) -> Any:
    import pyarrow as pa

    fields = [
        ("experiment_id", pa.int64() if id_type == "int64" else pa.string()),
        ("metric", pa.string()), ("variant", pa.string()), ("metric_type", pa.string()),
        *((name, pa.float64()) for name, _ in _FLOAT_COLUMNS),
        *((name, pa.bool_()) for name in _BOOL_COLUMNS),
        ("decision", pa.string()), ("reason", pa.string()),
        *((name, pa.float64()) for name in (EXTRA_COLUMNS if unit else ())),
    ]
    return pa.schema(fields)


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

    def __init__(self, opts: _Options, layout: Layout | UnitLayout) -> None:
        self.opts = opts
        self.units = layout if isinstance(layout, UnitLayout) else None
        self.layout = layout.summary_layout if isinstance(layout, UnitLayout) else layout
        self.metrics = MetricTable(opts.spec, opts.guardrails, opts.min_effect)
        self.schema = _output_schema(layout.id_type, self.units is not None)
        self.metric_seen: set[int] = set()

    def unit_contrasts(
        self, table: Any, where: Any, *, clustered: bool, check_new: Any = None
    ) -> tuple[_Chunk, UnitChunk]:
        """:meth:`contrasts` of a chunk of units, aggregated to sufficient statistics first."""
        assert self.units is not None
        o = self.opts
        uc = aggregate_chunk(table, where, layout=self.units, spec=o.spec, control=o.control,
                             errors=o.errors, clustered=clustered, check_new=check_new)
        ch = self.contrasts(uc.summary, uc.where, clustered=False)
        ch.grouped.bad[:0] = uc.bad
        return ch, uc

    def unit_columns(self, ch: _Chunk, uc: UnitChunk) -> dict[str, np.ndarray]:
        """The unit-level columns (rank test, bootstrap interval) of a chunk's output rows."""
        assert self.units is not None
        o = self.opts
        names = self.units.metrics
        lut = np.full(len(self.metrics.names), -1, dtype=np.int64)
        for j, m in enumerate(names):
            if m in self.metrics.ids:
                lut[self.metrics.ids[m]] = j
        g = ch.grouped
        v_names = g.variant_names.to_pylist()
        code = {v: i for i, v in enumerate(v_names)}
        arm_code = np.array([code.get(v, -1) for v in uc.arm_variant], dtype=np.int64)
        width = len(v_names) + 1
        arm_key = uc.arm_experiment * width + arm_code
        by_key = np.argsort(arm_key, kind="stable")
        row_key = g.out_experiment * width + ch.variant
        arm = by_key[np.searchsorted(arm_key[by_key], row_key)]
        return unit_columns(uc, g.out_experiment, lut[ch.metric], arm, names, alpha=o.alpha,
                            alternative=o.alternative, bootstrap=o.bootstrap,
                            n_resamples=o.n_resamples, seed=o.seed)

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

    def finish(self, ch: _Chunk, p_adj: np.ndarray, extra: Any = None) -> Any:
        """The output table of a chunk, deciding with the adjusted p-values ``p_adj``.

        ``extra``: the chunk of units of unit-level input, for its columns.
        """
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
        if self.units is not None:
            more = self.unit_columns(ch, extra) if extra is not None else {}
            cols += [pa.array(more.get(name, np.full(n, np.nan))) for name in EXTRA_COLUMNS]
        return pa.Table.from_arrays(cols, schema=self.schema)
