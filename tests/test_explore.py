"""The notebook explorers (ibtheory.explore) and HTML summaries (ibtheory.display), headless.

Each explorer is built, updated with a few values, and its figure checked against the library's
own results (the point on the information plane is the curve's point at the snapped beta, the heat
map is that beta's encoder, the plotted kernels are fc_kernels'). Widgets are checked where
ipywidgets is installed (the ``notebooks`` extra); the static fallback always.
"""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

import ibtheory  # noqa: E402
from ibtheory import display, explore  # noqa: E402
from ibtheory.models import random_joint  # noqa: E402
from ibtheory.ntk import fc_kernels  # noqa: E402

BETAS = np.geomspace(0.5, 30.0, 12)


@pytest.fixture(scope="module")
def p_xy():
    return random_joint(5, 3, concentration=0.7, seed=1)


@pytest.fixture(scope="module")
def ib_exp(p_xy):
    return explore.ib_explorer(p_xy, BETAS, effort="fast")


@pytest.fixture(scope="module")
def gaussian_covs():
    m = np.random.default_rng(0).normal(size=(5, 5))
    joint = m @ m.T + 0.5 * np.eye(5)
    return joint[:3, :3], joint[:3, 3:], joint[3:, 3:]


def _plane(n_epochs: int = 6, n_layers: int = 3):
    from ibtheory.infoplane import InformationPlane

    rng = np.random.default_rng(0)
    shape = (n_epochs, 2, n_layers)
    return InformationPlane(
        epochs=np.array([0, 1, 2, 5, 10, 20][:n_epochs]), i_xt=rng.uniform(0, 12, shape),
        i_ty=rng.uniform(0, 1, shape), i_xt_lower=None, i_ty_lower=None, estimator="binning",
        settings={}, h_y=1.0, units="bits", activation="tanh",
    )


def _marker(ax):
    """The (x, y) of the one hollow highlight marker an explorer draws on an axes."""
    points = [line for line in ax.get_lines() if line.get_marker() == "o" and line.get_markerfacecolor() == "none"]
    assert len(points) == 1
    return float(points[0].get_xdata()[0]), float(points[0].get_ydata()[0])


# ----------------------------------------------------------------------------- IB explorer
def test_ib_explorer_point_and_encoder_follow_beta(ib_exp):
    for method, beta in [("ib", 0.6), ("ib", 7.0), ("dualib", 2.0), ("dualib", 29.0)]:
        fig = ib_exp.update(method=method, beta=beta)
        curve = ib_exp.curves[method]
        i = int(np.argmin(np.abs(np.log(curve.betas) - np.log(beta))))
        assert ib_exp.values == {"method": method, "beta": float(curve.betas[i])}
        ax_plane, ax_enc = fig.axes[0], fig.axes[1]
        assert _marker(ax_plane) == (float(curve.i_xt[i]), float(curve.i_ty[i]))
        shown = ax_enc.get_images()[0].get_array()
        np.testing.assert_array_equal(np.asarray(shown), curve.encoders[i])
        assert f"{int(curve.n_clusters[i])} clusters" in ax_enc.get_title()


def test_ib_explorer_marks_both_kinds_of_transitions(ib_exp):
    fig = ib_exp.update(method="ib", beta=5.0)
    ax_k = fig.axes[2]
    vertical = {round(float(line.get_xdata()[0]), 12) for line in ax_k.get_lines() if line.get_linestyle() in (":", "--")}
    expected = set(np.round(ib_exp.critical["ib"], 12)) | set(np.round(ib_exp.curves["ib"].transitions, 12))
    assert expected and expected <= vertical


def test_ib_explorer_rejects_unknown_values(ib_exp):
    with pytest.raises(ValueError, match="unknown value"):
        ib_exp.update(gamma=1.0)
    with pytest.raises(ValueError, match="method must be one of"):
        ib_exp.update(method="vib")
    with pytest.raises(ValueError, match="positive finite"):
        ib_exp.update(beta=-1.0)


