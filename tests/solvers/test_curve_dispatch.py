"""ib_curve is the one entry point: method="gib"/"dib" and functional= reach their solvers."""

import numpy as np
import pytest

from ibtheory.models import random_joint
from ibtheory.solvers import dib_curve, gib_curve, ib_curve

BETAS = np.linspace(0.5, 12.0, 8)


@pytest.fixture(scope="module")
def p_xy():
    return random_joint(6, 3, seed=2)


def test_dib_through_ib_curve_is_dib_curve(p_xy):
    via = ib_curve(p_xy, BETAS, method="dib")
    direct = dib_curve(p_xy, BETAS)
    assert via.exact
    np.testing.assert_array_equal(via.objective, direct.objective)


def test_gib_through_ib_curve_is_gib_curve(p_xy):
    via = ib_curve(p_xy, BETAS, method="gib", alpha=0.5, units="bits")
    direct = gib_curve(p_xy, BETAS, alpha=0.5, units="bits")
    np.testing.assert_array_equal(via.objective, direct.objective)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"alpha": 0.5}, "alpha"),
        ({"method": "dib", "alpha": 0.5}, "alpha"),
        ({"params": {}}, "functional"),
        ({"cache_dir": "somewhere"}, "functional"),
        ({"functional": object(), "method": "dualib"}, "functional"),
    ],
)
def test_options_that_do_not_apply_are_refused(p_xy, kwargs, words):
    with pytest.raises(ValueError, match=words):
        ib_curve(p_xy, BETAS, **kwargs)
