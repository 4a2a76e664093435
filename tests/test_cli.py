"""The ``fastinf`` command."""

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute
import pytest

from fastinf import demo
from fastinf.cli import main


def test_demo_runs_the_pipeline_and_reports(capsys):
    assert main(["demo", "--experiments", "40", "--resamples", "99"]) == 0
    out = capsys.readouterr().out
    assert "40 synthetic A/B experiments" in out and "2 metrics (revenue, conversion)" in out
    assert "95% Poisson interval" in out
    assert "discoveries (Benjamini-Hochberg over all 80 tests, alpha=0.05)" in out
    assert "expected false <=" in out
    assert "interval coverage: Poisson bootstrap" in out and "Welch/z" in out
    assert "Poisson bootstrap (99 resamples), BH" in out


def test_demo_archive_is_deterministic_with_known_truth():
    a, b = demo.make_archive(50, seed=3), demo.make_archive(50, seed=3)
    assert (a.treatment.values == b.treatment.values).all()
    assert a.has_effect.sum() > 0 and (~a.has_effect).sum() > 0
    assert ((a.true_conversion_diff != 0) == a.has_effect).all()
    t = a.to_table()
    assert t.num_rows == a.treatment.values.size + a.control.values.size
    rows = t.filter(pa.compute.equal(t.column("experiment_id"), 7)).to_pydict()
    variants = np.array(rows["variant"])
    assert np.array_equal(np.array(rows["revenue"])[variants == "treatment"], a.treatment[7])
    assert np.array_equal(np.array(rows["conversion"])[variants == "control"],
                          a.conversion_control[7])


def test_demo_counts_discoveries_against_the_truth(capsys):
    """300 experiments: BH at 0.05 finds real effects and few false ones.

    The figures are compared with the truth computed here from the archive.
    """
    figures = demo.run(300, n_resamples=199, bootstrap="BCa", seed=5)
    out = capsys.readouterr().out
    assert "95% BCa interval" in out
    assert figures["true_discoveries"] > 10
    # BH controls E[false / discoveries] at 0.05 * m0/m: more than 10 false ones
    # among ~40 discoveries would be a > 5 sigma event.
    assert figures["false_discoveries"] <= 10
    assert 0.9 <= figures["coverage"] <= 0.99 and 0.9 <= figures["welch_coverage"] <= 0.99


def test_demo_compare_and_summary(capsys):
    summary = demo.run(6, n_resamples=49, compare=True, compare_subset=2)
    assert {"reanalyze_s", "scipy_s", "coverage", "expected_false_discoveries"} <= set(summary)
    assert "scipy (measured on 2 experiments, scaled to 6)" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["demo", "--experiments", "0"], "--experiments must be at least 1"),
    (["demo", "--resamples", "0"], "--resamples must be at least 1"),
    (["demo", "--bootstrap", "jackknife"], "invalid choice: 'jackknife'"),
    (["nonsense"], "invalid choice"),
])
def test_bad_arguments_exit_2_with_a_message(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_python_m_fastinf_help():
    out = subprocess.run([sys.executable, "-m", "fastinf", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "demo" in out
