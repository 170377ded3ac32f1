"""Shared test configuration: Hypothesis profiles and the GPU marker.

Profiles (select with HYPOTHESIS_PROFILE): ``dev`` (default, 50 examples), ``ci`` (CI sets it:
25 examples, derandomized so a CI failure reproduces), ``nightly`` (500 examples, random, for the
property hunt of tests/properties: its expensive tests scale their examples with the profile,
see tests/properties/_cases.examples), ``thorough`` (1000 examples). ``deadline=None`` everywhere:
torch's first call and SymPy evaluation are slow and uneven.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "nightly", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``@pytest.mark.gpu`` tests when no CUDA device is present."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
