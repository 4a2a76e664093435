"""The ``fastinf reanalyze`` command: options, config files, bad input, exit codes."""

import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from fastinf.cli import main
from fastinf.reanalyze import reanalyze_table


def _archive(E=6, seed=11):
    rng = np.random.default_rng(seed)
    cols = {k: [] for k in ("experiment_id", "metric", "variant", "n", "sum", "sum_sq",
                            "metric_type")}
    for e in range(E):
        for m, t in (("conv", "binomial"), ("revenue", "mean")):
            for v in ("control", "treatment"):
                n = int(rng.integers(500, 2000))
                if t == "binomial":
                    s = float(rng.binomial(n, 0.2 + 0.05 * (v == "treatment") * (e % 2)))
                    ss = s
                else:
                    y = rng.normal(3, 1, n)
                    s, ss = float(y.sum()), float((y * y).sum())
                for k, x in zip(cols, (f"x{e}", m, v, n, s, ss, t), strict=True):
                    cols[k].append(x)
    return pa.table(cols)


@pytest.fixture
def good(tmp_path):
    path = tmp_path / "archive.parquet"
    pq.write_table(_archive(), path)
    return path


def _write(tmp_path, table, name="in.parquet"):
    path = tmp_path / name
    if name.endswith(".csv"):
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    return path


def _run(capsys, *args):
    code = main(["reanalyze", *map(str, args)])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err
    return code, cap.out, cap.err


def test_runs_and_prints_a_summary(good, tmp_path, capsys):
    out = tmp_path / "results.parquet"
    code, stdout, err = _run(capsys, good, "--out", out)
    assert code == 0
    assert "read 24 rows" in stdout and "analysed 6 experiments, 2 metrics" in stdout
    assert "wrote 12 rows" in stdout and "rows/s" in stdout
    assert err == ""  # not a terminal: no progress bar
    result = pq.read_table(out)
    ref = reanalyze_table(_archive())
    assert result.equals(ref)
    assert {"experiment_id", "metric", "variant", "estimate", "ci_low", "ci_high", "p_value",
            "p_value_adjusted", "decision"} <= set(result.schema.names)


def test_options_reach_the_analysis(good, tmp_path, capsys):
    out = tmp_path / "r.csv"
    code, stdout, _ = _run(capsys, good, "-o", out, "--alpha", "0.1", "--sides", "greater",
                           "--correction", "bonferroni", "--family", "all", "--min-effect", "0.02",
                           "--absolute", "--guardrail", "revenue", "--chunk-rows", "5",
                           "--quiet")
    assert code == 0 and stdout == ""
    code, stdout, _ = _run(capsys, good, "-o", tmp_path / "g.parquet", "--guardrail", "revenue",
                           "--guardrail", "nosuch")
    assert code == 0 and "note: guardrail metric 'nosuch' is not among the analysed metrics" in stdout
    got = pacsv.read_csv(out)
    ref = reanalyze_table(_archive(), alpha=0.1, alternative="greater", correction="bonferroni",
                          family="all", min_effect=0.02, relative_min_effect=False,
                          guardrails=["revenue"])
    np.testing.assert_array_equal(got.column("p_value_adjusted").to_numpy(),
                                  ref.column("p_value_adjusted").to_numpy())
    assert got.column("decision").to_pylist() == ref.column("decision").to_pylist()


@pytest.mark.parametrize("suffix", [".toml", ".yaml", ".json"])
def test_config_file_and_command_line_precedence(good, tmp_path, capsys, suffix):
    spec = tmp_path / "metrics.json"
    spec.write_text(json.dumps({"conv": {"type": "binomial", "min_effect": 0.5}}))
    cfg = tmp_path / f"cfg{suffix}"
    text = {
        ".toml": 'alpha = 0.2\ncorrection = "none"\nmetrics = "metrics.json"\nfamily = "metric"\n',
        ".yaml": "alpha: 0.2\ncorrection: none\nmetrics: metrics.json\nfamily: metric\n",
        ".json": json.dumps({"alpha": 0.2, "correction": "none", "metrics": "metrics.json",
                             "family": "metric"}),
    }[suffix]
    cfg.write_text(text)
    out = tmp_path / "o.parquet"
    code, _, _ = _run(capsys, good, "-o", out, "--config", cfg, "--alpha", "0.05", "-q")
    assert code == 0
    ref = reanalyze_table(_archive(), alpha=0.05, correction=None, family="metric",
                          metrics={"conv": {"type": "binomial", "min_effect": 0.5}})
    assert pq.read_table(out).equals(ref)


