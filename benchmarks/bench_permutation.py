"""asv benchmarks: ``fastinf.permutation_test`` against ``scipy.stats.permutation_test``.

Case (2) of the issue: difference of means of two samples of ``n`` each,
9 999 permutations. scipy's time depends on ``batch`` (it materialises
``batch`` permuted copies of the pooled data; at ``batch=None`` that is
9 999 x 100 000 floats and runs out of memory), so its reference class
sweeps ``batch``. fastinf ignores ``batch``.

A build without ``fastinf.permutation_test`` skips the fastinf classes
(``NotImplementedError`` in ``setup``) instead of failing discovery.
"""

from __future__ import annotations

import shutil
import tempfile

import numpy as np

from . import (
    QUICK,
    RESAMPLE_SEED,
    fill_kernel_cache,
    first_call_code,
    scipy_mean_diff,
    two_samples,
)

N_RESAMPLES = 9999
SIZES = [5_000] if QUICK else [5_000, 50_000]  # per sample
SCIPY_BATCHES = [1, 10, 100]


def _fastinf_permutation_test():
    """``fastinf.permutation_test``, or skip the benchmark where it does not exist yet."""
    import fastinf

    try:
        return fastinf.permutation_test
    except (ImportError, AttributeError) as exc:
        raise NotImplementedError(f"fastinf.permutation_test is unavailable: {exc}") from exc


class PermutationMeanDiff:
    """Difference of means, two independent samples of ``n`` each."""

    params = (SIZES,)
    param_names = ["n"]
    number = 1
    repeat = (1, 5, 20.0)
    warmup_time = 0.0
    timeout = 300

    def setup(self, n):
        self.permutation_test = _fastinf_permutation_test()
        x, y = two_samples(200)
        self.permutation_test((x, y), "mean_diff", n_resamples=19, rng=0)
        self.data = two_samples(n)

    def _run(self):
        return self.permutation_test(
            self.data, "mean_diff", n_resamples=N_RESAMPLES, rng=RESAMPLE_SEED
        )

    def time_permutation_test(self, n):
        self._run()

    def peakmem_permutation_test(self, n):
        self._run()


class ScipyPermutationMeanDiff:
    """Reference for :class:`PermutationMeanDiff`, over scipy's ``batch``."""

    params = (SIZES, SCIPY_BATCHES)
    param_names = ["n", "batch"]
    number = 1
    repeat = 1
    rounds = 1
    warmup_time = 0.0
    timeout = 900

    def setup(self, n, batch):
        from scipy import stats

        self.stats = stats
        self.data = two_samples(n)
        x, y = two_samples(200)
        stats.permutation_test((x, y), scipy_mean_diff, vectorized=True, n_resamples=19, rng=0)

    def _run(self, batch):
        return self.stats.permutation_test(
            self.data, scipy_mean_diff, vectorized=True, n_resamples=N_RESAMPLES,
            batch=batch, rng=RESAMPLE_SEED,
        )

    def time_permutation_test(self, n, batch):
        self._run(batch)

    def peakmem_permutation_test(self, n, batch):
        self._run(batch)


def _pvalue_gap(p, q):
    """``|p - q|`` in standard errors of the difference of two independent estimates.

    A two-sided p-value near ``q`` from ``B`` random permutations is twice a
    one-sided one near ``q / 2``: its Monte Carlo standard error is
    ``2 sqrt(q/2 (1 - q/2) / B)``, and that of a difference of two
    independent estimates is ``sqrt(2)`` times more. The gap of two correct
    implementations is then about ``|N(0, 1)|``: 0.8 on average, rarely above 2.5.
    """
    half = q / 2.0
    se = np.sqrt(2.0) * 2.0 * np.sqrt(half * (1.0 - half) / (N_RESAMPLES + 1))
    return float(abs(p - q) / se)


class PermutationAgreement:
    """p-value against scipy's (two samples of 2 000, p near 0.05), in Monte Carlo SEs.

    The random streams differ, so the gap is noise (see ``_pvalue_gap``);
    :class:`ScipyPermutationAgreement` tracks scipy against itself.
    """

    timeout = 300

    def setup(self):
        from scipy import stats

        permutation_test = _fastinf_permutation_test()
        data = two_samples(2000, shift=0.062)
        self.ours = permutation_test(
            data, "mean_diff", n_resamples=N_RESAMPLES, rng=RESAMPLE_SEED
        ).pvalue
        self.ref = stats.permutation_test(
            data, scipy_mean_diff, vectorized=True, n_resamples=N_RESAMPLES, rng=RESAMPLE_SEED
        ).pvalue

    def track_pvalue_gap(self):
        return _pvalue_gap(self.ours, self.ref)

    track_pvalue_gap.unit = "standard errors"


