"""Which downstream tasks are predictable: the ladder paper's two-step method, generalised over
every family that has downstream accuracies at several sizes (study ``tasks``).

Bhagia et al. 2024 predict a large model's task accuracy from a ladder of small runs in two
steps; :mod:`analyses.ladder` reproduces them. Here the same steps (the same code) predict, in
each family, the accuracy of its largest model on every task from its smaller ones. Most
families have no per-task loss, so step 1 maps (N, D) to the family's general loss (its
``perf``: the paper's C4 variant) and step 2 maps that loss to each task's accuracy.
:mod:`analyses.tasks.data` reads the families from the warehouse, :mod:`analyses.tasks.study`
fits, :mod:`analyses.tasks.run` stores the laws; the view ``task_predictability``
(``warehouse/views.sql``) says which tasks are predictable.
"""
