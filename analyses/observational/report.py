"""The observational scaling report: capability space, predictions, weights, checkpoints.

:func:`write_report` runs every registered experiment on the warehouse and writes
``observational.md``, ``observational.html``, ``figures/*.png``, ``experiments.json`` (every
result, as ``meta obs fit --json`` prints it) and ``checkpoints.csv`` (the warehouse's
checkpoints placed in the capability space) into a folder.

References
----------
Ruan, Maddison & Hashimoto (2024), "Observational Scaling Laws and the Predictability of
Language Model Performance", arXiv:2405.10938; code: ryoungj/ObsScaling @4d6e1e43.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from analyses.document import Document
from analyses.observational import data, figures
from analyses.observational.experiments import BENCHMARKS, EXPERIMENTS, get_experiment
from analyses.observational.results import ExperimentResult, run
from analyses.observational.space import BaseSpace, Placement, base_space, place_checkpoints
from warehouse.errors import MetaError
from warehouse.jsonsafe import dumps

FIGURES = "figures"
STEM = "observational"
GROUPS = {
    "emergent": "Emergent BigBench tasks (paper Sec 4.1)",
    "post-training": "Post-training: GSM8K with CoT and self-consistency (Sec 4.3)",
    "leaderboard-v2": "Open LLM Leaderboard v2 (App. C.3)",
    "agents": "Agent benchmarks (Sec 4.2)",
}


def _fmt(v: float | None, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.{digits}e}"


def write_report(con: duckdb.DuckDBPyConnection, out_dir: Path | str, *, n_bootstrap: int = 100,
                 seed: int = 0, experiments: Sequence[str] | None = None,
                 progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write the observational report into ``out_dir``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A warehouse with the ``obsscaling`` source (and, for the checkpoint section,
        ``pythia``, ``olmo``, ``overtrain``).
    out_dir : Path or str
        Created if missing; figures go to ``out_dir/figures``.
    n_bootstrap : int, default=100
        Resamples of the bootstrap prediction intervals of every experiment (0: none).
    seed : int, default=0
    experiments : sequence of str, optional
        Registry names to run (default: every experiment of :data:`EXPERIMENTS`).
    progress : callable, optional
        Called with a short line after each step.

    Returns
    -------
    list of Path
        ``observational.md``, ``observational.html``, then every PNG written.
    """
    say = progress or (lambda _: None)
    names = list(experiments) if experiments else list(EXPERIMENTS)
    for name in names:
        get_experiment(name)
    data.check_metrics(con, ["MMLU"])
    out = Path(out_dir)
    try:
        (out / FIGURES).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MetaError(f"Cannot write the report into {out}: {e.strerror}.") from None
    t0 = time.perf_counter()
    space = base_space(con)
    placement = place_checkpoints(con, space)
    say(f"capability space: {space.table.height} models; {placement.table.height} checkpoints "
        "placed")
    results = []
    for i, name in enumerate(names, 1):
        results.append(run(con, name, n_bootstrap=n_bootstrap, seed=seed))
        say(f"experiment {i}/{len(names)} {name} ({time.perf_counter() - t0:.0f} s)")
    pngs = _figures(out, space, placement, results)
    doc = _document(space, placement, results, n_bootstrap, seed, time.perf_counter() - t0)
    md, page = doc.write(out, STEM)
    (out / "experiments.json").write_text(
        dumps([r.to_dict() for r in results]) + "\n")
    placement.table.write_csv(out / "checkpoints.csv")
    return [md, page, *pngs]


def _slug(name: str) -> str:
    return name.replace("/", "_")


def _figures(out: Path, space: BaseSpace, placement: Placement,
             results: list[ExperimentResult]) -> list[Path]:
    fig = out / FIGURES
    pngs = [figures.scree(space, fig / "scree.png"),
            figures.loadings(space, fig / "loadings.png"),
            figures.pc1_vs_flops(space, fig / "pc1_vs_flops.png")]
    pngs += [figures.experiment_fit(r, fig / f"fit_{_slug(r.experiment.name)}.png")
             for r in results]
    bench = tuple(BENCHMARKS)
    pngs.append(figures.weights(results, bench, fig / "weights.png"))
    if placement.table.height:
        pngs.append(figures.checkpoints(space, placement, fig / "checkpoints.png"))
    return pngs


