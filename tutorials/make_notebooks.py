"""Write the tutorial notebooks from the cell sources below: ``python tutorials/make_notebooks.py``.

The notebooks are generated (not edited by hand) so that their text and code can be reviewed as plain Python
and so that they are stored without outputs. ``tests/test_tutorials.py`` executes every notebook and checks
that the files on disk are exactly what this script writes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

SETUP = """\
import numpy as np
import matplotlib.pyplot as plt
import xarray as xr

import neurolearn as nl
from neurolearn.demo import find_data_dir

data = find_data_dir()  # the data/ folder of the source checkout (see data/README.md)
"""


def md(text: str):
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(text: str):
    return nbformat.v4.new_code_cell(text.strip("\n"))


NOTEBOOKS: dict[str, list] = {}


def notebook(name: str):
    def register(build):
        NOTEBOOKS[name] = build
        return build

    return register


# --------------------------------------------------------------------------------------------------------
@notebook("01_loading_real_nwb.ipynb")
def loading_real_nwb():
    return [
        md("""
# 01 · Loading real NWB recordings

neurolearn starts from [NWB](https://nwb.org) files, the community standard for neurophysiology, and turns
them into labelled arrays: one session becomes an `xarray.DataArray` of responses with dims
`(trial, neuron)` (or `(trial, neuron, time)`), several sessions become an `xarray.DataTree`. Everything
downstream (statistics, fits, figures) works on these objects.

We use a real recording bundled in `data/real/`: single neurons of the human medial temporal lobe recorded
while a patient watched short video clips that contained no boundary, a *soft* boundary (a cut within the same
movie) or a *hard* boundary (a cut to a different movie), and later judged which frames they had seen
(Zheng et al. 2022, *Nature Neuroscience*, "Cognitive boundary signals in the human medial temporal lobe shape
episodic memory representation"; DANDI:000207; file from pynapple's examples, MIT licence).
"""),
        code(SETUP),
        md("""
## What is in the file?

`describe_file` lists the neural data sources (a Units table of spike times, imaging traces, other time
series), the interval tables that can serve as trials, and the session metadata, without reading the data.
The same listing is what `neurolearn info FILE` prints.
"""),
        code("""
path = data / "real" / "sub-4_ses-4_ecephys+image.nwb"
print(nl.io.format_description(nl.io.describe_file(path)))
"""),
        md("""
There is no table called `trials`: this experiment has an *encoding* phase (watching clips) and two test
phases. Asking for the default gives an error that says what is there instead, rather than a traceback from
deep inside h5py:
"""),
        code("""
try:
    nl.read_nwb(path)
except nl.NWBError as error:
    print(error)
"""),
        md("""
## One session → a labelled array

We take the encoding table as trials and count each unit's spikes in the 2 s after clip onset. Every column
of the table becomes a coordinate on `trial`, so the conditions travel with the data.
"""),
        code("""
rec = nl.read_nwb(path, trials="encoding_table", window=(0.0, 2.0))
rec
"""),
        code("""
print(rec.sizes, rec.attrs["units"])
categories, counts = np.unique(rec.stimCategory.values, return_counts=True)
print("clips per boundary category:", dict(zip(categories.tolist(), counts.tolist())))
"""),
        md("""
**Trust, but verify.** The loader uses h5py bulk reads; we check one value against a count made by hand from
the raw spike times of the file (an independent path through the data).
"""),
        code("""
import h5py

unit, trial = 3, 10
with h5py.File(path, "r") as f:
    ends = f["units/spike_times_index"][:]
    spikes = f["units/spike_times"][(ends[unit - 1] if unit else 0):ends[unit]]
    onset = f["intervals/encoding_table/start_time"][trial]
by_hand = int(np.sum((spikes >= onset) & (spikes < onset + 2.0)))
assert by_hand == int(rec.sel(neuron=rec.neuron[unit]).isel(trial=trial))
print("spikes of unit", unit, "in trial", trial, ":", by_hand)
"""),
        md("""
## Condition means and a time-resolved view

`nl.data.condition_means` averages the trials that share a value of a trial coordinate. With `bin_size` the
reader returns a time axis, here 250 ms bins from 0.5 s before to 2 s after clip onset.
"""),
        code("""
means = nl.data.condition_means(rec.astype(float) / 2.0, "stimCategory")  # spikes/s
print(means.sizes, "trials per condition:", means.n_trials.values.tolist())

binned = nl.read_nwb(path, trials="encoding_table", window=(-0.5, 2.0), bin_size=0.25, rates=True)
fig, ax = plt.subplots(figsize=(5, 3))
for category, label in enumerate(["no boundary", "soft boundary", "hard boundary"]):
    trials = binned.where(binned.stimCategory == category, drop=True)
    ax.plot(binned.time, trials.mean(("trial", "neuron")), marker="o", label=label)
ax.axvline(0, color="0.5", lw=1)
ax.set(xlabel="time from clip onset (s)", ylabel="mean rate (spikes/s)")
ax.legend(frameon=False);
"""),
        md("""
## Several sessions → a DataTree

Learning is seen across sessions. `read_sessions` reads many files with the same options and orders them by
session start time. The bundled `data/rich/` folder holds ten simulated sessions written as NWB units (see
`data/README.md`); `chunks=` makes the arrays dask-backed, so nothing is read until it is needed
(tutorial 06).
"""),
        code("""
tree = nl.read_sessions(str(data / "rich" / "*.nwb"), window=(0.0, 0.5))
print(list(tree.children))
first = tree["day00"].dataset.responses
print(first.sizes, "trial coords:", [c for c in first.coords if first[c].dims == ("trial",)])

lazy = nl.read_sessions(str(data / "rich" / "*.nwb"), window=(0.0, 0.5), chunks={"trial": 64})
print(type(lazy["day00"].dataset.responses.data).__name__)
assert (lazy["day00"].dataset.responses.compute() == first).all()
"""),
        md("""
**Next:** tutorial 02 computes statistics of learning from such a tree and asks whether a network learned in
the lazy or the rich regime.
"""),
    ]


# --------------------------------------------------------------------------------------------------------
@notebook("02_lazy_vs_rich.ipynb")
def lazy_vs_rich():
    return [
        md("""
# 02 · Lazy or rich? Reading the learning regime from recordings

A network can learn a task in two ways. In the **lazy** (kernel) regime its internal representation barely
moves: the representation kernel Φ (how similar the population response to each pair of stimuli is) stays
what it was at initialisation, and only the readout learns, as for a neural tangent kernel (Jacot, Gabriel &
Hongler 2018; Chizat, Oyallon & Bach 2019). In the **rich** (feature-learning) regime the kernel itself turns
toward the task. Dynamical mean-field theory of wide networks (Bordelon & Pehlevan 2022) makes this
quantitative with one number, the richness γ₀ of a mean-field / μP parameterisation.

For a two-layer linear network learning a target of size y = 1 (docs/theory.md §2), the residual Δ obeys
dΔ/dt = −H_y Δ with task eigenvalue H_y = 2√(1 + γ₀²(1 − Δ)²). Lazy (γ₀ → 0): H_y = 2, the kernel is frozen
and Δ = e^(−2t). Rich: H_y grows to 2√(1 + γ₀²), so **kernel–task alignment rises together with behaviour**.

The recordings: `data/rich/` and `data/lazy/` hold ten sessions each of 80 spiking units from the hidden layer
of such a network, trained with γ₀ = 4 and γ₀ = 0.1 (see `data/README.md`). We pretend not to know which is
which.
"""),
        code(SETUP + """
import json

manifest = json.loads((data / "examples.json").read_text())
trees = {name: nl.read_sessions(str(data / name / "*.nwb"), window=(0.0, 0.5)) for name in ("rich", "lazy")}
"""),
        md("""
## Statistics of learning, with uncertainty

`nl.summarize` computes, per session, behaviour (fraction correct) and the representation statistics of
docs/theory.md §1, each with a bootstrap standard error (`_se`) and interval (`_ci`) from resampling neurons.
Kernel statistics use trial-split, noise-corrected kernels so that trial noise does not bias them.
"""),
        code("""
stats = {name: nl.summarize(tree, target="target", by="stimulus", behavior="correct", n_boot=100,
                            random_state=0, readout=False)
         for name, tree in trees.items()}
stats["rich"][["behavior", "task_alignment"]].to_dataframe().round(3)
"""),
        code("""
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
for name, color in (("rich", "C3"), ("lazy", "C0")):
    for ax, statistic in zip(axes, ("behavior", "task_alignment")):
        nl.plot.plot_trajectory(stats[name], statistic, ax=ax, label=name, color=color)
        ax.set_title(statistic)
axes[1].legend(frameon=False);
"""),
        md("""
Both networks learn the task equally well, but only one of them changes its representation: alignment of
the kernel with the task kernel yyᵀ rises from about 1/√D_eff to ~0.7 in one dataset and stays flat in the
other. The session × session similarity of kernels (centred kernel alignment, CKA; Kornblith et al. 2019)
shows the same thing without reference to the task:
"""),
        code("""
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
for ax, name in zip(axes, ("rich", "lazy")):
    nl.plot.plot_kernel_similarity(stats[name], ax=ax)
    ax.set_title(f"{name}: kernel similarity")
"""),
        md("""
## Why estimators matter

With a few trials per stimulus and tens of neurons, the naive ("plug-in") kernel of trial-averaged responses
has trial noise on its diagonal, which drags alignment toward zero. The unbiased estimator removes the noise
term (docs/theory.md §1, "Estimation from finite data"). Against the noiseless truth of the simulation:
"""),
        code("""
late = trees["rich"]["day09"].dataset.responses
truth = manifest["datasets"]["rich"]["true_statistics"]["task_alignment"][9]
for estimator in ("plugin", "unbiased"):
    a = nl.stats.task_alignment(late, estimator=estimator, n_boot=100, random_state=0)
    low, high = a["task_alignment_ci"].values
    print(f"{estimator:>9}: {float(a['task_alignment']):.3f}  [{low:.3f}, {high:.3f}]   truth {truth:.3f}")
"""),
        md("""
## Fitting the lazy–rich model

`nl.fit` matches the model's predicted statistics to the measured ones by weighted least squares (weights from
the bootstrap SEs), mapping session s to training time τ = c·s. Two facts of the design are fixed rather than
fitted: behaviour starts at chance (0.5) and the first session precedes training (onset 0). We fit alignment
and behaviour; the model's other observable, the *uncentred* kernel change, is dominated by each neuron's
baseline firing rate in spike counts (which the model's zero-mean units do not have), so it is left out.

The lazy hypothesis is the same model with γ₀ fixed near zero; AIC compares the two.
"""),
        code("""
design = {"chance": 0.5, "onset": 0.0}
observables = ["task_alignment", "behavior"]
fits = {}
for name in ("rich", "lazy"):
    free = nl.fit(stats[name], "lazy-rich", observables=observables, fixed=design, random_state=0)
    frozen = nl.fit(stats[name], "lazy-rich", observables=observables, fixed=design | {"gamma0": 0.01},
                    label="frozen kernel", random_state=0)
    fits[name] = free, frozen
    low, high = free.ci["gamma0"]
    print(f"{name}: gamma0 = {free.params['gamma0']:.3g} [{low:.3g}, {high:.3g}]  "
          f"(true {manifest['datasets'][name]['truth']['gamma0']:g})")
    print(nl.compare([free, frozen])[["label", "aic", "delta_aic"]].to_string(index=False), "\\n")
"""),
        code("""
rich_free, rich_frozen = fits["rich"]
lazy_free, lazy_frozen = fits["lazy"]
assert rich_free.ci["gamma0"][0] > 1.0            # rich: the whole interval is above gamma0 = 1
assert rich_frozen.aic - rich_free.aic > 10        # and a frozen kernel cannot explain the alignment rise
assert lazy_frozen.aic - lazy_free.aic <= 2.0      # lazy: a frozen kernel explains the data as well
nl.plot.plot_fit(rich_free, stats["rich"])
"""),
        md("""
The rich dataset's γ₀ interval excludes the lazy regime and contains the true value 4; for the lazy dataset
the data cannot rule out a small γ₀ (interval up to about 1) but a frozen kernel fits as well as any richness.

**Where this comes from.** Lazy vs rich training: Chizat, Oyallon & Bach (2019); kernel dynamics of wide
networks: Bordelon & Pehlevan (2022); the silent alignment alternative (`"silent-alignment"`, kernel aligns
before the loss drops): Atanasov, Bordelon & Pehlevan (2022). The registered model says what it reduces:
"""),
        code("""
model = nl.theory.MODELS["lazy-rich"]
print(model.formula, "\\n\\nReference:", model.reference)
"""),
    ]


@notebook("03_hidden_progress_overtraining.ipynb")
def hidden_progress():
    return [
        md("""
# 03 · Hidden progress during overtraining

Animals are often trained long after their performance stops improving. Is anything still being learned? Kumar
et al. (2025, *Do mice grok? Glimpses of hidden progress during overtraining in sensory cortex*) found that in
posterior piriform cortex decoding accuracy, held-out generalisation and the margin of the best linear readout
kept improving for weeks after behaviour had saturated, and that examples the population misclassified flipped
to correct.

Theory explains why. With a logistic (cross-entropy) loss on separable data, the loss never reaches zero: once
every training example is classified correctly, gradient descent keeps growing the weights and rotates them
toward the **max-margin** solution (the implicit bias of gradient descent; Soudry et al. 2018), so margins
grow like log t. With a squared error, learning stops once the residual is zero: no hidden progress. The
reduced model (`"overtraining"`) follows the margin scale z(τ) with z + e^z = τ + 1.
"""),
        code(SETUP + """
import json
from neurolearn.stats.trend import post_saturation_trend
from neurolearn.theory.overtraining import margin_scale

tau = np.logspace(-1, 4, 200)
fig, ax = plt.subplots(figsize=(4.5, 3))
ax.plot(tau, margin_scale(tau, "logistic"), label="logistic loss: z ~ log t")
ax.plot(tau, margin_scale(tau, "mse"), label="squared error: stops")
ax.set(xscale="log", xlabel="training time", ylabel="margin scale z")
ax.legend(frameon=False);
"""),
        md("""
## The recordings

`data/overtraining/` holds ten sessions of calcium imaging (DfOverF) of the same 40 tracked ROIs in a network
trained with a logistic loss; 40 trained and 40 held-out stimuli (trial column `is_train`). `summarize` adds
read-out statistics: cross-validated `decoder_accuracy`, `heldout_accuracy` (train on trained stimuli, test
on held-out ones), the max-margin SVM `margin` on standardised responses, and `flip_fraction` (examples that
go from wrong to right since the previous session).
"""),
        code("""
manifest = json.loads((data / "examples.json").read_text())
tree = nl.read_sessions(str(data / "overtraining" / "*.nwb"), window=(0.0, 0.5))
print(tree["day00"].dataset.responses.sizes, tree["day00"].dataset.responses.attrs["units"])
stats = nl.summarize(tree, target="target", by="stimulus", behavior="correct", n_boot=100, random_state=0)
names = ["behavior", "decoder_accuracy", "heldout_accuracy", "margin", "flip_fraction", "fisher_discriminant"]
nl.plot.plot_trajectories(stats, names)
"""),
        md("""
Behaviour (which includes the unrewarded held-out probes, hence its plateau below 1) saturates within a few
sessions. Does the representation keep changing afterwards? We fit a line to the margin over the sessions from
saturation on, weighting each session by its bootstrap standard error:
"""),
        code("""
start, slope, (low, high) = post_saturation_trend(stats, "margin")
print(f"behaviour saturates at session {start}; margin slope after that: "
      f"{slope:+.3f} [{low:+.3f}, {high:+.3f}] per session")
for name in ("heldout_accuracy", "decoder_accuracy"):
    _, s, (lo, hi) = post_saturation_trend(stats, name)
    print(f"{name:>17}: {s:+.3f} [{lo:+.3f}, {hi:+.3f}] per session")
assert low > 0  # hidden progress: the margin keeps growing while behaviour is flat
"""),
        md("""
## The control: squared error

Same network, same task, same settings (recorded in `examples.json`), squared-error loss, simulated here
directly as a DataTree without going through NWB. The theory predicts that learning stops once the training
set is fitted: the margin may creep up while the residual is still shrinking, but it does not keep growing
like log t. We compare the two slopes after saturation.
"""),
        code("""
from neurolearn.simulate.logistic import simulate_overtraining_sessions

settings = manifest["datasets"]["overtraining"]["simulation"] | {"loss": "mse"}
control_tree, control_truth = simulate_overtraining_sessions(rng=1, **settings)
control = nl.summarize(control_tree, n_boot=100, random_state=0)
slopes = {}
for label, data in (("logistic", stats), ("squared error", control)):
    start, slope, (low, high) = post_saturation_trend(data, "margin")
    slopes[label] = slope, (high - low) / (2 * 1.96)
    print(f"{label:>13}: margin slope after session {start}: "
          f"{slope:+.3f} [{low:+.3f}, {high:+.3f}] per session")
(s1, se1), (s2, se2) = slopes.values()
z = (s1 - s2) / np.hypot(se1, se2)
print(f"difference: z = {z:.1f}")
assert z > 2  # the logistic network's margin keeps growing faster after saturation

fig, ax = plt.subplots(figsize=(5, 3.2))
nl.plot.plot_trajectory(stats, "margin", ax=ax, label="logistic loss", color="C3")
nl.plot.plot_trajectory(control, "margin", ax=ax, label="squared error", color="C0")
ax.legend(frameon=False);
"""),
        md("""
## The reduced model

`nl.fit` matches the overtraining model jointly to behaviour, decoding, held-out accuracy, margin and flips.
Its links (gains, starting levels) are free; how fast the margin scale grows is set by the time mapping.
"""),
        code("""
fit = nl.fit(stats, "overtraining", fixed={"onset": 0.0}, random_state=0)
print(fit)
nl.plot.plot_fit(fit, stats)
"""),
        md("""
In these simulated recordings the effect is modest: the hidden layer is recorded with trial noise and most of
the weight growth happens in the readout, so the representation's margin rises by a few bootstrap standard
errors over the overtraining sessions. With real data, the same analysis (statistics with intervals, a trend
after saturation, a squared-loss control or model comparison) is what separates hidden progress from noise.

**References.** Kumar et al. (2025), *Do mice grok? Glimpses of hidden progress during overtraining in sensory
cortex*; Soudry, Hoffer, Nacson, Gunasekar & Srebro (2018), *The implicit bias of gradient descent on
separable data*.
"""),
    ]


@notebook("04_learning_to_integrate.ipynb")
def learning_to_integrate():
    return [
        md("""
# 04 · Learning to integrate

Many tasks need a memory: accumulating evidence, keeping track of a position, counting. A recurrent network
learns such a memory by creating a slow mode in its dynamics. Bordelon, Cotler, Pehlevan & Zavatone-Veth
(2025) worked out how this happens in a linear RNN, h_{k+1} = W h_k + u x_k with output vᵀh_k, trained on
white-noise input x to reproduce the filter ρ*ⁿ (ρ* → 1 is a perfect integrator). From a small initial W,
learning is carried by **one outlier eigenvalue λ of W that rises sigmoidally out of the bulk** while the loss
falls. A two-parameter caricature, impulse response k_n = aλⁿ, has the loss

L(a, λ) = a²/(2(1 − λ²)) − a/(1 − λρ*) + 1/(2(1 − ρ*²)),

and the population's slowest timescale is τ = −Δt / log λ. In recordings, that timescale is what grows.
"""),
        code(SETUP + """
import json
from neurolearn.simulate.rnn import train_integrator
"""),
        md("""
## The mechanism, in the network itself

Train a small RNN and look at the eigenvalues of W at a few checkpoints: one of them leaves the bulk.
"""),
        code("""
run = train_integrator(40, rho_star=0.9, n_steps=300, checkpoints=[0, 100, 200, 300], rng=0)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
axes[0].plot(circle.real, circle.imag, color="0.8")
for step, W in zip(run.steps, run.W):
    eig = np.linalg.eigvals(W)
    axes[0].scatter(eig.real, eig.imag, s=10, label=f"step {step}")
axes[0].set(aspect="equal", xlabel="Re λ", ylabel="Im λ", title="eigenvalues of W")
axes[0].legend(frameon=False, fontsize=8)
axes[1].plot(run.steps, run.outlier_eigenvalue, marker="o", label="largest |λ|")
axes[1].plot(run.steps, run.loss / run.initial_loss, marker="o", label="normalised loss")
axes[1].set(xlabel="training step")
axes[1].legend(frameon=False);
assert run.outlier_eigenvalue[-1] > 2 * run.outlier_eigenvalue[0]
"""),
        md("""
## The recordings

`data/integration/` holds eight sessions of a 30-unit RNN learning ρ* = 0.9, imaged with one frame per 0.25 s
time bin (one RNN step per bin). Reading with `bin_size` gives `(trial, neuron, time)` arrays. Eight
white-noise input sequences (`stimulus`) are each presented twice; `target` is the sign of the integrated
input.
"""),
        code("""
manifest = json.loads((data / "examples.json").read_text())["datasets"]["integration"]
read = {k: tuple(v) if isinstance(v, list) else v for k, v in manifest["read"].items()}
tree = nl.read_sessions(str(data / "integration" / "*.nwb"), **read)
first, last = tree["day00"].dataset.responses, tree["day07"].dataset.responses
print(first.sizes, "bin size", first.attrs["bin_size"], "s")

fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True, layout="constrained")
for ax, rec, title in ((axes[0], first, "before training"), (axes[1], last, "after training")):
    ax.imshow(rec.isel(trial=0).values, aspect="auto", cmap="RdBu_r",
              extent=(0, float(rec.time[-1]) + 0.125, rec.sizes["neuron"], 0))
    ax.set(title=title, xlabel="time in trial (s)")
axes[0].set_ylabel("unit");
"""),
        md("""
## Dynamics statistics across learning

For time-resolved recordings `summarize` also fits a linear dynamical model x_{k+1} ≈ A x_k (ridge, in a
reduced PCA space) per session and reports the largest eigenvalue modulus of A (`outlier_eigenvalue`) and the
slowest timescale −Δt/log|λ_max| (`timescale`), with neuron-bootstrap intervals. The read-out statistics are
for `(trial, neuron)` data and are switched off here.
"""),
        code("""
stats = nl.summarize(tree, **manifest["summarize"], n_boot=100, random_state=0)
truth = manifest["true_statistics"]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2), layout="constrained")
for ax, name in zip(axes, ("behavior", "outlier_eigenvalue", "timescale")):
    nl.plot.plot_trajectory(stats, name, ax=ax, label="estimated from recordings")
    ax.plot(range(len(truth[name])), truth[name], "k*", label="true network")
    ax.set_title(name)
