"""Properties of the sweep grid and task addressing (ibtheory.sweep), issue 21.

Task keys are deterministic and separate different parameters; grids with empty, repeated or
non-scalar values are refused with a SweepError naming the parameter.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ibtheory import sweep

from ._cases import case, refuses

SCALARS = st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False, width=64), st.text(max_size=8))


@given(st.dictionaries(st.text(min_size=1, max_size=6).filter(str.isidentifier), SCALARS, min_size=1, max_size=4), st.integers(0, 2**31))
def test_task_key_is_deterministic_and_separates_parameters(params: dict, seed: int) -> None:
    with case("task_key"):
        key = sweep.task_key("t", "1", params, seed)
        assert key == sweep.task_key("t", "1", dict(reversed(list(params.items()))), seed)
        assert key != sweep.task_key("t", "1", params, seed + 1)
        assert key != sweep.task_key("t", "2", params, seed)


@pytest.mark.parametrize(
    "params",
    [{"a": []}, {"a": [1, 1]}, {"a": 3}, {"a": [[1, 2]]}, {"a": [float("nan")]}, {"": [1]}, {"a": [object()]}],
)
def test_grid_refuses_bad_parameter_lists(params: dict) -> None:
    # SweepError is a ValueError; the message names the parameter (or says the name is empty)
    name = next(iter(params))
    refuses("Grid", name or None, sweep.Grid, params)


@pytest.mark.parametrize("seeds", [(), (1, 1), (-1,), (1.5,), ("a",), (True,)])
def test_grid_refuses_bad_seeds(seeds: tuple) -> None:
    refuses("Grid", "seeds", sweep.Grid, {"a": [1]}, seeds=seeds)