def summary_table(results: list[ExperimentResult]) -> pl.DataFrame:
    """One row per experiment: test MSE of every method on its own test models and on the
    common ones, and the bootstrap coverage."""
    rows = []
    for r in results:
        m = r.methods
        common = list(r.common_test)
        row = {"experiment": r.experiment.name, "n_train": m["pc"].n_train}
        for name in ("pc", "flops", "size"):
            row[f"{name} test MSE"] = _fmt(m[name].test_mse)
            row[f"{name} n_test"] = m[name].n_test
        row["n_common"] = len(common)
        for name in ("pc", "flops", "size"):
            row[f"{name} common MSE"] = _fmt(m[name].mse_on(common))
        row["PI coverage"] = (f"{r.bootstrap.coverage:.0%}" if r.bootstrap is not None
                              and r.bootstrap.table.height else "")
        rows.append(row)
    return pl.DataFrame(rows)


def _wins(results: list[ExperimentResult], other: str) -> tuple[int, int]:
    """(experiments where pc beats ``other`` on the common test models, comparable ones)."""
    wins = n = 0
    for r in results:
        common = list(r.common_test)
        a, b = r.methods["pc"].mse_on(common), r.methods[other].mse_on(common)
        if math.isfinite(a) and math.isfinite(b):
            n += 1
            wins += a < b
    return wins, n


def _document(space: BaseSpace, placement: Placement, results: list[ExperimentResult],
              n_bootstrap: int, seed: int, seconds: float) -> Document:
    doc = Document("Observational scaling laws on the warehouse")
    ratio = space.explained_variance_ratio
    wf, nf = _wins(results, "flops")
    ws, ns = _wins(results, "size")
    doc.paragraph(
        "A reproduction of Ruan, Maddison & Hashimoto (2024) with the authors' released method "
        "(ryoungj/ObsScaling @4d6e1e43), on the `obsscaling` source of the warehouse: a "
        "low-dimensional capability space from 8 standard benchmarks, sigmoid predictions of "
        "harder downstream scores from it, against the same sigmoid of log training FLOPs or "
        "log model size, on the paper's splits. Beyond the paper: bootstrap prediction "
        "intervals over models, and the warehouse's own training runs placed in the same "
        "space."
    )
    doc.bullets([
        f"On the paper's base set ({space.table.height} models, "
        f"{space.table['family'].n_unique()} families), **PC-1 explains {ratio[0]:.1%}** of the "
        f"variance and **PC-1..3 explain {ratio[:3].sum():.1%}** (paper: ~80% and ~97%).",
        f"The 3-PC sigmoid has a lower test MSE than the FLOPs baseline in **{wf} of {nf}** "
        f"experiments and than the size baseline in **{ws} of {ns}**, all scored on the test "
        "models every method can score (the compute baselines cannot score models of "
        "undisclosed FLOPs or size).",
        f"PC-1 is near-linear in log FLOPs within families: median R² "
        f"{space.trends['r2'].median():.3f} over {space.trends.height} families with >= 3 "
        "models.",
        _placement_summary(placement),
    ])
    doc.paragraph(f"Built in {seconds:.0f} s; bootstrap: {n_bootstrap} resamples, seed {seed}.",
                  note=True)
    _space_section(doc, space)
    _prediction_sections(doc, results, n_bootstrap)
    _weights_section(doc, results)
    _checkpoint_section(doc, space, placement)
    _method_section(doc)
    return doc


def _placement_summary(placement: Placement) -> str:
    sources = ", ".join(sorted(set(placement.table["source"].to_list()))) or "none"
    text = f"{placement.table.height} warehouse checkpoints placed in the capability space " \
           f"({sources})"
    runs = placement.runs
    if runs is None or not runs.height:
        return text + "."
    rising = int((runs["spearman"] > 0.5).sum())
    return (text + f"; PC-1 rises with training tokens (Spearman > 0.5) along {rising} of "
            f"{runs.height} runs with >= 5 checkpoints (median Spearman "
            f"{runs['spearman'].median():.2f}); last section.")


def _space_section(doc: Document, space: BaseSpace) -> None:
    doc.heading("Capability space")
    ratio = space.explained_variance_ratio
    doc.paragraph(
        f"Missing cells ({int(space.table['n_imputed'].sum())} of "
        f"{space.table.height * len(space.benchmarks)}) are imputed by iterative rank-1 PCA on "
        "z-scored columns, clipped to [0, 1]; the PCA is then fitted on the raw accuracies, "
        "centred but not standardised, with no train/test split."
    )
    doc.figure(f"{FIGURES}/scree.png", "Explained variance per component and cumulative; "
               "dotted: the paper's ~80% and ~97%.")
    doc.table(pl.DataFrame({
        "component": [f"PC-{i + 1}" for i in range(ratio.size)],
        "explained variance": [f"{v:.2%}" for v in ratio],
        "cumulative": [f"{v:.2%}" for v in np.cumsum(ratio)],
    }))
    doc.figure(f"{FIGURES}/loadings.png", "Loadings of PC-1..3: PC-1 weights every benchmark "
               "positively (general capability).")
    doc.figure(f"{FIGURES}/pc1_vs_flops.png", "PC-1 against log10 training FLOPs per family "
               "(families with known FLOPs), with each family's OLS line.")
    doc.table(space.trends.rename({"slope": "PC-1 per decade of FLOPs"}))