axes[0].legend(frameon=False, fontsize=8);
"""),
        code("""
low, high = stats["timescale_ci"].isel(session=-1).values
print(f"timescale: first session {float(stats.timescale[0]):.2f} s, last {float(stats.timescale[-1]):.2f} s "
      f"[{low:.2f}, {high:.2f}]; true {truth['timescale'][-1]:.2f} s")
assert float(stats.timescale[-1]) > 3 * float(stats.timescale[0])  # a slow mode appeared
"""),
        md("""
## Fitting the reduced model

The `"integrator"` model predicts behaviour, the outlier eigenvalue and the timescale from the gradient flow
of the two-unit RNN that a network trained from W = 0 reduces to exactly (docs/theory.md §2.5). We fit behaviour and the outlier eigenvalue (the timescale is a function of the
eigenvalue, so fitting it too would count the same information twice). Δt (seconds per RNN step) is a fact of
the recording and is held fixed; the target decay ρ* is the quantity of interest.
"""),
        code("""
fit = nl.fit(stats, "integrator", observables=["behavior", "outlier_eigenvalue"],
             fixed=manifest["fixed"] | {"onset": 0.0}, random_state=0)
print(fit)
low, high = fit.ci["rho_star"]
print(f"rho* = {fit.params['rho_star']:.3f} [{low:.3f}, {high:.3f}]   (true {manifest['truth']['rho_star']})")
assert low > fit.params["bulk"]  # the learned eigenvalue stands out of the bulk
nl.plot.plot_fit(fit, stats)
"""),
        md("""
