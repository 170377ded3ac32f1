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
# # NTK kernels, infinite ensembles, and finite-width ensembles
#
# A fully connected network in the NTK parameterisation (neural-tangents conventions, theory.md 7.1:
# `depth` x [Dense, activation] then a Dense readout, input kernel $x\cdot x'/d$) has, as its width
# grows, a Gaussian-process output at initialisation with covariance the **NNGP** kernel $K$, and
# trains by gradient flow like a linear model with the **NTK** $\Theta$ (Jacot et al. 2018; Lee et
# al. 2019). An infinite ensemble of such networks trained on MSE therefore has a Gaussian output at
# every time $t$ (theory.md 4.1):
#
# $$\mu_t(x) = \Theta_x \Theta^{-1}(I - e^{-\tau\Theta})Y,\qquad \tau = \eta t/(n k),$$
#
# with a covariance $\Sigma_t$ that goes from the NNGP prior at $t = 0$ to the converged ensemble at
# $t = \infty$. `ibtheory.ntk` computes the kernels (generated from the SymPy derivation
# `ibtheory derive ntk`), the ensemble at any times with one eigendecomposition, and trains finite
# ensembles in torch to check the limit.

# %%
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import NullLocator

from ibtheory.ntk import (
    empirical_kernels,
    ensemble_prediction,
    fc_kernels,
    finite_ensemble,
    max_learning_rate,
)
from ibtheory.numeric._ntk_oracle import fc_kernel_entry

QUICK = os.environ.get("IBTHEORY_NOTEBOOK_QUICK") == "1"
N_NETS = 100 if QUICK else 400
torch.set_num_threads(1)


def circle(angles):
    """Inputs sqrt(2) (cos a, sin a): the input kernel x.x'/d is cos(a - a')."""
    return np.sqrt(2.0) * np.column_stack([np.cos(angles), np.sin(angles)])


# %% [markdown]
# ## 1. Analytic kernels vs the angle between two inputs
#
# ReLU and erf, depth 1 and 3, $w_{std} = 1.5$, $b_{std} = 0.1$. The diagonal entries are computed
# exactly (the stable atan2 form of `ntk_derivation`); a 50-digit mpmath recursion confirms them.

# %%
gammas = np.linspace(0.0, np.pi, 200)
xg = circle(gammas)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, act in zip(axes, ("relu", "erf"), strict=True):
    for depth, style in ((1, "-"), (3, "--")):
        k = fc_kernels(xg[:1], xg, depth=depth, activation=act, w_std=1.5, b_std=0.1)
        ax.plot(gammas, k.ntk[0], "C0" + style, label=f"NTK, depth {depth}")
        ax.plot(gammas, k.nngp[0], "C1" + style, label=f"NNGP, depth {depth}")
    ax.set_xlabel("angle between inputs [rad]")
    ax.set_ylabel("kernel value [output units²]")
    ax.set_title(act)
    ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig("ntk_kernels.png", dpi=100)

k3 = fc_kernels(xg[:1], depth=3, activation="relu", w_std=1.5, b_std=0.1)
want = fc_kernel_entry(xg[0], xg[0], depth=3, activation="relu", w_std=1.5, b_std=0.1)
print(f"diagonal NTK, depth 3: {k3.ntk[0, 0]:.17g}; relative error vs 50 digits {float(abs(k3.ntk[0, 0] / want[1] - 1)):.1e}")

# %% [markdown]
# ## 2. Finite-width networks: empirical kernels
#
# The mean of sampled networks' empirical NTK matches the analytic one (exactly in expectation at
# depth 1), and one network's NTK fluctuates around it by $O(\text{width}^{-1/2})$.

# %%
g7 = np.linspace(0.0, np.pi, 7)
emp = empirical_kernels(circle(g7[:1]), circle(g7), n_networks=N_NETS, width=64, depth=1, w_std=1.5, b_std=0.1, seed=0)
exact = fc_kernels(circle(g7[:1]), circle(g7), depth=1, w_std=1.5, b_std=0.1)
se = emp.ntk.std(axis=0, ddof=1)[0] / np.sqrt(N_NETS)
print("empirical - analytic NTK, in standard errors:", np.round((emp.ntk.mean(axis=0)[0] - exact.ntk[0]) / se, 2))

widths = [16, 64, 256] if QUICK else [16, 64, 256, 1024]
x4 = circle(np.array([0.0, 1.0, 2.0, 3.0]))
theta = fc_kernels(x4, depth=1, w_std=1.5, b_std=0.1).ntk
rms = []
for w in widths:
    e = empirical_kernels(x4, n_networks=N_NETS, width=w, depth=1, w_std=1.5, b_std=0.1, seed=1)
    rms.append(float(np.sqrt(np.mean((e.ntk - theta) ** 2)) / np.sqrt(np.mean(theta**2))))
