"""Time fastinf.power and statsmodels.stats.power on the issue's cases; print a markdown table.

Usage, from the repository root::

    python benchmarks/compare_power.py --quick   # small grids, seconds
    python benchmarks/compare_power.py           # the issue's sizes, about a minute

Cases:

* ``solve_power`` for ``nobs1`` over a grid of 100 000 (effect size, alpha,
  power) combinations (100 x 20 x 50), two-sided. statsmodels solves one
  scalar at a time, so it is timed on a subset (the first ``--subset``
  points of the flattened grid) and its time is extrapolated linearly to the
  whole grid (marked "extrapolated" in the table).
* ``power()`` over 1 000 000 grid points (effect 100 x nobs1 1000 x alpha 10),
  against statsmodels' own ``power()``, which is vectorised too.

fastinf is warmed up once and timed best of 3; statsmodels once. Throughput
is grid points per second per core (``cores = len(os.sched_getaffinity(0))``;
neither library uses more than one). The host may be shared: figures are
noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

FULL = {"solve": (100, 20, 50), "subset": {"normal": 2000, "t": 300}, "power": (100, 1000, 10)}
QUICK = {"solve": (20, 10, 10), "subset": {"normal": 200, "t": 50}, "power": (50, 100, 10)}


def _solve_grid(shape):
    e, a, p = shape
    d, alpha, power = np.meshgrid(
        np.linspace(0.05, 1.0, e), np.linspace(0.01, 0.1, a), np.linspace(0.5, 0.95, p),
        indexing="ij",
    )
    return d.ravel(), alpha.ravel(), power.ravel()


def _power_grid(shape):
    e, n, a = shape
    d, n1, alpha = np.meshgrid(
        np.linspace(0.01, 1.0, e), np.linspace(5, 2000, n), np.linspace(0.01, 0.1, a),
        indexing="ij",
    )
    return d.ravel(), n1.ravel(), alpha.ravel()


def _best(fn, repeat=3):
    fn()  # warm-up
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _once(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grids")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    from statsmodels.stats import power as smp

    import fastinf.power as fp

    cores = len(os.sched_getaffinity(0))
    rows = []
    d, alpha, power = _solve_grid(cfg["solve"])
    size = d.size
    for name, ours, ref in (
        ("normal", fp.NormalIndPower(), smp.NormalIndPower()),
        ("t", fp.TTestIndPower(), smp.TTestIndPower()),
    ):
        print(f"solve_power {name} ...", file=sys.stderr)
        k = min(cfg["subset"][name], size)

        def ref_loop(ref=ref, k=k):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return [ref.solve_power(float(d[i]), None, float(alpha[i]), float(power[i]))
                        for i in range(k)]

        t_ref_sub = _once(ref_loop)
        t_ref = t_ref_sub * size / k
        t_ours = _best(lambda ours=ours: ours.solve_power(d, None, alpha, power))
        sub = ours.solve_power(d[:k], None, alpha[:k], power[:k])
        gap = np.nanmax(np.abs(sub - np.asarray(ref_loop())))
        rows.append((f"{name}: solve_power(nobs1) on {size:,} points "
                     f"(statsmodels: {k} timed, extrapolated; max abs diff {gap:.1e})",
                     t_ref, t_ours, size))
    d, n1, alpha = _power_grid(cfg["power"])
    size = d.size
    for name, ours, ref in (
        ("normal", fp.NormalIndPower(), smp.NormalIndPower()),
        ("t", fp.TTestIndPower(), smp.TTestIndPower()),
    ):
        print(f"power {name} ...", file=sys.stderr)
        t_ref = _once(lambda ref=ref: ref.power(d, n1, alpha))
        t_ours = _best(lambda ours=ours: ours.power(d, n1, alpha))
        rows.append((f"{name}: power() on {size:,} points (both vectorised)", t_ref, t_ours, size))

    print(f"cores: {cores}; fastinf best of 3 after a warm-up, statsmodels once\n")
    print("| case | statsmodels (s) | fastinf (s) | ratio | fastinf throughput (points/s/core) |")
    print("|---|---:|---:|---:|---:|")
    for case, t_ref, t_ours, size in rows:
        print(f"| {case} | {t_ref:.3g} | {t_ours:.3g} | {t_ref / t_ours:.1f}x | "
              f"{size / (t_ours * cores):.3g} |")


if __name__ == "__main__":
    main()
