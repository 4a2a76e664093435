"""asv benchmarks: ``fastinf.stats`` against ``scipy.stats`` and statsmodels.

Each fastinf class has a reference class beside it. The references loop in
Python where scipy/statsmodels have no batched form (ragged t tests,
contingency tables, proportion tests), so they run on a subset
(``REF_SUBSET`` experiments); ``compare_stats.py`` extrapolates.
"""

from __future__ import annotations

import numpy as np

from . import DATA_SEED, QUICK, ragged_arrays

N_SUMMARIES = [10_000] if QUICK else [10_000, 1_000_000]
MATRIX = [(1_000, 200)] if QUICK else [(1_000, 200), (100_000, 200)]
N_RAGGED = [100] if QUICK else [100, 10_000]
N_TABLES = [1_000] if QUICK else [1_000, 100_000]
REF_SUBSET = 200


def summaries(n):
    rng = np.random.default_rng(DATA_SEED)
    return (rng.normal(size=n), rng.uniform(0.5, 2, n), rng.integers(10, 1000, n),
            rng.normal(size=n), rng.uniform(0.5, 2, n), rng.integers(10, 1000, n))


def matrix(e, n):
    rng = np.random.default_rng(DATA_SEED)
    return rng.normal(size=(e, n)), rng.normal(loc=0.05, size=(e, n))


def tables(n):
    return np.random.default_rng(DATA_SEED).integers(1, 200, size=(n, 2, 2))


def proportions(n):
    rng = np.random.default_rng(DATA_SEED)
    nobs = rng.integers(1_000, 100_000, size=(n, 2))
    return rng.binomial(nobs, 0.1), nobs


class WelchFromStats:
    params = (N_SUMMARIES,)
    param_names = ["n_tests"]

    def setup(self, n):
        from fastinf import stats

        self.f = stats.ttest_ind_from_stats
        self.data = summaries(n)
        self.f(*summaries(10), equal_var=False)

    def time_ttest_ind_from_stats(self, n):
        self.f(*self.data, equal_var=False)


class ScipyWelchFromStats(WelchFromStats):
    def setup(self, n):
        from scipy import stats

        self.f = stats.ttest_ind_from_stats
        self.data = summaries(n)


class WelchMatrix:
    params = (MATRIX,)
    param_names = ["shape"]
    timeout = 300

    def setup(self, shape):
        from fastinf import stats

        self.f = stats.ttest_ind
        self.data = matrix(*shape)
        self.f(*matrix(4, 10), axis=-1, equal_var=False)

    def time_ttest_ind(self, shape):
        self.f(*self.data, axis=-1, equal_var=False)


class ScipyWelchMatrix(WelchMatrix):
    def setup(self, shape):
        from scipy import stats

        self.f = stats.ttest_ind
        self.data = matrix(*shape)


class RaggedTtest:
    params = (N_RAGGED,)
    param_names = ["n_experiments"]
    timeout = 300

    def setup(self, n):
        from fastinf import Ragged, stats

        self.f = stats.ttest_ind
        self.a = Ragged.from_arrays(ragged_arrays(n, 100, 2000))
        self.b = Ragged.from_arrays(ragged_arrays(n, 100, 2000, seed=DATA_SEED + 7))
        self.f(self.a, self.b, equal_var=False)

    def time_ttest_ind_ragged(self, n):
        self.f(self.a, self.b, equal_var=False)


class ScipyRaggedTtest:
    params = (N_RAGGED,)
    param_names = ["n_experiments"]
    timeout = 300

    def setup(self, n):
        from scipy import stats

        self.f = stats.ttest_ind
        k = min(n, REF_SUBSET)
        self.a = ragged_arrays(n, 100, 2000)[:k]
        self.b = ragged_arrays(n, 100, 2000, seed=DATA_SEED + 7)[:k]

    def time_ttest_ind_loop_subset(self, n):
        for x, y in zip(self.a, self.b, strict=True):
            self.f(x, y, equal_var=False)


class Contingency:
    params = (N_TABLES,)
    param_names = ["n_tables"]

    def setup(self, n):
        from fastinf import stats

        self.f = stats.chi2_contingency
        self.t = tables(n)
        self.f(tables(5), batch=True)

    def time_chi2_contingency_batch(self, n):
        self.f(self.t, batch=True)


class ScipyContingency:
    params = (N_TABLES,)
    param_names = ["n_tables"]

    def setup(self, n):
        from scipy import stats

        self.f = stats.chi2_contingency
        self.t = tables(n)[:REF_SUBSET]

    def time_chi2_contingency_loop_subset(self, n):
        for t in self.t:
            self.f(t)


class Proportions:
    params = (N_SUMMARIES,)
    param_names = ["n_tests"]

    def setup(self, n):
        from fastinf import stats

        self.f = stats.proportions_ztest
        self.count, self.nobs = proportions(n)
        self.f(*proportions(5), batch=True)

    def time_proportions_ztest_batch(self, n):
        self.f(self.count, self.nobs, batch=True)


class StatsmodelsProportions:
    params = (N_SUMMARIES,)
    param_names = ["n_tests"]

    def setup(self, n):
        from statsmodels.stats.proportion import proportions_ztest

        self.f = proportions_ztest
        count, nobs = proportions(n)
        self.count, self.nobs = count[:REF_SUBSET], nobs[:REF_SUBSET]

    def time_proportions_ztest_loop_subset(self, n):
        for c, m in zip(self.count, self.nobs, strict=True):
            self.f(c, m)
