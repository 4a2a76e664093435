"""Time fastinf.bayes against scipy quadrature and NumPy Monte-Carlo; print a markdown table.

Usage, from the repository root::

    python benchmarks/compare_bayes.py --quick   # small sizes, under a minute
    python benchmarks/compare_bayes.py           # the issue's 1 000 000 experiments

Data: experiments with trials uniform on [1e3, 1e6] per arm and control
rates uniform on [1 %, 20 %], treatment rates within +-3 % of the control's
(fixed seed). Cases:

* chance to win ``P(p_B > p_A)`` for all experiments (``--size``), fastinf's
  ``beta_binomial_chance_to_win`` against
  (a) a loop of ``scipy.integrate.quad`` of ``f_A(x) (1 - F_B(x))``
      (scipy.stats / scipy.special), timed on the first ``--quad-subset``
      experiments and extrapolated linearly;
  (b) NumPy Monte-Carlo with 10 000 Beta draws per arm and experiment (what
      many platforms do), vectorised in chunks, timed on the first
      ``--mc-subset`` experiments and extrapolated;
* the full result (chance, both expected losses, rate, lift and difference
  intervals), fastinf's ``beta_binomial_ab`` against the same Monte-Carlo
  computing all of them from its draws.

fastinf runs warm, best of 3 (one run at the full size); the references
once. "max |diff|" is fastinf against quad on the quad subset (both exact
to ~1e-13) and the Monte-Carlo error shows in the MC column's own gap.
Throughput is experiments per second per core (``cores =
len(os.sched_getaffinity(0))``; fastinf uses all of them, the references one).
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

FULL = {"size": 1_000_000, "quad": 200, "mc": 2_000}
QUICK = {"size": 20_000, "quad": 50, "mc": 200}
MC_DRAWS = 10_000


def experiments(size: int, seed: int = 20240611):
    """Counts of ``size`` experiments (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n_a = rng.integers(1_000, 1_000_001, size)
    n_b = rng.integers(1_000, 1_000_001, size)
    p_a = rng.uniform(0.01, 0.20, size)
    p_b = p_a * rng.uniform(0.97, 1.03, size)
    return rng.binomial(n_a, p_a), n_a, rng.binomial(n_b, p_b), n_b


def quad_chance(sa, na, sb, nb):
    """Loop of scipy.integrate.quad over experiments (uniform prior)."""
    from scipy import integrate, special, stats

    out = np.empty(len(sa))
    for i in range(len(sa)):
        a1, b1 = sa[i] + 1.0, na[i] - sa[i] + 1.0
        a2, b2 = sb[i] + 1.0, nb[i] - sb[i] + 1.0
        m = a1 / (a1 + b1)
        sd = np.sqrt(m * (1 - m) / (a1 + b1 + 1))
        lo, hi = max(0.0, m - 12 * sd), min(1.0, m + 12 * sd)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[i] = integrate.quad(
                lambda x, a1=a1, b1=b1, a2=a2, b2=b2: stats.beta.pdf(x, a1, b1)
                * special.betaincc(a2, b2, x),
                lo, hi, points=[m], epsabs=1e-14, epsrel=1e-12, limit=200)[0]
    return out


def monte_carlo(sa, na, sb, nb, full: bool, chunk: int = 100, seed: int = 1):
    """NumPy Monte-Carlo, 10 000 Beta draws per arm and experiment."""
    rng = np.random.default_rng(seed)
    size = len(sa)
    chance = np.empty(size)
    losses = np.empty((2, size))
    quant = np.empty((6, size))
    for lo in range(0, size, chunk):
        sl = slice(lo, min(size, lo + chunk))
        k = sl.stop - sl.start
        pa = rng.beta((sa[sl] + 1.0)[:, None], (na[sl] - sa[sl] + 1.0)[:, None], (k, MC_DRAWS))
        pb = rng.beta((sb[sl] + 1.0)[:, None], (nb[sl] - sb[sl] + 1.0)[:, None], (k, MC_DRAWS))
        chance[sl] = (pb > pa).mean(axis=1)
        if full:
            d = pb - pa
            losses[0, sl] = np.maximum(d, 0).mean(axis=1)
            losses[1, sl] = np.maximum(-d, 0).mean(axis=1)
            q = np.quantile(np.stack([pa, pb, pb / pa - 1, d]), [0.025, 0.975], axis=-1)
            quant[:, sl] = q.transpose(1, 0, 2).reshape(8, k)[:6]
    return chance


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--quad-subset", type=int, default=None)
    parser.add_argument("--mc-subset", type=int, default=None)
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    for key, val in (("size", args.size), ("quad", args.quad_subset), ("mc", args.mc_subset)):
        if val is not None:
            cfg[key] = val
    from fastinf.bayes import beta_binomial_ab, beta_binomial_chance_to_win

    cores = len(os.sched_getaffinity(0))
    size = cfg["size"]
    sa, na, sb, nb = experiments(size)
    beta_binomial_ab(sa[:10], na[:10], sb[:10], nb[:10])  # compile / load kernels
    repeat = 1 if size >= 500_000 else 3
    rows = []

    print("chance to win ...", file=sys.stderr)
    t_ours = best_time(lambda: beta_binomial_chance_to_win(sa, na, sb, nb), repeat)
    k = min(cfg["quad"], size)
    t_quad, ref = timed(lambda: quad_chance(sa[:k], na[:k], sb[:k], nb[:k]))
    ours_k = beta_binomial_chance_to_win(sa[:k], na[:k], sb[:k], nb[:k])
    gap = float(np.max(np.abs(ours_k - ref)))
    rows.append((f"chance to win, {size:,} experiments; vs scipy quad loop ({k} timed, "
                 f"extrapolated; max abs diff {gap:.1e})", t_quad * size / k, t_ours, size))
    m = min(cfg["mc"], size)
    t_mc, mc = timed(lambda: monte_carlo(sa[:m], na[:m], sb[:m], nb[:m], full=False))
    gap = float(np.max(np.abs(beta_binomial_chance_to_win(sa[:m], na[:m], sb[:m], nb[:m]) - mc)))
    rows.append((f"chance to win, {size:,} experiments; vs NumPy MC, 10 000 draws ({m} timed, "
                 f"extrapolated; max abs MC gap {gap:.1e})", t_mc * size / m, t_ours, size))

    print("full result ...", file=sys.stderr)
    t_full = best_time(lambda: beta_binomial_ab(sa, na, sb, nb), repeat)
    t_mc_full, _ = timed(lambda: monte_carlo(sa[:m], na[:m], sb[:m], nb[:m], full=True))
    rows.append((f"full result (chance, losses, rate/lift/difference intervals), {size:,} "
                 f"experiments; vs NumPy MC, 10 000 draws ({m} timed, extrapolated)",
                 t_mc_full * size / m, t_full, size))

    print(f"cores: {cores}; fastinf best of {repeat} after a warm-up, references once\n")
    print("| case | reference (s) | fastinf (s) | ratio | fastinf throughput "
          "(experiments/s/core) |")
    print("|---|---:|---:|---:|---:|")
    for case, t_ref, t_fi, n in rows:
        print(f"| {case} | {t_ref:.3g} | {t_fi:.3g} | {t_ref / t_fi:.1f}x | "
              f"{n / (t_fi * cores):.3g} |")


if __name__ == "__main__":
    main()
