"""Small runtime helpers imported by generated Torch kernels (hand-written, kept minimal)."""

from __future__ import annotations

from typing import Any

import torch

from ._contract_plan import plan


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


def _squeeze_to(a: torch.Tensor, axes: tuple[int, ...], n: int) -> torch.Tensor:
    if a.ndim < n:
        a = a.reshape((1,) * (n - a.ndim) + tuple(a.shape))
    return a[(Ellipsis, *(slice(None) if i in axes else 0 for i in range(n)))]


def _unsqueeze(a: torch.Tensor, axes: tuple[int, ...], n: int) -> torch.Tensor:
    return a[(Ellipsis, *(slice(None) if i in axes else None for i in range(n)))]


def _contract(a: torch.Tensor, b: torch.Tensor, mask_a: int, mask_b: int, k: int, n: int) -> torch.Tensor:
    """sum over index axis ``k`` of a * b for aligned operands, as one matmul when possible."""
    p = plan(mask_a, mask_b, k, n)
    sa, sb = _squeeze_to(a, p.axes_a, n), _squeeze_to(b, p.axes_b, n)
    if not p.matmul:
        return torch.sum(_unsqueeze(sa, p.axes_a, n) * _unsqueeze(sb, p.axes_b, n), dim=k - n, keepdim=True)
    na, nb = len(p.axes_a), len(p.axes_b)
    batch_a, batch_b = tuple(sa.shape[: sa.ndim - na]), tuple(sb.shape[: sb.ndim - nb])
    sa = torch.movedim(sa, p.axes_a.index(k) - na, -1)
    sb = torch.movedim(sb, p.axes_b.index(k) - nb, -nb)
    dims_a, dims_b = tuple(sa.shape[len(batch_a) : -1]), tuple(sb.shape[len(batch_b) + 1 :])
    ma = sa.reshape((*batch_a, -1, sa.shape[-1]))
    mb = sb.reshape((*batch_b, sb.shape[len(batch_b)], -1))
    res = torch.matmul(ma, mb)
    res = res.reshape((*res.shape[:-2], *dims_a, *dims_b))
    nr = len(p.out_axes)
    res = res.permute((*range(res.ndim - nr), *(res.ndim - nr + j for j in p.out_perm)))
    return _unsqueeze(res, p.out_axes, n)


def _sum_xlogy(a: torch.Tensor, b: torch.Tensor, mask_a: int, mask_b: int, k: int, n: int) -> torch.Tensor:
    """sum over axis ``k`` of xlogy(a, b), by contraction with log b where b > 0; where a != 0
    meets b == 0 the sum is -inf (a > 0) or +inf (a < 0), exactly as the elementwise form."""
    zero = b == 0
    out = _contract(a, torch.log(torch.where(zero, torch.ones_like(b), b)), mask_a, mask_b, k, n)
    if bool(torch.any(zero)):
        z = zero.to(out.dtype)
        pos = _contract((a > 0).to(out.dtype), z, mask_a, mask_b, k, n) > 0
        neg = _contract((a < 0).to(out.dtype), z, mask_a, mask_b, k, n) > 0
        inf = torch.full_like(out, float("inf"))
        out = torch.where(pos, torch.where(neg, torch.full_like(out, float("nan")), -inf), torch.where(neg, inf, out))
    return out
