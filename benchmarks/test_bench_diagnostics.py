"""pytest-benchmark: fastinf.diagnostics and ArviZ side by side.

Run with::

    python -m pytest benchmarks/test_bench_diagnostics.py --benchmark-only

Small sizes: 50 experiments x 2 parameters x 4 chains x 1 000 draws, ArviZ
as a loop over the 2-D (chain, draw) arrays. The issue's sizes are in
``compare_diagnostics.py`` and the asv suite ``bench_diagnostics.py``. The
first call of each (compiles or loads fastinf's kernels, ArviZ's Numba
helpers) happens before timing.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from .bench_diagnostics import PARAMS, ar1_draws

IMPLS = ["fastinf", "arviz"]
EXPERIMENTS = 50
CASES = [("rhat", "rank"), ("ess", "bulk"), ("ess", "tail"), ("mcse", "mean")]


def _measure(benchmark, run):
    run()
    return benchmark(run)


@pytest.mark.parametrize(("fn", "method"), CASES)
@pytest.mark.parametrize("impl", IMPLS)
def test_diagnostic(benchmark, impl, fn, method):
    benchmark.group = f"{fn}({method!r}), {EXPERIMENTS} x {PARAMS} x 4 chains x 1000 draws"
    x = ar1_draws(EXPERIMENTS)
    if impl == "fastinf":
        import fastinf.diagnostics as fd

        f = getattr(fd, fn)
        _measure(benchmark, lambda: f(x, method=method))
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import arviz as az
    f = getattr(az, fn)

    def loop():
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return [f(x[e, p], method=method) for e in range(EXPERIMENTS) for p in range(PARAMS)]

    _measure(benchmark, loop)
