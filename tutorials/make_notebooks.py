"""Write the tutorial notebooks from their cell sources: ``python tutorials/make_notebooks.py [FOLDER]``.

The notebooks are generated (not edited by hand) so that their text and code can be reviewed as plain Python
and so that they are stored without outputs. ``tests/test_tutorials.py`` executes every notebook and checks
that the files on disk are exactly what this script writes.

The pattern: one source file per notebook, ``tutorials/notebooks/<nn>_<name>.py`` writes
``tutorials/<nn>_<name>.ipynb``. A source defines ``cells()``, returning the notebook's cells in order, built
with ``md(text)`` and ``code(text)`` (and the shared set-up cell ``code(SETUP)``) imported from
``tutorials/notebooks/tutorial_cells.py``::

    from tutorial_cells import SETUP, code, md


    def cells() -> list:
        return [
            md('''
    # 08 · A title
    '''),
            code(SETUP),
            code('''
    print(nl.__version__)
    '''),
        ]

To add a tutorial, add its source file (the next free ``<nn>``), run this script, and add the notebook's name
to ``EXPECTED`` in ``tests/test_tutorials.py``. Cell ids are ``<nn>-<index>`` so that regenerating gives
identical files.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "notebooks"

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

if str(SOURCES) not in sys.path:  # the sources import their shared cell constructors from tutorial_cells
    sys.path.insert(0, str(SOURCES))


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"tutorial_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: notebook file name -> the function that returns its cells, in the order of the source files
NOTEBOOKS: dict[str, object] = {
    f"{path.stem}.ipynb": _load(path).cells for path in sorted(SOURCES.glob("[0-9][0-9]_*.py"))
}


def build(name: str):
    """The notebook ``name`` (e.g. ``"01_loading_real_nwb.ipynb"``) as an ``nbformat`` node, without outputs."""
    nb = nbformat.v4.new_notebook()
    nb.cells = NOTEBOOKS[name]()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    # stable cell ids so that regenerating gives identical files
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"{Path(name).stem[:2]}-{index:02d}"
    return nb


def write_all(folder: Path = HERE) -> list[Path]:
    """Write every notebook into ``folder`` and return the paths written."""
    paths = []
    for name in NOTEBOOKS:
        nb = build(name)
        nbformat.validate(nb)
        path = Path(folder) / name
        nbformat.write(nb, path)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print("wrote", written)
