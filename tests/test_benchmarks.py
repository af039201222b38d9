"""``python -m benchmarks --smoke``: the benchmark runner's smallest sections run, so the command cannot rot."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_smoke_run_prints_the_whole_table():
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    table = done.stdout.split("== python -m benchmarks --smoke ==")[-1]
    assert "kernels" in table and "fit grokking" in table and "distributed" in table
    # every smoke section either measured a ratio or said why not; none failed
    assert "(section failed)" not in table, done.stdout
    numpy_row = next(line for line in table.splitlines() if "plug-in kernel / numpy" in line)
    assert float(numpy_row[48 + 12:].split()[2]) > 0  # the ratio column holds a measured number


def test_a_failing_section_is_reported_and_the_table_goes_on(monkeypatch, capsys):
    sys.path.insert(0, str(ROOT))
    try:
        import benchmarks.__main__ as runner
    finally:
        sys.path.remove(str(ROOT))

    def broken(size):
        raise ValueError("deliberately broken")

    monkeypatch.setitem(runner.SECTIONS, "kernels", broken)
    rows = runner.run("smoke", only=["kernels", "distributed"])
    assert rows[0]["measure"] == "(section failed)" and "deliberately broken" in rows[0]["note"]
    assert rows[-1]["section"] == "distributed"
    assert "deliberately broken" in capsys.readouterr().out
