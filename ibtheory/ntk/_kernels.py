"""Analytic NNGP and NTK of fully connected networks (neural-tangents conventions), in blocks.

The layer maps are the generated kernels of group ``ntk`` (from
:func:`ibtheory.symbolic.ntk_derivation`); this module only runs the recursion over blocks of input
pairs. Conventions (theory.md 7.1-7.2, neural-tangents ``stax``): NTK parameterisation, input kernel
K^0 = x.x'/d, ``depth`` hidden layers each ``Dense(w_std, b_std)`` then the activation, and a
``Dense(w_std, b_std)`` readout, so the output kernels are Sigma^{depth+1} (``nngp``) and
Theta^{depth+1} (``ntk``).

Diagonal entries. When ``x2`` is None the entries x = x' are known; they are computed by the
diagonal kernels (closed-form limits) and written into the matrix after every layer, so the next
layer sees var1 var2 - nngp^2 = 0 exactly and the angle is exactly 0 (neural-tangents' arccos form
loses ~1e-8 there). The same is done for every pair of exactly equal inputs (duplicates within
``x1``, or rows of ``x2`` equal to rows of ``x1``), found by hashing rows.

Near-coincident, collinear and antipodal pairs (|rho| > NEAR_ONE at some layer) would lose
accuracy in the fast step, whose angle comes from the cancelling var1 var2 - nngp^2 (3.5e-9
relative for x' = x + 1e-9 noise, as in neural-tangents). They are tracked per block and computed
by the angle-carrying kernels of :func:`ibtheory.symbolic.ntk_angle_derivation`, which carry
1 - rho and 1 + rho from ||x/|x| -+ x'/|x'|||^2 / 2 at the input (issue 19): every entry is then
within 1e-13 relative of a 50-digit recursion (tests/ntk/test_accuracy.py), or, for entries that
are O(eps) of sqrt(K(x, x) K(x', x')) (angles below the rounding of x/|x|), within eps of that scale.
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._generated import ntk_numpy
from ..display import repr_html
from ..numeric import (
    ArrayBackend,
    array_backend,
    check_finite_array,
    check_int,
    check_positive,
    check_positive_int,
    single_threaded_blas,
)

#: The activations with generated layer kernels (``<activation>_dense_step``), in the order the
#: symbolic layer lists them; read from the generated module so that SymPy is not imported.
CLOSED_FORM_ACTIVATIONS = tuple(name.removesuffix("_dense_step") for name in vars(ntk_numpy) if name.endswith("_dense_step"))
#: Named activations without a closed-form dual: E and Edot by a trapezoid rule on the generated phi
#: and phi' (``<activation>_phi``; :data:`QUADRATURE_STRIP`; neural-tangents' ElementwiseNumerical
#: uses Gauss-Hermite, which resolves tanh' poorly at unit variances).
QUADRATURE_ACTIVATIONS = tuple(
    name.removesuffix("_phi") for name in vars(ntk_numpy)
    if name.endswith("_phi") and name.removesuffix("_phi") not in CLOSED_FORM_ACTIVATIONS
)
#: Every named activation (ibtheory.symbolic.NAMED_ACTIVATIONS): closed forms, then quadrature.
ACTIVATIONS = CLOSED_FORM_ACTIVATIONS + QUADRATURE_ACTIVATIONS
#: Activations whose near-coincident / antipodal pairs are tracked by the angle-carrying kernels.
#: (erf is not: its bounded, smooth maps keep the fast step's error ~ eps var for such pairs, which
#: is ~1e-15 below ERF_DIRECT_ABOVE; above it every pair runs the angle-carrying step anyway. The
#: tracking check cost erf ~15% of its time.)
ANGLE_TRACKED = ("relu", "abs", "leaky_relu")
#: Quadrature activations: E[f(u) g(v)] by the trapezoid rule in the Gaussian variables (issue 19),
#: exponentially accurate for activations analytic in a strip |Im u| < d (Trefethen & Weideman, SIAM
#: Review 56, 2014, sections 3 and 5): for t ~ N(0, 1), u = sd t and a step h in t the error is
#: ~ exp(d'^2 / 2 - 2 pi d' / h) for any d' <= d / sd (the Gaussian grows as exp(d'^2 / 2) off the real
#: axis). The step is h = 2 pi d' / (QUADRATURE_EXPONENT + d'^2 / 2) with d' = min(d / sd,
#: sqrt(2 QUADRATURE_EXPONENT)): ~ 2 pi d / QUADRATURE_EXPONENT in u for large sd, 0.66 in t for small sd.
#: Half-width d per activation: tanh has poles at u = +-i pi/2, sigmoid at +-i pi, softplus branch
#: points at +-i pi.
QUADRATURE_STRIP = {"tanh": math.pi / 2, "sigmoid": math.pi, "softplus": math.pi}
#: The half-width for other activations without a closed-form dual (user Lambdas): tanh's, so accurate
#: for activations analytic in |Im u| < pi/2; nearer singularities need a smaller ``quadrature_strip``.
QUADRATURE_STRIP_DEFAULT = math.pi / 2
#: The target exponent: e^-45 = 3e-20 before the singularities' own factors; measured relative error
#: of the duals <= 1.1e-14 (tests/ntk/test_quadrature.py, against mpmath) at variances 1e-2 .. 1e2, any rho.
QUADRATURE_EXPONENT = 45.0
#: Nodes cover +-8.5 standard deviations (Gaussian tail mass beyond: 2e-17).
QUADRATURE_HALF_WIDTH = 8.5
#: Inner sums at outer nodes z (weight exp(-z^2 / 2)) aim at exp(-(QUADRATURE_EXPONENT - z^2 / 2)),
#: at least at this exponent, over +-sqrt(8.5^2 - z^2) (the same error relative to the whole sum).
QUADRATURE_EXPONENT_MIN = 9.0
#: At most this many nodes per axis (cost per pair ~ their square): the step in u is 0.22 (tanh) up to
#: a pre-activation std 1024 * 0.22 / 17 ~ 13 (variance 175; sigmoid, softplus: 700) and grows beyond it,
#: and the error with it: measured tanh 2e-11 at variance 300, 2e-3 at 1e3, 0.3 at 1e4; sigmoid 1e-12
#: at 1e3, 0.09 at 1e4; softplus 6e-5 at 1e4 (tests/ntk/test_quadrature.py).
QUADRATURE_MAX_NODES = 1025
#: Inner nodes evaluated at a time: scratch memory ~ this many (rows, cols) arrays per tile.
QUADRATURE_CHUNK = 32
#: Elements of a (rows, cols, QUADRATURE_CHUNK) scratch array: blocks are split into row tiles of at
#: most this size, which stay in cache (measured, one thread, N = 250, depth 2: tanh 2.3x, sigmoid
#: 2.7x faster than whole 256-blocks; 2**15 and 2**13 no faster). Not on GPUs (torch devices but cpu).
QUADRATURE_TILE = 2**17

#: Default block edge: (256, 256) float64 blocks keep a layer step's scratch arrays (3 per thread,
#: reused across blocks) in cache, and most blocks off the diagonal, where only one of each
#: symmetric pair is computed (measured: 256 as fast as 128 and faster than 512 or 1024).
DEFAULT_BLOCK_SIZE = 256

#: Positively homogeneous activations (phi(c u) = c phi(u), c > 0): rescaled like ReLU (:func:`_relu_rescaling`).
HOMOGENEOUS = ("relu", "abs", "leaky_relu", "identity")

#: ReLU inputs with a larger entry are rescaled by a power of two before the recursion (see
#: :func:`_relu_rescaling`): 2**64 keeps every intermediate (products of two kernel values,
#: ~ (2**128)**2) far below the float64 maximum ~ 2**1024, and leaves ordinary inputs untouched.
RELU_RESCALE_ABOVE = 2.0**64


#: Pairs whose correlation rho has |rho| > NEAR_ONE at some layer (near-coincident, collinear or
#: antipodal inputs) are computed by the angle-carrying kernels (``<activation>_dense_step_angles``,
#: :func:`ibtheory.symbolic.ntk_angle_derivation`), which carry 1 - rho and 1 + rho without
#: cancellation. Below it the fast step's angle error ~ eps / theta stays under 1.3e-15 (theta >
#: 0.18); the tracked pairs are gathered into 1-D arrays, so the common case keeps the fast step.
NEAR_ONE = 1.0 - 2.0**-6

#: Inputs carried as x / 2**e (variances beyond float64, erf) must keep every scaled input-layer
#: variance above this (2**-900 ~ 1e-271): the variances of much smaller inputs would underflow.
SCALED_VARIANCE_MIN = 2.0**-900

#: erf layers whose largest input variance exceeds this run the angle-carrying (normalised) step on
#: every pair: the fast form's det = var1 var2 - nngp^2 has an error ~ eps var^2, i.e. relative
#: ~ eps var / 4 in its erf denominator (and overflows near var ~ 1e154).
ERF_DIRECT_ABOVE = 16.0


def _relu_rescaling(x1: np.ndarray, x2: np.ndarray | None, b: tuple) -> tuple[int, np.ndarray, np.ndarray | None, tuple]:
    """``(e, x1 / 2**e, x2 / 2**e, b / 2**e)`` with 2**e ~ max |x| when that exceeds
    :data:`RELU_RESCALE_ABOVE` (or, for b = 0, is below its inverse), else ``e = 0`` and the
    arguments unchanged.

    ReLU networks are positively homogeneous: with z = w W h / sqrt(n) + b beta at every Dense
    layer, f(c x; b) = c f(x; b / c) for c > 0, so NNGP(c x; b) = c^2 NNGP(x; b / c) and
    Theta(c x; b) = c^2 Theta(x; b / c) (weight terms scale as h h' ~ c^2, bias terms as
    b^2 = c^2 (b / c)^2; the back-propagated signals are unchanged). With c a power of two the
    rescaling itself is exact.
    """
    big = float(np.abs(x1).max(initial=0.0))
    if x2 is not None:
        big = max(big, float(np.abs(x2).max(initial=0.0)))
    # Tiny inputs too when b = 0 (their kernels ~ max|x|^2 would underflow in the squares); with
    # b > 0 the bias keeps the kernels ordinary and b / c would be huge.
    if big <= RELU_RESCALE_ABOVE and (min(b) > 0 or big == 0 or big >= 1 / RELU_RESCALE_ABOVE):
        return 0, x1, x2, b
    e = int(np.frexp(big)[1])
    return e, np.ldexp(x1, -e), None if x2 is None else np.ldexp(x2, -e), tuple(math.ldexp(v, -e) for v in b)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


@dataclass(frozen=True)
class FCKernels:
    """Analytic kernels of a fully connected network (neural-tangents conventions).

    Attributes
    ----------
    nngp:
        (n1, n2) NNGP kernel Sigma(x1, x2) of the scalar output (numpy array or torch tensor, float64).
    ntk:
        (n1, n2) neural tangent kernel Theta(x1, x2), same type.
    depth, activation, w_std, b_std:
        The architecture: ``depth`` hidden Dense+activation layers and a Dense readout;
        ``activation`` a name (every layer) or a tuple, one per hidden layer; ``w_std``, ``b_std``
        a float (every layer) or a tuple, one per Dense layer.
    backend:
        ``"numpy"`` or ``"torch"``.
    symmetric:
        True when computed from ``x2=None`` (the matrices are exactly symmetric and their
        diagonals come from the exact diagonal recursion).
    """

    nngp: Any
    ntk: Any
    depth: int
    activation: str | tuple[str, ...]
    w_std: float | tuple[float, ...]
    b_std: float | tuple[float, ...]
    backend: str
    symmetric: bool
    _repr_html_ = repr_html  # a summary table in Jupyter (ibtheory.display)


def _check_inputs(x1: Any, x2: Any, depth: Any, activation: str, w_std: Any, b_std: Any):
    x1 = check_finite_array(x1, "x1")
    if x1.ndim != 2:
        raise ValueError(f"x1 must be a 2-D (n_points, n_features) array, got shape {x1.shape}")
    if x1.shape[1] < 1:
        raise ValueError("x1 must have at least one feature (column)")
    if x2 is not None:
        x2 = check_finite_array(x2, "x2")
        if x2.ndim != 2:
            raise ValueError(f"x2 must be a 2-D (n_points, n_features) array, got shape {x2.shape}")
        if x2.shape[1] != x1.shape[1]:
            raise ValueError(
                f"x1 and x2 must have the same number of features, got {x1.shape[1]} and {x2.shape[1]}"
            )
    depth = check_depth(depth)
    acts = check_layer_activations(activation, depth)
    return x1, x2, depth, acts, check_layer_stds(w_std, "w_std", depth), check_layer_stds(b_std, "b_std", depth)


def check_layer_activations(activation: Any, depth: int) -> tuple[Any, ...]:
    """One activation per hidden layer: a single one (name, SymPy ``Lambda`` or run-time kernels) for
    every layer, or a list / tuple of ``depth`` of them (layer 1 first; e.g. ``["relu", "identity",
    "erf"]``); ``ValueError`` naming what is wrong. Lambdas come back as their run-time kernels."""
    if isinstance(activation, (list, tuple)):
        if len(activation) != depth:
            raise ValueError(
                f"activation must be one activation or a sequence of depth = {depth} of them (one per hidden "
                f"layer), got a sequence of {len(activation)}"
            )
        for i, a in enumerate(activation):
            try:
                check_activation(a)
            except ValueError as err:
                raise ValueError(f"activation[{i}]: {err}") from None
        return tuple(resolve_activation(a) for a in activation)
    check_activation(activation)
    return (resolve_activation(activation),) * depth


def resolve_activation(activation: Any) -> Any:
    """A SymPy ``Lambda`` becomes its run-time kernels (:func:`ibtheory.kernels.activation_kernels`:
    derived and generated on first use, then memoised); names and kernel objects pass through."""
    if not isinstance(activation, str) and hasattr(activation, "free_symbols"):
        from ..kernels import activation_kernels  # run-time kernels: the pipeline run on demand

        return activation_kernels(activation)
    return activation


def check_activation(activation: Any) -> None:
    """A name of :data:`ACTIVATIONS`, a one-variable SymPy ``Lambda``, or the run-time kernels of
    one (:func:`ibtheory.kernels.activation_kernels`); ``ValueError`` otherwise."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS} or a one-variable SymPy Lambda, got {activation!r}")
        return
    activation = resolve_activation(activation)
    if callable(getattr(activation, "kernels", None)) and isinstance(getattr(activation, "name", None), str):
        return
    raise ValueError(f"activation must be one of {ACTIVATIONS} or a one-variable SymPy Lambda, got {activation!r}")


