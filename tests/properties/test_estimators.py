"""Properties of the information estimators and bounds (ibtheory.estimators), issue 21.

Valid extremes: bounds finite, ordered, inside their theorems' ranges (H(Z|X) <= lower <= upper <=
H(Z|X) + ln N; 0 <= I(M;Y) <= H(Y); I(T;Y) <= I(X;T)), equal to an independent direct-difference
oracle of the pairwise terms, exactly equivariant under scaling, and bracketing a Monte Carlo
entropy. Malformed input: ValueError/TypeError naming the argument.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from ibtheory import estimators
from ibtheory.testing import (
    MALFORMED_KINDS,
    magnitudes,
    malformed_value,
    noise_levels,
    pairwise_rounding,
)

from ._cases import case, examples, refuses

#: Relative agreement of the pairwise terms with the direct-difference oracle: both sum N terms
#: of O(1) logs in float64 (a few hundred eps), with a margin.
ORACLE_RTOL = 1e-11
#: Round-off allowed at the ends of the clipped ranges (nats): clipping moves at most this.
END_TOL = 1e-12
#: Monte Carlo: |truth - estimate| <= MC_K standard errors (Gaussian tail ~6e-7 per check).
MC_K = 5.0


def direct_pairwise(mu: np.ndarray, var: np.ndarray) -> tuple[float, float]:
    """(i_bd, i_kl) from direct differences mu_i - mu_j (no cancellation), scipy logsumexp."""
    n, k = mu.shape
    d2 = np.sum((mu[:, None, :] - mu[None, :, :]) ** 2, axis=-1)
    si, sj = var[:, None], var[None, :]
    kl = 0.5 * (k * si / sj + d2 / sj - k + k * np.log(sj / si))
    bd = d2 / (4 * (si + sj)) + 0.5 * k * np.log((si + sj) / 2) - 0.25 * k * (np.log(si) + np.log(sj))
    i_kl = -float(np.mean(logsumexp(-kl, axis=1) - math.log(n)))
    i_bd = -float(np.mean(logsumexp(-bd, axis=1) - math.log(n)))
    return i_bd, i_kl


@st.composite
def clustered_mixtures(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Mixtures of 2..6 components in dimension 1..3: clusters far apart (up to 1e8 standard
    deviations) whose members lie within a few standard deviations, variances 1e-100..1e100."""
    n = draw(st.integers(2, 6))
    k = draw(st.integers(1, 3))
    scale = draw(magnitudes(1e-50, 1e50))  # standard deviation
    spread = draw(magnitudes(1e-3, 1e8))  # cluster distance in standard deviations
    unit = st.floats(-3, 3, allow_nan=False)
    local = np.array(draw(st.lists(unit, min_size=n * k, max_size=n * k))).reshape(n, k)
    cluster = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    ratios = np.array(draw(st.lists(st.floats(0.25, 4.0), min_size=n, max_size=n)))
    means = (local + spread * cluster[:, None]) * scale
    return means, ratios * scale**2


@given(clustered_mixtures())
def test_pairwise_terms_equal_a_direct_difference_oracle(mixture: tuple[np.ndarray, np.ndarray]) -> None:
    mu, var = mixture
    with case("pairwise_terms"):
        terms = estimators.pairwise_terms(*estimators.check_mixture(mu, var))
        i_bd, i_kl = direct_pairwise(mu, var)
        log_n = math.log(mu.shape[0])
        assert abs(float(terms.i_bd) - i_bd) <= ORACLE_RTOL * log_n, (float(terms.i_bd), i_bd)
        assert abs(float(terms.i_kl) - i_kl) <= ORACLE_RTOL * log_n, (float(terms.i_kl), i_kl)


@given(clustered_mixtures())
def test_mixture_bounds_ordered_within_their_theorem_range(mixture: tuple[np.ndarray, np.ndarray]) -> None:
    mu, var = mixture
    with case("mixture_entropy_bounds"):
        lower, upper = estimators.mixture_entropy_bounds(mu, var)
        h_cond = float(np.mean(0.5 * mu.shape[1] * np.log(2 * np.pi * np.e * var)))
        assert np.isfinite(lower) and np.isfinite(upper)
        assert h_cond - END_TOL <= lower <= upper <= h_cond + math.log(mu.shape[0]) + END_TOL


