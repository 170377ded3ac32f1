"""Writing and checking the committed kernel modules under ``ibtheory/_generated/``.

The registry of kernel groups is the caller's (``ibtheory.kernels.KERNEL_GROUPS``): a mapping from
a group name to a function returning that group's :class:`KernelSpec` list. This module only
renders, writes and compares files; it knows nothing of where the specs come from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ._emit import KernelSpec, render_module

GENERATED_DIR = Path(__file__).resolve().parent.parent / "_generated"
COMMITTED_BACKENDS = ("numpy", "torch")

#: a group name -> the function returning its kernel specs
KernelRegistry = Mapping[str, Callable[[], Sequence[KernelSpec]]]


@dataclass(frozen=True)
class ModuleStatus:
    path: Path
    fresh: bool


def _source(specs_fn: Callable[[], Sequence[KernelSpec]]) -> str:
    return f"{specs_fn.__module__}:{specs_fn.__qualname__}"


def render_group(
    group: str, specs_fn: Callable[[], Sequence[KernelSpec]], directory: Path = GENERATED_DIR
) -> dict[Path, str]:
    """The text of every generated file of ``group`` (specs from ``specs_fn``), keyed by its path."""
    specs = list(specs_fn())
    return {
        directory / f"{group}_{backend}.py": render_module(
            specs, backend, source=_source(specs_fn), title=f"Kernels of group {group!r}"
        )
        for backend in COMMITTED_BACKENDS
    }


def build(
    registry: KernelRegistry,
    groups: Sequence[str] | None = None,
    *,
    check: bool = False,
    directory: Path = GENERATED_DIR,
) -> list[ModuleStatus]:
    """Regenerate (or with ``check=True`` only compare) the generated modules of ``groups``.

    ``registry`` maps every known group to its spec function; ``groups`` defaults to all of them.
    """
    unknown = [g for g in groups or () if g not in registry]
    if unknown:
        raise ValueError(f"unknown kernel group {unknown[0]!r}; known: {sorted(registry)}")
    statuses: list[ModuleStatus] = []
    for group in groups or sorted(registry):
        for path, text in render_group(group, registry[group], directory).items():
            fresh = path.exists() and path.read_text() == text
            if not check and not fresh:
                path.write_text(text)
            statuses.append(ModuleStatus(path, fresh))
    return statuses
