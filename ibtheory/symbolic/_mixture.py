"""Gaussian-mixture entropy bounds and the information quantities of infinite ensembles (SymPy only).

Sources:

- Kolchinsky & Tracey, "Estimating mixture entropy with pairwise distances", Entropy 19(7):361,
  2017 (theory.md 4.3 b, 5.7): H_D = sum_i c_i H(p_i) - sum_i c_i ln sum_j c_j exp(-D(p_i||p_j)),
  a lower bound for D = Chernoff-alpha (Bhattacharyya at alpha = 1/2) and an upper bound for D = KL.
- Shwartz-Ziv & Alemi, arXiv 1911.09189 (theory.md 4.2, 4.3): Z | x ~ N(mu_t(x), sigma_t^2(x) I_k)
  over the initialisation of an infinite ensemble; InfoNCE and leave-one-out bounds, Gibbs and Bayes
  log-likelihoods and the KL to the initial output distribution as coded in ``info_ntk/metrics.py``.

The isotropic (per-component variance s = sigma^2) specialisations of the Gaussian KL and Chernoff
divergences and the rigorous combinations for I(Z;Y) are derived here.
"""

from __future__ import annotations

import functools

import sympy as sp

from ._derivation import Derivation, DerivationError, Step
from ._gaussian import LogDet
from ._printing import IndexedNotation, register_indexed, register_symbol

KT_REFERENCE = "Kolchinsky & Tracey, Entropy 19(7):361 (2017), pairwise-distance mixture-entropy estimators (theory.md 4.3 b, 5.7)"
SA_REFERENCE = "Shwartz-Ziv & Alemi, arXiv 1911.09189, info_ntk metrics.py (theory.md 4.2-4.3)"

# ---- elementwise symbols (arrays broadcasting together in generated kernels) ----
sq_dist = sp.Symbol("sq_dist", nonnegative=True)  # ||mu_i - mu_j||^2 (or ||z_i - mu_j||^2)
var_i = sp.Symbol("var_i", positive=True)  # s_i = sigma_i^2 of component i (row)
var_j = sp.Symbol("var_j", positive=True)  # s_j = sigma_j^2 of component j (column)
variance = sp.Symbol("variance", positive=True)
dim = sp.Symbol("dim", positive=True, integer=True)  # k, the dimension of Z
alpha = sp.Symbol("alpha", positive=True)  # Chernoff order in (0, 1)
residual = sp.Symbol("residual", real=True)  # y - mu
noise_variance = sp.Symbol("noise_variance", positive=True)  # observation noise of the likelihood
n_points = sp.Symbol("n_points", positive=True, integer=True)

# ---- matrix symbols (batched (..., n, m) arrays in generated kernels) ----
_n = sp.Symbol("n", positive=True, integer=True)
cov_post = sp.MatrixSymbol("cov_post", _n, _n)  # Sigma_t over the evaluation points
cov_prior = sp.MatrixSymbol("cov_prior", _n, _n)  # Sigma_0 = K
mean_diff = sp.MatrixSymbol("mean_diff", _n, 1)  # mu_t - mu_0 for one output
pred_cov = sp.MatrixSymbol("predictive_cov", _n, _n)  # Sigma_t + noise_variance I
resid_vec = sp.MatrixSymbol("residual_vec", _n, 1)  # y - mu_t for one output

# ---- index-level symbols (for the stated sums) ----
n_comp = sp.Symbol("N", positive=True, integer=True)
i_idx = sp.Idx("i", n_comp)
j_idx = sp.Idx("j", n_comp)
dist = sp.IndexedBase("D")  # D(p_i || p_j)
h_comp = sp.IndexedBase("h")  # H(p_i)
score = sp.IndexedBase("s")  # s_ij = log p(z_i | x_j)

# Display only: the papers' names of the kernel arguments above (Kolchinsky & Tracey 2017).
for _symbol, _latex in (
    (sq_dist, r"\|\mu_i - \mu_j\|^2"),
    (var_i, "s_i"),
    (var_j, "s_j"),
    (variance, "v"),
    (dim, "k"),
    (residual, "r"),
    (noise_variance, r"\nu"),
    (n_points, "n"),
    (cov_post, r"\Sigma_t"),
    (cov_prior, r"\Sigma_0"),
    (mean_diff, r"(\mu_t - \mu_0)"),
    (pred_cov, r"(\Sigma_t + \nu I)"),
    (resid_vec, r"(y - \mu_t)"),
):
    register_symbol(_symbol, _latex)
