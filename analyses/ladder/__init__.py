"""Task scaling laws via model ladders (Bhagia et al. 2024): predict a large model's accuracy on
a downstream task from a ladder of small runs, in two steps.

Step 1 maps (N, D) to a task loss (``step1``), step 2 maps the task loss to accuracy
(``step2``); the chained prediction composes them (``study``). The protocol, quirks included,
is ``methods/ladder.md`` of the shared folder. :mod:`analyses.ladder.data` reads the runs from
the warehouse; everything else is computation on arrays.
"""
