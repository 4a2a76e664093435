"""Unit-level input: the Poisson contract of fastinf.units and `fastinf reanalyze` on units."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from scipy import stats

import fastinf
from fastinf import reanalyze as R
from fastinf.archive import ArchiveError
from fastinf.units import (
    arm_keys,
    experiment_keys,
    experiment_seed,
    poisson_difference_interval,
    poisson_sums,
)

SEED = 20260507


# --------------------------------------------------------------------------
# the contract


def test_experiment_keys_are_blake2b_of_the_triple():
    want = [int.from_bytes(hashlib.blake2b(repr((e, "rev", v)).encode(), digest_size=8)
                           .digest(), "little") for e, v in (("7", "control"), ("x", "b"))]
    got = experiment_keys([7, "x"], "rev", ["control", "b"])
    assert got.dtype == np.uint64 and got.tolist() == want
    with pytest.raises(ValueError, match=r"`variant` must be one name or one per experiment id"):
        experiment_keys([1, 2], "rev", ["a"])


def test_poisson_sums_match_poisson_partial_sums_bit_for_bit(threads):
    rng = np.random.default_rng(1)
    x = rng.lognormal(size=301)
    keys = np.array([5, 9], dtype=np.uint64)
    got = poisson_sums(np.r_[x, x[:100]], [0, 301, 401], keys, [0, 3], 40, SEED)
    a = fastinf.poisson_partial_sums(x, 40, rng=SEED, experiment=5)
    b = fastinf.poisson_partial_sums(x[:100], 40, rng=SEED, experiment=9, first_unit=3)
    assert np.array_equal(got[0], a) and np.array_equal(got[1], b)
    with threads(1):
        one = poisson_sums(np.r_[x, x[:100]], [0, 301, 401], keys, [0, 3], 40, SEED)
    with threads(2):
        two = poisson_sums(np.r_[x, x[:100]], [0, 301, 401], keys, [0, 3], 40, SEED)
    assert one.tobytes() == two.tobytes() == got.tobytes()


def test_arm_keys_are_blake2b_of_the_pair():
    want = [int.from_bytes(hashlib.blake2b(repr(("arm", e, v)).encode(), digest_size=8)
                           .digest(), "little") for e, v in (("7", "control"), ("x", "b"))]
    assert arm_keys([7, "x"], ["control", "b"]).tolist() == want
    assert arm_keys(["7"], "control")[0] == arm_keys([7], "control")[0]
    with pytest.raises(ValueError, match=r"`variant` must be one name or one per experiment id"):
        arm_keys([1, 2], ["a"])


@pytest.mark.parametrize("n_columns", [1, 2, 3, 5])
def test_poisson_sums_of_columns_are_the_columns_alone_with_shared_weights(n_columns, threads):
    rng = np.random.default_rng(n_columns)
    sizes = [0, 1, 2, 9, 40]
    off = np.r_[0, np.cumsum(sizes)]
    X = rng.lognormal(size=(off[-1], n_columns))
    keys = arm_keys(list("abcde"), "control")
    first = np.array([0, 1, 2, 3, 0])
    centres = rng.normal(size=(len(sizes), n_columns))
    with threads(2):
        got = poisson_sums(X, off, keys, first, 7, SEED, centres=centres)
    assert got.shape == (len(sizes), 7, n_columns, 3)
    for m in range(n_columns):
        alone = poisson_sums(X[:, m], off, keys, first, 7, SEED, centres=centres[:, m])
        assert got[:, :, m].tobytes() == alone.tobytes()
    with threads(1):
        assert poisson_sums(X, off, keys, first, 7, SEED, centres=centres).tobytes() == \
            got.tobytes()
    with pytest.raises(ValueError, match=r"`centres` must be a number or of shape"):
        poisson_sums(X, off, keys, first, 7, SEED, centres=np.zeros(4))


def test_poisson_sums_against_naive_weights():
    from fastinf.kernels.rng import poissons
    from fastinf.rng import as_seed

    x = np.random.default_rng(2).normal(3.0, 1.0, 57)
    key = experiment_keys(["e"], "m", "control")
    got = poisson_sums(x, [0, 57], key, None, 30, SEED, centres=3.0)[0]
    w = poissons(as_seed(SEED), key[0], 30, 57).astype(np.float64)
    u = x - 3.0
    want = np.stack([w.sum(1), (w * u).sum(1), (w * u * u).sum(1)], axis=1)
    assert np.array_equal(got[:, 0], want[:, 0])
    # Same terms, different order of addition (numpy sums pairwise): rounding only.
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cuts", [[0, 1, 57], [0, 2, 3, 40, 57], [0, 28, 29, 30, 57]])
def test_poisson_sums_of_partitions_add_up_to_the_whole(cuts):
    rng = np.random.default_rng(3)
    for x in (rng.normal(size=57), rng.integers(0, 2, 57).astype(float)):
        key = experiment_keys(["e"], "m", "b")
        whole = poisson_sums(x, [0, 57], key, None, 25, SEED)[0]
        cuts_ = np.array(cuts)
        parts = poisson_sums(x, cuts_, np.repeat(key, cuts_.size - 1), cuts_[:-1], 25, SEED)
        merged = parts.sum(axis=0)
        assert np.array_equal(merged[:, 0], whole[:, 0])  # integer counts: exact
        if np.all(x == np.round(x)):
            assert np.array_equal(merged, whole)  # integer values: exact
        np.testing.assert_allclose(merged, whole, rtol=1e-12, atol=1e-12)


def test_poisson_difference_interval_is_the_percentile_of_mean_differences():
    rng = np.random.default_rng(4)
    c, t = rng.normal(0, 1, 80), rng.normal(1, 1, 60)
    keys = experiment_keys(["e", "e"], "m", ["control", "b"])
    s = poisson_sums(np.r_[c, t], [0, 80, 140], keys, None, 500, SEED)
    dist = s[1, :, 1] / s[1, :, 0] - s[0, :, 1] / s[0, :, 0]
    low, high = poisson_difference_interval(s[:1], s[1:], confidence_level=0.9)
    np.testing.assert_allclose([low[0], high[0]], np.quantile(dist, [0.05, 0.95]), rtol=1e-12)
    low, high = poisson_difference_interval(s[:1], s[1:], alternative="greater")
    assert high[0] == np.inf and low[0] == pytest.approx(np.quantile(dist, 0.05), rel=1e-12)
    with pytest.raises(ValueError, match=r"must have the same shape \(R, B, 3\)"):
        poisson_difference_interval(s[:1], s)
    with pytest.raises(ValueError, match=r"`alternative` must be one of"):
        poisson_difference_interval(s[:1], s[1:], alternative="up")


def test_poisson_sums_validation():
    key = experiment_keys(["e"], "m", "b")
    with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer"):
        poisson_sums([1.0, 2.0], [0, 2], key, None, 5, np.random.default_rng())
    with pytest.raises(ValueError, match=r"`offsets` must start at 0, end at len\(values\)"):
        poisson_sums([1.0, 2.0], [0, 1], key, None, 5, 1)
    with pytest.raises(ValueError, match=r"`values` must be 1-D \(units\) or 2-D \(units x "
                       r"columns\); got shape \(2, 1, 1\)"):
        poisson_sums(np.ones((2, 1, 1)), [0, 2], key, None, 5, 1)
    with pytest.raises(ValueError, match=r"`offsets` must start at 0, end at len\(values\)"):
        poisson_sums(np.ones((3, 2)), [0, 2], key, None, 5, 1)  # 3 units, not 2
    with pytest.raises(ValueError, match=r"`values` of group 0 contain NaN or inf"):
        poisson_sums(np.array([[1.0, np.nan], [2.0, 3.0]]), [0, 2], key, None, 5, 1)
    with pytest.raises(ValueError, match=r"`keys` must be 1 integer keys"):
        poisson_sums([1.0, 2.0], [0, 2], [1, 2], None, 5, 1)
    with pytest.raises(ValueError, match=r"`first_unit` must be 1 non-negative"):
        poisson_sums([1.0, 2.0], [0, 2], key, [-1], 5, 1)
    with pytest.raises(ValueError, match=r"`n_resamples` must be a positive integer"):
        poisson_sums([1.0, 2.0], [0, 2], key, None, 0, 1)
    with pytest.raises(ValueError, match=r"`values` of group 1 contain NaN"):
        poisson_sums([1.0, 2.0, np.nan], [0, 2, 3], np.repeat(key, 2), None, 5, 1)


# --------------------------------------------------------------------------
# the pipeline on unit-level rows


def _units(n_exp=6, seed=5, sizes=(40, 70), lift=0.5, integer=True):
    """Unit rows: a revenue-like metric (whole numbers: exact sums), a 0/1 one, a covariate."""
    rng = np.random.default_rng(seed)
    cols = {k: [] for k in ("experiment_id", "variant", "revenue", "pre_revenue", "conv")}
    for e in range(n_exp):
        for v, n in (("control", sizes[0]), ("b", sizes[1]), ("a", sizes[0] + 3)):
            pre = rng.gamma(2.0, 10.0, n)
            y = pre + rng.normal(lift * (v != "control") * 10, 8.0, n)
            if integer:
                pre, y = np.round(pre), np.round(y)
            cols["experiment_id"] += [f"x{e}"] * n
            cols["variant"] += [v] * n
            cols["revenue"] += y.tolist()
            cols["pre_revenue"] += pre.tolist()
            cols["conv"] += (rng.random(n) < 0.2 + 0.05 * (v == "b")).astype(np.int64).tolist()
    return pa.table(cols)


def _aggregate(t):
    """The sufficient-statistics archive of unit rows, by plain NumPy."""
    d = t.to_pydict()
    e, v = np.array(d["experiment_id"]), np.array(d["variant"])
    out = {k: [] for k in ("experiment_id", "metric", "variant", "n", "sum", "sum_sq",
                           "metric_type", "cov_sum", "cov_sum_sq", "cross_sum")}
    for key in dict.fromkeys(zip(e, v, strict=True)):
        m = (e == key[0]) & (v == key[1])
        for metric, kind, cov in (("revenue", "mean", "pre_revenue"), ("conv", "binomial", None)):
            y = np.array(d[metric], dtype=float)[m]
            x = np.array(d[cov], dtype=float)[m] if cov else None
            out["experiment_id"].append(key[0])
            out["metric"].append(metric)
            out["variant"].append(key[1])
            out["n"].append(float(m.sum()))
            out["sum"].append(y.sum())
            out["sum_sq"].append((y * y).sum())
            out["metric_type"].append(kind)
            out["cov_sum"].append(None if x is None else x.sum())
            out["cov_sum_sq"].append(None if x is None else (x * x).sum())
            out["cross_sum"].append(None if x is None else (x * y).sum())
    return pa.table(out)


def test_unit_rows_and_their_aggregate_give_identical_analyses():
    t = _units()
    unit = R.reanalyze_table(t, bootstrap="none")
    summ = R.reanalyze_table(_aggregate(t))
    assert unit.column_names == list(R.UNIT_OUTPUT_COLUMNS)
    assert unit.num_rows == summ.num_rows == 6 * 2 * 2
    # Whole-number data: every sum is exact in either order, so the columns are equal.
    for name in R.OUTPUT_COLUMNS:
        assert unit.column(name).equals(summ.column(name)), name
    vr = np.asarray(unit.column("variance_reduction"))
    conv = np.asarray(unit.column("metric")) == "conv"
    assert (vr[conv] == 0).all() and (vr[~conv] > 0.3).all()  # CUPED on revenue only


def test_float_unit_rows_match_their_aggregate_to_rounding():
    t = _units(integer=False, n_exp=3)
    unit = R.reanalyze_table(t, bootstrap="none")
    summ = R.reanalyze_table(_aggregate(t))
    for name in ("estimate", "ci_low", "ci_high", "statistic", "p_value", "theta"):
        # sums in a different order: relative rounding ~1e-15 per sum, amplified by
        # cancellation in the variance (means ~20, sd ~ 20) to well below 1e-9.
        np.testing.assert_allclose(unit.column(name), summ.column(name), rtol=1e-9, atol=1e-12)


def _arms(t, e, metric):
    d = t.to_pydict()
    m = np.array(d["experiment_id"]) == e
    v = np.array(d["variant"])[m]
    y = np.array(d[metric], dtype=float)[m]
    return {name: y[v == name] for name in dict.fromkeys(v)}


def test_mann_whitney_matches_scipy():
    t = _units(n_exp=3, sizes=(6, 7))  # small arms: scipy's exact/asymptotic choice
    out = R.reanalyze_table(t, bootstrap="none", alternative="greater").to_pylist()
    for row in out:
        arms = _arms(t, row["experiment_id"], row["metric"])
        ref = stats.mannwhitneyu(arms[row["variant"]], arms["control"], alternative="greater")
        assert row["mannwhitney_p_value"] == pytest.approx(ref.pvalue, rel=1e-12)


@pytest.mark.parametrize("method", ["percentile", "BCa"])
def test_multinomial_bootstrap_is_fastinf_bootstrap_of_the_experiment(method):
    t = _units(n_exp=2)
    out = R.reanalyze_table(t, bootstrap=method, n_resamples=199, seed=11, alpha=0.1).to_pylist()
    for e in ("x0", "x1"):
        rows = [r for r in out if r["experiment_id"] == e]  # in output order
        tr = [_arms(t, e, r["metric"])[r["variant"]] for r in rows]
        co = [_arms(t, e, r["metric"])["control"] for r in rows]
        ref = fastinf.bootstrap((fastinf.Ragged.from_arrays(tr), fastinf.Ragged.from_arrays(co)),
                                "mean_diff", n_resamples=199, method=method,
                                confidence_level=0.9, rng=experiment_seed(11, e))
        assert [r["boot_ci_low"] for r in rows] == ref.confidence_interval.low.tolist()
        assert [r["boot_ci_high"] for r in rows] == ref.confidence_interval.high.tolist()


def test_poisson_bootstrap_is_the_contract_on_whole_arms():
    t = _units(n_exp=2)
    out = R.reanalyze_table(t, n_resamples=299, seed=4).to_pylist()
    for r in out:
        arms = _arms(t, r["experiment_id"], r["metric"])
        c, tr = arms["control"], arms[r["variant"]]
        # one stream per arm, shared by its metrics
        keys = arm_keys([r["experiment_id"]] * 2, ["control", r["variant"]])
        s = poisson_sums(np.r_[c, tr], [0, c.size, c.size + tr.size], keys, None, 299, 4)
        low, high = poisson_difference_interval(s[:1], s[1:])
        assert (r["boot_ci_low"], r["boot_ci_high"]) == (low[0], high[0])


def test_poisson_intervals_cover_the_true_difference():
    """60 experiments x 2 treatments of normal data with known differences (revenue).

    Nominal 95 %; percentile intervals of 40-70 units run a little short, so
    the band [0.85, 1] fails with probability < 1e-4 (binomial, 120 rows).
    """
    t = _units(n_exp=60, integer=False, lift=0.5)
    out = R.reanalyze_table(t, n_resamples=299, cuped=False, seed=1)
    rev = np.asarray(out.column("metric")) == "revenue"
    low = np.asarray(out.column("boot_ci_low"))[rev]
    high = np.asarray(out.column("boot_ci_high"))[rev]
    covered = np.mean((low <= 5.0) & (5.0 <= high))
    assert 0.85 <= covered <= 1.0, covered


def test_results_do_not_depend_on_chunks_or_the_order_of_experiments(tmp_path):
    t = _units(n_exp=5)
    pq.write_table(t, tmp_path / "a.parquet")
    block = t.num_rows // 5
    moved = np.concatenate([np.arange(block) + e * block for e in (3, 1, 4, 0, 2)])
    pq.write_table(t.take(moved), tmp_path / "b.parquet")
    kw = dict(progress=False, n_resamples=99, seed=2, family="all")
    R.reanalyze(tmp_path / "a.parquet", tmp_path / "big.parquet", chunk_rows=1 << 20, **kw)
    R.reanalyze(tmp_path / "a.parquet", tmp_path / "small.parquet", chunk_rows=7, **kw)
    R.reanalyze(tmp_path / "b.parquet", tmp_path / "moved.parquet", chunk_rows=50, **kw)
    big = pq.read_table(tmp_path / "big.parquet")
    assert big.equals(pq.read_table(tmp_path / "small.parquet"))
    # Other file order of the experiments: the same rows per experiment.
    moved = pq.read_table(tmp_path / "moved.parquet").sort_by([("experiment_id", "ascending")])
    assert big.sort_by([("experiment_id", "ascending")]).equals(moved)


def test_csv_and_parquet_copies_give_the_same_intervals(tmp_path):
    t = _units(n_exp=2)
    ids = [int(e[1:]) for e in t.column("experiment_id").to_pylist()]
    t = t.set_column(0, "experiment_id", pa.array(ids, pa.int64()))
    pq.write_table(t, tmp_path / "u.parquet")
    pacsv.write_csv(t, tmp_path / "u.csv")
    kw = dict(progress=False, n_resamples=99)
    R.reanalyze(tmp_path / "u.parquet", tmp_path / "p.parquet", **kw)
    R.reanalyze(tmp_path / "u.csv", tmp_path / "c.parquet", **kw)
    p, c = pq.read_table(tmp_path / "p.parquet"), pq.read_table(tmp_path / "c.parquet")
    for name in ("boot_ci_low", "boot_ci_high", "mannwhitney_p_value", "p_value"):
        assert p.column(name).equals(c.column(name)), name


def test_metrics_spec_types_covariates_and_id_columns():
    t = _units(n_exp=2)
    t = t.append_column("user_id", pa.array(np.arange(t.num_rows)))
    out = R.reanalyze_table(t, bootstrap="none")
    assert set(out.column("metric").to_pylist()) == {"revenue", "conv"}  # not user_id
    spec = {"revenue": {"type": "mean", "covariate": False}, "conv": "mean"}
    out = R.reanalyze_table(t, bootstrap="none", metrics=spec).to_pylist()
    assert {r["metric_type"] for r in out} == {"mean"}
    assert all(r["variance_reduction"] == 0 for r in out)
    flags = t.set_column(4, "conv", pa.array(np.asarray(t.column("conv")) == 1))
    out = R.reanalyze_table(flags, bootstrap="none").to_pylist()
    assert {r["metric_type"] for r in out if r["metric"] == "conv"} == {"binomial"}


def _bad(t, column, row, value):
    vals = t.column(column).to_pylist()
    vals[row] = value
    kind = pa.float64() if isinstance(value, float) else t.column(column).type
    return t.set_column(t.column_names.index(column), column, pa.array(vals, kind))


@pytest.mark.parametrize(("edit", "match"), [
    (lambda t: t.drop_columns(["variant"]), r"missing column 'variant': unit-level rows need"),
    (lambda t: t.drop_columns(["experiment_id"]), r"missing column 'experiment_id'"),
    (lambda t: t.select(["experiment_id", "variant"]).append_column(
        "note", pa.array(["a"] * t.num_rows)), r"no metric columns"),
    (lambda t: _bad(t, "revenue", 50, None),
     r"<table> \(row 51\): experiment 'x0': column 'revenue' is null or NaN \(variant 'b'\)"),
    (lambda t: _bad(t, "pre_revenue", 200, float("inf")),
     r"\(row 201\): experiment 'x1': column 'pre_revenue' is infinite \(variant 'b'\)"),
    (lambda t: t.filter(pa.array(np.array(t.column("variant").to_pylist()) != "control")),
     r"experiment 'x0': column 'variant': no control variant 'control' \(the variants are 'a', "
     r"'b'\); name the control with --control"),
    (lambda t: t.slice(0, 41), r"experiment 'x0': variant 'b' has 1 unit; each variant needs"),
    (lambda t: t.slice(0, 40), r"experiment 'x0': column 'variant': only the variant 'control'"),
    (lambda t: _bad(t, "variant", 3, None), r"\(row 4\): experiment 'x0': column 'variant' is null"),
])
def test_bad_unit_rows_raise_naming_row_experiment_and_column(edit, match):
    with pytest.raises(ArchiveError, match=match):
        R.reanalyze_table(edit(_units(n_exp=2)), bootstrap="none")


def test_bad_specs_for_unit_rows():
    t = _units(n_exp=2)
    with pytest.raises(ArchiveError, match=r"metric 'clicks' of the metrics spec is not a column"):
        R.reanalyze_table(t, metrics={"clicks": "mean"})
    with pytest.raises(ArchiveError, match=r"metric 'revenue' is a ratio metric: unit-level"):
        R.reanalyze_table(t, metrics={"revenue": "ratio"})
    with pytest.raises(ArchiveError, match=r"column 'tag' must be numeric \(a metric\); it holds string"):
        R.reanalyze_table(t.append_column("tag", pa.array(["a"] * t.num_rows)),
                          metrics={"tag": "mean"})
    with pytest.raises(ArchiveError, match=r"column 'revenue' = \d+ is not 0 or 1 \(the metrics "
                       r"spec says 'revenue' is binomial\)"):
        R.reanalyze_table(t, metrics={"revenue": "binomial"})
    with pytest.raises(ArchiveError, match=r"the covariate 'pre' of metric 'revenue' is not a col"):
        R.reanalyze_table(t, metrics={"revenue": {"covariate": "pre"}})
    with pytest.raises(ArchiveError, match=r"`bootstrap` must be one of none, poisson, percentile"):
        R.reanalyze_table(t, bootstrap="bca2")
    with pytest.raises(ArchiveError, match=r"`seed` must be a non-negative integer"):
        R.reanalyze_table(t, seed=-1)


def test_skip_leaves_out_bad_experiments_and_lists_them(tmp_path):
    t = _bad(_units(n_exp=3), "conv", 200, float("nan"))
    pq.write_table(t, tmp_path / "u.parquet")
    s = R.reanalyze(tmp_path / "u.parquet", tmp_path / "o.parquet", errors="skip",
                    progress=False, chunk_rows=100, n_resamples=49)
    assert s.skipped_experiments == 1 and s.experiments == 2 and s.bootstrap == "poisson"
    side = pacsv.read_csv(s.skipped_path).to_pylist()
    assert side == [{"experiment_id": "x1", "reason": "column 'conv' is null or NaN (variant "
                     "'b')", "file": str(tmp_path / "u.parquet")}]
    assert "x1" not in pq.read_table(tmp_path / "o.parquet").column("experiment_id").to_pylist()


def test_command_line_on_unit_rows(tmp_path):
    pq.write_table(_units(n_exp=2), tmp_path / "u.parquet")
    run = subprocess.run(
        [sys.executable, "-m", "fastinf", "reanalyze", str(tmp_path / "u.parquet"), "-o",
         str(tmp_path / "o.csv"), "--bootstrap", "basic", "--resamples", "99", "--seed", "5"],
        capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "error"})
    assert run.returncode == 0, run.stderr
    assert "unit-level input: Mann-Whitney p-values, basic bootstrap intervals (99 resamples, " \
           "seed 5)" in run.stdout
    out = pacsv.read_csv(tmp_path / "o.csv")
    assert out.num_rows == 8 and np.isfinite(np.asarray(out.column("boot_ci_low"))).all()
