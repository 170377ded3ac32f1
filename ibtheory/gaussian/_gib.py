"""Gaussian IB and Gaussian dualIB in closed form, batched over beta, NumPy or Torch.

The algorithm (hand-written) is a Cholesky-whitened CCA: with Sigma_x = L_x L_x^T and
Sigma_y = L_y L_y^T, the singular values rho_i of ``G = L_x^{-1} Sigma_xy L_y^{-T}`` are the
canonical correlations, ``lambda_i = (1 - rho_i)(1 + rho_i)`` are the eigenvalues of
Sigma_{x|y} Sigma_x^{-1} (ascending), and ``v_i = L_x^{-T} u_i`` (u_i the left singular vectors,
completed to an orthonormal basis) are its left eigenvectors, normalised so that
``v_i^T Sigma_x v_i = 1``. The n_x - n_y directions beyond min(n_x, n_y) get rho_i = 0 exactly
(lambda_i = 1, critical beta inf); other directions of a rank-deficient Sigma_xy get a round-off-sized
rho_i (~1e-17), i.e. a finite but astronomically large critical beta (~1e34). Every formula evaluated per beta comes from the generated ``gaussian`` kernels
(:mod:`ibtheory.kernels`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..display import repr_html
from ..numeric import (
    ArrayBackend,
    array_backend,
    as_real_array,
    check_beta,
    check_spd,
    check_units,
    to_units,
)


@dataclass(frozen=True)
class GaussianIBResult:
    """Closed-form solution of the Gaussian IB (``method="ib"``) or Gaussian dualIB (``"dualib"``).

    Arrays are NumPy (``backend="numpy"``) or Torch tensors (``backend="torch"``), float64 by
    default. ``n_b`` is the number of betas, ``n_x`` the dimension of X.

    Attributes
    ----------
    method:
        ``"ib"`` (Chechik et al. 2005) or ``"dualib"`` (derived here, theory.md 10).
    betas:
        (n_b,) the trade-off parameters, as given.
    eigenvalues:
        (n_x,) eigenvalues lambda_i of Sigma_{x|y} Sigma_x^{-1}, ascending, in (0, 1]; equal to
        1 - rho_i^2 with rho_i the canonical correlations.
    canonical_correlations:
        (n_x,) rho_i, descending (0 for directions X shares nothing with Y).
    critical_betas:
        (n_x,) ascending; 1/(1 - lambda_i) for the IB, lambda_i/(1 - lambda_i) for the dualIB;
        inf for the n_x - n_y directions X shares nothing with Y when n_x > n_y (lambda_i = 1), and
        where the critical beta exceeds the float64 range (canonical correlations below ~1e-154).
    eigenvectors:
        (n_x, n_x) row i is the left eigenvector v_i^T, normalised to v_i^T Sigma_x v_i = 1.
    projections:
        (n_b, n_x, n_x) the optimal A(beta) = diag(alpha) V^T of T = A X + xi, xi ~ N(0, I); rows of
        directions below their critical beta are zero.
    alphas:
        (n_b, n_x) the row scales alpha_i(beta).
    i_xt, i_ty:
        (n_b,) I(T;X) and I(T;Y) of the optimal encoder in ``units`` (I(T;Y) through the true
        Markov channel T - X - Y for both methods).
    i_xy:
        scalar I(X;Y) in ``units``, the limit of ``i_ty`` as beta -> inf.
    units:
        ``"nats"`` or ``"bits"``.
    backend:
        ``"numpy"`` or ``"torch"``.
    """

    method: str
    betas: Any
    eigenvalues: Any
    canonical_correlations: Any
    critical_betas: Any
    eigenvectors: Any
    projections: Any
    alphas: Any
    i_xt: Any
    i_ty: Any
    i_xy: Any
    units: str
    backend: str
    _repr_html_ = repr_html  # a summary table in Jupyter (ibtheory.display)


# ----------------------------------------------------------------------------- validation
def _to_numpy(a: Any, name: str) -> np.ndarray:
    return as_real_array(a, name)  # complex: TypeError; tensors detached and copied to the CPU


def validate_covariances(cov_x: Any, cov_xy: Any, cov_y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the three blocks of a joint covariance; return them as float64 NumPy arrays.

    Raises ``ValueError`` when ``cov_x`` or ``cov_y`` is not a symmetric positive-definite matrix,
    when ``cov_xy`` does not have shape (n_x, n_y), or when the joint covariance
    [[cov_x, cov_xy], [cov_xy^T, cov_y]] is not positive definite (the message gives the smallest
    eigenvalue).
    """
    sx = _to_numpy(cov_x, "cov_x")
    sy = _to_numpy(cov_y, "cov_y")
    sxy = _to_numpy(cov_xy, "cov_xy")
    if sx.ndim == 0 and sy.ndim == 0 and sxy.ndim == 0:  # scalar X and Y: variances and covariance
        sx, sy, sxy = sx.reshape(1, 1), sy.reshape(1, 1), sxy.reshape(1, 1)
    for arr, name in ((sx, "cov_x"), (sy, "cov_y")):
        if arr.ndim != 2:
            raise ValueError(f"{name} must be a single (n, n) covariance matrix, got shape {arr.shape}")
    sx = check_spd(sx, "cov_x")
    sy = check_spd(sy, "cov_y")
    n_x, n_y = sx.shape[0], sy.shape[0]
    if sxy.shape != (n_x, n_y):
        raise ValueError(
            f"cov_xy must have shape (n_x, n_y) = ({n_x}, {n_y}) to fit cov_x {sx.shape} and "
            f"cov_y {sy.shape}, got shape {sxy.shape} (cov_xy = E[X Y^T], rows for X)"
        )
    if not np.all(np.isfinite(sxy)):
        raise ValueError("cov_xy contains a non-finite value")
    joint = np.block([[sx, sxy], [sxy.T, sy]])
    check_spd(joint, "the joint covariance [[cov_x, cov_xy], [cov_xy^T, cov_y]]")
    return sx, sxy, sy


