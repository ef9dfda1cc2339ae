"""Renderers: turn result models into text.  Formatting only; they never compute a figure."""