def test_inline_metrics_in_a_toml_config(good, tmp_path, capsys):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('[metrics.revenue]\ntype = "mean"\nguardrail = true\n')
    code, _, _ = _run(capsys, good, "-o", tmp_path / "o.parquet", "--config", cfg, "-q")
    assert code == 0


@pytest.mark.parametrize("table_change,match", [
    (lambda t: t.rename_columns([c if c != "sum_sq" else "sumsq" for c in t.schema.names]),
     r"in.parquet: column 'sumsq' is not in the schema; did you mean 'sum_sq'\?"),
    (lambda t: t.rename_columns([c if c != "variant" else "arm" for c in t.schema.names]),
     r"in.parquet: missing column 'variant'"),
    (lambda t: t.rename_columns([c if c != "metric" else "metrc" for c in t.schema.names]),
     r"missing column 'metric' \(did you mean 'metrc'\?\)"),
    (lambda t: t.set_column(3, "n", pa.array([str(x) for x in t.column("n").to_pylist()])),
     r"in.parquet: column 'n' must be numeric; it holds string"),
    (lambda t: t.set_column(3, "n", pa.array([-1.0] + t.column("n").to_pylist()[1:])),
     r"in.parquet \(row 1\): experiment 'x0': metric 'conv', variant 'control': column 'n' = -1 "
     r"is negative"),
    (lambda t: t.set_column(3, "n", pa.array([10.5] + t.column("n").to_pylist()[1:])),
     r"experiment 'x0': .*column 'n' = 10.5 is not a whole number"),
    (lambda t: t.set_column(4, "sum", pa.array([1e6] + t.column("sum").to_pylist()[1:])),
     r"experiment 'x0': metric 'conv', variant 'control': column 'sum' = 1000000 is greater than n"),
    (lambda t: t.set_column(5, "sum_sq", pa.array(t.column("sum_sq").to_pylist()[:6] + [0.0]
                                                  + t.column("sum_sq").to_pylist()[7:])),
     r"experiment 'x1': metric 'revenue', variant 'control': column 'sum_sq' = 0 is less than"),
    (lambda t: pa.concat_tables([t.slice(0, 1), t]),
     r"in.parquet \(row \d\): experiment 'x0': duplicate rows for metric 'conv', variant 'control'"),
    (lambda t: t.set_column(2, "variant", pa.array(
        ["base" if v == "control" else v for v in t.column("variant").to_pylist()])),
     r"experiment 'x0': column 'variant': no control variant 'control'"),
    (lambda t: t.set_column(6, "metric_type", pa.array(
        ["binary" if v == "binomial" else v for v in t.column("metric_type").to_pylist()])),
     r"experiment 'x0': column 'metric_type': unknown type 'binary' for metric 'conv'"),
    (lambda t: t.slice(0, 0), r"in.parquet: the input has no rows"),
    (lambda t: pa.concat_tables([t, t.slice(0, 4)]),
     r"in.parquet \(row 25\): experiment 'x0' appears again after its rows ended"),
    (lambda t: pa.table({"experiment_id": ["a"], "variant": ["control"], "revenue": [1.0]}),
     r"in.parquet \(row 1\): experiment 'a': column 'variant': only the variant 'control'"),
])
def test_bad_input_exits_2_naming_file_column_and_experiment(tmp_path, capsys, table_change, match):
    path = _write(tmp_path, table_change(_archive()))
    out = tmp_path / "out.parquet"
    code, stdout, err = _run(capsys, path, "-o", out, "--chunk-rows", "8")
    assert code == 2
    assert err.startswith("fastinf reanalyze: error: ")
    assert len(err.strip().splitlines()) == 1
    assert __import__("re").search(match, err), err
    assert not out.exists()
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_csv_bad_value_names_the_experiment(tmp_path, capsys):
    path = tmp_path / "in.csv"
    pacsv.write_csv(_archive(), path)
    text = path.read_text().splitlines()
    cells = text[7].split(",")
    cells[3] = "many"
    text[7] = ",".join(cells)
    path.write_text("\n".join(text) + "\n")
    code, _, err = _run(capsys, path, "-o", tmp_path / "o.parquet")
    assert code == 2
    assert "in.csv: column 'n' must be numeric (experiment 'x1', data row 7: 'many')" in err


def test_unreadable_and_missing_files(tmp_path, capsys):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    code, _, err = _run(capsys, bad, "-o", tmp_path / "o.parquet")
    assert code == 2 and "bad.parquet: cannot read the file as Parquet" in err
    code, _, err = _run(capsys, tmp_path / "none.parquet", "-o", tmp_path / "o.parquet")
    assert code == 2 and "none.parquet: no such file or folder" in err
    empty_csv = tmp_path / "empty.csv"
    empty_csv.write_text("experiment_id,metric,variant,n,sum,sum_sq,metric_type\n")
    code, _, err = _run(capsys, empty_csv, "-o", tmp_path / "o.parquet")
    assert code == 2 and "the input has no rows" in err
    assert sorted(os.listdir(tmp_path)) == ["bad.parquet", "empty.csv"]


