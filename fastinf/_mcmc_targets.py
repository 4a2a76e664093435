"""Built-in targets of :func:`fastinf.mcmc.metropolis` and their per-experiment preparation.

A :class:`Target` names a log-density that the kernels evaluate inline from
per-experiment sufficient statistics (:mod:`fastinf.kernels.mcmc`):
:func:`normal_target`, :func:`binomial_target`, :func:`logistic_target` and
:func:`mvnormal_target` build them and validate their priors;
:func:`_prepare` turns a target and the standardised data into the
statistics, the default starting points and the rough posterior spreads the
sampler starts from. Private: everything here is re-exported by
:mod:`fastinf.mcmc`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fastinf._mcmc_data import _Rows

# Codes of the kernels (fastinf.kernels.mcmc); repeated here so that building
# a target imports no Numba.
_USER, _NORMAL, _BINOMIAL, _LOGISTIC, _MVNORMAL = 0, 1, 2, 3, 4

# --------------------------------------------------------------------------
# Built-in targets
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A built-in target density (build one with the ``*_target`` functions).

    Attributes
    ----------
    name : str
        ``"normal"``, ``"binomial"``, ``"logistic"`` or ``"mvnormal"``.
    params : ndarray
        The prior's parameters, as the kernels read them.
    mean, cov : ndarray or None
        The fixed means ``(E, dim)`` and covariances ``(E, dim, dim)`` of an
        ``"mvnormal"`` target.
    batched : bool
        Whether an ``"mvnormal"`` target was given as a batch.
    """

    name: str
    params: np.ndarray
    mean: np.ndarray | None = field(default=None, repr=False)
    cov: np.ndarray | None = field(default=None, repr=False)
    batched: bool = False


def _prior_pair(prior: object, name: str) -> tuple[float, float]:
    if prior is None:
        return 0.0, 0.0
    try:
        loc, scale = (float(v) for v in prior)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be None or a pair (loc, scale).") from None
    if not (math.isfinite(loc) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"`{name}` must have a finite loc and a positive finite scale.")
    return loc, scale


def normal_target(mu_prior: Any = None, log_sigma_prior: Any = None) -> Target:
    r"""The posterior of a normal mean and log standard deviation.

    ``theta = (mu, log sigma)``; ``data`` holds one column of observations
    ``x_1 .. x_n`` per experiment. The log-density is

    .. math::

        -n \log\sigma - \frac{\sum_i (x_i - \bar x)^2 + n (\bar x - \mu)^2}
        {2 \sigma^2} + \log p(\mu) + \log p(\log\sigma),

    evaluated in O(1) from ``(n, mean, sum of squared deviations)``.

    Parameters
    ----------
    mu_prior, log_sigma_prior : None or (loc, scale)
        A normal prior on ``mu`` and on ``log sigma``; ``None`` (the default)
        is flat. Flat on both is the reference prior ``p(mu, sigma) ~
        1 / sigma``: then ``sigma**2`` has the scaled inverse-chi-square
        posterior with ``n - 1`` degrees of freedom and scale ``s**2``, and
        ``mu`` the Student t posterior with ``n - 1`` degrees of freedom,
        location ``mean(x)`` and scale ``s / sqrt(n)`` [1]_; it needs at
        least two observations that are not all equal.

    Returns
    -------
    Target

    References
    ----------
    .. [1] Gelman, A. et al. (2013). *Bayesian Data Analysis*, 3rd ed.,
       section 3.2. CRC Press.

    Examples
    --------
    >>> from fastinf.mcmc import normal_target
    >>> normal_target(mu_prior=(0.0, 10.0)).name
    'normal'
    """
    mu_loc, mu_scale = _prior_pair(mu_prior, "mu_prior")
    ls_loc, ls_scale = _prior_pair(log_sigma_prior, "log_sigma_prior")
    return Target("normal", np.array([mu_loc, mu_scale, ls_loc, ls_scale]))


def binomial_target(a: float = 1.0, b: float = 1.0) -> Target:
    r"""The posterior of a binomial rate ``p`` under a Beta(a, b) prior, on the logit scale.

    ``theta = logit(p)``; ``data`` holds rows ``(successes, trials)`` (two
    columns; several rows are summed) or one column of 0/1 outcomes. With
    the Jacobian of the logit the log-density is

    .. math::

        (a + k) \log p + (b + n - k) \log(1 - p), \qquad
        p = 1 / (1 + e^{-\theta}),

    so ``p`` is exactly Beta(a + k, b + n - k) distributed: a target to test
    a sampler against.

    Parameters
    ----------
    a, b : float, default 1
        The Beta prior's shapes, positive.

    Returns
    -------
    Target

    Examples
    --------
    >>> from fastinf.mcmc import binomial_target
    >>> binomial_target(0.5, 0.5).params.tolist()
    [0.5, 0.5]
    """
    a, b = float(a), float(b)
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise ValueError("`a` and `b` must be positive and finite.")
    return Target("binomial", np.array([a, b]))


