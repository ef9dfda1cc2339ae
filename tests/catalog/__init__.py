"""Tests of planner/catalog."""
