# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The information plane of trained networks
#
# Shwartz-Ziv & Tishby ("Opening the black box of deep neural networks via information", 2017)
# trained small tanh networks on a synthetic 12-bit task and followed every layer $T$ in the
# *information plane* $(I(X;T), I(T;Y))$: a fast **fitting** phase ($I(T;Y)$ grows) followed by a
# long **compression** phase ($I(X;T)$ falls), with the minibatch gradients switching from
# **drift** (mean $\gg$ std) to **diffusion** (std $\gg$ mean). Saxe et al. (2018) showed that
# with ReLU units and the same binning estimator there is no compression: it comes from the
# saturation of tanh. This notebook reproduces both, with
#
# * the 12-bit task (`ibtheory.models.twelve_bit_task`, a documented icosahedral rule),
# * many networks trained at once in torch (`ibtheory.infoplane.train_networks`),
# * the binning and pairwise-KDE estimators (`ibtheory.estimators`),
# * the input-compression bound (`ibtheory.input_compression_bound`, theory.md 6),
# * and the variational IB vs the variational dualIB on the scikit-learn digits (theory.md 3.6).
#
# With `IBTHEORY_NOTEBOOK_QUICK=1` every run is tiny (a few seconds); the figures described in the
# text are those of the full run.

# %%
import dataclasses
import os

import numpy as np
import torch
from IPython import get_ipython

import ibtheory
from ibtheory.estimators import binning_information, kde_information
from ibtheory.figures import (
    input_compression_figure,
    plot_gradient_phases,
    plot_information_planes,
    plot_variational_planes,
)
from ibtheory.infoplane import (
    information_plane,
    load_digits_data,
    train_networks,
    train_variational,
)
from ibtheory.models import twelve_bit_split, twelve_bit_task

QUICK = os.environ.get("IBTHEORY_NOTEBOOK_QUICK") == "1"
torch.set_num_threads(1)

if (shell := get_ipython()) is not None:  # in Jupyter: show the returned Figure objects inline
    shell.run_line_magic("matplotlib", "inline")

SEED = 0
FRACTIONS = (0.05, 0.45, 0.85)
if QUICK:
    N_EPOCHS, LEARNING_RATE, N_NETWORKS, N_RECORD = 20, 3e-3, 2, 5
else:  # IDNNs settings (Adam 4e-4, batch 256), shortened from 8000 to 2000 epochs
    N_EPOCHS, LEARNING_RATE, N_NETWORKS, N_RECORD = 2000, 4e-4, 8, 30

# %% [markdown]
# ## The 12-bit task
#
# All $2^{12} = 4096$ binary patterns; the 12 inputs sit on the vertices of a regular icosahedron
# and $y = [f(x) > \mathrm{median}\, f]$ with $f(x) = \sum_i x_i - \lVert\sum_i x_i v_i\rVert$,
# which depends on the pattern only through the Gram matrix $v_i\cdot v_j$ (invariant under
# $O(3)$). With $X$ uniform and $y$ deterministic, $I(X;Y) = H(Y)$; the binning estimator on the
# input itself (an injective layer) returns $H(X) = 12$ bits and $I(X;Y)$.

# %%
x, y = twelve_bit_task()
injective = binning_information(x, y, n_bins=2, value_range=(0.0, 1.0))
k = x.sum(axis=1)
print(f"patterns {x.shape}, p(y=1) = {y.mean():.5f}")
print(f"I(X;T=X) = {injective.i_xt:.4f} bits, I(X;Y) = {injective.i_ty:.6f} bits")
print("P(y=1 | #active inputs = k):", np.round([y[k == j].mean() for j in range(13)], 3))

# %% [markdown]
# ## Training: 12-10-7-5-4-3-2, tanh and ReLU, at 5%, 45% and 85% of the data
#
# `train_networks` trains `N_NETWORKS` networks as one batched model (each layer is a
# `(networks, fan_in, fan_out)` tensor), records every layer on all 4096 patterns at log-spaced
# epochs and the per-layer mean and standard deviation of the minibatch weight gradients.

# %%
runs = {}
for act in ("tanh", "relu"):
    for frac in FRACTIONS:
        split = twelve_bit_split(4096, train_fraction=frac, seed=SEED)
        runs[act, frac] = train_networks(
            x, y, split.train, n_networks=N_NETWORKS, n_epochs=N_EPOCHS, seed=SEED,
            activation=act, learning_rate=LEARNING_RATE, n_record=N_RECORD,
        )
        r = runs[act, frac]
        print(
            f"{act:4s} {frac:.0%}: train acc {r.train_accuracy[-1].mean():.3f}, "
            f"test acc {np.nanmean(r.test_accuracy[-1]):.3f}"
        )

# %% [markdown]
# ## Binned information planes
#
# 30 equal bins per unit; tanh layers on $(-1, 1)$, ReLU layers on the range each layer visits
# during training (a fixed bin width per layer). In the full run the tanh planes show the two
# phases: the deep layers first move up and right (fitting), then left (compression); the ReLU
# layers move up and right and stay there.

# %%
planes = {}
for (act, frac), run in runs.items():
    value_range = (-1.0, 1.0) if act == "tanh" else "observed"
    planes[act, frac] = information_plane(
        run, y, estimator="binning", n_bins=30, value_range=value_range
    )
for act in ("tanh", "relu"):
    fig = plot_information_planes(
        [planes[act, f] for f in FRACTIONS], [f"{act}, {f:.0%} training data" for f in FRACTIONS]
    )
    fig.savefig(f"information_plane_{act}.png", dpi=110)
    last = np.array([planes[act, f].i_xt.mean(axis=1)[:, -2] for f in FRACTIONS])
    print(f"{act}: last hidden layer I(X;T) peak -> end (bits):",
          [f"{row.max():.2f} -> {row[-1]:.2f}" for row in last])
