"""asv benchmarks: the experiment layer against scipy + statsmodels doing the same work.

Case: ``E`` experiments x 5 metrics x 2 treatments from sufficient statistics,
Welch's t per test, BH within each experiment. The reference computes the
tests with ``scipy.stats.ttest_ind_from_stats`` (vectorised over all tests)
and the correction with a loop of ``statsmodels`` ``multipletests`` over
experiments, as a platform without fastinf would. (GrowthBook's gbstats,
the issue's per-test reference, pins old NumPy/pandas and is timed in its own
environment by ``compare_experiment.py``.)
"""

from __future__ import annotations

import numpy as np

from . import DATA_SEED, QUICK

SIZES = [1_000] if QUICK else [1_000, 100_000]
M, A = 5, 3


def _data(E):
    rng = np.random.default_rng(DATA_SEED)
    n = rng.integers(1000, 5000, size=(E, M, A)).astype(np.float64)
    mean = rng.normal(10, 1, size=(E, M, A))
    s = n * mean
    ss = s * mean + (n - 1) * 4.0
    return n, s, ss


class ExperimentLayer:
    """fastinf.experiment.analyze on E x 5 x 2 tests."""

    params = (SIZES,)
    param_names = ["experiments"]
    number = 1
    timeout = 300

    def setup(self, E):
        from fastinf.experiment import analyze

        self.analyze = analyze
        self.data = _data(E)
        analyze(*(a[:5] for a in self.data))

    def time_analyze(self, E):
        self.analyze(*self.data, correction="fdr_bh", family="experiment")

    def peakmem_analyze(self, E):
        self.analyze(*self.data, correction="fdr_bh", family="experiment")


class ExperimentLayerReference:
    """scipy.stats.ttest_ind_from_stats + a statsmodels multipletests loop."""

    params = (SIZES,)
    param_names = ["experiments"]
    number = 1
    timeout = 600

    def setup(self, E):
        from scipy import stats
        from statsmodels.stats.multitest import multipletests

        self.stats = stats
        self.multipletests = multipletests
        n, s, ss = _data(E)
        mean = s / n
        sd = np.sqrt((ss - s * mean) / (n - 1))
        self.args = (mean[..., 1:], sd[..., 1:], n[..., 1:],
                     mean[..., :1], sd[..., :1], n[..., :1])

    def time_analyze(self, E):
        res = self.stats.ttest_ind_from_stats(*self.args, equal_var=False)
        p = res.pvalue.reshape(len(res.pvalue), -1)
        for row in p:
            self.multipletests(row, method="fdr_bh")
