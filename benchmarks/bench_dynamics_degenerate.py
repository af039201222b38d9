"""Does the dynamics fit read a degenerate spectrum (every neuron the same decay) as that decay?

Populations whose neurons share one decay (A = lam I, lam 0.867
per 0.1 s bin: a 0.7 s calcium indicator seen alone), at bin and frame resolution, as Poisson counts and as
an in-memory calcium (dF/F) simulation of a memoryless circuit; decays spread over 0.867 +- 0.03; and a slow
latent mode (0.95) over such a bulk and over a bulk at 0.5.

(Section 8 of the dynamics benchmarks, ``bench_dynamics.py`` holding sections 1-7; adversary S5-2.)

Run: ``.venv/bin/python benchmarks/bench_dynamics_degenerate.py [--replicates 30] [--seed 0]``.

Measured 2026-12-07, ``--replicates 30`` (seed 0, 30 recordings per row, 100 replicates; before = the
largest eigenvalue modulus of the fit, after = a degenerate spectrum read as the neurons' pooled decay, its
interval spanning the largest eigenvalue's too: neurolearn.stats.dynamics_degenerate). Mean |lambda| (SD),
coverage of the 95 % interval of |lambda| (binomial SE; tau's is the same), fits read as degenerate:

    population                  true   before                        after
    shared AR(1), 0.1 s bins    0.867  0.925 (0.008) 0.000           0.868 (0.003) 0.867 (0.062) 30
    shared, 3 frames per bin    0.867  0.921 (0.006) 0.000           0.869 (0.010) 0.933 (0.046) 29
    shared, 8 x 24 trials       0.867  0.904 (0.004) 0.000           0.867 (0.001) 1.000 (0.000) 30
    shared, 8 x 4 trials        0.867  0.941 (0.010) 0.000           0.867 (0.004) 0.933 (0.046) 30
    shared, Poisson counts      0.867  0.931 (0.012) 0.500 (0.091)   0.866 (0.005) 1.000 (0.000) 30
    calcium dF/F, 0.1 s bins    0.867  0.919 (0.010) 0.000           0.870 (0.013) 0.900 (0.055) 29
    calcium dF/F, frames        0.953  0.972 (0.003) 0.067 (0.046)   0.954 (0.001) 0.933 (0.046) 30
    decays 0.867 +- 0.03        0.896  0.927 (0.008) 0.233 (0.077)   0.872 (0.018) 0.933 (0.046) 28
    slow mode 0.95 over 0.867   0.950  0.937 (0.007) 0.867 (0.062)   0.876 (0.003) 0.867 (0.062) 30
    slow mode 0.95 over 0.5     0.950  0.901 (0.014) 0.133 (0.062)   0.901 (0.014) 0.133 (0.062)  0

The cause: with every eigenvalue one value the fit's ten are noisy estimates of it spread over a disc, and the
largest modulus is its edge (0.925 with the mean of the ten 0.889; the rest of the excess, +0.02, is the ten
leading principal components being the most variable of forty equivalent directions). Bin-averaging is not: 3
frames per bin read as 0.1 s bins do (0.921 / 0.925), since an averaged AR(1)'s autocovariances at lags >= 1 are
lambda^l times one constant, so the lag-1 and lag-2 instruments stay valid (a lag-0 reading would see the
excess). What is left: decays spread over +-0.03 read about their mean (0.872), not their largest (0.896), the
interval reaching the largest in 28 of 30; a slow mode inside the noise disc of a degenerate bulk is averaged
into it (0.876 for 0.95), its interval still covering as before (26 of 30); a slow mode the leading components
miss (the last row: 40 neurons of unit variance, the mode on random loadings of norm 2) reads low either way.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xarray as xr

from neurolearn.errors import InsufficientDataError
from neurolearn.stats.dynamics import population_timescale


def shared_decay(lam, rng, *, n_neurons=40, n_conditions=8, n_trials=8, n_bins=30, frames=1, poisson=False,
                 outlier=None, spread=0.0):
    """Every neuron its own AR(1) of one decay ``lam`` per bin (a degenerate spectrum, A = lam I), simulated per
    frame and averaged over ``frames`` per bin, tuned per condition; ``spread``: decays uniform in lam +- spread;
    ``outlier``: plus a latent mode of that decay on random loadings (one slow mode over the degenerate bulk); ``poisson``:
    counts of rates 5 exp(tuning) (1 + 0.5 x) with x of unit variance."""
    n = n_conditions * n_trials
    lams = lam + spread * rng.uniform(-1, 1, n_neurons)
    steps = lams ** (1.0 / frames)
    x = np.zeros((n, n_neurons, (n_bins + 50) * frames))
    noise = rng.standard_normal(x.shape) * np.sqrt(1 - steps[:, None] ** 2)  # unit variance per frame
    for i in range(1, x.shape[-1]):
        x[..., i] = steps * x[..., i - 1] + noise[..., i]
    if outlier is not None:  # a slow latent mode on random loadings (norm 2: 4x one neuron's variance)
        slow = np.zeros((n, x.shape[-1]))
        kicks = rng.standard_normal(slow.shape) * np.sqrt(1 - (outlier ** (1.0 / frames)) ** 2)
        for i in range(1, slow.shape[-1]):
            slow[:, i] = outlier ** (1.0 / frames) * slow[:, i - 1] + kicks[:, i]
        loading = rng.standard_normal(n_neurons)
        x += 2.0 * (loading / np.linalg.norm(loading))[None, :, None] * slow[:, None, :]
    x = x[..., 50 * frames:].reshape(n, n_neurons, n_bins, frames).mean(-1)
    stimulus = np.repeat(np.arange(n_conditions), n_trials)
    tuning = rng.standard_normal((n_conditions, n_neurons, 1))[stimulus]
    values = (rng.poisson(np.clip(5.0 * np.exp(0.5 * tuning) * (1 + 0.5 * x), 0, None)).astype(float) if poisson
              else x + tuning)
    return xr.DataArray(values, dims=("trial", "neuron", "time"),
                        coords={"time": 0.1 * np.arange(n_bins), "stimulus": ("trial", stimulus)},
                        attrs={"largest_decay": float(max(np.max(lams), outlier or 0.0))})


def calcium_population(rng, *, tau=0.7, fs=30.0, n_rois=40, n_conditions=8, n_trials=8, bin_frames=3):
    """A memoryless circuit (rectified tuned drive plus white fluctuations per frame) through an exponential
    indicator kernel (tau s), with shot noise, as dF/F; trials of 3 s (2 s stimulus), binned by averaging
    ``bin_frames`` frames. The only dynamics is the indicator's: lambda = exp(-bin/tau) in every ROI."""
    n = n_conditions * n_trials
    trial, gap = int(3 * fs), int(1 * fs)
    stimulus = rng.permutation(np.repeat(np.arange(n_conditions), n_trials))
    tuning = np.abs(rng.normal(0, 1, (n_conditions, n_rois))) * (rng.random((1, n_rois)) < 0.7)
    total = n * (trial + gap) + 2 * gap
    drive = np.zeros((total, n_rois))
    starts = gap + (trial + gap) * np.arange(n)
    for k, start in enumerate(starts):
        drive[start:start + int(2 * fs)] += tuning[stimulus[k]]
    activity = np.maximum(drive + 0.8 * rng.standard_normal(drive.shape), 0)
    decay = np.exp(-1 / (fs * tau))
    calcium = np.zeros_like(activity)
    for i in range(1, total):
        calcium[i] = decay * calcium[i - 1] + (1 - decay) * activity[i]
    f = 1.3 + calcium + 0.05 * rng.standard_normal(calcium.shape)
    f0 = np.percentile(f, 10, axis=0)
    dff = (f - f0) / f0
    n_bins = trial // bin_frames
    windows = np.stack([dff[s:s + n_bins * bin_frames] for s in starts])  # (trial, frame, roi)
    binned = windows.reshape(n, n_bins, bin_frames, n_rois).mean(2).transpose(0, 2, 1)
    return xr.DataArray(binned, dims=("trial", "neuron", "time"),
                        coords={"time": bin_frames / fs * np.arange(n_bins), "stimulus": ("trial", stimulus)},
                        attrs={"units": "dF/F"})


