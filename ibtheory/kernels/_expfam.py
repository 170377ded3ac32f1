"""Kernel specification of the exponential-family dualIB alternation (group ``expfam``).

For p(y|x) = exp(-sum_r lambda_r(y) A_r(x)) / Z(x) the dualIB decoder stays in the family
(:func:`ibtheory.symbolic.dual_ib_expfam_derivation`, theory.md 3.3). One alternation, in the log
domain, is composed here from that derivation's results (decoder, sufficient statistics A_r(t),
mean multipliers lambdabar_r(t), closed-form distortion) and the dualIB derivation's marginal,
inverse encoder and encoder (:func:`ibtheory.symbolic.dual_ib_derivation`), with the closed form
in place of the dual distortion. Nothing is typed by hand.

The kernel's index axes are ``(x, r, y, t)`` (r: the statistics), so that every argument is
indexed in axis order: ``stats[x, r]``, ``lambdas[r, y]``. The derivation's arrays ``A``,
``lambda`` (a Python keyword) and ``log_Z_x`` are renamed to the solver's argument names
``stats``, ``lambdas`` and ``log_z_x``. As in the discrete kernels (:mod:`._ib`), p(t) is floored
at :data:`MASS_FLOOR` in the denominator of p(x|t) and in log p(t).
"""

from __future__ import annotations

import functools
from typing import Any

import sympy as sp

from ..codegen import KernelSpec, kernel
from ..symbolic import EXPFAM_REFERENCE, dual_ib_derivation, dual_ib_expfam_derivation
from ..symbolic.symbols import (
    beta,
    log_p_t_given_x,
    log_partition_x,
    mean_multiplier,
    multiplier,
    p_t,
    p_x,
    p_x_given_t,
    p_y_given_t,
    r,
    stat_t,
    t,
    tp,
    x,
    xp,
    y,
)
from ._ib import MASS_FLOOR, _replace_base, _with_encoder

#: axis order of the kernel: x, then the statistics r, then y, t
EXPFAM_AXES = ("x", "r", "y", "t")

stats = sp.IndexedBase("stats", real=True)  # A_r(x), [x, r]
lambdas = sp.IndexedBase("lambdas", real=True)  # lambda_r(y), [r, y]
log_z_x = sp.IndexedBase("log_z_x", real=True)  # log Z(x), [x]

_REF = EXPFAM_REFERENCE + " Composed with the dualIB self-consistent equations (ibtheory.symbolic.dual_ib_derivation)."


def _rename(expr: sp.Basic) -> sp.Basic:
    """The derivation's A, lambda, log_Z_x as the kernel arguments stats, lambdas, log_z_x."""
    return expr.xreplace({multiplier: lambdas, log_partition_x: log_z_x}).replace(
        lambda e: isinstance(e, sp.Indexed) and e.base.label == sp.Symbol("A", real=True) and e.base != stat_t,
        lambda e: stats[e.indices],
    )


@functools.cache
def expfam_step_outputs() -> dict[str, sp.Expr]:
    """p(t), A(t), log p(y|t) and the new log-encoder of one alternation, at index level.

    The statistics' bound ``x`` is renamed ``xp`` so that it never meets the free ``x`` of the
    distortion; p(y|t) enters lambdabar as exp(log p(y|t)).
    """
    dual: dict[str, Any] = dict(dual_ib_derivation().results)
    fam: dict[str, Any] = dict(dual_ib_expfam_derivation().results)
    floored = sp.Eq(dual["marginal"].lhs, sp.Max(dual["marginal"].rhs, MASS_FLOOR))
    # p(x|t) with the floored marginal in its denominator (a dead cluster: p(x|t) = 0, not 0/0)
    inverse = sp.Eq(dual["inverse_encoder"].lhs, _replace_base(dual["inverse_encoder"].rhs, p_t, floored))
    suff = fam["sufficient_statistics"]
    stats_t = _replace_base(suff.rhs.xreplace({x: xp}), p_x_given_t, inverse)
    suff_eq = sp.Eq(suff.lhs, stats_t)
    log_decoder = sp.expand_log(sp.log(fam["decoder"].rhs), force=True)
    log_decoder = _replace_base(log_decoder, stat_t, suff_eq)
    # SymPy rewrites exp(s - log sum exp(s)) as exp(s) / sum exp(s) on any rebuild, so lambdabar
    # is printed unshifted: it overflows where |sum_r A_r(t) lambda_r(y)| > ~700 (the hand-typed
    # oracle did not); the solver's inputs stay far below that (stats and lambdas of order 1-10).
    decoder_eq = sp.Eq(p_y_given_t[y, t], sp.exp(log_decoder))
    mean_eq = sp.Eq(fam["mean_multiplier"].lhs, _replace_base(fam["mean_multiplier"].rhs, p_y_given_t, decoder_eq))
    distortion = _replace_base(_replace_base(fam["distortion"], mean_multiplier, mean_eq), stat_t, suff_eq)
    # the dualIB encoder with the closed-form distortion in place of the KL sum (at t and at tp)
    encoder = dual["encoder"].rhs.xreplace(
        {dual["distortion"]: distortion, dual["distortion"].xreplace({t: tp}): distortion.xreplace({t: tp})}
    )
    if encoder.has(dual["distortion"]):  # pragma: no cover - the derivation changed shape
        raise ValueError("the dualIB encoder no longer contains its distortion literally; update expfam_step_outputs")
    log_encoder = _replace_base(sp.expand_log(sp.log(encoder), force=True), p_t, floored)
    outputs = {
        "p_t": dual["marginal"].rhs,
        "stats_t": stats_t,
        "log_p_y_given_t": log_decoder,
        "log_p_t_given_x": _replace_base(log_encoder, p_t, dual["marginal"]),
    }
    return {k: _rename(_with_encoder(v)) for k, v in outputs.items()}


@functools.cache
def kernel_specs() -> list[KernelSpec]:
    """The ``expfam`` kernel group."""
    return [
        kernel(
            "dual_ib_expfam_step",
            [log_p_t_given_x, p_x, stats, lambdas, log_z_x, beta],
            expfam_step_outputs(),
            doc=(
                "One alternation of the exponential-family dualIB in the log domain, for "
                "p(y|x) = exp(-sum_r lambdas[r, y] stats[x, r]) / Z(x), log_z_x = log Z(x): from the "
                "encoder log p(t|x) compute p(t), the cluster statistics A_r(t) = sum_x p(x|t) A_r(x) "
                "(stats_t, laid out (r, t)), the decoder log p(y|t) = -sum_r lambda_r(y) A_r(t) - log Z(t) "
                "(laid out (y, t)), and the new normalised encoder log p(t|x) = log p(t) - beta d(x, t) "
                "- log Z(x, beta) with the closed-form dual distortion d(x, t) = sum_r lambdabar_r(t) "
                "(A_r(x) - A_r(t)) + log Z(x) - log Z(t). p(t) is floored at 1e-300 in p(x|t) and log p(t)."
            ),
            reference=_REF,
            axes=EXPFAM_AXES,
        )
    ]


__all__ = ["EXPFAM_AXES", "expfam_step_outputs", "kernel_specs", "lambdas", "log_z_x", "r", "stats"]
