"""Over-training testbed of Gadre et al. 2024 (mlfoundations/scaling ``exp_data/``).

104 open_lm models (6 shapes, 11M to 6.9B parameters) trained on C4, RedPajama or RefinedWeb
for D = N x 20 x M tokens, with the Chinchilla multiplier M in 0.25 ... 32. Upstream gives
**one checkpoint per model, the final one**:

- ``exp_data/models/<data>-<shape>-<M>.json``: 8 validation losses (nats/token), named as
  ``scaling.shared.parse_model_jsons`` names them: ``loss_openlm``, ``loss_c4_val``,
  ``loss_paloma_c4_en``, ``loss_paloma_falcon-refinedweb``, ``loss_paloma_redpajama``,
  ``loss_paloma_ptb``, ``loss_paloma_dolma_100_programing_languages`` and
  ``loss_val_de-en_100``; kind ``loss``, task = the validation set. ``stderr`` is derived
  from the sequence-level 95% interval upstream gives: (upper - lower) / (2 x 1.96).
- ``exp_data/evals/evaluation_<name>_heavy.json``: 46 LLM-Foundry downstream tasks stored as
  **accuracies** ``acc_<task>`` (kind ``acc``; shots from ``eval_metadata.csv``; task = the
  benchmark, ``hellaswag_zeroshot`` and ``mmlu_zeroshot`` folded into ``hellaswag`` and
  ``mmlu`` with shots 0). Upstream's ``err_<task>`` (``parse_model_jsons``) is 1 -
  accuracy, so the accuracies keep every per-task error. Three files also carry the centred
  aggregates (``rw_small_centered`` ...), kept as kind ``score``.
- ``exp_data/eval_metadata.csv``: each task's shots, and its ``Random baseline`` (percent)
  as the task's chance level (``task_chance``, / 100; 0 for free-form answers).

Decisions:

- ``num_params`` is the exact ``hyperparameters.params``: D = N x 20 x M holds exactly with it,
  so tokens and 6ND FLOPs agree with ``parse_model_jsons``. ColPret used the nominal size
  (0.011B ... 6.9B, up to 4% off for the 11M shape); it is kept as the model tag
  ``nominal-params=<size>`` (``nominal-params=0.411B``), as ColPret writes it, so that a
  reproduction of the Hitchhiker fits can use it.
- Families follow ColPret's ``scaled_set``: ``overtrain-<data>`` (scaled) holds, for each
  (data, shape), the run with the **largest multiplier**; every other run is in
  ``overtrain-<data>-rest`` (not scaled, so the Hitchhiker study and its macro averages see
  exactly the paper's families). ``family LIKE 'overtrain-C4%'`` (or ``data = 'C4'``) is the
  whole grid the over-training paper fits its laws on.
- ``perf_metric`` is ``loss_c4_val``, the paper's main loss, measured on the same C4
  validation set for all three corpora. ColPret's ``openLM_loss`` was the W&B **training**
  loss, which this repository does not contain; ``loss_openlm`` (the OpenLM validation
  shard) only shares its name.
- ``seed`` is the ``--seed`` of the training command (124 for all); ``epochs`` is 1, as in
  ColPret.

Cannot be rebuilt from these files: the per-step training-loss curves that ColPret's
``raw_data/overtrain/overtrain.csv`` held (downloaded from W&B project ``samir/dcnlp``, some
runs missing there), so the Hitchhiker overtrain families here have one point per model
instead of a curve. ``grid.json`` (hyperparameter search) was not copied.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import polars as pl

from ingest.base import (
    CHANCE_SCHEMA,
    FAMILY_SCHEMA,
    MODEL_SCHEMA,
    POINT_SCHEMA,
    SourceData,
    SourceInfo,
    conform,
    frame,
)
from ingest.readers import json_error, read_csv, relpath, require
from warehouse.errors import BadRow, MissingInput

SOURCE = SourceInfo(
    name="overtrain",
    citation="Gadre et al. 2024, Language models scale reliably with over-training and on "
    "downstream tasks (arXiv:2403.08540)",
    upstream="mlfoundations/scaling@a003c4913793ac2ae7ef87b28ecb562955d026d5",
    license="MIT",
    files=(
        "overtrain/exp_data/models/*.json",
        "overtrain/exp_data/evals/*.json",
        "overtrain/exp_data/eval_metadata.csv",
    ),
)

# scaling/constants.py DATASET_FRIENDLIES and MODEL_FRINDLIES (the sizes ColPret used, written
# as ColPret writes them: the ``nominal-params=`` tag of each model).
DATASETS = {"c4_original": "C4", "rpj": "RedPajama", "rw_original": "RefinedWeb"}
NOMINAL = {
    "d=96_l=8_h=4": "0.011B",
    "d=512_l=8_h=4": "0.079B",
    "d=576_l=24_h=8": "0.154B",
    "d=1024_l=24_h=8": "0.411B",
    "open_lm_1b": "1.4B",
    "open_lm_7b": "6.9B",
}
PERF_METRIC = ["loss_c4_val"]
HF_REPO = "https://huggingface.co/mlfoundations/scaling/blob/main/"
Z95 = 1.959963984540054


class _Json:
    """A parsed JSON file that can say on which line a key is written (for messages)."""

    def __init__(self, path: Path, data_root: Path):
        self.name = relpath(require(path), data_root)
        self.raw = path.read_bytes()
        try:
            self.doc = orjson.loads(self.raw)
        except orjson.JSONDecodeError as e:
            raise BadRow(self.name, e.lineno, json_error(e)) from None
        if not isinstance(self.doc, dict):
            raise BadRow(self.name, 1, "expected a JSON object")

    def line(self, key: str, nth: int = 0, *, is_key: bool = True) -> int:
        """Line of the ``nth`` ``"key":`` (or ``"key"`` if not ``is_key``); 1 if not found."""
        needle, at = orjson.dumps(key) + (b":" if is_key else b""), -1
        for _ in range(nth + 1):
            at = self.raw.find(needle, at + 1)
            if at < 0:
                return 1
        return self.raw.count(b"\n", 0, at) + 1

    def get(self, obj: dict, key: str, where: str) -> object:
        """``obj[key]``, or a BadRow naming the missing field."""
        if not isinstance(obj, dict) or key not in obj:
            raise BadRow(self.name, self.line(where), f"missing field {key!r}")
        return obj[key]

    def number(self, value: object, field: str, line: int) -> float:
        """``value`` as a float, or a BadRow if it is not a JSON number."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRow(self.name, line, f"{field} is not a number ({value!r})")
        return float(value)


