"""Regenerate the bundled example data deterministically: ``python data/make_examples.py``.

Every dataset is simulated by :mod:`neurolearn.simulate` from a network with known ground truth and written
with :mod:`neurolearn.simulate.nwb`, so reading it back exercises the real NWB loader. The script also copies
the real recording used by tutorial 01 (from the NWB corpus beside the project, when present) and writes
``examples.json``: for each dataset, the options to read and summarise it and the true parameters.

Datasets (one folder each, one NWB file per session):

* ``rich/``, ``lazy/``: the hidden layer of a two-layer network learning a binary task from a mean-field
  initialisation with richness gamma0 = 4 (rich) or 0.1 (lazy); 10 sessions of spiking units (Poisson counts
  of a rate that is an affine function of the hidden response), trials with ``stimulus``, ``target``,
  ``correct``.
* ``overtraining/``: calcium imaging (DfOverF) of the same tracked ROIs in a network trained with a logistic
  loss well past the point where behaviour saturates (about mid-way).
* ``integration/``: time-resolved imaging of a linear RNN learning to integrate white-noise input, with that
  input stored as the TimeSeries ``/stimulus/presentation/input`` (read with ``inputs=``).

Seeds are fixed, so the same code gives the same files (up to the creation date stored in each file).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REAL_SOURCE = (ROOT.parent / "shared" / "nwb-corpus" / "pynapple-org__pynapple" / "docs" / "examples"
               / "nwb-files")
ALM_SOURCE = ROOT.parent / "shared" / "nwb-corpus" / "dandi__dandi-cli" / "dandi" / "tests" / "data" / "dandifiles"
ALM_FILES = ("sub-anm369963_ses-20170228.nwb", "sub-anm372793_ses-20170508.nwb")
REAL_FILE = "sub-4_ses-4_ecephys+image.nwb"
SEED = 20261128

# Rates of the spiking datasets: rate = BASELINE + GAIN * (hidden response - its minimum over the dataset).
# An offset per neuron leaves double-centred kernels unchanged; the window keeps files small.
GAIN = 1.0  # spikes/s per unit of hidden response
BASELINE = 2.0  # spikes/s, the lowest rate any neuron has for any condition
UNITS_WINDOW = (0.0, 0.5)

OVERTRAINING_SESSIONS = 10

# Every simulation parameter is spelled out (not left to defaults), so that the files do not change when a
# simulator's defaults do.
LEARNER = dict(n_sessions=10, session_interval=0.1, n_conditions=16, n_neurons=80, n_trials=4, noise_sd=0.0,
               input_dim=12, n_hidden=1000, chance=0.5, ceiling=1.0)
# Low trial noise: at this size the representation's margin growth after saturation is a small effect.
OVERTRAINING = dict(loss="logistic", steps_per_session=20, dim=30, width=40, n_train=40, n_heldout=20,
                    separation=3.0, learning_rate=0.5, n_trials=4, noise_sd=0.2, lapse=0.05)
# where write_recording_nwb puts a time-resolved recording's ``input`` coord (one value per frame and bin)
INTEGRATION_INPUT = "stimulus/presentation/input"
INTEGRATION = dict(n_neurons=30, rho_star=0.9, n_steps=200, learning_rate=0.006, init_scale=0.1,
                   readout_scale=2.0, n_trials=16, n_time=32, noise_sd=0.01)


def main(names=None, out: Path = HERE) -> dict:
    """Write the datasets ``names`` (default: all) under ``out``; update and return ``out/examples.json``.

    Regenerating only some datasets keeps the other files (and their checksums) as they are, so that a change
    to one simulation does not rewrite every file in the repository's history.
    """
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing
    out = Path(out)
    makers = dataset_makers(out)
    names = list(makers) if not names else list(names)
    unknown = sorted(set(names) - set(makers))
    if unknown:
        raise SystemExit(f"unknown dataset(s) {unknown}; choose from {list(makers)}")
    manifest_path = out / "examples.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    manifest.update({"generator": "data/make_examples.py", "seed": SEED})
    datasets = manifest.setdefault("datasets", {})
    started = time.perf_counter()
    for name in names:
        datasets[name] = makers[name]()
        _report(name, out, started)
    manifest["datasets"] = {name: datasets[name] for name in makers if name in datasets}
    manifest["real"] = copy_real_recording(out)
    manifest["alm"] = copy_alm_recordings(out)
    manifest["files"] = {str(path.relative_to(out)): _sha256(path) for path in sorted(out.rglob("*.nwb"))}
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    total = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
    print(f"{len(manifest['files'])} NWB files, {total / 1e6:.1f} MB in total; regenerated {names} in "
          f"{time.perf_counter() - started:.0f} s")
    return manifest


def dataset_makers(out: Path) -> dict:
    """Dataset name -> function writing it under ``out`` (fixed seed) and returning its manifest entry."""
    return {
        "rich": lambda: make_learner(out / "rich", "rich", 4.0, seed=SEED + 40),
        "lazy": lambda: make_learner(out / "lazy", "lazy", 0.1, seed=SEED + 1),
        "overtraining": lambda: make_overtraining(out / "overtraining", seed=SEED + 1),
        "integration": lambda: make_integration(out / "integration", seed=SEED + 2),
    }


def make_learner(folder: Path, name: str, gamma0: float, *, seed: int) -> dict:
    """A two-layer network learning in the rich or lazy regime, recorded as spiking units."""
    from neurolearn.simulate.nwb import rates_to_counts, write_sessions_nwb
    from neurolearn.simulate.two_layer import simulate_lazy_rich_sessions

    rng = np.random.default_rng(seed)
    tree, truth = simulate_lazy_rich_sessions(gamma0, rng=rng, **LEARNER)
    recordings = [child.dataset["responses"] for child in tree.children.values()]
    lowest = np.min([r.values.min(axis=0) for r in recordings], axis=0)  # per neuron, over sessions
    counts = []
    for day, recording in enumerate(recordings):
        rates = BASELINE + GAIN * (recording - lowest)
        rates = rates.assign_attrs(recording.attrs | {"window": UNITS_WINDOW, "units": "spikes/s",
                                                      "session_id": f"day{day:02d}"})
        counts.append(rates_to_counts(rates, rng=rng))
    _clear(folder)
    write_sessions_nwb(counts, folder, kind="units", rng=rng)
    regime = "rich" if gamma0 > 1 else "lazy"
    return {
        "description": f"two-layer linear network, gamma0 = {gamma0:g} ({regime}), "
                       "hidden units as Poisson spikes",
        "kind": "units",
        "read": {"trials": "trials", "window": list(UNITS_WINDOW)},
        "summarize": {"target": "target", "by": "stimulus", "behavior": "correct"},
        "model": truth.model,
        "truth": {k: float(v) for k, v in truth.parameters.items()}
        | {"session_interval": LEARNER["session_interval"]},
        "summary": f"gamma0 = {gamma0:g} ({regime})",
        "true_statistics": {
            "behavior": _rounded(truth.behavior),
            "task_alignment": _rounded(truth.task_alignment),
            "kernel_change": _rounded(truth.kernel_change),
        },
    }


def make_overtraining(folder: Path, *, seed: int) -> dict:
    """Logistic-loss training past saturation, imaged (DfOverF) from the same ROIs every session."""
    from neurolearn.simulate import logistic
    from neurolearn.simulate.nwb import write_sessions_nwb

    rng = np.random.default_rng(seed)
    tree, truth = logistic.simulate_overtraining_sessions(OVERTRAINING_SESSIONS, rng=rng, **OVERTRAINING)
    window = (0.0, 0.5)  # one imaging frame per trial at 2 Hz keeps the files small
    recordings = [child.dataset["responses"].assign_attrs(window=window, units="dF/F")
                  for child in tree.children.values()]
    _clear(folder)
    write_sessions_nwb(recordings, folder, kind="ophys", rng=rng, frame_rate=2.0)
    return {
        "description": "two-layer network trained with a logistic loss past behavioural saturation, "
                       "DfOverF of tracked ROIs",
        "kind": "ophys",
        "read": {"trials": "trials", "window": [float(w) for w in window]},
        "summarize": {"target": "target", "by": "stimulus", "behavior": "correct"},
        "model": "overtraining",
        "truth": _plain(truth.attrs) | {"steps_per_session": OVERTRAINING["steps_per_session"]},
        "simulation": {"n_sessions": OVERTRAINING_SESSIONS, **OVERTRAINING},
        "summary": f"logistic loss; behaviour saturates at session {_saturation(truth.behavior.values)} of "
                   f"{OVERTRAINING_SESSIONS}, margin keeps growing",
        "true_statistics": _truth_statistics(truth),
    }


def make_integration(folder: Path, *, seed: int) -> dict:
    """A linear RNN learning to integrate, imaged with one frame per time bin."""
    from neurolearn.simulate.nwb import write_sessions_nwb
    from neurolearn.simulate.rnn import simulate_integrator_sessions

    dt = 0.25
    rng = np.random.default_rng(seed)
    tree, truth = simulate_integrator_sessions(8, dt=dt, rng=rng, **INTEGRATION)
    recordings = [child.dataset["responses"] for child in tree.children.values()]
    _clear(folder)
    write_sessions_nwb(recordings, folder, kind="ophys", rng=rng, frame_rate=1.0 / dt)
    window = recordings[0].attrs["window"]
    rho_star = truth.attrs["rho_star"]
    return {
        "description": "linear RNN (30 units) learning the filter 0.9^n on white-noise input, "
                       "time-resolved DfOverF",
        "kind": "ophys",
        # the input each trial received is stored with the data; summarize regresses it out of the dynamics
        # fit (without it the early sessions' outlier eigenvalue is inflated by the input-driven direction)
        "read": {"trials": "trials", "window": [float(w) for w in window], "bin_size": dt,
                 "inputs": INTEGRATION_INPUT},
        # decoding statistics are for (trial, neuron) responses; this dataset is about dynamics
        # the simulated frames are the RNN's activity itself: stored as dF/F, but there is no indicator kernel
        "summarize": {"target": "target", "by": "stimulus", "behavior": "correct", "readout": False,
                      "indicator_tau": 0.0},
        "fixed": {"dt": dt},  # seconds per RNN step = the bin size of the recording
        "model": "integrator",
        "truth": _plain(truth.attrs),
        "summary": f"rho* = {rho_star:g} (timescale {-dt / np.log(rho_star):.2g} s)",
        "true_statistics": _truth_statistics(truth),
    }


def copy_real_recording(out: Path) -> dict | None:
    """Copy the human MTL session from pynapple's examples (MIT licence) into ``out/real/``."""
    target = out / "real" / REAL_FILE
    source = REAL_SOURCE / REAL_FILE
    if source.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    elif not target.is_file():
        print(f"note: real recording not found at {source}; keeping data/ without it", file=sys.stderr)
        return None
    return {
        "file": f"real/{REAL_FILE}",
        "read": {"trials": "encoding_table", "window": [0.0, 2.0]},
        "by": "stimCategory",
        "credit": (
            "Human medial temporal lobe single units (35 units, 1 session) recorded while patients watched "
            "video clips with no, soft or hard cognitive boundaries (encoding_table.stimCategory 0/1/2) and "
            "later judged recognition: Zheng, Schjetnan, Yebra, Mosher, Kalia, Valiante, Mamelak, Kreiman & "
            "Rutishauser (2022), Nature Neuroscience, DANDI:000207. File from pynapple's examples "
            "(github.com/pynapple-org/pynapple, docs/examples/nwb-files, MIT licence)."
        ),
        "licence": "MIT (pynapple repository); dataset: DANDI:000207",
    }


