"""pytest-benchmark: fastinf.ranks / fastinf.drift and their references side by side.

Run with::

    python -m pytest benchmarks/test_bench_ranks.py --benchmark-only

Small sizes (each call takes milliseconds); the issue's sizes are in
``compare_ranks.py`` and the asv suite ``bench_ranks.py``. The first fastinf
call (compile or load from the kernel cache) happens before timing.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import DATA_SEED, ragged_arrays
from .bench_ranks import numpy_psi

IMPLS = ["fastinf", "reference"]
RAGGED = (100, 200, 2000)  # experiments, smallest, largest per arm
FEATURES = (100, 2000)  # features, observations per sample


def _ragged():
    n, low, high = RAGGED
    xs = ragged_arrays(n, low, high, seed=DATA_SEED)
    ys = [a + 0.01 for a in ragged_arrays(n, low, high, seed=DATA_SEED + 2)]
    return xs, ys


def _features():
    rng = np.random.default_rng(DATA_SEED)
    n, m = FEATURES
    return rng.normal(size=(n, m)), rng.normal(loc=0.01, size=(n, m))


def _measure(benchmark, run):
    run()  # compile or load the kernels outside the timing
    return benchmark(run)


@pytest.mark.benchmark(group=f"mannwhitneyu, ragged {RAGGED}")
@pytest.mark.parametrize("impl", IMPLS)
def test_mannwhitneyu_ragged(benchmark, impl):
    xs, ys = _ragged()
    if impl == "fastinf":
        from fastinf import Ragged
        from fastinf.ranks import mannwhitneyu

        x, y = Ragged.from_arrays(xs), Ragged.from_arrays(ys)
        _measure(benchmark, lambda: mannwhitneyu(x, y))
    else:
        from scipy import stats

        _measure(benchmark, lambda: [stats.mannwhitneyu(a, b) for a, b in zip(xs, ys, strict=True)])


@pytest.mark.benchmark(group=f"ks_2samp, features x obs {FEATURES}, axis=-1")
@pytest.mark.parametrize("impl", IMPLS)
def test_ks_2samp_2d(benchmark, impl):
    a, b = _features()
    if impl == "fastinf":
        from fastinf.ranks import ks_2samp

        _measure(benchmark, lambda: ks_2samp(a, b, axis=-1))
    else:
        from scipy import stats

        _measure(benchmark, lambda: stats.ks_2samp(a, b, axis=-1))


@pytest.mark.benchmark(group=f"psi, features x obs {FEATURES}")
@pytest.mark.parametrize("impl", IMPLS)
def test_psi_2d(benchmark, impl):
    a, b = _features()
    if impl == "fastinf":
        from fastinf.drift import psi

        _measure(benchmark, lambda: psi(a, b, axis=-1))
    else:
        _measure(benchmark, lambda: [numpy_psi(r, c) for r, c in zip(a, b, strict=True)])
