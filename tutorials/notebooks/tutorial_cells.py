"""What every tutorial source shares: the two cell constructors and the set-up cell.

A tutorial source (``tutorials/notebooks/<nn>_<name>.py``) imports these as ``from tutorial_cells import
SETUP, code, md``; ``tutorials/make_notebooks.py`` puts this folder on ``sys.path`` before it loads the
sources.
"""

from __future__ import annotations

import nbformat

SETUP = """\
import numpy as np
import matplotlib.pyplot as plt
import xarray as xr

import neurolearn as nl
from neurolearn.demo import find_data_dir

data = find_data_dir()  # the data/ folder of the source checkout (see data/README.md)
"""


def md(text: str):
    """A markdown cell from ``text`` (surrounding blank lines dropped)."""
    return nbformat.v4.new_markdown_cell(text.strip("\n"))


def code(text: str):
    """A code cell from ``text`` (surrounding blank lines dropped), stored without outputs."""
    return nbformat.v4.new_code_cell(text.strip("\n"))
