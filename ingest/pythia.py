"""Pythia evaluations over training (EleutherAI/pythia ``evals/``), with OPT and BLOOM finals.

The source of ColPret's ``aggregated_eval/pythia.csv``, rebuilt from the 1,823 lm-eval-harness
JSONs at the commit ColPret pins (see ``pythia/SOURCE.md``). One model is one trained network;
its 0-shot and 5-shot evaluations are the same checkpoints, told apart by ``shots`` on the
metric. Every ``results[task][measure]`` becomes the metric ``"<task> <measure>"`` (ColPret's
column name) with its ``<measure>_stderr`` as ``stderr``; WinoBias prompts become
``"<task>-<prompt_with_underscores> em"``.

Families (the Hitchhiker ``scaled_set`` names, without ColPret's separate 5-shot sets):
``pythia``, ``pythia-deduped`` (v1), ``pythia-v0``, ``pythia-deduped-v0``,
``pythia-intervention-deduped[-v0]``, ``pythia-long-intervention-deduped[-v0]``,
``pythia-baseline-deduped[-v0]``, the batch-size ablations ``pythia-<b>MtokBS`` (which ColPret
drops; evaluated 5-shot only, so not scaled: no 0-shot loss), and ``opt-final`` / ``bloom``
(final checkpoints only; the Hitchhiker names are ``opt``/``bloom``, but ``opt`` would differ
from the ``opt`` source's ``OPT`` only by case).

Quirks handled (each affected model says so in ``models.flag``):

- Tokens are step x the run's batch: 2,097,152 tokens per step, except the v0 160m, 410m and
  1.4b runs (and the v0-era 350M/1.3B bias-study runs), trained with 4,194,304 for 71,500
  steps (ColPret uses 2,097,152 for all), and the batch-size runs (0.25M/0.5M/1M x 2**20).
  Where a NeoX config gives ``train_iters``, train_iters x batch must be the 299.9B tokens of a
  Pythia run, which checks the batch from the data itself. OPT is fixed at 300B tokens and
  BLOOM at 341B, as ColPret does; they have no step.
- Step 0 (random init, tokens 0) is kept as a checkpoint; ColPret drops it. A fit that must
  exclude it cuts on tokens, as the Hitchhiker protocol does (tokens > 1e10).
- ``shots`` is the config's ``num_fewshot``, not the folder or file name: the v0 "five-shot"
  files of 160m/410m/1.4b are 0-shot, and so are four v1 ``1b-bf16-5shot_step*`` files.
  Files that then describe the same (model, step, shots) are resolved per file, keeping the
  one whose folder agrees with its config, then the latest timestamp in the file name, then the
  last path: the 90 v0 five-shot-folder files (whose tasks are a subset of the zero-shot files')
  and the three v0 70m repeats (identical but for the timestamp) are dropped.
- Names: the bias-evals files use old v0 sizes (19m, 350m, 1.3b, 6.7b); models take the renamed
  sizes (70m, 410m, 1.4b, 6.9b) and their nominal ``num_params``. The v0-era bias-study runs
  get ``-v0`` names and families of their own, so they no longer collide with v1
  (``pythia-6.9b-deduped``); the ``-long`` intervention runs are ``pythia-long-intervention-*``,
  apart from the short ones. The v1 ``pythia-1b-bf16`` folder is the official v1 ``pythia-1b``.
- Baselines: ``pythia-baseline-*`` are the standard deduped networks evaluated again for the
  gender-bias study (the bias-evals lambada/crows_pairs files and the non-intervention WinoBias
  series). WinoBias ``intervene_{7,21}`` series belong to the intervention runs (ColPret gives
  them the baseline's name). Deduplication of the WinoBias runs is read from the checkpoint
  path (``load``); two v0 configs list the non-deduped Pile as their data (flagged).
- WinoBias steps come from ``model_args.iteration``; the v1 intervention WinoBias files have no
  ``config`` (their shots are taken as 0, like every other WinoBias file).
- Revisions: a file names a Hugging Face ``<repo>@<revision>`` (or, for OPT and BLOOM, the
  repository), a NeoX checkpoint path ``<load>/global_step<N>``, or nothing. The files of one
  checkpoint can disagree (139 checkpoints: a bias-evals file with a NeoX path or none beside a
  v1 file with the HF revision), so every point of a checkpoint gets one revision: the Hugging
  Face one if any of its files names one, else a NeoX path, else none; among equals, that of
  the file first in path order (``_one_revision``).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from ingest.base import (
    CHANCE_SCHEMA,
    FAMILY_SCHEMA,
    MODEL_SCHEMA,
    POINT_SCHEMA,
    SourceData,
    SourceInfo,
    conform,
)
from ingest.normalize import check_values
from ingest.parse import metric_kind
from ingest.pythia_files import (
    DATA,
    RUN_TOKENS,
    as_number,
    layout_of,
    model_of,
    nominal_params,
    read_eval,
    revision_of,
)
from ingest.readers import relpath, require
from warehouse.errors import BadRow

SOURCE = SourceInfo(
    name="pythia",
    citation="Biderman et al. 2023, Pythia: A Suite for Analyzing Large Language Models Across "
    "Training and Scaling (arXiv:2304.01373); OPT and BLOOM evaluated by EleutherAI",
    upstream="EleutherAI/pythia@0931c9a502242d3abf1db54c8a62954f957e3cfc",
    license="Apache-2.0",
    files=("pythia/evals/**/*.json",),
)

# Modules besides this one whose change reloads the source (ingest.run.fingerprint).
CODE_MODULES = ("ingest.pythia_files",)

EVALS = "pythia/evals"
# Chance accuracy of the lm-eval tasks scored by accuracy: 1 / the answer choices of the
# harness's task definition (ARC, MMLU, LogiQA, SciQ: 4; PIQA, WinoGrande, SuperGLUE WSC and
# BLiMP's minimal pairs: 2); LAMBADA's accuracy is a free-form last word, 0. Exact names
# first, then prefixes (hendrycksTest-<subject>, blimp_<phenomenon>).
CHANCE = {"arc_challenge": 0.25, "arc_easy": 0.25, "logiqa": 0.25, "sciq": 0.25,
          "piqa": 0.5, "winogrande": 0.5, "wsc": 0.5, "lambada_openai": 0.0}
CHANCE_PREFIXES = {"hendrycksTest-": 0.25, "blimp_": 0.5}
FINAL_TOKENS = {"opt-final": 300e9, "bloom": 341e9}  # ColPret's fixed values
# ColPret's tokens per epoch (BLOOM's is not given: its epochs stay null).
TOKENS_PER_EPOCH = {"pile": 334e9, "pile-deduped": 207e9, DATA["opt"]: 180e9}
PERF_CANDIDATES = ("lambada_openai ppl", "wikitext word_perplexity")
# CrowS-Pairs measures (kind other): the share of stereotyped choices and the mean absolute
# log-likelihood difference.
SCALES = {"pct_stereotype": (0.0, 1.0), "likelihood_difference": (0.0, None)}


def load(data_root: Path) -> SourceData:
    """Read every evaluation JSON into families, models and long metric points.

    Parameters
    ----------
    data_root : Path
        The shared data folder holding ``pythia/evals/``.

    Returns
    -------
    SourceData
        One row per family and per trained network; one point per (file, metric) kept.

    Raises
    ------
    BadRow
        A file that is not valid JSON, lies outside the known layouts, lacks ``results``, has a
        non-numeric value, or whose step or training length disagree with its config.
    """
    root = require(data_root / EVALS)
    paths = sorted(root.rglob("*.json"))
    keys = ("file", "model_id", "step", "shots", "series", "pref", "misnamed", "ts", "revision")
    files: dict[str, list] = {k: [] for k in keys}
    models: dict[str, dict] = {}
    cols: dict[str, list] = {k: [] for k in ("fid", "metric", "task", "measure", "value", "stderr")}
    for fid, path in enumerate(paths):
        name = relpath(path, data_root)
        rel = path.relative_to(root).as_posix()
        layout, g = layout_of(rel, name)
        doc, model_args, shots = read_eval(path, name, data_root)
        iteration = model_args.get("iteration") if isinstance(model_args, dict) else None
        step = int(g["step"]) if g.get("step") else iteration
        if iteration is not None and step != iteration:
            raise BadRow(name, None, f"step {step} in the name, {iteration} in model_args")
        if isinstance(model_args, str) and "revision=step" in model_args:
            rev = int(re.search(r"revision=step(\d+)", model_args).group(1))
            if rev != step:
                raise BadRow(name, None, f"step {step} in the name but revision step{rev}")
        if step is None and layout not in ("opt", "bloom"):
            raise BadRow(name, None, "no step in the name and no model_args.iteration")
        info = model_of(layout, g)
        if layout.endswith("winobias") and isinstance(model_args, dict):
            load, data = str(model_args.get("load")), str(model_args.get("train_data_paths"))
            if "dedup" in load and "deduped" not in data:
                info["flags"].append("WinoBias configs list the non-deduped Pile as data but load "
                                     "the deduped checkpoints; kept as deduped")
        train_iters = model_args.get("train_iters") if isinstance(model_args, dict) else None
        if train_iters is not None and train_iters * info["batch"] != RUN_TOKENS:
            raise BadRow(name, None, f"train_iters {train_iters} x {info['batch']} tokens per step "
                         "is not the 299.9B tokens of a Pythia run")
        model_id = f"pythia/{info['name']}"
        entry = models.setdefault(model_id, {**info, "flags": []})
        entry["flags"] += [f for f in info["flags"] if f not in entry["flags"]]

        folder = g.get("dir")
        files["file"].append(name)
        files["model_id"].append(model_id)
        files["step"].append(step)
        files["shots"].append(shots)
        files["series"].append("winobias" if layout.endswith("winobias") else "bench")
        files["pref"].append(int(folder is not None and shots != (0 if folder == "zero" else 5)))
        named = re.search(r"-([05])shot", path.name)
        files["misnamed"].append(named is not None and int(named.group(1)) != shots)
        ts = g.get("ts")
        files["ts"].append(ts[6:10] + ts[:2] + ts[3:5] + ts[10:] if ts else "")  # sortable
        files["revision"].append(revision_of(model_args, step))

        if layout.endswith("winobias"):
            table = doc.get("table_results")
            if not isinstance(table, dict):
                raise BadRow(name, None, "no 'table_results' object")
            for key, r in table.items():
                task = r.get("task_name") if isinstance(r, dict) else None
                if task is None or "em" not in r:
                    raise BadRow(name, None, f"table_results[{key!r}] lacks task_name or em")
                prompt = str(r.get("prompt_name", "")).replace(" ", "_")
                cols["fid"].append(fid)
                cols["metric"].append(f"{task}-{prompt} em")
                cols["task"].append(task)
                cols["measure"].append("em")
                cols["value"].append(as_number(r["em"], name, f"{key} em"))
                cols["stderr"].append(as_number(r.get("em_stderr"), name, f"{key} em_stderr"))
            continue
        results = doc.get("results")
        if not isinstance(results, dict):
            raise BadRow(name, None, "no 'results' object")
        for task, measures in results.items():
            if not isinstance(measures, dict):
                raise BadRow(name, None, f"results[{task!r}] is not an object")
            for measure, value in measures.items():
                if measure.endswith("_stderr"):
                    continue
                cols["fid"].append(fid)
                cols["metric"].append(f"{task} {measure}")
                cols["task"].append(task)
                cols["measure"].append(measure)
                cols["value"].append(as_number(value, name, f"{task} {measure}"))
                cols["stderr"].append(
                    as_number(measures.get(f"{measure}_stderr"), name, f"{task} {measure}_stderr")
                )

    file_frame = pl.DataFrame(files, schema_overrides={"step": pl.Int64, "shots": pl.Int64})
    file_frame = file_frame.with_row_index("fid").with_columns(pl.col("fid").cast(pl.Int64))
    kept = file_frame.sort(["pref", "ts", "file"], descending=[False, True, True]).unique(
        ["model_id", "step", "shots", "series"], keep="first", maintain_order=True
    )
    _flag_dropped(file_frame, kept, models)
    _check_dropped(cols, file_frame, kept)
    kept = _one_revision(kept)

    meta = pl.DataFrame(
        {
            "model_id": list(models),
            "num_params": [nominal_params(m["size"]) for m in models.values()],
            "batch": [m["batch"] for m in models.values()],
            "final": [FINAL_TOKENS.get(m["family"]) for m in models.values()],
        },
        schema_overrides={"batch": pl.Float64, "final": pl.Float64},
    )
    points = (
        pl.DataFrame(cols, schema_overrides={"fid": pl.Int64, "value": pl.Float64,
                                             "stderr": pl.Float64})
        .join(kept.select("fid", "file", "model_id", "step", "shots", "revision"), on="fid")
        .join(meta, on="model_id")
        .with_columns(
            tokens=pl.coalesce(pl.col("step") * pl.col("batch"), "final"),
            kind=pl.col("measure").replace_strict(
                {m: metric_kind(m) for m in set(cols["measure"])}, return_dtype=pl.String
            ),
            **_scales(),
        )
        .sort("fid", maintain_order=True)
    )
    return SourceData(
        families=_families(points, models),
        models=_models(points, models, meta, kept),
        points=conform(points, POINT_SCHEMA),
        n_files=len(paths),
        chance=chance_levels(points),
    )


def chance_levels(points: pl.DataFrame) -> pl.DataFrame:
    """The chance level (:data:`CHANCE`) of every task scored by accuracy in ``points``;
    tasks without a known level get no row.

    Examples
    --------
    >>> chance_levels(pl.DataFrame({"task": ["piqa", "blimp_passive_1", "x"],
    ...                             "kind": ["acc"] * 3}))["chance"].to_list()
    [0.5, 0.5]
    """
    rows = []
    for task in sorted(set(points.filter(pl.col("kind") == "acc")["task"].drop_nulls())):
        level = CHANCE.get(task)
        if level is None:
            level = next((v for p, v in CHANCE_PREFIXES.items() if task.startswith(p)), None)
        if level is not None:
            rows.append({"task": task, "chance": level,
                         "origin": "lm-eval task definition: 1 / answer choices"})
    return conform(pl.DataFrame(rows, schema={"task": pl.String, "chance": pl.Float64,
                                              "origin": pl.String}), CHANCE_SCHEMA)


def _one_revision(files: pl.DataFrame) -> pl.DataFrame:
    """Give all files of a checkpoint (model, step) one revision: Hugging Face before a NeoX
    path (which starts with '/') before none, then the first file in path order."""
    rank = (
        pl.when(pl.col("revision").is_null()).then(pl.lit(2, pl.Int8))
        .when(pl.col("revision").str.starts_with("/")).then(pl.lit(1, pl.Int8))
        .otherwise(pl.lit(0, pl.Int8))
    )
    best = pl.col("revision").sort_by(rank, "file").first()
    return files.with_columns(revision=best.over("model_id", "step"))


def _check_dropped(cols: dict[str, list], files: pl.DataFrame, kept: pl.DataFrame) -> None:
    """The values of the files dropped as repeats are checked as the kept ones are (finite,
    in the range of their kind), so that a damaged repeat is named, not passed over."""
    dropped = files.join(kept.select("fid"), on="fid", how="anti").select("fid", "file")
    if not dropped.height:
        return
    points = pl.DataFrame(
        cols, schema_overrides={"fid": pl.Int64, "value": pl.Float64, "stderr": pl.Float64}
    ).join(dropped, on="fid")
    kinds = {m: metric_kind(m) for m in points["measure"].unique().to_list()}
    check_values(conform(
        points.with_columns(
            kind=pl.col("measure").replace_strict(kinds, return_dtype=pl.String), **_scales()
        ),
        POINT_SCHEMA,
    ))


def _scales() -> dict[str, pl.Expr]:
    """``lo``/``hi`` of the measures whose kind says nothing of their range (kind other)."""
    lo = {m: s[0] for m, s in SCALES.items()}
    hi = {m: s[1] for m, s in SCALES.items()}
    return {
        "lo": pl.col("measure").replace_strict(lo, default=None, return_dtype=pl.Float64),
        "hi": pl.col("measure").replace_strict(hi, default=None, return_dtype=pl.Float64),
    }


def _flag_dropped(files: pl.DataFrame, kept: pl.DataFrame, models: dict[str, dict]) -> None:
    """Flag each model that lost duplicate files (and why) or keeps files misnamed n-shot."""
    for (model_id,), group in kept.filter("misnamed").group_by(["model_id"], maintain_order=True):
        models[model_id]["flags"].append(
            f"{group.height} files have a shot count in their name that their config "
            "(num_fewshot) contradicts; read by the config"
        )
    dropped = files.join(kept.select("fid"), on="fid", how="anti")
    for (model_id, pref), group in dropped.group_by(["model_id", "pref"], maintain_order=True):
        if pref:
            text = (f"{group.height} files in the five-shot folder are 0-shot by their config "
                    "(num_fewshot 0) and repeat the zero-shot files; dropped")
        else:
            text = (f"{group.height} repeated files of one step differ only by timestamp; "
                    "kept the latest")
        models[model_id]["flags"].append(text)


def _models(
    points: pl.DataFrame, models: dict[str, dict], meta: pl.DataFrame, kept: pl.DataFrame
) -> pl.DataFrame:
    """One row per network: nominal size, data, epochs at its last checkpoint, flags, a file."""
    last = points.group_by("model_id").agg(pl.col("tokens").max().alias("max_tokens"))
    first = kept.group_by("model_id").agg(pl.col("file").min())
    frame = pl.DataFrame(
        {
            "model_id": list(models),
            "family": [m["family"] for m in models.values()],
            "data": [m["data"] for m in models.values()],
            "flag": ["; ".join(m["flags"]) or None for m in models.values()],
        }
    )
    per_epoch = pl.col("data").replace_strict(
        TOKENS_PER_EPOCH, default=None, return_dtype=pl.Float64
    )
    return conform(
        frame.join(meta.select("model_id", "num_params"), on="model_id")
        .join(last, on="model_id", how="left")
        .join(first, on="model_id", how="left")
        .with_columns(seed=pl.lit(0), epochs=pl.col("max_tokens") / per_epoch)
        .sort("model_id"),
        MODEL_SCHEMA,
    )


def _families(points: pl.DataFrame, models: dict[str, dict]) -> pl.DataFrame:
    """One row per family; ``perf_metric`` = the 0-shot perplexities the family has."""
    present = (
        points.filter((pl.col("shots") == 0) & pl.col("metric").is_in(PERF_CANDIDATES))
        .join(pl.DataFrame({"model_id": list(models),
                            "family": [m["family"] for m in models.values()]}), on="model_id")
        .group_by("family")
        .agg(pl.col("metric").unique())
    )
    have = dict(zip(present["family"], present["metric"].to_list(), strict=True))
    rows = []
    for family in sorted({m["family"] for m in models.values()}):
        data = next(m["data"] for m in models.values() if m["family"] == family)
        rows.append({
            "family": family,
            "model_type": {"opt-final": "opt", "bloom": "bloom"}.get(family, "pythia"),
            "arch": "dec",
            "data": data,
            "perf_metric": [m for m in PERF_CANDIDATES if m in have.get(family, [])],
            # the batch-size runs were evaluated 5-shot only: no 0-shot loss to fit
            "scaled": family in have,
            "original_paper": "pythia",
        })
    return conform(pl.DataFrame(rows, schema=FAMILY_SCHEMA), FAMILY_SCHEMA)