def _loss_suffix(val_data: object, js: _Json, line: int) -> str:
    """Column suffix of one evaluation, as ``parse_model_json`` derives it from the path."""
    if not isinstance(val_data, list) or not val_data or not isinstance(val_data[0], str):
        raise BadRow(js.name, line, f"val_data is not a list of paths ({val_data!r})")
    parts = val_data[0].split("/")
    if len(parts) < 2:
        raise BadRow(js.name, line, f"val_data is not a path ({val_data[0]!r})")
    suffix = parts[-2]
    if "de-en" in suffix:
        suffix = parts[-1].split(".")[0]
    return suffix


def _read_model(js: _Json) -> tuple[dict, list[dict]]:
    """One model JSON: its model row and its loss points (without tokens)."""
    doc, name = js.doc, js.name
    model_name = js.get(doc, "name", "name")
    if f"{model_name}.json" != Path(name).name:
        raise BadRow(name, js.line("name"), f"name {model_name!r} does not match the file name")
    hp = js.get(doc, "hyperparameters", "name")
    dataset = js.get(doc, "dataset_name", "name")
    if dataset not in DATASETS:
        raise BadRow(
            name, js.line("dataset_name"),
            f"unknown dataset_name {dataset!r}; known: {', '.join(DATASETS)}",
        )
    shape = str(js.get(hp, "model", "hyperparameters")).split("/")[-1].split(".")[0]
    if shape not in NOMINAL:
        raise BadRow(
            name, js.line("model"), f"unknown model shape {shape!r}; known: {', '.join(NOMINAL)}"
        )
    args = doc.get("open_lm_args") or []
    seed = hp.get("seed")
    if seed is None and "--seed" in args[:-1]:
        seed = args[args.index("--seed") + 1]
    if seed is not None and not str(seed).isdigit():
        raise BadRow(name, js.line("--seed", is_key=False), f"seed is not an integer ({seed!r})")
    model = {
        "model_id": f"overtrain/{model_name}",
        "num_params": js.number(js.get(hp, "params", "hyperparameters"), "params",
                                js.line("params")),
        "tokens": js.number(js.get(hp, "tokens", "hyperparameters"), "tokens", js.line("tokens")),
        "mult": js.number(
            js.get(hp, "chinchilla_multiplier", "hyperparameters"), "chinchilla_multiplier",
            js.line("chinchilla_multiplier"),
        ),
        "tags": [f"nominal-params={NOMINAL[shape]}"],
        "shape": shape,
        "data": DATASETS[dataset],
        "seed": int(seed) if seed is not None else None,
        "revision": HF_REPO + str(doc.get("checkpoint_url", f"{model_name}/checkpoints")),
        "file": name,
        "row": js.line("params"),
    }
    results = js.get(doc, "results", "name")
    if not isinstance(results, list) or not results:
        raise BadRow(name, js.line("results"), "results is not a non-empty list")
    points = []
    for i, result in enumerate(results):
        line = js.line("loss", i)
        suffix = _loss_suffix(js.get(result, "val_data", "results"), js, js.line("val_data", i))
        loss = js.number(js.get(result, "loss", "results"), f"loss_{suffix}", line)
        lo, hi = result.get("loss_sequences_lower_95"), result.get("loss_sequences_upper_95")
        stderr = None
        if lo is not None and hi is not None:
            lo = js.number(lo, "loss_sequences_lower_95", js.line("loss_sequences_lower_95", i))
            hi = js.number(hi, "loss_sequences_upper_95", js.line("loss_sequences_upper_95", i))
            stderr = (hi - lo) / (2 * Z95)
        points.append({
            "metric": f"loss_{suffix}", "value": loss, "kind": "loss", "task": suffix,
            "shots": 0, "stderr": stderr, "file": name, "row": line,
        })
    return model, points


