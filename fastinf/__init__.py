"""fastinf: compiled statistical inference, drop-in for scipy.stats and statsmodels.

Modules: :mod:`fastinf.stats` (hypothesis tests), :mod:`fastinf.multitest`
(multiple-testing corrections), :mod:`fastinf.power` (power and sample size),
:mod:`fastinf.drift` (PSI and KS drift), :mod:`fastinf.experiment` (many A/B
experiments from sufficient statistics), :mod:`fastinf.mixture` (Gaussian
mixtures by EM), :mod:`fastinf.mcmc` (batched Metropolis-Hastings),
:mod:`fastinf.diagnostics` (R-hat and ESS), :mod:`fastinf.bayes` (Bayesian
A/B answers), :mod:`fastinf.reanalyze` and :mod:`fastinf.report` (bulk
re-analysis of archives); ``bootstrap`` and ``permutation_test`` at the top
level.

Public names are loaded lazily (PEP 562) so that ``import fastinf`` imports
neither Numba nor SciPy and compiles nothing; a kernel compiles (or loads from
the on-disk cache) on its first call.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "bootstrap": "fastinf._bootstrap",
    "BootstrapResult": "fastinf._bootstrap",
    "DegenerateDataWarning": "fastinf._bootstrap",
    "SmallSampleWarning": "fastinf.ragged",
    "poisson_partial_sums": "fastinf._bootstrap",
    "permutation_test": "fastinf.permutation",
    "PermutationTestResult": "fastinf.permutation",
    "Ragged": "fastinf.ragged",
    "statistics": "fastinf.statistics",
    "stats": "fastinf.stats",
    "multitest": "fastinf.multitest",
    "power": "fastinf.power",
    "drift": "fastinf.drift",
    "ranks": "fastinf.ranks",
    "experiment": "fastinf.experiment",
    "mixture": "fastinf.mixture",
    "mcmc": "fastinf.mcmc",
    "diagnostics": "fastinf.diagnostics",
    "bayes": "fastinf.bayes",
    "reanalyze": "fastinf.reanalyze",
    "report": "fastinf.report",
    "rng": "fastinf.rng",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fastinf' has no attribute {name!r}")
    mod = importlib.import_module(module)
    value = mod if module.endswith("." + name) else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))
