"""pytest-benchmark: fastinf.multitest beside statsmodels / scipy at small sizes.

Run with ``python -m pytest benchmarks/test_bench_multitest.py --benchmark-only``.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import DATA_SEED

N = 100_000
FAMILIES = (5_000, 20)
HOMMEL_M = 2_000


def _p(shape):
    return np.random.default_rng(DATA_SEED).random(shape)


def _run(benchmark, run):
    run()  # compile or load the kernels outside the timing
    return benchmark(run)


@pytest.mark.benchmark(group=f"multipletests fdr_bh, n={N}")
@pytest.mark.parametrize("impl", ["fastinf", "statsmodels"])
def test_fdr_bh_large(benchmark, impl):
    p = _p(N)
    if impl == "fastinf":
        from fastinf.multitest import multipletests
    else:
        from statsmodels.stats.multitest import multipletests
    reject, adj, _, _ = _run(benchmark, lambda: multipletests(p, method="fdr_bh"))
    assert adj.shape == p.shape and (adj >= p).all()


@pytest.mark.benchmark(group=f"false_discovery_control, {FAMILIES[0]} families of {FAMILIES[1]}")
@pytest.mark.parametrize("impl", ["fastinf", "scipy"])
def test_fdc_families(benchmark, impl):
    p = _p(FAMILIES)
    if impl == "fastinf":
        from fastinf.multitest import false_discovery_control
    else:
        from scipy.stats import false_discovery_control
    adj = _run(benchmark, lambda: false_discovery_control(p, axis=-1))
    assert adj.shape == p.shape and (adj >= p).all()


@pytest.mark.benchmark(group=f"multipletests hommel, m={HOMMEL_M}")
@pytest.mark.parametrize("impl", ["fastinf", "statsmodels"])
def test_hommel(benchmark, impl):
    p = _p(HOMMEL_M)
    if impl == "fastinf":
        from fastinf.multitest import multipletests
    else:
        from statsmodels.stats.multitest import multipletests
    _, adj, _, _ = _run(benchmark, lambda: multipletests(p, method="hommel"))
    assert (adj >= p).all()
