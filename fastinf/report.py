"""A self-contained HTML report of a re-analysis: run summary and four plots.

:func:`render_report` turns the table of a re-analysis (one row per
experiment x metric x variant, the columns of ``fastinf reanalyze``) into
one HTML page that works offline: every plot is inline SVG drawn by this
module, there is no script, style sheet, font or image from anywhere else.
The page holds

* the run facts passed as ``summary`` and an overview of the table (rows,
  invalid rows and why, experiments, decisions with the colour legend);
* ``#pvalue-histogram``: 20 bins of the raw p-values with the height a
  uniform distribution would give (what the nulls look like) and the count
  below ``alpha``;
* ``#volcano``: relative lift against ``-log10 p``, one point per row,
  coloured by decision, with the ``p = alpha`` threshold. Past
  :data:`MAX_POINTS` rows every significant point is kept (while they fit
  in three quarters of that budget) and the rest are thinned
  deterministically on a grid over the plot (sparse regions and outliers
  are kept whole, dense regions are capped), as its caption says;
* ``#forest``: the ``top`` rows with the smallest adjusted p-values, their
  interval and estimate against a zero line;
* ``#srm``: experiments whose sample-ratio-mismatch p-value is below
  ``srm_alpha``, the worst of them, and the SRM p-values by decade.

Each plot's element carries ``data-*`` attributes with what it drew (counts
of bars, points, rows), which the tests compare with what a browser renders.
Rows with a NaN p-value or the decision ``invalid`` are counted, not drawn.
A missing optional column omits what needs it, with a note in its place.
"""

from __future__ import annotations

import dataclasses
import html
import math
import os
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from fastinf.experiment import DECISIONS

__all__ = ["MAX_POINTS", "REQUIRED_COLUMNS", "render_report", "write_report"]

#: Columns without which no report is drawn.
REQUIRED_COLUMNS = ("experiment_id", "metric", "variant", "p_value")
_NUMERIC = (
    "estimate", "ci_low", "ci_high", "relative_difference", "relative_ci_low",
    "relative_ci_high", "p_value", "p_value_adjusted", "srm_p_value", "control_n", "treatment_n",
)
_TEXT = ("experiment_id", "metric", "variant", "decision", "reason")
#: Most points the volcano plot draws.
MAX_POINTS = 20_000
_GRID = (120, 80)  # cells of the thinning grid (x, y)
# Okabe-Ito colours, readable with the common colour-vision deficiencies.
COLORS = {
    "ship": "#009e73", "dont_ship": "#d55e00", "stat_sig_not_practical": "#0072b2",
    "inconclusive": "#a0a0a0", "invalid": "#cc79a7",
    "significant": "#e69f00", "not significant": "#a0a0a0",  # used without a decision column
}
_SIGNIFICANT = ("ship", "dont_ship", "stat_sig_not_practical", "significant")
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;
color:#222;background:#fff}main{max-width:960px;margin:0 auto;padding:16px 24px}
h1{font-size:1.5em}h2{font-size:1.15em;margin:1.6em 0 .4em}table{border-collapse:collapse;
font-size:.9em}td,th{padding:2px 10px;border-bottom:1px solid #e4e4e4;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}figure{margin:0 0 1em}
figcaption,.note{font-size:.85em;color:#555;margin:.3em 0}.note{font-style:italic}
svg{max-width:100%;height:auto;display:block}.swatch{display:inline-block;width:.9em;
height:.9em;margin-right:.4em;vertical-align:-.1em;border-radius:2px}
ul.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:4px 18px;font-size:.9em}
"""


def _e(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape(str(value), quote=True)


def _fmt(value: Any) -> str:
    """Format a number for a table cell (4 significant digits, thousands separators)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:.4g}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(_fmt(v) for v in value)
    return "" if value is None else str(value)


# --------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------


def _column_dict(table: Any) -> dict[str, np.ndarray]:
    """The columns of a pyarrow Table, pandas DataFrame or mapping as 1-D arrays."""
    mod = type(table).__module__
    if mod.startswith("pyarrow") and hasattr(table, "column_names"):
        cols = {name: table.column(name).to_numpy(zero_copy_only=False)
                for name in table.column_names}
    elif mod.startswith("pandas") and hasattr(table, "columns"):
        cols = {str(name): np.asarray(table[name].to_numpy()) for name in table.columns}
    elif isinstance(table, Mapping):
        cols = {str(name): np.asarray(values) for name, values in table.items()}
    else:
        raise TypeError("`table` must be a pyarrow.Table, a pandas.DataFrame or a mapping "
                        f"of column name to array, not {type(table).__name__}.")
    sizes = {name: values.shape for name, values in cols.items()}
    for name, shape in sizes.items():
        if len(shape) != 1:
            raise ValueError(f"column `{name}` of `table` must be 1-D, not of shape {shape}.")
    if len({shape[0] for shape in sizes.values()}) > 1:
        raise ValueError(f"the columns of `table` differ in length: {sizes}.")
    return cols


