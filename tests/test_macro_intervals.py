"""Intervals of macro averages over resampled families (a pure function of per-family cells)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from matplotlib.colors import to_rgba

from analyses.hitchhiker import figures
from analyses.hitchhiker.intervals import TOO_FEW, macro_intervals
from warehouse.errors import MetaError


def cells(values: dict[tuple[int, float], list[float]], *, left_out: int = 0) -> pl.DataFrame:
    """Per-family cells: ``values[(bin, p)]`` holds one value per family f0, f1, ...; the
    first ``left_out`` families are not in the aggregate."""
    rows = [(f"f{i}", i >= left_out, b, p, v) for (b, p), vs in values.items()
            for i, v in enumerate(vs)]
    return pl.DataFrame(rows, schema=["family", "in_aggregate", "bin", "fraction", "are"],
                        orient="row")


def test_a_cell_on_too_few_families_has_no_interval_and_is_never_resolved():
    out = macro_intervals(cells({(2, 0.5): [0.1] * 6, (8, 0.5): [0.1] * 4}), ["bin", "fraction"])
    assert out["n_families"].to_list() == [6, 4]
    assert out["status"].to_list() == ["ok", TOO_FEW]
    # six families that agree: a zero-width interval, resolved; four: none
    assert out["low"][0] == pytest.approx(0.1) and out["high"][0] == pytest.approx(0.1)
    assert out["resolved"][0]
    assert np.isnan(out["low"][1]) and np.isnan(out["high"][1]) and not out["resolved"][1]


def test_the_width_figure_frames_the_resolved_cells_only():
    out = macro_intervals(cells({(2, 0.5): [0.1] * 6, (2, 1.0): [0.0, 0.4] * 3,
                                 (8, 0.5): [0.1] * 4}), ["bin", "fraction"])
    assert out["resolved"].to_list() == [True, False, False]
    fig, ax = figures.plt.subplots()
    figures.heatmap(ax, out.with_columns(are=pl.col("high") - pl.col("low")), row="bin",
                    col="fraction", outline="resolved")
    framed = [p.get_xy() for p in ax.patches
              if p.get_edgecolor() == to_rgba(figures.OUTLINE)]
    figures.plt.close(fig)
    assert framed == [pytest.approx((-0.45, -0.45))]  # bin 2 (row 0), p = 0.5 (column 0)


def test_families_out_of_the_aggregate_and_missing_values_do_not_count():
    values = {(3, 0.2): [9.0, 0.1, 0.2, 0.3, None, 0.2, 0.1, 0.2]}
    out = macro_intervals(cells(values, left_out=1), ["bin", "fraction"])
    assert out["n_families"][0] == 6 and out["are"][0] == pytest.approx(1.1 / 6)
    assert out["low"][0] < out["are"][0] < out["high"][0] < 0.3


def test_seeded_and_one_draw_of_families_serves_every_cell():
    spread = [0.05, 0.1, 0.3, 0.2, 0.15, 0.4, 0.12]
    frame = cells({(2, 0.5): spread, (3, 0.5): spread, (4, 0.5): [v * 2 for v in spread]})
    one = macro_intervals(frame, ["bin", "fraction"], seed=3)
    assert one.equals(macro_intervals(frame, ["bin", "fraction"], seed=3))
    assert not one.equals(macro_intervals(frame, ["bin", "fraction"], seed=4))
    assert one["low"][0] == one["low"][1] and one["high"][0] == one["high"][1]
    assert one["low"][2] == pytest.approx(2 * one["low"][0])
    assert (one["seed"] == 3).all() and (one["n_resamples"] == 1000).all()


def test_nominal_90_percent_covers_the_mean_of_the_families():
    rng = np.random.default_rng(0)
    covered = []
    for _ in range(200):
        frame = cells({(2, 0.5): rng.normal(0.1, 0.05, 20).tolist()})
        out = macro_intervals(frame, ["bin", "fraction"], n_resamples=500,
                              seed=int(rng.integers(1 << 30)))
        covered.append(out["low"][0] <= 0.1 <= out["high"][0])
    assert 0.82 <= np.mean(covered) <= 0.95


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_resamples": 0}, "'n_resamples' parameter of macro_intervals must be an int"),
    ({"level": 1.5}, "'level' parameter of macro_intervals must be a float in the range"),
    ({"min_families": 0}, "'min_families' parameter of macro_intervals must be an int"),
])
def test_bad_arguments_are_one_error(kwargs, message):
    with pytest.raises(MetaError, match=message):
        macro_intervals(cells({(2, 0.5): [0.1] * 6}), ["bin", "fraction"], **kwargs)