def degenerate_table(replicates, seed=0):
    """Populations whose neurons share one decay (adversary S5-2), and one slow neuron over them."""
    lam = 0.867
    designs = [("shared AR(1), bins", lam, lambda r: shared_decay(lam, r)),
               ("shared AR(1), 3 frames/bin", lam, lambda r: shared_decay(lam, r, frames=3)),
               ("shared AR(1), 8 x 24", lam, lambda r: shared_decay(lam, r, n_trials=24)),
               ("shared AR(1), 8 x 4", lam, lambda r: shared_decay(lam, r, n_trials=4)),
               ("shared AR(1), Poisson", lam, lambda r: shared_decay(lam, r, poisson=True)),
               ("calcium, 0.1 s bins", lam, lambda r: calcium_population(r)),
               ("calcium, frames", np.exp(-1 / 21.0), lambda r: calcium_population(r, bin_frames=1)),
               ("decays 0.867 +- 0.03", None, lambda r: shared_decay(lam, r, spread=0.03)),
               ("slow mode 0.95 over 0.867", 0.95, lambda r: shared_decay(lam, r, outlier=0.95)),
               ("slow mode 0.95 over 0.5", 0.95, lambda r: shared_decay(0.5, r, outlier=0.95))]
    print(f"\n8. shared decays, {replicates} recordings per row (40 neurons, 8 conditions x 8 trials x 30 bins "
          "unless stated; 100 replicates): mean |lambda| (SD), coverage of |lambda| and tau (binomial SE), "
          "read as degenerate")
    print(f"{'population':28s} {'true':>6s} {'mean (sd)':>15s} {'cover':>13s} {'tau cover':>9s} {'degen':>5s}")
    for label, truth, make in designs:
        rng = np.random.default_rng(seed)
        values, hits, tau_hits, degenerate, truths = [], [], [], 0, []
        for _ in range(replicates):
            rec_rng = np.random.default_rng(rng.integers(2**32))
            rec = make(rec_rng)
            true = rec.attrs.get("largest_decay", truth)  # the largest of the drawn decays
            try:
                ds = population_timescale(rec, n_boot=100, random_state=rng)
            except InsufficientDataError:
                continue
            lo, hi = ds["outlier_eigenvalue_ci"].values
            t_lo, t_hi = ds["timescale_ci"].values
            dt = float(ds.attrs["dt"])
            values.append(float(ds["outlier_eigenvalue"]))
            hits.append(lo <= true <= hi)
            tau_hits.append(t_lo <= -dt / np.log(true) <= t_hi)
            degenerate += "degenerate spectrum" in ds.attrs["estimator"]
            truths.append(true)
        p = np.mean(hits)
        print(f"{label:28s} {np.mean(truths):6.3f} {np.mean(values):7.3f} ({np.std(values):.3f}) "
              f"{p:5.3f} ({np.sqrt(p * (1 - p) / len(hits)):.3f}) {np.mean(tau_hits):9.3f} {degenerate:5d}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=30, help="recordings per row")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.time()
    degenerate_table(args.replicates, args.seed)
    print(f"\n({time.time() - start:.0f} s)")


if __name__ == "__main__":
    main()
