"""Per-corpus laws, regressions on H and the frontier: unit checks and the paper's 150 runs."""

import numpy as np
import polars as pl
import pytest

import warehouse
from analyses.complexity import complexity_fit, frontier, regress_on_h
from analyses.complexity.fit import corpus_points, fit_points
from analyses.complexity.frontier import crossings, exponent, optimal_allocation
from analyses.laws import get_form
from ingest.run import ingest
from warehouse.errors import UnknownFamily


@pytest.fixture(scope="module")
def paper_db(tmp_path_factory, data_root):
    path = tmp_path_factory.mktemp("complexity") / "w.duckdb"
    con = warehouse.connect(path)
    ingest(con, ["gzip-pcfg"], data_root)
    con.close()
    return path


@pytest.fixture(scope="module")
def paper_fit(paper_db):
    con = warehouse.connect(paper_db, read_only=True)
    yield complexity_fit(con, grid="small")
    con.close()


def test_frontier_formula():
    chinchilla = [1.69, 406.4, 410.7, 0.34, 0.28]
    c = np.array([1e20, 1e22, 5.76e23])
    n, d = optimal_allocation(chinchilla, c)
    assert np.allclose(6 * n * d, c)
    # N_opt minimises the law along C = 6ND
    grid = np.logspace(8, 12, 4001)
    law = get_form("chinchilla").predict(np.array([chinchilla]), grid[None], 5.76e23 / 6 / grid)
    assert n[0, 2] == pytest.approx(grid[np.argmin(law)], rel=0.01)
    assert exponent([[1, 1, 1, 0.3, 0.3]])[0] == 0.5
    assert crossings([0.1, 0.2, 0.4], [0.7, 0.6, 0.4]) == [0.3]
    assert crossings([0.1, 0.2], [0.7, 0.6]) == []


def test_regression_recovers_lines():
    h = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    noise = np.array([1, -1, 0.5, -0.5, 0]) * 1e-3
    params = np.column_stack([1 + 2 * h + noise, 10 ** (3 - h), 10 ** (4 - 2 * h),
                              0.6 - 0.5 * h, 0.3 + 0.4 * h])
    reg = regress_on_h(h, params)
    assert reg.line("E")[0] == pytest.approx(2, abs=0.02)
    assert reg.line("log10_B") == pytest.approx((-2, 4))
    assert reg.p_value[0] < 1e-4 and reg.n == 5
    assert reg.crossing("alpha", "beta") == pytest.approx(1 / 3)
    fr = frontier(h, params, reg)
    assert fr.toward_data is False and fr.crossings == pytest.approx([1 / 3], abs=1e-3)
    assert fr.regression_crossing == pytest.approx(1 / 3)


def test_too_few_points_is_a_status_not_an_error(paper_db):
    con = warehouse.connect(paper_db, read_only=True)
    pts = corpus_points(con)
    con.close()
    first = pl.col("family") == "gzipscale-0.12-10M"
    pts = pts.filter(~first | ((pl.col("n") < 5e6) & (pl.col("d") < 1.5e6)))
    fit = fit_points(pts, grid="small")
    laws = fit.sets[0].laws
    assert laws.status[0] == "too_few_points" and np.isnan(laws.params[0]).all()
    assert fit.sets[0].regression.n == 4


def test_paper_runs(paper_fit):
    s = paper_fit.run_set("gzip-pcfg")
    assert s.laws.families == tuple(f"gzipscale-{h}-10M" for h in
                                    ("0.12", "0.23", "0.33", "0.45", "0.61"))
    assert s.laws.n_points.tolist() == [30] * 5
    assert all(st in ("ok", "at_bound") for st in s.laws.status)
    # The paper: the frontier moves toward data as H rises and crosses the 1:1 line between
    # H = 0.23 and 0.45; its alpha and beta lines meet near 0.27 (0.36 on these runs).
    assert s.frontier.toward_data
    assert len(s.frontier.crossings) == 1 and 0.23 < s.frontier.crossings[0] < 0.45
    assert 0.23 < s.frontier.regression_crossing < 0.45
    reg = dict(zip(s.regression.names, s.regression.to_rows(), strict=True))
    assert reg["beta"]["slope"] < 0 and reg["beta"]["p_value"] < 0.05
    assert reg["alpha"]["slope"] < 0


def test_paper_runs_eq6(paper_fit):
    b = paper_fit.run_set("gzip-pcfg").blend
    held = dict(zip(b.methods, b.pooled(b.held_out), strict=True))
    # Hoffmann's law (fitted on MassiveText) misses these PCFG losses by over 100%; the runs
    # choose a weight near 1 on the regression lines (0.97 measured with the small grid), and
    # the blended frontier still crosses 1:1 inside the paper's 0.23-0.45.
    assert held["chinchilla"] > 1 and 0.9 <= b.chosen <= 1
    assert held["eq6"] <= min(held["eq5"], held["chinchilla"])
    assert held["eq6_nested"] >= held["eq6"]
    assert 0.23 < b.law.crossing < 0.45
    assert b.raw_line_nonpositive()["B"] == [pytest.approx(0.609, abs=1e-3)]


def test_family_filter(paper_db):
    con = warehouse.connect(paper_db, read_only=True)
    try:
        with pytest.raises(UnknownFamily, match="'nope' has no runs with a gzip_median"):
            complexity_fit(con, ["gzipscale-0.12-10M", "nope"], grid="small")
        two = complexity_fit(con, ["gzipscale-0.12-10M", "gzipscale-0.61-10M"], grid="small")
        assert two.sets[0].laws.families == ("gzipscale-0.12-10M", "gzipscale-0.61-10M")
    finally:
        con.close()


def test_this_projects_gpu_grid(tmp_path, data_root):
    """The committed runs of the paper's grid (runs/pcfg/gpu, 157 of 216 on one H100)."""
    con = warehouse.connect(tmp_path / "w.duckdb")
    ingest(con, ["pcfg-runs"], data_root)
    s = complexity_fit(con, grid="small").run_set("pcfg-gpu")
    con.close()
    assert len(s.laws.families) == 6 and s.laws.n_points.min() >= 21
    # Reproduced with the paper's protocol: toward data as H rises, crossing 1:1 once inside the
    # paper's 0.23-0.45 (0.443 measured on 157 runs; 0.358 on the first 128), alpha and beta
    # lines meeting near the paper's 0.27 (0.275; 0.305 on 128).
    assert s.frontier.toward_data
    assert len(s.frontier.crossings) == 1 and 0.23 < s.frontier.crossings[0] < 0.45
    assert 0.25 < s.frontier.regression_crossing < 0.30
