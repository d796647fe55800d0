-- Bootstrap intervals of fitted laws (`meta bootstrap`, `meta fit-all --bootstrap N`): each
-- law refitted from its estimator's start grid on resamples of its training runs (runs drawn
-- with replacement, every training checkpoint of a drawn run kept), seeded per law from
-- (seed, law_id). Quantiles are stored, not draws. A (law, resamples, seed) is written once,
-- with its intervals, in the transaction of its chunk.

CREATE TABLE law_bootstraps (
    law_id       VARCHAR NOT NULL,
    n_resamples  INTEGER NOT NULL CHECK (n_resamples > 0),
    seed         BIGINT NOT NULL CHECK (seed >= 0),
    unit         VARCHAR NOT NULL,   -- what is resampled: runs
    n_units      INTEGER NOT NULL,   -- training runs of the law
    status       VARCHAR NOT NULL,   -- ok | too_few_runs (fewer than 3: no interval) | no_fit
                                     -- (no resample converged)
    n_finite     INTEGER NOT NULL,   -- resamples whose refit converged with a finite ARE
    seconds      DOUBLE NOT NULL,    -- refit time per law
    computed_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (law_id, n_resamples, seed)
);

-- One row per (law, bootstrap, quantity, level): the central percentile interval of the
-- converged resamples. Quantities: the natural parameters E, A, B, alpha, beta and the law's
-- ARE on its target (the `are` view's quantity).
CREATE TABLE law_intervals (
    law_id       VARCHAR NOT NULL,
    n_resamples  INTEGER NOT NULL,
    seed         BIGINT NOT NULL,
    quantity     VARCHAR NOT NULL,   -- E | A | B | alpha | beta | are
    level        DOUBLE NOT NULL,    -- 0.8 | 0.9 | 0.95
    low          DOUBLE,             -- quantile (1 - level) / 2
    median       DOUBLE,
    high         DOUBLE,             -- quantile (1 + level) / 2
    PRIMARY KEY (law_id, n_resamples, seed, quantity, level)
);