print("relative RMS error of one network's NTK by width:", dict(zip(widths, np.round(rms, 4).tolist(), strict=True)))
print("log-log slope (theory -1/2):", round(float(np.polyfit(np.log(widths), np.log(rms), 1)[0]), 3))

# %% [markdown]
# ## 3. The infinite ensemble over training time
#
# Eight training points on the circle with targets $\sin 2a$; the learning rate is half the largest
# stable one, $\eta_{max} = 2nk/\lambda_{max}(\Theta)$. Mean and $\pm 2$ sd at $t = 0$ (the NNGP
# prior), two intermediate times, and $t = \infty$ (all in one call, one eigendecomposition).

# %%
rng = np.random.default_rng(0)
a_train = np.sort(rng.uniform(0.0, 2 * np.pi, 8))
x_train, y_train = circle(a_train), np.sin(2 * a_train)[:, None]
a_test = np.linspace(0.0, 2 * np.pi, 100 if QUICK else 300)
arch = {"depth": 1, "activation": "relu", "w_std": 1.5, "b_std": 0.1}
lr = 0.5 * max_learning_rate(fc_kernels(x_train, **arch).ntk)
times = [0.0, 2.0, 20.0, np.inf]
ens = ensemble_prediction(x_train, y_train, circle(a_test), times, learning_rate=lr, **arch)
sd = np.sqrt(np.clip(np.diagonal(ens.cov, axis1=1, axis2=2), 0, None))

fig, ax = plt.subplots(figsize=(7, 4))
for i, t in enumerate(times):
    m = ens.mean[i, :, 0]
    ax.plot(a_test, m, color=f"C{i}", label=f"t = {t:g}")
    if i == 0:
        ax.plot(a_test, m + 2 * sd[i], "C0--", lw=0.8)
        ax.plot(a_test, m - 2 * sd[i], "C0--", lw=0.8)
    else:
        ax.fill_between(a_test, m - 2 * sd[i], m + 2 * sd[i], color=f"C{i}", alpha=0.2)
ax.plot(a_train, y_train[:, 0], "kx", ms=8, label="training targets")
ax.set_xlabel("input angle a [rad]")
ax.set_ylabel("ensemble output [target units]")
ax.set_title(f"Infinite ensemble: mean ± 2 sd (lr = {lr:.3g}; t in GD steps)")
ax.legend(fontsize=8, ncol=2)
fig.tight_layout()
fig.savefig("ntk_ensemble.png", dpi=100)

on_train = ensemble_prediction(x_train, y_train, None, [np.inf], learning_rate=lr, **arch)
print("t = inf on the training set: max |mean - y| =", float(np.max(np.abs(on_train.mean[0] - y_train))),
      " max |cov| =", float(np.max(np.abs(on_train.cov[0]))))

# %% [markdown]
# ## 4. Finite-width ensembles trained by gradient descent converge to it
#
# 400 networks per width, trained in parallel (batched matmuls) with step $0.5\,\eta$ to $t = 20$;
# the ensemble mean approaches $\mu_{20}$ as the width grows, down to the Monte-Carlo floor.

# %%
a_probe = np.linspace(0.3, 2 * np.pi - 0.3, 6)
ref = ensemble_prediction(x_train, y_train, circle(a_probe), [20.0], learning_rate=lr, **arch)
train_widths = [2, 8, 32, 256] if QUICK else [2, 4, 8, 16, 64, 256]
errs = []
for w in train_widths:
    fe = finite_ensemble(x_train, y_train, circle(a_probe), [20.0], n_networks=400, width=w, learning_rate=lr,
                         seed=2, dt=0.5, **arch)
    errs.append(float(np.sqrt(np.mean((fe.mean[0, :, 0] - ref.mean[0, :, 0]) ** 2))))
floor = float(np.sqrt(np.mean(np.diagonal(ref.cov[0]) / 400)))
fig, ax = plt.subplots(figsize=(5, 3.6))
ax.loglog(train_widths, errs, "o-", label="RMS |finite mean - infinite mean|")
ax.axhline(floor, color="grey", ls=":", label="Monte-Carlo SE (400 nets)")
ax.set_xticks(train_widths, [str(w) for w in train_widths])
ax.xaxis.set_minor_locator(NullLocator())
ax.set_xlabel("width [units]")
ax.set_ylabel("error at t = 20 [target units]")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig("ntk_finite.png", dpi=100)
print("RMS mean error by width:", dict(zip(train_widths, np.round(errs, 4).tolist(), strict=True)), "floor", round(floor, 4))
