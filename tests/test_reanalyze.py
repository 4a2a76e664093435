"""fastinf.reanalyze: the archive pipeline against analyze, scipy and statsmodels."""

import glob
import os
import tracemalloc

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests as sm_multipletests
from statsmodels.stats.proportion import proportions_ztest

from fastinf import reanalyze as R
from fastinf.archive import ArchiveError
from fastinf.experiment import REASONS, analyze
from fastinf.progress import Progress

SEED = 0x5EED_0A2C_0005
VARIANTS = ("control", "t1", "t2", "t3")


def _dense(rng, E, M, A, types=None, covariates=False):
    """Sufficient statistics (E, M, A) of random unit data, and their archive table.

    Names sort in index order (metrics m0.., variants control, t1, ..), so
    the archive's output order is analyze's C order.
    """
    types = types or ["mean"] * M
    n = rng.integers(20, 400, size=(E, M, A)).astype(float)
    s = np.empty((E, M, A))
    ss = np.empty((E, M, A))
    cs, css, xs = (np.empty((E, M, A)) for _ in range(3))
    for idx in np.ndindex(E, M, A):
        k = int(n[idx])
        if types[idx[1]] == "binomial":
            y = rng.binomial(1, rng.uniform(0.2, 0.4), k).astype(float)
        else:
            y = rng.normal(10 + 0.3 * idx[2], rng.uniform(1, 3), k)
        x = 0.7 * y + rng.normal(0, 1, k)
        s[idx], ss[idx] = y.sum(), (y * y).sum()
        cs[idx], css[idx], xs[idx] = x.sum(), (x * x).sum(), (x * y).sum()
    rows = {k: [] for k in ("experiment_id", "metric", "variant", "metric_type")}
    for e, m, a in np.ndindex(E, M, A):
        rows["experiment_id"].append(f"exp{e:04d}")
        rows["metric"].append(f"m{m}")
        rows["variant"].append(VARIANTS[a])
        rows["metric_type"].append(types[m])
    table = pa.table({**rows, "n": n.ravel(), "sum": s.ravel(), "sum_sq": ss.ravel()})
    stats_ = dict(n=n, sum=s, sum_sq=ss)
    if covariates:
        table = table.append_column("cov_sum", pa.array(cs.ravel()))
        table = table.append_column("cov_sum_sq", pa.array(css.ravel()))
        table = table.append_column("cross_sum", pa.array(xs.ravel()))
        stats_.update(cov_sum=cs, cov_sum_sq=css, cross_sum=xs)
    return table, stats_, types


def _mixed(rng, E):
    """An archive whose experiments have different metric sets and arm counts."""
    cols = {k: [] for k in ("experiment_id", "metric", "variant", "metric_type", "n", "sum",
                            "sum_sq")}
    names = ["conv", "revenue", "time", "clicks"]
    for e in range(E):
        A = int(rng.integers(2, 5))
        ms = sorted(rng.choice(names, size=int(rng.integers(1, 4)), replace=False))
        # rows of an experiment in a shuffled order: only clustering is required
        block = []
        for m in ms:
            for a in range(A):
                k = int(rng.integers(30, 300))
                if m == "conv":
                    y = rng.binomial(1, 0.3, k).astype(float)
                else:
                    y = rng.normal(5 + 0.4 * (a == 1), 2, k)
                block.append((e, m, VARIANTS[a], "binomial" if m == "conv" else "mean",
                              k, y.sum(), (y * y).sum()))
        for i in rng.permutation(len(block)):
            for key, v in zip(cols, block[i], strict=True):
                cols[key].append(v)
    return pa.table(cols)


def _per_experiment(table):
    """The archive as {experiment: (metrics, variants, n, sum, sum_sq, types)} (a loop reference)."""
    df = table.to_pandas()
    out = {}
    for e, g in df.groupby("experiment_id", sort=False):
        metrics = sorted(g.metric.unique())
        variants = ["control", *sorted(v for v in g.variant.unique() if v != "control")]
        arr = {k: np.empty((len(metrics), len(variants))) for k in ("n", "sum", "sum_sq")}
        types = []
        for i, m in enumerate(metrics):
            gm = g[g.metric == m].set_index("variant").loc[variants]
            for k in arr:
                arr[k][i] = gm[k].to_numpy()
            types.append(gm.metric_type.iloc[0])
        out[e] = (metrics, variants, arr, types)
    return out


