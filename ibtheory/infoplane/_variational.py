"""Variational IB (VIB) and variational dual IB (VdualIB) on the scikit-learn digits data.

Theory reference 3.6 [SRC:code dual_IB/VdualIB]. Per-example loss (single-sample Monte Carlo /
closed-form KL, nats), with the same trade-off parameter ``beta`` for both methods:

    loss = R(x, y) + beta * distortion(x, y)
    R     = D_KL[ e(z|x) || r(z) ]               r = N(0, I) ("standard") or a learned
                                                  class-conditional b(z|y) ("class_conditional",
                                                  CEB-style: then R bounds I(X;Z|Y), theory 3.6)
    VIB     distortion = -log q(y|z)              (cross-entropy with the clean label)
    VdualIB distortion = D_KL[ q(y|z) || p~(y|x) ] (dual distortion, decoder in the FIRST slot)

The VdualIB code writes total = rate + beta_code * H_label + gamma * KL[q || p~] with beta_code = 0
for pure dualIB; here ``label_weight`` plays beta_code's role and ``beta`` gamma's. Encoder
e(z|x) = N(mu(x), diag(scale(x)^2)), scale = softplus(rho(x)) + 1e-3, sampled by
reparameterisation; class-conditional prior scale 1e-2 + softplus (theory 3.6; for one-hot
inputs the code's MLP 10 -> 500 -> 2 z_dim is a per-class table, which is what is learned here);
decoder q(y|z) an MLP with one hidden layer.

Information estimates on the training set (X uniform over its N rows, so the marginal
p(z) = (1/N) sum_j e(z|x_j) is exact):

    i_xz = mean_i mean_s [ log e(z_is|x_i) - log (1/N) sum_j e(z_is|x_j) ],  z_is ~ e(.|x_i)
           (an unbiased Monte-Carlo estimate of I(X;Z), at most ln N; derived here)
    i_zy = H(Y) - E[-log q(y|z)]   (the variational lower bound on I(Z;Y); Alemi et al. 2017)

The Gaussian log-density log e(z|x_j) is the generated kernel ``isotropic_log_density``
(``ibtheory derive ensemble-information``) applied per coordinate: a diagonal Gaussian is a product
of one-dimensional ones, so its log-density is the sum over coordinates of the k = 1 kernel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from .._generated import mixture_torch
from ..estimators import plug_in_entropy_rows
from ..models import digits_arrays
from ..numeric import check_int, check_positive, check_positive_int, check_units, to_units

METHODS = ("vib", "vdualib")
PRIORS = ("standard", "class_conditional")
NOISE_KINDS = ("smoothing", "confusion")


@dataclass(frozen=True)
class DigitsData:
    """The scikit-learn digits (8x8 images, 10 classes), pixels scaled to [0, 1] (x / 16), split at random.

    Fields: x_train (n_train, 64) float32, y_train (n_train,) int64, x_test, y_test, seed.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    seed: int


def _check_seed(seed: Any) -> None:
    check_int(seed, "seed (explicit seeding)", minimum=0)


