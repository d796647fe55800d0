"""The public families whose laws behave like a family's, and what a single size borrows.

What is compared is what means the same across loss units and tokenizers: the exponents
alpha and beta, and the curve's *reducible share* ``(L - E) / L`` at the family's largest
run (how far its best run still is from the law's floor). Each is scaled by its spread over
the public families (median absolute deviation), and the distance is Euclidean over the
features both laws have (a single size has no alpha). A and E carry the loss's units, so A
is borrowed only from a family of the same loss kind (``loss``: a loss in nats; ``bits``:
log2 of a perplexity).

A family with a single size cannot identify A and alpha: Hitchhiker's one-model recipe
borrows them from another family and fits E, B and beta on the run's curve; here they come
from the nearest identified public law of the same loss kind (:func:`borrow`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from analyses.hitchhiker.protocol import Family
from analyses.laws import fixed, get_form
from analyses.laws.forms import Form
from analyses.predict.design import batch, fit_rows
from analyses.predict.law import estimator
from warehouse.errors import MetaError
from warehouse.sql import query

FEATURES = ("alpha", "beta", "reducible")
SCHEMA = {
    "family": pl.String, "source": pl.String, "loss_kind": pl.String, "n_sizes": pl.Int64,
    "E": pl.Float64, "A": pl.Float64, "B": pl.Float64, "alpha": pl.Float64,
    "beta": pl.Float64, "reducible": pl.Float64, "status": pl.String,
    "unidentified": pl.String,
}
_KINDS = """
SELECT mo.family, CASE WHEN count(DISTINCT x.kind) > 1 THEN 'mixed'
                       WHEN any_value(x.kind) = 'ppl' THEN 'bits' ELSE 'loss' END AS loss_kind
FROM metrics x
JOIN checkpoints c USING (checkpoint_id)
JOIN models mo USING (model_id)
JOIN families f ON f.family = mo.family
WHERE x.shots = 0 AND list_contains(f.perf_metric, x.metric)
  AND list_contains(?, mo.family)
GROUP BY 1
"""


def loss_kinds(con, names: list[str]) -> dict[str, str]:
    """``loss`` or ``bits`` (perf is log2 of a perplexity) per family; ``mixed`` if both."""
    return dict(query(con, _KINDS, [names]).iter_rows())


def _reducible(form: Form, params: np.ndarray, family: Family) -> float:
    """``(L - E) / L`` of the law at the family's largest, most trained run."""
    top = family.model_ids[-1]
    inputs = {"N": family.size(top), "D": family.final(top)[0]}
    loss = float(form.predict(params, *[np.array([inputs[x]]) for x in form.inputs])[0])
    e = params[form.names.index("E")]
    return (loss - e) / loss


def family_law(family: Family, loss_kind: str, source: str) -> dict:
    """One row of :data:`SCHEMA`: the family's law on every run it studies (the form ``run``,
    L = E + B / D^beta, when it has a single size)."""
    rows = fit_rows(family, family.model_ids)
    n_sizes = len(family.sizes(family.model_ids))
    form = get_form("chinchilla" if n_sizes > 1 else "run")
    b, _ = batch(family, rows)
    if form.inputs == ("D",):
        b = type(b)(b.x[..., 1:], b.y, b.mask, ("D",))
    est = estimator(form).fit(b)
    params = est.params_[0]
    natural = dict(zip(form.names, params.tolist(), strict=True))
    with np.errstate(all="ignore"):
        reducible = _reducible(form, params, family)
    return {
        "family": family.name, "source": source, "loss_kind": loss_kind, "n_sizes": n_sizes,
        "E": natural.get("E"), "A": natural.get("A"), "B": natural.get("B"),
        "alpha": natural.get("alpha"), "beta": natural.get("beta"), "reducible": reducible,
        "status": str(est.status_[0]), "unidentified": est.unidentified_[0],
    }


def family_laws(families: list[Family], kinds: dict[str, str],
                sources: dict[str, str]) -> pl.DataFrame:
    """:func:`family_law` of each of ``families``."""
    rows = [family_law(f, kinds.get(f.name, "loss"), sources[f.name]) for f in families]
    return pl.DataFrame(rows, schema=SCHEMA)


def _scales(public: pl.DataFrame) -> dict[str, float]:
    good = public.filter(pl.col("unidentified").is_null())
    out = {}
    for f in FEATURES:
        v = good[f].drop_nulls().drop_nans().to_numpy()
        mad = np.median(np.abs(v - np.median(v))) if v.size else 1.0
        out[f] = float(mad) if mad > 0 else 1.0
    return out


def rank(law: dict, public: pl.DataFrame) -> pl.DataFrame:
    """The public families ordered by distance to ``law`` (a :func:`family_law` row);
    ``features`` names what the distance used."""
    scales = _scales(public)
    used = [f for f in FEATURES if law.get(f) is not None and np.isfinite(law[f])]
    if not used:
        raise MetaError(f"The law of {law['family']} could not be fitted (status "
                        f"{law['status']}), so there is nothing to compare.")
    distance = pl.sum_horizontal(
        ((pl.col(f) - law[f]) / scales[f]) ** 2 for f in used).sqrt()
    return (
        public.filter(pl.col("family") != law["family"])
        .with_columns(distance=distance, same_kind=pl.col("loss_kind") == law["loss_kind"],
                      features=pl.lit(", ".join(used)))
        .filter(pl.col("distance").is_finite())
        .sort("distance")
    )


def borrow(ranked: pl.DataFrame) -> dict | None:
    """The nearest public law of the same loss kind that its data identify, whose A and
    alpha a single size would borrow (None if there is none)."""
    good = ranked.filter(pl.col("same_kind") & pl.col("unidentified").is_null()
                         & (pl.col("status") == "ok"))
    return good.row(0, named=True) if good.height else None


def borrowed_form(row: dict) -> Form:
    """Chinchilla with ``row``'s A and alpha held fixed (E, B, beta free)."""
    return fixed(get_form("chinchilla"), name=f"chinchilla-borrowed-{row['family']}",
                 A=row["A"], alpha=row["alpha"])