def _assert_tables_equal(a, b):
    assert a.schema == b.schema
    assert a.num_rows == b.num_rows
    for name in a.schema.names:
        x, y = a.column(name).to_numpy(zero_copy_only=False), b.column(name).to_numpy(zero_copy_only=False)
        if x.dtype.kind == "f":
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert list(x) == list(y), name


# ---------------------------------------------------------------- results


@pytest.mark.parametrize("family", ["experiment", "experiment-treatment", "metric", "all"])
def test_table_equals_one_analyze_call(family):
    rng = np.random.default_rng(SEED)
    E, M, A = 9, 3, 3
    table, st, types = _dense(rng, E, M, A, types=["mean", "binomial", "mean"], covariates=True)
    out = R.reanalyze_table(table, family=family, correction="holm", min_effect=0.01,
                            guardrails=["m2"])
    guard = np.array([False, False, True])
    ref = analyze(**st, metric_type=types, family=family, correction="holm", min_effect=0.01,
                  guardrail=guard)
    assert out.num_rows == len(ref)
    for name, src in R._FLOAT_COLUMNS:
        np.testing.assert_array_equal(out.column(name).to_numpy(), getattr(ref, src), err_msg=name)
    for name in ("significant", "guardrail_violated"):
        np.testing.assert_array_equal(out.column(name).to_numpy(zero_copy_only=False),
                                      getattr(ref, name))
    assert out.column("decision").to_pylist() == list(ref.labels("decision"))
    assert out.column("metric").to_pylist() == [f"m{m}" for m in ref.metric]
    assert out.column("variant").to_pylist() == [VARIANTS[t] for t in ref.treatment]
    assert out.column("experiment_id").to_pylist() == [f"exp{e:04d}" for e in ref.experiment]
    assert out.column("metric_type").to_pylist() == list(ref.labels("metric_type"))
    # CUPED was on: the covariates were used.
    assert np.count_nonzero(out.column("variance_reduction").to_numpy() == 0) == 0


def test_welch_and_two_proportion_equal_scipy_and_statsmodels():
    rng = np.random.default_rng(SEED + 1)
    table, st, _ = _dense(rng, 4, 2, 2, types=["mean", "binomial"])
    out = R.reanalyze_table(table, correction=None).to_pandas()
    n, s, ss = st["n"], st["sum"], st["sum_sq"]
    for i, row in out.iterrows():
        e, m = i // 2, i % 2
        if m == 0:
            mean = s[e, 0] / n[e, 0]
            sd = np.sqrt((ss[e, 0] - s[e, 0] ** 2 / n[e, 0]) / (n[e, 0] - 1))
            ref = stats.ttest_ind_from_stats(mean[1], sd[1], n[e, 0, 1], mean[0], sd[0],
                                             n[e, 0, 0], equal_var=False)
            # summaries lose a few digits to sum_sq - sum**2 / n: 1e-10, not 1e-12
            np.testing.assert_allclose([row.statistic, row.p_value],
                                       [ref.statistic, ref.pvalue], rtol=1e-10)
        else:
            z, p = proportions_ztest(s[e, 1, ::-1], n[e, 1, ::-1])
            np.testing.assert_allclose([row.statistic, row.p_value], [z, p], rtol=1e-12)
        assert row.estimate == pytest.approx(row.treatment_estimate - row.control_estimate)