register_indexed(dist, IndexedNotation(template=r"D(p_{#1} \| p_{#2})"))
register_indexed(h_comp, IndexedNotation(template=r"H(p_{#1})"))
register_indexed(score, IndexedNotation(template=r"s_{#1#2}"))
register_indexed(sp.IndexedBase("D_B"), IndexedNotation(template=r"D_B(p_{#1} \| p_{#2})"))
register_indexed(sp.IndexedBase("D_KL"), IndexedNotation(template=r"D_{KL}(p_{#1} \| p_{#2})"))

# ---- array-level index symbols of the generated row kernels: rows i (a chunk), columns j (all N
# components), coordinates d of Z. Axis order ("i", "j", "d"). ----
n_rows = sp.Symbol("n_rows", positive=True, integer=True)
n_cols = sp.Symbol("n_cols", positive=True, integer=True)
n_dim = sp.Symbol("n_dim", positive=True, integer=True)
row = sp.Idx("i", n_rows)
col = sp.Idx("j", n_cols)
coord = sp.Idx("d", n_dim)
PAIRWISE_AXES: tuple[str, ...] = ("i", "j", "d")
means_row = register_indexed(sp.IndexedBase("means_row", real=True), IndexedNotation(template=r"\mu_{#1#2}"))  # [i, d]
means_col = register_indexed(sp.IndexedBase("means_col", real=True), IndexedNotation(template=r"\mu_{#1#2}"))  # [j, d]
var_row = sp.IndexedBase("var_row", positive=True)  # [i]
var_col = sp.IndexedBase("var_col", positive=True)  # [j]
samples_row = sp.IndexedBase("samples_row", real=True)  # [i, d], z_i ~ p(z | x_i)
log_weight = sp.IndexedBase("log_weight", real=True)  # [i, j], 0 or -inf (leave-one-out mask)
n_components = sp.Symbol("n_components", positive=True, integer=True)


def gaussian_entropy(var: sp.Expr = variance, k: sp.Expr = dim) -> sp.Expr:
    """Differential entropy (nats) of N(mu, var I_k): (k/2) ln(2 pi e var) [standard]."""
    return k / 2 * sp.log(2 * sp.pi * sp.E * var)


def general_kl_isotropic() -> tuple[sp.Expr, sp.Expr]:
    """KL(N(m_i, S_i) || N(m_j, S_j)) = 1/2[tr(S_j^{-1} S_i) + dm^T S_j^{-1} dm - k + ln|S_j| - ln|S_i|]
    [standard], and its value at S = s I_k (derived here): each trace/log-det/quadratic form evaluated
    on the isotropic covariances (tr(s_i/s_j I_k) = k s_i/s_j, ln|s I_k| = k ln s)."""
    general = sp.Rational(1, 2) * (
        sp.Symbol(r"\operatorname{tr}(S_j^{-1} S_i)") + sp.Symbol(r"\Delta\mu^T S_j^{-1}\Delta\mu")
        - dim + sp.Symbol(r"\ln|S_{j}|") - sp.Symbol(r"\ln|S_{i}|")
    )
    iso = sp.Rational(1, 2) * (dim * var_i / var_j + sq_dist / var_j - dim + dim * sp.log(var_j) - dim * sp.log(var_i))
    return general, iso


def kl_isotropic() -> sp.Expr:
    """KL(p_i||p_j) = (k/2)[s_i/s_j - 1 - ln(s_i/s_j)] + ||dm||^2/(2 s_j) (theory.md 4.3 b; derived here)."""
    return dim / 2 * (var_i / var_j - 1 - sp.log(var_i / var_j)) + sq_dist / (2 * var_j)


def chernoff_isotropic(a: sp.Expr = alpha) -> sp.Expr:
    """Chernoff alpha-divergence of isotropic Gaussians (theory.md 5.7 general formula with
    S_i = s_i I_k, S_j = s_j I_k; derived here):

    C_a = a(1-a)/2 ||dm||^2 / ((1-a) s_i + a s_j) + (k/2) ln( ((1-a) s_i + a s_j) / (s_i^{1-a} s_j^a) ).
    """
    mix = (1 - a) * var_i + a * var_j
    return a * (1 - a) / 2 * sq_dist / mix + dim / 2 * (sp.log(mix) - (1 - a) * sp.log(var_i) - a * sp.log(var_j))


def bhattacharyya_isotropic() -> sp.Expr:
    """D_B = ||dm||^2/(4(s_i+s_j)) + (k/2) ln((s_i+s_j)/(2 sqrt(s_i s_j))) (theory.md 4.3 b)."""
    return sq_dist / (4 * (var_i + var_j)) + dim / 2 * sp.log((var_i + var_j) / (2 * sp.sqrt(var_i * var_j)))


