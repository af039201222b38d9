"""Max-margin readout of the condition means: the margin and per-condition signed distances."""

from __future__ import annotations

import xarray as xr

from neurolearn.stats.readout.maxmargin import DEFAULT_SVM_C, _MarginProblem

__all__ = ["margin", "signed_distances"]


def margin(
    recording: xr.DataArray,
    target: str = "target",
    by: str = "stimulus",
    n_neurons: int | None = None,
    scale=None,
    random_state=None,
    n_boot: int = 200,
    level: float = 0.95,
    *,
    n_trials: int | None = None,
    n_draws: int = 10,
    n_refits: int = 40,
    n_permutations: int = 5,
    C: float = DEFAULT_SVM_C,
) -> xr.Dataset:
    """Max-margin (linear SVM) margin of the condition means, in common units at a common neuron count.

    γ = max over (w, b) of min_μ y_μ (w·r_μ + b)/‖w‖, over the P condition means r_μ of a binary ``target``.

    Standardisation: every response is divided by ``scale``; the condition means are centred (the margin
    with a bias term does not depend on the centre, this only conditions the fit). Pass the *same* ``scale``
    for every session (e.g. :func:`response_scale` of all sessions, as :func:`readout_summary` does) so that
    margins are in the same units; per-session z-scoring would hide growth of the signal.

    Common shape: margins grow with the number of neurons, so sessions are compared at ``n_neurons``
    neurons (the trial count needs no common value: the estimand below does not depend on it). Below the
    recorded counts, ``n_draws`` random (neuron subset, trial subset) pairs are drawn and their margins
    averaged; neuron subsets are drawn in sorted-neuron-id order, so the result does not depend on the order
    of neurons in the array.

    Non-separable configurations: the soft-margin SVM (penalty ``C`` on the kernel normalised to unit mean
    squared norm) gives the direction w, and the reported value is its signed geometric margin with the best
    bias, (min_{y=+1} w·r − max_{y=−1} w·r)/(2‖w‖): negative, minus half the overlap along w. For separable
    configurations whose support-vector weights stay below ``C`` this is exactly the hard margin.

    Parameters
    ----------
    recording : xarray.DataArray
        Responses with dims ``("trial", "neuron")``.
    target : str
        Trial coord with a binary label, constant within each condition.
    by : str
        Trial coord defining conditions.
    n_neurons : int, optional
        Common neuron count (default: all recorded neurons).
    scale : float or array_like or xarray.DataArray, optional
        Divisor of responses: a scalar, one value per neuron (array in the recording's neuron order, or a
        DataArray on ``neuron`` matched by id). Default: :func:`response_scale` of this recording.
    random_state : int or numpy.random.Generator, optional
        Seeds the draws and the trial resamples (the same seed gives the same draws in every session).
    n_boot : int
        0 skips SE and interval; any positive value reports them from ``min(n_boot, n_refits)`` refits.
    level : float
    n_trials : int, optional
        Trials per condition used (random subsets, at least 2; default: all trials of each condition). The
        estimand does not depend on it; a smaller count only costs precision.
    n_draws : int
        Subsets averaged when ``n_neurons`` or ``n_trials`` is below the recorded count.
    n_refits : int
        Cap on the trial-resampled SVM refits behind the SE, so that the cost does not grow with ``n_boot``.
    n_permutations : int
        Label permutations across conditions behind ``margin_chance`` (0 omits it).
    C : float

    Returns
    -------
    xarray.Dataset
        ``margin``, ``margin_se``, ``margin_ci``, ``margin_chance`` (the margin with condition labels
        permuted, at this shape), ``margin_boot`` (the refits, dim ``bootstrap``, when ``n_boot > 0``); attrs
        ``estimand``, ``n_neurons``, ``n_trials``, ``scale``, ``separable_fraction``.

    Notes
    -----
    Estimand: the max-margin of the *noiseless* condition means (infinitely many trials) at ``n_neurons``
    neurons (averaged over random neuron subsets), in units of ``scale``. It does not depend on the trial
    count, so sessions with different trial counts are comparable. The margin of n-trial means drifts with
    n in two ways: trial noise adds Σ_j s²_j/n to each mean's squared norm (in N neurons that widens the
    margin like N σ²/n), and the minimum over noisy support conditions lowers it (like σ/sqrt(n)).

    Bias handling: (1) the noise term is removed exactly in expectation, by subtracting the unbiased
    estimate of each mean's noise variance from the diagonal of the means' Gram matrix (the margin depends
    on the means only through it; negative eigenvalues left by the subtraction are set to 0); (2) what
    remains is extrapolated to 1/n → 0 from the margin at n and at n/2 trials (averaged over
    random half-splits): Richardson in 1/n, exact when the residual is linear in 1/n, as it is in simulation
    with many neurons. Checked against simulation truth at 2, 4 and 10 trials (tests and
    ``benchmarks/bench_readout_coverage.py``): with 100 neurons and 20 conditions the mean is within 0.6 SD
    of the truth at 2 trials and within 0.05 SD at 4 and 10 (before: +3.2, +1.6, +1.2 SD); with only 10
    neurons and per-trial noise comparable to the margin a downward bias of about 1.2 SD remains at every
    trial count (before: −2.5 SD), because there the residual grows like 1/sqrt(n).

    Uncertainty: each refit repeats the whole estimator (noise removal and extrapolation included) on trials
    resampled within each condition, with fresh neuron and trial subsets (so the SE includes the subset
    draws); each resampled trial's deviation from its condition mean is inflated by sqrt(T/(T−1)) so that
    resampled means carry the noise variance σ²/n of fresh means and resampled variances average σ². SE =
    SD of the refits; the interval is normal, margin ± z·SE, so it contains the estimate. At least two trials
    per condition are needed (for the noise estimate; :class:`~neurolearn.errors.InsufficientDataError`
    otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> means = np.array([[0.0, 1.0], [2.0, 1.5], [0.0, -1.0], [2.0, -1.5]])
    >>> rec = make_recording(means, n_trials=2, target=[1, 1, -1, -1], rng=0)
    >>> round(float(margin(rec, scale=1.0, n_boot=0)["margin"]), 3)
    1.0
    """
    problem = _MarginProblem(recording, target, by, n_neurons, scale, random_state, n_draws, C, n_trials)
    return problem.margin_estimate(n_boot, level, n_refits, n_permutations)