class ScipyPermutationAgreement:
    """Reference for :class:`PermutationAgreement`: scipy against scipy with another seed."""

    timeout = 300

    def setup(self):
        from scipy import stats

        data = two_samples(2000, shift=0.062)
        self.other, self.ref = (
            stats.permutation_test(
                data, scipy_mean_diff, vectorized=True, n_resamples=N_RESAMPLES, rng=seed
            ).pvalue
            for seed in (RESAMPLE_SEED + 1, RESAMPLE_SEED)
        )

    def track_pvalue_gap(self):
        return _pvalue_gap(self.other, self.ref)

    track_pvalue_gap.unit = "standard errors"


def _null_experiments(n_experiments=1000, n=30):
    """Two samples per experiment from the same distribution (the null holds)."""
    rng = np.random.default_rng(RESAMPLE_SEED)
    return rng.normal(size=(n_experiments, n)), rng.normal(size=(n_experiments, n))


class PermutationNullRejection:
    """Rejection rate at 5 % over 1 000 null experiments (nominal 0.05, MC SE 0.007)."""

    timeout = 300

    def setup(self):
        permutation_test = _fastinf_permutation_test()
        p = permutation_test(
            _null_experiments(), "mean_diff", n_resamples=999, axis=-1, rng=RESAMPLE_SEED
        ).pvalue
        self.rate = float(np.mean(p <= 0.05))

    def track_rejection_rate(self):
        return self.rate

    track_rejection_rate.unit = "fraction"


class ScipyPermutationNullRejection:
    """Reference for :class:`PermutationNullRejection`."""

    timeout = 300

    def setup(self):
        from scipy import stats

        p = stats.permutation_test(
            _null_experiments(), scipy_mean_diff, vectorized=True, n_resamples=999,
            axis=-1, batch=50, rng=RESAMPLE_SEED,
        ).pvalue
        self.rate = float(np.mean(p <= 0.05))

    def track_rejection_rate(self):
        return self.rate

    track_rejection_rate.unit = "fraction"


_FIRST_CALL_DATA = (
    "rng = np.random.default_rng(0)\n"
    "data = (rng.normal(size=5_000), rng.normal(size=5_000))"
)
_FIRST_CALL = "fastinf.permutation_test(data, 'mean_diff', n_resamples=999, rng=0)"


class PermutationFirstCall:
    """Import + first call in a fresh process: cold compile vs on-disk kernel cache."""

    params = (["cold", "cached"],)
    param_names = ["cache"]
    number = 1
    repeat = (1, 3, 60.0)
    rounds = 1
    warmup_time = 0.0
    timeout = 600

    def setup(self, cache):
        _fastinf_permutation_test()
        self.tmp = tempfile.mkdtemp(prefix="fastinf-asv-")
        if cache == "cached":
            fill_kernel_cache(self.tmp, _FIRST_CALL_DATA, _FIRST_CALL)

    def teardown(self, cache):
        if hasattr(self, "tmp"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def timeraw_import_and_first_call(self, cache):
        where = f"tempfile.mkdtemp(dir={self.tmp!r})" if cache == "cold" else repr(self.tmp)
        return first_call_code(where, _FIRST_CALL_DATA, _FIRST_CALL)


class ScipyPermutationFirstCall:
    """Reference for :class:`PermutationFirstCall`: import scipy.stats + first call."""

    number = 1
    repeat = (1, 3, 60.0)
    rounds = 1
    warmup_time = 0.0
    timeout = 300

    def timeraw_import_and_first_call(self):
        stmt = (
            "from scipy import stats\n"
            "stats.permutation_test(data, lambda x, y, axis: x.mean(axis) - y.mean(axis),\n"
            "                       vectorized=True, n_resamples=999, rng=0)"
        )
        return stmt, "import numpy as np\n" + _FIRST_CALL_DATA
