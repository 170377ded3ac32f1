"""Kernel specifications of the discrete IB and dualIB, built from the derivations' results.

Nothing here is a formula typed by hand: every expression is taken from
:func:`ibtheory.symbolic.ib_derivation` / :func:`ibtheory.symbolic.dual_ib_derivation` and only
*composed* (the marginal and decoder substituted into the encoder, the encoder taken in the log
domain). Two numerical choices are made here and documented in the kernels:

- the encoder enters through ``log_p_t_given_x`` (log domain; ``p(t|x) = exp(log_p_t_given_x)``
  underflows to an exact 0 for far clusters, which xlogy handles);
- ``p(t)`` is floored at :data:`MASS_FLOOR` in the decoder's denominator and in the encoder's
  ``log p(t)``, so that a cluster whose mass underflowed to 0 gets a zero (IB) or uniform (dualIB)
  decoder and a weight of order 1e-300 instead of producing 0/0 or log 0;
- dualIB only: ``p(y|x)`` is floored at :data:`LABEL_FLOOR` wherever the geometric-mean decoder or
  the reversed KL takes its logarithm. This is the eps -> 0 limit of a label-noise model
  (theory.md 3: the dualIB needs stochastic labels): for a cluster mixing x's with different
  deterministic labels the geometric mean is 0 for every y (0/0), while with the floor it tends to
  the majority label, and the reversed KL of a minority x is large but finite (about 690 nats), so
  the encoder moves it out as beta grows. Results are unchanged wherever p(y|x) > 1e-300.
"""

from __future__ import annotations

import functools

import sympy as sp

from ..codegen import KernelSpec, kernel, stabilise
from ..symbolic import dual_ib_derivation, ib_derivation
from ..symbolic.symbols import (
    DISCRETE_AXES,
    beta,
    log_p_t_given_x,
    n_t,
    n_x,
    p_t,
    p_t_given_x,
    p_x,
    p_x_given_t,
    p_y_given_t,
    p_y_given_x,
    t,
    x,
)

#: Floor for p(t) in decoder denominators: the smallest float64 magnitude that is still far from
#: subnormal trouble; only clusters with mass < 1e-300 are affected (they are dead).
MASS_FLOOR = sp.Float("1e-300")
#: Floor for p(y|x) inside the dualIB's logarithms (see the module docstring).
LABEL_FLOOR = sp.Float("1e-300")

_IB_REF = "Tishby, Pereira & Bialek 1999, self-consistent equations (theory.md 1.2-1.3); derived in ibtheory.symbolic.ib_derivation"
_DUAL_REF = "Piran, Shwartz-Ziv & Tishby 2020, dualIB self-consistent equations (theory.md 3.2); derived in ibtheory.symbolic.dual_ib_derivation"


def _replace_base(expr: sp.Expr, base: sp.IndexedBase, eq: sp.Eq) -> sp.Expr:
    """Replace every ``base[i, j]`` in ``expr`` by ``eq.rhs`` with ``eq.lhs``'s indices renamed."""
    lhs_idx = eq.lhs.indices

    def build(e: sp.Indexed) -> sp.Expr:
        return eq.rhs.xreplace(dict(zip(lhs_idx, e.indices, strict=True)))

    return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == base, build)


def _with_encoder(expr: sp.Expr) -> sp.Expr:
    """Write p(t|x) as exp(log p(t|x))."""
    return expr.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == p_t_given_x,
        lambda e: sp.exp(log_p_t_given_x[e.indices]),
    )


def _compose(expr: sp.Expr, results: dict) -> sp.Expr:
    """Write ``expr`` in terms of the primary variables p(x), p(y|x), p(t|x).

    The stability rewrites are applied *before* the decoder is substituted, so that terms like
    p(y|t) log p(y|t) become xlogy of the decoder's value (0 where a geometric-mean decoder
    vanishes) rather than exp(s) * s with s = -inf.
    """
    if _is_geometric(results):
        expr = _floor_labels(expr)
        results = {k: _floor_labels(v) if k == "decoder" else v for k, v in results.items()}
    floored = sp.Eq(results["marginal"].lhs, sp.Max(results["marginal"].rhs, MASS_FLOOR))
    decoder = stabilise(results["decoder"].rhs)
    if "inverse_encoder" in results:
        decoder = _replace_base(decoder, p_x_given_t, results["inverse_encoder"])
    decoder = _replace_base(decoder, p_t, floored)
    out = stabilise(expr)
    out = _replace_base(out, p_y_given_t, sp.Eq(results["decoder"].lhs, decoder))
    if "inverse_encoder" in results:
        out = _replace_base(out, p_x_given_t, results["inverse_encoder"])
    return _replace_base(out, p_t, results["marginal"])


def _is_geometric(results: dict) -> bool:
    """The dualIB decoder takes the logarithm of p(y|x); the IB decoder does not."""
    return bool(results["decoder"].rhs.has(sp.log))


def _floor_labels(expr: sp.Basic) -> sp.Basic:
    return expr.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == p_y_given_x,
        lambda e: sp.Max(e, LABEL_FLOOR),
    )


def _step_outputs(results: dict) -> dict[str, sp.Expr]:
    """p(t), p(y|t) and the new log-encoder of one alternation, from the derivation's results."""
    log_encoder = sp.expand_log(sp.log(results["encoder"].rhs), force=True)
    # log p(t) of the floored marginal: the same array as the decoder's denominator (one pass over
    # (x, t) instead of a second log-sum-exp), and a dead cluster keeps a mass of order 1e-300.
    floored = sp.Eq(results["marginal"].lhs, sp.Max(results["marginal"].rhs, MASS_FLOOR))
    log_encoder = _replace_base(log_encoder, p_t, floored)
    return {
        "p_t": _with_encoder(results["marginal"].rhs),
        "p_y_given_t": _with_encoder(_compose(results["decoder"].lhs, results)),
        "log_p_t_given_x": _with_encoder(_compose(log_encoder, results)),
    }


