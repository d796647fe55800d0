"""No import cycle among the project's modules, package ``__init__`` modules included.

``lint-imports`` checks the layers and, with ``acyclic_siblings``, cycles among the modules of
one package; a module importing from its own package's ``__init__`` while that ``__init__``
imports it (what the law estimators once did, behind deferred imports) is a cycle only a
module-level graph shows. ``from package import compiled_submodule`` (the L-BFGS kernel) names
a submodule, not the package, and is not an edge to the package.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from graphlib import CycleError, TopologicalSorter

import grimp
import pytest

PACKAGES = ("meta", "analyses", "ingest", "warehouse")


def _compiled(module: str) -> bool:
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:  # a name inside a module, not a submodule
        return False
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    return spec is not None and spec.origin is not None and spec.origin.endswith(suffixes)


def _imports_compiled_submodule(graph, importer: str, imported: str) -> bool:
    """Every import of ``imported`` by ``importer`` is ``from imported import <extension>``."""
    details = graph.get_import_details(importer=importer, imported=imported)
    return bool(details) and all(
        d["line_contents"].startswith(f"from {imported} import ")
        and all(_compiled(f"{imported}.{name.strip()}")
                for name in d["line_contents"].split(" import ", 1)[1].split(","))
        for d in details)


def test_no_import_cycles():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    deps = {m: {i for i in graph.find_modules_directly_imported_by(m)
                if i in graph.modules and not _imports_compiled_submodule(graph, m, i)}
            for m in graph.modules}
    try:
        TopologicalSorter(deps).prepare()
    except CycleError as e:
        pytest.fail("import cycle (each imports the next): " + " -> ".join(reversed(e.args[1])))
