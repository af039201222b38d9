"""Small NWB files built with pynwb directly (independent of neurolearn's own writer), and a file hash."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import numpy as np
import pytest


def file_hash(path) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def new_nwbfile(session_id="s1", start="2026-02-01T10:00:00", description="test"):
    from pynwb import NWBFile

    return NWBFile(
        session_description=description,
        identifier=session_id,
        session_id=session_id,
        session_start_time=datetime.fromisoformat(start).replace(tzinfo=timezone.utc),
    )


def save(nwbfile, path):
    from pynwb import NWBHDF5IO

    with NWBHDF5IO(str(path), "w") as io:
        io.write(nwbfile)
    return path


def add_trials(nwbfile, starts, stops, **columns):
    for name, values in columns.items():
        nwbfile.add_trial_column(name=name, description=name)
    for row, (start, stop) in enumerate(zip(starts, stops)):
        nwbfile.add_trial(start_time=float(start), stop_time=float(stop),
                          **{name: values[row] for name, values in columns.items()})


def add_units(nwbfile, spike_trains, ids=None):
    for number, train in enumerate(spike_trains):
        unit_id = None if ids is None else int(ids[number])
        nwbfile.add_unit(spike_times=np.asarray(train, dtype=float), id=unit_id)


@pytest.fixture
def units_file(tmp_path):
    """Two units with hand-placed spikes and three trials with string, bool and int columns."""
    nwbfile = new_nwbfile()
    add_trials(
        nwbfile,
        starts=[1.0, 3.0, 5.0],
        stops=[2.0, 4.0, 6.0],
        stimulus=["A", "B", "A"],
        correct=[True, False, True],
        target=[1, -1, 1],
    )
    add_units(
        nwbfile,
        [
            [0.5, 1.0, 1.2, 1.99, 2.0, 3.5, 5.25, 5.5, 5.75, 7.0],  # edges: 1.0 in, 2.0 out (half-open)
            [1.5, 3.1, 3.2, 3.3, 3.999, 4.0, 6.5],
        ],
        ids=[7, 9],
    )
    return save(nwbfile, tmp_path / "units.nwb")
