"""The curve of a user's Lagrangian: run-time generated kernels through the IB annealing machinery.

:func:`functional_curve` poses no new algorithm. It asks :func:`ibtheory.kernels.functional_kernels`
for the kernels of ``derive(L)`` (generated at run time through the code generator, both backends,
cached on disk; imported lazily, so ``import ibtheory`` pays for no SymPy), wraps them as a
:class:`._engine.KernelSet` and runs :func:`ibtheory.solvers.ib_curve`'s annealing (forward and
reverse sweeps, identity seeds, neighbour re-seeding, polish, envelope repair; or ``effort="fast"``)
on them. The built-in methods stay on the committed kernels.

The envelope certificate needs a Lagrangian that is affine in beta at a fixed encoder,
L = A[p(t|x)] + beta B[p(t|x)] (true of every IB-family Lagrangian: the IB, the generalized IB
H(T) - alpha H(T|X) - beta I(T;Y) of Strouse & Schwab 2017, theory.md 11.1, the convex IB
u(I(X;T)) - beta I(T;Y) of Kolchinsky, Tracey & Van Kuyk 2019, theory.md 11.2). Each encoder is then
the line A + beta B; A is the generated objective at beta = 0 and B the difference of the objectives
at beta = 1 and 0 (other parameters at their values). A Lagrangian that is not affine in beta is
refused (checked on the problem's own encoders before solving).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from ..numeric import array_backend, as_generator, check_joint, single_threaded_blas, to_units
from ._curve import (
    AGREE_RTOL,
    ANNEAL_MAX_ITER,
    ANNEAL_TOL,
    CURVE_MAX_ITER,
    FAST_OBJ_TOL,
    FAST_TOL,
    TRANSITION_RTOL,
    IBCurve,
    _Annealer,
    _CurveOptions,
    _fast,
    _finish,
    _lines_of,
    _optimum,
    _Run,
)
from ._dib import EXACT_MAX_NX
from ._engine import KernelSet, near_identity
from ._family import check_betas
from ._gib import _dib_seeds
from ._solve import DEFAULT_TOL, check_n_clusters, marginals

#: A Lagrangian counts as affine in beta when its second difference in beta (steps of the largest
#: beta) is at most this relative to max(1, |objective|): far above the rounding of objectives summed
#: over the problem (~1e-13), far below any curvature a beta**2 or beta*I term has on these encoders.
AFFINE_RTOL = 1e-9
#: The trade-off symbols' names; every other parameter symbol becomes a scalar kernel input.
_BETA, _ALPHA = "beta", "alpha"


class _Line(NamedTuple):
    """A point summary in the annealer's convention: objective = i_xt + beta * slope, where the
    annealer's ``i_xt`` is the intercept A of the encoder's line (not I(X;T), which the returned
    curve reports from the generated kernel)."""

    p_t: np.ndarray
    p_y_given_t: np.ndarray
    i_xt: float
    i_ty: float
    slope: float


def _parameter_values(params: Mapping[Any, Any] | None) -> tuple[dict[str, float], tuple[Any, ...]]:
    """``params`` as {name: value}, and the symbols (other than alpha) to derive as scalar inputs."""
    values: dict[str, float] = {}
    symbols: list[Any] = []
    for key, value in (params or {}).items():
        name = str(key)
        if name == _BETA:
            raise ValueError("params may not fix beta: the curve runs over the betas passed")
        try:
            number = float(value)
        except (TypeError, ValueError) as err:
            raise ValueError(f"params[{name}] must be a real number, got {value!r}") from err
        if not np.isfinite(number):
            raise ValueError(f"params[{name}] must be finite, got {value!r}")
        values[name] = number
        if name != _ALPHA:
            symbols.append(key)
    return values, tuple(sorted(symbols, key=str))


def _arguments(parameters: tuple[str, ...], values: Mapping[str, float]) -> Callable[[Any], tuple[Any, ...]]:
    """The kernels' scalar arguments after the arrays, in order, for a given beta."""
    unknown = sorted(set(values) - set(parameters))
    if unknown:
        raise ValueError(
            f"params names {', '.join(unknown)}, which the functional does not contain (its parameters: "
            f"{', '.join(parameters) or 'none'})"
        )
    if _BETA not in parameters:
        raise ValueError("the functional has no beta: functional_curve traces it over beta (pose L = A + beta*B)")
    missing = [p for p in parameters if p != _BETA and p not in values]
    if missing:
        raise ValueError(f"the functional's parameter(s) {', '.join(missing)} need a value: params={{{missing[0]}: value}}")
    at = parameters.index(_BETA)
    fixed = [values.get(p, 0.0) for p in parameters]

    def arguments(beta: Any) -> tuple[Any, ...]:
        return (*fixed[:at], beta, *fixed[at + 1 :])

    return arguments


class _Step(NamedTuple):
    log_p_t_given_x: Any


