r"""Bayesian A/B answers, exact and vectorised: Beta-binomial and normal-normal.

Experimentation platforms report, per experiment, the posterior *chance to
win* (the probability that the treatment B beats the control A), the
*expected loss* (risk) of each decision and credible intervals. Many compute
them by drawing 10 000 posterior samples per experiment; here they are
computed exactly, for thousands to millions of experiments in one call.

:func:`beta_binomial_ab` models conversion rates: with a ``Beta(alpha,
beta)`` prior, arm X's rate has the posterior ``Beta(alpha + successes_X,
beta + trials_X - successes_X)``. Its quantities are one-dimensional
integrals of one posterior against the other's distribution function (see
its Notes). A Numba kernel (:mod:`fastinf.kernels.bayes`) evaluates them by
exact inversion of closed-form characteristic functions where both arms
have at least ~400 conversions and non-conversions (the log-odds of a Beta
rate is a difference of log-Gamma variables), and otherwise by
Gauss-Legendre quadrature on panels placed where both posteriors
concentrate, in the log-odds, where every Beta density is smooth and
log-concave. Both are exact to ~1e-14 in the tests (see
``tests/test_bayes.py``), from zero successes to 1e7 trials. Credible
intervals of the rates, the lift ``p_B / p_A - 1`` and the difference
``p_B - p_A`` come from Newton iterations on exact distribution functions;
for small parameters the rates' are :func:`scipy.special.betaincinv`'s
(what ``scipy.stats.beta.ppf`` computes).

:func:`normal_ab` is the normal-normal model of GrowthBook's ``gbstats``
(``EffectBayesianABTest``): the estimated effect (relative, by the delta
method, or absolute) with its standard error, a flat or normal prior on the
effect, and the normal posterior's chance to win, risks and interval, all in
closed form. :func:`normal_ab_from_estimate` takes the estimate and standard
error directly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from fastinf._results import ConfidenceInterval

__all__ = [
    "BetaBinomialABResult",
    "NormalABResult",
    "beta_binomial_ab",
    "beta_binomial_chance_to_win",
    "normal_ab",
    "normal_ab_from_estimate",
]

#: Declines of the log density (from its mode) at which panels are cut; the
#: outermost bounds the truncated mass of each tail by about exp(-40.5).
_LEVELS = np.array([4.5, 18.0, 40.5])
#: Gauss-Legendre nodes per panel.
_NODES = 16
#: Decline of the log density beyond which an arm's support is cut (rate space).
_TAIL_LEVEL = np.array([43.0])
_NAN_POLICIES = ("propagate", "raise")


@functools.lru_cache(maxsize=4)
def _rule(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1] and the indefinite-integration matrix.

    ``cumul[k, j]`` is the integral from -1 to node ``k`` of the Lagrange
    basis polynomial of node ``j``, so ``cumul @ f`` integrates the degree
    ``n - 1`` interpolant of ``f`` from -1 to every node. Built from Legendre
    polynomials: the interpolant's coefficients are ``c_m = (2m + 1) / 2 sum_j
    w_j P_m(x_j) f_j`` (exact discrete orthogonality), and ``int_{-1}^x P_m``
    is a Legendre series too.
    """
    from numpy.polynomial import legendre

    x, w = legendre.leggauss(n)
    eye = np.eye(n)
    p = np.array([legendre.legval(x, eye[m]) for m in range(n)])  # p[m, j] = P_m(x_j)
    a = np.column_stack([legendre.legval(x, legendre.legint(eye[m], lbnd=-1)) for m in range(n)])
    coef = (2.0 * np.arange(n)[:, None] + 1.0) / 2.0 * w[None, :] * p
    return x, w, np.ascontiguousarray(a @ coef)


# --------------------------------------------------------------------------
# validation


def _where(shape: tuple[int, ...], bad: np.ndarray, values: np.ndarray) -> str:
    """Text naming the first bad experiment (or the value, for scalar input)."""
    if len(shape) == 0:
        return f"got {values.reshape(-1)[0].item()!r}"
    flat = int(np.argmax(bad.reshape(-1)))
    idx = tuple(int(i) for i in np.unravel_index(flat, shape))
    return f"experiment {idx} has {values.reshape(-1)[flat].item()!r}"


