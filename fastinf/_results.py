"""Result objects of the classical tests, with scipy's fields and tuple unpacking.

Each result is a frozen dataclass holding the fields of its scipy
counterpart (``statistic``, ``pvalue``, ...). scipy's results also unpack as
tuples over a subset of those fields (``t, p = ttest_ind(a, b)``); the
:class:`_TupleResult` base gives these the same ``__iter__``, ``__len__`` and
``__getitem__`` over the fields named in ``_tuple``. The t-test and Pearson
results keep what their ``confidence_interval`` method needs in private
fields, computed by :mod:`fastinf.ttests`.

Everything here is re-exported by :mod:`fastinf.stats`, the public namespace.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.stats
from scipy import special

from fastinf._samples import scalar

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
]

ConfidenceInterval = namedtuple("ConfidenceInterval", ["low", "high"])


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
        return ConfidenceInterval(low=scalar(low), high=scalar(high))


@dataclass(frozen=True)
class TtestIndResult(_TupleResult):
    """Result of :func:`~fastinf.ttests.ttest_ind_from_stats` (scipy's ``Ttest_indResult``).

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
    """Result of :func:`~fastinf.tables.chisquare` (scipy's ``Power_divergenceResult``).

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
    """Result of :func:`~fastinf.ttests.f_oneway` (scipy's ``F_onewayResult``).

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
    """Result of :func:`~fastinf.tables.fisher_exact` and :func:`~fastinf.ranks.spearmanr`.

    scipy's ``SignificanceResult``.

    Attributes
    ----------
    statistic : float or ndarray
        The sample odds ratio (Fisher), or Spearman's rho.
    pvalue : float or ndarray
        The p-value.
    """

    statistic: Any
    pvalue: Any
    _tuple = ("statistic", "pvalue")

    @property
    def correlation(self) -> Any:
        """Spearman's rho: scipy's older name for ``statistic``."""
        return self.statistic


@dataclass(frozen=True)
class Chi2ContingencyResult(_TupleResult):
    """Result of :func:`~fastinf.tables.chi2_contingency`.

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
    """Result of :func:`~fastinf.ttests.pearsonr` (scipy's ``PearsonRResult``).

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
        return ConfidenceInterval(low=scalar(low), high=scalar(high))


@dataclass(frozen=True)
class MannwhitneyuResult(_TupleResult):
    """Result of :func:`~fastinf.ranks.mannwhitneyu` (unpacks as ``(statistic, pvalue)``).

    Attributes
    ----------
    statistic : float or ndarray
        The U statistic of the first sample, ``U_1``.
    pvalue : float or ndarray
        The p-value for the chosen alternative.
    """

    statistic: Any
    pvalue: Any
    _tuple = ("statistic", "pvalue")


@dataclass(frozen=True)
class KstestResult(_TupleResult):
    """Result of :func:`~fastinf.ranks.ks_2samp` (unpacks as ``(statistic, pvalue)``, as scipy's).

    Attributes
    ----------
    statistic : float or ndarray
        The KS statistic ``D``.
    pvalue : float or ndarray
        The p-value.
    statistic_location : float or ndarray
        The observed value at which ``D`` is attained.
    statistic_sign : int8 or ndarray
        +1 if ``D`` is ``max(F_1 - F_2)``, -1 if it is ``max(F_2 - F_1)``
        (float, with NaN for NaN results, in a batch, as scipy).
    """

    statistic: Any
    pvalue: Any
    statistic_location: Any
    statistic_sign: Any
    _tuple = ("statistic", "pvalue")