def log_density_isotropic() -> sp.Expr:
    """ln N(z; mu_j, s_j I_k) = -(k/2) ln(2 pi s_j) - ||z - mu_j||^2 / (2 s_j) [standard]."""
    return -dim / 2 * sp.log(2 * sp.pi * var_j) - sq_dist / (2 * var_j)


def squared_distance_expanded(a: sp.IndexedBase = means_row, b: sp.IndexedBase = means_col) -> sp.Expr:
    """||a_i - b_j||^2 = sum_d a_id^2 + sum_d b_jd^2 - 2 sum_d a_id b_jd [standard]: the form whose
    cross term is one matrix product (the generated kernels never materialise (i, j, d))."""
    return (
        sp.Sum(a[row, coord] ** 2, (coord, 0, n_dim - 1))
        + sp.Sum(b[col, coord] ** 2, (coord, 0, n_dim - 1))
        - 2 * sp.Sum(a[row, coord] * b[col, coord], (coord, 0, n_dim - 1))
    )


def squared_distance_direct(a: sp.IndexedBase = means_row, b: sp.IndexedBase = means_col) -> sp.Expr:
    """||a_i - b_j||^2 = sum_d (a_id - b_jd)^2 [definition]: a sum of non-negative terms, so no
    cancellation (the expanded form loses ~eps (||a||^2 + ||b||^2) to rounding, which decides D_ij for
    near components far from the origin relative to their width); costs an (i, j, d) temporary."""
    return sp.Sum((a[row, coord] - b[col, coord]) ** 2, (coord, 0, n_dim - 1))


def pairwise_entropy_estimator() -> sp.Expr:
    """H_D = (1/N) sum_i h_i - (1/N) sum_i ln (1/N) sum_j exp(-D_ij) (Kolchinsky & Tracey, equal weights)."""
    inner = sp.log(sp.Sum(sp.exp(-dist[i_idx, j_idx]), (j_idx, 0, n_comp - 1)) / n_comp)
    return sp.Sum(h_comp[i_idx], (i_idx, 0, n_comp - 1)) / n_comp - sp.Sum(inner, (i_idx, 0, n_comp - 1)) / n_comp


def pairwise_information_estimator() -> sp.Expr:
    """I_D(X;Z) = H_D - H(Z|X) = -(1/N) sum_i ln (1/N) sum_j exp(-D_ij) (theory.md 4.3 b); in
    [0, ln N] because D_ii = 0 and D >= 0."""
    inner = sp.log(sp.Sum(sp.exp(-dist[i_idx, j_idx]), (j_idx, 0, n_comp - 1)) / n_comp)
    return -sp.Sum(inner, (i_idx, 0, n_comp - 1)) / n_comp


def infonce_bounds() -> tuple[sp.Expr, sp.Expr]:
    """InfoNCE lower and leave-one-out upper bounds on I(X;Z) from one z_i ~ p(z|x_i) per input,
    s_ij = ln p(z_i|x_j) (van den Oord et al. 2018; Poole et al. 2019; info_ntk metrics.py;
    theory.md 4.3 a)."""
    i = i_idx
    j = j_idx
    lower = sp.log(n_comp) + sp.Sum(
        score[i, i] - sp.log(sp.Sum(sp.exp(score[i, j]), (j, 0, n_comp - 1))), (i, 0, n_comp - 1)
    ) / n_comp
    upper = sp.log(n_comp - 1) + sp.Sum(
        score[i, i] - sp.log(sp.Sum(sp.exp(score[i, j]), (j, 0, n_comp - 1)) - sp.exp(score[i, i])), (i, 0, n_comp - 1)
    ) / n_comp
    return lower, upper


def gibbs_log_likelihood() -> sp.Expr:
    """Expected log-likelihood of one ensemble member for one point and output,
    E_{f ~ N(mu, var)} ln N(y; f, nv) = -(r^2 + var)/(2 nv) - (1/2) ln(2 pi nv), r = y - mu
    (info_ntk ``gibbs`` with nv = 1; theory.md 4.3 c)."""
    return -(residual**2 + variance) / (2 * noise_variance) - sp.log(2 * sp.pi * noise_variance) / 2


