"""Classical hypothesis tests, a drop-in for :mod:`scipy.stats`, batched.

``from fastinf import stats`` (or ``import fastinf.stats as stats``) gives
the tests under scipy's names; each takes scipy's (or statsmodels')
arguments and returns scipy's values, to about 1e-12 relative, with scipy's
result fields. What fastinf adds is the batch: every experiment (every
position along the axes other than `axis`, every row of a
:class:`fastinf.Ragged`, every table of a stack) is reduced in one parallel
Numba pass, and the p-values come from ``scipy.special`` ufuncs applied to
the whole arrays at once.

This module only gathers the names; the code lives by idea:

* :mod:`fastinf.ttests` (kernels in :mod:`fastinf.kernels.ttests`): tests
  from per-experiment moments: :func:`~fastinf.ttests.ttest_ind`,
  :func:`~fastinf.ttests.ttest_1samp`, :func:`~fastinf.ttests.ttest_rel`,
  :func:`~fastinf.ttests.ttest_ind_from_stats`,
  :func:`~fastinf.ttests.f_oneway`, :func:`~fastinf.ttests.pearsonr`;
* :mod:`fastinf.tables` (kernels in :mod:`fastinf.kernels.tables`): tests of
  counts: :func:`~fastinf.tables.chisquare`,
  :func:`~fastinf.tables.chi2_contingency`,
  :func:`~fastinf.tables.fisher_exact`,
  :func:`~fastinf.tables.proportions_ztest` (statsmodels');
* :mod:`fastinf.ranks`: rank and distribution tests:
  :func:`~fastinf.ranks.ks_2samp`, :func:`~fastinf.ranks.mannwhitneyu`,
  :func:`~fastinf.ranks.spearmanr`;
* :mod:`fastinf._results`: the result classes (``TtestResult``,
  ``PearsonRResult``, ...) and ``ConfidenceInterval``.

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

from fastinf._results import (
    Chi2ContingencyResult,
    ConfidenceInterval,
    FOnewayResult,
    KstestResult,
    MannwhitneyuResult,
    PearsonRResult,
    PowerDivergenceResult,
    SignificanceResult,
    TtestIndResult,
    TtestResult,
)
from fastinf.ranks import ks_2samp, mannwhitneyu, spearmanr
from fastinf.tables import chi2_contingency, chisquare, fisher_exact, proportions_ztest
from fastinf.ttests import (
    f_oneway,
    pearsonr,
    ttest_1samp,
    ttest_ind,
    ttest_ind_from_stats,
    ttest_rel,
)

__all__ = [
    "ConfidenceInterval",
    "TtestResult",
    "TtestIndResult",
    "PearsonRResult",
    "SignificanceResult",
    "PowerDivergenceResult",
    "FOnewayResult",
    "Chi2ContingencyResult",
    "KstestResult",
    "MannwhitneyuResult",
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
