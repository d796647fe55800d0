"""Your own runs: fit a law on a family's runs, predict a larger run with an honest interval,
and calibrate that interval on the public families.

- :mod:`~analyses.predict.design`: which checkpoints a family's law is fitted on, and the
  design of a prediction (how many sizes, how far the extrapolation);
- :mod:`~analyses.predict.law`: the fit, its bootstrap over runs, and a prediction;
- :mod:`~analyses.predict.calibration`: the errors of public laws of every design, and the
  leave-one-family-out check of the intervals.
"""
