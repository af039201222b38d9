"""Parsing and checking the ``neurolearn`` command's options, before any long step runs.

Every option is turned into the value the Python API takes (``--behavior outcome:correct=1,incorrect=0`` ->
``{"outcome": {"correct": 1, "incorrect": 0}}``, its keys then read against the column's values by
:func:`~neurolearn.cli_codings.resolve_coding`) and checked here, so that a typo is a one-line error with
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

from neurolearn.cli_codings import parse_coding, resolve_coding
from neurolearn.errors import DataError, shown

__all__ = [
    "parse_coding",
    "resolve_coding",
    "check_where",
    "read_training_times",
    "training_times_for",
    "Progress",
    "positive_int",
    "non_negative_int",
    "positive_float",
    "assignment",
    "parse_areas",
    "area_fits",
    "check_named_columns",
    "reading_kwargs",
]

#: the coord (over ``session``) that holds each session's training time, which
#: :func:`~neurolearn.fitting.fit` reads
TRAINING_TIME = "training_time"


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
                            f"found {shown(value)}")
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


def parse_areas(text: str) -> dict:
    """``--areas``: ``NAME=LAYER,...`` -> ``{NAME: LAYER}``; bare ``NAME,...`` -> layers 1, 2, ... in that order.

    Raises :class:`argparse.ArgumentTypeError` with what was expected and found.

    Examples
    --------
    >>> parse_areas("V1=1,LM=2"), parse_areas("V1,LM")
    ({'V1': 1, 'LM': 2}, {'V1': 1, 'LM': 2})
    """
    items = [item.strip() for item in str(text).split(",")]
    if not all(items) or not any(items):
        raise argparse.ArgumentTypeError(f"--areas: expected NAME=LAYER,... or NAME,... (layers 1, 2, ... in "
                                          f"order), found {text!r}")
    pairs = [item.partition("=") for item in items]
    if len({bool(sep) for _, sep, _ in pairs}) > 1:
        raise argparse.ArgumentTypeError(f"--areas: expected every area with its layer or none (then layers 1, "
                                          f"2, ... in order), found {text!r}")
    areas = {}
    for position, (name, sep, layer) in enumerate(pairs, 1):
        name = name.strip()
        if not name:
            raise argparse.ArgumentTypeError(f"--areas: expected NAME=LAYER, found {text!r}")
        if name in areas:
            raise argparse.ArgumentTypeError(f"--areas: area {name} named twice in {text!r}")
        if sep:
            try:
                number = int(layer.strip())
            except ValueError:
                number = 0
            if number < 1:
                raise argparse.ArgumentTypeError(f"--areas: expected a positive integer layer for {name}, found "
                                                  f"{layer.strip()!r}")
        areas[name] = number if sep else position
    return areas


def area_fits(stats, models, areas, source: str = "the statistics", observables=None) -> list:
    """``neurolearn fit``'s (model, statistics, fit options) for each model, checked before any fitting.

    Statistics over ``area`` (``summarize --by-area``): a per-layer model (``deep-linear``) fits the areas of
    ``areas`` (name -> layer) jointly, as a deep-linear model with as many layers as the deepest one named (at
    least its registered 2), and an observable of ``observables`` it predicts per layer (``task_alignment``)
    stands for that statistic of every area fitted (``task_alignment[V1]``, ...); a one-population model fits
    the one area named. Without an ``area`` dim, ``areas`` must be None. Raises
    :class:`~neurolearn.errors.DataError` saying which ``--areas`` to give.
    """
    from neurolearn.theory.deep_linear import deep_linear_model

    if "area" not in stats.dims:
        if areas is not None:
            raise DataError(f"--areas: expected statistics per area (neurolearn summarize --by-area) in {source}, "
                            f"found dims {tuple(map(str, stats.dims))}")
        return [(model, stats, {} if observables is None else {"observables": observables}) for model in models]
    found = [str(a) for a in stats["area"].values]
    absent = [a for a in (areas or {}) if a not in found]
    if absent:
        raise DataError(f"--areas: expected areas among {found} (in {source}), found {absent}")
    example = ",".join(f"{a}={i}" for i, a in enumerate(found, 1))
    plans = []
    for model in models:
        if model.per_layer and areas is None and "layer" not in stats.coords:
            raise DataError(f"model {model.name!r} fits each recorded area as one of its layers: expected --areas "
                            f"NAME=LAYER,... for the areas of {source} ({', '.join(found)}), e.g. --areas {example}")
        if model.per_layer:
            deepest = max(areas.values()) if areas else int(np.max(stats["layer"].values))
            if model.name == "deep-linear" and deepest > model.n_layers:
                model = deep_linear_model(deepest)
            extra = {"areas": areas} if areas else {}
            if observables is not None:
                fitted = list(areas) if areas else found
                extra["observables"] = [name for o in observables
                                        for name in ([f"{o}[{a}]" for a in fitted] if o in model.per_layer else [o])]
            plans.append((model, stats, extra))
        elif areas is None or len(areas) != 1:
            raise DataError(f"model {model.name!r} predicts one population and {source} holds statistics per area "
                            f"({', '.join(found)}): expected --areas NAME for one area, found "
                            f"{'none' if areas is None else ', '.join(areas)}; or fit a per-layer model "
                            f"(deep-linear) to them jointly")
        else:
            plans.append((model, stats.sel(area=next(iter(areas))).drop_vars("layer", errors="ignore"),
                          {} if observables is None else {"observables": observables}))
    return plans


def check_named_columns(tree, args) -> None:
    """A column the user named (not a default) that no session has is a typo: say so before summarizing.

    A column missing from only some sessions is left to summarize, which reports it per session. The column a
    coding reads (:func:`~neurolearn.stats.behavior.coding_column`) and what counts as a trial column (a
    coord over ``trial`` only) are summarize's own, so the two checks cannot disagree.
    """
    from neurolearn.data import RESPONSES, TRIAL
    from neurolearn.stats.behavior import coding_column

    coords = [{str(name) for name, coord in child.dataset[RESPONSES].coords.items() if coord.dims == (TRIAL,)}
              for child in tree.children.values() if RESPONSES in child.dataset]
    if not coords:
        return
    named = {"--by": args.by if args.by != "stimulus" else None}
    heldout = str(getattr(args, "heldout", "heldout") or "heldout").partition(":")[0].strip()
    named["--heldout"] = heldout if heldout.lower() not in ("heldout", "none") else None
    for option, value, default in (("--target", args.target, "target"), ("--behavior", args.behavior, "correct")):
        column = None if value is None else coding_column(value)
        named[option] = column if column not in (None, default) else None
    columns = sorted(set().union(*coords))
    for option, column in named.items():
        if column is not None and all(column not in found for found in coords):
            raise DataError(f"{option} {column}: expected a trial column of that name, found none in any of the "
                            f"{len(coords)} session(s); trial columns: {columns}")


def reading_kwargs(args) -> dict:
    """The reading options of ``summarize`` as :func:`neurolearn.io.read_sessions` takes them."""
    options = dict(source=args.source, trials=args.trials, align=args.align, window=None if args.window is None else tuple(args.window),
                   bin_size=args.bin_size, inputs=args.inputs)
    if args.subject is not None:
        options["subject"] = args.subject
    if args.tracked or args.tracked_table is not None:
        options["tracked"] = True if args.tracked else args.tracked_table
    elif getattr(args, "tracked_column", None):
        options["tracked"] = {"column": args.tracked_column}
    elif getattr(args, "untracked", False):
        options["tracked"] = False
    if args.where is not None:
        options["where"] = args.where
    if args.on_error is not None:
        options["on_error"] = args.on_error
    if getattr(args, "allow_same_identifier", False):
        options["allow_same_identifier"] = True
    if args.timeout is not None and args.timeout > 0:
        options["timeout"] = args.timeout
    return options


# --- helpers -------------------------------------------------------------------------------------------


def _integer(text: str, lowest: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, found {text!r}") from None
    if value < lowest:
        raise argparse.ArgumentTypeError(f"expected {what}, found {value}")
    return value


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
                        f"{shown(value)}")
    return number
