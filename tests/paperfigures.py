"""Reading the heatmap cells of the paper's figures from ``methods/hitchhiker_figures.md``
(numbers extracted from the authors' PDFs), to check the shipped
``analyses/hitchhiker/paper_heatmaps.csv`` against its source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polars as pl

# block name -> model type (``all``: the macro average over every family)
BLOCKS = {
    **{f"figs/hist_agg_hist_per_model_type_hist-num-models-annot-agg-are-{t}.pdf": t
       for t in ("GPT2", "Gopher", "gpt3", "pythia", "t5-pile", "overtrain")},
    "figs/hist_hist-num-models-annot-agg-are-.pdf": "all",
}
FRACTIONS = [round(0.1 * i, 1) for i in range(1, 11)]


def _bin(text: str) -> int | None:
    """The number-of-models bin a row label names ('8+' and the top row's '9 ...' are 8)."""
    if re.fullmatch(r"[2-7]", text):
        return int(text)
    if text == "8+" or re.fullmatch(r"9 ?\d|9empty_num\d", text):
        return 8
    return None


def read_block(lines: list[str], model_type: str) -> list[dict]:
    """The cells of one figure block: the row at each y takes the nearest bin label."""
    ticks, labels_text = lines[0].split("| other labels (y,text): ")
    labels = [(y, b) for y, t in ast.literal_eval(labels_text) if (b := _bin(t)) is not None]
    rows = [(float(m[1]), m[2].split(" | ")) for line in lines[1:]
            if (m := re.match(r"\s*row@y=([\d.]+): (.*)", line))]
    if not rows:  # the GPT2 figure: its one row's values were parsed as the x-axis ticks
        values = ticks.split(":", 1)[1].split()
        rows = [(labels[0][0], values)]
    cells = []
    for y, values in rows:
        bin_ = min(labels, key=lambda label: abs(label[0] - y))[1]
        fractions = FRACTIONS[len(FRACTIONS) - len(values):]
        cells += [{"model_type": model_type, "bin": bin_, "fraction": p,
                   "are": round(float(v) / 100, 6)}
                  for p, v in zip(fractions, values, strict=True) if v != "-"]
    return cells


def paper_cells(path: Path) -> pl.DataFrame:
    """Every cell of :data:`BLOCKS` in ``hitchhiker_figures.md``."""
    text = path.read_text()
    cells = []
    for name, model_type in BLOCKS.items():
        block = text.split(f"### {name}\n```\n", 1)[1].split("```", 1)[0]
        cells += read_block(block.strip("\n").splitlines(), model_type)
    return pl.DataFrame(cells).sort("model_type", "bin", "fraction")