def _as_float(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # pragma: no cover - ragged nested lists
        raise TypeError(f"`{name}` must be a number or an array of numbers.") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must be a number or an array of numbers; got dtype {arr.dtype}.")
    return arr.astype(np.float64, copy=False)


def _broadcast(named: dict[str, np.ndarray]) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*(a.shape for a in named.values())))
    except ValueError:
        shapes = ", ".join(f"`{k}` {a.shape}" for k, a in named.items())
        raise ValueError(f"the arguments do not broadcast together: {shapes}.") from None


def _level_iv(credible_level: Any) -> float:
    try:
        level = float(credible_level)
    except (TypeError, ValueError):
        raise TypeError("`credible_level` must be a number in (0, 1).") from None
    if not 0.0 < level < 1.0:
        raise ValueError(f"`credible_level` must be in the open interval (0, 1); got {level!r}.")
    return level


def _nan_policy_iv(nan_policy: Any) -> str:
    if nan_policy not in _NAN_POLICIES:
        raise ValueError(f"`nan_policy` must be one of {set(_NAN_POLICIES)}; got {nan_policy!r}.")
    return str(nan_policy)


@dataclass(frozen=True)
class _BetaInputs:
    shape: tuple[int, ...]
    alpha_a: np.ndarray  # flat, C-contiguous float64; NaN where a count is NaN
    beta_a: np.ndarray
    alpha_b: np.ndarray
    beta_b: np.ndarray


def _beta_binomial_iv(
    successes_a: Any, trials_a: Any, successes_b: Any, trials_b: Any,
    prior_alpha: Any, prior_beta: Any, prior_alpha_b: Any, prior_beta_b: Any,
    nan_policy: Any,
) -> _BetaInputs:
    """Validate counts and priors; return the posterior parameters, flattened."""
    nan_policy = _nan_policy_iv(nan_policy)
    counts = {
        "successes_a": _as_float("successes_a", successes_a),
        "trials_a": _as_float("trials_a", trials_a),
        "successes_b": _as_float("successes_b", successes_b),
        "trials_b": _as_float("trials_b", trials_b),
    }
    priors = {
        "prior_alpha": _as_float("prior_alpha", prior_alpha),
        "prior_beta": _as_float("prior_beta", prior_beta),
    }
    priors["prior_alpha_b"] = (
        priors["prior_alpha"] if prior_alpha_b is None else _as_float("prior_alpha_b", prior_alpha_b)
    )
    priors["prior_beta_b"] = (
        priors["prior_beta"] if prior_beta_b is None else _as_float("prior_beta_b", prior_beta_b)
    )
    shape = _broadcast({**counts, **priors})
    full = {k: np.broadcast_to(v, shape) for k, v in {**counts, **priors}.items()}
    for name in priors:
        v = full[name]
        bad = ~(np.isfinite(v) & (v > 0))
        if bad.any():
            raise ValueError(f"`{name}` must be positive and finite; {_where(shape, bad, v)}.")
    for name in counts:
        v = full[name]
        nan = np.isnan(v)
        if nan_policy == "raise" and nan.any():
            raise ValueError(f"`{name}` contains NaN; {_where(shape, nan, v)}.")
        bad = ~nan & ~((v >= 0) & np.isfinite(v) & (v == np.floor(v)))
        if bad.any():
            raise ValueError(
                f"`{name}` must hold non-negative integers; {_where(shape, bad, v)}."
            )
    for arm in ("a", "b"):
        s, n = full[f"successes_{arm}"], full[f"trials_{arm}"]
        bad = s > n
        if bad.any():
            flat = int(np.argmax(bad.reshape(-1)))
            where = "" if not shape else (
                f" in experiment {tuple(int(i) for i in np.unravel_index(flat, shape))}"
            )
            raise ValueError(
                f"`successes_{arm}` must not exceed `trials_{arm}`; got "
                f"{s.reshape(-1)[flat].item()!r} > {n.reshape(-1)[flat].item()!r}{where}."
            )

    def flatten(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x, dtype=np.float64).reshape(-1)

    sa, na, sb, nb = (full[k] for k in counts)
    return _BetaInputs(
        shape,
        flatten(full["prior_alpha"] + sa),
        flatten(full["prior_beta"] + (na - sa)),
        flatten(full["prior_alpha_b"] + sb),
        flatten(full["prior_beta_b"] + (nb - sb)),
    )