The estimate is close to the true ρ* = 0.9 of the simulated network. The reduction is exact for a network
without a bulk of untrained eigenvalues; the 30-unit network's bulk steepens the rise a little, which biases
ρ* low by about 0.007, and the dynamics statistics' intervals are far narrower than that, so the fit may say
it misfits and widen its intervals.

**Reference.** Bordelon, Cotler, Pehlevan & Zavatone-Veth (2025), on the learning dynamics of linear RNNs
trained to integrate (docs/theory.md §2); the registered model's `reference` and `formula` fields say exactly what
is implemented: `nl.theory.MODELS["integrator"]`.
"""),
    ]


@notebook("05_kernel_learning_curves.ipynb")
def kernel_learning_curves():
    return [
        md("""
# 05 · Kernel learning curves: predicting behaviour from the representation

If a downstream readout learns the task from the recorded representation, how many examples does it need?
For kernel (ridge) regression the answer is a closed-form function of the kernel's eigenvalues η_k and of how
the target's power v_k² spreads over its eigenmodes (Bordelon, Canatar & Pehlevan 2020; Canatar, Bordelon &
Pehlevan 2021). With P′ training examples, ridge λ and label noise σ²:

κ = λ + κ Σ_k η_k/(P′η_k + κ),  γ = Σ_k P′η_k²/(P′η_k + κ)²,
E_g(P′) = [Σ_k v_k² κ²/(P′η_k + κ)² + σ²γ]/(1 − γ).

