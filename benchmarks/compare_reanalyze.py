"""Time ``fastinf reanalyze`` end to end against a pandas + scipy/statsmodels loop; markdown table.

Usage, from the repository root::

    python benchmarks/compare_reanalyze.py --quick   # 5 000 experiments, seconds
    python benchmarks/compare_reanalyze.py           # the issue's size, a few minutes

The case is the issue's: a generated sufficient-statistics archive in Parquet
of 100 000 experiments x 5 metrics (2 binomial, 3 mean) x 2 or 3 arms
(about 1.25 M input rows, 1.5 M control-vs-treatment tests), re-analysed
from file to file: Welch's t for mean metrics, the two-proportion z test for
binomial ones, Benjamini-Hochberg within each experiment (and, as a second
fastinf row, across each metric of the whole archive, which reads the input
twice when it is larger than one chunk).

The reference is what one writes with pandas: read the archive, ``groupby``
experiment, and per experiment and metric compare each treatment with the
control by ``scipy.stats.ttest_ind_from_stats(equal_var=False)`` or
statsmodels' ``proportions_ztest``, then ``multipletests(method='fdr_bh')``
per experiment. The loop is timed on the first ``--subset`` experiments and
extrapolated linearly to the archive (marked "extrapolated"); reading and
grouping are timed in full. Its p-values are checked against fastinf's on
the subset.

A second table times **unit-level input**: the demo's archive
(:func:`fastinf.demo.make_archive`: experiments x 2 arms of 100-1 000 units,
a log-normal ``revenue`` and a 0/1 ``conversion``), re-analysed with
Mann-Whitney p-values and 999-resample bootstrap intervals (``poisson``, and
``BCa`` as a second row); the reference groups the units with pandas and per
experiment and metric calls ``scipy.stats.ttest_ind`` (or
``proportions_ztest``), ``mannwhitneyu`` and ``scipy.stats.bootstrap``
(BCa, 999 resamples), timed on a subset and extrapolated. Throughput there
is units per second.

Each case runs in a fresh child process, which reports its wall time and its
peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``); the
fastinf child first re-analyses a tiny archive so that the kernels are
compiled (or loaded from the on-disk cache) before the timing. Throughput is
input rows per second, and output tests per second per core (cores this
process may use). The host may be shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

FULL = {"experiments": 100_000, "subset": 500, "unit_experiments": 2_000, "unit_subset": 40}
QUICK = {"experiments": 5_000, "subset": 100, "unit_experiments": 200, "unit_subset": 10}
METRICS = (("conv", "binomial"), ("revenue", "mean"), ("sessions", "mean"),
           ("retained", "binomial"), ("time_on_site", "mean"))


def make_archive(path, n_experiments, seed=2026, row_group_size=100_000):
    """Write the benchmark archive; return (input rows, output tests)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    arms = rng.integers(2, 4, n_experiments)
    M = len(METRICS)
    rows_per = M * arms
    e_idx = np.repeat(np.arange(n_experiments), rows_per)
    # metric and arm of each row, experiment by experiment (metric-major)
    m_idx = np.concatenate([np.repeat(np.arange(M), a) for a in (2, 3)])
    a_idx = np.concatenate([np.tile(np.arange(a), M) for a in (2, 3)])
    starts = {2: 0, 3: 2 * M}
    sel = np.concatenate([np.arange(starts[a], starts[a] + M * a) for a in arms])
    m_of, a_of = m_idx[sel], a_idx[sel]
    n_rows = e_idx.size
    n = rng.integers(1_000, 50_000, n_rows).astype(float)
    binom = np.array([t == "binomial" for _, t in METRICS])[m_of]
    p = rng.uniform(0.05, 0.3, n_experiments)[e_idx] * (1 + 0.02 * (a_of > 0))
    succ = rng.binomial(n.astype(np.int64), np.clip(p, 0, 1)).astype(float)
    mu = rng.normal(10, 1, n_experiments)[e_idx] * (1 + 0.01 * (a_of > 0))
    sd = rng.uniform(1, 5, n_rows)
    mean_hat = mu + rng.standard_normal(n_rows) * sd / np.sqrt(n)
    s2 = sd**2 * rng.chisquare(n - 1) / (n - 1)
    s = np.where(binom, succ, n * mean_hat)
    ss = np.where(binom, succ, (n - 1) * s2 + n * mean_hat**2)
    ids = np.char.add("exp", np.char.zfill(np.arange(n_experiments).astype(str), 6))
    variants = np.array(["control", "treatment_a", "treatment_b"])
    table = pa.table({
        "experiment_id": pa.DictionaryArray.from_arrays(e_idx.astype(np.int32), ids).cast(pa.string()),
        "metric": pa.DictionaryArray.from_arrays(
            m_of.astype(np.int32), [m for m, _ in METRICS]).cast(pa.string()),
        "variant": pa.DictionaryArray.from_arrays(a_of.astype(np.int32), variants).cast(pa.string()),
        "n": n, "sum": s, "sum_sq": ss,
        "metric_type": pa.DictionaryArray.from_arrays(
            m_of.astype(np.int32), [t for _, t in METRICS]).cast(pa.string()),
    })
    pq.write_table(table, path, row_group_size=row_group_size)
    return n_rows, int((M * (arms - 1)).sum())


