"""No import cycle among the project's modules, package ``__init__`` modules included.

``lint-imports`` checks the layers and, with ``acyclic_siblings``, cycles among the modules of
one package; a module importing from its own package's ``__init__`` while that ``__init__``
imports it (what the law estimators once did, behind deferred imports) is a cycle only a
module-level graph shows. Deferred imports count: they are edges all the same.
"""

from __future__ import annotations

from graphlib import CycleError, TopologicalSorter

import grimp
import pytest

PACKAGES = ("meta", "analyses", "ingest", "warehouse")


def test_no_import_cycles():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    deps = {m: graph.find_modules_directly_imported_by(m) & graph.modules for m in graph.modules}
    try:
        TopologicalSorter(deps).prepare()
    except CycleError as e:
        pytest.fail("import cycle (each imports the next): " + " -> ".join(reversed(e.args[1])))