fig

# %% [markdown]
# ## Drift and diffusion: the gradient signal-to-noise ratio
#
# Per layer, $\lVert\mathrm{mean}_b\, g_b\rVert$ and $\lVert\mathrm{std}_b\, g_b\rVert$ of the
# minibatch gradients over each epoch. Early on the mean dominates (high SNR, drift); later the
# fluctuations dominate (SNR < 1, diffusion), while $I(X;T)$ of the tanh layers decreases.

# %%
fig = plot_gradient_phases(runs["tanh", 0.85], title="gradient SNR, tanh, 85% data")
fig.savefig("gradient_phases_tanh.png", dpi=110)
snr = runs["tanh", 0.85].snr.mean(axis=1)
print("layer-1 SNR, first 5 epochs vs last 10%:", snr[:5, 0].mean(), snr[-max(N_EPOCHS // 10, 1):, 0].mean())
fig

# %% [markdown]
# ## The pairwise (KDE) estimator
#
# Kolchinsky & Tracey's bounds on $I(X;M)$, $I(M;Y)$ for $M = T + N(0, \sigma^2 I)$ (theory.md
# 5.7), on every 8th pattern (512 rows, so $I \le 9$ bits; every 32nd in quick mode) and two
# networks, to keep the $O(N^2)$ cost small.

# %%
rows = np.arange(0, 4096, 32 if QUICK else 8)
for act in ("tanh", "relu"):
    run = runs[act, 0.85]
    sub = dataclasses.replace(run, activations=tuple(a[:, :2][:, :, rows] for a in run.activations))
    kde = information_plane(sub, y[rows], estimator="kde", noise_variance=1e-3)
    assert kde.i_xt_lower is not None
    gap = float(np.max(kde.i_xt - kde.i_xt_lower))
    print(f"{act}: KDE last hidden layer I(X;M) upper at end {kde.i_xt.mean(axis=1)[-1, -2]:.2f} "
          f"bits (max upper-lower gap {gap:.2f} bits)")
single = kde_information(runs["tanh", 0.85].activations[0][-1, 0, rows], y[rows], noise_variance=1e-3)
print(single)

# %% [markdown]
# ## The input-compression bound (theory.md 6; form UNCONFIRMED)
#
# $\epsilon^2 < (2^{I(T;X)} + \ln(1/\delta))/(2m)$: compressing the representation by one bit is
# worth doubling the training set. With $I(X;T)$ of the last hidden layer of the tanh networks:

# %%
for frac in FRACTIONS:
    run = runs["tanh", frac]
    i_end = float(planes["tanh", frac].i_xt.mean(axis=1)[-1, -2])
    bound = ibtheory.input_compression_bound(i_end, run.train_index.size, 0.05)
    gap = run.train_accuracy[-1].mean() - np.nanmean(run.test_accuracy[-1])
    print(f"{frac:.0%}: m = {run.train_index.size}, I(X;T) = {i_end:.2f} bits, "
          f"bound eps = {float(bound.epsilon):.3f}, measured accuracy gap = {gap:.3f}")

i_grid = np.linspace(0.0, 12.0, 49)
fig = input_compression_figure(
    i_grid, {m: ibtheory.input_compression_bound(i_grid, m, 0.05).epsilon for m in (205, 1843, 3482)}
)
fig.savefig("input_compression_bound.png", dpi=110)
fig

# %% [markdown]
# ## Variational IB vs variational dualIB on the digits
#
# VIB minimises $\mathrm{KL}[e(z|x)\,\|\,r(z)] - \beta\, \log q(y|z)$; VdualIB replaces the
# cross-entropy by the dual distortion $\mathrm{KL}[q(y|z)\,\|\,\tilde p(y|x)]$, where
# $\tilde p(y|x)$ is a label-noise model: here the row of the true class of the (row-normalised)
# cross-validated confusion matrix of a logistic regression, as the VdualIB code does with a
# confusion matrix (theory.md 3.6). One point per $\beta$; $I(X;Z)$ by Monte Carlo over the
# training set, $I(Z;Y) \ge H(Y) - \mathrm{CE}$.

# %%
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import cross_val_predict

data = load_digits_data(seed=SEED)
pred = cross_val_predict(LogisticRegression(max_iter=3000), data.x_train, data.y_train, cv=3)
confusion = confusion_matrix(data.y_train, pred) + 0.5  # + 1/2: no exact zeros
if QUICK:
    vkw = {"betas": [1.0, 100.0], "n_epochs": 2, "hidden": 32, "z_dim": 4}
else:
    vkw = {"betas": np.geomspace(0.3, 1000.0, 10), "n_epochs": 60, "hidden": 128, "z_dim": 8}
vib = train_variational(data, method="vib", seed=SEED, **vkw)
vdual = train_variational(
    data, method="vdualib", seed=SEED, noise_kind="confusion", confusion=confusion, **vkw
)
for res in (vib, vdual):
    print(res.method, "I(X;Z):", np.round(res.i_xz, 2), "I(Z;Y):", np.round(res.i_zy, 2),
          "test acc:", np.round(res.test_accuracy, 3))
fig = plot_variational_planes([vib, vdual], ["VIB", "VdualIB (confusion-matrix noise)"])
fig.savefig("variational_planes.png", dpi=110)
fig

# %% [markdown]
# ## Play the information planes over the epochs
#
# `ibtheory.explore.infoplane_player` on the binned tanh planes above (one panel per training
# fraction, averaged over the networks): press play, or drag the epoch slider, to watch each layer
# move on the plane.

# %%
from ibtheory.explore import infoplane_player

infoplane_player({f"tanh, {f:.0%} data": planes["tanh", f] for f in FRACTIONS})
