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

import numpy as np
import torch
from IPython import get_ipython

from ibtheory.figures import (
    kernels_vs_angle_figure,
    ntk_kernels_and_ensemble_figure,
)
from ibtheory.ntk import fc_kernels
from ibtheory.numeric import fc_kernel_entry
from ibtheory.report.ntk_experiments import (
    circle,
    compare_kernels,
    ensemble_over_time,
    ntk_width_errors,
    trained_ensemble_errors,
)

QUICK = os.environ.get("IBTHEORY_NOTEBOOK_QUICK") == "1"
N_NETS = 100 if QUICK else 400
SEED = 0
#: The architecture of sections 2-4 (the report's ``ntk`` analysis uses the same).
ARCH = {"depth": 1, "activation": "relu", "w_std": 1.5, "b_std": 0.1}
torch.set_num_threads(1)

if (shell := get_ipython()) is not None:  # in Jupyter: show the returned Figure objects inline
    shell.run_line_magic("matplotlib", "inline")

# %% [markdown]
# ## 1. Analytic kernels vs the angle between two inputs
#
# ReLU and erf, depth 1 and 3, $w_{std} = 1.5$, $b_{std} = 0.1$. Inputs lie on the circle,
# $x(a) = \sqrt2(\cos a, \sin a)$, so the input kernel is $\cos(a - a')$. The diagonal entries are
# computed exactly (the stable atan2 form of `ntk_derivation`); a 50-digit mpmath recursion
# confirms them.

# %%
gammas = np.linspace(0.0, np.pi, 200)
xg = circle(gammas)
kernels = {
    (act, depth): fc_kernels(xg[:1], xg, depth=depth, activation=act, w_std=1.5, b_std=0.1)
    for act in ("relu", "erf")
    for depth in (1, 3)
}
fig = kernels_vs_angle_figure(gammas, kernels)
fig.savefig("ntk_kernels.png", dpi=100)

k3 = fc_kernels(xg[:1], depth=3, activation="relu", w_std=1.5, b_std=0.1)
want = fc_kernel_entry(xg[0], xg[0], depth=3, activation="relu", w_std=1.5, b_std=0.1)
print(f"diagonal NTK, depth 3: {k3.ntk[0, 0]:.17g}; relative error vs 50 digits {float(abs(k3.ntk[0, 0] / want[1] - 1)):.1e}")
fig

# %% [markdown]
# ## 2. Finite-width networks: empirical kernels
#
# The mean of sampled networks' empirical NTK matches the analytic one (exactly in expectation at
# depth 1), and one network's NTK fluctuates around it by $O(\text{width}^{-1/2})$.

# %%
kern = compare_kernels(ARCH, n_networks=N_NETS, width=64, seed=SEED)
print("empirical - analytic NTK, in standard errors:", np.round(kern.ntk_z, 2))

widths = [16, 64, 256] if QUICK else [16, 64, 256, 1024]
werr = ntk_width_errors(ARCH, widths, n_networks=N_NETS, seed=SEED + 1)
print("relative RMS error of one network's NTK by width:", dict(zip(widths, np.round(werr.rel_rms, 4).tolist(), strict=True)))
print("log-log slope (theory -1/2):", round(werr.slope, 3))

# %% [markdown]
# ## 3. The infinite ensemble over training time
#
# Eight training points on the circle with targets $\sin 2a$; the learning rate is half the largest
# stable one, $\eta_{max} = 2nk/\lambda_{max}(\Theta)$. Mean and $\pm 2$ sd at $t = 0$ (the NNGP
# prior), two intermediate times, and $t = \infty$ (all in one call, one eigendecomposition).

# %%
ens = ensemble_over_time(ARCH, [0.0, 2.0, 20.0, np.inf], n_test=100 if QUICK else 300, seed=SEED)
print(f"learning rate {ens.learning_rate:.4g}; t = inf on the training set: max |mean - y| = "
      f"{ens.train_fit_error:.1e}, max |cov| = {ens.train_cov_max:.1e}")

# %% [markdown]
# ## 4. Finite-width ensembles trained by gradient descent converge to it
#
# 400 networks per width, trained in parallel (batched matmuls) with step $0.5\,\eta$ to $t = 20$;
# the ensemble mean approaches $\mu_{20}$ as the width grows, down to the Monte-Carlo floor. The
# figure gathers sections 2-4 (the same figure as the report's ``ntk`` analysis).

# %%
train_widths = [2, 8, 32, 256] if QUICK else [2, 4, 8, 16, 64, 256]
trained = trained_ensemble_errors(ens, ARCH, train_widths, n_networks=400, time=20.0, seed=SEED + 2, dt=0.5)
print("RMS mean error by width:", dict(zip(train_widths, np.round(trained.mean_err, 4).tolist(), strict=True)),
      "floor", round(trained.mc_floor, 4))
fig = ntk_kernels_and_ensemble_figure(kern, werr, ens, trained)
fig.savefig("ntk_ensemble.png", dpi=100)
fig

