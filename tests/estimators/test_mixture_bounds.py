"""Pairwise mixture-entropy bounds (Kolchinsky & Tracey 2017; theory.md 4.3 b, 4.5, 5.7).

Independent routes: Monte Carlo estimates of H(Z) with standard-error tolerances, a direct
double-loop oracle from the general Gaussian KL / Chernoff formulas (matrix traces and log-dets of
s I_k, not the isotropic forms the kernels were generated from), mpmath at 50 digits, and the
limits where the estimators are exact.
"""

from __future__ import annotations

import math
import tracemalloc

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from ibtheory.estimators import mixture_entropy_bounds, pairwise_terms
from ibtheory.testing import pairwise_rounding

#: Float64 agreement of two routes through O(N) sums of logs (round-off ~1e-15 per term).
RTOL = 1e-11
#: Monte Carlo tolerance in standard errors: a 5-sigma miss has probability ~6e-7 per check.
N_SIGMA = 5.0
#: MC samples per check: SE of H(Z) ~ 0.005 nats for these mixtures.
N_MC = 40_000


def _entropy_components(var: np.ndarray, k: int) -> np.ndarray:
    return 0.5 * k * np.log(2 * np.pi * np.e * var)


def _oracle(means: np.ndarray, var: np.ndarray) -> tuple[float, float]:
    """Double loop over (i, j) with the general Gaussian formulas on S = s I_k (hand-written oracle)."""
    n, k = means.shape
    eye = np.eye(k)
    kl = np.empty((n, n))
    bd = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            si, sj = var[i] * eye, var[j] * eye
            dm = means[i] - means[j]
            sj_inv = np.linalg.inv(sj)
            kl[i, j] = 0.5 * (np.trace(sj_inv @ si) + dm @ sj_inv @ dm - k
                              + np.linalg.slogdet(sj)[1] - np.linalg.slogdet(si)[1])
            avg = 0.5 * (si + sj)
            bd[i, j] = (dm @ np.linalg.inv(avg) @ dm / 8
                        + 0.5 * (np.linalg.slogdet(avg)[1] - 0.5 * np.linalg.slogdet(si)[1] - 0.5 * np.linalg.slogdet(sj)[1]))
    h = _entropy_components(var, k).mean()
    lower = h - np.mean(logsumexp(-bd, axis=1) - math.log(n))
    upper = h - np.mean(logsumexp(-kl, axis=1) - math.log(n))
    return float(lower), float(upper)