@given(clustered_mixtures(), magnitudes(1e-100, 1e100))
def test_mixture_bounds_shift_by_k_log_c_under_scaling(mixture: tuple[np.ndarray, np.ndarray], c: float) -> None:
    # H(cZ) = H(Z) + k ln c, and the pairwise distances are scale-free: both bounds shift exactly.
    mu, var = mixture
    if not (np.all(np.isfinite(mu * c)) and np.all(var * c * c > 0) and np.all(np.isfinite(var * c * c))):
        return
    with case("mixture_entropy_bounds"):
        lo0, hi0 = estimators.mixture_entropy_bounds(mu, var)
        lo1, hi1 = estimators.mixture_entropy_bounds(mu * c, var * c * c)
        shift = mu.shape[1] * math.log(c)
        tol = 1e-9 * (1 + abs(shift) + abs(float(lo0)))
        assert abs(float(lo1) - float(lo0) - shift) <= tol
        assert abs(float(hi1) - float(hi0) - shift) <= tol


@settings(max_examples=examples(8))
@given(st.integers(2, 5), st.integers(1, 2), st.integers(0, 2**32 - 1), magnitudes(1e-2, 1e2))
def test_mixture_bounds_bracket_a_monte_carlo_entropy(n: int, k: int, seed: int, spread: float) -> None:
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=(n, k)) * spread
    var = rng.uniform(0.3, 3.0, size=n)
    m = 40_000
    comp = rng.integers(n, size=m)
    z = mu[comp] + rng.normal(size=(m, k)) * np.sqrt(var[comp])[:, None]
    d2 = np.sum((z[:, None, :] - mu[None, :, :]) ** 2, axis=-1)
    log_p = logsumexp(-0.5 * d2 / var - 0.5 * k * np.log(2 * np.pi * var), axis=1) - math.log(n)
    h_mc, se = float(-log_p.mean()), float(log_p.std(ddof=1) / math.sqrt(m))
    with case("mixture_entropy_bounds"):
        lower, upper = estimators.mixture_entropy_bounds(mu, var)
        assert float(lower) - MC_K * se <= h_mc <= float(upper) + MC_K * se


@given(st.integers(2, 8), magnitudes(1e4, 1e150), magnitudes(1e-100, 1e100))
def test_far_apart_components_reach_h_cond_plus_log_n(n: int, separation: float, sd: float) -> None:
    mu = np.arange(n, dtype=np.float64)[:, None] * separation * sd
    if not np.all(np.isfinite(mu)):
        return
    with case("mixture_entropy_bounds"):
        lower, upper = estimators.mixture_entropy_bounds(mu, sd * sd)
        top = 0.5 * math.log(2 * math.pi * math.e * sd * sd) + math.log(n)
        assert abs(float(lower) - top) <= 1e-9 * (1 + abs(top))
        assert abs(float(upper) - top) <= 1e-9 * (1 + abs(top))


@st.composite
def labelled_activations(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(2, 12))
    d = draw(st.integers(1, 3))
    scale = draw(magnitudes(1e-100, 1e100))
    unit = np.array(draw(st.lists(st.floats(-1, 1, allow_nan=False), min_size=n * d, max_size=n * d))).reshape(n, d)
    labels = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    return unit * scale, labels


@given(labelled_activations(), noise_levels(1e-200, 1e200))
def test_kde_information_inside_zero_and_h_y(data: tuple[np.ndarray, np.ndarray], noise: float) -> None:
    acts, labels = data
    with case("kde_information"):
        r = estimators.kde_information(acts, labels, noise_variance=noise, units="nats")
        counts = np.bincount(labels)
        p = counts[counts > 0] / labels.size
        h_y = float(-(p * np.log(p)).sum())
        values = [r.i_xt_lower, r.i_xt_upper, r.i_ty_lower, r.i_ty_upper]
        assert all(np.isfinite(v) for v in values)
        assert 0 <= r.i_xt_lower <= r.i_xt_upper <= math.log(labels.size) + END_TOL
        assert 0 <= r.i_ty_lower <= r.i_ty_upper <= h_y + END_TOL
        # the raw I(X;M) bounds are bounds up to round-off (Kolchinsky & Tracey: 0 <= lower <= upper)
        tol = pairwise_rounding(acts, noise)
        assert -tol <= r.i_xt_lower_raw <= r.i_xt_upper_raw + tol


