"""Information-plane estimators (theory.md 5.4, 5.7, 5.8, 6): binning and pairwise-KDE oracles,
an independent counting route, Monte-Carlo brackets, the input-compression bound and bad input."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ibtheory
from ibtheory.estimators import (
    binning_information,
    input_compression_bound,
    kde_information,
)
from ibtheory.models import twelve_bit_task
from ibtheory.testing import pairwise_rounding

#: Plug-in entropies of counts: sums of <= 4096 terms n ln n in float64, relative round-off ~1e-15.
ENTROPY_ATOL = 1e-10
#: KDE limits with components 1e3 noise standard deviations apart: the off-diagonal kernels are
#: exp(-1e6 / 8) = 0 in float64, so the limit holds to round-off.
KDE_LIMIT_ATOL = 1e-10
#: Monte-Carlo bracket: the true mixture entropy lies in [BD, KL]; the MC estimate gets 5 standard
#: errors of slack (a 5-sigma miss has probability ~6e-7 per test).
MC_SIGMAS = 5.0
LN2 = math.log(2.0)


def counting_information(activations, labels, n_bins, low, high):
    """Independent route: bin each row with Python floats, count symbols with Counter (bits)."""
    width = (high - low) / n_bins
    symbols = [
        tuple(min(max(math.floor((v - low) / width), 0), n_bins - 1) for v in row)
        for row in activations.tolist()
    ]
    n = len(symbols)

    def entropy(items):
        return -sum(c / n * math.log2(c / n) for c in Counter(items).values())

    h_t = entropy(symbols)
    h_y = entropy(list(labels))
    h_ty = entropy(list(zip(symbols, labels, strict=True)))
    return h_t, h_t + h_y - h_ty


def label_entropy_bits(labels):
    p = np.bincount(labels) / labels.size
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


# ----------------------------------------------------------------------------- binning oracles
def test_constant_layer_carries_no_information():
    _, y = twelve_bit_task()
    res = binning_information(np.full((4096, 5), 0.3), y, n_bins=30, value_range=(-1.0, 1.0))
    assert res.i_xt == 0.0 and res.i_ty == 0.0


def test_injective_layer_gives_h_x_and_h_y():
    x, y = twelve_bit_task()
    res = binning_information(x.astype(float), y, n_bins=2, value_range=(0.0, 1.0))
    assert res.i_xt == pytest.approx(12.0, abs=ENTROPY_ATOL)
    assert res.i_ty == pytest.approx(label_entropy_bits(y), abs=ENTROPY_ATOL)
    assert res.h_y == pytest.approx(label_entropy_bits(y), abs=ENTROPY_ATOL)


def test_binning_records_settings_and_units():
    x, y = twelve_bit_task()
    bits = binning_information(x[:, :4], y, n_bins=2, value_range=(0, 1))
    nats = binning_information(x[:, :4], y, n_bins=2, value_range=(0, 1), units="nats")
    assert (bits.n_bins, bits.value_range, bits.units, bits.n_samples) == (2, (0.0, 1.0), "bits", 4096)
    assert nats.units == "nats"
    assert bits.i_xt == pytest.approx(4.0, abs=ENTROPY_ATOL)  # 4 fair bits
    assert nats.i_xt == pytest.approx(4.0 * LN2, abs=ENTROPY_ATOL)
    assert nats.i_ty == pytest.approx(bits.i_ty * LN2, abs=ENTROPY_ATOL)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 60),
    d=st.integers(1, 4),
    n_bins=st.integers(1, 12),
    n_classes=st.integers(1, 4),
)
def test_binning_matches_an_independent_counting_route(seed, n, d, n_bins, n_classes):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1.3, 1.3, size=(n, d))  # some values outside the range: edge bins
    y = rng.integers(0, n_classes, size=n)
    res = binning_information(a, y, n_bins=n_bins, value_range=(-1.0, 1.0))
    h_t, i_ty = counting_information(a, y, n_bins, -1.0, 1.0)
    assert res.i_xt == pytest.approx(h_t, abs=ENTROPY_ATOL)
    assert res.i_ty == pytest.approx(i_ty, abs=ENTROPY_ATOL)
    assert 0.0 <= res.i_ty <= min(res.i_xt, res.h_y) + ENTROPY_ATOL


def test_binning_batches_leading_axes_and_wide_layers_like_single_calls():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, size=50)
    # d = 20 with 30 bins needs 20 * log2(30) ~ 98 bits: exercises the np.unique packing path
    for d in (3, 20):
        a = np.tanh(rng.normal(size=(2, 3, 50, d)) * rng.uniform(0.1, 3.0, size=(2, 3, 1, 1)))
        batched = binning_information(a, y, n_bins=30, value_range=(-1.0, 1.0))
        assert batched.i_xt.shape == (2, 3)
        for i in range(2):
            for j in range(3):
                h_t, i_ty = counting_information(a[i, j], y, 30, -1.0, 1.0)
                assert batched.i_xt[i, j] == pytest.approx(h_t, abs=ENTROPY_ATOL)
                assert batched.i_ty[i, j] == pytest.approx(i_ty, abs=ENTROPY_ATOL)


def test_saturating_unit_compresses_while_relu_does_not():
    """theory.md 5.8 oracle 4: h = tanh(w x) loses binned information as w grows (saturation);
    h = relu(w x) binned over its own range keeps it (bins scale with the activity)."""
    x = np.linspace(-1.0, 1.0, 2001)[:, None]
    y = (x[:, 0] > 0).astype(int)
    ws = [0.5, 2.0, 10.0, 100.0]
    tanh_i = [
        float(binning_information(np.tanh(w * x), y, n_bins=30, value_range=(-1, 1)).i_xt)
        for w in ws
    ]
    relu_i = [
        float(
            binning_information(
                np.maximum(w * x, 0), y, n_bins=30, value_range=(0.0, w)
            ).i_xt
        )
        for w in ws
    ]
    assert tanh_i[1] > tanh_i[0]  # first rises (spreads over more bins)
    assert tanh_i[-1] < tanh_i[1] - 1.0  # then falls by more than a bit (saturation)
    assert max(relu_i) - min(relu_i) < 0.05  # ReLU: scale-free under the observed range


# ----------------------------------------------------------------------------- KDE oracles
def test_kde_coincident_activity_gives_zero_information():
    _, y = twelve_bit_task()
    res = kde_information(np.full((512, 3), 0.7), y[:512], noise_variance=1e-3)
    for v in (res.i_xt_lower, res.i_xt_upper, res.i_ty_lower, res.i_ty_upper):
        assert v == pytest.approx(0.0, abs=KDE_LIMIT_ATOL)


def test_kde_far_apart_activity_gives_log_n_and_h_y():
    rng = np.random.default_rng(0)
    n = 300
    a = rng.permutation(n)[:, None] * 1.0  # distinct points, spacing 1
    y = rng.integers(0, 3, size=n)
    res = kde_information(a, y, noise_variance=1e-6, units="nats")
    p = np.bincount(y) / n
    h_y = float(-(p * np.log(p)).sum())
    for v in (res.i_xt_lower, res.i_xt_upper):
        assert v == pytest.approx(math.log(n), abs=KDE_LIMIT_ATOL)
    for v in (res.i_ty_lower, res.i_ty_upper):
        assert v == pytest.approx(h_y, abs=KDE_LIMIT_ATOL)


def test_kde_matches_the_ibsgd_code_form():
    """theory.md 5.7 (ibsgd kde.py): H_BD(x, var) = H_KL(x, 4 var) + (d/2) ln(1/4), so the BD
    lower bound on I(X;M) at var equals the KL upper bound at 4 var (H(M|X) shifts by the same)."""
    rng = np.random.default_rng(3)
    a = rng.normal(size=(80, 3))
    y = rng.integers(0, 2, size=80)
    lo = kde_information(a, y, noise_variance=0.05, units="nats").i_xt_lower
    hi4 = kde_information(a, y, noise_variance=0.2, units="nats").i_xt_upper
    assert lo == pytest.approx(hi4, abs=1e-12)


@given(seed=st.integers(0, 2**32 - 1), log_var=st.floats(-4.0, 1.0), d=st.integers(1, 3))
def test_kde_lower_bounds_never_exceed_upper_bounds(seed, log_var, d):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    a = rng.normal(size=(n, d)) * rng.uniform(0.01, 2.0)
    y = rng.integers(0, 3, size=n)
    res = kde_information(a, y, noise_variance=10.0**log_var, units="nats")
    # the UNCLIPPED bounds obey the theorems (H(M|X) <= H_BD <= H_KL <= H(M|X) + ln N; each lower
    # bound below each upper bound; 0 <= I(M;Y) <= H(Y)) up to the round-off of the pairwise terms
    tol = pairwise_rounding(a, 10.0**log_var)
    h_y = label_entropy_bits(y) * LN2
    assert -tol <= res.i_xt_lower_raw <= res.i_xt_upper_raw + tol
    assert res.i_xt_upper_raw <= math.log(n) + tol
    assert res.i_ty_lower_raw <= res.i_ty_upper_raw + tol
    assert res.i_ty_lower_raw <= h_y + tol and res.i_ty_upper_raw >= -tol
    # the public values are the raw ones clipped as documented, I(X;M) >= 0 and I(M;Y) in [0, H(Y)]
    # (up to round-off: the entropy bounds are clipped into [H(M|X), H(M|X) + ln N] first)
    assert res.i_xt_lower == pytest.approx(max(res.i_xt_lower_raw, 0.0), abs=tol)
    assert res.i_ty_lower == pytest.approx(max(res.i_ty_lower_raw, 0.0), abs=tol)
    assert res.i_ty_upper == pytest.approx(max(min(res.i_ty_upper_raw, h_y), res.i_ty_lower), abs=tol)
    assert res.noise_variance == 10.0**log_var and res.units == "nats" and res.n_samples == n


def test_kde_bounds_bracket_a_monte_carlo_mixture_entropy():
    """Independent route: H(M) of the Gaussian mixture by Monte Carlo (sample M, average -ln p(M));
    H_BD <= H(M) <= H_KL (Kolchinsky & Tracey 2017), hence the I(X;M) bounds bracket the MC I(X;M)."""
    rng = np.random.default_rng(7)
    n, d, s2 = 40, 2, 0.04
    a = rng.normal(size=(n, d)) * 0.3
    y = np.zeros(n, dtype=int)
    res = kde_information(a, y, noise_variance=s2, units="nats")
    m = 200_000
    comp = rng.integers(0, n, size=m)
    samples = a[comp] + rng.normal(size=(m, d)) * math.sqrt(s2)
    sq = ((samples[:, None, :] - a[None, :, :]) ** 2).sum(-1)
    log_p = np.log(np.exp(-sq / (2 * s2)).mean(axis=1)) - 0.5 * d * math.log(2 * math.pi * s2)
    h_mc = float(-log_p.mean())
    se = float(log_p.std(ddof=1) / math.sqrt(m))
    i_mc = h_mc - 0.5 * d * math.log(2 * math.pi * math.e * s2)
    assert res.i_xt_lower_raw - MC_SIGMAS * se <= i_mc <= res.i_xt_upper_raw + MC_SIGMAS * se
    assert res.i_xt_upper_raw - res.i_xt_lower_raw > 10 * se  # the bracket is not trivially tight


def test_kde_label_bounds_respect_h_y():
    """One class: I(M;Y) = 0 = H(Y), so the upper bound (capped at H(Y)) is exactly 0."""
    rng = np.random.default_rng(4)
    a = rng.normal(size=(40, 2)) * 0.3
    res = kde_information(a, np.zeros(40, dtype=int), noise_variance=0.04)
    assert res.i_ty_upper == 0.0 and res.i_ty_lower == 0.0
    y = rng.integers(0, 2, size=40)
    res = kde_information(a, y, noise_variance=0.04)
    assert res.i_ty_upper <= label_entropy_bits(y) + ENTROPY_ATOL


def test_kde_batches_leading_axes_like_single_calls():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(3, 30, 2))
    y = rng.integers(0, 2, size=30)
    batched = kde_information(a, y, noise_variance=0.1)
    for i in range(3):
        single = kde_information(a[i], y, noise_variance=0.1)
        assert batched.i_xt_upper[i] == pytest.approx(single.i_xt_upper, abs=1e-12)
        assert batched.i_ty_lower[i] == pytest.approx(single.i_ty_lower, abs=1e-12)


# ----------------------------------------------------------------------------- bound (theory 6)
def test_input_compression_bound_formula_and_monotonicity():
    res = input_compression_bound(np.array([1.0, 5.0]), 100, 0.05)
    expected = np.sqrt((2.0 ** np.array([1.0, 5.0]) + math.log(20.0)) / 200.0)
    np.testing.assert_allclose(res.epsilon, expected, rtol=1e-14)
    i = np.linspace(0.0, 12.0, 25)
    eps = input_compression_bound(i, 1000, 0.01).epsilon
    assert np.all(np.diff(eps) > 0)
    eps_m = input_compression_bound(3.0, np.array([10, 100, 1000]), 0.01).epsilon
    assert np.all(np.diff(eps_m) < 0)
    assert ibtheory.input_compression_bound is input_compression_bound


def test_committed_infoplane_kernels_are_fresh_and_backends_agree():
    import torch

    from ibtheory._generated import infoplane_numpy, infoplane_torch
    from ibtheory.kernels import render_group

    for path, text in render_group("infoplane").items():
        assert path.read_text() == text, f"{path} is stale: run `ibtheory codegen --group infoplane`"
    i = np.array([0.0, 3.0, 12.0])
    ref = infoplane_numpy.input_compression_bound(i, 50.0, 0.1)
    out = infoplane_torch.input_compression_bound(
        torch.tensor(i, dtype=torch.float64), torch.tensor(50.0, dtype=torch.float64),
        torch.tensor(0.1, dtype=torch.float64),
    )
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-15)


def test_one_bit_of_compression_is_worth_doubling_the_sample_when_two_to_the_i_dominates():
    """theory.md 6 oracle: eps(I, m) = eps(I + 1, 2m) exactly when log(1/delta) is negligible."""
    delta = 1.0 - 1e-15  # ln(1/delta) ~ 1e-15
    a = input_compression_bound(20.0, 1000, delta).epsilon
    b = input_compression_bound(21.0, 2000, delta).epsilon
    assert a == pytest.approx(b, rel=1e-12)
    nats = input_compression_bound(20.0 * LN2, 1000, delta, units="nats")
    assert nats.epsilon == pytest.approx(a, rel=1e-12) and nats.i_xt_bits == pytest.approx(20.0)


# ----------------------------------------------------------------------------- bad input
GOOD_A = np.zeros((4, 2))
GOOD_Y = np.array([0, 1, 0, 1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_bins": None, "value_range": (-1, 1)}, "n_bins"),
        ({"n_bins": 0, "value_range": (-1, 1)}, "n_bins"),
        ({"n_bins": 2.5, "value_range": (-1, 1)}, "n_bins"),
        ({"n_bins": True, "value_range": (-1, 1)}, "n_bins"),
        ({"n_bins": 10, "value_range": None}, "value_range"),
        ({"n_bins": 10, "value_range": (1, -1)}, "low < high"),
        ({"n_bins": 10, "value_range": (0, float("nan"))}, "value_range"),
        ({"n_bins": 10, "value_range": (0, 1, 2)}, "value_range"),
        ({"n_bins": 10, "value_range": (0, 1), "units": "bit"}, "units"),
    ],
)
def test_binning_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        binning_information(GOOD_A, GOOD_Y, **kwargs)


def test_estimator_settings_are_required_keywords():
    with pytest.raises(TypeError, match="n_bins"):
        binning_information(GOOD_A, GOOD_Y, value_range=(0, 1))  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="noise_variance"):
        kde_information(GOOD_A, GOOD_Y)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        binning_information(GOOD_A, GOOD_Y, 30, (0, 1))  # type: ignore[misc]


@pytest.mark.parametrize("noise_variance", [0.0, -1.0, float("nan"), float("inf"), None, "a"])
def test_kde_rejects_bad_noise_variance(noise_variance):
    # a wrong type (None, text) is a TypeError, a bad number a ValueError (issue 21)
    with pytest.raises(TypeError if noise_variance in (None, "a") else ValueError, match="noise_variance"):
        kde_information(GOOD_A, GOOD_Y, noise_variance=noise_variance)


@pytest.mark.parametrize("estimator", ["binning", "kde"])
@pytest.mark.parametrize(
    ("activations", "labels", "match"),
    [
        (np.array([[0.0, np.nan], [1, 2], [3, 4], [5, 6]]), GOOD_Y, "non-finite"),
        (np.array([[0.0, np.inf], [1, 2], [3, 4], [5, 6]]), GOOD_Y, "non-finite"),
        (GOOD_A, np.array([0, 1, 0]), "length 3"),
        (GOOD_A, np.array([[0, 1, 0, 1]]), "one-dimensional"),
        (GOOD_A, np.array([0, 1.5, 0, 1]), "integers"),
        (GOOD_A, np.array([0, np.nan, 0, 1]), "integers"),
        (np.zeros(4), GOOD_Y, "shape"),
        (np.array([["a", "b"]] * 4), GOOD_Y, "real numbers"),
    ],
)
def test_estimators_reject_bad_activations_and_labels(estimator, activations, labels, match):
    # text activations are a wrong type: TypeError (issue 21); the rest ValueError
    with pytest.raises(TypeError if activations.dtype.kind == "U" else ValueError, match=match):
        if estimator == "binning":
            binning_information(activations, labels, n_bins=4, value_range=(0, 1))
        else:
            kde_information(activations, labels, noise_variance=0.1)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((-0.1, 100, 0.05), "i_xt"),
        ((float("nan"), 100, 0.05), "i_xt"),
        ((1.0, 0, 0.05), "n_samples"),
        ((1.0, 100, 0.0), "delta"),
        ((1.0, 100, 1.0), "delta"),
        ((1.0, 100, float("nan")), "delta"),
    ],
)
def test_input_compression_bound_rejects_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        input_compression_bound(*args)


#: KDE I(M;Y) raw bounds against H(Y): rounding of differences of entropies of size
#: |H(M|X)| + ln N (|H(M|X)| ~ 80 nats at noise 1e-8 in d = 4), a few eps each.
def _kde_rounding(noise_variance: float, d: int, n: int) -> float:
    return 16 * float(np.finfo(np.float64).eps) * (abs(0.5 * d * math.log(2 * math.pi * math.e * noise_variance)) + math.log(n))


#: Two float64 routes (ours, the estimator's) to the plug-in H(Y) of 60 labels: a few ulps of ~1.
H_Y_ROUNDOFF = 1e-14
#: Pairs with D_BD = d^2 / (8 s) >= 50 contribute exp(-50) ~ 2e-22 to a row sum: separated.
SEPARATED_D_BD = 50.0


@given(log10_noise=st.floats(-8.0, 2.0), seed=st.integers(0, 2**16))
def test_kde_i_my_never_exceeds_h_y_and_equals_it_when_separated(log10_noise, seed):
    """I(M;Y) <= H(Y) for every noise in 1e-8..1e2 (issue 21: at 1e-8 both public bounds were
    ~5e-11 above H(Y), from diagonal round-off D_ii ~ eps / s); the raw bounds are ordered and,
    once all points are separated at this noise, equal H(Y) to rounding."""
    noise = 10.0**log10_noise
    rng = np.random.default_rng(seed)
    n, d = 60, 4
    a = rng.uniform(-1.0, 1.0, size=(n, d))
    y = rng.integers(0, 3, size=n)
    p_y = np.bincount(y) / n
    p_y = p_y[p_y > 0]
    h_y = float(-np.sum(p_y * np.log(p_y)))  # plug-in H(Y) of the labels
    res = kde_information(a, y, noise_variance=noise, units="nats")
    tol = _kde_rounding(noise, d, n)
    assert 0.0 <= float(res.i_ty_lower) <= float(res.i_ty_upper) <= h_y + H_Y_ROUNDOFF
    assert float(res.i_ty_lower_raw) <= float(res.i_ty_upper_raw) + tol
    assert float(res.i_ty_lower_raw) <= h_y + tol
    sq = np.sum((a[:, None, :] - a[None, :, :]) ** 2, axis=-1)
    if np.min(sq[~np.eye(n, dtype=bool)]) / (8 * noise) >= SEPARATED_D_BD:
        assert abs(float(res.i_ty_lower_raw) - h_y) <= tol
        assert abs(float(res.i_ty_upper_raw) - h_y) <= tol
        assert abs(float(res.i_xt_lower_raw) - math.log(n)) <= tol