def _shaped(x: np.ndarray, shape: tuple[int, ...]) -> Any:
    out = x.reshape(shape)
    return out[()] if out.ndim == 0 else out


# --------------------------------------------------------------------------
# Beta-binomial


@dataclass(frozen=True, slots=True)
class BetaBinomialABResult:
    """Result of :func:`beta_binomial_ab`; every array has the experiments' shape.

    Attributes
    ----------
    chance_to_win : float or ndarray
        ``P(p_B > p_A)``, the posterior probability that B's rate is higher.
    expected_loss_a : float or ndarray
        ``E[max(p_B - p_A, 0)]``: the expected loss (in rate) of choosing A,
        the "risk" of keeping the control.
    expected_loss_b : float or ndarray
        ``E[max(p_A - p_B, 0)]``: the expected loss of choosing B.
    rate_a_interval, rate_b_interval : ConfidenceInterval
        Equal-tailed credible intervals ``(low, high)`` of each rate.
    lift_interval : ConfidenceInterval
        Equal-tailed credible interval of the relative lift ``p_B / p_A - 1``.
    difference_interval : ConfidenceInterval
        Equal-tailed credible interval of ``p_B - p_A``.
    mean_a, mean_b : float or ndarray
        Posterior means of the rates, ``alpha / (alpha + beta)``.
    alpha_a, beta_a, alpha_b, beta_b : float or ndarray
        Parameters of the Beta posteriors.
    credible_level : float
        The level of the intervals.

    Intervals are ``None`` when computed with ``intervals=False``.
    """

    chance_to_win: Any
    expected_loss_a: Any
    expected_loss_b: Any
    rate_a_interval: ConfidenceInterval | None
    rate_b_interval: ConfidenceInterval | None
    lift_interval: ConfidenceInterval | None
    difference_interval: ConfidenceInterval | None
    mean_a: Any
    mean_b: Any
    alpha_a: Any
    beta_a: Any
    alpha_b: Any
    beta_b: Any
    credible_level: float


