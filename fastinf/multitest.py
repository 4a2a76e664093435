r"""Multiple-testing corrections: statsmodels' ``multipletests`` and scipy's FDR control.

A *family* of hypotheses is tested together; its p-values are adjusted so
that rejecting every hypothesis whose adjusted p-value is at most ``alpha``
controls the family-wise error rate (Bonferroni, Sidak, Holm, Holm-Sidak,
Simes-Hochberg, Hommel) or the false discovery rate (Benjamini-Hochberg,
Benjamini-Yekutieli, the two-stage and adaptive procedures).

:func:`multipletests` and :func:`fdrcorrection` are drop-ins for
``statsmodels.stats.multitest``; :func:`false_discovery_control` is a
drop-in for :func:`scipy.stats.false_discovery_control`. All three also take
a batch of families: an N-D array with ``axis`` (a family is a 1-D slice
along ``axis``) or a :class:`fastinf.Ragged` (one family per row, e.g. the
metrics of each experiment). The families are adjusted in parallel in
:mod:`fastinf.kernels.multitest`; one large family is sorted by a parallel
bucket sort instead of a comparison sort.

NaN p-values follow ``nan_policy`` (statsmodels turns every adjusted value
of a step-up method into NaN while still rejecting): ``'propagate'`` gives
the whole family NaN adjusted p-values and no rejections, ``'omit'`` leaves
NaN entries out of their family (they get NaN and ``False``), ``'raise'``
raises.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from fastinf.ragged import Ragged, check_nan_policy

__all__ = ["multipletests", "fdrcorrection", "false_discovery_control"]

# statsmodels' names and aliases (statsmodels.stats.multitest._alias_list).
_ALIASES: dict[str, tuple[str, ...]] = {
    "bonferroni": ("b", "bonf"),
    "sidak": ("s",),
    "holm-sidak": ("hs",),
    "holm": ("h",),
    "simes-hochberg": ("sh",),
    "hommel": ("ho",),
    "fdr_bh": ("fdr_i", "fdr_p", "fdri", "fdrp"),
    "fdr_by": ("fdr_n", "fdr_c", "fdrn", "fdrcorr"),
    "fdr_tsbh": ("fdr_2sbh",),
    "fdr_tsbky": ("fdr_2sbky", "fdr_twostage"),
    "fdr_gbs": (),
    "lfdr": ("lfdr_sl",),
}
_CODES = {
    "bonferroni": 0, "sidak": 1, "holm-sidak": 2, "holm": 3, "simes-hochberg": 4,
    "hommel": 5, "fdr_bh": 6, "fdr_by": 7, "fdr_tsbh": 8, "fdr_tsbky": 9,
    "fdr_gbs": 10, "lfdr": 11,
}
_METHOD = {a: name for name, aliases in _ALIASES.items() for a in (name, *aliases)}
_METHODS_TEXT = ", ".join(
    f"'{name}'" + (f" ({', '.join(repr(a) for a in aliases)})" if aliases else "")
    for name, aliases in _ALIASES.items()
)
_FDR_METHODS = {"i": 6, "indep": 6, "p": 6, "poscorr": 6, "n": 7, "negcorr": 7}
_FDC_BH, _FDC_BY = 12, 13
_BIG = 1 << 17  # a family at least this large is sorted in parallel on its own
_CHUNK = 16384  # p-values per chunk of families (fixed: results never depend on it)


@dataclass(frozen=True)
class _Families:
    values: np.ndarray  # all p-values, C-contiguous float64
    offsets: np.ndarray  # family f is values[offsets[f]:offsets[f + 1]]
    ragged: bool
    batch: tuple[int, ...]  # batch shape of N-D input (() for one family)
    moved: tuple[int, ...]  # N-D input with `axis` moved last
    axis: int | None  # where to move the family axis back; None: 1-D result

    @property
    def n_families(self) -> int:
        return int(self.offsets.size - 1)

    def label(self, f: int) -> str:
        """``' family 3'``, ``' family (1, 2)'``, or ``''`` for a single family."""
        if self.ragged or len(self.batch) == 1:
            return f" family {f}"
        if self.batch == ():
            return ""
        return f" family {tuple(int(i) for i in np.unravel_index(f, self.batch))}"

    def shape_like(self, flat: np.ndarray) -> Any:
        """Give a per-element result the input's layout."""
        if self.ragged:
            return Ragged(flat, self.offsets)
        if self.axis is None:
            return flat
        return np.moveaxis(flat.reshape(self.moved), -1, self.axis)

    def per_family(self, x: np.ndarray) -> Any:
        """Give a per-family result the batch shape (a float for one family)."""
        if self.ragged:
            return x
        if self.batch == ():
            return float(x[0])
        return x.reshape(self.batch)


