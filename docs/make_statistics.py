"""Write docs/statistics.md from the statistics registry: ``python docs/make_statistics.py``."""

from __future__ import annotations

from pathlib import Path

from neurolearn.statistic_registry import registry_markdown

PAGE = Path(__file__).resolve().parent / "statistics.md"


def main(path: Path = PAGE) -> Path:
    path.write_text(registry_markdown(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(main())
