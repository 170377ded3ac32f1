"""Kernel specifications of the NNGP/NTK recursion and the ensemble dynamics (group ``ntk``).

Every expression comes from :func:`ibtheory.symbolic.ntk_derivation` (the layer recursion) or
from the eigen-decomposed gradient-flow solution of theory.md 4.1 stated here; nothing else is typed
by hand. Kernels are elementwise over plain Symbols: the algorithms in :mod:`ibtheory.ntk` call them
on (n1, n2) blocks with ``var1`` of shape (n1, 1) and ``var2`` of shape (1, n2).
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from types import ModuleType

import sympy as sp
from sympy.codegen.cfunctions import expm1

from ..codegen import KernelSpec, kernel, render_module
from ..symbolic import (
    ACTIVATIONS,
    ANGLE_ACTIVATIONS,
    NAMED_ACTIVATIONS,
    b_std_in,
    dual_activation,
    inv_scale,
    ntk_angle_derivation,
    ntk_derivation,
    one_minus_corr,
    one_plus_corr,
    u_act,
)
from ..symbolic.symbols import b_std, nngp, ntk, ntk_eig, tau, var1, var2, w_std

#: Eigenvalues of the training NTK are floored here before dividing by them: 0 and round-off
#: negatives (a PSD matrix's eigenvalues computed in float64) then give gain = tau exactly (the
#: lambda -> 0 limit) instead of 0/0; any eigenvalue above 1e-300 is unaffected.
EIG_FLOOR = sp.Float("1e-300")

_REC_REF = (
    "Jacot, Gabriel & Hongler 2018; Lee et al. 2019; neural-tangents conventions (theory.md 7.1-7.3); "
    "stable angle forms derived here (ibtheory.symbolic.ntk_derivation)"
)
_ANG_REF = "ibtheory.symbolic.ntk_angle_derivation (derived here; Kahan 2006 section 12 for the input angle)"
_ACT_REF = "ibtheory.symbolic.dual_activation (derived; sources in its module docstring; theory.md 7.3, 11.4)"
_DYN_REF = (
    "Lee et al. 2019 gradient-flow solution with the neural-tangents normalisation tau = eta t/(n k) "
    "(theory.md 4.1, 7.4), in the NTK eigenbasis (derived here)"
)


def ensemble_factors() -> dict[str, sp.Expr]:
    """Per-eigenvalue factors of the gradient-flow solution (theory.md 4.1; derived here).

    With Theta = U diag(lambda) U^T and E_t = I - exp(-tau Theta): E_t = U diag(growth) U^T,
    Theta^{-1} E_t = U diag(gain) U^T, exp(-tau Theta) = U diag(decay) U^T, where
    growth = 1 - exp(-lambda tau) (as -expm1, no cancellation for small lambda tau),
    gain = growth / lambda (-> tau as lambda -> 0; 1/lambda at tau = inf), decay = exp(-lambda tau).
    """
    lam = sp.Max(ntk_eig, EIG_FLOOR)
    growth = -expm1(-lam * tau)
    return {"gain": growth / lam, "growth": growth, "decay": sp.exp(-lam * tau)}


#: Axes spanned by the arguments of the pair steps when called on blocks (i: rows, j: columns).
_BLOCK_AXES = {"nngp": "ij", "ntk": "ij", "var1": "i", "var2": "j", "w_std": "", "b_std": ""}


@functools.lru_cache(maxsize=1)
def kernel_specs() -> list[KernelSpec]:
    """The ``ntk`` kernel group: input layer, one activation+Dense step (pair and diagonal) per
    activation, and the ensemble-dynamics factors."""
    res = ntk_derivation().results
    specs = [
        kernel(
            "ntk_input_layer",
            [nngp, w_std, b_std],
            {"nngp": res["input_nngp"], "ntk": res["input_ntk"]},
            doc=(
                "First Dense layer on the input kernel nngp = x.x'/d: returns (nngp, ntk) = "
                "(w_std^2 nngp + b_std^2, same). Elementwise; any broadcastable shapes."
            ),
            reference=_REC_REF,
        )
    ]
    for a in ACTIVATIONS:
        specs.append(
            kernel(
                f"{a}_dense_step",
                [nngp, ntk, var1, var2, w_std, b_std],
                {"nngp": res[f"{a}_step_nngp"], "ntk": res[f"{a}_step_ntk"]},
                doc=(
                    f"One {a} + Dense step of the NNGP/NTK recursion for pairs (x, x'): inputs nngp = "
                    "Sigma(x, x'), ntk = Theta(x, x'), var1 = Sigma(x, x), var2 = Sigma(x', x'); returns "
                    "(nngp', ntk') = (w^2 E + b^2, nngp' + w^2 Edot ntk), in the stable forms of "
                    "ntk_derivation (atan2 of the supplementary angle for ReLU, exact on the diagonal). Elementwise; e.g. (n1, n2) blocks with var1 (n1, 1), var2 (1, n2)."
                ),
                reference=_REC_REF,
                # (n1, n2) blocks with (n1, 1) and (1, n2) variances: printed in place (scratch reuse)
                broadcast=_BLOCK_AXES,
            )
        )
        specs.append(
            kernel(
                f"{a}_dense_step_diag",
                [nngp, ntk, w_std, b_std],
                {"nngp": res[f"{a}_step_diag_nngp"], "ntk": res[f"{a}_step_diag_ntk"]},
                doc=(
                    f"One {a} + Dense step for the diagonal entries x = x': nngp = Sigma(x, x), ntk = "
                    "Theta(x, x); returns (nngp', ntk'). Elementwise; any shape."
                ),
                reference=_REC_REF,
            )
        )
    # Every other named activation (ibtheory.symbolic.dual_activation): closed-form steps where the
    # dual was derived, and phi / phi' for all (finite networks; the quadrature of the others).
    for a in NAMED_ACTIVATIONS:
        dual = dual_activation(a)
        if a not in ACTIVATIONS and dual["e"] is not None:
            pair = {"nngp": w_std**2 * dual["e"] + b_std**2}
            pair["ntk"] = pair["nngp"] + w_std**2 * dual["edot"] * ntk
            diag = {"nngp": w_std**2 * dual["e_diag"] + b_std**2}
            diag["ntk"] = diag["nngp"] + w_std**2 * dual["edot_diag"] * ntk
            specs.append(
                kernel(
                    f"{a}_dense_step",
                    [nngp, ntk, var1, var2, w_std, b_std],
                    pair,
                    doc=(
                        f"One {a} + Dense step for pairs ({dual['method']} dual, ibtheory.symbolic.dual_activation): "
                        "inputs nngp, ntk, var1 = Sigma(x, x), var2 = Sigma(x', x'); returns (nngp', ntk'). Elementwise."
                    ),
                    reference=_ACT_REF,
                    # printed plainly (no broadcast=): codegen's in-place printer picked its scratch
                    # buffers in a hash-seed-dependent order for the gelu step (stale --check)
                )
            )
            specs.append(
                kernel(
                    f"{a}_dense_step_diag",
                    [nngp, ntk, w_std, b_std],
                    diag,
                    doc=f"One {a} + Dense step for the diagonal entries x = x' (nngp = Sigma(x, x)). Elementwise.",
                    reference=_ACT_REF,
                )
            )
        specs.append(
            kernel(
                f"{a}_phi",
                [u_act],
                {"phi": dual["phi"], "dphi": dual["dphi"]},
                doc=f"The {a} activation and its derivative at u_act (elementwise; torch: differentiable).",
                reference=_ACT_REF,
            )
        )
    # Angle-carrying forms (ntk_angle_derivation): exact for near-coincident and antipodal pairs and
    # for huge erf variances; run on the few pairs (1-D gathers) or blocks that need them.
    ang = ntk_angle_derivation().results
    gaps = [one_minus_corr, one_plus_corr]
    outs = ("nngp", "ntk", "one_minus_corr", "one_plus_corr")
    specs.append(
        kernel(
            "ntk_input_layer_angles",
            [nngp, *gaps, var1, var2, w_std, b_std],
            {k: ang[f"input_{k}"] for k in outs},
            doc=(
                "First Dense layer for pairs carrying 1 -+ rho: inputs nngp = x.x'/d, one_minus_corr / "
                "one_plus_corr = |x/|x| -+ x'/|x'||^2 / 2, var1 = |x|^2/d, var2 = |x'|^2/d; returns "
                "(nngp, ntk, one_minus_corr, one_plus_corr) of Sigma^1 = Theta^1. Elementwise."
            ),
            reference=_ANG_REF,
        )
    )
    for a in ANGLE_ACTIVATIONS:
        specs.append(
            kernel(
                f"{a}_dense_step_angles",
                [nngp, ntk, *gaps, var1, var2, w_std, b_std],
                {k: ang[f"{a}_step_{k}"] for k in outs},
                doc=(
                    f"One {a} + Dense step for pairs carrying 1 -+ rho (ntk_angle_derivation): inputs "
                    "nngp, ntk, one_minus_corr, one_plus_corr, var1 = Sigma(x, x), var2 = Sigma(x', x'); "
                    "returns the same four of the next layer, without cancellation near rho = +-1. Elementwise."
                ),
                reference=_ANG_REF,
            )
        )
    specs.append(
        kernel(
            "erf_dense_step_exact_gaps",
            [nngp, ntk, *gaps, var1, var2, w_std, b_std],
            {k: ang[f"erf_exact_gaps_step_{k}"] for k in outs},
            doc=(
                "erf_dense_step_angles with 1 -+ rho' of relative accuracy (sqrt(E_a E_c) -+ E split into an "
                "unequal-variance part and an angular part, ntk_angle_derivation): for an erf layer followed by a "
                "ReLU-type layer, whose arc-cosine turns an absolute error eps in 1 - rho' into eps / theta. Elementwise."
            ),
            reference=_ANG_REF,
        )
    )
    specs.append(
        kernel(
            "erf_input_and_step_scaled",
            [nngp, *gaps, var1, var2, b_std_in, w_std, b_std, inv_scale],
            {k: ang[f"erf_scaled_step_{k}"] for k in outs},
            doc=(
                "The input Dense layer and the first erf + Dense step for inputs divided by 2**e (variances beyond "
                "float64): nngp = w0^2 x.x'/d, var1, var2 = w0^2 |x|^2/d of the scaled inputs (w0, b_std_in: the input "
                "layer's stds; w_std, b_std: the next Dense layer's), one_minus_corr / one_plus_corr of the inputs, "
                "inv_scale = 2**-e; returns the true (nngp, ntk, one_minus_corr, one_plus_corr) "
                "after the erf layer's Dense. Elementwise."
            ),
            reference=_ANG_REF,
        )
    )
    specs.append(
        kernel(
            "erf_dense_step_diag_scaled",
            [nngp, ntk, w_std, b_std, inv_scale],
            {k: ang[f"erf_scaled_step_diag_{k}"] for k in ("nngp", "ntk")},
            doc=(
                "erf_dense_step_angles_scaled for the entries x = x': nngp = Sigma(x, x) inv_scale^2, ntk = "
                "Theta(x, x) inv_scale^2; returns the true (nngp, ntk) of the next layer. Elementwise."
            ),
            reference=_ANG_REF,
        )
    )
    specs.append(
        kernel(
            "ensemble_factors",
            [ntk_eig, tau],
            ensemble_factors(),
            doc=(
                "Per-eigenvalue factors of the NTK ensemble at scaled time tau = eta t / (n k): returns "
                "(gain, growth, decay) = ((1 - e^{-lambda tau})/lambda, 1 - e^{-lambda tau}, e^{-lambda tau}) "
                "with lambda = max(ntk_eig, 1e-300); tau = inf allowed. Elementwise, e.g. (n_times, 1) x (1, n)."
            ),
            reference=_DYN_REF,
        )
    )
    return specs


def _activation_specs(prefix: str, dual: dict) -> list[KernelSpec]:
    """``<prefix>_dense_step`` / ``_dense_step_diag`` (closed forms only) and ``<prefix>_phi``."""
    specs = []
    if dual["e"] is not None:
        pair = {"nngp": w_std**2 * dual["e"] + b_std**2}
        pair["ntk"] = pair["nngp"] + w_std**2 * dual["edot"] * ntk
        diag = {"nngp": w_std**2 * dual["e_diag"] + b_std**2}
        diag["ntk"] = diag["nngp"] + w_std**2 * dual["edot_diag"] * ntk
        specs.append(kernel(f"{prefix}_dense_step", [nngp, ntk, var1, var2, w_std, b_std], pair,
                            doc=f"One activation + Dense step for pairs ({dual['method']} dual).", reference=_ACT_REF))
        specs.append(kernel(f"{prefix}_dense_step_diag", [nngp, ntk, w_std, b_std], diag,
                            doc="One activation + Dense step for the diagonal entries.", reference=_ACT_REF))
    specs.append(kernel(f"{prefix}_phi", [u_act], {"phi": dual["phi"], "dphi": dual["dphi"]},
                        doc="The activation and its derivative (elementwise).", reference=_ACT_REF))
    return specs


@dataclass(frozen=True)
class ActivationKernels:
    """Run-time generated kernels of one activation (a SymPy Lambda or a name), for
    :func:`ibtheory.ntk.fc_kernels` and the finite networks (pass it as ``activation=``).

    ``name`` is ``"activation"`` (the modules' function prefix), ``method`` the route of
    :func:`ibtheory.symbolic.dual_activation` (``"quadrature"``: no ``*_dense_step`` kernels),
    ``label`` the activation as text; ``modules`` maps ``"numpy"`` / ``"torch"`` to the generated
    modules (torch absent when torch is not installed)."""

    name: str
    method: str
    label: str
    modules: dict

    def kernels(self, backend: str) -> ModuleType:
        """The generated module of ``backend`` (``"numpy"`` or ``"torch"``)."""
        if backend not in self.modules:
            raise ValueError(f"no {backend} kernels for activation {self.label} (installed backends: {sorted(self.modules)})")
        return self.modules[backend]


@functools.lru_cache(maxsize=32)
def activation_kernels(activation: object) -> ActivationKernels:
    """Derive (:func:`ibtheory.symbolic.dual_activation`) and generate the NumPy and Torch kernels of
    ``activation``, a name or a one-variable SymPy Lambda (``ValueError`` for bad ones, as there).

    The kernels layer is the one that may import both the symbolic layer and codegen; the
    algorithms take the returned object: ``fc_kernels(x, activation=activation_kernels(Lambda(u, ...)))``.
    """
    dual = dual_activation(activation)
    specs = _activation_specs("activation", dual)
    label = str(activation)
    modules: dict = {}
    for backend in ("numpy", "torch"):
        if backend == "torch" and importlib.util.find_spec("torch") is None:
            continue
        text = render_module(specs, backend, source=f"ibtheory.kernels.activation_kernels({label})", title=f"Kernels of the activation {label}")
        module = ModuleType(f"ibtheory_activation_{backend}")
        module.__file__ = f"<activation {label} {backend}>"
        exec(compile(text, module.__file__, "exec"), module.__dict__)  # text generated here from SymPy objects
        modules[backend] = module
    return ActivationKernels(name="activation", method=str(dual["method"]), label=label, modules=modules)
