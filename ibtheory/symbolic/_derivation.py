"""The :class:`Derivation` record: what every symbolic result of the project is returned as."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from ._printing import display, latex


class DerivationError(ArithmeticError):
    """A symbolic check made while building a derivation failed: the derivation is wrong.

    Raised instead of ``assert`` so that ``python -O`` cannot skip the checks; an
    ``ArithmeticError`` so that callers catching that keep working.
    """


def require(condition: object, message: str) -> None:
    """Raise :class:`DerivationError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise DerivationError(message)


@dataclass(frozen=True)
class Step:
    """One named step of a derivation.

    ``name`` is the key code and tests look the step up by (``derivation.step("stationarity")``);
    ``title`` is the heading a person reads ("Stationarity"; by default the name with its first
    letter capitalised, a slug's hyphens and underscores as spaces). ``expr`` is the step's SymPy object (an ``Eq``, an expression, or a
    tuple/list of them), which code and tests use. ``display``, when given, is what a person reads
    instead: the same maths as relations with named left-hand sides (``Eq(Named("I(X;T)"), ...)``,
    a :class:`~ibtheory.symbolic.Chain` ``dL/dp = ... = 0``, named quantities such as
    ``Z(x,\\beta)``); without it ``expr`` is displayed. ``text`` says in words what the step does
    (Markdown, may contain inline ``$...$`` maths).
    """

    name: str
    text: str
    expr: object
    title: str = ""
    display: object = None

    def __post_init__(self) -> None:
        if not self.title:
            # a slug ("critical-beta", "relu_edot") becomes words; a name with spaces is kept
            words = self.name if " " in self.name else self.name.replace("-", " ").replace("_", " ")
            object.__setattr__(self, "title", words[:1].upper() + words[1:])

    def displays(self) -> list[str]:
        """The LaTeX of each displayed equation of the step (see :func:`ibtheory.symbolic.display`)."""
        shown = self.expr if self.display is None else self.display
        return [display(e) for e in _as_list(shown)]

    def _repr_markdown_(self) -> str:  # JupyterLab: derivation.step("stationarity") shows itself
        return "\n\n".join([f"**{self.title}.** {self.text}", *(f"$$\n{d}\n$$" for d in self.displays())])


@dataclass(frozen=True)
class Derivation:
    """An ordered, rendered, machine-checkable derivation.

    Attributes
    ----------
    name:
        Short identifier (``"ib"``, ``"dualib"``, ...); also the ``ibtheory derive`` name.
    title:
        Human-readable title.
    reference:
        The paper (and section or equation) the result reproduces; derived results say so.
    assumptions:
        Assumptions in words (supports, positivity, normalisation, ...).
    inputs:
        Mapping from the name of each input symbol to a description with its axes, e.g.
        ``{"p_y_given_x": "p(y|x) over (x, y)"}``.
    steps:
        The ordered steps (Lagrangian, derivative, stationarity, solved updates, ...).
    results:
        The final results as SymPy objects, by name (``"encoder"``, ``"decoder"``, ...). These are
        what code generation consumes.
    """

    name: str
    title: str
    reference: str
    assumptions: tuple[str, ...]
    inputs: Mapping[str, str]
    steps: tuple[Step, ...]
    results: Mapping[str, object] = field(default_factory=dict)

    def step(self, name: str) -> Step:
        """Return the step called ``name``; ``KeyError`` lists the known names."""
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(
            f"no step {name!r} in derivation {self.name!r}; steps: {[s.name for s in self.steps]}"
        )

    def to_latex(self) -> str:
        """All steps as a LaTeX ``align*``-free document body (one display per step)."""
        parts = [f"% {self.title}", f"% Reference: {self.reference}"]
        for s in self.steps:
            parts.append(f"% {s.title}: {s.text}")
            parts.extend("\\[\n" + d + "\n\\]" for d in s.displays())
        return "\n".join(parts) + "\n"

    def to_markdown(self) -> str:
        """A Markdown document with MathJax displays, one section per step."""
        lines = [f"# {self.title}", "", f"**Reference.** {self.reference}", ""]
        lines.append("**Assumptions.**")
        lines.append("")
        lines.extend(f"- {a}" for a in self.assumptions)
        lines.append("")
        lines.append("**Inputs.**")
        lines.append("")
        lines.extend(f"- `{k}`: {v}" for k, v in self.inputs.items())
        lines.append("")
        for i, s in enumerate(self.steps, 1):
            lines.append(f"## {i}. {s.title}")
            lines.append("")
            lines.append(s.text)
            lines.append("")
            for d in s.displays():
                lines.append("$$")
                lines.append(d)
                lines.append("$$")
                lines.append("")
        lines.append(
            f"*Generated by `ibtheory derive {self.name}` with SymPy {sp.__version__}; do not edit.*"
        )
        return "\n".join(lines) + "\n"

    def _repr_markdown_(self) -> str:  # JupyterLab display
        return self.to_markdown()


def _as_list(expr: object) -> list[object]:
    if isinstance(expr, list | tuple):
        return list(expr)
    return [expr]


__all__ = ["Derivation", "DerivationError", "Step", "latex", "require"]
