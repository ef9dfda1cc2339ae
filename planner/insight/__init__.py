"""What a plan means: the explanation (savings, binding constraints, shadow prices, alternatives,
sensitivity), break-even searches, scenario sweeps and Monte Carlo, and the estimator's preview
of a scenario.

May import every earlier stage (:mod:`planner.optimize` and before); not the report or the CLI.
"""
