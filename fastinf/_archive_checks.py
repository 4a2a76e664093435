"""Checking a chunk of sufficient-statistics rows and grouping it for :func:`fastinf.experiment.analyze`.

:func:`group_chunk` takes a normalised chunk of whole experiments (see
:func:`fastinf.archive.normalize`), finds every mistake in it (vectorised:
one pass of array checks, then a message for the first problem of each bad
experiment), and stacks the good experiments with the same numbers of
metrics and arms into ``(experiments, metrics, arms)`` arrays
(:class:`Batch`), with the output row of each result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf.archive import (
    _BINOMIAL,
    _MEAN,
    _RATIO,
    COVARIATES,
    METRIC_TYPES,
    RATIO,
    STATS,
    TYPE,
    ArchiveError,
    Layout,
    MetricTable,
)

__all__ = ["Batch", "Grouped", "experiment_codes", "group_chunk"]


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


def _int_runs(id_col: Any) -> tuple[np.ndarray | None, Any]:
    """``(first row of each run, the runs' ids)`` of integer ids whose runs are all distinct.

    An archive clustered by experiment is coded from its run boundaries,
    without hashing. ``(None, None)`` for any other column.
    """
    import pyarrow as pa

    if pa.types.is_integer(id_col.type) and len(id_col):
        ids = np.asarray(id_col.to_numpy())
        starts = _first_per_group(ids)
        run_ids = ids[starts]
        if np.unique(run_ids).size == run_ids.size:
            return starts, pa.array(run_ids, id_col.type)
    return None, None


def _codes_of_runs(starts: np.ndarray, n: int) -> np.ndarray:
    return np.repeat(np.arange(starts.size, dtype=np.int64), np.diff(np.r_[starts, n]))


def experiment_codes(
    table: Any, where: Any, *, clustered: bool, check_new: Any = None
) -> tuple[np.ndarray, Any]:
    """Chunk-local experiment code of each row (first-appearance order) and the ids.

    Raises :class:`ArchiveError` for a null id, and for a clustering
    violation: with ``clustered``, an experiment whose rows are not
    contiguous; with ``check_new`` (see :func:`group_chunk`), an experiment
    seen in an earlier chunk.
    """
    e_row, exp_ids, starts = experiment_runs(table, where, clustered=clustered,
                                             check_new=check_new)
    if e_row is None:
        e_row = _codes_of_runs(starts, table.num_rows)
    return e_row, exp_ids


def experiment_runs(
    table: Any, where: Any, *, clustered: bool, check_new: Any = None
) -> tuple[np.ndarray | None, Any, np.ndarray]:
    """:func:`experiment_codes`, and the first row of each run of equal ids.

    Returns ``(codes, ids, run starts)``; ``codes`` is ``None`` when each
    experiment is one run of integer ids (then experiment ``k`` is the rows
    ``starts[k]:starts[k + 1]``, and the codes need not be spelt out).
    """
    id_col = table.column("experiment_id").combine_chunks()
    if id_col.null_count:
        row = int(np.argmax(np.asarray(id_col.is_null().to_numpy(zero_copy_only=False))))
        file, line = where(row)
        raise ArchiveError(f"{file} (row {line}): column 'experiment_id' is null.")
    starts, exp_ids = _int_runs(id_col)
    e_row = None
    if starts is None:
        e_row, exp_ids, _ = _codes(id_col)
        starts = _first_per_group(e_row)
    E = len(exp_ids)
    if clustered and E and starts.size != E:
        assert e_row is not None  # integer runs are coded only when they are distinct
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
            first = starts[j] if e_row is None else np.argmax(e_row == j)
            file, line = where(int(first))
            raise ArchiveError(
                f"{file} (row {line}): experiment {exp_ids[j].as_py()!r} appears again after "
                "its rows ended: the input must be clustered by experiment (all rows of an "
                "experiment contiguous; sort it by experiment_id), or it has duplicate rows.")
    return e_row, exp_ids, starts


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
    e_row, exp_ids = experiment_codes(table, where, clustered=clustered, check_new=check_new)
    E = len(exp_ids)
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
