"""Tests of planner/cli."""
