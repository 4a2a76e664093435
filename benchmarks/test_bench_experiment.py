"""pytest-benchmark: the experiment layer beside scipy + statsmodels, at a small size.

Run with ``python -m pytest benchmarks --benchmark-only``.
"""

from __future__ import annotations

import numpy as np
import pytest

from .bench_experiment import _data

E = 2_000


@pytest.mark.benchmark(group=f"experiment layer, {E} experiments x 5 metrics x 2 treatments, Welch + BH")
@pytest.mark.parametrize("impl", ["fastinf", "scipy+statsmodels"])
def test_experiment_layer(benchmark, impl):
    n, s, ss = _data(E)
    if impl == "fastinf":
        from fastinf.experiment import analyze

        def run():
            return analyze(n, s, ss, correction="fdr_bh", family="experiment")
    else:
        from scipy import stats
        from statsmodels.stats.multitest import multipletests

        def run():
            mean = s / n
            sd = np.sqrt((ss - s * mean) / (n - 1))
            res = stats.ttest_ind_from_stats(mean[..., 1:], sd[..., 1:], n[..., 1:],
                                             mean[..., :1], sd[..., :1], n[..., :1],
                                             equal_var=False)
            return [multipletests(row, method="fdr_bh")[1] for row in res.pvalue.reshape(E, -1)]
    run()
    benchmark(run)
