"""heldout_mask: which trials show held-out stimuli, read from a declared column and value, never guessed."""

import numpy as np
import pytest
import xarray as xr

from neurolearn.errors import DataError
from neurolearn.stats.heldout_trials import heldout_mask


def test_heldout_column_and_declared_value():
    rec = xr.DataArray(np.zeros((4, 1)), dims=("trial", "neuron"),
                       coords={"heldout": ("trial", [0, 1, 1, 0]), "is_train": ("trial", [1, 0, 0, 1]),
                               "kind": ("trial", ["old", "new", "new", "old"])})
    assert heldout_mask(rec).tolist() == [False, True, True, False]
    assert heldout_mask(rec, {"is_train": 0}).tolist() == [False, True, True, False]
    assert heldout_mask(rec, {"kind": "new"}).tolist() == [False, True, True, False]
    with pytest.raises(DataError, match="declare the held-out value"):
        heldout_mask(rec, "kind")
    with pytest.raises(DataError, match="available trial coords"):
        heldout_mask(rec, "novel")


def test_a_held_out_column_with_missing_marks_is_refused_naming_the_count():
    # adversary F20: a NaN in a 0/1 held-out column gave "found values [0.0, 1.0, nan, nan, nan]" (np.unique keeps
    # every NaN); a missing mark is neither held out nor trained on, so it is refused with the count
    rec = xr.DataArray(np.zeros((5, 1)), dims=("trial", "neuron"),
                       coords={"heldout": ("trial", [0.0, 1.0, np.nan, np.nan, np.nan])})
    with pytest.raises(DataError, match=r"found 3 of 5 trials without one \(NaN\): mark them, or leave them out"):
        heldout_mask(rec)
    words = rec.assign_coords(heldout=("trial", np.array(["new", "old", None, None, "new"], dtype=object)))
    with pytest.raises(DataError, match=r"found values \['new', 'old'\] and missing values; declare"):
        heldout_mask(words)
