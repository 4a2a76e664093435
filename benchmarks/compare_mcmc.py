"""Time fastinf.mcmc.metropolis and NumPy samplers on the issue's case; print a markdown table.

Usage, from the repository root::

    python benchmarks/compare_mcmc.py --quick   # 500 problems x 1 000 draws, seconds
    python benchmarks/compare_mcmc.py           # the issue's size, a few minutes

Case: 10 000 Metropolis problems, 2 parameters (the "normal" target: the
posterior of a normal mean and log standard deviation given 50 observations
per problem, flat priors), 4 chains each, 1 000 warm-up steps with
adaptation, 5 000 kept draws per chain (2.4e8 steps, 2e8 kept draws).

References, same target and same adaptation scheme
(:func:`benchmarks.bench_mcmc.numpy_metropolis_normal`):

* NumPy vectorised across ALL chains of all problems at once (40 000
  chains per array operation): the strongest NumPy baseline;
* NumPy vectorised across the 4 chains of one problem, looped over the
  problems (the usual way to write it), timed on ``--subset`` problems and
  extrapolated linearly to all of them.

fastinf is warmed up once (compile or load from the cache) and timed best of
``--repeat``; NumPy once. "draws/s" counts kept draws (chains x draws) per
second of wall time; "per core" divides by ``cores =
len(os.sched_getaffinity(0))`` for fastinf (NumPy runs on one core). The
accuracy column is the largest error of the posterior means over the
problems against the exact posterior (mu: the sample mean; log sigma: its
closed form under the flat prior), in posterior standard deviations. The
host may be shared: figures are noisy.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time

import numpy as np

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, _REPO)

from benchmarks.bench_mcmc import normal_problems, numpy_metropolis_normal  # noqa: E402

FULL = {"problems": 10_000, "chains": 4, "draws": 5000, "warmup": 1000, "subset": 20}
QUICK = {"problems": 500, "chains": 4, "draws": 1000, "warmup": 500, "subset": 10}


def _exact(data):
    from scipy import special

    x = data[:, :, 0]
    n = x.shape[1]
    nu = n - 1
    s = x.std(axis=1, ddof=1)
    mean = np.stack([x.mean(axis=1), np.log(s) + (np.log(nu) - np.log(2)
                                                  - special.digamma(nu / 2)) / 2], axis=1)
    sd = np.stack([s / np.sqrt(n) * np.sqrt(nu / (nu - 2)),
                   np.full(x.shape[0], np.sqrt(special.polygamma(1, nu / 2) / 4))], axis=1)
    return mean, sd


def _error(means, exact):
    mean, sd = exact
    return float(np.max(np.abs(means - mean) / sd))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--repeat", type=int, default=3, help="fastinf calls to time")
    parser.add_argument("--skip-loop", action="store_true", help="skip the per-problem loop")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    import numba

    from fastinf.mcmc import default_target_accept, metropolis

    cores = len(os.sched_getaffinity(0))
    e, c, n, w = cfg["problems"], cfg["chains"], cfg["draws"], cfg["warmup"]
    data = normal_problems(e)
    exact = _exact(data)
    target = default_target_accept(2)
    kept = e * c * n
    rows = []

    print("fastinf ...", file=sys.stderr)
    metropolis("normal", data[:4], n_chains=c, n_draws=10, n_warmup=10, rng=1)
    best = np.inf
    for r in range(args.repeat):
        t0 = time.perf_counter()
        res = metropolis("normal", data, n_chains=c, n_draws=n, n_warmup=w, rng=r)
        best = min(best, time.perf_counter() - t0)
        err = _error(res.mean(), exact)
        acc = float(res.acceptance_rate.mean())
        del res
        gc.collect()
    rows.append((f"fastinf, {numba.get_num_threads()} threads", best, cores, err, acc))

    print("numpy, all chains at once ...", file=sys.stderr)
    t0 = time.perf_counter()
    out = numpy_metropolis_normal(data, c, n, w, target)
    t_np = time.perf_counter() - t0
    means = out.reshape(n, 2, e, c).mean(axis=(0, 3)).T
    rows.append(("NumPy, vectorised across all 40 000 chains" if e == 10_000 else
                 f"NumPy, vectorised across all {e * c} chains", t_np, 1,
                 _error(means, exact), float("nan")))
    del out
    gc.collect()

    if not args.skip_loop:
        k = min(cfg["subset"], e)
        print(f"numpy, loop over {k} problems ...", file=sys.stderr)
        t0 = time.perf_counter()
        sub = []
        for i in range(k):
            o = numpy_metropolis_normal(data[i : i + 1], c, n, w, target, seed=i)
            sub.append(o.mean(axis=(0, 2)))
        t_loop = (time.perf_counter() - t0) * e / k
        err = _error(np.array(sub), (exact[0][:k], exact[1][:k]))
        rows.append((f"NumPy, vectorised across the {c} chains of a problem, loop over "
                     f"problems ({k} timed, extrapolated)", t_loop, 1, err, float("nan")))

    t_ours = rows[0][1]
    print(f"case: {e:,} problems x 2 parameters x {c} chains x {n:,} kept draws "
          f"({w:,} warm-up steps); {kept:,} kept draws, {e * c * (n + w):,} steps")
    print(f"cores: {cores}; fastinf best of {args.repeat} after a warm-up, NumPy once; "
          f"fastinf mean acceptance {rows[0][4]:.3f} (target {target:.3f})\n")
    print("| implementation | seconds | fastinf speed-up | kept draws/s | draws/s/core "
          "| max error of posterior means (posterior sds) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, t, n_cores, err, _ in rows:
        print(f"| {name} | {t:.3g} | {t / t_ours:.1f}x | {kept / t:.3g} | "
              f"{kept / (t * n_cores):.3g} | {err:.3f} |")


if __name__ == "__main__":
    main()
