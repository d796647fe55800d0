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
    assert eligible(family(SIZES[:2], (1, 1))) == "2 models (fewer than 3)"


def test_model_counts_follow_the_released_strides():
    assert list(model_counts(4)) == [2, 3, 4]
    assert list(model_counts(30)) == list(range(2, 31, 6))
    assert list(model_counts(141)) == list(range(2, 142, 10))


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
