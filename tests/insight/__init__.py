"""Tests of planner/insight."""
