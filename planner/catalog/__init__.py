"""The catalog: sourced rows (hardware, models, prices, techniques, efficiency factors, defaults),
their schema, loading with overlays, and Hugging Face ``config.json`` models.

May import: :mod:`planner.scenario` and the base modules.
"""