def test_mixed_metric_sets_and_arms_equal_a_loop_of_analyze():
    rng = np.random.default_rng(SEED + 2)
    table = _mixed(rng, 25)
    out = R.reanalyze_table(table).to_pandas()
    ref = _per_experiment(table)
    assert list(out.experiment_id.unique()) == list(ref)  # input order
    i = 0
    for e, (metrics, variants, arr, types) in ref.items():
        res = analyze(**{k: v[None] for k, v in arr.items()}, metric_type=[types])
        rows = out.iloc[i:i + len(res)]
        assert (rows.experiment_id == e).all()
        assert list(rows.metric) == [metrics[m] for m in np.repeat(range(len(metrics)),
                                                                   len(variants) - 1)]
        assert list(rows.variant) == variants[1:] * len(metrics)
        np.testing.assert_array_equal(rows.p_value, res.p_value)
        np.testing.assert_array_equal(rows.p_value_adjusted, res.p_value_adjusted)
        np.testing.assert_array_equal(rows.ci_low, res.ci_low)
        assert list(rows.decision) == list(res.labels("decision"))
        i += len(res)
    assert i == len(out)


def test_metric_family_spans_experiments_and_skips_absent_pairs():
    rng = np.random.default_rng(SEED + 3)
    table = _mixed(rng, 30)
    out = R.reanalyze_table(table, family="metric", correction="fdr_bh").to_pandas()
    for _, g in out.groupby("metric"):
        # m tests = the rows of that metric only: absent (experiment, metric) pairs are
        # not in the family
        np.testing.assert_allclose(g.p_value_adjusted, sm_multipletests(g.p_value, method="fdr_bh")[1],
                                   rtol=1e-12)
    every = R.reanalyze_table(table, family="all", correction="bonferroni").to_pandas()
    np.testing.assert_allclose(every.p_value_adjusted,
                               np.minimum(every.p_value * len(every), 1), rtol=1e-14)


def test_zero_variance_rows_are_invalid_not_fatal():
    table = pa.table({
        "experiment_id": ["a"] * 4, "metric": ["x", "x", "y", "y"],
        "variant": ["control", "t", "control", "t"], "n": [100, 100, 100, 100],
        "sum": [0, 0, 10, 12], "sum_sq": [0, 0, 10, 12], "metric_type": ["binomial"] * 4,
    })
    out = R.reanalyze_table(table).to_pandas()
    assert list(out.decision) == ["invalid", "inconclusive"]
    assert out.reason[0] == REASONS[10] and out.reason[1] == ""
    assert np.isnan(out.p_value[0])
    # the invalid row is not in the family: the other is adjusted as if alone
    assert out.p_value_adjusted[1] == out.p_value[1]


def test_metrics_spec_sets_types_directions_and_guardrails():
    n = [10_000] * 4
    table = pa.table({
        "experiment_id": [7] * 4, "metric": ["conv", "conv", "errors", "errors"],
        "variant": ["control", "b", "control", "b"], "n": n,
        "sum": [1000, 1150, 500, 600], "sum_sq": [1000, 1150, 500, 600],
    })
    spec = {"conv": "binomial",
            "errors": {"type": "binomial", "higher_is_better": False, "guardrail": True}}
    out = R.reanalyze_table(table, metrics=spec, correction=None).to_pandas()
    assert list(out.metric_type) == ["binomial", "binomial"]
    # errors rose significantly: a harmed guardrail blocks shipping conv
    assert list(out.decision) == ["dont_ship", "dont_ship"]
    assert out.guardrail_violated.all()
    assert out.experiment_id.dtype.kind == "i"  # integer ids stay integers
    big = R.reanalyze_table(table, metrics={"conv": {"type": "binomial", "min_effect": 0.5},
                                            "errors": "binomial"}, correction=None)
    assert big.column("decision").to_pylist() == ["stat_sig_not_practical", "ship"]


def test_control_option_and_variant_order():
    table = pa.table({
        "experiment_id": ["e"] * 3, "metric": ["m"] * 3, "variant": ["zeta", "base", "alpha"],
        "n": [100, 100, 100], "sum": [10, 20, 30], "sum_sq": [10, 20, 30],
        "metric_type": ["binomial"] * 3,
    })
    out = R.reanalyze_table(table, control="base")
    assert out.column("variant").to_pylist() == ["alpha", "zeta"]
    np.testing.assert_allclose(out.column("control_estimate").to_numpy(), 0.2)