def _kernel_set(module: Any, label: str, arguments: Callable[[Any], tuple[Any, ...]], xp: Any) -> KernelSet:
    """The engine's step / objective / point kernels from a generated functional module (``xp``: its
    array namespace, numpy or torch).

    Where the derived weights are singular at the current encoder (the squared IB's
    beta_eff = beta / (2 I(X;T)) at a one-cluster encoder, I(X;T) = 0), the generated step returns NaN
    or +inf in those rows; the step keeps those rows as they were instead. That encoder is a stationary
    point (every term's gradient is constant in t there), and the annealing leaves it by splitting."""

    def step(log_p_t_given_x: Any, p_x: Any, p_y_given_x: Any, beta: Any) -> _Step:
        with np.errstate(invalid="ignore", over="ignore"):  # singular rows are replaced just below
            new = module.functional_step(log_p_t_given_x, p_x, p_y_given_x, *arguments(beta)).log_p_t_given_x
        bad = (xp.isnan(new) | (new == float("inf"))).any(-1)[..., None]
        return _Step(xp.where(bad, log_p_t_given_x, new))

    def objective(p_x: Any, p_y_given_x: Any, p_t_given_x: Any, beta: Any) -> Any:
        return module.functional_point(p_x, p_y_given_x, p_t_given_x, *arguments(beta)).objective

    def point(p_x: Any, p_y_given_x: Any, p_t_given_x: Any) -> _Line:
        at0 = module.functional_point(p_x, p_y_given_x, p_t_given_x, *arguments(0.0))
        at1 = module.functional_point(p_x, p_y_given_x, p_t_given_x, *arguments(1.0)).objective
        return _Line(at0.p_t, at0.p_y_given_t, at0.objective, at0.i_ty, at1 - at0.objective)

    return KernelSet(label, step, objective, point)


def _check_affine(module: Any, arguments: Callable[[Any], tuple[Any, ...]], p_x: np.ndarray,
                  p_y_given_x: np.ndarray, capacity: int, beta_max: float) -> None:
    """ValueError unless the objective is affine in beta on a few encoders of this problem (a fixed
    random one among them: the caller's generator is left to the annealing)."""
    encoders = np.stack([near_identity(p_x.size, capacity),
                         np.random.default_rng(0).dirichlet(np.ones(capacity), size=p_x.size),
                         np.full((p_x.size, capacity), 1.0 / capacity)])
    h = max(1.0, float(beta_max))
    obj = [np.asarray(module.functional_point(p_x, p_y_given_x, encoders, *arguments(np.full(3, b))).objective)
           for b in (0.0, h, 2 * h)]
    curvature = np.abs(obj[2] - 2 * obj[1] + obj[0])
    if not (np.all(np.isfinite(curvature)) and np.all(curvature <= AFFINE_RTOL * np.maximum(1.0, np.abs(obj[1])))):
        raise ValueError(
            "functional_curve needs a Lagrangian affine in beta, L = A[p(t|x)] + beta*B[p(t|x)] (each encoder "
            "is then a line in beta, which the annealing's envelope certificate compares); this one is not "
            f"(second difference {curvature.max():.3g} over beta steps of {h:g})"
        )


