-- Views re-created at the end of every migrate(); they hold no data.

-- The fitted quantity under the Hitchhiker rule: per checkpoint, the mean over the family's
-- 0-shot loss columns of log2(perplexity) for perplexities and the raw value for losses.
CREATE OR REPLACE VIEW perf AS
SELECT
    mo.family,
    c.model_id,
    c.checkpoint_id,
    mo.num_params,
    c.tokens,
    c.flops,
    avg(CASE WHEN x.kind = 'ppl' THEN log2(x.value) ELSE x.value END) AS perf,
    count(*) AS n_metrics
FROM metrics AS x
JOIN checkpoints AS c USING (checkpoint_id)
JOIN models AS mo USING (model_id)
JOIN families AS f ON f.family = mo.family
WHERE x.shots = 0 AND list_contains(f.perf_metric, x.metric)
GROUP BY ALL;

-- Each law's error on its target (Choshen, Zhang & Andreas 2024, Sec. 3): the mean over the
-- target's test checkpoints, equally weighted, of the relative error |L - L_hat| / L, and of
-- the absolute error in points (x 100, for laws of accuracies). NULL for a law whose fit
-- failed (status other than ok, at_bound, max_iter) or that could not predict every test
-- checkpoint. A scored law that its data cannot identify keeps its error (`laws.unidentified`
-- says why; join `laws` to leave such laws out).
CREATE OR REPLACE VIEW law_errors AS
SELECT
    l.law_id,
    l.study,
    l.family,
    l.estimator,
    l.quantity,
    CASE WHEN l.status IN ('ok', 'at_bound', 'max_iter') AND count(p.predicted) = count(p.actual)
         THEN avg(abs(p.actual - p.predicted) / p.actual) END AS are,
    CASE WHEN l.status IN ('ok', 'at_bound', 'max_iter') AND count(p.predicted) = count(p.actual)
         THEN 100 * avg(abs(p.actual - p.predicted)) END AS abs_points,
    count(p.predicted) AS n_test
FROM laws AS l
LEFT JOIN predictions AS p USING (law_id)
GROUP BY l.law_id, l.study, l.family, l.estimator, l.quantity, l.status;

-- ARE (absolute relative error) of the laws of losses, as the Hitchhiker's Guide scores them.
CREATE OR REPLACE VIEW are AS
SELECT law_id, study, family, estimator, are, n_test FROM law_errors WHERE quantity = 'loss';

-- The same for laws that predict an accuracy (the ladder's step 2 and chained laws, study
-- `tasks`), with the error in accuracy points beside it: kept apart from `are` so that no
-- average mixes relative errors of accuracies with those of losses.
CREATE OR REPLACE VIEW task_are AS
SELECT law_id, study, family, estimator, are, abs_points, n_test
FROM law_errors WHERE quantity = 'accuracy';

-- The fitted quantity as the released Hitchhiker code shapes it (convention set 'released',
-- analyses/hitchhiker/conventions.py), for the families `meta fit-all --conventions released`
-- has fitted: `perf`'s columns, with the released values and family membership.
CREATE OR REPLACE VIEW perf_released AS
SELECT family, model_id, checkpoint_id, num_params, tokens, flops, perf
FROM convention_points
WHERE conventions = 'released';

-- Which tasks are predictable (study `tasks`, analyses/tasks): the one definition. Per family,
-- task (an accuracy metric at a number of shots) and number of training sizes, the chained
-- two-step law's prediction of the family's largest model beside the no-fit baseline (the
-- most-trained run of the largest training size). A task is predictable when all four hold:
--   within_points   the chained prediction misses the target's accuracy by less than
--                   max_points accuracy points (the mean over the largest size's runs);
--   fits            step 2 misses its own fitted points by less than max_fit_points on
--                   average (laws.fit_error, in points);
--   above_chance    the target's accuracy is at least min_points_above_chance points above
--                   the task's chance level (task_chance), so a task stuck at chance fails;
--   beats_baseline  the chained error is below the no-fit baseline's.
-- A failed fit (task_are's abs_points NULL) or an unknown chance level is not predictable.
-- Accuracies and errors are in points (x 100).
CREATE OR REPLACE VIEW task_predictability AS
WITH bounds AS (
    SELECT 2.0::DOUBLE AS max_points, 2.0::DOUBLE AS max_fit_points,
           5.0::DOUBLE AS min_points_above_chance
),
scored AS (
    SELECT
        l.law_id,
        l.family,
        json_extract_string(l.settings, '$.variant') AS variant,
        json_extract_string(l.settings, '$.task') AS task,
        json_extract_string(l.settings, '$.benchmark') AS benchmark,
        CAST(json_extract(l.settings, '$.shots') AS INTEGER) AS shots,
        CAST(json_extract(l.settings, '$.sizes') AS INTEGER) AS sizes,
        100 * l.fit_error AS fit_points,
        t.abs_points,
        t.n_test,
        100 * avg(p.actual) AS accuracy,
        100 * avg(p.predicted) AS predicted
    FROM laws AS l
    JOIN task_are AS t USING (law_id)
    LEFT JOIN predictions AS p USING (law_id)
    WHERE l.study = 'tasks'
    GROUP BY ALL
),
judged AS (
    SELECT
        c.family, c.task, c.benchmark, c.shots, c.sizes, c.n_test AS n_targets,
        100 * ch.chance AS chance, c.accuracy, c.predicted, c.abs_points,
        b.abs_points AS baseline_points, c.fit_points,
        c.abs_points < bounds.max_points AS within_points,
        c.fit_points < bounds.max_fit_points AS fits,
        c.accuracy - 100 * ch.chance >= bounds.min_points_above_chance AS above_chance,
        c.abs_points < b.abs_points AS beats_baseline,
        c.law_id, b.law_id AS baseline_law_id,
        bounds.max_points, bounds.max_fit_points, bounds.min_points_above_chance
    FROM scored AS c
    JOIN scored AS b
        ON b.family = c.family AND b.task = c.task AND b.sizes = c.sizes
        AND b.variant = 'largest-train'
    JOIN families AS f ON f.family = c.family
    LEFT JOIN task_chance AS ch ON ch.source = f.source AND ch.task = c.benchmark
    CROSS JOIN bounds
    WHERE c.variant = 'chained'
)
SELECT
    coalesce(within_points AND fits AND above_chance AND beats_baseline, false) AS predictable,
    *
FROM judged;