def _prediction_sections(doc: Document, results: list[ExperimentResult],
                         n_bootstrap: int) -> None:
    doc.heading("Predictions")
    doc.paragraph(
        "Test MSE on the target's processed scale (raw accuracy, or the min-max normalised "
        "score). `test MSE` is each method on every test model it can score, as the released "
        "code reports it; the compute baselines drop test models of unknown FLOPs or size "
        "(`n_test` is smaller). `common MSE` scores every method on the same test models, "
        "those all three can score (`n_common`). Agents: the held-out models are proprietary, "
        "so the compute baselines have no test model at all."
        + (f" `PI coverage`: share of test models inside their 90% bootstrap prediction "
           f"interval ({n_bootstrap} resamples of the training models, whole pipeline refitted)."
           if n_bootstrap else "")
    )
    doc.table(summary_table(results))
    for group, title in GROUPS.items():
        doc.heading(title, 3)
        for r in (r for r in results if r.experiment.group == group):
            e = r.experiment
            doc.paragraph(
                f"**{e.title}** (`{e.name}`): target `{e.target}`"
                + (f" min-max normalised with {e.y_range}" if e.y_range else "")
                + f"; {e.models} models ({r.data.table.height}); split: {e.split.describe()}; "
                f"fit: {e.nonlinearity}, {e.loss}"
                + (f" (δ = {e.delta:g})" if e.loss == "huber" else "")
                + f"; features: {len(e.features)} benchmarks"
                + ("" if "GSM8K" in e.features or e.group == "agents" else " (no GSM8K)")
                + f". Settings: {e.provenance}."
            )
            doc.figure(f"{FIGURES}/fit_{_slug(e.name)}.png",
                       f"{e.title}: sigmoid of model size, of training FLOPs, and of "
                       f"{r.n_components} PCs (x: {e.ref_family}-equivalent FLOPs); blue "
                       "train, red test" + (", bars: 90% prediction intervals"
                                            if r.bootstrap is not None else "") + ".")
            table = r.mse_table().select(
                "method", "n_train", "train_mse", "n_test", "test_mse", "n_test_common",
                "test_mse_common").with_columns(
                pl.col("train_mse", "test_mse", "test_mse_common").map_elements(
                    _fmt, return_dtype=pl.String))
            doc.table(table)
            notes = list(r.notes)
            if r.equivalent is not None:
                p = r.methods["pc"].params
                notes.append(
                    f"law: y = {p.height:.3f}·σ({r.equivalent.slope:.3f}·log10 C̄ "
                    f"{r.equivalent.intercept:+.2f}) + {p.floor:.3f}, C̄ the "
                    f"{e.ref_family}-equivalent FLOPs")
            doc.bullets(notes)


def _weights_section(doc: Document, results: list[ExperimentResult]) -> None:
    doc.heading("Benchmark weights")
    doc.paragraph(
        "The fitted PC weights carried back to the benchmarks, βᵀV_K (V_K: the training "
        "split's loadings of PC-1..K): how much a unit of each benchmark's accuracy moves the "
        "target's logit. Rows are scaled to unit norm in the figure; raw values below."
    )
    doc.figure(f"{FIGURES}/weights.png", "Benchmark weights of every experiment.")
    cols = list(BENCHMARKS) + ["Winogrande"]
    rows = []
    for r in results:
        row = {"experiment": r.experiment.name}
        for b in cols:
            v = r.weights.get(b)
            row[b] = None if v is None else round(v, 2)
        rows.append(row)
    frame = pl.DataFrame(rows)
    doc.table(frame.select([c for c in frame.columns if frame[c].null_count() < frame.height]))


