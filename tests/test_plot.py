"""Figures show exactly the data they are given: each artist's data is checked against its source."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from neurolearn import plot
from neurolearn.errors import DataError


def make_stats(rng, n_sessions=8):
    """A statistics Dataset in the documented form, with intervals and a pairwise similarity matrix."""
    sessions = [f"day{i:02d}" for i in range(n_sessions)]
    t = np.arange(n_sessions)
    behavior = 0.5 + 0.45 * (1 - np.exp(-t / 2.0))
    alignment = 0.1 + 0.6 * (1 - np.exp(-t / 3.0))
    data_vars = {}
    for name, values in {"behavior": behavior, "task_alignment": alignment}.items():
        se = 0.02 + 0.01 * rng.random(n_sessions)
        lower = values - 1.96 * se - 0.01 * rng.random(n_sessions)  # asymmetric, as a percentile interval is
        upper = values + 1.96 * se
        data_vars[name] = ("session", values)
        data_vars[f"{name}_se"] = ("session", se)
        data_vars[f"{name}_ci"] = (("session", "ci_bound"), np.stack([lower, upper], axis=1), {"level": 0.95})
    data_vars["behavior_chance"] = ((), 0.5)
    jitter = 0.8 + 0.2 * rng.random((n_sessions, n_sessions))
    similarity = np.exp(-np.abs(t[:, None] - t[None, :]) / 3.0) * jitter
    np.fill_diagonal(similarity, 1.0)
    data_vars["kernel_similarity"] = (("session", "session_other"), similarity)
    data_vars["timescale"] = ("session", np.full(n_sessions, np.nan))  # all-NaN: nothing to draw
    coords = {
        "session": sessions,
        "session_other": sessions,
        "ci_bound": ["lower", "upper"],
        "session_index": ("session", t),
    }
    return xr.Dataset(data_vars, coords=coords)


@pytest.fixture
def stats(rng):
    return make_stats(rng)


def artist(ax, gid, kind="lines"):
    found = [a for a in getattr(ax, kind) if a.get_gid() == gid]
    assert len(found) == 1, f"expected one artist with gid {gid!r} in ax.{kind}, found {len(found)}"
    return found[0]


def test_trajectory_line_is_the_statistic_and_bars_are_the_interval(stats):
    ax = plot.plot_trajectory(stats, "behavior")
    line = artist(ax, "behavior")
    np.testing.assert_array_equal(line.get_xdata(), stats.session_index.values)
    np.testing.assert_array_equal(line.get_ydata(), stats.behavior.values)
    bars = artist(ax, "behavior_ci", "collections")
    segments = np.array(bars.get_segments())  # (session, 2 endpoints, xy)
    np.testing.assert_allclose(segments[:, 0, 0], stats.session_index.values)
    np.testing.assert_allclose(segments[:, 0, 1], stats.behavior_ci.sel(ci_bound="lower").values)
    np.testing.assert_allclose(segments[:, 1, 1], stats.behavior_ci.sel(ci_bound="upper").values)
    chance = artist(ax, "behavior_chance")
    assert set(np.asarray(chance.get_ydata(), dtype=float)) == {0.5}
    assert ax.get_ylabel() == plot.LABELS["behavior"]


def test_chance_is_labelled_once_when_trajectories_share_axes(stats):
    ax = plot.plot_trajectory(stats, "behavior", label="a")
    plot.plot_trajectory(stats, "behavior", ax=ax, label="b")
    assert ax.get_legend_handles_labels()[1] == ["a", "chance", "b"]


def test_trajectory_uses_interval_in_any_dim_order(stats):
    swapped = stats.assign(behavior_ci=stats.behavior_ci.transpose("ci_bound", "session"))
    bars = artist(plot.plot_trajectory(swapped, "behavior"), "behavior_ci", "collections")
    segments = np.array(bars.get_segments())
    np.testing.assert_allclose(segments[:, 1, 1], stats.behavior_ci.sel(ci_bound="upper").values)


def test_trajectory_without_session_index_uses_order(stats):
    ax = plot.plot_trajectory(stats.drop_vars("session_index"), "task_alignment")
    np.testing.assert_array_equal(artist(ax, "task_alignment").get_xdata(), np.arange(stats.sizes["session"]))


def test_trajectories_make_one_panel_per_statistic_with_values(stats):
    fig = plot.plot_trajectories(stats)
    # timescale is all NaN and kernel_similarity is pairwise: neither is a trajectory
    assert [ax.get_title() for ax in fig.axes] == ["behavior", "task_alignment"]
    line = artist(fig.axes[1], "task_alignment")
    np.testing.assert_array_equal(line.get_ydata(), stats.task_alignment.values)


def test_kernel_similarity_image_is_the_matrix(stats):
    ax = plot.plot_kernel_similarity(stats)
    image = ax.images[0]
    assert image.get_gid() == "kernel_similarity"
    np.testing.assert_array_equal(np.asarray(image.get_array()), stats.kernel_similarity.values)
    assert image.get_clim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(stats.session.values)


def test_kernel_similarity_is_drawn_rows_as_session_whatever_the_dim_order(stats):
    asymmetric = stats.kernel_similarity.copy(data=np.arange(64.0).reshape(8, 8) / 64)
    ax = plot.plot_kernel_similarity(asymmetric.transpose("session_other", "session"))
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), asymmetric.values)


def test_kernels_one_image_per_session_on_a_shared_symmetric_scale(rng):
    values = rng.standard_normal((3, 4, 4))
    kernels = xr.DataArray(values, dims=("session", "condition", "condition_other"),
                           coords={"session": ["a", "b", "c"]})
    fig = plot.plot_kernels(kernels)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert [im.get_gid() for im in images] == ["a", "b", "c"]
    for image, expected in zip(images, values):
        np.testing.assert_array_equal(np.asarray(image.get_array()), expected)
    scale = np.abs(values).max()
    assert all(im.get_clim() == (-scale, scale) for im in images)


def test_kernels_colour_scale_can_be_set(rng):
    kernels = xr.DataArray(rng.standard_normal((2, 3, 3)), dims=("session", "c", "c2"))
    images = [ax.images[0] for ax in plot.plot_kernels(kernels, vmax=0.5).axes if ax.images]
    assert all(im.get_clim() == (-0.5, 0.5) for im in images)
    np.testing.assert_array_equal(np.asarray(images[1].get_array()), kernels.values[1])


def test_kernels_subsample_many_sessions_keeping_first_and_last(rng):
    kernels = xr.DataArray(rng.standard_normal((30, 3, 3)), dims=("session", "c", "c2"),
                           coords={"session": [f"s{i}" for i in range(30)]})
    gids = [ax.images[0].get_gid() for ax in plot.plot_kernels(kernels, max_sessions=4).axes if ax.images]
    assert gids[0] == "s0" and gids[-1] == "s29" and len(gids) == 4


def test_fit_overlay_draws_prediction_over_data(stats):
    predicted = xr.Dataset(
        {"behavior": ("session", np.linspace(0.5, 0.95, 8)),
         "task_alignment": ("session", np.linspace(0.1, 0.7, 8))},
        coords={"session": stats.session.values},
    )
    fit = SimpleNamespace(model="lazy-rich", params={"gamma0": 2.5}, predicted=predicted)
    fig = plot.plot_fit(fit, stats)
    assert [ax.get_title() for ax in fig.axes] == ["behavior", "task_alignment"]
    for ax in fig.axes:
        name = ax.get_title()
        prediction = artist(ax, "prediction")
        np.testing.assert_array_equal(prediction.get_ydata(), predicted[name].values)
        np.testing.assert_array_equal(prediction.get_xdata(), stats.session_index.values)
        np.testing.assert_array_equal(artist(ax, name).get_ydata(), stats[name].values)
    assert "gamma0=2.5" in fig.get_suptitle()


@pytest.fixture(scope="module")
def fitted():
    """Statistics simulated from a saturating model and its fit (no intervals: fast)."""
    from neurolearn.fitting import fit, simulate_statistics
    from tests.fitting.conftest import approach_model

    model = approach_model()
    stats = simulate_statistics(model, {}, n_sessions=12, se=0.03, time_scale=0.4, random_state=5)
    return model, stats, fit(stats, model, interval=None, random_state=0)


def test_fit_figure_of_a_fit_result_is_the_model_at_the_fitted_parameters(fitted):
    model, stats, res = fitted
    fig = plot.plot_fit(res, stats)
    assert [ax.get_title() for ax in fig.axes] == ["behavior", "task_alignment"]
    params = res.params
    # the model evaluated here, at each session's training time (onset and time scale fitted)
    tau = params["time_scale"] * np.maximum(np.arange(12) - params["onset"], 0.0)
    expected = model.predict(tau, gain=params["gain"], alignment_gain=params["alignment_gain"])
    for ax in fig.axes:
        name = ax.get_title()
        prediction = artist(ax, "prediction")
        assert prediction.get_label() == "approach"
        np.testing.assert_allclose(prediction.get_ydata(), expected[name], rtol=1e-9)
        np.testing.assert_array_equal(artist(ax, name).get_ydata(), stats[name].values)


def test_fit_figure_is_the_same_for_a_fit_read_back_from_json(fitted, tmp_path):
    from neurolearn.files import read_fits, write_fits

    _, stats, res = fitted
    (record,) = read_fits(write_fits([res], tmp_path / "fit.json"))
    figures = [plot.plot_fit(f, stats) for f in (res, record, record.to_dict())]
    for axes in zip(*(fig.axes for fig in figures)):
        lines = [artist(ax, "prediction") for ax in axes]
        for line in lines[1:]:
            np.testing.assert_allclose(line.get_ydata(), lines[0].get_ydata(), rtol=1e-12)
            np.testing.assert_array_equal(line.get_xdata(), lines[0].get_xdata())
            assert line.get_label() == lines[0].get_label()
    assert len({fig.get_suptitle() for fig in figures}) == 1


def test_comparison_bars_are_criterion_differences():
    table = pd.DataFrame({"aic": [31.0, 12.0, 15.5]}, index=pd.Index(["a", "b", "c"], name="model"))
    ax = plot.plot_comparison(table)
    widths = {bar.get_gid(): bar.get_width() for bar in ax.patches}
    assert widths == {"a": 19.0, "b": 0.0, "c": 3.5}


def test_comparison_names_bars_by_label_when_present():
    table = pd.DataFrame({"label": ["lazy-rich", "lazy-rich (gamma0=0.01)"], "model": ["lazy-rich"] * 2,
                          "aic": [5.0, 9.0]})
    gids = [bar.get_gid() for bar in plot.plot_comparison(table).patches]
    assert gids == ["lazy-rich", "lazy-rich (gamma0=0.01)"]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda s: plot.plot_trajectory(s, "margin"), "no variable 'margin'"),
        (lambda s: plot.plot_trajectory(s, "kernel_similarity"), "expected dims \\('session',\\)"),
        (lambda s: plot.plot_kernel_similarity(s, "behavior"),
         "expected dims \\('session', 'session_other'\\)"),
        (lambda s: plot.plot_trajectories(s[["timescale"]]), "at least one per-session statistic"),
        (lambda s: plot.plot_kernels(s.behavior), "expected a DataArray with dims"),
        (lambda s: plot.plot_fit(object(), s), "expected a FitResult"),
        (lambda s: plot.plot_comparison(pd.DataFrame({"bic": [1.0]})), "no column 'aic'"),
    ],
)
def test_bad_input_names_what_was_expected(stats, call, message):
    with pytest.raises(DataError, match=message):
        call(stats)


def test_figures_render_to_png(stats, tmp_path):
    fig = plot.plot_trajectories(stats)
    path = tmp_path / "trajectories.png"
    fig.savefig(path, dpi=60)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def make_area_stats(rng, n_sessions=6):
    """Statistics over areas (the form of summarize_areas): per-area alignment, the animal's behaviour the same in
    every area, a pairwise similarity per area; LM not recorded in session day02."""
    one = make_stats(rng, n_sessions)
    lm = one.copy(deep=True)
    lm["task_alignment"] = one["task_alignment"] * 0.5
    lm["task_alignment_ci"] = one["task_alignment_ci"] * 0.5
    lm["kernel_similarity"] = one["kernel_similarity"] ** 2
    stats = xr.concat([one, lm], dim="area", data_vars="all", coords="minimal")
    stats = stats.assign_coords(area=["V1", "LM"], layer=("area", [1, 2]))
    for name in ("task_alignment", "task_alignment_ci", "behavior", "behavior_ci"):
        stats[name] = stats[name].copy()
        stats[name].loc[{"area": "LM", "session": "day02"}] = np.nan
    stats["kernel_similarity"].loc[{"area": "LM", "session": "day02"}] = np.nan
    stats["kernel_similarity"].loc[{"area": "LM", "session_other": "day02"}] = np.nan
    flag = np.full((2, n_sessions), "", dtype=object)
    flag[1, 2] = "area 'LM' not recorded in session day02"
    stats["task_alignment_flag"] = (("area", "session"), flag)
    return stats


@pytest.fixture
def area_stats(rng):
    return make_area_stats(rng)


def test_a_statistic_over_areas_is_one_line_per_area_labelled_by_area(area_stats):
    # reviewer F13: statistics of summarize_areas could not be plotted
    assert "area" in area_stats["task_alignment"].dims
    assert plot.trajectory_statistics(area_stats) == ["behavior", "task_alignment"]
    ax = plot.plot_trajectory(area_stats, "task_alignment")
    for index, area in enumerate(["V1", "LM"]):
        line = artist(ax, f"task_alignment[{area}]")
        np.testing.assert_array_equal(line.get_xdata(), area_stats.session_index.values)
        np.testing.assert_array_equal(line.get_ydata(), area_stats["task_alignment"].sel(area=area).values)
        assert line.get_label() == area
        bars = artist(ax, f"task_alignment[{area}]_ci", kind="collections")
        bounds = area_stats["task_alignment_ci"].sel(area=area).transpose("session", "ci_bound").values
        finite = np.isfinite(bounds).all(axis=1)
        segments = np.array([s for s in bars.get_segments() if np.size(s) and np.isfinite(s).all()])
        np.testing.assert_allclose(segments[:, :, 1], bounds[finite])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["V1", "LM"]
    # the animal's behaviour is the same in every area: one line, where any area has it
    behavior = plot.plot_trajectory(area_stats, "behavior")
    assert [line.get_gid() for line in behavior.lines if line.get_gid().startswith("behavior[")] == []
    np.testing.assert_array_equal(artist(behavior, "behavior").get_ydata(),
                                  area_stats["behavior"].sel(area="V1").values)


def test_trajectories_over_areas_are_one_panel_per_statistic(area_stats):
    fig = plot.plot_trajectories(area_stats)
    assert [ax.get_title() for ax in fig.axes] == ["behavior", "task_alignment"]
    assert {line.get_gid() for line in fig.axes[1].lines} >= {"task_alignment[V1]", "task_alignment[LM]"}


def test_kernel_similarity_over_areas_is_drawn_for_the_area_asked(area_stats):
    ax = plot.plot_kernel_similarity(area_stats, area="LM")
    expected = area_stats["kernel_similarity"].sel(area="LM").values
    np.testing.assert_array_equal(np.ma.filled(ax.images[0].get_array(), np.nan), expected)
    assert "LM" in ax.get_title()
    with pytest.raises(DataError, match=r"area=.*'V1', 'LM'"):
        plot.plot_kernel_similarity(area_stats)
    with pytest.raises(DataError, match=r"'AM'.*'V1', 'LM'"):
        plot.plot_kernel_similarity(area_stats, area="AM")


def test_a_joint_fit_over_areas_is_drawn_over_each_areas_data(area_stats):
    # a fit of statistics over areas predicts flattened names, task_alignment[V1] (neurolearn.fitting.areas)
    n = area_stats.sizes["session"]
    predicted = {"behavior": list(np.linspace(0.5, 0.9, n)), "task_alignment[V1]": list(np.linspace(0.1, 0.7, n)),
                 "task_alignment[LM]": list(np.linspace(0.05, 0.35, n))}
    fit = {"model": "deep-linear", "session": [str(s) for s in area_stats.session.values], "predicted": predicted}
    fig = plot.plot_fit(fit, area_stats)
    assert [ax.get_title() for ax in fig.axes] == list(predicted)
    panel = fig.axes[2]
    np.testing.assert_array_equal(artist(panel, "task_alignment[LM]").get_ydata(),
                                  area_stats["task_alignment"].sel(area="LM").values)
    np.testing.assert_array_equal(artist(panel, "prediction").get_ydata(), predicted["task_alignment[LM]"])
    np.testing.assert_array_equal(artist(fig.axes[0], "behavior").get_ydata(),
                                  area_stats["behavior"].sel(area="V1").values)