def beta_binomial_ab(
    successes_a: Any,
    trials_a: Any,
    successes_b: Any,
    trials_b: Any,
    *,
    prior_alpha: Any = 1.0,
    prior_beta: Any = 1.0,
    prior_alpha_b: Any = None,
    prior_beta_b: Any = None,
    credible_level: float = 0.95,
    intervals: bool = True,
    nan_policy: str = "propagate",
) -> BetaBinomialABResult:
    r"""Exact Beta-binomial A/B analysis: chance to win, expected losses, credible intervals.

    Parameters
    ----------
    successes_a, trials_a, successes_b, trials_b : array_like
        Conversions and trials (users) of the control A and the treatment B,
        non-negative integers with ``successes <= trials``. The four arrays
        broadcast together; every element is one experiment, any shape.
    prior_alpha, prior_beta : array_like, default: 1.0
        The ``Beta(prior_alpha, prior_beta)`` prior of the rates (1, 1:
        uniform; 0.5, 0.5: Jeffreys), positive; scalars or arrays that
        broadcast with the counts (one prior per experiment).
    prior_alpha_b, prior_beta_b : array_like, optional
        A different prior for arm B; by default B has A's prior.
    credible_level : float, default: 0.95
        Level of the equal-tailed credible intervals (the analogue of
        scipy's ``confidence_level``).
    intervals : bool, default: True
        Compute the credible intervals. Chance to win and losses alone are
        several times faster (every interval needs a root search).
    nan_policy : {'propagate', 'raise'}, default: 'propagate'
        A NaN count makes that experiment's results NaN, or raises.

    Returns
    -------
    BetaBinomialABResult
        ``chance_to_win``, ``expected_loss_a``, ``expected_loss_b``,
        ``rate_a_interval``, ``rate_b_interval``, ``lift_interval``,
        ``difference_interval`` and the posterior parameters, with the
        experiments' shape (scalars for scalar input).

    Notes
    -----
    With posteriors :math:`p_A \sim \mathrm{Beta}(\alpha_A, \beta_A)` and
    :math:`p_B \sim \mathrm{Beta}(\alpha_B, \beta_B)`, densities :math:`f`
    and distribution functions :math:`F`,

    .. math::

        P(p_B > p_A) = \int_0^1 f_A(x) \, (1 - F_B(x)) \, dx .

    The expected loss of choosing A is :math:`E[\max(p_B - p_A, 0)]` and of
    choosing B is :math:`E[\max(p_A - p_B, 0)]`, as in the VWO whitepaper
    [2]_ and Stucchio's decision rule [3]_. Since
    :math:`x f(x; \alpha, \beta) = \frac{\alpha}{\alpha + \beta}
    f(x; \alpha + 1, \beta)`,

    .. math::

        E[\max(p_B - p_A, 0)] = \frac{\alpha_B}{\alpha_B + \beta_B}
            P(p_B^+ > p_A) - \frac{\alpha_A}{\alpha_A + \beta_A} P(p_B > p_A^+),

    with :math:`p^+` the posterior with :math:`\alpha + 1`; for integer
    parameters each probability has Evan Miller's closed form [1]_
    (:math:`O(\alpha_B)` terms). In log-odds :math:`T = \log(p / (1 - p))`,
    distributed as :math:`\log G_\alpha - \log G_\beta` (independent Gamma
    variables), the moment generating function of :math:`D = T_B - T_A` is

    .. math::

        M(s) = \frac{\Gamma(\alpha_B + s) \Gamma(\beta_B - s)
            \Gamma(\alpha_A - s) \Gamma(\beta_A + s)}
            {\Gamma(\alpha_B) \Gamma(\beta_B) \Gamma(\alpha_A) \Gamma(\beta_A)};

    the shift :math:`\alpha \to \alpha + 1` multiplies it by a linear factor,
    so the identity above becomes :math:`E[\max(p_B - p_A, 0)] = (m_B - m_A)
    P(D > 0) + (1 / n_A + 1 / n_B) g_D(0)` (:math:`n = \alpha + \beta`,
    :math:`g_D` the density of :math:`D`). For large parameters the kernel
    inverts :math:`M(iu)` (Gil-Pelaez [5]_, trapezoid rule, aliasing bounded
    by Chernoff); otherwise it integrates :math:`\int f_A(x) \int_x^1 (y - x)
    f_B(y) \, dy \, dx` by quadrature.

    The lift's distribution function is
    :math:`P(p_B / p_A \le r) = \int_0^1 f_A(x) F_B(r x) \, dx` (for
    :math:`r > 1` written as :math:`\int f_B(y) (1 - F_A(y / r)) dy`, so the
    argument stays in [0, 1]), the difference's
    :math:`P(p_B - p_A \le d) = \int f_A(x) F_B(x + d) \, dx`; their
    quantiles are found to ~1e-15 in probability.

    Identical posteriors give a chance to win of exactly 1/2 and equal losses.

    References
    ----------
    .. [1] E. Miller, "Formulas for Bayesian A/B testing" (2015),
       https://www.evanmiller.org/bayesian-ab-testing.html
    .. [2] C. Stucchio, "Bayesian A/B testing at VWO", VWO whitepaper (2015).
    .. [3] C. Stucchio, "Easy evaluation of decision rules in Bayesian A/B
       testing" (2014), https://www.chrisstucchio.com/blog/2014/bayesian_ab_decision_rule.html
    .. [4] C. Loader, "Fast and accurate computation of binomial
       probabilities" (2000).
    .. [5] J. Gil-Pelaez, "Note on the inversion theorem", Biometrika 38
       (1951), 481-482.

    Examples
    --------
    >>> from fastinf.bayes import beta_binomial_ab
    >>> res = beta_binomial_ab(100, 1000, 125, 1000)
    >>> print(f"{res.chance_to_win:.4f}")
    0.9614
    >>> print(f"{res.expected_loss_a:.5f} {res.expected_loss_b:.5f}")
    0.02517 0.00022
    >>> low, high = res.lift_interval
    >>> print(f"{low:.3f} {high:.3f}")
    -0.024 0.601

    Thousands of experiments at once:

    >>> import numpy as np
    >>> n = np.full(3, 10_000)
    >>> res = beta_binomial_ab([1000, 1000, 1000], n, [1000, 1050, 1100], n)
    >>> res.chance_to_win.round(4)
    array([0.5   , 0.8781, 0.9895])
    """
    inp = _beta_binomial_iv(successes_a, trials_a, successes_b, trials_b, prior_alpha,
                            prior_beta, prior_alpha_b, prior_beta_b, nan_policy)
    level = _level_iv(credible_level)
    from fastinf.kernels import bayes as K

    x, w, cumul = _rule(_NODES)
    aA, bA, aB, bB = inp.alpha_a, inp.beta_a, inp.alpha_b, inp.beta_b
    size = aA.size
    chance = np.empty(size)
    loss_a = np.empty(size)
    loss_b = np.empty(size)
    K.beta_ab(aA, bA, aB, bB, _LEVELS, x, w, cumul, chance, loss_a, loss_b)
    mean_a = aA / (aA + bA)
    mean_b = aB / (aB + bB)
    shape = inp.shape
    rate_a = rate_b = lift = diff = None
    if intervals:
        q_lo = 0.5 * (1.0 - level)
        q_hi = 0.5 * (1.0 + level)
        z_lo, z_hi = (float(z) for z in special.ndtri(np.array([q_lo, q_hi])))
        rates = np.empty((size, 5))
        q_ratio = np.empty((size, 2))
        q_diff = np.empty((size, 2))
        K.beta_ab_intervals(aA, bA, aB, bB, q_lo, q_hi, z_lo, z_hi, _LEVELS, _TAIL_LEVEL,
                            x, w, cumul, rates, q_ratio, q_diff)
        # Small parameters: the rate quantiles are scipy's (what scipy.stats.beta.ppf computes).
        todo = np.flatnonzero(rates[:, 4])
        if todo.size:
            with np.errstate(invalid="ignore"):
                for j, (al, be, q) in enumerate(((aA, bA, q_lo), (aA, bA, q_hi),
                                                 (aB, bB, q_lo), (aB, bB, q_hi))):
                    rates[todo, j] = special.betaincinv(al[todo], be[todo], q)
        rate_a = ConfidenceInterval(_shaped(rates[:, 0].copy(), shape),
                                    _shaped(rates[:, 1].copy(), shape))
        rate_b = ConfidenceInterval(_shaped(rates[:, 2].copy(), shape),
                                    _shaped(rates[:, 3].copy(), shape))
        lift_q = np.expm1(q_ratio)
        lift = ConfidenceInterval(_shaped(lift_q[:, 0], shape), _shaped(lift_q[:, 1], shape))
        diff = ConfidenceInterval(_shaped(q_diff[:, 0], shape), _shaped(q_diff[:, 1], shape))
    return BetaBinomialABResult(
        chance_to_win=_shaped(chance, shape),
        expected_loss_a=_shaped(loss_a, shape),
        expected_loss_b=_shaped(loss_b, shape),
        rate_a_interval=rate_a,
        rate_b_interval=rate_b,
        lift_interval=lift,
        difference_interval=diff,
        mean_a=_shaped(mean_a, shape),
        mean_b=_shaped(mean_b, shape),
        alpha_a=_shaped(aA, shape),
        beta_a=_shaped(bA, shape),
        alpha_b=_shaped(aB, shape),
        beta_b=_shaped(bB, shape),
        credible_level=level,
    )


