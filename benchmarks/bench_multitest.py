"""asv benchmarks: ``fastinf.multitest`` against statsmodels and scipy.

Cases of the issue, smaller when ``QUICK``: one large family (``fdr_bh`` and
``holm``), many families of 20 (BH, against ``scipy.stats.
false_discovery_control(axis=-1)``), and Hommel's method on one family
(statsmodels' loop is O(m^2)). Nothing is imported at module level.
"""

from __future__ import annotations

import numpy as np

from . import DATA_SEED, QUICK

LARGE = [100_000] if QUICK else [1_000_000, 10_000_000]
FAMILIES = [2_000] if QUICK else [20_000, 200_000]
HOMMEL = [3_000] if QUICK else [3_000, 30_000]


def _pvalues(shape):
    return np.random.default_rng(DATA_SEED).random(shape)


class MultipletestsLarge:
    """One family of ``n`` p-values."""

    params = (LARGE, ["fdr_bh", "holm"])
    param_names = ["n", "method"]
    number = 1
    repeat = (1, 5, 20.0)
    timeout = 300

    def setup(self, n, method):
        from fastinf.multitest import multipletests

        self.multipletests = multipletests
        multipletests(_pvalues(300_000), method=method)  # compile / load kernels
        self.p = _pvalues(n)

    def time_multipletests(self, n, method):
        self.multipletests(self.p, method=method)


class StatsmodelsMultipletestsLarge:
    """Reference for :class:`MultipletestsLarge`."""

    params = (LARGE, ["fdr_bh", "holm"])
    param_names = ["n", "method"]
    number = 1
    repeat = (1, 3, 20.0)
    timeout = 300

    def setup(self, n, method):
        from statsmodels.stats.multitest import multipletests

        self.multipletests = multipletests
        self.p = _pvalues(n)

    def time_multipletests(self, n, method):
        self.multipletests(self.p, method=method)


class FalseDiscoveryControlFamilies:
    """``n_families`` families of 20, BH along the last axis."""

    params = (FAMILIES,)
    param_names = ["n_families"]
    number = 1
    repeat = (1, 10, 20.0)

    def setup(self, n_families):
        from fastinf.multitest import false_discovery_control

        self.fdc = false_discovery_control
        self.fdc(_pvalues((10, 20)), axis=-1)
        self.p = _pvalues((n_families, 20))

    def time_false_discovery_control(self, n_families):
        self.fdc(self.p, axis=-1)


class ScipyFalseDiscoveryControlFamilies:
    """Reference for :class:`FalseDiscoveryControlFamilies`."""

    params = (FAMILIES,)
    param_names = ["n_families"]
    number = 1
    repeat = (1, 10, 20.0)

    def setup(self, n_families):
        from scipy.stats import false_discovery_control

        self.fdc = false_discovery_control
        self.p = _pvalues((n_families, 20))

    def time_false_discovery_control(self, n_families):
        self.fdc(self.p, axis=-1)


class Hommel:
    """Hommel's method on one family of ``m``."""

    params = (HOMMEL,)
    param_names = ["m"]
    number = 1
    repeat = (1, 5, 20.0)

    def setup(self, m):
        from fastinf.multitest import multipletests

        self.multipletests = multipletests
        multipletests(_pvalues(50), method="hommel")
        self.p = _pvalues(m)

    def time_hommel(self, m):
        self.multipletests(self.p, method="hommel")


class StatsmodelsHommel:
    """Reference for :class:`Hommel`."""

    params = (HOMMEL,)
    param_names = ["m"]
    number = 1
    repeat = 1
    timeout = 600

    def setup(self, m):
        from statsmodels.stats.multitest import multipletests

        self.multipletests = multipletests
        self.p = _pvalues(m)

    def time_hommel(self, m):
        self.multipletests(self.p, method="hommel")