def test_explorer_static_html_is_an_inline_png(ib_exp):
    html = ib_exp._repr_html_()
    assert html.startswith("<div><img src=\"data:image/png;base64,")
    assert "ipywidgets" in html


def test_explorer_widget_moves_the_figure(ib_exp):
    widgets = pytest.importorskip("ipywidgets")
    box = ib_exp.widget()
    assert isinstance(box, widgets.VBox)
    method, beta = box.children[0].children
    before = box.children[1].value
    beta.value = beta.options[1][1]  # the user drags the slider
    assert ib_exp.values["beta"] == float(ib_exp.betas[1])
    assert box.children[1].value != before and box.children[1].value[:4] == b"\x89PNG"
    method.value = "dualib"
    assert ib_exp.values["method"] == "dualib"


def _displayed(explorer, monkeypatch):
    """The mime bundle an explorer hands to IPython's display()."""
    display_module = pytest.importorskip("IPython.display")
    shown = []
    monkeypatch.setattr(display_module, "display", lambda obj, raw=False: shown.append((obj, raw)))
    explorer._ipython_display_()
    ((bundle, raw),) = shown
    assert raw
    return bundle


def test_explorer_falls_back_to_a_still_picture_without_ipywidgets(ib_exp, monkeypatch):
    monkeypatch.setattr(explore, "_widgets", lambda: None)
    assert ib_exp.widget() is None
    bundle = _displayed(ib_exp, monkeypatch)
    assert set(bundle) == {"text/plain", "text/html"}
    assert "data:image/png;base64," in bundle["text/html"]


def test_explorer_widget_carries_the_still_picture_for_viewers_without_widgets(ib_exp, monkeypatch):
    pytest.importorskip("ipywidgets")
    bundle = _displayed(ib_exp, monkeypatch)
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "data:image/png;base64," in bundle["text/html"]


# ----------------------------------------------------------------------------- Gaussian explorer
def test_gaussian_explorer_shows_spectrum_and_point(gaussian_covs):
    exp = explore.gaussian_explorer(*gaussian_covs, np.geomspace(0.3, 200.0, 40))
    ref = ibtheory.gaussian_ib(*gaussian_covs, np.geomspace(0.3, 200.0, 40))
    for beta in (0.5, 3.0, 150.0):
        fig = exp.update(method="ib", beta=beta)
        ax_spec, _, ax_plane = fig.axes
        heights = [p.get_height() for p in ax_spec.patches]
        np.testing.assert_array_equal(heights, ref.eigenvalues)
        i = int(np.argmin(np.abs(np.log(ref.betas) - np.log(beta))))
        assert _marker(ax_plane) == (float(ref.i_xt[i]), float(ref.i_ty[i]))
        active = int(np.sum(ref.critical_betas <= ref.betas[i]))
        assert ax_spec.get_title().startswith(f"{active} of 3 directions active")
    exp.update(method="dualib", beta=3.0)
    assert exp.values["method"] == "dualib"


# ----------------------------------------------------------------------------- NTK explorer
def test_ntk_explorer_plots_the_analytic_kernels():
    pytest.importorskip("torch")
    exp = explore.ntk_explorer(n_angles=9, n_networks=4, width=16)
    for activation, depth, w_std in [("erf", 2, 2.0), ("relu", 0, 1.0)]:
        fig = exp.update(activation=activation, depth=depth, w_std=w_std)
        x = explore.circle_inputs(exp.angles)
        k = fc_kernels(x[:1], x, depth=depth, activation=activation, w_std=w_std, b_std=exp.b_std)
        for ax in fig.axes:
            lines = {line.get_label(): np.asarray(line.get_ydata()) for line in ax.get_lines()}
            np.testing.assert_array_equal(lines["NTK (analytic)"], k.ntk[0])
            np.testing.assert_array_equal(lines["NNGP (analytic)"], k.nngp[0])
        assert f"{activation}, depth {depth}" in fig.axes[0].get_title()
        assert "mean of 4 nets" in " ".join(line.get_label() for line in fig.axes[1].get_lines())


