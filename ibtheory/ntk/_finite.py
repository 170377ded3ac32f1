"""Finite-width ensembles in torch: sampled networks, their empirical kernels, and their training.

M networks of width n are held as batched weight tensors (M, n_in, n_out) and run in parallel by
batched matmuls. Architecture and parameterisation are those of :func:`ibtheory.ntk.fc_kernels`
(theory.md 7.1): ``depth`` x [Dense(width), activation] then Dense(n_out), each Dense
z = w_std W h / sqrt(n_in) + b_std b with W, b ~ N(0, 1). As width -> inf the ensemble's kernels
and trained outputs approach the analytic ones (Jacot et al. 2018; Lee et al. 2019).

Empirical NTK (derived here from the chain rule, no per-parameter Jacobians): for a Dense layer
z_l = w_std W_l h_{l-1} / sqrt(n_{l-1}) + b_std b_l with back-propagated signal delta_l = df/dz_l,

    Theta_emp(x, x') = sum_l [ w_std^2 h_{l-1}(x).h_{l-1}(x') / n_{l-1} + b_std^2 ] delta_l(x).delta_l(x')

which costs a few (n_points x width) matmuls per layer.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..display import repr_html
from ..numeric import check_finite_array, check_int, check_positive, check_positive_int
from ._ensemble import check_targets, check_times
from ._kernels import activation_label, check_depth, check_layer_activations, check_layer_stds

#: Most gradient-descent steps one call may take (``times`` / ``dt`` rounded). At ~1e-4 s a step
#: (a tiny network) 1e9 steps is more than a day; larger counts are a mistaken ``times`` or ``dt``
#: and past 2**63 would wrap the int64 step counter to a negative number (nothing trained).
MAX_STEPS = 10**9


@dataclass(frozen=True)
class EmpiricalKernels:
    """Kernels of sampled finite-width networks (one estimate per network).

    Attributes
    ----------
    nngp:
        (n_networks, n1, n2) f(x1) f(x2) of each network's scalar output at initialisation; its
        mean over networks estimates the NNGP (exact in expectation for depth <= 1, O(1/width)
        bias otherwise).
    ntk:
        (n_networks, n1, n2) empirical NTK grad_theta f(x1) . grad_theta f(x2) of each network.
    width, depth, activation, w_std, b_std, seed:
        As passed.
    """

    nngp: np.ndarray
    ntk: np.ndarray
    width: int
    depth: int
    activation: str | tuple[str, ...]
    w_std: float | tuple[float, ...]
    b_std: float | tuple[float, ...]
    seed: int


@dataclass(frozen=True)
class FiniteEnsemble:
    """Outputs of M finite networks trained by full-batch gradient descent, at the requested times.

    Attributes
    ----------
    times:
        (n_times,) the times actually recorded (requested times rounded to the step grid ``dt``),
        in the units of :func:`ibtheory.ntk.ensemble_prediction` (steps of size learning_rate).
    outputs:
        (n_times, n_networks, n_test, n_out) network outputs on the test inputs (training inputs
        when ``x_test`` was None).
    mean:
        (n_times, n_test, n_out) mean over networks.
    cov:
        (n_times, n_test, n_test) covariance over networks (unbiased, pooled over outputs).
    train_loss:
        (n_times, n_networks) the NT-normalised MSE ||f(X) - Y||^2 / (2 n k) of each network.
    n_steps:
        (n_times,) gradient-descent steps taken to reach each recorded time.
    dt:
        Time per gradient step (each step uses learning rate ``learning_rate * dt``).
    width, n_networks, seed:
        As passed.
    """

    times: np.ndarray
    outputs: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    train_loss: np.ndarray
    n_steps: np.ndarray
    dt: float
    width: int
    n_networks: int
    seed: int
    _repr_html_ = repr_html  # a summary table in Jupyter (ibtheory.display)


def _check_common(activation: Any, w_std: Any, b_std: Any, depth: Any, width: Any, n_networks: Any, seed: Any):
    depth = check_depth(depth)
    check_layer_activations(activation, depth)  # one per hidden layer, or one for all
    w, b = check_layer_stds(w_std, "w_std", depth), check_layer_stds(b_std, "b_std", depth)  # one per Dense layer
    width = check_positive_int(width, "width")
    n_networks = check_positive_int(n_networks, "n_networks")
    return w, b, depth, width, n_networks, check_int(seed, "seed (explicit seeds only)")


def _check_x(x: Any, name: str, d: int | None = None) -> np.ndarray:
    arr = check_finite_array(x, name)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n_points, n_features) array, got shape {arr.shape}")
    if d is not None and arr.shape[1] != d:
        raise ValueError(f"{name} must have {d} features like x_train / x1, got {arr.shape[1]}")
    return arr


def _init_params(torch: Any, gen: Any, m: int, sizes: list[int], dtype: Any) -> list[tuple[Any, Any]]:
    """Standard-normal weights (M, n_in, n_out) and biases (M, 1, n_out) for each Dense layer."""
    return [
        (
            torch.randn((m, n_in, n_out), generator=gen, dtype=dtype),
            torch.randn((m, 1, n_out), generator=gen, dtype=dtype),
        )
        for n_in, n_out in itertools.pairwise(sizes)
    ]


def _phi(torch: Any, activation: str):
    """The activation as a differentiable torch function: torch's own for relu / erf, else the
    generated ``<activation>_phi`` kernel (the same phi whose dual the analytic kernels use)."""
    if activation in ("relu", "erf"):
        return torch.relu if activation == "relu" else torch.erf
    if isinstance(activation, str):
        from .._generated import ntk_torch

        fn = getattr(ntk_torch, f"{activation}_phi")
    else:  # run-time kernels (ibtheory.kernels.activation_kernels)
        fn = getattr(activation.kernels("torch"), f"{activation.name}_phi")
    return lambda z: fn(z).phi


def _forward(torch: Any, params: list, x: Any, activation: Any, w: tuple[float, ...], b: tuple[float, ...], keep: bool = False):
    """Batched forward pass: x (n, d) -> outputs (M, n, n_out); optionally the layer inputs h and
    pre-activations z. ``activation``: one for every hidden layer, or a sequence, one per layer."""
    acts = check_layer_activations(activation, len(params) - 1)
    phis = [_phi(torch, a) for a in acts]
    h = x.unsqueeze(0).expand(params[0][0].shape[0], -1, -1)
    hs, zs = [], []
    for i, (wt, bs) in enumerate(params):
        z = (w[i] / math.sqrt(wt.shape[1])) * torch.matmul(h, wt) + b[i] * bs
        hs.append(h)
        zs.append(z)
        h = phis[i](z) if i < len(params) - 1 else z
    return (h, hs, zs) if keep else h


def empirical_kernels(
    x1: Any,
    x2: Any = None,
    *,
    n_networks: int,
    width: int,
    depth: int,
    activation: str = "relu",
    w_std: float,
    b_std: float,
    seed: int,
) -> EmpiricalKernels:
    """Empirical NNGP and NTK of ``n_networks`` sampled networks of the given width (torch, float64).

    Same architecture as :func:`ibtheory.ntk.fc_kernels` with a scalar readout. The NTK is computed
    layer by layer from activations and back-propagated signals (module docstring).
    """
    import torch

    w, b, depth, width, m, seed = _check_common(activation, w_std, b_std, depth, width, n_networks, seed)
    a1 = _check_x(x1, "x1")
    a2 = a1 if x2 is None else _check_x(x2, "x2", a1.shape[1])
    n1 = a1.shape[0]
    x = torch.as_tensor(np.concatenate([a1, a2]) if x2 is not None else a1, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    sizes = [a1.shape[1]] + [width] * depth + [1]
    params = _init_params(torch, gen, m, sizes, torch.float64)
    for wt, _ in params:
        wt.requires_grad_(True)
    with torch.enable_grad():
        f, hs, zs = _forward(torch, params, x, activation, w, b, keep=True)
        # (a constant activation leaves the hidden pre-activations unused: their signals are zero)
        deltas = [torch.zeros_like(z) if g is None else g
                  for z, g in zip(zs, torch.autograd.grad(f.sum(), zs, allow_unused=True), strict=True)]
    f = f.detach()[..., 0]  # (M, n_all)
    sl1 = slice(0, n1)
    sl2 = slice(n1, None) if x2 is not None else slice(0, n1)
    nngp = f[:, sl1, None] * f[:, None, sl2]
    ntk = torch.zeros_like(nngp)
    for layer, (h, delta) in enumerate(zip(hs, deltas, strict=True)):
        h = h.detach()
        hh = w[layer] ** 2 * torch.matmul(h[:, sl1], h[:, sl2].transpose(1, 2)) / h.shape[-1] + b[layer] ** 2
        ntk += hh * torch.matmul(delta[:, sl1], delta[:, sl2].transpose(1, 2))
    return EmpiricalKernels(
        nngp=nngp.numpy(), ntk=ntk.numpy(), width=width, depth=depth, activation=activation_label(activation),
        w_std=w[0] if len(set(w)) == 1 else w, b_std=b[0] if len(set(b)) == 1 else b, seed=seed,
    )


def finite_ensemble(
    x_train: Any,
    y_train: Any,
    x_test: Any = None,
    times: Any = (0.0,),
    *,
    n_networks: int,
    width: int,
    depth: int,
    activation: str = "relu",
    w_std: float,
    b_std: float,
    learning_rate: float,
    seed: int,
    dt: float = 1.0,
    progress: bool = False,
) -> FiniteEnsemble:
    """Train ``n_networks`` networks of width ``width`` in parallel by full-batch gradient descent.

    Loss ||f(X) - Y||^2 / (2 n k) (neural-tangents normalisation), every weight and bias trained,
    NTK parameterisation (theory.md 7.1). Each step has learning rate ``learning_rate * dt``, so
    step s reaches time s * dt in the units of :func:`ibtheory.ntk.ensemble_prediction` (gradient
    flow is approached as ``dt -> 0``); requested times are rounded to that grid and the recorded
    ones returned. As width -> inf, the outputs' mean and covariance over networks approach
    ``ensemble_prediction(...)`` (Lee et al. 2019).
    """
    import torch

    w, b, depth, width, m, seed = _check_common(activation, w_std, b_std, depth, width, n_networks, seed)
    xtr = _check_x(x_train, "x_train")
    y = check_targets(y_train, xtr.shape[0])
    xte = xtr if x_test is None else _check_x(x_test, "x_test", xtr.shape[1])
    ts = check_times(times, allow_inf=False)
    lr = check_positive(learning_rate, "learning_rate")
    step_dt = check_positive(dt, "dt")
    n, k = y.shape
    steps_f = np.rint(ts / step_dt)
    if not np.all(steps_f <= MAX_STEPS):
        raise ValueError(
            f"times must need at most MAX_STEPS = {MAX_STEPS} gradient-descent steps of dt = {step_dt!r}; "
            f"times {float(ts.max())!r} needs {float(steps_f.max()):.3g} steps: pass smaller times or a larger dt"
        )
    steps = steps_f.astype(np.int64)
    order = np.argsort(steps, kind="stable")
    gen = torch.Generator().manual_seed(seed)
    sizes = [xtr.shape[1]] + [width] * depth + [k]
    params = _init_params(torch, gen, m, sizes, torch.float64)
    flat = [p for pair in params for p in pair]
    for p in flat:
        p.requires_grad_(True)
    xt = torch.as_tensor(xtr, dtype=torch.float64)
    xs = torch.as_tensor(xte, dtype=torch.float64)
    yt = torch.as_tensor(y, dtype=torch.float64)
    outputs = np.empty((ts.size, m, xte.shape[0], k))
    losses = np.empty((ts.size, m))
    eta = lr * step_dt
    done = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm  # a widget bar in notebooks, text in a terminal

        bar = tqdm(total=int(steps.max()), desc="finite_ensemble")
    for idx in order:
        with torch.enable_grad():
            while done < steps[idx]:
                f = _forward(torch, params, xt, activation, w, b)
                loss = ((f - yt) ** 2).sum(dim=(1, 2)) / (2 * n * k)  # (M,)
                grads = torch.autograd.grad(loss.sum(), flat)
                with torch.no_grad():
                    for p, g in zip(flat, grads, strict=True):
                        p -= eta * g
                done += 1
                if bar is not None:
                    bar.update(1)
        with torch.no_grad():
            outputs[idx] = _forward(torch, params, xs, activation, w, b).numpy()
            f = _forward(torch, params, xt, activation, w, b)
            losses[idx] = (((f - yt) ** 2).sum(dim=(1, 2)) / (2 * n * k)).numpy()
    if bar is not None:
        bar.close()
    mean = outputs.mean(axis=1)
    centred = outputs - mean[:, None]
    dof = max(m - 1, 1)
    cov = np.einsum("tmik,tmjk->tij", centred, centred) / (dof * k)
    return FiniteEnsemble(
        times=steps * step_dt, outputs=outputs, mean=mean, cov=cov, train_loss=losses, n_steps=steps,
        dt=step_dt, width=width, n_networks=m, seed=seed,
    )
