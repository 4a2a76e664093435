"""asv benchmarks: fastinf.mixture against sklearn.mixture.GaussianMixture.

Cases of the issue, smaller when ``benchmarks.QUICK``:

* one Gaussian mixture, d = 2, k = 5, full covariance, a fixed number of EM
  iterations from the same explicit starting point (``tol=0``, so both run
  exactly ``max_iter`` iterations);
* many independent 1-D mixtures (k = 2, 1 000 points each): ``fit_batch``
  against a loop of scikit-learn fits (over fewer experiments; compare per
  experiment).

Nothing is imported at module level but NumPy and this package (asv imports
every module to discover benchmarks); fastinf is imported and warmed in
``setup``.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import DATA_SEED, QUICK

GMM_SIZES = [100_000] if QUICK else [100_000, 1_000_000]
GMM_ITER = 20
BATCH_EXPERIMENTS = [1_000] if QUICK else [1_000, 10_000]
SK_BATCH_EXPERIMENTS = [50]
BATCH_POINTS = 1_000


def gmm_data(n, d=2, k=5, seed=DATA_SEED):
    """``n`` points from ``k`` well-separated correlated Gaussian clusters in ``d`` dimensions."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-10, 10, size=(k, d))
    labels = rng.integers(0, k, size=n)
    a = rng.normal(size=(k, d, d)) * 0.3 + np.eye(d)
    z = rng.normal(size=(n, d))
    return np.einsum("ni,nij->nj", z, a[labels]) + centres[labels]


def gmm_start(X, k=5):
    """A fixed starting point: weights 1/k, the first k points, unit precisions."""
    d = X.shape[1]
    return dict(weights_init=np.full(k, 1.0 / k), means_init=X[:k].copy(),
                precisions_init=np.stack([np.eye(d)] * k))


def batch_data(n_experiments, n=BATCH_POINTS, seed=DATA_SEED):
    """Experiments of ``n`` points: 60% N(0, 1), 40% N(delta, 0.7^2), delta per experiment."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_experiments, n))
    m = int(0.4 * n)
    x[:, :m] = x[:, :m] * 0.7 + rng.uniform(2.0, 4.0, size=(n_experiments, 1))
    return x


def _quiet(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


class GaussianMixtureFit:
    """fastinf: GaussianMixture.fit, d=2, k=5, full, GMM_ITER iterations."""

    params = [GMM_SIZES]
    param_names = ["n"]
    timeout = 600

    def setup(self, n):
        from fastinf.mixture import GaussianMixture

        self.X = gmm_data(n)
        self.model = GaussianMixture(5, tol=0.0, max_iter=GMM_ITER, **gmm_start(self.X))
        _quiet(lambda: GaussianMixture(5, max_iter=2, **gmm_start(self.X)).fit(self.X[:1000]))

    def time_fit(self, n):
        _quiet(lambda: self.model.fit(self.X))


class SklearnGaussianMixtureFit(GaussianMixtureFit):
    """Reference for :class:`GaussianMixtureFit`."""

    number = 1
    repeat = 1

    def setup(self, n):
        from sklearn.mixture import GaussianMixture

        self.X = gmm_data(n)
        self.model = GaussianMixture(5, tol=0.0, max_iter=GMM_ITER, **gmm_start(self.X))


class FitBatch:
    """fastinf: fit_batch of 1-D mixtures, k=2, 1 000 points each."""

    params = [BATCH_EXPERIMENTS]
    param_names = ["experiments"]
    timeout = 600

    def setup(self, experiments):
        from fastinf.mixture import fit_batch

        self.fit_batch = fit_batch
        self.x = batch_data(experiments)
        fit_batch(self.x[:4], 2, random_state=0)

    def time_fit_batch(self, experiments):
        self.fit_batch(self.x, 2, random_state=0)

    def track_mean_iterations(self, experiments):
        return float(self.fit_batch(self.x, 2, random_state=0).n_iter_.mean())


class SklearnFitLoop:
    """Reference for :class:`FitBatch`: a loop of GaussianMixture fits (per experiment)."""

    params = [SK_BATCH_EXPERIMENTS]
    param_names = ["experiments"]
    number = 1
    repeat = 1
    timeout = 600

    def setup(self, experiments):
        self.x = batch_data(experiments)

    def time_fit_loop(self, experiments):
        from sklearn.mixture import GaussianMixture

        for row in self.x:
            GaussianMixture(2, random_state=0).fit(row[:, None])
