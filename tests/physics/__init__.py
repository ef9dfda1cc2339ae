"""Tests of planner/physics."""
