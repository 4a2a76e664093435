"""Time ``fastinf reanalyze`` end to end against a pandas + scipy/statsmodels loop; markdown table.

Usage, from the repository root::

    python benchmarks/compare_reanalyze.py --quick   # 5 000 experiments, seconds
    python benchmarks/compare_reanalyze.py           # the issue's size, a few minutes
    python benchmarks/compare_reanalyze.py --units-case --quick   # 1 M unit rows, ~1 minute
    python benchmarks/compare_reanalyze.py --units-case  # 50 M unit rows x 10 000 experiments

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

``--units-case`` runs (alone) the unit-level case of issue 5: a generated
archive of ``--unit-rows`` units (50 M) in ``--experiments`` experiments
(10 000; about 5 000 units each, 0.5-1.5 times the mean), streamed to one
Parquet file in row groups of about 2**18 rows (the engines' default chunk, so
Dask has partitions to share out even in ``--quick``) with a fixed seed (numpy +
pyarrow, no Python objects per row): ``experiment_id`` int64, ``variant``
(dictionary: 'control'/'treatment', about half each), ``revenue``
(log-normal), ``conversion`` (0/1, int8) and a ``pre_revenue`` covariate
(log-normal, log-correlation 0.6 with ``revenue``), clustered by experiment,
in a temporary folder deleted afterwards. The work, per experiment x metric:
Welch's t on the CUPED-adjusted revenue (``theta`` from all units of the
experiment, as :func:`fastinf.experiment.analyze`), the two-proportion z
test for conversion (no covariate), the Mann-Whitney U p-value of the raw
values, and Benjamini-Hochberg over the experiment's two p-values; once with
``bootstrap='none'`` and once with the Poisson bootstrap at
``--boot-resamples`` (200) resamples of the difference of means (999 on 50 M
units x 2 metrics would take minutes: the Poisson kernel costs a few ns per
unit per resample). The reference reads the file with pandas, ``groupby``
experiment (reading, grouping and pandas' one-off sort of the groups are
timed in full), and per experiment calls ``ttest_ind(equal_var=False)`` on
the CUPED-adjusted values, statsmodels' ``proportions_ztest``,
``mannwhitneyu`` and ``multipletests(method='fdr_bh')``, and for the
bootstrap row ``scipy.stats.bootstrap(method='percentile',
n_resamples=200)`` of the difference of means, timed on ``--subset``
experiments (100; 50 with ``--quick``) and extrapolated linearly (marked).
fastinf's local engine runs from Parquet to Parquet; the Dask engine
(:func:`fastinf.dask.reanalyze_dask`) on a local cluster of 2 worker
processes started as ``reanalyze_dask(n_workers=2)`` starts it, whose
start-up (and the workers' first calls, on a tiny archive) is reported apart;
its output is checked to equal the local engine's. fastinf's p-values are
compared with the reference's on the subset.

Each case runs in a fresh child process, which reports its wall time and its
peak resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``); the
fastinf child first re-analyses a tiny archive so that the kernels are
compiled (or loaded from the on-disk cache) before the timing. Throughput is
input rows per second, and output tests per second per core (cores this
process may use). The host may be shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import itertools
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

    from scipy import stats
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportions_ztest

    t0 = time.perf_counter()
    groups, n_exp = _read_groups(path)
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


def mean_diff(x, y, axis=-1):
    """The reference loops' bootstrap statistic: difference of means."""
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def _read_groups(path):
    """What the pandas reference does first: read the archive, group it by experiment."""
    import pandas as pd

    groups = pd.read_parquet(path).groupby("experiment_id", sort=False)
    return groups, groups.ngroups


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
    from scipy import stats
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportions_ztest

    t0 = time.perf_counter()
    groups, n_exp = _read_groups(path)
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


# --------------------------------------------------------------------------
# the issue-5 case: a large unit-level archive (--units-case)

UNITS_FULL = {"unit_rows": 50_000_000, "experiments": 10_000, "subset": 100}
UNITS_QUICK = {"unit_rows": 1_000_000, "experiments": 200, "subset": 50}


