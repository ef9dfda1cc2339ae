"""Tests of planner/scenario."""