def beta_binomial_chance_to_win(
    successes_a: Any,
    trials_a: Any,
    successes_b: Any,
    trials_b: Any,
    *,
    prior_alpha: Any = 1.0,
    prior_beta: Any = 1.0,
    prior_alpha_b: Any = None,
    prior_beta_b: Any = None,
    nan_policy: str = "propagate",
) -> Any:
    r"""``P(p_B > p_A)`` of the Beta-binomial model, exactly; see :func:`beta_binomial_ab`.

    The same arguments (without the interval options) and the same kernel;
    returns only the chance to win, with the experiments' shape.

    Examples
    --------
    >>> from fastinf.bayes import beta_binomial_chance_to_win
    >>> print(f"{beta_binomial_chance_to_win(100, 1000, 125, 1000):.4f}")
    0.9614
    """
    res = beta_binomial_ab(successes_a, trials_a, successes_b, trials_b,
                           prior_alpha=prior_alpha, prior_beta=prior_beta,
                           prior_alpha_b=prior_alpha_b, prior_beta_b=prior_beta_b,
                           intervals=False, nan_policy=nan_policy)
    return res.chance_to_win


# --------------------------------------------------------------------------
# normal-normal


@dataclass(frozen=True, slots=True)
class NormalABResult:
    """Result of :func:`normal_ab` and :func:`normal_ab_from_estimate`.

    Attributes
    ----------
    chance_to_win : float or ndarray
        ``P(effect > 0)`` under the posterior.
    expected_loss_a : float or ndarray
        ``E[max(effect, 0)]``: the risk of choosing A (gbstats' ``risk[0]``).
    expected_loss_b : float or ndarray
        ``E[max(-effect, 0)]``: the risk of choosing B (gbstats' ``risk[1]``).
    credible_interval : ConfidenceInterval
        Equal-tailed credible interval of the effect.
    expected : float or ndarray
        Posterior mean of the effect.
    posterior_sd : float or ndarray
        Posterior standard deviation of the effect.
    estimate, standard_error : float or ndarray
        The data's estimate of the effect and its standard error.
    relative : bool
        Whether the effect is the relative lift ``mean_b / mean_a - 1``.
    credible_level : float
        The level of the interval.
    """

    chance_to_win: Any
    expected_loss_a: Any
    expected_loss_b: Any
    credible_interval: ConfidenceInterval
    expected: Any
    posterior_sd: Any
    estimate: Any
    standard_error: Any
    relative: bool
    credible_level: float


