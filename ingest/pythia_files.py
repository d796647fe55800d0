"""Pythia's evaluation files one at a time: what a path names, what a file's config says.

The layout a path follows (``pythia/SOURCE.md``'s table) and the model it names, with its
family, data and tokens per step; the shots, ``model_args`` and revision of a file's config;
its values as numbers. The quirks these resolve are listed in :mod:`ingest.pythia`.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingest.readers import read_json
from warehouse.errors import BadRow

BATCH = 2_097_152  # tokens per step of every standard run (1024 x 2048)
BATCH_4M = 4_194_304  # v0 160m, 410m, 1.4b
RUN_TOKENS = 143_000 * BATCH  # every Pythia run: 299.9B tokens
V0_4M_SIZES = frozenset({"160m", "410m", "1.4b"})
OLD_SIZES = {  # pre-rename v0 size names -> the names the models carry now
    "19m": "70m", "125m": "160m", "350m": "410m", "800m": "1b",
    "1.3b": "1.4b", "2.7b": "2.8b", "6.7b": "6.9b", "13b": "12b",
}
DATA = {"opt": "OPT(ROBERTA_PILE_REDDIT)", "bloom": "ROOTS"}
# The Hitchhiker names are 'opt' and 'bloom'; 'opt' would differ from the opt source's 'OPT'
# only by case, so it is 'opt-final' here.
FINAL_FAMILY = {"opt": "opt-final", "bloom": "bloom"}

_S = r"(?P<size>\d+(?:\.\d+)?[mb]\d*)"  # 70m, 1.4b, and BLOOM's 1b1
_STEP = r"_step(?P<step>\d+)"
_TS = r"(?P<ts>\d\d-\d\d-\d{4}-\d\d-\d\d-\d\d)"
# Every file layout of SOURCE.md's table; a file matching none is an error, never skipped.
LAYOUTS: dict[str, re.Pattern] = {
    name: re.compile(pattern)
    for name, pattern in {
        "v1": rf"pythia-v1/pythia-{_S}(?P<dedup>-deduped)?(?:-bf16)?/(?P<dir>zero|five)-shot/"
        rf"[\d.]+[mb](?:-deduped)?(?:-bf16)?(?:-5shot)?{_STEP}\.json",
        "v1-intervention": rf"pythia-v1/pythia-{_S}-deduped/intervention/"
        rf"intervention-(?P=size)-deduped(?P<long>-long)?{_STEP}\.json",
        "v1-baseline": rf"pythia-v1/pythia-{_S}-deduped/baseline/"
        rf"baseline-(?P=size)-deduped{_STEP}\.json",
        "v1-batch": rf"pythia-v1/pythia-{_S}-(?P<bs>[\d.]+)MtokBS/(?:(?P<dir>five)-shot/)?"
        rf"(?P=size)-(?P=bs)MtokBS{_STEP}\.json",
        "v0": rf"pythia-v0/pythia-{_S}(?P<dedup>-deduped)?/(?P<dir>zero|five)-shot/"
        rf"pythia-(?P=size)(?:-deduped)?-[05]shot-global{_STEP}_+eval_results_{_TS}\.json",
        "v0-winobias": r"pythia-v0/winobias/(?:intervene_(?P<iv>7|21)/)?(?P<size>[\d.]+[MB])/"
        rf"eval_results_{_TS}\.json",
        "v0-bias": r"bias-evals/(?P<kind>pythia|intervention|long-intervention)-"
        rf"{_S}-deduped-step(?P<step>\d+)_eval_results_{_TS}\.json",
        "v1-winobias": r"bias-evals/winobias/(?:intervene_(?P<iv>7|21)/)?(?P<size>[\d.]+[MB])/"
        rf"eval_results_(?:{_TS}|[\d.]+[mb]-deduped(?:-long)?_(?P<step>\d+))\.json",
        "opt": rf"opt/opt-{_S}\.json",
        "bloom": rf"bloom/bloom-{_S}\.json",
    }.items()
}


def nominal_params(size: str) -> float:
    """Nominal parameter count of a size name (ColPret's ``to_int``, with BLOOM's '7b1').

    Examples
    --------
    >>> nominal_params("1.4b"), nominal_params("70m"), nominal_params("7b1")
    (1400000000.0, 70000000.0, 7100000000.0)
    """
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([mb])(\d*)", size)
    number = m.group(1) + ("." + m.group(3) if m.group(3) else "")
    return float(number) * (1e6 if m.group(2) == "m" else 1e9)


def layout_of(rel: str, name: str) -> tuple[str, dict[str, str | None]]:
    """The layout a path (relative to ``evals/``) follows and its named parts."""
    for layout, pattern in LAYOUTS.items():
        m = pattern.fullmatch(rel)
        if m:
            return layout, m.groupdict()
    raise BadRow(name, None, "path matches none of the layouts in pythia/SOURCE.md")


def model_of(layout: str, g: dict[str, str | None]) -> dict:
    """Model id, family, data, tokens per step and flags of one file, from its path's groups."""
    size = g["size"].lower()
    new = OLD_SIZES.get(size, size) if layout in ("v0-winobias", "v0-bias") else size
    flags = []
    if new != size:
        flags.append(f"upstream names use the pre-rename v0 size {size}; renamed {new}")
    if layout in ("opt", "bloom"):
        return dict(name=f"{layout}-{size}", family=FINAL_FAMILY[layout], size=size,
                    data=DATA[layout], batch=None, flags=flags)
    dedup = layout not in ("v1", "v0", "v1-batch") or bool(g.get("dedup"))
    era = "-v0" if layout.startswith("v0") else ""
    batch = BATCH
    if era and new in V0_4M_SIZES:
        batch = BATCH_4M
        flags.append("trained with 4,194,304 tokens per step for 71,500 steps (ColPret: 2,097,152)")
    if layout == "v1-baseline":
        kind = "baseline"
    elif layout == "v1-intervention":
        kind = "long-intervention" if g["long"] else "intervention"
    elif layout == "v0-bias":
        kind = "baseline" if g["kind"] == "pythia" else g["kind"]
    elif layout.endswith("winobias"):
        kind = {None: "baseline", "7": "intervention", "21": "long-intervention"}[g["iv"]]
    else:
        kind = "standard"
    if layout == "v1-batch":
        batch = round(float(g["bs"]) * 2**20)
        name = f"pythia-{size}-{g['bs']}MtokBS"
        family = f"pythia-{g['bs']}MtokBS"
    elif kind == "standard":
        name = f"pythia-{new}{'-deduped' if dedup else ''}{era}"
        family = f"pythia{'-deduped' if dedup else ''}{era}"
    else:
        name = f"pythia-{kind}-{new}-deduped{era}"
        family = f"pythia-{kind}-deduped{era}"
    if kind == "baseline":
        same = f"pythia/pythia-{new}-deduped{era}"
        flags.append(f"the standard deduped network ({same}) evaluated again for the bias study")
    if layout == "v1" and new == "1b" and not dedup:
        flags.append("the v1 1b run retrained in bf16 (upstream folder pythia-1b-bf16)")
    return dict(name=name, family=family, size=new,
                data="pile-deduped" if dedup else "pile", batch=batch, flags=flags)


