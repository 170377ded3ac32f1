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
# # The IB family: IB, generalized IB, deterministic IB; IB from a symbol sequence; rate-distortion
#
# Strouse & Schwab 2017 (theory.md 11.1): L = H(T) - alpha H(T|X) - beta I(T;Y). alpha = 1 is the IB,
# alpha -> 0 the deterministic IB (DIB), whose optimum is a partition of X: `ibtheory.dib_curve`
# enumerates every partition for n_x <= 10 and returns the exact optimum with its transitions (the
# betas where the optimal partition changes). `ibtheory.gib_curve` solves 0 < alpha.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import ibtheory
from ibtheory.models import joint_from_time_series, mutual_information_from_samples, random_joint

QUICK = os.environ.get("IBTHEORY_NOTEBOOK_QUICK") == "1"
betas = np.linspace(0.2, 20.0, 16 if QUICK else 60)
p_xy = random_joint(8, 3, concentration=0.7, seed=1)

# %% [markdown]
# ## One problem, four members of the family
# In the information plane (I(X;T), I(T;Y)) and in the DIB plane (H(T), I(T;Y)).

# %%
ib = ibtheory.ib_curve(p_xy, betas, locate_transitions=False)
curves = {"IB (alpha = 1)": ib}
for alpha in (0.5, 0.1):
    curves[f"GIB alpha = {alpha}"] = ibtheory.gib_curve(p_xy, betas, alpha=alpha, locate_transitions=False)
dib = ibtheory.dib_curve(p_xy, betas)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
for name, c in curves.items():
    ax1.plot(c.i_xt, c.i_ty, ".-", label=name)
    if name != "IB (alpha = 1)":
        ax2.plot(c.h_t, c.i_ty, ".-", label=name)
ax1.plot(dib.i_xt, dib.i_ty, "s-", label="DIB (exact)")
ax2.plot(dib.h_t, dib.i_ty, "s-", label="DIB (exact)")
ax1.set(xlabel="I(X;T) [nats]", ylabel="I(T;Y) [nats]", title="information plane")
ax2.set(xlabel="H(T) [nats]", ylabel="I(T;Y) [nats]", title="DIB plane")
ax1.legend()
plt.show()
print("exact DIB:", dib.exact, "transitions:", np.round(dib.transitions, 4), "clusters:", dib.transition_clusters.tolist())

# %% [markdown]
# The DIB's transitions are the breakpoints of the lower envelope of one line per partition,
# H(T) - beta I(T;Y): exact crossings, no bisection. The DIB objective against beta is that envelope.

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(dib.betas, dib.objective, "k-", label="H(T) - beta I(T;Y), exact")
for b in dib.transitions:
    ax.axvline(b, ls="--", lw=0.8, color="gray")
ax.set(xlabel="beta", ylabel="objective [nats]")
ax.legend()
plt.show()

# %% [markdown]
# ## IB from a symbol sequence with a past/future window
# embo's past/future bottleneck: the past word (x[i-1], x[i]) against the future word (x[i], x[i+1]).
# The plug-in I(X;Y) is biased upwards by about (n_x - 1)(n_y - 1)/(2N); the Miller-Madow value and
# a bootstrap interval say whether the top of the curve is real.

# %%
text = ("the quick brown fox jumps over the lazy dog and the lazy dog sleeps " * (3 if QUICK else 12)).replace(" ", "_")
sample = joint_from_time_series(text, past=2, future=2)
print("words:", len(sample.x_symbols), "x", len(sample.y_symbols), "from", sample.n_samples, "windows")
x_words = [text[i - 1 : i + 1] for i in range(1, len(text) - 1)]
y_words = [text[i : i + 2] for i in range(1, len(text) - 1)]
info = mutual_information_from_samples(x_words, y_words, n_bootstrap=50 if QUICK else 200, seed=0)
print(f"I(past; future): plug-in {info.plugin:.3f}, Miller-Madow {info.miller_madow:.3f}, "
      f"bootstrap {info.level:.0%} interval {np.round(info.interval, 3)} nats")
seq = ibtheory.dib_curve(sample.p_xy, np.linspace(0.5, 10, 8 if QUICK else 30))
seq_ib = ibtheory.ib_curve(sample.p_xy, np.linspace(0.5, 10, 8 if QUICK else 30), effort="fast", locate_transitions=False)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(seq_ib.i_xt, seq_ib.i_ty, ".-", label="IB")
ax.plot(seq.i_xt, seq.i_ty, "s-", label="DIB" + (" (exact)" if seq.exact else ""))
ax.axhline(info.miller_madow, ls=":", color="gray", label="I(X;Y), Miller-Madow")
ax.set(xlabel="I(X;T) [nats]", ylabel="I(T;Y) [nats]", title="past/future bottleneck of a text")
ax.legend()
plt.show()

# %% [markdown]
# ## Rate-distortion: the IB's ancestor
# Blahut-Arimoto on a binary source with Hamming distortion gives R(D) = H(p) - H(D).

# %%
p = 0.3
rd = ibtheory.rd_curve(np.array([1 - p, p]), 1 - np.eye(2), np.linspace(0.5, 8.0, 16))
h = lambda q: -q * np.log(q) - (1 - q) * np.log(1 - q)  # noqa: E731
d_grid = np.linspace(1e-3, p, 100)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(d_grid, h(p) - h(d_grid), "k-", label="H(p) - H(D)")
ax.plot(rd.distortion, rd.rate, "o", label="rd_curve")
ax.set(xlabel="D", ylabel="R(D) [nats]")
ax.legend()
plt.show()
