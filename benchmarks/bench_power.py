"""asv benchmarks: ``fastinf.power`` against ``statsmodels.stats.power``.

``solve_power`` for ``nobs1`` over a grid of (effect size, alpha, power)
combinations, two-sided; statsmodels solves one scalar per call, so its class
loops over a small grid only. ``power()`` over a grid, both vectorised.
"""

from __future__ import annotations

import numpy as np

from . import QUICK

SOLVE_SIZES = [1_000] if QUICK else [1_000, 100_000]
SM_SOLVE_SIZES = [100]
POWER_SIZES = [10_000] if QUICK else [10_000, 1_000_000]
TESTS = ["normal", "t"]


def _solve_grid(size):
    rng = np.random.default_rng(20240601)
    return (rng.uniform(0.05, 1.0, size), rng.uniform(0.01, 0.1, size),
            rng.uniform(0.5, 0.95, size))


def _power_grid(size):
    rng = np.random.default_rng(20240602)
    return rng.uniform(0.01, 1.0, size), rng.uniform(5, 2000, size), rng.uniform(0.01, 0.1, size)


def _fastinf(test):
    import fastinf.power as fp

    return fp.NormalIndPower() if test == "normal" else fp.TTestIndPower()


def _statsmodels(test):
    from statsmodels.stats import power as smp

    return smp.NormalIndPower() if test == "normal" else smp.TTestIndPower()


class SolveNobs:
    """fastinf: solve_power for nobs1 on a grid."""

    params = (TESTS, SOLVE_SIZES)
    param_names = ["test", "size"]
    timeout = 300

    def setup(self, test, size):
        self.cls = _fastinf(test)
        self.d, self.alpha, self.power = _solve_grid(size)
        self.cls.solve_power(self.d[:10], None, self.alpha[:10], self.power[:10])

    def time_solve_power(self, test, size):
        self.cls.solve_power(self.d, None, self.alpha, self.power)


class StatsmodelsSolveNobs:
    """Reference for :class:`SolveNobs`: a loop of scalar solves."""

    params = (TESTS, SM_SOLVE_SIZES)
    param_names = ["test", "size"]
    number = 1
    repeat = 1
    timeout = 300

    def setup(self, test, size):
        self.cls = _statsmodels(test)
        self.d, self.alpha, self.power = _solve_grid(size)

    def time_solve_power(self, test, size):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i in range(self.d.size):
                self.cls.solve_power(float(self.d[i]), None, float(self.alpha[i]),
                                     float(self.power[i]))


class Power:
    """fastinf: power() on a grid."""

    params = (TESTS, POWER_SIZES)
    param_names = ["test", "size"]

    def setup(self, test, size):
        self.cls = _fastinf(test)
        self.args = _power_grid(size)
        self.cls.power(*(a[:10] for a in self.args))

    def time_power(self, test, size):
        self.cls.power(*self.args)


class StatsmodelsPower(Power):
    """Reference for :class:`Power`: statsmodels' vectorised power()."""

    def setup(self, test, size):
        self.cls = _statsmodels(test)
        self.args = _power_grid(size)
