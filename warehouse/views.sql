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

-- Absolute relative error of each law on its target (Choshen, Zhang & Andreas 2024, Sec. 3):
-- the mean over the target's test checkpoints, equally weighted, of |L - L_hat| / L.
-- Laws of losses only (`laws.quantity`); the errors of laws of accuracies are in `task_are`.
-- NULL for a law whose fit failed (status other than ok, at_bound, max_iter) or that could
-- not predict every test checkpoint. A scored law that its data cannot identify keeps its
-- ARE (`laws.unidentified` says why; join `laws` to leave such laws out).
CREATE OR REPLACE VIEW are AS
SELECT
    l.law_id,
    l.study,
    l.family,
    l.estimator,
    CASE WHEN l.status IN ('ok', 'at_bound', 'max_iter') AND count(p.predicted) = count(p.actual)
         THEN avg(abs(p.actual - p.predicted) / p.actual) END AS are,
    count(p.predicted) AS n_test
FROM laws AS l
LEFT JOIN predictions AS p USING (law_id)
WHERE l.quantity = 'loss'
GROUP BY l.law_id, l.study, l.family, l.estimator, l.status;

-- The same for laws that predict an accuracy (the ladder's step 2 and chained laws), with the
-- mean absolute error in accuracy points (x 100) beside it: kept apart from `are` so that no
-- average mixes relative errors of accuracies with those of losses.
CREATE OR REPLACE VIEW task_are AS
SELECT
    l.law_id,
    l.study,
    l.family,
    l.estimator,
    CASE WHEN l.status IN ('ok', 'at_bound', 'max_iter') AND count(p.predicted) = count(p.actual)
         THEN avg(abs(p.actual - p.predicted) / p.actual) END AS are,
    CASE WHEN l.status IN ('ok', 'at_bound', 'max_iter') AND count(p.predicted) = count(p.actual)
         THEN 100 * avg(abs(p.actual - p.predicted)) END AS abs_points,
    count(p.predicted) AS n_test
FROM laws AS l
LEFT JOIN predictions AS p USING (law_id)
WHERE l.quantity = 'accuracy'
GROUP BY l.law_id, l.study, l.family, l.estimator, l.status;

-- The fitted quantity as the released Hitchhiker code shapes it (convention set 'released',
-- analyses/hitchhiker/conventions.py), for the families `meta fit-all --conventions released`
-- has fitted: `perf`'s columns, with the released values and family membership.
CREATE OR REPLACE VIEW perf_released AS
SELECT family, model_id, checkpoint_id, num_params, tokens, flops, perf
FROM convention_points
WHERE conventions = 'released';
