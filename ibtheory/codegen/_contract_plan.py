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
