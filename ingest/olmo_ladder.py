"""OLMo model-ladder evaluation curves (Bhagia et al. 2024, allenai/OLMo-ladder), with the
paper's configs and its published result tables.

``olmo_ladder/data/ladder-runs/`` holds one CSV per training run, one row per evaluated
checkpoint (``olmo_ladder/SOURCE.md`` describes every column):

- **the ladder**, 30 runs: sizes 190M, 370M, 760M, 1B (the configs' "1.3B") and 3B, each at
  0.5, 1, 2, 5 and 10 x Chinchilla tokens (``<size>-<m>xC``), and a second, independent 1xC
  run per size (``<size>-1xC-rerun``), which is its own model;
- **the targets**: ``7B-4T`` (``peteish7_eval_anneal.csv``, one row: the final annealed
  checkpoint), ``7B`` (the pre-anneal curve, ``peteish7_eval_full.csv``), ``7B-medlr`` (a 7B
  run with peak LR 6e-4) and ``13B-5T`` (``peteish13_eval_full.csv``, whose last 12 rows are
  the configs' ``peteish13_eval_final.csv``). Every partial file (``_170k-450k``, ``_final``,
  ...) must be an exact subset of its ``_full`` file; it is checked, not loaded twice.

Metrics are the upstream columns, by name: 11 validation losses ``eval/<set>-validation/
CrossEntropyLoss`` (nats/token, kind ``loss``, shots 0, task = the set), and per task id
(``mmlu_stem_test``, ``hellaswag_val``, ...; shots 5) its bits-per-byte task loss (``bpb``),
its accuracy (``acc_norm`` for ``_len_norm``, ``acc`` for BoolQ's ``_acc`` and the targets'
``_mc_`` columns) and its ``soft`` (kind ``score`` in [0, 1]) and ``soft_log`` (``score``,
at most 0; the paper's TaskCE is its negation); the ladder's ``optim/learning_rate_group0``
is kept as kind ``other``.

Decisions (``SOURCE.md``):

- N is the configs' ``n`` (non-embedding, with the untied output head): :data:`SIZES`; 3B,
  in no config, takes the repository's ``MODEL_PARAMS``. Every config group must agree.
- D = ``throughput/total_tokens`` where the file has it, else ``_step x batch_size_in_tokens``
  (the code's rule); on the ladder both must agree. The anneal row has no ``_step``: its step
  is D / batch size (940,577). FLOPs = D x the FLOPs per token of :data:`SIZES` (the code's
  table); the ladder's ``throughput/total_training_Gflops`` must agree to 1e-6.
- ``learning_rate_peak`` is not kept: the 13B files contradict themselves.
- Models carry the configs that name them as tags ``<config>:<mode>`` (``final:train`` for
  the paper's 16 fitted runs, ``final:eval`` for its targets, ``final_7b_only:eval``, ...),
  so that analyses select the paper's runs from the warehouse, never from the configs.
- Families: ``olmo-ladder`` (the 30 ladder runs; ``perf`` = the mean of the 11 validation
  losses) is scaled, so the Hitchhiker studies fit its loss curves, but it is **out of their
  macro averages** (``in_aggregate`` false): the paper's averages and the law ids of every
  other family stay as they were. ``olmo-ladder-targets`` (the four target models) is not
  scaled: the ladder study predicts them, nothing fits them.
- ``figures/*.csv`` (the paper's published tables) become ``published`` rows (result = file
  stem, task = ``Task``, quantity = column), which the ladder study's reproduction reads.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, first_bad, frame, unpivot
from ingest.readers import read_csv, read_json, relpath
from warehouse.errors import BadRow

SOURCE = SourceInfo(
    name="olmo-ladder",
    citation="Bhagia et al. 2024, Establishing Task Scaling Laws via Compute-Efficient Model "
    "Ladders (arXiv:2412.04403)",
    upstream="allenai/OLMo-ladder@67a3f440f787d020da35e3ca8eeae475fae754f5",
    license="Apache-2.0",
    files=(
        "olmo_ladder/data/ladder-runs/*.csv",
        "olmo_ladder/configs/*.json",
        "olmo_ladder/figures/*.csv",
    ),
)
RUNS = "olmo_ladder/data/ladder-runs"
FAMILY = "olmo-ladder"
TARGETS = "olmo-ladder-targets"

# size -> (N, training FLOPs per token), as in the configs (3B: the repository's MODEL_PARAMS
# and FLOPs table); the file prefix of the ladder, the model name of the targets.
SIZES: dict[str, tuple[int, int]] = {
    "190M": (190_354_176, 1_903_391_232),
    "370M": (371_262_464, 3_443_922_944),
    "760M": (758_220_288, 6_373_843_968),
    "1B": (1_279_395_840, 10_109_071_360),
    "3B": (3_169_537_280, 22_970_355_200),
    "7B": (6_887_575_552, 49_412_071_424),
    "13B": (13_202_396_160, 91_335_915_520),
}
LADDER = ("190M", "370M", "760M", "1B", "3B")
MULTIPLIERS = ("0.5", "1", "2", "5", "10")
# target model -> (size, the file it is read from, files that must be subsets of it)
TARGET_FILES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "7B-4T": ("7B", "peteish7_eval_anneal", ()),
    "7B": ("7B", "peteish7_eval_full", ("peteish7_eval_170k-450k",)),
    "7B-medlr": ("7B", "peteish7_medlr_eval_full", (
        "peteish7_medlr_eval_5k-205k", "peteish7_medlr_eval_210k-325k",
        "peteish7_medlr_eval_330k-490k", "peteish7_medlr_eval_170k-end",
    )),
    "13B-5T": ("13B", "peteish13_eval_full", ("peteish13_eval_50k-150k",
                                              "peteish13_eval_final")),
}
STEP, TOKENS, BATCH = "_step", "throughput/total_tokens", "batch_size_in_tokens"
GFLOPS, LR, LR_PEAK = "throughput/total_training_Gflops", "optim/learning_rate_group0", \
    "learning_rate_peak"
BOOKKEEPING = (STEP, TOKENS, BATCH, GFLOPS, LR_PEAK)
LOSS = re.compile(r"eval/(.+)-validation/CrossEntropyLoss")
TASK = re.compile(r"eval/downstream(|_bpb|_soft|_soft_log)/(.+)_(rc|mc)_5shot_"
                  r"(bpb|len_norm|acc|soft|soft_log)")


def model_id(name: str) -> str:
    """The warehouse id of a ladder run or target: 'olmo-ladder/190M-1xC'."""
    return f"{FAMILY}/{name}"


def describe(metric: str) -> dict | None:
    """Kind, task, shots and scale of an upstream column; None for one that is not a metric.

    Examples
    --------
    >>> describe("eval/downstream_bpb/hellaswag_val_rc_5shot_bpb")["kind"]
    'bpb'
    >>> describe("eval/c4_en-validation/CrossEntropyLoss")["task"]
    'c4_en'
    """
    if m := LOSS.fullmatch(metric):
        return {"kind": "loss", "task": m.group(1), "shots": 0}
    if m := TASK.fullmatch(metric):
        suffix = m.group(4)
        kind, lo, hi = {"bpb": ("bpb", None, None), "len_norm": ("acc_norm", None, None),
                        "acc": ("acc", None, None), "soft": ("score", 0.0, 1.0),
                        "soft_log": ("score", None, 0.0)}[suffix]
        return {"kind": kind, "task": m.group(2), "shots": 5, "lo": lo, "hi": hi}
    if metric == LR:
        return {"kind": "other", "task": None, "shots": 0}
    return None


def _read(path: Path, data_root: Path) -> pl.DataFrame:
    """One run file, every column numeric, with its step and D (the code's rule)."""
    df = read_csv(path, data_root=data_root, numeric=lambda c: True, integer=(STEP, BATCH),
                  required=(BATCH,))
    name = relpath(path, data_root)
    unknown = [c for c in df.columns
               if c not in (*BOOKKEEPING, "row", "file") and describe(c) is None]
    if unknown:
        raise BadRow(name, 1, f"unknown column {unknown[0]!r}")
    if STEP not in df.columns and TOKENS not in df.columns:
        raise BadRow(name, 1, f"neither {STEP!r} nor {TOKENS!r} is a column")
    if STEP in df.columns:
        first_bad(df, pl.col(STEP).is_null(), f"{STEP} is empty")
        d = pl.col(STEP) * pl.col(BATCH)
        if TOKENS in df.columns:
            first_bad(df, pl.col(TOKENS) != d, f"{TOKENS} is not {STEP} x {BATCH}")
        df = df.with_columns(step=pl.col(STEP), tokens=d.cast(pl.Float64))
    else:
        first_bad(df, pl.col(TOKENS).is_null() | (pl.col(TOKENS) % pl.col(BATCH) != 0),
                  f"{TOKENS} is not a whole number of batches")
        df = df.with_columns(step=(pl.col(TOKENS) // pl.col(BATCH)).cast(pl.Int64),
                             tokens=pl.col(TOKENS))
    first_bad(df, pl.col("step").diff() <= 0, "steps do not increase")
    return df


def _check_subset(part: pl.DataFrame, full: pl.DataFrame) -> None:
    """Raise BadRow at the first row of a partial file that its full file does not hold."""
    columns = [c for c in part.columns if c not in ("row", "file")]
    missing = [c for c in columns if c not in full.columns]
    if missing:
        raise BadRow(part["file"][0], 1, f"column {missing[0]!r} is not in {full['file'][0]}")
    joined = part.join(full.select(columns), on="step", how="left", suffix="_full")
    differs = pl.any_horizontal(
        pl.col(f"{c}_full").is_null() | (pl.col(c) != pl.col(f"{c}_full"))
        for c in columns if c != "step"
    )
    first_bad(joined, differs, pl.format("step {} differs from (or is not in) {}", "step",
                                         pl.lit(full["file"][0])))


def _points(df: pl.DataFrame, name: str, flops_per_token: int) -> pl.DataFrame:
    """The long metric rows of one model's file."""
    flops = pl.col("tokens") * float(flops_per_token)
    if GFLOPS in df.columns:
        first_bad(df, ((pl.col(GFLOPS) * 1e9 - flops).abs() > 1e-6 * flops),
                  f"{GFLOPS} is not tokens x {flops_per_token:,} FLOPs per token / 1e9")
    df = df.with_columns(model_id=pl.lit(model_id(name)), flops=flops)
    metrics = [c for c in df.columns if describe(c) is not None]
    info = {m: describe(m) for m in metrics}
    long = unpivot(df, metrics, index=("model_id", "step", "tokens", "flops", "file", "row"),
                   kind=lambda m: info[m]["kind"], task=lambda m: info[m]["task"])
    return long.with_columns(
        shots=pl.col("metric").replace_strict({m: i["shots"] for m, i in info.items()},
                                              return_dtype=pl.Int64),
        lo=pl.col("metric").replace_strict({m: i.get("lo") for m, i in info.items()},
                                           return_dtype=pl.Float64),
        hi=pl.col("metric").replace_strict({m: i.get("hi") for m, i in info.items()},
                                           return_dtype=pl.Float64),
    )


def _files(data_root: Path) -> dict[str, tuple[str, str, Path, list[str]]]:
    """Model name -> (size, family, file, tags) of every run."""
    root = data_root / RUNS
    files = {}
    for size in LADDER:
        for m in MULTIPLIERS:
            files[f"{size}-{m}xC"] = (size, FAMILY, root / f"{size}-{m}xC.csv",
                                      [f"size={size}", f"multiplier={m}"])
        files[f"{size}-1xC-rerun"] = (size, FAMILY, root / f"{size}-1xC-rerun.csv",
                                      [f"size={size}", "multiplier=1", "rerun"])
    for name, (size, stem, _) in TARGET_FILES.items():
        files[name] = (size, TARGETS, root / f"{stem}.csv", [f"size={size}"])
    return files


def config_tags(data_root: Path) -> dict[str, list[str]]:
    """Model name -> ``<config>:<mode>`` of every config group that names its file, checking
    that each group's ``n`` and ``flops`` are the loader's (:data:`SIZES`)."""
    files = _files(data_root)
    stems = {path.stem: name for name, (_, _, path, _) in files.items()}
    for name, (_, _, subsets) in TARGET_FILES.items():
        stems.update(dict.fromkeys(subsets, name))
    tags: dict[str, list[str]] = {}
    for path in sorted((data_root / "olmo_ladder" / "configs").glob("*.json")):
        label = relpath(path, data_root)
        config = read_json(path, data_root=data_root)
        if not isinstance(config, dict):
            raise BadRow(label, 1, "expected a JSON object of config groups")
        for group, spec in config.items():
            if not isinstance(spec, dict) or not {"paths", "mode", "n", "flops"} <= set(spec):
                raise BadRow(label, None, f"group {group!r} lacks paths, mode, n or flops")
            for file in spec["paths"]:
                stem = Path(file).stem
                if stem not in stems:
                    raise BadRow(label, None, f"group {group!r} names an unknown file {file!r}")
                name = stems[stem]
                size = files[name][0]
                if (spec["n"], spec["flops"]) != SIZES[size]:
                    raise BadRow(label, None, f"group {group!r}: n {spec['n']} and flops "
                                 f"{spec['flops']} differ from {size}'s {SIZES[size]}")
                tags.setdefault(name, []).append(f"{path.stem}:{spec['mode']}")
    return tags


def published(data_root: Path) -> pl.DataFrame:
    """The rows of every ``figures/*.csv``: one per (file, task, column)."""
    parts = []
    for path in sorted((data_root / "olmo_ladder" / "figures").glob("*.csv")):
        df = read_csv(path, data_root=data_root, numeric=lambda c: c != "Task",
                      required=("Task",))
        columns = [c for c in df.columns if c not in ("Task", "row", "file")]
        long = df.unpivot(on=columns, index=["Task", "file", "row"], variable_name="quantity")
        parts.append(long.select(result=pl.lit(path.stem), task="Task", quantity="quantity",
                                 value="value", file="file", row="row"))
    return pl.concat(parts)


def load(data_root: Path) -> SourceData:
    """Read the 30 ladder runs, the 4 target models, the configs and the published tables."""
    files = _files(data_root)
    tags = config_tags(data_root)
    models, points = [], []
    for name, (size, family, path, own_tags) in files.items():
        df = _read(path, data_root)
        for subset in TARGET_FILES.get(name, (None, None, ()))[2]:
            _check_subset(_read(path.with_name(f"{subset}.csv"), data_root), df)
        n, flops_per_token = SIZES[size]
        models.append({
            "model_id": model_id(name), "family": family, "num_params": float(n),
            "epochs": 1.0, "tags": [*own_tags, *tags.get(name, [])],
            "file": df["file"][0], "row": df["row"][0],
        })
        points.append(_points(df, name, flops_per_token))
    losses = sorted(m for m in points[0]["metric"].unique() if LOSS.fullmatch(m))
    family = {"model_type": "olmo-ladder", "arch": "dec", "perf_metric": losses,
              "original_paper": "olmo-ladder"}
    families = frame([{"family": FAMILY, "scaled": True, "in_aggregate": False, **family},
                      {"family": TARGETS, "scaled": False, **family}], FAMILY_SCHEMA)
    subsets = sum(len(s) for _, _, s in TARGET_FILES.values())
    figures = published(data_root)
    n_configs = len(list((data_root / "olmo_ladder" / "configs").glob("*.json")))
    return SourceData(
        families=families,
        models=pl.DataFrame(models),
        points=pl.concat(points, how="diagonal_relaxed"),
        n_files=len(files) + subsets + n_configs + figures["file"].n_unique(),
        published=figures,
    )
