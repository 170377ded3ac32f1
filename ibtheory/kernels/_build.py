"""``ibtheory codegen``: the registry of :mod:`._registry` handed to :func:`ibtheory.codegen.build`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .. import codegen
from ..codegen import KernelSpec, ModuleStatus
from ._registry import KERNEL_GROUPS


def group_specs(group: str) -> list[KernelSpec]:
    """The kernel specs of a registered group (runs its symbolic derivations)."""
    try:
        specs_fn = KERNEL_GROUPS[group]
    except KeyError:
        raise ValueError(f"unknown kernel group {group!r}; known: {sorted(KERNEL_GROUPS)}") from None
    return list(specs_fn())


def render_group(group: str) -> dict[Path, str]:
    """The text of every committed file of ``group``, keyed by its path."""
    group_specs(group)  # a clear error for an unknown group
    return codegen.render_group(group, KERNEL_GROUPS[group])


def build(groups: Sequence[str] | None = None, *, check: bool = False) -> list[ModuleStatus]:
    """Regenerate (or with ``check=True`` only compare) the committed modules of ``groups`` (all by default)."""
    return codegen.build(KERNEL_GROUPS, groups, check=check)
