-- The readings a loader averaged into one value, kept as read: a digitised curve (GPT-3's)
-- often carries several y values at one x (the drawn line's thickness). `metrics` holds
-- their mean; the released Hitchhiker code fits every reading, which the convention
-- `every-reading` (analyses/hitchhiker/conventions.py) gives back from this table.

CREATE TABLE readings (
    source        VARCHAR NOT NULL,
    checkpoint_id VARCHAR NOT NULL,
    metric        VARCHAR NOT NULL,
    reading       INTEGER NOT NULL,  -- 1, 2, ... in file order
    value         DOUBLE NOT NULL,
    PRIMARY KEY (checkpoint_id, metric, reading)
);
