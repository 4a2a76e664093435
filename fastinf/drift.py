"""Distribution drift of many features at once: PSI and the two-sample KS test.

Monitoring compares a *reference* sample of each feature (training data, last
month) with a *current* one (this week's window). :func:`psi` computes the
population stability index over bins cut at the reference's quantiles;
:func:`drift` returns it together with :func:`fastinf.ranks.ks_2samp` of the
same pairs, sharing the one sort of each reference row.

Shapes. ``reference`` and ``current`` are N-D arrays with observations along
``axis``, broadcasting along the other axes as in scipy, or
:class:`fastinf.Ragged` (one feature or window per row). One reference
against many current windows is a reference of one row: a 1-D array (or a
``(1, n)`` array with ``axis=-1``) against ``current`` of shape
``(W, n_w)`` (``axis=-1``) or a Ragged of ``W`` windows. A reference row is
binned once however many windows use it, and is never copied per window.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf._samples import as_float
from fastinf.ragged import Ragged, SmallSampleWarning, check_nan_policy
from fastinf.ranks import KstestResult, _ks_extremes, _ks_finish, _sort_segments

__all__ = ["PSI_THRESHOLDS", "DriftResult", "PSIResult", "drift", "psi", "psi_label"]

#: Conventional reading of the PSI: below 0.1 stable, 0.1 to 0.2 a minor
#: shift, 0.2 and above a significant shift.
PSI_THRESHOLDS = (0.1, 0.2)


@dataclass(frozen=True, slots=True)
class PSIResult:
    """Result of :func:`psi`.

    Attributes
    ----------
    statistic : float or ndarray
        The PSI of each feature (batch shape).
    edges : ndarray
        Bin edges, batch shape + ``(bins + 1,)``: ``-inf``, the distinct
        interior edges, ``+inf``, then NaN in the slots freed by merged
        (tied) quantiles.
    reference_proportions, current_proportions : ndarray
        Share of each bin, batch shape + ``(bins,)``, an empty bin's share
        being ``epsilon``; NaN in unused slots.
    n_bins : int or ndarray
        Bins actually used per feature (``bins`` less merged edges).
    """

    statistic: Any
    edges: np.ndarray
    reference_proportions: np.ndarray
    current_proportions: np.ndarray
    n_bins: Any


@dataclass(frozen=True, slots=True)
class DriftResult:
    """Result of :func:`drift`: the PSI and the KS test of each feature.

    Attributes
    ----------
    psi : PSIResult
        As returned by :func:`psi`.
    ks : KstestResult
        As returned by :func:`fastinf.ranks.ks_2samp` (``data1`` the
        reference, ``data2`` the current sample).
    """

    psi: PSIResult
    ks: KstestResult

    @property
    def label(self) -> Any:
        """:func:`psi_label` of the PSI."""
        return psi_label(self.psi.statistic)


def psi_label(statistic: Any) -> Any:
    """The conventional reading of a PSI value: 'stable', 'minor' or 'significant'.

    Parameters
    ----------
    statistic : float or array_like
        PSI values.

    Returns
    -------
    str or ndarray of str
        ``'stable'`` below 0.1, ``'minor'`` from 0.1 to below 0.2,
        ``'significant'`` from 0.2; ``'nan'`` for NaN.

    Examples
    --------
    >>> from fastinf.drift import psi_label
    >>> psi_label([0.02, 0.15, 0.4]).tolist()
    ['stable', 'minor', 'significant']
    """
    s = np.asarray(statistic, dtype=np.float64)
    out = np.where(
        s < PSI_THRESHOLDS[0], "stable",
        np.where(s < PSI_THRESHOLDS[1], "minor", "significant"),
    )
    out = np.where(np.isnan(s), "nan", out)
    return str(out[()]) if out.ndim == 0 else out


# --------------------------------------------------------------------------
# Layout: rows of each side, and which rows each experiment pairs
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    values: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    nan: np.ndarray  # row had NaN under 'propagate'


@dataclass(frozen=True)
class _Layout:
    ref: _Rows
    cur: _Rows
    rmap: np.ndarray  # experiment -> reference row
    cmap: np.ndarray  # experiment -> current row
    shape: tuple[int, ...] | None  # batch shape, None for Ragged

    def reshape(self, a: np.ndarray) -> Any:
        if self.shape is None:
            return a
        out = a.reshape(self.shape + a.shape[1:])
        return out[()] if out.ndim == 0 else out


@dataclass(frozen=True)
class _View:
    """Reference (x) and current (y) ranges per experiment, for the KS kernel."""

    xlo: np.ndarray
    xhi: np.ndarray
    ylo: np.ndarray
    yhi: np.ndarray
    n1: np.ndarray
    n2: np.ndarray
    skip: np.ndarray


def _rows(values: np.ndarray, offsets: np.ndarray, nan_policy: str, name: str) -> _Rows:
    """Rows ``values[offsets[r]:offsets[r+1]]`` as a fresh array, NaN handled."""
    values = np.array(values, dtype=np.float64, copy=True)
    isnan = np.isnan(values)
    n_rows = offsets.size - 1
    nan = np.zeros(n_rows, dtype=bool)
    if isnan.any():
        if nan_policy == "raise":
            pos = int(np.flatnonzero(isnan)[0])
            r = int(np.searchsorted(offsets, pos, side="right") - 1)
            raise ValueError(f"The input contains nan values: `{name}` row {r}.")
        if nan_policy == "propagate":
            counts = np.add.reduceat(isnan, offsets[:-1]) if n_rows else isnan
            sizes = np.diff(offsets)
            nan = (counts > 0) & (sizes > 0)
        else:
            keep = ~isnan
            before = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
            values = values[keep]
            offsets = before[offsets]
    return _Rows(values, offsets[:-1].copy(), offsets[1:].copy(), nan)


def _layout(reference: Any, current: Any, axis: Any, nan_policy: Any) -> _Layout:
    check_nan_policy(nan_policy)
    if isinstance(current, Ragged):
        if isinstance(reference, Ragged):
            ref_v, ref_o = as_float(reference.values, "reference"), reference.offsets
        else:
            r = as_float(reference, "reference")
            if r.ndim != 1:
                raise ValueError(
                    "with Ragged `current`, `reference` must be Ragged or 1-D; got "
                    f"shape {r.shape}."
                )
            ref_v, ref_o = r, np.array([0, r.size], dtype=np.int64)
        n_ref = ref_o.size - 1
        n_exp = current.n_experiments
        if n_ref not in (1, n_exp):
            raise ValueError(
                f"`reference` has {n_ref} experiments and `current` {n_exp}; give "
                "`reference` one experiment or as many as `current`."
            )
        ref = _rows(ref_v, ref_o, nan_policy, "reference")
        cur = _rows(as_float(current.values, "current"), current.offsets, nan_policy, "current")
        rmap = np.zeros(n_exp, np.int64) if n_ref == 1 else np.arange(n_exp, dtype=np.int64)
        return _Layout(ref, cur, rmap, np.arange(n_exp, dtype=np.int64), None)
    if isinstance(reference, Ragged):
        raise TypeError("a Ragged `reference` needs a Ragged `current`.")
    try:
        axis_int = int(axis)
    except (TypeError, ValueError):
        raise ValueError("`axis` must be an integer.") from None
    if axis_int != axis:
        raise ValueError("`axis` must be an integer.")
    arrays = [as_float(reference, "reference"), as_float(current, "current")]
    ndim = max(a.ndim for a in arrays)
    if ndim == 0:
        raise ValueError("`reference` and `current` must have at least one dimension.")
    arrays = [a.reshape((1,) * (ndim - a.ndim) + a.shape) for a in arrays]
    if not -ndim <= axis_int < ndim:
        raise ValueError(f"`axis` {axis_int} is out of bounds for {ndim} dimensions.")
    moved = [np.moveaxis(a, axis_int, -1) for a in arrays]
    try:
        shape = tuple(np.broadcast_shapes(*(m.shape[:-1] for m in moved)))
    except ValueError:
        raise ValueError(
            "`reference` and `current` must broadcast along every axis but `axis`; "
            f"got shapes {arrays[0].shape} and {arrays[1].shape}."
        ) from None
    sides = []
    maps = []
    for m, name in zip(moved, ("reference", "current"), strict=True):
        n_rows = int(np.prod(m.shape[:-1], dtype=np.int64))
        n = m.shape[-1]
        sides.append(_rows(
            m.reshape(n_rows, n).ravel(), np.arange(n_rows + 1, dtype=np.int64) * n,
            nan_policy, name,
        ))
        maps.append(np.ascontiguousarray(
            np.broadcast_to(np.arange(n_rows).reshape(m.shape[:-1]), shape).ravel()
        ).astype(np.int64))
    return _Layout(sides[0], sides[1], maps[0], maps[1], shape)


def _check_bins(bins: Any) -> tuple[np.ndarray | None, np.ndarray | None, int]:
    """``(quantile levels, explicit cut points, number of bins)``."""
    if np.ndim(bins) == 0:
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
            raise ValueError(
                "`bins` must be an integer >= 2 or a 1-D increasing array of cut points."
            )
        return np.arange(1, int(bins)) / int(bins), None, int(bins)
    cuts = np.asarray(bins, dtype=np.float64)
    if cuts.ndim != 1 or cuts.size < 1 or not np.all(np.isfinite(cuts)) or np.any(
        np.diff(cuts) <= 0
    ):
        raise ValueError(
            "`bins` must be an integer >= 2 or a 1-D increasing array of cut points."
        )
    return None, cuts, cuts.size + 1


# --------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------


def psi(
    reference: Any,
    current: Any,
    *,
    bins: Any = 10,
    epsilon: float = 1e-4,
    axis: int = 0,
    nan_policy: str = "propagate",
) -> PSIResult:
    r"""Population stability index of many features, over reference-quantile bins.

    Parameters
    ----------
    reference, current : array_like or Ragged
        The samples (see the module docstring for shapes and broadcasting).
    bins : int or array_like, default: 10
        An int ``k``: ``k`` bins between the reference's quantiles
        ``1/k, ..., (k-1)/k`` (deciles by default), computed per feature as
        ``np.quantile`` does (``method='linear'``). An array: increasing
        finite cut points, the same for every feature (``len(bins) + 1``
        bins). The outermost bins are open, ``(-inf, e_1)`` and
        ``[e_{k-1}, +inf]``, so current values beyond the reference's range
        are counted. Bins are closed on the left, as ``np.histogram``'s.
    epsilon : float, default: 1e-4
        The share given to an empty bin, in place of 0 (see Notes).
    axis : int, default: 0
        The observation axis of N-D arrays.
    nan_policy : {'propagate', 'omit', 'raise'}, optional
        NaN make the feature's PSI NaN, are dropped, or raise.

    Returns
    -------
    PSIResult
        ``statistic`` with the batch shape, and the edges and shares of the
        bins.

    Notes
    -----
    With :math:`r_b` and :math:`c_b` the shares of the reference and the
    current sample in bin :math:`b`,

    .. math::

        \mathrm{PSI} = \sum_b (c_b - r_b) \ln \frac{c_b}{r_b},
        \qquad r_b = \frac{\#\{\text{reference in } b\}}{n_r}
        \text{ if nonzero, else } \varepsilon,

    and likewise :math:`c_b` [1]_. Each term is non-negative. Only empty
    bins get :math:`\varepsilon`; the others keep their exact share (some
    implementations add :math:`\varepsilon` to every bin, e.g.
    ``counts / n + 1e-7``: with quantile bins the reference bins are
    rarely empty, and the two agree to about :math:`k \varepsilon`).

    Tied reference data make some quantiles equal: equal edges are merged
    (``np.unique``), so such a feature has fewer, wider bins and a value
    equal to an edge falls in the bin that edge opens.

    Conventional reading: below 0.1 stable, 0.1 to 0.2 a minor shift, above
    0.2 a significant shift (:func:`psi_label`).

    References
    ----------
    .. [1] B. Yurdakul, "Statistical Properties of Population Stability
       Index", PhD dissertation, Western Michigan University, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.drift import psi, psi_label
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=(3, 5000))
    >>> cur = rng.normal(loc=[[0.0], [0.4], [1.0]], size=(3, 5000))
    >>> res = psi(ref, cur, axis=-1)
    >>> psi_label(res.statistic).tolist()
    ['stable', 'minor', 'significant']
    """
    q, cuts, k = _check_bins(bins)
    eps = _check_epsilon(epsilon)
    lay = _layout(reference, current, axis, nan_policy)
    _sort_segments(lay.ref.values, lay.ref.lo, lay.ref.hi)
    return _psi(lay, q, cuts, k, eps)


def drift(
    reference: Any,
    current: Any,
    *,
    bins: Any = 10,
    epsilon: float = 1e-4,
    axis: int = 0,
    nan_policy: str = "propagate",
    alternative: str = "two-sided",
    method: str = "auto",
) -> DriftResult:
    """PSI and two-sample KS test of each feature in one call.

    Parameters
    ----------
    reference, current : array_like or Ragged
        The samples, as in :func:`psi`.
    bins, epsilon : optional
        As in :func:`psi`.
    axis : int, default: 0
        The observation axis of N-D arrays.
    nan_policy : {'propagate', 'omit', 'raise'}, optional
        As in :func:`psi`; applies to both statistics.
    alternative, method : str, optional
        As in :func:`fastinf.ranks.ks_2samp`, with ``data1 = reference``.

    Returns
    -------
    DriftResult
        ``psi`` (a :class:`PSIResult`), ``ks`` (a
        :class:`fastinf.ranks.KstestResult`), and ``label``, the reading of
        the PSI.

    Notes
    -----
    ``drift(r, c).ks`` equals ``ks_2samp(r, c)`` (with broadcasting) and
    ``drift(r, c).psi`` equals ``psi(r, c)``; each reference row is sorted
    once for both.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.drift import drift
    >>> rng = np.random.default_rng(1)
    >>> res = drift(rng.normal(size=2000), rng.normal(0.5, size=(4, 1000)), axis=-1)
    >>> res.label.tolist(), bool(np.all(res.ks.pvalue < 1e-6))
    (['significant', 'significant', 'significant', 'significant'], True)
    """
    q, cuts, k = _check_bins(bins)
    eps = _check_epsilon(epsilon)
    alt = alternative
    if isinstance(alternative, str) and alternative:
        alt = {"t": "two-sided", "g": "greater", "l": "less"}.get(
            alternative.lower()[0], alternative
        )
    if alt not in ("two-sided", "less", "greater"):
        raise ValueError(f"Invalid value for alternative: {alternative}")
    if method not in ("auto", "exact", "asymp"):
        raise ValueError(f"Invalid value for mode: {method}")
    lay = _layout(reference, current, axis, nan_policy)
    _sort_segments(lay.ref.values, lay.ref.lo, lay.ref.hi)
    psi_res = _psi(lay, q, cuts, k, eps)
    return DriftResult(psi_res, _ks(lay, str(alt), str(method)))


def _check_epsilon(epsilon: Any) -> float:
    try:
        eps = float(epsilon)
    except (TypeError, ValueError):
        raise ValueError("`epsilon` must be a positive number.") from None
    if not (eps > 0 and np.isfinite(eps)):
        raise ValueError("`epsilon` must be a positive number.")
    return eps


def _skip(lay: _Layout) -> np.ndarray:
    """Experiments whose results are NaN: NaN (propagate) or an empty sample."""
    ref, cur = lay.ref, lay.cur
    nan = ref.nan[lay.rmap] | cur.nan[lay.cmap]
    empty = ((ref.hi - ref.lo)[lay.rmap] == 0) | ((cur.hi - cur.lo)[lay.cmap] == 0)
    small = empty & ~nan
    if small.any():
        warnings.warn(
            f"{int(small.sum())} experiment(s) have an empty sample (after omitting "
            f"NaN; first: experiment {int(np.argmax(small))}); their results are NaN.",
            SmallSampleWarning, stacklevel=4,
        )
    return np.asarray(nan | empty)


def _psi(
    lay: _Layout, q: np.ndarray | None, cuts: np.ndarray | None, k: int, eps: float
) -> PSIResult:
    from fastinf.kernels import drift as K

    ref, cur = lay.ref, lay.cur
    n_ref = ref.lo.size
    ref_skip = ref.nan | (ref.hi == ref.lo)
    edges = np.empty((n_ref, k + 1))
    n_bins = np.empty(n_ref, dtype=np.int64)
    if q is not None:
        K.quantile_edges(ref.values, ref.lo, ref.hi, ref_skip, q, edges, n_bins)
    else:
        assert cuts is not None
        edges[:] = np.concatenate(([-np.inf], cuts, [np.inf]))
        n_bins[:] = k
        edges[ref_skip] = np.nan
        n_bins[ref_skip] = 0
    ref_shares = np.empty((n_ref, k))
    K.bin_shares(
        ref.values, ref.lo, ref.hi, np.arange(n_ref, dtype=np.int64), ref_skip,
        edges, n_bins, eps, ref_shares,
    )
    skip = _skip(lay)
    n_exp = lay.rmap.size
    cur_shares = np.empty((n_exp, k))
    K.bin_shares(
        cur.values, cur.lo[lay.cmap], cur.hi[lay.cmap], lay.rmap, skip,
        edges, n_bins, eps, cur_shares,
    )
    r = ref_shares[lay.rmap]
    r[skip] = np.nan
    c = cur_shares
    valid = ~np.isnan(c)
    terms = np.where(valid, (c - r) * np.log(np.where(valid, c / r, 1.0)), 0.0)
    stat = terms.sum(axis=-1)
    stat[skip] = np.nan
    e = edges[lay.rmap]
    e[skip] = np.nan
    nb = n_bins[lay.rmap]
    nb[skip] = 0
    return PSIResult(lay.reshape(stat), lay.reshape(e), lay.reshape(r), lay.reshape(c),
                     lay.reshape(nb))


def _ks(lay: _Layout, alternative: str, method: str) -> KstestResult:
    ref, cur = lay.ref, lay.cur
    _sort_segments(cur.values, cur.lo, cur.hi)
    values = np.concatenate((ref.values, cur.values))
    shift = ref.values.size
    xlo, xhi = ref.lo[lay.rmap], ref.hi[lay.rmap]
    ylo, yhi = cur.lo[lay.cmap] + shift, cur.hi[lay.cmap] + shift
    skip = ref.nan[lay.rmap] | cur.nan[lay.cmap] | (xhi == xlo) | (yhi == ylo)
    view = _View(xlo, xhi, ylo, yhi, xhi - xlo, yhi - ylo, skip)
    dmax, locmax, dmin, locmin = _ks_extremes(values, view)
    d, p, loc, sign = _ks_finish(
        dmax, locmax, dmin, locmin, view.n1, view.n2, skip, alternative, method
    )
    return KstestResult(lay.reshape(d), lay.reshape(p), lay.reshape(loc), lay.reshape(sign))

