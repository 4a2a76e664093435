"""pytest-benchmark: fastinf and scipy side by side, one group per case, at small sizes.

Run with::

    python -m pytest benchmarks/test_bench.py --benchmark-only

These tests are not part of the test suite (``testpaths = ["tests"]``); each
call takes milliseconds, so a run takes well under a minute. The first call of
each fastinf case (compile, or load from the kernel cache) happens before
timing. The large sizes of the issue are in the asv suites and in
``run_compare.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from . import (
    RESAMPLE_SEED,
    normal_sample,
    ragged_arrays,
    scipy_mean_diff,
    two_samples,
)

N = 1000
N_RESAMPLES = 999
RAGGED = (20, 100, 1000)  # experiments, smallest, largest
RAGGED_RESAMPLES = 499
IMPLS = ["fastinf", "scipy"]


def _bootstrap(impl, method, resampling="multinomial"):
    x = normal_sample(N)
    if impl == "fastinf":
        import fastinf

        return lambda: fastinf.bootstrap(
            (x,), np.mean, n_resamples=N_RESAMPLES, method=method, resampling=resampling,
            rng=RESAMPLE_SEED,
        )
    from scipy import stats

    return lambda: stats.bootstrap(
        (x,), np.mean, n_resamples=N_RESAMPLES, method=method, rng=RESAMPLE_SEED
    )


def _measure(benchmark, run):
    run()  # compile or load the kernels outside the timing
    return benchmark(run)


@pytest.mark.benchmark(group=f"bootstrap percentile, n={N}, {N_RESAMPLES} resamples")
@pytest.mark.parametrize("impl", [*IMPLS, "fastinf-poisson"])
def test_bootstrap_percentile(benchmark, impl):
    if impl == "fastinf-poisson":
        run = _bootstrap("fastinf", "percentile", resampling="poisson")
    else:
        run = _bootstrap(impl, "percentile")
    ci = _measure(benchmark, run).confidence_interval
    assert ci.low < 0.0 < ci.high


@pytest.mark.benchmark(group=f"bootstrap BCa, n={N}, {N_RESAMPLES} resamples")
@pytest.mark.parametrize("impl", IMPLS)
def test_bootstrap_bca(benchmark, impl):
    ci = _measure(benchmark, _bootstrap(impl, "BCa")).confidence_interval
    assert ci.low < 0.0 < ci.high


@pytest.mark.benchmark(
    group=f"ragged BCa, {RAGGED[0]} experiments of {RAGGED[1]}..{RAGGED[2]}, "
    f"{RAGGED_RESAMPLES} resamples"
)
@pytest.mark.parametrize("impl", IMPLS)
def test_ragged_bca(benchmark, impl):
    arrays = ragged_arrays(*RAGGED)
    if impl == "fastinf":
        import fastinf

        data = (fastinf.Ragged.from_arrays(arrays),)

        def run():
            ci = fastinf.bootstrap(
                data, np.mean, n_resamples=RAGGED_RESAMPLES, method="BCa", rng=RESAMPLE_SEED
            ).confidence_interval
            return ci.low, ci.high
    else:
        from scipy import stats

        def run():
            rng = np.random.default_rng(RESAMPLE_SEED)
            cis = [
                stats.bootstrap(
                    (x,), np.mean, n_resamples=RAGGED_RESAMPLES, method="BCa", rng=rng
                ).confidence_interval
                for x in arrays
            ]
            return np.array([c.low for c in cis]), np.array([c.high for c in cis])

    low, high = _measure(benchmark, run)
    assert low.shape == (RAGGED[0],)
    assert np.all(low < high)


@pytest.mark.benchmark(group=f"permutation mean_diff, 2 x {N}, {N_RESAMPLES} resamples")
@pytest.mark.parametrize("impl", IMPLS)
def test_permutation_mean_diff(benchmark, impl):
    data = two_samples(N, shift=0.1)
    if impl == "fastinf":
        import fastinf

        try:
            permutation_test = fastinf.permutation_test
        except (ImportError, AttributeError) as exc:
            pytest.skip(f"fastinf.permutation_test is unavailable: {exc}")

        def run():
            return permutation_test(
                data, "mean_diff", n_resamples=N_RESAMPLES, rng=RESAMPLE_SEED
            )
    else:
        from scipy import stats

        def run():
            return stats.permutation_test(
                data, scipy_mean_diff, vectorized=True, n_resamples=N_RESAMPLES,
                rng=RESAMPLE_SEED,
            )

    res = _measure(benchmark, run)
    assert 0.0 < res.pvalue <= 1.0
