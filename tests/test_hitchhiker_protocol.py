"""The Hitchhiker protocol's row selection and the studies' loops, on a hand-built family."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from analyses.hitchhiker.protocol import CUT, Family, eligible, law_spec
from analyses.hitchhiker.studies import STUDIES, get_study, model_counts
from warehouse.errors import UnknownName

SIZES = (1e8, 2e8, 4e8, 8e8, 1.6e9)
STEPS = np.array([0.5, 1, 2, 5, 10, 20, 50, 100]) * 1e9  # tokens of each checkpoint


def family(sizes=SIZES, final=None) -> Family:
    """Models m0 (smallest) ... m4 (target); model i is trained to final[i] * 100B tokens."""
    rows = []
    final = final or (1.0,) * len(sizes)
    for i, (n, f) in enumerate(zip(sizes, final, strict=True)):
        for d in STEPS * f:
            rows.append({"model_id": f"m{i}", "checkpoint_id": f"m{i}@{d:.0f}", "num_params": n,
                         "tokens": d, "flops": 6 * n * d,
                         "perf": 1.8 + 400 / n**0.34 + 400 / d**0.28})
    return Family("fam", pl.DataFrame(rows), "h")


def tokens(f: Family, rows: np.ndarray) -> list[float]:
    return f.column("tokens", rows).tolist()


def test_target_and_test_rows():
    f = family()
    assert f.target == "m4"
    # last 30%: tokens >= 0.7 * 100B
    assert tokens(f, f.test()) == [1e11]
    assert tokens(f, f.test(min_tokens=CUT)) == [1e11]


def test_train_rows_cut_and_fraction():
    f = family()
    rows = f.train(["m0", "m1"], fraction=0.5)
    # 1e10 < tokens < 0.5 * 100B, both models
    assert sorted(set(tokens(f, rows))) == [2e10]
    assert f.column("num_params", rows).tolist() == [1e8, 2e8]
    # p = 1 keeps everything but the most-trained checkpoint (strict bound, as released)
    assert sorted(set(tokens(f, f.train(["m0"], 1.0)))) == [2e10, 5e10]
    assert len(f.train(["m0"], 1.0, min_tokens=0)) == 7


def test_fraction_is_of_the_chosen_models_jointly():
    f = family(final=(0.5, 1, 1, 1, 1))  # m0 stops at 50B
    rows = f.train(["m0", "m1"], fraction=0.6, min_tokens=0)
    # max tokens over m0 and m1 is 100B, so both are cut at 60B
    assert max(tokens(f, rows)) == 5e10
    assert len(f.train(["m0"], fraction=0.6, min_tokens=0)) == 7  # alone: cut at 30B


def test_suffix_rows():
    f = family()
    rows = f.train(["m0", "m1"], suffix=0.5, min_tokens=CUT)
    # 0.5 * 0.7 * 100B <= tokens < 0.7 * 100B
    assert sorted(set(tokens(f, rows))) == [5e10]


def test_spec_fields():
    f = family()
    s = law_spec("num-models", f, ["m0", "m1", "m2"], fraction=0.3)
    assert s.spec["n_models"] == 3 and s.spec["target"] == "m4"
    assert s.spec["scale_up"] == pytest.approx(1.6e9 / 4e8)
    assert s.spec["fraction"] == 0.3 and s.spec["min_tokens"] == CUT


def test_eligibility():
    assert eligible(family()) is None
    assert eligible(family(SIZES[:2], (1, 1))) == "2 model sizes (fewer than 3)"


def test_model_counts_follow_the_released_strides_and_end_at_every_size():
    assert list(model_counts(4)) == [2, 3, 4]
    assert list(model_counts(30)) == [*range(2, 31, 6), 30]
    assert list(model_counts(141)) == [*range(2, 142, 10), 141]


@pytest.mark.parametrize(
    "study, n_specs",
    [
        ("num-models", 10 * 3),  # p x k in {2, 3, 4}
        ("num-models-nocut", 10 * 3),
        ("windows", 10 * 1),  # one window of 4 among 4 smaller models
        ("suffix", 8 * 3),
        ("one-model", 10 * 5),  # every model, the target too
        ("self-prefix", 5 * 7),
        ("baselines", 10 * 3),
        ("scale-down", 10 * 3),
        ("leave-one-out", 1 + 4 * 2),  # scored on the target and on the model left out
    ],
)
def test_study_sizes(study, n_specs):
    assert len(list(get_study(study).specs(family()))) == n_specs


def test_scale_down_targets_the_smallest():
    spec = next(iter(get_study("scale-down").specs(family())))
    assert spec.spec["target"] == "m0" and spec.spec["models"] == ["m4", "m3"]
    assert spec.spec["scale_up"] == pytest.approx(1e8 / 1.6e9)


def test_one_model_borrows_a_and_alpha():
    spec = next(iter(get_study("one-model").specs(family())))
    assert spec.form == "chinchilla-borrowed" and spec.spec["models"] == ["m0"]


def test_unknown_study():
    with pytest.raises(UnknownName, match="Unknown study 'nope'. Known studies: "):
        get_study("nope")
    assert "num-models" in STUDIES


def sweep_family(sizes=(1e8, 2e8, 4e8, 8e8), lrs=(1e-3, 3e-3, 1e-2), budgets=(1.0,),
                 runs="best", target=None) -> Family:
    """Runs ``s{i}-lr{lr}-b{b}``: every size x learning rate x token budget; the LR 3e-3 runs
    are the best (the others' losses are 2% and 5% higher), the budget scales the tokens."""
    penalty = {1e-3: 1.02, 3e-3: 1.0, 1e-2: 1.05}
    rows = []
    for i, n in enumerate(sizes):
        for lr in lrs:
            for b in budgets:
                run = f"s{i}-lr{lr:g}-b{b:g}"
                for d in STEPS * b:
                    rows.append({"model_id": run, "checkpoint_id": f"{run}@{d:.0f}",
                                 "num_params": n, "tokens": d, "flops": 6 * n * d,
                                 "perf": (1.8 + 400 / n**0.34 + 400 / d**0.28) * penalty[lr]})
    return Family("sweep", pl.DataFrame(rows), "h", named_target=target, runs=runs)


def test_a_sweep_is_reduced_to_its_best_run_and_the_target_is_the_largest_best():
    f = sweep_family()
    assert f.model_ids == [f"s{i}-lr0.003-b1" for i in range(4)]
    assert f.target == "s3-lr0.003-b1"
    every = sweep_family(runs="all")
    assert len(every.model_ids) == 12 and every.target == "s3-lr0.003-b1"
    assert sweep_family(target="s3-lr0.01-b1").target == "s3-lr0.01-b1"
    with pytest.raises(ValueError, match="runs must be one of best, all"):
        sweep_family(runs="some")


@pytest.mark.parametrize("runs", ["best", "all"])
def test_no_run_of_the_target_size_trains_a_law(runs):
    f = sweep_family(runs=runs)
    target_size = f.size(f.target)
    for name in ("num-models", "windows", "suffix", "leave-one-out"):
        for spec in get_study(name).specs(f):
            assert all(f.size(m) < target_size for m in spec.spec["models"]), name
            assert spec.spec["target"] in (f.target, spec.spec["left_out"])
    specs = list(get_study("num-models").specs(f))
    # k counts sizes: every run of the k smallest sizes, and the full set is always there
    assert {len(f.sizes(s.spec["models"])) for s in specs} == {2, 3}
    largest = max(specs, key=lambda s: len(s.spec["models"]))
    assert set(largest.spec["models"]) == set(f.smaller_than(f.target))
    assert len(largest.spec["models"]) == (3 if runs == "best" else 9)


def test_runs_at_other_budgets_are_data_not_a_sweep():
    f = sweep_family(lrs=(3e-3,), budgets=(0.25, 1.0, 4.0))
    assert len(f.model_ids) == 12  # no run dropped
    assert f.target == "s3-lr0.003-b4"  # the largest size's best run trains longest here
    specs = list(get_study("num-models").specs(f))
    assert all(len(s.spec["models"]) % 3 == 0 for s in specs)  # whole sizes
    scale_down = list(get_study("scale-down").specs(f))
    assert {s.spec["target"] for s in scale_down} == {"s0-lr0.003-b4"}
    assert all(f.size(m) > 1e8 for s in scale_down for m in s.spec["models"])


def test_one_run_per_size_keeps_the_released_model_sets():
    f = family()
    specs = list(get_study("num-models").specs(f))
    assert {tuple(s.spec["models"]) for s in specs} == {
        tuple(f"m{i}" for i in range(k)) for k in (2, 3, 4)}
    assert model_counts(141)[-2:] == [132, 141] and model_counts(30) == [2, 8, 14, 20, 26, 30]
    assert model_counts(20) == list(range(2, 21)) and model_counts(1) == []