def _mc_entropy(means: np.ndarray, var: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """Monte Carlo H(Z) = -E log p(Z) and its standard error."""
    n, k = means.shape
    comp = rng.integers(n, size=N_MC)
    z = means[comp] + np.sqrt(var[comp])[:, None] * rng.standard_normal((N_MC, k))
    sq = ((z[:, None, :] - means[None]) ** 2).sum(-1)
    logp = logsumexp(-0.5 * sq / var[None] - 0.5 * k * np.log(2 * np.pi * var[None]), axis=1) - math.log(n)
    return float(-logp.mean()), float(logp.std(ddof=1) / math.sqrt(N_MC))


def test_theory_reference_values():
    # theory.md 4.5 item 3: mu ~ default_rng(0).normal((30, 2)), var 0.3: BD 2.4713, KL 3.4362.
    mu = np.random.default_rng(0).normal(size=(30, 2))
    lo, hi = mixture_entropy_bounds(mu, np.full(30, 0.3))
    assert lo == pytest.approx(2.4713, abs=5e-5)
    assert hi == pytest.approx(3.4362, abs=5e-5)


@pytest.mark.parametrize("case", range(4))
def test_matches_double_loop_oracle(case):
    rng = np.random.default_rng(case)
    n, k = [(7, 1), (12, 3), (5, 4), (20, 2)][case]
    means = rng.normal(scale=1.5, size=(n, k))
    var = rng.uniform(0.05, 3.0, size=n)
    lo, hi = mixture_entropy_bounds(means, var, chunk_size=3)
    o_lo, o_hi = _oracle(means, var)
    assert float(lo) == pytest.approx(o_lo, rel=RTOL, abs=RTOL)
    assert float(hi) == pytest.approx(o_hi, rel=RTOL, abs=RTOL)


def test_matches_mpmath_with_extreme_variances():
    # variances over 8 decades and far-apart means: terms underflow in float64 without log-sum-exp.
    means = np.array([[0.0, 0.0], [3.0, -1.0], [40.0, 2.0], [0.5, 0.1], [-7.0, 9.0]])
    var = np.array([1e-4, 2.0, 1e4, 0.3, 5e-2])
    mpmath.mp.dps = 50
    n, k = means.shape
    terms_kl, terms_bd = [], []
    for i in range(n):
        row_kl, row_bd = [], []
        for j in range(n):
            si, sj = mpmath.mpf(var[i]), mpmath.mpf(var[j])
            d2 = sum((mpmath.mpf(means[i, d]) - mpmath.mpf(means[j, d])) ** 2 for d in range(k))
            row_kl.append(mpmath.exp(-(k * (si / sj - 1 - mpmath.log(si / sj)) / 2 + d2 / (2 * sj))))
            row_bd.append(mpmath.exp(-(d2 / (4 * (si + sj)) + k * mpmath.log((si + sj) / (2 * mpmath.sqrt(si * sj))) / 2)))
        terms_kl.append(mpmath.log(mpmath.fsum(row_kl) / n))
        terms_bd.append(mpmath.log(mpmath.fsum(row_bd) / n))
    h = mpmath.fsum(k * mpmath.log(2 * mpmath.pi * mpmath.e * mpmath.mpf(v)) / 2 for v in var) / n
    lo, hi = mixture_entropy_bounds(means, var)
    assert float(lo) == pytest.approx(float(h - mpmath.fsum(terms_bd) / n), rel=RTOL)
    assert float(hi) == pytest.approx(float(h - mpmath.fsum(terms_kl) / n), rel=RTOL)


@pytest.mark.parametrize(
    "n, k, scale, equal_var",
    [(30, 2, 1.0, True), (25, 3, 2.0, False), (40, 1, 0.5, False), (10, 5, 3.0, False)],
)
def test_sandwich_against_monte_carlo(n, k, scale, equal_var):
    rng = np.random.default_rng(n * 100 + k)
    means = rng.normal(scale=scale, size=(n, k))
    var = np.full(n, 0.3) if equal_var else rng.uniform(0.1, 1.5, size=n)
    # the unclipped bounds (mixture_entropy_bounds clips them into this very chain)
    terms = pairwise_terms(means, var)
    lo, hi = float(terms.h_components + terms.i_bd), float(terms.h_components + terms.i_kl)
    h_cond = float(_entropy_components(var, k).mean())
    h_mc, se = _mc_entropy(means, var, rng)
    tol = pairwise_rounding(means, var)
    assert h_cond - tol <= lo
    assert lo <= h_mc + N_SIGMA * se
    assert h_mc - N_SIGMA * se <= hi
    assert hi <= h_cond + math.log(n) + tol
    assert lo <= hi + tol


def test_exact_when_components_coincide():
    means = np.tile([[0.3, -1.2, 4.0]], (17, 1))
    lo, hi = mixture_entropy_bounds(means, 0.7)
    h = 0.5 * 3 * math.log(2 * math.pi * math.e * 0.7)
    assert float(lo) == pytest.approx(h, abs=1e-12)
    assert float(hi) == pytest.approx(h, abs=1e-12)


def test_exact_when_components_separate():
    rng = np.random.default_rng(3)
    means = rng.normal(size=(12, 2)) * 1e4
    var = rng.uniform(0.5, 2.0, size=12)
    lo, hi = mixture_entropy_bounds(means, var)
    h = float(_entropy_components(var, 2).mean()) + math.log(12)
    tol = pairwise_rounding(means, var)  # ~1e-9 here: spread^2 / s ~ 1e8
    assert float(lo) == pytest.approx(h, abs=tol)
    assert float(hi) == pytest.approx(h, abs=tol)


def test_exact_for_separated_clusters_of_identical_components():
    # 3 far-apart clusters of identical components (sizes 2, 3, 5): H = H(Z|X) + H(cluster).
    centres = np.array([[0.0, 0.0], [1e4, 0.0], [0.0, 1e4]])
    sizes = np.array([2, 3, 5])
    means = np.repeat(centres, sizes, axis=0)
    lo, hi = mixture_entropy_bounds(means, 0.2)
    p = sizes / sizes.sum()
    h = 0.5 * 2 * math.log(2 * math.pi * math.e * 0.2) - float(np.sum(p * np.log(p)))
    tol = pairwise_rounding(means, 0.2)
    assert float(lo) == pytest.approx(h, abs=tol)
    assert float(hi) == pytest.approx(h, abs=tol)


def test_translation_invariance_and_large_offsets():
    rng = np.random.default_rng(5)
    means = rng.normal(size=(15, 3))
    var = rng.uniform(0.2, 1.0, size=15)
    a = mixture_entropy_bounds(means, var)
    b = mixture_entropy_bounds(means + 1e6, var)
    np.testing.assert_allclose(np.array(b), np.array(a), rtol=1e-9)


def test_chunking_and_batching_do_not_change_the_result():
    rng = np.random.default_rng(7)
    means = rng.normal(size=(3, 23, 2))
    var = rng.uniform(0.1, 1.0, size=(3, 23))
    ref = mixture_entropy_bounds(means, var)
    assert ref.lower.shape == (3,)
    for chunk in (1, 5, 23, 100):
        got = mixture_entropy_bounds(means, var, chunk_size=chunk)
        np.testing.assert_allclose(got.lower, ref.lower, rtol=RTOL)
        np.testing.assert_allclose(got.upper, ref.upper, rtol=RTOL)
    for b in range(3):
        one = mixture_entropy_bounds(means[b], var[b])
        assert float(one.lower) == pytest.approx(ref.lower[b], rel=RTOL)
        assert float(one.upper) == pytest.approx(ref.upper[b], rel=RTOL)


def test_bits_are_nats_over_ln2():
    rng = np.random.default_rng(9)
    means, var = rng.normal(size=(9, 2)), rng.uniform(0.1, 1.0, size=9)
    nats = mixture_entropy_bounds(means, var)
    bits = mixture_entropy_bounds(means, var, units="bits")
    np.testing.assert_allclose(np.array(bits), np.array(nats) / math.log(2), rtol=1e-15)


def test_torch_kernel_agrees_with_numpy():
    torch = pytest.importorskip("torch")
    from ibtheory._generated import mixture_numpy, mixture_torch

    rng = np.random.default_rng(11)
    mr, mc = rng.normal(size=(4, 3)), rng.normal(size=(9, 3))
    vr, vc = rng.uniform(0.1, 1, 4), rng.uniform(0.1, 1, 9)
    want = mixture_numpy.mixture_pairwise_rows(mr, vr, mc, vc, 3, 9)
    got = mixture_torch.mixture_pairwise_rows(*(torch.as_tensor(a) for a in (mr, vr, mc, vc)), 3, 9)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-13)


