"""Tests of the technique plug-ins (techniques/)."""
