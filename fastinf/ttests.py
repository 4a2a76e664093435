"""Tests of means and correlation from per-experiment moments, batched.

Student's and Welch's t tests (:func:`ttest_ind`, :func:`ttest_1samp`,
:func:`ttest_rel`, :func:`ttest_ind_from_stats`), the F test of one-way
ANOVA (:func:`f_oneway`) and Pearson's correlation test (:func:`pearsonr`)
are all functions of a few moments of each sample: its size, mean and sum of
squares about the mean (and the cross moment, for Pearson). One parallel
Numba pass (:mod:`fastinf.kernels.ttests`) reduces every experiment's samples
to those moments; the statistic is then a few array operations and the
p-value a ``scipy.special`` ufunc (``stdtr``, ``fdtrc``, ``betainc``)
applied to the whole batch at once. Each function takes scipy's arguments
and returns scipy's values, to about 1e-12 relative, with scipy's result
fields (:mod:`fastinf._results`).

Conventions beyond scipy's:

* the t tests and :func:`f_oneway` accept :class:`fastinf.Ragged` samples
  (``E`` experiments of different sizes); results are 1-D arrays of length
  ``E``.
* ``ttest_ind`` with ``trim != 0`` or a resampling ``method``, and
  ``pearsonr`` with a resampling ``method``, are handed to scipy with the
  same arguments.

The public names are re-exported by :mod:`fastinf.stats`.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.stats
from scipy import special

from fastinf._results import FOnewayResult, PearsonRResult, TtestIndResult, TtestResult
from fastinf._samples import (
    ALT_NUM,
    Layout,
    as_float,
    check_alternative,
    check_nan_policy,
    make_layout,
    raise_on_nan,
    scalar,
    warn_small,
)
from fastinf.kernels import ttests as _k
from fastinf.ragged import Ragged, SmallSampleWarning

__all__ = [
    "ttest_ind",
    "ttest_ind_from_stats",
    "ttest_rel",
    "ttest_1samp",
    "f_oneway",
    "pearsonr",
]


# --------------------------------------------------------------------------
# Moments of the samples
# --------------------------------------------------------------------------


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
        as_float(r.values, name)
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
) -> tuple[list[Any], Layout | None]:
    """Validate and reduce both samples to per-experiment moments."""
    check_nan_policy(nan_policy)
    check_alternative(alternative)
    ragged = _ragged_pair(a, b, ("a", "b"))
    layout = None
    if ragged is None:
        layout = make_layout([as_float(a, "a"), as_float(b, "b")], ["a", "b"], axis)
        if nan_policy == "raise":
            raise_on_nan(*layout.blocks)
    elif nan_policy == "raise":
        raise_on_nan(*(np.asarray(r.values, dtype=np.float64) for r in ragged))
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
            warn_small(one_d, omitted=bool(has_nan.any()), stacklevel=4)
        return small
    if small.any():
        warn_small(one_d, omitted=False, stacklevel=4)
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
    outs: list[np.ndarray], alternative: str, layout: Layout | None, keepdims: bool
) -> TtestResult:
    if layout is not None:
        outs = [layout.finish(o, keepdims) for o in outs]
    t, p, df, se, est = outs
    return TtestResult(t, p, df, ALT_NUM[alternative], se, est)


def _one_sample_result(
    count: np.ndarray,
    mean: np.ndarray,
    ss: np.ndarray,
    popmean: Any,
    bad: np.ndarray,
    alternative: str,
    layout: Layout | None,
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
    check_nan_policy(nan_policy)
    check_alternative(alternative)
    if isinstance(a, Ragged):
        as_float(a.values, "a")
        pm = as_float(popmean, "popmean")
        if pm.ndim > 1 or (pm.ndim == 1 and pm.size not in (1, a.n_experiments)):
            raise ValueError(
                "`popmean` must be a scalar or hold one value per experiment of `a`."
            )
        if nan_policy == "raise":
            raise_on_nan(np.asarray(a.values, dtype=np.float64), pm)
        moments = _moments(None, [a], nan_policy == "omit")
        layout = None
        pm_flat = np.broadcast_to(pm.ravel() if pm.ndim else pm, (a.n_experiments,))
    else:
        arr = as_float(a, "a")
        pm = as_float(popmean, "popmean")
        if pm.ndim == 0:
            layout = make_layout([arr], ["a"], axis)
            pm_flat = np.broadcast_to(pm, (layout.blocks[0].shape[0],))
        else:
            if axis is not None and arr.ndim >= 1:
                ndim = max(arr.ndim, pm.ndim)
                ax = int(axis) % ndim if -ndim <= int(axis) < ndim else int(axis)
                pm_r = pm.reshape((1,) * (ndim - pm.ndim) + pm.shape)
                if 0 <= ax < ndim and pm_r.shape[ax] != 1:
                    raise ValueError("`popmean.shape[axis]` must equal 1.")
            layout = make_layout([arr, pm], ["a", "popmean"], axis)
            pm_flat = layout.blocks[1][:, 0]
        if nan_policy == "raise":
            raise_on_nan(layout.blocks[0], pm_flat)
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
    check_nan_policy(nan_policy)
    check_alternative(alternative)
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
            raise_on_nan(diff)
        moments = [_k.ragged_moments(np.ascontiguousarray(diff), ra.offsets, skip)]
    else:
        layout = make_layout([as_float(a, "a"), as_float(b, "b")], ["a", "b"], axis,
                         paired=True)
        if nan_policy == "raise":
            raise_on_nan(*layout.blocks)
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
    check_alternative(alternative)
    m1, s1, n1, m2, s2, n2 = (
        as_float(v, name)
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
    return TtestIndResult(scalar(t), scalar(p))


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
    check_nan_policy(nan_policy)
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
            raise_on_nan(*vals)
        moments = _moments(None, rs, nan_policy == "omit")
        extremes = [_ragged_extremes(v, r.offsets) for v, r in zip(vals, rs, strict=True)]
        one_d = False
    else:
        arrays = [as_float(s, f"sample {j}") for j, s in enumerate(samples)]
        layout = make_layout(arrays, [f"sample {j}" for j in range(len(arrays))], axis)
        if nan_policy == "raise":
            raise_on_nan(*layout.blocks)
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
            warn_small(one_d, omitted=False, stacklevel=2)
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
    check_alternative(alternative)
    xa, ya = as_float(x, "x"), as_float(y, "y")
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
    layout = make_layout([xa, ya], ["x", "y"], axis, paired=True)
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