def test_cuped_off_ignores_covariates():
    rng = np.random.default_rng(SEED + 4)
    table, st, _ = _dense(rng, 3, 1, 2, covariates=True)
    off = R.reanalyze_table(table, cuped=False)
    plain = analyze(st["n"], st["sum"], st["sum_sq"])
    np.testing.assert_array_equal(off.column("p_value").to_numpy(), plain.p_value)


# ---------------------------------------------------------------- streaming


@pytest.fixture
def archive(tmp_path):
    rng = np.random.default_rng(SEED + 5)
    table = _mixed(rng, 40)
    path = tmp_path / "archive.parquet"
    pq.write_table(table, path, row_group_size=50)
    return table, path


@pytest.mark.parametrize("family", ["experiment", "experiment-treatment", "metric", "all"])
def test_streaming_equals_in_memory_at_any_chunk_size(archive, tmp_path, family):
    table, path = archive
    ref = R.reanalyze_table(table, family=family)
    for chunk_rows in (7, 64, 10**6):
        out = tmp_path / f"out{chunk_rows}.parquet"
        summary = R.reanalyze(path, out, family=family, chunk_rows=chunk_rows, progress=False)
        _assert_tables_equal(pq.read_table(out), ref)
        assert summary.output_rows == ref.num_rows
        assert summary.rows_read == table.num_rows
        assert summary.experiments == 40
        assert summary.passes == (2 if family in ("metric", "all") and chunk_rows < 10**6 else 1)
    assert summary.significant == int(np.count_nonzero(ref.column("significant")))
    assert sum(summary.decisions.values()) == ref.num_rows


def test_folder_glob_and_experiments_across_files(archive, tmp_path):
    table, _ = archive
    folder = tmp_path / "parts"
    (folder / "sub").mkdir(parents=True)
    # cut mid-experiment: an experiment straddles part-0 and part-1
    cuts = [0, 37, 90, table.num_rows]
    paths = [folder / "part-0.parquet", folder / "part-1.parquet", folder / "sub" / "part-2.parquet"]
    for p, lo, hi in zip(paths, cuts, cuts[1:], strict=False):
        pq.write_table(table.slice(lo, hi - lo), p)
    (folder / "_SUCCESS").write_text("")
    ref = R.reanalyze_table(table)
    R.reanalyze(folder, tmp_path / "a.parquet", chunk_rows=16, progress=False)
    _assert_tables_equal(pq.read_table(tmp_path / "a.parquet"), ref)
    R.reanalyze(str(folder / "**" / "*.parquet"), tmp_path / "b.parquet", chunk_rows=16,
                progress=False)
    _assert_tables_equal(pq.read_table(tmp_path / "b.parquet"), ref)


def test_csv_in_and_out(archive, tmp_path):
    table, path = archive
    csv_in = tmp_path / "archive.csv"
    pacsv.write_csv(table, csv_in)
    R.reanalyze(csv_in, tmp_path / "out.csv", chunk_rows=20, progress=False)
    R.reanalyze(path, tmp_path / "out.parquet", progress=False)
    ref = pq.read_table(tmp_path / "out.parquet")
    back = pacsv.read_csv(tmp_path / "out.csv", convert_options=pacsv.ConvertOptions(
        column_types=ref.schema, strings_can_be_null=False))
    _assert_tables_equal(back, ref)
    # gzip, and format= overriding the suffix
    import gzip
    with open(csv_in, "rb") as f, gzip.open(tmp_path / "archive.csv.gz", "wb") as g:
        g.write(f.read())
    R.reanalyze(tmp_path / "archive.csv.gz", tmp_path / "out.dat", format="csv", progress=False)
    back = pacsv.read_csv(tmp_path / "out.dat", convert_options=pacsv.ConvertOptions(
        column_types=ref.schema, strings_can_be_null=False))
    _assert_tables_equal(back, ref)


