"""check_mixture's refusals name the caller's argument (issue 21: ntk.output_information's
argument is ``mean``, but a bad value was refused as "means")."""

from __future__ import annotations

import numpy as np
import pytest

from ibtheory.estimators import check_mixture

GOOD_MEANS = np.zeros((3, 2))
BAD_CALLS = [
    ("mean", np.array([[np.nan, 0.0]] * 3), np.ones(3)),  # non-finite
    ("mean", np.ones(3), np.ones(3)),  # not (..., N, k)
    ("variances", GOOD_MEANS, np.ones(4)),  # wrong shape
    ("variances", GOOD_MEANS, np.array([1.0, 0.0, 1.0])),  # not > 0
    ("variances", GOOD_MEANS, np.array([1.0, np.inf, 1.0])),  # non-finite
]


@pytest.mark.parametrize(("arg", "means", "variances"), BAD_CALLS)
def test_refusal_names_the_callers_argument(arg, means, variances):
    with pytest.raises(ValueError, match=rf"^{arg}\b") as info:
        check_mixture(means, variances, names=("mean", "variances"))
    assert "means" not in str(info.value)


@pytest.mark.parametrize(("arg", "means", "variances"), BAD_CALLS)
def test_default_names_are_means_and_variances(arg, means, variances):
    expected = "means" if arg == "mean" else "variances"
    with pytest.raises(ValueError, match=rf"^{expected}\b"):
        check_mixture(means, variances)
