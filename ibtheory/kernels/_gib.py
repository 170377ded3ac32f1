"""Kernel specifications of the generalized IB (and its deterministic limit), from the ``gib`` derivation.

The derivation (:func:`ibtheory.symbolic.derive` of L = H(T) - alpha H(T|X) - beta I(T;Y), catalogue
name ``gib``; Strouse & Schwab 2017, theory.md 11.1) gives the encoder
p(t|x) = p(t)^(1/alpha) exp(-(beta/alpha) D_KL[p(y|x) || p(y|t)]) / Z(x), the marginal, the Markov
decoder and the objective at the index level. Here they are only composed, with the numerical
choices of :mod:`ibtheory.kernels._ib` (log-domain encoder, p(t) floored at MASS_FLOOR):

- ``gib_step``: one alternation (new log-encoder, and p(t), p(y|t) of the current one);
- ``gib_point``: H(T), H(T|X), I(X;T), I(T;Y) of an encoder in one pass. H(T|X) and I(T;Y) are
  read off the derived objective as -dL/d alpha and -dL/d beta (the objective is affine in both),
  H(T) as L at alpha = beta = 0, so that objective = h_t - alpha h_t_given_x - beta i_ty;
- ``gib_objective``: the derived objective itself;
- ``dib_cluster_terms``: the objective at alpha = 0 (the deterministic IB, where H(T|X) = 0) is a
  sum over clusters t of a term of (p(t), p(y|t)) plus a constant free of t; the kernel returns those
  per-cluster terms (the summands over t of the derived objective), which the DIB's local search
  compares between partitions.
"""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..codegen import KernelSpec, kernel
from ..symbolic import DERIVATIONS
from ..symbolic.symbols import (
    DISCRETE_AXES,
    log_p_t_given_x,
    p_t,
    p_t_given_x,
    p_x,
    p_y_given_t,
    p_y_given_x,
    t,
)
from ._ib import _compose, _step_outputs

_REF = (
    "Strouse & Schwab 2017, 'The deterministic information bottleneck', Neural Computation 29(6):1611-1630 "
    "(generalized IB update; theory.md 11.1); derived in ibtheory.symbolic (catalogue 'gib')"
)


def _parameters(results: dict) -> tuple[sp.Symbol, sp.Symbol]:
    """The derivation's (beta, alpha) symbols, by name."""
    by_name = {str(s): s for s in results["parameters"]}
    return by_name["beta"], by_name["alpha"]


def _per_cluster(expr: sp.Expr) -> sp.Expr:
    """The summands over t of ``expr`` (a sum of Sums and t-free terms), as a function of t; the
    t-free terms (constants for a partition) are dropped."""
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        coeff, rest = term.as_independent(sp.Sum)
        if isinstance(rest, sp.Sum) and any(lim[0] == t for lim in rest.limits):
            others = [lim for lim in rest.limits if lim[0] != t]
            out += coeff * (sp.Sum(rest.function, *others) if others else rest.function)
    return out


@functools.cache
def _specs() -> tuple[KernelSpec, ...]:
    results: dict[str, Any] = dict(DERIVATIONS["gib"]().results)
    beta, alpha = _parameters(results)
    objective = results["objective"]
    h_t = objective.subs({alpha: 0, beta: 0})
    h_t_given_x = -sp.diff(objective, alpha)
    i_ty = -sp.diff(objective, beta)
    step = _step_outputs(results)
    dib = objective.subs(alpha, 0)
    return (
        kernel(
            "gib_step",
            [log_p_t_given_x, p_x, p_y_given_x, beta, alpha],
            step,
            doc=(
                "One alternation of the generalized IB self-consistent equations, in the log domain: from the "
                "current encoder log p(t|x) compute the marginal p(t), the decoder p(y|t), and the new "
                "normalised encoder log p(t|x) = (log p(t) - beta D_KL[p(y|x)||p(y|t)]) / alpha - log Z(x). "
                "p(t) is floored at 1e-300 in the decoder's denominator and in log p(t)."
            ),
            reference=_REF,
            axes=DISCRETE_AXES,
        ),
        kernel(
            "gib_point",
            [p_x, p_y_given_x, p_t_given_x],
            {
                "p_t": results["marginal"].rhs,
                "p_y_given_t": _compose(results["decoder"].lhs, results),
                "h_t": _compose(h_t, results),
                "h_t_given_x": _compose(h_t_given_x, results),
                "i_xt": _compose(results["i_xt"], results),
                "i_ty": _compose(i_ty, results),
            },
            doc=(
                "The generalized-IB quantities of an encoder p(t|x) in one pass, in nats: the marginal p(t), the "
                "Markov decoder p(y|t), H(T), H(T|X), I(X;T) and I(T;Y), so that the objective is "
                "h_t - alpha h_t_given_x - beta i_ty (H(T|X) and I(T;Y) are -dL/dalpha and -dL/dbeta of the derived L)."
            ),
            reference=_REF,
            axes=DISCRETE_AXES,
        ),
        kernel(
            "gib_objective",
            [p_x, p_y_given_x, p_t_given_x, beta, alpha],
            {"objective": _compose(objective, results)},
            doc="The generalized IB Lagrangian L = H(T) - alpha H(T|X) - beta I(T;Y) in nats.",
            reference=_REF,
            axes=DISCRETE_AXES,
        ),
        kernel(
            "dib_cluster_terms",
            [p_t, p_y_given_t, beta],
            {"cluster_term": _per_cluster(dib)},
            doc=(
                "The deterministic IB objective H(T) - beta I(T;Y) (the derived L at alpha = 0, where H(T|X) = 0 "
                "for a partition) is sum_t cluster_term[t] + (a constant of p(x, y)); this returns the terms "
                "-p(t) log p(t) - beta sum_y p(t) p(y|t) log p(y|t) of each cluster, from its mass p(t) and "
                "decoder p(y|t)."
            ),
            reference=_REF,
            axes=DISCRETE_AXES,
        ),
    )


def kernel_specs() -> list[KernelSpec]:
    """The ``gib`` kernel group (see :data:`ibtheory.kernels.KERNEL_GROUPS`)."""
    return list(_specs())
