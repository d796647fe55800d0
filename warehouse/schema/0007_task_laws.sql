-- Task-level laws (the model-ladder study, Bhagia et al. 2024) and the results that sources
-- publish beside their data.
--
-- `laws.params` holds Chinchilla-shaped parameters. Step 2 of the ladder maps a task loss to
-- an accuracy through a sigmoid (a, x0, k, b) and its FLOPs variant is L(C) = e^a / C^alpha + E:
-- neither fits that struct, so every law may also name its parameters in `coefficients`.
-- `quantity` says what a law predicts, so that relative errors of accuracies never average
-- with those of losses (views.sql: `are` holds losses only, `task_are` accuracies).

ALTER TABLE laws ADD COLUMN quantity VARCHAR NOT NULL DEFAULT 'loss';  -- loss | accuracy
ALTER TABLE laws ADD COLUMN coefficients MAP(VARCHAR, DOUBLE);  -- the form's own parameter
    -- names -> values (sigmoid: a, x0, k, b; flops: a, alpha, E; a chained law: both steps',
    -- prefixed 'step1.' and 'step2.'); NULL where `params` holds the whole law

-- Numbers a source's authors published from its data (olmo-ladder's figures/*.csv): one row
-- per (result table, task, column), so that analyses compare with them without reading files.
CREATE TABLE published (
    source    VARCHAR NOT NULL,
    result    VARCHAR NOT NULL,   -- the table's name upstream, e.g. 'step1_main'
    task      VARCHAR NOT NULL,   -- its row, as upstream names it
    quantity  VARCHAR NOT NULL,   -- its column, as upstream names it, e.g. 'Rel Error'
    value     DOUBLE NOT NULL,
    PRIMARY KEY (source, result, task, quantity)
);
