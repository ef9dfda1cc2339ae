"""The scenario: what the user asks (workloads, horizon, market, plan options), read from TOML/JSON
files and ``--set`` overrides, validated, plus the sweep and Monte-Carlo specifications.

First stage: imports only the top-level base modules (:mod:`planner.errors`, :mod:`planner.units`).
"""