@given(labelled_activations(), st.integers(1, 40), magnitudes(1e-300, 1e300))
def test_binning_information_obeys_data_processing(data: tuple[np.ndarray, np.ndarray], n_bins: int, half: float) -> None:
    acts, labels = data
    with case("binning_information"):
        r = estimators.binning_information(acts, labels, n_bins=n_bins, value_range=(-half, half), units="nats")
        counts = np.bincount(labels)
        p = counts[counts > 0] / labels.size
        h_y = float(-(p * np.log(p)).sum())
        assert np.isfinite(r.i_xt) and np.isfinite(r.i_ty)
        assert 0 <= r.i_ty <= min(float(r.i_xt), h_y) + END_TOL
        assert r.i_xt <= math.log(labels.size) + END_TOL


@given(st.integers(2, 30), magnitudes(1e-300, 1e300))
def test_binning_distinct_bins_give_log_n(n: int, half: float) -> None:
    # n points at the centres of n bins over (-half, half): each its own bin, I(X;T) = ln n
    centres = (-half + (np.arange(n) + 0.5) * (half / n) * 2)[:, None]
    if not np.all(np.isfinite(centres)) or np.unique(centres).size < n:
        return
    with case("binning_information"):
        r = estimators.binning_information(centres, np.zeros(n, dtype=int), n_bins=n, value_range=(-half, half), units="nats")
        assert abs(float(r.i_xt) - math.log(n)) <= END_TOL


@given(st.lists(magnitudes(1e-10, 1e3), min_size=2, max_size=5), magnitudes(1, 1e300), st.floats(1e-12, 1 - 1e-12))
def test_input_compression_bound_grows_with_information(i_xt: list[float], m: float, delta: float) -> None:
    with case("input_compression_bound"):
        eps = estimators.input_compression_bound(np.sort(i_xt), m, delta).epsilon
        assert not np.any(np.isnan(eps))
        assert np.all(eps >= 0) and np.all(np.diff(eps) >= 0)


@given(st.lists(st.integers(-(2**62), 2**62), min_size=1, max_size=30))
def test_label_codes_are_dense_and_order_preserving(labels: list[int]) -> None:
    y = np.array(labels)
    with case("label_codes"):
        codes, c = estimators.label_codes(y)
        assert c == np.unique(y).size and set(codes) == set(range(c))
        assert np.array_equal(np.argsort(codes, kind="stable"), np.argsort(y, kind="stable"))


@given(st.lists(st.lists(st.integers(0, 5), min_size=6, max_size=6), min_size=1, max_size=4))
def test_plug_in_entropy_rows_within_zero_and_log_n(rows: list[list[int]]) -> None:
    codes = np.array(rows)
    with case("plug_in_entropy_rows"):
        h = estimators.plug_in_entropy_rows(codes)
        assert np.all(h >= -END_TOL) and np.all(h <= math.log(codes.shape[1]) + END_TOL)
        for row, value in zip(codes, h, strict=True):
            p = np.bincount(row) / row.size
            p = p[p > 0]
            assert abs(value + float((p * np.log(p)).sum())) <= END_TOL


# ----------------------------------------------------------------------------- malformed input
MEANS = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
ACTS = np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0.9], [0.2, 0.2]])
LABELS = np.array([0, 1, 0, 1])
ARRAY_KINDS = [*MALFORMED_KINDS, "bool", "empty"]


@pytest.mark.parametrize("kind", ARRAY_KINDS)
def test_mixture_bounds_refuse_malformed_means(kind: str) -> None:
    refuses("mixture_entropy_bounds", "means", estimators.mixture_entropy_bounds, malformed_value(kind, MEANS), 1.0)
    refuses("check_mixture", "means", estimators.check_mixture, malformed_value(kind, MEANS), 1.0)


