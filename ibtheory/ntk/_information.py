"""Information quantities of infinite ensembles of infinitely wide networks over training.

Shwartz-Ziv & Alemi, "Information in infinite ensembles of infinitely-wide neural networks",
arXiv 1911.09189 (AABI 2019 / PMLR 118, 2020); theory.md 4.2-4.5. The representation is the
ensemble output, Z | x ~ N(mu_t(x), sigma_t^2(x) I_k) with sigma_t^2(x) = Sigma_t(x, x) (the
randomness is the initialisation), and X is uniform over the N evaluation inputs, so p(z) is an
equal-weight mixture of isotropic Gaussians (theory.md 4.2):

- H(Z|X) = (1/N) sum_i (k/2) ln(2 pi e sigma_t^2(x_i)) exactly;
- I(X;Z) between the Kolchinsky-Tracey pairwise bounds (Bhattacharyya below, KL above;
  theory.md 4.3 b), via :func:`ibtheory.estimators.pairwise_terms` (generated kernels);
- I(Z;Y) between the rigorous combinations H_BD(Z) - sum_y p(y) H_KL(Z|y) and
  H_KL(Z) - sum_y p(y) H_BD(Z|y) (derived in theory.md 4.3 b; the lower one clipped at 0, the
  unclipped values kept in the ``*_raw`` fields);
- the InfoNCE lower and leave-one-out upper bounds on I(X;Z) from one draw z_i ~ p(z|x_i) per
  input (van den Oord et al. 2018; Poole et al. 2019; info_ntk metrics.py; theory.md 4.3 a);
- the Gibbs and Bayes log-likelihoods and the KL of the trained output distribution to the
  initial one (info_ntk metrics.py; theory.md 4.3 c).

The experiments of the chapter (information vs training time, vs training-set size, vs w_std, and
which quantities track the test loss) are :func:`ensemble_information` itself,
:func:`information_vs_train_size`, :func:`information_vs_w_std` and :func:`generalisation_signals`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..display import repr_html
from ..numeric import check_finite_array, check_int, check_units, to_units
from ._ensemble import EnsemblePrediction, check_targets, ensemble_prediction

#: An ensemble variance sigma_t^2(x) below this fraction of the prior variance K(x, x) is treated
#: as zero: the channel is then deterministic at x and H(Z|X), I(X;Z) are undefined (-inf / inf).
#: 1e-12 is ~1e4 eps, above the round-off of the cancellation in Sigma_t(x, x).
VARIANCE_RTOL = 1e-12

#: Jitter (times the mean prior variance) added to both covariances of the KL to the prior so their
#: Cholesky factors exist for ill-conditioned kernels of many inputs; KL = 0 at t = 0 stays exact.
KL_JITTER = 1e-10

#: Observation-noise variance of the Gibbs and Bayes likelihoods (unit variance, as in info_ntk).
NOISE_VARIANCE = 1.0

#: The quantities :func:`ensemble_information` returns over ``times`` (issue 6), in this order.
QUANTITIES = (
    "i_xz_lower", "i_xz_upper", "i_zy_lower", "i_zy_upper", "h_z_given_x", "infonce_lower",
    "infonce_upper", "gibbs_loss_train", "gibbs_loss_test", "bayes_loss_train", "bayes_loss_test",
    "kl_to_prior",
)


@dataclass(frozen=True)
class EnsembleInformation:
    """Information quantities of the infinite ensemble at each time (arrays of shape (n_times,)).

    Attributes
    ----------
    times:
        The requested training times (``inf`` allowed), units of :func:`ensemble_prediction`.
    i_xz_lower, i_xz_upper:
        Bhattacharyya and KL pairwise bounds on I(X;Z), clipped into [0, ln N] and ordered (this
        moves only round-off; :meth:`ibtheory.estimators.PairwiseTerms.clipped`).
    i_zy_lower, i_zy_upper:
        Rigorous bounds on I(Z;Y) (theory.md 4.3 b), within [0, H(Y)] (I(Z;Y) <= H(Y) for the
        discrete labels, so capping the pairwise upper bound at H(Y) keeps it a bound) and ordered.
    h_z_given_x:
        H(Z|X) (exact; differential entropy, may be negative).
    infonce_lower, infonce_upper:
        InfoNCE lower bound and leave-one-out upper bound on I(X;Z) from one draw per input (each a
        bound in expectation over the draw; the draw is fixed by ``seed`` and shared by all times).
    gibbs_loss_train, gibbs_loss_test:
        Expected log-likelihood of one ensemble member, E_f ln N(y; f(x), I_k), averaged over the
        points (summed over outputs); info_ntk's "gibbs". Higher is better.
    bayes_loss_train, bayes_loss_test:
        Log-likelihood of the ensemble predictive, ln N(Y; mu_t, Sigma_t + I) per output (jointly
        over the points), summed over outputs and divided by the number of points; info_ntk's
        "bayes". Always >= the Gibbs value (Jensen).
    kl_to_prior:
        KL(N(mu_t, Sigma_t) || N(0, K)) on the evaluation inputs, averaged over outputs
        (info_ntk's ``dkl_output``); 0 at t = 0.
    units:
        ``"nats"`` or ``"bits"`` (every quantity above, the log-likelihoods included).
    n_train, n_eval, n_out:
        Sizes; ``ln n_eval`` bounds I(X;Z).
    i_xz_lower_raw, i_xz_upper_raw, i_zy_lower_raw, i_zy_upper_raw:
        The four bounds above before clipping (in ``units``; not in :data:`QUANTITIES`, so not in
        :meth:`as_columns`): what a check of the bounds against an independent route should use.
    """

    times: np.ndarray
    i_xz_lower: np.ndarray
    i_xz_upper: np.ndarray
    i_zy_lower: np.ndarray
    i_zy_upper: np.ndarray
    h_z_given_x: np.ndarray
    infonce_lower: np.ndarray
    infonce_upper: np.ndarray
    gibbs_loss_train: np.ndarray
    gibbs_loss_test: np.ndarray
    bayes_loss_train: np.ndarray
    bayes_loss_test: np.ndarray
    kl_to_prior: np.ndarray
    units: str
    n_train: int
    n_eval: int
    n_out: int
    i_xz_lower_raw: np.ndarray
    i_xz_upper_raw: np.ndarray
    i_zy_lower_raw: np.ndarray
    i_zy_upper_raw: np.ndarray
    _repr_html_ = repr_html  # a summary table in Jupyter (ibtheory.display)

    def as_columns(self) -> dict[str, np.ndarray]:
        """``{"time": ..., quantity: ...}`` for writing a CSV."""
        return {"time": self.times, **{q: getattr(self, q) for q in QUANTITIES}}


def check_labels(labels: Any, n: int, name: str = "labels_eval") -> np.ndarray:
    """Validate integer class labels: shape (n,), integers >= 0 (floats holding integers are accepted)."""
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"{name} must be a 1-D array of {n} integer classes (one per input), got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must hold integer class labels, got non-integer values")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu" and n > 0:
        raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {int(arr.min())}")
    return arr


def class_targets(y_train: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Regression targets of labelled inputs: the target vector of each class in the training set.

    The class of a training row is its argmax (one-hot or any shifted/scaled one-hot encoding), and
    the code of class c is the mean of the training rows of class c; labels outside those classes
    are refused.
    """
    n_out = y_train.shape[1]
    if n_out < 2:
        raise ValueError(
            "y_train must have one column per class (n_out >= 2, e.g. one-hot) so that the targets of "
            f"labels_eval are defined; got n_out = {n_out}"
        )
    train_classes = np.argmax(y_train, axis=1)
    codes = np.full((n_out, n_out), np.nan)
    for c in np.unique(train_classes):
        codes[c] = y_train[train_classes == c].mean(axis=0)
    bad = [int(c) for c in np.unique(labels) if c >= n_out or np.isnan(codes[c, 0])]
    if bad:
        raise ValueError(
            f"labels_eval contains classes {bad} that no training target encodes (the class of a row "
            f"of y_train is its argmax over {n_out} columns); use labels in the training classes"
        )
    return codes[labels]


def _check_variances(var: np.ndarray, prior: np.ndarray, times: np.ndarray) -> None:
    bad = var <= VARIANCE_RTOL * prior[None, :]
    if np.any(bad):
        ti, i = (int(v) for v in np.argwhere(bad)[0])
        raise ValueError(
            f"the ensemble variance at evaluation input {i} is {var[ti, i]:.3e} (prior {prior[i]:.3e}) at "
            f"time {times[ti]!r}: the channel is deterministic there, so H(Z|X) and I(X;Z) are undefined. "
            "Evaluation inputs that coincide with training inputs have zero variance at t = inf; "
            "evaluate on held-out inputs or at finite times"
        )


def _gibbs(mean: np.ndarray, var: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Mean over points of the summed-over-outputs Gibbs log-likelihood; mean (T, n, k), var (T, n)."""
    from .._generated import mixture_numpy as gen

    ll = gen.gibbs_log_likelihood(targets[None] - mean, var[..., None], NOISE_VARIANCE)
    return ll.sum(axis=2).mean(axis=1)


def _bayes(mean: np.ndarray, cov: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Sum over outputs of ln N(y_c; mu_c, Sigma + nu I), divided by the number of points."""
    from .._generated import mixture_numpy as gen

    n = cov.shape[-1]
    pred = cov + NOISE_VARIANCE * np.eye(n)
    resid = np.moveaxis(targets[None] - mean, 2, 1)[..., None]  # (T, k, n, 1)
    ll = gen.bayes_log_likelihood(pred[:, None], resid, n)  # (T, k)
    return ll.sum(axis=1) / n


def _kl_to_prior(pred: EnsemblePrediction) -> np.ndarray:
    from .._generated import mixture_numpy as gen

    prior = pred.k_test_test
    n = prior.shape[0]
    jitter = KL_JITTER * float(np.mean(np.diag(prior))) * np.eye(n)
    mean = np.moveaxis(pred.mean, 2, 1)[..., None]  # (T, k, n, 1)
    try:
        kl = gen.gaussian_kl_to_prior((pred.cov + jitter)[:, None], prior + jitter, mean, n)  # (T, k)
    except np.linalg.LinAlgError:
        raise ValueError(
            "the ensemble covariance on the evaluation inputs is not positive definite (duplicate or "
            "near-duplicate evaluation inputs, or inputs equal to training inputs at t = inf), so the KL "
            "to the prior is infinite; remove duplicates or evaluate at finite times"
        ) from None
    return kl.mean(axis=1)


def _infonce(mean: np.ndarray, var: np.ndarray, seed: int, chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """InfoNCE lower and leave-one-out upper bounds (nats), one draw z_i ~ N(mu_i, s_i I) per input."""
    from .._generated import mixture_numpy as gen

    _, n, k = mean.shape
    eps = np.random.default_rng(seed).standard_normal((n, k))
    z = mean + np.sqrt(var)[..., None] * eps[None]
    centre = mean.mean(axis=1, keepdims=True)
    mu_c, z_c = mean - centre, z - centre
    # s_ii = ln N(z_i; mu_i, s_i I) with ||z_i - mu_i||^2 = s_i ||eps_i||^2 exactly.
    s_diag = gen.isotropic_log_density(var * np.sum(eps**2, axis=1)[None], var, k)
    lse_all = np.empty_like(var)
    lse_loo = np.empty_like(var)
    for start in range(0, n, chunk):
        rows = slice(start, min(start + chunk, n))
        mask = np.zeros((rows.stop - start, n))
        mask[np.arange(rows.stop - start), np.arange(start, rows.stop)] = -np.inf
        a, b = gen.mixture_score_rows(z_c[:, rows], mu_c, var, k, mask)
        lse_all[:, rows], lse_loo[:, rows] = a, b
    lower = math.log(n) + np.mean(s_diag - lse_all, axis=1)
    upper = math.log(n - 1) + np.mean(s_diag - lse_loo, axis=1)
    return lower, upper


def _output_information(mean: np.ndarray, var: np.ndarray, labels: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Information terms (nats) of Z | x_i ~ N(mean_i, var_i I); mean (T, N, k), var (T, N)."""
    from ..estimators import BLOCK_ELEMENTS, pairwise_terms, plug_in_entropy_rows

    n_times, n_eval = var.shape
    chunk = max(1, BLOCK_ELEMENTS // (n_eval * n_times))
    raw = pairwise_terms(mean, var, chunk)
    terms = raw.clipped()
    # sum_y p(y) I_D(Z|y) for D = BD, KL: from clipped (cond) and unclipped (cond_raw) terms
    cond = {"bd": np.zeros(n_times), "kl": np.zeros(n_times)}
    cond_raw = {"bd": np.zeros(n_times), "kl": np.zeros(n_times)}
    for c in np.unique(labels):
        rows = labels == c
        part_raw = pairwise_terms(mean[:, rows], var[:, rows], chunk)
        part = part_raw.clipped()
        cond["bd"] += rows.mean() * part.i_bd
        cond["kl"] += rows.mean() * part.i_kl
        cond_raw["bd"] += rows.mean() * part_raw.i_bd
        cond_raw["kl"] += rows.mean() * part_raw.i_kl
    # I(Z;Y) = H(Z) - sum_y p(y) H(Z|y); the H(Z|X) parts cancel exactly (h = sum_y p(y) h_y).
    # Public values: 0 <= lower <= upper <= H(Y). I(Z;Y) <= H(Y) for discrete Y, so
    # min(pairwise bound, H(Y)) is a valid, tighter upper bound: the pairwise one is an upper bound
    # on I(X;Z) minus a lower bound on I(X;Z|Y) and can exceed H(Y) (0.634 vs H(Y) = 0.500, truth
    # 0.487 by quadrature, in 68 of 280 random 1-D mixtures). The raw fields keep both uncapped.
    h_y = float(plug_in_entropy_rows(np.asarray(labels)[None, :])[0])
    i_zy_lower = np.clip(terms.i_bd - cond["kl"], 0.0, h_y)
    i_zy_upper = np.maximum(np.minimum(terms.i_kl - cond["bd"], h_y), i_zy_lower)
    nce_lo, nce_hi = _infonce(mean, var, seed, chunk)
    return {
        "i_xz_lower": terms.i_bd,
        "i_xz_upper": terms.i_kl,
        "i_zy_lower": i_zy_lower,
        "i_zy_upper": i_zy_upper,
        "h_z_given_x": terms.h_components,
        "infonce_lower": nce_lo,
        "infonce_upper": nce_hi,
        "i_xz_lower_raw": raw.i_bd,
        "i_xz_upper_raw": raw.i_kl,
        "i_zy_lower_raw": raw.i_bd - cond_raw["kl"],
        "i_zy_upper_raw": raw.i_kl - cond_raw["bd"],
    }


def output_information(
    mean: Any, variances: Any, labels: Any, *, units: str = "nats", seed: int = 0
) -> dict[str, np.ndarray]:
    """The information terms of :class:`EnsembleInformation` for any Gaussian output channel.

    Z | x_i ~ N(mean_i, variances_i I_k) with X uniform over the N inputs, e.g. the sample mean and
    variance of a trained finite-width ensemble (:func:`ibtheory.ntk.finite_ensemble`). ``mean``
    (T, N, k) or (N, k), ``variances`` (T, N) or (N,) > 0, ``labels`` (N,) integers. Returns a dict
    with ``i_xz_lower, i_xz_upper, i_zy_lower, i_zy_upper, h_z_given_x, infonce_lower,
    infonce_upper`` and the unclipped ``i_xz_lower_raw, i_xz_upper_raw, i_zy_lower_raw,
    i_zy_upper_raw`` (see :class:`EnsembleInformation`), each (T,) (or scalar arrays for unbatched
    input), in ``units``.
    """
    from ..estimators import check_mixture

    check_units(units)
    mu, var = check_mixture(mean, variances, names=("mean", "variances"))
    single = mu.ndim == 2
    if single:
        mu, var = mu[None], var[None]
    if mu.ndim != 3:
        raise ValueError(f"mean must have shape (T, N, k) or (N, k), got {np.shape(mean)}")
    if mu.shape[1] < 2:
        raise ValueError("need at least 2 inputs (the leave-one-out bound needs N >= 2)")
    lab = check_labels(labels, mu.shape[1], "labels")
    out = _output_information(mu, var, lab, int(seed))
    return {k: np.asarray(to_units(v[0] if single else v, units)) for k, v in out.items()}


def ensemble_information(
    x_train: Any,
    y_train: Any,
    x_eval: Any,
    labels_eval: Any,
    times: Any,
    *,
    depth: int,
    activation: str,
    w_std: float,
    b_std: float,
    learning_rate: float,
    units: str = "nats",
    seed: int = 0,
) -> EnsembleInformation:
    """Information quantities of the infinite NTK ensemble's output over training time.

    Shwartz-Ziv & Alemi (arXiv 1911.09189; theory.md 4.2-4.3): an infinite ensemble of
    infinitely wide fully connected networks (:func:`ibtheory.ntk.fc_kernels` conventions) trained
    by gradient flow on ||f(X) - Y||^2 / (2 n k) with ``learning_rate``; at each time t its output on
    an input x is N(mu_t(x), sigma_t^2(x) I_k) (:func:`ibtheory.ntk.ensemble_prediction`). With X
    uniform over the evaluation inputs, returns the quantities of :class:`EnsembleInformation`.

    Parameters
    ----------
    x_train, y_train:
        (n_train, d) inputs and (n_train, n_out) regression targets, one column per class (e.g.
        one-hot; n_out >= 2).
    x_eval, labels_eval:
        (N, d) evaluation inputs (held out, N >= 2) and their integer classes in [0, n_out). Their
        regression targets (for the test losses) are the training targets of their classes
        (:func:`class_targets`).
    times:
        Training times (>= 0, ``inf`` allowed).
    depth, activation, w_std, b_std:
        The architecture (``depth`` hidden layers, ``"relu"`` or ``"erf"``).
    learning_rate:
        Gradient-descent learning rate (sets the time scale tau = learning_rate t / (n_train n_out)).
    units:
        ``"nats"`` (default) or ``"bits"``; applies to every returned quantity.
    seed:
        Seed of the one draw per input used by the InfoNCE and leave-one-out bounds.
    """
    check_units(units)
    seed = check_int(seed, "seed")
    xtr = check_finite_array(x_train, "x_train")
    if xtr.ndim != 2:
        raise ValueError(f"x_train must be a 2-D (n_train, d) array, got shape {xtr.shape}")
    y = check_targets(y_train, xtr.shape[0])
    xev = check_finite_array(x_eval, "x_eval")
    if xev.ndim != 2 or xev.shape[1] != xtr.shape[1]:
        raise ValueError(f"x_eval must be a 2-D (N, {xtr.shape[1]}) array like x_train, got shape {xev.shape}")
    n_eval = xev.shape[0]
    if n_eval < 2:
        raise ValueError(f"x_eval must hold at least 2 inputs (the leave-one-out bound needs N >= 2), got {n_eval}")
    labels = check_labels(labels_eval, n_eval)
    targets_eval = class_targets(y, labels)
    common: dict[str, Any] = dict(depth=depth, activation=activation, w_std=w_std, b_std=b_std, learning_rate=learning_rate)
    pred = ensemble_prediction(xtr, y, xev, times, **common)
    pred_train = ensemble_prediction(xtr, y, None, pred.times, **common)
    k = y.shape[1]
    var = np.diagonal(pred.cov, axis1=1, axis2=2).copy()  # (T, N)
    _check_variances(var, np.diag(pred.k_test_test), pred.times)
    mean = pred.mean  # (T, N, k)
    info = _output_information(mean, var, labels, int(seed))
    train_var = np.diagonal(pred_train.cov, axis1=1, axis2=2)
    out = {
        **info,
        "gibbs_loss_train": _gibbs(pred_train.mean, train_var, y),
        "gibbs_loss_test": _gibbs(mean, var, targets_eval),
        "bayes_loss_train": _bayes(pred_train.mean, pred_train.cov, y),
        "bayes_loss_test": _bayes(mean, pred.cov, targets_eval),
        "kl_to_prior": _kl_to_prior(pred),
    }
    return EnsembleInformation(
        times=pred.times,
        **{name: np.asarray(to_units(np.asarray(v, dtype=np.float64), units)) for name, v in out.items()},
        units=units,
        n_train=int(xtr.shape[0]),
        n_eval=int(n_eval),
        n_out=int(k),
    )


def _stratified_order(classes: np.ndarray) -> np.ndarray:
    """Indices visiting the classes round-robin (each class in its original order), so every prefix
    of length >= n_classes holds every class."""
    per_class = [np.flatnonzero(classes == c) for c in np.unique(classes)]
    order: list[int] = []
    for r in range(max(len(p) for p in per_class)):
        order.extend(int(p[r]) for p in per_class if r < len(p))
    return np.asarray(order, dtype=np.int64)


def information_vs_train_size(
    x_train: Any,
    y_train: Any,
    x_eval: Any,
    labels_eval: Any,
    sizes: Any,
    *,
    time: float = np.inf,
    depth: int,
    activation: str,
    w_std: float,
    b_std: float,
    learning_rate: float,
    units: str = "nats",
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Every quantity of :func:`ensemble_information` at one ``time`` against the training-set size.

    The training subsets are nested prefixes of a class-stratified order of ``x_train`` (classes =
    argmax of ``y_train`` visited round-robin), so each size >= n_classes holds every class. Returns
    ``{"n_train": sizes, quantity: (n_sizes,) ...}``.
    """
    xtr = check_finite_array(x_train, "x_train")
    if xtr.ndim != 2:
        raise ValueError(f"x_train must be a 2-D (n_train, d) array, got shape {xtr.shape}")
    y = check_targets(y_train, xtr.shape[0])
    ns = np.atleast_1d(np.asarray(sizes))
    if ns.ndim != 1 or ns.size == 0 or ns.dtype.kind not in "iu" or np.any(ns < 1) or np.any(ns > xtr.shape[0]):
        raise ValueError(f"sizes must be a 1-D array of ints in [1, {xtr.shape[0]}], got {sizes!r}")
    order = _stratified_order(np.argmax(y, axis=1))
    rows: dict[str, list[float]] = {q: [] for q in QUANTITIES}
    for n in ns:
        idx = order[: int(n)]
        info = ensemble_information(
            xtr[idx], y[idx], x_eval, labels_eval, [time], depth=depth, activation=activation, w_std=w_std,
            b_std=b_std, learning_rate=learning_rate, units=units, seed=seed,
        )
        for q in QUANTITIES:
            rows[q].append(float(getattr(info, q)[0]))
    return {"n_train": ns.astype(np.int64), **{q: np.asarray(v) for q, v in rows.items()}}


def information_vs_w_std(
    x_train: Any,
    y_train: Any,
    x_eval: Any,
    labels_eval: Any,
    w_stds: Any,
    times: Any,
    *,
    depth: int,
    activation: str,
    b_std: float,
    learning_rate: float,
    units: str = "nats",
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Every quantity of :func:`ensemble_information` over (w_std, time): ``{"w_std": (n_w,),
    "time": (n_t,), quantity: (n_w, n_t) ...}`` (theory.md 4.4 sweeps W_std over log-spaced values)."""
    ws = np.atleast_1d(np.asarray(w_stds, dtype=np.float64))
    if ws.ndim != 1 or ws.size == 0 or not np.all(np.isfinite(ws)) or np.any(ws <= 0):
        raise ValueError(f"w_stds must be a 1-D array of finite values > 0, got {w_stds!r}")
    infos = [
        ensemble_information(
            x_train, y_train, x_eval, labels_eval, times, depth=depth, activation=activation, w_std=float(w),
            b_std=b_std, learning_rate=learning_rate, units=units, seed=seed,
        )
        for w in ws
    ]
    stacked = {q: np.stack([getattr(info, q) for info in infos]) for q in QUANTITIES}
    return {"w_std": ws, "time": infos[0].times, **stacked}


def _ranks(a: np.ndarray) -> np.ndarray:
    order = np.argsort(a, kind="stable")
    ranks = np.empty(a.size)
    ranks[order] = np.arange(a.size)
    # average ranks over ties
    for v in np.unique(a):
        tie = a == v
        if tie.sum() > 1:
            ranks[tie] = ranks[tie].mean()
    return ranks


def rank_correlation(a: Any, b: Any) -> float:
    """Spearman rank correlation of two equal-length 1-D series (0.0 when either is constant,
    where the correlation is undefined)."""
    x, y = check_finite_array(a, "a", ndim=1), check_finite_array(b, "b", ndim=1)
    if x.size != y.size or x.size < 2:
        raise ValueError(f"need two series of equal length >= 2, got {x.size} and {y.size}")
    rx, ry = _ranks(x) - (x.size - 1) / 2, _ranks(y) - (y.size - 1) / 2
    den = math.sqrt(float(rx @ rx) * float(ry @ ry))
    return 0.0 if den == 0 else float(rx @ ry) / den


@dataclass(frozen=True)
class GeneralisationSignals:
    """Which quantities track generalisation over a sweep (training time, size or w_std).

    ``quantities``: names; ``rho_test_loss``: Spearman correlation of each with the test Gibbs loss
    (negative expected log-likelihood); ``rho_gap``: with the generalisation gap, the test minus the
    train Gibbs loss. Values in [-1, 1]; 0 where a series is constant.
    """

    quantities: tuple[str, ...]
    rho_test_loss: np.ndarray
    rho_gap: np.ndarray


def generalisation_signals(results: EnsembleInformation | dict[str, Any]) -> GeneralisationSignals:
    """Rank correlations of every quantity with the test loss and the generalisation gap.

    ``results`` is an :class:`EnsembleInformation` (a sweep over time) or a dict from
    :func:`information_vs_train_size` (a sweep over size). Losses are the negated Gibbs
    log-likelihoods; the thesis asks which information quantities track them (theory.md 4.4).
    """
    cols = results.as_columns() if isinstance(results, EnsembleInformation) else dict(results)
    missing = [q for q in QUANTITIES if q not in cols]
    if missing:
        raise ValueError(f"results lack the quantities {missing}; pass ensemble_information(...) output")
    test_loss = -np.asarray(cols["gibbs_loss_test"], dtype=np.float64).reshape(-1)
    gap = test_loss + np.asarray(cols["gibbs_loss_train"], dtype=np.float64).reshape(-1)
    names = tuple(q for q in QUANTITIES if q not in ("gibbs_loss_test",))
    rho_t = np.array([rank_correlation(np.asarray(cols[q]).reshape(-1), test_loss) for q in names])
    rho_g = np.array([rank_correlation(np.asarray(cols[q]).reshape(-1), gap) for q in names])
    return GeneralisationSignals(quantities=names, rho_test_loss=rho_t, rho_gap=rho_g)
