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
# # Information in infinite ensembles of infinitely wide networks
#
# Shwartz-Ziv & Alemi (arXiv 1911.09189) take the randomness of the *initialisation* as the noise
# of the representation: the output of an infinite ensemble of infinitely wide networks trained by
# gradient flow on MSE is Gaussian, $Z \mid x \sim N(\mu_t(x), \sigma_t^2(x) I_k)$, with mean and
# covariance from the NTK and NNGP kernels (theory.md 4.1). With $X$ uniform over $N$ evaluation
# inputs, $p(z)$ is a mixture of $N$ isotropic Gaussians, so
#
# - $H(Z|X) = \frac1N \sum_i \frac k2 \ln(2\pi e\,\sigma_t^2(x_i))$ exactly;
# - $I(X;Z)$ lies between the Kolchinsky-Tracey pairwise bounds (Bhattacharyya below, KL above),
#   and between the InfoNCE and leave-one-out bounds (in expectation);
# - $I(Z;Y)$ lies between $H_{BD}(Z) - \sum_y p(y) H_{KL}(Z|y)$ and $H_{KL}(Z) - \sum_y p(y) H_{BD}(Z|y)$.
#
# The derivation is `ibtheory derive ensemble-information`; the pairwise terms run in generated,
# chunked kernels (`ibtheory.estimators.mixture_entropy_bounds`).

# %%
import os
from typing import Any

import numpy as np
from IPython import get_ipython

from ibtheory.estimators import mixture_entropy_bounds
from ibtheory.figures import (
    information_vs_train_size_figure,
    information_vs_w_std_figure,
    plot_information_over_time,
)
from ibtheory.models import digits_data
from ibtheory.ntk import (
    ensemble_information,
    ensemble_prediction,
    finite_ensemble,
    generalisation_signals,
    information_vs_train_size,
    information_vs_w_std,
    output_information,
)

QUICK = os.environ.get("IBTHEORY_NOTEBOOK_QUICK") == "1"
SEED = 0
N_TRAIN, N_EVAL = (40, 40) if QUICK else (300, 300)
ARCH: dict[str, Any] = dict(depth=2, activation="erf", w_std=1.5, b_std=0.05, learning_rate=1.0)

if (shell := get_ipython()) is not None:  # in Jupyter: show the returned Figure objects inline
    shell.run_line_magic("matplotlib", "inline")

# %% [markdown]
# ## The pairwise bounds on a mixture
#
# The theory reference's check (theory.md 4.5): 30 means from `default_rng(0)` in 2-D, variance 0.3.
# Bhattacharyya 2.4713 <= H(Z) (Monte Carlo 2.8045) <= KL 3.4362.

# %%
mu = np.random.default_rng(0).normal(size=(30, 2))
lower, upper = mixture_entropy_bounds(mu, np.full(30, 0.3))
print(f"H_BD = {float(lower):.4f}, H_KL = {float(upper):.4f} nats")

# %% [markdown]
# ## Information over training time (digits)

# %%
data = digits_data(N_TRAIN, N_EVAL, seed=SEED)
times = np.concatenate([[0.0], np.logspace(-1, 7, 15 if QUICK else 41), [np.inf]])
info = ensemble_information(data.x_train, data.y_train, data.x_test, data.labels_test, times, **ARCH)
print(f"t = inf: I(X;Z) in [{info.i_xz_lower[-1]:.3f}, {info.i_xz_upper[-1]:.3f}], ln N = {np.log(N_EVAL):.3f}")
plot_information_over_time(info)

# %% [markdown]
# ## Information against the training-set size (t = inf)

# %%
sizes = np.array([10, 20, 40] if QUICK else [10, 20, 50, 100, 200, 300])
sweep = information_vs_train_size(
    data.x_train, data.y_train, data.x_test, data.labels_test, sizes, time=np.inf, **ARCH
)
information_vs_train_size_figure(sizes, sweep)

# %% [markdown]
# ## Information against the weight scale w_std

# %%
w_stds = np.array([0.5, 1.5] if QUICK else np.logspace(-1, 0.5, 8))
arch_w: dict[str, Any] = {k: v for k, v in ARCH.items() if k != "w_std"}
W_STD_TIMES = [100.0, np.inf]
ws = information_vs_w_std(data.x_train, data.y_train, data.x_test, data.labels_test, w_stds, W_STD_TIMES, **arch_w)
information_vs_w_std_figure(w_stds, ws, W_STD_TIMES)

# %% [markdown]
# ## Which quantities track the test loss?
# Spearman correlations over training time with the test Gibbs loss and with the gap between test
# and train loss.

# %%
sig = generalisation_signals(info)
for q, r1, r2 in zip(sig.quantities, sig.rho_test_loss, sig.rho_gap, strict=True):
    print(f"{q:18s} test loss {r1:+.2f}   gap {r2:+.2f}")

# %% [markdown]
# ## Finite-width check
# The sample mean and variance of M trained finite networks give the same information as the
# infinite ensemble as the width grows (up to the sampling error of M networks).

# %%
small = digits_data(10, 10, seed=SEED)
t_check = [0.0, 20.0]
arch1: dict[str, Any] = dict(depth=1, activation="erf", w_std=1.5, b_std=0.05, learning_rate=1.0)
pred = ensemble_prediction(small.x_train, small.y_train, small.x_test, t_check, **arch1)
ana = output_information(pred.mean, np.diagonal(pred.cov, axis1=1, axis2=2), small.labels_test)
for width in (2, 128) if QUICK else (4, 32, 256):
    fe = finite_ensemble(small.x_train, small.y_train, small.x_test, t_check, n_networks=1000 if QUICK else 2000,
                         width=width, seed=SEED, **arch1)
    fin = output_information(fe.mean, np.diagonal(fe.cov, axis1=1, axis2=2), small.labels_test)
    print(f"width {width:4d}: I(X;Z) upper at t=20: finite {fin['i_xz_upper'][1]:.3f}, analytic {ana['i_xz_upper'][1]:.3f}")
