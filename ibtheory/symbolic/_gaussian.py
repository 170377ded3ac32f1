"""The Gaussian IB (Chechik, Globerson, Tishby & Weiss, JMLR 6:165-188, 2005) and the Gaussian
dualIB (derived here), as :class:`~ibtheory.symbolic.Derivation` objects.

Two layers:

- **Matrix level.** Mutual informations of jointly Gaussian variables as log-determinants, the
  Lagrangians over linear encoders ``T = A X + xi`` and their stationarity conditions. SymPy 1.14's
  matrix calculus returns silent zeros for ``d log det`` (codegen-notes 3), so the log-determinant
  is the custom head :class:`LogDet` and every matrix derivative used here is a hand-written
  :class:`MatrixRule` (a scalar and its claimed gradient, built by the same object). The tests
  check every rule against ``diff`` on explicit 2x2 / 3x3 matrices of symbols.
- **Per direction.** In the basis of left eigenvectors of ``Sigma_{x|y} Sigma_x^{-1}`` (the CCA
  basis) both problems decouple into one-dimensional problems in the signal-to-noise ratio
  ``q_i = alpha_i^2 r_i`` of each direction; those are solved with ordinary (reliable) scalar
  SymPy calculus: stationarity, critical beta, information per direction, the curve, the slope.

Gaussian-specific symbols live in this module (the discrete problems' symbols are in
``_symbols``); their names equal the generated kernels' argument names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sympy as sp

from ._derivation import Derivation, DerivationError, Step
from ._printing import Chain, Named
from ._symbols import beta, n_t, n_x, n_y

GIB_REFERENCE = (
    "Chechik, Globerson, Tishby & Weiss, 'Information Bottleneck for Gaussian Variables', "
    "JMLR 6:165-188, 2005 (theory.md 2.1-2.4)"
)
DUAL_REFERENCE = (
    "Derived here (theory.md 10, open target): the dualIB of Piran, Shwartz-Ziv & Tishby 2020 "
    "(arXiv 2006.04641; theory.md 3.1-3.2) for jointly Gaussian (X, Y)"
)
#: public aliases (ibtheory.symbolic), distinct from the discrete dualIB reference
GAUSSIAN_IB_REFERENCE = GIB_REFERENCE
GAUSSIAN_DUAL_IB_REFERENCE = DUAL_REFERENCE

MATRIX_COOKBOOK = (
    "Petersen & Pedersen, The Matrix Cookbook (2012), sec. 2.1.2 (d log|M| = tr(M^-1 dM)) and "
    "sec. 2.2 (d M^-1 = -M^-1 dM M^-1), with the chain rule"
)

# ----------------------------------------------------------------------------- symbols
#: LaTeX forms of the symbols below, by name. The SymPy name stays the kernel argument name
#: (style.md 3); only the rendered derivations use these forms.
LATEX_NAMES: dict[str, str] = {
    "cov_x": r"\Sigma_x",
    "cov_y": r"\Sigma_y",
    "cov_xy": r"\Sigma_{xy}",
    "cov_x_given_y": r"\Sigma_{x|y}",
    "cov_y_given_x": r"\Sigma_{y|x}",
    "cov_x_given_t": r"\Sigma_{x|t}",
    "cov_noise": r"\Sigma_\xi",
    "projection": "A",
    "regression": "B",
    "distortion_weight": "W",
    "v": "v",
    "x": "x",
    "y": "y",
    "m_t": "m_t",
    "eigenvalue": r"\lambda_i",
    "canonical_correlation_sq": r"\rho_i^2",
    "direction_variance": "r_i",
    "snr": "q_i",
    "alpha": r"\alpha_i",
    "beta_c": r"\beta_i^c",
    "i_xt": "I(T;X)",
    "i_ty": "I(T;Y)",
    "n_active": "n_I",
    "geo_mean_eigenvalue": r"G_\lambda",
    "geo_mean_correlation_sq": r"G_\rho",
    "x_s": "x",  # scalar x, y of the one-dimensional decoder check
    "y_s": "y",
}


class _LatexSymbol(sp.Symbol):
    """A ``Symbol`` that renders with its :data:`LATEX_NAMES` (or :func:`_show`) form."""

    def _latex(self, printer: object) -> str:
        return LATEX_NAMES.get(str(self.name), str(self.name))


class _LatexMatrixSymbol(sp.MatrixSymbol):
    """A ``MatrixSymbol`` that renders with its :data:`LATEX_NAMES` form."""

    def _latex(self, printer: object) -> str:
        return LATEX_NAMES.get(str(self.name), str(self.name))


def _show(name: str, latex: str) -> sp.Symbol:
    """A display-only symbol (a left-hand side such as dL_i/dq_i) with its LaTeX form."""
    LATEX_NAMES[name] = latex
    return _LatexSymbol(name)


# Matrix-level symbols (names are the public API's / kernels' argument names).
cov_x = _LatexMatrixSymbol("cov_x", n_x, n_x)  # Sigma_x
cov_y = _LatexMatrixSymbol("cov_y", n_y, n_y)  # Sigma_y
cov_xy = _LatexMatrixSymbol("cov_xy", n_x, n_y)  # Sigma_xy = E[X Y^T]
cov_x_given_y = _LatexMatrixSymbol("cov_x_given_y", n_x, n_x)  # Sigma_{x|y}
cov_y_given_x = _LatexMatrixSymbol("cov_y_given_x", n_y, n_y)  # Sigma_{y|x}
cov_x_given_t = _LatexMatrixSymbol("cov_x_given_t", n_x, n_x)  # Sigma_{x|t}
cov_noise = _LatexMatrixSymbol("cov_noise", n_t, n_t)  # Sigma_xi (w.l.o.g. the identity)
projection = _LatexMatrixSymbol("projection", n_t, n_x)  # A
regression = _LatexMatrixSymbol("regression", n_y, n_x)  # B = Sigma_yx Sigma_x^{-1}
distortion_weight = _LatexMatrixSymbol("distortion_weight", n_x, n_x)  # W = B^T Sigma_{y|x}^{-1} B
eigvec = _LatexMatrixSymbol("v", n_x, 1)  # a left eigenvector v_i
x_vec = _LatexMatrixSymbol("x", n_x, 1)
y_vec = _LatexMatrixSymbol("y", n_y, 1)
mean_x_given_t = _LatexMatrixSymbol("m_t", n_x, 1)  # E[x|t]

# Per-direction scalars.
eigenvalue = _LatexSymbol("eigenvalue", positive=True)  # lambda_i of Sigma_{x|y} Sigma_x^{-1}, in (0, 1]
canonical_correlation_sq = _LatexSymbol("canonical_correlation_sq", nonnegative=True)  # rho_i^2 = 1 - lambda_i
direction_variance = _LatexSymbol("direction_variance", positive=True)  # r_i = v_i^T Sigma_x v_i
snr = _LatexSymbol("snr", nonnegative=True)  # q_i = alpha_i^2 r_i
alpha = _LatexSymbol("alpha", nonnegative=True)  # scale of row i of A
critical_beta = _LatexSymbol("beta_c", positive=True)
i_xt = _LatexSymbol("i_xt", nonnegative=True)  # I(X;T), nats
i_ty = _LatexSymbol("i_ty", nonnegative=True)  # I(T;Y), nats
n_active = _LatexSymbol("n_active", integer=True, positive=True)  # n_I, active directions
geo_mean_eigenvalue = _LatexSymbol("geo_mean_eigenvalue", positive=True)  # prod_{i<=n_I} lambda_i^{1/n_I}
geo_mean_correlation_sq = _LatexSymbol("geo_mean_correlation_sq", positive=True)  # prod (1-lambda_i)^{1/n_I}

#: Identity used to write per-direction results without cancellation: lambda_i + rho_i^2 = 1.
CCA_IDENTITY = sp.Eq(eigenvalue + canonical_correlation_sq, 1)


# ----------------------------------------------------------------------------- custom heads
class LogDet(sp.Function):
    """``LogDet(M)`` = log det M of a symmetric positive-definite matrix expression.

    A head of our own because SymPy's ``log(Determinant(M)).diff(M)`` is silently 0 (sympy#28618,
    codegen-notes 3). It never differentiates itself: derivatives come from :class:`MatrixRule`.
    :func:`to_explicit` evaluates it on explicit matrices as ``log(det(M))``. Code generation maps
    it to :class:`ibtheory.codegen.nodes.LogDetPD` (Cholesky).
    """

    nargs = 1
    is_real = True

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        raise NotImplementedError(
            "LogDet is not differentiated by SymPy (its matrix calculus is wrong); use a MatrixRule"
        )

    def _latex(self, printer: sp.printing.latex.LatexPrinter, exp: object = None) -> str:
        body = r"\log\left|" + printer._print(self.args[0]) + r"\right|"
        return body if exp is None else r"\left(" + body + r"\right)^{" + printer._print(exp) + "}"


class GradWrt(sp.Function):
    """``GradWrt(f, A)``: the gradient matrix (df/dA_ij) of a scalar f, as an inert display head.

    Never evaluated (SymPy's ``Derivative`` of matrix expressions would evaluate to wrong zeros).
    """

    nargs = 2

    def _latex(self, printer: sp.printing.latex.LatexPrinter, exp: object = None) -> str:
        f, a = self.args
        return r"\frac{\partial}{\partial " + printer._print(a) + r"}\left[" + printer._print(f) + r"\right]"


@dataclass(frozen=True)
class MatrixRule:
    """A hand-written matrix-calculus identity: a scalar function of matrices and its gradient.

    ``scalar(*mats)`` builds the scalar expression and ``gradient(*mats)`` its gradient with respect
    to the first argument (``G_ij = d scalar / d A_ij``). ``symmetric`` names the arguments that the
    identity assumes symmetric. Both builders accept ``MatrixSymbol``s or explicit matrices, so the
    tests can verify the identity entry by entry against ``diff`` of the explicit scalar.
    """

    name: str
    statement: str
    arg_names: tuple[str, ...]
    symmetric: tuple[str, ...]
    scalar: Callable[..., sp.Expr]
    gradient: Callable[..., sp.MatrixExpr]
    reference: str = MATRIX_COOKBOOK

    def as_eq(self, *mats: sp.MatrixExpr) -> sp.Eq:
        """``GradWrt(scalar, A) = gradient`` for display."""
        return sp.Eq(GradWrt(self.scalar(*mats), mats[0]), self.gradient(*mats), evaluate=False)


def _inv(m: sp.MatrixExpr) -> sp.MatrixExpr:
    return sp.Inverse(m)


#: d/dA log|A S A^T + C| = 2 (A S A^T + C)^{-1} A S      (S, C symmetric)
RULE_LOGDET_CONGRUENCE = MatrixRule(
    name="logdet-congruence",
    statement="d/dA log|A S A^T + C| = 2 (A S A^T + C)^{-1} A S for symmetric S, C",
    arg_names=("A", "S", "C"),
    symmetric=("S", "C"),
    scalar=lambda a, s, c: LogDet(a * s * a.T + c),
    gradient=lambda a, s, c: 2 * _inv(a * s * a.T + c) * a * s,
)

#: d/dA log|P + A^T N A| = 2 N A (P + A^T N A)^{-1}        (P, N symmetric)
RULE_LOGDET_INFORMATION_FORM = MatrixRule(
    name="logdet-information-form",
    statement="d/dA log|P + A^T N A| = 2 N A (P + A^T N A)^{-1} for symmetric P, N",
    arg_names=("A", "P", "N"),
    symmetric=("P", "N"),
    scalar=lambda a, p, n: LogDet(p + a.T * n * a),
    gradient=lambda a, p, n: 2 * n * a * _inv(p + a.T * n * a),
)

#: d/dA tr(W (P + A^T N A)^{-1}) = -2 N A M^{-1} W M^{-1},  M = P + A^T N A   (W, P, N symmetric)
RULE_TRACE_INVERSE_INFORMATION_FORM = MatrixRule(
    name="trace-inverse-information-form",
    statement=(
        "d/dA tr(W M^{-1}) = -2 N A M^{-1} W M^{-1} with M = P + A^T N A, for symmetric W, P, N"
    ),
    arg_names=("A", "W", "P", "N"),
    symmetric=("W", "P", "N"),
    scalar=lambda a, w, p, n: sp.Trace(w * _inv(p + a.T * n * a)),
    gradient=lambda a, w, p, n: -2 * n * a * _inv(p + a.T * n * a) * w * _inv(p + a.T * n * a),
)

MATRIX_RULES: tuple[MatrixRule, ...] = (
    RULE_LOGDET_CONGRUENCE,
    RULE_LOGDET_INFORMATION_FORM,
    RULE_TRACE_INVERSE_INFORMATION_FORM,
)


@dataclass(frozen=True)
class MatrixEquality:
    """A matrix identity ``lhs(*mats) == rhs(*mats)`` used by a derivation; verified in tests."""

    name: str
    statement: str
    arg_names: tuple[str, ...]
    symmetric: tuple[str, ...]
    lhs: Callable[..., sp.MatrixExpr]
    rhs: Callable[..., sp.MatrixExpr]
    reference: str


#: Woodbury / Schur complement: posterior covariance of x given t = A x + xi.
EQ_WOODBURY_POSTERIOR = MatrixEquality(
    name="posterior-covariance-woodbury",
    statement="S - S A^T (A S A^T + N)^{-1} A S = (S^{-1} + A^T N^{-1} A)^{-1}",
    arg_names=("A", "S", "N"),
    symmetric=("S", "N"),
    lhs=lambda a, s, n: s - s * a.T * _inv(a * s * a.T + n) * a * s,
    rhs=lambda a, s, n: _inv(_inv(s) + a.T * _inv(n) * a),
    reference="Woodbury matrix identity (Matrix Cookbook sec. 3.2.2)",
)

#: Precision of x given y for y = B x + noise: Sigma_{x|y}^{-1} = Sigma_x^{-1} + B^T Sigma_{y|x}^{-1} B.
EQ_INFORMATION_FORM = MatrixEquality(
    name="conditional-precision",
    statement=(
        "with B = Sxy^T Sx^{-1}, Sy|x = Sy - Sxy^T Sx^{-1} Sxy, Sx|y = Sx - Sxy Sy^{-1} Sxy^T: "
        "Sx|y^{-1} = Sx^{-1} + B^T Sy|x^{-1} B"
    ),
    arg_names=("Sx", "Sxy", "Sy"),
    symmetric=("Sx", "Sy"),
    lhs=lambda sx, sxy, sy: _inv(sx - sxy * _inv(sy) * sxy.T),
    rhs=lambda sx, sxy, sy: _inv(sx)
    + (sxy.T * _inv(sx)).T * _inv(sy - sxy.T * _inv(sx) * sxy) * (sxy.T * _inv(sx)),
    reference="Gaussian conditioning in information form (Bishop, PRML eq. 2.116-2.117); derived here",
)

MATRIX_EQUALITIES: tuple[MatrixEquality, ...] = (EQ_WOODBURY_POSTERIOR, EQ_INFORMATION_FORM)


def to_explicit(
    expr: sp.Basic,
    values: Mapping[sp.MatrixSymbol, sp.MatrixBase],
    sizes: Mapping[sp.Symbol, int] | None = None,
) -> sp.Basic:
    """Substitute explicit matrices for matrix symbols and evaluate ``LogDet``/``Trace`` exactly.

    Returns a scalar SymPy expression or an explicit ``Matrix``; ``sizes`` gives the dimensions of
    symbolic identities (e.g. ``{n_t: 3}``). Used by the tests to verify the hand-written matrix
    identities entry by entry (SymPy's ``diff`` is correct on explicit matrices, codegen-notes 3)
    and the derivations' matrix-level results numerically.
    """
    rep = {k: sp.Matrix(v) for k, v in values.items()}
    dims = dict(sizes or {})

    def explicit_matrix(m: sp.Basic) -> sp.Matrix:
        return _explicit_matrix(m, rep, dims)

    if isinstance(expr, sp.MatrixExpr):
        return explicit_matrix(expr)
    out = expr.replace(lambda e: isinstance(e, LogDet), lambda e: sp.log(explicit_matrix(e.args[0]).det()))
    out = out.replace(lambda e: isinstance(e, sp.Trace), lambda e: explicit_matrix(e.arg).trace())
    return out.xreplace({k: sp.ImmutableMatrix(v) for k, v in rep.items()})


def _explicit_matrix(
    m: sp.Basic, rep: Mapping[sp.MatrixSymbol, sp.Matrix], dims: Mapping[sp.Symbol, int]
) -> sp.Matrix:
    """Evaluate a matrix expression bottom-up on explicit matrices (inverse = adjugate / det).

    Faster and more predictable than ``as_explicit()``, whose inverse of a matrix of polynomials
    simplifies at every step.
    """
    if isinstance(m, sp.MatrixSymbol):
        return rep[m]
    if isinstance(m, sp.MatrixBase):
        return sp.Matrix(m)
    if isinstance(m, sp.Identity):
        return sp.eye(int(sp.sympify(m.rows).subs(dims)))
    if isinstance(m, sp.ZeroMatrix):
        return sp.zeros(int(sp.sympify(m.rows).subs(dims)), int(sp.sympify(m.cols).subs(dims)))
    if isinstance(m, sp.Transpose):
        return _explicit_matrix(m.arg, rep, dims).T
    if isinstance(m, sp.Inverse):
        inner = _explicit_matrix(m.arg, rep, dims)
        return inner.adjugate() / inner.det()
    if isinstance(m, sp.MatAdd):
        parts = [_explicit_matrix(a, rep, dims) for a in m.args]
        total = parts[0]
        for p in parts[1:]:
            total = total + p
        return total
    if isinstance(m, sp.MatMul):
        coeff, factors = m.as_coeff_matrices()
        prod = _explicit_matrix(factors[0], rep, dims)
        for f in factors[1:]:
            prod = prod * _explicit_matrix(f, rep, dims)
        return coeff * prod
    return sp.Matrix(m.xreplace({k: sp.ImmutableMatrix(v) for k, v in rep.items()}).as_explicit())


# ----------------------------------------------------------------------------- helpers
def _check_zero(expr: sp.Expr, what: str) -> None:
    """Raise if ``expr`` does not simplify to 0: each claimed closed form is checked by SymPy."""
    if sp.simplify(expr) != 0:
        raise DerivationError(f"derivation check failed ({what}): {sp.simplify(expr)} != 0")


def _rho(expr: sp.Expr) -> sp.Expr:
    """Rewrite with lambda = 1 - rho^2 (for checks of forms written with both symbols)."""
    return expr.subs(canonical_correlation_sq, 1 - eigenvalue)


def _solve_one(equation: sp.Expr, unknown: sp.Symbol, what: str) -> sp.Expr:
    sols = sp.solve(equation, unknown, dict=False)
    if len(sols) != 1:
        raise DerivationError(f"expected one solution for {what}, got {sols}")
    return sp.simplify(sols[0])


def _half_logdet_congruence(a: sp.MatrixExpr, s: sp.MatrixExpr) -> tuple[sp.Expr, sp.MatrixExpr]:
    """(1/2) log|A S A^T + Sigma_xi| - (1/2) log|Sigma_xi| and its gradient in A (rule 1)."""
    rule = RULE_LOGDET_CONGRUENCE
    return (
        (rule.scalar(a, s, cov_noise) - LogDet(cov_noise)) / 2,
        rule.gradient(a, s, cov_noise) / 2,
    )


# ----------------------------------------------------------------------------- Gaussian IB
def _gib_direction() -> dict[str, sp.Expr]:
    """The per-direction Gaussian IB problem solved with scalar SymPy calculus."""
    q, lam, r2 = snr, eigenvalue, canonical_correlation_sq
    ix = sp.log(1 + q) / 2
    iy = ix - sp.log(1 + lam * q) / 2
    lagr = ix - beta * iy
    dl = sp.together(sp.diff(lagr, q))
    q_star = _solve_one(sp.numer(dl), q, "GIB per-direction stationarity")
    q_form = (beta * r2 - 1) / lam
    _check_zero(q_star - _rho(q_form), "GIB q* = (beta (1-lambda) - 1)/lambda")
    beta_c = _solve_one(q_star, beta, "GIB critical beta")
    _check_zero(beta_c - _rho(1 / r2), "GIB beta_c = 1/(1-lambda)")
    # sign of dL/dq at q = 0: positive below beta_c (A = 0 is then optimal), zero at beta_c
    slope_at_zero = sp.factor(dl.subs(q, 0))
    _check_zero(slope_at_zero - (1 - beta * (1 - lam)) / 2, "GIB dL/dq at q=0")
    # second derivative at the stationary point (positive: a minimum along q)
    d2 = sp.simplify(sp.diff(lagr, q, 2).subs(q, q_star))
    _check_zero(d2 - _rho(lam**2 / (2 * beta * (beta - 1) * r2**2)), "GIB second derivative")
    gain_x = sp.simplify(1 + q_star)
    gain_y = sp.simplify(1 + lam * q_star)
    _check_zero(gain_x - _rho((beta - 1) * r2 / lam), "GIB 1 + q* = (beta-1)(1-lambda)/lambda")
    _check_zero(gain_y - _rho(beta * r2), "GIB 1 + lambda q* = beta (1-lambda)")
    ix_b = sp.log((beta - 1) * r2 / lam) / 2
    iy_b = ix_b - sp.log(beta * r2) / 2
    slope = sp.simplify(sp.diff(iy_b, beta) / sp.diff(ix_b, beta))
    _check_zero(slope - 1 / beta, "GIB slope dI_Y/dI_X = 1/beta")
    limit_iy = sp.limit(_rho(iy_b), beta, sp.oo)
    _check_zero(limit_iy + sp.log(lam) / 2, "GIB I_Y -> -1/2 log lambda")
    return {
        "lagrangian": lagr,
        "derivative": dl,
        "q_star": q_form,
        "beta_c": 1 / r2,
        "slope_at_zero": slope_at_zero,
        "second_derivative": lam**2 / (2 * beta * (beta - 1) * r2**2),
        "ix": ix,
        "iy": iy,
        "ix_beta": ix_b,
        "iy_beta": iy_b,
        "slope": slope,
        "limit_iy": -sp.log(lam) / 2,
    }


def _curve(beta_shift: int) -> tuple[sp.Eq, sp.Expr]:
    """Eliminate beta between the summed I_X and I_Y (n_I active directions, common beta).

    Per active direction e^{2 I_X,i} = (beta' - 1) rho_i^2 / lambda_i and e^{2(I_X,i - I_Y,i)} =
    beta' rho_i^2 with beta' = beta + beta_shift; products over the active set are written with the
    geometric means G_lambda, G_rho.
    """
    bp = beta + beta_shift
    ix_total = n_active / 2 * sp.log((bp - 1) * geo_mean_correlation_sq / geo_mean_eigenvalue)
    iy_total = ix_total - n_active / 2 * sp.log(bp * geo_mean_correlation_sq)
    beta_of_ix = _solve_one(sp.Eq(i_xt, ix_total), beta, "curve: beta from I_X")
    curve_rhs = i_xt - n_active / 2 * sp.log(
        geo_mean_correlation_sq + sp.exp(2 * i_xt / n_active) * geo_mean_eigenvalue
    )
    check = sp.expand_log(iy_total.subs(beta, beta_of_ix) - curve_rhs, force=True)
    _check_zero(sp.simplify(check), "information curve I_Y(I_X)")
    return sp.Eq(i_ty, curve_rhs), beta_of_ix


@functools.cache
def gaussian_ib_derivation() -> Derivation:
    """The Gaussian IB of Chechik, Globerson, Tishby & Weiss (JMLR 6:165-188, 2005), step by step.

    Results (SymPy): ``i_xt``, ``i_ty``, ``i_xy`` (log-det forms), ``lagrangian``,
    ``stationarity`` (matrix level), ``snr`` (q_i* = alpha_i^2 r_i), ``alpha``, ``critical_beta``,
    ``i_xt_direction``/``i_ty_direction`` (as functions of q_i), ``i_xt_beta``/``i_ty_beta`` (of beta,
    active direction), ``i_xy_direction``, ``curve``, ``slope``.
    """
    a = projection
    ixt, grad_ixt = _half_logdet_congruence(a, cov_x)
    hxy, grad_hxy = _half_logdet_congruence(a, cov_x_given_y)
    ity = ixt - hxy
    ixy = (LogDet(cov_x) - LogDet(cov_x_given_y)) / 2
    lagr = ixt - beta * ity
    grad = (1 - beta) * grad_ixt + beta * grad_hxy
    d = _gib_direction()
    curve, beta_of_ix = _curve(0)
    lam, q = eigenvalue, snr
    alpha_expr = sp.sqrt(d["q_star"] / direction_variance)

    steps = (
        Step(
            "setting",
            "$X \\in \\mathbb{R}^{n_x}$, $Y \\in \\mathbb{R}^{n_y}$ jointly Gaussian with zero mean; "
            "the representation is a noisy linear projection $T = A X + \\xi$, "
            "$\\xi \\sim N(0, \\Sigma_\\xi)$ independent of $(X, Y)$ (w.l.o.g. $\\Sigma_\\xi = I$, "
            "Chechik et al. sec. 3). $\\Sigma_{x|y}$ is the Schur complement.",
            sp.Eq(cov_x_given_y, cov_x - cov_xy * _inv(cov_y) * cov_xy.T, evaluate=False),
        ),
        Step(
            "mutual-information",
            "Mutual informations of jointly Gaussian variables are half log-determinant ratios: "
            "$I(T;X) = h(T) - h(T|X)$, $I(T;Y) = I(T;X) - I(T;X|Y)$ (Markov chain $T - X - Y$), "
            "$I(X;Y) = h(X) - h(X|Y)$. `LogDet` is a custom head (never SymPy's `log(det)`).",
            [
                sp.Eq(_show("I(T;X)", r"I(T;X)"), ixt, evaluate=False),
                sp.Eq(_show("I(T;Y)", r"I(T;Y)"), ity, evaluate=False),
                sp.Eq(_show("I(X;Y)", r"I(X;Y)"), ixy, evaluate=False),
            ],
        ),
        Step(
            "lagrangian",
            "The IB Lagrangian over linear encoders, $L(A) = I(T;X) - \\beta I(T;Y)$.",
            sp.Eq(_show("L", r"L"), lagr, evaluate=False),
        ),
        Step(
            "matrix-identity",
            "The one matrix derivative needed, written by hand and verified in the tests on explicit "
            "2x2 and 3x3 matrices: " + RULE_LOGDET_CONGRUENCE.statement + ".",
            RULE_LOGDET_CONGRUENCE.as_eq(a, cov_x, cov_noise),
        ),
        Step(
            "stationarity",
            "Setting $\\partial L / \\partial A = 0$ (Chechik et al. eq. for the gradient of $L$). "
            "Multiplying by $(A\\Sigma_{x|y}A^T + \\Sigma_\\xi)$ on the left and by $\\Sigma_x^{-1}$ "
            "on the right gives $\\frac{\\beta-1}{\\beta} (A\\Sigma_{x|y}A^T+\\Sigma_\\xi)"
            "(A\\Sigma_xA^T+\\Sigma_\\xi)^{-1} A = A \\Sigma_{x|y}\\Sigma_x^{-1}$: the rows of $A$ "
            "span an invariant subspace of the left action of $\\Sigma_{x|y}\\Sigma_x^{-1}$.",
            sp.Eq(grad, sp.ZeroMatrix(n_t, n_x), evaluate=False),
            display=Chain(Named(r"\frac{\partial L}{\partial A}"), grad, 0),
        ),
        Step(
            "eigenproblem",
            "Hence $A = \\mathrm{diag}(\\alpha)\\, V^T$ with $v_i$ the **left** eigenvectors of "
            "$\\Sigma_{x|y}\\Sigma_x^{-1}$, eigenvalues $0 < \\lambda_1 \\le \\dots \\le 1$, "
            "$\\lambda_i = 1 - \\rho_i^2$ with $\\rho_i$ the canonical correlations. Left "
            "eigenvectors are $\\Sigma_x$- and $\\Sigma_{x|y}$-orthogonal: $V^T\\Sigma_x V = "
            "\\mathrm{diag}(r)$, $V^T \\Sigma_{x|y} V = \\mathrm{diag}(\\lambda r)$.",
            [
                sp.Eq(eigvec.T * cov_x_given_y * _inv(cov_x), lam * eigvec.T, evaluate=False),
                sp.Eq(direction_variance, eigvec.T * cov_x * eigvec, evaluate=False),
                CCA_IDENTITY,
            ],
        ),
        Step(
            "decoupling",
            "With $q_i = \\alpha_i^2 r_i$ both determinants are diagonal, "
            "$|A\\Sigma_xA^T + I| = \\prod_i (1 + q_i)$ and $|A\\Sigma_{x|y}A^T + I| = \\prod_i "
            "(1 + \\lambda_i q_i)$, so $L = \\sum_i L_i(q_i)$ with the per-direction Lagrangian:",
            sp.Eq(_show("L_i", r"L_i"), d["lagrangian"], evaluate=False),
        ),
        Step(
            "direction-stationarity",
            "Solving $\\partial L_i / \\partial q_i = 0$ with SymPy gives the unique stationary point "
            "(written with $1 - \\lambda_i = \\rho_i^2$, checked by SymPy against the solver's form).",
            [sp.Eq(_show("dL_i/dq_i", r"\frac{\partial L_i}{\partial q_i}"), d["derivative"]), sp.Eq(q, d["q_star"])],
        ),
        Step(
            "critical-beta",
            "$q_i^* = 0$ at the critical value below. $dL_i/dq_i$ at $q_i = 0$ equals "
            "$(1 - \\beta(1-\\lambda_i))/2$, positive for $\\beta < \\beta_i^c$: there the optimum is "
            "$q_i = 0$ (the direction is unused); above it the stationary point is a minimum "
            "($d^2L_i/dq_i^2 > 0$ there). Directions with $\\lambda_i = 1$ are never used.",
            [
                sp.Eq(critical_beta, d["beta_c"]),
                sp.Eq(_show("dL_i/dq_i|_{q=0}", r"\left.\frac{\partial L_i}{\partial q_i}\right|_{q_i=0}"), d["slope_at_zero"]),
                sp.Eq(_show("d^2L_i/dq_i^2|_{q^*}", r"\left.\frac{\partial^2 L_i}{\partial q_i^2}\right|_{q_i^*}"), d["second_derivative"]),
            ],
        ),
        Step(
            "projection-scale",
            "The scale of row $i$ of $A$ (Chechik et al. main theorem), zero for "
            "$\\beta \\le \\beta_i^c$: $A(\\beta) = [\\alpha_1 v_1^T; \\alpha_2 v_2^T; \\dots]$.",
            sp.Eq(alpha, alpha_expr),
        ),
        Step(
            "information-per-direction",
            "Information carried by an active direction ($\\beta > \\beta_i^c$); $I(T;X)$ and $I(T;Y)$ "
            "are the sums over active directions.",
            [sp.Eq(_show("I_{X,i}", r"I_{X,i}"), d["ix_beta"]), sp.Eq(_show("I_{Y,i}", r"I_{Y,i}"), d["iy_beta"])],
        ),
        Step(
            "information-curve",
            "Eliminating $\\beta$ over the $n_I$ active directions ($G_\\lambda$, $G_\\rho$ the "
            "geometric means of $\\lambda_i$ and $1-\\lambda_i$ over them) gives Chechik et al.'s "
            "closed-form curve (checked by SymPy).",
            [sp.Eq(beta, beta_of_ix), curve],
        ),
        Step(
            "slope-and-limit",
            "Along the curve $dI_Y/dI_X = 1/\\beta$ (per direction, hence in total); as "
            "$\\beta \\to \\infty$ each direction contributes $-\\frac12 \\log \\lambda_i$, so "
            "$I(T;Y) \\to I(X;Y) = -\\frac12 \\sum_i \\log \\lambda_i$. At $\\beta = \\beta_i^c$ the "
            "new direction enters with $q_i = 0$, so the curve and its slope are continuous.",
            [
                sp.Eq(_show("dI_Y/dI_X", r"\frac{dI(T;Y)}{dI(T;X)}"), d["slope"]),
                sp.Eq(_show("lim I_{Y,i}", r"\lim_{\beta\to\infty} I_{Y,i}"), d["limit_iy"]),
            ],
        ),
    )
    results = {
        "i_xt": ixt,
        "i_ty": ity,
        "i_xy": ixy,
        "lagrangian": lagr,
        "stationarity": grad,
        "snr": d["q_star"],
        "alpha": alpha_expr,
        "critical_beta": d["beta_c"],
        "i_xt_direction": d["ix"],
        "i_ty_direction": d["iy"],
        "i_xt_beta": d["ix_beta"],
        "i_ty_beta": d["iy_beta"],
        "i_xy_direction": d["limit_iy"],
        "curve": curve,
        "slope": d["slope"],
    }
    return Derivation(
        name="gaussian-ib",
        title="Gaussian Information Bottleneck",
        reference=GIB_REFERENCE,
        assumptions=(
            "X, Y jointly Gaussian, zero mean; the joint covariance is positive definite",
            "T = A X + xi with xi ~ N(0, Sigma_xi) independent of (X, Y); Sigma_xi = I w.l.o.g.",
            "beta >= 0; lambda_i in (0, 1] are the eigenvalues of Sigma_{x|y} Sigma_x^{-1}",
            "canonical_correlation_sq = 1 - eigenvalue (both passed to kernels, avoiding cancellation)",
        ),
        inputs={
            "cov_x": "Sigma_x, (n_x, n_x), symmetric positive definite",
            "cov_xy": "Sigma_xy = E[X Y^T], (n_x, n_y)",
            "cov_y": "Sigma_y, (n_y, n_y), symmetric positive definite",
            "projection": "A, (n_t, n_x)",
            "cov_noise": "Sigma_xi, (n_t, n_t), symmetric positive definite (identity w.l.o.g.)",
            "beta": "trade-off parameter, scalar >= 0",
        },
        steps=steps,
        results=results,
    )


# ----------------------------------------------------------------------------- Gaussian dualIB
def _gaussian_expectation(expr: sp.Expr, var: sp.Symbol, mean: sp.Expr, sd: sp.Expr) -> sp.Expr:
    """E[expr] for var ~ N(mean, sd^2), expr a polynomial in var of degree <= 2.

    Substitutes var = mean + sd z and replaces z^k by the moment of N(0, 1), which SymPy
    integrates (exact: the integrand is a polynomial in z times the standard normal density).
    """
    z = sp.Symbol("z", real=True)
    density = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    poly = sp.Poly(sp.expand(expr.subs(var, mean + sd * z)), z)
    if poly.degree() > 2:
        raise DerivationError(f"expected a polynomial of degree <= 2 in {var}, got {expr}")
    moments = [sp.integrate(z**k * density, (z, -sp.oo, sp.oo)) for k in range(3)]
    return sp.Add(*(coeff * moments[k] for (k,), coeff in poly.terms()))


def _scalar_decoder_check() -> tuple[sp.Expr, sp.Expr]:
    """One-dimensional check of the geometric-mean decoder and the dual distortion by integration.

    E_{x ~ N(m, s^2)}[log N(y; b x, sigma^2)] = log N(y; b m, sigma^2) - b^2 s^2 / (2 sigma^2), and
    KL[N(b m, sigma^2) || N(b x, sigma^2)] = b^2 (x - m)^2 / (2 sigma^2).
    """
    xs, ys = _LatexSymbol("x_s", real=True), _LatexSymbol("y_s", real=True)
    m, b = sp.symbols("m b", real=True)
    s, sig = sp.symbols("s sigma", positive=True)

    def log_normal(z: sp.Expr, mean: sp.Expr, var: sp.Expr) -> sp.Expr:
        return -((z - mean) ** 2) / (2 * var) - sp.log(2 * sp.pi * var) / 2

    avg = _gaussian_expectation(log_normal(ys, b * xs, sig**2), xs, m, s)
    decoder_gap = sp.simplify(avg - (log_normal(ys, b * m, sig**2) - b**2 * s**2 / (2 * sig**2)))
    _check_zero(decoder_gap, "geometric mean of N(y; b x, sigma^2) over N(x; m, s^2)")
    avg = log_normal(ys, b * m, sig**2) - b**2 * s**2 / (2 * sig**2)  # the checked closed form
    u = sp.Symbol("u", real=True)
    kl = _gaussian_expectation(log_normal(u, b * m, sig**2) - log_normal(u, b * xs, sig**2), u, b * m, sig)
    kl_form = b**2 * (xs - m) ** 2 / (2 * sig**2)
    _check_zero(kl - kl_form, "KL of equal-variance Gaussians")
    return avg, kl_form  # the checked closed forms


def _dual_direction() -> dict[str, sp.Expr]:
    """The per-direction Gaussian dualIB problem, scalar SymPy calculus."""
    q, lam, r2 = snr, eigenvalue, canonical_correlation_sq
    weight = r2 / lam  # eigenvalue of Sigma_x W in the CCA basis: rho^2 / (1 - rho^2)
    ix = sp.log(1 + q) / 2
    distortion = weight / (2 * (1 + q))  # (1/2) w_i Var(x_i | t) in the basis with r_i = 1
    functional = ix + beta * distortion
    df = sp.together(sp.diff(functional, q))
    q_star = _solve_one(sp.numer(df), q, "dualIB per-direction stationarity")
    q_form = beta * r2 / lam - 1
    _check_zero(q_star - q_form, "dual q* = beta (1-lambda)/lambda - 1")
    beta_c = _solve_one(q_star, beta, "dualIB critical beta")
    _check_zero(_rho(beta_c - lam / r2), "dual beta_c = lambda / (1 - lambda)")
    _check_zero(_rho(lam / r2 - (1 / r2 - 1)), "dual beta_c = GIB beta_c - 1")
    slope_at_zero = sp.factor(df.subs(q, 0))
    _check_zero(slope_at_zero - (1 - beta * weight) / 2, "dual dF/dq at q=0")
    d2 = sp.simplify(sp.diff(functional, q, 2).subs(q, q_star))
    _check_zero(d2 - lam**2 / (2 * beta**2 * r2**2), "dual second derivative")
    # relation to the Gaussian IB: q*_dual(beta) = q*_GIB(beta + 1)
    q_gib = (beta * r2 - 1) / lam
    _check_zero(_rho(q_form - q_gib.subs(beta, beta + 1)), "dual q*(beta) = GIB q*(beta + 1)")
    # the IB's expected distortion per direction, I(X;Y)_i - I(T;Y)_i, vs the dual one: with
    # u = w / (1 + q), E d_IB = (1/2) log(1 + u) and E d_dual = (1/2) u
    u = weight / (1 + q)
    ib_distortion = -sp.log(lam) / 2 - (ix - sp.log(1 + lam * q) / 2)
    _check_zero(
        sp.expand_log(_rho(ib_distortion - sp.log(1 + u) / 2), force=True).simplify(),
        "E d_IB per direction = (1/2) log(1 + u)",
    )
    _check_zero(distortion - u / 2, "E d_dual per direction = u / 2")
    water_level = sp.simplify(distortion.subs(q, q_form) * 2)
    _check_zero(water_level - 1 / beta, "reverse water-filling: w_i Var(x_i|t) = 1/beta")
    gain_y = sp.simplify(1 + lam * q_form)
    _check_zero(_rho(gain_y - (beta + 1) * r2), "dual 1 + lambda q* = (beta+1)(1-lambda)")
    ix_b = sp.log(beta * r2 / lam) / 2
    iy_b = ix_b - sp.log((beta + 1) * r2) / 2
    _check_zero(sp.simplify(ix.subs(q, q_form) - ix_b), "dual I_X per direction")
    slope = sp.simplify(sp.diff(iy_b, beta) / sp.diff(ix_b, beta))
    _check_zero(slope - 1 / (beta + 1), "dual slope dI_Y/dI_X = 1/(beta + 1)")
    return {
        "weight": weight,
        "functional": functional,
        "derivative": df,
        "q_star": q_form,
        "beta_c": lam / r2,
        "slope_at_zero": slope_at_zero,
        "second_derivative": lam**2 / (2 * beta**2 * r2**2),
        "ix": ix,
        "iy": ix - sp.log(1 + lam * q) / 2,
        "ix_beta": ix_b,
        "iy_beta": iy_b,
        "slope": slope,
        "distortion": distortion,
    }


@functools.cache
def gaussian_dual_ib_derivation() -> Derivation:
    """The dualIB for jointly Gaussian (X, Y), derived here (theory.md 10).

    Main results: the geometric-mean decoder is ``N(B E[x|t], Sigma_{y|x})``; the dual distortion is
    the Mahalanobis form ``(1/2)(x - E[x|t])^T W (x - E[x|t])`` with ``W = B^T Sigma_{y|x}^{-1} B =
    Sigma_{x|y}^{-1} - Sigma_x^{-1}``; the problem is Gaussian rate-distortion (reverse
    water-filling at level 1/beta in the CCA basis); critical values ``lambda_i/(1 - lambda_i) =
    beta_i^GIB - 1``; the optimal encoder at beta equals the Gaussian IB encoder at beta + 1, so both
    methods trace the same information curve, with slope ``1/(beta + 1)`` for the dualIB.
    """
    a = projection
    avg, kl = _scalar_decoder_check()
    d = _dual_direction()
    lam, r2, q = eigenvalue, canonical_correlation_sq, snr
    info = RULE_LOGDET_INFORMATION_FORM
    tr_rule = RULE_TRACE_INVERSE_INFORMATION_FORM
    eye = sp.Identity(n_t)
    precision_post = _inv(cov_x) + a.T * a
    ixt = (info.scalar(a, _inv(cov_x), eye) + LogDet(cov_x)) / 2
    expected_distortion = tr_rule.scalar(a, distortion_weight, _inv(cov_x), eye) / 2
    functional = ixt + beta * expected_distortion
    grad = info.gradient(a, _inv(cov_x), eye) / 2 + beta * tr_rule.gradient(a, distortion_weight, _inv(cov_x), eye) / 2
    curve, beta_of_ix = _curve(1)
    alpha_expr = sp.sqrt(d["q_star"] / direction_variance)
    b = regression
    steps = (
        Step(
            "setting",
            "As for the Gaussian IB: $(X, Y)$ jointly Gaussian, zero mean, $T = AX + \\xi$. The "
            "channel is $p(y|x) = N(Bx, \\Sigma_{y|x})$ with the regression matrix $B$.",
            [
                sp.Eq(regression, cov_xy.T * _inv(cov_x), evaluate=False),
                sp.Eq(cov_y_given_x, cov_y - cov_xy.T * _inv(cov_x) * cov_xy, evaluate=False),
            ],
        ),
        Step(
            "dual-functional",
            "The dualIB functional (Piran et al. 2020; theory.md 3.1): the distortion is the "
            "reverse KL, with the decoder $p_\\beta(y|t)$ in the first slot.",
            sp.Eq(
                _show("F", r"F"),
                _show("I(X;T)", r"I(X;T)") + beta * _show("E_{p(x,t)} D_KL[p(y|t) || p(y|x)]", r"E_{p(x,t)}\, D_{KL}[p_\beta(y|t) \,\|\, p(y|x)]"),
                evaluate=False,
            ),
        ),
        Step(
            "decoder",
            "The dualIB decoder is the normalised geometric mean $\\log p_\\beta(y|t) = "
            "E_{p(x|t)}[\\log p(y|x)] - \\log Z$ (theory.md 3.2). Since $\\log p(y|x)$ is quadratic in "
            "$x$, only $m_t = E[x|t]$ and $\\Sigma_{x|t}$ enter, and the $\\Sigma_{x|t}$ term does not "
            "depend on $y$: $p_\\beta(y|t) = N(B m_t, \\Sigma_{y|x})$ for **any** encoder. In one "
            "dimension SymPy integrates it (below: $E_{x\\sim N(m,s^2)} \\log N(y; bx, \\sigma^2)$). "
            "**Relation to the IB:** the IB decoder is the arithmetic mean $\\sum_x p(y|x) p(x|t)$, "
            "i.e. the Markov channel; for a linear-Gaussian encoder it is $N(B m_t, \\Sigma_{y|x} + "
            "B \\Sigma_{x|t} B^T)$: the same mean $E[y|t] = B m_t$, and a covariance larger by "
            "$B \\Sigma_{x|t} B^T$, the uncertainty about $x$ given $t$, which the dual decoder "
            "drops (checked in the tests by conditioning the joint covariance and by quadrature).",
            [
                sp.Eq(_show("p_beta(y|t)", r"p_\beta(y|t)"), _show("N(B m_t, Sigma_{y|x})", r"N(B m_t, \Sigma_{y|x})"), evaluate=False),
                sp.Eq(
                    _show("p_IB(y|t)", r"p_{IB}(y|t)"),
                    _show("N(B m_t, Sigma_{y|x} + B Sigma_{x|t} B^T)", r"N(B m_t, \Sigma_{y|x} + B \Sigma_{x|t} B^T)"),
                    evaluate=False,
                ),
                sp.Eq(_show("E_{x|t} log p(y|x)", r"E_{x \sim N(m, s^2)} \log N(y; b x, \sigma^2)"), avg, evaluate=False),
            ],
        ),
        Step(
            "dual-distortion",
            "The KL divergence of two Gaussians with the same covariance is half the Mahalanobis "
            "distance of their means (SymPy integral in one dimension below), so the dual "
            "distortion is quadratic in $x - m_t$ with weight $W = B^T \\Sigma_{y|x}^{-1} B$. By the "
            "information form of Gaussian conditioning, $W = \\Sigma_{x|y}^{-1} - \\Sigma_x^{-1}$ "
            "(verified in the tests on explicit matrices).",
            [
                sp.Eq(
                    _show("d_dual(x,t)", r"d_{dual}(x, t)"),
                    ((x_vec - mean_x_given_t).T * distortion_weight * (x_vec - mean_x_given_t)) / 2,
                    evaluate=False,
                ),
                sp.Eq(distortion_weight, b.T * _inv(cov_y_given_x) * b, evaluate=False),
                sp.Eq(
                    EQ_INFORMATION_FORM.lhs(cov_x, cov_xy, cov_y),
                    _inv(cov_x) + distortion_weight,
                    evaluate=False,
                ),
                sp.Eq(_show("KL (1-D)", r"D_{KL}[N(bm, \sigma^2) \,\|\, N(bx, \sigma^2)]"), kl, evaluate=False),
            ],
        ),
        Step(
            "rate-distortion",
            "Since $m_t = E[x|t]$, $E\\,d = \\frac12 \\mathrm{tr}(W \\Sigma_{x|t})$ and $F$ is the "
            "Lagrangian of a Gaussian rate-distortion problem with weighted squared error (the "
            "decoder's optimality in $q(y|t)$ is the MMSE optimality of $m_t$). For a Gaussian "
            "source and quadratic distortion a jointly Gaussian $T$ is optimal among **all** "
            "encoders (Cover & Thomas, Elements of Information Theory, 2nd ed., Thm 10.3.3, reverse "
            "water-filling), so linear-Gaussian encoders lose nothing. With $\\Sigma_\\xi = I$ "
            "(Woodbury):",
            [
                sp.Eq(cov_x_given_t, EQ_WOODBURY_POSTERIOR.rhs(a, cov_x, eye), evaluate=False),
                sp.Eq(_show("I(X;T)", r"I(X;T)"), ixt, evaluate=False),
                sp.Eq(_show("F", r"F"), functional, evaluate=False),
            ],
            title="A Gaussian rate-distortion problem",
        ),
        Step(
            "matrix-identities",
            "The two matrix derivatives needed, written by hand and verified in the tests: "
            + info.statement + "; " + tr_rule.statement + ".",
            [info.as_eq(a, _inv(cov_x), eye), tr_rule.as_eq(a, distortion_weight, _inv(cov_x), eye)],
        ),
        Step(
            "stationarity",
            "$\\partial F / \\partial A = A\\Sigma_{x|t}(I - \\beta W \\Sigma_{x|t}) = 0$, i.e. "
            "$A = \\beta A \\Sigma_{x|t} W$ (right-multiplying by $\\Sigma_{x|t}^{-1}$).",
            [
                sp.Eq(grad, sp.ZeroMatrix(n_t, n_x), evaluate=False),
                sp.Eq(cov_x_given_t, _inv(precision_post), evaluate=False),
            ],
            display=[
                Chain(Named(r"\frac{\partial F}{\partial A}"), grad, 0),
                sp.Eq(cov_x_given_t, _inv(precision_post), evaluate=False),
            ],
        ),
        Step(
            "eigenproblem",
            "From $W = \\Sigma_{x|y}^{-1} - \\Sigma_x^{-1}$: a left eigenvector $v$ of "
            "$\\Sigma_{x|y}\\Sigma_x^{-1}$ with eigenvalue $\\lambda$ satisfies "
            "$v^T\\Sigma_x W = \\frac{1-\\lambda}{\\lambda} v^T$. So the **same** CCA basis as the "
            "Gaussian IB diagonalises the problem: with $A = \\mathrm{diag}(\\alpha)V^T$, "
            "$\\mathrm{tr}(W\\Sigma_{x|t}) = \\sum_i \\frac{\\rho_i^2/\\lambda_i}{1 + q_i}$, "
            "$q_i = \\alpha_i^2 r_i$, and $F = \\sum_i F_i(q_i)$.",
            [
                sp.Eq(eigvec.T * cov_x * distortion_weight, (r2 / lam) * eigvec.T, evaluate=False),
                sp.Eq(_show("F_i", r"F_i"), d["functional"], evaluate=False),
            ],
        ),
        Step(
            "direction-stationarity",
            "Solving $\\partial F_i / \\partial q_i = 0$ with SymPy (unique root; "
            "$d^2F_i/dq_i^2 > 0$ there):",
            [
                sp.Eq(_show("dF_i/dq_i", r"\frac{\partial F_i}{\partial q_i}"), d["derivative"]),
                sp.Eq(q, d["q_star"]),
                sp.Eq(_show("d^2F_i/dq_i^2|_{q^*}", r"\left.\frac{\partial^2 F_i}{\partial q_i^2}\right|_{q_i^*}"), d["second_derivative"]),
            ],
        ),
        Step(
            "critical-beta",
            "$q_i^* = 0$ at $\\beta_i^{dual} = \\lambda_i/(1-\\lambda_i) = \\beta_i^{GIB} - 1$; below "
            "it $dF_i/dq_i|_{q=0} > 0$ and the direction is unused. This is reverse water-filling: "
            "an active direction keeps distortion $\\frac12 w_i \\mathrm{Var}(x_i|t) = 1/(2\\beta)$ "
            "(water level $1/\\beta$), an inactive one its full variance $w_i = \\rho_i^2/\\lambda_i$.",
            [
                sp.Eq(critical_beta, d["beta_c"]),
                sp.Eq(_show("dF_i/dq_i|_{q=0}", r"\left.\frac{\partial F_i}{\partial q_i}\right|_{q_i=0}"), d["slope_at_zero"]),
                sp.Eq(_show("E d_i (active)", r"E\, d_i \ (\text{active})"), sp.Rational(1, 2) / beta),
            ],
        ),
        Step(
            "distortion-comparison",
            "Per direction, with $u_i = w_i \\mathrm{Var}(x_i|t) = \\frac{\\rho_i^2/\\lambda_i}{1+q_i}$, "
            "the IB's expected distortion $E\\,D_{KL}[p(y|x)\\|p(y|t)] = I(X;Y) - I(T;Y)$ is "
            "$\\frac12\\log(1+u_i)$ while the dual one is $\\frac12 u_i$ (both checked by SymPy). "
            "In matrix form $E\\,d_{IB} = \\frac12\\log|I + M|$ and $E\\,d_{dual} = \\frac12 "
            "\\mathrm{tr}\\,M$ with $M = \\Sigma_{y|x}^{-1/2} B \\Sigma_{x|t} B^T \\Sigma_{y|x}^{-1/2}$: "
            "the dual distortion is the linearisation of the IB's and never smaller "
            "($\\log(1+u) \\le u$); the two agree to first order when $T$ is informative.",
            [
                sp.Eq(_show("E d_IB,i", r"E\, d_{IB,i}"), sp.log(1 + _show("u_i", "u_i")) / 2),
                sp.Eq(_show("E d_dual,i", r"E\, d_{dual,i}"), _show("u_i", "u_i") / 2),
            ],
        ),
        Step(
            "relation-to-gib",
            "$q_i^{*,dual}(\\beta) = q_i^{*,GIB}(\\beta + 1)$ for every direction and the active sets "
            "agree ($\\beta > \\beta_i^{GIB} - 1 \\iff \\beta + 1 > \\beta_i^{GIB}$): **the optimal "
            "Gaussian dualIB encoder at $\\beta$ is the Gaussian IB encoder at $\\beta + 1$.** "
            "Projection scales:",
            [sp.Eq(alpha, alpha_expr)],
            title="Relation to the Gaussian IB",
        ),
        Step(
            "information-per-direction",
            "With $I(T;Y)$ reported through the true Markov channel $T - X - Y$ (theory.md 3.2), "
            "an active direction carries:",
            [sp.Eq(_show("I_{X,i}", r"I_{X,i}"), d["ix_beta"]), sp.Eq(_show("I_{Y,i}", r"I_{Y,i}"), d["iy_beta"])],
        ),
        Step(
            "information-curve",
            "Hence the Gaussian dualIB traces **the same** information curve $I_Y(I_X)$ as the "
            "Gaussian IB (Chechik et al.'s closed form), reparametrised by $\\beta \\mapsto \\beta+1$; "
            "its slope at $\\beta$ is $1/(\\beta+1)$, not $1/\\beta$. Its critical points on the "
            "curve are the same points, reached at $\\beta$ smaller by one.",
            [sp.Eq(beta, beta_of_ix), curve, sp.Eq(_show("dI_Y/dI_X", r"\frac{dI(T;Y)}{dI(T;X)}"), d["slope"])],
        ),
    )
    results = {
        "decoder_mean": b * mean_x_given_t,
        "distortion_weight": b.T * _inv(cov_y_given_x) * b,
        "i_xt": ixt,
        "expected_distortion": expected_distortion,
        "functional": functional,
        "stationarity": grad,
        "snr": d["q_star"],
        "alpha": alpha_expr,
        "critical_beta": d["beta_c"],
        "i_xt_direction": d["ix"],
        "i_ty_direction": d["iy"],
        "distortion_direction": d["distortion"],
        "i_xt_beta": d["ix_beta"],
        "i_ty_beta": d["iy_beta"],
        "curve": curve,
        "slope": d["slope"],
    }
    return Derivation(
        name="gaussian-dualib",
        title="Gaussian dual Information Bottleneck (derived here)",
        reference=DUAL_REFERENCE,
        assumptions=(
            "X, Y jointly Gaussian, zero mean; the joint covariance is positive definite",
            "T = A X + xi, xi ~ N(0, I) (optimal among all encoders: Gaussian rate-distortion)",
            "beta >= 0; lambda_i in (0, 1] eigenvalues of Sigma_{x|y} Sigma_x^{-1}; rho_i^2 = 1 - lambda_i",
            "I(T;Y) is evaluated with the true Markov channel T - X - Y (not the dual decoder)",
        ),
        inputs={
            "cov_x": "Sigma_x, (n_x, n_x), symmetric positive definite",
            "cov_xy": "Sigma_xy = E[X Y^T], (n_x, n_y)",
            "cov_y": "Sigma_y, (n_y, n_y), symmetric positive definite",
            "projection": "A, (n_t, n_x)",
            "distortion_weight": "W = B^T Sigma_{y|x}^{-1} B, (n_x, n_x), symmetric positive semidefinite",
            "beta": "trade-off parameter, scalar >= 0",
        },
        steps=steps,
        results=results,
    )
