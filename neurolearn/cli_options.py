"""Parsing and checking the ``neurolearn`` command's options, before any long step runs.

Every option is turned into the value the Python API takes (``--behavior outcome:correct=1,incorrect=0`` ->
``{"outcome": {"correct": 1, "incorrect": 0}}``) and checked here, so that a typo is a one-line error with
exit status 2 at once, not after minutes of reading files. :mod:`neurolearn.cli` builds the parser.

Examples
--------
>>> parse_coding("outcome:correct=1,incorrect=0", binary=True)
{'outcome': {'correct': 1, 'incorrect': 0}}
>>> parse_coding("feedback:1=1,-1=0", binary=True)
{'feedback': {1: 1, -1: 0}}
>>> parse_coding("correct", binary=True)
'correct'
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from neurolearn.errors import DataError, NeurolearnError

__all__ = [
    "parse_coding",
    "check_where",
    "read_training_times",
    "training_times_for",
    "Progress",
    "positive_int",
    "non_negative_int",
    "positive_float",
    "assignment",
]

#: the coord (over ``session``) that holds each session's training time, which
#: :func:`~neurolearn.fitting.fit` reads
TRAINING_TIME = "training_time"


def parse_coding(text: str, *, binary: bool, option: str = "--behavior"):
    """``COLUMN`` -> ``"COLUMN"``; ``COLUMN:VALUE=CODE,...`` -> ``{COLUMN: {VALUE: CODE, ...}}``; ``none`` -> None.

    Values and codes that read as numbers become numbers (so ``1=1,2=0`` matches a column of 1s and 2s and
    ``-1=0`` a column of -1s); others stay strings, spaces kept (``"no response=0"``). With ``binary`` every
    code must be 1 or 0 and both must occur (behaviour is scored correct / incorrect). Raises
    :class:`argparse.ArgumentTypeError` with what was expected and found.
    """
    text = str(text).strip()
    if text.lower() == "none":
        return None
    column, sep, items = text.partition(":")
    column = column.strip()
    if not column:
        raise argparse.ArgumentTypeError(f"{option}: expected COLUMN or COLUMN:VALUE=CODE,..., found {text!r}")
    if not sep:
        return column
    mapping = {}
    for item in items.split(","):
        value, eq, code = item.rpartition("=")
        if not eq or not value.strip() or not code.strip():
            raise argparse.ArgumentTypeError(
                f"{option}: expected VALUE=CODE items separated by commas after '{column}:', found {item!r} "
                f"in {text!r}"
            )
        key = _number_or_text(value.strip())
        if key in mapping:
            raise argparse.ArgumentTypeError(f"{option}: value {value.strip()!r} is coded twice in {text!r}")
        mapping[key] = _number_or_text(code.strip())
    if binary:
        codes = set(mapping.values())
        if not codes <= {0, 1}:
            bad = sorted(str(c) for c in codes - {0, 1})
            raise argparse.ArgumentTypeError(
                f"{option}: expected codes 1 (correct) or 0 (incorrect), found {', '.join(bad)} in {text!r}"
            )
        if codes != {0, 1}:
            raise argparse.ArgumentTypeError(
                f"{option}: expected at least one value coded 1 and one coded 0, found only "
                f"{sorted(codes)} in {text!r}"
            )
        mapping = {key: int(code) for key, code in mapping.items()}
    return {column: mapping}


def check_where(text: str) -> str:
    """A pandas query expression over trial columns, checked for syntax only (columns are the reader's job).

    Backtick-quoted column names (pandas' syntax for names with spaces) are accepted.
    """
    plain = re.sub(r"`[^`]*`", "_column", str(text))
    try:
        ast.parse(plain, mode="eval")
    except SyntaxError as error:
        raise argparse.ArgumentTypeError(
            f"--where: expected a pandas query expression on trial columns (e.g. \"contrast > 0.1 and "
            f"block == 2\"), found {text!r} ({error.msg})"
        ) from None
    return str(text)


def read_training_times(spec: str):
    """``--training-time``: a CSV/JSON file -> dict session -> time; anything else -> the name, as given.

    CSV: a header with a ``session`` column and a ``training_time`` column (or exactly two columns, session
    first). JSON: an object ``{"session": time, ...}``. Times must be finite numbers.
    """
    path = Path(spec)
    if path.suffix.lower() not in (".csv", ".json", ".tsv") and not path.is_file():
        return str(spec)  # a trial column or session attribute name, resolved once the sessions are read
    if not path.is_file():
        raise DataError(f"--training-time {spec}: expected a CSV or JSON file of session -> time, found no "
                        "such file")
    if path.suffix.lower() == ".json":
        try:
            table = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise DataError(f"--training-time {spec}: expected JSON {{session: time}}, found invalid JSON "
                            f"({error})") from None
        if not isinstance(table, dict):
            raise DataError(f"--training-time {spec}: expected a JSON object {{session: time}}, found "
                            f"{type(table).__name__}")
    else:
        table = _training_time_table(path, spec)
    times = {}
    for session, value in table.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if isinstance(value, bool) or not np.isfinite(number):
            raise DataError(f"--training-time {spec}: expected a finite number for session {session!r}, "
                            f"found {value!r}")
        times[str(session)] = number
    return times


def training_times_for(spec, tree, sessions) -> np.ndarray:
    """One training time per session in ``sessions``: from the table ``spec`` or, for a name, from each
    session's attributes or a trial column that is constant within the session."""
    sessions = [str(s) for s in sessions]
    if isinstance(spec, dict):
        missing = [s for s in sessions if s not in spec]
        if missing:
            raise DataError(f"--training-time: expected a time for every session, found none for {missing} "
                            f"(the table has {sorted(spec)})")
        return np.array([spec[s] for s in sessions], dtype=float)
    values = []
    for session in sessions:
        node = tree[session] if session in tree.children else None
        if node is None:
            raise DataError(f"--training-time {spec}: session {session!r} is not among the sessions read "
                            f"({list(tree.children)})")
        values.append(_session_value(node.dataset, spec, session))
    return np.array(values, dtype=float)


class Progress:
    """Per-step lines on stderr (``reading 10 files ...`` then ``... done in 3.2 s``), or nothing."""

    def __init__(self, enabled: bool = True, stream=None):
        self.enabled = bool(enabled)
        self.stream = stream

    def line(self, text: str) -> None:
        if self.enabled:
            print(text, file=self.stream or sys.stderr, flush=True)

    @contextmanager
    def step(self, text: str):
        started = time.perf_counter()
        self.line(f"{text} ...")
        yield
        self.line(f"  done in {time.perf_counter() - started:.1f} s")


def positive_int(text: str) -> int:
    return _integer(text, 1, "a positive integer")


def non_negative_int(text: str) -> int:
    return _integer(text, 0, "an integer >= 0")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, found {text!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, found {text!r}")
    return value


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, found {text!r}") from None
    if not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, found {text!r}")
    return value


def assignment(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        if not sep or not name.strip():
            raise ValueError
        number = float(value)
        if not np.isfinite(number):
            raise ValueError
        return name.strip(), number
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, found {text!r}") from None


# --- helpers -------------------------------------------------------------------------------------------


def _integer(text: str, lowest: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, found {text!r}") from None
    if value < lowest:
        raise argparse.ArgumentTypeError(f"expected {what}, found {value}")
    return value


def _number_or_text(text: str):
    try:
        number = float(text)
    except ValueError:
        return text
    if not np.isfinite(number):
        return text
    return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+", text) else number


def _training_time_table(path: Path, spec: str) -> dict:
    import pandas as pd

    try:
        frame = pd.read_csv(path, sep=None, engine="python", dtype={"session": str})
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"--training-time {spec}: expected a CSV table session,training_time, found an "
                        f"unreadable file ({' '.join(str(error).split())})") from None
    if {"session", TRAINING_TIME} <= set(frame.columns):
        sessions, times = frame["session"], frame[TRAINING_TIME]
    elif frame.shape[1] == 2:
        sessions, times = frame.iloc[:, 0], frame.iloc[:, 1]
    else:
        raise DataError(f"--training-time {spec}: expected columns 'session' and '{TRAINING_TIME}' (or exactly "
                        f"two columns), found {list(map(str, frame.columns))}")
    sessions = [str(s) for s in sessions]
    repeated = sorted({s for s in sessions if sessions.count(s) > 1})
    if repeated:
        raise DataError(f"--training-time {spec}: expected one row per session, found repeated {repeated}")
    return dict(zip(sessions, times.tolist()))


def _session_value(dataset, name: str, session: str) -> float:
    recording = dataset.get("responses")
    for attrs in (dataset.attrs, getattr(recording, "attrs", {})):
        if name in attrs:
            return _one_number(attrs[name], name, session)
    if recording is not None and name in recording.coords:
        values = np.unique(np.asarray(recording[name].values).ravel())
        if values.size != 1:
            raise DataError(
                f"--training-time {name}: expected one value per session, found {values.size} different "
                f"values in session {session!r} (give a CSV or JSON file of session -> time instead)"
            )
        return _one_number(values[0], name, session)
    found = sorted(set(map(str, dataset.attrs)) | set(map(str, getattr(recording, "attrs", {})))
                   | set(map(str, getattr(recording, "coords", {}))))
    raise DataError(f"--training-time {name}: expected a file, a session attribute or a trial column of that "
                    f"name, found none in session {session!r} (attributes and columns: {found})")


def _one_number(value, name, session) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not np.isfinite(number):
        raise DataError(f"--training-time {name}: expected a finite number in session {session!r}, found "
                        f"{value!r}")
    return number
