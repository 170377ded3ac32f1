"""Small runtime helpers imported by generated Torch kernels (hand-written, kept minimal)."""

from __future__ import annotations

from typing import Any

import torch


def _reference(*values: Any) -> torch.Tensor | None:
    """The first tensor argument: constants and other inputs follow its dtype and device."""
    for v in values:
        if isinstance(v, torch.Tensor) and v.is_floating_point():
            return v
    for v in values:
        if isinstance(v, torch.Tensor):
            return v
    return None


def _as_tensor(value: Any, ref: torch.Tensor | None) -> torch.Tensor:
    """An input as a floating tensor on the reference's device and dtype (float64 by default)."""
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value
    if ref is not None and ref.is_floating_point():
        return torch.as_tensor(value, dtype=ref.dtype, device=ref.device)
    device = ref.device if ref is not None else None
    return torch.as_tensor(value, dtype=torch.float64, device=device)


def _logdet_pd(s: torch.Tensor) -> torch.Tensor:
    """log det of SPD matrices (..., n, n) from Cholesky factors: 2 sum log diag L."""
    chol = torch.linalg.cholesky(s)
    return 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