def functional_curve(
    p_xy: Any,
    betas: Any,
    functional: Any,
    *,
    params: Mapping[Any, Any] | None = None,
    n_clusters: int | None = None,
    units: str = "nats",
    normalize: bool = False,
    tol: float = DEFAULT_TOL,
    max_iter: int = CURVE_MAX_ITER,
    backend: str = "numpy",
    device: Any = None,
    seed: Any = 0,
    reverse: bool = True,
    forward: bool = True,
    locate_transitions: bool = True,
    transition_rtol: float = TRANSITION_RTOL,
    effort: str = "optimum",
    cache_dir: Any = None,
) -> IBCurve:
    """The optimal curve of a user's Lagrangian ``functional`` on ``betas``, by :func:`ib_curve`'s annealing.

    ``functional``: a SymPy expression in the vocabulary of :mod:`ibtheory.symbolic` (``H("T")``,
    ``H("T|X")``, ``I("X;T")``, ``I("T;Y")``, ``distortion(...)``), ``beta``, ``alpha``, other
    parameter symbols and smooth functions, e.g. ``I("X;T")**2 - beta*I("T;Y")`` (the squared IB,
    theory.md 11.2). It must contain ``beta`` and be affine in it (module docstring).
    ``params``: a value for ``alpha`` and for every other parameter symbol (keys: the symbols);
    they are kernel inputs, so other values reuse the same generated kernels. ``cache_dir``: as for
    :func:`ibtheory.kernels.functional_kernels` (None: the default cache; False: none).

    The other arguments are :func:`ib_curve`'s. The result is an :class:`IBCurve` whose ``method``
    is the Lagrangian's text, ``objective`` the Lagrangian's value, ``i_xt`` and ``i_ty`` I(X;T) and
    I(T;Y) (Markov decoder) of each encoder, all in ``units``; ``optimality`` compares lines
    A + beta B of the Lagrangian. The first call with a new Lagrangian derives and generates its
    kernels (seconds); later calls load them from the cache.

    Raises ``ValueError`` for a functional that is not a SymPy expression of the vocabulary (the
    message of :func:`ibtheory.symbolic.derive`), a parameter without a value, a ``params`` entry
    the functional lacks, no beta, or a Lagrangian not affine in beta; and as :func:`ib_curve`.
    """
    opts = _CurveOptions.checked(method="ib", units=units, tol=tol, max_iter=max_iter, reverse=reverse,
                                 forward=forward, locate_transitions=locate_transitions,
                                 transition_rtol=transition_rtol, effort=effort)
    joint = check_joint(p_xy, normalize=normalize)
    betas_sorted = check_betas(betas)
    p_x, p_y_given_x = marginals(joint)
    capacity = check_n_clusters(n_clusters, p_x.size)
    be = array_backend(backend, device)
    if not (hasattr(functional, "free_symbols") and hasattr(functional, "atoms")):
        # the cache key would be a SymPy conversion error otherwise; derive says the same
        raise ValueError(
            f"the Lagrangian {functional!r} is not a SymPy expression: pose it with the vocabulary of "
            'ibtheory.symbolic, e.g. I("X;T")**2 - beta*I("T;Y")'
        )
    values, scalars = _parameter_values(params)
    # run-time code generation is the pipeline run on demand (docs/architecture.md, "run-time kernels")
    from ..kernels import functional_kernels

    generated = functional_kernels(functional, scalars=scalars, cache_dir=cache_dir)
    arguments = _arguments(generated.parameters, values)
    label = str(functional)
    rng = as_generator(seed)
    _check_affine(generated.numpy, arguments, p_x, p_y_given_x, capacity, float(betas_sorted[-1]))
    module = generated.numpy if not be.is_torch else generated.torch
    if module is None:
        raise ValueError("backend='torch' needs torch installed")
    host = _kernel_set(generated.numpy, label, arguments, np)
    ann = _Annealer(be, p_x, p_y_given_x, label, capacity, rng, min(ANNEAL_TOL, opts.tol * 100), ANNEAL_MAX_ITER,
                    kernels=host if module is generated.numpy else _kernel_set(module, label, arguments, be.xp),
                    host_kernels=host)
    opts = dataclasses.replace(opts, method=label)
    q_rev = near_identity(p_x.size, capacity) if capacity >= p_x.size else rng.dirichlet(np.ones(capacity), size=p_x.size)
    with single_threaded_blas():  # as in ib_curve
        if opts.effort == "fast":
            runs, pool, repaired, starts = _fast(ann, betas_sorted, q_rev, forward=opts.forward)
            curve = _finish(ann, runs, pool, repaired, starts, betas_sorted, FAST_TOL, FAST_OBJ_TOL, opts)
        else:
            runs, pool, repaired, starts = _optimum(ann, betas_sorted, q_rev, opts)
            if p_x.size <= EXACT_MAX_NX:
                repaired |= _hard_partition_starts(ann, betas_sorted, runs, pool, opts)
            curve = _finish(ann, runs, pool, repaired, starts, betas_sorted, opts.tol, AGREE_RTOL, opts)
    return _with_informations(curve, generated.numpy, arguments, p_x, p_y_given_x)


def _hard_partition_starts(ann: _Annealer, betas_sorted: np.ndarray, runs: list[_Run], pool: Any,
                           opts: _CurveOptions) -> np.ndarray:
    """Solve every beta again from each partition on the exact DIB's lower envelope (n_x <= EXACT_MAX_NX:
    enumerated, as in :func:`dib_curve`), keep what is lower. Functionals with an entropy term weighted
    below 1 (the generalized IB at alpha < 1) have hard, few-cluster optima that annealing from soft
    encoders misses (random_joint(5, 3, seed=4), alpha = 0.5, beta = 6: -0.0963 nats from a partition,
    -0.0655 by annealing); :func:`gib_curve` seeds the same way. Returns which betas improved."""
    seeds = _dib_seeds(ann.p_x, ann.p_y_given_x, ann.capacity)
    jobs = [(q, float(b)) for b in betas_sorted for q in seeds]
    new = ann.run(jobs, opts.tol, opts.max_iter, None)
    _lines_of(new, pool)
    improved = np.zeros(betas_sorted.size, dtype=bool)
    for j, r in enumerate(new):
        i = j // len(seeds)
        if r.objective < runs[i].objective:
            runs[i] = r
            improved[i] = True
    return improved


def _with_informations(curve: IBCurve, module: Any, arguments: Callable[[Any], tuple[Any, ...]], p_x: np.ndarray,
                       p_y_given_x: np.ndarray) -> IBCurve:
    """The curve with I(X;T) and I(T;Y) of each encoder (the annealer's summaries hold the lines' intercepts)."""
    points = [module.functional_point(p_x, p_y_given_x, q, *arguments(float(b)))
              for q, b in zip(curve.encoders, curve.betas, strict=True)]
    i_xt = np.maximum([float(p.i_xt) for p in points], 0.0)
    i_ty = np.maximum([float(p.i_ty) for p in points], 0.0)
    return dataclasses.replace(curve, i_xt=to_units(i_xt, curve.units), i_ty=to_units(i_ty, curve.units))
