"""Canonical discrete IB problems: joints p(x, y) as (n_x, n_y) arrays summing to one.

Shared by the solver tests, the notebooks and the benchmarks (theory.md 1.7, 3.3, 3.4, 3.7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import logsumexp

from ..numeric import as_generator, check_finite_array, check_int, check_positive


def binary_symmetric_channel(flip: float, p_one: float = 0.5) -> np.ndarray:
    """Joint of X ~ Bernoulli(p_one) and Y = X xor N, N ~ Bernoulli(flip): shape (2, 2).

    Its maximal correlation is |1 - 2 flip| for p_one = 1/2, so the IB's first critical beta is
    1 / (1 - 2 flip)^2 (theory.md 1.5).
    """
    flip = check_positive(flip, "flip", allow_zero=True)
    p_one = check_positive(p_one, "p_one")
    if not (0.0 <= flip <= 1.0) or not (0.0 < p_one < 1.0):
        raise ValueError(f"need 0 <= flip <= 1 and 0 < p_one < 1, got flip={flip!r}, p_one={p_one!r}")
    p_x = np.array([1.0 - p_one, p_one])
    channel = np.array([[1.0 - flip, flip], [flip, 1.0 - flip]])
    return p_x[:, None] * channel


def random_joint(n_x: int, n_y: int, *, concentration: float = 1.0, seed: Any = None) -> np.ndarray:
    """A random joint with all n_x * n_y cells ~ Dirichlet(concentration), reshaped (n_x, n_y).

    The problems of theory.md 3.4 are ``random_joint(6, 3, concentration=0.7, seed=1)`` and
    ``random_joint(5, 3, concentration=0.8, seed=s)``, s = 0..4 (same draws as
    ``default_rng(seed).dirichlet(c * ones(n_x n_y)).reshape(n_x, n_y)``).
    """
    n_x, n_y = check_int(n_x, "n_x", minimum=1), check_int(n_y, "n_y", minimum=1)
    check_positive(concentration, "concentration")
    rng = as_generator(seed)
    p = rng.dirichlet(concentration * np.ones(n_x * n_y)).reshape(n_x, n_y)
    if not np.all(p.sum(axis=1) > 0):  # small concentrations draw exact zeros (float64 underflow)
        raise ValueError(
            f"concentration={concentration!r} is too small for a {n_x} x {n_y} joint: the draw gave an x of zero "
            "probability, which no solver accepts; use a larger concentration (e.g. >= 0.1: below it numpy's "
            "Dirichlet sampler can underflow to exact zeros) or another seed"
        )
    return p / p.sum()


def genib_toy() -> np.ndarray:
    """The genIB toy of theory.md 3.4: x = linspace(-1, 0.6, 5) uniform, y in {-1, +1}, p(y|x) ~ exp(-y x).

    Oracles: beta_1^IB = 4.365469, beta_1^dual = 3.251676, trivial dual distortion 0.142889 nats,
    I(X;Y) = 0.122597 nats.
    """
    x = np.linspace(-1.0, 0.6, 5)
    y = np.array([-1.0, 1.0])
    logits = -np.outer(x, y)
    p_y_given_x = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    return p_y_given_x / 5.0


@dataclass(frozen=True)
class ExpFamProblem:
    """Exponential-family data (theory.md 3.3): p(y|x) = exp(-sum_r lambda_r(y) A_r(x)) / Z(x).

    p_x (n_x,), stats A (n_x, d), lambdas (d, n_y), p_xy (n_x, n_y) the joint.
    """

    p_x: np.ndarray
    stats: np.ndarray
    lambdas: np.ndarray
    p_xy: np.ndarray


def exponential_family_data(n_x: int = 32, *, n_stats: int = 5, hidden: int = 16, alpha: float = 0.025,
                            lam: float = 2.6, seed: Any = None) -> ExpFamProblem:
    """The "exponential dataset" of the dualIB code (theory.md 3.3, SRC datasets.py ``create_dataset``).

    x_i ~ N(0, I_4) (n_x points, uniform p(x)); A(x) = a random one-hidden-layer ReLU network's
    ``n_stats`` outputs plus a constant column ``alpha``; binary y with lambda(y) = -+lam on every
    statistic (so p(y|x) ~ exp(A(x).lambda(y)) with lambda = +-lam as in the code, written here in
    the convention p(y|x) = exp(-lambda(y).A(x))/Z(x)). The network's exact sizes in the code are
    not known here (hidden width is our choice).
    """
    n_x = check_int(n_x, "n_x", minimum=1)
    n_stats = check_int(n_stats, "n_stats", minimum=1)
    hidden = check_int(hidden, "hidden", minimum=1)
    alpha = float(check_finite_array(alpha, "alpha", ndim=0))
    lam = float(check_finite_array(lam, "lam", ndim=0))
    rng = as_generator(seed)
    x = rng.normal(size=(n_x, 4))
    w1 = rng.normal(size=(4, hidden)) / 2.0
    w2 = rng.normal(size=(hidden, n_stats)) / np.sqrt(hidden)
    stats = np.concatenate([np.maximum(x @ w1, 0.0) @ w2, np.full((n_x, 1), alpha)], axis=1)
    signs = rng.choice([-1.0, 1.0], size=(stats.shape[1], 1))
    lambdas = np.concatenate([-lam * signs, lam * signs], axis=1)
    logits = -stats @ lambdas
    p_y_given_x = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    p_x = np.full(n_x, 1.0 / n_x)
    return ExpFamProblem(p_x=p_x, stats=stats, lambdas=lambdas, p_xy=p_x[:, None] * p_y_given_x)


def discretised_gaussian_pair(n: int, rho: float, *, span: float = 6.0) -> np.ndarray:
    """Jointly Gaussian (X, Y), unit variances, correlation ``rho``, on n x n grids over [-span, span].

    p(x) ~ N(0, 1) density at the grid points; p(y|x) ~ N(rho x, 1 - rho^2) density on the y grid
    (the discretisation of tests/gaussian/test_gaussian_discrete.py). As n grows the discrete IB curve
    approaches the Gaussian IB curve with beta_1 = 1/rho^2 (theory.md 2).
    """
    n = check_int(n, "n (grid points)", minimum=2)
    rho = float(check_finite_array(rho, "rho", ndim=0))
    if not (-1.0 < rho < 1.0):
        raise ValueError(f"rho must be in (-1, 1), got {rho!r}")
    span = check_positive(span, "span")
    grid = np.linspace(-span, span, n)
    log_px = -(grid**2) / 2
    p_x = np.exp(log_px - logsumexp(log_px))
    log_pyx = -((grid[None, :] - rho * grid[:, None]) ** 2) / (2 * (1 - rho**2))
    p_y_given_x = np.exp(log_pyx - logsumexp(log_pyx, axis=1, keepdims=True))
    joint = p_x[:, None] * p_y_given_x
    return joint / joint.sum()


def twelve_bit_joint(**kwargs: Any) -> np.ndarray:
    """The 12-bit task (theory.md 5.2) as a joint: uniform over the 4096 patterns, deterministic labels."""
    from ._twelve_bit import twelve_bit_task

    _, y = twelve_bit_task(**kwargs)
    y = np.asarray(y).astype(np.int64).ravel()
    joint = np.zeros((y.size, 2))
    joint[np.arange(y.size), y] = 1.0 / y.size
    return joint
