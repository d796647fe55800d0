"""Functional forms: predictions, parameterisation, Jacobians, registries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analyses.laws import FORMS, GRIDS, fixed, get_estimator, get_form, get_grid, in_basis
from analyses.laws.builtin_forms import chinchilla
from analyses.laws.grids import grid_starts
from warehouse.errors import UnknownName

INPUTS = {"N": [1e8, 7e8, 3e9, 1e10], "D": [2e9, 5e10, 1e11, 3e11], "C": [1e18, 2e20, 2e21, 2e22],
          "U": [1e9, 2e10, 1e11, 1e11]}


def _X(form, laws=1):
    cols = [np.tile(np.asarray(INPUTS[c], dtype=float), (laws, 1)) for c in form.inputs]
    return np.stack(cols, axis=-1)


def _forms():
    base = chinchilla()
    basis = np.array([[1.0, 0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 1.0]])
    return [*FORMS.values(), in_basis(base, basis, np.array(base.p0))]


def test_chinchilla_predicts_hoffmann_law_at_chinchilla_scale():
    # Hoffmann et al. 2022 Eq. 10 fit at Chinchilla's 70B parameters and 1.4T tokens.
    loss = get_form("chinchilla").predict([1.69, 406.4, 410.7, 0.34, 0.28], 70e9, 1.4e12)
    expected = 1.69 + 406.4 / 70e9 ** 0.34 + 410.7 / 1.4e12 ** 0.28
    assert loss == pytest.approx(expected, rel=1e-14)


def test_predict_broadcasts_over_laws():
    form = get_form("chinchilla")
    params = np.array([[1.69, 406.4, 410.7, 0.34, 0.28], [1.8, 480.0, 2100.0, 0.35, 0.37]])
    out = form.predict(params, np.array(INPUTS["N"]), np.array(INPUTS["D"]))
    assert out.shape == (2, 4)
    assert out[1, 2] == pytest.approx(form.predict(params[1], INPUTS["N"][2], INPUTS["D"][2]))


@pytest.mark.parametrize("form", _forms(), ids=lambda f: f.name)
def test_internal_round_trip_and_jacobian(form):
    theta = np.array([form.p0]) + 0.01
    assert np.allclose(form.to_internal(form.from_internal(theta)), theta, rtol=1e-13)
    X = _X(form)
    pred, J = form.jacobian(theta, X)
    assert pred.shape == (1, 4) and J.shape == (1, 4, form.n_params)
    assert np.allclose(pred, form.raw_predict(theta, X), rtol=1e-12)
    for k in range(form.n_params):
        h = 1e-6 * max(1.0, abs(theta[0, k]))
        tp, tm = theta.copy(), theta.copy()
        tp[0, k] += h
        tm[0, k] -= h
        fd = (form.raw_predict(tp, X) - form.raw_predict(tm, X)) / (2 * h)
        assert np.allclose(J[..., k], fd, rtol=1e-5, atol=1e-9), (form.name, k)
    logp, LJ = form.log_jacobian(theta, X)
    assert np.allclose(logp, np.log(pred)) and np.allclose(LJ, J / pred[..., None])


def test_fixed_form_equals_base_with_fixed_values():
    base = get_form("chinchilla")
    f = fixed(base, A=520.8, alpha=0.3527)
    assert f.names == ("E", "B", "beta")
    full = [1.8, 520.8, 2000.0, 0.3527, 0.37]
    got = f.predict([1.8, 2000.0, 0.37], INPUTS["N"], INPUTS["D"])
    assert np.allclose(got, base.predict(full, INPUTS["N"], INPUTS["D"]), rtol=1e-13)
    assert np.allclose(f.base_params([1.8, 2000.0, 0.37]), full)
    borrowed = get_form("chinchilla-borrowed")
    assert borrowed.names == ("E", "B", "beta")
    assert borrowed.base_params([1.0, 1.0, 1.0])[1] == pytest.approx(math.exp(6.255414))


def test_fixed_rejects_unknown_parameter():
    with pytest.raises(ValueError, match="has no parameter 'gamma'"):
        fixed(chinchilla(), gamma=1.0)


def test_basis_form_maps_coordinates_to_base_parameters():
    base = chinchilla()
    basis = np.array([[1.0, 0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0, 1.0]])
    mean = np.array(base.p0)
    f = in_basis(base, basis, mean)
    w = np.array([0.1, -0.02])
    full = base.from_internal(w @ basis + mean)
    assert np.allclose(f.predict(w, INPUTS["N"], INPUTS["D"]),
                       base.predict(full, INPUTS["N"], INPUTS["D"]), rtol=1e-13)


def test_kaplan_matches_its_formula():
    Nc, Dc, aN, aD = 6.4e13, 1.8e13, 0.076, 0.103
    N, D = np.array(INPUTS["N"]), np.array(INPUTS["D"])
    want = ((Nc / N) ** (aN / aD) + Dc / D) ** aD
    assert np.allclose(get_form("kaplan2020").predict([Nc, Dc, aN, aD], N, D), want, rtol=1e-12)


def test_muennighoff_single_epoch_is_chinchilla():
    p = [1.87, 520.8, 1487.7, 0.3527, 0.3527]
    N, D = np.array([1e7, 2e7]), np.array([1e9, 2e9])
    # one epoch (U = D) and N below the compute-optimal size for U: no decay at all
    got = get_form("muennighoff2023").predict(p + [15.4, 5.3], N, D, D)
    assert np.allclose(got, get_form("chinchilla").predict(p, N, D), rtol=1e-12)
    # repeated data is worth less than fresh data
    rep = get_form("muennighoff2023").predict(p + [15.4, 5.3], N, D, D / 40)
    assert (rep > got).all()


def test_grids():
    form = chinchilla()
    assert grid_starts(get_grid("hoffmann"), form).shape == (4500, 5)
    assert grid_starts(get_grid("colpret"), form).shape == (1024, 5)
    assert grid_starts(get_grid("small"), form).shape == (32, 5)
    one = grid_starts(get_grid("muennighoff"), form)
    assert np.allclose(one, [[0.6254804, 6.255414, 7.3049974, 0.3526596, 0.3526596]])
    # parameters a grid does not name start at the form's default
    assert grid_starts(GRIDS["hoffmann"], get_form("run")).shape == (5 * 5 * 6, 3)


@pytest.mark.parametrize(("getter", "what", "known"), [
    (get_form, "form", "chinchilla, chinchilla-borrowed, compute, kaplan2020, "
     "muennighoff2023, run"),
    (get_estimator, "estimator", "curvefit-hitchhiker, huber-lbfgs"),
    (get_grid, "grid", "colpret, hoffmann, muennighoff, small"),
])
def test_registries_name_the_known_entries(getter, what, known):
    with pytest.raises(UnknownName) as e:
        getter("huber")
    assert str(e.value) == f"Unknown {what} 'huber'. Known {what}s: {known}."
