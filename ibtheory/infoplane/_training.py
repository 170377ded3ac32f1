"""Training many small fully connected networks in parallel, recording what the information plane needs.

Theory reference 5.3 [SRC:code IDNNs]: 12-10-7-5-4-3-2 network, tanh (or ReLU) hidden units,
softmax output with 2 units, weights truncated normal with std 1/sqrt(fan_in) (truncated at two
standard deviations, as TensorFlow's ``truncated_normal``), zero biases, cross-entropy loss,
Adam lr 4e-4, batch 256; activations recorded at log-spaced epochs. Section 5.5 [SRC:code ibsgd
loggingreporter.py]: per layer and epoch, the minibatch gradients g_b of the weights W_l give
mean_l = ||mean_b g_b||_2 and std_l = ||std_b g_b||_2 (elementwise population std), SNR = mean/std.

All networks of a run are trained at once: each layer is one tensor with a leading network axis
(S, fan_in, fan_out) and the forward pass is ``torch.baddbmm``. The loss is the sum over networks of
each network's mean cross-entropy, so every network gets exactly its own gradient, and Adam (an
elementwise optimiser) then updates each network as if it were trained alone. Every network has
its own initialisation and its own minibatch order.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..numeric import check_positive, check_positive_int

ACTIVATIONS = ("tanh", "relu")

#: Hidden widths of the IDNNs network 12-10-7-5-4-3-2 (theory 5.3, ``net_type '1'``).
IDNNS_HIDDEN = (10, 7, 5, 4, 3)


@dataclass(frozen=True)
class TrainingRun:
    """A batch of networks trained on one split, with recorded activations and gradient statistics.

    Fields (S networks, L = number of weight layers = len(hidden) + 1, N input rows, E epochs,
    R recorded epochs)
    ------
    record_epochs : ndarray (R,), int64, epochs after which activations were recorded
        (0 = at initialisation), log-spaced.
    activations : tuple of L ndarrays (R, S, N, width_l), float32: every hidden layer after its
        nonlinearity and, last, the softmax output probabilities, on all N rows of ``x``.
    train_loss : ndarray (E, S), mean training cross-entropy per epoch (nats), averaged over the
        epoch's minibatches (evaluated during the epoch, as Keras reports it).
    train_accuracy, test_accuracy : ndarray (R, S), accuracy on the train / test rows at the
        recorded epochs (test is NaN when the split has no test rows).
    test_loss : ndarray (R, S), cross-entropy (nats) on the test rows at the recorded epochs.
    grad_mean_norm, grad_std_norm : ndarray (E, S, L), ||mean_b g_b|| and ||std_b g_b|| of the
        weight gradients of each layer over the epoch's minibatches (std = 0 when an epoch has a
        single minibatch: full-batch gradient descent has no gradient noise).
    weight_norm : ndarray (E, S, L), Frobenius norm of each weight matrix at the end of each epoch.
    n_batches_per_epoch : int.
    hidden, activation, learning_rate, batch_size, n_epochs, n_networks, seed : the settings.
    train_index, test_index : ndarray of int64, the rows used for training / testing.
    """

    record_epochs: np.ndarray
    activations: tuple[np.ndarray, ...]
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    test_accuracy: np.ndarray
    test_loss: np.ndarray
    grad_mean_norm: np.ndarray
    grad_std_norm: np.ndarray
    weight_norm: np.ndarray
    n_batches_per_epoch: int
    hidden: tuple[int, ...]
    activation: str
    learning_rate: float
    batch_size: int
    n_epochs: int
    n_networks: int
    seed: int
    train_index: np.ndarray
    test_index: np.ndarray

    @property
    def snr(self) -> np.ndarray:
        """Gradient signal-to-noise ratio mean/std, (E, S, L).

        inf where std is 0 (full-batch training); nan where both are 0 (a dead ReLU layer).
        """
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.grad_mean_norm / self.grad_std_norm


def log_spaced_epochs(n_epochs: int, n_record: int) -> np.ndarray:
    """Epochs 0 and unique(round(logspace(0, log10(n_epochs), n_record))): at most n_record + 1."""
    check_positive_int(n_epochs, "n_epochs")
    check_positive_int(n_record, "n_record")
    e = np.unique(np.round(np.logspace(0.0, math.log10(n_epochs), n_record)).astype(np.int64))
    return np.concatenate([[0], e[(e >= 1) & (e <= n_epochs)]]).astype(np.int64)


def _init_layers(
    sizes: list[int], n_networks: int, generator: torch.Generator
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    layers = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        std = 1.0 / math.sqrt(fan_in)
        w = torch.empty(n_networks, fan_in, fan_out, dtype=torch.float32)
        torch.nn.init.trunc_normal_(w, std=std, a=-2 * std, b=2 * std, generator=generator)
        b = torch.zeros(n_networks, 1, fan_out, dtype=torch.float32)
        layers.append((w.requires_grad_(True), b.requires_grad_(True)))
    return layers


def _forward(
    layers: list[tuple[torch.Tensor, torch.Tensor]], x: torch.Tensor, activation: str
) -> list[torch.Tensor]:
    """Outputs of every layer: hidden activations, then logits. x is (S, B, d)."""
    act = torch.tanh if activation == "tanh" else torch.relu
    outs = []
    h = x
    for i, (w, b) in enumerate(layers):
        h = torch.baddbmm(b, h, w)
        if i < len(layers) - 1:
            h = act(h)
        outs.append(h)
    return outs


def _cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per network, logits (S, B, C), y (S, B) -> (S,)."""
    logp = torch.log_softmax(logits, dim=-1)
    return -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1).mean(dim=-1)