@pytest.mark.parametrize("kind", [*ARRAY_KINDS, "negative", "wrong_ndim"])
def test_mixture_bounds_refuse_malformed_variances(kind: str) -> None:
    refuses("mixture_entropy_bounds", "variances", estimators.mixture_entropy_bounds, MEANS, malformed_value(kind, np.ones(3)))


@pytest.mark.parametrize(("arg", "value"), [("chunk_size", 0), ("chunk_size", 1.5), ("chunk_size", True), ("units", "nat")])
def test_mixture_bounds_refuse_bad_options(arg: str, value: object) -> None:
    refuses("mixture_entropy_bounds", arg, estimators.mixture_entropy_bounds, MEANS, 1.0, **{arg: value})


@pytest.mark.parametrize("kind", ARRAY_KINDS)
@pytest.mark.parametrize("fn", ["kde_information", "binning_information"])
def test_estimators_refuse_malformed_activations(fn: str, kind: str) -> None:
    options = {"noise_variance": 0.1} if fn == "kde_information" else {"n_bins": 10, "value_range": (-1, 1)}
    refuses(fn, "activations", getattr(estimators, fn), malformed_value(kind, ACTS), LABELS, **options)


@pytest.mark.parametrize(
    "labels",
    [np.array([0, 1, 0]), np.array([0.5, 1, 0, 1]), np.array([0, np.nan, 0, 1]), np.array([0, np.inf, 0, 1]),
     np.array(["a", "b", "a", "b"]), np.array([0, 1, 0, 1]) + 0j, np.zeros((4, 1)), None],
)
@pytest.mark.parametrize("fn", ["kde_information", "binning_information"])
def test_estimators_refuse_malformed_labels(fn: str, labels: object) -> None:
    options = {"noise_variance": 0.1} if fn == "kde_information" else {"n_bins": 10, "value_range": (-1, 1)}
    refuses(fn, "labels", getattr(estimators, fn), ACTS, labels, **options)


@pytest.mark.parametrize(("kind", "value"), [("nan", float("nan")), ("zero", 0.0), ("negative", -1.0), ("inf", float("inf")),
                                             ("complex", 1j), ("string", "0.1"), ("none", None), ("bool", True)])
def test_kde_information_refuses_bad_noise(kind: str, value: object) -> None:
    refuses("kde_information", "noise_variance", estimators.kde_information, ACTS, LABELS, noise_variance=value)


@pytest.mark.parametrize(
    ("arg", "value"),
    [("n_bins", 0), ("n_bins", 2.5), ("n_bins", True), ("value_range", (1, -1)), ("value_range", (0, np.inf)),
     ("value_range", (0, np.nan)), ("value_range", 3), ("value_range", (0, 1, 2)), ("value_range", ("a", "b")), ("units", "x")],
)
def test_binning_information_refuses_bad_options(arg: str, value: object) -> None:
    options: dict[str, object] = {"n_bins": 10, "value_range": (-1.0, 1.0), arg: value}
    refuses("binning_information", arg, estimators.binning_information, ACTS, LABELS, **options)


@pytest.mark.parametrize(
    ("arg", "args"),
    [("i_xt", (-1.0, 10, 0.1)), ("i_xt", (np.nan, 10, 0.1)), ("i_xt", (1j, 10, 0.1)), ("i_xt", ("1", 10, 0.1)),
     ("n_samples", (1.0, 0, 0.1)), ("n_samples", (1.0, np.inf, 0.1)), ("n_samples", (1.0, None, 0.1)),
     ("delta", (1.0, 10, 0.0)), ("delta", (1.0, 10, 1.0)), ("delta", (1.0, 10, np.nan)), ("delta", (1.0, 10, "0.1")),
     ("delta", (1.0, 10, True))],
)
def test_input_compression_bound_refuses_bad_input(arg: str, args: tuple[object, ...]) -> None:
    refuses("input_compression_bound", arg, estimators.input_compression_bound, *args)
