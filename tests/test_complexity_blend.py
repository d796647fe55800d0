"""The epsilon-adjusted Chinchilla law (Pandey 2024, Eq. 6) and the choice of epsilon."""


import numpy as np
import pytest

from analyses.complexity import HOFFMANN, BlendedLaw, parse_epsilon, regress_on_h, study_epsilon
from analyses.complexity.frontier import optimal_allocation
from analyses.laws import get_form
from warehouse.errors import InvalidParameter, MetaError

H = np.array([0.1, 0.2, 0.35, 0.5, 0.6])
# Per-corpus laws exactly linear in H (E, log10 A, log10 B, alpha, beta), as Eq. 5 assumes.
LINEAR = np.column_stack([0.5 + H, 10 ** (6 - 4 * H), 10 ** (8 - 8 * H), 0.9 - 0.6 * H,
                          1.2 - 1.5 * H])
N = np.array([4e6, 2e7, 6e7, 3e8, 1.4e9] * 3)
D = np.repeat([1e6, 5e6, 1e7], 5)


@pytest.fixture
def reg():
    return regress_on_h(H, LINEAR)


def test_epsilon_zero_is_exactly_hoffmann(reg):
    law = BlendedLaw(reg, 0.0)
    assert (law.params_at(H) == np.array(HOFFMANN)).all()
    # even without a usable regression (fewer than 2 corpora)
    assert (BlendedLaw(regress_on_h(H[:1], LINEAR[:1]), 0).params_at(0.3) == HOFFMANN).all()
    chinchilla = get_form("chinchilla").predict(HOFFMANN, N, D)
    assert law.predict(N, D, 0.3) == pytest.approx(chinchilla, rel=1e-13)
    assert np.isnan(law.crossing)  # alpha' = 0.34 and beta' = 0.28 never meet


def test_epsilon_one_is_the_regression_lines(reg):
    p = BlendedLaw(reg, 1.0).params_at(H)
    lines = np.column_stack([reg.at("E", H), 10 ** reg.at("log10_A", H),
                             10 ** reg.at("log10_B", H), reg.at("alpha", H), reg.at("beta", H)])
    assert (p == lines).all()
    assert p == pytest.approx(LINEAR, rel=1e-9)
    assert BlendedLaw(reg, 1.0).crossing == pytest.approx(reg.crossing("alpha", "beta"))


def test_known_values(reg):
    e, h = 0.25, 0.4
    law = BlendedLaw(reg, e, chinchilla=(2.0, 100.0, 1000.0, 0.25, 0.5))
    p = law.params_at(h)
    assert p == pytest.approx([0.75 * 2.0 + 0.25 * 0.9,
                               100.0 ** 0.75 * (10 ** 4.4) ** 0.25,  # log-scale blend
                               1000.0 ** 0.75 * (10 ** 4.8) ** 0.25,
                               0.75 * 0.25 + 0.25 * 0.66, 0.75 * 0.5 + 0.25 * 0.6], rel=1e-12)
    n, d = 1e8, 3e9
    assert law.predict(n, d, h) == pytest.approx(p[0] + p[1] / n ** p[3] + p[2] / d ** p[4],
                                                 rel=1e-12)
    # alpha_e(H) = 0.1875 + 0.25 (0.9 - 0.6 H) and beta_e(H) = 0.375 + 0.25 (1.2 - 1.5 H) meet
    # where 0.4125 - 0.15 H = 0.675 - 0.375 H
    assert law.crossing == pytest.approx(0.2625 / 0.225)
    a = law.exponent_at(law.crossing)
    assert a == pytest.approx([0.5])
    # The frontier is Eq. 2 on the blended parameters: N_opt minimises the law along C = 6ND.
    c = 1e19
    n_opt, d_opt = law.allocation(h, [c])
    assert 6 * n_opt[0, 0] * d_opt[0, 0] == pytest.approx(c)
    grid = np.logspace(5, 13, 8001)
    assert n_opt[0, 0] == pytest.approx(grid[np.argmin(law.predict(grid, c / 6 / grid, h))],
                                        rel=0.01)
    assert np.array_equal(n_opt, optimal_allocation(law.params_at([h]), [c])[0])


