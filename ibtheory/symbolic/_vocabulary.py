"""A vocabulary of information terms for an encoder p(t|x) on a joint p(x, y), to pose Lagrangians.

Each term is an opaque SymPy atom (a :class:`sympy.Symbol` subclass printed as the papers write it),
so terms combine with SymPy arithmetic and with differentiable scalar functions into a Lagrangian:
``I("X;T") - beta*I("T;Y")`` (the IB), ``H("T") - alpha*H("T|X") - beta*I("T;Y")`` (the generalized
IB of Strouse & Schwab 2017), ``I("X;T")**2 - beta*I("T;Y")`` (the squared IB of Kolchinsky, Tracey &
Van Kuyk 2019), ``exp(I("X;T")) - beta*I("T;Y")``. :func:`ibtheory.symbolic.derive` knows each
term's index-level expansion (sums over :class:`sympy.Idx`, as in the built-in derivations) and
differentiates it with respect to the encoder.

Definitions (nats; Cover & Thomas 2006, eqs. 2.1, 2.26, 2.28; Markov chain T - X - Y):

- ``H("T")`` = -sum_t p(t) log p(t), p(t) = sum_x p(x) p(t|x);
- ``H("T|X")`` = -sum_{x,t} p(x) p(t|x) log p(t|x);
- ``I("X;T")`` = sum_{x,t} p(x) p(t|x) log(p(t|x)/p(t));
- ``I("T;Y")`` = sum_{t,y} p(t) p(y|t) log(p(y|t)/p(y)) with the Markov decoder
  p(y|t) = sum_x p(y|x) p(x|t) (theory.md 1.2);
- ``distortion("ib")`` = E_{p(x,t)} D_KL[p(y|x) || p(y|t)] with the Markov decoder (theory.md 1.1);
- ``distortion("dualib")`` = E_{p(x,t)} D_KL[p(y|t) || p(y|x)] with the decoder a free variable that
  minimises it: the normalised geometric mean (theory.md 3.1-3.2, Piran, Shwartz-Ziv & Tishby 2020).

``beta`` and ``alpha`` are the trade-off symbols; any other SymPy symbol in a Lagrangian is a
parameter that :func:`~ibtheory.symbolic.derive` needs a value for (or a declaration as a scalar input).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from ._functionals import conditional_mutual_information, kl_divergence, total
from ._ib import (
    _dual_distortion,
    _i_ty,
    _i_xt,
    _ib_distortion,
    _label_marginal,
    _marginal_of_encoder,
    _markov_joint_of_encoder,
)
from ._symbols import beta, p_t, p_t_given_x, p_x, p_y_given_x, t, x, y

#: The generalized IB's weight of H(T|X) (Strouse & Schwab 2017; theory.md 11.1). Not the Gaussian
#: IB's projection scale nor the mixture's Chernoff order (those are private to their modules).
alpha = sp.Symbol("alpha", positive=True)

__all__ = ["H", "I", "InformationTerm", "alpha", "beta", "distortion", "information_terms"]

_VARIABLES = ("X", "Y", "T")


@dataclass(frozen=True)
class _TermSpec:
    latex: str
    scalar: sp.Symbol  # the kernel argument name of its value (style.md 3: i_xt, h_t, ...)
    named: Callable[[], sp.Expr]  # index level, with p(t), p(y|t) named (for objectives/kernels)
    of_encoder: Callable[[], sp.Expr]  # index level in p(t|x), p(x), p(y|x) only (to differentiate)
    decoder: str  # "markov", "geometric" or "" (which p(y|t) the term uses)
    description: str


class InformationTerm(sp.Symbol):
    """One information term of the vocabulary: an opaque, real SymPy atom printed in the papers' notation.

    Make them with :func:`H`, :func:`I` and :func:`distortion`, never directly. Its index-level
    definition is :meth:`expansion` (p(t), p(y|t) named) and :meth:`of_encoder` (written out in the
    encoder p(t|x)); :attr:`scalar` is the plain symbol that stands for its value in a kernel.
    """

    def __new__(cls, name: str) -> InformationTerm:
        if name not in _SPECS:
            raise ValueError(f"unknown information term {name!r}; the vocabulary has {sorted(_SPECS)}")
        return super().__new__(cls, name, real=True)  # type: ignore[no-any-return]

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict]:
        return ((self.name,), {})

    @property
    def spec(self) -> _TermSpec:
        return _SPECS[self.name]

    @property
    def scalar(self) -> sp.Symbol:
        """The plain symbol standing for the term's value (``i_xt``, ``h_t``, ...)."""
        return self.spec.scalar

    @property
    def decoder(self) -> str:
        """Which decoder p(y|t) the term uses: ``"markov"``, ``"geometric"`` or ``""`` (none)."""
        return self.spec.decoder

    def expansion(self) -> sp.Expr:
        """The index-level definition with p(t) and p(y|t) as named arrays."""
        return self.spec.named()

    def of_encoder(self) -> sp.Expr:
        """The index-level definition with p(t) (and the Markov p(y|t)) written in the encoder."""
        return self.spec.of_encoder()

    def _latex(self, printer: object = None) -> str:
        return self.spec.latex

    @classmethod
    def class_key(cls) -> tuple[int, int, str]:
        # sort after plain symbols, so products print as the papers write them: beta I(T;Y)
        return 2, 0, "Term"


# ----------------------------------------------------------------------------- index-level forms
def _h_t_named() -> sp.Expr:
    return -total(p_t[t] * sp.log(p_t[t]), t)


def _h_t_of_q() -> sp.Expr:
    pt = _marginal_of_encoder(t)
    return -total(pt * sp.log(pt), t)


def _h_t_given_x() -> sp.Expr:
    return -total(p_x[x] * p_t_given_x[x, t] * sp.log(p_t_given_x[x, t]), x, t)


