"""Run-time kernels for a user's Lagrangian: ``derive(L)`` -> kernel specs -> NumPy and Torch modules.

:func:`functional_kernel_specs` composes the results of :func:`ibtheory.symbolic.derive` into the same
kind of kernels as the committed ``ib`` group (:mod:`ibtheory.kernels._ib`, whose composition and
numerical floors it reuses):

- ``functional_step(log_p_t_given_x, p_x, p_y_given_x, *parameters)`` -> (``p_t``, ``p_y_given_t``,
  ``log_p_t_given_x``): one alternation of the derived self-consistent equations in the log domain.
  Where the derived weights depend on the value of a term at the current iterate (the squared IB's
  beta_eff = beta / (2 I(X;T))), that value is computed inside the kernel from the current encoder.
- ``functional_point(p_x, p_y_given_x, p_t_given_x, *parameters)`` -> (``p_t``, ``p_y_given_t``,
  ``i_xt``, ``i_ty``, ``objective``): the marginal, the derived decoder, I(X;T), I(T;Y) (Markov
  decoder) and the Lagrangian itself, in nats.

``parameters`` are the derivation's ``results["parameters"]`` in order (``beta``, then ``alpha``, then
declared scalars), each a scalar argument named as its symbol.

:func:`functional_kernels` generates both backends' modules through :mod:`ibtheory.codegen` and caches
them on disk, keyed by a hash of the Lagrangian (after ``params``), the declared scalars, and the SymPy
and ibtheory versions: a cache entry is never reused across versions. Each entry is a module file plus
a manifest holding its SHA-256; an entry whose manifest is missing, unreadable, for another key, or
whose file does not match its hash is regenerated, never executed. The cache directory is
``$IBTHEORY_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/ibtheory/functionals``, else
``~/.cache/ibtheory/functionals``; pass ``cache_dir`` to choose another, or ``cache_dir=False`` to skip
the cache.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import sympy as sp

from ..codegen import KernelSpec, kernel, render_module
from ..symbolic import Derivation, derive
from ..symbolic.symbols import (
    DISCRETE_AXES,
    log_p_t_given_x,
    n_t,
    n_x,
    n_y,
    p_t_given_x,
    p_x,
    p_y_given_x,
    t,
    x,
    y,
)
from ._ib import _compose, _step_outputs

__all__ = ["CACHE_ENV", "FunctionalKernels", "default_cache_dir", "functional_kernel_specs", "functional_kernels"]

#: Environment variable naming the cache directory (overrides XDG_CACHE_HOME).
CACHE_ENV = "IBTHEORY_CACHE_DIR"
#: Bumped when the layout of a cache entry or of the generated kernels changes.
_CACHE_FORMAT = 1
BACKENDS = ("numpy", "torch")
_REF = "derived by ibtheory.symbolic.derive from the user's Lagrangian (chain rule over the vocabulary's terms)"


def _renamed(expr: sp.Expr) -> sp.Expr:
    """A term's expansion with its bound x, y, t renamed, so that it nests inside (x, t) outputs."""
    return expr.xreplace({x: sp.Idx("xs", n_x), y: sp.Idx("ys", n_y), t: sp.Idx("ts", n_t)})


def functional_kernel_specs(derivation: Derivation) -> list[KernelSpec]:
    """The ``functional_step`` and ``functional_point`` specs of a :func:`derive` result (see the module)."""
    results: dict[str, Any] = dict(derivation.results)
    parameters = list(results["parameters"])
    values = {sym: _renamed(expr) for sym, expr in results["scalars"].items()}
    encoder = results["encoder"]
    results["encoder"] = sp.Eq(encoder.lhs, encoder.rhs.xreplace(values))
    lagrangian = derivation.title
    return [
        kernel(
            "functional_step",
            [log_p_t_given_x, p_x, p_y_given_x, *parameters],
            _step_outputs(results),
            doc=(
                f"One alternation of the self-consistent equations of {lagrangian}, in the log domain: from the "
                "current encoder log p(t|x) compute the marginal p(t), the decoder p(y|t), and the new normalised "
                "encoder log p(t|x) = (w_t log p(t) - w_d d(x,t)) / w_q - log Z(x), the weights evaluated at the "
                "current encoder. p(t) is floored at 1e-300 in the decoder's denominator and in log p(t)."
            ),
            reference=_REF,
            axes=DISCRETE_AXES,
        ),
        kernel(
            "functional_point",
            [p_x, p_y_given_x, p_t_given_x, *parameters],
            {
                "p_t": results["marginal"].rhs,
                "p_y_given_t": _compose(results["decoder"].lhs, results),
                "i_xt": _compose(results["i_xt"], results),
                "i_ty": _compose(results["i_ty"], results),
                "objective": _compose(results["objective"], results),
            },
            doc=(
                f"The quantities of an encoder p(t|x) for {lagrangian}, in nats: the marginal p(t), the derived "
                "decoder p(y|t), I(X;T), I(T;Y) (Markov decoder sum_x p(y|x) p(x|t)) and the Lagrangian."
            ),
            reference=_REF,
            axes=DISCRETE_AXES,
        ),
    ]


