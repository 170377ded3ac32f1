"""The NTK experiments of the report and of notebook 05, one function each (theory.md 4.1, 7).

Inputs lie on the circle, x(a) = sqrt(2) (cos a, sin a), so the input kernel x.x'/d is cos(a - a').
Each function only calls :mod:`ibtheory.ntk` and returns a frozen result; the figure is
:func:`ibtheory.figures.ntk_kernels_and_ensemble_figure`. ``arch`` is a dict of the
architecture arguments shared by every call (``depth``, ``activation``, ``w_std``, ``b_std``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..numeric import check_positive_int


def circle(angles: Any) -> np.ndarray:
    """Points sqrt(2) (cos a, sin a), (n, 2): the input kernel x.x'/d is cos(a - a')."""
    a = np.asarray(angles, dtype=np.float64)
    return np.sqrt(2.0) * np.column_stack([np.cos(a), np.sin(a)])


@dataclass(frozen=True)
class KernelComparison:
    """Analytic NNGP/NTK between angle 0 and angles gamma, and the mean of sampled finite networks.

    Fields: gammas (G,), analytic_ntk / analytic_nngp (G,) [output units²]; sample_gammas (S,),
    ntk_mean / ntk_se / nngp_mean / nngp_se (S,) over ``n_networks`` networks of ``width``;
    exact_ntk (S,), the analytic NTK at sample_gammas; arch, width, n_networks.
    """

    gammas: np.ndarray
    analytic_ntk: np.ndarray
    analytic_nngp: np.ndarray
    sample_gammas: np.ndarray
    ntk_mean: np.ndarray
    ntk_se: np.ndarray
    nngp_mean: np.ndarray
    nngp_se: np.ndarray
    exact_ntk: np.ndarray
    arch: dict[str, Any]
    width: int
    n_networks: int

    @property
    def ntk_z(self) -> np.ndarray:
        """(empirical mean - analytic) NTK in standard errors of the mean, (S,)."""
        return (self.ntk_mean - self.exact_ntk) / self.ntk_se


def compare_kernels(
    arch: Mapping[str, Any], *, n_networks: int, width: int, seed: int, n_angles: int = 200, n_samples: int = 7
) -> KernelComparison:
    """Analytic kernels on ``n_angles`` angles in [0, pi]; empirical kernels of ``n_networks``
    sampled networks (:func:`ibtheory.ntk.empirical_kernels`, ``seed``) on ``n_samples`` angles."""
    from ..ntk import empirical_kernels, fc_kernels

    n_networks = check_positive_int(n_networks, "n_networks")
    gammas = np.linspace(0.0, np.pi, n_angles)
    x_grid = circle(gammas)
    analytic = fc_kernels(x_grid[:1], x_grid, **arch)
    g_emp = np.linspace(0.0, np.pi, n_samples)
    emp = empirical_kernels(circle(g_emp[:1]), circle(g_emp), n_networks=n_networks, width=width, seed=seed, **arch)
    exact = fc_kernels(circle(g_emp[:1]), circle(g_emp), **arch)
    root_n = np.sqrt(n_networks)
    return KernelComparison(
        gammas=gammas,
        analytic_ntk=analytic.ntk[0],
        analytic_nngp=analytic.nngp[0],
        sample_gammas=g_emp,
        ntk_mean=emp.ntk.mean(axis=0)[0],
        ntk_se=emp.ntk.std(axis=0, ddof=1)[0] / root_n,
        nngp_mean=emp.nngp.mean(axis=0)[0],
        nngp_se=emp.nngp.std(axis=0, ddof=1)[0] / root_n,
        exact_ntk=exact.ntk[0],
        arch=dict(arch),
        width=int(width),
        n_networks=n_networks,
    )


@dataclass(frozen=True)
class WidthErrors:
    """One network's empirical NTK error against width.

    Fields: widths (W,); rel_rms (W,), RMS over networks and input pairs of (empirical - analytic)
    divided by the RMS of the analytic NTK [dimensionless]; slope, the fitted log-log slope
    (theory: -1/2, fluctuations O(width^-1/2)).
    """

    widths: np.ndarray
    rel_rms: np.ndarray
    slope: float


def ntk_width_errors(
    arch: Mapping[str, Any], widths: Sequence[int], *, n_networks: int, seed: int, angles: Sequence[float] = (0.0, 1.0, 2.0, 3.0)
) -> WidthErrors:
    """Relative RMS error of one network's empirical NTK on the inputs at ``angles``, per width."""
    from ..ntk import empirical_kernels, fc_kernels

    x = circle(np.asarray(angles))
    theta_exact = fc_kernels(x, **arch).ntk
    scale = np.sqrt(np.mean(theta_exact**2))
    rms = []
    for w in widths:
        e = empirical_kernels(x, n_networks=n_networks, width=w, seed=seed, **arch)
        rms.append(float(np.sqrt(np.mean((e.ntk - theta_exact) ** 2)) / scale))
    w_arr = np.asarray(widths)
    slope = float(np.polyfit(np.log(w_arr), np.log(rms), 1)[0])
    return WidthErrors(widths=w_arr, rel_rms=np.asarray(rms), slope=slope)


