"""Kernel specifications of rate-distortion by Blahut-Arimoto, from the ``rate-distortion`` derivation.

The derivation (:func:`ibtheory.symbolic.DERIVATIONS` ``["rate-distortion"]``; Cover & Thomas 2006,
10.8; theory.md 11.3) gives the encoder p(t|x) = p(t) exp(-beta d(x,t)) / Z(x), the marginal, the rate
I(X;T) and the expected distortion. Composed here as for the IB (:mod:`ibtheory.kernels._ib`): the
encoder in the log domain, p(t) floored at MASS_FLOOR inside log p(t).
"""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..codegen import KernelSpec, kernel
from ..symbolic import DERIVATIONS
from ..symbolic.symbols import DISCRETE_AXES, beta, log_p_t_given_x, p_t, p_t_given_x, p_x
from ._ib import MASS_FLOOR, _replace_base, _with_encoder

_REF = (
    "Cover & Thomas, Elements of Information Theory, 2nd ed., 10.8 (Blahut-Arimoto); "
    "derived in ibtheory.symbolic (catalogue 'rate-distortion')"
)


@functools.cache
def _specs() -> tuple[KernelSpec, ...]:
    results: dict[str, Any] = dict(DERIVATIONS["rate-distortion"]().results)
    distortion = results["distortion"].base
    marginal = results["marginal"]
    log_encoder = sp.expand_log(sp.log(results["encoder"].rhs), force=True)
    floored = sp.Eq(marginal.lhs, sp.Max(marginal.rhs, MASS_FLOOR))
    log_encoder = _replace_base(log_encoder, p_t, floored)
    point = {
        "p_t": marginal.rhs,
        "rate": _replace_base(results["i_xt"], p_t, marginal),
        "expected_distortion": results["expected_distortion"],
    }
    return (
        kernel(
            "rd_step",
            [log_p_t_given_x, p_x, distortion, beta],
            {"p_t": _with_encoder(marginal.rhs), "log_p_t_given_x": _with_encoder(log_encoder)},
            doc=(
                "One Blahut-Arimoto alternation in the log domain: from the encoder log p(t|x) compute the output "
                "marginal p(t) and the new encoder log p(t|x) = log p(t) - beta d(x,t) - log Z(x, beta) "
                "(p(t) floored at 1e-300 inside the logarithm)."
            ),
            reference=_REF,
            axes=DISCRETE_AXES,
        ),
        kernel(
            "rd_point",
            [p_x, distortion, p_t_given_x],
            point,
            doc="The output marginal p(t), the rate I(X;T) in nats and the expected distortion E d(X,T) of an encoder p(t|x).",
            reference=_REF,
            axes=DISCRETE_AXES,
        ),
    )


def kernel_specs() -> list[KernelSpec]:
    """The ``rate_distortion`` kernel group (see :data:`ibtheory.kernels.KERNEL_GROUPS`)."""
    return list(_specs())