def _check_betas(betas: Any) -> np.ndarray:
    arr = check_beta(_to_numpy(betas, "betas"), name="betas")
    return np.atleast_1d(arr)


# ----------------------------------------------------------------------------- backend
def _backend(backend: str, *arrays: Any) -> ArrayBackend:
    """The array backend; torch results go to the device of the first tensor among ``arrays``."""
    if backend != "torch":
        return array_backend(backend)
    torch = sys.modules.get("torch")  # a tensor can only exist if torch is imported
    device = next((a.device for a in arrays if torch is not None and isinstance(a, torch.Tensor)), None)
    return array_backend(backend, device)


# ----------------------------------------------------------------------------- algorithm
@dataclass(frozen=True)
class _Spectrum:
    eigenvalues: Any  # (n_x,) ascending
    rho: Any  # (n_x,) descending
    rho_sq: Any  # (n_x,)
    eigenvectors: Any  # (n_x, n_x), rows v_i^T with v_i^T Sigma_x v_i = 1


def _spectrum(be: ArrayBackend, sx: np.ndarray, sxy: np.ndarray, sy: np.ndarray) -> _Spectrum:
    """CCA by Cholesky whitening and an SVD (see the module docstring)."""
    n_x = sxy.shape[0]
    lx = be.cholesky(be.asarray(sx))
    ly = be.cholesky(be.asarray(sy))
    # G = L_x^{-1} Sigma_xy L_y^{-T}
    left = be.solve_lower(lx, be.asarray(sxy))
    g = be.solve_lower(ly, left.T).T
    u, s = be.svd_full(g)
    rho = be.clip(s, 0.0, 1.0)
    extra = n_x - rho.shape[0]
    if extra > 0:
        rho = be.concat([rho, be.zeros(extra)])
    eig = (1.0 - rho) * (1.0 + rho)
    if float(eig.min()) <= 0.0:
        raise ValueError(
            "the joint covariance is numerically singular: a canonical correlation rounds to 1 "
            "(X determines a combination of Y exactly); remove the redundant direction or add a ridge"
        )
    vecs = be.solve_lower(lx, u, transpose=True)  # columns v_i = L_x^{-T} u_i
    return _Spectrum(eigenvalues=eig, rho=rho, rho_sq=rho * rho, eigenvectors=vecs.T)


