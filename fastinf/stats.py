"""Classical hypothesis tests, a drop-in for :mod:`scipy.stats`, batched.

t tests, the F test of one-way ANOVA, Pearson's correlation test, chi-square
tests of goodness of fit and of independence, Fisher's exact test and
statsmodels' two-proportion z test. Each function takes scipy's (or
statsmodels') arguments and returns scipy's values, to about 1e-12 relative,
with scipy's result fields. What fastinf adds is the batch: the moments of
every experiment (every position along the axes other than `axis`, every row
of a :class:`fastinf.Ragged`, every table of a stack) are reduced in one
parallel Numba pass (:mod:`fastinf.kernels.stats`), and the p-values come
from ``scipy.special`` ufuncs applied to the whole arrays at once.

Conventions beyond scipy's:

* t tests accept :class:`fastinf.Ragged` samples (``E`` experiments of
  different sizes); results are 1-D arrays of length ``E``.
* ``chi2_contingency(..., batch=True)`` and ``fisher_exact(..., batch=True)``
  take a stack of tables shaped ``(..., r, c)`` (``(..., 2, 2)`` for Fisher)
  and return arrays of shape ``...``; without ``batch`` a table behaves as in
  scipy (a 3-D table is a three-way table, not a stack).
* ``proportions_ztest(..., batch=True)`` reads the *last* axis of ``count``
  and ``nobs`` as the samples: ``(..., 2)`` for many two-sample tests,
  ``(..., 1)`` for many one-sample tests.
* Options fastinf does not accelerate are handed to scipy with the same
  arguments: ``ttest_ind`` with ``trim != 0`` or a resampling ``method``,
  ``pearsonr`` with a resampling ``method``, ``chi2_contingency`` with a
  ``method`` or a table of other than two dimensions, ``fisher_exact`` on a
  table other than 2x2, ``chisquare`` with ``nan_policy='omit'`` and NaN.
* scipy lets NumPy's floating-point ``RuntimeWarning`` (division by zero,
  "Precision loss occurred in moment calculation") through for degenerate
  samples; fastinf returns the same values without those warnings. Its own
  warnings (``SmallSampleWarning`` for empty samples, ``ConstantInputWarning``
  in ``pearsonr``, ...) are given as scipy gives them.
* ``df`` is always float64 (scipy gives integers in some paths).
"""

from __future__ import annotations

import warnings
from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.stats
from scipy import special

from fastinf.kernels import stats as _k
from fastinf.ragged import Ragged, SmallSampleWarning

__all__ = [
    "ConfidenceInterval",
    "TtestResult",
    "TtestIndResult",
    "PearsonRResult",
    "SignificanceResult",
    "PowerDivergenceResult",
    "FOnewayResult",
    "Chi2ContingencyResult",
    "ttest_ind",
    "ttest_ind_from_stats",
    "ttest_rel",
    "ttest_1samp",
    "chisquare",
    "chi2_contingency",
    "fisher_exact",
    "f_oneway",
    "pearsonr",
    "proportions_ztest",
    "ks_2samp",
    "mannwhitneyu",
    "spearmanr",
]

ConfidenceInterval = namedtuple("ConfidenceInterval", ["low", "high"])

_ALT_NUM = {"less": -1, "two-sided": 0, "greater": 1}
_NAN_POLICIES = ("propagate", "omit", "raise")

# scipy's SmallSampleWarning messages (scipy/stats/_axis_nan_policy.py).
_TOO_SMALL_1D = (
    "One or more sample arguments is too small; all returned values will be NaN. "
    "See documentation for sample size requirements."
)
_TOO_SMALL_1D_OMIT = (
    "After omitting NaNs, one or more sample arguments is too small; all returned "
    "values will be NaN. See documentation for sample size requirements."
)
_TOO_SMALL_ND = (
    "All axis-slices of one or more sample arguments are too small; all elements "
    "of returned arrays will be NaN. See documentation for sample size requirements."
)
_TOO_SMALL_ND_OMIT = (
    "After omitting NaNs, one or more axis-slices of one or more sample arguments "
    "is too small; corresponding elements of returned arrays will be NaN. "
    "See documentation for sample size requirements."
)


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


class _TupleResult:
    """Unpack like scipy's result objects: over the fields in ``_tuple``."""

    _tuple: tuple[str, ...] = ()

    def __iter__(self) -> Any:
        return iter(tuple(getattr(self, f) for f in self._tuple))

    def __len__(self) -> int:
        return len(self._tuple)

    def __getitem__(self, i: Any) -> Any:
        return tuple(getattr(self, f) for f in self._tuple)[i]


