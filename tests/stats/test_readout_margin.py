"""The margin's interval where noise removal leaves no geometry (few conditions, two trials each)."""

from __future__ import annotations

import numpy as np

from neurolearn.simulate.spiking import spiking_sessions
from neurolearn.stats.readout import margin


def test_margin_interval_is_finite_when_some_refits_lose_all_geometry():
    # 4 conditions x 2 trials x 30 Poisson neurons: some trial resamples leave a noise-removed Gram matrix
    # with no positive eigenvalue (the means coincide: margin 0). They read -inf before, which made the SE
    # and interval NaN in a third of these sessions.
    finite = 0
    for seed in range(8):
        tree, _ = spiking_sessions(n_sessions=2, n_conditions=4, n_trials=2, n_neurons=30, separation=(0.5, 1.5),
                                   random_state=seed)
        ds = margin(tree["day01"]["responses"], scale=1.0, random_state=seed, n_boot=40, n_permutations=0)
        value, (lower, upper) = float(ds["margin"]), ds["margin_ci"].values
        assert np.all(np.isfinite(ds["margin_boot"].values))
        assert lower <= value <= upper
        finite += np.isfinite(float(ds["margin_se"]))
    assert finite == 8
