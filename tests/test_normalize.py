"""The one place that validates every loader's frames and derives the warehouse tables."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.base import FAMILY_SCHEMA, MODEL_SCHEMA, POINT_SCHEMA, SourceData, frame
from ingest.normalize import check_chance, normalize
from tests.conftest import checkpoint
from warehouse.errors import BadRow, MetaError


def source(n_models: int = 3, n_steps: int = 4) -> SourceData:
    families = frame([{"family": "fam", "perf_metric": ["loss"]}], FAMILY_SCHEMA)
    models = frame(
        [
            {
                "model_id": f"s/m{i}",
                "family": "fam",
                "num_params": 10.0 ** (6 + i),
                "file": "m.csv",
                "row": i + 2,
            }
            for i in range(n_models)
        ],
        MODEL_SCHEMA,
    )
    points = frame(
        [
            {
                "model_id": f"s/m{i}",
                "step": s,
                "tokens": 1000.0 * s,
                "metric": "loss",
                "value": 3.0 - 0.1 * s,
                "kind": "loss",
                "file": "p.csv",
                "row": 2 + i * n_steps + s,
            }
            for i in range(n_models)
            for s in range(n_steps)
        ],
        POINT_SCHEMA,
    )
    return SourceData(families, models, points, n_files=2)


def with_row(data: SourceData, table: str, index: int, **values) -> SourceData:
    df = getattr(data, table)
    df = df.with_columns(
        [
            pl.when(pl.int_range(pl.len()) == index).then(pl.lit(v)).otherwise(pl.col(c)).alias(c)
            for c, v in values.items()
        ]
    )
    return SourceData(**{**data.__dict__, table: df})


def test_tables_derived():
    t = normalize("s", source())
    assert t["checkpoints"].height == 12
    c = checkpoint(t, "s/m1@step3")
    assert c["tokens"] == 3000.0
    assert c["flops"] == 6 * 1e7 * 3000.0 and c["flops_imputed"]
    assert t["models"].filter(pl.col("model_id") == "s/m2")["max_tokens"][0] == 3000.0
    assert t["families"]["in_aggregate"].to_list() == [True]


def test_checkpoint_ids_without_steps():
    d = source()
    points = d.points.with_columns(step=pl.lit(None, pl.Int64))
    points = points.with_columns(
        tokens=pl.when(pl.col("model_id") == "s/m0").then(None).otherwise(pl.col("tokens"))
    ).filter((pl.col("model_id") != "s/m0") | (pl.col("row") == 2))
    t = normalize("s", SourceData(d.families, d.models, points, 2))
    ids = set(t["checkpoints"]["checkpoint_id"])
    assert "s/m0@final" in ids and "s/m1@3000tokens" in ids


def test_given_flops_are_kept():
    d = source()
    t = normalize(
        "s", SourceData(d.families, d.models, d.points.with_columns(flops=pl.lit(5.0)), 2)
    )
    assert t["checkpoints"]["flops"].unique().to_list() == [5.0]
    assert not t["checkpoints"]["flops_imputed"].any()


@pytest.mark.parametrize(
    "aggregate, family",
    [
        (False, "pythia-intervention"),
        (False, "pythia-5shot"),
        (False, "pythia-v0"),
        (True, "pythia-deduped"),
    ],
)
def test_paper_aggregate_rule(aggregate, family):
    d = source()
    d = SourceData(
        d.families.with_columns(family=pl.lit(family)),
        d.models.with_columns(family=pl.lit(family)),
        d.points,
        2,
    )
    assert normalize("s", d)["families"]["in_aggregate"][0] is aggregate


BAD_MODEL = {
    "num_params is negative (-5)": {"num_params": -5.0},
    "num_params is zero": {"num_params": 0.0},
    "num_params is not finite": {"num_params": math.inf},
    "num_params is not a number": {"num_params": math.nan},
    "num_params is not a positive count (0.3)": {"num_params": 0.3},
    "family is not declared": {"family": "nope"},
    "epochs is not positive (0)": {"epochs": 0.0},
    "epochs is not finite (inf)": {"epochs": math.inf},
}
BAD_POINT = {
    "tokens is negative (-1)": {"tokens": -1.0},
    "tokens is not finite": {"tokens": math.inf},
    "step is negative (-3)": {"step": -3},
    "flops is negative (-2)": {"flops": -2.0},
    "flops is not finite": {"flops": math.inf},
    "value is not finite (inf)": {"value": math.inf},
    "value is not finite (nan)": {"value": math.nan},
    "loss is -0.5, but a loss (kind loss) is at least 0": {"value": -0.5},
    "loss is 0.5, but a perplexity (kind ppl) is at least 1": {"value": 0.5, "kind": "ppl"},
    "loss is 1.5, but an accuracy (kind acc) is between 0 and 1": {"value": 1.5, "kind": "acc"},
    "loss is -0.25, but a normalised accuracy (kind acc_norm) is between 0 and 1":
        {"value": -0.25, "kind": "acc_norm"},
    "loss is 2, but an error rate (kind error) is between 0 and 1": {"value": 2.0, "kind": "error"},
    "stderr is negative (-0.1)": {"stderr": -0.1},
    "stderr is not finite (inf)": {"stderr": math.inf},
    "metric kind is unknown": {"kind": "weird"},
    "model is not declared": {"model_id": "s/ghost"},
    "shots is negative (-1)": {"shots": -1},
}


@settings(max_examples=40, deadline=None)
@given(reason=st.sampled_from(sorted(BAD_MODEL)), index=st.integers(0, 2))
def test_bad_model_rows_are_named(reason, index):
    bad = with_row(source(), "models", index, **BAD_MODEL[reason])
    with pytest.raises(BadRow) as e:
        normalize("s", bad)
    assert str(e.value) == f"m.csv, line {index + 2}: {reason}"


@settings(max_examples=60, deadline=None)
@given(reason=st.sampled_from(sorted(BAD_POINT)), index=st.integers(0, 11))
def test_bad_point_rows_are_named(reason, index):
    bad = with_row(source(), "points", index, **BAD_POINT[reason])
    with pytest.raises(BadRow) as e:
        normalize("s", bad)
    assert str(e.value) == f"p.csv, line {index + 2}: {reason}"


def test_duplicate_value_is_named():
    d = source()
    points = pl.concat([d.points, d.points.slice(5, 1).with_columns(row=pl.lit(99, pl.Int64))])
    with pytest.raises(
        BadRow,
        match=r"p.csv, line 99: a value appears twice \(s/m1@step1, loss, 0\) "
        r"also at p.csv, line 7",
    ):
        normalize("s", SourceData(d.families, d.models, points, 2))


def test_disagreeing_tokens_are_named():
    d = source()
    extra = d.points.slice(5, 1).with_columns(
        metric=pl.lit("acc"), kind=pl.lit("acc"), value=pl.lit(0.5), tokens=pl.lit(1.0),
        row=pl.lit(50, pl.Int64),
    )
    with pytest.raises(BadRow, match="tokens differ between metrics of one checkpoint"):
        normalize("s", SourceData(d.families, d.models, pl.concat([d.points, extra]), 2))


def test_duplicate_model_is_named():
    d = source()
    models = pl.concat([d.models, d.models.slice(1, 1).with_columns(row=pl.lit(7, pl.Int64))])
    with pytest.raises(
        BadRow, match=r"m.csv, line 7: model id appears twice \(s/m1\) also at m.csv, line 3"
    ):
        normalize("s", SourceData(d.families, models, d.points, 2))


@pytest.mark.parametrize("kind, value", [("score", -1.0), ("score", 85.0), ("other", -3e-4)])
def test_scores_and_other_values_need_only_be_finite(kind, value):
    d = with_row(source(), "points", 4, kind=kind, value=value)
    assert value in normalize("s", d)["metrics"]["value"].to_list()


def test_a_flagged_value_out_of_range_is_kept_and_the_model_says_so():
    d = source()
    points = d.points.with_columns(
        metric=pl.lit("accuracy"), kind=pl.lit("acc"), value=pl.lit(0.5),
    ).with_columns(
        value=pl.when(pl.col("step") > 1).then(-0.9).otherwise("value"),
        flag=pl.when(pl.col("step") > 1).then(pl.lit("negative upstream")),
    )
    t = normalize("s", SourceData(d.families, d.models, points, 2))
    assert (t["metrics"]["value"] == -0.9).sum() == 6
    flags = dict(t["models"].select("model_id", "flag").iter_rows())
    assert flags["s/m1"] == (
        "2 of 4 values of accuracy are outside the range of their kind, kept: negative upstream"
    )
    # The flag excuses only the values it is on.
    bad = points.with_columns(value=pl.when(pl.col("row") == 3).then(-0.9).otherwise("value"))
    with pytest.raises(BadRow) as e:
        normalize("s", SourceData(d.families, d.models, bad, 2))
    assert str(e.value) == "p.csv, line 3: accuracy is -0.9, but an accuracy (kind acc) is " \
        "between 0 and 1"


def test_a_source_without_values_is_refused():
    d = source()
    with pytest.raises(MetaError, match="Source 's' read 2 file"):
        normalize("s", SourceData(d.families, d.models, d.points.clear(), 2))


@pytest.mark.parametrize("values, message", [
    ({"kind": "score", "value": 1.5, "hi": 1.0}, "loss is 1.5, but its scale is at most 1"),
    ({"kind": "score", "value": -3.0, "lo": 0.0, "hi": 100.0},
     "loss is -3, but its scale is between 0 and 100"),
    # a loader's scale narrows the kind's range and never widens it
    ({"kind": "acc", "value": 0.9, "lo": 0.0, "hi": 0.5}, "loss is 0.9, but its scale is "
     "between 0 and 0.5"),
    ({"kind": "acc", "value": 1.5, "lo": -5.0, "hi": 5.0},
     "loss is 1.5, but an accuracy (kind acc) is between 0 and 1"),
])
def test_a_loaders_scale_narrows_the_range(values, message):
    with pytest.raises(BadRow) as e:
        normalize("s", with_row(source(), "points", 4, **values))
    assert str(e.value) == f"p.csv, line 6: {message}"
    ok = with_row(source(), "points", 4, kind="score", value=-0.5, hi=1.0)
    assert -0.5 in normalize("s", ok)["metrics"]["value"].to_list()


@pytest.mark.parametrize(("rows", "message"), [
    ([("piqa", 1.5, 3)], "eval.csv, line 3: chance level is outside [0, 1] (1.5)"),
    ([("piqa", 0.5, 2), ("piqa", 0.5, 4)],
     "eval.csv, line 4: a task's chance level appears twice (piqa) also at eval.csv, line 2"),
])
def test_chance_levels_are_checked(rows, message):
    chance = pl.DataFrame([{"task": t, "chance": c, "origin": "x", "file": "eval.csv", "row": r}
                           for t, c, r in rows])
    with pytest.raises(BadRow) as e:
        check_chance(chance)
    assert str(e.value) == message