def _normal_posterior(
    estimate: np.ndarray, se: np.ndarray, prior_mean: Any, prior_sd: Any, level: float,
    shape: tuple[int, ...], relative: bool,
) -> NormalABResult:
    """Posterior of the effect, its chance to win, risks and interval (closed forms)."""
    data_var = se * se
    if prior_sd is None:
        mu, var = estimate, data_var
    else:
        pm = _as_float("prior_mean", prior_mean)
        psd = _as_float("prior_sd", prior_sd)
        try:
            pm, psd = np.broadcast_to(pm, shape), np.broadcast_to(psd, shape)
        except ValueError:
            raise ValueError(
                f"`prior_mean` {np.shape(prior_mean)} and `prior_sd` {np.shape(prior_sd)} "
                f"must broadcast to the experiments' shape {shape}."
            ) from None
        bad = ~(np.isfinite(psd) & (psd > 0))
        if bad.any():
            raise ValueError(f"`prior_sd` must be positive and finite; {_where(shape, bad, psd)}.")
        bad = ~np.isfinite(pm)
        if bad.any():
            raise ValueError(f"`prior_mean` must be finite; {_where(shape, bad, pm)}.")
        pm, psd = pm.reshape(-1), psd.reshape(-1)
        # Precision-weighted normal posterior (gbstats' EffectBayesianABTest).
        prior_prec = 1.0 / (psd * psd)
        prec = 1.0 / data_var + prior_prec
        var = 1.0 / prec
        mu = (estimate / data_var + pm * prior_prec) * var
    sd = np.sqrt(var)
    z = mu / sd
    chance = special.ndtr(z)
    dens = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    # E[max(X, 0)] = mu Phi(mu / sd) + sd phi(mu / sd); E[max(-X, 0)] likewise.
    loss_a = np.maximum(sd * (z * special.ndtr(z) + dens), 0.0)
    loss_b = np.maximum(sd * (-z * special.ndtr(-z) + dens), 0.0)
    q = special.ndtri(np.array([0.5 * (1 - level), 0.5 * (1 + level)]))
    return NormalABResult(
        chance_to_win=_shaped(chance, shape),
        expected_loss_a=_shaped(loss_a, shape),
        expected_loss_b=_shaped(loss_b, shape),
        credible_interval=ConfidenceInterval(_shaped(mu + q[0] * sd, shape),
                                             _shaped(mu + q[1] * sd, shape)),
        expected=_shaped(mu, shape),
        posterior_sd=_shaped(sd, shape),
        estimate=_shaped(estimate, shape),
        standard_error=_shaped(se, shape),
        relative=relative,
        credible_level=level,
    )


