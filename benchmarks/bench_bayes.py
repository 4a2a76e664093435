"""asv benchmarks: ``fastinf.bayes`` against scipy quadrature and NumPy Monte-Carlo.

Beta-binomial chance to win (and the full result) for batches of
experiments with trials in [1e3, 1e6] and rates in [1 %, 20 %]. The
references run per experiment (a ``scipy.integrate.quad`` loop) or per
chunk (10 000 NumPy Beta draws per arm and experiment), on small batches.
"""

from __future__ import annotations

import numpy as np

from . import QUICK

SIZES = [10_000] if QUICK else [10_000, 1_000_000]
FULL_SIZES = [1_000] if QUICK else [1_000, 100_000]
REF_SIZES = [100]


def _experiments(size):
    rng = np.random.default_rng(20240611)
    n_a = rng.integers(1_000, 1_000_001, size)
    n_b = rng.integers(1_000, 1_000_001, size)
    p_a = rng.uniform(0.01, 0.20, size)
    p_b = p_a * rng.uniform(0.97, 1.03, size)
    return rng.binomial(n_a, p_a), n_a, rng.binomial(n_b, p_b), n_b


class ChanceToWin:
    """fastinf: P(p_B > p_A) for a batch of experiments."""

    params = [SIZES]
    param_names = ["experiments"]
    timeout = 300

    def setup(self, size):
        from fastinf.bayes import beta_binomial_chance_to_win

        self.fn = beta_binomial_chance_to_win
        self.data = _experiments(size)
        self.fn(*(d[:10] for d in self.data))

    def time_chance_to_win(self, size):
        self.fn(*self.data)


class FullResult:
    """fastinf: chance, losses and all credible intervals."""

    params = [FULL_SIZES]
    param_names = ["experiments"]
    timeout = 600

    def setup(self, size):
        from fastinf.bayes import beta_binomial_ab

        self.fn = beta_binomial_ab
        self.data = _experiments(size)
        self.fn(*(d[:10] for d in self.data))

    def time_full_result(self, size):
        self.fn(*self.data)


class QuadChanceToWin:
    """Reference for :class:`ChanceToWin`: a loop of scipy.integrate.quad."""

    params = [REF_SIZES]
    param_names = ["experiments"]
    number = 1
    repeat = 1
    timeout = 600

    def setup(self, size):
        from .compare_bayes import quad_chance

        self.fn = quad_chance
        self.data = _experiments(size)

    def time_chance_to_win(self, size):
        self.fn(*self.data)


class MonteCarloChanceToWin:
    """Reference for :class:`ChanceToWin` and :class:`FullResult`: 10 000 NumPy draws."""

    params = [REF_SIZES, [False, True]]
    param_names = ["experiments", "full"]
    number = 1
    repeat = 1
    timeout = 600

    def setup(self, size, full):
        from .compare_bayes import monte_carlo

        self.fn = monte_carlo
        self.data = _experiments(size)

    def time_monte_carlo(self, size, full):
        self.fn(*self.data, full=full)


class TrackAccuracy:
    """Largest absolute difference of fastinf's chance to win from scipy quad."""

    params = [REF_SIZES]
    param_names = ["experiments"]
    timeout = 600

    def setup(self, size):
        self.data = _experiments(size)

    def track_max_abs_diff_vs_quad(self, size):
        from fastinf.bayes import beta_binomial_chance_to_win

        from .compare_bayes import quad_chance

        return float(np.max(np.abs(beta_binomial_chance_to_win(*self.data)
                                   - quad_chance(*self.data))))