@dataclass(frozen=True, repr=False)
class TtestResult(_TupleResult):
    """Result of the t tests (scipy's ``TtestResult``).

    Attributes
    ----------
    statistic : float or ndarray
        The t statistic.
    pvalue : float or ndarray
        The p-value for the chosen alternative.
    df : float or ndarray
        The degrees of freedom.

    Unpacks as ``(statistic, pvalue)``, like scipy's.
    """

    statistic: Any
    pvalue: Any
    df: Any
    _alternative: int = field(default=0)
    _standard_error: Any = field(default=np.nan)
    _estimate: Any = field(default=np.nan)
    _tuple = ("statistic", "pvalue")

    def __repr__(self) -> str:
        return f"TtestResult(statistic={self.statistic!r}, pvalue={self.pvalue!r}, df={self.df!r})"

    def confidence_interval(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """Confidence interval of the mean (or difference of means).

        Parameters
        ----------
        confidence_level : float, default: 0.95
            The confidence level.

        Returns
        -------
        ConfidenceInterval
            Named tuple ``(low, high)``.
        """
        if confidence_level < 0 or confidence_level > 1:
            raise ValueError("`confidence_level` must be a number between 0 and 1.")
        df = np.asarray(self.df, dtype=np.float64)
        if self._alternative < 0:
            low = np.broadcast_to(-np.inf, df.shape)
            high = special.stdtrit(df, confidence_level)
        elif self._alternative > 0:
            low = special.stdtrit(df, 1 - confidence_level)
            high = np.broadcast_to(np.inf, df.shape)
        else:
            tail = (1 - confidence_level) / 2
            low = special.stdtrit(df, tail)
            high = special.stdtrit(df, 1 - tail)
        low = low * self._standard_error + self._estimate
        high = high * self._standard_error + self._estimate
        return ConfidenceInterval(low=_scalar(low), high=_scalar(high))


@dataclass(frozen=True)
class TtestIndResult(_TupleResult):
    """Result of :func:`ttest_ind_from_stats` (scipy's ``Ttest_indResult``).

    Attributes
    ----------
    statistic : float or ndarray
        The t statistic.
    pvalue : float or ndarray
        The p-value.
    """

    statistic: Any
    pvalue: Any
    _tuple = ("statistic", "pvalue")


@dataclass(frozen=True)
class PowerDivergenceResult(_TupleResult):
    """Result of :func:`chisquare` (scipy's ``Power_divergenceResult``).

    Attributes
    ----------
    statistic : float or ndarray
        The chi-square statistic.
    pvalue : float or ndarray
        The p-value.
    """

    statistic: Any
    pvalue: Any
    _tuple = ("statistic", "pvalue")


@dataclass(frozen=True)
class FOnewayResult(_TupleResult):
    """Result of :func:`f_oneway` (scipy's ``F_onewayResult``).

    Attributes
    ----------
    statistic : float or ndarray
        The F statistic.
    pvalue : float or ndarray
        The p-value.
    """

    statistic: Any
    pvalue: Any
    _tuple = ("statistic", "pvalue")


@dataclass(frozen=True)
class SignificanceResult(_TupleResult):
    """Result of :func:`fisher_exact` (scipy's ``SignificanceResult``).

    Attributes
    ----------
    statistic : float or ndarray
        The sample odds ratio.
    pvalue : float or ndarray
        The p-value.
    """

    statistic: Any
    pvalue: Any
    _tuple = ("statistic", "pvalue")


@dataclass(frozen=True)
class Chi2ContingencyResult(_TupleResult):
    """Result of :func:`chi2_contingency`.

    Attributes
    ----------
    statistic : float or ndarray
        The test statistic.
    pvalue : float or ndarray
        The p-value.
    dof : int
        Degrees of freedom.
    expected_freq : ndarray
        Expected frequencies (the shape of the table, or of the stack).
    """

    statistic: Any
    pvalue: Any
    dof: Any
    expected_freq: Any
    _tuple = ("statistic", "pvalue", "dof", "expected_freq")


@dataclass(frozen=True, repr=False)
class PearsonRResult(_TupleResult):
    """Result of :func:`pearsonr` (scipy's ``PearsonRResult``).

    Attributes
    ----------
    statistic : float or ndarray
        Pearson's correlation coefficient.
    pvalue : float or ndarray
        The p-value.
    """

    statistic: Any
    pvalue: Any
    _n: int = 0
    _alternative: str = "two-sided"
    _x: Any = None
    _y: Any = None
    _axis: int = -1
    _tuple = ("statistic", "pvalue")

    def __repr__(self) -> str:
        return f"PearsonRResult(statistic={self.statistic!r}, pvalue={self.pvalue!r})"

    def confidence_interval(
        self, confidence_level: float = 0.95, method: Any = None
    ) -> ConfidenceInterval:
        """Confidence interval of the correlation, by Fisher's z as scipy.

        Parameters
        ----------
        confidence_level : float, default: 0.95
            The confidence level.
        method : scipy.stats.BootstrapMethod, optional
            If given, the interval is scipy's bootstrap interval (computed by
            scipy).

        Returns
        -------
        ConfidenceInterval
            Named tuple ``(low, high)``; ``(-1, 1)`` when ``n <= 3``.
        """
        if isinstance(method, scipy.stats.BootstrapMethod):
            ref = scipy.stats.pearsonr(
                self._x, self._y, alternative=self._alternative, axis=self._axis
            )
            ci = ref.confidence_interval(confidence_level, method=method)
            return ConfidenceInterval(low=ci.low, high=ci.high)
        if method is not None:
            raise ValueError("`method` must be an instance of `BootstrapMethod` or None.")
        r = np.asarray(self.statistic, dtype=np.float64)
        n = float(self._n)
        with np.errstate(divide="ignore", invalid="ignore"):
            zr = np.arctanh(r)
            se = np.sqrt(1 / (n - 3))
        if self._alternative == "two-sided":
            h = special.ndtri(0.5 + confidence_level / 2)
            low, high = np.tanh(zr - h * se), np.tanh(zr + h * se)
        elif self._alternative == "less":
            h = special.ndtri(confidence_level)
            low, high = -np.ones_like(r), np.tanh(zr + h * se)
        else:
            h = special.ndtri(confidence_level)
            low, high = np.tanh(zr - h * se), np.ones_like(r)
        if n <= 3:
            low, high = np.full_like(r, -1.0), np.ones_like(r)
        return ConfidenceInterval(low=_scalar(low), high=_scalar(high))


# --------------------------------------------------------------------------
# Shared validation and layout
# --------------------------------------------------------------------------


def _scalar(x: Any) -> Any:
    x = np.asarray(x)
    return x[()] if x.ndim == 0 else x


def _check_alternative(alternative: str) -> None:
    if alternative not in _ALT_NUM:
        raise ValueError("`alternative` must be 'less', 'greater', or 'two-sided'.")


def _check_nan_policy(nan_policy: str) -> None:
    if nan_policy not in _NAN_POLICIES:
        raise ValueError("nan_policy must be one of {'raise', 'propagate', 'omit'}.")


def _as_float(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"`{name}` must be numeric, got dtype {arr.dtype}.")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"`{name}` must be real, got complex values.")
    return arr.astype(np.float64, copy=False)


