"""The examples in the public docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES = ["fastinf._bootstrap", "fastinf.ragged", "fastinf.rng", "fastinf.statistics",
           "fastinf.permutation", "fastinf.ttests", "fastinf.tables", "fastinf.ranks",
           "fastinf.drift", "fastinf.power", "fastinf.experiment", "fastinf.multitest",
           "fastinf.diagnostics", "fastinf.bayes", "fastinf.mixture",
           "fastinf.report", "fastinf.reanalyze", "fastinf._mixture_batch",
           "fastinf.mcmc", "fastinf.units", "fastinf._mcmc_targets"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
