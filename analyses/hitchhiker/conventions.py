"""How the Hitchhiker studies shape the data: the released code's conventions, one by one.

``meta`` deliberately shapes some data differently from the released code (IBM/ColPret at
16f23bbe). Each difference is a :class:`Convention`: a small, named transformation that gives
the released behaviour back. A *convention set* names the conventions switched on:

- ``corrected`` (the default): none; the warehouse's own data handling;
- ``released``: every convention, as the released code shapes the data, quirks included;
- ``corrected+<name>``: one convention alone, for the sensitivity of each claim to it.

A convention acts at one of three places:

- ``points``: it rewrites a family's fitted points (values or membership), so its laws get
  another data hash, hence other ids;
- ``laws``: it changes which laws a study makes or how a law is fitted, and says so in the
  law's spec or settings, hence its id;
- ``tables``: it changes how the guideline tables aggregate fitted laws.

A law's id therefore changes exactly when a convention changes what the law is: a law that
no convention of a set touches is the same law in both sets and is fitted once. Which laws
belong to a set is stored in ``law_sets``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl

from warehouse.errors import UnknownName
from warehouse.sql import query

DEFAULT = "corrected"
RELEASED = "released"
ROUND_TO = 1e7  # the released Chinchilla sizes are rounded to 10M


@dataclass(frozen=True)
class Convention:
    """One way the released code shapes the data that ``meta`` does not follow by default.

    Attributes
    ----------
    name : str
    acts_on : {"points", "laws", "tables"}
    released : str
        What the released code does (one sentence).
    corrected : str
        What ``meta`` does instead, and why.
    transform : callable or None
        For ``points`` conventions: ``(points, con) -> points`` over the frame of
        :func:`warehouse.identity.family_points` (every scaled family).
    """

    name: str
    acts_on: str
    released: str
    corrected: str
    transform: Callable[[pl.DataFrame, duckdb.DuckDBPyConnection], pl.DataFrame] | None = None


def _where(points: pl.DataFrame, rows: pl.Expr, **columns: pl.Expr) -> pl.DataFrame:
    """``points`` with ``columns`` replaced on the ``rows`` (a boolean expression) only."""
    return points.with_columns(
        **{name: pl.when(rows).then(value).otherwise(pl.col(name))
           for name, value in columns.items()})


def opt_perplexity(points: pl.DataFrame, con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """OPT's perf is its raw validation perplexity instead of log2 of it."""
    return _where(points, pl.col("family") == "OPT", perf=2.0 ** pl.col("perf"))