def _render_report_iv(table: Any, summary: Any, title: Any, top: Any, alpha: Any,
                      srm_alpha: Any) -> tuple[dict[str, np.ndarray], int, Any]:
    """Validate the arguments of :func:`render_report`: the columns, row count and summary."""
    if summary is not None and not isinstance(summary, Mapping):
        if not dataclasses.is_dataclass(summary) or isinstance(summary, type):
            raise TypeError("`summary` must be a mapping of run facts, a dataclass or None.")
        summary = {f.name: getattr(summary, f.name) for f in dataclasses.fields(summary)}
    if not isinstance(title, str):
        raise TypeError("`title` must be a string.")
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError("`top` must be a positive integer.")
    for name, value in (("alpha", alpha), ("srm_alpha", srm_alpha)):
        if not isinstance(value, (int, float, np.floating)) or not 0 < value < 1:
            raise ValueError(f"`{name}` must be a number in (0, 1).")
    raw = _column_dict(table)
    missing = [name for name in REQUIRED_COLUMNS if name not in raw]
    if missing:
        raise ValueError(f"`table` lacks the required column(s) {', '.join(missing)}.")
    cols: dict[str, np.ndarray] = {}
    for name in _NUMERIC:
        if name in raw:
            try:
                cols[name] = np.asarray(raw[name], dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"column `{name}` of `table` must be numeric.") from None
    for name in _TEXT:
        if name in raw:
            cols[name] = raw[name]
    if "decision" in cols:
        dec = cols["decision"]
        if dec.dtype.kind in "iu":
            if dec.size and (dec.min() < 0 or dec.max() >= len(DECISIONS)):
                raise ValueError("integer codes in column `decision` must index "
                                 "fastinf.experiment.DECISIONS.")
            dec = np.asarray(DECISIONS, dtype=object)[dec]
        if dec.dtype == object:  # nulls (None, NaN) from Arrow or pandas: invalid rows
            dec = np.where([not isinstance(d, str) for d in dec], "invalid", dec)
        dec = dec.astype(str)
        unknown = sorted(set(np.unique(dec).tolist()) - set(DECISIONS))
        if unknown:
            raise ValueError(f"column `decision` holds values not in "
                             f"fastinf.experiment.DECISIONS: {unknown[:5]}.")
        cols["decision"] = dec
    return cols, int(raw["p_value"].shape[0]), summary


# --------------------------------------------------------------------------
# SVG drawing
# --------------------------------------------------------------------------


