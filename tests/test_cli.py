"""The ``fastinf`` command."""

import subprocess
import sys

import pytest

from fastinf import demo
from fastinf.cli import main


def test_demo_runs_and_reports(capsys):
    assert main(["demo", "--experiments", "40", "--resamples", "99"]) == 0
    out = capsys.readouterr().out
    assert "40 synthetic A/B experiments" in out
    assert "discoveries at alpha=0.05" in out
    assert "interval coverage" in out


def test_demo_archive_is_deterministic_with_known_truth():
    a, b = demo.make_archive(50, seed=3), demo.make_archive(50, seed=3)
    assert (a.treatment.values == b.treatment.values).all()
    assert a.has_effect.sum() > 0 and (~a.has_effect).sum() > 0


def test_demo_compare_and_summary(capsys):
    summary = demo.run(6, n_resamples=49, compare=True, compare_subset=2)
    assert {"bootstrap_s", "permutation_s", "scipy_bootstrap_s", "coverage"} <= set(summary)
    assert "scipy (measured on 2 experiments" in capsys.readouterr().out


@pytest.mark.parametrize(("args", "message"), [
    (["demo", "--experiments", "0"], "--experiments must be at least 1"),
    (["demo", "--resamples", "0"], "--resamples must be at least 1"),
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
