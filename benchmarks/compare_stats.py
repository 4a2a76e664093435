"""Time fastinf.stats against scipy/statsmodels on the issue's sizes; print a markdown table.

Run from the repository root::

    python -m benchmarks.compare_stats [--quick]

fastinf: one warm-up call (compile or load the kernels), then the best of 3.
Reference: one call; where the reference has no batched form it loops in
Python over a subset of the experiments and the time is extrapolated
linearly to all of them (marked "extrapolated"). Throughput is elements (or
tests) per second per core for fastinf, cores = ``len(os.sched_getaffinity(0))``.
The host may be shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from . import DATA_SEED, ragged_arrays
from .bench_stats import matrix, proportions, summaries, tables


def _best(run, repeat=3):
    run()
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def _once(run):
    t0 = time.perf_counter()
    run()
    return time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    args = parser.parse_args(argv)
    q = args.quick
    cores = len(os.sched_getaffinity(0))

    import scipy.stats as ss
    from statsmodels.stats.proportion import proportions_ztest as sm_ztest

    from fastinf import Ragged
    from fastinf import stats as fs

    rows = []

    def add(case, ref_s, fast_s, elements, unit, note=""):
        rows.append((case, ref_s, fast_s, ref_s / fast_s, elements / fast_s / cores, unit, note))

    # 1. Welch t from summaries.
    n = 10_000 if q else 1_000_000
    data = summaries(n)
    add(f"Welch t from summaries, {n:,} tests",
        _once(lambda: ss.ttest_ind_from_stats(*data, equal_var=False)),
        _best(lambda: fs.ttest_ind_from_stats(*data, equal_var=False)), n, "tests")

    # 2. Welch ttest_ind on a matrix along the last axis.
    e, m = (1_000, 200) if q else (100_000, 200)
    a, b = matrix(e, m)
    add(f"Welch ttest_ind ({e:,}, {m}) x2, axis=-1",
        _once(lambda: ss.ttest_ind(a, b, axis=-1, equal_var=False)),
        _best(lambda: fs.ttest_ind(a, b, axis=-1, equal_var=False)), 2 * e * m, "elements")


    # 3. Ragged t tests vs a scipy loop over a subset.
    n_exp = 200 if q else 10_000
    sub = min(n_exp, 200 if q else 500)
    xs = ragged_arrays(n_exp, 100, 2000)
    ys = ragged_arrays(n_exp, 100, 2000, seed=DATA_SEED + 7)
    ra, rb = Ragged.from_arrays(xs), Ragged.from_arrays(ys)
    ref = _once(lambda: [ss.ttest_ind(x, y, equal_var=False)
                         for x, y in zip(xs[:sub], ys[:sub], strict=True)]) * n_exp / sub
    add(f"Welch ttest_ind, {n_exp:,} ragged experiments of 100..2 000",
        ref, _best(lambda: fs.ttest_ind(ra, rb, equal_var=False)),
        ra.values.size + rb.values.size, "elements", f"scipy loop on {sub}, extrapolated")


    # 4. chi2_contingency on 2x2 tables vs a scipy loop over a subset.
    n_tab = 1_000 if q else 100_000
    sub = min(n_tab, 1_000 if q else 2_000)
    t = tables(n_tab)
    ref = _once(lambda: [ss.chi2_contingency(x) for x in t[:sub]]) * n_tab / sub
    add(f"chi2_contingency, {n_tab:,} 2x2 tables", ref,
        _best(lambda: fs.chi2_contingency(t, batch=True)), n_tab, "tables",
        f"scipy loop on {sub:,}, extrapolated")

    # 5. proportions_ztest batched vs a statsmodels loop over a subset.
    n = 10_000 if q else 1_000_000
    sub = min(n, 1_000 if q else 5_000)
    count, nobs = proportions(n)
    ref = _once(lambda: [sm_ztest(c, k) for c, k in zip(count[:sub], nobs[:sub],
                                                          strict=True)]) * n / sub
    add(f"proportions_ztest, {n:,} two-sample tests", ref,
        _best(lambda: fs.proportions_ztest(count, nobs, batch=True)), n, "tests",
        f"statsmodels loop on {sub:,}, extrapolated")

    print(f"cores: {cores}\n")
    print("| case | reference (s) | fastinf (s) | ratio | fastinf throughput (per s per core) | note |")
    print("|---|---:|---:|---:|---:|---|")
    for case, r, f, ratio, thr, unit, note in rows:
        print(f"| {case} | {r:.4g} | {f:.4g} | {ratio:.1f}x | {thr:.3g} {unit} | {note} |")


if __name__ == "__main__":
    main()