def test_memory_is_bounded_by_the_chunk():
    # N = 3000: one N x N float64 array is 72 MB; a 64-row block is 1.5 MB.
    rng = np.random.default_rng(13)
    means, var = rng.normal(size=(3000, 4)), rng.uniform(0.5, 1.0, 3000)
    tracemalloc.start()
    mixture_entropy_bounds(means, var, chunk_size=64)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20 * 64 * 3000 * 8, f"peak {peak / 1e6:.1f} MB"


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 12),
    k=st.integers(1, 4),
    scale=st.floats(1e-3, 1e3),
    seed=st.integers(0, 2**31),
)
def test_ordering_property(n, k, scale, seed):
    """0 <= i_bd <= i_kl <= ln N for the UNCLIPPED terms, up to their round-off (D_ii = 0, D >= 0,
    D_BD <= D_KL); the public bounds are those terms clipped into that chain."""
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(n, k)) * scale
    var = rng.uniform(0.01, 10.0, size=n)
    terms = pairwise_terms(means, var)
    assert terms.n_components == n
    h_cond = float(_entropy_components(var, k).mean())
    assert float(terms.h_components) == pytest.approx(h_cond, rel=RTOL, abs=RTOL)
    i_bd, i_kl = float(terms.i_bd), float(terms.i_kl)
    tol = pairwise_rounding(means, var)
    assert -tol <= i_bd <= i_kl + tol
    assert i_kl <= math.log(n) + tol
    # the documented clipping, and nothing else, separates the public values from the raw ones
    lo, hi = (float(v) for v in mixture_entropy_bounds(means, var))
    want_bd = min(max(i_bd, 0.0), math.log(n))
    assert lo == float(terms.h_components + want_bd)
    assert hi == float(terms.h_components + min(max(i_kl, want_bd), math.log(n)))


@pytest.mark.parametrize(
    "means, variances, match",
    [
        (np.zeros((4, 2)), np.array([1.0, 0.0, 1.0, 1.0]), "variances must be > 0"),
        (np.zeros((4, 2)), np.array([1.0, -2.0, 1.0, 1.0]), "variances must be > 0"),
        (np.zeros((4, 2)), np.ones(3), "variances must have shape"),
        (np.zeros(4), np.ones(4), r"means must have shape \(\.\.\., N, k\)"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), np.ones(2), "means contains a non-finite"),
        (np.zeros((2, 2)), np.array([1.0, np.inf]), "variances contains a non-finite"),
        (np.zeros((0, 2)), np.ones(0), "at least one component"),
    ],
)
def test_bad_input_is_refused(means, variances, match):
    with pytest.raises(ValueError, match=match):
        mixture_entropy_bounds(means, variances)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="units must be"):
        mixture_entropy_bounds(np.zeros((2, 1)), 1.0, units="bit")
    with pytest.raises(ValueError, match="chunk_size must be"):
        mixture_entropy_bounds(np.zeros((2, 1)), 1.0, chunk_size=0)


