"""Canonical problems and data sets shared by tests, docs and notebooks."""