def logistic_target(prior_scale: float = 2.5) -> Target:
    r"""The posterior of logistic-regression coefficients under independent normal priors.

    ``data`` holds rows ``(x_1, ..., x_d, y)``: the covariates (add a column
    of ones for an intercept) and a 0/1 outcome (or a rate in [0, 1]);
    ``theta`` is the coefficient vector (``dim = columns - 1``) and

    .. math::

        \log p(\theta) = \sum_i \left[y_i \eta_i - \log(1 + e^{\eta_i})\right]
        - \frac{|\theta|^2}{2 s^2}, \qquad \eta_i = x_i^\top \theta,

    with ``s = prior_scale``. One evaluation is O(n d).

    Parameters
    ----------
    prior_scale : float, default 2.5
        The standard deviation ``s`` of the normal prior of each coefficient.

    Returns
    -------
    Target

    Examples
    --------
    >>> from fastinf.mcmc import logistic_target
    >>> logistic_target(1.0).params.tolist()
    [1.0]
    """
    s = float(prior_scale)
    if not (s > 0 and math.isfinite(s)):
        raise ValueError("`prior_scale` must be positive and finite.")
    return Target("logistic", np.array([s]))


def mvnormal_target(mean: Any, cov: Any) -> Target:
    r"""A fixed multivariate normal target: ``theta ~ N(mean, cov)``.

    Needs no data. ``mean`` of shape ``(dim,)`` and ``cov`` of shape
    ``(dim, dim)`` give one target; ``(E, dim)`` and/or ``(E, dim, dim)``
    give a batch of ``E`` targets. The log-density is
    :math:`-\tfrac12 (\theta - m)^\top \Sigma^{-1} (\theta - m)`.

    Parameters
    ----------
    mean : array_like
        The mean(s).
    cov : array_like
        The covariance matri(x/ces), symmetric positive definite.

    Returns
    -------
    Target

    Examples
    --------
    >>> from fastinf.mcmc import mvnormal_target
    >>> mvnormal_target([0.0, 0.0], [[1.0, 0.7], [0.7, 1.0]]).mean.shape
    (1, 2)
    """
    m = np.asarray(mean, dtype=np.float64)
    c = np.asarray(cov, dtype=np.float64)
    if m.ndim not in (1, 2) or m.shape[-1] < 1:
        raise ValueError(f"`mean` must have shape (dim,) or (E, dim); got {m.shape}.")
    d = m.shape[-1]
    if c.ndim not in (2, 3) or c.shape[-2:] != (d, d):
        raise ValueError(
            f"`cov` must have shape ({d}, {d}) or (E, {d}, {d}) for a mean of "
            f"dimension {d}; got {c.shape}."
        )
    m2 = m.reshape(-1, d)
    c3 = c.reshape(-1, d, d)
    n = max(m2.shape[0], c3.shape[0])
    if m2.shape[0] not in (1, n) or c3.shape[0] not in (1, n):
        raise ValueError(
            f"`mean` and `cov` hold {m2.shape[0]} and {c3.shape[0]} targets."
        )
    if not (np.isfinite(m2).all() and np.isfinite(c3).all()):
        raise ValueError("`mean` and `cov` must be finite.")
    m2 = np.ascontiguousarray(np.broadcast_to(m2, (n, d)))
    c3 = np.ascontiguousarray(np.broadcast_to(c3, (n, d, d)))
    _check_spd(c3, "cov", n > 1)
    return Target("mvnormal", np.zeros(1), m2, c3, m.ndim == 2 or c.ndim == 3)


_NAMES: dict[str, Callable[[], Target]] = {
    "normal": normal_target, "binomial": binomial_target, "logistic": logistic_target}


def _check_spd(c3: np.ndarray, name: str, batched: bool) -> np.ndarray:
    """The lower Cholesky factors of ``c3`` (E, d, d); a ValueError if one is not SPD."""
    asym = np.abs(c3 - np.swapaxes(c3, 1, 2)).max(axis=(1, 2)) > 1e-10 * np.abs(c3).max(
        axis=(1, 2)
    )
    bad = np.flatnonzero(asym)
    if bad.size == 0:
        try:
            return np.linalg.cholesky(c3)
        except np.linalg.LinAlgError:
            for e in range(c3.shape[0]):
                try:
                    np.linalg.cholesky(c3[e])
                except np.linalg.LinAlgError:
                    bad = np.array([e])
                    break
    where = f" (experiment {int(bad[0])})" if batched else ""
    raise ValueError(f"`{name}` must be symmetric positive definite{where}.")


# --------------------------------------------------------------------------
# Per-target preparation: sufficient statistics, default start and proposal
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    kind: int
    dim: int
    stats: np.ndarray  # (E, k)
    params: np.ndarray
    centre: np.ndarray  # (E, d) default start
    spread: np.ndarray  # (E, d) rough posterior standard deviations


