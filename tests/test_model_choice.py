"""Model comparison picks the regime that generated simulated *networks*, measured through summarize().

Ground truth comes from networks trained in numpy (not from the reduced models), recorded with trial noise and
reduced to statistics by :func:`neurolearn.summarize`, so the whole chain is tested: simulation -> statistics
with bootstrap SEs -> fit -> compare.

* Lazy vs rich (:func:`neurolearn.simulate.two_layer.simulate_lazy_rich_sessions`, 12 sessions, session 0
  before training): the hypotheses are the ``"lazy-rich"`` model with ``gamma0`` fixed at the bottom of its
  search box (1e-3: the lazy limit, frozen kernel, flat alignment) and with ``gamma0`` free. They are fitted to
  ``behavior`` and ``task_alignment``; ``kernel_change`` is left out because its estimate (a norm of a noisy
  kernel difference) sits ~1 SE above zero when nothing changes, which the noiseless model would read as
  feature learning. The regime is named as the demo names it: rich only if the free fit beats the frozen kernel
  by more than 2 (quasi-)AIC units, lazy when the simpler frozen kernel fits as well (within 2). It must name the
  generating regime in >= 90% of 20 lazy (gamma0 = 0.1) and 20 rich (gamma0 = 2) networks. (Summarize's
  replicates now weight the fit by the statistics' joint covariance; a lazy network's gamma0 = 0.1 is then
  sometimes distinguishable from the 1e-3 limit by a fraction of an AIC unit: a tie, not evidence of richness.)
* Hidden progress (:func:`neurolearn.simulate.logistic.simulate_overtraining_sessions`): on the sessions after
  behaviour saturates (>= 0.9), the ``"overtraining"`` model with the margin free to grow is compared with the
  same model with ``margin_gain = 0``. Under the logistic loss margins keep growing (hidden progress must be
  detected: the growing-margin model ahead by more than 2 AIC units); under the squared error they stop (it
  must not be).
"""

import warnings

import numpy as np
import pytest

import neurolearn as nl
from neurolearn.fitting import FitWarning, compare, fit

LAZY_RICH_OBSERVABLES = ["behavior", "task_alignment"]


def _lazy_rich_choice(gamma0, seed):
    from neurolearn.simulate.two_layer import simulate_lazy_rich_sessions

    tree, _ = simulate_lazy_rich_sessions(gamma0, n_sessions=12, rng=seed)
    stats = nl.summarize(tree, n_boot=50, random_state=seed, readout=False, dynamics=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)  # behaviour SEs of 0 at 100% correct are floored
        lazy = fit(stats, "lazy-rich", observables=LAZY_RICH_OBSERVABLES, fixed={"gamma0": 1e-3, "onset": 0.0},
                   interval=None, label="lazy", random_state=seed)
        rich = fit(stats, "lazy-rich", observables=LAZY_RICH_OBSERVABLES, fixed={"onset": 0.0}, interval=None,
                   label="rich", random_state=seed)
    table = compare([lazy, rich]).set_index("label")
    assert table["success"].all()
    rich_by = table.loc["lazy", "qaic"] - table.loc["rich", "qaic"]
    return ("rich" if rich_by > 2.0 else "lazy"), rich.params["gamma0"]


@pytest.mark.slow
@pytest.mark.parametrize(("gamma0", "regime"), [(0.1, "lazy"), (2.0, "rich")])
def test_compare_names_the_regime_of_simulated_networks(gamma0, regime):
    outcomes = [_lazy_rich_choice(gamma0, seed) for seed in range(20)]
    picked = [label for label, _ in outcomes]
    accuracy = np.mean([label == regime for label in picked])
    assert accuracy >= 0.9, f"gamma0={gamma0}: picked {picked}"
    if regime == "rich":
        # and the free fit recovers the network's richness (only gamma0 y is identifiable; y = 1)
        estimates = [g for _, g in outcomes]
        assert np.median(estimates) == pytest.approx(gamma0, rel=0.15)


def _hidden_progress_detected(loss, seed):
    from neurolearn.simulate.logistic import simulate_overtraining_sessions

    tree, _ = simulate_overtraining_sessions(12, loss=loss, rng=seed)
    # the margin and behaviour are what this test fits: no decoder permutation null needed
    stats = nl.summarize(tree, n_boot=30, random_state=seed, dynamics=False, n_permutations=0)
    saturated = np.flatnonzero(stats["behavior"].values >= 0.9)
    assert saturated.size >= 8, f"behaviour saturated late: {stats['behavior'].values}"
    overtraining = stats.isel(session=slice(saturated[0], None))
    observables = ["behavior", "margin"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FitWarning)
        growing = fit(overtraining, "overtraining", observables=observables, interval=None, label="growing margin",
                      random_state=seed)
        flat = fit(overtraining, "overtraining", observables=observables, fixed={"margin_gain": 0.0}, interval=None,
                   label="flat margin", random_state=seed)
    table = compare([growing, flat]).set_index("label")
    assert table["success"].all()
    return bool(table.loc["flat margin", "aic"] - table.loc["growing margin", "aic"] > 2.0)


@pytest.mark.slow
@pytest.mark.parametrize(("loss", "expected"), [("logistic", True), ("mse", False)])
def test_hidden_progress_is_detected_only_under_the_logistic_loss(loss, expected):
    detected = [_hidden_progress_detected(loss, seed) for seed in range(6)]
    assert np.mean([d == expected for d in detected]) >= 5 / 6, f"{loss}: detected {detected}"