@pytest.mark.parametrize("args,match", [
    (["--alpha", "2"], r"`alpha` must be a number in \(0, 1\); got 2.0"),
    (["--correction", "bh"], r"`correction` must be one of"),
    (["--chunk-rows", "0"], r"`chunk_rows` must be a positive integer"),
    (["--metrics", "nope.toml"], r"nope.toml: cannot read the metrics spec"),
    (["--config", "nope.ini"], r"nope.ini: cannot read the config file"),
    (["--resamples", "0"], r"`n_resamples` must be a positive integer"),
])
def test_bad_options_exit_2(good, tmp_path, capsys, args, match):
    code, _, err = _run(capsys, good, "-o", tmp_path / "o.parquet", *args)
    assert code == 2
    assert __import__("re").search(match, err), err


def test_bad_config_key_and_yaml_spec(good, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("alpah = 0.1\n")
    code, _, err = _run(capsys, good, "-o", tmp_path / "o.parquet", "--config", cfg)
    assert code == 2 and "c.toml: unknown option 'alpah' (did you mean 'alpha'?)" in err
    spec = tmp_path / "m.yaml"
    spec.write_text("conv: {type: binomial, guardrial: true}\n")
    code, _, err = _run(capsys, good, "-o", tmp_path / "o.parquet", "--metrics", spec)
    assert code == 2 and "unknown setting 'guardrial' (did you mean 'guardrail'?)" in err


def test_argparse_errors_exit_2(good, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reanalyze", str(good)])
    assert exc.value.code == 2
    assert "--out" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["reanalyze", str(good), "-o", "x.parquet", "--family", "team"])
    assert exc.value.code == 2


def test_skip_mode_side_file_and_summary(tmp_path, capsys):
    t = _archive()
    n = t.column("n").to_pylist()
    n[9] = -3  # experiment x2
    path = _write(tmp_path, t.set_column(3, "n", pa.array(n, pa.float64())))
    out = tmp_path / "out.parquet"
    code, stdout, _ = _run(capsys, path, "-o", out, "--errors", "skip")
    assert code == 0
    assert f"skipped 1 experiments with bad input (listed in {out}.skipped.csv)" in stdout
    side = pacsv.read_csv(f"{out}.skipped.csv").to_pylist()
    assert side == [{"experiment_id": "x2", "file": str(path), "reason":
                     "metric 'conv', variant 'treatment': column 'n' = -3 is negative"}]
    assert "x2" not in pq.read_table(out).column("experiment_id").to_pylist()


def test_bootstrap_options_are_accepted_with_a_note(good, tmp_path, capsys):
    code, _, err = _run(capsys, good, "-o", tmp_path / "o.parquet", "--bootstrap-method", "BCa",
                        "--resamples", "999")
    assert code == 0 and "apply to unit-level input" in err


def test_report_is_written_through_fastinf_report(good, tmp_path, capsys, monkeypatch):
    report = pytest.importorskip("fastinf.report")
    calls = []
    monkeypatch.setattr(report, "write_report", lambda *a: calls.append(a))
    code, _, _ = _run(capsys, good, "-o", tmp_path / "o.parquet", "--report", tmp_path / "r.html")
    assert code == 0
    (path, table, summary), = calls
    assert path == str(tmp_path / "r.html")
    assert table.equals(pq.read_table(tmp_path / "o.parquet"))
    assert summary.output_rows == table.num_rows


def test_report_without_the_module_is_a_clear_error(good, tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "fastinf.report" else real(name, *a))
    code, _, err = _run(capsys, good, "-o", tmp_path / "o.parquet", "--report", "r.html")
    assert code == 2 and "--report needs fastinf.report" in err
    assert not (tmp_path / "o.parquet").exists()


def test_console_script(good, tmp_path):
    exe = shutil.which("fastinf", path=os.path.dirname(sys.executable)) or shutil.which("fastinf")
    if exe is None:
        pytest.skip("the fastinf console script is not installed")
    out = tmp_path / "o.parquet"
    ok = subprocess.run([exe, "reanalyze", str(good), "--out", str(out)], capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "wrote 12 rows" in ok.stdout and out.exists()
    bad = _write(tmp_path, _archive().drop_columns(["n"]), "bad.parquet")
    fail = subprocess.run([exe, "reanalyze", str(bad), "--out", str(out)], capture_output=True,
                          text=True, timeout=120)
    assert fail.returncode == 2
    assert "bad.parquet: missing column 'n'" in fail.stderr
    assert "Traceback" not in fail.stderr
    assert "reanalyze" in subprocess.run([exe, "--help"], capture_output=True, text=True).stdout


def test_everything_skipped_still_writes_an_empty_output(tmp_path, capsys):
    t = _archive(E=2)
    path = _write(tmp_path, t.set_column(3, "n", pa.array([-1.0] * t.num_rows)))
    for name in ("o.parquet", "o.csv"):
        code, stdout, _ = _run(capsys, path, "-o", tmp_path / name, "--errors", "skip")
        assert code == 0 and "skipped 2 experiments" in stdout
    assert pq.read_table(tmp_path / "o.parquet").num_rows == 0
    assert pacsv.read_csv(tmp_path / "o.csv").num_rows == 0


def test_interrupt_exits_130_without_output(good, tmp_path, capsys, monkeypatch):
    import fastinf.reanalyze as R

    def interrupted(self, ch, p_adj):
        raise KeyboardInterrupt

    monkeypatch.setattr(R._Analyzer, "finish", interrupted)
    code, _, err = _run(capsys, good, "-o", tmp_path / "o.parquet")
    assert code == 130 and "interrupted; no output was written" in err
    assert os.listdir(tmp_path) == ["archive.parquet"]


def test_engine_dask_equals_local_and_is_read_from_the_config(good, tmp_path, capsys):
    """--engine dask on a real 2-process LocalCluster (workers from the config): same bytes."""
    pytest.importorskip("distributed")
    assert _run(capsys, good, "-o", tmp_path / "local.csv", "-q")[0] == 0
    cfg = tmp_path / "engine.toml"
    cfg.write_text('engine = "dask"\nworkers = 2\nthreads-per-worker = 1\nfamily = "all"\n')
    code, out, err = _run(capsys, good, "-o", tmp_path / "dask.csv", "--config", cfg,
                          "--family", "experiment")
    assert code == 0, err
    assert "wrote 12 rows" in out
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


@pytest.mark.parametrize("args,match", [
    (["--engine", "dask", "--scheduler", "tcp://127.0.0.1:1", "--connect-timeout", "0.5"],
     "cannot connect to the Dask scheduler at 'tcp://127.0.0.1:1'"),
    (["--engine", "dask", "--workers", "0"], r"--workers must be a positive integer; got 0"),
    (["--engine", "dask", "--threads-per-worker", "-1"],
     r"--threads-per-worker must be a positive integer; got -1"),
    (["--engine", "dask", "--scheduler", " "], "--scheduler must be the address of a Dask"),
    (["--engine", "dask", "--connect-timeout", "0"], "--connect-timeout must be a number"),
])
def test_engine_mistakes_exit_2_in_one_line(good, tmp_path, capsys, args, match):
    pytest.importorskip("distributed")
    code, _, err = _run(capsys, good, "-o", tmp_path / "o.parquet", *args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("fastinf reanalyze: error: ")
    assert re.search(match, err), err
    assert not (tmp_path / "o.parquet").exists()


def test_engine_dask_without_dask_says_what_to_install(good, tmp_path, capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    code, _, err = _run(capsys, good, "-o", tmp_path / "o.parquet", "--engine", "dask")
    assert code == 2
    assert "--engine dask needs distributed, which is not installed: install fastinf[dask]" in err


def test_engine_config_keys_checked(good, tmp_path, capsys):
    for text, match in (('engine = "spark"\n', r"`engine` must be local or dask; got 'spark'"),
                        ('enigne = "dask"\n', r"unknown option 'enigne' \(did you mean 'engine'"),
                        ('workers = "two"\n', r"--workers must be a positive integer; got 'two'")):
        cfg = tmp_path / "c.toml"
        cfg.write_text(text)
        code, _, err = _run(capsys, good, "-o", tmp_path / "o.parquet", "--config", cfg)
        assert code == 2
        assert re.search(match, err), err
    # argparse refuses an unknown engine on the command line (exit 2, its usage line)
    with pytest.raises(SystemExit) as exc:
        main(["reanalyze", str(good), "-o", str(tmp_path / "o.parquet"), "--engine", "spark"])
    assert exc.value.code == 2
    assert "invalid choice: 'spark'" in capsys.readouterr().err


def test_dask_options_with_the_local_engine_are_noted(good, tmp_path, capsys):
    code, _, err = _run(capsys, good, "-o", tmp_path / "o.parquet", "--workers", "3")
    assert code == 0
    assert "--workers applies to --engine dask; the local engine ignores it" in err
    assert pq.read_table(tmp_path / "o.parquet").num_rows == 12
