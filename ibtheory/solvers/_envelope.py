"""Every encoder is a line in beta: the lower envelope of the lines found certifies and repairs a curve.

At a fixed encoder q the objective is affine in beta (generated ``ib_point`` / ``dual_ib_point``):

    F_q(beta) = a_q + beta s_q,   IB: a_q = I(X;T)_q, s_q = -I(T;Y)_q;   dualIB: s_q = E KL[p(y|t) || p(y|x)].

The optimal objective L*(beta) = min_q F_q(beta) is the lower envelope of all these lines, hence
concave [DERIVED from the definition: a minimum of affine functions]. Two consequences used by
:func:`ibtheory.solvers.ib_curve`:

- a curve point above another encoder's line at its beta is provably not optimal, and starting the
  alternation from that encoder lowers it at least to that line (the alternation never raises the
  objective, theory.md 1.3), so the point is re-seeded from it;
- where the point lies on the lower envelope of every line found, no encoder found so far does
  better: the certificate reported per beta (relative to the lines found, not a global proof).

The crossings of the lower envelope where the argmin line changes its cluster count are the
candidate global transitions, at no solve at all (:func:`envelope_crossings`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A point counts as on the lower envelope when no line found is below it by more than this, relative
#: to max(1, |objective|): above the float64 rounding of an objective summed over ~1e4 terms (~1e-13),
#: far below the 1e-8 nats at which the curve is compared with peers and earlier versions.
ENVELOPE_RTOL = 1e-11


class Lines:
    """A pool of encoders as lines a + beta s, appended as they are found."""

    def __init__(self) -> None:
        self.a: list[float] = []
        self.s: list[float] = []
        self.encoders: list[np.ndarray] = []

    def add(self, encoder: np.ndarray, a: float, s: float) -> int:
        self.a.append(float(a))
        self.s.append(float(s))
        self.encoders.append(encoder)
        return len(self.a) - 1

    def values(self, betas: np.ndarray) -> np.ndarray:
        """(B, N) objective of every line at every beta."""
        return np.asarray(self.a)[None, :] + np.asarray(betas, dtype=np.float64)[:, None] * np.asarray(self.s)[None, :]

    def lowest(self, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index, value) of the lowest line at each beta."""
        v = self.values(betas)
        idx = np.argmin(v, axis=1)
        return idx, v[np.arange(v.shape[0]), idx]

    def __len__(self) -> int:
        return len(self.a)


def below_envelope(objective: np.ndarray, lowest: np.ndarray) -> np.ndarray:
    """Where a point is above the lowest line by more than ENVELOPE_RTOL (relative): not optimal."""
    return objective - lowest > ENVELOPE_RTOL * np.maximum(1.0, np.abs(objective))


def envelope_crossings(a: np.ndarray, s: np.ndarray, counts: np.ndarray, betas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate transitions from the curve's own lines: where the cluster count changes between grid
    neighbours i, i+1, the beta at which their lines cross, (a_{i+1} - a_i) / (s_i - s_{i+1}),
    clipped to [beta_i, beta_{i+1}] (the two solutions are each optimal at their own beta, so the
    crossing of their lines lies between them unless the encoders move with beta).

    Returns the crossings (M,) and the counts below / above each (M, 2).
    """
    out, kk = [], []
    for i in np.flatnonzero(counts[1:] != counts[:-1]):
        lo, hi = float(betas[i]), float(betas[i + 1])
        ds = s[i] - s[i + 1]
        cross = (a[i + 1] - a[i]) / ds if ds != 0 else 0.5 * (lo + hi)
        out.append(min(max(cross, lo), hi))
        kk.append((int(counts[i]), int(counts[i + 1])))
    return np.array(out, dtype=np.float64), np.array(kk, dtype=np.int64).reshape(-1, 2)


@dataclass(frozen=True)
class Optimality:
    """How each point of an :class:`~ibtheory.solvers.IBCurve` was certified (module docstring).

    Fields
    ------
    envelope_gap: (B,) objective minus the lowest line of every encoder found at that beta, in the
        curve's units (0 on the envelope; never above ENVELOPE_RTOL relative once repaired).
    on_envelope: (B,) bool, envelope_gap <= ENVELOPE_RTOL * max(1, |objective|).
    repaired: (B,) bool, the point was above another solution's line and was re-seeded from it.
    agreeing_starts: (B,) int, how many of the independent starts (forward sweep, reverse sweep,
        re-seeds from other lines) reached this objective within ``agree_rtol`` (relative).
    n_lines: number of encoders (lines) compared.
    agree_rtol: the relative tolerance of ``agreeing_starts``.
    """

    envelope_gap: np.ndarray
    on_envelope: np.ndarray
    repaired: np.ndarray
    agreeing_starts: np.ndarray
    n_lines: int
    agree_rtol: float
