"""Tests of counts: goodness of fit, contingency tables and proportions, batched.

Pearson's chi-square goodness-of-fit test (:func:`chisquare`), the
chi-square test of independence (:func:`chi2_contingency`), Fisher's exact
test of a 2x2 table (:func:`fisher_exact`) and statsmodels' z test of one or
two proportions (:func:`proportions_ztest`). Each takes scipy's (or
statsmodels') arguments and returns their values, to about 1e-12 relative,
with their result fields. The margins, expected frequencies and statistics of
a whole stack of tables are computed in one parallel Numba pass
(:mod:`fastinf.kernels.tables`); the p-values come from ``scipy.special``
ufuncs and scipy's ``hypergeom`` applied to the whole batch at once.

Conventions beyond scipy's:

* ``chi2_contingency(..., batch=True)`` and ``fisher_exact(..., batch=True)``
  take a stack of tables shaped ``(..., r, c)`` (``(..., 2, 2)`` for Fisher)
  and return arrays of shape ``...``; without ``batch`` a table behaves as in
  scipy (a 3-D table is a three-way table, not a stack).
* ``proportions_ztest(..., batch=True)`` reads the *last* axis of ``count``
  and ``nobs`` as the samples: ``(..., 2)`` for many two-sample tests,
  ``(..., 1)`` for many one-sample tests.
* ``chi2_contingency`` with a ``method`` or a table of other than two
  dimensions, ``fisher_exact`` on a table other than 2x2, and ``chisquare``
  with ``nan_policy='omit'`` and NaN are handed to scipy with the same
  arguments.

The public names are re-exported by :mod:`fastinf.stats`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats
from scipy import special

from fastinf._results import Chi2ContingencyResult, PowerDivergenceResult, SignificanceResult
from fastinf._samples import (
    ALT_NUM,
    as_float,
    check_nan_policy,
    make_layout,
    scalar,
    warn_small,
)
from fastinf.kernels import tables as _k

__all__ = ["chisquare", "chi2_contingency", "fisher_exact", "proportions_ztest"]


# --------------------------------------------------------------------------
# Chi-square tests
# --------------------------------------------------------------------------


def chisquare(
    f_obs: Any,
    f_exp: Any = None,
    ddof: Any = 0,
    axis: int | None = 0,
    *,
    sum_check: bool = True,
    nan_policy: str = "propagate",
    keepdims: bool = False,
) -> PowerDivergenceResult:
    r"""Pearson's chi-square goodness-of-fit test, as :func:`scipy.stats.chisquare`.

    Parameters
    ----------
    f_obs : array_like
        Observed frequencies; experiments along the axes other than `axis`.
    f_exp : array_like, optional
        Expected frequencies (default: equal, the mean of `f_obs`).
    ddof : int or array_like, default: 0
        Change to the degrees of freedom ``k - 1 - ddof``; broadcasts.
    axis : int or None, default: 0
        The category axis.
    sum_check : bool, default: True
        Whether to check that observed and expected totals agree (to
        ``sqrt(eps)`` relative).
    nan_policy : {'propagate', 'omit', 'raise'}, default: 'propagate'
        What NaN does; ``'omit'`` with NaN present is computed by scipy.
    keepdims : bool, default: False
        Keep the reduced axis with length one.

    Returns
    -------
    PowerDivergenceResult
        ``statistic`` and ``pvalue``.

    Notes
    -----
    .. math::

        \chi^2 = \sum_i \frac{(O_i - E_i)^2}{E_i}, \qquad \nu = k - 1 - \mathrm{ddof} [1]_.

    References
    ----------
    .. [1] K. Pearson, "On the criterion that a given system of deviations ...",
       Philosophical Magazine 50, 1900.
    """
    check_nan_policy(nan_policy)
    obs = as_float(f_obs, "f_obs")
    exp = None if f_exp is None else as_float(f_exp, "f_exp")
    arrays = [obs] if exp is None else [obs, exp]
    has_nan = any(np.isnan(a).any() for a in arrays)
    if has_nan and nan_policy == "raise":
        raise ValueError("The input contains nan values")
    if has_nan and nan_policy == "omit":
        return PowerDivergenceResult(
            *scipy.stats.chisquare(
                f_obs, f_exp, ddof, axis, sum_check=sum_check,
                nan_policy=nan_policy, keepdims=keepdims,
            )
        )
    layout = make_layout(arrays, ["f_obs", "f_exp"][: len(arrays)], axis, paired=True)
    o = layout.blocks[0]
    k = o.shape[1]
    if k == 0:
        warn_small(layout.one_d, omitted=False)
    if exp is None:
        e = o.mean(axis=1, keepdims=True)
    else:
        e = layout.blocks[1]
        if sum_check:
            rtol = np.finfo(np.float64).eps ** 0.5
            with np.errstate(invalid="ignore", divide="ignore"):
                so, se = o.sum(axis=1), e.sum(axis=1)
                rel = np.abs(so - se) / np.minimum(so, se)
            if (rel > rtol).any():
                raise ValueError(
                    "For each axis slice, the sum of the observed frequencies must "
                    "agree with the sum of the expected frequencies to a relative "
                    f"tolerance of {rtol}, but the percent differences are:\n"
                    f"{layout.finish(rel, False)}"
                )
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = ((o - e) ** 2 / e).sum(axis=1)
    stat_out = layout.finish(stat, keepdims)
    df = k - 1 - np.asarray(ddof, dtype=np.float64)
    p = special.chdtrc(df, stat_out)
    return PowerDivergenceResult(stat_out, scalar(p))


_LAMBDA_NAMES = {
    "pearson": 1.0,
    "log-likelihood": 0.0,
    "freeman-tukey": -0.5,
    "mod-log-likelihood": -1.0,
    "neyman": -2.0,
    "cressie-read": 2 / 3,
}


def _lambda_family(lambda_: Any) -> tuple[int, float]:
    if isinstance(lambda_, str):
        if lambda_ not in _LAMBDA_NAMES:
            names = repr(list(_LAMBDA_NAMES.keys()))[1:-1]
            raise ValueError(
                f"invalid string for lambda_: {lambda_!r}. Valid strings are {names}"
            )
        lam = _LAMBDA_NAMES[lambda_]
    elif lambda_ is None:
        lam = 1.0
    else:
        lam = float(lambda_)
    if lam == 1:
        return _k.PEARSON, lam
    if lam == 0:
        return _k.LOG_LIKELIHOOD, lam
    if lam == -1:
        return _k.MOD_LOG_LIKELIHOOD, lam
    return _k.CRESSIE_READ, lam


def _chi2_contingency_iv(observed: Any, batch: bool) -> np.ndarray:
    obs = np.asarray(observed)
    if batch:
        if obs.ndim < 2:
            raise ValueError(
                "With `batch=True`, `observed` must have at least two dimensions "
                f"(..., r, c); got shape {obs.shape}."
            )
        obs = as_float(obs, "observed")
        tables = np.ascontiguousarray(obs.reshape((-1,) + obs.shape[-2:]))
        neg = np.flatnonzero((tables < 0).any(axis=(1, 2)))
        if neg.size:
            raise ValueError(
                f"All values in `observed` must be nonnegative; table "
                f"{_index(int(neg[0]), obs.shape[:-2])} has a negative value."
            )
        if tables.size == 0:
            raise ValueError("No data; `observed` has size 0.")
        return tables
    obs = as_float(obs, "observed")
    if np.any(obs < 0):
        raise ValueError("All values in `observed` must be nonnegative.")
    if obs.size == 0:
        raise ValueError("No data; `observed` has size 0.")
    return np.ascontiguousarray(obs.reshape((1,) + obs.shape))


def _index(e: int, shape: tuple[int, ...]) -> Any:
    return tuple(int(i) for i in np.unravel_index(e, shape)) if len(shape) != 1 else e


def chi2_contingency(
    observed: Any,
    correction: bool = True,
    lambda_: Any = None,
    *,
    method: Any = None,
    batch: bool = False,
) -> Chi2ContingencyResult:
    r"""Chi-square test of independence, as :func:`scipy.stats.chi2_contingency`.

    Parameters
    ----------
    observed : array_like
        A contingency table; with ``batch=True`` a stack of two-way tables
        shaped ``(..., r, c)``.
    correction : bool, default: True
        Yates' continuity correction when the degrees of freedom are 1.
    lambda_ : float or str, optional
        Cressie-Read power (default: Pearson's statistic), as scipy.
    method : PermutationMethod or MonteCarloMethod, optional
        Resampling p-values; computed by scipy (not with ``batch``).
    batch : bool, default: False
        Treat the last two axes as the tables of a stack (fastinf's
        extension). Results then have shape ``...``; ``expected_freq`` has
        the shape of `observed`.

    Returns
    -------
    Chi2ContingencyResult
        ``statistic``, ``pvalue``, ``dof``, ``expected_freq``.

    Notes
    -----
    With row sums :math:`R_i`, column sums :math:`C_j` and total :math:`N`,
    :math:`E_{ij} = R_i C_j / N` and

    .. math::

        \chi^2 = \sum_{ij} \frac{(O_{ij} - E_{ij})^2}{E_{ij}},\qquad
        \nu = (r - 1)(c - 1),

    where, if :math:`\nu = 1` and `correction`, each :math:`O_{ij}` first
    moves towards :math:`E_{ij}` by :math:`\min(1/2, |E_{ij} - O_{ij}|)` [1]_.

    References
    ----------
    .. [1] F. Yates, "Contingency tables involving small numbers and the
       chi-square test", Supplement to the JRSS 1, 1934.
    """
    if method is not None or (not batch and np.ndim(observed) != 2):
        if batch:
            raise ValueError("`method` is not supported with `batch=True`.")
        res = scipy.stats.chi2_contingency(observed, correction, lambda_, method=method)
        return Chi2ContingencyResult(res.statistic, res.pvalue, res.dof, res.expected_freq)
    tables = _chi2_contingency_iv(observed, batch)
    family, lam = _lambda_family(lambda_)
    _, r, c = tables.shape
    dof = r * c - r - c + 1
    stat, expected = _k.contingency(tables, bool(dof == 1 and correction), family, lam)
    zero = np.argwhere(expected == 0)
    if zero.size:
        e, *pos = (int(v) for v in zero[0])
        where = f" of table {_index(e, np.shape(observed)[:-2])}" if batch else ""
        raise ValueError(
            "The internally computed table of expected frequencies has a zero "
            f"element at {tuple(pos)}{where}."
        )
    if dof == 0:
        stat = np.zeros_like(stat)
        p = np.ones_like(stat)
    else:
        p = special.chdtrc(dof, stat)
    if batch:
        shape = np.shape(observed)
        return Chi2ContingencyResult(
            stat.reshape(shape[:-2]), p.reshape(shape[:-2]), dof, expected.reshape(shape)
        )
    if dof == 0:
        return Chi2ContingencyResult(0.0, 1.0, dof, expected[0])
    return Chi2ContingencyResult(np.float64(stat[0]), np.float64(p[0]), dof, expected[0])


# --------------------------------------------------------------------------
# Fisher's exact test
# --------------------------------------------------------------------------


def fisher_exact(
    table: Any, alternative: str | None = None, *, method: Any = None, batch: bool = False
) -> SignificanceResult:
    r"""Fisher's exact test of a 2x2 table, as :func:`scipy.stats.fisher_exact`.

    Parameters
    ----------
    table : array_like of int
        A 2x2 table of nonnegative counts; with ``batch=True`` a stack shaped
        ``(..., 2, 2)``. Other tables (r x c) are computed by scipy.
    alternative : {'two-sided', 'less', 'greater'}, optional
        The alternative about the odds ratio (default 'two-sided').
    method : PermutationMethod or MonteCarloMethod, optional
        For r x c tables; computed by scipy.
    batch : bool, default: False
        Treat the last two axes as the tables of a stack (fastinf's extension).

    Returns
    -------
    SignificanceResult
        ``statistic`` (the sample odds ratio :math:`ad / bc`) and ``pvalue``.

    Notes
    -----
    With the margins fixed, the top-left count :math:`x` is hypergeometric
    (population :math:`N`, :math:`n_1` successes, :math:`n` draws). The
    one-sided p-values are :math:`P(X \le a)` and :math:`P(X \ge a)`; the
    two-sided one sums the probabilities of all tables no more likely than
    the observed one, :math:`p(x) \le (1 + 10^{-14})\, p(a)`, scipy's
    relative tolerance [1]_. A kernel finds the boundary of the far tail by
    walking the ratios :math:`p(x + 1)/p(x)`; scipy's ``hypergeom.pmf``
    confirms it and ``hypergeom.cdf``/``sf`` give the tail sums, so the
    p-values are scipy's.

    References
    ----------
    .. [1] R. A. Fisher, "On the interpretation of chi-square from
       contingency tables, and the calculation of P", JRSS 85, 1922.
    """
    if not batch:
        c = np.asarray(table, dtype=np.int64)
        if c.shape != (2, 2) or method is not None:
            return SignificanceResult(
                *scipy.stats.fisher_exact(table, alternative, method=method)
            )
        res = _fisher_batch(c.reshape(1, 2, 2), alternative)
        return SignificanceResult(np.float64(res[0][0]), np.float64(res[1][0]))
    if method is not None:
        raise ValueError("`method` is not supported with `batch=True`.")
    arr = np.asarray(table)
    if arr.ndim < 2 or arr.shape[-2:] != (2, 2):
        raise ValueError(
            f"With `batch=True`, `table` must have shape (..., 2, 2); got {arr.shape}."
        )
    tables = np.ascontiguousarray(arr.reshape(-1, 2, 2), dtype=np.int64)
    neg = np.flatnonzero((tables < 0).any(axis=(1, 2)))
    if neg.size:
        raise ValueError(
            "All values in `table` must be nonnegative; table "
            f"{_index(int(neg[0]), arr.shape[:-2])} has a negative value."
        )
    odds, p = _fisher_batch(tables, alternative)
    return SignificanceResult(odds.reshape(arr.shape[:-2]), p.reshape(arr.shape[:-2]))


def _fisher_batch(tables: np.ndarray, alternative: str | None) -> tuple[np.ndarray, np.ndarray]:
    alternative = "two-sided" if alternative is None else alternative
    if alternative not in ALT_NUM:
        raise ValueError("`alternative` should be one of {'two-sided', 'less', 'greater'}")
    if (tables < 0).any():
        raise ValueError("All values in `table` must be nonnegative.")
    hg = scipy.stats.hypergeom
    odds, mode, guess = _k.fisher_2x2(tables, alternative == "two-sided")
    a, b = tables[:, 0, 0], tables[:, 0, 1]
    c, d = tables[:, 1, 0], tables[:, 1, 1]
    n1, n2, n = a + b, c + d, a + c
    big = n1 + n2
    empty = (n1 == 0) | (n2 == 0) | (n == 0) | (b + d == 0)
    p = np.empty(tables.shape[0])
    ok = ~empty
    if alternative == "less":
        p[ok] = hg.cdf(a[ok], big[ok], n1[ok], n[ok])
    elif alternative == "greater":
        p[ok] = hg.cdf(b[ok], big[ok], n1[ok], (b + d)[ok])
    else:
        p[ok] = _fisher_two_sided(a[ok], n1[ok], big[ok], n[ok], mode[ok], guess[ok])
    p = np.minimum(p, 1.0)
    p[empty] = 1.0
    odds = np.where(empty, np.nan, odds)
    return odds, p


def _fisher_two_sided(
    a: np.ndarray, n1: np.ndarray, big: np.ndarray, n: np.ndarray,
    mode: np.ndarray, guess: np.ndarray,
) -> np.ndarray:
    """Two-sided Fisher p-values as scipy computes them, given the kernel's boundaries."""
    hg = scipy.stats.hypergeom
    pexact = hg.pmf(a, big, n1, n)
    pmode = hg.pmf(mode, big, n1, n)
    gamma = 1 + 1e-14
    thresh = pexact * gamma
    with np.errstate(invalid="ignore", divide="ignore"):
        tie = np.abs(pexact - pmode) / np.maximum(pexact, pmode) <= 1e-14
    lower = a < mode
    guess = guess.copy()
    # Confirm the boundary with scipy's pmf (the kernel's walk may differ by a
    # few ulps near ties): a < mode wants pmf(g) >= t > pmf(g + 1) above the
    # mode, a >= mode wants pmf(g) <= t < pmf(g + 1) below it.
    todo = ~tie
    for _ in range(64):
        idx = np.flatnonzero(todo)
        if idx.size == 0:
            break
        g = guess[idx]
        pg = hg.pmf(g, big[idx], n1[idx], n[idx])
        pg1 = hg.pmf(g + 1, big[idx], n1[idx], n[idx])
        t = thresh[idx]
        low = lower[idx]
        at_end = g >= n[idx]
        down = np.where(low, pg < t, pg > t)
        up = np.where(low, (pg1 >= t) & ~at_end, pg1 <= t)
        guess[idx] = g - down + (up & ~down)
        todo[idx] = down | up
    for i in np.flatnonzero(todo):  # pragma: no cover - fallback, never seen
        table = [[a[i], n1[i] - a[i]], [n[i] - a[i], big[i] - n1[i] - n[i] + a[i]]]
        guess[i] = -2
        pexact[i] = scipy.stats.fisher_exact(table).pvalue
    p = np.where(
        lower,
        hg.cdf(a, big, n1, n) + hg.sf(guess, big, n1, n),
        hg.sf(a - 1, big, n1, n) + hg.cdf(guess, big, n1, n),
    )
    p = np.where(guess == -2, pexact, p)
    return np.where(tie, 1.0, p)


# --------------------------------------------------------------------------
# Proportions (statsmodels)
# --------------------------------------------------------------------------


def proportions_ztest(
    count: Any,
    nobs: Any,
    value: Any = None,
    alternative: str = "two-sided",
    prop_var: Any = False,
    *,
    batch: bool = False,
) -> tuple[Any, Any]:
    r"""Proportions z test, as ``statsmodels.stats.proportion.proportions_ztest``.

    Parameters
    ----------
    count : int or array_like
        Successes: one value (one-sample test) or two (two-sample test). With
        ``batch=True``, shape ``(..., 1)`` or ``(..., 2)``: the *last* axis
        holds the samples of each test.
    nobs : int or array_like
        Trials, broadcast against `count` as in statsmodels.
    value : float or array_like, optional
        The proportion (one sample) or difference (two samples) under the
        null; required for one sample, 0 by default for two.
    alternative : {'two-sided', 'smaller', 'larger'}, default: 'two-sided'
        statsmodels' alternatives.
    prop_var : False or float, default: False
        If a number, the proportion used in the variance instead of the
        pooled one.
    batch : bool, default: False
        Many tests at once (fastinf's extension; see `count`).

    Returns
    -------
    zstat : float or ndarray
        The z statistic.
    pvalue : float or ndarray
        The p-value.

    Notes
    -----
    With :math:`\hat p_i = c_i / n_i` and the pooled
    :math:`\hat p = \sum c_i / \sum n_i`,

    .. math::

        z = \frac{\hat p_1 - \hat p_2 - v}
                 {\sqrt{\hat p (1 - \hat p) (1/n_1 + 1/n_2)}}

    (one sample: :math:`(\hat p_1 - v) / \sqrt{\hat p (1 - \hat p) / n_1}`) [1]_.

    References
    ----------
    .. [1] statsmodels, ``statsmodels.stats.proportion.proportions_ztest``,
       https://www.statsmodels.org/stable/generated/statsmodels.stats.proportion.proportions_ztest.html

    Examples
    --------
    >>> from fastinf.stats import proportions_ztest
    >>> z, p = proportions_ztest([4820, 5140], [50000, 50000])
    >>> round(float(z), 4)
    -3.3791
    """
    if alternative not in ("two-sided", "larger", "smaller"):
        raise ValueError(
            f"alternative must be one of 'two-sided', 'larger', 'smaller'; got {alternative!r}."
        )
    cnt = as_float(count, "count") if batch else np.asarray(count)
    nob = as_float(nobs, "nobs") if batch else np.asarray(nobs)
    if not batch:
        if nob.size == 1:
            nob = nob * np.ones_like(cnt)
        prop = cnt * 1.0 / nob
        k = np.size(prop)
        if value is None:
            if k == 1:
                raise ValueError("value must be provided for a 1-sample test")
            value = 0
        if k == 1:
            diff = prop - value
        elif k == 2:
            diff = prop[0] - prop[1] - value
        else:
            raise NotImplementedError("more than two samples are not implemented yet")
        p_pooled = np.sum(cnt) * 1.0 / np.sum(nob)
        nobs_fact = np.sum(1.0 / nob)
        if prop_var:
            p_pooled = prop_var
        std = np.sqrt(p_pooled * (1 - p_pooled) * nobs_fact)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = diff / std
        return z, _z_pvalue(z, alternative)
    if cnt.ndim == 0:
        raise ValueError("With `batch=True`, `count` must have a last axis of samples.")
    try:
        shape = np.broadcast_shapes(cnt.shape, nob.shape)
    except ValueError:
        raise ValueError(
            f"`count` {cnt.shape} and `nobs` {nob.shape} must broadcast."
        ) from None
    cnt, nob = np.broadcast_to(cnt, shape), np.broadcast_to(nob, shape)
    k = shape[-1]
    prop = cnt / nob
    if k == 1:
        if value is None:
            raise ValueError("value must be provided for a 1-sample test")
        diff = prop[..., 0] - value
    elif k == 2:
        diff = prop[..., 0] - prop[..., 1] - (0 if value is None else value)
    else:
        raise NotImplementedError("more than two samples are not implemented yet")
    p_pooled = cnt.sum(axis=-1) / nob.sum(axis=-1)
    nobs_fact = (1.0 / nob).sum(axis=-1)
    if prop_var:
        p_pooled = np.full_like(p_pooled, prop_var)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / np.sqrt(p_pooled * (1 - p_pooled) * nobs_fact)
    return scalar(z), scalar(_z_pvalue(z, alternative))


def _z_pvalue(z: Any, alternative: str) -> Any:
    if alternative == "two-sided":
        return scipy.stats.norm.sf(np.abs(z)) * 2
    if alternative == "larger":
        return scipy.stats.norm.sf(z)
    return scipy.stats.norm.cdf(z)
