"""asv benchmarks: ``fastinf.bootstrap`` against ``scipy.stats.bootstrap``.

Every fastinf class has its reference class beside it (``Scipy...``), with
the same data (fixed seeds, :mod:`benchmarks`) and the same parameters where
scipy has them. fastinf classes import and warm the JIT in ``setup``; nothing
is imported or compiled when asv imports this module.

scipy at the large sizes is slow (percentile, n = 100 000, 9 999 resamples:
~20 s; BCa, whose jackknife is O(n^2): minutes), so its classes run each case
once (``number = repeat = rounds = 1``) under a long ``timeout``. Use
``FASTINF_BENCH_QUICK=1`` for the small sizes only.
"""

from __future__ import annotations

import shutil
import tempfile

import numpy as np

from . import (
    QUICK,
    RESAMPLE_SEED,
    SCIPY_BOOTSTRAP_BATCH,
    fill_kernel_cache,
    first_call_code,
    interval_gap,
    normal_sample,
    ragged_arrays,
)

N_RESAMPLES = 9999
SIZES = [10_000] if QUICK else [10_000, 100_000]
METHODS = ["percentile", "BCa"]

RAGGED_RESAMPLES = 2000
RAGGED_SIZES = (200, 5000)  # units per experiment, uniform
RAGGED_EXPERIMENTS = [50, 500] if QUICK else [50, 500, 5000]
# scipy loops in Python, one call per experiment: its time is linear in the
# number of experiments, so 5 000 experiments take ~100x the time of 50.
SCIPY_RAGGED_EXPERIMENTS = [50] if QUICK else [50, 500]


def _warm_fastinf(**kw):
    """Import fastinf and compile (or load) the kernels that ``kw`` selects."""
    import fastinf

    x = normal_sample(500)
    fastinf.bootstrap((x,), np.mean, n_resamples=19, rng=0, **kw)
    return fastinf


class BootstrapMean:
    """Case (1) and (4): mean of one sample, multinomial and Poisson resampling."""

    params = (SIZES, METHODS, ["multinomial", "poisson"])
    param_names = ["n", "method", "resampling"]
    number = 1
    repeat = (1, 5, 20.0)
    warmup_time = 0.0
    timeout = 300

    def setup(self, n, method, resampling):
        self.fastinf = _warm_fastinf(method=method, resampling=resampling)
        self.x = normal_sample(n)

    def _run(self, method, resampling):
        return self.fastinf.bootstrap(
            (self.x,), np.mean, n_resamples=N_RESAMPLES, method=method,
            resampling=resampling, rng=RESAMPLE_SEED,
        )

    def time_bootstrap(self, n, method, resampling):
        self._run(method, resampling)

    def peakmem_bootstrap(self, n, method, resampling):
        self._run(method, resampling)


class ScipyBootstrapMean:
    """Reference for :class:`BootstrapMean` (multinomial: scipy has no Poisson bootstrap)."""

    params = (SIZES, METHODS)
    param_names = ["n", "method"]
    number = 1
    repeat = 1
    rounds = 1
    warmup_time = 0.0
    timeout = 1800

    def setup(self, n, method):
        from scipy import stats

        self.stats = stats
        self.x = normal_sample(n)
        stats.bootstrap((self.x[:100],), np.mean, n_resamples=19, method=method, rng=0)

    def _run(self, method):
        return self.stats.bootstrap(
            (self.x,), np.mean, n_resamples=N_RESAMPLES, method=method,
            batch=SCIPY_BOOTSTRAP_BATCH[method], rng=RESAMPLE_SEED,
        )

    def time_bootstrap(self, n, method):
        self._run(method)

    def peakmem_bootstrap(self, n, method):
        self._run(method)


class RaggedBootstrap:
    """Case (3): many experiments of different sizes (BCa), in one call."""

    params = (RAGGED_EXPERIMENTS,)
    param_names = ["n_experiments"]
    number = 1
    repeat = (1, 3, 60.0)
    warmup_time = 0.0
    timeout = 900

    def setup(self, n_experiments):
        import fastinf

        warm = fastinf.Ragged.from_arrays(ragged_arrays(3, 10, 20))
        fastinf.bootstrap((warm,), np.mean, n_resamples=19, method="BCa", rng=0)
        self.fastinf = fastinf
        self.data = (fastinf.Ragged.from_arrays(ragged_arrays(n_experiments, *RAGGED_SIZES)),)

    def _run(self):
        return self.fastinf.bootstrap(
            self.data, np.mean, n_resamples=RAGGED_RESAMPLES, method="BCa", rng=RESAMPLE_SEED
        )

    def time_bootstrap(self, n_experiments):
        self._run()

    def peakmem_bootstrap(self, n_experiments):
        self._run()


class ScipyRaggedBootstrap:
    """Reference for :class:`RaggedBootstrap`: scipy in a Python loop over experiments.

    Linear in the number of experiments; fewer are timed (see
    ``SCIPY_RAGGED_EXPERIMENTS``) and the time of 5 000 is 100x that of 50.
    """

    params = (SCIPY_RAGGED_EXPERIMENTS,)
    param_names = ["n_experiments"]
    number = 1
    repeat = 1
    rounds = 1
    warmup_time = 0.0
    timeout = 1800

    def setup(self, n_experiments):
        from scipy import stats

        self.stats = stats
        self.arrays = ragged_arrays(n_experiments, *RAGGED_SIZES)
        stats.bootstrap((self.arrays[0][:50],), np.mean, n_resamples=19, method="BCa", rng=0)

    def time_bootstrap(self, n_experiments):
        rng = np.random.default_rng(RESAMPLE_SEED)
        for x in self.arrays:
            self.stats.bootstrap(
                (x,), np.mean, n_resamples=RAGGED_RESAMPLES, method="BCa", rng=rng
            )