def load_digits_data(*, seed: int, test_fraction: float = 0.25) -> DigitsData:
    """The digits of :func:`ibtheory.models.digits_arrays` with ``scale="unit"`` (x / 16, the VIB
    code's scaling), float32, split with ``default_rng(seed)``: the first ``test_fraction`` of a
    random permutation is the test set."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    _check_seed(seed)
    x64, y = digits_arrays(scale="unit")
    x = x64.astype(np.float32)
    perm = np.random.default_rng(seed).permutation(y.size)
    n_test = round(test_fraction * y.size)
    te, tr = perm[:n_test], perm[n_test:]
    return DigitsData(x[tr], y[tr], x[te], y[te], int(seed))


def label_noise_model(
    labels: Any,
    n_classes: int,
    *,
    kind: str,
    strength: float = 0.0,
    confusion: Any = None,
) -> np.ndarray:
    """p~(y|x) for each example (N, n_classes), the label-noise model of VdualIB (theory 3.6).

    kind="smoothing": (1 - strength) * onehot + strength / n_classes (the code's option uses 0.02).
    kind="confusion": the row (true class) of a row-stochastic ``confusion`` matrix
    (n_classes, n_classes), e.g. a classifier's normalised confusion matrix.
    Rows are clipped to [1e-7, 1 - 1e-7] (as in the code) and renormalised.
    """
    n_classes = check_positive_int(n_classes, "n_classes")
    raw = np.asarray(labels)
    if raw.dtype.kind not in "iub" and not (
        raw.dtype.kind == "f" and np.all(np.isfinite(raw)) and np.all(raw == np.round(raw))
    ):  # NaN/inf would cast to INT64_MIN and 1.5 to 1 (silently)
        raise ValueError(f"labels must be finite integer class indices, got dtype {raw.dtype} with non-integral values")
    y = raw.astype(np.int64)
    if y.ndim != 1 or y.size == 0 or y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"labels must be a 1-D array of class indices in [0, {n_classes})")
    if kind == "smoothing":
        if not 0.0 <= strength < 1.0:
            raise ValueError(f"strength must lie in [0, 1), got {strength!r}")
        p = np.full((y.size, n_classes), strength / n_classes)
        p[np.arange(y.size), y] += 1.0 - strength
    elif kind == "confusion":
        if confusion is None:
            raise ValueError("kind='confusion' needs a (n_classes, n_classes) confusion matrix")
        c = np.asarray(confusion, dtype=np.float64)
        if c.shape != (n_classes, n_classes) or not np.all(np.isfinite(c)) or np.any(c < 0):
            raise ValueError("confusion must be a finite non-negative (n_classes, n_classes) array")
        if np.any(c.sum(axis=1) <= 0):
            raise ValueError("every row of confusion needs positive mass")
        p = (c / c.sum(axis=1, keepdims=True))[y]
    else:
        raise ValueError(f"kind must be one of {NOISE_KINDS}, got {kind!r}")
    p = np.clip(p, 1e-7, 1.0 - 1e-7)
    return p / p.sum(axis=1, keepdims=True)


class _Model(nn.Module):
    def __init__(self, n_in: int, n_classes: int, z_dim: int, hidden: int, prior: str) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(n_in, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * z_dim),
        )
        self.decoder = nn.Sequential(
            nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, n_classes)
        )
        self.prior = prior
        if prior == "class_conditional":
            self.prior_mu = nn.Parameter(torch.zeros(n_classes, z_dim))
            self.prior_rho = nn.Parameter(torch.zeros(n_classes, z_dim))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, rho = self.encoder(x).chunk(2, dim=-1)
        return mu, nn.functional.softplus(rho) + 1e-3

    def prior_dist(self, y: torch.Tensor, like: torch.Tensor) -> torch.distributions.Normal:
        if self.prior == "standard":
            return torch.distributions.Normal(torch.zeros_like(like), torch.ones_like(like))
        scale = 1e-2 + nn.functional.softplus(self.prior_rho[y])
        return torch.distributions.Normal(self.prior_mu[y], scale)


def _losses(
    model: _Model, x: torch.Tensor, y: torch.Tensor, p_noise: torch.Tensor | None, method: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-example rate, distortion and cross-entropy (nats), one reparameterised z sample."""
    mu, scale = model.encode(x)
    enc = torch.distributions.Normal(mu, scale)
    z = enc.rsample()
    rate = torch.distributions.kl_divergence(enc, model.prior_dist(y, mu)).sum(-1)
    log_q = torch.log_softmax(model.decoder(z), dim=-1)
    ce = -log_q.gather(-1, y[:, None]).squeeze(-1)
    if method == "vib":
        distortion = ce
    else:
        if p_noise is None:
            raise ValueError("the VdualIB distortion needs the label-noise model p~(y|x)")
        q = log_q.exp()
        distortion = (q * (log_q - torch.log(p_noise))).sum(-1)
    return rate, distortion, ce


@dataclass(frozen=True)
class VariationalSweep:
    """A beta sweep of VIB or VdualIB models: one information-plane point per beta.

    Fields (B betas, E epochs)
    ------
    method : ``"vib"`` or ``"vdualib"``; prior : ``"standard"`` or ``"class_conditional"``.
    betas : ndarray (B,), the trade-off parameters (loss = rate + beta * distortion).
    i_xz : ndarray (B,), Monte-Carlo estimate of I(X;Z) on the training set (<= ln N), ``units``.
    rate : ndarray (B,), mean KL[e(z|x) || prior] on the training set (an upper bound on I(X;Z)
        for the standard prior; on I(X;Z|Y) for the class-conditional one), ``units``.
    i_zy, i_zy_test : ndarray (B,), H(Y) - cross-entropy of the decoder on train / test rows
        (variational lower bounds on I(Z;Y)), ``units``.
    train_accuracy, test_accuracy : ndarray (B,).
    loss_history : ndarray (B, E), mean training loss per epoch (nats).
    h_y : float, H(Y) of the training labels, ``units``.
    units : ``"nats"`` or ``"bits"``; seed : int; settings : dict of the other settings.
    """

    method: str
    prior: str
    betas: np.ndarray
    i_xz: np.ndarray
    rate: np.ndarray
    i_zy: np.ndarray
    i_zy_test: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    loss_history: np.ndarray
    h_y: float
    units: str
    seed: int
    settings: dict[str, Any] = field(default_factory=dict)


def _mc_information_xz(model: _Model, x: torch.Tensor, n_z: int, gen: torch.Generator) -> float:
    """I(X;Z) for X uniform over the rows of x (nats), Monte Carlo over z ~ e(z|x) (module docstring)."""
    mu, scale = model.encode(x)
    n = mu.shape[0]
    var = scale * scale
    vals = []
    for _ in range(n_z):
        z = mu + scale * torch.randn(mu.shape, generator=gen, dtype=mu.dtype)
        # log e(z_i | x_j) for all i, j: (N, N), the 1-D kernel summed over coordinates
        sq = (z[:, None, :] - mu[None, :, :]) ** 2
        log_e = mixture_torch.isotropic_log_density(sq, var[None, :, :], 1).sum(-1)
        own = log_e.diagonal()
        marg = torch.logsumexp(log_e, dim=1) - math.log(n)
        vals.append((own - marg).mean())
    return float(torch.stack(vals).mean())


@dataclass(frozen=True)
class _Settings:
    """The validated settings of one :func:`train_variational` sweep (see its docstring)."""

    method: str
    prior: str
    label_weight: float
    z_dim: int
    hidden: int
    n_epochs: int
    batch_size: int
    learning_rate: float
    n_z_samples: int

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {self.prior!r}")
        # normalise in place (frozen): counts to int, rates to float
        for name in ("z_dim", "hidden", "n_epochs", "batch_size", "n_z_samples"):
            object.__setattr__(self, name, check_positive_int(getattr(self, name), name))
        object.__setattr__(self, "learning_rate", check_positive(self.learning_rate, "learning_rate"))
        object.__setattr__(self, "label_weight", check_positive(self.label_weight, "label_weight", allow_zero=True))


@dataclass(frozen=True)
class _Tensors:
    """The training and test rows as tensors, p~(y|x) of the training rows, and H(Y) (nats)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    p_noise: torch.Tensor
    h_y: float


def _as_tensors(data: DigitsData, p_noise: np.ndarray) -> _Tensors:
    return _Tensors(
        x_train=torch.from_numpy(data.x_train),
        y_train=torch.from_numpy(data.y_train),
        x_test=torch.from_numpy(data.x_test),
        y_test=torch.from_numpy(data.y_test),
        p_noise=torch.from_numpy(p_noise.astype(np.float32)),
        h_y=float(plug_in_entropy_rows(data.y_train[None, :])[0]),
    )


def _fit(model: _Model, t: _Tensors, s: _Settings, beta: float, gen: torch.Generator) -> list[float]:
    """Adam on rate + beta * distortion (+ label_weight * CE for VdualIB); mean loss per epoch."""
    n = t.y_train.numel()
    opt = torch.optim.Adam(model.parameters(), lr=s.learning_rate)
    hist = []
    for _ in range(s.n_epochs):
        perm = torch.randperm(n, generator=gen)
        tot = 0.0
        for k in range(0, n, s.batch_size):
            bi = perm[k : k + s.batch_size]
            rate, dist, ce = _losses(model, t.x_train[bi], t.y_train[bi], t.p_noise[bi], s.method)
            loss = rate + float(beta) * dist
            if s.method == "vdualib" and s.label_weight:
                loss = loss + s.label_weight * ce
            loss = loss.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * bi.numel()
        hist.append(tot / n)
    return hist


def _evaluate(model: _Model, t: _Tensors, s: _Settings, gen: torch.Generator) -> dict[str, float]:
    """Information estimates (nats) and accuracies (decoder at the encoder mean) of a trained model."""
    with torch.no_grad():
        rate, _, ce = _losses(model, t.x_train, t.y_train, t.p_noise, s.method)
        mu_te, _ = model.encode(t.x_test)
        mu_tr, _ = model.encode(t.x_train)
        _, _, ce_te = _losses(model, t.x_test, t.y_test, None, "vib")
        return {
            "i_xz": _mc_information_xz(model, t.x_train, s.n_z_samples, gen),
            "rate": float(rate.mean()),
            "i_zy": t.h_y - float(ce.mean()),
            "i_zy_test": t.h_y - float(ce_te.mean()),
            "acc": float((model.decoder(mu_tr).argmax(-1) == t.y_train).float().mean()),
            "acc_te": float((model.decoder(mu_te).argmax(-1) == t.y_test).float().mean()),
        }


def _train_one(t: _Tensors, s: _Settings, beta: float, seed: int) -> tuple[list[float], dict[str, float]]:
    """Build, train and evaluate one model; its randomness depends on ``seed`` only."""
    gen = torch.Generator().manual_seed(seed)
    # nn.Linear init and rsample draw from torch's global generator: fork it, seed it, and
    # restore it afterwards, so the run depends on ``seed`` only and leaves no global trace
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = _Model(t.x_train.shape[1], t.p_noise.shape[1], s.z_dim, s.hidden, s.prior)
        hist = _fit(model, t, s, beta, gen)
        metrics = _evaluate(model, t, s, gen)
    return hist, metrics


def _check_betas(betas: Any) -> np.ndarray:
    b = np.atleast_1d(np.asarray(betas, dtype=np.float64))
    if b.ndim != 1 or b.size == 0 or not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise ValueError("betas must be a non-empty 1-D array of finite positive numbers")
    return b


def train_variational(
    data: DigitsData,
    *,
    method: str,
    betas: Any,
    seed: int,
    prior: str = "standard",
    noise_kind: str = "smoothing",
    noise_strength: float = 0.1,
    confusion: Any = None,
    label_weight: float = 0.0,
    z_dim: int = 8,
    hidden: int = 128,
    n_epochs: int = 40,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    n_z_samples: int = 2,
    units: str = "nats",
    progress: bool = False,
) -> VariationalSweep:
    """Train one VIB or VdualIB model per beta on the digits data; estimate I(X;Z), I(Z;Y).

    ``noise_kind``/``noise_strength``/``confusion`` define p~(y|x) (:func:`label_noise_model`,
    used by VdualIB only); ``label_weight`` adds ``label_weight * cross-entropy`` to the VdualIB
    loss (the code's beta; 0 for pure dualIB). ``z_dim`` (latent dimension), ``hidden`` (width of
    the encoder's two and the decoder's one hidden layer), ``n_epochs``, ``batch_size``,
    ``learning_rate`` (Adam) and ``n_z_samples`` (Monte-Carlo draws per row for I(X;Z)) set the
    model. Each beta's model starts from the same seed.
    """
    settings = _Settings(
        method=method, prior=prior, label_weight=label_weight, z_dim=z_dim, hidden=hidden,
        n_epochs=n_epochs, batch_size=batch_size, learning_rate=learning_rate, n_z_samples=n_z_samples,
    )
    check_units(units)
    _check_seed(seed)
    b = _check_betas(betas)
    n_classes = int(max(data.y_train.max(), data.y_test.max())) + 1
    p_noise = label_noise_model(
        data.y_train, n_classes, kind=noise_kind, strength=noise_strength, confusion=confusion
    )
    tensors = _as_tensors(data, p_noise)

    iterator: Any = b
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(b, desc=method, unit="beta")
    runs = [_train_one(tensors, settings, float(beta), int(seed)) for beta in iterator]
    return _sweep(settings, b, runs, tensors.h_y, units=units, seed=int(seed),
                  noise_kind=noise_kind, noise_strength=noise_strength)


def _sweep(
    s: _Settings,
    betas: np.ndarray,
    runs: list[tuple[list[float], dict[str, float]]],
    h_y: float,
    *,
    units: str,
    seed: int,
    noise_kind: str,
    noise_strength: float,
) -> VariationalSweep:
    """Gather the per-beta metrics into a :class:`VariationalSweep` in ``units``."""

    def column(key: str) -> np.ndarray:
        return np.asarray([metrics[key] for _, metrics in runs], dtype=np.float64)

    def info(key: str) -> np.ndarray:
        return np.asarray(to_units(column(key), units))

    return VariationalSweep(
        method=s.method,
        prior=s.prior,
        betas=betas,
        i_xz=info("i_xz"),
        rate=info("rate"),
        i_zy=info("i_zy"),
        i_zy_test=info("i_zy_test"),
        train_accuracy=column("acc"),
        test_accuracy=column("acc_te"),
        loss_history=np.asarray([hist for hist, _ in runs]),
        h_y=float(to_units(h_y, units)),
        units=units,
        seed=seed,
        settings={
            "noise_kind": noise_kind,
            "noise_strength": float(noise_strength),
            "label_weight": float(s.label_weight),
            "z_dim": s.z_dim,
            "hidden": s.hidden,
            "n_epochs": s.n_epochs,
            "batch_size": s.batch_size,
            "learning_rate": s.learning_rate,
            "n_z_samples": s.n_z_samples,
        },
    )
