"""Information-plane coordinates of every layer of a :class:`TrainingRun` at every recorded epoch.

Batches the estimators of :mod:`ibtheory.estimators` over (recorded epoch, network) per layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..estimators import binning_information, kde_information, label_codes, plug_in_entropy_rows
from ..numeric import to_units
from ._training import TrainingRun


@dataclass(frozen=True)
class InformationPlane:
    """I(X;T_l) and I(T_l;Y) of each layer at each recorded epoch of each network.

    Fields
    ------
    epochs : ndarray (R,), the recorded epochs.
    i_xt, i_ty : ndarray (R, S, L), in ``units`` (for the KDE estimator: the upper bounds, clipped
        as :class:`ibtheory.estimators.KDEInformation` documents).
    i_xt_lower, i_ty_lower : ndarray (R, S, L) or None, KDE lower bounds (None for binning).
    estimator : ``"binning"`` or ``"kde"``.
    settings : dict, the estimator settings used, per layer where they differ
        (``n_bins`` and ``value_ranges`` for binning; ``noise_variance`` for KDE).
    h_y : float, H(Y) of the labels in ``units``.
    units : ``"nats"`` or ``"bits"``.
    activation : the hidden nonlinearity of the run.
    raw : dict[str, ndarray (R, S, L)] or None, for KDE the four bounds before clipping, keys
        ``i_xt, i_ty, i_xt_lower, i_ty_lower`` (the ``*_raw`` fields of ``KDEInformation``);
        None for binning.
    """

    epochs: np.ndarray
    i_xt: np.ndarray
    i_ty: np.ndarray
    i_xt_lower: np.ndarray | None
    i_ty_lower: np.ndarray | None
    estimator: str
    settings: dict[str, Any]
    h_y: float
    units: str
    activation: str
    raw: dict[str, np.ndarray] | None = None


def _check_run(run: Any) -> None:
    if not isinstance(run, TrainingRun):
        raise TypeError(f"run must be a TrainingRun (from ibtheory.infoplane.train_networks), got {type(run).__name__}")


def observed_ranges(run: TrainingRun) -> list[tuple[float, float]]:
    """Per layer, (min, max) of its activations over all recorded epochs and networks.

    tanh layers live in (-1, 1); ReLU layers are unbounded above. One range per layer, shared by
    all epochs and networks, keeps the bin width of a layer fixed over training, as the fixed bin
    width of ibsgd (Saxe et al. 2018; 0.07 for the 12-bit task, theory 5.4) does.
    """
    _check_run(run)
    out = []
    for a in run.activations:
        lo, hi = float(a.min()), float(a.max())
        if hi <= lo:
            hi = lo + 1.0
        out.append((lo, hi))
    return out


def information_plane(
    run: TrainingRun,
    labels: Any,
    *,
    estimator: str,
    n_bins: int | None = None,
    value_range: tuple[float, float] | str | None = None,
    noise_variance: float | None = None,
    units: str = "bits",
) -> InformationPlane:
    """Estimate the information plane of a run (theory 5.4 binning or 5.7 KDE bounds).

    Parameters
    ----------
    run: the trained networks (activations on all rows of ``x``).
    labels: the labels (N,) of those rows.
    estimator: ``"binning"`` (needs ``n_bins`` and ``value_range``) or ``"kde"`` (needs
        ``noise_variance``).
    value_range: ``(low, high)`` for every layer, or ``"observed"``: each layer binned over its
        own observed range (:func:`observed_ranges`; the softmax layer always uses (0, 1)).
    units: ``"bits"`` (default) or ``"nats"``.
    """
    _check_run(run)
    n_layers = len(run.activations)
    if estimator == "binning":
        if n_bins is None or value_range is None:
            raise ValueError(
                "the binning estimator needs n_bins and value_range (no hidden defaults)"
            )
        if isinstance(value_range, str):
            if value_range != "observed":
                raise ValueError(
                    f"value_range must be (low, high) or 'observed', got {value_range!r}"
                )
            ranges = observed_ranges(run)
            ranges[-1] = (0.0, 1.0)
        else:
            ranges = [tuple(value_range)] * n_layers  # type: ignore[list-item]
        i_xt, i_ty, h_y = [], [], 0.0
        for a, rg in zip(run.activations, ranges, strict=True):
            res = binning_information(a, labels, n_bins=n_bins, value_range=rg, units=units)
            i_xt.append(res.i_xt)
            i_ty.append(res.i_ty)
            h_y = res.h_y
        return InformationPlane(
            epochs=run.record_epochs,
            i_xt=np.stack(i_xt, axis=-1),
            i_ty=np.stack(i_ty, axis=-1),
            i_xt_lower=None,
            i_ty_lower=None,
            estimator="binning",
            settings={"n_bins": int(n_bins), "value_ranges": [tuple(r) for r in ranges]},
            h_y=h_y,
            units=units,
            activation=run.activation,
        )
    if estimator == "kde":
        if noise_variance is None:
            raise ValueError("the kde estimator needs noise_variance (no hidden default)")
        kdes = [kde_information(a, labels, noise_variance=noise_variance, units=units) for a in run.activations]

        def stacked(field: str) -> np.ndarray:
            return np.stack([getattr(kde, field) for kde in kdes], axis=-1)

        y_codes, _ = label_codes(np.asarray(labels))
        h_y = float(to_units(plug_in_entropy_rows(y_codes[None, :])[0], units))
        return InformationPlane(
            epochs=run.record_epochs,
            i_xt=stacked("i_xt_upper"),
            i_ty=stacked("i_ty_upper"),
            i_xt_lower=stacked("i_xt_lower"),
            i_ty_lower=stacked("i_ty_lower"),
            estimator="kde",
            settings={"noise_variance": float(noise_variance)},
            h_y=h_y,
            units=units,
            activation=run.activation,
            raw={
                "i_xt": stacked("i_xt_upper_raw"),
                "i_ty": stacked("i_ty_upper_raw"),
                "i_xt_lower": stacked("i_xt_lower_raw"),
                "i_ty_lower": stacked("i_ty_lower_raw"),
            },
        )
    raise ValueError(f"estimator must be 'binning' or 'kde', got {estimator!r}")
