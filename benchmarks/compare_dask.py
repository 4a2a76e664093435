"""Time ``fastinf reanalyze`` with the local engine against the Dask engine with 2 workers.

Usage, from the repository root::

    python benchmarks/compare_dask.py --quick   # 5 000 experiments, seconds
    python benchmarks/compare_dask.py           # the issue's archive, a minute or two

The archive is ``compare_reanalyze.py``'s: 100 000 experiments x 5 metrics
x 2 or 3 arms (about 1.25 M input rows, 1.5 M tests) in Parquet, row groups
of 100 000 rows. Cases: the local engine (``fastinf.reanalyze.reanalyze``)
and the Dask engine (``fastinf.dask.reanalyze_dask``) on a
``distributed.LocalCluster`` of 2 worker processes with
``cores // 2`` Numba threads each, for BH per experiment and per metric
(the archive-wide family: raw p-values gathered, corrected on the client,
decisions on the workers). The cluster's start-up is timed apart (a
long-running cluster pays it once); every case is timed after a warm-up run
on a tiny archive (kernels compiled or loaded from the cache, in the client
and in both workers). A unit-level archive (``compare_reanalyze.py``'s
``make_units_archive``: 2 M units of 2 000 experiments, quick: 200 000 of
200) is timed the same way with the Poisson bootstrap (199 resamples):
partitions of whole experiments, straddling rows moved, every column on the
worker owning the experiment. Each engine's output is checked to be
identical to the local engine's. The host may be shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

FULL = {"experiments": 100_000, "units": 2_000_000, "unit_experiments": 2_000}
QUICK = {"experiments": 5_000, "units": 200_000, "unit_experiments": 200}
UNIT_CHUNK = 1 << 18  # units per partition (and per local chunk)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small archive")
    parser.add_argument("--experiments", type=int, help="archive size (overrides the preset)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    args = parser.parse_args(argv)
    import pyarrow.parquet as pq
    from compare_reanalyze import make_archive, make_units_archive

    from fastinf import dask as FD
    from fastinf.reanalyze import reanalyze

    cfg = dict(QUICK if args.quick else FULL)
    if args.experiments:
        cfg["experiments"] = args.experiments
    cores = len(os.sched_getaffinity(0))
    rows_table = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "archive.parquet")
        tiny = os.path.join(tmp, "tiny.parquet")
        print(f"generating {cfg['experiments']:,} experiments ...", file=sys.stderr)
        rows, tests = make_archive(path, cfg["experiments"])
        make_archive(tiny, 50, seed=1, row_group_size=40)
        upath = os.path.join(tmp, "units.parquet")
        utiny = os.path.join(tmp, "units_tiny.parquet")
        units = make_units_archive(upath, cfg["units"], cfg["unit_experiments"],
                                   row_group_rows=1 << 16)
        make_units_archive(utiny, 2_000, 4, seed=1)
        chunk = 100_000  # one partition per row group, as the local engine's chunks
        t0 = time.perf_counter()
        with FD._client(None, args.workers, 1, 10.0) as client:
            t_start = time.perf_counter() - t0
            plan = FD._thread_plan(client)
            for family in ("experiment", "metric"):
                reanalyze(tiny, tiny + ".l", family=family, progress=False)
                FD.reanalyze_dask(tiny, tiny + ".d", family=family, scheduler=client, chunk_rows=40,
                                  progress=False)
                t = time.perf_counter()
                reanalyze(path, os.path.join(tmp, "l.parquet"), family=family,
                          chunk_rows=chunk, progress=False)
                t_local = time.perf_counter() - t
                t = time.perf_counter()
                FD.reanalyze_dask(path, os.path.join(tmp, "d.parquet"), family=family,
                                  chunk_rows=chunk, scheduler=client, progress=False)
                t_dask = time.perf_counter() - t
                same = pq.read_table(os.path.join(tmp, "l.parquet")).equals(
                    pq.read_table(os.path.join(tmp, "d.parquet")))
                rows_table.append((f"BH per {family}", rows, tests, t_local, t_dask, same))
            kw = dict(bootstrap="poisson", n_resamples=199, chunk_rows=UNIT_CHUNK)
            reanalyze(utiny, utiny + ".l", progress=False, **kw)
            FD.reanalyze_dask(utiny, utiny + ".d", scheduler=client, progress=False, **kw)
            t = time.perf_counter()
            s = reanalyze(upath, os.path.join(tmp, "ul.parquet"), progress=False, **kw)
            t_local = time.perf_counter() - t
            t = time.perf_counter()
            FD.reanalyze_dask(upath, os.path.join(tmp, "ud.parquet"), scheduler=client,
                              progress=False, **kw)
            t_dask = time.perf_counter() - t
            same = pq.read_table(os.path.join(tmp, "ul.parquet")).equals(
                pq.read_table(os.path.join(tmp, "ud.parquet")))
            rows_table.append(("unit-level, Poisson bootstrap", units, s.output_rows, t_local,
                               t_dask, same))
    print(f"archive: {cfg['experiments']:,} experiments, {rows:,} rows, {tests:,} tests; "
          f"unit-level: {units:,} units of {cfg['unit_experiments']:,} experiments; "
          f"cores: {cores}; Dask: {args.workers} worker processes x 1 thread, "
          f"{sorted(set(plan.values()))} Numba threads each; cluster start {t_start:.2f} s "
          "(not in the times)\n")
    print("| case | seconds | ratio | input rows/s | tests/s/core | output identical |")
    print("|---|---:|---:|---:|---:|---|")
    for case, n_in, n_out, t_local, t_dask, same in rows_table:
        for name, t in ((f"local engine, {case}", t_local),
                        (f"Dask engine, {args.workers} workers, {case}", t_dask)):
            print(f"| {name} | {t:.3g} | {t_local / t:.2f}x | {n_in / t:.3g} | "
                  f"{n_out / (t * cores):.3g} | {'yes' if same else 'NO'} |")


if __name__ == "__main__":
    main()