A representation whose top eigenmodes carry the target (high *spectral task alignment*) generalises from few
examples. This notebook checks the theory, then applies it to recorded kernels across learning.
"""),
        code(SETUP + """
from neurolearn.theory.kernel_regression import kernel_generalization_error
"""),
        md("""
## 1 · The theory against its reference table and a direct simulation

docs/theory.md gives a reference: η_k ∝ k^−1.5, v_k² ∝ k^−2 (400 modes), ridgeless.
"""),
        code("""
k = np.arange(1, 401)
eta = k ** -1.5
power = k ** -2.0 / np.sum(k ** -2.0)
n_train = np.array([5, 10, 20, 40, 80, 160, 320])
theory = kernel_generalization_error(eta, power, n_train)
reference = np.array([0.279, 0.152, 0.0772, 0.0373, 0.0168, 0.00647, 0.00115])
np.testing.assert_allclose(theory, reference, rtol=0.01)
print(np.c_[n_train, theory.round(5), reference])
"""),
        md("""
An independent check: draw Gaussian features g_k with variance η_k, a target y = Σ_k v_k g_k, fit the
minimum-norm interpolant on P′ examples and measure its test error exactly (‖v − ŵ‖² in the feature basis).
"""),
        code("""
rng = np.random.default_rng(0)
v = np.sqrt(power)

def simulated_error(p, repeats=200):
    errors = []
    for _ in range(repeats):
        g = rng.standard_normal((p, k.size))
        features = g * np.sqrt(eta)
        y = g @ v
        alpha = np.linalg.solve(features @ features.T, y)      # ridgeless kernel regression
        w = np.sqrt(eta) * (features.T @ alpha)                # learned coefficients on the g_k
        errors.append(np.sum((v - w) ** 2))
    return np.mean(errors), np.std(errors) / np.sqrt(repeats)

for p, predicted in zip(n_train[:4], theory[:4]):
    mean, se = simulated_error(int(p))
    print(f"P'={p:3d}: theory {predicted:.4f}  simulation {mean:.4f} ± {se:.4f}")
    assert abs(mean - predicted) < 3 * se + 0.1 * predicted
"""),
        md("""
## 2 · Learning curves of recorded kernels

`nl.stats.predicted_learning_curve` estimates a session's kernel (noise-corrected), decomposes it, projects
the task labels and solves the equations above. With 16 stimuli per session we look at P′ up to 8.
"""),
        code("""
trees = {name: nl.read_sessions(str(data / name / "*.nwb"), window=(0.0, 0.5)) for name in ("rich", "lazy")}
sizes = [1, 2, 4, 8]
curves = {}
for name, tree in trees.items():
    per_session = [nl.stats.predicted_learning_curve(child.dataset.responses, n_train=sizes)
                   for child in tree.children.values()]
    curves[name] = xr.concat(per_session, dim="session").assign_coords(session=list(tree.children))
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True, layout="constrained")
for ax, (name, curve) in zip(axes, curves.items()):
    for index in range(curve.sizes["session"]):
        ax.plot(sizes, curve[index], color=plt.cm.viridis(index / 9), marker="o", ms=3)
    ax.set(xscale="log", xlabel="training examples P'", title=name)
    ax.set_xticks(sizes, [str(p) for p in sizes])
    ax.minorticks_off()
