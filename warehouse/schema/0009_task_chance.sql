-- Downstream tasks' chance levels, and each law's fit error (the generalised two-step study,
-- study `tasks`: which tasks are predictable, in which families, from how many sizes).
--
-- A task's chance level is the accuracy of answering at random (a four-choice question: 0.25;
-- a free-form answer: 0). Sources ship it as data where upstream has it (overtrain:
-- eval_metadata.csv's "Random baseline") or from the evaluation harness's task definitions
-- (pythia: the number of answer choices of each lm-eval task). One row per (source, task),
-- `task` as in `metrics.task`.
CREATE TABLE task_chance (
    source  VARCHAR NOT NULL,
    task    VARCHAR NOT NULL,
    chance  DOUBLE NOT NULL,   -- accuracy of a random answer, in [0, 1]
    origin  VARCHAR NOT NULL,  -- where the level comes from (a file and column, or a rule)
    PRIMARY KEY (source, task)
);

-- How far a law misses the points it was fitted on, as its study defines it (ladder: the
-- paper's Fit Error, the mean of |f(x_i) - y_i| / y_i; tasks: a chained law's step-2 mean
-- absolute error in accuracy, since accuracies can be 0); NULL where a study records none.
ALTER TABLE laws ADD COLUMN fit_error DOUBLE;
