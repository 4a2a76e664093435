"""The experiment layer: many A/B(/n) experiments from sufficient statistics in one call.

Experimentation platforms store, per experiment, metric and arm, a handful of
sums: the number of units ``n``, the ``sum`` of the metric and its ``sum_sq``
(successes for binary metrics), and optionally the sums of a pre-period
covariate (for CUPED) or of a ratio metric's denominator. :func:`analyze`
takes those arrays for thousands of experiments at once and returns one
columnar :class:`ExperimentResults` with a row per experiment x metric x
treatment: the estimate of each arm, absolute and relative differences with
confidence intervals, the test statistic and p-value, an effect size, the
sample-ratio-mismatch (SRM) p-value, p-values adjusted within families of
your choice, and a ship decision.

The arithmetic runs in one parallel kernel (:mod:`fastinf.kernels.experiment`);
p-values and critical values come from ``scipy.special`` (the functions behind
``scipy.stats.t`` and ``scipy.stats.norm``), adjusted p-values from
:func:`fastinf.multitest.multipletests`. Unit-level data become sufficient
statistics with :func:`sufficient_statistics`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fastinf.ragged import Ragged

__all__ = [
    "DECISIONS",
    "REASONS",
    "ExperimentResults",
    "analyze",
    "sufficient_statistics",
]

#: Values of the ``decision`` column, in the order of its codes.
DECISIONS = ("inconclusive", "ship", "dont_ship", "stat_sig_not_practical", "invalid")
#: Values of the ``reason`` column (why a row is NaN under ``errors='coerce'``).
REASONS = (
    "",
    "NaN in the input",
    "negative n",
    "n is not a whole number",
    "n < 2 (a variance is needed)",
    "n == 0",
    "negative successes",
    "successes > n",
    "sum_sq < sum**2 / n",
    "zero denominator sum",
    "zero variance in both arms",
)
_NAN, _NEG_N, _FRAC_N, _SMALL_N, _ZERO_N, _NEG_S, _S_GT_N, _NEG_VAR, _ZERO_DEN, _ZERO_VAR = range(1, 11)

_TYPES = {"mean": 0, "binomial": 1, "ratio": 2}
_ALTERNATIVES = {"two-sided": 0, "greater": 1, "less": 2}
_FAMILIES = ("experiment", "experiment-treatment", "metric", "all")

_COLUMNS = (
    "experiment",
    "metric",
    "treatment",
    "metric_type",
    "control_n",
    "treatment_n",
    "control_estimate",
    "treatment_estimate",
    "difference",
    "ci_low",
    "ci_high",
    "relative_difference",
    "relative_ci_low",
    "relative_ci_high",
    "statistic",
    "df",
    "p_value",
    "p_value_adjusted",
    "effect_size",
    "srm_p_value",
    "theta",
    "variance_reduction",
    "significant",
    "guardrail_violated",
    "decision",
    "reason",
)


@dataclass(frozen=True, eq=False)
class ExperimentResults:
    """Columnar results of :func:`analyze`, one row per experiment x metric x treatment.

    Rows are in C order of ``shape = (experiments, metrics, treatments)``:
    ``reshape(column)`` gives that 3-D view. Every column is a 1-D NumPy
    array; ``metric_type``, ``decision`` and ``reason`` are small-integer
    codes into ``METRIC_TYPES``, :data:`DECISIONS` and :data:`REASONS`
    (converted to categoricals by :meth:`to_pandas` and to dictionary
    arrays by :meth:`to_arrow`, without copying the codes).

    Attributes
    ----------
    experiment, metric, treatment : ndarray of int64
        Indices of the row: experiment, metric, and the treatment's arm
        (1 .. arms - 1; arm 0 is the control).
    metric_type : ndarray of int8
        0 mean, 1 binomial, 2 ratio.
    control_n, treatment_n : ndarray
        Units in each arm.
    control_estimate, treatment_estimate : ndarray
        Mean, proportion or ratio of each arm (CUPED-adjusted when a
        covariate is used).
    difference, ci_low, ci_high : ndarray
        Treatment minus control and its confidence interval at
        ``1 - alpha`` (one-sided for one-sided alternatives).
    relative_difference, relative_ci_low, relative_ci_high : ndarray
        Treatment / control - 1 and its delta-method interval.
    statistic, df : ndarray
        Welch t (with its Welch-Satterthwaite ``df``) or z (``df = inf``).
    p_value, p_value_adjusted : ndarray
        p-value and its value adjusted within the row's family.
    effect_size : ndarray
        Cohen's h for binomial metrics, Cohen's d otherwise.
    srm_p_value : ndarray
        Chi-square goodness-of-fit p-value of the arms' ``n`` against the
        expected split (repeated on each treatment row).
    theta, variance_reduction : ndarray
        CUPED slope and the share of the difference's variance it removed
        (0 without a covariate).
    significant, guardrail_violated : ndarray of bool
        Whether the (adjusted) p-value is below ``alpha``; whether a
        guardrail metric of the same experiment and treatment is
        significantly worse.
    decision, reason : ndarray of int8
        Codes into :data:`DECISIONS` and :data:`REASONS`.
    shape : tuple of int
        ``(experiments, metrics, treatments)``.
    """

    experiment: np.ndarray
    metric: np.ndarray
    treatment: np.ndarray
    metric_type: np.ndarray
    control_n: np.ndarray
    treatment_n: np.ndarray
    control_estimate: np.ndarray
    treatment_estimate: np.ndarray
    difference: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    relative_difference: np.ndarray
    relative_ci_low: np.ndarray
    relative_ci_high: np.ndarray
    statistic: np.ndarray
    df: np.ndarray
    p_value: np.ndarray
    p_value_adjusted: np.ndarray
    effect_size: np.ndarray
    srm_p_value: np.ndarray
    theta: np.ndarray
    variance_reduction: np.ndarray
    significant: np.ndarray
    guardrail_violated: np.ndarray
    decision: np.ndarray
    reason: np.ndarray
    shape: tuple[int, int, int] = field(default=(0, 0, 0))

    METRIC_TYPES = tuple(_TYPES)

    def __len__(self) -> int:
        return int(self.experiment.size)

    @property
    def columns(self) -> tuple[str, ...]:
        """Names of the columns, in output order."""
        return _COLUMNS

    def reshape(self, column: np.ndarray | str) -> np.ndarray:
        """View a column as ``(experiments, metrics, treatments)``."""
        values = getattr(self, column) if isinstance(column, str) else column
        return np.asarray(values).reshape(self.shape)

    def labels(self, column: str) -> np.ndarray:
        """The string labels of a coded column (``metric_type``, ``decision``, ``reason``)."""
        names = {"metric_type": self.METRIC_TYPES, "decision": DECISIONS, "reason": REASONS}
        return np.asarray(names[column], dtype=object)[getattr(self, column)]

    def to_dict(self) -> dict[str, np.ndarray]:
        """The columns as a dict of the arrays themselves (no copy)."""
        return {name: getattr(self, name) for name in _COLUMNS}

    def to_pandas(self) -> Any:
        """A :class:`pandas.DataFrame` over the same column buffers.

        Numeric columns are not copied (``copy=False``); coded columns become
        ``pandas.Categorical`` over the same code arrays.
        """
        import pandas as pd

        cols: dict[str, Any] = {}
        cats = {"metric_type": self.METRIC_TYPES, "decision": DECISIONS, "reason": REASONS}
        for name in _COLUMNS:
            values = getattr(self, name)
            if name in cats:
                dtype = pd.CategoricalDtype(list(cats[name]))
                values = pd.Categorical.from_codes(values, dtype=dtype, validate=False)
            cols[name] = values
        return pd.DataFrame(cols, copy=False)

    def to_arrow(self) -> Any:
        """A :class:`pyarrow.Table` over the same column buffers (zero-copy where Arrow allows).

        Arrow reads NumPy's numeric buffers directly; NaN stays a float value
        (not a null), as in the NumPy columns. Booleans are bit-packed by
        Arrow, which is its one conversion copy.
        """
        import pyarrow as pa

        cats = {"metric_type": self.METRIC_TYPES, "decision": DECISIONS, "reason": REASONS}
        arrays = []
        for name in _COLUMNS:
            values = getattr(self, name)
            if name in cats:
                arrays.append(pa.DictionaryArray.from_arrays(pa.array(values), pa.array(cats[name])))
            else:
                arrays.append(pa.array(values))
        return pa.Table.from_arrays(arrays, names=list(_COLUMNS))


def analyze(
    n: Any,
    sum: Any,  # noqa: A002 - the platforms' column name
    sum_sq: Any = None,
    *,
    metric_type: Any = "mean",
    cov_sum: Any = None,
    cov_sum_sq: Any = None,
    cross_sum: Any = None,
    den_sum: Any = None,
    den_sum_sq: Any = None,
    num_den_sum: Any = None,
    alpha: float = 0.05,
    alternative: Any = "two-sided",
    margin: Any = 0.0,
    relative_margin: bool = False,
    min_effect: Any = 0.0,
    relative_min_effect: bool = True,
    higher_is_better: Any = True,
    guardrail: Any = False,
    correction: str | None = "fdr_bh",
    family: Any = "experiment",
    srm_weights: Any = None,
    errors: str = "raise",
) -> ExperimentResults:
    r"""Analyse many controlled experiments from their sufficient statistics.

    Parameters
    ----------
    n : array_like
        Units per arm. Shape ``(arms,)`` (one experiment, one metric),
        ``(experiments, arms)`` (one metric) or ``(experiments, metrics,
        arms)``; every statistic broadcasts to that shape. Arm 0 is the
        control, arms 1.. are treatments, each compared with the control.
    sum : array_like
        Sum of the metric over the arm's units; successes for binomial
        metrics; the numerator's sum for ratio metrics.
    sum_sq : array_like, optional
        Sum of squares of the metric (numerator). Required for mean and
        ratio metrics; unused for binomial metrics without a covariate (for
        0/1 data it equals ``sum``).
    metric_type : {'mean', 'binomial', 'ratio'} or array_like of them
        Per metric (broadcast to ``(experiments, metrics)``): mean metrics get
        Welch's t test, binomial metrics the two-proportion z test, ratio
        metrics (sum of numerators over sum of denominators) a z test with
        the delta-method variance.
    cov_sum, cov_sum_sq, cross_sum : array_like, optional
        Sums of a pre-period covariate ``x``, of ``x**2`` and of ``x * y``.
        Given together, they switch CUPED on for mean and binomial metrics
        (rows whose three covariate sums are NaN-free; NaN leaves a row
        unadjusted). Ratio metrics must have NaN covariate sums.
    den_sum, den_sum_sq, num_den_sum : array_like, optional
        Sums of a ratio metric's denominator, its square, and numerator times
        denominator per unit. Required when any metric is a ratio.
    alpha : float
        Significance level; intervals have confidence ``1 - alpha``.
    alternative : {'two-sided', 'greater', 'less'} or array_like of them
        Per metric. 'greater': the treatment is higher than the control.
    margin : float or array_like
        Non-inferiority (or non-superiority) margin, >= 0, per metric. With
        ``alternative='greater'`` the null is ``difference <= -margin``; with
        'less', ``difference >= margin``. Must be 0 for two-sided tests.
    relative_margin : bool
        Whether ``margin`` is a fraction of the control's estimate.
    min_effect : float or array_like
        Smallest effect worth shipping, per metric (>= 0).
    relative_min_effect : bool
        Whether ``min_effect`` applies to the relative difference (default)
        or to the absolute difference.
    higher_is_better : bool or array_like
        Per metric: the direction a decision counts as an improvement.
    guardrail : bool or array_like
        Per metric: a guardrail, whose significant harm blocks shipping the
        treatment in that experiment.
    correction : str or None
        Multiple-testing method of :func:`fastinf.multitest.multipletests`
        ('fdr_bh', 'holm', 'bonferroni', ...), or None for none.
    family : {'experiment', 'experiment-treatment', 'metric', 'all'} or array_like of int
        Which rows are corrected together: all metrics and treatments of an
        experiment; the metrics of one experiment's treatment; each metric
        across experiments; everything; or integer labels broadcast to
        ``(experiments, metrics, treatments)``.
    srm_weights : array_like, optional
        Expected traffic share of each arm (normalised), broadcast to the
        statistics' shape; equal shares by default.
    errors : {'raise', 'coerce'}
        On invalid input, raise a ValueError naming the argument, experiment,
        metric and arm; or ('coerce') give that row NaN results, decision
        'invalid' and the cause in ``reason``. Rows with NaN p-values are left
        out of their correction family.

    Returns
    -------
    ExperimentResults

    Notes
    -----
    Per arm with ``n`` units, ``m = sum / n`` and sample variance
    ``v = (sum_sq - sum**2 / n) / (n - 1)``:

    * mean metrics: Welch's test,
      :math:`t = (\bar y_T - \bar y_C - \delta_0) / \sqrt{v_T/n_T + v_C/n_C}`
      with Welch-Satterthwaite degrees of freedom; the interval uses the
      same ``t`` quantile (as ``scipy.stats.ttest_ind(equal_var=False)``).
    * binomial metrics: :math:`z = (p_T - p_C) / \sqrt{\bar p (1-\bar p)(1/n_T + 1/n_C)}`
      with the pooled :math:`\bar p` (``statsmodels`` ``proportions_ztest``);
      with a non-zero margin, and for the interval, the unpooled (Wald)
      variance :math:`p_T(1-p_T)/n_T + p_C(1-p_C)/n_C`.
    * ratio metrics :math:`R = \sum y / \sum w`: delta method [2]_,
      :math:`\mathrm{Var}(R) = (V_y - 2 R C_{yw} + R^2 V_w) / (n \bar w^2)`,
      z test and interval.
    * CUPED [1]_: :math:`\theta = \mathrm{Cov}(y, x) / \mathrm{Var}(x)` on the
      units of all arms together; each arm's mean becomes
      :math:`\bar y - \theta (\bar x_{arm} - \bar x)` with variance
      :math:`(V_y - 2\theta C_{xy} + \theta^2 V_x) / n` (which equals Welch's
      test on the adjusted unit values ``y - theta * (x - xbar)``);
      ``variance_reduction`` is one minus the ratio of adjusted to unadjusted
      variance of the difference. For binomial metrics with a covariate the
      test is a Wald z on the adjusted sample moments.
    * relative difference :math:`\hat\ell = T/C - 1`, delta method
      :math:`\mathrm{Var}(\hat\ell) = \mathrm{Var}(T)/C^2 + T^2 \mathrm{Var}(C)/C^4`,
      normal interval.
    * effect size: Cohen's :math:`h = 2\arcsin\sqrt{p_T} - 2\arcsin\sqrt{p_C}`
      for binomial metrics, Cohen's :math:`d` (difference over the pooled
      unit standard deviation, unadjusted) otherwise.
    * SRM: Pearson's chi-square of the arms' ``n`` against ``N w``, ``arms - 1``
      degrees of freedom.

    The decision of a row, with ``significant = p_value_adjusted < alpha``
    (``p_value`` without a correction) and the direction of a significant
    result given by the alternative (by the sign of the difference when
    two-sided): *ship* if significant in the better direction and the effect
    reaches ``min_effect``; *stat_sig_not_practical* if significant in the
    better direction but smaller; *dont_ship* if significant in the worse
    direction; otherwise *inconclusive*. A guardrail metric that is
    significantly worse sets ``guardrail_violated`` on every row of its
    experiment and treatment, and turns their *ship* into *dont_ship*.

    References
    ----------
    .. [1] A. Deng, Y. Xu, R. Kohavi, T. Walker, "Improving the sensitivity of
       online controlled experiments by utilizing pre-experiment data",
       WSDM 2013.
    .. [2] A. Deng, U. Knoblich, J. Lu, "Applying the delta method in metric
       analytics: a practical guide with novel ideas", KDD 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from fastinf.experiment import analyze
    >>> res = analyze([50_000, 50_000], [4_820, 5_140], metric_type="binomial")
    >>> round(float(res.statistic[0]), 4), round(float(res.p_value[0]), 6)
    (3.3791, 0.000727)
    """
    iv = _analyze_iv(
        n, sum, sum_sq, metric_type, cov_sum, cov_sum_sq, cross_sum, den_sum,
        den_sum_sq, num_den_sum, alpha, alternative, margin, relative_margin,
        min_effect, relative_min_effect, higher_is_better, guardrail, correction, family,
        srm_weights, errors,
    )
    c = _contrasts(iv)
    p_adj = _adjust(c.p.reshape(-1), iv, correction)
    return _decide(iv, c, p_adj, correction is not None)


@dataclass(frozen=True, eq=False)
class _Contrasts:
    """What :func:`analyze` computes before the correction and the decisions.

    Arrays are ``(experiments * metrics, arms)`` (``est``, ``n``), per
    ``(experiments * metrics)`` (``theta``, ``srm``) or ``(experiments *
    metrics, treatments)`` (the rest).
    """

    n: np.ndarray
    est: np.ndarray
    theta: np.ndarray
    diff: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    rel: np.ndarray
    rel_low: np.ndarray
    rel_high: np.ndarray
    stat: np.ndarray
    df: np.ndarray
    p: np.ndarray
    effect: np.ndarray
    var_red: np.ndarray
    srm: np.ndarray
    alt: np.ndarray
    reason: np.ndarray


def _contrasts(iv: _Validated) -> _Contrasts:
    """Estimates, intervals and raw p-values of every row (the kernel and the CDFs)."""
    from scipy import special

    from fastinf.kernels import experiment as K

    E, M, A = iv.shape
    T = A - 1
    R0 = E * M
    flat = {k: v.reshape(R0, A) for k, v in iv.stats.items()}
    est = np.empty((R0, A))
    se = np.empty((R0, A))
    theta = np.empty(R0)
    out = {k: np.empty((R0, T)) for k in ("diff", "se_diff", "se_test", "df", "rel", "se_rel", "effect", "var_red")}
    mtype = iv.mtype.reshape(R0)
    # The null difference depends on the control estimate for relative
    # margins, which the kernel computes: run it with the absolute nulls
    # first, then rescale (the kernel only uses the null to choose the
    # pooled binomial variance, which a relative margin > 0 never uses).
    null = iv.margin.reshape(R0, 1) * np.where(iv.alt.reshape(R0, 1) == 1, -1.0, 1.0)
    null = np.ascontiguousarray(np.broadcast_to(null, (R0, T)))
    K.contrasts(
        flat["n"], flat["sum"], flat["sum_sq"], flat["cov_sum"], flat["cov_sum_sq"],
        flat["cross_sum"], flat["den_sum"], flat["den_sum_sq"], flat["num_den_sum"],
        mtype, iv.cuped.reshape(R0), null, est, se, theta,
        out["diff"], out["se_diff"], out["se_test"], out["df"], out["rel"],
        out["se_rel"], out["effect"], out["var_red"],
    )
    if iv.relative_margin:
        null = null * np.abs(est[:, :1])

    reason = iv.reason.reshape(R0, T).copy()
    zero_var = (out["se_test"] == 0.0) & (reason == 0)
    if zero_var.any():
        if iv.errors == "raise":
            r, t = np.argwhere(zero_var)[0]
            raise ValueError(
                f"both arms have zero variance in experiment {r // M}, metric {r % M} "
                f"(control and arm {t + 1}): the test statistic is undefined."
            )
        reason[zero_var] = _ZERO_VAR

    alt = np.broadcast_to(iv.alt.reshape(R0, 1), (R0, T))
    with np.errstate(divide="ignore", invalid="ignore"):  # zero variance: coerced rows
        stat = (out["diff"] - null) / out["se_test"]
    df = out["df"]
    is_t = np.isfinite(df)
    # p-values: Student t (Welch) for mean rows, standard normal otherwise;
    # stdtr/ndtr are the CDFs behind scipy.stats.t and scipy.stats.norm.
    # One CDF evaluation per test: at -|stat| (two-sided, doubled), -stat
    # ('greater') or stat ('less').
    x = np.where(alt == 0, -np.abs(stat), np.where(alt == 1, -stat, stat))
    if is_t.all():
        p = special.stdtr(df, x)
    else:
        p = special.ndtr(x)
        if is_t.any():
            p[is_t] = special.stdtr(df[is_t], x[is_t])
    p = np.where(alt == 0, 2.0 * p, p)
    np.minimum(p, 1.0, out=p)

    # Critical values at 1 - alpha (one-sided) or 1 - alpha / 2.
    q = np.where(alt == 0, 1.0 - iv.alpha / 2.0, 1.0 - iv.alpha)
    crit_z = special.ndtri(q)
    crit = crit_z.copy()
    if is_t.any():
        crit[is_t] = special.stdtrit(df[is_t], q[is_t])
    diff, se_diff = out["diff"], out["se_diff"]
    ci_low = np.where(alt == 2, -np.inf, diff - crit * se_diff)
    ci_high = np.where(alt == 1, np.inf, diff + crit * se_diff)
    rel, se_rel = out["rel"], out["se_rel"]
    rel_low = np.where(alt == 2, -np.inf, rel - crit_z * se_rel)
    rel_high = np.where(alt == 1, np.inf, rel + crit_z * se_rel)

    # SRM: Pearson chi-square of n against the expected split (chdtrc is
    # scipy.stats.chi2.sf).
    n3 = flat["n"]
    total = n3.sum(axis=1, keepdims=True)
    expected = total * iv.srm_weights.reshape(R0, A)
    chi2 = ((n3 - expected) ** 2 / expected).sum(axis=1)
    srm = special.chdtrc(A - 1, chi2)

    bad = reason != 0
    rows_out = [diff, se_diff, stat, p, ci_low, ci_high, rel, rel_low, rel_high, out["effect"], out["var_red"]]
    if bad.any():
        for arr in rows_out:
            arr[bad] = np.nan
        df = np.where(bad, np.nan, df)
        est_bad = np.zeros((R0, A), dtype=bool)
        est_bad[:, 1:] |= bad
        est_bad[:, 0] |= bad.all(axis=1)
        est = np.where(est_bad, np.nan, est)
        theta = np.where(bad.all(axis=1), np.nan, theta)

    return _Contrasts(
        n=n3, est=est, theta=theta, diff=diff, ci_low=ci_low, ci_high=ci_high, rel=rel,
        rel_low=rel_low, rel_high=rel_high, stat=stat, df=df, p=p, effect=out["effect"],
        var_red=out["var_red"], srm=srm, alt=alt, reason=reason,
    )


def _decide(iv: _Validated, c: _Contrasts, p_adj: np.ndarray, adjusted: bool) -> ExperimentResults:
    """Significance, guardrails and decisions from the adjusted p-values ``p_adj``.

    ``p_adj`` is one value per row (C order of ``(experiments, metrics,
    treatments)``); decisions use it when ``adjusted``, else the raw
    p-values. The adjustment may come from outside (the families of
    :mod:`fastinf.reanalyze` span several calls).
    """
    E, M, A = iv.shape
    T = A - 1
    R0 = E * M
    n3, est, theta, diff, rel, p, alt = c.n, c.est, c.theta, c.diff, c.rel, c.p, c.alt
    bad = c.reason != 0
    p_adj = np.where(bad.reshape(-1), np.nan, np.asarray(p_adj, dtype=np.float64).reshape(-1))
    # Decisions (codes into DECISIONS).
    p_dec = p_adj if adjusted else p.reshape(-1)
    sig = p_dec < iv.alpha
    hib = np.broadcast_to(iv.hib.reshape(R0, 1), (R0, T)).reshape(-1)
    altf = alt.reshape(-1)
    direction = np.where(altf == 1, 1.0, np.where(altf == 2, -1.0, np.sign(diff.reshape(-1))))
    good = np.where(hib, direction > 0, direction < 0)
    size = np.abs(rel.reshape(-1)) if iv.relative_min_effect else np.abs(diff.reshape(-1))
    big = size >= np.broadcast_to(iv.min_effect.reshape(R0, 1), (R0, T)).reshape(-1)
    decision = np.zeros(R0 * T, dtype=np.int8)
    decision[sig & good & big] = 1
    decision[sig & good & ~big] = 3
    decision[sig & ~good] = 2
    guard = np.broadcast_to(iv.guardrail.reshape(E, M, 1), (E, M, T))
    harmed = (sig & ~good).reshape(E, M, T) & guard
    violated = np.broadcast_to(harmed.any(axis=1, keepdims=True), (E, M, T)).reshape(-1)
    decision[violated & (decision == 1)] = 2
    flat_bad = bad.reshape(-1)
    decision[flat_bad] = 4
    sig = sig & ~flat_bad

    e_idx, m_idx, t_idx = np.indices((E, M, T)).reshape(3, -1)
    est_c = np.broadcast_to(est[:, :1], (R0, T))
    return ExperimentResults(
        experiment=e_idx.astype(np.int64),
        metric=m_idx.astype(np.int64),
        treatment=(t_idx + 1).astype(np.int64),
        metric_type=np.broadcast_to(iv.mtype.reshape(R0, 1), (R0, T)).reshape(-1).astype(np.int8),
        control_n=np.broadcast_to(n3[:, :1], (R0, T)).reshape(-1).copy(),
        treatment_n=n3[:, 1:].reshape(-1).copy(),
        control_estimate=est_c.reshape(-1).copy(),
        treatment_estimate=est[:, 1:].reshape(-1).copy(),
        difference=diff.reshape(-1),
        ci_low=c.ci_low.reshape(-1),
        ci_high=c.ci_high.reshape(-1),
        relative_difference=rel.reshape(-1),
        relative_ci_low=c.rel_low.reshape(-1),
        relative_ci_high=c.rel_high.reshape(-1),
        statistic=c.stat.reshape(-1),
        df=c.df.reshape(-1),
        p_value=p.reshape(-1),
        p_value_adjusted=p_adj,
        effect_size=c.effect.reshape(-1),
        srm_p_value=np.repeat(c.srm, T),
        theta=np.repeat(theta, T),
        variance_reduction=c.var_red.reshape(-1),
        significant=sig,
        guardrail_violated=violated.copy(),
        decision=decision,
        reason=c.reason.reshape(-1).astype(np.int8),
        shape=(E, M, T),
    )


def sufficient_statistics(
    values: Ragged, covariate: Ragged | None = None, denominator: Ragged | None = None
) -> dict[str, np.ndarray]:
    """Sufficient statistics of unit-level ragged data, as :func:`analyze` takes them.

    Parameters
    ----------
    values : Ragged
        The metric per unit; each row of the ragged array is one arm (of one
        experiment and metric), in the order the caller reshapes them.
    covariate, denominator : Ragged, optional
        A pre-period covariate per unit, and a ratio metric's denominator,
        with the same offsets as ``values``.

    Returns
    -------
    dict of ndarray
        ``n``, ``sum``, ``sum_sq``, and when given ``cov_sum``, ``cov_sum_sq``,
        ``cross_sum`` and ``den_sum``, ``den_sum_sq``, ``num_den_sum``, one
        entry per row.
    """
    from fastinf.kernels import experiment as K

    if not isinstance(values, Ragged):
        raise TypeError("`values` must be a fastinf.Ragged (one row per arm).")
    y = np.ascontiguousarray(values.values, dtype=np.float64)
    offsets = np.ascontiguousarray(values.offsets, dtype=np.int64)
    extra = []
    for name, r in (("covariate", covariate), ("denominator", denominator)):
        if r is None:
            extra.append(np.empty(0))
            continue
        if not isinstance(r, Ragged) or not np.array_equal(r.offsets, values.offsets):
            raise ValueError(f"`{name}` must be a Ragged with the same offsets as `values`.")
        extra.append(np.ascontiguousarray(r.values, dtype=np.float64))
    for name, arr in (("values", y), ("covariate", extra[0]), ("denominator", extra[1])):
        if np.isnan(arr).any():
            raise ValueError(f"`{name}` contains NaN; drop or impute those units first.")
    out = np.empty((offsets.size - 1, 9))
    K.unit_sums(y, extra[0], extra[1], offsets, out)
    names = ["n", "sum", "sum_sq"]
    if covariate is not None:
        names += ["cov_sum", "cov_sum_sq", "cross_sum"]
    if denominator is not None:
        names += ["den_sum", "den_sum_sq", "num_den_sum"]
    cols = dict(zip(
        ("n", "sum", "sum_sq", "cov_sum", "cov_sum_sq", "cross_sum", "den_sum", "den_sum_sq", "num_den_sum"),
        out.T, strict=True,
    ))
    return {k: np.ascontiguousarray(cols[k]) for k in names}


# --------------------------------------------------------------------------
# validation


@dataclass(frozen=True)
class _Validated:
    shape: tuple[int, int, int]
    stats: dict[str, np.ndarray]
    mtype: np.ndarray
    cuped: np.ndarray
    alt: np.ndarray
    margin: np.ndarray
    relative_margin: bool
    min_effect: np.ndarray
    relative_min_effect: bool
    hib: np.ndarray
    guardrail: np.ndarray
    alpha: float
    labels: np.ndarray | None
    srm_weights: np.ndarray
    reason: np.ndarray
    errors: str


def _codes(value: Any, table: dict[str, int], name: str, shape: tuple[int, int]) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "UO":
        raise TypeError(f"`{name}` must be one of {sorted(table)} (or an array of them).")
    flat = arr.reshape(-1)
    # One vectorised comparison per name (the tables are tiny), not a Python
    # loop over the elements.
    codes = np.full(flat.size, -1, dtype=np.int8)
    for key, code in table.items():
        codes[flat == key] = code
    unknown = codes < 0
    if unknown.any():
        v = flat[int(np.argmax(unknown))]
        raise ValueError(f"`{name}` must be one of {sorted(table)}; got {v!r}.")
    try:
        return np.ascontiguousarray(np.broadcast_to(codes.reshape(arr.shape), shape))
    except ValueError:
        raise ValueError(
            f"`{name}` of shape {arr.shape} does not broadcast to (experiments, metrics) = {shape}."
        ) from None


def _per_metric(value: Any, name: str, shape: tuple[int, int], dtype: Any) -> np.ndarray:
    arr = np.asarray(value)
    if dtype is bool and arr.dtype != bool:
        raise TypeError(f"`{name}` must be boolean.")
    if dtype is float:
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"`{name}` must be numeric.")
        arr = arr.astype(np.float64)
        if np.isnan(arr).any() or (arr < 0).any():
            raise ValueError(f"`{name}` must be >= 0 (and not NaN).")
    try:
        return np.ascontiguousarray(np.broadcast_to(arr, shape))
    except ValueError:
        raise ValueError(
            f"`{name}` of shape {arr.shape} does not broadcast to (experiments, metrics) = {shape}."
        ) from None


def _analyze_iv(
    n: Any, s: Any, ss: Any, metric_type: Any, cov_sum: Any, cov_sum_sq: Any,
    cross_sum: Any, den_sum: Any, den_sum_sq: Any, num_den_sum: Any, alpha: float,
    alternative: Any, margin: Any, relative_margin: bool, min_effect: Any,
    relative_min_effect: bool, higher_is_better: Any, guardrail: Any, correction: str | None, family: Any,
    srm_weights: Any, errors: str,
) -> _Validated:
    if errors not in ("raise", "coerce"):
        raise ValueError("`errors` must be 'raise' or 'coerce'.")
    if not (isinstance(alpha, (int, float)) and 0.0 < alpha < 1.0):
        raise ValueError("`alpha` must be a number in (0, 1).")
    given = {
        "n": n, "sum": s, "sum_sq": ss, "cov_sum": cov_sum, "cov_sum_sq": cov_sum_sq,
        "cross_sum": cross_sum, "den_sum": den_sum, "den_sum_sq": den_sum_sq,
        "num_den_sum": num_den_sum,
    }
    arrays: dict[str, np.ndarray] = {}
    for name, value in given.items():
        if value is None:
            continue
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"`{name}` must be numeric; got dtype {arr.dtype}.")
        arrays[name] = arr.astype(np.float64, copy=False)
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"`{k}` {a.shape}" for k, a in arrays.items())
        raise ValueError(f"the statistics do not broadcast together: {shapes}.") from None
    if len(shape) == 0 or len(shape) > 3:
        raise ValueError(
            "the statistics must have shape (arms,), (experiments, arms) or "
            f"(experiments, metrics, arms); got {shape}."
        )
    # (arms,) is one experiment and metric; (experiments, arms) one metric.
    full = (1, 1, shape[0]) if len(shape) == 1 else (shape[0], 1, shape[1]) if len(shape) == 2 else shape
    E, M, A = full
    if A < 2:
        raise ValueError(
            f"every experiment needs a control and at least one treatment: the arms "
            f"axis (last) has length {A}."
        )
    if E * M == 0:
        raise ValueError("there are no experiments (an axis of the statistics has length 0).")
    stats = {
        k: np.ascontiguousarray(np.broadcast_to(a, shape).reshape(full))
        for k, a in arrays.items()
    }
    em = (E, M)
    mtype = _codes(metric_type, _TYPES, "metric_type", em)
    alt = _codes(alternative, _ALTERNATIVES, "alternative", em)
    margin_a = _per_metric(margin, "margin", em, float)
    if ((alt == 0) & (margin_a != 0)).any():
        raise ValueError("`margin` must be 0 for two-sided tests (it shifts a one-sided null).")
    min_eff = _per_metric(min_effect, "min_effect", em, float)
    hib = _per_metric(higher_is_better, "higher_is_better", em, bool)
    guard = _per_metric(guardrail, "guardrail", em, bool)

    cov_names = ("cov_sum", "cov_sum_sq", "cross_sum")
    has_cov = [k in stats for k in cov_names]
    if any(has_cov) and not all(has_cov):
        raise ValueError("CUPED needs all of `cov_sum`, `cov_sum_sq` and `cross_sum`.")
    den_names = ("den_sum", "den_sum_sq", "num_den_sum")
    is_ratio = mtype == 2
    if is_ratio.any():
        missing = [k for k in (*den_names, "sum_sq") if k not in stats]
        if missing:
            raise ValueError(f"ratio metrics need {', '.join('`' + k + '`' for k in missing)}.")
    if ((mtype == 0) & ("sum_sq" not in stats)).any():
        raise ValueError("mean metrics need `sum_sq`.")
    zeros = np.zeros(full)
    for k in ("sum_sq", *cov_names, *den_names):
        if k not in stats:
            # Placeholders the kernel never reads for these rows: binomial
            # rows use sum (0/1 data: sum_sq == sum).
            stats[k] = stats["sum"] if k == "sum_sq" else zeros
    cuped = np.zeros(em, dtype=bool)
    if all(has_cov):
        has = ~np.isnan(stats["cov_sum"]).any(axis=2)
        if (has & is_ratio).any():
            e, m = np.argwhere(has & is_ratio)[0]
            raise ValueError(
                f"CUPED is not available for ratio metrics (experiment {e}, metric {m}): "
                "give NaN covariate sums for ratio metrics."
            )
        cuped = has
    # Which arguments each metric type reads: NaN elsewhere is allowed.
    used = {k: np.zeros(em, dtype=bool) for k in stats}
    for k in ("n", "sum"):
        used[k][:] = True
    used["sum_sq"] |= (mtype != 1) | cuped
    for k in cov_names:
        used[k] |= cuped
    for k in den_names:
        used[k] |= is_ratio

    # Problem code per (experiment, metric, arm); the first check that fails wins.
    problem = np.zeros(full, dtype=np.int8)
    culprit = np.full(full, -1, dtype=np.int8)
    names = list(stats)

    def flag(mask: np.ndarray, code: int, arg: str) -> None:
        hit = mask & (problem == 0)
        problem[hit] = code
        culprit[hit] = names.index(arg)

    nn, sv = stats["n"], stats["sum"]
    for k in names:
        flag(np.isnan(stats[k]) & used[k][..., None], _NAN, k)
    flag(nn < 0, _NEG_N, "n")
    flag(nn != np.floor(nn), _FRAC_N, "n")
    needs_var = (mtype != 1) | cuped
    flag((nn < 2) & needs_var[..., None], _SMALL_N, "n")
    flag(nn == 0, _ZERO_N, "n")
    binom = (mtype == 1)[..., None]
    flag(binom & (sv < 0), _NEG_S, "sum")
    flag(binom & (sv > nn), _S_GT_N, "sum")
    with np.errstate(divide="ignore", invalid="ignore"):
        centred = stats["sum_sq"] - sv * sv / nn
        # Rounding in the stored sums can make a zero variance slightly
        # negative; only a clear deficit is an error.
        flag(needs_var[..., None] & (centred < -1e-9 * np.abs(stats["sum_sq"])), _NEG_VAR, "sum_sq")
    flag(is_ratio[..., None] & (stats["den_sum"] == 0), _ZERO_DEN, "den_sum")

    if errors == "raise" and problem.any():
        e, m, a = np.unravel_index(int(np.flatnonzero(problem)[0]), full)
        arg = names[culprit[e, m, a]]
        raise ValueError(
            f"`{arg}`: {REASONS[problem[e, m, a]]} in experiment {e}, metric {m}, arm {a}."
        )
    reason = np.where(problem[..., :1] != 0, problem[..., :1], problem[..., 1:])

    if srm_weights is None:
        w = np.full(full, 1.0 / A)
    else:
        w = np.asarray(srm_weights, dtype=np.float64)
        if np.isnan(w).any() or (w <= 0).any():
            raise ValueError("`srm_weights` must be positive.")
        try:
            w = np.broadcast_to(w, full)
        except ValueError:
            raise ValueError(f"`srm_weights` of shape {w.shape} does not broadcast to {full}.") from None
        w = w / w.sum(axis=2, keepdims=True)

    labels = None
    if correction is not None:
        if isinstance(family, str):
            if family not in _FAMILIES:
                raise ValueError(f"`family` must be one of {list(_FAMILIES)} or integer labels; got {family!r}.")
        else:
            lab = np.asarray(family)
            if lab.dtype.kind not in "iu":
                raise TypeError("`family` labels must be integers.")
            try:
                labels = np.broadcast_to(lab, (E, M, A - 1)).reshape(-1)
            except ValueError:
                raise ValueError(
                    f"`family` of shape {lab.shape} does not broadcast to "
                    f"(experiments, metrics, treatments) = {(E, M, A - 1)}."
                ) from None
        if labels is None:
            e_i, m_i, t_i = np.indices((E, M, A - 1)).reshape(3, -1)
            if family == "experiment":
                labels = e_i
            elif family == "experiment-treatment":
                labels = e_i * (A - 1) + t_i
            elif family == "metric":
                labels = m_i
            else:
                labels = np.zeros(E * M * (A - 1), dtype=np.int64)

    return _Validated(
        shape=(E, M, A), stats=stats, mtype=mtype, cuped=cuped, alt=alt, margin=margin_a,
        relative_margin=bool(relative_margin), min_effect=min_eff,
        relative_min_effect=bool(relative_min_effect), hib=hib, guardrail=guard, alpha=float(alpha),
        labels=labels, srm_weights=np.ascontiguousarray(w), reason=reason,
        errors=errors,
    )


def _adjust(p: np.ndarray, iv: _Validated, correction: str | None) -> np.ndarray:
    """Adjust ``p`` within the families given by ``iv.labels``."""
    if correction is None or iv.labels is None:
        return p.copy()
    return _adjust_labels(p, iv.labels, correction)


def _adjust_labels(p: np.ndarray, labels: np.ndarray, correction: str) -> np.ndarray:
    """Adjust ``p`` within the families of equal integer ``labels`` (NaN left out)."""
    from fastinf.multitest import multipletests

    if labels.size > 1 and (np.diff(labels) >= 0).all():
        order = None
        sorted_p = p
        sorted_labels = labels
    else:
        order = np.argsort(labels, kind="stable")
        sorted_p = p[order]
        sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    offsets = np.r_[starts, sorted_labels.size].astype(np.int64)
    _, adj, _, _ = multipletests(Ragged(sorted_p, offsets), method=correction, nan_policy="omit")
    adj_values = np.asarray(adj.values if isinstance(adj, Ragged) else adj, dtype=np.float64)
    if order is None:
        return adj_values
    res = np.empty_like(adj_values)
    res[order] = adj_values
    return res

