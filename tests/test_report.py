"""The HTML report is self-contained and shows exactly the figures and tables it was given."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from neurolearn.errors import DataError
from neurolearn.report import (ReportFigure, Section, embedded_images, figure_to_png, render_report,
                               write_report)


class Collector(HTMLParser):
    """Independent reading of the page: every tag with its attributes, and the visible text."""

    def __init__(self):
        super().__init__()
        self.tags, self.text, self.open = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in {"meta", "img", "br", "link"}:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"unbalanced </{tag}> after {self.open[-3:]}"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(page):
    collector = Collector()
    collector.feed(page)
    collector.close()
    assert collector.open == [], f"unclosed tags {collector.open}"
    return collector


def png_of(values):
    fig = Figure(figsize=(2, 1.5))
    fig.add_subplot().plot(values)
    return figure_to_png(fig, dpi=40)


def test_every_figure_is_inlined_byte_for_byte_and_nothing_is_fetched(tmp_path):
    pngs = {"a.png": png_of([0, 1, 3]), "b.png": png_of([3, 1, 0])}
    sections = [
        Section("first", "one", figures=[ReportFigure("a.png", pngs["a.png"], "rising")]),
        Section("second", "two", figures=[ReportFigure("b.png", pngs["b.png"], "falling")]),
    ]
    path = write_report(tmp_path / "out" / "report.html", "Demo", sections)
    page = path.read_text(encoding="utf-8")
    assert embedded_images(page) == pngs
    images = [attrs for tag, attrs in parse(page).tags if tag == "img"]
    assert len(images) == 2
    for attrs in images:
        assert attrs["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(attrs["src"].split(",", 1)[1]) == pngs[attrs["data-file"]]
    # self-contained: no scripts, no linked style sheets, no remote URLs
    assert "<script" not in page and "<link" not in page and "http://" not in page and "https://" not in page


def test_tables_show_the_values_and_text_is_escaped():
    table = pd.DataFrame({"model": ["lazy-rich", "silent-alignment"], "aic": [12.345678, 20.0]})
    section = Section("fits & <models>", "a < b\n\nsecond paragraph", tables=[("AIC", table)])
    page = render_report("<b>title</b>", [section])
    parsed = parse(page)
    text = " ".join(parsed.text)
    assert "<b>title</b>" in text  # shown literally, not interpreted
    assert "fits & <models>" in text and "a < b" in text
    cells = [t.strip() for t in parsed.text if t.strip()]
    assert "12.35" in cells and "silent-alignment" in cells
    assert [tag for tag, _ in parsed.tags].count("p") >= 3
    assert ("tr", {}) in parsed.tags


def test_code_is_shown_preformatted_and_escaped():
    page = render_report("t", [Section("s", code="neurolearn fit a.nc -m x -o <out>.json")])
    assert "<pre><code>neurolearn fit a.nc -m x -o &lt;out&gt;.json</code></pre>" in page
    parse(page)


def test_navigation_lists_sections_when_there_are_several():
    page = render_report("t", [Section("one"), Section("two")])
    links = [attrs["href"] for tag, attrs in parse(page).tags if tag == "a"]
    assert links == ["#section-0", "#section-1"]


def test_figure_must_be_png():
    with pytest.raises(DataError, match="expected PNG bytes"):
        ReportFigure("x.png", b"GIF89a")


def test_figure_to_png_renders_the_figure():
    bright = png_of(np.zeros(3))
    assert bright[:8] == b"\x89PNG\r\n\x1a\n"
    assert png_of([0, 1]) != png_of([1, 0])


def synthetic_stats(n=6):
    import xarray as xr

    sessions = [f"day{i}" for i in range(n)]
    values = np.linspace(0.5, 0.9, n)
    return xr.Dataset(
        {
            "behavior": ("session", values),
            "behavior_ci": (("session", "ci_bound"), np.stack([values - 0.05, values + 0.04], 1)),
            "margin": ("session", np.linspace(0.1, 1.0, n)),
            "kernel_similarity": (("session", "session_other"), np.eye(n)),
        },
        coords={"session": sessions, "session_other": sessions, "ci_bound": ["lower", "upper"],
                "session_index": ("session", np.arange(n))},
    )


def fit_dict(label, aic, n=6):
    # the JSON form of FitResult.to_dict(), as `neurolearn fit` writes it
    return {
        "model": label, "label": label, "success": True, "message": "ok",
        "params": {"gamma0": 2.0, "time_scale": 0.5}, "ci": {"gamma0": [1.5, 2.5]},
        "identifiable": {"gamma0": True}, "aic": aic, "bic": aic + 1.0,
        "session": [f"day{i}" for i in range(n)], "training_time": list(np.arange(n) * 0.5),
        "predicted": {"behavior": list(np.linspace(0.52, 0.88, n))},
    }


def test_analysis_section_shows_statistics_fits_and_comparison():
    from neurolearn.report import analysis_section

    stats = synthetic_stats()
    fits = [fit_dict("lazy-rich", 10.0), fit_dict("silent-alignment", 13.0)]
    section = analysis_section("rich learner", stats, fits)
    names = [f.name for f in section.figures]
    assert names == ["rich-learner_statistics.png", "rich-learner_kernel_similarity.png",
                     "rich-learner_fit_lazy-rich.png", "rich-learner_fit_silent-alignment.png",
                     "rich-learner_comparison.png"]
    captions = [caption for caption, _ in section.tables]
    assert captions == ["Statistics per session (estimate [interval]; * a flag below)", "Fitted parameters",
                        "Model comparison"]
    statistics, parameters, comparison = (table for _, table in section.tables)
    assert statistics.loc["day0", "behavior"] == "0.5 [0.45, 0.54]"
    gamma = parameters[parameters.parameter == "gamma0"]
    assert gamma.lower.tolist() == [1.5, 1.5] and gamma.status.tolist() == ["identifiable"] * 2
    assert parameters[parameters.parameter == "time_scale"].status.tolist() == ["fixed"] * 2
    assert comparison.label.tolist() == ["lazy-rich", "silent-alignment"]
    assert comparison.delta_aic.tolist() == [0.0, 3.0]


def test_fit_read_back_from_json_is_plotted_at_its_predicted_values():
    from neurolearn import plot
    from neurolearn.fit_records import fit_record

    stats, fit = synthetic_stats(), fit_dict("lazy-rich", 1.0)
    fig = plot.plot_fit(fit_record(fit), stats)
    prediction = [line for line in fig.axes[0].lines if line.get_gid() == "prediction"][0]
    np.testing.assert_allclose(prediction.get_ydata(), fit["predicted"]["behavior"])
    np.testing.assert_allclose(prediction.get_xdata(), np.arange(6))


def test_build_report_saves_the_figures_it_embeds(tmp_path):
    from neurolearn.report import build_report

    path, saved = build_report(tmp_path / "report.html", {"a": synthetic_stats()},
                               {"a": [fit_dict("m", 1.0)]}, figure_dir=tmp_path / "figures")
    embedded = embedded_images(path.read_text())
    assert sorted(embedded) == sorted(p.name for p in saved) and len(saved) == 3
    for file in saved:
        assert embedded[file.name] == file.read_bytes()


def test_fit_that_is_not_a_fit_is_refused():
    from neurolearn.fit_records import fit_record

    with pytest.raises(DataError, match="expected a FitResult or its to_dict"):
        fit_record({"params": {}})


def test_progress_prints_one_line_per_figure_on_stderr(capsys):
    from neurolearn.report import analysis_section

    section = analysis_section("rich learner", synthetic_stats(), [fit_dict("lazy-rich", 10.0)], progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == len(section.figures) == 3
    assert lines[0] == "report: rich learner: figure 1 (statistics)"
    analysis_section("rich learner", synthetic_stats(), progress=False)
    assert capsys.readouterr().err == ""


def test_a_section_reads_fits_from_memory_and_from_json_alike(tmp_path):
    from neurolearn.files import read_fits, write_fits
    from neurolearn.fitting import fit, simulate_statistics
    from neurolearn.report import analysis_section
    from tests.fitting.conftest import approach_model

    model = approach_model()
    stats = simulate_statistics(model, {}, n_sessions=10, se=0.03, time_scale=0.4, random_state=3)
    results = [fit(stats, model, interval=None, random_state=0),
               fit(stats, model, fixed={"gain": 0.2}, interval=None, random_state=0)]
    records = read_fits(write_fits(results, tmp_path / "fits.json"))
    memory, disk = (analysis_section("a", stats, fits) for fits in (results, records))
    assert [f.name for f in memory.figures] == [f.name for f in disk.figures]
    (_, table_memory), (_, table_disk) = (section.tables[1] for section in (memory, disk))
    pd.testing.assert_frame_equal(table_memory, table_disk)
    comparisons = [section.tables[2][1] for section in (memory, disk)]
    assert comparisons[0].label.tolist() == comparisons[1].label.tolist()
    np.testing.assert_allclose(comparisons[0].delta_aic, comparisons[1].delta_aic, rtol=1e-12)


def test_fits_to_different_statistics_are_not_ranked_against_each_other(tmp_path):
    # AICs of different values are not comparable (compare refuses them); the report ranked them anyway when
    # read back from JSON, and raised from memory
    from neurolearn.files import read_fits, write_fits
    from neurolearn.fitting import fit, simulate_statistics
    from neurolearn.report import analysis_section
    from tests.fitting.conftest import approach_model

    model = approach_model()
    stats = simulate_statistics(model, {}, n_sessions=10, se=0.03, time_scale=0.4, random_state=3)
    both = [fit(stats, model, interval=None, random_state=0),
            fit(stats, model, fixed={"gain": 0.2}, interval=None, random_state=0)]
    behaviour = fit(stats, model, observables=["behavior"], interval=None, random_state=0, label="behaviour only")
    for fits in (both + [behaviour], read_fits(write_fits(both + [behaviour], tmp_path / "fits.json"))):
        section = analysis_section("a", stats, fits)
        captions = [caption for caption, _ in section.tables]
        assert captions[-1] == "Model comparison (fits to behavior, task_alignment)"
        assert section.tables[-1][1].label.tolist() == [f.label for f in both]
        assert "Not compared" in section.text and "behaviour only (behavior)" in section.text


def test_fits_read_back_are_ranked_by_quasi_aic_under_misfit_as_compare_ranks_them(tmp_path):
    from neurolearn.files import read_fits, write_fits
    from neurolearn.fitting import compare, fit, simulate_statistics
    from neurolearn.report import analysis_section
    from tests.fitting.conftest import approach_model

    model = approach_model()
    stats = simulate_statistics(model, {}, n_sessions=10, se=0.03, time_scale=0.4, random_state=3)
    stats["behavior_se"] = stats["behavior_se"] / 6  # SEs too small: every fit misfits, c > 1
    results = [fit(stats, model, interval=None, random_state=0),
               fit(stats, model, fixed={"gain": 0.2}, interval=None, random_state=0)]
    expected = compare(results)
    assert expected["dispersion"].iloc[0] > 1
    table = analysis_section("a", stats, read_fits(write_fits(results, tmp_path / "fits.json"))).tables[-1][1]
    assert table.label.tolist() == expected.label.tolist()
    np.testing.assert_allclose(table.delta_qaic, expected.delta_qaic, rtol=1e-9, atol=1e-9)
    assert table.attrs["criterion"] == expected.attrs["criterion"]


def test_flagged_values_are_marked_and_their_reasons_listed():
    # a NaN without its reason, or a value at chance shown as an ordinary interval, is what the flags prevent
    from neurolearn.report import analysis_section

    stats = synthetic_stats()
    reasons = [""] * 6
    reasons[0], reasons[3] = "at or below chance: carries no information", "fewer than 2 trials of a class"
    stats["behavior_flag"] = ("session", np.asarray(reasons, dtype=object))
    stats["behavior"][3] = np.nan
    section = analysis_section("a", stats)
    statistics = section.tables[0][1]
    assert statistics.loc["day0", "behavior"].endswith(" *") and not statistics.loc["day1", "behavior"].endswith("*")
    caption, flags = section.tables[1]
    assert caption.startswith("Flags")
    assert flags.to_dict("records") == [
        {"session": "day0", "statistic": "behavior", "estimate": "0.5", "reason": reasons[0]},
        {"session": "day3", "statistic": "behavior", "estimate": "—", "reason": reasons[3]}]
    assert "carries no information" in render_report("t", [section])


def area_stats(n=6):
    """Statistics over areas (the form of summarize_areas): LM not recorded in session day2."""
    import xarray as xr

    one = synthetic_stats(n)
    lm = one.copy(deep=True)
    lm["margin"] = one["margin"] * 2
    stats = xr.concat([one, lm], dim="area", data_vars="all", coords="minimal")
    stats = stats.assign_coords(area=["V1", "LM"], layer=("area", [1, 2]))
    for name in ("behavior", "behavior_ci", "margin", "kernel_similarity"):
        stats[name] = stats[name].copy()
        stats[name].loc[{"area": "LM", "session": "day2"}] = np.nan
    flag = np.full((2, n), "", dtype=object)
    flag[1, 2] = "area 'LM' not recorded in session day2"
    stats["margin_flag"] = (("area", "session"), flag)
    return stats


def test_statistics_over_areas_are_reported_per_area():
    # reviewer F13: a section of summarize_areas' statistics had no figure and no table, and with fits raised
    from neurolearn.report import analysis_section

    stats = area_stats()
    fit = fit_dict("deep-linear", 1.0)
    fit["predicted"]["margin[LM]"] = list(np.linspace(0.2, 2.0, 6))
    section = analysis_section("two areas", stats, [fit])
    assert [f.name for f in section.figures] == [
        "two-areas_statistics.png", "two-areas_kernel_similarity_v1.png", "two-areas_kernel_similarity_lm.png",
        "two-areas_fit_deep-linear.png"]
    captions = [caption for caption, _ in section.tables]
    assert captions[:2] == ["Statistics per session in area V1 (layer 1) (estimate [interval]; * a flag below)",
                            "Statistics per session in area LM (layer 2) (estimate [interval]; * a flag below)"]
    v1, lm = section.tables[0][1], section.tables[1][1]
    assert v1.loc["day3", "margin"] == f"{stats.margin.sel(area='V1', session='day3').item():.3g}"
    assert lm.loc["day3", "margin"] == f"{stats.margin.sel(area='LM', session='day3').item():.3g}"
    assert lm.loc["day2", "margin"] == "— *" and lm.loc["day2", "behavior"].startswith("—")
    assert captions[2].startswith("Flags")
    assert section.tables[2][1].to_dict("records") == [
        {"area": "LM", "session": "day2", "statistic": "margin", "estimate": "—",
         "reason": "area 'LM' not recorded in session day2"}]
    assert "area 'LM' not recorded in session day2" in render_report("t", [section])


def test_build_report_takes_one_statistics_dataset_and_refuses_other_types(tmp_path):
    # reviewer F1: build_report(path, stats_dataset) raised AttributeError 'DataArray' object has no attribute
    # 'data_vars'; one Dataset is what a user with one dataset passes, so it is taken as that one section
    import xarray as xr

    from neurolearn.report import build_report

    path, _ = build_report(tmp_path / "one.html", synthetic_stats(), [fit_dict("m", 1.0)], title="day 1-6")
    page = path.read_text()
    assert len(embedded_images(page)) == 3 and ">statistics</h2>" in page and "<h1>day 1-6</h1>" in page
    for stats, found in (([synthetic_stats()], "list"), ({"a": synthetic_stats().behavior}, "DataArray"),
                         ("stats.nc", "str")):
        with pytest.raises(DataError, match=f"expected .*xarray.Dataset.*found {found}"):
            build_report(tmp_path / "bad.html", stats)
    with pytest.raises(DataError, match="fits: expected a dict .* found list"):
        build_report(tmp_path / "bad.html", {"a": synthetic_stats()}, [fit_dict("m", 1.0)])
    assert not (tmp_path / "bad.html").exists()
    from neurolearn.report import analysis_section
    with pytest.raises(DataError, match="section 'a': expected statistics as an xarray.Dataset .*found DataArray"):
        analysis_section("a", synthetic_stats().behavior)
    assert isinstance(synthetic_stats(), xr.Dataset)


def test_a_fit_of_other_sessions_or_statistics_that_are_not_over_sessions_are_refused(tmp_path):
    # adversary F15: `neurolearn report` drew a fit made on ses-0/1/3/8 over statistics of ses-0/1/2/5, and a
    # fit over a NetCDF file with one variable over dim 'a', both as if they belonged together
    import xarray as xr

    from neurolearn.report import build_report

    other = fit_dict("m", 1.0)
    other["session"] = ["day0", "day1", "day7", "day8", "day4", "day5"]
    with pytest.raises(DataError, match=r"fit 'm' was made on sessions \['day7', 'day8'\] that the statistics do "
                                        r"not hold"):
        build_report(tmp_path / "r.html", {"a": synthetic_stats()}, {"a": [other]})
    with pytest.raises(DataError, match=r"expected statistics over dim 'session'.*found dims \('a',\)"):
        build_report(tmp_path / "r.html", xr.Dataset({"x": ("a", np.arange(3.0))}), [fit_dict("m", 1.0)])
    assert not (tmp_path / "r.html").exists()
    # a fit of a subset of the sessions is the fit of these statistics
    subset = fit_dict("m", 1.0, n=4)
    build_report(tmp_path / "ok.html", {"a": synthetic_stats()}, {"a": [subset]})