def _families(pvals: Any, name: str, axis: Any) -> _Families:
    """Lay ``pvals`` out as families (no value checks)."""
    if isinstance(pvals, Ragged):
        values = _as_real(pvals.values, name)
        return _Families(
            np.ascontiguousarray(values, dtype=np.float64), pvals.offsets, True, (),
            (), None,
        )
    arr = _as_real(pvals, name)
    if axis is None:
        flat = np.ascontiguousarray(arr, dtype=np.float64).reshape(-1)
        offsets = np.array([0, flat.size], dtype=np.int64)
        return _Families(flat, offsets, False, (), (flat.size,), None)
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError("`axis` must be an integer or None.")
    if arr.ndim == 0:
        raise ValueError(f"`{name}` must have at least one dimension when `axis` is given.")
    axis = int(axis)
    if not -arr.ndim <= axis < arr.ndim:
        raise ValueError(
            f"`axis` {axis} is out of bounds for `{name}` with {arr.ndim} dimensions."
        )
    moved = np.moveaxis(arr, axis, -1)
    batch = moved.shape[:-1]
    n = moved.shape[-1]
    n_fam = int(np.prod(batch, dtype=np.int64))
    values = np.ascontiguousarray(moved, dtype=np.float64).reshape(-1)
    offsets = np.arange(n_fam + 1, dtype=np.int64) * n
    return _Families(values, offsets, False, batch, moved.shape, axis)


def _as_real(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
            or arr.dtype == bool):
        raise TypeError(f"`{name}` must hold real numbers; got dtype {arr.dtype}.")
    return arr


def _check_values(fam: _Families, name: str, nan_policy: str) -> None:
    """Raise for values outside [0, 1] and, with ``'raise'``, for NaN."""
    from fastinf.kernels import multitest as _k

    v = fam.values
    if v.size == 0 or _k.in_unit_interval(v):  # False for NaN too
        return
    bad = np.flatnonzero((v < 0.0) | (v > 1.0))
    if bad.size:
        f = int(np.searchsorted(fam.offsets, bad[0], side="right") - 1)
        raise ValueError(
            f"`{name}`{fam.label(f)} contains values outside [0, 1] "
            f"(e.g. {v[bad[0]]!r})."
        )
    if nan_policy == "raise":
        f = int(np.searchsorted(fam.offsets, np.flatnonzero(np.isnan(v))[0], side="right") - 1)
        raise ValueError(
            f"`{name}`{fam.label(f)} contains NaN (nan_policy='raise')."
        )


def _check_alpha(alpha: Any) -> float:
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise ValueError(f"`alpha` must be a number in (0, 1); got {alpha!r}.") from None
    if not 0.0 < a < 1.0:
        raise ValueError(f"`alpha` must be a number in (0, 1); got {alpha!r}.")
    return a


def _check_bool(x: Any, name: str) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    raise ValueError(f"`{name}` must be True or False; got {x!r}.")


def _check_maxiter(maxiter: Any) -> int:
    if maxiter is None:
        return -1
    if isinstance(maxiter, (bool, np.bool_)):
        # statsmodels: range(True) runs one stage (its docstring promises more).
        return int(maxiter)
    if not isinstance(maxiter, numbers.Integral) or maxiter < -1:
        raise ValueError(
            f"`maxiter` must be a non-negative integer, -1 or None (iterate to "
            f"convergence); got {maxiter!r}."
        )
    return int(maxiter)