def revision_of(model_args: object, step: int | None) -> str | None:
    """'<hf repo>@<revision>' for HF evaluations, '<NeoX load path>/global_step<N>' for NeoX."""
    if isinstance(model_args, str):
        args = dict(kv.split("=", 1) for kv in model_args.split(",") if "=" in kv)
        repo, rev = args.get("pretrained"), args.get("revision")
        return f"{repo}@{rev}" if repo and rev else repo
    load = model_args.get("load") if isinstance(model_args, dict) else None
    return f"{load.rstrip('/')}/global_step{step}" if load and step is not None else None


def read_eval(path: Path, name: str, data_root: Path) -> tuple[dict, dict | str | None, int]:
    """The parsed JSON, its model_args and its shots, checking the shape ColPret relies on."""
    doc = read_json(path, data_root=data_root)
    if not isinstance(doc, dict):
        raise BadRow(name, None, "expected a JSON object")
    config = doc.get("config")
    if config is None and "table_results" in doc:  # v1 intervention WinoBias: no config
        return doc, doc.get("model_args"), 0
    if not isinstance(config, dict):
        raise BadRow(name, None, "no 'config' object")
    shots = config.get("num_fewshot")
    if not isinstance(shots, int) or shots < 0:
        raise BadRow(name, None, f"config.num_fewshot is not a non-negative integer ({shots!r})")
    return doc, config.get("model_args"), shots


def as_number(value: object, name: str, where: str) -> float | None:
    """A metric value as float; None stays None, anything else not a number is BadRow."""
    if value is None or type(value) is float:
        return value
    if type(value) is int:
        return float(value)
    raise BadRow(name, None, f"{where} is not a number ({value!r})")
