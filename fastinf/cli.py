"""The ``fastinf`` command."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``fastinf`` command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="fastinf", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="re-analyse a built-in synthetic archive of A/B experiments",
        description="Run the reanalyze pipeline (Welch/z tests, Benjamini-Hochberg, "
        "Mann-Whitney, bootstrap intervals) on a synthetic unit-level archive with known true "
        "effects, and count the true and false discoveries.",
    )
    demo.add_argument("--experiments", type=int, default=2000, help="archive size (default 2000)")
    demo.add_argument("--resamples", type=int, default=999, help="resamples per test (default 999)")
    demo.add_argument("--bootstrap", type=str.lower, default="poisson",
                      choices=("poisson", "percentile", "basic", "bca"),
                      help="bootstrap intervals (default poisson)")
    demo.add_argument("--compare", action="store_true",
                      help="also time scipy.stats on a subset and report the ratio")
    demo.add_argument("--seed", type=int, default=2026)
    _add_reanalyze(sub)
    args = parser.parse_args(argv)
    if args.command == "reanalyze":
        return _reanalyze(args)
    if args.command == "demo":
        if args.experiments < 1:
            parser.error("--experiments must be at least 1")
        if args.resamples < 1:
            parser.error("--resamples must be at least 1")
        from fastinf.demo import run

        run(args.experiments, n_resamples=args.resamples, bootstrap=args.bootstrap,
            compare=args.compare, seed=args.seed)
    return 0


_SCHEMA_HELP = """\
input schema (sufficient statistics), one row per experiment x metric x variant:
  experiment_id, metric, variant, n, sum, sum_sq, metric_type (binomial | mean | ratio;
  or give the types with --metrics); optional cov_sum, cov_sum_sq, cross_sum (CUPED)
  and den_sum, den_sum_sq, num_den_sum (ratio metrics).
or unit-level rows, one row per unit: experiment_id, variant, one numeric column per
  metric (0/1 or boolean columns are binomial unless --metrics says otherwise), and
  optional pre-period covariates pre_<metric> (CUPED; --metrics may name another column
  with covariate = "col"). Adds mannwhitney_p_value, boot_ci_low and boot_ci_high.
The input must be clustered by experiment (all rows of an experiment contiguous).

engines: --engine local (the default) streams the archive on this machine; --engine dask
  runs the same analysis on a Dask cluster (pip install 'fastinf[dask]'): a local cluster
  of --workers processes, or the scheduler at --scheduler ADDRESS (the input must be
  readable by its workers). The output is the local engine's, bit for bit.

