"""Information planes of trained networks (theory.md 3.6, 5.3-5.6): short-training smoke tests of
the batched 12-bit training, the per-layer estimates, the figures and the variational IB/dualIB;
the long runs reproducing the papers' qualitative results are marked slow."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from ibtheory.figures import (
    plot_gradient_phases,
    plot_information_plane,
    plot_information_planes,
    plot_variational_planes,
)
from ibtheory.infoplane import (
    information_plane,
    label_noise_model,
    load_digits_data,
    train_networks,
    train_variational,
)
from ibtheory.infoplane._training import log_spaced_epochs
from ibtheory.infoplane._variational import _mc_information_xz
from ibtheory.models import twelve_bit_split, twelve_bit_task

#: float32 softmax rows sum to one within a few ulps.
SOFTMAX_ATOL = 1e-6
#: Plug-in entropies of <= 4096 counts (see test_estimators): round-off only.
ENTROPY_ATOL = 1e-10


@pytest.fixture(scope="module")
def task():
    return twelve_bit_task()


@pytest.fixture(scope="module")
def tanh_run(task):
    """5% of the patterns (205 rows < batch 256: one full batch per epoch), 3 networks, 40 epochs."""
    x, y = task
    split = twelve_bit_split(4096, train_fraction=0.05, seed=0)
    return train_networks(
        x, y, split.train, n_networks=3, n_epochs=40, seed=0, n_record=8, learning_rate=1e-2
    )


def test_log_spaced_epochs_start_at_zero_and_end_at_the_last_epoch():
    e = log_spaced_epochs(8000, 400)
    assert e[0] == 0 and e[-1] == 8000 and np.all(np.diff(e) > 0) and e.size <= 401
    ratios = e[-50:][1:] / e[-50:][:-1]
    np.testing.assert_allclose(ratios, ratios.mean(), rtol=0.01)  # geometric spacing late on


def test_batched_training_records_every_layer_at_log_spaced_epochs(tanh_run):
    run = tanh_run
    r, s = run.record_epochs.size, 3
    assert run.record_epochs[0] == 0 and run.record_epochs[-1] == 40
    assert [a.shape for a in run.activations] == [
        (r, s, 4096, w) for w in (10, 7, 5, 4, 3, 2)
    ]
    for a in run.activations[:-1]:
        assert np.all(np.abs(a) <= 1.0)  # tanh
    np.testing.assert_allclose(run.activations[-1].sum(-1), 1.0, atol=SOFTMAX_ATOL)
    assert run.train_loss.shape == (40, s) and run.grad_mean_norm.shape == (40, s, 6)
    assert np.all(run.train_loss[-1] < run.train_loss[0])  # every network learns
    assert np.all(run.train_accuracy[-1] > run.train_accuracy[0])
    assert np.all(np.isfinite(run.test_accuracy)) and run.test_index.size == 4096 - 205
    # the networks are independent: different initialisations, different trajectories
    assert not np.allclose(run.activations[0][0, 0], run.activations[0][0, 1])


def test_full_batch_gradients_have_no_noise(tanh_run):
    """One minibatch per epoch = full-batch gradient descent: std = 0, SNR = inf (theory 5.5)."""
    assert tanh_run.n_batches_per_epoch == 1
    assert np.all(tanh_run.grad_std_norm == 0.0) and np.all(tanh_run.grad_mean_norm > 0)
    assert np.all(np.isinf(tanh_run.snr))


#: float32 gradients summed over 128-256 rows: relative round-off ~1e-6.
GRADIENT_RTOL = 1e-4


def test_mean_of_minibatch_gradients_is_the_full_batch_gradient(task):
    """Independent route: with a negligible step (lr 1e-10) every minibatch gradient of epoch 1 is
    taken at the initial weights, so the mean of the gradients of two equal halves of the training
    set equals the full-batch gradient of a run with the same seed (same initialisation)."""
    x, y = task
    idx = np.arange(0, 4096, 16)  # 256 rows
    kw = {"n_networks": 3, "n_epochs": 1, "seed": 11, "learning_rate": 1e-10, "n_record": 1}
    full = train_networks(x, y, idx, batch_size=256, **kw)
    halves = train_networks(x, y, idx, batch_size=128, **kw)
    assert full.n_batches_per_epoch == 1 and halves.n_batches_per_epoch == 2
    np.testing.assert_allclose(halves.grad_mean_norm, full.grad_mean_norm, rtol=GRADIENT_RTOL)
    np.testing.assert_array_equal(halves.activations[0][0], full.activations[0][0])  # same init
    assert np.all(halves.grad_std_norm > 0)


def test_minibatch_gradient_statistics_and_seeding(task):
    x, y = task
    idx = np.arange(0, 4096, 8)  # 512 rows, batch 64: 8 minibatches per epoch
    kw = {"n_networks": 2, "n_epochs": 3, "batch_size": 64, "n_record": 2, "activation": "relu"}
    state = torch.get_rng_state()
    a = train_networks(x, y, idx, seed=5, **kw)
    assert torch.equal(state, torch.get_rng_state())  # own generator: global RNG untouched
    b = train_networks(x, y, idx, seed=5, **kw)
    c = train_networks(x, y, idx, seed=6, **kw)
    assert a.n_batches_per_epoch == 8
    assert np.all(a.grad_std_norm > 0) and np.all(np.isfinite(a.snr))
    for h in a.activations[:-1]:
        assert np.all(h >= 0)  # ReLU
    for u, v in zip(a.activations, b.activations, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a.activations[0], c.activations[0])


def test_binning_plane_of_a_run(task, tanh_run):
    _, y = task
    plane = information_plane(tanh_run, y, estimator="binning", n_bins=30, value_range=(-1, 1))
    r = tanh_run.record_epochs.size
    assert plane.i_xt.shape == plane.i_ty.shape == (r, 3, 6)
    assert np.all(plane.i_xt <= 12.0 + ENTROPY_ATOL) and np.all(plane.i_xt >= 0)
    assert np.all(plane.i_ty <= plane.h_y + ENTROPY_ATOL) and np.all(plane.i_ty >= 0)
    assert plane.settings["n_bins"] == 30 and plane.units == "bits"
    assert plane.settings["value_ranges"] == [(-1.0, 1.0)] * 6
    # the first hidden layer (10 tanh units of 12 bits) stays nearly injective
    assert np.all(plane.i_xt[:, :, 0] > 11.0)
    fig = plot_information_plane(plane)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "I(X;T) [bits]" and ax.get_ylabel() == "I(T;Y) [bits]"
    assert isinstance(plot_information_planes([plane, plane], ["a", "b"]), Figure)
    fig = plot_gradient_phases(tanh_run)
    assert "SNR" in fig.axes[1].get_ylabel()


def test_kde_and_observed_range_planes_of_a_small_run(task):
    x, y = task
    rows = np.arange(0, 4096, 16)  # 256 patterns: the O(N^2) KDE stays cheap
    run = train_networks(
        x[rows], y[rows], np.arange(200), n_networks=2, n_epochs=5, seed=1, n_record=3,
        activation="relu",
    )
    kde = information_plane(run, y[rows], estimator="kde", noise_variance=1e-3)
    assert kde.i_xt_lower is not None and kde.i_ty_lower is not None
    # the UNCLIPPED bounds (the public ones are clipped into these very ranges): lower <= upper,
    # I(X;M) in [0, ln N], up to the pairwise terms' round-off (bits) of the worst layer
    from ibtheory.testing import pairwise_rounding

    assert kde.raw is not None and set(kde.raw) == {"i_xt", "i_ty", "i_xt_lower", "i_ty_lower"}
    tol = max(pairwise_rounding(a.reshape(-1, *a.shape[-2:]), 1e-3) for a in run.activations) / math.log(2)
    assert np.all(kde.raw["i_xt_lower"] <= kde.raw["i_xt"] + tol)
    assert np.all(kde.raw["i_ty_lower"] <= kde.raw["i_ty"] + tol)
    assert np.all(kde.raw["i_xt_lower"] >= -tol) and np.all(kde.raw["i_xt"] <= math.log2(256) + tol)
    assert kde.settings == {"noise_variance": 1e-3}
    obs = information_plane(
        run, y[rows], estimator="binning", n_bins=30, value_range="observed"
    )
    ranges = obs.settings["value_ranges"]
    assert ranges[-1] == (0.0, 1.0) and all(lo >= 0.0 for lo, _ in ranges[:-1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"estimator": "mine"}, "estimator"),
        ({"estimator": "binning", "n_bins": 30}, "value_range"),
        ({"estimator": "binning", "value_range": (-1, 1)}, "n_bins"),
        ({"estimator": "binning", "n_bins": 30, "value_range": "auto"}, "observed"),
        ({"estimator": "kde"}, "noise_variance"),
        ({"estimator": "kde", "noise_variance": -1.0}, "noise_variance"),
    ],
)
def test_information_plane_rejects_bad_settings(task, tanh_run, kwargs, match):
    _, y = task
    with pytest.raises(ValueError, match=match):
        information_plane(tanh_run, y, **kwargs)


def test_information_plane_rejects_labels_of_the_wrong_length(task, tanh_run):
    _, y = task
    with pytest.raises(ValueError, match="length 4095"):
        information_plane(tanh_run, y[:-1], estimator="binning", n_bins=30, value_range=(-1, 1))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"activation": "sigmoid"}, "activation"),
        ({"n_networks": 0}, "n_networks"),
        ({"n_epochs": 1.5}, "n_epochs"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"hidden": ()}, "hidden"),
        ({"seed": None}, "seed"),
    ],
)
def test_training_rejects_bad_settings(task, kwargs, match):
    x, y = task
    base = {"n_networks": 1, "n_epochs": 1, "seed": 0}
    with pytest.raises(ValueError, match=match):
        train_networks(x, y, np.arange(10), **{**base, **kwargs})


@pytest.mark.parametrize(
    ("x_fn", "y_fn", "idx", "match"),
    [
        (lambda x: x[:, 0], lambda y: y, np.arange(10), "x must be"),
        (lambda x: np.where(x == 1, np.nan, x), lambda y: y, np.arange(10), "non-finite"),
        (lambda x: x, lambda y: y[:-1], np.arange(10), "y must have shape"),
        (lambda x: x, lambda y: y - 1, np.arange(10), "non-negative integer"),
        (lambda x: x, lambda y: y, np.array([0, 0, 1]), "repeated"),
        (lambda x: x, lambda y: y, np.array([5000]), "train_index"),
    ],
)
def test_training_rejects_bad_data(task, x_fn, y_fn, idx, match):
    x, y = task
    with pytest.raises(ValueError, match=match):
        train_networks(x_fn(x.astype(float)), y_fn(y), idx, n_networks=1, n_epochs=1, seed=0)


# ----------------------------------------------------------------------------- variational
def test_label_noise_model_rows_are_distributions():
    y = np.array([0, 2, 1, 2])
    p = label_noise_model(y, 3, kind="smoothing", strength=0.3)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-15)
    np.testing.assert_allclose(p[np.arange(4), y], 0.7 + 0.1, atol=1e-12)
    conf = np.array([[8.0, 1, 1], [0, 5, 5], [1, 1, 2]])
    q = label_noise_model(y, 3, kind="confusion", confusion=conf)
    np.testing.assert_allclose(q[1], np.clip([0.25, 0.25, 0.5], 1e-7, 1), atol=1e-12)
    np.testing.assert_allclose(q[2], [1e-7 / (1 + 1e-7), 0.5 / (1 + 1e-7), 0.5 / (1 + 1e-7)])
    for kwargs, match in [
        ({"kind": "flip"}, "kind"),
        ({"kind": "smoothing", "strength": 1.0}, "strength"),
        ({"kind": "confusion"}, "confusion"),
        ({"kind": "confusion", "confusion": np.eye(2)}, "confusion"),
        ({"kind": "confusion", "confusion": -np.eye(3)}, "confusion"),
    ]:
        with pytest.raises(ValueError, match=match):
            label_noise_model(y, 3, **kwargs)
    with pytest.raises(ValueError, match="labels"):
        label_noise_model(np.array([0, 3]), 3, kind="smoothing")
    for bad in (np.nan, np.inf, -np.inf, 1.5):  # issue 21: were a cast warning / silently truncated
        with pytest.raises(ValueError, match="labels must be finite integer class indices"):
            label_noise_model(np.array([0.0, bad, 1.0]), 3, kind="smoothing")
    np.testing.assert_array_equal(label_noise_model(np.array([0.0, 2.0]), 3, kind="smoothing"),
                                  label_noise_model(np.array([0, 2]), 3, kind="smoothing"))


class _StubEncoder:
    def __init__(self, mu, scale):
        self.mu, self.scale = mu, scale

    def encode(self, x):
        return self.mu, self.scale


def test_monte_carlo_i_xz_limits():
    """X uniform over N rows: I(X;Z) -> ln N for well separated encoders, -> 0 for identical ones."""
    gen = torch.Generator().manual_seed(0)
    n = 50
    mu = torch.arange(n, dtype=torch.float32)[:, None] * torch.ones(1, 2)
    far = _mc_information_xz(_StubEncoder(mu, torch.full((n, 2), 1e-3)), None, 4, gen)  # type: ignore[arg-type]
    same = _mc_information_xz(
        _StubEncoder(torch.zeros(n, 2), torch.ones(n, 2)), None, 4, gen  # type: ignore[arg-type]
    )
    assert far == pytest.approx(math.log(n), abs=1e-5)
    assert same == pytest.approx(0.0, abs=1e-6)


#: float32 log-densities of a few units summed over 3 coordinates: round-off ~1e-6.
MC_FLOAT32_ATOL = 1e-5


def test_monte_carlo_i_xz_matches_torch_normal_log_densities():
    """Independent route for the per-coordinate generated kernel: the same draws scored with
    torch.distributions.Normal (diagonal Gaussians with different scales per coordinate)."""
    n, d, n_z = 30, 3, 3
    g = torch.Generator().manual_seed(1)
    mu = torch.randn(n, d, generator=g)
    scale = 0.2 + torch.rand(n, d, generator=g)
    got = _mc_information_xz(_StubEncoder(mu, scale), None, n_z, torch.Generator().manual_seed(7))  # type: ignore[arg-type]
    gen = torch.Generator().manual_seed(7)
    vals = []
    for _ in range(n_z):
        z = mu + scale * torch.randn(mu.shape, generator=gen)
        log_e = torch.distributions.Normal(mu[None], scale[None]).log_prob(z[:, None]).sum(-1)
        vals.append((log_e.diagonal() - (torch.logsumexp(log_e, dim=1) - math.log(n))).mean())
    assert got == pytest.approx(float(torch.stack(vals).mean()), abs=MC_FLOAT32_ATOL)
    assert 0.0 < got < math.log(n)


def test_variational_ib_and_dual_ib_smoke():
    data = load_digits_data(seed=0)
    assert data.x_train.shape == (1348, 64) and data.x_test.shape == (449, 64)
    kw = {"betas": [1.0, 30.0], "seed": 0, "n_epochs": 2, "hidden": 32, "z_dim": 4}
    state = torch.get_rng_state()
    vib = train_variational(data, method="vib", **kw)
    assert torch.equal(state, torch.get_rng_state())  # forked and restored
    dual = train_variational(data, method="vdualib", noise_kind="smoothing", noise_strength=0.1, **kw)
    cc = train_variational(data, method="vdualib", prior="class_conditional", **{**kw, "betas": [30.0]})
    for r in (vib, dual, cc):
        assert r.units == "nats" and r.h_y == pytest.approx(math.log(10), abs=0.01)
        assert np.all(r.i_xz <= math.log(1348) + 1e-6) and np.all(r.i_zy <= r.h_y)
        assert np.all(np.isfinite(r.loss_history)) and r.loss_history.shape[1] == 2
    assert dual.settings["noise_strength"] == 0.1 and dual.method == "vdualib"
    # more weight on the distortion buys more label information (same seed, same init)
    assert vib.i_zy[1] > vib.i_zy[0] and dual.i_zy[1] > dual.i_zy[0]
    again = train_variational(data, method="vib", **kw)
    np.testing.assert_array_equal(again.i_xz, vib.i_xz)
    fig = plot_variational_planes([vib, dual], ["VIB", "VdualIB"])
    assert len(fig.axes) == 4  # two planes and their colour bars


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "ceb"}, "method"),
        ({"prior": "flat"}, "prior"),
        ({"betas": []}, "betas"),
        ({"betas": [0.0]}, "betas"),
        ({"units": "bans"}, "units"),
        ({"seed": None}, "seed"),
        ({"n_epochs": 0}, "n_epochs"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"label_weight": float("nan")}, "label_weight"),
        ({"noise_kind": "flip", "method": "vdualib"}, "kind"),
    ],
)
def test_variational_rejects_bad_settings(kwargs, match):
    data = load_digits_data(seed=0)
    base = {"method": "vib", "betas": [1.0], "seed": 0, "n_epochs": 1}
    with pytest.raises(ValueError, match=match):
        train_variational(data, **{**base, **kwargs})
    with pytest.raises(ValueError, match="seed"):
        load_digits_data(seed=None)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- slow: the papers
@pytest.mark.slow
def test_tanh_compresses_and_relu_does_not_under_binning(task):
    """theory.md 5.1/5.6: with tanh the deep layers first gain then lose binned I(X;T)
    (fitting, then compression); with ReLU binned over the observed range they do not compress.
    85% of the data, 8 networks, 1500 epochs of Adam 4e-4 (IDNNs settings, shortened)."""
    x, y = task
    split = twelve_bit_split(4096, train_fraction=0.85, seed=0)
    out = {}
    for act, vr in (("tanh", (-1.0, 1.0)), ("relu", "observed")):
        run = train_networks(
            x, y, split.train, n_networks=8, n_epochs=1500, seed=0, n_record=25, activation=act
        )
        plane = information_plane(run, y, estimator="binning", n_bins=30, value_range=vr)
        out[act] = (run, plane.i_xt.mean(axis=1), plane.i_ty.mean(axis=1))
    run, i_xt, i_ty = out["tanh"]
    assert run.train_accuracy[-1].mean() > 0.95
    assert i_ty[-1, 4] > i_ty[0, 4] + 0.5  # fitting: the last hidden layer learns the label
    peak = i_xt[:, 4].max()  # the last hidden layer (3 units): rises then falls
    assert peak > i_xt[0, 4] + 1.0 and i_xt[-1, 4] < peak - 2.0
    # drift then diffusion: the gradient SNR of the first layer falls by an order of magnitude
    snr = run.snr.mean(axis=1)
    assert snr[-100:, 0].mean() < 0.3 * snr[:5, 0].mean()
    _, i_xt_relu, _ = out["relu"]
    for layer in range(5):  # no hidden layer compresses
        assert i_xt_relu[-1, layer] > i_xt_relu[:, layer].max() - 0.5


@pytest.mark.slow
def test_variational_sweeps_trace_an_information_curve():
    """theory.md 3.6: as beta grows, both VIB and VdualIB (confusion-matrix label noise) move from
    the trivial representation (I(X;Z) ~ 0, I(Z;Y) ~ 0) to I(Z;Y) close to H(Y) = ln 10."""
    data = load_digits_data(seed=0)
    conf = np.full((10, 10), 0.5) + 40.0 * np.eye(10)  # a mildly confused classifier
    kw = {"betas": [0.3, 10.0, 300.0], "seed": 0, "n_epochs": 40}
    vib = train_variational(data, method="vib", **kw)
    dual = train_variational(data, method="vdualib", noise_kind="confusion", confusion=conf, **kw)
    for r in (vib, dual):
        assert abs(r.i_xz[0]) < 0.05 and abs(r.i_zy[0]) < 0.1  # trivial at small beta
        assert np.all(np.diff(r.i_xz) > 0)
        assert r.i_zy[-1] > 0.9 * r.h_y and r.test_accuracy[-1] > 0.9
