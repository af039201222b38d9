"""The one-way layering of DESIGN.md, checked on the source: io -> stats -> fitting -> plot/report/cli, for
every module of the package (the app layer and simulate included), and no import cycle anywhere.

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
    "io": {"stats", "theory", "fitting", "plot", "report", "cli", "demo"},
    "stats": {"io", "fitting", "plot", "report", "cli", "demo", "simulate"},
    "theory": {"io", "stats", "fitting", "plot", "report", "cli", "demo", "simulate"},
    "fitting": {"io", "plot", "report", "cli", "demo"},
    "data": {"io", "stats", "theory", "fitting", "plot", "report", "cli", "demo", "simulate"},
    "errors": {"io", "stats", "theory", "fitting", "plot", "report", "cli", "demo", "simulate", "data"},
    "statistic_registry": {"io", "stats", "theory", "fitting", "plot", "report", "cli", "demo", "simulate",
                           "data"},
}

#: every top-level module or sub-package of neurolearn and its layer: a module imports only strictly lower
#: layers (and its own package). A new module must be placed here, so nothing escapes the check.
RANK = {
    "errors": 0,
    "statistic_registry": 1,
    "data": 2,
    "io": 3, "theory": 3,
    "stats": 4, "simulate": 4,
    "fitting": 5,
    "fit_records": 6, "plot_layout": 6,
    "plot_kernels": 6.5, "plot_comparison": 6.5,
    "plot": 7, "files": 7,
    "report_page": 8,
    "cli_codings": 8.5,
    "report": 9, "regimes": 9, "cli_options": 9, "cli_output": 9,
    "demo": 10, "cli_summarize": 10,
    "cli": 11,
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
    typing_only = {id(node) for block in ast.walk(tree) if _is_type_checking_block(block)
                   for stmt in block.body for node in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue  # `if TYPE_CHECKING:` imports never run: annotations only, no runtime edge
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            for alias in node.names:
                yield f"{node.module}.{alias.name}"


def _is_type_checking_block(node):
    return isinstance(node, ast.If) and (
        (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
        or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING"))


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
    typing = tmp_path / "typing_only.py"
    typing.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from neurolearn.io import read_nwb\n")
    assert "neurolearn.io" not in set(_imported_modules(typing))


def _all_files():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _top(path):
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return "__init__" if parts == ("__init__",) else parts[0]


def _module_name(path):
    parts = ("neurolearn",) + path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_module_has_a_layer():
    unplaced = sorted({_top(p) for p in _all_files()} - set(RANK) - {"__init__"})
    assert not unplaced, f"place these modules in RANK: {unplaced}"


def test_every_module_imports_only_lower_layers():
    violations = []
    for path in _all_files():
        top = _top(path)
        if top == "__init__":
            continue
        for name in _imported_modules(path):
            parts = name.split(".")
            if parts[0] != "neurolearn" or len(parts) < 2 or parts[1] == top or parts[1] not in RANK:
                continue
            if RANK[parts[1]] >= RANK[top]:
                violations.append(f"{path.relative_to(PACKAGE.parent)} (layer {RANK[top]}) imports {name} "
                                  f"(layer {RANK[parts[1]]})")
    assert not violations, "\n".join(violations)


def test_no_import_cycles():
    modules = {_module_name(p): p for p in _all_files()}
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in _imported_modules(path):
            # the longest prefix that is a module of the package (from a import b imports a.b or a's attribute)
            parts = name.split(".")
            for k in range(len(parts), 1, -1):
                candidate = ".".join(parts[:k])
                if candidate in modules and candidate != module:
                    targets.add(candidate)
                    break
        graph[module] = targets
    cycles = []
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in graph[node]:
            # a package's __init__ importing its own submodules, or a submodule its package, is not a cycle
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])