exit status: 0 done; 2 bad input or options (the message names the file, column and
experiment); 130 interrupted (no output is left behind).
"""

_BOOTSTRAP_METHODS = ("none", "poisson", "percentile", "basic", "bca")
_ENGINES = ("local", "dask")
#: Config keys of the engine (beside fastinf._reanalyze_config.CONFIG_KEYS).
_ENGINE_KEYS = ("engine", "scheduler", "workers", "threads_per_worker", "connect_timeout")


def _add_reanalyze(sub: Any) -> None:
    p = sub.add_parser(
        "reanalyze",
        help="re-analyse an archive of experiments (Parquet or CSV of sufficient statistics)",
        description="Re-analyse every experiment x metric x treatment of an archive: Welch's t\n"
        "for mean metrics, the two-proportion z test for binomial ones, the delta method for\n"
        "ratios, CUPED where covariate sums are given, multiple-testing corrections and ship\n"
        "decisions. Writes one row per experiment x metric x treatment (Parquet or CSV).",
        epilog=_SCHEMA_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", help="a Parquet file, a folder of files, a glob, or a CSV file")
    p.add_argument("-o", "--out", required=True, metavar="OUTPUT",
                   help="output file (.parquet, or .csv); written atomically")
    p.add_argument("--config", metavar="FILE",
                   help="TOML (or YAML, JSON) file with these options; the command line wins")
    p.add_argument("--metrics", metavar="SPEC",
                   help="TOML/YAML/JSON mapping metric -> type, guardrail, higher_is_better, "
                   "min_effect")
    p.add_argument("--control", metavar="NAME", help="name of the control variant (control)")
    p.add_argument("--alpha", type=float, help="significance level (0.05)")
    p.add_argument("--alternative", "--sides", dest="alternative",
                   choices=("two-sided", "greater", "less"), help="alternative (two-sided)")
    p.add_argument("--correction", metavar="METHOD",
                   help="multiple-testing method: fdr_bh (default), holm, bonferroni, ... or none")
    p.add_argument("--family", choices=("experiment", "experiment-treatment", "metric", "all"),
                   help="rows corrected together (experiment); metric and all read the input "
                   "twice")
    cuped = p.add_mutually_exclusive_group()
    cuped.add_argument("--cuped", dest="cuped", action="store_const", const=True,
                       help="use covariate sums where given (the default)")
    cuped.add_argument("--no-cuped", dest="cuped", action="store_const", const=False,
                       help="ignore covariate sums")
    p.add_argument("--min-effect", type=float, metavar="X",
                   help="smallest effect worth shipping (0)")
    rel = p.add_mutually_exclusive_group()
    rel.add_argument("--relative-min-effect", dest="relative_min_effect", action="store_const",
                     const=True, help="--min-effect is relative to the control (the default)")
    rel.add_argument("--absolute", dest="relative_min_effect", action="store_const",
                     const=False, help="--min-effect is an absolute difference")
    p.add_argument("--guardrail", dest="guardrails", action="append", metavar="METRIC",
                   help="a guardrail metric (repeatable)")
    p.add_argument("--format", choices=("parquet", "csv"),
                   help="output format (default: from the output's suffix)")
    p.add_argument("--errors", choices=("raise", "skip"),
                   help="on bad input stop (raise, the default) or skip those experiments and "
                   "list them in OUTPUT.skipped.csv")
    p.add_argument("--chunk-rows", type=int, metavar="N",
                   help="input rows analysed at a time (1048576)")
    p.add_argument("-q", "--quiet", action="store_const", const=True,
                   help="no progress bar and no summary")
    p.add_argument("--report", metavar="PATH", help="also write an HTML report")
    p.add_argument("--bootstrap", "--bootstrap-method", dest="bootstrap", type=str.lower,
                   choices=_BOOTSTRAP_METHODS,
                   help="unit-level input: bootstrap interval of the difference of means "
                   "(poisson, the default: mergeable Poisson percentile; percentile, basic, "
                   "bca: multinomial; none)")
    p.add_argument("--resamples", dest="n_resamples", type=int, metavar="N",
                   help="unit-level input: bootstrap resamples (999)")
    p.add_argument("--seed", type=int, metavar="S",
                   help="unit-level input: seed of the bootstrap (0): same seed, same intervals")
    eng = p.add_argument_group("engine")
    eng.add_argument("--engine", choices=_ENGINES,
                     help="local (the default): this machine; dask: a Dask cluster")
    eng.add_argument("--scheduler", metavar="ADDRESS",
                     help="--engine dask: the scheduler's address (e.g. tcp://10.0.0.5:8786); "
                     "default: start a local cluster")
    eng.add_argument("--workers", type=int, metavar="N",
                     help="--engine dask, local cluster: worker processes (the cores, at most 4)")
    eng.add_argument("--threads-per-worker", type=int, metavar="N",
                     help="--engine dask, local cluster: Python threads per worker (1)")
    eng.add_argument("--connect-timeout", type=float, metavar="SECONDS",
                     help="--engine dask: seconds to wait for the scheduler (10)")


def _reanalyze(args: argparse.Namespace) -> int:
    from fastinf.reanalyze import ArchiveError

    try:
        return _reanalyze_run(args)
    except ArchiveError as exc:
        print(f"fastinf reanalyze: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nfastinf reanalyze: interrupted; no output was written", file=sys.stderr)
        return 130


def _reanalyze_run(args: argparse.Namespace) -> int:
    import importlib.util

    from fastinf.reanalyze import DEFAULT_CHUNK_ROWS, ArchiveError, reanalyze

    config, engine_config = _load_config(args.config) if args.config else ({}, {})
    engine = _engine_options(args, engine_config)
    defaults: dict[str, Any] = {
        "control": "control", "metrics": None, "alpha": 0.05, "alternative": "two-sided",
        "correction": "fdr_bh", "family": "experiment", "cuped": True, "min_effect": 0.0,
        "relative_min_effect": True, "guardrails": (), "errors": "raise",
        "chunk_rows": DEFAULT_CHUNK_ROWS, "format": None, "quiet": False, "report": None,
        "bootstrap": None, "n_resamples": None, "seed": None,
    }
    opts = {}
    for key, default in defaults.items():
        value = getattr(args, key, None)
        opts[key] = value if value is not None else config.get(key, default)
    quiet = opts.pop("quiet")
    if not isinstance(quiet, bool):
        raise ArchiveError(f"`quiet` must be true or false; got {quiet!r}.")
    report = opts.pop("report")
    boot_given = any(opts[k] is not None for k in ("bootstrap", "n_resamples", "seed"))
    for key, default in (("bootstrap", "poisson"), ("n_resamples", 999), ("seed", 0)):
        if opts[key] is None:
            opts[key] = default
    if report is not None and importlib.util.find_spec("fastinf.report") is None:
        raise ArchiveError("--report needs fastinf.report, which this installation lacks.")
    progress = False if quiet else None
    if engine.pop("engine") == "dask":
        summary = _reanalyze_dask(args.input, args.out, progress, engine, opts)
    else:
        given = [k for k in _ENGINE_KEYS[1:] if engine[k] is not None]
        if given and not quiet:
            print(f"fastinf reanalyze: note: {_flag(given[0])} applies to --engine dask; the "
                  "local engine ignores it.", file=sys.stderr)
        summary = reanalyze(args.input, args.out, progress=progress, **opts)
    if boot_given and summary.bootstrap is None and not quiet:
        print("fastinf reanalyze: note: the bootstrap options apply to unit-level input; "
              "sufficient statistics are analysed without them.", file=sys.stderr)
    if report is not None:
        _write_report(str(report), summary)
    if not quiet:
        print(summary)
    return 0


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _load_config(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The config file's analysis options and its engine keys, apart."""
    from fastinf.reanalyze import load_config

    config = load_config(path)
    engine = {k: config.pop(k) for k in _ENGINE_KEYS if k in config}
    return config, engine