# ----------------------------------------------------------------------------- information plane
def test_infoplane_player_snaps_to_recorded_epochs_and_draws_that_epoch():
    plane = _plane()
    player = explore.infoplane_player(plane)
    for asked, recorded, r in [(0, 0, 0), (4, 2, 2), (10, 10, 4), (999, 20, 5)]:
        fig = player.update(epoch=asked)
        assert player.values["epoch"] == recorded
        ax = fig.axes[0]
        assert ax.get_title().endswith(f"epoch {recorded}")
        joined = next(line for line in ax.get_lines() if line.get_color() == "k")
        np.testing.assert_array_equal(joined.get_xdata(), plane.i_xt.mean(axis=1)[r])


def test_infoplane_player_widget_has_a_play_button():
    widgets = pytest.importorskip("ipywidgets")
    player = explore.infoplane_player({"a": _plane(), "b": _plane()})
    box = player.widget()
    play, slider = box.children[0].children
    assert isinstance(play, widgets.Play) and play.value == slider.index
    slider.value = 5
    assert player.values["epoch"] == 5


# ----------------------------------------------------------------------------- HTML summaries
def test_curve_and_solution_summaries_state_numbers_with_units(p_xy, ib_exp):
    curve = ib_exp.curves["ib"]
    html = display.repr_html(curve)
    assert "IB curve" in html and "nats" in html and "<img" in html
    assert f"{len(BETAS)} from" in html
    sol = ibtheory.solve_ib(p_xy, 5.0, units="bits")
    html = display.repr_html(sol)
    assert f"{sol.i_xt:.4g} bits" in html and f"{sol.i_ty:.4g} bits" in html and "<img" in html


def test_gaussian_and_ntk_summaries(gaussian_covs):
    g = ibtheory.gaussian_dual_ib(*gaussian_covs, np.geomspace(0.3, 200.0, 20))
    html = display.repr_html(g)
    assert "Gaussian dualIB" in html and f"{float(g.i_xy):.4g} nats" in html
    x = np.random.default_rng(0).normal(size=(6, 3))
    k = fc_kernels(x, depth=2, w_std=1.5, b_std=0.1)
    html = display.repr_html(k)
    assert "depth 2, relu" in html and display.KERNEL_UNITS in html and "<img" in html


def test_summary_refuses_unknown_objects():
    with pytest.raises(TypeError, match="no HTML summary for dict"):
        display.repr_html({})


def test_ntk_dynamics_summaries_state_sizes_and_units():
    from ibtheory.ntk import ensemble_information, ensemble_prediction

    x = np.random.default_rng(0).normal(size=(8, 3))
    labels = np.arange(8) % 2
    y = np.eye(2)[labels]
    arch = dict(depth=1, activation="relu", w_std=1.5, b_std=0.1, learning_rate=0.5)
    pred = ensemble_prediction(x, y, None, [0.0, 10.0, np.inf], **arch)
    html = display.repr_html(pred)
    assert "8 inputs x 2 outputs (training set)" in html and display.KERNEL_UNITS in html
    info = ensemble_information(x, y, x, labels, [0.0, 10.0], units="bits", **arch)
    html = display.repr_html(info)
    assert f"{info.i_xz_lower[-1]:.4g} … {info.i_xz_upper[-1]:.4g} bits" in html
    assert "8 train, 8 eval, 2 outputs" in html


def test_finite_ensemble_summary_draws_the_training_loss():
    pytest.importorskip("torch")
    from ibtheory.ntk import finite_ensemble

    x = np.random.default_rng(0).normal(size=(6, 3))
    fe = finite_ensemble(x, np.sin(x[:, :1]), None, [0.0, 5.0], n_networks=3, width=8, depth=1,
                         w_std=1.5, b_std=0.1, learning_rate=0.5, seed=0)
    html = display.repr_html(fe)
    assert "3 of width 8 (seed 0)" in html and "<img" in html
