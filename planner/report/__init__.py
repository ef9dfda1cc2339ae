"""Renderers: turn result models into text, Markdown, HTML and charts.  Formatting only; they never
compute a figure of the plan.

May import every earlier stage (:mod:`planner.insight` and before); not the CLI.
"""
