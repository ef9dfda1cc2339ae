"""Physics of one deployment: the serving profile a model puts on a GPU, the roofline, the
estimate of one (model, hardware, precision, TP, batch) deployment, speculative decoding's draft
step, the training cost, and the calibration of efficiency factors against published measurements.

May import: :mod:`planner.catalog`, :mod:`planner.scenario` and the base modules.
"""
