"""The paper's own evidence: the families it fitted, and the numbers of its figures.

The Hitchhiker's Guide's averages run over the families it fitted; the warehouse holds more
(this project's PCFG runs, BiMix mixtures, Pythia's evaluation finals, users' own runs). The
claims and macro tables average :data:`PAPER_FAMILIES` by default, so that a difference with
the paper is a difference in data handling, not in which families are averaged; every other
family is reported apart.

The per-model-type heatmaps of the paper (``paper_heatmaps.csv``) were read from the authors'
own figure PDFs (IBM/ColPret at 16f23bbe, ``figs/hist_agg_hist_per_model_type_*-are-*.pdf``
and ``figs/hist_hist-num-models-annot-agg-are-.pdf``; see ``methods/hitchhiker_figures.md``):
ARE of the ``num-models`` study with ``curve_fit``, binned number of models x p.
"""

from __future__ import annotations

from importlib import resources

import polars as pl

# family -> (the paper's model type, why it is in the set)
PAPER_FAMILIES: dict[str, tuple[str, str]] = {
    "OPT": ("OPT", "OPT training trajectories (opt_trajectories.csv)"),
    "gpt3": ("gpt3", "GPT-3's digitised curves (extracted.csv)"),
    "chinchilla": ("Gopher", "Chinchilla's digitised isoFLOP points (model type Gopher)"),
    "t5-pile": ("t5-pile", "T5 on the Pile (t5_pile.csv)"),
    "pythia": ("pythia", "Pythia v1, rebuilt from EleutherAI's evaluations"),
    "pythia-deduped": ("pythia", "Pythia v1 deduped, rebuilt from EleutherAI's evaluations"),
    "pythia-baseline-deduped": ("pythia-baseline", "the bias study's baseline runs"),
    "olmo": ("olmo", "OLMo 1B and 7B (one-model: 1B predicts 7B)"),
    "redPajama": ("redPajama", "RedPajama-INCITE 2.4B and 6.7B loss curves"),
    "llm360Mamba": ("LLM360Mamba", "LLM360's Mamba-3B loss curve"),
    **{f"overtrain-{d}": ("overtrain", f"Gadre et al.'s over-training runs on {d}")
       for d in ("C4", "RedPajama", "RefinedWeb")},
    **{f"GPT2-{d}-{e}": ("GPT2", f"Muennighoff et al.'s data-constrained runs ({d}, {e} "
                                 "epochs)")
       for d in ("c4", "oscar") for e in ("1.0", "2.0", "3.0", "4.0", "5.0", "7.0", "14.0",
                                           "44.0")},
}

# What the paper had and the warehouse cannot rebuild: name -> what it contributes there.
NOT_REBUILT: dict[str, str] = {
    "MAD LLaMA (llama)": (
        "isoFLOP curves of Poli et al. 2024 (loss_size_flops_llama_sh.npy, never released): "
        "its own per-type heatmap (rows 2 and 6 models, up to 44x scale-up) and a share of "
        "the macro rows 2-6"),
    "MAD Striped Hyena 1-11": (
        "the same file's Striped Hyena families: rows 4 and up in the macro heatmap"),
    "over-training curves": (
        "Gadre et al.'s full loss curves (overtrain.csv, absent from the snapshot): the "
        "warehouse has one final loss per model, so overtrain laws fit final points only"),
    "LLM360 Amber loss curve": (
        "the Amber 6.7B loss export (missing from the snapshot): one-model and self-prefix "
        "laws"),
}

WITHIN = 0.03  # a heatmap cell matches the paper within 3 ARE points
# The model types whose figures the warehouse can rebuild in full (OPT's are not in the copy
# of the figures read here; its numbers are the paper's text, checked by the claims); the
# macro ('all') and overtrain's also average families that are not public.
REBUILT_TYPES = ("GPT2", "Gopher", "gpt3", "pythia", "t5-pile")


def paper_heatmaps() -> pl.DataFrame:
    """The paper's heatmap cells: ``model_type`` (``all`` for the macro average over every
    family), ``bin`` (2, ..., 7, 8 for 8+), ``fraction`` (p) and ``are`` (a fraction)."""
    text = (resources.files("analyses.hitchhiker") / "paper_heatmaps.csv").read_text()
    return pl.read_csv(text.encode(), comment_prefix="#",
                       schema={"model_type": pl.String, "bin": pl.Int32,
                               "fraction": pl.Float64, "are": pl.Float64})


def model_type(family: pl.Expr) -> pl.Expr:
    """The paper's model type of a family (null outside :data:`PAPER_FAMILIES`)."""
    types = {name: kind for name, (kind, _) in PAPER_FAMILIES.items()}
    return family.replace_strict(types, default=None, return_dtype=pl.String)