def _checkpoint_section(doc: Document, space: BaseSpace, placement: Placement) -> None:
    doc.heading("The warehouse's checkpoints in capability space")
    mapping = [{"source": s, "benchmark": b, "warehouse metric": m, "shots": k}
               for s, spec in data.CHECKPOINT_BENCHMARKS.items() for b, (m, k) in spec.items()]
    doc.paragraph(
        "Each checkpoint of the warehouse's own runs is placed in the base space with the "
        "benchmarks its source evaluated; the others are filled like a test model's holes "
        "(the base fit's scaler and rank-1 PCA), then projected. PC-1 is the meaningful "
        "coordinate (two or four of eight benchmarks observed); its Llama-2-equivalent FLOPs "
        "come from the Llama-2 line of PC-1 against log10 FLOPs. Protocols differ from the "
        "leaderboard's (shots, normalisation), so positions are approximate; along a run the "
        "protocol is fixed. The `opt` source has no overlapping benchmark; OPT and BLOOM final "
        "models evaluated with Pythia's harness come with `pythia`."
    )
    doc.table(pl.DataFrame(mapping))
    if not placement.table.height:
        doc.paragraph("No checkpoint of pythia, olmo or overtrain is in this warehouse; run "
                      "'meta ingest pythia olmo overtrain'.", note=True)
        return
    doc.figure(f"{FIGURES}/checkpoints.png",
               "Capability along training runs: PC-1 and Llama-2-equivalent FLOPs against "
               "training FLOPs (Pythia-deduped and OLMo checkpoints as lines, the "
               "over-training grid's final models as triangles, ObsScaling models in grey).")
    counts = placement.table.group_by("source").agg(
        pl.len().alias("checkpoints"), pl.col("model_id").n_unique().alias("runs"),
        pl.col("n_benchmarks").min().alias("min benchmarks"),
        pl.col("n_benchmarks").max().alias("max benchmarks"),
    ).sort("source")
    doc.table(counts)
    if placement.runs is not None and placement.runs.height:
        doc.paragraph("PC-1 along each run with at least 5 placed checkpoints (Spearman: rank "
                      "correlation of PC-1 with training tokens):")
        doc.table(placement.runs.with_columns(
            pl.col("pc1_first", "pc1_last", "spearman").round(3)))
    v = placement.validation
    if v.height:
        r = np.corrcoef(v["pc1_placed"], v["pc1_obs"])[0, 1] if v.height > 2 else float("nan")
        doc.paragraph(
            f"Check: the last checkpoint of {v.height} runs that are also ObsScaling models, "
            f"placed from its few benchmarks, against the same model's ObsScaling row "
            f"(projected with all the benchmarks it has): correlation {r:.3f}, median absolute "
            f"difference {v['difference'].abs().median():.3f} in PC-1 (the 77 models span "
            f"{space.table['PC-1'].min():.2f} to {space.table['PC-1'].max():.2f})."
        )
        doc.table(v.with_columns(pl.col("pc1_placed", "pc1_obs", "difference").round(3)))
    if placement.n_out_of_range:
        doc.paragraph(f"{placement.n_out_of_range} warehouse scores outside [0, 1] (OLMo "
                      "HellaSwag, upstream) were treated as missing.", note=True)
    doc.paragraph("Every placed checkpoint is in `checkpoints.csv`.", note=True)


def _method_section(doc: Document) -> None:
    doc.heading("Method, and where it departs from the released code")
    doc.bullets([
        "Imputation: z-score with NaN-ignoring mean and std (ddof 0) of the training split, "
        "fill with the column mean, up to 1,000 rank-1 PCA reconstructions overwriting only "
        "the missing cells, un-scale, clip to [0, 1]; test rows with the training fit. The "
        "loop stops early only where the code's whole-matrix test passes or an iteration "
        "leaves the matrix bit-for-bit unchanged (then every later one would too).",
        "PCA: 5 components on the imputed training split, centred not scaled; signs as "
        "scikit-learn's svd_flip (largest loading positive); K = 3.",
        "Fit: y = h·σ(α + βᵀx) + (1 − h), h in [0.8, 1] (curve_fit, trust-region-reflective) "
        "or the plain sigmoid; Huber δ = 1 (L-BFGS-B / BFGS) where the notebooks use it; start "
        "α = 0, β = 0.03, b = 0.",
        "Baselines: ln of FLOPs in units of 1E21 and of size in billions (the code's units and "
        "natural log; its axis says log10). Models of unknown FLOPs are test models of the "
        "cutoff split and cannot be scored by the baselines; both MSEs are reported.",
        "FLOPs cutoff: C <= threshold with a relative 1e-9 allowance for round-off of the "
        "1E21 units (Qwen1.5-7B's 1.68e23 must be a training model of the GPQA split, as "
        "upstream).",
        "f-equivalent FLOPs: OLS of the fitted linear score on log10 C over the reference "
        "family (Llama-2; Llama-2-Chat for agents), inverted; in FLOPs, not 1E21.",
        "Emergent BigBench: the notebook is not in the repository; settings (features, "
        "cutoffs 8.4e22 and 2.2e22 for arithmetic, ranges) follow a third-party "
        "transcription, and the fit is the README's default (sigmoid with floor, least "
        "squares): unverified against the paper's figures.",
        "Model size is upstream's `Model Size (B)`, inconsistent for MoE models (total for "
        "some, active for others; flagged in `models.flag`), as in the paper.",
    ])
