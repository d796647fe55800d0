"""A law's id depends on its family's rows and its definition alone; warehouses whose laws were
keyed by their source's content hash (before schema 0003) are re-keyed, fits kept."""

from __future__ import annotations

import polars as pl
import pytest

import analyses.hitchhiker.run as run
import warehouse
from ingest.run import ingest
from tests.conftest import copy_of
from warehouse.errors import MetaError
from warehouse.identity import stored_law_id
from warehouse.laws import law_ids, rename_laws
from warehouse.sql import query, transaction


@pytest.fixture(scope="module")
def fitted_db(tmp_path_factory, data_root):
    path = tmp_path_factory.mktemp("identity") / "w.duckdb"
    con = warehouse.connect(path)
    ingest(con, ["t5-pile", "gpt3"], data_root)
    run.fit_all(con, studies=["num-models", "one-model", "baselines"])
    con.close()
    return path


@pytest.fixture
def db(fitted_db, tmp_path):
    with warehouse.connect(copy_of(fitted_db, tmp_path)) as con:
        yield con


_ROWS = "SELECT law_id, study, family, form, estimator, settings, train_spec, data_hash FROM laws"
_ARE = "SELECT law_id, are FROM are ORDER BY law_id"


def test_every_stored_law_recomputes_its_id(db):
    rows = query(db, _ROWS)
    assert rows.height > 500
    assert all(stored_law_id(r) == r["law_id"] for r in rows.iter_rows(named=True))


def test_a_warehouse_keyed_by_source_hash_is_rekeyed_on_open(db, tmp_path):
    """Turn the warehouse back into a schema-0002 one (ids and data_hash from the source's
    content hash, none of what 0003-0010 add), reopen: the migrations restore the same ids
    and ARE, and fit-all then fits nothing."""
    new_ids = law_ids(db)
    are_before = query(db, _ARE)
    rows = query(db, "SELECT l.*, s.content_hash FROM laws l JOIN families f USING (family) "
                     "JOIN sources s ON s.source = f.source")
    legacy_ids = [stored_law_id(r, data=r["content_hash"]) for r in rows.iter_rows(named=True)]
    to_legacy = pl.DataFrame({"old_id": rows["law_id"], "new_id": legacy_ids,
                              "data_hash": rows["content_hash"]})
    assert not set(legacy_ids) & new_ids
    with transaction(db):
        rename_laws(db, to_legacy)
        db.execute("ALTER TABLE laws DROP COLUMN unidentified")
        db.execute("DROP TABLE _meta_rekeyed_laws")
        db.execute("ALTER TABLE families DROP COLUMN origin")
        db.execute("ALTER TABLE families DROP COLUMN target")
        db.execute("DROP TABLE hyperparameters")
        db.execute("DROP TABLE law_sets")
        db.execute("DROP TABLE convention_points")
        db.execute("ALTER TABLE laws DROP COLUMN quantity")
        db.execute("ALTER TABLE laws DROP COLUMN coefficients")
        db.execute("DROP TABLE published")
        db.execute("DROP TABLE readings")
        db.execute("DROP TABLE law_intervals")
        db.execute("DROP TABLE law_bootstraps")
        db.execute("DROP TABLE task_chance")
        db.execute("ALTER TABLE laws DROP COLUMN fit_error")
        db.execute("DELETE FROM _meta_migrations WHERE name > '0002_laws'")
    db.close()
    with pytest.raises(MetaError, match="needs schema migrations 0003_law_identity, "
                                        "0004_user_runs, 0005_refit_zero_scale_laws, "
                                        "0006_convention_sets, 0007_task_laws, "
                                        "0008_law_intervals, 0009_task_chance, 0010_readings; "
                                        "open it"):
        warehouse.connect(tmp_path / "w.duckdb", read_only=True)

    con = warehouse.connect(tmp_path / "w.duckdb")
    assert law_ids(con) == new_ids
    assert query(con, _ARE).equals(are_before)
    mapping = query(con, "SELECT old_id, new_id FROM _meta_rekeyed_laws ORDER BY old_id")
    expected = pl.DataFrame({"old_id": legacy_ids, "new_id": rows["law_id"]}).sort("old_id")
    assert mapping.equals(expected)
    result = run.fit_all(con, studies=["num-models", "one-model", "baselines"])
    assert result.fitted == 0 and result.stale == 0 and result.resumed == len(new_ids)
    con.close()


def test_old_laws_of_a_changed_source_are_left_to_fit_all(db):
    """A pre-0003 law whose source was reloaded since cannot be re-keyed safely: fit-all
    replaces it."""
    rows = query(db, _ROWS + " WHERE family = 'gpt3'")
    stale = pl.DataFrame({"old_id": rows["law_id"],
                          "new_id": [f"old{i}" for i in range(rows.height)],
                          "data_hash": ["an older source hash"] * rows.height})
    with transaction(db):
        rename_laws(db, stale)
    result = run.fit_all(db, studies=["num-models", "one-model", "baselines"],
                         families=["gpt3"])
    assert result.stale == rows.height == result.fitted