def _step_spec(name: str, results: dict, method: str, reference: str) -> KernelSpec:
    return kernel(
        name,
        [log_p_t_given_x, p_x, p_y_given_x, beta],
        _step_outputs(results),
        doc=(
            f"One alternation of the {method} self-consistent equations, in the log domain: from the "
            "current encoder log p(t|x) compute the marginal p(t), the decoder p(y|t), and the new "
            "normalised encoder log p(t|x) = log p(t) - beta d(x, t) - log Z(x, beta). "
            "p(t) is floored at 1e-300 in the decoder's denominator and in log p(t) (a dead cluster keeps a mass of order 1e-300)."
        ),
        reference=reference,
        axes=DISCRETE_AXES,
    )


def _expected_distortion_functional(results: dict) -> sp.Expr:
    """I(X;T) + beta E_{p(x,t)}[d(x, t)], from the derivation's ``i_xt`` and ``distortion``.

    Composed here rather than taken from ``results["objective"]`` so that the decoder enters the
    distortion as a value (xlogy of it), not through log(exp(.)) simplified away; the tests check
    that both forms agree.
    """
    return results["i_xt"] + beta * _expected_distortion(results)


def _expected_distortion(results: dict) -> sp.Expr:
    """E_{p(x,t)}[d(x, t)] with the derivation's ``distortion``."""
    return sp.Sum(p_x[x] * p_t_given_x[x, t] * results["distortion"], (x, 0, n_x - 1), (t, 0, n_t - 1))


def _functional_specs(ib: dict, dual: dict) -> list[KernelSpec]:
    args = [p_x, p_y_given_x, p_t_given_x]
    return [
        kernel(
            "ib_information",
            args,
            {"i_xt": _compose(ib["i_xt"], ib), "i_ty": _compose(ib["i_ty"], ib)},
            doc="I(X;T) and I(T;Y) in nats for an encoder p(t|x); I(T;Y) uses the Markov decoder sum_x p(y|x) p(x|t).",
            reference="Shannon mutual information; theory.md 1.1 and 3.2 (Markov decoder for both methods)",
            axes=DISCRETE_AXES,
        ),
        kernel(
            "ib_lagrangian",
            [*args, beta],
            {"objective": _compose(ib["objective"], ib)},
            doc="The IB Lagrangian L = I(X;T) - beta I(T;Y) in nats.",
            reference="Tishby, Pereira & Bialek 1999 (theory.md 1.1)",
            axes=DISCRETE_AXES,
        ),
        kernel(
            "dual_ib_functional",
            [*args, beta],
            {"objective": _compose(_expected_distortion_functional(dual), dual)},
            doc=(
                "The dualIB functional F = I(X;T) + beta E_{p(x,t)} KL[p(y|t) || p(y|x)] in nats, with "
                "the geometric-mean decoder p(y|t) of the encoder."
            ),
            reference="Piran, Shwartz-Ziv & Tishby 2020 (theory.md 3.1-3.2)",
            axes=DISCRETE_AXES,
        ),
    ]


def _point_spec(name: str, results: dict, ib: dict, method: str, reference: str) -> KernelSpec:
    """Everything a solver reports about one encoder, in one pass (shared p(t) and decoders).

    ``slope`` is d(objective)/d(beta) at a fixed encoder: the objective is affine in beta
    (IB: I(X;T) - beta I(T;Y); dualIB: I(X;T) + beta E KL), so ``i_xt + beta * slope`` gives it at
    every beta without another pass over the encoder.
    """
    i_ty = _compose(ib["i_ty"], ib)  # Markov decoder for both methods (theory.md 3.2)
    slope = _compose(_expected_distortion(results), results) if _is_geometric(results) else -i_ty
    return kernel(
        name,
        [p_x, p_y_given_x, p_t_given_x],
        {
            "p_t": results["marginal"].rhs,
            "p_y_given_t": _compose(results["decoder"].lhs, results),
            "i_xt": _compose(results["i_xt"], results),
            "i_ty": i_ty,
            "slope": slope,
        },
        doc=(
            f"The {method} quantities of an encoder p(t|x) in one pass: the marginal p(t), the "
            f"{method} decoder p(y|t) (p(t) floored at 1e-300 in its denominator), I(X;T) and I(T;Y) "
            "in nats (Markov decoder sum_x p(y|x) p(x|t)), and slope = d objective / d beta at this "
            "encoder, so that objective = i_xt + beta * slope "
            + ("(slope = E_{p(x,t)} KL[p(y|t) || p(y|x)], geometric-mean decoder)." if _is_geometric(results) else "(slope = -I(T;Y)).")
        ),
        reference=reference,
        axes=DISCRETE_AXES,
    )


@functools.cache
def _specs() -> tuple[KernelSpec, ...]:
    ib = dict(ib_derivation().results)
    dual = dict(dual_ib_derivation().results)
    return (
        _step_spec("ib_step", ib, "IB", _IB_REF),
        _step_spec("dual_ib_step", dual, "dualIB", _DUAL_REF),
        *_functional_specs(ib, dual),
        _point_spec("ib_point", ib, ib, "IB", _IB_REF),
        _point_spec("dual_ib_point", dual, ib, "dualIB", _DUAL_REF),
    )


def kernel_specs() -> list[KernelSpec]:
    """The ``ib`` kernel group (see :data:`ibtheory.kernels.KERNEL_GROUPS`)."""
    return list(_specs())