def test_clustering_violation_is_an_error_at_any_chunk_size(tmp_path):
    rng = np.random.default_rng(SEED + 6)
    table = _mixed(rng, 6)
    ids = table.column("experiment_id").to_numpy()
    first = np.flatnonzero(ids == ids[0])
    moved = pa.concat_tables([table.slice(int(first[-1]) + 1), table.slice(0, int(first[-1]) + 1)])
    broken = pa.concat_tables([table, moved.slice(moved.num_rows - 1)])  # e0's last row again
    path = tmp_path / "broken.parquet"
    pq.write_table(broken, path)
    for chunk_rows in (5, 10**6):
        with pytest.raises(ArchiveError, match=r"broken.parquet \(row \d+\): experiment 0 "
                                               r"appears again .*clustered by experiment"):
            R.reanalyze(path, tmp_path / "out.parquet", chunk_rows=chunk_rows, progress=False)
        assert not os.path.exists(tmp_path / "out.parquet")


def test_skip_mode_lists_bad_experiments_and_corrects_without_them(tmp_path):
    rng = np.random.default_rng(SEED + 7)
    table = _mixed(rng, 12)
    df = table.to_pandas()
    ids = list(dict.fromkeys(df.experiment_id))
    bad1, bad2 = ids[3], ids[8]
    df.loc[df.index[df.experiment_id == bad1][0], "n"] = -4
    df = df[~((df.experiment_id == bad2) & (df.variant == "control"))]
    path = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    out = tmp_path / "out.parquet"
    with pytest.raises(ArchiveError, match=rf"experiment {bad1!r}: metric .*column 'n' = -4 is negative"):
        R.reanalyze(path, out, progress=False)
    s = R.reanalyze(path, out, errors="skip", family="all", chunk_rows=9, progress=False)
    assert s.skipped_experiments == 2 and s.experiments == 10
    side = pacsv.read_csv(s.skipped_path).to_pandas()
    assert list(side.experiment_id) == [bad1, bad2]
    assert "column 'n' = -4 is negative" in side.reason[0]
    assert "no control variant 'control'" in side.reason[1]
    assert (side.file == str(path)).all()
    good = df[~df.experiment_id.isin([bad1, bad2])]
    ref = R.reanalyze_table(pa.Table.from_pandas(good, preserve_index=False), family="all")
    _assert_tables_equal(pq.read_table(out), ref)
    assert "skipped 2 experiments" in str(s)
    # the in-memory entry reports them too
    got = []
    R.reanalyze_table(pa.Table.from_pandas(df, preserve_index=False), errors="skip", skipped=got)
    assert [g[0] for g in got] == [bad1, bad2]
    with pytest.raises(ArchiveError, match="pass a list as `skipped`"):
        R.reanalyze_table(table, errors="skip")


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_interrupted_run_leaves_no_output(archive, tmp_path, monkeypatch, exc):
    _, path = archive
    out = tmp_path / "out.parquet"
    out.write_bytes(b"previous results")
    calls = []
    real = R._Analyzer.finish

    def failing(self, ch, p_adj):
        calls.append(1)
        if len(calls) == 2:
            raise exc
        return real(self, ch, p_adj)

    monkeypatch.setattr(R._Analyzer, "finish", failing)
    with pytest.raises(type(exc)):
        R.reanalyze(path, out, chunk_rows=30, progress=False)
    assert out.read_bytes() == b"previous results"
    assert sorted(os.listdir(tmp_path)) == ["archive.parquet", "out.parquet"]


def test_memory_is_bounded_by_the_chunk(tmp_path):
    """Peak traced memory does not grow with the archive at a fixed chunk size.

    Reading, analysing and writing overlap, so up to a few chunks are in
    flight at once: both archives are many chunks long (12 and 48), so that
    both runs reach that steady state and only growth with the archive shows.
    """
    rng = np.random.default_rng(SEED + 8)
    E = 2000  # chunks large enough that their arrays, not thread noise, set the peak
    small, _, _ = _dense(rng, E, 2, 2)
    big = pa.concat_tables([small] * 12)
    ids = pa.array([f"e{i:06d}" for i in range(12 * E) for _ in range(4)])
    big = big.set_column(0, "experiment_id", ids)
    small = big.slice(0, 3 * 4 * E)
    peaks = []
    for name, t in (("small", small), ("big", big)):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(t, path, row_group_size=2000)
        R.reanalyze(path, tmp_path / f"{name}.out.parquet", chunk_rows=2000, progress=False)
        tracemalloc.start()
        R.reanalyze(path, tmp_path / f"{name}.out.parquet", chunk_rows=2000, progress=False)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        pool = pa.default_memory_pool()
        assert pool.bytes_allocated() < 50e6
    # 4x the rows; the peak may grow a little (ids seen: 8 bytes each) but not 4x
    assert peaks[1] < 1.5 * peaks[0], peaks