def _run(
    fam: _Families, code: int, alpha: float, maxiter: int, is_sorted: bool,
    returnsorted: bool, omit: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Adjust every family in the kernels: ``(adjusted, reject, m)``."""
    from fastinf.kernels import multitest as _k

    values, offsets = fam.values, fam.offsets
    n_fam = fam.n_families
    adj = np.empty(values.size)
    rej = np.empty(values.size, dtype=bool)
    m_eff = np.zeros(n_fam, dtype=np.int64)
    sizes = np.diff(offsets)
    big = sizes >= _BIG
    small = np.flatnonzero(~big)
    if small.size:
        marks = np.arange(0, values.size, _CHUNK, dtype=np.int64)
        chunks = np.unique(
            np.concatenate(([0], np.searchsorted(offsets, marks, side="right") - 1, [n_fam]))
        )
        chunks = chunks[(chunks >= 0) & (chunks <= n_fam)].astype(np.int64)
        _k.adjust_many(
            values, offsets, chunks, big, code, alpha, maxiter, is_sorted, returnsorted,
            omit, adj, rej, m_eff,
        )
    for f in np.flatnonzero(big):
        m_eff[f] = _k.adjust_one(
            values, offsets[f], offsets[f + 1], code, alpha, maxiter, is_sorted,
            returnsorted, omit, adj, rej,
        )
    return adj, rej, m_eff


def multipletests(
    pvals: Any,
    alpha: float = 0.05,
    method: str = "hs",
    maxiter: int | bool | None = 1,
    is_sorted: bool = False,
    returnsorted: bool = False,
    *,
    axis: int | None = None,
    nan_policy: str = "propagate",
) -> tuple[Any, Any, Any, Any]:
    r"""Test results and p-value correction for multiple tests, as statsmodels.

    A drop-in for ``statsmodels.stats.multitest.multipletests`` (same
    methods, aliases, defaults and results), also over a batch of families.

    Parameters
    ----------
    pvals : array_like or Ragged
        Uncorrected p-values in [0, 1]. With ``axis=None`` (the default, as
        statsmodels) the array is flattened into one family; with an integer
        `axis` every 1-D slice along `axis` is a family; a
        :class:`fastinf.Ragged` holds one family per row.
    alpha : float, optional
        The family-wise error rate or false discovery rate, in (0, 1).
    method : str, optional
        ``'bonferroni'`` (``'b'``, ``'bonf'``), ``'sidak'`` (``'s'``),
        ``'holm-sidak'`` (``'hs'``, the default), ``'holm'`` (``'h'``),
        ``'simes-hochberg'`` (``'sh'``), ``'hommel'`` (``'ho'``),
        ``'fdr_bh'`` (``'fdr_i'``, ``'fdr_p'``, ``'fdri'``, ``'fdrp'``),
        ``'fdr_by'`` (``'fdr_n'``, ``'fdr_c'``, ``'fdrn'``, ``'fdrcorr'``),
        ``'fdr_tsbh'`` (``'fdr_2sbh'``), ``'fdr_tsbky'`` (``'fdr_2sbky'``,
        ``'fdr_twostage'``), ``'fdr_gbs'``, ``'lfdr'`` (``'lfdr_sl'``).
        Case-insensitive.
    maxiter : int, bool or None, optional
        Stages of the two-stage methods ``'fdr_tsbh'`` and ``'fdr_tsbky'``
        (ignored by the others): 1 (default) is the two-stage method, ``-1``
        or None iterates until the number of rejections stops changing
        (at most ``m`` stages), 0 uses the first stage only. As in
        statsmodels' code, ``True`` counts as 1 and ``False`` as 0.
    is_sorted : bool, optional
        If True, each family is taken to be sorted ascending already (not
        checked; unsorted input then gives meaningless results, as in
        statsmodels).
    returnsorted : bool, optional
        If True, `reject` and `pvals_corrected` are returned in ascending
        order of the p-values within each family (NaN entries left out by
        ``nan_policy='omit'`` last).
    axis : int or None, optional
        The axis along which families lie; None flattens (statsmodels).
    nan_policy : {'propagate', 'omit', 'raise'}, optional
        ``'propagate'``: a family containing NaN gets NaN adjusted p-values
        and no rejections (statsmodels instead returns NaN adjusted values
        while still rejecting, or numbers computed with the NaN sorted
        last); ``'omit'``: NaN entries are left out of their family (``m``
        counts the others) and get NaN and False; ``'raise'``: a
        ``ValueError`` naming the family.

    Returns
    -------
    reject : ndarray of bool or Ragged
        True for the hypotheses rejected at `alpha`, in the layout of
        `pvals` (flattened for ``axis=None``).
    pvals_corrected : ndarray or Ragged
        The adjusted p-values, clipped at 1, same layout.
    alphacSidak : float or ndarray
        Corrected alpha of the Sidak method, :math:`1 - (1 - \alpha)^{1/m}`,
        per family (batch shape, or one per Ragged row); NaN where
        :math:`m = 0`.
    alphacBonf : float or ndarray
        Corrected alpha of the Bonferroni method, :math:`\alpha / m`, per
        family.

    Raises
    ------
    ValueError
        For an unknown method (the message lists them), `alpha` outside
        (0, 1), p-values outside [0, 1] (naming the family), NaN under
        ``nan_policy='raise'``, or p-values of 0 with ``'lfdr'``.

    Notes
    -----
    With :math:`p_{(1)} \le \dots \le p_{(m)}` a family's sorted p-values,
    the adjusted values are, e.g.,

    .. math::

        \text{Holm: } \tilde p_{(k)} = \max_{i \le k} (m - i + 1)\, p_{(i)},
        \qquad
        \text{BH: } \tilde p_{(k)} = \min_{i \ge k} \frac{m}{i}\, p_{(i)},

    and Hommel's, with :math:`c_j = \min_{1 \le k \le j} j\, p_{(m-j+k)}/k`
    the Simes p-value of the :math:`j` largest p-values,

    .. math::

        \tilde p_i = \max_{1 \le j \le m} \min(j\, p_i,\; c_j),

    all clipped at 1. Each method follows statsmodels' code expression by
    expression (so the adjusted values agree to rounding); see
    :mod:`fastinf.kernels.multitest`. Hommel's values are computed in
    :math:`O(m \log m)` from the lower convex hull of the points
    :math:`(i, p_{(i)})` [1]_ (statsmodels' loop is :math:`O(m^2)`).

    Ties and p-values of exactly 0 or 1 are handled as in statsmodels. An
    empty family gives empty results and NaN corrected alphas.

    References
    ----------
    .. [1] R. J. Meijer, T. J. P. Krebs and J. J. Goeman, "Hommel's procedure
       in linearithmic time", Biometrika 106(2), 483-489, 2019.
    .. [2] statsmodels, ``statsmodels.stats.multitest.multipletests``,
       https://www.statsmodels.org/stable/generated/statsmodels.stats.multitest.multipletests.html
    .. [3] Y. Benjamini and Y. Hochberg, "Controlling the false discovery
       rate", JRSS B 57(1), 289-300, 1995.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.multitest import multipletests
    >>> reject, adjusted, _, _ = multipletests([0.01, 0.04, 0.03, 0.2], method="holm")
    >>> reject.tolist(), adjusted.round(4).tolist()
    ([True, False, False, False], [0.04, 0.09, 0.09, 0.2])

    Many families at once, one per row:

    >>> p = np.array([[0.01, 0.04, 0.03], [0.2, 0.001, 0.5]])
    >>> multipletests(p, method="fdr_bh", axis=1)[1].round(4).tolist()
    [[0.03, 0.04, 0.04], [0.3, 0.003, 0.5]]
    """
    nan_policy = check_nan_policy(nan_policy)
    name = method.lower() if isinstance(method, str) else None
    if name not in _METHOD:
        raise ValueError(f"`method` {method!r} is not recognized; use one of {_METHODS_TEXT}.")
    canonical = _METHOD[name]
    alpha_f = _check_alpha(alpha)
    maxiter_i = _check_maxiter(maxiter)
    is_sorted = _check_bool(is_sorted, "is_sorted")
    returnsorted = _check_bool(returnsorted, "returnsorted")
    fam = _families(pvals, "pvals", axis)
    _check_values(fam, "pvals", nan_policy)
    if canonical == "lfdr" and fam.values.size and (fam.values == 0.0).any():
        f = int(np.searchsorted(fam.offsets, np.argmax(fam.values == 0.0), side="right") - 1)
        raise ValueError(
            f"method 'lfdr' needs p-values above 0 (its density estimate divides "
            f"by the gap at 0, as statsmodels' does); `pvals`{fam.label(f)} contains 0."
        )
    adj, rej, m = _run(
        fam, _CODES[canonical], alpha_f, maxiter_i, is_sorted, returnsorted,
        nan_policy == "omit",
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        mf = m.astype(np.float64)
        sidak = np.where(m > 0, 1 - np.power(1.0 - alpha_f, 1.0 / mf), np.nan)
        bonf = np.where(m > 0, alpha_f / mf, np.nan)
    return (
        fam.shape_like(rej), fam.shape_like(adj), fam.per_family(sidak),
        fam.per_family(bonf),
    )


def fdrcorrection(
    pvals: Any,
    alpha: float = 0.05,
    method: str = "indep",
    is_sorted: bool = False,
    *,
    axis: int | None = None,
    nan_policy: str = "propagate",
) -> tuple[Any, Any]:
    r"""P-value correction for the false discovery rate, as statsmodels' ``fdrcorrection``.

    Parameters
    ----------
    pvals : array_like or Ragged
        P-values in [0, 1]; one family (flattened, ``axis=None``), one per
        slice along `axis`, or one per :class:`fastinf.Ragged` row.
    alpha : float, optional
        The false discovery rate, in (0, 1).
    method : {'i', 'indep', 'p', 'poscorr', 'n', 'negcorr'}, optional
        ``'i'``, ``'indep'``, ``'p'``, ``'poscorr'``: Benjamini-Hochberg;
        ``'n'``, ``'negcorr'``: Benjamini-Yekutieli. Case-sensitive, as in
        statsmodels.
    is_sorted : bool, optional
        If True, each family is taken to be sorted ascending already.
    axis : int or None, optional
        The axis along which families lie; None flattens.
    nan_policy : {'propagate', 'omit', 'raise'}, optional
        As in :func:`multipletests`.

    Returns
    -------
    rejected : ndarray of bool or Ragged
        True where the hypothesis is rejected.
    pvals_corrected : ndarray or Ragged
        The adjusted p-values, clipped at 1.

    Notes
    -----
    With :math:`p_{(1)} \le \dots \le p_{(m)}` and :math:`c_m = 1`
    (Benjamini-Hochberg [1]_) or :math:`c_m = \sum_{i=1}^m 1/i`
    (Benjamini-Yekutieli [2]_),

    .. math::

        \tilde p_{(k)} = \min\Bigl(1, \min_{i \ge k} \frac{m\, c_m}{i} p_{(i)}\Bigr),

    and the rejected hypotheses are the :math:`k` smallest p-values, for the
    largest :math:`k` with :math:`p_{(k)} \le k \alpha / (m c_m)`.

    References
    ----------
    .. [1] Y. Benjamini and Y. Hochberg, "Controlling the false discovery
       rate", JRSS B 57(1), 289-300, 1995.
    .. [2] Y. Benjamini and D. Yekutieli, "The control of the false
       discovery rate in multiple testing under dependency", Annals of
       Statistics 29(4), 1165-1188, 2001.

    Examples
    --------
    >>> from fastinf.multitest import fdrcorrection
    >>> reject, adjusted = fdrcorrection([0.01, 0.04, 0.03, 0.2])
    >>> reject.tolist(), adjusted.round(4).tolist()
    ([True, False, False, False], [0.04, 0.0533, 0.0533, 0.2])
    """
    nan_policy = check_nan_policy(nan_policy)
    if method not in _FDR_METHODS:
        raise ValueError(
            f"`method` must be one of 'i', 'indep', 'p', 'poscorr', 'n', 'negcorr'; "
            f"got {method!r}."
        )
    alpha_f = _check_alpha(alpha)
    is_sorted = _check_bool(is_sorted, "is_sorted")
    fam = _families(pvals, "pvals", axis)
    _check_values(fam, "pvals", nan_policy)
    adj, rej, _ = _run(
        fam, _FDR_METHODS[method], alpha_f, 1, is_sorted, False, nan_policy == "omit"
    )
    return fam.shape_like(rej), fam.shape_like(adj)


def false_discovery_control(
    ps: Any, *, axis: int | None = 0, method: str = "bh", nan_policy: str = "propagate"
) -> Any:
    r"""Adjust p-values to control the false discovery rate, as scipy.

    A drop-in for :func:`scipy.stats.false_discovery_control`, also taking a
    :class:`fastinf.Ragged` of families and a `nan_policy`.

    Parameters
    ----------
    ps : array_like or Ragged
        The p-values, in [0, 1]. Each 1-D slice along `axis` is a family (a
        Ragged: each row).
    axis : int or None, optional
        The axis of the families; None flattens `ps` first.
    method : {'bh', 'by'}, optional
        Benjamini-Hochberg [1]_ or Benjamini-Yekutieli [2]_.
    nan_policy : {'propagate', 'omit', 'raise'}, optional
        As in :func:`multipletests`. (scipy raises for NaN.)

    Returns
    -------
    ps_adjusted : ndarray or Ragged
        The adjusted p-values, in the layout of `ps`. As scipy, input with at
        most one element, or families of at most one p-value, is returned
        unchanged.

    Notes
    -----
    With :math:`p_{(1)} \le \dots \le p_{(m)}` and :math:`c_m = 1` for BH,
    :math:`c_m = \sum_{i=1}^m 1/i` for BY,

    .. math::

        \tilde p_{(k)} = \min\Bigl(1, \min_{i \ge k} p_{(i)} \frac{m}{i} c_m\Bigr).

    References
    ----------
    .. [1] Y. Benjamini and Y. Hochberg, "Controlling the false discovery
       rate", JRSS B 57(1), 289-300, 1995.
    .. [2] Y. Benjamini and D. Yekutieli, "The control of the false
       discovery rate in multiple testing under dependency", Annals of
       Statistics 29(4), 1165-1188, 2001.

    Examples
    --------
    >>> from fastinf.multitest import false_discovery_control
    >>> false_discovery_control([0.5, 0.6, 0.1, 0.001]).tolist()
    [0.6, 0.6, 0.2, 0.004]
    """
    nan_policy = check_nan_policy(nan_policy)
    ragged = isinstance(ps, Ragged)
    arr = ps.values if ragged else np.asarray(ps)
    message = "`ps` must include only numbers between 0 and 1."
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(message)
    lowered = method.lower() if isinstance(method, str) else None
    if lowered not in ("bh", "by"):
        raise ValueError(f"Unrecognized `method` {method!r}. Method must be one of 'bh', 'by'.")
    if not ragged:
        if axis is None:
            arr = arr.reshape(-1)
            axis = 0
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise ValueError("`axis` must be an integer or `None`")
        if arr.ndim and not -arr.ndim <= int(axis) < arr.ndim:
            raise ValueError(
                f"`axis` {int(axis)} is out of bounds for `ps` with {arr.ndim} dimensions."
            )
    scalar = not ragged and arr.ndim == 0
    fam = _families(ps if ragged else arr, "ps", None if ragged or scalar else axis)
    try:
        _check_values(fam, "ps", nan_policy)
    except ValueError as exc:
        if "outside" in str(exc):
            raise ValueError(f"{message} {str(exc).replace('`ps`', 'Here `ps`')}") from None
        raise
    if scalar or (not ragged and (arr.size <= 1 or arr.shape[int(axis)] <= 1)):  # type: ignore[arg-type]
        return arr[()] if arr.ndim == 0 else arr
    code = _FDC_BH if lowered == "bh" else _FDC_BY
    adj, _, _ = _run(fam, code, 0.05, 1, False, False, nan_policy == "omit")
    return fam.shape_like(adj)
