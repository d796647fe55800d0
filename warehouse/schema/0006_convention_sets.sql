-- Convention sets of the Hitchhiker studies (analyses/hitchhiker/conventions.py): the laws
-- of each set, and the points a non-default set fits.
--
-- A law is content-addressed (warehouse/identity.py): a convention that changes a law's
-- points, spec or settings gives it another id, and a law no convention touches is the same
-- law in every set. `law_sets` says which laws make up a set; every law fitted before this
-- migration belongs to the default set, 'corrected'.

CREATE TABLE law_sets (
    conventions VARCHAR NOT NULL,  -- corrected | released | corrected+<convention>
    law_id      VARCHAR NOT NULL,
    PRIMARY KEY (conventions, law_id)
);
INSERT INTO law_sets SELECT 'corrected', law_id FROM laws;

-- The points of each family as a non-default set shapes them (values and membership), as
-- the default set's are the `perf` view; the view `perf_released` reads the released set's.
CREATE TABLE convention_points (
    conventions   VARCHAR NOT NULL,
    family        VARCHAR NOT NULL,
    model_id      VARCHAR NOT NULL,
    checkpoint_id VARCHAR NOT NULL,
    num_params    DOUBLE NOT NULL,
    tokens        DOUBLE NOT NULL,
    flops         DOUBLE,
    perf          DOUBLE,
    PRIMARY KEY (conventions, family, checkpoint_id)
);