def _child_fastinf(path, out, family):
    from fastinf.reanalyze import reanalyze

    tiny = out + ".tiny.parquet"
    make_archive(tiny, 20, seed=1)
    reanalyze(tiny, tiny + ".out", family=family, progress=False)  # compile or load the cache
    t0 = time.perf_counter()
    summary = reanalyze(path, out, family=family, progress=False)
    return {"seconds": time.perf_counter() - t0, "rows": summary.rows_read,
            "tests": summary.output_rows, "passes": summary.passes}


def _child_reference(path, out, subset):
    import warnings

    import pandas as pd
    from scipy import stats
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportions_ztest

    t0 = time.perf_counter()
    df = pd.read_parquet(path)
    groups = df.groupby("experiment_id", sort=False)
    n_exp = groups.ngroups
    t_read = time.perf_counter() - t0
    t1 = time.perf_counter()
    p_ref = []
    for k, (_, g) in enumerate(groups):
        if k == subset:
            break
        ps = []
        for _, gm in g.groupby("metric", sort=True):
            gm = gm.set_index("variant").sort_index()
            c = gm.loc["control"]
            for _, t in gm.drop(index="control").iterrows():
                if t.metric_type == "binomial":
                    _, p = proportions_ztest([t["sum"], c["sum"]], [t.n, c.n])
                else:
                    mc, mt = c["sum"] / c.n, t["sum"] / t.n
                    sc = np.sqrt((c.sum_sq - c["sum"] ** 2 / c.n) / (c.n - 1))
                    st = np.sqrt((t.sum_sq - t["sum"] ** 2 / t.n) / (t.n - 1))
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        p = stats.ttest_ind_from_stats(mt, st, t.n, mc, sc, c.n,
                                                       equal_var=False).pvalue
                ps.append(p)
        multipletests(ps, method="fdr_bh")
        p_ref.extend(ps)
    t_loop = time.perf_counter() - t1
    return {"read_seconds": t_read, "loop_seconds": t_loop, "experiments": n_exp,
            "subset": min(subset, n_exp), "p": p_ref}


def make_unit_archive(path, n_experiments, seed=2026):
    """Write the demo's unit-level archive; return (units, output tests)."""
    import pyarrow.parquet as pq

    from fastinf.demo import make_archive as demo_archive

    table = demo_archive(n_experiments, seed).to_table()
    pq.write_table(table, path, row_group_size=1 << 18)
    return table.num_rows, 2 * n_experiments


def _child_fastinf_units(path, out, bootstrap):
    from fastinf.reanalyze import reanalyze

    tiny = out + ".tiny.parquet"
    make_unit_archive(tiny, 3, seed=1)
    reanalyze(tiny, tiny + ".out", bootstrap=bootstrap, n_resamples=9, progress=False)
    t0 = time.perf_counter()
    summary = reanalyze(path, out, bootstrap=bootstrap, n_resamples=999, progress=False)
    return {"seconds": time.perf_counter() - t0, "rows": summary.rows_read,
            "tests": summary.output_rows, "passes": summary.passes}


def _child_reference_units(path, out, subset):
    import pandas as pd
    from scipy import stats
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportions_ztest

    def mean_diff(x, y, axis=-1):
        return np.mean(x, axis=axis) - np.mean(y, axis=axis)

    t0 = time.perf_counter()
    df = pd.read_parquet(path)
    groups = df.groupby("experiment_id", sort=False)
    n_exp = groups.ngroups
    t_read = time.perf_counter() - t0
    t1 = time.perf_counter()
    rng = np.random.default_rng(0)
    for k, (_, g) in enumerate(groups):
        if k == subset:
            break
        ps = []
        c, t = g[g.variant == "control"], g[g.variant != "control"]
        for metric in ("conversion", "revenue"):
            x, y = t[metric].to_numpy(float), c[metric].to_numpy(float)
            if metric == "conversion":
                ps.append(proportions_ztest([x.sum(), y.sum()], [x.size, y.size])[1])
            else:
                ps.append(stats.ttest_ind(x, y, equal_var=False).pvalue)
            stats.mannwhitneyu(x, y)
            stats.bootstrap((x, y), mean_diff, n_resamples=999, method="BCa", rng=rng)
        multipletests(ps, method="fdr_bh")
    t_loop = time.perf_counter() - t1
    return {"read_seconds": t_read, "loop_seconds": t_loop, "experiments": n_exp,
            "subset": min(subset, n_exp)}