def test_progress_bar_on_a_fake_terminal(archive, tmp_path):
    _, path = archive

    class FakeTTY:
        def __init__(self, tty):
            self.tty, self.text = tty, ""

        def isatty(self):
            return self.tty

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    tty = FakeTTY(True)
    R.reanalyze(path, tmp_path / "o.parquet", chunk_rows=20, family="metric",
                progress=Progress(stream=tty, interval=0.0))
    lines = tty.text.split("\r")
    assert "pass 1/2" in tty.text and "pass 2/2" in tty.text
    assert "experiments" in lines[-1] and "rows/s" in lines[-1] and "100%" in lines[-1]
    assert any("ETA" in line for line in lines)
    assert tty.text.endswith("\n")
    pipe = FakeTTY(False)
    R.reanalyze(path, tmp_path / "o.parquet", progress=Progress(stream=pipe))
    assert pipe.text == ""


def test_progress_throttles_and_formats():
    now = [0.0]
    tty = type("T", (), {"isatty": lambda s: True, "write": lambda s, x: out.append(x),
                         "flush": lambda s: None})()
    out = []
    bar = Progress(1000, stream=tty, clock=lambda: now[0], interval=0.1)
    bar.update(100, rows=10, experiments=1)
    now[0] = 0.05
    bar.update(200, rows=20, experiments=2)  # within 0.1 s: not drawn
    now[0] = 2.0
    bar.update(500, rows=5_000, experiments=300)
    assert len(out) == 2
    assert "50%" in out[1] and "5,000 rows" in out[1] and "300 experiments" in out[1]
    assert "2.5k rows/s" in out[1] and "ETA 0:02" in out[1]
    bar.close()
    assert out[-1] == "\n"
    assert Progress(stream=tty, enabled=False).enabled is False
    quiet = Progress(10, stream=tty, enabled=False)
    quiet.update(5, rows=1, experiments=1, force=True)
    quiet.close()
    assert len(out) == 3


# ---------------------------------------------------------------- bad input (library level)


def _small(**changes):
    cols = {
        "experiment_id": ["a", "a", "b", "b"], "metric": ["m"] * 4,
        "variant": ["control", "t"] * 2, "n": [100.0, 100, 50, 50],
        "sum": [10.0, 20, 5, 7], "sum_sq": [30.0, 50, 9, 12], "metric_type": ["mean"] * 4,
    }
    cols.update(changes)
    return pa.table(cols)


@pytest.mark.parametrize("changes,match", [
    (dict(n=[100.0, 100, -50, 50]), r"experiment 'b': metric 'm', variant 'control': column 'n' = -50 is negative"),
    (dict(n=[100.0, 100.5, 50, 50]), r"experiment 'a': .*column 'n' = 100.5 is not a whole number"),
    (dict(sum_sq=[30.0, 1, 9, 12]), r"experiment 'a': .*variant 't': column 'sum_sq' = 1 is less than sum\*\*2 / n"),
    (dict(metric_type=["mean", "mean", "binary", "binary"]), r"experiment 'b': column 'metric_type': unknown type 'binary'"),
    (dict(metric_type=["binomial"] * 4, sum=[10.0, 200, 5, 7]), r"experiment 'a': .*column 'sum' = 200 is greater than n = 100"),
    (dict(variant=["control", "control", "control", "t"]), r"experiment 'a': duplicate rows for metric 'm', variant 'control'"),
    (dict(variant=["base", "t", "control", "t"]), r"experiment 'a': column 'variant': no control variant 'control' \(the variants are 'base', 't'\)"),
    (dict(sum=[10.0, None, 5, 7]), r"experiment 'a': .*column 'sum' is null"),
])
def test_bad_values_name_the_experiment(changes, match):
    with pytest.raises(ArchiveError, match=r"<table> \(row \d\): " + match):
        R.reanalyze_table(_small(**changes))


