"""Properties of the information-plane helpers (ibtheory.infoplane) that need no training, issue 21.

label_noise_model: every row of the label channel is a distribution, for every kind and strength.
Malformed input: ValueError/TypeError naming the argument.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("torch")

from ibtheory import infoplane

from ._cases import case, refuses


@st.composite
def confusions(draw: st.DrawFn) -> np.ndarray:
    rows = draw(st.lists(st.lists(st.floats(0.0, 1e300), min_size=5, max_size=5).filter(lambda r: sum(r) > 0), min_size=5, max_size=5))
    return np.array(rows)


@given(st.lists(st.integers(0, 4), min_size=1, max_size=20), st.sampled_from(["smoothing", "confusion"]), st.floats(0.0, 0.999999), confusions())
def test_label_noise_rows_are_distributions(labels: list[int], kind: str, strength: float, confusion: np.ndarray) -> None:
    with case("label_noise_model"):
        q = np.asarray(infoplane.label_noise_model(np.array(labels), 5, kind=kind, strength=strength,
                                                   confusion=confusion if kind == "confusion" else None))
        assert np.all(np.isfinite(q)) and np.all(q >= 0)
        assert np.allclose(q.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("args", "kwargs", "arg"),
    [
        ((np.array([0, 1]), 2), {"kind": "smoothing", "strength": 1.0}, "strength"),
        ((np.array([0, 1]), 2), {"kind": "smoothing", "strength": np.nan}, "strength"),
        ((np.array([0, 1]), 2), {"kind": "smoothing", "strength": -0.1}, "strength"),
        ((np.array([0, 1]), 2), {"kind": "blur"}, "kind"),
        ((np.array([0, 2]), 2), {"kind": "smoothing"}, "labels"),
        ((np.array([0, np.inf]), 2), {"kind": "smoothing"}, "labels"),
        ((np.array([0.5]), 2), {"kind": "smoothing"}, "labels"),
        ((np.array(["a"]), 2), {"kind": "smoothing"}, "labels"),
        ((np.array([0, 1]), 0), {"kind": "smoothing"}, "n_classes"),
        ((np.array([0, 1]), 2), {"kind": "confusion", "confusion": -np.eye(2)}, "confusion"),
        ((np.array([0, 1]), 2), {"kind": "confusion", "confusion": np.full((2, 2), np.nan)}, "confusion"),
        ((np.array([0, 1]), 2), {"kind": "confusion", "confusion": np.eye(3)}, "confusion"),
    ],
)
def test_label_noise_model_refuses_bad_input(args: tuple, kwargs: dict, arg: str) -> None:
    refuses("label_noise_model", arg, infoplane.label_noise_model, *args, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "arg"),
    [({"n_networks": 0}, "n_networks"), ({"n_epochs": -1}, "n_epochs"), ({"seed": None}, "seed"), ({"activation": "gelu"}, "activation"),
     ({"learning_rate": -1.0}, "learning_rate"), ({"batch_size": 0}, "batch_size"), ({"hidden": (0,)}, "hidden")],
)
def test_train_networks_refuses_bad_options(kwargs: dict, arg: str) -> None:
    x = np.zeros((4, 12))
    y = np.array([0, 1, 0, 1])
    options = {"n_networks": 1, "n_epochs": 1, "seed": 0, **kwargs}
    refuses("train_networks", arg, infoplane.train_networks, x, y, np.arange(4), **options)
