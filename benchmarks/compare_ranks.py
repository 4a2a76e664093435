"""Time fastinf and the reference on the rank / ECDF / drift cases; print a markdown table.

Usage, from the repository root::

    python benchmarks/compare_ranks.py --quick   # small sizes, a few seconds
    python benchmarks/compare_ranks.py           # the issue's sizes, about a minute

Cases (full sizes):

* Mann-Whitney U over 2 000 Ragged experiments of 500 to 20 000 units per arm
  against a loop of ``scipy.stats.mannwhitneyu``. The scipy loop is timed on
  the first ``--subset`` experiments (default 200; sizes are drawn
  independently, so they are a random subset) and scaled by
  ``2000 / subset``; the table says so.
* ``ks_2samp`` of 1 000 features x 10 000 observations per sample (2-D,
  ``axis=-1``) against scipy's own ``axis=-1`` call.
* ``psi`` of 1 000 features x 10 000 observations against a NumPy loop
  (``np.quantile`` + ``np.histogram`` per feature, the tests' reference).

fastinf gets a warm-up call first (compile or load the kernels), then the best
of 3; the reference is timed once. Throughput is observations (all samples of
all experiments) per second per core, ``cores = len(os.sched_getaffinity(0))``.
The host may be shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

FULL = {"mwu": (2000, 500, 20000), "subset": 200, "ks": (1000, 10000), "psi": (1000, 10000)}
QUICK = {"mwu": (200, 100, 2000), "subset": 50, "ks": (100, 2000), "psi": (100, 2000)}


def _best(f, repeat=3):
    f()  # warm-up: compile or load the kernels
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def _once(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def naive_psi(reference, current, bins=10, epsilon=1e-4):
    """The NumPy reference of the tests (quantile edges, histogram counts)."""
    cuts = np.unique(np.quantile(reference, np.arange(1, bins) / bins))
    edges = np.concatenate(([-np.inf], cuts, [np.inf]))
    r_counts, _ = np.histogram(reference, edges)
    c_counts, _ = np.histogram(current, edges)
    r = r_counts / reference.size
    c = c_counts / current.size
    r[r_counts == 0] = epsilon
    c[c_counts == 0] = epsilon
    return float(np.sum((c - r) * np.log(c / r)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--subset", type=int, default=None,
                        help="experiments of the scipy Mann-Whitney loop to time")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    subset = args.subset or cfg["subset"]

    from scipy import stats

    from benchmarks import DATA_SEED, ragged_arrays
    from fastinf import Ragged
    from fastinf.drift import psi
    from fastinf.ranks import ks_2samp, mannwhitneyu

    cores = len(os.sched_getaffinity(0))
    rows = []

    # Mann-Whitney U, ragged
    n_exp, low, high = cfg["mwu"]
    xs = ragged_arrays(n_exp, low, high, seed=DATA_SEED)
    ys = [a + 0.01 for a in ragged_arrays(n_exp, low, high, seed=DATA_SEED + 2)]
    rx, ry = Ragged.from_arrays(xs), Ragged.from_arrays(ys)
    n_obs = rx.values.size + ry.values.size
    t_fast = _best(lambda: mannwhitneyu(rx, ry))
    k = min(subset, n_exp)
    t_sub = _once(lambda: [stats.mannwhitneyu(a, b) for a, b in zip(xs[:k], ys[:k], strict=True)])
    t_ref = t_sub * n_exp / k
    ours = mannwhitneyu(rx, ry).pvalue[:k]
    theirs = np.array([stats.mannwhitneyu(a, b).pvalue for a, b in zip(xs[:k], ys[:k], strict=True)])
    assert np.allclose(ours, theirs, rtol=1e-12, atol=0)
    rows.append((f"mannwhitneyu, {n_exp} ragged experiments, {low}-{high} per arm "
                 f"(scipy loop on {k}, x{n_exp / k:g})", t_ref, t_fast, n_obs))

    # KS, 2-D along axis=-1
    n_feat, n = cfg["ks"]
    rng = np.random.default_rng(DATA_SEED)
    a = rng.normal(size=(n_feat, n))
    b = rng.normal(loc=0.01, size=(n_feat, n))
    t_fast = _best(lambda: ks_2samp(a, b, axis=-1))
    ref = None

    def scipy_ks():
        nonlocal ref
        ref = stats.ks_2samp(a, b, axis=-1)

    t_ref = _once(scipy_ks)
    res = ks_2samp(a, b, axis=-1)
    assert np.allclose(res.pvalue, ref.pvalue, rtol=1e-12, atol=0)
    rows.append((f"ks_2samp, {n_feat} features x {n} obs per sample (axis=-1, exact)",
                 t_ref, t_fast, 2 * a.size))

    # PSI
    n_feat, n = cfg["psi"]
    ref_x = rng.normal(size=(n_feat, n))
    cur_x = rng.normal(loc=0.05, size=(n_feat, n))
    t_fast = _best(lambda: psi(ref_x, cur_x, axis=-1))
    expected = []
    t_ref = _once(lambda: expected.extend(
        naive_psi(r, c) for r, c in zip(ref_x, cur_x, strict=True)))
    assert np.allclose(psi(ref_x, cur_x, axis=-1).statistic, expected, rtol=1e-12)
    rows.append((f"psi, {n_feat} features x {n} obs (deciles) vs NumPy loop",
                 t_ref, t_fast, 2 * ref_x.size))

    print(f"cores: {cores}; fastinf best of 3 after a warm-up, reference once\n")
    print("| case | reference (s) | fastinf (s) | ratio | fastinf obs/s/core |")
    print("|---|---:|---:|---:|---:|")
    for name, tr, tf, nobs in rows:
        print(f"| {name} | {tr:.3f} | {tf:.4f} | {tr / tf:.1f}x | {nobs / (tf * cores):.3g} |")


if __name__ == "__main__":
    main()