def bayes_log_likelihood() -> sp.Expr:
    """Log-likelihood of the ensemble predictive for one output over n points jointly,
    ln N(y; mu, Sigma + nv I) = -(1/2) r^T P^{-1} r - (1/2) ln|P| - (n/2) ln 2 pi, P = Sigma + nv I
    (info_ntk ``bayes``; theory.md 4.3 c)."""
    quad = sp.Trace(resid_vec.T * pred_cov.I * resid_vec)
    return -quad / 2 - LogDet(pred_cov) / 2 - n_points / 2 * sp.log(2 * sp.pi)


def kl_gaussians_matrix() -> sp.Expr:
    """KL(N(mu_t, Sigma_t) || N(mu_0, Sigma_0)) over n points for one output [standard]:
    1/2[tr(Sigma_0^{-1} Sigma_t) + dm^T Sigma_0^{-1} dm - n + ln|Sigma_0| - ln|Sigma_t|]
    (info_ntk ``dkl_output``; theory.md 4.3 c)."""
    return sp.Rational(1, 2) * (
        sp.Trace(cov_prior.I * cov_post) + sp.Trace(mean_diff.T * cov_prior.I * mean_diff)
        - n_points + LogDet(cov_prior) - LogDet(cov_post)
    )


@functools.cache
def mixture_information_derivation() -> Derivation:
    """The ensemble-information derivation: entropies, divergences, pairwise bounds, losses."""
    h_cond = sp.Symbol(r"H(Z|X)")
    h_bd, h_kl = sp.Symbol(r"H_{BD}(Z)"), sp.Symbol(r"H_{KL}(Z)")
    h_bd_y, h_kl_y = sp.Symbol(r"H_{BD}(Z|Y\!=\!y)"), sp.Symbol(r"H_{KL}(Z|Y\!=\!y)")
    p_y = sp.Symbol("p(y)")
    general, iso = general_kl_isotropic()
    kl = kl_isotropic()
    ch = chernoff_isotropic()
    bd = bhattacharyya_isotropic()
    bd_from_chernoff = ch.subs(alpha, sp.Rational(1, 2))
    # sanity of the specialisations: both must be identities (checked again in the tests)
    if sp.simplify(sp.expand_log(iso - kl, force=True)) != 0:
        raise DerivationError("isotropic KL specialisation does not simplify to the stated form")
    if sp.simplify(sp.expand_log(bd_from_chernoff - bd, force=True)) != 0:
        raise DerivationError("Chernoff(1/2) is not the stated Bhattacharyya distance")
    nce_lo, nce_hi = infonce_bounds()
    i_xz = sp.Symbol(r"I(X;Z)")
    i_zy = sp.Symbol(r"I(Z;Y)")
    i_bd = pairwise_information_estimator().subs(dist, sp.IndexedBase("D_B"))
    i_kl = pairwise_information_estimator().subs(dist, sp.IndexedBase("D_KL"))
    steps = (
        Step("component entropy", "Entropy of one isotropic Gaussian component $N(\\mu, s I_k)$ [standard].",
             sp.Eq(sp.Symbol("H(p_{i})"), gaussian_entropy(var_i))),
        Step("KL, general", "KL divergence between Gaussians [standard] and its value for $S = s I_k$ (derived here).",
             [sp.Eq(sp.Symbol(r"D_{KL}"), general), sp.Eq(sp.Symbol(r"D_{KL}^{iso}"), iso)]),
        Step("KL, isotropic", "Collected form used by the kernels (theory.md 4.3 b).",
             sp.Eq(sp.Symbol(r"D_{KL}(p_i\|p_j)"), kl)),
        Step("Chernoff", "Chernoff $\\alpha$-divergence of isotropic Gaussians (theory.md 5.7, derived here).",
             sp.Eq(sp.Symbol(r"C_{\alpha}(p_{i}\|p_{j})"), ch)),
        Step("Bhattacharyya", "$C_{1/2}$, the Bhattacharyya distance (tightest Chernoff lower bound for symmetric families).",
             sp.Eq(sp.Symbol(r"D_{B}(p_{i},p_{j})"), bd)),
        Step("pairwise estimator", "Kolchinsky-Tracey estimator with equal weights $c_i = 1/N$; "
             "$D = D_B$ gives a lower bound, $D = D_{KL}$ an upper bound on $H(Z)$.",
             sp.Eq(sp.Symbol(r"\hat{H}_{D}(Z)"), pairwise_entropy_estimator())),
        Step("squared distance", "Expanded so that the cross term is one matrix product per block of rows "
             "(the generated kernels evaluate the $N \\times N$ terms in row chunks).",
             sp.Eq(sp.Symbol(r"\|\mu_{i} - \mu_{j}\|^{2}"), squared_distance_expanded())),
        Step("I(X;Z) bounds", "With $X$ uniform over the components, $I(X;Z) = H(Z) - H(Z|X)$ and "
             "$H(Z|X) = \\frac1N\\sum_i h_i$ cancels (theory.md 4.3 b).",
             [sp.Le(i_bd, i_xz), sp.Le(i_xz, i_kl)]),
        Step("I(Z;Y) bounds", "$I(Z;Y) = H(Z) - \\sum_y p(y) H(Z|Y=y)$; bounding each entropy on the "
             "safe side gives rigorous bounds (derived here).",
             [sp.Le(h_bd - sp.Sum(p_y * h_kl_y, (sp.Symbol("y"), 1, sp.Symbol("n_y"))), i_zy),
              sp.Le(i_zy, h_kl - sp.Sum(p_y * h_bd_y, (sp.Symbol("y"), 1, sp.Symbol("n_y"))))]),
        Step("sandwich", "Ordering of the bounds (Kolchinsky & Tracey).",
             [sp.Le(h_cond, h_bd), sp.Le(h_bd, sp.Symbol("H(Z)")), sp.Le(sp.Symbol("H(Z)"), h_kl),
              sp.Le(h_kl, h_cond + sp.log(n_comp))]),
        Step("log density", "Score of sample $z_i$ under component $j$ [standard].",
             sp.Eq(sp.Symbol(r"\ln p(z|x_{j})"), log_density_isotropic())),
        Step("InfoNCE / leave-one-out", "Minibatch bounds with $s_{ij} = \\ln p(z_i|x_j)$ (theory.md 4.3 a).",
             [sp.Le(nce_lo, i_xz), sp.Le(i_xz, nce_hi)]),
        Step("Gibbs log-likelihood", "Expected log-likelihood of one ensemble member per point and output, "
             "$r = y - \\mu$, $v = \\sigma^2$ (theory.md 4.3 c).",
             sp.Eq(sp.Symbol(r"\ell_{Gibbs}"), gibbs_log_likelihood())),
        Step("Bayes log-likelihood", "Log-likelihood of the ensemble predictive $N(\\mu, \\Sigma + \\nu I)$ "
             "over $n$ points, one output (theory.md 4.3 c). By Jensen, Bayes $\\ge$ Gibbs.",
             sp.Eq(sp.Symbol(r"\ell_{Bayes}"), bayes_log_likelihood())),
        Step("KL to the prior", "KL of the trained ensemble's output distribution to the initial one "
             "$N(0, K)$, per output (info_ntk dkl_output; theory.md 4.3 c).",
             sp.Eq(sp.Symbol(r"D_{KL}(q_t\|q_0)"), kl_gaussians_matrix())),
    )
    return Derivation(
        name="ensemble-information",
        title="Information quantities of infinite ensembles: Gaussian-mixture entropy bounds",
        reference=f"{KT_REFERENCE}; {SA_REFERENCE}; isotropic specialisations and I(Z;Y) combinations derived here",
        assumptions=(
            "X uniform over N evaluation inputs (equal mixture weights 1/N)",
            "Z | x_i ~ N(mu_i, s_i I_k) with s_i > 0 (per-component isotropic covariance)",
            "Chernoff order 0 < alpha < 1; observation noise variance nu > 0; covariances positive definite",
        ),
        inputs={
            "sq_dist": "squared Euclidean distance ||mu_i - mu_j||^2 over (i, j)",
            "var_i, var_j": "component variances s_i (rows), s_j (columns)",
            "dim": "dimension k of Z",
            "alpha": "Chernoff order",
            "residual, variance, noise_variance": "y - mu, sigma^2 and nu per point and output",
            "cov_post, cov_prior, mean_diff": "Sigma_t, Sigma_0 (n, n) and mu_t - mu_0 (n, 1)",
            "predictive_cov, residual_vec": "Sigma_t + nu I (n, n) and y - mu_t (n, 1)",
        },
        steps=steps,
        results={
            "entropy": gaussian_entropy(),
            "kl": kl,
            "chernoff": ch,
            "bhattacharyya": bd,
            "log_density": log_density_isotropic(),
            "sq_dist": squared_distance_expanded(),
            "sq_dist_direct": squared_distance_direct(),
            "pairwise_entropy": pairwise_entropy_estimator(),
            "pairwise_information": pairwise_information_estimator(),
            "infonce_lower": nce_lo,
            "infonce_upper": nce_hi,
            "gibbs": gibbs_log_likelihood(),
            "bayes": bayes_log_likelihood(),
            "kl_to_prior": kl_gaussians_matrix(),
        },
    )