def normal_ab(
    mean_a: Any,
    var_a: Any,
    n_a: Any,
    mean_b: Any,
    var_b: Any,
    n_b: Any,
    *,
    relative: bool = True,
    prior_mean: Any = 0.0,
    prior_sd: Any = None,
    credible_level: float = 0.95,
) -> NormalABResult:
    r"""Normal-normal Bayesian A/B analysis of a mean metric from summary statistics.

    The model of GrowthBook's ``gbstats`` (``EffectBayesianABTest``) [1]_:
    the effect's estimate is normal with the delta-method standard error,
    the prior on the effect is flat or normal, and the posterior is normal.

    Parameters
    ----------
    mean_a, var_a, n_a, mean_b, var_b, n_b : array_like
        Per arm: the sample mean, the variance of one unit's value (for a
        conversion rate ``p``: ``p (1 - p)``) and the number of units.
        Broadcast together; every element is one experiment.
    relative : bool, default: True
        Effect = relative lift ``mean_b / mean_a - 1`` (delta method);
        otherwise the difference ``mean_b - mean_a``.
    prior_mean : array_like, default: 0.0
        Mean of the normal prior on the effect (in the effect's units).
    prior_sd : array_like, optional
        Standard deviation of the prior; ``None`` (default) is the flat
        (improper) prior, under which the posterior is the likelihood.
    credible_level : float, default: 0.95
        Level of the equal-tailed credible interval.

    Returns
    -------
    NormalABResult
        ``chance_to_win``, ``expected_loss_a``, ``expected_loss_b``,
        ``credible_interval``, ``expected`` (posterior mean),
        ``posterior_sd``, ``estimate`` and ``standard_error``.

    Notes
    -----
    With :math:`\bar x_A, \bar x_B` the means, :math:`s^2` the unit variances
    and :math:`n` the sizes, the estimate and its variance are

    .. math::

        \hat\delta = \frac{\bar x_B}{\bar x_A} - 1, \quad
        V = \frac{s_B^2}{n_B \bar x_A^2} + \frac{s_A^2 \bar x_B^2}{n_A \bar x_A^4}
        \qquad \text{(relative)}, \qquad
        \hat\delta = \bar x_B - \bar x_A, \quad V = \frac{s_A^2}{n_A} + \frac{s_B^2}{n_B}.

    With the prior :math:`N(\mu_0, \sigma_0^2)` the posterior is
    :math:`N(\mu, \sigma^2)`, :math:`\sigma^{-2} = V^{-1} + \sigma_0^{-2}`,
    :math:`\mu = \sigma^2 (\hat\delta / V + \mu_0 / \sigma_0^2)` (flat prior:
    :math:`\mu = \hat\delta, \sigma^2 = V`). Then, with :math:`z = \mu /
    \sigma`, the chance to win is :math:`\Phi(z)`, the risk of choosing A
    is :math:`E[\max(\delta, 0)] = \sigma (z \Phi(z) + \phi(z))` and that
    of choosing B is :math:`E[\max(-\delta, 0)] = \sigma (\phi(z) - z
    \Phi(-z))`, gbstats' ``risk`` pair; the interval is
    :math:`\mu \pm \Phi^{-1}((1 + \text{level}) / 2) \sigma`.

    References
    ----------
    .. [1] GrowthBook, ``gbstats`` (``gbstats/bayesian/tests.py``,
       ``EffectBayesianABTest``), https://github.com/growthbook/growthbook

    Examples
    --------
    >>> from fastinf.bayes import normal_ab
    >>> res = normal_ab(10.0, 25.0, 5000, 10.2, 26.0, 5000)
    >>> print(f"{res.estimate:.3f} {res.standard_error:.4f} {res.chance_to_win:.4f}")
    0.020 0.0102 0.9751
    >>> low, high = res.credible_interval
    >>> print(f"{low:.4f} {high:.4f}")
    0.0000 0.0400
    """
    arrays = {
        "mean_a": _as_float("mean_a", mean_a), "var_a": _as_float("var_a", var_a),
        "n_a": _as_float("n_a", n_a), "mean_b": _as_float("mean_b", mean_b),
        "var_b": _as_float("var_b", var_b), "n_b": _as_float("n_b", n_b),
    }
    shape = _broadcast(arrays)
    full = {k: np.broadcast_to(v, shape) for k, v in arrays.items()}
    for k in arrays:
        v = full[k]
        bad = ~np.isfinite(v)
        if bad.any():
            raise ValueError(f"`{k}` must be finite; {_where(shape, bad, v)}.")
    for k in ("n_a", "n_b"):
        bad = ~(full[k] > 0)
        if bad.any():
            raise ValueError(f"`{k}` must be positive; {_where(shape, bad, full[k])}.")
    for k in ("var_a", "var_b"):
        bad = full[k] < 0
        if bad.any():
            raise ValueError(f"`{k}` must be non-negative; {_where(shape, bad, full[k])}.")
    if relative:
        bad = full["mean_a"] == 0
        if bad.any():
            raise ValueError(
                "`mean_a` must be non-zero for a relative effect; "
                f"{_where(shape, bad, full['mean_a'])}."
            )
    level = _level_iv(credible_level)
    ma, va, na, mb, vb, nb = (np.ascontiguousarray(full[k]).reshape(-1) for k in arrays)
    if relative:
        # Delta method for mean_b / mean_a (gbstats' variance_of_ratios, no covariance).
        est = mb / ma - 1.0
        var = vb / (nb * ma * ma) + va * mb * mb / (na * ma ** 4)
    else:
        est = mb - ma
        var = va / na + vb / nb
    bad = ~(var > 0)
    if bad.any():
        raise ValueError(
            f"both arms have zero variance; {_where(shape, bad.reshape(shape), var)} "
            "as the variance of the estimate."
        )
    return _normal_posterior(est, np.sqrt(var), prior_mean, prior_sd, level, shape, relative)


