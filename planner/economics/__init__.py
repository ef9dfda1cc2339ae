"""Economics over the horizon: periods and discounting, demand per class and period, and what one
GPU costs in each acquisition mode (rent, reserve, buy).

May import: :mod:`planner.physics`, :mod:`planner.catalog`, :mod:`planner.scenario`, the base
modules (and :mod:`techniques`, which sits between physics and economics).
"""