def _engine_options(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """``engine``, ``scheduler``, ``workers``, ``threads_per_worker``, ``connect_timeout``: checked."""
    import math

    from fastinf.archive import ArchiveError

    out: dict[str, Any] = {}
    for key in _ENGINE_KEYS:
        value = getattr(args, key, None)
        out[key] = value if value is not None else config.get(key)
    if out["engine"] is None:
        out["engine"] = "local"
    if out["engine"] not in _ENGINES:
        raise ArchiveError(f"`engine` must be local or dask; got {out['engine']!r}.")
    s = out["scheduler"]
    if s is not None and (not isinstance(s, str) or not s.strip()):
        raise ArchiveError(f"{_flag('scheduler')} must be the address of a Dask scheduler "
                           f"(e.g. tcp://10.0.0.5:8786); got {s!r}.")
    for key in ("workers", "threads_per_worker"):
        v = out[key]
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ArchiveError(f"{_flag(key)} must be a positive integer; got {v!r}.")
    t = out["connect_timeout"]
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))
                          or not math.isfinite(t) or t <= 0):
        raise ArchiveError(f"{_flag('connect_timeout')} must be a number of seconds > 0; "
                           f"got {t!r}.")
    return out


def _reanalyze_dask(input: str, output: str, progress: Any, engine: dict[str, Any],  # noqa: A002
                    opts: dict[str, Any]) -> Any:
    import importlib.util

    from fastinf.archive import ArchiveError

    missing = [m for m in ("dask", "distributed") if importlib.util.find_spec(m) is None]
    if missing:
        raise ArchiveError(f"--engine dask needs {missing[0]}, which is not installed: "
                           "install fastinf[dask] (pip install 'fastinf[dask]').")
    from fastinf.dask import reanalyze_dask

    timeout = engine["connect_timeout"]
    return reanalyze_dask(input, output, scheduler=engine["scheduler"],
                          n_workers=engine["workers"],
                          threads_per_worker=engine["threads_per_worker"], progress=progress,
                          connect_timeout=10.0 if timeout is None else float(timeout), **opts)


def _write_report(path: str, summary: Any) -> None:
    from fastinf.report import write_report  # type: ignore[import-not-found, unused-ignore]

    if summary.format == "csv":
        import pyarrow.csv as pacsv

        table = pacsv.read_csv(summary.output)
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(summary.output)
    write_report(path, table, summary)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
