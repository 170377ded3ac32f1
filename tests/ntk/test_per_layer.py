"""Per-layer activations (issue 19, item 2): ``activation=`` as a list, one per hidden layer, in the
analytic kernels, the finite-width torch networks and the NTK information analyses. Accuracy
against the high-precision recursion is in test_accuracy_activations.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from ibtheory.ntk import empirical_kernels, ensemble_information, fc_kernels, finite_ensemble

#: Monte Carlo tolerance in standard errors.
K_SE = 5.0
#: depth 3 > 1: the empirical kernels' mean carries an O(1/width) bias besides the noise (Lee et al.
#: 2019; theory.md 7); allowed as this many / width of the largest entry (the tanh test's bound).
BIAS_PER_WIDTH = 2.0


def test_a_list_of_one_activation_gives_the_same_numbers_as_the_name():
    x = np.random.default_rng(0).normal(size=(6, 4))
    for name in ("relu", "erf", "tanh"):
        one = fc_kernels(x, depth=3, activation=name, w_std=1.3, b_std=0.2)
        listed = fc_kernels(x, depth=3, activation=[name] * 3, w_std=1.3, b_std=0.2)
        assert np.array_equal(one.nngp, listed.nngp) and np.array_equal(one.ntk, listed.ntk)
        assert listed.activation == (name,) * 3


def test_a_mixed_network_is_the_composition_of_its_layers():
    """relu then identity then erf equals the recursion run layer by layer by hand: the kernels of the
    depth-1 relu network, fed to an identity step and an erf step (generated single-activation kernels)."""
    from ibtheory._generated import ntk_numpy as gen

    x = np.random.default_rng(1).normal(size=(4, 3))
    w, b = 1.2, 0.3
    res = fc_kernels(x, depth=3, activation=["relu", "identity", "erf"], w_std=w, b_std=b)
    k1 = fc_kernels(x, depth=1, activation="relu", w_std=w, b_std=b)
    var = np.diag(k1.nngp)
    k2 = gen.identity_dense_step(k1.nngp, k1.ntk, var[:, None], var[None, :], w, b)
    var2 = np.diag(k2.nngp)
    k3 = gen.erf_dense_step(k2.nngp, k2.ntk, var2[:, None], var2[None, :], w, b)
    np.testing.assert_allclose(res.nngp, k3.nngp, rtol=1e-13)
    np.testing.assert_allclose(res.ntk, k3.ntk, rtol=1e-13)


def test_a_mixed_finite_network_matches_its_analytic_kernels():
    x = np.random.default_rng(5).normal(size=(4, 3))
    width = 128
    q = sp.Symbol("q")
    acts = ["relu", "identity", sp.Lambda(q, sp.sin(q))]
    kw = {"depth": 3, "activation": acts, "w_std": 1.2, "b_std": 0.2}
    exact = fc_kernels(x, **kw)
    emp = empirical_kernels(x, n_networks=400, width=width, seed=3, **kw)
    for k in ("nngp", "ntk"):
        samples = getattr(emp, k)
        se = samples.std(axis=0) / math.sqrt(samples.shape[0])
        bias = BIAS_PER_WIDTH / width * np.abs(getattr(exact, k)).max()
        assert np.all(np.abs(samples.mean(axis=0) - getattr(exact, k)) <= K_SE * se + bias)


def test_a_finite_network_with_the_wrong_layers_is_caught_by_the_monte_carlo_check():
    """The check above can fail: the same samples against the kernels of relu, relu, sin."""
    x = np.random.default_rng(5).normal(size=(4, 3))
    q = sp.Symbol("q")
    kw = {"depth": 3, "w_std": 1.2, "b_std": 0.2}
    wrong = fc_kernels(x, activation=["relu", "relu", sp.Lambda(q, sp.sin(q))], **kw)
    emp = empirical_kernels(x, n_networks=400, width=128, seed=3, activation=["relu", "identity", sp.Lambda(q, sp.sin(q))], **kw)
    se = emp.nngp.std(axis=0) / math.sqrt(400)
    bias = BIAS_PER_WIDTH / 128 * np.abs(wrong.nngp).max()
    assert not np.all(np.abs(emp.nngp.mean(axis=0) - wrong.nngp) <= K_SE * se + bias)


@pytest.mark.parametrize(
    ("activation", "match"),
    [
        (["relu", "erf"], r"sequence of depth = 3 of them .* got a sequence of 2"),
        (["relu", "erf", "relu", "erf"], r"sequence of depth = 3 of them .* got a sequence of 4"),
        (["relu", "swish", "erf"], r"activation\[1\]: activation must be one of"),
    ],
)
def test_wrong_per_layer_activations_raise_value_errors_naming_them(activation, match):
    with pytest.raises(ValueError, match=match):
        fc_kernels(np.ones((2, 3)), depth=3, activation=activation, w_std=1.0, b_std=0.1)
    with pytest.raises(ValueError, match=match):
        empirical_kernels(np.ones((2, 3)), depth=3, activation=activation, w_std=1.0, b_std=0.1, n_networks=2, width=4, seed=0)


def test_the_ntk_information_analysis_and_training_take_per_layer_activations():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3))
    labels = np.array([0, 1, 0, 1, 0, 1])
    y = np.eye(2)[labels]
    acts = ["relu", "identity"]
    info = ensemble_information(x, y, x, labels, [0.0, 10.0], depth=2, activation=acts, w_std=1.1, b_std=0.1,
                                learning_rate=1.0)
    assert np.all(np.isfinite(info.h_z_given_x))
    ens = finite_ensemble(x, y, times=[0.0, 1.0], n_networks=3, width=16, depth=2, activation=acts, w_std=1.1,
                          b_std=0.1, learning_rate=0.5, seed=0)
    assert np.all(np.isfinite(ens.outputs))
