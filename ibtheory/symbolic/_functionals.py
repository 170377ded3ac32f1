"""Index-level information functionals of discrete distributions (in nats).

All functionals are plain SymPy ``Sum`` expressions over :class:`sympy.Idx` indices; the bound
variable and its range come from the caller. Definitions: Cover & Thomas, *Elements of Information
Theory* (2nd ed.), eqs. 2.1 (entropy), 2.26 (relative entropy), 2.28 (mutual information as the
relative entropy of the joint to the product of marginals).
"""

from __future__ import annotations

import sympy as sp


def _limit(i: sp.Idx) -> tuple[sp.Idx, sp.Expr, sp.Expr]:
    return (i, i.lower, i.upper)


def total(expr: sp.Expr, *indices: sp.Idx) -> sp.Expr:
    """``sum_{indices} expr`` with each index over its declared range."""
    return sp.Sum(expr, *(_limit(i) for i in indices))


def entropy(p: sp.Expr, *indices: sp.Idx) -> sp.Expr:
    """H(P) = -sum p log p (Cover & Thomas eq. 2.1)."""
    return -total(p * sp.log(p), *indices)


def kl_divergence(p: sp.Expr, q: sp.Expr, *indices: sp.Idx) -> sp.Expr:
    """D[P || Q] = sum p log(p / q) (Cover & Thomas eq. 2.26)."""
    return total(p * sp.log(p / q), *indices)


def mutual_information(joint: sp.Expr, marginal_a: sp.Expr, marginal_b: sp.Expr, *indices: sp.Idx) -> sp.Expr:
    """I(A;B) = D[p(a,b) || p(a)p(b)] (Cover & Thomas eq. 2.28)."""
    return total(joint * sp.log(joint / (marginal_a * marginal_b)), *indices)


def conditional_mutual_information(
    weight: sp.Expr, conditional: sp.Expr, marginal: sp.Expr, *indices: sp.Idx
) -> sp.Expr:
    """I(A;B) = sum_{a,b} p(a) p(b|a) log(p(b|a) / p(b)), the form used with an encoder p(b|a)."""
    return total(weight * conditional * sp.log(conditional / marginal), *indices)