axes[0].set_ylabel("predicted generalisation error");
"""),
        md("""
In the rich network the learning curves move down across sessions: the representation makes the task easier
to read out from few examples. In the lazy network they stay put — its kernel never changes, even though
behaviour (the network's own readout) improves. Summarised at P′ = 4:
"""),
        code("""
at4 = {name: curve.sel(n_train=4).values for name, curve in curves.items()}
for name, values in at4.items():
    print(f"{name:>4}: first session {values[0]:.3f} -> last session {values[-1]:.3f}")
assert at4["rich"][-1] < 0.8 * at4["rich"][0]     # rich: the representation became much easier to read out
assert abs(at4["lazy"][-1] - at4["lazy"][0]) < 0.1 * at4["lazy"][0] + 0.05  # lazy: about unchanged
"""),
        md("""
## 3 · Predicting behaviour from the representation

If the animal's readout learned from a handful of examples, its accuracy should track 1 − E_g(P′) of the
representation it reads from. Across the rich network's sessions:
"""),
        code("""
stats = nl.summarize(trees["rich"], n_boot=50, random_state=0, readout=False)
predicted = 1 - at4["rich"]
fig, ax = plt.subplots(figsize=(4, 3.2))
ax.errorbar(predicted, stats.behavior, yerr=stats.behavior_se, fmt="o")
ax.set(xlabel="1 - predicted error at P'=4", ylabel="behaviour (fraction correct)")
print("correlation:", np.corrcoef(predicted, stats.behavior)[0, 1].round(2))
"""),
        md("""
`spectral_power` in the `summarize` output is the cumulative target power of the top kernel modes, the
single-number version of the same idea; the `"kernel-learning-curve"` model in `nl.theory.MODELS` turns
power-law spectra into a learning curve over training time that `nl.fit` can match to behaviour.

**References.** Bordelon, Canatar & Pehlevan (2020), *Spectrum dependent learning curves in kernel regression
and wide neural networks*; Canatar, Bordelon & Pehlevan (2021), *Spectral bias and task-model alignment
explain generalization in kernel regression and infinitely wide neural networks*.
"""),
    ]


@notebook("06_scaling_with_dask.ipynb")
def scaling_with_dask():
    return [
        md("""
# 06 · Scaling out with dask

Recordings grow (more neurons, trials, sessions) while the analysis stays the same. neurolearn keeps arrays
*lazy* when asked (`chunks=` on the readers gives dask-backed DataArrays that read nothing until computed) and
does the per-session work of `summarize` as independent dask tasks, so the same call runs on one core, on all
cores, or on a `dask.distributed` cluster. The bootstrap does not recompute kernels: it reweights per-neuron
sufficient statistics, so resampling costs little more than one pass over the data.
"""),
        code(SETUP + """
import time
import dask
"""),
        md("""
## Lazy reading

With `chunks`, each session's responses are a dask array; its blocks are read from the NWB file (by path, so
they also work on remote workers) only when needed.
"""),
        code("""
pattern = str(data / "overtraining" / "*.nwb")
lazy_tree = nl.read_sessions(pattern, window=(0.0, 0.5), chunks={"trial": 60})
responses = lazy_tree["day00"].dataset.responses
print(type(responses.data).__name__, "blocks:", responses.data.chunks)
print("tasks in the graph:", len(dict(responses.data.__dask_graph__())))
"""),
        md("""
## Same numbers, any scheduler

`summarize` accepts the scheduler dask should use for the per-session stages. The results must not depend on
it (nor on whether the input was lazy):
"""),
        code("""
eager_tree = nl.read_sessions(pattern, window=(0.0, 0.5))
nl.summarize(eager_tree, n_boot=2, random_state=0, readout=False)  # warm-up: imports and first-call costs
timings, results = {}, {}
for label, tree, scheduler in [("eager input, one thread", eager_tree, "synchronous"),
                               ("lazy input, threads", lazy_tree, "threads")]:
    started = time.perf_counter()
    results[label] = nl.summarize(tree, n_boot=50, random_state=0, readout=False, scheduler=scheduler)
    timings[label] = time.perf_counter() - started
xr.testing.assert_allclose(*results.values())
for label, seconds in timings.items():
    print(f"{label:>25}: {seconds:.2f} s")
"""),
        md("""
## On a cluster

A `dask.distributed` client's `get` is a scheduler too. Here a local cluster in this process stands in for a
real one (on a cluster you would connect with `Client("scheduler-address:8786")`):
"""),
        code("""
from dask.distributed import Client, LocalCluster

with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \\
        Client(cluster) as client:
    started = time.perf_counter()
    distributed = nl.summarize(lazy_tree, n_boot=50, random_state=0, readout=False, scheduler=client.get)
    workers = len(client.scheduler_info()["workers"])
    print(f"distributed: {time.perf_counter() - started:.2f} s on {workers} workers")
xr.testing.assert_allclose(distributed, results["eager input, one thread"])
distributed[["participation_ratio", "task_alignment"]].to_dataframe().round(3).head()
"""),
        md("""
With two small example datasets the overhead of scheduling dominates; the point is that the code does not
change when the data do. Speed claims are measured in `benchmarks/` (ratios against a baseline in the same
run), not here.
"""),
    ]


# --------------------------------------------------------------------------------------------------------
@notebook("07_your_own_data.ipynb")
def your_own_data():
    return [
        md("""
# 07 · Your own data

The example data of tutorials 01–06 were written for neurolearn. A lab's own files come as they were
recorded: outcomes stored as strings, event times relative to each trial, curation flags, one mouse per file,
unit ids that start again at 0 in every session. Nothing in such a file says which trials to count, which
column is the task, or whether unit 3 today is unit 3 tomorrow. Those are the experimentalist's decisions.
This notebook goes through them on real files: where neurolearn asks for each decision, what it does when it
is not made, and what it refuses to do.

The files (credits and licences in `data/README.md`):

- `data/alm/`: two mice, one session and one sorted unit each, from Svoboda-lab extracellular recordings of
  anterior lateral motor cortex (ALM) in a tactile delayed-response task: the position of a pole instructs
  the mouse to lick left or right after a go cue (copied from the test data of dandi-cli, Apache-2.0);