def chinchilla_sizes(points: pl.DataFrame, con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Chinchilla's digitised sizes rounded to 10M: points of one rounded size are one model."""
    rounded = (pl.col("num_params") / ROUND_TO).round(0) * ROUND_TO
    return _where(points, pl.col("family") == "chinchilla", num_params=rounded,
                  model_id=pl.format("chinchilla/{}", rounded.cast(pl.Int64)))


_BIMIX_LOG2 = """
SELECT c.checkpoint_id, avg(log2(x.value)) AS log2_perf
FROM metrics x
JOIN checkpoints c USING (checkpoint_id)
JOIN models mo USING (model_id)
JOIN families f ON f.family = mo.family
WHERE f.source = 'bimix' AND x.shots = 0 AND list_contains(f.perf_metric, x.metric)
GROUP BY ALL
"""


def bimix_log2(points: pl.DataFrame, con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """BiMix's perf is the mean of log2 of its per-domain values (read as perplexities)."""
    logs = query(con, _BIMIX_LOG2)
    if logs.is_empty():
        return points
    joined = points.join(logs, on="checkpoint_id", how="left", maintain_order="left")
    return (_where(joined, pl.col("log2_perf").is_not_null(), perf=pl.col("log2_perf"))
            .drop("log2_perf"))


_READINGS = """
SELECT r.checkpoint_id, r.reading,
       CASE WHEN x.kind = 'ppl' THEN log2(r.value) ELSE r.value END AS reading_perf
FROM readings r
JOIN metrics x ON x.checkpoint_id = r.checkpoint_id AND x.metric = r.metric AND x.shots = 0
JOIN checkpoints c ON c.checkpoint_id = r.checkpoint_id
JOIN models mo ON mo.model_id = c.model_id
JOIN families f ON f.family = mo.family
WHERE len(f.perf_metric) = 1 AND list_contains(f.perf_metric, r.metric)
"""


def every_reading(points: pl.DataFrame, con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each averaged point of a single-metric family becomes its readings (a digitised
    curve's repeated readings at one x), one point each (checkpoint id ``<id>#<reading>``)."""
    readings = query(con, _READINGS)
    if readings.is_empty():
        return points
    expanded = points.join(readings, on="checkpoint_id").with_columns(
        checkpoint_id=pl.format("{}#{}", "checkpoint_id", "reading"),
        perf=pl.col("reading_perf"),
    ).drop("reading", "reading_perf")
    kept = points.join(readings.select("checkpoint_id").unique(), on="checkpoint_id",
                       how="anti")
    return pl.concat([kept, expanded])


# The v0-era bias-study runs the released pythia-deduped family holds, under their upstream
# (pre-rename) sizes; the 6.7B one is merged into pythia-6.9b-deduped.
PYTHIA_BIAS_RUNS = {
    "pythia/pythia-baseline-70m-deduped-v0": 19e6,
    "pythia/pythia-baseline-410m-deduped-v0": 350e6,
    "pythia/pythia-baseline-1.4b-deduped-v0": 1.3e9,
}
PYTHIA_MERGED = {"pythia/pythia-baseline-6.9b-deduped-v0": "pythia/pythia-6.9b-deduped"}
PYTHIA_OWN_FAMILY = {"pythia/pythia-1b": "pythia-1b-bf16"}  # the v1 1b run retrained in bf16


def pythia_membership(points: pl.DataFrame, con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Pythia's families as the released code forms them: pythia-deduped gains the bias
    study's 19m, 350m and 1.3b runs (11 sizes) and the 6.7B one as more checkpoints of 6.9B;
    the bf16 1b run leaves pythia for a family of its own (7 sizes)."""
    moved = pl.col("model_id").is_in(list(PYTHIA_BIAS_RUNS) + list(PYTHIA_MERGED))
    out = _where(points, moved, family=pl.lit("pythia-deduped"))
    out = _where(out, pl.col("model_id").is_in(list(PYTHIA_BIAS_RUNS)),
                 num_params=pl.col("model_id").replace_strict(PYTHIA_BIAS_RUNS, default=None,
                                                              return_dtype=pl.Float64))
    out = _where(out, pl.col("model_id").is_in(list(PYTHIA_MERGED)),
                 model_id=pl.col("model_id").replace(PYTHIA_MERGED))
    own = pl.col("model_id").is_in(list(PYTHIA_OWN_FAMILY))
    return _where(out, own, family=pl.col("model_id").replace(PYTHIA_OWN_FAMILY))


_BATCH_4M = """
SELECT model_id FROM models
WHERE source = 'pythia' AND flag LIKE '%trained with 4,194,304 tokens per step%'
"""


def pythia_v0_batch(points: pl.DataFrame, con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The v0 runs trained on 4,194,304-token batches (ingest/pythia.py flags them) count
    2,097,152 tokens per step, as the released code assumes for every Pythia run."""
    runs = query(con, _BATCH_4M)["model_id"].to_list()
    return _where(points, pl.col("model_id").is_in(runs), tokens=pl.col("tokens") / 2)


CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "opt-perplexity", "points",
            released="fits OPT's raw perplexity (its loader renames the ppl column to loss)",
            corrected="fits log2(perplexity), the Hitchhiker rule for every perplexity",
            transform=opt_perplexity,
        ),
        Convention(
            "chinchilla-rounded-sizes", "points",
            released="rounds Chinchilla's digitised sizes to 10M: 43 models instead of 142",
            corrected="keeps the digitised sizes, one model per isoFLOP point",
            transform=chinchilla_sizes,
        ),
        Convention(
            "every-reading", "points",
            released="fits every digitised reading of GPT-3's curves, several at one x",
            corrected="fits their mean per x, the centre of the drawn line (ingest/gpt3.py)",
            transform=every_reading,
        ),
        Convention(
            "pythia-v0-batch", "points",
            released="counts 2,097,152 tokens per step for every Pythia run, the v0 160m, "
                     "410m and 1.4b ones (4,194,304 per step) included",
            corrected="counts each run's true batch (ingest/pythia.py)",
            transform=pythia_v0_batch,
        ),
        Convention(
            "pythia-membership", "points",
            released="puts the bias study's 19m/350m/1.3b runs in pythia-deduped (11 sizes) "
                     "with its 6.7B run merged into 6.9B, and the bf16 1b run in a family "
                     "of its own (pythia: 7 sizes)",
            corrected="keeps the bias-study runs in their own -v0 families and the bf16 run "
                      "as the official v1 pythia-1b",
            transform=pythia_membership,
        ),
        Convention(
            "bimix-log2", "points",
            released="takes log2 of BiMix's values, which it reads as perplexities",
            corrected="fits the values as they are: log-perplexities in nats (ingest/bimix.py)",
            transform=bimix_log2,
        ),
        Convention(
            "every-run", "laws",
            released="studies every run of a size (it knows no hyperparameter sweeps)",
            corrected="studies each sweep's best run (the envelope), runs='best'",
        ),
        Convention(
            "fit-few-points", "laws",
            released="fits laws on 1-4 points with curve_fit (an underdetermined fit)",
            corrected="gives a law with fewer points than parameters the status too_few_points",
        ),
        Convention(
            "loo-drops-neighbour", "laws",
            released="leave-one-out also drops the model before the one left out",
            corrected="drops the model left out only",
        ),
        Convention(
            "baselines-share-cache", "laws",
            released="scores most-trained as best-seen (the two share one cache name)",
            corrected="scores the most-trained model's loss",
        ),
        Convention(
            "fill-released", "tables",
            released="fill_nas fills only the first column of a heatmap row, from the next",
            corrected="interpolates every empty cell along p between its neighbours",
        ),
    )
}


def law_conventions(switched: frozenset[str]) -> frozenset[str]:
    """The conventions of ``switched`` that act on laws (not on points or tables): with the
    points, they decide which laws a family's studies make."""
    return frozenset(n for n in switched if CONVENTIONS[n].acts_on == "laws")


def convention_sets() -> dict[str, tuple[str, ...]]:
    """Every convention set: ``corrected``, ``released`` and ``corrected+<name>`` for each
    convention alone."""
    sets = {DEFAULT: (), RELEASED: tuple(CONVENTIONS)}
    sets.update({f"{DEFAULT}+{name}": (name,) for name in CONVENTIONS})
    return sets


def choices() -> dict[str, tuple[str, ...]]:
    """What ``meta fit-all --conventions`` accepts: a set's name, ``both`` (corrected and
    released), ``sensitivity`` (corrected and each convention alone) or ``all``."""
    sets = convention_sets()
    alone = tuple(name for name in sets if name.startswith(f"{DEFAULT}+"))
    named = {name: (name,) for name in (DEFAULT, RELEASED)}
    return {**named, "both": (DEFAULT, RELEASED), "sensitivity": (DEFAULT, *alone),
            "all": (DEFAULT, RELEASED, *alone), **{name: (name,) for name in alone}}


CHOICES = choices()


def get_set(name: str) -> frozenset[str]:
    """The conventions switched on by the set ``name``."""
    sets = convention_sets()
    if name not in sets:
        raise UnknownName("convention set", name, list(sets))
    return frozenset(sets[name])


def shape_points(points: pl.DataFrame, con: duckdb.DuckDBPyConnection,
                 conventions: frozenset[str]) -> pl.DataFrame:
    """``points`` (:func:`warehouse.identity.family_points`) as the ``points`` conventions
    of a set shape them, in the order of :data:`CONVENTIONS`, re-sorted as a family's points
    are (:data:`warehouse.identity.FAMILY_POINTS`)."""
    changed = points
    for convention in CONVENTIONS.values():
        if convention.name in conventions and convention.transform is not None:
            changed = convention.transform(changed, con)
    if changed is points:
        return points
    return changed.sort("family", "num_params", "model_id", "tokens", "checkpoint_id")