def _child(argv):
    import resource

    mode, path, out = argv[:3]
    if mode == "reference":
        res = _child_reference(path, out, int(argv[3]))
    elif mode == "reference-units":
        res = _child_reference_units(path, out, int(argv[3]))
    elif mode == "fastinf-units":
        res = _child_fastinf_units(path, out, argv[3])
    else:
        res = _child_fastinf(path, out, argv[3])
    res["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(res))


def _spawn(*args):
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", *map(str, args)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small archive")
    parser.add_argument("--experiments", type=int, help="archive size (overrides the preset)")
    parser.add_argument("--subset", type=int, help="experiments timed in the reference loop")
    parser.add_argument("--no-units", action="store_true", help="skip the unit-level table")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child)
    cfg = dict(QUICK if args.quick else FULL)
    if args.experiments:
        cfg["experiments"] = args.experiments
    if args.subset:
        cfg["subset"] = args.subset
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "archive.parquet")
        print(f"generating {cfg['experiments']:,} experiments ...", file=sys.stderr)
        rows, tests = make_archive(path, cfg["experiments"])
        size_mb = os.path.getsize(path) / 2**20
        out = os.path.join(tmp, "out.parquet")
        print("fastinf (family=experiment) ...", file=sys.stderr)
        ours = _spawn("fastinf", path, out, "experiment")
        import pyarrow.parquet as pq

        p_ours = pq.read_table(out, columns=["p_value"]).column("p_value").to_numpy()
        print("fastinf (family=metric) ...", file=sys.stderr)
        ours_m = _spawn("fastinf", path, out + ".m", "metric")
        print("pandas + scipy/statsmodels loop ...", file=sys.stderr)
        ref = _spawn("reference", path, out, cfg["subset"])
    k = ref["subset"]
    gap = float(np.max(np.abs(np.asarray(ref["p"]) - p_ours[:len(ref["p"])])))
    t_ref = ref["read_seconds"] + ref["loop_seconds"] * ref["experiments"] / k
    print(f"archive: {cfg['experiments']:,} experiments, {rows:,} rows ({size_mb:.1f} MiB Parquet), "
          f"{tests:,} tests; cores: {cores}; reference loop timed on {k} experiments and "
          f"extrapolated; max |p fastinf - p reference| on them: {gap:.1e}\n")
    print("| case | seconds | ratio | input rows/s | tests/s/core | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| pandas groupby + scipy/statsmodels loop (extrapolated; read {ref['read_seconds']:.2f} s "
          f"measured) | {t_ref:.3g} | 1.0x | {rows / t_ref:.3g} | {tests / (t_ref * cores):.3g} | "
          f"{ref['maxrss_mb']:.0f} (subset loop) |")
    for name, res in (("fastinf reanalyze, BH per experiment", ours),
                      (f"fastinf reanalyze, BH per metric ({ours_m['passes']} pass"
                       f"{'es' if ours_m['passes'] > 1 else ''})", ours_m)):
        t = res["seconds"]
        print(f"| {name} | {t:.3g} | {t_ref / t:.0f}x | {rows / t:.3g} | "
              f"{tests / (t * cores):.3g} | {res['maxrss_mb']:.0f} |")
    if not args.no_units:
        _units_table(cfg, cores)
    return None


def _units_table(cfg, cores):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "units.parquet")
        print(f"generating {cfg['unit_experiments']:,} unit-level experiments ...", file=sys.stderr)
        units, tests = make_unit_archive(path, cfg["unit_experiments"])
        out = os.path.join(tmp, "out.parquet")
        runs = []
        for boot in ("poisson", "BCa"):
            print(f"fastinf (unit-level, {boot}) ...", file=sys.stderr)
            runs.append((boot, _spawn("fastinf-units", path, out + boot, boot)))
        print("pandas + scipy loop (unit-level) ...", file=sys.stderr)
        ref = _spawn("reference-units", path, out, cfg["unit_subset"])
    k = ref["subset"]
    t_ref = ref["read_seconds"] + ref["loop_seconds"] * ref["experiments"] / k
    print(f"\nunit-level archive: {cfg['unit_experiments']:,} experiments, {units:,} units, "
          f"{tests:,} tests (2 metrics); reference loop timed on {k} experiments and "
          "extrapolated\n")
    print("| case | seconds | ratio | units/s | units/s/core | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| pandas groupby + scipy t/z, mannwhitneyu, bootstrap BCa (extrapolated) | "
          f"{t_ref:.3g} | 1.0x | {units / t_ref:.3g} | {units / (t_ref * cores):.3g} | "
          f"{ref['maxrss_mb']:.0f} (subset loop) |")
    for boot, res in runs:
        t = res["seconds"]
        print(f"| fastinf reanalyze, Mann-Whitney + {boot} bootstrap (999) | {t:.3g} | "
              f"{t_ref / t:.0f}x | {units / t:.3g} | {units / (t * cores):.3g} | "
              f"{res['maxrss_mb']:.0f} |")


if __name__ == "__main__":
    main()
