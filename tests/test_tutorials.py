"""Every tutorial notebook executes top to bottom, is stored without outputs, and matches its generator."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import load_script

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
TUTORIALS = ROOT / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("[0-9][0-9]_*.ipynb"))
EXPECTED = [
    "01_loading_real_nwb.ipynb",
    "02_lazy_vs_rich.ipynb",
    "03_hidden_progress_overtraining.ipynb",
    "04_learning_to_integrate.ipynb",
    "05_kernel_learning_curves.ipynb",
    "06_scaling_with_dask.ipynb",
    "07_your_own_data.ipynb",
    "08_transfer.ipynb",
    "09_learning_rule.ipynb",
    "10_deep_linear.ipynb",
]
CELL_TIMEOUT = 300  # seconds: a guard against a hung cell, not a speed claim (a loaded shared machine took > 60 s)


def _generator():
    return load_script(TUTORIALS / "make_notebooks.py")


def test_the_seven_tutorials_are_there():
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs_and_matches_its_generator(path):
    stored = json.loads(path.read_text(encoding="utf-8"))
    for cell in stored["cells"]:
        if cell["cell_type"] == "code":
            stripped = cell["outputs"] == [] and cell["execution_count"] is None
            assert stripped, f"{path.name}: outputs not stripped"
    assert stored["metadata"]["kernelspec"]["name"] == "python3"
    generated = _generator().build(path.name)
    assert nbformat.reads(path.read_text(encoding="utf-8"), as_version=4) == generated, (
        f"{path.name} differs from tutorials/make_notebooks.py; run `python tutorials/make_notebooks.py`"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
        resources={"metadata": {"path": str(TUTORIALS)}},
    )
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError naming the cell on any exception (asserts included)
    elapsed = time.perf_counter() - started
    print(f"{path.name}: executed in {elapsed:.1f} s")
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors
