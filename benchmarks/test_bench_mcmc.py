"""pytest-benchmark: fastinf.mcmc.metropolis and a NumPy sampler side by side.

Run with::

    python -m pytest benchmarks/test_bench_mcmc.py --benchmark-only

Small sizes (each call takes a fraction of a second); the issue's size is in
``compare_mcmc.py``. The reference is NumPy vectorised across all chains of
all problems (:func:`benchmarks.bench_mcmc.numpy_metropolis_normal`), with
the same target and adaptation. The first fastinf call (compile or load from
the kernel cache) happens before timing.
"""

from __future__ import annotations

import pytest

from . import RESAMPLE_SEED
from .bench_mcmc import normal_problems, numpy_metropolis_normal

IMPLS = ["fastinf", "reference"]
CASE = (200, 4, 1000, 500)  # problems, chains, kept draws, warm-up steps


def _measure(benchmark, run):
    run()  # compile or load the kernels outside the timing
    return benchmark(run)


@pytest.mark.benchmark(group=f"metropolis, normal target, problems x chains x draws x warm-up {CASE}")
@pytest.mark.parametrize("impl", IMPLS)
def test_metropolis_normal(benchmark, impl):
    e, c, n, w = CASE
    data = normal_problems(e)
    if impl == "fastinf":
        from fastinf.mcmc import metropolis

        _measure(benchmark, lambda: metropolis("normal", data, n_chains=c, n_draws=n,
                                               n_warmup=w, rng=RESAMPLE_SEED))
    else:
        from fastinf.mcmc import default_target_accept

        target = default_target_accept(2)
        _measure(benchmark, lambda: numpy_metropolis_normal(data, c, n, w, target))
