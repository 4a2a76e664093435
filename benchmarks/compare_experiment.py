"""Time the experiment layer against GrowthBook's gbstats engine; print a markdown table.

Usage, from the repository root::

    python benchmarks/compare_experiment.py [--quick] [--gbstats-python PATH]

The case is the issue's: 100 000 experiments x 5 metrics x 2 treatments
(1 000 000 control-vs-treatment tests) from sufficient statistics (n, sum,
sum_sq), mean metrics, Welch's t, with BH over the metrics and treatments of
each experiment. fastinf does it in one :func:`fastinf.experiment.analyze`
call (best of 3 after a warm-up call). gbstats (``TwoSidedTTest`` on
``SampleMeanStatistic``, its frequentist engine, relative effects) answers
one test per call, so it is timed in a loop over ``--gbstats-tests`` tests
and reported per test; its total is that per-test time x 1 000 000. gbstats
pins old NumPy/pandas, so it usually lives in its own virtual environment:
``--gbstats-python`` names that interpreter (default: the current one, if it
imports gbstats), e.g. ``python -m venv /tmp/gbvenv && /tmp/gbvenv/bin/pip
install gbstats``.

A second case is the issue's "Welch t from summaries for 1 000 000
experiments, with BH over all p-values": ``fastinf.stats.ttest_ind_from_stats``
+ ``fastinf.multitest.multipletests(method='fdr_bh')`` against
``scipy.stats.ttest_ind_from_stats`` + statsmodels' ``multipletests``, both
vectorised, same run (best of 3 for both).

Throughput is tests per second per core (cores this process may use).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

GB_CODE = r"""
import sys, time
import numpy as np
from gbstats.frequentist.tests import TwoSidedTTest, FrequentistConfig
from gbstats.models.statistics import SampleMeanStatistic
k = int(sys.argv[1])
rng = np.random.default_rng(7)
n = rng.integers(1000, 5000, size=(k, 2))
mean = rng.normal(10, 1, size=(k, 2))
s = n * mean
ss = s * mean + (n - 1) * 4.0
cfg = FrequentistConfig()
t0 = time.perf_counter()
for i in range(k):
    a = SampleMeanStatistic(n=int(n[i, 0]), sum=float(s[i, 0]), sum_squares=float(ss[i, 0]))
    b = SampleMeanStatistic(n=int(n[i, 1]), sum=float(s[i, 1]), sum_squares=float(ss[i, 1]))
    TwoSidedTTest(a, b, cfg).compute_result()
print((time.perf_counter() - t0) / k)
"""


def _data(E: int, M: int, A: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240601)
    n = rng.integers(1000, 5000, size=(E, M, A)).astype(np.float64)
    mean = rng.normal(10, 1, size=(E, M, A))
    s = n * mean
    ss = s * mean + (n - 1) * 4.0
    return n, s, ss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--gbstats-python", default=sys.executable)
    ap.add_argument("--gbstats-tests", type=int, default=5000)
    args = ap.parse_args()
    E = 10_000 if args.quick else 100_000
    M, A = 5, 3
    cores = len(os.sched_getaffinity(0))

    from fastinf.experiment import analyze

    n, s, ss = _data(E, M, A)
    analyze(n[:10], s[:10], ss[:10])  # compile or load the kernels
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        res = analyze(n, s, ss, correction="fdr_bh", family="experiment")
        best = min(best, time.perf_counter() - t0)
    tests = len(res)
    print(f"fastinf: {tests} tests in {best:.3f} s", file=sys.stderr)

    proc = subprocess.run(
        [args.gbstats_python, "-c", GB_CODE, str(args.gbstats_tests)],
        capture_output=True, text=True, check=False,
    )
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        gb_per_test = float("nan")
    else:
        gb_per_test = float(proc.stdout.strip())
    per_test = best / tests

    # Welch from summaries + BH over all p-values, fastinf vs scipy + statsmodels.
    from scipy import stats as ss_
    from statsmodels.stats.multitest import multipletests as sm_mt

    import fastinf.stats as fs
    from fastinf.multitest import multipletests

    k = 100_000 if args.quick else 1_000_000
    rng = np.random.default_rng(20240602)
    nn = rng.integers(1000, 5000, size=(2, k)).astype(float)
    mm = rng.normal(10, 1, size=(2, k))
    sd = rng.uniform(1, 3, size=(2, k))

    def fast():
        p = fs.ttest_ind_from_stats(mm[0], sd[0], nn[0], mm[1], sd[1], nn[1], equal_var=False).pvalue
        return multipletests(p, method="fdr_bh")[1]

    def ref():
        p = ss_.ttest_ind_from_stats(mm[0], sd[0], nn[0], mm[1], sd[1], nn[1], equal_var=False).pvalue
        return sm_mt(p, method="fdr_bh")[1]

    def best_of(f):
        f()
        b = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            f()
            b = min(b, time.perf_counter() - t0)
        return b

    t_fast, t_ref = best_of(fast), best_of(ref)
    np.testing.assert_allclose(fast(), ref(), rtol=1e-12)
    print("| case | reference | fastinf | ratio | tests/s/core |")
    print("|---|---|---|---|---|")
    print(
        f"| experiment layer, {E:,} experiments x {M} metrics x {A - 1} treatments "
        f"({tests:,} Welch tests + BH per experiment) vs gbstats loop | {gb_per_test * 1e6:.0f} µs/test "
        f"(~{gb_per_test * tests:.0f} s for all; timed on {args.gbstats_tests:,}) | "
        f"{best:.2f} s ({per_test * 1e6:.2f} µs/test) | {gb_per_test / per_test:.0f}x | "
        f"{tests / best / cores:.2e} |"
    )
    print(
        f"| Welch t from summaries, {k:,} experiments, + BH over all p-values "
        f"(scipy ttest_ind_from_stats + statsmodels multipletests) | {t_ref:.3f} s | "
        f"{t_fast:.3f} s | {t_ref / t_fast:.1f}x | {k / t_fast / cores:.2e} |"
    )


if __name__ == "__main__":
    main()