def _ticks(lo: float, hi: float, n: int = 6) -> np.ndarray:
    """At most about ``n`` round tick values (1, 2, 2.5 or 5 times a power of ten) in [lo, hi]."""
    span = hi - lo
    raw = span / max(n - 1, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks = (first + np.arange(int(math.floor(hi / step + 1e-9)) - first + 1)) * step
    return np.where(np.abs(ticks) < step * 1e-9, 0.0, ticks)


def _padded(lo: float, hi: float, pad: float = 0.05) -> tuple[float, float]:
    """Widen [lo, hi] by ``pad`` of its span on each side (a unit around a single value)."""
    if not hi > lo:
        half = max(abs(lo) * 0.1, 1.0)
        return lo - half, hi + half
    return lo - pad * (hi - lo), hi + pad * (hi - lo)


class _Frame:
    """A plot area: the data domain, its pixel box, and the axes drawn around it."""

    def __init__(self, x: tuple[float, float], y: tuple[float, float],
                 box: tuple[float, float, float, float]) -> None:
        self.x, self.y = x, y
        self.left, self.top, self.width, self.height = box

    def px(self, v: Any) -> Any:
        return self.left + (np.asarray(v, float) - self.x[0]) / (self.x[1] - self.x[0]) * self.width

    def py(self, v: Any) -> Any:
        return self.top + (self.y[1] - np.asarray(v, float)) / (self.y[1] - self.y[0]) * self.height

    def axes(self, xlabel: str, ylabel: str, *, xticks: bool = True, yticks: bool = True) -> str:
        """The frame, tick marks with labels, and the axis titles."""
        left, top, w, h = self.left, self.top, self.width, self.height
        out = [f'<rect class="plot-area" x="{left}" y="{top}" width="{w}" height="{h}" '
               'fill="none" stroke="#888"/>', '<g class="x-axis" font-size="11" fill="#333">']
        for t in _ticks(*self.x) if xticks else ():
            p = float(self.px(t))
            out.append(f'<line x1="{p:.1f}" y1="{top + h}" x2="{p:.1f}" y2="{top + h + 4}" '
                       f'stroke="#888"/><text x="{p:.1f}" y="{top + h + 16}" '
                       f'text-anchor="middle">{_e(f"{t:.6g}")}</text>')
        out.append(f'<text class="axis-label" x="{left + w / 2}" y="{top + h + 34}" '
                   f'text-anchor="middle" font-size="12">{_e(xlabel)}</text></g>')
        out.append('<g class="y-axis" font-size="11" fill="#333">')
        if yticks:
            for t in _ticks(*self.y, n=5):
                p = float(self.py(t))
                out.append(f'<line x1="{left - 4}" y1="{p:.1f}" x2="{left}" y2="{p:.1f}" '
                           f'stroke="#888"/><text x="{left - 7}" y="{p + 4:.1f}" '
                           f'text-anchor="end">{_e(f"{t:.6g}")}</text>')
        cy = top + h / 2
        if ylabel:
            out.append(f'<text class="axis-label" x="14" y="{cy}" text-anchor="middle" '
                       f'font-size="12" transform="rotate(-90 14 {cy})">{_e(ylabel)}</text>')
        out.append("</g>")
        return "".join(out)


def _svg(body: str, width: int, height: int, label: str, desc: str, ident: str) -> str:
    """An accessible SVG element (``role="img"``, ``<title>`` and ``<desc>``)."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{ident}-title '
            f'{ident}-desc"><title id="{ident}-title">{_e(label)}</title>'
            f'<desc id="{ident}-desc">{_e(desc)}</desc>'
            f'<rect width="{width}" height="{height}" fill="#fff"/>{body}</svg>')


def _figure(ident: str, heading: str, content: str, caption: str, **data: Any) -> str:
    attrs = "".join(f' data-{k.replace("_", "-")}="{_e(v)}"' for k, v in data.items())
    return (f'<section><h2>{_e(heading)}</h2><figure id="{ident}"{attrs}>{content}'
            f'<figcaption>{_e(caption)}</figcaption></figure></section>')


def _omitted(ident: str, heading: str, why: str) -> str:
    return (f'<section><h2>{_e(heading)}</h2><figure id="{ident}" data-omitted="true">'
            f'<p class="note">Not drawn: {_e(why)}</p></figure></section>')


def _line(cls: str, x1: float, y1: float, x2: float, y2: float, stroke: str = "#222",
          dash: str = "6 4") -> str:
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (f'<line class="{cls}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{stroke}"{dashes}/>')


def _bar(fr: _Frame, x0: float, x1: float, count: int, fill: str, tip: str) -> str:
    """A bar of ``count`` from the bottom of the frame, its gaps 4% of its width each side."""
    a, b, y = float(fr.px(x0)), float(fr.px(x1)), float(fr.py(count))
    gap = 0.04 * (b - a)
    return (f'<rect class="bar" data-count="{count}" x="{a + gap:.1f}" y="{y:.1f}" '
            f'width="{b - a - 2 * gap:.1f}" height="{fr.top + fr.height - y:.1f}" '
            f'fill="{fill}"><title>{_e(tip)}</title></rect>')


def _experiment_codes(ids: np.ndarray) -> np.ndarray:
    """Codes 0 .. experiments - 1 of the experiment ids (compared as text)."""
    return np.unique(ids.astype(str), return_inverse=True)[1].ravel()


def _label(cols: dict[str, np.ndarray], i: Any) -> str:
    return f"{cols['experiment_id'][i]} / {cols['metric'][i]} / {cols['variant'][i]}"


# --------------------------------------------------------------------------
# The plots
# --------------------------------------------------------------------------


def _histogram(p: np.ndarray, alpha: float) -> str:
    ident, heading = "pvalue-histogram", "p-value histogram"
    p = p[(p >= 0) & (p <= 1)]
    if p.size == 0:
        return _omitted(ident, heading, "no row has a p-value.")
    counts = np.histogram(p, bins=20, range=(0.0, 1.0))[0]
    below = int(np.count_nonzero(p < alpha))
    expected = p.size / 20
    fr = _Frame((0.0, 1.0), (0.0, max(counts.max(), expected) * 1.08), (64, 14, 620, 260))
    bars = [_bar(fr, k / 20, (k + 1) / 20, c, "#3b6ea5" if (k + 1) / 20 <= alpha + 1e-12
                 else "#8fb3d9", f"p in [{k / 20:.2f}, {(k + 1) / 20:.2f}): {c} rows")
            for k, c in enumerate(counts)]
    yu, xa = float(fr.py(expected)), float(fr.px(alpha))
    body = (fr.axes("p-value", "rows") + "".join(bars)
            + _line("uniform", fr.left, yu, fr.left + fr.width, yu)
            + _line("alpha", xa, fr.top, xa, fr.top + fr.height, "#d55e00", "")
            + f'<text x="{fr.left + fr.width - 4}" y="{yu - 5:.1f}" text-anchor="end" '
            f'font-size="11">uniform (all null)</text>')
    caption = (f"{p.size:,} p-values in 20 bins; dashed line: the count per bin if every "
               f"null hypothesis were true; {below:,} ({below / p.size:.1%}) below "
               f"alpha = {alpha:g} (red line).")
    svg = _svg(body, 700, 320, heading, caption, ident)
    return _figure(ident, heading, svg, caption, bins=20, total=p.size, below_alpha=below)


def _thin(x: np.ndarray, y: np.ndarray, frame: _Frame, budget: int) -> tuple[np.ndarray, int]:
    """Indices of at most ``budget`` points, capped per cell of a grid over the plot.

    Every cell keeps its points up to a common quota chosen as large as the
    budget allows, so sparse regions and outliers survive and dense ones
    are thinned; the order within a cell is a fixed hash of the index.
    Returns the sorted indices and the quota.
    """
    n = x.size
    if n <= budget:
        return np.arange(n), n
    gx, gy = _GRID
    cx = np.clip(((x - frame.x[0]) / (frame.x[1] - frame.x[0]) * gx).astype(np.int64), 0, gx - 1)
    cy = np.clip(((y - frame.y[0]) / (frame.y[1] - frame.y[0]) * gy).astype(np.int64), 0, gy - 1)
    cell = cx * gy + cy
    # Fibonacci hashing: a bijection of the row index, so ties break the same way every run.
    key = np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    order = np.lexsort((key, cell))
    counts = np.bincount(cell, minlength=gx * gy)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - starts[cell[order]]
    lo, hi = 0, int(counts.max())  # largest quota q with sum(min(counts, q)) <= budget
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if np.minimum(counts, mid).sum() <= budget:
            lo = mid
        else:
            hi = mid - 1
    keep = rank < lo
    extra = np.flatnonzero(rank == lo)  # fill the rest of the budget in hash order
    extra = extra[np.argsort(key[extra], kind="stable")][: budget - int(keep.sum())]
    keep[extra] = True
    return np.flatnonzero(keep), lo


def _volcano(cols: dict[str, np.ndarray], valid: np.ndarray, dec: np.ndarray,
             alpha: float, notes: list[str]) -> str:
    ident, heading = "volcano", "Volcano plot"
    if "relative_difference" in cols:
        xcol, xlabel, scale = "relative_difference", "relative lift (%)", 100.0
    elif "estimate" in cols:
        xcol, xlabel, scale = "estimate", "difference (treatment - control)", 1.0
        notes.append("Volcano plot: no `relative_difference` column, so the x axis is the "
                     "absolute difference (metrics on different scales share it).")
    else:
        return _omitted(ident, heading, "the table has neither `relative_difference` "
                        "nor `estimate`.")
    p = cols["p_value"]
    xall = cols[xcol] * scale
    ok = valid & np.isfinite(xall) & (p >= 0) & (p <= 1)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return _omitted(ident, heading, "no valid row has both a lift and a p-value.")
    x, pv = xall[idx], p[idx]
    positive = pv[pv > 0]
    cap = float(-np.log10(positive.min())) if positive.size else 1.0
    zero_p = int(np.count_nonzero(pv == 0))
    y = np.where(pv > 0, -np.log10(np.where(pv > 0, pv, 1.0)), cap)
    ythr = -math.log10(alpha)
    fr = _Frame(_padded(float(x.min()), float(x.max())),
                (0.0, max(cap, ythr) * 1.06 or 1.0), (64, 14, 640, 340))
    sig = np.isin(dec[idx], _SIGNIFICANT)
    s_idx, r_idx = np.flatnonzero(sig), np.flatnonzero(~sig)
    thinned, how, chosen = idx.size > MAX_POINTS, "", np.arange(idx.size)
    if thinned:  # the rest keeps at least a quarter of the budget, so the null cloud shows
        rest = min(r_idx.size, max(MAX_POINTS - s_idx.size, MAX_POINTS // 4))
        s_pick, s_q = _thin(x[s_idx], y[s_idx], fr, MAX_POINTS - rest)
        r_pick, r_q = _thin(x[r_idx], y[r_idx], fr, rest)
        chosen = np.sort(np.concatenate((s_idx[s_pick], r_idx[r_pick])))
        what = (f"all {s_idx.size:,} significant ones" if s_pick.size == s_idx.size else
                f"{s_pick.size:,} of the {s_idx.size:,} significant ones (at most {s_q + 1} per "
                "cell)")
        how = (f" Showing {chosen.size:,} of {idx.size:,} points: {what}, and {r_pick.size:,} of "
               f"the {r_idx.size:,} others (at most {r_q + 1} per cell), thinned on a "
               f"{_GRID[0]} x {_GRID[1]} grid over the plot (deterministic; sparse regions and "
               "outliers are kept whole).")
    px, py = fr.px(x[chosen]), fr.py(y[chosen])
    cdec = dec[idx][chosen]
    with_titles = chosen.size <= 2000
    groups = []
    drawn: dict[str, int] = {}
    for d in sorted(set(cdec.tolist()), key=lambda d: d in _SIGNIFICANT):  # significant on top
        members = np.flatnonzero(cdec == d)
        drawn[d] = int(members.size)
        pts = []
        for m in members:
            dot = f'<circle cx="{px[m]:.1f}" cy="{py[m]:.1f}" r="2.6"'
            if with_titles:
                row = idx[chosen[m]]
                dot += (f'><title>{_e(_label(cols, row))}: {_e(f"{x[chosen[m]]:.3g}")}, '
                        f'p = {_e(f"{p[row]:.3g}")}</title></circle>')
            else:
                dot += "/>"
            pts.append(dot)
        groups.append(f'<g class="points" data-decision="{_e(d)}" data-count="{members.size}" '
                      f'fill="{COLORS[d]}" fill-opacity="0.75">{"".join(pts)}</g>')
    yt = float(fr.py(ythr))
    body = fr.axes(xlabel, "-log10 p-value")
    if fr.x[0] < 0 < fr.x[1]:
        x0 = float(fr.px(0.0))
        body += _line("zero", x0, fr.top, x0, fr.top + fr.height, "#bbb", "")
    body += (_line("threshold", fr.left, yt, fr.left + fr.width, yt) + f'<text x="{fr.left + 4}" '
             f'y="{yt - 5:.1f}" font-size="11">p = {alpha:g}</text>' + "".join(groups))
    caption = (f"One point per valid row ({idx.size:,}), coloured by decision (made on the "
               f"adjusted p-values); dashed line: raw p = {alpha:g}.{how}")
    if zero_p:
        caption += f" {zero_p:,} rows with p = 0 are drawn at the top."
    svg = _svg(body, 720, 400, heading, caption, ident)
    return _figure(ident, heading, svg, caption, points=chosen.size, total=idx.size,
                   significant=s_idx.size, thinned=str(thinned).lower(),
                   drawn=",".join(f"{k}:{v}" for k, v in sorted(drawn.items())))


def _forest(cols: dict[str, np.ndarray], valid: np.ndarray, dec: np.ndarray,
            top: int, notes: list[str]) -> str:
    ident, heading = "forest", f"Top {top} rows by adjusted p-value"
    rel = ("relative_difference", "relative_ci_low", "relative_ci_high")
    ab = ("estimate", "ci_low", "ci_high")
    if all(c in cols for c in rel):
        names, scale, xlabel = rel, 100.0, "relative lift (%) with its interval"
    elif all(c in cols for c in ab):
        names, scale, xlabel = ab, 1.0, "difference (treatment - control) with its interval"
        notes.append("Forest plot: no relative interval columns, so the axis is the "
                     "absolute difference.")
    else:
        need = [c for c in ab if c not in cols]
        return _omitted(ident, heading, f"the table lacks {', '.join(need)}.")
    if "p_value_adjusted" in cols:
        rank = cols["p_value_adjusted"]
    else:
        rank = cols["p_value"]
        notes.append("Forest plot: no `p_value_adjusted` column, rows ranked by raw p-value.")
    est, lo, hi = (cols[c] * scale for c in names)
    ok = valid & np.isfinite(est) & np.isfinite(rank)
    cand = np.flatnonzero(ok)
    if cand.size == 0:
        return _omitted(ident, heading, "no valid row has an estimate.")
    cand = cand[np.lexsort((cand, cols["p_value"][cand], rank[cand]))][:top]
    k = cand.size
    vals = np.concatenate((est[cand], lo[cand], hi[cand], [0.0]))
    vals = vals[np.isfinite(vals)]
    rowh, left, width = 20, 300, 430
    fr = _Frame(_padded(float(vals.min()), float(vals.max())), (0.0, float(k)),
                (left, 12, width, rowh * k))
    parts = [fr.axes(xlabel, "", yticks=False)]
    z = float(fr.px(0.0))
    parts.append(_line("zero", z, fr.top, z, fr.top + fr.height, "#444", "4 3"))
    xmin, xmax = fr.left, fr.left + fr.width
    for r, i in enumerate(cand):
        cy = fr.top + rowh * (r + 0.5)
        label = _label(cols, i)
        short = label if len(label) <= 46 else label[:45] + "\u2026"
        color = COLORS[dec[i]]
        a, b = (float(np.clip(fr.px(est[i] if np.isnan(v) else v), xmin, xmax))
                for v in (lo[i], hi[i]))  # an infinite bound runs to the edge
        interval = f"{est[i]:.3g} [{lo[i]:.3g}, {hi[i]:.3g}]"
        parts.append(
            f'<g class="forest-row" data-decision="{_e(dec[i])}"><title>{_e(label)}: '
            f'{_e(interval)}, adjusted p = {_e(f"{rank[i]:.3g}")}</title>'
            f'<text class="row-label" x="{left - 8}" y="{cy + 4:.1f}" text-anchor="end" '
            f'font-size="11">{_e(short)}</text><line class="interval" x1="{a:.1f}" '
            f'y1="{cy:.1f}" x2="{b:.1f}" y2="{cy:.1f}" stroke="{color}" stroke-width="2.5"/>'
            f'<circle class="estimate" cx="{float(fr.px(est[i])):.1f}" cy="{cy:.1f}" r="4" '
            f'fill="{color}" stroke="#222" stroke-width="0.6"/><text x="{xmax + 8}" '
            f'y="{cy + 4:.1f}" font-size="10.5" fill="#333">{_e(interval)}</text></g>')
    caption = (f"The {k} valid rows with the smallest adjusted p-values: estimate (dot) and "
               f"interval (bar; an infinite bound runs to the edge), coloured by decision.")
    svg = _svg("".join(parts), 900, rowh * k + 60, heading, caption, ident)
    return _figure(ident, heading, svg, caption, rows=k)


def _decade(k: int) -> str:
    return f"{10.0 ** -k:g}" if k < 4 else f"1e-{k}"


def _srm(cols: dict[str, np.ndarray], srm_alpha: float) -> str:
    ident, heading = "srm", "Sample-ratio mismatch"
    if "srm_p_value" not in cols:
        return _omitted(ident, heading, "the table has no `srm_p_value` column.")
    srm = cols["srm_p_value"]
    rows = np.flatnonzero(np.isfinite(srm))
    if rows.size == 0:
        return _omitted(ident, heading, "no row has an SRM p-value.")
    codes = _experiment_codes(cols["experiment_id"][rows])
    order = np.lexsort((rows, srm[rows], codes))  # worst row of each experiment first
    first = order[np.concatenate(([True], codes[order][1:] != codes[order][:-1]))]
    worst = rows[first]  # one row per experiment: its smallest SRM p-value
    wp = srm[worst]
    fails = worst[wp < srm_alpha]
    fails = fails[np.lexsort((fails, srm[fails]))]
    affected = int(np.count_nonzero(srm[rows] < srm_alpha))
    head = "".join(f"<th>{h}</th>" for h in ("experiment", "variant", "control n",
                                             "treatment n", "SRM p-value"))
    body_rows = "".join(
        f'<tr><td>{_e(cols["experiment_id"][i])}</td><td>{_e(cols["variant"][i])}</td>'
        + "".join(f'<td class="num">{_e(_fmt(cols[c][i])) if c in cols else ""}</td>'
                  for c in ("control_n", "treatment_n"))
        + f'<td class="num">{srm[i]:.3g}</td></tr>' for i in fails[:20])
    table = (f'<table class="srm-worst"><thead><tr>{head}</tr></thead>'
             f"<tbody>{body_rows}</tbody></table>" if body_rows else "")
    # Bars by decade of each experiment's smallest SRM p-value.
    decades = 10
    lg = np.log10(np.maximum(wp, 1e-300))
    bucket = np.clip(np.floor(-lg), 0, decades).astype(np.int64)
    counts = np.bincount(bucket, minlength=decades + 1)[::-1]  # smallest p on the left
    fr = _Frame((0.0, decades + 1.0), (0.0, max(counts.max(), 1) * 1.08), (64, 14, 620, 220))
    bars = []
    for j, c in enumerate(counts):
        k = decades - j  # bar j: SRM p in (1e-(k+1), 1e-k], the first one p <= 1e-decades
        name = f"p <= {_decade(k)}" if k == decades else f"p in ({_decade(k + 1)}, {_decade(k)}]"
        fill = "#d55e00" if 10.0 ** -k <= srm_alpha * (1 + 1e-12) else "#a0a0a0"
        bars.append(_bar(fr, j, j + 1, c, fill, f"SRM {name}: {c} experiments")
                    + f'<text x="{float(fr.px(j + 0.5)):.1f}" y="{fr.top + fr.height + 16}" '
                    f'font-size="10" text-anchor="middle">{_decade(k)}</text>')
    xt = float(fr.px(decades + 1 + math.log10(srm_alpha)))  # p = 10**(x - decades - 1)
    svg_body = (fr.axes("SRM p-value (upper edge of the decade)", "experiments", xticks=False)
                + "".join(bars) + _line("threshold", xt, fr.top, xt, fr.top + fr.height))
    caption = (f"{fails.size:,} of {worst.size:,} experiments fail the SRM check "
               f"(p < {srm_alpha:g}; {affected:,} rows). Bars: experiments by decade of their "
               f"smallest SRM p-value, red below the threshold (dashed line).")
    svg = _svg(svg_body, 700, 280, "SRM p-values by decade", caption, ident)
    note = ("" if fails.size else '<p class="note">No experiment fails the SRM check.</p>')
    extra = (f"<p>Worst {min(fails.size, 20)} of {fails.size:,} failing experiments:</p>"
             if fails.size else "")
    return _figure(ident, heading, svg + note + extra + table, caption,
                   failures=fails.size, experiments=worst.size, rows=affected)


# --------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------


def _overview(cols: dict[str, np.ndarray], n: int, valid: np.ndarray, dec: np.ndarray,
              summary: Mapping[str, Any] | None) -> str:
    out = []
    if summary:
        rows = "".join(f'<tr><th scope="row">{_e(k)}</th><td class="'
                       f'{"num" if isinstance(v, (int, float, np.number)) else "text"}">'
                       f"{_e(_fmt(v))}</td></tr>" for k, v in summary.items())
        out.append(f'<h2>Run</h2><table id="run-summary">{rows}</table>')
    invalid = n - int(valid.sum())
    experiments = int(_experiment_codes(cols["experiment_id"]).max(initial=-1)) + 1
    facts = [("rows", n), ("valid rows", n - invalid), ("invalid rows (counted, not drawn)",
                                                         invalid), ("experiments", experiments)]
    rows = "".join(f'<tr><th scope="row">{_e(k)}</th><td class="num">{_e(_fmt(v))}</td></tr>'
                   for k, v in facts)
    if invalid and "reason" in cols:
        reasons, counts = np.unique(np.asarray(cols["reason"][~valid]).astype(str),
                                    return_counts=True)
        rows += "".join(f'<tr><td>&#8195;{_e(r or "(no reason given)")}</td>'
                        f'<td class="num">{c:,}</td></tr>' for r, c in zip(reasons, counts, strict=True))
    out.append(f'<h2>Table</h2><table id="overview" data-rows="{n}" data-invalid="{invalid}">'
               f"{rows}</table>")
    names, counts = np.unique(dec, return_counts=True)
    have = dict(zip(names.tolist(), counts.tolist(), strict=True))
    order = [d for d in (*DECISIONS, "significant", "not significant") if d in have]
    items = "".join(f'<li data-decision="{_e(d)}"><span class="swatch" style="background:'
                    f'{COLORS[d]}"></span>{_e(d)}: {have[d]:,}</li>' for d in order)
    out.append(f'<h2>Decisions</h2><ul class="legend" id="legend" aria-label="decision '
               f'colours">{items}</ul>')
    return "".join(out)


def render_report(table: Any, summary: Any = None, *,
                  title: str = "fastinf re-analysis", top: int = 30, alpha: float = 0.05,
                  srm_alpha: float = 0.001) -> str:
    r"""Render a re-analysis as one self-contained HTML page.

    Parameters
    ----------
    table : pyarrow.Table, pandas.DataFrame or mapping of str to 1-D array
        One row per experiment x metric x variant with the columns of
        ``fastinf reanalyze``: ``experiment_id``, ``metric``, ``variant`` and
        ``p_value`` (required); ``estimate``, ``ci_low``, ``ci_high``,
        ``relative_difference``, ``relative_ci_low``, ``relative_ci_high``,
        ``p_value_adjusted``, ``decision`` (values of
        :data:`fastinf.experiment.DECISIONS`, or their integer codes),
        ``srm_p_value``, ``control_n``, ``treatment_n`` and ``reason``
        (optional: what needs a missing one is left out, with a note).
    summary : mapping or dataclass, optional
        Run facts (rows read, seconds, options...) shown as a table (a
        dataclass, such as the summary of a re-analysis, by its fields).
    title : str, default "fastinf re-analysis"
        Title of the page.
    top : int, default 30
        Rows in the forest plot (smallest adjusted p-values).
    alpha : float, default 0.05
        Significance level drawn in the histogram and volcano plot.
    srm_alpha : float, default 0.001
        SRM p-values below this fail the sample-ratio check.

    Returns
    -------
    str
        The HTML page. It loads nothing: no script, style sheet, font or image.

    Raises
    ------
    ValueError
        If a required column is missing, a column is not 1-D or not numeric
        where it should be, or an option is out of range.

    Notes
    -----
    The volcano plot's y coordinate is :math:`-\log_{10} p` of the raw
    p-value; rows with :math:`p = 0` are drawn at the largest finite height.
    Above :data:`MAX_POINTS` rows, the other rows get the budget the
    significant ones leave, but at least a quarter of it, and each group
    is thinned to its share: over a grid of cells covering the plot, every
    cell keeps up to a common quota :math:`q` of its points, with :math:`q`
    the largest value for which :math:`\sum_c \min(n_c, q)` fits the share
    (then the share's remainder goes to the next points in a fixed order).
    All significant rows are drawn while they fit in their share.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.report import render_report
    >>> page = render_report({"experiment_id": np.array(["e1", "e2"]),
    ...                       "metric": np.array(["revenue", "revenue"]),
    ...                       "variant": np.array(["B", "B"]),
    ...                       "p_value": np.array([0.003, 0.4])})
    >>> page.startswith("<!DOCTYPE html>"), 'id="pvalue-histogram"' in page
    (True, True)
    """
    cols, n, summary = _render_report_iv(table, summary, title, top, alpha, srm_alpha)
    notes: list[str] = []
    p = cols["p_value"]
    if "decision" in cols:
        dec = cols["decision"]
        valid = np.isfinite(p) & (dec != "invalid")
    else:
        padj = cols.get("p_value_adjusted", p)
        notes.append("No `decision` column: points are coloured by adjusted p < alpha.")
        valid = np.isfinite(p)
        dec = np.where(padj < alpha, "significant", "not significant")
        dec = np.where(valid, dec, "invalid")
    sections = [
        _overview(cols, n, valid, dec, summary),
        _histogram(p[valid], alpha),
        _volcano(cols, valid, dec, alpha, notes),
        _forest(cols, valid, dec, top, notes),
        _srm(cols, srm_alpha),
    ]
    note_html = "".join(f'<p class="note">{_e(t)}</p>' for t in notes)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
            f"<style>{_CSS}</style></head><body><main><h1>{_e(title)}</h1>"
            f'{"".join(sections)}<section id="notes">{note_html}</section></main></body></html>\n')


def write_report(path: str | os.PathLike[str], table: Any, summary: Any = None,
                 **options: Any) -> None:
    """Render a report with :func:`render_report` and write it to ``path`` atomically.

    The page is written to a temporary file in the same folder and renamed
    over ``path``, so a reader sees either the old file or the whole new one.

    Parameters
    ----------
    path : str or os.PathLike
        Where the HTML page goes.
    table, summary
        As for :func:`render_report`.
    **options
        ``title``, ``top``, ``alpha``, ``srm_alpha``: as for :func:`render_report`.
    """
    page = render_report(table, summary, **options)
    target = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
