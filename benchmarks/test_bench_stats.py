"""pytest-benchmark: fastinf.stats and its reference side by side, at small sizes.

Run with ``python -m pytest benchmarks/test_bench_stats.py --benchmark-only``.
"""

from __future__ import annotations

import pytest

from .bench_stats import matrix, proportions, ragged_arrays, summaries, tables

IMPLS = ["fastinf", "reference"]


def _measure(benchmark, run):
    run()  # compile or load the kernels outside the timing
    return benchmark(run)


@pytest.mark.benchmark(group="Welch t from summaries, 10 000 tests")
@pytest.mark.parametrize("impl", IMPLS)
def test_welch_from_stats(benchmark, impl):
    if impl == "fastinf":
        from fastinf.stats import ttest_ind_from_stats
    else:
        from scipy.stats import ttest_ind_from_stats
    data = summaries(10_000)
    _measure(benchmark, lambda: ttest_ind_from_stats(*data, equal_var=False))


@pytest.mark.benchmark(group="Welch ttest_ind, (1 000, 200), axis=-1")
@pytest.mark.parametrize("impl", IMPLS)
def test_welch_matrix(benchmark, impl):
    if impl == "fastinf":
        from fastinf.stats import ttest_ind
    else:
        from scipy.stats import ttest_ind
    a, b = matrix(1_000, 200)
    _measure(benchmark, lambda: ttest_ind(a, b, axis=-1, equal_var=False))


@pytest.mark.benchmark(group="Welch ttest_ind, 50 ragged experiments of 100..2 000")
@pytest.mark.parametrize("impl", IMPLS)
def test_ragged_ttest(benchmark, impl):
    xs, ys = ragged_arrays(50, 100, 2000), ragged_arrays(50, 100, 2000, seed=1)
    if impl == "fastinf":
        from fastinf import Ragged
        from fastinf.stats import ttest_ind

        a, b = Ragged.from_arrays(xs), Ragged.from_arrays(ys)
        run = lambda: ttest_ind(a, b, equal_var=False)  # noqa: E731
    else:
        from scipy.stats import ttest_ind

        run = lambda: [ttest_ind(x, y, equal_var=False) for x, y in zip(xs, ys, strict=True)]  # noqa: E731
    _measure(benchmark, run)


@pytest.mark.benchmark(group="chi2_contingency, 200 2x2 tables")
@pytest.mark.parametrize("impl", IMPLS)
def test_contingency(benchmark, impl):
    t = tables(200)
    if impl == "fastinf":
        from fastinf.stats import chi2_contingency

        run = lambda: chi2_contingency(t, batch=True)  # noqa: E731
    else:
        from scipy.stats import chi2_contingency

        run = lambda: [chi2_contingency(x) for x in t]  # noqa: E731
    _measure(benchmark, run)


@pytest.mark.benchmark(group="proportions_ztest, 200 two-sample tests")
@pytest.mark.parametrize("impl", IMPLS)
def test_proportions(benchmark, impl):
    count, nobs = proportions(200)
    if impl == "fastinf":
        from fastinf.stats import proportions_ztest

        run = lambda: proportions_ztest(count, nobs, batch=True)  # noqa: E731
    else:
        from statsmodels.stats.proportion import proportions_ztest

        run = lambda: [proportions_ztest(c, n) for c, n in zip(count, nobs, strict=True)]  # noqa: E731
    _measure(benchmark, run)
