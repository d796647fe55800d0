"""How far public laws of each design missed their target: the extrapolation part of every
prediction's interval, and the leave-one-family-out check of that interval.

For every public family of natural-language models with at least 3 sizes (target: its
largest size's best run, as in the studies; :data:`SYNTHETIC` sources are left out), laws
are fitted the way a user family is (:mod:`analyses.predict.design`) on every run of its k
smallest sizes (k = 2 ... all sizes below the target's), with each run seen to a share p of
:data:`FRACTIONS`, and predict the target's final perf. Each law is one
row: its design (sizes, scale-up, share seen) and its signed relative error
``(predicted - actual) / actual``.

The table ships with the package (``calibration.csv`` with ``calibration.json``, its version
and provenance), so ``meta predict`` works on a warehouse holding only a user's runs;
``meta calibrate`` recomputes it when the public data changes.

Rows are chosen for a prediction by design (:func:`errors_for`) and weighted so that every
source counts alike (the 16 near-identical datablations families would otherwise dominate).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from analyses.hitchhiker.protocol import Family, eligible
from analyses.hitchhiker.run import load_families
from analyses.laws import LawBatch, get_form
from analyses.predict.design import batch, design, fit_rows
from analyses.predict.law import LEVELS, estimator, fit_runs
from warehouse.errors import MetaError
from warehouse.jsonsafe import finite_or_none
from warehouse.sql import query

VERSION = 1  # of the method below; bump when a change would change the table
FRACTIONS = (0.5, 1.0)
CHUNK = 200
MIN_ROWS, MIN_SOURCES = 30, 3
SIZES_CAP = 5  # designs with 5 or more sizes are alike
SCHEMA = {
    "family": pl.String, "source": pl.String, "n_sizes": pl.Int64, "scale_up": pl.Float64,
    "token_ratio": pl.Float64, "fraction": pl.Float64, "predicted": pl.Float64,
    "actual": pl.Float64, "error": pl.Float64, "status": pl.String, "unidentified": pl.String,
}
# Synthetic corpora (random PCFGs) scale unlike natural language: a jump from the unigram
# plateau within one budget step is common there, and their laws miss by 60-100%. They
# would set every interval for language-model runs; they are left out.
SYNTHETIC = ("gzip-pcfg", "pcfg-runs")
_PUBLIC = "SELECT family, source FROM families WHERE origin = 'public'"


def public_families(con: duckdb.DuckDBPyConnection) -> tuple[list[Family], dict[str, str]]:
    """The public families that can be studied (>= 3 sizes, a target under perf 10), and the
    source of each."""
    sources = {f: s for f, s in query(con, _PUBLIC).iter_rows() if s not in SYNTHETIC}
    families = [f for f in load_families(con, list(sources)) if eligible(f) is None]
    return families, sources


def public_laws(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each public family's own law on all its runs (what ``meta similar`` compares)."""
    from analyses.predict.similar import family_laws, loss_kinds

    families, sources = public_families(con)
    return family_laws(families, loss_kinds(con, [f.name for f in families]), sources)


@dataclass(frozen=True)
class _Law:
    family: Family
    rows: np.ndarray
    fraction: float


