"""The examples in the docstrings of ``analyses.laws`` run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["analyses.laws", "analyses.laws.forms", "analyses.laws.batch", "analyses.laws.grids",
           "analyses.laws.lbfgs", "analyses.laws.huber", "analyses.laws.bootstrap",
           "analyses.laws.result", "analyses.laws.identify", "analyses.api",
           "warehouse.identity"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    extra = {"LawBatch": importlib.import_module("analyses.laws").LawBatch}
    result = doctest.testmod(module, extraglobs=extra, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
