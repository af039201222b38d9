"""The README stays true: its quick-start test command is what CI runs, and its API example runs."""

from __future__ import annotations

import os
import re
import warnings

from tests.conftest import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_quick_start_is_two_commands_and_ci_runs_the_test_command_verbatim():
    commands = [block.strip() for block in _blocks("bash")[:2]]
    assert commands[0].endswith("neurolearn demo")
    assert commands[1].endswith("python -m pytest")
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()


def test_api_example_runs(tmp_path, monkeypatch):
    (tmp_path / "data").symlink_to(PROJECT_ROOT / "data")
    monkeypatch.chdir(tmp_path)
    code = _blocks("python")[0]
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fit notes (e.g. SE floors) are not what this test checks
        exec(compile(code, "README.md", "exec"), namespace)
    assert os.path.getsize(tmp_path / "fit.png") > 0
    fit, lazy = namespace["fit"], namespace["lazy"]
    assert fit.success and lazy.success
    # the rich example network was simulated with gamma0 = 4 (data/examples.json)
    low, high = fit.ci["gamma0"]
    assert low < 4 < high