def compute(con: duckdb.DuckDBPyConnection,
            progress: Callable[[int, int], None] = lambda done, total: None) -> pl.DataFrame:
    """Fit every calibration law of the public families and score it (one row each)."""
    families, sources = public_families(con)
    laws = []
    for f in families:
        train = f.smaller_than(f.target)
        sizes = f.sizes(train)
        for k in range(2, len(sizes) + 1):
            models = f.of_sizes(train, sizes[:k])
            for p in FRACTIONS:
                rows = fit_rows(f, models, p)
                if rows.size:
                    laws.append(_Law(f, rows, p))
    laws.sort(key=lambda law: law.rows.size)
    out = []
    chinchilla = get_form("chinchilla")
    for start in range(0, len(laws), CHUNK):
        chunk = laws[start:start + CHUNK]
        single = [batch(law.family, law.rows)[0] for law in chunk]
        b = LawBatch.from_ragged([s.x[0] for s in single], [s.y[0] for s in single])
        est = estimator().fit(b)
        for i, law in enumerate(chunk):
            f = law.family
            tokens, actual = f.final(f.target)
            d = design(f, law.rows, law.fraction)
            with np.errstate(all="ignore"):
                predicted = float(chinchilla.predict(est.params_[i], f.size(f.target),
                                                     tokens)[0])
            out.append({
                "family": f.name, "source": sources[f.name], "n_sizes": d.n_sizes,
                "scale_up": d.scale_up(f.size(f.target)),
                "token_ratio": tokens / d.largest_tokens, "fraction": law.fraction,
                "predicted": predicted, "actual": actual,
                "error": (predicted - actual) / actual, "status": str(est.status_[i]),
                "unidentified": est.unidentified_[i],
            })
        progress(min(start + CHUNK, len(laws)), len(laws))
    return pl.DataFrame(out, schema=SCHEMA).sort("source", "family", "n_sizes", "fraction")


SHIPPED = Path(str(resources.files("analyses.predict")))
FILES = ("calibration", "families")  # calibration.csv, families.csv (analyses.predict.similar)


def save(calibration: pl.DataFrame, families: pl.DataFrame, data_digest: str,
         folder: Path | None = None) -> Path:
    """Write ``calibration.csv``, ``families.csv`` (the public families' own laws, for
    ``meta similar``) and ``calibration.json`` (version, date, data digest, counts) into
    ``folder`` (created if needed; default: the tables ``meta`` ships). Returns the JSON."""
    folder = Path(folder) if folder is not None else SHIPPED
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in zip(FILES, (calibration, families), strict=True):
        table.write_csv(folder / f"{name}.csv", float_precision=None)
    meta = folder / "calibration.json"
    meta.write_text(json.dumps({
        "version": VERSION, "computed_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_digest": data_digest, "fractions": list(FRACTIONS),
        "rows": calibration.height, "families": calibration["family"].n_unique(),
        "sources": calibration["source"].n_unique(), "family_laws": families.height,
    }, indent=2) + "\n")
    return meta


def record_coverage(summary: dict, folder: Path | None = None) -> None:
    """Add the leave-one-family-out check to ``calibration.json`` (the report cites it)."""
    meta = (Path(folder) if folder is not None else SHIPPED) / "calibration.json"
    info = json.loads(meta.read_text())
    info["coverage"] = summary
    meta.write_text(json.dumps(info, indent=2) + "\n")


def load(folder: Path | None = None) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """The calibration table, the public families' laws and their metadata (default: the
    ones shipped with ``meta``)."""
    from analyses.predict.similar import SCHEMA as FAMILY_SCHEMA

    base = Path(folder) if folder is not None else SHIPPED
    paths = [base / f"{name}.csv" for name in FILES]
    for path in paths:
        if not path.exists():
            raise MetaError(f"No calibration table at {path}; run 'meta calibrate'.")
    return (pl.read_csv(paths[0], schema=SCHEMA), pl.read_csv(paths[1], schema=FAMILY_SCHEMA),
            json.loads((base / "calibration.json").read_text()))


