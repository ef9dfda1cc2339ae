"""Tests of planner/economics."""