@dataclass(frozen=True)
class EnsembleOverTime:
    """The infinite ensemble's output on the circle at several training times.

    Fields: train_angles (n,), x_train (n, 2), train_targets (n,) = sin(2a); angles (M,); times (T,)
    [GD steps]; mean, sd (T, M) [target units]; learning_rate (half the largest stable one);
    train_fit_error, max |mean - y| on the training inputs at t = inf; train_cov_max, max |cov|
    there (both ~0: the ensemble interpolates).
    """

    train_angles: np.ndarray
    x_train: np.ndarray
    train_targets: np.ndarray
    angles: np.ndarray
    times: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    learning_rate: float
    train_fit_error: float
    train_cov_max: float

    @property
    def y_train(self) -> np.ndarray:
        """Training targets as an (n, 1) regression target array."""
        return self.train_targets[:, None]


def ensemble_over_time(
    arch: Mapping[str, Any], times: Sequence[float], *, n_train: int = 8, n_test: int, seed: int
) -> EnsembleOverTime:
    """``n_train`` angles uniform in [0, 2 pi) (``default_rng(seed)``) with targets sin(2a); the
    infinite ensemble (:func:`ibtheory.ntk.ensemble_prediction`) on ``n_test`` angles at ``times``,
    learning rate eta_max / 2 (so finite networks trained with it are stable)."""
    from ..ntk import ensemble_prediction, fc_kernels, max_learning_rate

    rng = np.random.default_rng(seed)
    a_train = np.sort(rng.uniform(0.0, 2 * np.pi, n_train))
    x_train = circle(a_train)
    y_train = np.sin(2 * a_train)[:, None]
    a_test = np.linspace(0.0, 2 * np.pi, n_test)
    lr = 0.5 * max_learning_rate(fc_kernels(x_train, **arch).ntk)
    t = np.asarray(times, dtype=np.float64)
    ens = ensemble_prediction(x_train, y_train, circle(a_test), t, learning_rate=lr, **arch)
    sd = np.sqrt(np.clip(np.diagonal(ens.cov, axis1=1, axis2=2), 0.0, None))
    on_train = ensemble_prediction(x_train, y_train, None, [np.inf], learning_rate=lr, **arch)
    return EnsembleOverTime(
        train_angles=a_train,
        x_train=x_train,
        train_targets=y_train[:, 0],
        angles=a_test,
        times=t,
        mean=ens.mean[:, :, 0],
        sd=sd,
        learning_rate=float(lr),
        train_fit_error=float(np.max(np.abs(on_train.mean[0] - y_train))),
        train_cov_max=float(np.max(np.abs(on_train.cov[0]))),
    )


@dataclass(frozen=True)
class TrainedEnsembleErrors:
    """Finite ensembles trained by gradient descent vs the infinite ensemble at one time.

    Fields: widths (W,); mean_err (W,), RMS over probe inputs of |finite mean - infinite mean|
    [target units]; cov_err (W,), max |cov - infinite cov| / max |infinite cov|; mc_floor, the RMS
    standard error of an ensemble mean of ``n_networks`` networks; probe_angles (P,);
    widest_mean (P,), the finite ensemble mean at the largest width; time; n_networks.
    """

    widths: np.ndarray
    mean_err: np.ndarray
    cov_err: np.ndarray
    mc_floor: float
    probe_angles: np.ndarray
    widest_mean: np.ndarray
    time: float
    n_networks: int


def trained_ensemble_errors(
    ensemble: EnsembleOverTime,
    arch: Mapping[str, Any],
    widths: Sequence[int],
    *,
    n_networks: int,
    time: float,
    seed: int,
    dt: float = 0.5,
    n_probe: int = 6,
) -> TrainedEnsembleErrors:
    """Train ``n_networks`` networks per width (:func:`ibtheory.ntk.finite_ensemble`, step
    ``dt * learning_rate``) on the training set of ``ensemble`` up to ``time`` and compare with the
    infinite ensemble on ``n_probe`` angles in [0.3, 2 pi - 0.3]."""
    from ..ntk import ensemble_prediction, finite_ensemble

    n_networks = check_positive_int(n_networks, "n_networks")
    a_probe = np.linspace(0.3, 2 * np.pi - 0.3, n_probe)
    x_probe = circle(a_probe)
    lr = ensemble.learning_rate
    ref = ensemble_prediction(ensemble.x_train, ensemble.y_train, x_probe, [time], learning_rate=lr, **arch)
    mean_err, cov_err, widest = [], [], np.full(n_probe, np.nan)
    for w in widths:
        fe = finite_ensemble(
            ensemble.x_train, ensemble.y_train, x_probe, [time], n_networks=n_networks, width=w,
            learning_rate=lr, seed=seed, dt=dt, **arch,
        )
        mean_err.append(float(np.sqrt(np.mean((fe.mean[0, :, 0] - ref.mean[0, :, 0]) ** 2))))
        cov_err.append(float(np.max(np.abs(fe.cov[0] - ref.cov[0])) / np.max(np.abs(ref.cov[0]))))
        widest = fe.mean[0, :, 0]
    return TrainedEnsembleErrors(
        widths=np.asarray(widths),
        mean_err=np.asarray(mean_err),
        cov_err=np.asarray(cov_err),
        mc_floor=float(np.sqrt(np.mean(np.diagonal(ref.cov[0]) / n_networks))),
        probe_angles=a_probe,
        widest_mean=widest,
        time=float(time),
        n_networks=n_networks,
    )