def _read_eval(js: _Json, shots: dict[str, int]) -> list[dict]:
    """One downstream-evaluation JSON: accuracy points (without model or tokens)."""
    metrics = js.get(js.doc, "eval_metrics", "name")
    icl = js.get(metrics, "icl", "eval_metrics")
    if not isinstance(icl, dict):
        raise BadRow(js.name, js.line("icl"), "eval_metrics.icl is not an object")
    points = []
    for task, value in icl.items():
        line = js.line(task)
        if task not in shots:
            raise BadRow(js.name, line, f"task {task!r} is not in {SOURCE.files[2]}")
        points.append({
            "metric": f"acc_{task}", "value": js.number(value, task, line), "kind": "acc",
            "task": task.removesuffix("_zeroshot"), "shots": shots[task],
            "file": js.name, "row": line,
        })
    for key, value in js.doc.items():
        if key.endswith("_centered"):
            line = js.line(key)
            points.append({  # centred on chance: at most 1, below 0 under chance
                "metric": key, "value": js.number(value, key, line), "kind": "score",
                "hi": 1.0, "file": js.name, "row": line,
            })
    return points


def _families(models: pl.DataFrame) -> pl.DataFrame:
    """``overtrain-<data>`` (largest multiplier per shape, scaled) and ``-rest`` per corpus."""
    rows = []
    for data in DATASETS.values():
        for suffix, scaled in (("", True), ("-rest", False)):
            rows.append({
                "family": f"overtrain-{data}{suffix}", "model_type": "overtrain", "arch": "dec",
                "data": data, "perf_metric": PERF_METRIC, "scaled": scaled,
                "original_paper": "overtrain",
            })
    families = frame(rows, FAMILY_SCHEMA)
    return families.filter(pl.col("family").is_in(models["family"].unique().implode()))


def load(data_root: Path) -> SourceData:
    """Read the 104 model JSONs, their evaluation JSONs and the task metadata."""
    root = data_root / "overtrain" / "exp_data"
    meta = read_csv(
        root / "eval_metadata.csv", data_root=data_root, integer=("#shots",),
        numeric=("Random baseline",), required=("Eval Task", "#shots", "Random baseline"),
    )
    shots = dict(zip(meta["Eval Task"], meta["#shots"], strict=True))
    model_files = sorted(require(root / "models").glob("*.json"))
    if not model_files:
        raise MissingInput(f"No model JSON under {root / 'models'}.")
    eval_dir = require(root / "evals")
    expected = {f"evaluation_{p.stem}_heavy.json" for p in model_files}
    for path in sorted(eval_dir.glob("*.json")):
        if path.name not in expected:
            raise BadRow(relpath(path, data_root), None, "no model JSON has this name")

    models, points = [], []
    for path in model_files:
        model, model_points = _read_model(_Json(path, data_root))
        eval_path = eval_dir / f"evaluation_{path.stem}_heavy.json"
        if not eval_path.exists():
            raise MissingInput(f"{relpath(eval_path, data_root)} not found (for {path.name}).")
        model_points += _read_eval(_Json(eval_path, data_root), shots)
        for p in model_points:
            p.update(model_id=model["model_id"], tokens=model["tokens"],
                     revision=model["revision"])
        models.append(model)
        points += model_points

    models = pl.DataFrame(models, schema_overrides={"seed": pl.Int64})
    largest = pl.col("mult") == pl.col("mult").max().over("data", "shape")
    models = models.with_columns(
        family=pl.format("overtrain-{}", "data")
        + pl.when(largest).then(pl.lit("")).otherwise(pl.lit("-rest")),
        epochs=pl.lit(1.0),
    )
    return SourceData(
        families=_families(models),
        models=conform(models, MODEL_SCHEMA),
        points=pl.DataFrame(points, schema=POINT_SCHEMA),
        n_files=len(model_files) * 2 + 1,
        chance=_chance(meta),
    )


def _chance(meta: pl.DataFrame) -> pl.DataFrame:
    """Each task's chance level from ``eval_metadata.csv`` (``Random baseline`` / 100), named
    as the points name the task (``mmlu_zeroshot`` and ``mmlu`` are one task, at one level)."""
    rows = meta.select(
        task=pl.col("Eval Task").str.strip_suffix("_zeroshot"),
        chance=pl.col("Random baseline") / 100,
        origin=pl.lit(f"{SOURCE.files[2]}: Random baseline / 100"),
        file=pl.lit(SOURCE.files[2]),
        row="row",
    )
    return conform(rows.unique("task", keep="first", maintain_order=True), CHANCE_SCHEMA)
