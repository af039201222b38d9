"""Make the README figure, docs/figure.png, from the bundled example data: ``python docs/make_figure.py``.

Two networks learn the same task equally well (behaviour), but only the rich one changes its representation
(kernel-task alignment); the lazy-rich model fitted to the recordings recovers each network's richness gamma0.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(path: Path = HERE / "figure.png") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    import neurolearn as nl
    from neurolearn.demo import find_data_dir

    data = find_data_dir()
    truth = json.loads((data / "examples.json").read_text())["datasets"]
    design = {"chance": 0.5, "onset": 0.0}
    colors = {"rich": "C3", "lazy": "C0"}
    fig = Figure(figsize=(11, 3.3), layout="constrained")
    axes = fig.subplots(1, 3, width_ratios=[1, 1, 0.8])
    estimates = {}
    for name in ("rich", "lazy"):
        tree = nl.read_sessions(str(data / name / "*.nwb"), window=(0.0, 0.5))
        stats = nl.summarize(tree, n_boot=200, random_state=0, readout=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = nl.fit(stats, "lazy-rich", observables=["task_alignment", "behavior"], fixed=design,
                         random_state=0)
        for ax, statistic in zip(axes[:2], ("behavior", "task_alignment")):
            nl.plot.plot_trajectory(stats, statistic, ax=ax, label=f"{name} network", color=colors[name])
            ax.plot(nl.plot.session_positions(stats), fit.predicted[statistic], color=colors[name], lw=4,
                    alpha=0.3, label=f"{name}: lazy-rich fit")
        estimates[name] = fit.params["gamma0"], fit.ci["gamma0"]
    axes[0].set_title("both networks learn the task")
    axes[1].set_title("only one changes its representation")
    axes[1].legend(frameon=False, fontsize=8, loc="upper left")
    for ax in axes[:2]:
        ax.set_xticks(range(0, 10, 3), [f"day {d}" for d in range(0, 10, 3)], rotation=0)
    ax = axes[2]
    for row, name in enumerate(("rich", "lazy")):
        value, (low, high) = estimates[name]
        ax.errorbar([value], [row], xerr=[[value - low], [high - value]], fmt="o", color=colors[name],
                    capsize=4)
        ax.plot([truth[name]["truth"]["gamma0"]], [row], marker="*", ms=12, color="k", ls="none",
                label="true value" if row == 0 else None)
    ax.axvspan(1e-3, 1.0, color="0.92", zorder=0)
    ax.text(0.03, 1.45, "lazy regime", fontsize=9, color="0.4", ha="center")
    ax.text(5.0, 1.45, "rich", fontsize=9, color="0.4", ha="center")
    ax.set(xscale="log", xlim=(1e-3, 30), ylim=(-0.6, 1.7), yticks=[0, 1], yticklabels=["rich", "lazy"],
           xlabel="richness gamma0 (fit, 95% interval)", title="recovered learning regime")
    ax.legend(frameon=False, fontsize=8, loc="center right")
    fig.savefig(path, dpi=110, facecolor="white")
    return path


if __name__ == "__main__":
    print("wrote", main())
