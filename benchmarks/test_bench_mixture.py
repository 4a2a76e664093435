"""pytest-benchmark: fastinf.mixture and sklearn.mixture side by side, at small sizes.

Run with::

    python -m pytest benchmarks/test_bench_mixture.py --benchmark-only

The issue's sizes are in ``compare_mixture.py`` and the asv suite
``bench_mixture.py``. The first fastinf call (compile or load from the kernel
cache) happens before timing.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from .bench_mixture import batch_data, gmm_data, gmm_start

IMPLS = ["fastinf", "sklearn"]
GMM_N = 20_000
GMM_ITER = 20
BATCH = 100  # experiments of 1 000 points


def _cls(impl):
    if impl == "fastinf":
        from fastinf.mixture import GaussianMixture
    else:
        from sklearn.mixture import GaussianMixture
    return GaussianMixture


@pytest.mark.benchmark(group=f"GaussianMixture, n={GMM_N}, d=2, k=5, full, {GMM_ITER} iterations")
@pytest.mark.parametrize("impl", IMPLS)
def test_gmm_fixed_iterations(benchmark, impl):
    X = gmm_data(GMM_N)
    model = _cls(impl)(5, tol=0.0, max_iter=GMM_ITER, **gmm_start(X))

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return model.fit(X)

    run()
    out = benchmark(run)
    assert out.n_iter_ == GMM_ITER


@pytest.mark.benchmark(group=f"{BATCH} 1-D mixtures of 1 000 points, k=2")
@pytest.mark.parametrize("impl", IMPLS)
def test_many_1d_mixtures(benchmark, impl):
    x = batch_data(BATCH)
    if impl == "fastinf":
        from fastinf.mixture import fit_batch

        def run():
            return fit_batch(x, 2, random_state=0).means_
    else:
        from sklearn.mixture import GaussianMixture

        def run():
            return np.array([GaussianMixture(2, random_state=0).fit(r[:, None]).means_.ravel()
                             for r in x])

    run()
    out = benchmark(run)
    assert out.shape == (BATCH, 2)
