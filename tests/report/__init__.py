"""Tests of planner/report."""
