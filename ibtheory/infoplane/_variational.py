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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..estimators._binning import plug_in_entropy_rows
from ..numeric import check_units, to_units

METHODS = ("vib", "vdualib")
PRIORS = ("standard", "class_conditional")
NOISE_KINDS = ("smoothing", "confusion")


@dataclass(frozen=True)
class DigitsData:
    """The scikit-learn digits (8x8 images, 10 classes), pixels scaled to [0, 1], split at random.

    Fields: x_train (n_train, 64) float32, y_train (n_train,) int64, x_test, y_test, seed.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    seed: int


def _check_seed(seed: Any) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer (explicit seeding), got {seed!r}")


def load_digits_data(*, seed: int, test_fraction: float = 0.25) -> DigitsData:
    """Load ``sklearn.datasets.load_digits`` (bundled, no download) and split it with ``seed``."""
    from sklearn.datasets import load_digits

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    _check_seed(seed)
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
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
    y = np.asarray(labels, dtype=np.int64)
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
        assert p_noise is not None
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
    """I(X;Z) for X uniform over the rows of x (nats), Monte Carlo over z ~ e(z|x)."""
    mu, scale = model.encode(x)
    n, d = mu.shape
    vals = []
    for _ in range(n_z):
        z = mu + scale * torch.randn(mu.shape, generator=gen, dtype=mu.dtype)
        # log e(z_i | x_j) for all i, j: (N, N)
        diff = (z[:, None, :] - mu[None, :, :]) / scale[None, :, :]
        log_e = (
            -0.5 * (diff**2).sum(-1)
            - torch.log(scale).sum(-1)[None, :]
            - 0.5 * d * math.log(2 * math.pi)
        )
        own = log_e.diagonal()
        marg = torch.logsumexp(log_e, dim=1) - math.log(n)
        vals.append((own - marg).mean())
    return float(torch.stack(vals).mean())


def _train_one(
    x_tr: torch.Tensor,
    y_tr: torch.Tensor,
    x_te: torch.Tensor,
    y_te: torch.Tensor,
    p_noise: torch.Tensor,
    beta: float,
    method: str,
    prior: str,
    label_weight: float,
    z_dim: int,
    hidden: int,
    n_epochs: int,
    batch_size: int,
    learning_rate: float,
    n_z_samples: int,
    h_y: float,
    gen: torch.Generator,
) -> tuple[_Model, list[float], dict[str, float]]:
    n = y_tr.numel()
    n_classes = p_noise.shape[1]
    model = _Model(x_tr.shape[1], n_classes, z_dim, hidden, prior)
    metrics: dict[str, float] = {}
    opt = torch.optim.Adam(model.parameters(), lr=learning_rate)
    hist = []
    for _ in range(n_epochs):
        perm = torch.randperm(n, generator=gen)
        tot = 0.0
        for k in range(0, n, batch_size):
            bi = perm[k : k + batch_size]
            rate, dist, ce = _losses(model, x_tr[bi], y_tr[bi], p_noise[bi], method)
            loss = rate + float(beta) * dist
            if method == "vdualib" and label_weight:
                loss = loss + label_weight * ce
            loss = loss.mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * bi.numel()
        hist.append(tot / n)
    with torch.no_grad():
        rate, _, ce = _losses(model, x_tr, y_tr, p_noise, method)
        mu_te, _ = model.encode(x_te)
        mu_tr, _ = model.encode(x_tr)
        _, _, ce_te = _losses(model, x_te, y_te, None, "vib")
        metrics["i_xz"] = _mc_information_xz(model, x_tr, n_z_samples, gen)
        metrics["rate"] = float(rate.mean())
        metrics["i_zy"] = h_y - float(ce.mean())
        metrics["i_zy_test"] = h_y - float(ce_te.mean())
        metrics["acc"] = float((model.decoder(mu_tr).argmax(-1) == y_tr).float().mean())
        metrics["acc_te"] = float((model.decoder(mu_te).argmax(-1) == y_te).float().mean())
    return model, hist, metrics


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
    loss (the code's beta; 0 for pure dualIB). Each beta's model starts from the same seed.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if prior not in PRIORS:
        raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}")
    check_units(units)
    _check_seed(seed)
    for name, count in (
        ("z_dim", z_dim), ("hidden", hidden), ("n_epochs", n_epochs),
        ("batch_size", batch_size), ("n_z_samples", n_z_samples),
    ):
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"{name} must be a positive integer, got {count!r}")
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
    if not (math.isfinite(label_weight) and label_weight >= 0):
        raise ValueError(f"label_weight must be a finite number >= 0, got {label_weight!r}")
    b = np.atleast_1d(np.asarray(betas, dtype=np.float64))
    if b.ndim != 1 or b.size == 0 or not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise ValueError("betas must be a non-empty 1-D array of finite positive numbers")
    n_classes = int(max(data.y_train.max(), data.y_test.max())) + 1
    p_noise_np = label_noise_model(
        data.y_train, n_classes, kind=noise_kind, strength=noise_strength, confusion=confusion
    )
    x_tr = torch.from_numpy(data.x_train)
    y_tr = torch.from_numpy(data.y_train)
    x_te = torch.from_numpy(data.x_test)
    y_te = torch.from_numpy(data.y_test)
    p_noise = torch.from_numpy(p_noise_np.astype(np.float32))
    h_y = float(plug_in_entropy_rows(data.y_train[None, :])[0])

    out: dict[str, list[Any]] = {
        k: [] for k in ("i_xz", "rate", "i_zy", "i_zy_test", "acc", "acc_te", "hist")
    }
    iterator: Any = b
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(b, desc=method, unit="beta")
    for beta in iterator:
        gen = torch.Generator().manual_seed(int(seed))
        # nn.Linear init and rsample draw from torch's global generator: fork it, seed it, and
        # restore it afterwards, so the run depends on ``seed`` only and leaves no global trace
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            _model, hist, metrics = _train_one(
                x_tr,
                y_tr,
                x_te,
                y_te,
                p_noise,
                float(beta),
                method,
                prior,
                label_weight,
                z_dim,
                hidden,
                n_epochs,
                batch_size,
                learning_rate,
                n_z_samples,
                h_y,
                gen,
            )
        for k, v in metrics.items():
            out[k].append(v)
        out["hist"].append(hist)

    def u(v: Any) -> np.ndarray:
        return np.asarray(to_units(np.asarray(v, dtype=np.float64), units))

    return VariationalSweep(
        method=method,
        prior=prior,
        betas=b,
        i_xz=u(out["i_xz"]),
        rate=u(out["rate"]),
        i_zy=u(out["i_zy"]),
        i_zy_test=u(out["i_zy_test"]),
        train_accuracy=np.asarray(out["acc"]),
        test_accuracy=np.asarray(out["acc_te"]),
        loss_history=np.asarray(out["hist"]),
        h_y=float(to_units(h_y, units)),
        units=units,
        seed=int(seed),
        settings={
            "noise_kind": noise_kind,
            "noise_strength": float(noise_strength),
            "label_weight": float(label_weight),
            "z_dim": z_dim,
            "hidden": hidden,
            "n_epochs": n_epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "n_z_samples": n_z_samples,
        },
    )
