"""Loaders, one module per upstream source, and the registry that names them.

Each module holds ``SOURCE = SourceInfo(...)`` and ``load(data_root) -> SourceData``. Modules
are imported when used, so ``meta`` starts fast and one broken loader does not stop the others
from being listed.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from warehouse.errors import UnknownName

# name -> module; the order is the load order of `meta ingest` with no names.
LOADERS: dict[str, str] = {
    # The Hitchhiker's Guide dataset (IBM/ColPret), one loader per upstream family of files.
    "opt": "ingest.opt",
    "olmo": "ingest.olmo",
    "t5-pile": "ingest.t5_pile",
    "datablations": "ingest.datablations",
    "gpt3": "ingest.gpt3",
    "chinchilla": "ingest.chinchilla",
    "redpajama": "ingest.redpajama",
    "llm360": "ingest.llm360",
    "moduleformer": "ingest.moduleformer",
    "revisiting": "ingest.revisiting",
    "gzip-pcfg": "ingest.gzip_pcfg",
    "bimix": "ingest.bimix",
    # Upstream repositories the Hitchhiker dataset was built from, rebuilt from their raw files.
    "pythia": "ingest.pythia",
    "overtrain": "ingest.overtrain",
    # Observational Scaling Laws (ryoungj/ObsScaling).
    "obsscaling": "ingest.obsscaling",
    # Task scaling laws via model ladders (allenai/OLMo-ladder): runs, configs, published tables.
    "olmo-ladder": "ingest.olmo_ladder",
    # This project's own PCFG training runs (meta pcfg grid): runs/pcfg or $META_PCFG_RUNS.
    "pcfg-runs": "ingest.pcfg_runs",
}
# `meta ingest runs FILE...` loads a user's runs; no source may take that name.
assert "runs" not in LOADERS, "'runs' is the subcommand `meta ingest runs`, not a source name"


def get_loader(name: str) -> ModuleType:
    """The loader module registered as ``name``."""
    if name not in LOADERS:
        raise UnknownName("source", name, list(LOADERS))
    return importlib.import_module(LOADERS[name])