- `data/real/`: 35 single units of the human medial temporal lobe during a recognition-memory test
  (Zheng et al. 2022, *Nature Neuroscience*; DANDI:000207; from pynapple's examples, MIT licence).
"""),
        code(SETUP + """
import contextlib
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd

pd.set_option("display.max_colwidth", 120)  # flags are sentences: show them whole


@contextlib.contextmanager
def shown_warnings():
    \"\"\"Print every warning raised inside the block on one line: what they say is part of the result.\"\"\"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        print("warning:", warning.message)


def trials_of(rec):
    \"\"\"The trial coords of a recording as a table (one row per trial).\"\"\"
    return rec.coords.to_dataset().drop_dims([d for d in rec.dims if d != "trial"]).to_dataframe()


def statistics_table(stats):
    \"\"\"Value, interval and flag of every per-session statistic, one row per (statistic, session).\"\"\"
    rows = []
    for name in nl.stats.STATISTICS:
        if name in stats and stats[name].dims == ("session",):
            for session in stats.session.values:
                low, high = stats[f"{name}_ci"].sel(session=session).values
                rows.append({"statistic": name, "session": session, "value": float(stats[name].sel(session=session)),
                             "lower": low, "upper": high,
                             "flag": str(stats[f"{name}_flag"].sel(session=session).values)})
    return pd.DataFrame(rows).set_index(["statistic", "session"]).round(3)
"""),
        md("""
## 1 · What is in the file?

`nl.io.describe_file` reads only metadata and shapes: the neural data sources, the interval tables that can
serve as trials (with their columns), the subject, and what the file declares about cell identity. From a
shell, `neurolearn info FILE` prints the same listing (section 9).
"""),
        code("""
alm = sorted((data / "alm").glob("*.nwb"))
info = nl.io.describe_file(alm[0])
print(nl.io.format_description(info))
"""),
        md("""
One Units table with one unit, a `trials` table, the subject `anm369963` (from the file's NWB Subject), and
"cell identity: not declared". The dictionary has the same fields for scripts:
"""),
        code("""
print(info["subject_id"], info["tracked_cells"], info["default_source"])
print([(table["path"], table["rows"]) for table in info["intervals"]])
"""),
        md("""
## 2 · Look at the trials before choosing anything

Read the session with the defaults and look at its trial coords: every scalar column of the trials table is
one. The warnings are about the file, and worth reading: the spike times were stored out of order, and some
trials lie outside the time the unit was recorded (section 4).
"""),
        code("""
with shown_warnings():
    rec = nl.read_nwb(alm[0])
trials = trials_of(rec)
print(trials.head(4).to_string(), "\\n")
print(pd.crosstab(trials["type"], trials["response"], margins=True), "\\n")
print("is_good:", trials["is_good"].value_counts().to_dict())
"""),
        md("""
What the analysis needs, and the choices this table leaves:

- **target**, the task label the representation should carry: `type`, the instructed side (lick left /
  lick right). Strings are accepted as labels; a mapping `{"type": {"lick left": -1, "lick right": 1}}`
  makes the coding explicit, and trials with any other value would be left out and counted.
- **by**, the conditions (the "stimuli" of the kernel statistics): trials that received the same input. Here
  that is the pole position, i.e. `type` again: **two conditions**. This one fact decides most of what can be
  computed (section 6).
- **behavior**, which trials were answered correctly: `response` holds four strings. "no response" and
  "early lick" are not wrong choices; `{"response": {"correct": 1, "incorrect": 0}}` leaves them out of the
  fraction correct and says how many. Counting them as errors would measure something else (engagement
  times accuracy): a legitimate choice, but one to make on purpose.
- **where**, which trials to analyse at all: the lab's curation flag `is_good` (section 4).

neurolearn does not guess a coding for strings; without the mapping it says what it found:
"""),
        code("""
try:
    nl.summarize(rec, target="type", by="type", behavior="response", n_boot=0, readout=False)
except nl.DataError as error:
    print(error)
"""),
        md("""
## 3 · Event times stored relative to the trial

The event columns are seconds since each trial's start, not times on the session clock: `cue_start_time` is
about 7 s while `start_time` is 300 s and more.
"""),
        code("""
print(trials[["start_time", "pole_in_time", "pole_out_time", "cue_start_time"]].head(3).to_string())
"""),
        md("""
We align to the go cue and count spikes in the 1.5 s before it, the delay epoch, in which ALM's preparatory
activity predicts the lick to come (Guo et al. 2014, *Neuron*; Li et al. 2015, *Nature*). `align` names the
column; times that cannot be absolute (here every cue "precedes" its own trial's start) are read as relative,
with a warning. Say it instead: `align=("cue_start_time", "relative")`, or `"cue_start_time:relative"` (the
form the CLI takes).
"""),
        code("""
with shown_warnings():
    nl.read_nwb(alm[0], align="cue_start_time", window=(-1.5, 0.0))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the file warnings just shown; the alignment one is gone
    delay = nl.read_nwb(alm[0], align=("cue_start_time", "relative"), window=(-1.5, 0.0))
print(delay.attrs["align"], "->", delay.attrs["align_times"], delay.sizes)
"""),
        md("""
Is the window a good choice? A time-resolved read (`bin_size`) of the correct trials shows the unit's rate
around the cue for each instructed side:
"""),
        code("""
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the same file warnings as above
    binned = nl.read_nwb(alm[0], align="cue_start_time:relative", window=(-3.0, 1.5), bin_size=0.25,
                         rates=True, where="is_good == 1 and response == 'correct'")
fig, ax = plt.subplots(figsize=(5, 3))
for side in ("lick left", "lick right"):
    ax.plot(binned.time, binned.where(binned.type == side, drop=True).mean(("trial", "neuron")),
            marker="o", label=side)
ax.axvspan(-1.5, 0.0, color="0.9", zorder=0, label="window analysed")
ax.axvline(0, color="0.5", lw=1)
ax.set(xlabel="time from go cue (s)", ylabel="rate (spikes/s)", title="unit 1001, correct trials")
ax.legend(frameon=False);
"""),
        md("""
## 4 · Selecting trials: `where=`

`where=` is a pandas expression on the trial columns, evaluated before anything is counted; the readers and
`summarize` both take it, and it is recorded in the `where` attr.
"""),
        code("""
with shown_warnings():
    good = nl.read_nwb(alm[0], align="cue_start_time:relative", window=(-1.5, 0.0), where="is_good == 1")
print(good.sizes["trial"], "of", rec.sizes["trial"], "trials are is_good")
"""),
        md("""
The second warning matters: the unit's first spike is at 372.76 s, so the windows of the first trials lie
before it. Those zeros are missing data (the unit was not yet recorded or sorted), not silence, and they
would dilute the difference between the sides. Leave them out as well:
"""),
        code("""
with shown_warnings():
    kept = nl.read_nwb(alm[0], align="cue_start_time:relative", window=(-1.5, 0.0),
                       where="is_good == 1 and start_time > 370")
print(kept.sizes["trial"], "trials;", "where:", kept.attrs["where"])
"""),
        md("""
## 5 · One animal is one trajectory: subjects

Every session carries `subject_id` (the NWB Subject, else the `sub-…` part of a DANDI/BIDS file name). Read
both files at once:
"""),
        code("""
options = dict(align=("cue_start_time", "relative"), window=(-1.5, 0.0), where="is_good == 1")
with shown_warnings():
    both = nl.read_sessions(str(data / "alm" / "*.nwb"), **options)
for name, child in both.children.items():
    responses = child["responses"]
    print(name, responses.attrs["subject_id"], responses.neuron.values, responses.attrs["tracking"])
"""),
        md("""
Both units have id 1001, and neither file says whether its ids name cells across sessions, so they are read
as different cells (`neuron` = `"<session>/<id>"`), with one warning that says how to declare otherwise.
Here that is right: they are two mice. A learning trajectory is one animal's, so `summarize` refuses the
mixture, and `split_subjects` or `read_sessions(..., subject=...)` give one animal:
"""),
        code("""
target = {"type": {"lick left": -1, "lick right": 1}}
behavior = {"response": {"correct": 1, "incorrect": 0}}
try:
    nl.summarize(both, target=target, by="type", behavior=behavior, n_boot=0)
except nl.DataError as error:
    print(error, "\\n")
print({subject: list(tree.children) for subject, tree in nl.data.split_subjects(both).items()})

options["where"] = "is_good == 1 and start_time > 370"  # section 4, for this mouse
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the file warnings seen above
    mouse = nl.read_sessions(str(data / "alm" / "*.nwb"), subject="anm369963", **options)
print(list(mouse.children))
"""),
        md("""
## 6 · What needs how many conditions, trials and neurons

Every statistic declares what it needs in `nl.stats.STATISTICS` (the full table is `docs/statistics.md`):
"""),
        code("""
needs = pd.DataFrame({name: vars(entry.needs) for name, entry in nl.stats.STATISTICS.items()}).T
needs.drop(columns="conditions_note")
"""),
        md("""
This ALM session has two conditions, one neuron and about 140 trials with an outcome. Behaviour and the
read-out statistics (one neuron is enough to decode from) can be computed; every kernel statistic needs at
least two neurons, and several need three or four conditions. `summarize` does not stop at the first
statistic it cannot compute: the value is NaN and `<name>_flag` says why, with one warning each.
"""),
        code("""
with shown_warnings():
    alm_stats = nl.summarize(mouse, target=target, by="type", behavior=behavior, n_boot=50, random_state=0)
statistics_table(alm_stats)
"""),
        md("""
How to read it:

- **behaviour** is the fraction correct over the trials with a correct/incorrect outcome (the warning counts
  the trials left out), with a Wilson interval.
- **decoding**: `decoder_accuracy` is cross-validated over trials. Its chance level, and the flag "at or
  below chance" (also for `fisher_discriminant`), come from a permutation null at the actual shape. With
  many conditions the labels are permuted *across conditions* (trials of one stimulus share its
  idiosyncrasies, so a code that only tells stimuli apart must read at chance). With one condition per
  class, as here, that null would have two labellings, the observed one among them, and could never reject;
  single trials are permuted instead (`decoder_accuracy_pvalue` is that test). What it cannot say is whether
  the unit codes the *category* beyond the two stimuli' identity: two stimuli cannot tell those apart. That
  the unit tells the two pole positions apart is read from the accuracy's interval, which lies above 0.5.
- **population statistics** are NaN, each with the reason: too few neurons for the kernel, too few
  conditions for an alignment or a spectrum, and no previous session for `flip_fraction`.
"""),
        code("""
assert not np.isnan(alm_stats["behavior"]).any() and not np.isnan(alm_stats["decoder_accuracy"]).any()
assert np.isnan(alm_stats["task_alignment"]).all() and np.isnan(alm_stats["participation_ratio"]).all()
assert float(alm_stats["decoder_accuracy_ci"].sel(ci_bound="lower")[0]) > 0.5  # as the text says
print(alm_stats["task_alignment_flag"].values, alm_stats["participation_ratio_flag"].values)
"""),
        md("""
## 7 · Declaring tracked cells

Whether unit 12 on Monday is unit 12 on Tuesday is a claim that only cell matching can make (CellReg,
suite2p or ROICaT for imaging; waveform and position matching for chronic electrodes). Spike sorters and
pynwb number units 0…N−1 in every file, so equal ids in different files mean nothing by themselves.
neurolearn never guesses: unless tracking is declared, neurons are different cells in every session, and
`code_overlap` (which compares the *same* cells' tuning across sessions) is not computed at all.

To see it with a known answer, simulate two sessions of the same 60 neurons, write each the way a sorter
would (units numbered 0…59, in a different order on the second day) and keep the matching as a registration
table with columns `session`, `unit`, `cell`. (neurolearn's own writer states tracking in the file;
`tracked=False` makes these files say "not tracked", like a lab's.)
"""),
        code("""
from neurolearn.simulate.nwb import write_recording_nwb
from neurolearn.simulate.spiking import spiking_sessions

simulated, truth = spiking_sessions(n_sessions=2, n_conditions=8, n_trials=6, n_neurons=60, tracked=True,
                                    separation=(1.0, 2.5), gain=0.8, random_state=0)
folder = Path(tempfile.mkdtemp())
order = np.random.default_rng(1)
rows = []
for day, child in simulated.children.items():
    counts = (child["responses"] * child["responses"].attrs["window"][1]).round().astype(int)  # spikes/s -> counts
    if day != "day00":
        counts = counts.isel(neuron=order.permutation(counts.sizes["neuron"]))  # the sorter's order differs
    rows += [{"session": day, "unit": unit, "cell": f"cell{cell:02d}"} for unit, cell in enumerate(counts.neuron.values)]
    counts = counts.assign_coords(neuron=np.arange(counts.sizes["neuron"]))  # and it numbers units 0..N-1
    write_recording_nwb(counts, folder / f"{day}.nwb", rng=0, tracked=False)
registration = pd.DataFrame(rows)
registration.to_csv(folder / "cells.csv", index=False)
registration[registration.session == "day01"].head(4)
"""),
        md("""
Three readings of the same files: as they declare (not tracked), with the claim that equal ids are the same
cells (`tracked=True`, wrong here), and with the registration table (a DataFrame or the CSV path):
"""),
        code("""
overlap = {}
for label, tracked in [("not declared", None), ("tracked=True", True), ("registration table", folder / "cells.csv")]:
    sessions = nl.read_sessions(str(folder / "*.nwb"), window=(0.0, 0.5), tracked=tracked)
    day01 = sessions["day01"]["responses"]
    stats = nl.summarize(sessions, n_boot=50, random_state=0, readout=False)
    if "code_overlap" in stats:
        overlap[label] = float(stats["code_overlap"].sel(session="day00", session_other="day01"))
        low, high = stats["code_overlap_ci"].sel(session="day00", session_other="day01").values
        result = f"code_overlap {overlap[label]:.3f} [{low:.3f}, {high:.3f}]"
    else:
        result = "no code_overlap (cells not declared tracked)"
    print(f"{label:>18}: neuron {day01.neuron.values[:3]} (unit_id {day01.unit_id.values[:3]}); {result}")
true_overlap = float(truth.statistics["code_overlap"].sel(session="day00", session_other="day01"))
print(f"{'simulation truth':>18}: code_overlap {true_overlap:.3f}")
assert "not declared" not in overlap
assert overlap["registration table"] > overlap["tracked=True"] + 0.2  # a wrong claim gives a wrong number
"""),
        md("""
The file's own ids stay available as the coord `unit_id`; `neuron` is the cell identity the analysis uses.
A wrong identity claim is not caught by any statistic: it just gives a different number. Declare tracking
only from a matching you trust.

## 8 · Blocks of one recording as pseudo-sessions

With a single session, change *within* it can still be followed by cutting its trials into blocks and
treating each block as a session. The human MTL file has no `trials` table; its recognition test (180
trials: was this frame seen during encoding?) is the interval table `recognition_table`. First its coding:
"""),
        code("""
mtl = data / "real" / "sub-4_ses-4_ecephys+image.nwb"
recognition = trials_of(nl.read_nwb(mtl, trials="recognition_table", window=(0.2, 1.2)))
pd.crosstab([recognition["stimuli_type"], recognition["old_new"]], recognition["accuracy"])
"""),
        md("""
`stimuli_type` is 1 for a frame shown at encoding ("old") and 0 for a foil ("new"); `old_new` is the
answer (2 "old", 1 "new", 0 none) and `accuracy` 2 correct, 1 incorrect. The four trials without an answer
are coded `accuracy` 1: the mapping `{"accuracy": {2: 1, 1: 0}}` alone would count them as errors, so
`where="old_new != 0"` removes them first.

Decisions for the blocks:

- three blocks of 60 trials, selected with `where=` on `trial_num`, each renamed as a session;
- the same cells in every block by construction, so `tracked=True` is a true statement here;
- conditions: old/new crossed with the boundary type of the clip the frame came from (no, soft or hard
  boundary; `boundary_type` 1/2/3), six conditions, three per class. A condition defined by two columns is
  a new coord, which needs Python (`--by` names one column);
- the window 0.2–1.2 s after frame onset (single-neuron responses in the MTL start after about 200 ms).
"""),
        code("""
boundary = {1: "NB", 2: "SB", 3: "HB"}
blocks = {}
for index, first in enumerate((1, 61, 121), start=1):
    block = nl.read_nwb(mtl, trials="recognition_table", window=(0.2, 1.2), tracked=True,
                        where=f"{first} <= trial_num < {first + 60} and old_new != 0")
    condition = [f"{'old' if old else 'new'}-{boundary[int(kind)]}"
                 for old, kind in zip(block.stimuli_type.values, block.boundary_type.values)]
    block = block.assign_coords(condition=("trial", condition))
    block.attrs["session_id"] = f"block{index}"
    blocks[f"block{index}"] = block
print({name: block.sizes["trial"] for name, block in blocks.items()})
print("trials per condition in block 1:", pd.Series(blocks["block1"].condition.values).value_counts().to_dict())
"""),
        md("""
The read-out statistics refit classifiers hundreds of times; to keep this notebook fast they are left out
here (`readout=False`, as `--no-readout` on the command line).
"""),
        code("""
with shown_warnings():
    mtl_stats = nl.summarize(blocks, target={"stimuli_type": {1: "old", 0: "new"}}, by="condition",
                             behavior={"accuracy": {2: 1, 1: 0}}, n_boot=20, random_state=0, readout=False)
behaviour = mtl_stats["behavior"].values
assert behaviour[2] < min(behaviour[:2]) - 0.1  # as the text says: the third block is worse
assert all("not resolved from noise" in str(flag) for flag in mtl_stats["task_alignment_flag"].values)
statistics_table(mtl_stats)
"""),
        md("""
Recognition is nearly perfect in the first two blocks and drops in the third. The kernel statistics are NaN
for a reason of the *data*, not of the design: with 35 units and 6–15 trials per condition, the spread of the
six condition means is not resolved from trial noise ("denominator not resolved from noise"). More trials
per condition, or more units, would be needed before alignment or dimensionality can be read from these
blocks. The spectral statistics (`spectral_power`, `powerlaw_exponent`) are reported without a flag
although they describe the eigenvectors of the same unresolved kernel: read every statistic together with
the flags of its family, not alone. Blocks of one session are not training
sessions: fatigue, adaptation and the order of the test all change with the block.

## 9 · The same path from the shell

Every option used above exists in `neurolearn summarize` (see `neurolearn summarize --help`). The commands
that correspond to this notebook's Python:

```bash
# section 1
neurolearn info data/alm/sub-anm369963_ses-20170228.nwb

# sections 2-6
neurolearn summarize "data/alm/*.nwb" --subject anm369963 \\
    --align cue_start_time:relative --window -1.5 0 \\
    --where "is_good == 1 and start_time > 370" \\
    --target "type:lick left=-1,lick right=1" --by type \\
    --behavior "response:correct=1,incorrect=0" --n-boot 50 -o alm_anm369963.nc

# section 7 (the simulated files and cells.csv)
neurolearn summarize day00.nwb day01.nwb --tracked-table cells.csv \\
    --window 0 0.5 --no-readout --n-boot 50 -o tracked.nc

# section 8, the recognition test as one session
neurolearn summarize data/real/sub-4_ses-4_ecephys+image.nwb \\
    --trials recognition_table --window 0.2 1.2 --where "old_new != 0" \\
    --target "stimuli_type:1=old,0=new" --by stimuli_type \\
    --behavior "accuracy:2=1,1=0" --no-readout -o mtl.nc
```

The CLI's sessions are files, so the blocks of section 8 and its two-column conditions need Python. The
installed `neurolearn` script sits next to the Python interpreter of the environment (`.venv/bin/neurolearn`
here; `python -m neurolearn.cli` is the same program). We run the ALM command and check that it gives the
numbers computed above:
"""),
        code("""
script = Path(sys.executable).with_name("neurolearn")
command = [str(script)] if script.exists() else [sys.executable, "-m", "neurolearn.cli"]
out = Path(tempfile.mkdtemp()) / "alm_anm369963.nc"
arguments = ["summarize", str(data / "alm" / "*.nwb"), "--subject", "anm369963",
             "--align", "cue_start_time:relative", "--window", "-1.5", "0",
             "--where", "is_good == 1 and start_time > 370",
             "--target", "type:lick left=-1,lick right=1", "--by", "type",
             "--behavior", "response:correct=1,incorrect=0", "--n-boot", "50", "--random-state", "0",
             "--no-progress", "-o", str(out)]
result = subprocess.run(command + arguments, capture_output=True, text=True)
print("exit status", result.returncode)
print(result.stdout + "\\n".join(result.stderr.splitlines()[-4:]))
from_shell = xr.open_dataset(out)
for name in ("behavior", "decoder_accuracy", "fisher_discriminant"):
    print(f"{name:>20}: CLI {float(from_shell[name][0]):.4f}   Python {float(alm_stats[name][0]):.4f}")
    np.testing.assert_allclose(from_shell[name].values, alm_stats[name].values, rtol=1e-9)
"""),
        md("""
## Checklist for your own files

1. `neurolearn info` / `describe_file`: which source, which interval table, which subject, is cell identity
   declared?
2. Look at the trial columns (`value_counts`, `crosstab`) before choosing **target**, **by** and
   **behavior**; declare string or 1/2 codings with a mapping, and decide what "no response" means.
3. Decide which trials count (`where=`), including trials outside the recorded span.
4. Are event times relative to the trial start? Say so in `align`; choose the window from the task's epochs.
5. One subject per trajectory (`subject=`, `split_subjects`).
6. Declare tracking only from a matching (`tracked=` table), never from equal ids.
7. Check `STATISTICS[name].needs` against your conditions, trials and neurons, and read every `_flag`.
"""),
    ]


# --------------------------------------------------------------------------------------------------------


def build(name: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = NOTEBOOKS[name]()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    # stable cell ids so that regenerating gives identical files
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(name).stem[:2]}-{index:02d}"
    return nb


def write_all(folder: Path = HERE) -> list[Path]:
    paths = []
    for name in NOTEBOOKS:
        nb = build(name)
        nbformat.validate(nb)
        path = Path(folder) / name
        nbformat.write(nb, path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print("wrote", written)