def make_units_archive(path, n_rows, n_experiments, seed=2026, row_group_rows=1 << 18):
    """Stream a unit-level archive to Parquet, about ``row_group_rows`` per row group.

    Returns the number of unit rows. Experiments have 0.5-1.5 times the
    mean size (the total is exactly ``n_rows``); one in five has a real lift
    (10-30 % in revenue, 15-40 % in conversion).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    E = n_experiments
    w = rng.uniform(0.5, 1.5, E)
    cuts = np.rint(np.cumsum(w) / w.sum() * n_rows).astype(np.int64)
    sizes = np.diff(np.r_[0, cuts])
    if sizes.min() < 4:
        raise SystemExit("--unit-rows must give each experiment at least 4 units")
    sigma, rho = 1.0, 0.6
    mu = np.log(rng.uniform(5.0, 50.0, E)) - sigma**2 / 2
    effect = rng.random(E) < 0.2
    lift = np.log1p(np.where(effect, rng.uniform(0.1, 0.3, E), 0.0))
    rate = rng.uniform(0.05, 0.3, E)
    rate_t = rate * (1.0 + np.where(effect, rng.uniform(0.15, 0.4, E), 0.0))
    schema = pa.schema([
        ("experiment_id", pa.int64()),
        ("variant", pa.dictionary(pa.int8(), pa.string())),
        ("revenue", pa.float64()), ("conversion", pa.int8()), ("pre_revenue", pa.float64()),
    ])
    names = pa.array(["control", "treatment"])
    # batches of whole experiments, about row_group_rows units each
    bounds = np.searchsorted(cuts, np.arange(row_group_rows, n_rows, row_group_rows), "left")
    bounds = np.unique(np.r_[0, np.minimum(bounds + 1, E), E])
    with pq.ParquetWriter(path, schema) as writer:
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            n = sizes[a:b]
            total = int(n.sum())
            e = np.repeat(np.arange(a, b), n)
            start = np.repeat(np.r_[0, np.cumsum(n)[:-1]], n)
            pos = np.arange(total) - start
            treat = rng.random(total) < 0.5
            treat[pos < 4] = (pos[pos < 4] % 2).astype(bool)  # every arm has >= 2 units
            z1 = rng.standard_normal(total)
            z2 = rng.standard_normal(total)
            pre = np.exp(mu[e] + sigma * z1)
            rev = np.exp(mu[e] + lift[e] * treat + sigma * (rho * z1 + np.sqrt(1 - rho**2) * z2))
            conv = (rng.random(total) < np.where(treat, rate_t[e], rate[e])).astype(np.int8)
            writer.write_table(pa.table({
                "experiment_id": pa.array(e, pa.int64()),
                "variant": pa.DictionaryArray.from_arrays(pa.array(treat.astype(np.int8)), names),
                "revenue": rev, "conversion": conv, "pre_revenue": pre,
            }, schema=schema), row_group_size=total)  # one row group per batch
    return int(sizes.sum())


def _maxrss_mb():
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_fastinf_case(path, out, bootstrap, n_resamples):
    from fastinf.reanalyze import reanalyze

    tiny = out + ".tiny.parquet"
    make_units_archive(tiny, 2_000, 4, seed=1)
    reanalyze(tiny, tiny + ".out", bootstrap=bootstrap, n_resamples=9, progress=False)
    t0 = time.perf_counter()
    s = reanalyze(path, out, bootstrap=bootstrap, n_resamples=n_resamples, progress=False)
    return {"seconds": time.perf_counter() - t0, "rows": s.rows_read, "tests": s.output_rows}


def _child_dask_case(path, out, n_resamples, n_workers, which):
    from distributed import Client, LocalCluster

    from fastinf.dask import reanalyze_dask, safe_threading_layer, worker_numba_threads

    cores = len(os.sched_getaffinity(0))
    tiny = out + ".tiny.parquet"
    make_units_archive(tiny, 2_000, 4, seed=1)
    t0 = time.perf_counter()
    # What reanalyze_dask(n_workers=...) starts itself, started here to time it apart.
    env = {"NUMBA_THREADING_LAYER": safe_threading_layer(),
           "NUMBA_NUM_THREADS": str(worker_numba_threads(cores, n_workers, 1))}
    res = {"runs": {}}
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", env=env) as cluster, Client(cluster) as client:
        res["startup_seconds"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        try:
            for boot in ("none", "poisson"):  # every worker loads the kernels of both rows
                reanalyze_dask(tiny, tiny + ".out", scheduler=client, bootstrap=boot,
                               n_resamples=9, progress=False)
        except Exception as exc:  # noqa: BLE001 - reported: the route may be missing
            res["error"] = f"{type(exc).__name__}: {exc}"
            return res
        res["warmup_seconds"] = time.perf_counter() - t1
        for boot in ("none", "poisson") if which == "both" else (which,):
            t2 = time.perf_counter()
            s = reanalyze_dask(path, f"{out}.{boot}.parquet", scheduler=client, bootstrap=boot,
                               n_resamples=n_resamples, progress=False)
            res["runs"][boot] = {"seconds": time.perf_counter() - t2, "rows": s.rows_read,
                                 "tests": s.output_rows}
        res["worker_maxrss_mb"] = sum(client.run(_maxrss_mb).values())
    return res


def _child_reference_case(path, out, subset, n_resamples):
    from scipy import stats
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import proportions_ztest

    t0 = time.perf_counter()
    groups, n_exp = _read_groups(path)
    it = iter(groups)
    first = next(it)  # pandas sorts the whole frame by group here: a one-off cost
    t_read = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    t_core = t_boot = 0.0
    p, p_adj, p_mw, ci = [], [], [], []
    k = 0
    tc = time.perf_counter()
    for _, g in itertools.chain([first], itertools.islice(it, subset - 1)):
        is_t = (g["variant"] == "treatment").to_numpy()
        ps = []
        arms = {}
        for metric in ("conversion", "revenue"):  # fastinf's output order
            y = g[metric].to_numpy(np.float64)
            yt, yc = y[is_t], y[~is_t]
            arms[metric] = yt, yc
            if metric == "conversion":
                ps.append(proportions_ztest([yt.sum(), yc.sum()], [yt.size, yc.size])[1])
            else:
                # CUPED: theta from all units of the experiment, then Welch on y - theta (x - xbar)
                x = g["pre_revenue"].to_numpy(np.float64)
                theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
                adj = y - theta * (x - x.mean())
                ps.append(stats.ttest_ind(adj[is_t], adj[~is_t], equal_var=False).pvalue)
            p_mw.append(stats.mannwhitneyu(yt, yc).pvalue)
        p_adj.extend(multipletests(ps, method="fdr_bh")[1])
        p.extend(ps)
        tb = time.perf_counter()
        for yt, yc in arms.values():
            ci.append(stats.bootstrap((yt, yc), mean_diff, n_resamples=n_resamples,
                                      method="percentile", rng=rng).confidence_interval)
        t_boot += time.perf_counter() - tb
        k += 1
    t_core = time.perf_counter() - tc - t_boot
    return {"read_seconds": t_read, "core_seconds": t_core, "boot_seconds": t_boot,
            "experiments": n_exp, "subset": k, "p": p, "p_adj": p_adj, "p_mw": p_mw,
            "ci": [[float(c.low), float(c.high)] for c in ci], "first_id": int(first[0])}


def _same_tables(a, b):
    """Whether two tables hold the same columns and values, bit for bit (NaN equal to NaN)."""
    import pyarrow as pa

    if a.schema.names != b.schema.names or a.num_rows != b.num_rows:
        return False
    for x, y in zip(a.columns, b.columns, strict=True):
        if pa.types.is_floating(x.type) and pa.types.is_floating(y.type):
            xv, yv = x.to_numpy(), y.to_numpy()
            if xv.tobytes() != yv.tobytes() and not np.array_equal(xv, yv, equal_nan=True):
                return False
        elif not x.equals(y):
            return False
    return True


def _units_case(args, cores):
    import shutil

    cfg = dict(UNITS_QUICK if args.quick else UNITS_FULL)
    for name in ("unit_rows", "experiments", "subset"):
        if getattr(args, name):
            cfg[name] = getattr(args, name)
    B = args.boot_resamples
    tmp = tempfile.mkdtemp(prefix="fastinf-units-case-")
    try:
        path = os.path.join(tmp, "units.parquet")
        print(f"generating {cfg['unit_rows']:,} units in {cfg['experiments']:,} experiments ...",
              file=sys.stderr)
        t0 = time.perf_counter()
        rows = make_units_archive(path, cfg["unit_rows"], cfg["experiments"])
        t_gen = time.perf_counter() - t0
        size_mb = os.path.getsize(path) / 2**20
        tests = 2 * cfg["experiments"]
        out = os.path.join(tmp, "out")
        runs = []
        for boot in ("none", "poisson"):
            print(f"fastinf local engine (bootstrap={boot}) ...", file=sys.stderr)
            runs.append((boot, _spawn("fastinf-case", path, f"{out}.{boot}.parquet", boot, B)))
        dask = None
        if args.dask_bootstrap != "skip":
            print(f"fastinf dask engine, {args.workers} workers ...", file=sys.stderr)
            dask = _spawn("dask-case", path, out + ".dask", B, args.workers, args.dask_bootstrap)
        print("pandas + scipy/statsmodels loop ...", file=sys.stderr)
        ref = _spawn("reference-case", path, out, cfg["subset"], B)
        import pyarrow.parquet as pq

        ours = pq.read_table(f"{out}.none.parquet")
        boot_ci = pq.read_table(f"{out}.poisson.parquet",
                                columns=["boot_ci_low", "boot_ci_high"]).slice(0, 2 * ref["subset"])
        same = {}
        if dask is not None and "error" not in dask:
            for boot in dask["runs"]:
                same[boot] = _same_tables(pq.read_table(f"{out}.dask.{boot}.parquet"),
                                          pq.read_table(f"{out}.{boot}.parquet"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    k = ref["subset"]
    n = 2 * k
    ids = ours.column("experiment_id").to_numpy()[:n]
    metric = ours.column("metric").to_pylist()[:n]
    assert ids[0] == ref["first_id"] and (ids == np.repeat(ids[::2], 2)).all()
    assert metric == ["conversion", "revenue"] * k
    gaps = {name: float(np.max(np.abs(np.asarray(ref[key]) -
                                      ours.column(col).to_numpy()[:n])))
            for name, key, col in (("t/z", "p", "p_value"), ("BH", "p_adj", "p_value_adjusted"),
                                   ("Mann-Whitney", "p_mw", "mannwhitney_p_value"))}
    ci_ref = np.asarray(ref["ci"])
    ci_ours = np.stack([boot_ci.column(c).to_numpy() for c in ("boot_ci_low", "boot_ci_high")],
                       axis=1)
    ci_gap = float(np.median(np.abs(ci_ours - ci_ref) / (ci_ref[:, 1:] - ci_ref[:, :1])))
    scale = ref["experiments"] / k
    t_ref = ref["read_seconds"] + ref["core_seconds"] * scale
    t_ref_b = t_ref + ref["boot_seconds"] * scale
    print(f"unit-level archive: {ref['experiments']:,} experiments, {rows:,} unit rows "
          f"({size_mb:.0f} MiB Parquet, generated in {t_gen:.1f} s), {tests:,} tests "
          f"(experiment x metric: revenue Welch+CUPED, conversion z; Mann-Whitney; BH per "
          f"experiment); cores: {cores}; reference loop timed on {k} experiments and "
          f"extrapolated (read + groupby {ref['read_seconds']:.2f} s measured in full); "
          f"max |p fastinf - p reference| on them: "
          + ", ".join(f"{name} {g:.1e}" for name, g in gaps.items())
          + f"; bootstrap interval ends, median |fastinf Poisson - scipy percentile| / width: "
          f"{ci_gap:.3f} (Monte-Carlo noise of two {B}-resample estimates)"
          + "".join(f"; Dask output {'==' if ok else '!='} local output ({boot})"
                    for boot, ok in same.items()) + "\n")
    print("| case | seconds | ratio | unit rows/s | tests/s/core | peak RSS (MiB) |")
    print("|---|---:|---:|---:|---:|---:|")

    def row(name, t, ref_t, rss):
        print(f"| {name} | {t:.3g} | {ref_t / t:.1f}x | {rows / t:.3g} | "
              f"{tests / (t * cores):.3g} | {rss} |")

    rss_ref = f"{ref['maxrss_mb']:.0f} (subset loop)"
    row("pandas groupby + scipy/statsmodels loop, no bootstrap (extrapolated)", t_ref, t_ref,
        rss_ref)
    row(f"pandas groupby + scipy loop + `bootstrap(percentile, {B})` (extrapolated)", t_ref_b,
        t_ref_b, rss_ref)
    refs = {"none": t_ref, "poisson": t_ref_b}
    label = {"none": "no bootstrap", "poisson": f"Poisson bootstrap ({B})"}
    for boot, res in runs:
        row(f"fastinf reanalyze (local), {label[boot]}", res["seconds"], refs[boot],
            f"{res['maxrss_mb']:.0f}")
    if dask is not None:
        w = args.workers
        if "error" in dask:
            print(f"| fastinf reanalyze_dask, {w} workers | n/a (unit-level dask route not "
                  "available) | | | | |")
            print(f"\ndask error: {dask['error']}", file=sys.stderr)
        else:
            for boot, res in dask["runs"].items():
                row(f"fastinf reanalyze_dask, {w} workers, {label[boot]}", res["seconds"],
                    refs[boot], f"{dask['maxrss_mb']:.0f} client + "
                    f"{dask['worker_maxrss_mb']:.0f} workers")
            print(f"\nDask: cluster start-up ({w} worker processes) {dask['startup_seconds']:.1f} s; "
                  f"the workers' first call (tiny archive: kernel cache load) "
                  f"{dask['warmup_seconds']:.1f} s; neither is in the rows above.")
    return None


def _child(argv):
    import resource

    mode, path, out = argv[:3]
    if mode == "reference":
        res = _child_reference(path, out, int(argv[3]))
    elif mode == "reference-units":
        res = _child_reference_units(path, out, int(argv[3]))
    elif mode == "fastinf-units":
        res = _child_fastinf_units(path, out, argv[3])
    elif mode == "fastinf-case":
        res = _child_fastinf_case(path, out, argv[3], int(argv[4]))
    elif mode == "dask-case":
        res = _child_dask_case(path, out, int(argv[3]), int(argv[4]), argv[5])
    elif mode == "reference-case":
        res = _child_reference_case(path, out, int(argv[3]), int(argv[4]))
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
    parser.add_argument("--experiments", type=int,
                        help="archive size (overrides the preset; with --units-case: the "
                        "unit-level archive's experiments, 10_000)")
    parser.add_argument("--subset", type=int, help="experiments timed in the reference loop")
    parser.add_argument("--no-units", action="store_true", help="skip the unit-level table")
    parser.add_argument("--units-case", action="store_true",
                        help="run (only) issue 5's case: a large unit-level archive end to end")
    parser.add_argument("--unit-rows", type=int, help="--units-case: unit rows (50_000_000)")
    parser.add_argument("--boot-resamples", type=int, default=200,
                        help="--units-case: resamples of the bootstrap rows (200)")
    parser.add_argument("--workers", type=int, default=2,
                        help="--units-case: Dask worker processes (2)")
    parser.add_argument("--dask-bootstrap", choices=("none", "poisson", "both", "skip"),
                        default="both", help="--units-case: the Dask rows (both)")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child)
    if args.units_case:
        return _units_case(args, len(os.sched_getaffinity(0)))
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