def _i_xt_of_q() -> sp.Expr:
    return conditional_mutual_information(p_x[x], p_t_given_x[x, t], _marginal_of_encoder(t), x, t)


def _i_ty_of_q() -> sp.Expr:
    pt = _marginal_of_encoder(t)
    pyt = _markov_joint_of_encoder(y, t) / pt
    return total(pt * pyt * sp.log(pyt / _label_marginal(y)), y, t)


def _expected(distortion: sp.Expr) -> sp.Expr:
    return total(p_x[x] * p_t_given_x[x, t] * distortion, x, t)


def _ib_distortion_of_q() -> sp.Expr:
    pyt = _markov_joint_of_encoder(y, t) / _marginal_of_encoder(t)
    return _expected(kl_divergence(p_y_given_x[x, y], pyt, y))


_SPECS: dict[str, _TermSpec] = {
    "H(T)": _TermSpec("H(T)", sp.Symbol("h_t", real=True), _h_t_named, _h_t_of_q, "", "the entropy of the representation"),
    "H(T|X)": _TermSpec(
        "H(T|X)", sp.Symbol("h_t_given_x", real=True), _h_t_given_x, _h_t_given_x, "", "the encoder's conditional entropy"
    ),
    "I(X;T)": _TermSpec("I(X;T)", sp.Symbol("i_xt", real=True), _i_xt, _i_xt_of_q, "", "the compression term"),
    "I(T;Y)": _TermSpec(
        "I(T;Y)", sp.Symbol("i_ty", real=True), _i_ty, _i_ty_of_q, "markov", "the relevant information (Markov decoder)"
    ),
    "E[D_KL(p(y|x)||p(y|t))]": _TermSpec(
        r"\mathbb{E}_{p(x,t)} D_{KL}[p(y|x) \| p(y|t)]",
        sp.Symbol("d_ib", real=True),
        lambda: _expected(_ib_distortion(x, t)),
        _ib_distortion_of_q,
        "markov",
        "the IB distortion (Markov decoder)",
    ),
    "E[D_KL(p(y|t)||p(y|x))]": _TermSpec(
        r"\mathbb{E}_{p(x,t)} D_{KL}[p(y|t) \| p(y|x)]",
        sp.Symbol("d_dual_ib", real=True),
        lambda: _expected(_dual_distortion(x, t)),
        lambda: _expected(_dual_distortion(x, t)),  # the decoder is free (minimised), not of the encoder
        "geometric",
        "the dualIB distortion (decoder minimised: geometric mean)",
    ),
}


# ----------------------------------------------------------------------------- constructors
_ALLOWED = 'H("T"), H("T|X"), I("X;T"), I("T;Y"), distortion("ib"), distortion("dualib")'


def _variables(spec: str, seps: str) -> list[str]:
    parts = [p.strip().upper() for p in re.split(f"[{re.escape(seps)}]", spec)]
    for p in parts:
        if p not in _VARIABLES:
            raise ValueError(
                f"unknown variable {p!r} in {spec!r}: the vocabulary's variables are X (input), Y (label) "
                f"and T (representation); allowed terms: {_ALLOWED}"
            )
    return parts


def _not_encoder(text: str) -> ValueError:
    return ValueError(
        f"{text} does not depend on the encoder p(t|x) (it is fixed by the joint p(x,y)): it does not change "
        f"the stationarity; drop it. Allowed terms: {_ALLOWED}"
    )


def H(spec: str) -> InformationTerm:
    """The entropy term ``H("T")`` or the conditional entropy ``H("T|X")`` (nats)."""
    if spec.count("|") > 1:
        raise ValueError(f"H({spec!r}): at most one '|'; allowed terms: {_ALLOWED}")
    parts = _variables(spec, "|")
    if "T" not in parts:
        raise _not_encoder(f"H({spec!r})")
    key = "H(" + "|".join(parts) + ")"
    if key not in _SPECS:
        raise ValueError(f"H({spec!r}) is not in the vocabulary; allowed terms: {_ALLOWED}")
    return InformationTerm(key)


def I(spec: str) -> InformationTerm:  # noqa: E743 - the papers' name
    """The mutual information ``I("X;T")`` or ``I("T;Y")`` (either order; nats, Markov decoder)."""
    parts = _variables(spec, ";")
    if len(parts) != 2 or parts[0] == parts[1]:
        raise ValueError(f"I({spec!r}) needs two distinct variables 'A;B'; allowed terms: {_ALLOWED}")
    if "T" not in parts:
        raise _not_encoder(f"I({spec!r})")
    key = {"X": "I(X;T)", "Y": "I(T;Y)"}[next(p for p in parts if p != "T")]
    return InformationTerm(key)


def distortion(kind: str) -> InformationTerm:
    """The expected distortion ``E_{p(x,t)} d(x,t)`` of the IB (``"ib"``) or the dualIB (``"dualib"``).

    ``"ib"``: d = D_KL[p(y|x) || p(y|t)] with the Markov decoder (theory.md 1.1);
    ``"dualib"``: d = D_KL[p(y|t) || p(y|x)] with the decoder that minimises it (theory.md 3.1-3.2).
    """
    keys = {"ib": "E[D_KL(p(y|x)||p(y|t))]", "dualib": "E[D_KL(p(y|t)||p(y|x))]"}
    if kind not in keys:
        raise ValueError(f"unknown distortion {kind!r}; allowed: 'ib' (D_KL[p(y|x)||p(y|t)]), 'dualib' (D_KL[p(y|t)||p(y|x)])")
    return InformationTerm(keys[kind])


def information_terms() -> dict[str, InformationTerm]:
    """Every term of the vocabulary by its name."""
    return {k: InformationTerm(k) for k in _SPECS}
