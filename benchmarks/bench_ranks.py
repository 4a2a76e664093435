"""asv benchmarks: fastinf.ranks / fastinf.drift against scipy.stats and NumPy.

Cases of the issue, smaller when ``benchmarks.QUICK``:

* Mann-Whitney U over ragged experiments (500 to 20 000 units per arm);
  the scipy reference is a loop over experiments;
* ``ks_2samp`` of features x observations (2-D, ``axis=-1``) against
  scipy's own ``axis`` call;
* ``psi`` of features x observations against a NumPy loop.

Nothing is imported at module level but NumPy and this package (asv imports
every module to discover benchmarks); fastinf is imported and warmed in
``setup``.
"""

from __future__ import annotations

import numpy as np

from . import DATA_SEED, QUICK, ragged_arrays

MWU_EXPERIMENTS = [50] if QUICK else [50, 500]
MWU_SIZES = (500, 20_000)
KS_FEATURES = [100] if QUICK else [100, 1000]
KS_N = 10_000


def _ragged_pair(n_experiments):
    xs = ragged_arrays(n_experiments, *MWU_SIZES, seed=DATA_SEED)
    ys = [a + 0.01 for a in ragged_arrays(n_experiments, *MWU_SIZES, seed=DATA_SEED + 2)]
    return xs, ys


def _features(n_features, n=KS_N):
    rng = np.random.default_rng(DATA_SEED)
    return rng.normal(size=(n_features, n)), rng.normal(loc=0.01, size=(n_features, n))


def numpy_psi(reference, current, bins=10, epsilon=1e-4):
    """PSI of one feature with NumPy (the reference of the tests)."""
    cuts = np.unique(np.quantile(reference, np.arange(1, bins) / bins))
    edges = np.concatenate(([-np.inf], cuts, [np.inf]))
    r_counts, _ = np.histogram(reference, edges)
    c_counts, _ = np.histogram(current, edges)
    r = r_counts / reference.size
    c = c_counts / current.size
    r[r_counts == 0] = epsilon
    c[c_counts == 0] = epsilon
    return float(np.sum((c - r) * np.log(c / r)))


class MannWhitneyRagged:
    """``fastinf.ranks.mannwhitneyu`` on Ragged experiments."""

    params = (MWU_EXPERIMENTS,)
    param_names = ["experiments"]
    timeout = 300

    def setup(self, experiments):
        from fastinf import Ragged
        from fastinf.ranks import mannwhitneyu

        xs, ys = _ragged_pair(experiments)
        self.x, self.y = Ragged.from_arrays(xs), Ragged.from_arrays(ys)
        self.f = mannwhitneyu
        self.f(self.x, self.y)

    def time_mannwhitneyu(self, experiments):
        self.f(self.x, self.y)


class ScipyMannWhitneyRagged:
    """Reference for :class:`MannWhitneyRagged`: a loop of ``scipy.stats.mannwhitneyu``."""

    params = (MWU_EXPERIMENTS,)
    param_names = ["experiments"]
    timeout = 600

    def setup(self, experiments):
        from scipy import stats

        self.xs, self.ys = _ragged_pair(experiments)
        self.f = stats.mannwhitneyu

    def time_mannwhitneyu(self, experiments):
        for a, b in zip(self.xs, self.ys, strict=True):
            self.f(a, b)


class KS2D:
    """``fastinf.ranks.ks_2samp`` of features x 10 000 observations, ``axis=-1``."""

    params = (KS_FEATURES,)
    param_names = ["features"]
    timeout = 300

    def setup(self, features):
        from fastinf.ranks import ks_2samp

        self.a, self.b = _features(features)
        self.f = ks_2samp
        self.f(self.a[:2], self.b[:2], axis=-1)

    def time_ks_2samp(self, features):
        self.f(self.a, self.b, axis=-1)


class ScipyKS2D:
    """Reference for :class:`KS2D`: ``scipy.stats.ks_2samp(..., axis=-1)``."""

    params = (KS_FEATURES,)
    param_names = ["features"]
    timeout = 600

    def setup(self, features):
        from scipy import stats

        self.a, self.b = _features(features)
        self.f = stats.ks_2samp

    def time_ks_2samp(self, features):
        self.f(self.a, self.b, axis=-1)


class PSI:
    """``fastinf.drift.psi`` of features x 10 000 observations (deciles)."""

    params = (KS_FEATURES,)
    param_names = ["features"]
    timeout = 300

    def setup(self, features):
        from fastinf.drift import psi

        self.a, self.b = _features(features)
        self.f = psi
        self.f(self.a[:2], self.b[:2], axis=-1)

    def time_psi(self, features):
        self.f(self.a, self.b, axis=-1)


class NumpyPSI:
    """Reference for :class:`PSI`: a NumPy loop over features."""

    params = (KS_FEATURES,)
    param_names = ["features"]
    timeout = 300

    def setup(self, features):
        self.a, self.b = _features(features)

    def time_psi(self, features):
        for r, c in zip(self.a, self.b, strict=True):
            numpy_psi(r, c)
