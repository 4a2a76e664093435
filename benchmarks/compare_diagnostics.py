"""Time fastinf.diagnostics and ArviZ on the issue's case; print a markdown table.

Usage, from the repository root::

    python benchmarks/compare_diagnostics.py --quick   # 200 experiments, seconds
    python benchmarks/compare_diagnostics.py           # the issue's size, a few minutes

Case: 10 000 experiments x 2 parameters x 4 chains x 1 000 draws of AR(1)
chains (phi = 0.5), an array of shape (experiments, parameters, chains,
draws): ``rhat`` (rank), ``ess`` (bulk, tail) and ``mcse`` (mean) of every
(experiment, parameter). References, both ArviZ in its default
configuration:

* a loop of ``az.rhat(x[e, p])`` etc. over 2-D (chain, draw) arrays;
* one call on one big Dataset (``az.convert_to_dataset`` of the draws
  moved to (chain, draw, experiment, parameter)), ArviZ's own batching
  (``xarray.apply_ufunc`` around a Python loop over elements).

ArviZ is warmed up by one call, then timed once on the first ``--subset`` experiments and its time
extrapolated linearly to all of them (marked "extrapolated"); fastinf is
warmed up once and timed best of 3 on all of them. Throughput is draws per
second per core (``cores = len(os.sched_getaffinity(0))``; ArviZ uses one).
The host may be shared: figures are noisy.
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

FULL = {"experiments": 10_000, "subset": 100}
QUICK = {"experiments": 200, "subset": 20}
PARAMS, CHAINS, DRAWS = 2, 4, 1000
CASES = [("rhat", "rank"), ("ess", "bulk"), ("ess", "tail"), ("mcse", "mean")]


def ar1_draws(n_experiments, n_params=PARAMS, n_chains=CHAINS, n_draws=DRAWS, phi=0.5,
              seed=20240601):
    """AR(1) draws of shape (experiments, params, chains, draws)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_experiments, n_params, n_chains, n_draws))
    for t in range(1, n_draws):
        x[..., t] += phi * x[..., t - 1]
    return x


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--subset", type=int, default=None,
                        help="experiments ArviZ is timed on")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    n_exp = cfg["experiments"]
    k = min(args.subset or cfg["subset"], n_exp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import arviz as az

    import fastinf.diagnostics as fd

    cores = len(os.sched_getaffinity(0))
    x = ar1_draws(n_exp)
    sub = x[:k]
    ds = az.convert_to_dataset(np.ascontiguousarray(np.moveaxis(sub, (2, 3), (0, 1))))
    n_draws_total = x.size
    rows = []
    for fn_name, method in CASES:
        print(f"{fn_name} {method} ...", file=sys.stderr)
        ours = getattr(fd, fn_name)
        ref = getattr(az, fn_name)
        t_ours = best_time(lambda ours=ours, method=method: ours(x, method=method))

        def loop(ref=ref, method=method):
            out = np.empty(sub.shape[:2])
            for e in range(sub.shape[0]):
                for p in range(sub.shape[1]):
                    out[e, p] = np.ravel(ref(sub[e, p], method=method))[0]
            return out

        def dataset(ref=ref, method=method):
            return ref(ds, method=method)["x"].values

        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ref(sub[0, 0], method=method)  # ArviZ's own Numba helpers compile here
            t_loop, ref_loop = timed(loop)
            t_ds, ref_ds = timed(dataset)
        mine = ours(sub, method=method)
        gap = max(np.max(np.abs(mine - ref_loop) / np.abs(ref_loop)),
                  np.max(np.abs(mine - ref_ds) / np.abs(ref_ds)))
        scale = n_exp / k
        label = f"{fn_name}(method={method!r})"
        rows.append((f"{label}, ArviZ loop over 2-D arrays ({k} experiments timed, "
                     f"extrapolated; max rel diff {gap:.1e})", t_loop * scale, t_ours))
        rows.append((f"{label}, ArviZ on one Dataset ({k} experiments timed, extrapolated)",
                     t_ds * scale, t_ours))

    print(f"cores: {cores}; {n_exp:,} experiments x {PARAMS} parameters x {CHAINS} chains "
          f"x {DRAWS:,} draws ({n_draws_total:,} draws); fastinf best of 3 after a warm-up, "
          "ArviZ once\n")
    print("| case | ArviZ (s) | fastinf (s) | ratio | fastinf throughput (draws/s/core) |")
    print("|---|---:|---:|---:|---:|")
    for case, t_ref, t_ours in rows:
        print(f"| {case} | {t_ref:.3g} | {t_ours:.3g} | {t_ref / t_ours:.1f}x | "
              f"{n_draws_total / (t_ours * cores):.3g} |")


if __name__ == "__main__":
    main()