@dataclass(frozen=True)
class _Layout:
    """Samples as C-contiguous ``(E, n_j)`` blocks, with the batch shape."""

    blocks: list[np.ndarray]
    shape: tuple[int, ...]
    one_d: bool
    axis: int | None  # where to re-insert the reduced axis for keepdims
    ndim: int

    def finish(self, res: np.ndarray, keepdims: bool) -> Any:
        out = np.asarray(res).reshape(self.shape)
        if keepdims:
            if self.axis is None:
                out = out.reshape((1,) * self.ndim)
            else:
                out = np.expand_dims(out, self.axis)
        return _scalar(out)


def _layout(
    samples: list[np.ndarray], names: list[str], axis: int | None, paired: bool = False
) -> _Layout:
    """Move `axis` last, broadcast the other axes and flatten them to rows."""
    one_d = all(s.ndim <= 1 for s in samples)
    if axis is None:
        ndim = max(s.ndim for s in samples)
        samples = [s.ravel() for s in samples]
        keep_axis = None
        axis = 0
    else:
        if int(axis) != axis:
            raise ValueError("`axis` must be an integer.")
        axis = int(axis)
        samples = [np.atleast_1d(s) for s in samples]
        ndim = max(s.ndim for s in samples)
        samples = [s.reshape((1,) * (ndim - s.ndim) + s.shape) for s in samples]
        if not -ndim <= axis < ndim:
            raise np.exceptions.AxisError(
                f"`axis` is out of bounds for array of dimension {ndim}"
            )
        axis = axis % ndim
        keep_axis = axis
    moved = [np.moveaxis(s, axis, -1) for s in samples]
    try:
        if paired:
            full = np.broadcast_shapes(*(m.shape for m in moved))
            moved = [np.broadcast_to(m, full) for m in moved]
        shape = tuple(np.broadcast_shapes(*(m.shape[:-1] for m in moved)))
    except ValueError:
        raise ValueError("Array shapes are incompatible for broadcasting.") from None
    n_exp = int(np.prod(shape, dtype=np.int64))
    blocks = []
    for m in moved:
        n = m.shape[-1]
        block = np.broadcast_to(m, shape + (n,)).reshape(n_exp, n)
        blocks.append(np.ascontiguousarray(block, dtype=np.float64))
    return _Layout(blocks, shape, one_d, keep_axis, ndim)


def _warn_small(one_d: bool, omitted: bool, stacklevel: int = 3) -> None:
    if one_d:
        msg = _TOO_SMALL_1D_OMIT if omitted else _TOO_SMALL_1D
    else:
        msg = _TOO_SMALL_ND_OMIT if omitted else _TOO_SMALL_ND
    warnings.warn(msg, SmallSampleWarning, stacklevel=stacklevel + 1)


def _raise_on_nan(*arrays: np.ndarray) -> None:
    for arr in arrays:
        if np.isnan(arr).any():
            raise ValueError("The input contains nan values")


def _t_pvalue(t: np.ndarray, df: np.ndarray, alternative: str) -> np.ndarray:
    """p-value of a t statistic, as scipy's ``_get_pvalue`` with ``stdtr``."""
    if alternative == "less":
        return special.stdtr(df, t)
    if alternative == "greater":
        return special.stdtr(df, -t)
    return 2 * special.stdtr(df, -np.abs(t))