def errors_for(table: pl.DataFrame, n_sizes: int, scale_up: float, fraction: float = 1.0,
               exclude_sources: Sequence[str] = ()) -> tuple[np.ndarray, np.ndarray, dict]:
    """Signed relative errors of the public laws whose design is like this one, with weights.

    Rows: finite predictions, the nearest share seen, the same number of sizes (5 and more
    alike), a scale-up within a factor 2 (log2 distance <= 1); while that leaves fewer than
    :data:`MIN_ROWS` rows or :data:`MIN_SOURCES` sources the scale-up window doubles, then
    the sizes widen by one each way. Each row is weighted by 1 / (rows of its source).

    Returns
    -------
    errors, weights : ndarray
    description : dict
        ``rows``, ``families``, ``sources``, ``n_sizes`` (the range of sizes used; 5 means
        5 or more) and ``scale_window`` used.
    """
    rows = table.filter(pl.col("error").is_finite()
                        & ~pl.col("source").is_in(list(exclude_sources)))
    if rows.is_empty():
        return np.array([]), np.array([]), {"rows": 0}
    shares = np.unique(rows["fraction"].to_numpy())
    share = float(shares[np.argmin(np.abs(shares - fraction))])
    rows = rows.filter(pl.col("fraction") == share).with_columns(
        distance=(pl.col("scale_up").log(2) - np.log2(scale_up)).abs(),
        sizes=pl.col("n_sizes").clip(upper_bound=SIZES_CAP),
    )
    n = min(n_sizes, SIZES_CAP)
    chosen = rows.head(0)
    for spread in range(SIZES_CAP):
        for window in (1.0, 2.0, 4.0, np.inf):
            chosen = rows.filter(((pl.col("sizes") - n).abs() <= spread)
                                 & (pl.col("distance") <= window))
            if chosen.height >= MIN_ROWS and chosen["source"].n_unique() >= MIN_SOURCES:
                break
        else:
            continue
        break
    counts = chosen.group_by("source").len()
    chosen = chosen.join(counts, on="source")
    description = {
        "rows": chosen.height, "families": chosen["family"].n_unique(),
        "sources": chosen["source"].n_unique(),
        "n_sizes": [max(2, n - spread), min(SIZES_CAP, n + spread)],
        "scale_window": finite_or_none(2 ** window),
        "fraction": share,
    }
    return (chosen["error"].to_numpy(), 1.0 / chosen["len"].to_numpy().astype(float),
            description)


def coverage(con: duckdb.DuckDBPyConnection, table: pl.DataFrame, *, n_boot: int = 100,
             seed: int = 0, progress: Callable[[int, int], None] = lambda d, t: None
             ) -> pl.DataFrame:
    """Leave one public family out at a time: fit its runs of every size below its target's
    (``meta predict``'s law), predict its target with the calibration of every *other*
    source, and say whether the nominal intervals cover the truth.

    Returns
    -------
    pl.DataFrame
        ``family, source, n_sizes, scale_up, loss, actual, low80, high80, covered80, low95,
        high95, covered95``.
    """
    families, sources = public_families(con)
    out = []
    for i, f in enumerate(families):
        target = f.target
        law = fit_runs(f, f.smaller_than(target), n_boot=n_boot, seed=seed)
        tokens, actual = f.final(target)
        scale = law.design.scale_up(f.size(target))
        errors, weights, description = errors_for(table, law.design.n_sizes, scale,
                                                  exclude_sources=[sources[f.name]])
        pred = law.predict(f.size(target), tokens, errors, weights, calibration=description,
                           seed=seed)
        row = {"family": f.name, "source": sources[f.name], "n_sizes": law.design.n_sizes,
               "scale_up": scale, "loss": pred.loss, "actual": actual}
        for interval in pred.combined:
            q = round(100 * interval.level)
            row |= {f"low{q}": interval.low, f"high{q}": interval.high,
                    f"covered{q}": bool(interval.low <= actual <= interval.high)}
        out.append(row)
        progress(i + 1, len(families))
    return pl.DataFrame(out)


def summarize(cover: pl.DataFrame) -> dict:
    """Coverage of each level over the families with a finite prediction (with its binomial
    standard error) and with each source weighted alike; ``no_prediction`` counts the
    families whose law could not predict."""
    missing = cover.filter(~pl.col("loss").is_finite())
    cover = cover.filter(pl.col("loss").is_finite())
    out = {"families": cover.height, "sources": cover["source"].n_unique(),
           "no_prediction": missing["family"].to_list()}
    for level in LEVELS:
        q = round(100 * level)
        hits = cover[f"covered{q}"].cast(pl.Float64)
        share = float(hits.mean())
        per_source = cover.group_by("source").agg(pl.col(f"covered{q}").mean())
        out[f"coverage{q}"] = share
        out[f"se{q}"] = float(np.sqrt(share * (1 - share) / cover.height))
        out[f"coverage{q}_by_source"] = float(per_source[f"covered{q}"].mean())
    return out
