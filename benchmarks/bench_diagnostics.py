"""asv benchmarks: fastinf.diagnostics against ArviZ.

Experiments x 2 parameters x 4 chains x 1 000 draws of AR(1) chains, smaller
when ``benchmarks.QUICK``. ArviZ's references are a loop over 2-D (chain,
draw) arrays and one call on a Dataset, both on the first
``ARVIZ_SUBSET`` experiments only (the ArviZ classes' times are for that
subset: multiply by ``experiments / ARVIZ_SUBSET`` to compare).

Nothing is imported at module level but NumPy and this package; fastinf and
ArviZ are imported and warmed in ``setup``.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import DATA_SEED, QUICK

EXPERIMENTS = [100] if QUICK else [100, 2000]
ARVIZ_SUBSET = 20
PARAMS, CHAINS, DRAWS = 2, 4, 1000
CASES = ["rhat-rank", "ess-bulk", "ess-tail", "mcse-mean"]


def ar1_draws(n_experiments, phi=0.5, seed=DATA_SEED):
    """AR(1) draws of shape (experiments, params, chains, draws)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_experiments, PARAMS, CHAINS, DRAWS))
    for t in range(1, DRAWS):
        x[..., t] += phi * x[..., t - 1]
    return x


def _split(case):
    fn, method = case.split("-")
    return fn, method


class Diagnostics:
    """``fastinf.diagnostics`` over a 4-D batch (experiments, params, chains, draws)."""

    params = (EXPERIMENTS, CASES)
    param_names = ["experiments", "case"]
    timeout = 300

    def setup(self, experiments, case):
        import fastinf.diagnostics as fd

        fn, self.method = _split(case)
        self.f = getattr(fd, fn)
        self.x = ar1_draws(experiments)
        self.f(self.x[:1], method=self.method)

    def time_diagnostic(self, experiments, case):
        self.f(self.x, method=self.method)

    def peakmem_diagnostic(self, experiments, case):
        self.f(self.x, method=self.method)


class ArvizDiagnostics:
    """Reference for :class:`Diagnostics`: ArviZ on the first ``ARVIZ_SUBSET`` experiments."""

    params = (CASES, ["loop", "dataset"])
    param_names = ["case", "how"]
    timeout = 600

    def setup(self, case, how):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import arviz as az
        fn, self.method = _split(case)
        self.f = getattr(az, fn)
        self.x = ar1_draws(ARVIZ_SUBSET)
        self.ds = az.convert_to_dataset(np.ascontiguousarray(np.moveaxis(self.x, (2, 3),
                                                                         (0, 1))))
        self.how = how
        self.f(self.x[0, 0], method=self.method)

    def time_diagnostic(self, case, how):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            if self.how == "dataset":
                self.f(self.ds, method=self.method)
            else:
                for e in range(self.x.shape[0]):
                    for p in range(self.x.shape[1]):
                        self.f(self.x[e, p], method=self.method)


class DiagnosticsParity:
    """Largest relative difference of fastinf from ArviZ (loop), per case."""

    params = (CASES,)
    param_names = ["case"]

    def setup(self, case):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import arviz as az
        import fastinf.diagnostics as fd

        fn, self.method = _split(case)
        self.ours = getattr(fd, fn)
        self.ref = getattr(az, fn)
        self.x = ar1_draws(5)

    def track_max_rel_diff(self, case):
        mine = self.ours(self.x, method=self.method)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            ref = np.array([[np.ravel(self.ref(self.x[e, p], method=self.method))[0]
                             for p in range(PARAMS)] for e in range(self.x.shape[0])])
        return float(np.max(np.abs(mine - ref) / np.abs(ref)))
