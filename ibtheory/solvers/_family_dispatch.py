"""``ib_curve(..., method="gib" | "dib", alpha=...)``: the dispatch from ib_curve to the IB family.

:func:`check_alpha_for` rejects ``alpha`` where it has no meaning (every method but ``"gib"``), and
:func:`family_curve` routes ``method="gib"`` to :func:`ibtheory.solvers.gib_curve` and ``"dib"`` to
:func:`ibtheory.solvers.dib_curve` with the options they share with ib_curve.
"""

from __future__ import annotations

from typing import Any

from ._dib import dib_curve
from ._family import IBFamilyCurve
from ._gib import TRANSITION_RTOL, gib_curve

#: The methods of ib_curve served here.
FAMILY_METHODS = ("gib", "dib")


def check_alpha_for(method: str, alpha: Any) -> None:
    """``alpha`` is the generalized IB's weight of H(T|X): only ``method="gib"`` takes it."""
    if alpha is not None and method != "gib":
        raise ValueError(
            f"alpha={alpha!r} applies to method='gib' only (the generalized IB); method={method!r} takes no alpha "
            "(alpha = 1 is method='ib', alpha -> 0 is method='dib')"
        )


def family_curve(p_xy: Any, betas: Any, *, method: str, alpha: Any = None, units: str = "nats",
                 normalize: bool = False, n_clusters: int | None = None, seed: Any = 0, backend: str = "numpy",
                 device: Any = None, locate_transitions: bool = True,
                 transition_rtol: float = TRANSITION_RTOL) -> IBFamilyCurve:
    """The ``"gib"`` or ``"dib"`` curve with ib_curve's shared options (``backend``/``device`` and
    ``transition_rtol`` apply to ``"gib"``; the DIB's transitions are exact)."""
    check_alpha_for(method, alpha)
    if method == "gib":
        return gib_curve(p_xy, betas, alpha=alpha, units=units, normalize=normalize, n_clusters=n_clusters, seed=seed,
                         backend=backend, device=device, locate_transitions=locate_transitions,
                         transition_rtol=transition_rtol)
    if method == "dib":
        return dib_curve(p_xy, betas, units=units, normalize=normalize, n_clusters=n_clusters, seed=seed,
                         locate_transitions=locate_transitions)
    raise ValueError(f"method must be one of {FAMILY_METHODS} here, got {method!r}")
