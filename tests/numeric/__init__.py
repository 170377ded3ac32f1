"""Tests of ibtheory.numeric."""