class BootstrapAgreement:
    """Interval endpoints against scipy's, in units of scipy's interval width.

    The two use different random streams, so the gap is Monte Carlo noise;
    :class:`ScipyBootstrapAgreement` tracks the noise between two scipy seeds,
    the level this should match.
    """

    params = (["percentile", "basic", "BCa"],)
    param_names = ["method"]
    n = 2000
    timeout = 300

    def setup(self, method):
        from scipy import stats

        import fastinf

        x = normal_sample(self.n)
        self.ours = fastinf.bootstrap(
            (x,), np.mean, n_resamples=N_RESAMPLES, method=method, rng=RESAMPLE_SEED
        ).confidence_interval
        self.ref = stats.bootstrap(
            (x,), np.mean, n_resamples=N_RESAMPLES, method=method, rng=RESAMPLE_SEED
        ).confidence_interval

    def track_endpoint_gap(self, method):
        return interval_gap(self.ours.low, self.ours.high, self.ref.low, self.ref.high)

    track_endpoint_gap.unit = "interval widths"


class ScipyBootstrapAgreement:
    """Reference for :class:`BootstrapAgreement`: scipy against scipy with another seed."""

    params = (["percentile", "basic", "BCa"],)
    param_names = ["method"]
    n = 2000
    timeout = 300

    def setup(self, method):
        from scipy import stats

        x = normal_sample(self.n)
        self.other = stats.bootstrap(
            (x,), np.mean, n_resamples=N_RESAMPLES, method=method, rng=RESAMPLE_SEED + 1
        ).confidence_interval
        self.ref = stats.bootstrap(
            (x,), np.mean, n_resamples=N_RESAMPLES, method=method, rng=RESAMPLE_SEED
        ).confidence_interval

    def track_endpoint_gap(self, method):
        return interval_gap(self.other.low, self.other.high, self.ref.low, self.ref.high)

    track_endpoint_gap.unit = "interval widths"


def _exponential_experiments(n_experiments=1000, n=30):
    """Skewed data (mean 1), where the methods' coverages differ."""
    return np.random.default_rng(RESAMPLE_SEED).exponential(size=(n_experiments, n))


class BootstrapCoverage:
    """Coverage of the true mean over 1 000 exponential samples of 30 (nominal 0.95).

    The Monte Carlo standard error of a coverage near 0.93 over 1 000
    experiments is 0.008; compare with :class:`ScipyBootstrapCoverage`.
    """

    params = (["percentile", "basic", "BCa", "studentized"],)
    param_names = ["method"]
    timeout = 300

    def setup(self, method):
        import fastinf

        data = _exponential_experiments()
        ci = fastinf.bootstrap(
            (data,), np.mean, n_resamples=1999, method=method, axis=-1, rng=RESAMPLE_SEED
        ).confidence_interval
        self.coverage = float(np.mean((ci.low <= 1.0) & (1.0 <= ci.high)))

    def track_coverage(self, method):
        return self.coverage

    track_coverage.unit = "fraction"


class ScipyBootstrapCoverage:
    """Reference for :class:`BootstrapCoverage` (scipy has no studentized interval)."""

    params = (["percentile", "basic", "BCa"],)
    param_names = ["method"]
    timeout = 600

    def setup(self, method):
        from scipy import stats

        data = _exponential_experiments()
        ci = stats.bootstrap(
            (data,), np.mean, n_resamples=1999, method=method, axis=-1, batch=100,
            rng=RESAMPLE_SEED,
        ).confidence_interval
        self.coverage = float(np.mean((ci.low <= 1.0) & (1.0 <= ci.high)))

    def track_coverage(self, method):
        return self.coverage

    track_coverage.unit = "fraction"


_FIRST_CALL_DATA = "x = np.random.default_rng(0).normal(size=10_000)"
_FIRST_CALL = "fastinf.bootstrap((x,), np.mean, n_resamples=999, method='BCa', rng=0)"


class BootstrapFirstCall:
    """Import + first call in a fresh process: cold compile vs on-disk kernel cache."""

    params = (["cold", "cached"],)
    param_names = ["cache"]
    number = 1
    repeat = (1, 3, 60.0)
    rounds = 1
    warmup_time = 0.0
    timeout = 600

    def setup(self, cache):
        self.tmp = tempfile.mkdtemp(prefix="fastinf-asv-")
        if cache == "cached":
            fill_kernel_cache(self.tmp, _FIRST_CALL_DATA, _FIRST_CALL)

    def teardown(self, cache):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def timeraw_import_and_first_call(self, cache):
        where = f"tempfile.mkdtemp(dir={self.tmp!r})" if cache == "cold" else repr(self.tmp)
        return first_call_code(where, _FIRST_CALL_DATA, _FIRST_CALL)


class ScipyBootstrapFirstCall:
    """Reference for :class:`BootstrapFirstCall`: import scipy.stats + first call."""

    number = 1
    repeat = (1, 3, 60.0)
    rounds = 1
    warmup_time = 0.0
    timeout = 300

    def timeraw_import_and_first_call(self):
        stmt = (
            "from scipy import stats\n"
            "stats.bootstrap((x,), np.mean, n_resamples=999, method='BCa', rng=0)"
        )
        return stmt, "import numpy as np\n" + _FIRST_CALL_DATA