def activation_label(activation: Any) -> str | tuple[str, ...]:
    """The activation as recorded in results: its name, or the run-time kernels' label; a tuple of
    them for a per-layer list."""
    if isinstance(activation, (list, tuple)):
        return tuple(str(activation_label(a)) for a in activation)
    return activation if isinstance(activation, str) else str(resolve_activation(activation).label)


def activation_module(be: ArrayBackend, activation: Any) -> tuple[Any, str]:
    """(module with the activation's kernels, their name prefix) for ``be``."""
    if isinstance(activation, str):
        return be.kernels("ntk"), activation
    activation = resolve_activation(activation)
    return activation.kernels("torch" if be.is_torch else "numpy"), activation.name


def check_layer_stds(std: Any, name: str, depth: int) -> tuple[float, ...]:
    """A standard deviation per Dense layer (depth hidden + the readout): one number >= 0 for all,
    or a sequence of depth + 1 of them (layer 1 first); ``ValueError`` naming what is wrong."""
    if isinstance(std, str):
        raise ValueError(f"{name} must be a number >= 0 or a sequence of {depth + 1} of them, got {std!r}")
    if np.ndim(std) == 0:
        return (check_positive(std, name, allow_zero=True),) * (depth + 1)
    values = list(np.asarray(std, dtype=object).ravel()) if np.ndim(std) == 1 else None
    if values is None or len(values) != depth + 1:
        raise ValueError(
            f"{name} must be a number or a sequence of depth + 1 = {depth + 1} values (one per Dense layer: "
            f"{depth} hidden and the readout), got shape {np.shape(std)}"
        )
    return tuple(check_positive(v, f"{name}[{i}]", allow_zero=True) for i, v in enumerate(values))