def test_bad_schema_and_options():
    with pytest.raises(ArchiveError, match=r"missing column 'sum_sq'|column 'sumsq' is not in the schema; did you mean 'sum_sq'"):
        R.reanalyze_table(_small().rename_columns(
            ["experiment_id", "metric", "variant", "n", "sum", "sumsq", "metric_type"]))
    with pytest.raises(ArchiveError, match=r"missing column 'variant' \(did you mean 'varaint'\?\)"):
        R.reanalyze_table(_small().rename_columns(
            ["experiment_id", "metric", "varaint", "n", "sum", "sum_sq", "metric_type"]))
    with pytest.raises(ArchiveError, match=r"column 'n' must be numeric; it holds string"):
        R.reanalyze_table(_small(n=["1", "2", "3", "4"]))
    # Unit-level rows are recognised (tests/test_units.py has their checks).
    with pytest.raises(ArchiveError, match=r"experiment 1: column 'variant': only the variant "
                       r"'control', no treatment to compare"):
        R.reanalyze_table(pa.table({"experiment_id": [1], "variant": ["control"], "revenue": [1.0]}))
    with pytest.raises(ArchiveError, match=r"missing column 'metric_type' \(or give a metrics spec"):
        R.reanalyze_table(_small().drop_columns(["metric_type"]))
    with pytest.raises(ArchiveError, match=r"the covariates columns come together: cov_sum without"):
        R.reanalyze_table(_small().append_column("cov_sum", pa.array([1.0] * 4)))
    with pytest.raises(ArchiveError, match=r"no rows"):
        R.reanalyze_table(_small().slice(0, 0))
    with pytest.raises(ArchiveError, match=r"`family` must be one of .*got 'metrics' \(did you mean 'metric'\?\)"):
        R.reanalyze_table(_small(), family="metrics")
    with pytest.raises(ArchiveError, match=r"`correction` must be one of"):
        R.reanalyze_table(_small(), correction="bh")
    with pytest.raises(ArchiveError, match=r"`alpha` must be a number in \(0, 1\)"):
        R.reanalyze_table(_small(), alpha=5)
    with pytest.raises(ArchiveError, match=r"metric 'm': unknown setting 'typ' \(did you mean 'type'\?\)"):
        R.reanalyze_table(_small(), metrics={"m": {"typ": "mean"}})
    with pytest.raises(ArchiveError, match=r"metric 'm' is 'mean' but the metrics spec says 'binomial'"):
        R.reanalyze_table(_small(), metrics={"m": "binomial"})


def test_file_errors(tmp_path):
    with pytest.raises(ArchiveError, match=r"nothere.parquet: no such file or folder"):
        R.reanalyze(tmp_path / "nothere.parquet", tmp_path / "o.parquet")
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    with pytest.raises(ArchiveError, match=r"bad.parquet: cannot read the file as Parquet"):
        R.reanalyze(bad, tmp_path / "o.parquet")
    with pytest.raises(ArchiveError, match=r"no file matches"):
        R.reanalyze(str(tmp_path / "*.pq"), tmp_path / "o.parquet")
    good = tmp_path / "good.parquet"
    pq.write_table(_small(), good)
    with pytest.raises(ArchiveError, match=r"would overwrite an input file"):
        R.reanalyze(good, good)
    with pytest.raises(ArchiveError, match=r"folder .* does not exist"):
        R.reanalyze(good, tmp_path / "no" / "o.parquet")
    assert glob.glob(str(tmp_path / ".*tmp")) == []


def test_threads_identical(threads):
    rng = np.random.default_rng(SEED + 9)
    table = _mixed(rng, 30)
    with threads(1):
        a = R.reanalyze_table(table, family="metric")
    with threads(2):
        b = R.reanalyze_table(table, family="metric")
    _assert_tables_equal(a, b)