# %% [markdown]
# ## 5. Other activations: derived kernels and finite-width ensembles
#
# `fc_kernels` takes any named activation. The dual maps $E[\phi(u)\phi(v)]$ and
# $E[\phi'(u)\phi'(v)]$ are derived by SymPy (`ibtheory.symbolic.dual_activation`): GELU, sin, cos,
# abs and leaky ReLU in closed form, tanh, sigmoid and softplus by numerical quadrature (its
# accuracy is stated in `fc_kernels`' docstring). The same activation drives the finite
# networks, whose mean empirical kernels (depth 1: unbiased) sit within a few standard errors of
# the analytic ones.

# %%
from ibtheory.ntk import empirical_kernels, gp_inference
from ibtheory.symbolic import dual_activation

others = ("gelu", "sin", "abs", "tanh")
kernels_more = {
    (act, depth): fc_kernels(xg[:1], xg, depth=depth, activation=act, w_std=1.5, b_std=0.1)
    for act in others
    for depth in (1, 3)
}
for act in others:
    print(f"{act:>5}: dual by {dual_activation(act)['method']}")
xs = circle(np.linspace(0.0, np.pi, 5))
for act in others:
    arch = dict(ARCH, activation=act)
    emp = empirical_kernels(xs, n_networks=N_NETS, width=64, seed=SEED, **arch)
    exact = fc_kernels(xs, **arch)
    z = (emp.ntk.mean(0) - exact.ntk) / (emp.ntk.std(0) / np.sqrt(N_NETS))
    print(f"{act:>5}: empirical - analytic NTK, largest |z| over 5 x 5 entries = {np.abs(z).max():.2f}")
fig = kernels_vs_angle_figure(gammas, kernels_more)
fig

# %% [markdown]
# ### A per-layer network
#
# `activation=` also takes a list, one activation per hidden layer, and `w_std` / `b_std` a sequence
# with one value per Dense layer (the `depth` hidden layers, then the readout). Below: relu, erf,
# identity with their own stds. The finite-width torch networks of `empirical_kernels` are built from
# the same description; their mean kernels sit within a few standard errors of the analytic ones
# (at depth 3 plus an O(1/width) bias, Lee et al. 2019).

# %%
from matplotlib.figure import Figure

LAYERS = {"depth": 3, "activation": ["relu", "erf", "identity"], "w_std": [1.5, 2.0, 1.2, 1.0], "b_std": [0.1, 0.0, 0.3, 0.05]}
exact_layers = fc_kernels(xg[:1], xg, **LAYERS)
a_pts = np.linspace(0.0, np.pi, 7)
x_pts = circle(a_pts)
exact_pts = fc_kernels(x_pts[:1], x_pts, **LAYERS)
emp_layers = empirical_kernels(x_pts[:1], x_pts, n_networks=N_NETS, width=256, seed=SEED, **LAYERS)
fig = Figure(figsize=(10, 3.8))
for ax, name in zip(fig.subplots(1, 2), ("nngp", "ntk"), strict=True):
    samples = getattr(emp_layers, name)[:, 0]  # (networks, points): the first input against all
    mean, se = samples.mean(0), samples.std(0) / np.sqrt(samples.shape[0])
    z = (mean - getattr(exact_pts, name)[0]) / se
    print(f"{name}: empirical - analytic, largest |z| over {len(a_pts)} entries = {np.abs(z).max():.2f}")
    ax.plot(gammas, getattr(exact_layers, name)[0], "C0-", label="analytic")
    ax.errorbar(a_pts, mean, yerr=2 * se, fmt="o", color="C1", ms=4, capsize=3,
                label=f"{N_NETS} networks of width 256: mean ± 2 SE")
    ax.set_xlabel("angle between inputs [rad]")
    ax.set_ylabel("kernel value [output units²]")
    ax.set_title(f"{name.upper()}: relu, erf, identity; per-layer w_std, b_std")
    ax.legend(fontsize=8)
fig.tight_layout()
fig

# %% [markdown]
# ## 6. Exact GP inference with the NNGP and the NTK
#
# `gp_inference` gives the Bayesian NNGP posterior (with its log marginal likelihood) and the
# NTK posterior of gradient flow at $t = \infty$, by Cholesky solves; `diag_reg` is relative, as
# in neural-tangents. The NTK posterior equals the infinite ensemble of section 3 at $t = \infty$.

# %%
a_train = np.linspace(0.0, np.pi, 8)
x_train, y_train = circle(a_train), np.sin(2 * a_train)
x_test = circle(np.linspace(0.0, np.pi, 50))
for act in ("relu", "gelu", "tanh"):
    post = gp_inference(x_train, y_train, x_test, kernel="nngp", diag_reg=1e-2, **dict(ARCH, activation=act))
    print(f"{act:>5}: NNGP log marginal likelihood {post.log_marginal_likelihood:.3f} nats")
post_ntk = gp_inference(x_train, y_train, x_test, kernel="ntk", **ARCH)
print("NTK posterior: max sd on the test arc", float(np.sqrt(np.clip(np.diag(post_ntk.cov), 0, None)).max()))

# %% [markdown]
# ## Explore the kernels
#
# `ibtheory.explore.ntk_explorer`: choose the activation, the depth and $w_{std}$; left the analytic
# NNGP and NTK against the angle between two inputs, right the empirical kernels of 32 random
# networks of width 256 (mean and two standard errors) over the analytic limit. It starts at `ARCH`.

# %%
from ibtheory.explore import ntk_explorer

ntk_explorer(**ARCH)
