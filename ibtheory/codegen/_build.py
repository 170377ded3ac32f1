"""Writing and checking the committed kernel modules under ``ibtheory/_generated/``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

from ._emit import KernelSpec, render_module
from ._registry import KERNEL_GROUPS

GENERATED_DIR = Path(__file__).resolve().parent.parent / "_generated"
COMMITTED_BACKENDS = ("numpy", "torch")


def group_specs(group: str) -> list[KernelSpec]:
    """The kernel specs of a registered group (runs its symbolic derivations)."""
    try:
        target = KERNEL_GROUPS[group]
    except KeyError:
        raise ValueError(f"unknown kernel group {group!r}; known: {sorted(KERNEL_GROUPS)}") from None
    module, func = target.split(":")
    return list(getattr(importlib.import_module(module), func)())


@dataclass(frozen=True)
class ModuleStatus:
    path: Path
    fresh: bool


def render_group(group: str) -> dict[Path, str]:
    """The text of every generated file of ``group``, keyed by its path."""
    specs = group_specs(group)
    target = KERNEL_GROUPS[group]
    return {
        GENERATED_DIR / f"{group}_{backend}.py": render_module(
            specs, backend, source=target, title=f"Kernels of group {group!r}"
        )
        for backend in COMMITTED_BACKENDS
    }


def build(groups: list[str] | None = None, *, check: bool = False) -> list[ModuleStatus]:
    """Regenerate (or with ``check=True`` only compare) the generated modules of ``groups``."""
    statuses: list[ModuleStatus] = []
    for group in groups or sorted(KERNEL_GROUPS):
        for path, text in render_group(group).items():
            fresh = path.exists() and path.read_text() == text
            if not check and not fresh:
                path.write_text(text)
            statuses.append(ModuleStatus(path, fresh))
    return statuses