def copy_alm_recordings(out: Path) -> dict | None:
    """Copy the two Svoboda-lab ALM sessions from dandi-cli's test data (Apache-2.0) into ``out/alm/``."""
    targets = [out / "alm" / name for name in ALM_FILES]
    for name, target in zip(ALM_FILES, targets):
        source = ALM_SOURCE / name.split("_")[0] / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    if not all(target.is_file() for target in targets):
        print(f"note: ALM recordings not found under {ALM_SOURCE}; keeping data/ without them", file=sys.stderr)
        return None
    return {
        "files": [f"alm/{name}" for name in ALM_FILES],
        "read": {"trials": "trials", "window": [0.0, 1.0]},
        "credit": (
            "Mouse ALM single units (one unit per mouse, two mice) in a tactile delayed-response task: trials "
            "with the instructed lick direction (type) and the outcome (response: correct / incorrect / no "
            "response / early lick); event times relative to trial start. Svoboda lab, published on DANDI; files "
            "from dandi-cli's test data (github.com/dandi/dandi-cli, dandi/tests/data/dandifiles, Apache-2.0)."
        ),
        "licence": "Apache-2.0 (dandi-cli repository)",
    }


# --- helpers -------------------------------------------------------------------------------------------


def _clear(folder: Path) -> None:
    if folder.exists():
        for path in folder.glob("*.nwb"):
            path.unlink()
    folder.mkdir(parents=True, exist_ok=True)


def _truth_statistics(truth) -> dict:
    if isinstance(truth, xr.Dataset):
        return {str(k): _rounded(v.values) for k, v in truth.data_vars.items() if v.dims == ("session",)}
    return {}


def _saturation(behavior) -> int:
    """First session at which behaviour is within 0.03 of its final value (one stimulus in 40)."""
    behavior = np.asarray(behavior, dtype=float)
    return int(np.argmax(behavior >= behavior[-1] - 0.03))


def _rounded(values) -> list:
    return [round(float(v), 5) for v in np.asarray(values, dtype=float)]


def _plain(mapping) -> dict:
    plain = {}
    for key, value in dict(mapping).items():
        if isinstance(value, (np.generic,)):
            value = value.item()
        if isinstance(value, (int, float, str, bool)):
            plain[str(key)] = value
    return plain


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _report(name: str, out: Path, started: float) -> None:
    size = sum(p.stat().st_size for p in (out / name).glob("*.nwb"))
    print(f"{name}: {len(list((out / name).glob('*.nwb')))} files, {size / 1e6:.2f} MB "
          f"({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
