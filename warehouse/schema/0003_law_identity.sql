-- Law identity from data alone, and laws that say when their data cannot identify them.
--
-- `laws.data_hash` becomes a digest of the family's fitted rows (warehouse/identity.py)
-- instead of its source's content hash, which also covered loader code and schema files, so
-- that code changes no longer rename every law. The Python step of this migration
-- (warehouse.laws.rekey_legacy) re-keys the laws already fitted, keeping their fits, and
-- records every old id here.

ALTER TABLE laws ADD COLUMN unidentified VARCHAR;  -- why the data cannot identify the law
                                                   -- (NULL: it can); see analyses/laws/identify.py

CREATE TABLE _meta_rekeyed_laws (
    old_id  VARCHAR PRIMARY KEY,  -- a law id before 0003
    new_id  VARCHAR NOT NULL      -- the same law's id after it
);