def check_depth(depth: Any) -> int:
    """The number of hidden layers: an integer >= 0 (bools and non-integral numbers are refused)."""
    return check_int(depth, "depth", minimum=0)


class _Pair(tuple):
    """(nngp, ntk) with the field names of the generated results."""

    @property
    def nngp(self) -> Any:
        return self[0]

    @property
    def ntk(self) -> Any:
        return self[1]


def _trapezoid_nodes(
    sd_max: float, strip: float, exponent: float = QUADRATURE_EXPONENT, half_width: float = QUADRATURE_HALF_WIDTH
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes t_k = h k (|t_k| <= ~``half_width``) and weights h N(t_k; 0, 1) of the trapezoid rule for
    E[F(t)], t ~ N(0, 1), where F(t) = f(sd t) with f analytic in |Im u| < ``strip`` and sd <=
    ``sd_max``: the step of error ~exp(-``exponent``) (QUADRATURE_EXPONENT); at most QUADRATURE_MAX_NODES
    nodes."""
    d = math.sqrt(2.0 * exponent)
    if sd_max > 0:  # (and not NaN)
        d = min(strip / sd_max, d)
    h = 2.0 * math.pi * d / (exponent + d * d / 2.0)
    h = max(h, QUADRATURE_HALF_WIDTH / ((QUADRATURE_MAX_NODES - 1) // 2))
    k = math.ceil(half_width / h)
    t = h * np.arange(-k, k + 1, dtype=np.float64)
    return t, h * np.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)


def _quadrature_steps(be: ArrayBackend, gen: Any, activation: str, strip: float | None) -> tuple[Callable, Callable]:
    """(pair step, diagonal step) of ``activation`` by the trapezoid rule on its generated phi, phi'.

    With u = L11 z1, v = L21 z1 + L22 z2 (L the Cholesky factor of [[var1, nngp], [nngp, var2]],
    z ~ N(0, I_2)): E[f(u) g(v)] = E_z1[f(L11 z1) E_z2[g(L21 z1 + L22 z2)]], each expectation by
    :func:`_trapezoid_nodes` with the tile's largest L11 and |L21| (outer) and L22 (inner) and the activation's
    ``strip`` (None: QUADRATURE_STRIP of the activation). E depends on L22 through L22^2 = var2 -
    nngp^2 / var1, whose cancellation near rho = 1 costs ~eps relative, not sqrt(eps). A Python loop
    over outer nodes; the inner nodes QUADRATURE_CHUNK at a time (memory: that many blocks).
    """
    xp = be.xp
    fn = getattr(gen, f"{activation}_phi")
    strip = QUADRATURE_STRIP.get(activation, QUADRATURE_STRIP_DEFAULT) if strip is None else strip
    on_accelerator = be.is_torch and be.device.type != "cpu"

    def largest(a: Any) -> float:
        size = a.numel() if be.is_torch else a.size
        return float(be.max(a)) if size else 0.0

    def chunks(t: np.ndarray, wt: np.ndarray) -> list[tuple[Any, Any]]:
        return [(be.asarray(t[i:i + QUADRATURE_CHUNK]), be.asarray(wt[i:i + QUADRATURE_CHUNK])) for i in range(0, len(t), QUADRATURE_CHUNK)]

    def pair_step(nngp: Any, ntk: Any, var1: Any, var2: Any, w: float, b: float, work: Any = None) -> _Pair:
        # Row tiles whose (rows, n2, QUADRATURE_CHUNK) scratch stays in cache (and whose node counts
        # follow their own largest variance); accelerators take the whole block.
        rows = max(1, QUADRATURE_TILE // max(1, nngp.shape[1] * QUADRATURE_CHUNK))
        if nngp.shape[0] <= rows or on_accelerator:
            e, edot = expectations(nngp, var1, var2)
        else:
            e, edot = xp.empty_like(nngp), xp.empty_like(nngp)
            for i in range(0, nngp.shape[0], rows):
                e[i:i + rows], edot[i:i + rows] = expectations(nngp[i:i + rows], var1[i:i + rows], var2)
        nngp_next = w * w * e + b * b
        return _Pair((nngp_next, nngp_next + w * w * edot * ntk))

    def expectations(nngp: Any, var1: Any, var2: Any) -> tuple[Any, Any]:
        """(E, Edot) of one tile."""
        l11 = xp.sqrt(var1)  # (n1, 1)
        safe = xp.where(l11 > 0, l11, xp.ones_like(l11))
        l21 = xp.where(l11 > 0, nngp / safe, xp.zeros_like(nngp))
        l22 = xp.sqrt(be.clip(var2 - l21 * l21, min=0.0))
        l22_max = largest(l22)
        l21, l22 = l21[..., None], l22[..., None]
        e = xp.zeros_like(nngp)
        edot = xp.zeros_like(nngp)
        # The outer integrand f(L11 z) E_z2[g(L21 z + L22 z2)] varies on the scale of L11 and of |L21|
        # (near rho = +-1, where L22 -> 0, its second factor is g(L21 z)).
        outer_sd = max(largest(l11), largest(xp.abs(l21)))
        for z, wz in zip(*_trapezoid_nodes(outer_sd, strip), strict=True):
            outer = fn(l11 * float(z))  # (n1, 1)
            mean = l21 * float(z)
            inner_phi: Any = 0.0
            inner_dphi: Any = 0.0
            # An outer node of weight ~exp(-z^2 / 2) needs its inner sum only to exp(z^2 / 2) times the
            # target error: a coarser step and a narrower range (~40% fewer inner nodes in all).
            exponent = max(QUADRATURE_EXPONENT - z * z / 2, QUADRATURE_EXPONENT_MIN)
            half_width = math.sqrt(max(QUADRATURE_HALF_WIDTH**2 - z * z, 1.0))
            for t, wt in chunks(*_trapezoid_nodes(l22_max, strip, exponent, half_width)):
                inner = fn(mean + l22 * t)  # (n1, n2, chunk)
                inner_phi = inner_phi + inner.phi @ wt
                inner_dphi = inner_dphi + inner.dphi @ wt
            e = e + float(wz) * outer.phi * inner_phi
            edot = edot + float(wz) * outer.dphi * inner_dphi
        return e, edot

    def diag_step(nngp: Any, ntk: Any, w: float, b: float) -> _Pair:
        sd = xp.sqrt(nngp)[..., None]
        e: Any = 0.0
        edot: Any = 0.0
        for t, wt in chunks(*_trapezoid_nodes(largest(sd), strip)):
            vals = fn(sd * t)
            e = e + (vals.phi * vals.phi) @ wt
            edot = edot + (vals.dphi * vals.dphi) @ wt
        nngp_next = w * w * e + b * b
        return _Pair((nngp_next, nngp_next + w * w * edot * ntk))

    return pair_step, diag_step


def _steps(be: ArrayBackend, gen: Any, activation: str, quadrature_strip: float | None) -> tuple[Callable, Callable]:
    """(pair step, diagonal step): generated closed forms, or quadrature (``gen``: the module with
    the activation's kernels, ``activation``: their name prefix)."""
    if hasattr(gen, f"{activation}_dense_step"):
        pair = getattr(gen, f"{activation}_dense_step")
        if "work" not in inspect.signature(pair).parameters:  # printed without scratch reuse
            plain = pair
            pair = lambda *args, work=None: plain(*args)  # noqa: E731
        return pair, getattr(gen, f"{activation}_dense_step_diag")
    return _quadrature_steps(be, gen, activation, quadrature_strip)


def _diag_recursion(gen: Any, sq_norms: Any, depth: int, w: tuple, b: tuple, step_diag: list[Callable]) -> list[Any]:
    """The kernels (fields ``nngp``, ``ntk``) of the entries x = x' after the input layer and after
    each hidden step (``step_diag[l]``, then Dense layer l + 1 with w[l + 1], b[l + 1])."""
    out = [gen.ntk_input_layer(sq_norms, w[0], b[0])]
    for layer in range(depth):
        out.append(step_diag[layer](out[-1].nngp, out[-1].ntk, w[layer + 1], b[layer + 1]))
    return out


def _coincident_pairs(x1: np.ndarray, x2: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i, j) with x1[i] == x2[j] exactly (i != j when x2 is None): points whose kernel
    entries are diagonal entries, found by one sort of the rows (O(n log n); -0.0 equals 0.0)."""
    n1 = x1.shape[0]
    rows = x1 if x2 is None else np.concatenate([x1, x2])
    _, group, counts = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
    group = group.reshape(-1)
    ii: list[np.ndarray] = []
    jj: list[np.ndarray] = []
    for g in np.flatnonzero(counts > 1):  # rare: only repeated inputs
        members = np.flatnonzero(group == g)
        left, right = (members, members) if x2 is None else (members[members < n1], members[members >= n1] - n1)
        i, j = np.meshgrid(left, right, indexing="ij")
        keep = (i != j) if x2 is None else np.ones(i.shape, dtype=bool)
        ii.append(i[keep])
        jj.append(j[keep])
    if not ii:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(ii).astype(np.int64), np.concatenate(jj).astype(np.int64)


def _block_plan(
    x1: Any, x2: Any, depth: Any, activation: str, w_std: Any, b_std: Any, backend: str, device: Any,
    block_size: Any, threads: Any, quadrature_strip: Any = None,
) -> tuple[list[tuple[slice, slice]], Callable[[slice, slice], tuple[slice, slice, Any, Any]], int]:
    """Validated arguments -> (the blocks to compute, the function computing one, thread count)."""
    if quadrature_strip is not None:
        quadrature_strip = check_positive(quadrature_strip, "quadrature_strip")
    x1, x2, depth, acts, w, b = _check_inputs(x1, x2, depth, activation, w_std, b_std)
    # One activation for every layer (the common case, its fast paths unchanged), or one per layer.
    uniform = len(set(map(id, acts))) <= 1
    scale_exp = 0
    if all(isinstance(a, str) and a in HOMOGENEOUS for a in (acts or ("relu",))):
        scale_exp, x1, x2, b = _relu_rescaling(x1, x2, b)
    bs = check_positive_int(block_size, "block_size")
    be = array_backend(backend, device)
    if threads is None:  # torch parallelises inside each operation (and a GPU needs no threads)
        threads = 1 if be.is_torch else available_cpus()
    threads = check_positive_int(threads, "threads (or None: one per CPU)")
    gen = be.kernels("ntk")
    symmetric = x2 is None
    d = x1.shape[1]
    max_abs = max(float(np.abs(x1).max(initial=0.0)), 0.0 if symmetric else float(np.abs(x2).max(initial=0.0)))
    max_abs = math.ldexp(max_abs, scale_exp)
    # Input kernel K^0 = x.x'/d (theory.md 7.2); squared norms summed in the same float64 order.
    with np.errstate(over="ignore"):
        sq_in = [np.einsum("ij,ij->i", x, x) / d for x in ((x1,) if symmetric else (x1, x2))]
        first = [w[0] * w[0] * s + b[0] * b[0] for s in sq_in]
    in_scale = None  # 2**-e when the inputs are carried as x / 2**e through the input layer (erf)
    b_in = b[0]
    if not all(np.isfinite(f).all() for f in first):
        if not (depth >= 1 and isinstance(acts[0], str) and acts[0] == "erf"):
            raise ValueError(
                f"the {activation_label(activation)} kernels of these inputs are not float64 numbers: the input layer "
                f"variance w_std^2 |x|^2 / d + b_std^2 overflows (max |x| = {max_abs:.3g}, w_std = {w!r}); only a first "
                "erf layer (bounded) is computed from such inputs; rescale them"
            )
        # erf is bounded: carry x / 2**e (exact) and the variances times 4**-e through the input layer;
        # the first erf step (erf_dense_step_angles_scaled) returns ordinary numbers.
        e = int(np.frexp(max_abs)[1])
        in_scale = math.ldexp(1.0, -e)
        x1 = np.ldexp(x1, -e)
        x2 = None if symmetric else np.ldexp(x2, -e)
        b_in = b[0]  # the fused first step (erf_input_and_step_scaled) scales it itself
        b = (b[0] * in_scale, *b[1:])  # the diagonal's input layer: variances times 4**-e
        sq_in = [np.einsum("ij,ij->i", x, x) / d for x in ((x1,) if symmetric else (x1, x2))]
        first = [w[0] * w[0] * s + b[0] * b[0] for s in sq_in]
        if min(float(f.min(initial=np.inf)) for f in first) < SCALED_VARIANCE_MIN:
            raise ValueError(
                f"inputs with variances beyond float64 (max |x| = {max_abs:.3g}) together with inputs some 1e270 "
                "times smaller are not supported (their variances are not carried on one scale); rescale the inputs"
            )
    xa = be.asarray(x1)
    xb = xa if symmetric else be.asarray(x2)
    by_act: dict[int, tuple[Callable, Callable, Any]] = {}
    for a in acts:
        if id(a) not in by_act:
            act_gen, act_name = activation_module(be, a)
            angles = getattr(act_gen, f"{act_name}_dense_step_angles", None) if isinstance(a, str) else None
            by_act[id(a)] = (*_steps(be, act_gen, act_name, quadrature_strip), angles)
    steps = [by_act[id(a)][0] for a in acts]
    steps_diag = [by_act[id(a)][1] for a in acts]
    if in_scale is not None:  # the first erf step on the scaled variances (pairs: erf_input_and_step_scaled)
        steps_diag[0] = lambda nngp, ntk, w_l, b_l: gen.erf_dense_step_diag_scaled(nngp, ntk, w_l, b_l, in_scale)
    # Layers whose near pairs are tracked by the angle-carrying step (None: untracked). One activation:
    # ANGLE_TRACKED only (erf keeps its fast step). Per-layer lists: every layer that has the step.
    exact_steps = [
        by_act[id(a)][2] if (a in ANGLE_TRACKED if uniform else by_act[id(a)][2] is not None) else None for a in acts
    ]
    # An erf layer followed by a tracked one passes on 1 -+ rho' with relative accuracy (the next arc-cosine
    # turns an absolute error eps into eps / theta); the plain erf angle step elsewhere (cheaper).
    for layer in range(depth - 1):
        if exact_steps[layer] is not None and acts[layer] == "erf" and exact_steps[layer + 1] is not None:
            exact_steps[layer] = gen.erf_dense_step_exact_gaps
    diag1 = _diag_recursion(gen, be.asarray(sq_in[0]), depth, w, b, steps_diag)
    diag2 = diag1 if symmetric else _diag_recursion(gen, be.asarray(sq_in[1]), depth, w, b, steps_diag)
    n1, n2 = x1.shape[0], (x1 if symmetric else x2).shape[0]
    dup_i, dup_j = _coincident_pairs(x1, x2)
    # Unit vectors and 1 / sqrt(variance) per point and layer, for the angle-carrying pairs (_Gaps).
    unit1, sq1 = _unit_rows(be, x1, d)
    unit2, sq2 = (unit1, sq1) if symmetric else _unit_rows(be, x2, d)
    inv_sd1 = [_inv_sqrt(be, k.nngp) for k in diag1]
    inv_sd2 = inv_sd1 if symmetric else [_inv_sqrt(be, k.nngp) for k in diag2]
    all_pairs_exact = [
        isinstance(acts[layer], str) and acts[layer] == "erf" and (
            (layer == 0 and in_scale is not None)
            or max(float(be.max(diag1[layer].nngp)), float(be.max(diag2[layer].nngp))) > ERF_DIRECT_ABOVE
        )
        for layer in range(depth)
    ]
    tasks = [
        (slice(i0, min(i0 + bs, n1)), slice(j0, min(j0 + bs, n2)))
        for i0 in range(0, n1, bs)
        for j0 in range(i0 if symmetric else 0, n2, bs)
    ]

    # Overflow (to inf, then NaN) needs kernel values near sqrt(float64 max) ~ 1e154; check the
    # results for it only where the inputs, weights or rescaling make that possible.
    check_finite = scale_exp != 0 or max(max_abs, *w, *b) > RELU_RESCALE_ABOVE
    scratch = threading.local()  # one dict of scratch arrays per thread, reused across its blocks

    def compute(rows: slice, cols: slice) -> tuple[slice, slice, Any, Any]:
        work = scratch.__dict__.setdefault("work", {})
        on_diag = symmetric and rows.start == cols.start
        sel = (dup_i >= rows.start) & (dup_i < rows.stop) & (dup_j >= cols.start) & (dup_j < cols.stop)
        dups = (dup_i[sel], dup_i[sel] - rows.start, dup_j[sel] - cols.start) if sel.any() else None

        def exact_diagonal(nngp: Any, ntk: Any, stage: int) -> None:
            # Entries x = x' take the diagonal recursion's values (module docstring).
            if on_diag:
                be.fill_diagonal(nngp, diag1[stage].nngp[rows])
                be.fill_diagonal(ntk, diag1[stage].ntk[rows])
            if dups is not None:
                src, bi, bj = dups
                nngp[bi, bj] = diag1[stage].nngp[src]
                ntk[bi, bj] = diag1[stage].ntk[src]

        # Where overflow is possible it is reported as one ValueError below, not as warnings.
        with np.errstate(over="ignore", invalid="ignore") if check_finite else contextlib.nullcontext():
            k0 = (xa[rows] @ xb[cols].T) / d
            layer_out = gen.ntk_input_layer(k0, w[0], b[0])
            nngp, ntk = layer_out.nngp, layer_out.ntk
            exclude = None
            if on_diag or dups is not None:
                ex_i = [be.index(np.arange(rows.stop - rows.start))] if on_diag else []
                ex_j = list(ex_i)
                if dups is not None:
                    ex_i.append(be.index(dups[1]))
                    ex_j.append(be.index(dups[2]))
                cat = be.xp.cat if be.is_torch else np.concatenate
                exclude = (cat(ex_i), cat(ex_j))
            tracked = any(e is not None for e in exact_steps) or any(all_pairs_exact)
            gaps = _Gaps(be, gen, acts, exact_steps, w, b, work, exclude) if tracked else None
            first_layer = 0
            if in_scale is not None and gaps is not None:  # every pair through the fused scaled first erf step
                om0, op0 = _input_gaps(be, unit1[rows], unit2[cols])
                w0 = w[0] * w[0]
                out = gen.erf_input_and_step_scaled(w0 * k0, om0, op0, w0 * sq1[rows][:, None], w0 * sq2[cols][None, :], b_in, w[1], b[1], in_scale)
                nngp, ntk = out.nngp, out.ntk
                gaps.i, gaps.j = _nonzero(be, be.xp.ones(nngp.shape, dtype=bool) if not be.is_torch else be.xp.ones(nngp.shape, dtype=be.xp.bool, device=nngp.device))
                gaps.om, gaps.op = out.one_minus_corr[gaps.i, gaps.j], out.one_plus_corr[gaps.i, gaps.j]
                first_layer = 1
            elif gaps is not None:
                gaps.start(k0, nngp, (inv_sd1[0][rows], inv_sd2[0][cols]), unit1[rows], unit2[cols], sq1[rows], sq2[cols])
            exact_diagonal(nngp, ntk, first_layer)
            for layer in range(first_layer, depth):
                v1 = diag1[layer].nngp[rows][:, None]
                v2 = diag2[layer].nngp[cols][None, :]
                inv = (inv_sd1[layer][rows], inv_sd2[layer][cols])
                step = steps[layer]
                if gaps is None:
                    layer_out = step(nngp, ntk, v1, v2, w[layer + 1], b[layer + 1], work=work)
                    nngp, ntk = layer_out.nngp, layer_out.ntk
                elif all_pairs_exact[layer]:
                    nngp, ntk = gaps.step_all(nngp, ntk, v1, v2, inv, layer + 1)
                elif exact_steps[layer] is None:  # (erf after its large-variance layers; quadrature layers)
                    layer_out = step(nngp, ntk, v1, v2, w[layer + 1], b[layer + 1], work=work)
                    nngp, ntk = layer_out.nngp, layer_out.ntk
                    gaps.i = None  # untracked from here: a later step_all starts from nngp
                else:
                    layer_out = step(nngp, ntk, v1, v2, w[layer + 1], b[layer + 1], work=work)
                    nngp, ntk = gaps.step(layer + 1, nngp, ntk, layer_out.nngp, layer_out.ntk, v1, v2, inv, (inv_sd1[layer + 1][rows], inv_sd2[layer + 1][cols]))
                exact_diagonal(nngp, ntk, layer + 1)
        if on_diag:
            nngp, ntk = _symmetrise(be, nngp), _symmetrise(be, ntk)
        if scale_exp:  # undo the ReLU rescaling: times 4**e, in four exact power-of-two factors
            with np.errstate(over="ignore"):  # overflow to inf is reported just below
                for part in (scale_exp // 2, scale_exp - scale_exp // 2) * 2:
                    nngp, ntk = nngp * math.ldexp(1.0, part), ntk * math.ldexp(1.0, part)
        if check_finite and not (bool(be.xp.isfinite(nngp).all()) and bool(be.xp.isfinite(ntk).all())):
            raise ValueError(
                f"the {activation_label(activation)} kernels of these inputs overflow float64 (max |x| = "
                f"{max_abs:.3g}, w_std = {w!r}, b_std = {b_std!r}): not representable, or (erf) not evaluated "
                "without overflow; rescale the inputs"
            )
        return rows, cols, nngp, ntk

    return tasks, compute, threads if len(tasks) > 1 else 1


def _unit_rows(be: ArrayBackend, x: np.ndarray, d: int) -> tuple[Any, Any]:
    """(x / |x| (zero rows stay zero), |x|^2 / d) as backend arrays."""
    sq = np.einsum("ij,ij->i", x, x)
    norm = np.sqrt(sq)
    unit = x / np.where(norm > 0, norm, 1.0)[:, None]
    return be.asarray(unit), be.asarray(sq / d)


def _inv_sqrt(be: ArrayBackend, var: Any) -> Any:
    """1 / sqrt(var), 0 where var = 0 (a zero-variance point is never near-coincident in rho)."""
    xp = be.xp
    safe = xp.where(var > 0, var, xp.ones_like(var) if be.is_torch else 1.0)
    return xp.where(var > 0, 1.0 / xp.sqrt(safe), xp.zeros_like(var) if be.is_torch else 0.0)


def _input_gaps(be: ArrayBackend, u1: Any, u2: Any) -> tuple[Any, Any]:
    """1 -+ cos(x, x') for every pair of a block from unit rows: 1 -+ u1.u2, and for pairs with |cos| >
    NEAR_ONE the cancellation-free |u1 -+ u2|^2 / 2 (Kahan 2006, section 12)."""
    cos = u1 @ u2.T
    om, op = 1 - cos, 1 + cos
    i, j = _nonzero(be, (cos > NEAR_ONE) | (cos < -NEAR_ONE))
    if len(i):
        diff, summ = u1[i] - u2[j], u1[i] + u2[j]
        om[i, j], op[i, j] = (diff * diff).sum(-1) / 2, (summ * summ).sum(-1) / 2
    return om, op


def _nonzero(be: ArrayBackend, mask: Any) -> tuple[Any, Any]:
    return tuple(mask.nonzero(as_tuple=True)) if be.is_torch else mask.nonzero()  # type: ignore[return-value]


class _Gaps:
    """The pairs of one block that run the angle-carrying step, with their 1 - rho and 1 + rho.

    ``start`` tracks the pairs with |rho| > NEAR_ONE after the input Dense layer (1 -+ rho from
    unit-vector differences, Kahan 2006); each ``step`` recomputes the tracked pairs exactly from the previous
    layer, and adds the pairs whose fast result has |rho'| > NEAR_ONE, recomputed from the previous
    layer too (there |rho| <= NEAR_ONE, so 1 -+ rho = 1 -+ nngp / sqrt(var1 var2) is accurate).
    """

    def __init__(self, be: ArrayBackend, gen: Any, acts: tuple, exact_steps: list, w: tuple, b: tuple, work: dict, exclude: Any) -> None:
        self.be, self.gen, self.w, self.b, self.work, self.exclude = be, gen, w, b, work, exclude
        self.dense = 0
        # E >= 0 after these activations (rho >= 0 after the step); the angle step of each layer
        self.nonnegative = [isinstance(a, str) and a in ("relu", "abs") for a in acts]
        self.exact_steps = exact_steps
        # erf's step_all (large variances) runs its angle step whether or not the layer is tracked (the
        # layer's own exact step where it has one: erf_dense_step_exact_gaps before a tracked layer)
        self.erf_step = gen.erf_dense_step_angles
        self.i: Any = None
        self.j: Any = None
        self.om: Any = None
        self.op: Any = None

    def _mask(self, nngp: Any, inv: tuple[Any, Any], nonnegative: bool = False) -> Any:
        """Where |rho| > NEAR_ONE (None if nowhere); ``nonnegative``: rho >= 0 known (ReLU layers).

        rho_ij = nngp_ij inv1_i inv2_j; the common no-pair case costs one product and a row
        reduction: max_j nngp_ij inv2_j <= NEAR_ONE / inv1_i for every row i."""
        if self.be.is_torch:
            scaled = nngp * inv[1][None, :]
        else:  # one scratch array per thread, no allocation (this check runs on every block and layer)
            scaled = self.work.get("rho")
            if scaled is None or scaled.shape != nngp.shape:
                scaled = self.work["rho"] = np.empty_like(nngp)
            np.multiply(nngp, inv[1][None, :], out=scaled)
        if self.exclude is not None:  # exactly coincident pairs get the diagonal values anyway
            scaled[self.exclude] = 0.0
        with np.errstate(divide="ignore"):
            bound = NEAR_ONE / inv[0]  # inf for zero-variance rows (never near): inv = 0
        hi = scaled.amax(1) if self.be.is_torch else scaled.max(1)
        lo = None if nonnegative else (scaled.amin(1) if self.be.is_torch else scaled.min(1))
        if bool((hi <= bound).all()) and (lo is None or bool((lo >= -bound).all())):
            return None
        rho = scaled * inv[0][:, None]
        return (rho > NEAR_ONE) | (rho < -NEAR_ONE)

    def start(self, k0: Any, nngp0: Any, inv0: tuple[Any, Any], u1: Any, u2: Any, sq1: Any, sq2: Any) -> None:
        """Track the near-(anti)parallel pairs after the input Dense layer (``nngp0``, ``inv0`` its
        1/sqrt(variances); ``k0`` = x.x'/d): judged there, not on the inputs, since a bias that dominates
        makes orthogonal inputs near-parallel, and later steps need |rho| <= NEAR_ONE where untracked."""
        mask = self._mask(nngp0, inv0)
        if mask is None:
            return
        i, j = _nonzero(self.be, mask)
        diff, summ = u1[i] - u2[j], u1[i] + u2[j]
        om0, op0 = (diff * diff).sum(-1) / 2, (summ * summ).sum(-1) / 2
        out = self.gen.ntk_input_layer_angles(k0[i, j], om0, op0, sq1[i], sq2[j], self.w[0], self.b[0])
        self.i, self.j, self.om, self.op = i, j, out.one_minus_corr, out.one_plus_corr

    def _exact(self, i: Any, j: Any, nngp: Any, ntk: Any, om: Any, op: Any, v1: Any, v2: Any) -> Any:
        w, b = self.w[self.dense], self.b[self.dense]
        return self.exact_steps[self.dense - 1](nngp[i, j], ntk[i, j], om, op, v1[i, 0], v2[0, j], w, b)

    def step(self, dense: int, nngp: Any, ntk: Any, nngp_next: Any, ntk_next: Any, v1: Any, v2: Any, inv: tuple[Any, Any], inv_next: tuple[Any, Any]) -> tuple[Any, Any]:
        """The fast step's (nngp_next, ntk_next) with the tracked and newly near pairs recomputed exactly
        (``dense``: the index of the Dense layer of this step)."""
        xp = self.be.xp
        self.dense = dense
        if self.i is not None:
            out = self._exact(self.i, self.j, nngp, ntk, self.om, self.op, v1, v2)
            nngp_next[self.i, self.j], ntk_next[self.i, self.j] = out.nngp, out.ntk
            self.om, self.op = out.one_minus_corr, out.one_plus_corr
        mask = self._mask(nngp_next, inv_next, self.nonnegative[dense - 1])
        if mask is not None:
            if self.i is not None:
                mask[self.i, self.j] = False
            i, j = _nonzero(self.be, mask)
            if len(i):
                rho = nngp[i, j] * inv[0][i] * inv[1][j]
                out = self._exact(i, j, nngp, ntk, 1 - rho, 1 + rho, v1, v2)
                nngp_next[i, j], ntk_next[i, j] = out.nngp, out.ntk
                if self.i is None:
                    self.i, self.j, self.om, self.op = i, j, out.one_minus_corr, out.one_plus_corr
                else:
                    cat = xp.cat if self.be.is_torch else np.concatenate
                    self.i, self.j = cat([self.i, i]), cat([self.j, j])
                    self.om, self.op = cat([self.om, out.one_minus_corr]), cat([self.op, out.one_plus_corr])
        return nngp_next, ntk_next

    def step_all(self, nngp: Any, ntk: Any, v1: Any, v2: Any, inv: tuple[Any, Any], dense: int) -> tuple[Any, Any]:
        """Every pair by the angle-carrying step (erf with large variances)."""
        rho = nngp * inv[0][:, None] * inv[1][None, :]
        # |rho| may round above 1 (coincident pairs, overwritten later): 1 -+ rho >= 0 as the steps assume
        om, op = self.be.clip(1 - rho, min=0.0), self.be.clip(1 + rho, min=0.0)
        if self.i is not None:
            om[self.i, self.j], op[self.i, self.j] = self.om, self.op
        shape = nngp.shape
        bshape = (shape[0], shape[1])
        v1b, v2b = v1 + 0 * v2, v2 + 0 * v1  # broadcast to the block
        out = (self.exact_steps[dense - 1] or self.erf_step)(nngp, ntk, om, op, v1b, v2b, self.w[dense], self.b[dense])
        i, j = _nonzero(self.be, self.be.xp.ones(bshape, dtype=bool) if not self.be.is_torch else self.be.xp.ones(bshape, dtype=self.be.xp.bool, device=nngp.device))
        self.i, self.j = i, j
        self.om, self.op = out.one_minus_corr[i, j], out.one_plus_corr[i, j]
        return out.nngp, out.ntk


def _symmetrise(be: ArrayBackend, block: Any) -> Any:
    """The symmetric matrix with the upper triangle of ``block``."""
    return be.triu(block) + be.triu(block, 1).T


def fc_kernel_blocks(
    x1: Any,
    x2: Any = None,
    *,
    depth: int,
    activation: str = "relu",
    w_std: float,
    b_std: float,
    backend: str = "numpy",
    device: Any = None,
    block_size: int = DEFAULT_BLOCK_SIZE,
    threads: int | None = None,
    quadrature_strip: float | None = None,
) -> Iterator[tuple[slice, slice, Any, Any]]:
    """Yield ``(rows, cols, nngp_block, ntk_block)`` covering the (n1, n2) kernel matrices.

    Memory is O(block_size^2 + (n1 + n2) * depth) whatever n1, n2: use it to reduce or stream
    kernels that do not fit in memory. With ``x2=None`` only blocks with ``cols.start >=
    rows.start`` are yielded (the matrices are symmetric; diagonal blocks are exactly symmetric).
    Conventions and arguments as :func:`fc_kernels` (which also runs BLAS single-threaded while
    it loops, see :func:`single_threaded_blas`; wrap a loop over this generator in it to do the same).
    """
    tasks, compute, threads = _block_plan(x1, x2, depth, activation, w_std, b_std, backend, device, block_size, threads, quadrature_strip)
    if threads == 1:
        for rows, cols in tasks:
            yield compute(rows, cols)
        return
    # NumPy ufuncs and torch ops release the GIL: blocks run in parallel threads, with at most
    # 2 * threads blocks in flight so memory stays bounded.
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending: deque = deque()
        for rows, cols in tasks:
            pending.append(pool.submit(compute, rows, cols))
            if len(pending) >= 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def fc_kernels(
    x1: Any,
    x2: Any = None,
    *,
    depth: int,
    activation: str = "relu",
    w_std: float,
    b_std: float,
    backend: str = "numpy",
    device: Any = None,
    block_size: int = DEFAULT_BLOCK_SIZE,
    threads: int | None = None,
    quadrature_strip: float | None = None,
) -> FCKernels:
    """Analytic NNGP and NTK of a fully connected network, neural-tangents conventions.

    The network is ``depth`` x [Dense(w_std, b_std), activation] followed by a Dense(w_std,
    b_std) readout, in the NTK parameterisation; the input kernel is x.x'/d (theory.md 7.1-7.2).
    Equivalent to ``stax.serial(*[Dense(w, W_std=w_std, b_std=b_std), Relu()] * depth,
    Dense(1, W_std=w_std, b_std=b_std))`` in neural-tangents (``Erf()`` for ``"erf"``).

    Parameters
    ----------
    x1, x2:
        (n1, d) and (n2, d) finite inputs; ``x2=None`` means ``x2 = x1`` (symmetric, cheaper, exact
        diagonal).
    depth:
        Number of hidden layers (>= 0).
    activation:
        A name of :data:`ACTIVATIONS`: closed-form duals (``relu``, ``erf`` = neural-tangents
        ``Erf(a=1, b=1, c=0)``, ``gelu``, ``sin``, ``cos``, ``abs``, ``leaky_relu`` (slope 0.01),
        ``identity``; derived by :func:`ibtheory.symbolic.dual_activation`) or quadrature
        (``tanh``, ``sigmoid``, ``softplus``: a 2-D trapezoid rule in the Gaussian variables whose
        step follows the activation's strip of analyticity, see ``quadrature_strip``; measured
        within 1.1e-14 relative of a 20-digit mpmath oracle at pre-activation variances 1e-2 .. 1e2,
        any correlation including rho = +-1; cost per pair ~ 0.6 (17 sd / h)^2 phi evaluations, h = 0.22
        (tanh) or 0.44 in pre-activation units for sd >~ 0.3). A one-variable SymPy ``Lambda`` is
        derived and generated at run time by :func:`ibtheory.kernels.activation_kernels` (on first use, then memoised).
        A list or tuple gives one activation per hidden layer (layer 1 first, ``depth`` of them,
        e.g. ``["relu", "identity", "erf"]``; ``ValueError`` naming ``activation`` otherwise).
        Accuracy on near-coincident, collinear and antipodal pairs (tests/ntk/test_accuracy*.py,
        50-digit recursions): within 1e-13 relative (plus 1e-15 of sqrt(K(x, x) K(x', x'))) for
        relu, erf, abs, leaky_relu, identity and gelu networks, and for per-layer lists of relu, abs,
        leaky_relu, identity, erf (gelu last): an erf layer before a ReLU-type one passes on 1 -+ rho
        with relative accuracy (``erf_dense_step_exact_gaps``); where its pre-activation variance a is
        small the unequal-variance part of that gap loses ~1/a relative digits (measured 1.4e-12 relative
        at a ~ 4e-5, a near-collinear pair, w_std 0.7, b_std 0; within 1e-13 for a >~ 0.2).
        GELU's det = var1 var2 - nngp^2 cancels to ~eps var^2: measured 2.3e-14 at depth 10,
        w_std 2 (variances ~5e3); its near pairs lose ~eps var relative beyond that.
        Input scale: relu, abs, leaky_relu, identity are rescaled by powers of two (exact); a first erf
        layer takes inputs whose variance w_std^2 |x|^2 / d is beyond float64 (|x| up to ~1e308) by
        carrying x / 2**e through the input layer (``erf_input_and_step_scaled``); kernels that are
        not float64 numbers (relu at 1e160, gelu, ...), or other activations on such inputs, raise
        ``ValueError``.
    w_std, b_std:
        Weight and bias standard deviations (>= 0): one number for every Dense layer, or a
        sequence of ``depth + 1`` (the hidden layers in order, then the readout).
    backend, device:
        ``"numpy"`` (default) or ``"torch"`` (tensors on ``device``); float64 throughout.
    block_size:
        Edge of the blocks the recursion runs over (memory ~ 6 * 8 * block_size^2 bytes per thread
        beyond the two outputs). See :func:`fc_kernel_blocks` to stream blocks instead.
    threads:
        Blocks computed in parallel by this many threads; default None: one per available CPU
        for NumPy (as its BLAS and XLA do; BLAS runs single-threaded meanwhile), 1 for torch.
    quadrature_strip:
        Activations without a closed-form dual: the half-width d of a strip |Im u| < d in which phi
        is analytic (its nearest complex singularity; tests/ntk/test_quadrature.py). It sets the
        trapezoid step (:data:`QUADRATURE_EXPONENT`: error ~ exp(-2 pi d / h) in u); None: pi/2 for
        tanh and SymPy Lambdas, pi for sigmoid and softplus (:data:`QUADRATURE_STRIP`). Too wide a
        strip loses accuracy gracefully (atan, d = 1, at pi/2: 2e-11). Pre-activation variances
        beyond ~175 (tanh; 700 sigmoid, softplus) hit :data:`QUADRATURE_MAX_NODES`: error 2e-3 at
        1e3 and 0.3 at 1e4 (tanh). Ignored by closed forms.

    Returns
    -------
    FCKernels with ``nngp`` and ``ntk`` of shape (n1, n2).
    """
    tasks, compute, threads = _block_plan(x1, x2, depth, activation, w_std, b_std, backend, device, block_size, threads, quadrature_strip)
    be = array_backend(backend, device)
    n1 = np.shape(x1)[0]
    n2 = n1 if x2 is None else np.shape(x2)[0]
    nngp_out, ntk_out = be.empty((n1, n2)), be.empty((n1, n2))

    def fill(task: tuple[slice, slice]) -> None:
        # Each thread writes its own block (and its mirror image): disjoint parts of the outputs.
        rows, cols, nngp, ntk = compute(*task)
        nngp_out[rows, cols] = nngp
        ntk_out[rows, cols] = ntk
        if x2 is None and rows.start != cols.start:
            nngp_out[cols, rows] = nngp.T
            ntk_out[cols, rows] = ntk.T

    with contextlib.nullcontext() if be.is_torch else single_threaded_blas():
        if threads == 1:
            for task in tasks:
                fill(task)
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(fill, tasks))  # re-raises a worker's exception here
    return FCKernels(
        nngp=nngp_out, ntk=ntk_out, depth=int(depth), activation=activation_label(activation), w_std=_as_recorded(w_std),
        b_std=_as_recorded(b_std), backend=backend, symmetric=x2 is None,
    )


def _as_recorded(std: Any) -> float | tuple[float, ...]:
    return float(std) if np.ndim(std) == 0 else tuple(float(v) for v in np.ravel(std))


#: Relative rounding allowed when checking that a kernel matrix is symmetric positive semi-definite
#: (eigenvalues of a float64 Gram matrix are exact to about n * eps of the largest).
PSD_RTOL = 1e-10


def max_learning_rate(ntk_train_train: Any, n_outputs: int = 1) -> float:
    """Largest stable full-batch GD learning rate in the neural-tangents convention.

    eta_max = 2 n k / lambda_max(Theta) for the loss ||f - Y||^2 / (2 n k) (theory.md 4.1;
    neural-tangents ``predict.max_learning_rate``).
    """
    theta = check_finite_array(ntk_train_train, "ntk_train_train", ndim=2)
    k = check_positive_int(n_outputs, "n_outputs")
    if theta.shape[0] != theta.shape[1] or not np.allclose(theta, theta.T, rtol=PSD_RTOL, atol=0.0):
        raise ValueError(f"ntk_train_train must be a symmetric (n, n) kernel matrix, got shape {theta.shape}"
                         + ("" if theta.shape[0] != theta.shape[1] else " that is not symmetric"))
    eig = np.linalg.eigvalsh(theta)
    lam = float(eig[-1])
    if eig[0] < -PSD_RTOL * max(abs(eig[0]), abs(lam)):
        raise ValueError(f"ntk_train_train is not positive semi-definite (eigenvalue {eig[0]:.3g}); "
                         "pass the NTK of the training inputs (fc_kernels(x_train, ...).ntk)")
    if lam <= 0:
        raise ValueError("ntk_train_train has no positive eigenvalue; every learning rate is stable")
    return 2.0 * theta.shape[0] * k / lam

