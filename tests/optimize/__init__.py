"""Tests of planner/optimize."""