def test_symbolic_isotropic_forms_match_explicit_matrices():
    # KL and Chernoff of N(m_i, s_i I_2), N(m_j, s_j I_2) from explicit 2x2 matrices (independent of
    # the isotropic forms the kernels are generated from).
    import sympy as sp

    from ibtheory.symbolic import _mixture as m

    si, sj, a = m.var_i, m.var_j, sp.Rational(1, 3)
    m1, m2 = sp.symbols("m1 m2", real=True)
    dm = sp.Matrix([m1, m2])
    s_i, s_j = si * sp.eye(2), sj * sp.eye(2)
    kl = sp.Rational(1, 2) * ((s_j.inv() * s_i).trace() + (dm.T * s_j.inv() * dm)[0] - 2
                               + sp.log(s_j.det()) - sp.log(s_i.det()))
    mix = (1 - a) * s_i + a * s_j
    ch = a * (1 - a) / 2 * (dm.T * mix.inv() * dm)[0] + sp.log(mix.det() / (s_i.det() ** (1 - a) * s_j.det() ** a)) / 2
    sub = {m.dim: 2, m.sq_dist: m1**2 + m2**2}
    diffs = (kl - m.kl_isotropic().subs(sub), ch - m.chernoff_isotropic(a).subs(sub))
    for point in ({si: sp.Rational(3, 7), sj: 5, m1: 2, m2: sp.Rational(-1, 3)}, {si: 11, sj: sp.Rational(1, 9), m1: 0, m2: 4}):
        for d in diffs:
            assert abs(d.subs(point).evalf(50)) < sp.Float("1e-45")


def test_rendered_derivation_is_fresh():
    from pathlib import Path

    from ibtheory.symbolic._mixture import mixture_information_derivation

    path = Path(__file__).resolve().parents[2] / "derivations" / "ensemble-information.md"
    assert path.read_text() == mixture_information_derivation().to_markdown(), (
        "run `ibtheory derive --all --out derivations/`"
    )


#: Far-apart components: H_BD = H_KL = H(Z|X) + ln N exactly (every D_ij, i != j, is >= 1e7 so
#: exp(-D_ij) = 0); what remains is the float64 rounding of O(N) sums of logs (issue 21 target).
SEPARATED_RTOL = 1e-12


@pytest.mark.parametrize("spacing", [1e4, 1e6, 1e10])
def test_far_apart_components_give_both_bounds_h_components_plus_ln_n(spacing):
    """Components >= 1e4 standard deviations apart along a generic direction, spread up to ~1e12 s:
    the diagonal D_ii must be exactly 0 (the matrix-product distance alone gives ~eps spread^2 / s,
    which at spread^2 / s ~ 1e20 swamped the row sums and clipped both bounds to H(Z|X))."""
    rng = np.random.default_rng(17)
    n, k = 200, 3
    direction = rng.normal(size=k)
    direction /= np.linalg.norm(direction)
    means = (np.arange(n) * spacing)[:, None] * direction + rng.normal(size=(n, k))
    var = rng.uniform(0.5, 2.0, size=n)
    want = float(_entropy_components(var, k).mean()) + math.log(n)
    lo, hi = mixture_entropy_bounds(means, var)
    assert float(lo) == pytest.approx(want, rel=SEPARATED_RTOL, abs=0)
    assert float(hi) == pytest.approx(want, rel=SEPARATED_RTOL, abs=0)
    raw = pairwise_terms(means, var)  # unclipped: the clipping cannot hide an error here
    assert float(raw.i_bd) == pytest.approx(math.log(n), rel=SEPARATED_RTOL, abs=0)
    assert float(raw.i_kl) == pytest.approx(math.log(n), rel=SEPARATED_RTOL, abs=0)


#: Two evaluation orders of the same O(N) sums of logs (plain row chunks vs leave-one-out blocks).
PATHS_RTOL = 1e-12


@pytest.mark.parametrize("chunk_size", [None, 1, 5, 64])
def test_direct_distance_path_matches_plain_path_on_well_conditioned_batches(monkeypatch, chunk_size):
    """Forcing the direct-difference kernel (batch axes, ragged last chunk) where the matrix-product
    one is accurate (spread^2 / s ~ 10) gives the same terms."""
    from ibtheory.estimators import _mixture

    rng = np.random.default_rng(23)
    means = rng.normal(size=(2, 3, 71, 4))
    var = rng.uniform(0.3, 1.5, size=(2, 3, 71))
    plain = pairwise_terms(means, var, chunk_size)
    monkeypatch.setattr(_mixture, "DIRECT_DISTANCE_ABOVE", -1.0)
    exact = pairwise_terms(means, var, chunk_size)
    for name in ("h_components", "i_bd", "i_kl"):
        np.testing.assert_allclose(getattr(exact, name), getattr(plain, name), rtol=PATHS_RTOL, atol=0)