def signed_distances(
    recording: xr.DataArray,
    target: str = "target",
    by: str = "stimulus",
    n_neurons: int | None = None,
    scale=None,
    random_state=None,
    *,
    n_trials: int | None = None,
    n_splits: int = 5,
    n_draws: int = 10,
    C: float = DEFAULT_SVM_C,
) -> xr.DataArray:
    """Cross-validated signed distance y_μ(w·r_μ + b)/‖w‖ of each condition mean from a max-margin readout.

    Conditions are split into ``n_splits`` folds stratified by label; the readout (as in :func:`margin`, same
    standardisation, neuron and trial counts) is fitted to the other folds' condition means, and each held-out
    condition's signed distance from it is recorded. Positive = on the correct side. Cross-validation matters:
    in-sample distances of a separable set are all ≥ γ > 0, so nothing could ever be "wrong". With
    subsets, distances are averaged over the ``n_draws`` draws.

    Returns
    -------
    xarray.DataArray
        Dims ``("condition",)`` with the condition values as coord and the ``target`` label as a coord.

    Notes
    -----
    Bias handling: none beyond cross-validation; distances carry the trial noise of the means. Compare
    sessions with the same ``scale``, ``n_neurons``, ``n_trials`` and ``random_state``.

    Examples
    --------
    >>> import numpy as np
    >>> from neurolearn.simulate.recording import make_recording
    >>> y = np.repeat([1, -1], 6)
    >>> rec = make_recording(np.c_[y, 0.1 * np.arange(12)], n_trials=2, target=y, rng=0)
    >>> d = signed_distances(rec, scale=1.0, n_splits=3, random_state=0)
    >>> d.sizes["condition"], bool((d > 0).all())
    (12, True)
    """
    problem = _MarginProblem(recording, target, by, n_neurons, scale, random_state, n_draws, C, n_trials)
    return problem.cv_distances(n_splits)