def normal_ab_from_estimate(
    estimate: Any,
    standard_error: Any,
    *,
    prior_mean: Any = 0.0,
    prior_sd: Any = None,
    credible_level: float = 0.95,
    relative: bool = True,
) -> NormalABResult:
    r"""Normal-normal posterior of an effect from its estimate and standard error.

    As :func:`normal_ab` after its first step: for estimates computed
    elsewhere (CUPED, ratio metrics, :func:`fastinf.experiment.analyze`'s
    ``estimate`` and ``standard_error``). ``relative`` is only recorded in
    the result.

    Examples
    --------
    >>> from fastinf.bayes import normal_ab_from_estimate
    >>> res = normal_ab_from_estimate(0.02, 0.01, prior_sd=0.05)
    >>> print(f"{res.expected:.5f} {res.chance_to_win:.4f}")
    0.01923 0.9751
    """
    est = _as_float("estimate", estimate)
    se = _as_float("standard_error", standard_error)
    shape = _broadcast({"estimate": est, "standard_error": se})
    est_b, se_b = np.broadcast_to(est, shape), np.broadcast_to(se, shape)
    bad = ~np.isfinite(est_b)
    if bad.any():
        raise ValueError(f"`estimate` must be finite; {_where(shape, bad, est_b)}.")
    bad = ~(np.isfinite(se_b) & (se_b > 0))
    if bad.any():
        raise ValueError(f"`standard_error` must be positive and finite; {_where(shape, bad, se_b)}.")
    level = _level_iv(credible_level)
    return _normal_posterior(np.ascontiguousarray(est_b).reshape(-1),
                             np.ascontiguousarray(se_b).reshape(-1),
                             prior_mean, prior_sd, level, shape, bool(relative))
