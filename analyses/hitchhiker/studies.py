"""The Hitchhiker's Guide studies, each a generator of law specs over one family.

A study names the laws it fits (:class:`~analyses.hitchhiker.protocol.LawSpec`) and the
estimators that fit them; :mod:`analyses.hitchhiker.run` fits and scores them. The loops follow
the released code (IBM/ColPret ``util/fit_utils.py`` and ``experiments/``), named per study.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from analyses.hitchhiker.protocol import CUT, FRACTIONS, Family, LawSpec, law_spec
from warehouse.errors import UnknownName

FIT_ESTIMATORS = ("curvefit-hitchhiker", "huber-lbfgs")
BASELINES = ("best-seen", "most-trained")
SUFFIXES = (0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99)  # ``minimal_cuts``
WINDOW = 4  # models per window in ``closer_in_scale_is_predictive``
SELF_FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)  # ``scale_fit_per_model``
SELF_CUT = 1e8  # ``scale_fit_per_model`` cuts 1e8 tokens, not 1e10
LOO_MODELS = (3, 20)  # ``detect_outliers``: families with 3 < #smaller models < 20
LOO_FRACTION = 0.7


def model_counts(n: int) -> list[int]:
    """How many of the smallest model sizes to train on (``get_model_nums``): every k from 2
    to n, with a stride of n // 5 above 20 sizes and of 10 above 60, and always n itself (the
    released stride can miss it: 2, 12, ..., 132 of 141)."""
    if n > 60:
        counts = range(2, n + 1, 10)
    elif n > 20:
        counts = range(2, n + 1, n // 5)
    else:
        counts = range(2, n + 1)
    return [*counts, *([n] if n >= 2 and n not in counts else [])]


def smaller(family: Family) -> list[str]:
    """The training candidates: every model of a size below the target's, smallest first."""
    return family.smaller_than(family.target)


def smallest(family: Family, models: list[str], k: int) -> list[str]:
    """Every run of the ``k`` smallest sizes among ``models``."""
    return family.of_sizes(models, family.sizes(models)[:k])


def num_models(
    family: Family, *, min_tokens: float = CUT, study: str = "num-models"
) -> Iterator[LawSpec]:
    """Fig. 1(b), Sec. 6-8 (``hist_fit``): the k smallest model sizes x fraction p of
    training."""
    train = smaller(family)
    for p in FRACTIONS:
        for k in model_counts(len(family.sizes(train))):
            yield law_spec(study, family, smallest(family, train, k), fraction=p,
                           min_tokens=min_tokens)


def num_models_nocut(family: Family) -> Iterator[LawSpec]:
    """Sec. 6.1: the same without discarding the first 10B tokens."""
    return num_models(family, min_tokens=0.0, study="num-models-nocut")


def windows(family: Family) -> Iterator[LawSpec]:
    """Fig. 1(a), Sec. 7 (``closer_in_scale_is_predictive``): 4 consecutive sizes x p; the
    test rows are cut at 10B tokens too."""
    train = smaller(family)
    sizes = family.sizes(train)
    for i in range(len(sizes) - WINDOW + 1):
        window = family.of_sizes(train, sizes[i : i + WINDOW])
        for p in FRACTIONS:
            yield law_spec("windows", family, window, fraction=p, test_min_tokens=CUT)


def suffix(family: Family) -> Iterator[LawSpec]:
    """Fig. 4 (``minimal_cut``): only the end of the runs, m * 0.7 * T <= tokens < 0.7 * T."""
    train = smaller(family)
    for m in SUFFIXES:
        for k in range(2, len(family.sizes(train)) + 1):
            yield law_spec("suffix", family, smallest(family, train, k), suffix=m,
                           test_min_tokens=CUT)


def one_model(family: Family) -> Iterator[LawSpec]:
    """Sec. 5, Fig. 6 (``hist_one_model_fit``): each model alone (the target too), A and alpha
    borrowed from Muennighoff et al.; E, B, beta fitted on a prefix of its curve."""
    for p in FRACTIONS:
        for model in family.model_ids:
            yield law_spec(
                "one-model",
                family,
                [model],
                form="chinchilla-borrowed",
                fraction=p,
                test_min_tokens=CUT,
            )


def self_prefix(family: Family) -> Iterator[LawSpec]:
    """Sec. 5.1 (``scale_fit_per_model``): each model predicts its own last 30% from a prefix
    of its run (cut 1e8 tokens)."""
    for model in family.model_ids:
        for p in SELF_FRACTIONS:
            yield law_spec(
                "self-prefix",
                family,
                [model],
                fraction=p,
                min_tokens=SELF_CUT,
                target=model,
                test_min_tokens=SELF_CUT,
            )


def baselines(family: Family) -> Iterator[LawSpec]:
    """Sec. 5.2: no fit; the best loss seen in training, and the most-trained model's loss,
    over the same training sets as ``num-models``."""
    for spec in num_models(family, study="baselines"):
        yield LawSpec(spec.study, spec.family, "constant", spec.train, spec.test, spec.spec)


def scale_down(family: Family) -> Iterator[LawSpec]:
    """App. C, Fig. 8 (``hist_fit(scale_down=True)``): the k largest model sizes predict the
    best run of the smallest size."""
    sizes = family.sizes(family.model_ids)
    target = family.best_of(sizes[0])
    larger = family.of_sizes(family.model_ids, sizes[1:])
    for p in FRACTIONS:
        for k in model_counts(len(sizes) - 1):
            models = family.of_sizes(larger, sizes[::-1][:k])[::-1]
            yield law_spec("scale-down", family, models, fraction=p, target=target)


def leave_one_out(family: Family) -> Iterator[LawSpec]:
    """App. D (``experiments/detect_outliers.py``): with 3 < #smaller models < 20, p = 0.7,
    each smaller model left out in turn; every such law is scored on the target and on the
    model left out (is the worst-predicted model the one whose removal hurts the target
    most?). The released code also drops the model before the one left out (the convention
    ``loo-drops-neighbour``)."""
    train = smaller(family)
    if not LOO_MODELS[0] < len(train) < LOO_MODELS[1]:
        return
    yield law_spec("leave-one-out", family, train, fraction=LOO_FRACTION)
    neighbour = "loo-drops-neighbour" in family.conventions
    for i, model in enumerate(train):
        dropped = {model, *(train[i - 1 : i] if neighbour else ())}
        rest = [m for m in train if m not in dropped]
        for target in (family.target, model):
            yield law_spec("leave-one-out", family, rest, fraction=LOO_FRACTION,
                           left_out=model, target=target)


@dataclass(frozen=True)
class Study:
    """A named study: the law specs it makes for a family, and who fits them."""

    name: str
    specs: Callable[[Family], Iterator[LawSpec]]
    estimators: tuple[str, ...] = FIT_ESTIMATORS
    min_models: int = 3  # the released loops over model sets skip smaller families


STUDIES: dict[str, Study] = {
    s.name: s
    for s in (
        Study("num-models", num_models),
        Study("num-models-nocut", num_models_nocut),
        Study("windows", windows),
        Study("suffix", suffix),
        Study("one-model", one_model, min_models=1),
        Study("self-prefix", self_prefix, min_models=1),
        Study("baselines", baselines, BASELINES),
        Study("scale-down", scale_down),
        Study("leave-one-out", leave_one_out),
    )
}


def get_study(name: str) -> Study:
    """The registered study ``name``."""
    if name not in STUDIES:
        raise UnknownName("study", name, list(STUDIES))
    return STUDIES[name]
