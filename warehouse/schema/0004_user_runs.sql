-- Users' own training runs (`meta ingest runs`): a family's origin and named target, and the
-- runs' hyperparameters in one long table that users' SQL can reach.
--
-- A user family is written by source 'runs:<family>'; its models are its runs (model_id
-- 'runs:<family>/<run>'). It is left out of the paper's macro averages (in_aggregate false)
-- unless loaded with --in-aggregate.

ALTER TABLE families ADD COLUMN origin VARCHAR NOT NULL DEFAULT 'public';  -- public | user
ALTER TABLE families ADD COLUMN target VARCHAR;  -- model_id of the run named with --target;
                                                 -- NULL: the studies' default rule

-- One row per (run, hyperparameter): learning rate as `lr`, `batch_size`, `seed`, `schedule`,
-- and whatever else a file holds per run or the user maps. Numbers in `value`, text in `text`.
CREATE TABLE hyperparameters (
    source    VARCHAR NOT NULL,
    model_id  VARCHAR NOT NULL,
    name      VARCHAR NOT NULL,
    value     DOUBLE,
    text      VARCHAR,
    PRIMARY KEY (model_id, name),
    CHECK ((value IS NULL) <> (text IS NULL))
);
