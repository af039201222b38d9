"""The one-way layering of DESIGN.md, checked on the source: io -> stats -> fit -> plot/report/cli.

A layer may import only the layers before it (data, errors and theory feed the middle layers; simulate is a
ground-truth generator that tests, tutorials and data/ use). `stats` never opens files; `io` never computes
statistics. The check reads imports with `ast`, so it runs nothing and cannot be fooled by lazy imports inside
functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "neurolearn"

# layer -> neurolearn sub-packages/modules it must never import
FORBIDDEN = {
    "io": {"stats", "theory", "fit", "fitting", "plot", "report", "cli", "demo"},
    "stats": {"io", "fit", "fitting", "plot", "report", "cli", "demo", "simulate"},
    "theory": {"io", "stats", "fit", "fitting", "plot", "report", "cli", "demo", "simulate"},
    "fit": {"io", "plot", "report", "cli", "demo"},
    "fitting": {"io", "plot", "report", "cli", "demo"},
    "data": {"io", "stats", "theory", "fit", "fitting", "plot", "report", "cli", "demo", "simulate"},
    "errors": {"io", "stats", "theory", "fit", "fitting", "plot", "report", "cli", "demo", "simulate", "data"},
}
FILE_LIBRARIES = {"h5py", "pynwb", "hdmf"}


def _layer_files(layer):
    module = PACKAGE / f"{layer}.py"
    package = PACKAGE / layer
    if module.exists():
        return [module]
    return sorted(package.rglob("*.py")) if package.is_dir() else []


def _imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            for alias in node.names:
                yield f"{node.module}.{alias.name}"


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_earlier_layers(layer):
    files = _layer_files(layer)
    if not files:
        pytest.skip(f"neurolearn.{layer} not present")
    violations = []
    for path in files:
        for name in _imported_modules(path):
            parts = name.split(".")
            if parts[0] == "neurolearn" and len(parts) > 1 and parts[1] in FORBIDDEN[layer]:
                violations.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not violations, "\n".join(violations)


def test_stats_never_opens_files():
    violations = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in _layer_files("stats")
        for name in _imported_modules(path)
        if name.split(".")[0] in FILE_LIBRARIES
    ]
    assert not violations, "\n".join(violations)


def test_checker_sees_a_forbidden_import(tmp_path):
    # the check itself must be able to fail
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from neurolearn.io import read_nwb\n")
    assert "neurolearn.io" in set(_imported_modules(bad))