def _moments(
    blocks: list[np.ndarray] | None, ragged: list[Ragged] | None, skip_nan: bool
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """``(count, mean, ss, n_nan)`` of each sample, per experiment."""
    out = []
    if ragged is not None:
        for r in ragged:
            values = np.ascontiguousarray(r.values, dtype=np.float64)
            out.append(_k.ragged_moments(values, r.offsets, skip_nan))
    else:
        assert blocks is not None
        for b in blocks:
            out.append(_k.row_moments(b, skip_nan))
    return out


def _ragged_pair(a: Any, b: Any, names: tuple[str, str]) -> list[Ragged] | None:
    """Both samples Ragged (checked), or ``None`` when neither is."""
    ra, rb = isinstance(a, Ragged), isinstance(b, Ragged)
    if ra != rb:
        raise TypeError(
            f"`{names[0]}` and `{names[1]}` must both be Ragged or both be arrays."
        )
    if not ra:
        return None
    if a.n_experiments != b.n_experiments:
        raise ValueError(
            f"`{names[0]}` has {a.n_experiments} experiments, `{names[1]}` has "
            f"{b.n_experiments}."
        )
    for r, name in ((a, names[0]), (b, names[1])):
        _as_float(r.values, name)
    return [a, b]


# --------------------------------------------------------------------------
# t tests
# --------------------------------------------------------------------------


def _equal_var_denom(
    v1: np.ndarray, n1: np.ndarray, v2: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    # With one observation the sample's variance drops out of the pooled one.
    v1 = np.where(n1 == 1, 0.0, v1)
    v2 = np.where(n2 == 1, 0.0, v2)
    df = n1 + n2 - 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        svar = ((n1 - 1) * v1 + (n2 - 1) * v2) / df
        denom = np.sqrt(svar * (1.0 / n1 + 1.0 / n2))
    return df, denom


def _unequal_var_denom(
    v1: np.ndarray, n1: np.ndarray, v2: np.ndarray, n2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        vn1 = v1 / n1
        vn2 = v2 / n2
        # Welch-Satterthwaite degrees of freedom.
        df = (vn1 + vn2) ** 2 / (vn1**2 / (n1 - 1) + vn2**2 / (n2 - 1))
    # Zero variances leave df undefined; any non-NaN value will do.
    df = np.where(np.isnan(df), 1.0, df)
    return df, np.sqrt(vn1 + vn2)


def _ttest_ind_iv(
    a: Any, b: Any, axis: int | None, nan_policy: str, alternative: str
) -> tuple[list[Any], _Layout | None]:
    """Validate and reduce both samples to per-experiment moments."""
    _check_nan_policy(nan_policy)
    _check_alternative(alternative)
    ragged = _ragged_pair(a, b, ("a", "b"))
    layout = None
    if ragged is None:
        layout = _layout([_as_float(a, "a"), _as_float(b, "b")], ["a", "b"], axis)
        if nan_policy == "raise":
            _raise_on_nan(*layout.blocks)
    elif nan_policy == "raise":
        _raise_on_nan(*(np.asarray(r.values, dtype=np.float64) for r in ragged))
    moments = _moments(None if layout is None else layout.blocks, ragged,
                       nan_policy == "omit")
    return moments, layout


def _nan_mask(
    moments: list[Any], nan_policy: str, one_d: bool, min_count: int = 1
) -> np.ndarray:
    """Experiments whose results are NaN; warns as scipy for too-small samples."""
    counts = [m[0] for m in moments]
    has_nan = np.zeros(counts[0].shape, dtype=bool)
    for m in moments:
        has_nan |= m[3] > 0
    small = np.zeros_like(has_nan)
    for c, m in zip(counts, moments, strict=True):
        small |= c + (m[3] if nan_policy != "omit" else 0) < min_count
    if nan_policy == "omit":
        if small.any():
            _warn_small(one_d, omitted=bool(has_nan.any()), stacklevel=4)
        return small
    if small.any():
        _warn_small(one_d, omitted=False, stacklevel=4)
    return (has_nan | small) if nan_policy == "propagate" else small


def ttest_ind(
    a: Any,
    b: Any,
    *,
    axis: int | None = 0,
    equal_var: bool = True,
    nan_policy: str = "propagate",
    alternative: str = "two-sided",
    trim: float = 0,
    method: Any = None,
    keepdims: bool = False,
) -> TtestResult:
    r"""Student or Welch t test of two independent samples, as :func:`scipy.stats.ttest_ind`.

    Parameters
    ----------
    a, b : array_like or Ragged
        The samples. N-D arrays hold one experiment per position along the
        axes other than `axis` (broadcast, as scipy); two
        :class:`fastinf.Ragged` hold one experiment per row.
    axis : int or None, default: 0
        The observation axis (``None``: ravel). Ignored for Ragged.
    equal_var : bool, default: True
        Student's test (pooled variance) if True, Welch's if False.
    nan_policy : {'propagate', 'omit', 'raise'}, default: 'propagate'
        What NaN does, per experiment.
    alternative : {'two-sided', 'less', 'greater'}, default: 'two-sided'
        The alternative hypothesis about ``mean(a) - mean(b)``.
    trim : float, default: 0
        Yuen's trimmed test; ``trim != 0`` is computed by scipy.
    method : PermutationMethod or MonteCarloMethod, optional
        Resampling p-values; computed by scipy.
    keepdims : bool, default: False
        Keep the reduced axis with length one.

    Returns
    -------
    TtestResult
        ``statistic``, ``pvalue``, ``df`` (batch shape; length ``E`` for
        Ragged) and ``confidence_interval(confidence_level=0.95)``.

    Notes
    -----
    With sample means :math:`\bar a, \bar b`, variances :math:`s_a^2, s_b^2`
    (``ddof=1``) and sizes :math:`n_a, n_b`,

    .. math::

        t = \frac{\bar a - \bar b}{\sqrt{s_p^2 (1/n_a + 1/n_b)}},\quad
        s_p^2 = \frac{(n_a - 1) s_a^2 + (n_b - 1) s_b^2}{n_a + n_b - 2}

    with :math:`n_a + n_b - 2` degrees of freedom (Student), or
    :math:`t = (\bar a - \bar b) / \sqrt{s_a^2/n_a + s_b^2/n_b}` with the
    Welch-Satterthwaite degrees of freedom [1]_.

    References
    ----------
    .. [1] B. L. Welch, "The generalization of 'Student's' problem when several
       different population variances are involved", Biometrika 34, 1947.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.stats import ttest_ind
    >>> a = np.array([1, 3, 4, 6, 11, 13, 15, 19, 22, 24, 25, 26, 26])
    >>> b = np.array([2, 4, 6, 9, 11, 13, 14, 15, 18, 19, 21])
    >>> res = ttest_ind(a, b)
    >>> round(float(res.statistic), 6), float(res.df)
    (0.905136, 22.0)
    """
    if trim != 0 or method is not None:
        if isinstance(a, Ragged) or isinstance(b, Ragged):
            raise NotImplementedError(
                "Ragged samples support only `trim=0` and `method=None`."
            )
        return scipy.stats.ttest_ind(  # type: ignore[no-any-return]
            a, b, axis=axis, equal_var=equal_var, nan_policy=nan_policy,
            alternative=alternative, trim=trim, method=method, keepdims=keepdims,
        )
    moments, layout = _ttest_ind_iv(a, b, axis, nan_policy, alternative)
    (n1, m1, ss1, _), (n2, m2, ss2, _) = moments
    one_d = layout.one_d if layout is not None else False
    bad = _nan_mask(moments, nan_policy, one_d)
    n1f, n2f = n1.astype(np.float64), n2.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        v1 = ss1 / (n1f - 1)
        v2 = ss2 / (n2f - 1)
    if equal_var:
        df, denom = _equal_var_denom(v1, n1f, v2, n2f)
    else:
        df, denom = _unequal_var_denom(v1, n1f, v2, n2f)
    estimate = m1 - m2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = estimate / denom
    p = _t_pvalue(t, df, alternative)
    outs = [t, p, df, denom, estimate]
    if bad.any():
        outs = [np.where(bad, np.nan, o) for o in outs]
    return _t_result(outs, alternative, layout, keepdims)


def _t_result(
    outs: list[np.ndarray], alternative: str, layout: _Layout | None, keepdims: bool
) -> TtestResult:
    if layout is not None:
        outs = [layout.finish(o, keepdims) for o in outs]
    t, p, df, se, est = outs
    return TtestResult(t, p, df, _ALT_NUM[alternative], se, est)


def _one_sample_result(
    count: np.ndarray,
    mean: np.ndarray,
    ss: np.ndarray,
    popmean: Any,
    bad: np.ndarray,
    alternative: str,
    layout: _Layout | None,
    keepdims: bool,
) -> TtestResult:
    n = count.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = ss / (n - 1)
        denom = np.sqrt(v / n)
        t = (mean - popmean) / denom
    df = n - 1
    p = _t_pvalue(t, df, alternative)
    outs = [t, p, df, denom, mean]
    if bad.any():
        outs = [np.where(bad, np.nan, o) for o in outs]
    return _t_result(outs, alternative, layout, keepdims)


def ttest_1samp(
    a: Any,
    popmean: Any,
    axis: int | None = 0,
    nan_policy: str = "propagate",
    alternative: str = "two-sided",
    *,
    keepdims: bool = False,
) -> TtestResult:
    r"""One-sample t test of a mean, as :func:`scipy.stats.ttest_1samp`.

    Parameters
    ----------
    a : array_like or Ragged
        The sample(s); experiments along the axes other than `axis`, or one
        per row of a :class:`fastinf.Ragged`.
    popmean : float or array_like
        The mean under the null hypothesis. As an array, its length along
        `axis` must be 1 (for Ragged: a scalar or one value per experiment).
    axis : int or None, default: 0
        The observation axis.
    nan_policy : {'propagate', 'omit', 'raise'}, default: 'propagate'
        What NaN does.
    alternative : {'two-sided', 'less', 'greater'}, default: 'two-sided'
        The alternative about ``mean(a) - popmean``.
    keepdims : bool, default: False
        Keep the reduced axis with length one.

    Returns
    -------
    TtestResult
        With ``confidence_interval()`` for the population mean.

    Notes
    -----
    .. math::

        t = \frac{\bar a - \mu_0}{s / \sqrt{n}}, \qquad \nu = n - 1 [1]_.

    References
    ----------
    .. [1] Student, "The probable error of a mean", Biometrika 6, 1908.
    """
    _check_nan_policy(nan_policy)
    _check_alternative(alternative)
    if isinstance(a, Ragged):
        _as_float(a.values, "a")
        pm = _as_float(popmean, "popmean")
        if pm.ndim > 1 or (pm.ndim == 1 and pm.size not in (1, a.n_experiments)):
            raise ValueError(
                "`popmean` must be a scalar or hold one value per experiment of `a`."
            )
        if nan_policy == "raise":
            _raise_on_nan(np.asarray(a.values, dtype=np.float64), pm)
        moments = _moments(None, [a], nan_policy == "omit")
        layout = None
        pm_flat = np.broadcast_to(pm.ravel() if pm.ndim else pm, (a.n_experiments,))
    else:
        arr = _as_float(a, "a")
        pm = _as_float(popmean, "popmean")
        if pm.ndim == 0:
            layout = _layout([arr], ["a"], axis)
            pm_flat = np.broadcast_to(pm, (layout.blocks[0].shape[0],))
        else:
            if axis is not None and arr.ndim >= 1:
                ndim = max(arr.ndim, pm.ndim)
                ax = int(axis) % ndim if -ndim <= int(axis) < ndim else int(axis)
                pm_r = pm.reshape((1,) * (ndim - pm.ndim) + pm.shape)
                if 0 <= ax < ndim and pm_r.shape[ax] != 1:
                    raise ValueError("`popmean.shape[axis]` must equal 1.")
            layout = _layout([arr, pm], ["a", "popmean"], axis)
            pm_flat = layout.blocks[1][:, 0]
        if nan_policy == "raise":
            _raise_on_nan(layout.blocks[0], pm_flat)
        moments = _moments(layout.blocks[:1], None, nan_policy == "omit")
    count, mean, ss, n_nan = moments[0]
    one_d = layout.one_d if layout is not None else False
    bad = _nan_mask(moments, nan_policy, one_d)
    if nan_policy == "propagate":
        bad = bad | np.isnan(pm_flat)
    return _one_sample_result(count, mean, ss, pm_flat, bad, alternative, layout, keepdims)


def ttest_rel(
    a: Any,
    b: Any,
    axis: int | None = 0,
    nan_policy: str = "propagate",
    alternative: str = "two-sided",
    *,
    keepdims: bool = False,
) -> TtestResult:
    r"""Paired t test of two related samples, as :func:`scipy.stats.ttest_rel`.

    Parameters
    ----------
    a, b : array_like or Ragged
        Paired samples of the same shape (broadcast, as scipy), or two
        :class:`fastinf.Ragged` with the same sizes.
    axis : int or None, default: 0
        The observation axis.
    nan_policy : {'propagate', 'omit', 'raise'}, default: 'propagate'
        What NaN does; ``'omit'`` drops a pair with NaN in either sample.
    alternative : {'two-sided', 'less', 'greater'}, default: 'two-sided'
        The alternative about ``mean(a - b)``.
    keepdims : bool, default: False
        Keep the reduced axis with length one.

    Returns
    -------
    TtestResult
        With ``confidence_interval()`` for the mean difference.

    Notes
    -----
    The one-sample test of the differences :math:`d_i = a_i - b_i`:

    .. math::

        t = \frac{\bar d}{s_d / \sqrt{n}}, \qquad \nu = n - 1 [1]_.

    References
    ----------
    .. [1] Student, "The probable error of a mean", Biometrika 6, 1908.
    """
    _check_nan_policy(nan_policy)
    _check_alternative(alternative)
    ragged = _ragged_pair(a, b, ("a", "b"))
    skip = nan_policy == "omit"
    layout = None
    if ragged is not None:
        ra, rb = ragged
        if not np.array_equal(ra.offsets, rb.offsets):
            e = int(np.flatnonzero(ra.sizes != rb.sizes)[0])
            raise ValueError(
                f"`a` and `b` must have the same sizes; experiment {e} has "
                f"{ra.sizes[e]} and {rb.sizes[e]}."
            )
        diff = np.asarray(ra.values, dtype=np.float64) - np.asarray(rb.values, np.float64)
        if nan_policy == "raise":
            _raise_on_nan(diff)
        moments = [_k.ragged_moments(np.ascontiguousarray(diff), ra.offsets, skip)]
    else:
        layout = _layout([_as_float(a, "a"), _as_float(b, "b")], ["a", "b"], axis,
                         paired=True)
        if nan_policy == "raise":
            _raise_on_nan(*layout.blocks)
        moments = [_k.paired_moments(layout.blocks[0], layout.blocks[1], skip)]
    one_d = layout.one_d if layout is not None else False
    bad = _nan_mask(moments, nan_policy, one_d)
    count, mean, ss, _ = moments[0]
    return _one_sample_result(count, mean, ss, 0.0, bad, alternative, layout, keepdims)


def ttest_ind_from_stats(
    mean1: Any,
    std1: Any,
    nobs1: Any,
    mean2: Any,
    std2: Any,
    nobs2: Any,
    equal_var: bool = True,
    alternative: str = "two-sided",
) -> TtestIndResult:
    r"""Two-sample t test from summary statistics, as :func:`scipy.stats.ttest_ind_from_stats`.

    Parameters
    ----------
    mean1, std1, nobs1, mean2, std2, nobs2 : array_like
        Means, standard deviations (``ddof=1``) and sizes of the two samples;
        broadcast against each other like NumPy arrays.
    equal_var : bool, default: True
        Student's test if True, Welch's if False.
    alternative : {'two-sided', 'less', 'greater'}, default: 'two-sided'
        The alternative about ``mean1 - mean2``.

    Returns
    -------
    TtestIndResult
        ``statistic`` and ``pvalue``, broadcast shape.

    Notes
    -----
    As :func:`ttest_ind` with :math:`s_a = \mathrm{std1}` etc.:

    .. math::

        t = \frac{\bar a - \bar b}{\sqrt{s_a^2/n_a + s_b^2/n_b}},\quad
        \nu = \frac{(s_a^2/n_a + s_b^2/n_b)^2}
                   {\frac{(s_a^2/n_a)^2}{n_a - 1} + \frac{(s_b^2/n_b)^2}{n_b - 1}}

    for Welch's test [1]_.

    References
    ----------
    .. [1] B. L. Welch, "The generalization of 'Student's' problem when several
       different population variances are involved", Biometrika 34, 1947.
    """
    _check_alternative(alternative)
    m1, s1, n1, m2, s2, n2 = (
        _as_float(v, name)
        for v, name in (
            (mean1, "mean1"), (std1, "std1"), (nobs1, "nobs1"),
            (mean2, "mean2"), (std2, "std2"), (nobs2, "nobs2"),
        )
    )
    if equal_var:
        df, denom = _equal_var_denom(s1**2, n1, s2**2, n2)
    else:
        df, denom = _unequal_var_denom(s1**2, n1, s2**2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (m1 - m2) / denom
    p = _t_pvalue(t, df, alternative)
    return TtestIndResult(_scalar(t), _scalar(p))


# --------------------------------------------------------------------------
# One-way ANOVA
# --------------------------------------------------------------------------


def f_oneway(
    *samples: Any,
    axis: int | None = 0,
    equal_var: bool = True,
    nan_policy: str = "propagate",
    keepdims: bool = False,
) -> FOnewayResult:
    r"""One-way ANOVA F test, as :func:`scipy.stats.f_oneway`.

    Parameters
    ----------
    *samples : array_like or Ragged
        Two or more groups (all arrays, or all :class:`fastinf.Ragged` with
        the same number of experiments).
    axis : int or None, default: 0
        The observation axis.
    equal_var : bool, default: True
        Classical F test if True, Welch's ANOVA if False.
    nan_policy : {'propagate', 'omit', 'raise'}, default: 'propagate'
        What NaN does.
    keepdims : bool, default: False
        Keep the reduced axis with length one.

    Returns
    -------
    FOnewayResult
        ``statistic`` and ``pvalue``.

    Notes
    -----
    With :math:`k` groups of sizes :math:`n_i`, means :math:`\bar x_i`, sums
    of squares about them :math:`S_i` and grand mean :math:`\bar x`,

    .. math::

        F = \frac{\sum_i n_i (\bar x_i - \bar x)^2 / (k - 1)}
                 {\sum_i S_i / (N - k)}

    on :math:`(k - 1, N - k)` degrees of freedom [1]_; ``equal_var=False``
    gives Welch's statistic and degrees of freedom [2]_.

    References
    ----------
    .. [1] R. A. Fisher, "Statistical Methods for Research Workers", 1925.
    .. [2] B. L. Welch, "On the comparison of several mean values: an
       alternative approach", Biometrika 38, 1951.
    """
    if len(samples) < 2:
        raise TypeError(f"At least two samples are required; got {len(samples)}.")
    if not isinstance(equal_var, bool):
        raise TypeError("Expected a boolean value for 'equal_var'")
    _check_nan_policy(nan_policy)
    n_ragged = sum(isinstance(s, Ragged) for s in samples)
    layout = None
    if n_ragged:
        if n_ragged != len(samples):
            raise TypeError("`samples` must be all Ragged or all arrays.")
        rs = list(samples)
        for j, r in enumerate(rs):
            if r.n_experiments != rs[0].n_experiments:
                raise ValueError(
                    f"sample {j} has {r.n_experiments} experiments, sample 0 has "
                    f"{rs[0].n_experiments}."
                )
        vals = [np.ascontiguousarray(r.values, dtype=np.float64) for r in rs]
        if nan_policy == "raise":
            _raise_on_nan(*vals)
        moments = _moments(None, rs, nan_policy == "omit")
        extremes = [_ragged_extremes(v, r.offsets) for v, r in zip(vals, rs, strict=True)]
        one_d = False
    else:
        arrays = [_as_float(s, f"sample {j}") for j, s in enumerate(samples)]
        layout = _layout(arrays, [f"sample {j}" for j in range(len(arrays))], axis)
        if nan_policy == "raise":
            _raise_on_nan(*layout.blocks)
        moments = _moments(layout.blocks, None, nan_policy == "omit")
        extremes = [_row_extremes(b) for b in layout.blocks]
        one_d = layout.one_d
    counts = np.stack([m[0] for m in moments]).astype(np.float64)
    bad = _nan_mask(moments, nan_policy, one_d)
    if nan_policy != "omit":
        lengths = counts + np.stack([m[3] for m in moments])
    else:
        lengths = counts
    all_one = (lengths == 1).all(axis=0)
    if all_one.any():
        warnings.warn(
            SmallSampleWarning(
                "all input arrays have length 1.  f_oneway requires that at least "
                "one input has length greater than 1."
            ),
            stacklevel=2,
        )
        if not bad.any():
            _warn_small(one_d, omitted=False, stacklevel=2)
        bad = bad | all_one
    means = np.stack([m[1] for m in moments])
    ss = np.stack([m[2] for m in moments])
    k = len(samples)
    big_n = counts.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if equal_var:
            grand = (counts * means).sum(axis=0) / big_n
            ssbn = (counts * (means - grand) ** 2).sum(axis=0)
            sswn = ss.sum(axis=0)
            f = (ssbn / (k - 1)) / (sswn / (big_n - k))
            dfn, dfd = np.float64(k - 1), big_n - k
        else:
            var = ss / (counts - 1)
            w = counts / var
            sw = w.sum(axis=0)
            y_hat = (w * means).sum(axis=0) / sw
            num = (w * (means - y_hat) ** 2).sum(axis=0) / (k - 1)
            lam = ((1 - w / sw) ** 2 / (counts - 1)).sum(axis=0)
            f = num / (1 + 2 * (k - 2) / (k**2 - 1) * lam)
            dfn, dfd = np.float64(k - 1), (k**2 - 1) / (3 * lam)
    # scipy: F is inf when every group is constant, NaN when all data are equal.
    const = np.logical_and.reduce([(lo == hi) | np.isnan(lo) for lo, hi in extremes])
    lo = np.fmin.reduce([lo for lo, _ in extremes])
    hi = np.fmax.reduce([hi for _, hi in extremes])
    same = const & (lo == hi)
    f = np.where(const, np.inf, f)
    f = np.where(same, np.nan, f)
    p = special.fdtrc(dfn, dfd, f)
    if bad.any():
        f = np.where(bad, np.nan, f)
        p = np.where(bad, np.nan, p)
    if layout is not None:
        return FOnewayResult(layout.finish(f, keepdims), layout.finish(p, keepdims))
    return FOnewayResult(f, p)


def _row_extremes(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum of each row, NaN ignored (NaN for empty rows)."""
    if block.shape[1] == 0:
        nan = np.full(block.shape[0], np.nan)
        return nan, nan
    return np.fmin.reduce(block, axis=1), np.fmax.reduce(block, axis=1)


def _ragged_extremes(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum of each segment, NaN ignored (NaN for empty ones)."""
    n_exp = offsets.size - 1
    lo = np.full(n_exp, np.nan)
    hi = np.full(n_exp, np.nan)
    nonempty = np.diff(offsets) > 0
    if values.size:
        starts = offsets[:-1][nonempty]
        lo[nonempty] = np.fmin.reduceat(values, starts)
        hi[nonempty] = np.fmax.reduceat(values, starts)
    return lo, hi


# --------------------------------------------------------------------------
# Correlation
# --------------------------------------------------------------------------


def pearsonr(
    x: Any, y: Any, *, alternative: str = "two-sided", method: Any = None, axis: int | None = 0
) -> PearsonRResult:
    r"""Pearson correlation and its test, as :func:`scipy.stats.pearsonr`.

    Parameters
    ----------
    x, y : array_like
        Paired samples (broadcast, as scipy); experiments along the other axes.
    alternative : {'two-sided', 'less', 'greater'}, default: 'two-sided'
        The alternative about the correlation.
    method : PermutationMethod or MonteCarloMethod, optional
        Resampling p-values; computed by scipy.
    axis : int or None, default: 0
        The observation axis.

    Returns
    -------
    PearsonRResult
        ``statistic``, ``pvalue`` and ``confidence_interval()``.

    Notes
    -----
    .. math::

        r = \frac{\sum (x_i - \bar x)(y_i - \bar y)}
                 {\sqrt{\sum (x_i - \bar x)^2 \sum (y_i - \bar y)^2}}

    Under independence of normal samples :math:`(r + 1)/2` follows
    :math:`\mathrm{Beta}(n/2 - 1, n/2 - 1)`, which gives the p-value [1]_.

    References
    ----------
    .. [1] "Pearson correlation coefficient", Wikipedia,
       https://en.wikipedia.org/wiki/Pearson_correlation_coefficient
    """
    if method is not None:
        return scipy.stats.pearsonr(  # type: ignore[no-any-return]
            x, y, alternative=alternative, method=method, axis=axis
        )
    _check_alternative(alternative)
    xa, ya = _as_float(x, "x"), _as_float(y, "y")
    try:
        np.broadcast_shapes(xa.shape, ya.shape)
    except ValueError:
        raise ValueError("`x` and `y` must be broadcastable.") from None
    ndim = max(xa.ndim, ya.ndim)
    if axis is not None:
        xr = xa.reshape((1,) * (ndim - xa.ndim) + xa.shape)
        yr = ya.reshape((1,) * (ndim - ya.ndim) + ya.shape)
        if int(axis) != axis:
            raise ValueError("`axis` must be an integer.")
        if -ndim <= int(axis) < ndim and xr.shape[int(axis)] != yr.shape[int(axis)]:
            raise ValueError("`x` and `y` must have the same length along `axis`.")
    layout = _layout([xa, ya], ["x", "y"], axis, paired=True)
    bx, by = layout.blocks
    n = bx.shape[1]
    if n < 2:
        raise ValueError("`x` and `y` must have length at least 2.")
    mx, my, sxx, syy, sxy, const = _k.pearson_moments(bx, by)
    const = const.astype(bool)
    if const.any():
        warnings.warn(
            scipy.stats.ConstantInputWarning(
                "An input array is constant; the correlation coefficient is not defined."
            ),
            stacklevel=2,
        )
    threshold = np.finfo(np.float64).eps ** 0.75
    with np.errstate(invalid="ignore"):
        nx, ny = np.sqrt(np.maximum(sxx, 0)), np.sqrt(np.maximum(syy, 0))
        near = (nx < threshold * np.abs(mx)) | (ny < threshold * np.abs(my))
    if (near & ~const).any():
        warnings.warn(
            scipy.stats.NearConstantInputWarning(
                "An input array is nearly constant; the computed correlation "
                "coefficient may be inaccurate."
            ),
            stacklevel=2,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.clip(sxy / nx / ny, -1.0, 1.0)
    r = np.where(const, np.nan, r)
    ab = n / 2 - 1
    # (r + 1) / 2 ~ Beta(n/2 - 1, n/2 - 1) under the null.
    if alternative == "less":
        p = special.betainc(ab, ab, (r + 1) / 2)
    elif alternative == "greater":
        p = special.betaincc(ab, ab, (r + 1) / 2)
    else:
        p = 2 * special.betaincc(ab, ab, (np.abs(r) + 1) / 2)
    if n == 2:
        r = np.round(r)
        p = np.where(np.isnan(r), np.nan, 1.0)
    res_r, res_p = layout.finish(r, False), layout.finish(p, False)
    return PearsonRResult(res_r, res_p, n, alternative, x, y, -1 if axis is None else axis)


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
    _check_nan_policy(nan_policy)
    obs = _as_float(f_obs, "f_obs")
    exp = None if f_exp is None else _as_float(f_exp, "f_exp")
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
    layout = _layout(arrays, ["f_obs", "f_exp"][: len(arrays)], axis, paired=True)
    o = layout.blocks[0]
    k = o.shape[1]
    if k == 0:
        _warn_small(layout.one_d, omitted=False)
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
    return PowerDivergenceResult(stat_out, _scalar(p))


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
        obs = _as_float(obs, "observed")
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
    obs = _as_float(obs, "observed")
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
    if alternative not in _ALT_NUM:
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
    cnt = _as_float(count, "count") if batch else np.asarray(count)
    nob = _as_float(nobs, "nobs") if batch else np.asarray(nobs)
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
    return _scalar(z), _scalar(_z_pvalue(z, alternative))


def _z_pvalue(z: Any, alternative: str) -> Any:
    if alternative == "two-sided":
        return scipy.stats.norm.sf(np.abs(z)) * 2
    if alternative == "larger":
        return scipy.stats.norm.sf(z)
    return scipy.stats.norm.cdf(z)


# Rank tests live in fastinf.ranks (another module); the guard goes once it lands.
try:
    from fastinf.ranks import ks_2samp, mannwhitneyu, spearmanr  # noqa: E402
except ImportError:  # pragma: no cover - fastinf.ranks not written yet
    pass