def _solve(method: str, cov_x: Any, cov_xy: Any, cov_y: Any, betas: Any, units: str, backend: str) -> GaussianIBResult:
    check_units(units)
    be = _backend(backend, cov_x, cov_xy, cov_y, betas)
    sx, sxy, sy = validate_covariances(cov_x, cov_xy, cov_y)
    beta_arr = _check_betas(betas)
    spec = _spectrum(be, sx, sxy, sy)
    k = be.kernels("gaussian")
    b = be.asarray(beta_arr)[:, None]
    one = be.ones(spec.eigenvalues.shape[0])
    if method == "ib":
        direction, critical = k.gaussian_ib_direction, k.gaussian_ib_critical_beta
    else:
        direction, critical = k.gaussian_dual_ib_direction, k.gaussian_dual_ib_critical_beta
    per_direction = direction(spec.eigenvalues, spec.rho_sq, one, b)  # each (n_b, n_x)
    alphas = per_direction.alpha
    with np.errstate(over="ignore"):  # rho^2 < ~5.6e-309: beyond every float, as for rho = 0 (inf)
        crit = critical(spec.eigenvalues, spec.rho_sq)
    i_xy = k.gaussian_direction_mutual_information(spec.eigenvalues).sum()
    return GaussianIBResult(
        method=method,
        betas=be.asarray(beta_arr),
        eigenvalues=spec.eigenvalues,
        canonical_correlations=spec.rho,
        critical_betas=crit,
        eigenvectors=spec.eigenvectors,
        projections=alphas[:, :, None] * spec.eigenvectors[None, :, :],
        alphas=alphas,
        i_xt=to_units(per_direction.i_xt.sum(-1), units),
        i_ty=to_units(per_direction.i_ty.sum(-1), units),
        i_xy=to_units(i_xy, units),
        units=units,
        backend=be.name,
    )


def gaussian_ib(
    cov_x: Any, cov_xy: Any, cov_y: Any, betas: Any, *, units: str = "nats", backend: str = "numpy"
) -> GaussianIBResult:
    """The Gaussian Information Bottleneck in closed form (Chechik, Globerson, Tishby & Weiss,
    JMLR 6:165-188, 2005; theory.md 2).

    For jointly Gaussian zero-mean (X, Y) with covariance blocks ``cov_x`` (n_x, n_x), ``cov_xy``
    = E[X Y^T] (n_x, n_y) and ``cov_y`` (n_y, n_y), the optimal representation T = A X + xi,
    xi ~ N(0, I), at each beta projects X on the left eigenvectors v_i of Sigma_{x|y} Sigma_x^{-1}
    whose critical value 1/(1 - lambda_i) is below beta, with scales
    alpha_i = sqrt((beta (1 - lambda_i) - 1)/(lambda_i r_i)).

    ``betas`` is a scalar or 1-D array (>= 0); ``units`` "nats" or "bits"; ``backend`` "numpy" or
    "torch" (Torch results are float64 tensors on the device of the first tensor input; they are
    computed from detached copies, so no gradient flows back to the covariances). Scalars are
    accepted for one-dimensional X and Y. Returns a
    :class:`GaussianIBResult`. Raises ``ValueError`` for covariances that are not symmetric positive
    definite, mismatched shapes, or a joint covariance that is not positive definite.
    """
    return _solve("ib", cov_x, cov_xy, cov_y, betas, units, backend)


def gaussian_dual_ib(
    cov_x: Any, cov_xy: Any, cov_y: Any, betas: Any, *, units: str = "nats", backend: str = "numpy"
) -> GaussianIBResult:
    """The dual Information Bottleneck (Piran, Shwartz-Ziv & Tishby 2020) for jointly Gaussian
    (X, Y), in closed form; derived here (``ibtheory derive gaussian-dualib``; theory.md 10).

    The geometric-mean decoder is N(B E[x|t], Sigma_{y|x}), the dual distortion is
    (1/2)(x - E[x|t])^T W (x - E[x|t]) with W = B^T Sigma_{y|x}^{-1} B, and the optimum is reverse
    water-filling in the CCA basis: critical values lambda_i/(1 - lambda_i) (the Gaussian IB's minus
    one) and alpha_i = sqrt((beta (1 - lambda_i) - lambda_i)/(lambda_i r_i)), i.e. the Gaussian IB
    encoder at beta + 1; the information curve is the Gaussian IB's. Arguments, result and errors
    as :func:`gaussian_ib`.
    """
    return _solve("dualib", cov_x, cov_xy, cov_y, betas, units, backend)
