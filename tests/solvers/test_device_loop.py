"""The device-resident iteration (issue 23): decisions stay on the device, results equal the host loop.

No accelerator is needed: the loop is forced on torch's CPU device and compared with the NumPy path.
"""

from __future__ import annotations

import numpy as np
import pytest

from ibtheory.models import random_joint
from ibtheory.solvers import _curve, ib_curve

#: Same fixed points from the same starts; only the last rounds differ (the host loop may end with
#: plain steps, the device loop with frozen members) and matmul rounding of different batch shapes.
DEVICE_ATOL = 1e-9


@pytest.mark.parametrize("effort", ["optimum", "fast"])
def test_device_loop_gives_the_host_loop_curve(monkeypatch, effort):
    pytest.importorskip("torch")
    p_xy = random_joint(10, 4, seed=3)
    betas = np.geomspace(0.5, 20.0, 10)
    host = ib_curve(p_xy, betas, effort=effort, locate_transitions=False)
    real_init = _curve._Annealer.__init__
    used = []

    def forced(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        self.on_device = True
        used.append(1)

    monkeypatch.setattr(_curve._Annealer, "__init__", forced)
    calls = []
    real_loop = _curve.iterate_on_device

    def counting(*args, **kwargs):
        calls.append(1)
        return real_loop(*args, **kwargs)

    monkeypatch.setattr(_curve, "iterate_on_device", counting)
    dev = ib_curve(p_xy, betas, effort=effort, backend="torch", locate_transitions=False)
    assert used and calls
    assert np.allclose(dev.objective, host.objective, rtol=0, atol=DEVICE_ATOL)
    assert np.array_equal(dev.n_clusters, host.n_clusters)
