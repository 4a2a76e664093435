"""Time fastinf.mixture and sklearn.mixture on the issue's cases; print a markdown table.

Usage, from the repository root::

    python benchmarks/compare_mixture.py --quick   # small sizes, seconds
    python benchmarks/compare_mixture.py           # the issue's sizes, a few minutes

Cases:

* ``GaussianMixture.fit``, n = 1 000 000, d = 2, k = 5, full covariance,
  100 EM iterations: both start from the same explicit initialisation
  (``weights_init``, ``means_init``, ``precisions_init``) with ``tol=0``,
  so both run exactly 100 iterations (checked on ``n_iter_``), and the
  table reports the largest relative difference of the fitted means.
  scikit-learn runs once; ``--ref-iter`` times it on fewer iterations and
  extrapolates linearly (marked "extrapolated").
* 10 000 independent 1-D mixtures of 1 000 points, k = 2, default
  ('kmeans') initialisation: one ``fastinf.mixture.fit_batch`` call against
  a loop of ``sklearn.mixture.GaussianMixture(2).fit``, timed on the first
  ``--subset`` experiments and extrapolated to all (marked "extrapolated").

fastinf is warmed up once and timed best of 3; scikit-learn once.
Throughput is points x EM iterations per second per core
(``cores = len(os.sched_getaffinity(0))``; fastinf uses every core, and
scikit-learn's BLAS calls may too). The host may be shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

import numpy as np

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

from benchmarks import best_time, timed  # noqa: E402
from benchmarks.bench_mixture import batch_data, gmm_data, gmm_start  # noqa: E402

FULL = {"n": 1_000_000, "iter": 100, "experiments": 10_000, "subset": 200}
QUICK = {"n": 50_000, "iter": 20, "experiments": 500, "subset": 40}


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--ref-iter", type=int, default=None,
                        help="scikit-learn iterations actually run for the big case")
    parser.add_argument("--subset", type=int, default=None,
                        help="experiments scikit-learn fits in the batch case")
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.subset:
        cfg["subset"] = args.subset
    from sklearn.mixture import GaussianMixture as SkGM

    from fastinf.mixture import GaussianMixture, fit_batch

    cores = len(os.sched_getaffinity(0))
    rows = []

    # ---- one big mixture, fixed iterations --------------------------------
    n, iters = cfg["n"], cfg["iter"]
    ref_iter = min(args.ref_iter or iters, iters)
    print(f"GaussianMixture n={n} ...", file=sys.stderr)
    X = gmm_data(n)
    start = gmm_start(X)
    ours = GaussianMixture(5, tol=0.0, max_iter=iters, **start)
    t_ours = best_time(lambda: _quiet(lambda: ours.fit(X)))
    assert ours.n_iter_ == iters, ours.n_iter_
    ref = SkGM(5, tol=0.0, max_iter=ref_iter, **start)
    t_ref, _ = timed(lambda: _quiet(lambda: ref.fit(X)))
    assert ref.n_iter_ == ref_iter, ref.n_iter_
    t_ref *= iters / ref_iter
    if ref_iter == iters:
        gap = np.max(np.abs(ours.means_ - ref.means_) / np.abs(ref.means_))
        note = f"both {iters} iterations; max rel diff of means {gap:.1e}"
    else:
        note = f"scikit-learn: {ref_iter} iterations timed, extrapolated to {iters}"
    rows.append((f"GaussianMixture.fit, n={n:,}, d=2, k=5, full, {iters} iterations ({note})",
                 t_ref, t_ours, n * iters))

    # ---- many small 1-D mixtures -----------------------------------------
    E, k = cfg["experiments"], min(cfg["subset"], cfg["experiments"])
    print(f"fit_batch {E} x 1000 ...", file=sys.stderr)
    x = batch_data(E)
    t_ours = best_time(lambda: fit_batch(x, 2, random_state=0))
    res = fit_batch(x, 2, random_state=0)

    def ref_loop():
        return [SkGM(2, random_state=0).fit(row[:, None]).n_iter_ for row in x[:k]]

    t_sub, ref_iters = timed(lambda: _quiet(ref_loop))
    t_ref = t_sub * E / k
    work = int(res.n_iter_.sum()) * x.shape[1]
    rows.append((f"{E:,} independent 1-D mixtures of 1,000 points, k=2 (scikit-learn: loop "
                 f"over {k} timed, extrapolated; mean iterations fastinf "
                 f"{res.n_iter_.mean():.2f}, scikit-learn {np.mean(ref_iters):.2f})",
                 t_ref, t_ours, work))

    print(f"cores: {cores}; fastinf best of 3 after a warm-up, scikit-learn once\n")
    print("| case | scikit-learn (s) | fastinf (s) | ratio | fastinf throughput "
          "(points x iterations/s/core) |")
    print("|---|---:|---:|---:|---:|")
    for case, t_ref, t_ours, size in rows:
        print(f"| {case} | {t_ref:.3g} | {t_ours:.3g} | {t_ref / t_ours:.1f}x | "
              f"{size / (t_ours * cores):.3g} |")


if __name__ == "__main__":
    main()