def test_non_positive_parameters_are_nan(reg):
    law = BlendedLaw(reg, 1.0)
    p = law.params_at(1.0)  # beta(1.0) = -0.3, alpha(1.0) = 0.3
    assert np.isnan(p[4]) and np.isfinite(p[:4]).all()
    assert np.isnan(law.predict(1e8, 1e9, 1.0))
    assert np.isfinite(law.predict(1e8, 1e9, 0.5))
    # A and B blend on the log scale: positive even where a raw OLS line of A is negative
    assert reg.at("A", 0.9) < 0 < law.params_at(0.9)[1]


@pytest.mark.parametrize("bad", [-0.1, 2, "x", float("nan"), True, None])
def test_bad_epsilon(reg, bad):
    with pytest.raises(InvalidParameter, match=r"^The 'epsilon' parameter of BlendedLaw must be "
                                               r"a float in the range \[0, 1\]\. Got "):
        BlendedLaw(reg, bad)


@pytest.mark.parametrize("bad", ["-0.1", "2", "x", "nan", -0.1, 2])
def test_bad_epsilon_option(bad):
    with pytest.raises(MetaError) as info:
        parse_epsilon(bad)
    assert str(info.value) == f"--epsilon must be a number in [0, 1] or 'fit'; got {bad!r}."
    assert parse_epsilon("fit") is None and parse_epsilon("0.3") == 0.3


@pytest.mark.parametrize("bad", [(1.0, 2.0, 3.0, 0.3), (1.69, -406.4, 410.7, 0.34, 0.28),
                                 (1.69, 406.4, 410.7, 0.34, float("inf")), "abcde"])
def test_bad_chinchilla(reg, bad):
    with pytest.raises(InvalidParameter, match="'chinchilla' parameter of BlendedLaw must be 5"):
        BlendedLaw(reg, 0.5, chinchilla=bad)


def _runs(params):
    form = get_form("chinchilla")
    return [(N, D, form.predict(p, N, D)) for p in params]


def test_linear_truth_chooses_eq5():
    study = study_epsilon(H, LINEAR, _runs(LINEAR))
    assert study.chosen == 1.0 and (study.nested == 1.0).all()
    eq5 = study.methods.index("eq5")
    assert study.pooled(study.held_out)[eq5] < 1e-9
    assert study.pooled(study.held_out)[study.methods.index("chinchilla")] > 0.1
    assert study.law.epsilon == 1.0


def test_hoffmann_truth_chooses_chinchilla():
    # Every corpus follows Hoffmann's law; its "fitted" laws are noisy copies, so any weight on
    # the regression lines costs accuracy.
    rng = np.random.default_rng(0)
    noisy = np.array(HOFFMANN) * np.exp(rng.normal(0, 0.2, (len(H), 5)))
    study = study_epsilon(H, noisy, _runs([HOFFMANN] * len(H)))
    assert study.chosen == 0.0 and (study.nested == 0.0).all()
    assert study.pooled(study.held_out)[0] < 1e-12
    assert study.curve[0] < study.curve[1:].min()


def test_given_epsilon_is_used_and_checked():
    study = study_epsilon(H, LINEAR, _runs(LINEAR), epsilon=0.5)
    assert study.law.epsilon == 0.5 and study.chosen == 1.0
    assert study.epsilons[study.methods.index("eq6")] == 0.5
    doc = study.to_dict()
    assert doc["epsilon"] == 0.5 and doc["chosen_epsilon"] == 1.0 and len(doc["blended"]) == 5
    with pytest.raises(InvalidParameter, match="'epsilon' parameter"):
        study_epsilon(H, LINEAR, _runs(LINEAR), epsilon=1.5)


def test_held_out_leaves_the_corpus_out():
    params = LINEAR.copy()
    params[2] *= [1.2, 3.0, 0.5, 1.1, 0.9]  # corpus 2 off the lines
    runs = _runs(params)
    study = study_epsilon(H, params, runs)
    others = [0, 1, 3, 4]
    n, d, loss = runs[2]
    by_hand = BlendedLaw(regress_on_h(H[others], params[others]), 1.0).predict(n, d, H[2])
    eq5 = study.methods.index("eq5")
    assert study.held_out[eq5, 2] == pytest.approx(np.mean(np.abs(by_hand - loss) / loss))
    assert study.held_out[eq5, 2] > study.in_sample[eq5, 2]
    own = study.methods.index("own_law")
    assert study.in_sample[own] == pytest.approx(0, abs=1e-12)
