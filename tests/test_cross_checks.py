"""Cross-checks between engines: exact Bayesian A/B answers against MH draws.

``fastinf.bayes`` computes P(p_B > p_A) and the expected losses by
quadrature; ``fastinf.mcmc`` samples each arm's Beta posterior with its
built-in binomial target (a logit-scale random walk whose stationary law is
exactly Beta(a + k, b + n - k)). Functions of the draws must agree with the
exact answers within Monte-Carlo error. The MC standard error of a mean of
``g(p_A, p_B)`` is estimated from the draws' own bulk ESS (the two arms'
chains are independent, so pairing draw ``i`` of A with draw ``i`` of B
gives a valid joint sample), and the tolerance is 5 standard errors: a
false-failure probability of about 6e-7 per comparison under the normal
approximation to the MC error.
"""

import numpy as np
import pytest

from fastinf.bayes import beta_binomial_ab
from fastinf.diagnostics import ess
from fastinf.mcmc import binomial_target, metropolis

# (successes_a, trials_a, successes_b, trials_b, prior_alpha, prior_beta)
CASES = [
    (48, 1000, 63, 1000, 1.0, 1.0),   # a realistic conversion test
    (3, 20, 7, 20, 1.0, 1.0),         # small counts, skewed posteriors
    (0, 15, 2, 15, 0.5, 0.5),         # zero successes, Jeffreys prior
    (500, 5000, 500, 5000, 2.0, 8.0),  # identical arms: chance 1/2
]


def _posterior_rates(s_a, n_a, s_b, n_b, a, b, seed):
    data = [np.array([[s_a, n_a]], dtype=float), np.array([[s_b, n_b]], dtype=float)]
    res = metropolis(binomial_target(a, b), data, n_chains=4, n_draws=6000,
                     n_warmup=1500, rng=seed)
    assert np.all(res.rhat < 1.01)
    p = 1.0 / (1.0 + np.exp(-res.draws[..., 0]))  # (arm, chain, draw)
    return p[0], p[1]


def _mc_mean_and_se(g):
    """Mean of g over (chain, draw) and its MC standard error from the bulk ESS."""
    n_eff = ess(g, method="mean")
    return g.mean(), g.std(ddof=1) / np.sqrt(n_eff)


@pytest.mark.parametrize("case", CASES)
def test_beta_binomial_ab_agrees_with_metropolis_draws(case):
    s_a, n_a, s_b, n_b, a, b = case
    exact = beta_binomial_ab(s_a, n_a, s_b, n_b, prior_alpha=a, prior_beta=b)
    p_a, p_b = _posterior_rates(s_a, n_a, s_b, n_b, a, b, seed=20261201 + s_a)
    checks = {
        "chance_to_win": (p_b > p_a).astype(float),
        "expected_loss_a": np.maximum(p_b - p_a, 0.0),
        "expected_loss_b": np.maximum(p_a - p_b, 0.0),
    }
    for name, g in checks.items():
        mean, se = _mc_mean_and_se(g)
        assert abs(mean - float(getattr(exact, name))) < 5 * se + 1e-12, (name, mean, se)
    # The credible interval of each rate: its endpoints are the exact
    # quantiles, so the draws' coverage of it is 0.95 within MC error.
    for p, ci in ((p_a, exact.rate_a_interval), (p_b, exact.rate_b_interval)):
        inside = ((p >= ci.low) & (p <= ci.high)).astype(float)
        mean, se = _mc_mean_and_se(inside)
        assert abs(mean - 0.95) < 5 * se, (mean, se)