def _segment_sums(x: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Column sums of ``x`` (rows) over each experiment's rows, shape (E, k)."""
    from fastinf.kernels.mcmc import segment_sums

    return np.asarray(segment_sums(np.ascontiguousarray(x, dtype=np.float64), off))


def _prepare(target: Target | None, rows: _Rows, dim: int | None) -> _Prepared:
    n_exp = rows.n_experiments
    if target is None:
        if dim is None:
            raise ValueError("`dim` is required for a user `logdensity` unless `init` is given.")
        return _Prepared(
            _USER, dim, np.zeros((n_exp, 1)), np.zeros(1), np.zeros((n_exp, dim)),
            np.ones((n_exp, dim)),
        )
    name = target.name
    if name == "mvnormal":
        assert target.mean is not None and target.cov is not None
        d = target.mean.shape[1]
        prec = np.linalg.inv(target.cov)
        prec = 0.5 * (prec + np.swapaxes(prec, 1, 2))
        low = np.linalg.cholesky(prec)
        stats = np.concatenate([target.mean, low.reshape(-1, d * d)], axis=1)
        sd = np.sqrt(np.diagonal(target.cov, axis1=1, axis2=2))
        return _Prepared(_MVNORMAL, d, stats, target.params, target.mean.copy(), sd)
    x, off, k = rows.values, rows.offsets, rows.n_cols
    sizes = np.diff(off).astype(np.float64)
    live = ~rows.nan_experiments
    if name == "normal":
        if k != 1:
            raise ValueError(
                f"the 'normal' target takes one column of observations; `data` has {k}."
            )
        params = target.params
        total = _segment_sums(x, off)[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(sizes > 0, total / sizes, 0.0)
            dev = x[:, 0] - np.repeat(mean, np.diff(off))
            ss = _segment_sums((dev * dev)[:, None], off)[:, 0]
            s2 = np.where(sizes > 1, ss / (sizes - 1.0), np.nan)
        improper = np.zeros(n_exp, dtype=bool)
        if params[3] == 0.0:  # flat on log sigma: n >= 2, not all equal
            improper |= (sizes < 2) | (ss <= 0.0)
        if params[1] == 0.0:  # flat on mu: n >= 1
            improper |= sizes < 1
        improper &= live
        if improper.any():
            e = int(np.argmax(improper))
            raise ValueError(
                f"the 'normal' target's posterior is improper for {rows.label(e)}: a flat "
                "prior on log sigma needs at least two observations that are not all "
                "equal (and a flat prior on mu at least one); give `log_sigma_prior` / "
                "`mu_prior` in normal_target()."
            )
        ok = np.isfinite(s2) & (s2 > 0)
        fallback = math.exp(params[2]) if params[3] > 0 else 1.0
        sd = np.where(ok, np.sqrt(np.where(ok, s2, 1.0)), fallback)
        mu0 = np.where(sizes > 0, mean, params[0])
        ls0 = np.log(sd)
        n_eff = np.maximum(sizes, 1.0)
        spread = np.stack([sd / np.sqrt(n_eff), 1.0 / np.sqrt(2.0 * n_eff)], axis=1)
        stats = np.stack([sizes, mean, ss], axis=1)
        return _Prepared(_NORMAL, 2, stats, params, np.stack([mu0, ls0], axis=1), spread)
    if name == "binomial":
        a, b = target.params
        if k == 1:
            s, n = x[:, 0], np.ones(x.shape[0])
        elif k == 2:
            s, n = x[:, 0], x[:, 1]
        else:
            raise ValueError(
                "the 'binomial' target takes rows (successes, trials) or one column of "
                f"0/1 outcomes; `data` has {k} columns."
            )
        bad = (s < 0) | (s > n) | (n < 0)
        if bad.any():
            e = int(np.searchsorted(off, int(np.argmax(bad)), side="right") - 1)
            raise ValueError(
                f"the 'binomial' target needs 0 <= successes <= trials; {rows.label(e)} "
                "breaks it."
            )
        sums = _segment_sums(np.stack([s, n], axis=1), off)
        alpha, beta = a + sums[:, 0], b + sums[:, 1] - sums[:, 0]
        p = alpha / (alpha + beta)
        spread = 1.0 / np.sqrt((alpha + beta) * p * (1.0 - p))
        stats = np.stack([alpha, beta], axis=1)
        return _Prepared(
            _BINOMIAL, 1, stats, target.params, np.log(p / (1.0 - p))[:, None], spread[:, None]
        )
    # logistic
    if k < 2:
        raise ValueError(
            "the 'logistic' target takes rows (x_1, ..., x_d, y): at least two columns; "
            f"`data` has {k}."
        )
    y = x[:, -1]
    if ((y < 0) | (y > 1)).any():
        e = int(np.searchsorted(off, int(np.argmax((y < 0) | (y > 1))), side="right") - 1)
        raise ValueError(f"the 'logistic' target needs outcomes y in [0, 1]; {rows.label(e)} "
                         "breaks it.")
    d = k - 1
    xty = _segment_sums(x[:, :d] * y[:, None], off)
    info = _segment_sums(x[:, :d] ** 2, off) / 4.0 + 1.0 / target.params[0] ** 2
    return _Prepared(
        _LOGISTIC, d, np.ascontiguousarray(xty), target.params, np.zeros((n_exp, d)),
        1.0 / np.sqrt(info),
    )
