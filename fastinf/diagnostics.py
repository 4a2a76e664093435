r"""MCMC convergence diagnostics, batched: split R-hat, effective sample size, MCSE.

Drop-ins for ArviZ's :func:`arviz.rhat`, :func:`arviz.ess` and
:func:`arviz.mcse` (ArviZ 0.23) on plain arrays: every method of ArviZ,
rank-normalised split R-hat and bulk/tail ESS of Vehtari et al. (2021) by
default, with ArviZ's numbers on the same draws. Any array with a chain axis
and a draw axis works; the other axes are a batch (experiments, parameters)
and the result has their shape, so the diagnostics of thousands of
experiments, each with its own chains, come out of one call.

Each ``(chains, draws)`` matrix is one unit of work for a Numba kernel
(:mod:`fastinf.kernels.diagnostics`), in parallel over the batch: a radix
sort gives the ranks (and, by a merge, the ranks of the folded draws and the
quantiles), the normal scores of the ranks come from a table of
:func:`scipy.special.ndtri` values computed once per call, and the
autocovariances that Geyer's sequence needs are computed lag by lag, as far
as the sequence goes (an FFT takes over for very long sequences).
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from fastinf._samples import as_float
from fastinf.ragged import SmallSampleWarning

__all__ = ["ess", "mcse", "rhat"]

_RHAT_METHODS = ("rank", "split", "folded", "z_scale", "identity")
_ESS_METHODS = (
    "bulk", "tail", "quantile", "mean", "sd", "median", "mad", "z_scale", "folded",
    "identity", "local",
)
_MCSE_METHODS = ("mean", "sd", "median", "quantile")
_MIN_DRAWS = 4  # ArviZ: fewer draws per chain give NaN
_MCSE_PROBABILITY = (0.1586553, 0.8413447)  # ArviZ: +-1 sd of a normal, for mcse quantiles


# --------------------------------------------------------------------------
# Validation and layout
# --------------------------------------------------------------------------


def _axis(value: Any, name: str, ndim: int) -> int:
    try:
        axis = operator.index(value)
    except TypeError:
        raise TypeError(f"`{name}` must be an integer, got {value!r}.") from None
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(
            f"`{name}` {axis} is out of bounds for `draws` of dimension {ndim}."
        )
    return axis % ndim


def _layout(
    draws: Any, chain_axis: Any, draw_axis: Any, min_chains: int, what: str
) -> tuple[np.ndarray, int, int, tuple[int, ...], bool]:
    """``(x, C, N, batch_shape, too_small)``: ``x`` is C-contiguous ``(batch, C * N)``."""
    arr = as_float(draws, "draws")
    if arr.ndim < 2:
        raise ValueError(
            f"`draws` must have a chain axis and a draw axis (at least 2 dimensions), "
            f"got {arr.ndim}; for a single chain use draws[np.newaxis, :]."
        )
    c_ax = _axis(chain_axis, "chain_axis", arr.ndim)
    d_ax = _axis(draw_axis, "draw_axis", arr.ndim)
    if c_ax == d_ax:
        raise ValueError(
            f"`chain_axis` and `draw_axis` must be different axes, both are {c_ax}."
        )
    arr = np.moveaxis(arr, (c_ax, d_ax), (-2, -1))
    n_chain, n_draw = arr.shape[-2:]
    batch = arr.shape[:-2]
    x = np.ascontiguousarray(arr.reshape(-1, n_chain * n_draw))
    too_small = n_chain < min_chains or n_draw < _MIN_DRAWS
    if too_small:
        warnings.warn(
            f"{what} needs at least {min_chains} chain(s) of at least {_MIN_DRAWS} draws; "
            f"got {n_chain} chain(s) of {n_draw} draws: the result is NaN.",
            SmallSampleWarning,
            stacklevel=3,
        )
    return x, int(n_chain), int(n_draw), batch, too_small


def _finish(out: np.ndarray, batch: tuple[int, ...]) -> Any:
    if batch == ():
        return float(out[0])
    return out.reshape(batch)


def _check_method(method: Any, methods: tuple[str, ...], what: str) -> str:
    if not isinstance(method, str) or method not in methods:
        raise TypeError(
            f"{what} method {method!r} not found. Valid methods are: {', '.join(methods)}."
        )
    return method


def _check_prob(p: Any) -> float:
    try:
        value = float(p)
    except (TypeError, ValueError):
        raise TypeError(f"`prob` must be a number in [0, 1], got {p!r}.") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"`prob` must be in [0, 1], got {p!r}.")
    return value


def _ztable(n: int) -> np.ndarray:
    """Normal scores of the half-integer ranks ``1, 1.5, ..., n`` among ``n`` values.

    ArviZ's ``_z_scale``: ``norm.ppf((r - 3/8) / (n - 2 * 3/8 + 1))`` (Blom's
    offset), with the same operations, so the same bits.
    """
    from scipy import special

    if n == 0:
        return np.zeros(1)
    r = np.arange(2, 2 * n + 1) / 2.0
    c = 3 / 8
    return special.ndtri((r - c) / (n - 2 * c + 1))


# --------------------------------------------------------------------------
# R-hat
# --------------------------------------------------------------------------


def rhat(
    draws: Any, *, method: str = "rank", chain_axis: int = -2, draw_axis: int = -1
) -> Any:
    r"""Rank-normalised split R-hat (and ArviZ's other R-hats), batched.

    A drop-in for :func:`arviz.rhat` on arrays: ``rhat(x)`` of a
    ``(chain, draw)`` array is ``az.rhat(x)``.

    Parameters
    ----------
    draws : array_like
        Draws with a chain axis and a draw axis; every position along the
        other axes (experiments, parameters) is a separate diagnostic.
    method : {'rank', 'split', 'folded', 'z_scale', 'identity'}, optional
        ``'rank'`` (default, Vehtari et al. [1]_): the larger of the split
        R-hat of the rank-normalised draws and of the rank-normalised folded
        draws; ``'split'``: split R-hat of the draws themselves;
        ``'folded'``: of the rank-normalised ``|draws - median|``;
        ``'z_scale'``: of the rank-normalised draws; ``'identity'``: the
        classic R-hat, chains not split [2]_.
    chain_axis, draw_axis : int, optional
        The axes of chains and of draws (keyword-only; default the last two).

    Returns
    -------
    float or ndarray
        R-hat, with the shape of the other axes (a float for 2-D input).
        NaN where an element holds NaN, or for all when there are fewer than
        2 chains or 4 draws (with a :class:`fastinf.SmallSampleWarning`);
        NaN too for constant draws (``0 / 0``), as ArviZ.

    Notes
    -----
    Chains of :math:`N` draws are split into halves of :math:`n = \lfloor N/2
    \rfloor` draws (an odd :math:`N` drops the middle draw), giving
    :math:`m = 2C` chains. With chain means :math:`\bar\theta_j`, chain
    variances :math:`s_j^2`,

    .. math::

        W = \frac{1}{m} \sum_j s_j^2, \qquad
        \frac{B}{n} = \frac{1}{m - 1} \sum_j (\bar\theta_j - \bar\theta)^2, \qquad
        \hat R = \sqrt{\frac{(n - 1)/n \, W + B/n}{W}}.

    Rank normalisation replaces each draw by :math:`\Phi^{-1}((r - 3/8) /
    (S + 1/4))`, :math:`r` its average rank among all :math:`S = m n` split
    draws; folding replaces it by :math:`|\theta - \operatorname{median}|`
    first [1]_.

    Variances are two-pass, as ``np.var`` (ArviZ with Numba uses one-pass
    sums, which lose digits when the draws sit far from zero; its results
    without Numba are those reproduced here).

    References
    ----------
    .. [1] A. Vehtari, A. Gelman, D. Simpson, B. Carpenter, P.-C. Bürkner,
       "Rank-normalization, folding, and localization: An improved R-hat for
       assessing convergence of MCMC", Bayesian Analysis 16(2), 2021.
    .. [2] A. Gelman, D. B. Rubin, "Inference from iterative simulation using
       multiple sequences", Statistical Science 7(4), 1992.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.diagnostics import rhat
    >>> x = np.random.default_rng(0).normal(size=(4, 1000))  # 4 chains
    >>> print(f"{rhat(x):.4f}")
    1.0003
    >>> x[0] += 1.0  # one chain elsewhere
    >>> rhat(x) > 1.01
    True
    >>> rhat(np.zeros((3, 4, 100)), method="split").shape  # 3 experiments
    (3,)
    """
    from fastinf.kernels import diagnostics as K

    method = _check_method(method, _RHAT_METHODS, "R-hat")
    x, n_chain, n_draw, batch, too_small = _layout(
        draws, chain_axis, draw_axis, 2, "R-hat"
    )
    out = np.full(x.shape[0], np.nan)
    if not too_small and x.shape[0]:
        code = _RHAT_METHODS.index(method)
        ztab = _ztable(2 * n_chain * (n_draw // 2))
        K.rhat_many(x, n_chain, n_draw, code, ztab, out)
    return _finish(out, batch)


# --------------------------------------------------------------------------
# ESS
# --------------------------------------------------------------------------


def _ess_probs(method: str, prob: Any) -> tuple[float, float]:
    """``(p_lo, p_hi)`` for the kernel; validation of `prob` per method."""
    if method == "tail":
        if prob is None:
            return 0.05, 0.95
        if isinstance(prob, Sequence) and not isinstance(prob, str):
            if len(prob) != 2:
                raise ValueError("`prob` of ess method 'tail' must be a number or a pair.")
            return _check_prob(prob[0]), _check_prob(prob[1])
        p = _check_prob(prob)
        return p, 1 - p
    if method == "quantile":
        if prob is None:
            raise TypeError("Quantile (prob) information needs to be defined.")
        p = _check_prob(prob)
        return p, p
    if method == "local":
        if prob is None:
            raise TypeError("`prob` (a lower and an upper probability) is required for "
                            "ess method 'local'.")
        if not isinstance(prob, Sequence) or isinstance(prob, str) or len(prob) != 2:
            raise ValueError("Prob argument in ess local must be upper and lower bound")
        return _check_prob(prob[0]), _check_prob(prob[1])
    if prob is not None:
        raise TypeError(
            f"`prob` is only used by ess methods 'tail', 'quantile' and 'local', "
            f"not {method!r}."
        )
    if method == "median":
        return 0.5, 0.5
    return 0.0, 0.0


def ess(
    draws: Any,
    *,
    method: str = "bulk",
    relative: bool = False,
    prob: Any = None,
    chain_axis: int = -2,
    draw_axis: int = -1,
) -> Any:
    r"""Effective sample size: bulk and tail ESS (and ArviZ's other ESS), batched.

    A drop-in for :func:`arviz.ess` on arrays: ``ess(x)`` of a
    ``(chain, draw)`` array is ``az.ess(x)``.

    Parameters
    ----------
    draws : array_like
        Draws with a chain axis and a draw axis; every position along the
        other axes (experiments, parameters) is a separate diagnostic.
    method : str, optional
        As ArviZ: ``'bulk'`` (default; split chains, rank-normalised),
        ``'tail'`` (the smaller ESS of the indicators :math:`\theta \le
        q_{0.05}` and :math:`\theta \le q_{0.95}`), ``'quantile'`` (the
        indicator of ``prob``'s quantile), ``'mean'`` (split, raw draws),
        ``'sd'`` (split, squared deviations from the mean), ``'median'``,
        ``'mad'`` (the indicator of the absolute deviation from the median
        below its median, rank-normalised), ``'z_scale'`` (as ``'bulk'``),
        ``'folded'`` (rank-normalised ``|draws - median|``), ``'identity'``
        (chains not split), ``'local'`` (the indicator of the interval
        between two quantiles).
    relative : bool, optional
        Divide by the number of (split) draws.
    prob : float or (float, float), optional
        ``'tail'``: the lower probability (the upper is ``1 - prob``) or the
        pair, default ``(0.05, 0.95)``; ``'quantile'``: the probability
        (required); ``'local'``: the pair (required). In [0, 1].
    chain_axis, draw_axis : int, optional
        The axes of chains and of draws (keyword-only; default the last two).

    Returns
    -------
    float or ndarray
        The ESS, with the shape of the other axes (a float for 2-D input).
        NaN where an element holds NaN, or for all with fewer than 4 draws
        (with a :class:`fastinf.SmallSampleWarning`). As ArviZ, an array whose
        range is below ``1e-15`` after the method's transformation (e.g.
        constant draws) has an ESS equal to its number of values, even with
        ``relative=True``.

    Notes
    -----
    With :math:`m` chains of :math:`n` draws, :math:`W` the mean of the
    chain variances, :math:`\hat{\mathrm{var}}^+ = \frac{n-1}{n} W +
    \frac{B}{n}` and :math:`\hat\gamma_t` the mean over chains of the
    autocovariances at lag :math:`t` (divided by :math:`n`),

    .. math::

        \hat\rho_t = 1 - \frac{W - \hat\gamma_t}{\hat{\mathrm{var}}^+}, \qquad
        \hat\tau = -1 + 2 \sum_{t=0}^{K} \hat\rho_t + \hat\rho_{K+1}, \qquad
        \mathrm{ESS} = \frac{m n}{\max(\hat\tau, 1 / \log_{10}(m n))}.

    :math:`K` is where Geyer's initial positive sequence ends (the first
    pair :math:`\hat\rho_{2k} + \hat\rho_{2k+1}` that is not positive), and
    the pair sums are made non-increasing (initial monotone sequence) [1]_
    [2]_. The cap keeps ESS at most :math:`m n \log_{10}(m n)`, as ArviZ.
    Quantiles are R's type 7, as ArviZ's.

    The autocovariances are direct sums (an FFT past 48 lags) where ArviZ
    uses NumPy's FFT for all lags: the two agree to rounding (about
    :math:`K \cdot 10^{-16}` relative), except when, for discrete draws, a
    pair of autocorrelations sums to exactly zero, where Geyer's stopping
    rule is decided by each side's rounding and the two can differ.

    References
    ----------
    .. [1] A. Vehtari, A. Gelman, D. Simpson, B. Carpenter, P.-C. Bürkner,
       "Rank-normalization, folding, and localization: An improved R-hat for
       assessing convergence of MCMC", Bayesian Analysis 16(2), 2021.
    .. [2] C. J. Geyer, "Practical Markov chain Monte Carlo", Statistical
       Science 7(4), 1992.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.diagnostics import ess
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(4, 1000))  # independent draws: ESS near 4000
    >>> print(f"{ess(x):.1f}")
    3926.1
    >>> ar = np.zeros((4, 1000))  # AR(1), phi = 0.9: ESS near 4000 * 0.1 / 1.9 = 211
    >>> for t in range(1, 1000):
    ...     ar[:, t] = 0.9 * ar[:, t - 1] + rng.normal(size=4)
    >>> print(f"bulk {ess(ar):.1f}, tail {ess(ar, method='tail'):.1f}")
    bulk 268.1, tail 458.1
    """
    from fastinf.kernels import diagnostics as K

    method = _check_method(method, _ESS_METHODS, "ess")
    p_lo, p_hi = _ess_probs(method, prob)
    if method == "median":
        method = "quantile"
    elif method == "z_scale":
        method = "bulk"
    x, n_chain, n_draw, batch, too_small = _layout(draws, chain_axis, draw_axis, 1, "ESS")
    out = np.full(x.shape[0], np.nan)
    if not too_small and x.shape[0]:
        code = {
            "bulk": K.ESS_BULK, "tail": K.ESS_TAIL, "quantile": K.ESS_QUANTILE,
            "mean": K.ESS_MEAN, "sd": K.ESS_SD, "mad": K.ESS_MAD, "folded": K.ESS_FOLDED,
            "identity": K.ESS_IDENTITY, "local": K.ESS_LOCAL,
        }[method]
        need_z = method in ("bulk", "folded", "mad")
        ztab = _ztable(2 * n_chain * (n_draw // 2)) if need_z else np.zeros(1)
        K.ess_many(x, n_chain, n_draw, code, p_lo, p_hi, bool(relative), ztab, out)
    return _finish(out, batch)


# --------------------------------------------------------------------------
# MCSE
# --------------------------------------------------------------------------


def mcse(
    draws: Any,
    *,
    method: str = "mean",
    prob: Any = None,
    chain_axis: int = -2,
    draw_axis: int = -1,
) -> Any:
    r"""Monte Carlo standard error of the mean, sd, median or a quantile, batched.

    A drop-in for :func:`arviz.mcse` on arrays: ``mcse(x)`` of a
    ``(chain, draw)`` array is ``az.mcse(x)``.

    Parameters
    ----------
    draws : array_like
        Draws with a chain axis and a draw axis; every position along the
        other axes (experiments, parameters) is a separate diagnostic.
    method : {'mean', 'sd', 'median', 'quantile'}, optional
        The estimate whose error is computed.
    prob : float, optional
        The probability of the quantile (required for ``'quantile'``), in
        [0, 1].
    chain_axis, draw_axis : int, optional
        The axes of chains and of draws (keyword-only; default the last two).

    Returns
    -------
    float or ndarray
        The MCSE, with the shape of the other axes (a float for 2-D input);
        NaN as in :func:`ess`.

    Notes
    -----
    With :math:`S` draws, :math:`s` their standard deviation (``ddof=1``),
    :math:`\mathrm{ESS}_{\mathrm{mean}}` the split-chain ESS of
    :func:`ess` with ``method='mean'`` and :math:`d_i = (\theta_i -
    \bar\theta)^2`,

    .. math::

        \mathrm{MCSE}(\bar\theta) = \frac{s}{\sqrt{\mathrm{ESS}_{\mathrm{mean}}(\theta)}},
        \qquad
        \mathrm{MCSE}(\mathrm{sd}) = \sqrt{\frac{\overline{d^2} - \bar d^2}
        {4\, \bar d\, \mathrm{ESS}_{\mathrm{mean}}(d)}}.

    For the quantile :math:`p`, with :math:`E` the ESS of the indicator
    :math:`\theta \le q_p` and :math:`a, b` the 0.1586553 and 0.8413447
    quantiles of :math:`\mathrm{Beta}(E p + 1, E (1 - p) + 1)`, the MCSE is
    half the distance between the order statistics
    :math:`\theta_{(\lfloor a S - 1 \rfloor)}` and
    :math:`\theta_{(\lceil b S - 1 \rceil)}` (0-based, clipped to the
    sample) [1]_.

    References
    ----------
    .. [1] A. Vehtari, A. Gelman, D. Simpson, B. Carpenter, P.-C. Bürkner,
       "Rank-normalization, folding, and localization: An improved R-hat for
       assessing convergence of MCMC", Bayesian Analysis 16(2), 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.diagnostics import mcse
    >>> x = np.random.default_rng(0).normal(size=(4, 1000))
    >>> 0.01 < mcse(x) < 0.02  # about 1 / sqrt(4000)
    True
    >>> mcse(x, method="quantile", prob=0.9) > mcse(x, method="median")
    True
    """
    from fastinf.kernels import diagnostics as K

    method = _check_method(method, _MCSE_METHODS, "mcse")
    if method == "quantile":
        if prob is None:
            raise TypeError("Quantile (prob) information needs to be defined.")
        p = _check_prob(prob)
    elif prob is not None:
        raise TypeError(f"`prob` is only used by mcse method 'quantile', not {method!r}.")
    else:
        p = 0.5
    x, n_chain, n_draw, batch, too_small = _layout(draws, chain_axis, draw_axis, 1, "MCSE")
    out = np.full(x.shape[0], np.nan)
    if too_small or not x.shape[0]:
        return _finish(out, batch)
    if method in ("mean", "sd"):
        code = K.MCSE_MEAN if method == "mean" else K.MCSE_SD
        K.mcse_moments(x, n_chain, n_draw, code, out)
        return _finish(out, batch)
    from scipy import stats

    ess_q = np.empty(x.shape[0])
    K.ess_many(x, n_chain, n_draw, K.ESS_QUANTILE, p, p, False, np.zeros(1), ess_q)
    prob_ab = np.asarray(_MCSE_PROBABILITY)
    with np.errstate(invalid="ignore"):
        ppf = stats.beta.ppf(prob_ab, ess_q[:, None] * p + 1, ess_q[:, None] * (1 - p) + 1)
    size = x.shape[1]
    ppf_size = ppf * size - 1
    # np.nanmax((a, 0)) / np.nanmin((b, size - 1)), as ArviZ
    lo = np.where(np.isnan(ppf_size[:, 0]), 0.0, np.maximum(ppf_size[:, 0], 0.0))
    hi = np.where(np.isnan(ppf_size[:, 1]), size - 1.0,
                  np.minimum(ppf_size[:, 1], size - 1.0))
    i1 = np.floor(lo).astype(np.int64)
    i2 = np.ceil(hi).astype(np.int64)
    xs = np.sort(x, axis=1)
    rows = np.arange(x.shape[0])
    out = (xs[rows, i2] - xs[rows, i1]) / 2
    out[np.isnan(ess_q)] = np.nan
    return _finish(out, batch)
