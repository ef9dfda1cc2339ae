"""The optimiser: candidate deployments (variants × hardware) and their pruning, the lifetime MILP,
the solver adapters, infeasibility diagnosis, and the planning pipe that turns a scenario into a
:class:`planner.plan_model.Plan`.

May import: :mod:`planner.economics`, :mod:`techniques`, :mod:`planner.physics`,
:mod:`planner.catalog`, :mod:`planner.scenario`, :mod:`planner.plan_model` and the base modules.
"""
