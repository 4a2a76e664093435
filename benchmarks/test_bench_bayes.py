"""pytest-benchmark: fastinf.bayes beside scipy quad and NumPy Monte-Carlo, at small sizes.

Run with::

    python -m pytest benchmarks/test_bench_bayes.py --benchmark-only
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.compare_bayes import experiments, monte_carlo, quad_chance

N = 200


@pytest.mark.parametrize("impl", ["fastinf", "scipy-quad", "numpy-mc-10000"])
def test_chance_to_win(benchmark, impl):
    benchmark.group = f"Beta-binomial chance to win, {N} experiments"
    data = experiments(N)
    if impl == "fastinf":
        from fastinf.bayes import beta_binomial_chance_to_win

        def run():
            return beta_binomial_chance_to_win(*data)
    elif impl == "scipy-quad":
        def run():
            return quad_chance(*data)
    else:
        def run():
            return monte_carlo(*data, full=False)
    run()
    out = benchmark.pedantic(run, rounds=1 if impl != "fastinf" else 5, iterations=1)
    assert out.shape == (N,) and np.all((out >= 0) & (out <= 1))


@pytest.mark.parametrize("impl", ["fastinf", "numpy-mc-10000"])
def test_full_result(benchmark, impl):
    benchmark.group = f"Beta-binomial full result, {N} experiments"
    data = experiments(N)
    if impl == "fastinf":
        from fastinf.bayes import beta_binomial_ab

        def run():
            return beta_binomial_ab(*data).chance_to_win
    else:
        def run():
            return monte_carlo(*data, full=True)
    run()
    out = benchmark.pedantic(run, rounds=1 if impl != "fastinf" else 3, iterations=1)
    assert out.shape == (N,)
