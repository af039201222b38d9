"""The deep linear network simulation: one hidden layer is the two-layer network's gradient flow (learned
amplitude against the lazy-rich closed form at large width), the centred output starts at 0, areas carry
distinct neuron ids, and bad sizes raise DataError."""

from __future__ import annotations

import numpy as np
import pytest

from neurolearn.errors import DataError
from neurolearn.simulate.deep_linear import simulate_deep_linear_sessions, train_deep_linear
from neurolearn.theory.lazy_rich import learned_amplitude


def test_one_hidden_layer_follows_the_lazy_rich_closed_form():
    times = np.array([0.0, 0.25, 0.5, 1.0])
    run = train_deep_linear(times, richness=2.0, depth=1, n_hidden=4000, rng=0)
    np.testing.assert_allclose(run.learned, learned_amplitude(times, 2.0), atol=0.02)  # O(1/sqrt N) spread
    assert run.learned[0] == 0.0


def test_the_network_starts_with_zero_output_as_its_wide_limit():
    # a random f_0 ~ 1/sqrt(N) would shift every layer's kernel growth (|a|^2/N grows at 2 gamma0 c a.h_L/N)
    for depth in (1, 2, 3):
        run = train_deep_linear([0.0, 0.3], richness=1.5, depth=depth, input_dim=4, n_hidden=300, rng=depth)
        assert np.abs(run.initial_output).max() < 1e-12
        assert run.learned[1] > 0.3


def test_recordings_have_one_area_per_layer_with_distinct_ids():
    tree, truth = simulate_deep_linear_sessions(1.0, depth=3, n_sessions=2, n_neurons=5, n_hidden=50, rng=1)
    rec = tree["session-00"]["responses"]
    assert rec.sizes["neuron"] == 15 and len(set(rec.neuron.values.tolist())) == 15
    assert rec.location.values.tolist() == ["V1"] * 5 + ["LM"] * 5 + ["AL"] * 5
    assert truth.extra["areas"] == {"V1": 1, "LM": 2, "AL": 3}
    assert truth.extra["kernel_change"][:, 0].tolist() == [0.0, 0.0, 0.0]


def test_bad_sizes_raise_data_error():
    with pytest.raises(DataError, match="n_neurons"):
        simulate_deep_linear_sessions(1.0, n_neurons=100, n_hidden=50)
    with pytest.raises(DataError, match="area names"):
        simulate_deep_linear_sessions(1.0, depth=2, areas=("V1",))
    with pytest.raises(DataError, match="richness"):
        train_deep_linear([0.0], richness=0.0)