def _check_data(x: Any, y: Any, train_index: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xa = np.asarray(x, dtype=np.float32)
    ya = np.asarray(y)
    if xa.ndim != 2:
        raise ValueError(f"x must be (n_samples, n_inputs), got shape {xa.shape}")
    if not np.all(np.isfinite(xa)):
        raise ValueError("x contains non-finite values")
    if ya.shape != (xa.shape[0],):
        raise ValueError(f"y must have shape ({xa.shape[0]},) to match x, got {ya.shape}")
    if not np.issubdtype(ya.dtype, np.integer) or ya.min() < 0:
        raise ValueError("y must hold non-negative integer class labels")
    idx = np.asarray(train_index, dtype=np.int64)
    if idx.ndim != 1 or idx.size == 0 or idx.min() < 0 or idx.max() >= xa.shape[0]:
        raise ValueError("train_index must be a non-empty 1-D array of row indices of x")
    if np.unique(idx).size != idx.size:
        raise ValueError("train_index contains repeated rows")
    return xa, ya.astype(np.int64), idx


def _check_settings(activation: str, learning_rate: float, hidden: tuple[int, ...], seed: Any) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    check_positive(learning_rate, "learning_rate")
    if not hidden or any(int(h) < 1 for h in hidden):
        raise ValueError(f"hidden must be a non-empty tuple of positive widths, got {hidden!r}")
    if seed is None:
        raise ValueError("pass an explicit integer seed")


class _Recorder:
    """Activations of every layer on all rows, and accuracies / test loss, at the recorded epochs."""

    def __init__(
        self, n_record: int, n_networks: int, widths: list[int], x_all: torch.Tensor, y_all: torch.Tensor,
        train_index: np.ndarray, test_index: np.ndarray, activation: str,
    ) -> None:
        n_rows = x_all.shape[0]
        self.acts = [np.empty((n_record, n_networks, n_rows, w), np.float32) for w in widths]
        self.train_acc = np.empty((n_record, n_networks))
        self.test_acc = np.full((n_record, n_networks), np.nan)
        self.test_loss = np.full((n_record, n_networks), np.nan)
        self._x = x_all.expand(n_networks, -1, -1)
        self._y, self._train, self._test, self._activation = y_all, train_index, test_index, activation

    def snapshot(self, slot: int, layers: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        with torch.no_grad():
            outs = _forward(layers, self._x, self._activation)
            for li, o in enumerate(outs[:-1]):
                self.acts[li][slot] = o.numpy()
            probs = torch.softmax(outs[-1], dim=-1)
            self.acts[-1][slot] = probs.numpy()
            correct = (probs.argmax(dim=-1) == self._y).to(torch.float64)
            self.train_acc[slot] = correct[:, self._train].mean(dim=1).numpy()
            if self._test.size:
                self.test_acc[slot] = correct[:, self._test].mean(dim=1).numpy()
                yt = self._y[self._test].expand(correct.shape[0], -1)
                self.test_loss[slot] = _cross_entropy(outs[-1][:, self._test], yt).numpy()


@dataclass(frozen=True)
class _EpochStats:
    """One epoch of every network: mean loss (S,), gradient mean/std norms and weight norms (S, L)."""

    loss: np.ndarray
    grad_mean: np.ndarray
    grad_std: np.ndarray
    weight_norm: np.ndarray


def _train_epoch(
    layers: list[tuple[torch.Tensor, torch.Tensor]],
    opt: torch.optim.Optimizer,
    x_tr: torch.Tensor,
    y_tr: torch.Tensor,
    perm: torch.Tensor,
    batch_size: int,
    activation: str,
) -> _EpochStats:
    """One pass over the training rows in minibatches (``perm``: (S, n_train) row order per network)."""
    n_networks = perm.shape[0]
    n_batches = math.ceil(perm.shape[1] / batch_size)
    # float64 accumulators: var = E[g^2] - E[g]^2 cancels badly in float32 when std << mean
    g_sum = [torch.zeros_like(w, dtype=torch.float64) for w, _ in layers]
    g_sq = [torch.zeros_like(w, dtype=torch.float64) for w, _ in layers]
    loss_sum = torch.zeros(n_networks, dtype=torch.float64)
    for k in range(n_batches):
        bi = perm[:, k * batch_size : (k + 1) * batch_size]
        opt.zero_grad(set_to_none=True)
        loss = _cross_entropy(_forward(layers, x_tr[bi], activation)[-1], y_tr[bi])
        loss.sum().backward()
        with torch.no_grad():
            for li, (w, _) in enumerate(layers):
                if w.grad is None:  # pragma: no cover - every weight takes part in the loss
                    raise RuntimeError(f"layer {li} received no gradient")
                g = w.grad.to(torch.float64)
                g_sum[li] += g
                g_sq[li] += g * g
            loss_sum += loss.detach().to(torch.float64)
        opt.step()
    return _gradient_statistics(layers, g_sum, g_sq, loss_sum, n_batches)


def _gradient_statistics(
    layers: list[tuple[torch.Tensor, torch.Tensor]],
    g_sum: list[torch.Tensor],
    g_sq: list[torch.Tensor],
    loss_sum: torch.Tensor,
    n_batches: int,
) -> _EpochStats:
    """||mean_b g_b|| and ||std_b g_b|| (population std, 0 for a single batch) of each layer."""
    n_networks, n_layers = loss_sum.shape[0], len(layers)
    g_mean = np.empty((n_networks, n_layers))
    g_std = np.empty((n_networks, n_layers))
    w_norm = np.empty((n_networks, n_layers))
    with torch.no_grad():
        for li, (w, _) in enumerate(layers):
            mean = g_sum[li] / n_batches
            var = torch.clamp(g_sq[li] / n_batches - mean * mean, min=0.0)
            if n_batches == 1:
                var = torch.zeros_like(var)
            g_mean[:, li] = torch.linalg.vector_norm(mean, dim=(1, 2)).numpy()
            g_std[:, li] = torch.linalg.vector_norm(var.sqrt(), dim=(1, 2)).numpy()
            w_norm[:, li] = torch.linalg.vector_norm(w, dim=(1, 2)).numpy()
        loss = (loss_sum / n_batches).numpy()
    return _EpochStats(loss=loss, grad_mean=g_mean, grad_std=g_std, weight_norm=w_norm)


def train_networks(
    x: Any,
    y: Any,
    train_index: Any,
    *,
    n_networks: int,
    n_epochs: int,
    seed: int,
    hidden: tuple[int, ...] = IDNNS_HIDDEN,
    activation: str = "tanh",
    learning_rate: float = 4e-4,
    batch_size: int = 256,
    n_record: int = 50,
    progress: bool = False,
) -> TrainingRun:
    """Train ``n_networks`` networks x -> hidden -> softmax in parallel with Adam (theory 5.3).

    Parameters
    ----------
    x, y:
        Inputs (N, d) and integer labels (N,); activations are recorded on all N rows, training
        uses ``train_index`` and the remaining rows are the test set.
    train_index:
        Rows used for training (e.g. ``twelve_bit_split(4096, train_fraction=0.85, seed=0).train``).
    n_networks:
        Number of independently initialised networks (different inits and minibatch orders).
    n_epochs:
        Number of passes over the training rows.
    seed:
        Seed of the torch generator for initialisation and minibatch order (explicit, required).
    hidden, activation, learning_rate, batch_size:
        Architecture and optimiser (defaults: IDNNs 10-7-5-4-3, tanh, Adam 4e-4, 256).
    n_record:
        Number of log-spaced epochs (plus epoch 0) at which activations are recorded.
    progress:
        Show a tqdm progress bar over epochs.
    """
    xa, ya, idx = _check_data(x, y, train_index)
    _check_settings(activation, learning_rate, hidden, seed)
    n_networks = check_positive_int(n_networks, "n_networks")
    n_epochs = check_positive_int(n_epochs, "n_epochs")
    batch_size = check_positive_int(batch_size, "batch_size")

    # phase 1: networks, optimiser and data as tensors
    n_classes = int(ya.max()) + 1
    sizes = [xa.shape[1], *[int(h) for h in hidden], max(n_classes, 2)]
    gen = torch.Generator().manual_seed(int(seed))
    layers = _init_layers(sizes, n_networks, gen)
    opt = torch.optim.Adam([p for wb in layers for p in wb], lr=learning_rate)
    test_mask = np.ones(xa.shape[0], dtype=bool)
    test_mask[idx] = False
    test_idx = np.flatnonzero(test_mask)
    x_all, y_all = torch.from_numpy(xa), torch.from_numpy(ya)
    x_tr, y_tr = x_all[idx], y_all[idx]

    # phase 2: train, recording at log-spaced epochs and collecting per-epoch statistics
    record = log_spaced_epochs(n_epochs, n_record)
    slot_of = {int(e): i for i, e in enumerate(record)}
    recorder = _Recorder(record.size, n_networks, sizes[1:], x_all, y_all, idx, test_idx, activation)
    epochs: Any = range(1, n_epochs + 1)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc=f"training {activation}", unit="epoch")
    recorder.snapshot(slot_of[0], layers)
    stats = []
    for epoch in epochs:
        perm = torch.argsort(torch.rand(n_networks, idx.size, generator=gen), dim=1)
        stats.append(_train_epoch(layers, opt, x_tr, y_tr, perm, batch_size, activation))
        if epoch in slot_of:
            recorder.snapshot(slot_of[epoch], layers)

    # phase 3: the result
    return TrainingRun(
        record_epochs=record,
        activations=tuple(recorder.acts),
        train_loss=np.stack([st.loss for st in stats]),
        train_accuracy=recorder.train_acc,
        test_accuracy=recorder.test_acc,
        test_loss=recorder.test_loss,
        grad_mean_norm=np.stack([st.grad_mean for st in stats]),
        grad_std_norm=np.stack([st.grad_std for st in stats]),
        weight_norm=np.stack([st.weight_norm for st in stats]),
        n_batches_per_epoch=math.ceil(idx.size / batch_size),
        hidden=tuple(int(h) for h in hidden),
        activation=activation,
        learning_rate=float(learning_rate),
        batch_size=int(batch_size),
        n_epochs=int(n_epochs),
        n_networks=int(n_networks),
        seed=int(seed),
        train_index=idx,
        test_index=test_idx,
    )
