"""The HTML report of a re-analysis (``fastinf.report``).

Two kinds of test: the page's structure and numbers (parsed with the
standard library's HTML parser, against counts the tests set up by
construction), and real renderings of it. A renderer is headless Chromium
(the whole page: its DOM after layout through ``--dump-dom`` and a
``--screenshot``) where installed (``apt-get install -y chromium``), and
resvg (``pip install resvg-py``, a Rust SVG rasteriser with no system
library) for each plot's SVG; the rendering tests are skipped, saying why,
only where neither is installed.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from html.parser import HTMLParser

import numpy as np
import pytest

from fastinf.experiment import DECISIONS
from fastinf.report import COLORS, MAX_POINTS, _Frame, _thin, render_report, write_report

PLOTS = ("pvalue-histogram", "volcano", "forest", "srm")
HOSTILE = "<script>alert('x')</script>"


def make_table(n=240, seed=5, *, hostile=False):
    """A table of ``n`` rows with decisions and p-values set by construction.

    Row i has p = (i + 0.5) / n (so every histogram bin holds n / 20 rows),
    the first 12 rows are significant (6 ship, 4 dont_ship, 2
    stat_sig_not_practical), rows 20-22 are invalid (NaN p-value), and
    experiments 3 and 7 (six rows each) fail the SRM check.
    """
    rng = np.random.default_rng(seed)
    i = np.arange(n)
    p = (i + 0.5) / n
    decision = np.array(["inconclusive"] * n, dtype=object)
    decision[:6], decision[6:10], decision[10:12] = "ship", "dont_ship", "stat_sig_not_practical"
    est = rng.normal(0, 0.02, n)
    est[:6], est[6:10] = np.abs(est[:6]) + 0.03, -np.abs(est[6:10]) - 0.03
    se = rng.uniform(0.004, 0.01, n)
    p[20:23] = np.nan
    decision[20:23] = "invalid"
    exp = i // 6
    srm = rng.uniform(0.01, 1, n)
    srm[exp == 3], srm[exp == 7] = 1e-6, 2e-12
    ids = np.array([f"exp-{e}" for e in exp], dtype=object)
    if hostile:
        ids[:3] = HOSTILE
    return {
        "experiment_id": ids, "metric": np.array(["revenue", "clicks", "a&b"] * (n // 3 + 1))[:n],
        "variant": np.array(["B", "C"])[(i // 3) % 2], "estimate": est,
        "ci_low": est - 2 * se, "ci_high": est + 2 * se, "relative_difference": est,
        "relative_ci_low": est - 2 * se, "relative_ci_high": est + 2 * se, "p_value": p,
        "p_value_adjusted": np.minimum(p * 3, 1), "decision": decision.astype(str),
        "srm_p_value": srm, "control_n": rng.integers(900, 1100, n).astype(float),
        "treatment_n": rng.integers(900, 1100, n).astype(float),
        "reason": np.where(np.isnan(p), "NaN in the input", ""),
    }


class _Tree(HTMLParser):
    """Elements of a page as (tag, attrs, text) in document order, with the figure they are in."""

    VOID = {"meta", "br", "img", "input", "link", "hr"}

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.elements, self.stack = [], []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        figure = next((e[1]["id"] for e in reversed(self.stack) if e[0] == "figure"), None)
        el = [tag, dict(attrs), "", figure]
        self.elements.append(el)
        if tag not in self.VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.stack:
            self.stack[-1][2] += data

    def find(self, tag=None, figure=None, **attrs):
        return [e for e in self.elements if (tag is None or e[0] == tag)
                and (figure is None or e[3] == figure)
                and all(e[1].get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def figure(self, ident):
        (fig,) = self.find("figure", id=ident)
        return fig[1]


# --------------------------------------------------------------------------
# Structure and numbers
# --------------------------------------------------------------------------


def test_page_structure_and_counts():
    t = make_table()
    tree = _Tree(render_report(t, {"rows read": 1234567, "seconds": 1.23456, "mode": "fast"}))
    assert [e[1]["id"] for e in tree.find("figure")] == list(PLOTS)
    hist = tree.figure("pvalue-histogram")
    bars = tree.find("rect", figure="pvalue-histogram", **{"class": "bar"})
    # 237 valid p-values (i + 0.5) / 240; bin k holds 12 rows except bin 1 (rows 20-22 invalid).
    assert [int(b[1]["data-count"]) for b in bars] == [12, 9] + [12] * 18
    assert (hist["data-total"], hist["data-below-alpha"]) == ("237", "12")
    assert len(tree.find("line", figure="pvalue-histogram", **{"class": "uniform"})) == 1
    vol = tree.figure("volcano")
    assert (vol["data-points"], vol["data-total"], vol["data-significant"]) == ("237", "237", "12")
    groups = {g[1]["data-decision"]: g for g in tree.find("g", figure="volcano")
              if "data-decision" in g[1]}
    assert {d: int(g[1]["data-count"]) for d, g in groups.items()} == {
        "ship": 6, "dont_ship": 4, "stat_sig_not_practical": 2, "inconclusive": 225}
    assert groups["ship"][1]["fill"] == COLORS["ship"]
    assert len(tree.find("circle", figure="volcano")) == 237
    assert len(tree.find("line", figure="volcano", **{"class": "threshold"})) == 1
    assert tree.figure("forest")["data-rows"] == "30"
    labels = [e[2] for e in tree.find("text", figure="forest", **{"class": "row-label"})]
    assert labels[:3] == ["exp-0 / revenue / B", "exp-0 / clicks / B", "exp-0 / a&b / B"]
    srm = tree.figure("srm")
    assert (srm["data-failures"], srm["data-experiments"], srm["data-rows"]) == ("2", "40", "12")
    worst = [e[2] for e in tree.find("td", figure="srm")][::5]
    assert worst == ["exp-7", "exp-3"]
    # The decade bars: 6 experiments' p-values below 1e-10, 6 in (1e-6, 1e-5]... exp 3 at 1e-6.
    srm_bars = [int(b[1]["data-count"]) for b in tree.find("rect", figure="srm",
                                                         **{"class": "bar"})]
    assert len(srm_bars) == 11 and srm_bars[0] == 1 and sum(srm_bars) == 40
    summary = {e[2]: None for e in tree.find("th")}
    assert {"rows read", "seconds", "mode", "invalid rows (counted, not drawn)"} <= set(summary)
    cells = [e[2] for e in tree.find("td")]
    assert {"1,234,567", "1.235", "fast", "NaN in the input"} <= {c.strip() for c in cells}
    legend = {e[1]["data-decision"]: e[2] for e in tree.find("li")}
    assert legend["invalid"].endswith(": 3") and legend["ship"].endswith(": 6")
    assert tree.find("title")[0][2] == "fastinf re-analysis"


def test_a_dataclass_summary_is_shown_by_its_fields():
    @dataclasses.dataclass(frozen=True)
    class Run:
        input: str
        rows_read: int
        skipped_path: str | None
        decisions: dict
        notes: tuple = ()

    run = Run("a.parquet", 5000, None, {"ship": 3, "inconclusive": 9}, ("no guardrail", "x<y"))
    tree = _Tree(render_report(make_table(12), run))
    (table,) = tree.find("table", id="run-summary")
    cells = [e[2] for e in tree.find("td")][:5]
    assert [e[1]["class"] for e in tree.find("td")][:5] == ["text", "num", "text", "text", "text"]
    assert cells == ["a.parquet", "5,000", "", "ship: 3, inconclusive: 9", "no guardrail; x<y"]
    assert render_report(make_table(12), run) == render_report(
        make_table(12), dataclasses.asdict(run))


def test_hostile_text_is_escaped_and_page_loads_nothing():
    t = make_table(hostile=True)
    t["metric"] = np.array([f'm"{k}\'&<b> long name' for k in range(len(t["p_value"]))])
    page = render_report(t, {"<img src=x onerror=alert(1)>": "<script>1</script>"},
                         title="<i>t</i>")
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert "&lt;script&gt;" in page
    assert set(re.findall(r"https?://[^\"' ]+", page)) == {"http://www.w3.org/2000/svg"}
    tree = _Tree(page)
    attributes = {name for e in tree.elements for name in e[1]}
    assert not attributes & {"src", "href", "xlink:href", "srcset", "action"}
    assert not [name for name in attributes if name.startswith("on")]
    assert {e[0] for e in tree.elements} <= {
        "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "section",
        "figure", "figcaption", "table", "thead", "tbody", "tr", "th", "td", "p", "ul", "li",
        "span", "svg", "desc", "rect", "line", "circle", "text", "g"}
    (style,) = tree.find("style")
    assert "url(" not in style[2] and "@import" not in style[2]
    assert not tree.find("script") and not tree.find("b") and not tree.find("i")
    labels = [e[2] for e in tree.find("text", figure="forest", **{"class": "row-label"})]
    assert labels[0] == f"{HOSTILE} / m\"0'&<b> long name / B"[:45] + "\u2026"
    assert tree.find("title")[0][2] == "<i>t</i>"
    for svg in re.findall(r"<svg .*?</svg>", page, flags=re.S):  # also well-formed XML
        ET.fromstring(svg)


def test_nan_and_invalid_rows_are_counted_not_drawn():
    t = make_table(30)
    t["decision"][25] = "invalid"  # finite p-value but an invalid row
    tree = _Tree(render_report(t))
    (overview,) = tree.find("table", id="overview")
    assert (overview[1]["data-rows"], overview[1]["data-invalid"]) == ("30", "4")
    assert tree.figure("pvalue-histogram")["data-total"] == "26"
    assert tree.figure("volcano")["data-points"] == "26"
    assert len(tree.find("circle", figure="volcano")) == 26
    reasons = [e[2] for e in tree.find("td")]
    assert "\u2003(no reason given)" in reasons


def test_empty_table():
    t = {k: v[:0] for k, v in make_table().items()}
    tree = _Tree(render_report(t))
    for ident in PLOTS:
        assert tree.figure(ident).get("data-omitted") == "true"
    assert tree.find("table", id="overview")[0][1]["data-rows"] == "0"


def test_one_row():
    t = {k: v[:1] for k, v in make_table().items()}
    tree = _Tree(render_report(t))
    assert tree.figure("pvalue-histogram")["data-total"] == "1"
    assert tree.figure("volcano")["data-points"] == "1"
    assert tree.figure("forest")["data-rows"] == "1"
    assert tree.figure("srm")["data-experiments"] == "1"
    assert len(tree.find("circle", figure="forest")) == 1


def test_all_significant():
    t = make_table(90)
    t["decision"][:] = "ship"
    t["p_value"][20:23] = 0.5
    tree = _Tree(render_report(t, top=10))
    vol = tree.figure("volcano")
    assert vol["data-significant"] == "90" and vol["data-drawn"] == "ship:90"
    assert tree.figure("forest")["data-rows"] == "10"
    rows = tree.find("g", figure="forest", **{"class": "forest-row"})
    assert len(rows) == 10 and {g[1]["data-decision"] for g in rows} == {"ship"}


def test_forest_ranks_by_adjusted_p_and_handles_infinite_bounds():
    t = make_table(60)
    t["p_value_adjusted"] = t["p_value_adjusted"][::-1].copy()
    t["relative_ci_high"][59] = np.inf  # one-sided interval
    tree = _Tree(render_report(t, top=3))
    labels = [e[2] for e in tree.find("text", figure="forest", **{"class": "row-label"})]
    assert labels == ["exp-9 / a&b / C", "exp-9 / clicks / C", "exp-9 / revenue / C"]
    (plot,) = tree.find("rect", figure="forest", **{"class": "plot-area"})
    right = float(plot[1]["x"]) + float(plot[1]["width"])
    first = tree.find("line", figure="forest", **{"class": "interval"})[0]
    assert float(first[1]["x2"]) == pytest.approx(right, abs=0.1)


def test_huge_table_thinning_keeps_significant_and_is_deterministic():
    n = 3 * MAX_POINTS
    rng = np.random.default_rng(11)
    sig = rng.random(n) < 0.01
    t = {"experiment_id": np.arange(n) // 5, "metric": np.full(n, "m"),
         "variant": np.full(n, "B"), "p_value": np.where(sig, 1e-4, rng.random(n)),
         "relative_difference": rng.normal(0, 0.01, n),
         "decision": np.where(sig, "ship", "inconclusive")}
    t["relative_difference"][7] = 0.5  # a lone outlier, not significant
    page = render_report(t)
    assert render_report(t) == page
    tree = _Tree(page)
    vol = tree.figure("volcano")
    assert vol["data-thinned"] == "true" and vol["data-total"] == str(n)
    assert int(vol["data-points"]) == MAX_POINTS == len(tree.find("circle", figure="volcano"))
    assert vol["data-drawn"] == f"inconclusive:{MAX_POINTS - sig.sum()},ship:{sig.sum()}"
    (cap,) = tree.find("figcaption", figure="volcano")
    assert f"Showing 20,000 of {n:,} points: all {sig.sum():,} significant" in cap[2]
    (plot,) = tree.find("rect", figure="volcano", **{"class": "plot-area"})
    cx = max(float(c[1]["cx"]) for c in tree.find("circle", figure="volcano"))
    assert cx > float(plot[1]["x"]) + 0.9 * float(plot[1]["width"])  # the outlier is drawn


def test_huge_all_significant_table_thins_the_significant_points():
    n = MAX_POINTS + 5000
    rng = np.random.default_rng(12)
    t = {"experiment_id": np.arange(n), "metric": np.full(n, "m"), "variant": np.full(n, "B"),
         "p_value": rng.uniform(0, 1e-3, n), "relative_difference": rng.normal(0.05, 0.01, n),
         "decision": np.full(n, "ship", dtype=object)}
    tree = _Tree(render_report(t))
    vol = tree.figure("volcano")
    assert (vol["data-points"], vol["data-drawn"]) == (str(MAX_POINTS), f"ship:{MAX_POINTS}")
    (cap,) = tree.find("figcaption", figure="volcano")
    assert f"Showing 20,000 of {n:,} points: 20,000 of the {n:,} significant ones" in cap[2]

    t["decision"][:10000] = "inconclusive"  # a quarter of the budget stays with the others
    vol = _Tree(render_report(t)).figure("volcano")
    assert vol["data-drawn"] == f"inconclusive:{MAX_POINTS // 4},ship:{MAX_POINTS * 3 // 4}"


def test_thin_caps_dense_cells_and_keeps_sparse_ones():
    rng = np.random.default_rng(3)
    x = np.concatenate((rng.normal(0, 0.01, 5000), np.linspace(-1, 1, 40)))
    y = np.concatenate((rng.uniform(0, 0.05, 5000), np.full(40, 0.9)))
    frame = _Frame((-1.0, 1.0), (0.0, 1.0), (0, 0, 100, 100))
    keep, quota = _thin(x, y, frame, 300)
    assert keep.size == 300 and np.all(np.diff(keep) > 0)
    assert np.isin(np.arange(5000, 5040), keep).all()  # the sparse row survives whole
    assert quota >= 1
    assert np.array_equal(_thin(x, y, frame, 300)[0], keep)


def test_missing_optional_columns_degrade_with_a_note():
    t = make_table(60)
    base = {k: t[k] for k in ("experiment_id", "metric", "variant", "p_value", "estimate")}
    tree = _Tree(render_report(base))
    notes = " ".join(e[2] for e in tree.find("p", **{"class": "note"}))
    assert "x axis is the absolute difference" in notes
    assert "coloured by adjusted p < alpha" in notes
    assert tree.figure("forest")["data-omitted"] == "true"
    assert "lacks ci_low, ci_high" in " ".join(e[2] for e in tree.find("p", figure="forest"))
    assert tree.figure("srm")["data-omitted"] == "true"
    assert tree.figure("volcano")["data-drawn"].startswith("not significant:")
    tree = _Tree(render_report({k: t[k] for k in ("experiment_id", "metric", "variant",
                                                  "p_value")}))
    assert tree.figure("volcano")["data-omitted"] == "true"
    assert tree.figure("pvalue-histogram")["data-total"] == "57"


@pytest.mark.parametrize("missing", ["experiment_id", "metric", "variant", "p_value"])
def test_missing_required_column_is_named(missing):
    t = make_table(12)
    del t[missing]
    with pytest.raises(ValueError, match=rf"lacks the required column\(s\) {missing}\."):
        render_report(t)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"top": 0}, ValueError, "`top` must be a positive integer."),
    ({"top": 2.5}, ValueError, "`top` must be a positive integer."),
    ({"alpha": 1.5}, ValueError, r"`alpha` must be a number in \(0, 1\)."),
    ({"srm_alpha": 0}, ValueError, r"`srm_alpha` must be a number in \(0, 1\)."),
    ({"title": 3}, TypeError, "`title` must be a string."),
    ({"summary": [1]}, TypeError, "`summary` must be a mapping of run facts, a dataclass or"),
])
def test_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        render_report(make_table(12), **kwargs)


def test_bad_tables():
    t = make_table(12)
    with pytest.raises(TypeError, match="`table` must be a pyarrow.Table"):
        render_report([1, 2])
    with pytest.raises(ValueError, match="the columns of `table` differ in length"):
        render_report({**t, "estimate": t["estimate"][:5]})
    with pytest.raises(ValueError, match=r"column `estimate` of `table` must be 1-D"):
        render_report({**t, "estimate": np.zeros((12, 1))})
    with pytest.raises(ValueError, match="column `ci_low` of `table` must be numeric."):
        render_report({**t, "ci_low": np.array(["a"] * 12)})
    with pytest.raises(ValueError, match=r"not in fastinf.experiment.DECISIONS: \['maybe'\]"):
        render_report({**t, "decision": np.array(["maybe"] * 12)})
    with pytest.raises(ValueError, match="integer codes in column `decision` must index"):
        render_report({**t, "decision": np.full(12, 9)})


def test_arrow_pandas_and_codes_give_the_same_page():
    pa = pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    t = make_table(48)
    page = render_report(t)
    assert render_report(pa.table(t)) == page
    assert render_report(pd.DataFrame(t)) == page
    codes = np.array([DECISIONS.index(d) for d in t["decision"]], dtype=np.int8)
    assert render_report({**t, "decision": codes}) == page
    dict_dec = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(DECISIONS))
    assert render_report(pa.table({**t, "decision": dict_dec})) == page
    frame = pd.DataFrame(t).astype({"decision": "category"})
    assert render_report(frame) == page


def test_write_report_is_atomic(tmp_path, monkeypatch):
    t = make_table(24)
    target = tmp_path / "report.html"
    write_report(target, t, {"rows": 24}, top=5)
    assert target.read_text(encoding="utf-8") == render_report(t, {"rows": 24}, top=5)
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    target.write_text("old page")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report(target, t)
    monkeypatch.undo()
    assert target.read_text() == "old page" and os.listdir(tmp_path) == ["report.html"]
    with pytest.raises(ValueError, match="required column"):
        write_report(tmp_path / "other.html", {"p_value": np.zeros(2)})
    assert os.listdir(tmp_path) == ["report.html"]


# --------------------------------------------------------------------------
# Real rendering
# --------------------------------------------------------------------------


def _chromium():
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _resvg():
    try:
        import resvg_py
    except ImportError:
        return None
    return resvg_py


def _unfilter(raw, height, stride, bpp):
    """Undo PNG's per-row filters (RFC 2083, 6.2-6.6)."""
    out = np.zeros((height, stride), np.int64)
    prev = np.zeros(stride, np.int64)
    for r in range(height):
        kind, line = raw[r, 0], raw[r, 1:].astype(np.int64)
        if kind == 0:
            cur = line
        elif kind == 2:
            cur = (line + prev) % 256
        elif kind in (1, 3, 4):  # depend on the left neighbour: byte by byte, per channel
            cur = line.copy()
            for j in range(stride):
                a = cur[j - bpp] if j >= bpp else 0
                b, c = prev[j], (prev[j - bpp] if j >= bpp else 0)
                if kind == 1:
                    pred = a
                elif kind == 3:
                    pred = (a + b) // 2
                else:
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[j] = (cur[j] + pred) % 256
        else:
            raise ValueError(f"bad PNG filter {kind}")
        out[r], prev = cur, cur
    return out


