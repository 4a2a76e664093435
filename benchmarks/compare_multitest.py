"""Time fastinf.multitest and its references on the issue's cases; print a markdown table.

Usage, from the repository root::

    python benchmarks/compare_multitest.py --quick   # small sizes, seconds
    python benchmarks/compare_multitest.py           # the issue's sizes

Cases: (1) ``multipletests`` with ``fdr_bh`` and ``holm`` on one family of
10 000 000 p-values against statsmodels; (2) 200 000 families of 20 (BH
along the last axis) against ``scipy.stats.false_discovery_control(axis=-1)``
and against a loop of statsmodels' ``multipletests`` over the families, timed
on the first 2 000 families and extrapolated linearly (said in the table);
(3) Hommel's method on one family of 30 000 against statsmodels.

fastinf gets a warm-up call first (compile or load the kernels) and the best
of 3 runs; a reference is timed once. Throughput is p-values per second per
core (cores: ``len(os.sched_getaffinity(0))``). On a shared machine the
figures are noisy. The checkout this script lives in is benchmarked.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

FULL = {"large": 10_000_000, "families": 200_000, "loop_subset": 2_000, "hommel": 30_000}
QUICK = {"large": 300_000, "families": 20_000, "loop_subset": 500, "hommel": 3_000}
SEED = 20240601


def _best(f, repeat=3):
    f()
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def _once(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else FULL

    import numpy as np
    from scipy.stats import false_discovery_control as scipy_fdc
    from statsmodels.stats.multitest import multipletests as sm_mt

    from fastinf.multitest import false_discovery_control, multipletests

    cores = len(os.sched_getaffinity(0))
    rng = np.random.default_rng(SEED)
    rows = []

    def row(case, n, ref_name, ref_s, fast_s, note=""):
        rows.append(
            f"| {case} | {ref_name} | {ref_s:.4g} s{note} | {fast_s:.4g} s | "
            f"{ref_s / fast_s:.1f}x | {n / (fast_s * cores):.3g} |"
        )
        print(f"done: {case} vs {ref_name}", file=sys.stderr)

    big = rng.random(size["large"])
    for method in ("fdr_bh", "holm"):
        fast = _best(lambda m=method: multipletests(big, method=m))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = _once(lambda m=method: sm_mt(big, method=m))
        row(f"multipletests {method}, 1 family of {big.size:,}", big.size,
            "statsmodels", ref, fast)


    n_fam = size["families"]
    pf = rng.random((n_fam, 20))
    fast = _best(lambda: false_discovery_control(pf, axis=-1))
    ref = _once(lambda: scipy_fdc(pf, axis=-1))
    row(f"false_discovery_control bh, {n_fam:,} families of 20", pf.size,
        "scipy (axis=-1)", ref, fast)
    fast_mt = _best(lambda: multipletests(pf, method="fdr_bh", axis=-1))
    sub = size["loop_subset"]

    def loop():
        for i in range(sub):
            sm_mt(pf[i], method="fdr_bh")

    ref_loop = _once(loop) * n_fam / sub
    row(f"multipletests fdr_bh, {n_fam:,} families of 20", pf.size,
        "statsmodels loop", ref_loop, fast_mt, note=f" (extrapolated from {sub:,} families)")

    ph = rng.random(size["hommel"])
    fast = _best(lambda: multipletests(ph, method="hommel"))
    ref = _once(lambda: sm_mt(ph, method="hommel"))
    row(f"multipletests hommel, 1 family of {ph.size:,}", ph.size, "statsmodels", ref, fast)

    print(f"cores: {cores}; fastinf best of 3 after a warm-up call, reference timed once; "
          "throughput = p-values / (fastinf seconds x cores). Shared host: noisy.\n")
    print("| case | reference | reference time | fastinf time | speed-up | p-values/s/core |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
