"""Planning of axis contractions shared by the NumPy and Torch runtimes.

A contraction ``Contract(a, b, k)`` is ``sum_k a * b`` over aligned operands (trailing index axes,
size 1 where absent). When the operands share only the contracted axis it is a (batched) matrix
product; the plan says how to squeeze, permute and reshape each operand so that one ``matmul``
does it, and how to put the result back into the aligned layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Plan:
    n: int
    axes_a: tuple[int, ...]
    axes_b: tuple[int, ...]
    k: int
    matmul: bool  # otherwise: elementwise product and sum over k
    rest_a: tuple[int, ...]
    rest_b: tuple[int, ...]
    out_axes: tuple[int, ...]  # sorted output axes
    out_perm: tuple[int, ...]  # permutation from rest_a + rest_b order to sorted order


def _mask_axes(mask: int, n: int) -> tuple[int, ...]:
    return tuple(i for i in range(n) if mask >> i & 1)


@cache
def plan(mask_a: int, mask_b: int, k: int, n: int) -> Plan:
    axes_a, axes_b = _mask_axes(mask_a, n), _mask_axes(mask_b, n)
    shared = set(axes_a) & set(axes_b)
    rest_a = tuple(i for i in axes_a if i != k)
    rest_b = tuple(i for i in axes_b if i != k)
    out_axes = tuple(sorted(set(rest_a) | set(rest_b)))
    order = rest_a + rest_b
    perm = tuple(order.index(ax) for ax in out_axes) if shared == {k} else ()
    return Plan(n, axes_a, axes_b, k, shared == {k}, rest_a, rest_b, out_axes, perm)


@cache
def matrix_views(mask_a: int, mask_b: int, k: int, n: int) -> tuple | None:
    """Static indexing for a contraction that is a matmul with at most one free axis per operand
    (the IB kernels' case): index tuples that view ``a`` as (..., R_a, K) and ``b`` as (..., K, R_b)
    with size-1 axes dropped or inserted (no copies), whether each needs its last two axes swapped,
    and the indexing that puts the (..., R_a, R_b) product back into the aligned layout.
    None when the general path (reshapes) is needed."""
    p = plan(mask_a, mask_b, k, n)
    if not p.matmul or len(p.rest_a) > 1 or len(p.rest_b) > 1:
        return None
    keep_a, keep_b = set(p.rest_a) | {k}, set(p.rest_b) | {k}
    idx_a: list = [slice(None) if i in keep_a else 0 for i in range(n)]
    idx_b: list = [slice(None) if i in keep_b else 0 for i in range(n)]
    if not p.rest_a:
        idx_a.insert(k, None)  # (..., 1, K)
    if not p.rest_b:
        idx_b.insert(k + 1, None)  # (..., K, 1)
    swap_a = bool(p.rest_a) and p.rest_a[0] > k
    swap_b = bool(p.rest_b) and p.rest_b[0] < k
    res_idx = (Ellipsis, slice(None) if p.rest_a else 0, slice(None) if p.rest_b else 0)
    swap_out = bool(p.rest_a) and bool(p.rest_b) and p.rest_a[0] > p.rest_b[0]
    out_idx = (Ellipsis, *(slice(None) if i in p.out_axes else None for i in range(n)))
    return (Ellipsis, *idx_a), swap_a, (Ellipsis, *idx_b), swap_b, res_idx, swap_out, out_idx
