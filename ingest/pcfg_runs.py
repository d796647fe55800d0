"""This project's own PCFG training runs (``meta pcfg grid``), the counterpart of ``gzip-pcfg``.

Each grid writes ``<runs>/<grid>/results.jsonl``, one JSON object per run (see
:mod:`ingest.pcfg.grid`), where ``<runs>`` is ``$META_PCFG_RUNS`` or ``runs/pcfg`` under the
repository: the runs are not upstream data, so they are not under the data root, and
``SOURCE.files`` is empty (the loader reads every ``*/results.jsonl`` of the runs folder).
The runs folder's ``MANIFEST.tsv`` (size and git blob SHA-1 of each results file) is kept by
``meta pcfg grid`` and checked by ``meta ingest`` like any data folder's.

Mapping:

- one family per (grid, grammar): ``pcfg-<grid>-<NT>_<T>_<opts>_<len>-s<grammar seed>``,
  ``model_type`` ``pcfg-<grid>`` (the run set of ``meta complexity fit``), ``scaled``;
- one model per run: ``pcfg-runs/<run>`` with ``<run>`` =
  ``<family>-L<layers>H<heads>C<width>-R<rows>-seed<seed>``; ``num_params`` counts every
  parameter (with this project's small embedding: V + 2 rows, not the paper's 32,001);
- one checkpoint per evaluation (``step`` = optimizer steps done, ``tokens`` = real tokens
  read by then) with ``valid_loss`` (held-out rows; ``perf``) and ``train_loss`` (mean over the
  steps since the previous evaluation), both kind ``loss`` in nats;
- the final checkpoint also carries the corpus's compressibility, ``gzip_median`` (H),
  ``gzip_std`` and ``gzip_mean``, and the run's ``num_params_non_embedding``,
  ``train_seconds`` and ``tokens_per_second`` (kind ``other``), as ``gzip-pcfg`` does.

Intermediate checkpoints are points of an unfinished schedule; the complexity analysis uses
final checkpoints only (those with ``gzip_median``).
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, frame
from ingest.pcfg.grid import RESULTS, default_runs_folder
from ingest.readers import read_jsonl
from warehouse.errors import BadRow, MissingInput

SOURCE = SourceInfo(
    name="pcfg-runs",
    citation="Runs of this project after Pandey 2024, gzip Predicts Data-dependent Scaling "
    "Laws (arXiv:2405.16684)",
    upstream="meta pcfg grid (runs/pcfg or $META_PCFG_RUNS)",
    license="MIT",
    files=(),
)

# Modules besides this one whose change reloads the source (ingest.run.fingerprint): the
# grid names the results file and the runs folder read here.
CODE_MODULES = ("ingest.pcfg.grid",)

FIELDS = ("run", "grid", "family", "grammar", "grammar_seed", "seed", "gzip_median",
          "gzip_std", "n_params", "n_params_non_embedding", "tokens", "eval_steps",
          "eval_tokens", "valid_loss", "train_loss")


def _number(value: object, field: str, name: str, line: int, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRow(name, line, f"{field} is not a number ({value!r})")
    if value < 0 or (positive and value == 0):
        raise BadRow(name, line, f"{field} is not {'positive' if positive else '>= 0'} "
                                 f"({value!r})")
    return float(value)


def _numbers(value: object, field: str, name: str, line: int, n: int | None,
             positive: bool) -> list[float]:
    if not isinstance(value, list) or not value:
        raise BadRow(name, line, f"{field} is not a non-empty list")
    if n is not None and len(value) != n:
        raise BadRow(name, line, f"{field} has {len(value)} values; eval_steps has {n}")
    return [_number(v, field, name, line, positive=positive) for v in value]


def _run(doc: object, name: str, line: int) -> tuple[dict, dict, list[dict]]:
    """One results line: its family, model and point rows."""
    if not isinstance(doc, dict):
        raise BadRow(name, line, "expected a JSON object")
    missing = [f for f in FIELDS if f not in doc]
    if missing:
        raise BadRow(name, line, f"missing field {missing[0]!r}")
    for field in ("run", "grid", "family"):
        if not isinstance(doc[field], str) or not doc[field]:
            raise BadRow(name, line, f"{field} is not a name ({doc[field]!r})")
    grammar = doc["grammar"]
    if not (isinstance(grammar, list) and len(grammar) == 4
            and all(isinstance(g, int) and g > 0 for g in grammar)):
        raise BadRow(name, line, f"grammar is not four positive integers ({grammar!r})")
    steps = _numbers(doc["eval_steps"], "eval_steps", name, line, None, positive=True)
    n = len(steps)
    tokens = _numbers(doc["eval_tokens"], "eval_tokens", name, line, n, positive=True)
    valid = _numbers(doc["valid_loss"], "valid_loss", name, line, n, positive=False)
    train = _numbers(doc["train_loss"], "train_loss", name, line, n, positive=False)
    if any(b <= a for a, b in zip(steps, steps[1:], strict=False)):
        raise BadRow(name, line, "eval_steps is not increasing")
    n_params = _number(doc["n_params"], "n_params", name, line)
    final = {
        "gzip_median": _number(doc["gzip_median"], "gzip_median", name, line),
        "gzip_std": _number(doc["gzip_std"], "gzip_std", name, line, positive=False),
        "num_params_non_embedding": _number(doc["n_params_non_embedding"],
                                            "n_params_non_embedding", name, line),
    }
    for key, metric in (("gzip_mean", "gzip_mean"), ("seconds", "train_seconds"),
                        ("tokens_per_second", "tokens_per_second")):
        if doc.get(key) is not None:
            final[metric] = _number(doc[key], key, name, line, positive=False)
    if _number(doc["tokens"], "tokens", name, line) != tokens[-1]:
        raise BadRow(name, line, f"tokens ({doc['tokens']}) differs from the last eval_tokens "
                                 f"({tokens[-1]:g})")
    model_id = f"pcfg-runs/{doc['run']}"
    shape = "_".join(map(str, grammar))
    data = f"PCFG {shape} (grammar seed {doc['grammar_seed']})"
    family = {"family": doc["family"], "grid": doc["grid"], "data": data}
    model = {"model_id": model_id, "family": doc["family"], "num_params": n_params,
             "seed": int(_number(doc["seed"], "seed", name, line, positive=False)),
             "epochs": 1.0, "data": data, "row": line}
    points = []
    for i in range(n):
        values = {"valid_loss": valid[i], "train_loss": train[i]}
        if i == n - 1:
            values.update(final)
        for metric, value in values.items():
            points.append({"model_id": model_id, "step": int(steps[i]), "tokens": tokens[i],
                           "metric": metric, "value": value,
                           "kind": "loss" if metric.endswith("_loss") else "other",
                           "row": line})
    return family, model, points


PATTERN = f"*/{RESULTS}"  # the results files, inside the runs folder


def inputs_root(data_root: Path | None = None) -> Path:
    """The runs folder (``$META_PCFG_RUNS``, else ``runs/pcfg``): the data folder of this
    source, whose ``MANIFEST.tsv`` (kept by ``meta pcfg grid``) lists the results files."""
    return default_runs_folder()


def inputs(data_root: Path | None = None, runs: Path | None = None) -> list[Path]:
    """The results files the source reads (for a content hash; they are not under the data
    root, so ``SOURCE.files`` cannot name them)."""
    folder = Path(runs) if runs is not None else inputs_root(data_root)
    return sorted(folder.glob(PATTERN))


def load(data_root: Path | None = None, runs: Path | None = None) -> SourceData:
    """Read every ``*/results.jsonl`` under the runs folder.

    Parameters
    ----------
    data_root : Path, optional
        Unused (the runs are not upstream data); accepted for the loader contract.
    runs : Path, optional
        The runs folder; default ``$META_PCFG_RUNS``, else ``runs/pcfg`` in the repository.
    """
    folder = Path(runs) if runs is not None else default_runs_folder()
    files = inputs(data_root, folder)
    if not files:
        raise MissingInput(f"No {RESULTS} under {folder}; run 'meta pcfg grid' first (or set "
                           f"META_PCFG_RUNS).")
    families: dict[str, dict] = {}
    models, points = [], []
    for path in files:
        name = f"{path.parent.name}/{path.name}"
        for line, doc in read_jsonl(path, name):
            family, model, rows = _run(doc, name, line)
            known = families.setdefault(family["family"], family)
            if known["data"] != family["data"]:
                raise BadRow(name, line, f"{family['family']} has two grammars")
            models.append({**model, "file": name})
            points.extend({**r, "file": name} for r in rows)
    fams = frame(
        [{"family": f["family"], "model_type": f"pcfg-{f['grid']}", "arch": "dec",
          "data": f["data"], "perf_metric": ["valid_loss"], "scaled": True,
          "original_paper": "gzip arxiv.org/abs/2405.16684 (rerun here)"}
         for f in sorted(families.values(), key=lambda f: f["family"])],
        FAMILY_SCHEMA,
    )
    models = pl.DataFrame(models)
    dup = models.filter(pl.col("model_id").is_duplicated())
    if dup.height:
        raise BadRow(dup["file"][0], int(dup["row"][-1]), f"run {dup['model_id'][0]} appears "
                                                          f"twice")
    points = pl.DataFrame(points).with_columns(shots=pl.lit(0, pl.Int64))
    return SourceData(families=fams, models=models, points=points, n_files=len(files))
