"""pytest-benchmark: fastinf.power and statsmodels side by side, at small sizes.

Run with::

    python -m pytest benchmarks/test_bench_power.py --benchmark-only
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

N_SOLVE = 50
N_POWER = 10_000
IMPLS = ["fastinf", "statsmodels"]


def _classes(impl, test):
    if impl == "fastinf":
        import fastinf.power as mod
    else:
        from statsmodels.stats import power as mod
    return mod.NormalIndPower() if test == "normal" else mod.TTestIndPower()


@pytest.mark.parametrize("test", ["normal", "t"])
@pytest.mark.parametrize("impl", IMPLS)
def test_solve_power_nobs1(benchmark, impl, test):
    benchmark.group = f"solve_power nobs1, {test}, {N_SOLVE} points"
    rng = np.random.default_rng(20240601)
    d, alpha, power = (rng.uniform(0.05, 1, N_SOLVE), rng.uniform(0.01, 0.1, N_SOLVE),
                       rng.uniform(0.5, 0.95, N_SOLVE))
    cls = _classes(impl, test)
    if impl == "fastinf":
        def run():
            return cls.solve_power(d, None, alpha, power)
    else:
        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return [cls.solve_power(float(d[i]), None, float(alpha[i]), float(power[i]))
                        for i in range(N_SOLVE)]
    run()
    out = benchmark(run)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("test", ["normal", "t"])
@pytest.mark.parametrize("impl", IMPLS)
def test_power_grid(benchmark, impl, test):
    benchmark.group = f"power(), {test}, {N_POWER} points"
    rng = np.random.default_rng(20240602)
    args = rng.uniform(0.01, 1, N_POWER), rng.uniform(5, 2000, N_POWER), rng.uniform(
        0.01, 0.1, N_POWER)
    cls = _classes(impl, test)
    cls.power(*args)
    out = benchmark(cls.power, *args)
    assert out.shape == (N_POWER,)