# ----------------------------------------------------------------------------- the cache
def default_cache_dir() -> Path:
    """``$IBTHEORY_CACHE_DIR``, else ``$XDG_CACHE_HOME/ibtheory/functionals``, else ``~/.cache/ibtheory/functionals``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ibtheory" / "functionals"


def _versions() -> dict[str, str]:
    try:
        ours = importlib.metadata.version("ibtheory")
    except importlib.metadata.PackageNotFoundError:  # a source tree without metadata
        ours = "unknown"
    return {"sympy": sp.__version__, "ibtheory": ours, "format": str(_CACHE_FORMAT)}


def _cache_key(lagrangian: object, params: Mapping[sp.Symbol, object] | None, scalars: Iterable[sp.Symbol]) -> str:
    payload = {
        "lagrangian": sp.srepr(sp.sympify(lagrangian)),
        "params": sorted((sp.srepr(k), sp.srepr(sp.sympify(v))) for k, v in (params or {}).items()),
        "scalars": [sp.srepr(s) for s in scalars],
        **_versions(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_entry(directory: Path, key: str) -> tuple[dict[str, str], tuple[str, ...]] | None:
    """The verified module texts and parameter names of a cache entry; None if missing, stale or corrupt."""
    try:
        manifest = json.loads((directory / f"{key}.json").read_text())
        if manifest.get("key") != key or manifest.get("versions") != _versions():
            return None
        texts = {}
        for backend in BACKENDS:
            text = (directory / f"{key}_{backend}.py").read_text()
            if _sha256(text) != manifest["sha256"][backend]:
                return None
            texts[backend] = text
        parameters = tuple(manifest["parameters"])
        if not all(isinstance(p, str) and p.isidentifier() for p in parameters):
            return None
        return texts, parameters
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _load(text: str, name: str, path: Path | None) -> ModuleType:
    """Execute verified module text as a fresh module (not registered in ``sys.modules``)."""
    module = ModuleType(name)
    module.__file__ = str(path) if path is not None else f"<{name}>"
    exec(compile(text, module.__file__, "exec"), module.__dict__)  # text generated by us, hash-checked
    return module


@functools.lru_cache(maxsize=32)
def _generate(
    key: str, lagrangian: object, params: tuple[tuple[sp.Symbol, object], ...], scalars: tuple[sp.Symbol, ...]
) -> tuple[dict[str, str], tuple[str, ...], Derivation]:
    """Derive and render both backends' modules (memoised in the process by the cache key)."""
    derivation = derive(lagrangian, params=dict(params), scalars=scalars)
    specs = functional_kernel_specs(derivation)
    source = f"ibtheory.kernels.functional_kernels (cache key {key[:16]})"
    texts = {b: render_module(specs, b, source=source, title=f"Kernels of {derivation.title}") for b in BACKENDS}
    parameters = tuple(str(p) for p in cast(tuple, derivation.results["parameters"]))
    return texts, parameters, derivation


@dataclass(frozen=True)
class FunctionalKernels:
    """The generated kernels of one Lagrangian.

    ``numpy`` and ``torch`` are modules with ``functional_step`` and ``functional_point`` (see
    :mod:`ibtheory.kernels._functional`); ``parameters`` names their scalar arguments after the arrays,
    in order; ``key`` is the cache key; ``derivation`` is the :class:`Derivation`, or None when the
    kernels were loaded from the cache (call :func:`ibtheory.symbolic.derive` for it).
    """

    numpy: ModuleType
    torch: ModuleType | None
    parameters: tuple[str, ...]
    key: str
    derivation: Derivation | None
    from_cache: bool


def functional_kernels(
    lagrangian: object,
    *,
    params: Mapping[sp.Symbol, object] | None = None,
    scalars: Iterable[sp.Symbol] = (),
    cache_dir: str | os.PathLike[str] | bool | None = None,
) -> FunctionalKernels:
    """Generate (or load from the cache) the NumPy and Torch kernels of ``lagrangian``.

    ``lagrangian``, ``params`` and ``scalars`` are as for :func:`ibtheory.symbolic.derive` (which
    raises ``ValueError`` for bad input). ``cache_dir``: None for :func:`default_cache_dir`, a path,
    or False for no cache. The Torch module is None when torch is not installed.
    """
    scalars = tuple(scalars)
    key = _cache_key(lagrangian, params, scalars)
    directory = None if cache_dir is False else Path(default_cache_dir() if cache_dir in (None, True) else cache_dir)  # type: ignore[arg-type]
    entry = _read_entry(directory, key) if directory is not None else None
    derivation = None
    from_cache = entry is not None
    if entry is not None:
        texts, parameters = entry
    else:
        texts, parameters, derivation = _generate(key, lagrangian, tuple((params or {}).items()), scalars)
        if directory is not None:
            for backend, text in texts.items():
                _write_atomic(directory / f"{key}_{backend}.py", text)
            manifest = {
                "key": key,
                "versions": _versions(),
                "sha256": {b: _sha256(v) for b, v in texts.items()},
                "parameters": list(parameters),
            }
            # the manifest last: an interrupted write leaves no entry that verifies
            _write_atomic(directory / f"{key}.json", json.dumps(manifest, indent=1, sort_keys=True))
    numpy_module = _load(texts["numpy"], f"ibtheory_functional_{key[:16]}_numpy", directory and directory / f"{key}_numpy.py")
    torch_module = None
    if importlib.util.find_spec("torch") is not None or "torch" in sys.modules:
        torch_module = _load(texts["torch"], f"ibtheory_functional_{key[:16]}_torch", directory and directory / f"{key}_torch.py")
    return FunctionalKernels(numpy_module, torch_module, parameters, key, derivation, from_cache)