def decode_png(data):
    """A minimal PNG decoder (8-bit RGB or RGBA, not interlaced): zlib and NumPy."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, head = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            head = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        pos += 12 + length
    width, height, depth, color, _, _, interlace = head
    assert depth == 8 and color in (2, 6) and interlace == 0, head
    bpp = 3 if color == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8)
    raw = raw.reshape(height, 1 + width * bpp)
    return _compiled_unfilter()(raw, height, width * bpp, bpp).reshape(height, width, bpp)[..., :3]


@functools.cache
def _compiled_unfilter():
    """The byte loop compiled by Numba (a fastinf dependency), once per session."""
    import numba

    return numba.njit(cache=False)(_unfilter)


def _rgb(hex_colour, opacity=1.0):
    c = np.array([int(hex_colour[k:k + 2], 16) for k in (1, 3, 5)], float)
    return opacity * c + (1 - opacity) * 255


def _has_colour(pixels, rgb, tol=10, at_least=3):
    close = np.all(np.abs(pixels.astype(float) - rgb) <= tol, axis=-1)
    return int(close.sum()) >= at_least


def _not_blank(pixels):
    ink = np.any(pixels < 235, axis=-1).mean()
    return ink > 0.01 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 8


def _check_plots(crops):
    """What every renderer must show: ink in each plot, and the decision colours."""
    for ident in PLOTS:
        assert _not_blank(crops[ident]), ident
    for d in ("ship", "dont_ship", "stat_sig_not_practical", "inconclusive"):
        assert _has_colour(crops["volcano"], _rgb(COLORS[d], 0.75)), d
    for d in ("ship", "dont_ship", "inconclusive"):
        assert _has_colour(crops["forest"], _rgb(COLORS[d])), d
    assert _has_colour(crops["pvalue-histogram"], _rgb("#3b6ea5"), at_least=200)
    assert _has_colour(crops["srm"], _rgb("#d55e00"), at_least=200)  # the failing decades
    assert not _has_colour(crops["pvalue-histogram"], _rgb(COLORS["ship"]))


_LAYOUT_SCRIPT = """<script>(function(){
var out={page:document.documentElement.scrollHeight};
function box(e){var r=e.getBoundingClientRect();return [r.left,r.top,r.width,r.height];}
document.querySelectorAll('figure').forEach(function(f){
  var svg=f.querySelector('svg'); if(!svg){out[f.id]={omitted:true};return;}
  var areaEl=f.querySelector('rect.plot-area'), area=areaEl.getBoundingClientRect();
  var inside=0, drawn=0;
  f.querySelectorAll('circle').forEach(function(c){var r=c.getBoundingClientRect();
    if(r.width>0){drawn++; var x=r.left+r.width/2,y=r.top+r.height/2;
      if(x>=area.left-1&&x<=area.right+1&&y>=area.top-1&&y<=area.bottom+1) inside++;}});
  var texts=[].map.call(f.querySelectorAll('svg text'),function(t){return box(t);});
  out[f.id]={svg:box(svg),area:box(areaEl),circles:drawn,inside:inside,
    bars:[].filter.call(f.querySelectorAll('rect.bar'),function(b){
      return b.getBoundingClientRect().height>0;}).length,
    texts:texts,labels:[].map.call(f.querySelectorAll('text.row-label'),function(t){
      return t.textContent;})};});
document.body.setAttribute('data-layout',JSON.stringify(out));})();</script>"""


def _run_chromium(browser, args, tmp_path, timeout=120):
    base = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
            "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}"]
    return subprocess.run(base + args, capture_output=True, timeout=timeout, check=True)


@pytest.fixture(scope="module")
def page():
    return render_report(make_table(240, hostile=True), {"rows read": 480}, top=12)


def test_render_in_headless_chromium(page, tmp_path):
    browser = _chromium()
    if browser is None:
        if os.environ.get("FASTINF_REQUIRE_BROWSER"):  # CI installs Chromium: never skip there
            pytest.fail("FASTINF_REQUIRE_BROWSER is set but Chromium is not installed")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    tested = tmp_path / "page.html"  # the test's copy gets a script that measures the layout
    tested.write_text(page.replace("</body>", _LAYOUT_SCRIPT + "</body>"), encoding="utf-8")
    width, height = 1000, 3600
    dom = _run_chromium(browser, [f"--window-size={width},{height}", "--dump-dom",
                                  tested.as_uri()], tmp_path).stdout.decode("utf-8")
    tree = _Tree(dom)
    (body,) = tree.find("body")
    layout = json.loads(body[1]["data-layout"])
    assert layout["page"] <= height
    for ident in PLOTS:
        lay, fig = layout[ident], tree.figure(ident)
        assert lay["svg"][2] > 300 and lay["svg"][3] > 150, ident
        bars = tree.find("rect", figure=ident, **{"class": "bar"})
        assert lay["bars"] == sum(b[1]["data-count"] != "0" for b in bars), ident
        assert lay["inside"] == lay["circles"], ident  # every point inside the axes
        sx, sy, sw, sh = lay["svg"]
        for x, y, w, h in lay["texts"]:  # every label drawn, and inside its picture
            assert w > 0 and h > 0 and x >= sx - 1 and x + w <= sx + sw + 1, (ident, x, w)
            assert y >= sy - 1 and y + h <= sy + sh + 1, (ident, y, h)
        if ident == "volcano":
            assert lay["circles"] == int(fig["data-points"]) == 237
    assert layout["forest"]["circles"] == 12
    assert layout["forest"]["labels"][0].startswith(HOSTILE)  # escaped text, shown as text
    assert not tree.find("script", figure="forest")
    assert len(tree.find("script")) == 1  # only the test's own

    shot = tmp_path / "page.png"
    _run_chromium(browser, [f"--window-size={width},{height}", f"--screenshot={shot}",
                            (tmp_path / "page.html").as_uri()], tmp_path)
    pixels = decode_png(shot.read_bytes())
    assert pixels.shape[:2] == (height, width)
    crops = {}
    for ident in PLOTS:
        x, y, w, h = (int(round(v)) for v in layout[ident]["area"])
        crops[ident] = pixels[y:y + h, x:x + w]
    _check_plots(crops)
    title = layout["pvalue-histogram"]["svg"]
    above = pixels[: int(title[1])]  # the summary and legend above the plots hold ink too
    assert _not_blank(above)
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(shot) as im:  # the decoder agrees with Pillow's
        assert np.array_equal(np.asarray(im.convert("RGB")), pixels)


def test_render_svgs_with_resvg(page):
    resvg = _resvg()
    if resvg is None:
        pytest.skip("resvg is not installed (pip install resvg-py)")
    crops = {}
    for ident in PLOTS:
        svg = re.search(rf'<figure id="{ident}"[^>]*>(<svg .*?</svg>)', page, flags=re.S)[1]
        root = ET.fromstring(svg)
        ns = "{http://www.w3.org/2000/svg}"
        area = next(e for e in root.iter(f"{ns}rect") if e.get("class") == "plot-area")
        x, y, w, h = (int(float(area.get(k))) for k in ("x", "y", "width", "height"))
        pixels = decode_png(bytes(resvg.svg_to_bytes(svg_string=svg)))
        assert pixels.shape[:2] == (int(root.get("height")), int(root.get("width")))
        crops[ident] = pixels[y:y + h, x:x + w]
    _check_plots(crops)

