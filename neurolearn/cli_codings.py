"""The ``--target`` and ``--behavior`` codings of ``neurolearn summarize``: parsed from text, then matched
against the values the trial column holds.

On the command line every value is text, and the column's values are not: ``go:True=1,False=-1`` names a
boolean column, ``feedback:1=1,-1=0`` an integer one, ``resp:1=1,0=0`` a float column of 0/1 with NaN for no
response, ``outcome:Hit=1,Miss=0`` strings. :func:`parse_coding` checks the syntax before any file is read;
:func:`resolve_coding` then reads each key against the column's values in the sessions read -- a boolean as
``True``/``False`` (any case) or ``1``/``0``, a number as a number (``1``, ``1.0`` and ``+1`` are the integer 1;
a float32 column's values as float32 too), a string as written, surrounding spaces ignored -- so the mapping the
Python API receives holds the column's own values. A key matching no value of any session is refused, naming
the values found.

Examples
--------
>>> parse_coding("outcome:correct=1,incorrect=0", binary=True)
{'outcome': {'correct': 1, 'incorrect': 0}}
>>> parse_coding("feedback:1=1,-1=0", binary=True)
{'feedback': {1: 1, -1: 0}}
>>> match_key("True", [False, True]), match_key("1", [0.0, 1.0]), match_key("Hit", ["Hit ", "Miss "])
([True], [1.0], ['Hit '])
"""

from __future__ import annotations

import argparse
import re

import numpy as np

from neurolearn.errors import DataError, plain, shown

__all__ = ["parse_coding", "coding_items", "resolve_coding", "match_key", "column_values"]

_TRUE, _FALSE = ("true", "1"), ("false", "0")


def coding_items(text: str, *, option: str = "--behavior"):
    """``COLUMN`` -> ``"COLUMN"``; ``COLUMN:VALUE=CODE,...`` -> ``(COLUMN, [(VALUE, CODE), ...])`` as text
    (values stripped, inner spaces kept); ``none`` -> None. Raises :class:`argparse.ArgumentTypeError`.

    Examples
    --------
    >>> coding_items("outcome:hit=1, no response=0")
    ('outcome', [('hit', '1'), ('no response', '0')])
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
    pairs, seen = [], set()
    for item in items.split(","):
        value, eq, code = item.rpartition("=")
        if not eq or not value.strip() or not code.strip():
            raise argparse.ArgumentTypeError(
                f"{option}: expected VALUE=CODE items separated by commas after '{column}:', found {item!r} "
                f"in {text!r}"
            )
        if value.strip() in seen:
            raise argparse.ArgumentTypeError(f"{option}: value {value.strip()!r} is coded twice in {text!r}")
        seen.add(value.strip())
        pairs.append((value.strip(), code.strip()))
    return column, pairs


def parse_coding(text: str, *, binary: bool, option: str = "--behavior"):
    """``COLUMN`` -> ``"COLUMN"``; ``COLUMN:VALUE=CODE,...`` -> ``{COLUMN: {VALUE: CODE, ...}}``; ``none`` -> None.

    Values and codes that read as numbers become numbers (so ``1=1,2=0`` matches a column of 1s and 2s and
    ``-1=0`` a column of -1s); others stay strings, spaces kept (``"no response=0"``); the keys are read
    against the column's values by :func:`resolve_coding` once the sessions are read. With ``binary`` every
    code must be 1 or 0 and both must occur (behaviour is scored correct / incorrect). Raises
    :class:`argparse.ArgumentTypeError` with what was expected and found.
    """
    items = coding_items(text, option=option)
    if items is None or isinstance(items, str):
        return items
    column, pairs = items
    mapping = {}
    for value, code in pairs:
        key = _number_or_text(value)
        if key in mapping:
            raise argparse.ArgumentTypeError(f"{option}: value {value!r} is coded twice in {str(text).strip()!r}")
        mapping[key] = _number_or_text(code)
    if binary:
        mapping = _binary(mapping, option, str(text).strip())
    return {column: mapping}


def resolve_coding(text, tree, *, binary: bool, option: str):
    """The API's coding of ``text``, each key replaced by the values of the trial column it names in ``tree``.

    ``text`` that names no mapping (a column, ``none``) is returned as :func:`parse_coding` parses it, and so
    is a mapping over a column no session has (:func:`neurolearn.cli_options.check_named_columns` names that).

    Raises
    ------
    DataError
        A key matches no value of the column in any session: the message names the key and the values found.
    """
    parsed = parse_coding(text, binary=binary, option=option)
    if binary and isinstance(parsed, str):
        _refuse_uncoded_column(parsed, tree, option)
    if not isinstance(parsed, dict):
        return parsed
    column, pairs = coding_items(text, option=option)
    values, n_sessions = column_values(tree, column)
    if n_sessions == 0:
        return parsed
    mapping, unmatched = {}, []
    for value, code in pairs:
        matched = match_key(value, values)
        if not matched:
            unmatched.append(value)
        for key in matched:
            mapping[key] = _number_or_text(code)
    if unmatched:
        kinds = sorted({_kind(v) for v in values})
        raise DataError(
            f"{option} {str(text).strip()}: expected values of trial column {column!r}, found no trial with "
            f"{', '.join(map(repr, unmatched))} in the {n_sessions} session(s) that have it; its values "
            f"({' and '.join(kinds) or 'none'}): {shown(values[:12])}" + (" ..." if len(values) > 12 else ""))
    return {column: _binary(mapping, option, str(text).strip()) if binary else mapping}


def _refuse_uncoded_column(column: str, tree, option: str) -> None:
    """A bare ``--behavior COLUMN`` whose values are not 0/1 is refused here, with the command line's syntax
    for a coding (the API's message would suggest ``behavior={...}``, which a shell user cannot type)."""
    from neurolearn.stats.behavior import example_coding

    values, n_sessions = column_values(tree, column)
    if n_sessions == 0 or all(isinstance(v, (bool, int, float)) and v in (0, 1) for v in values):
        return
    coding, uncoded = example_coding(values)
    example = ",".join(f"{key}={code}" for key, code in coding.items())
    rest = f"; {shown(uncoded[:6])} would be read as neither: code them or they are excluded" if uncoded else ""
    raise DataError(f"{option} {column}: expected 0/1 (or boolean) values in trial column {column!r}, found "
                    f"{shown(values[:8])}{' ...' if len(values) > 8 else ''}; declare the coding, e.g. "
                    f"{option} {column}:{example} (check it{rest}; values outside the coding are excluded and "
                    "counted)")


def resolve_heldout(text, tree):
    """``--heldout COLUMN[:VALUE]`` as :func:`neurolearn.summarize` takes it: the column's name (a boolean or
    0/1 column, True = held out), ``{column: value}`` with VALUE read as the column holds it
    (``is_train:False``, ``split:test``), or None for ``none``.

    Raises
    ------
    DataError
        VALUE matches no value of the column in any session that has it (the message names the values found).

    Examples
    --------
    >>> resolve_heldout("none", None), resolve_heldout("novel", None)
    (None, 'novel')
    """
    text = str(text).strip()
    if text.lower() == "none":
        return None
    column, sep, value = text.partition(":")
    column, value = column.strip(), value.strip()
    if not column or (sep and not value):
        raise DataError(f"--heldout {text}: expected COLUMN or COLUMN:VALUE (the value meaning held out), "
                        "e.g. 'heldout' or 'is_train:False'")
    if not sep:
        return column
    values, n_sessions = column_values(tree, column)
    matched = match_key(value, values)
    if n_sessions and len(matched) != 1:
        raise DataError(f"--heldout {text}: expected one value of trial column {column!r} meaning held out, found "
                        f"{'none' if not matched else len(matched)} matching {value!r}; its values: "
                        f"{shown(values[:12])}" + (" ..." if len(values) > 12 else ""))
    return {column: matched[0] if matched else _number_or_text(value)}


def column_values(tree, column: str) -> tuple[list, int]:
    """The distinct non-missing values of trial column ``column`` over the sessions of ``tree`` (as Python
    values, sorted), and how many sessions have the column."""
    from neurolearn.data import RESPONSES, TRIAL
    from neurolearn.stats.behavior import is_missing_value  # loaded with the sessions already

    found, n_sessions = {}, 0
    for child in tree.children.values():
        if RESPONSES not in child.dataset:
            continue
        coords = child.dataset[RESPONSES].coords
        if column not in coords or coords[column].dims != (TRIAL,):
            continue
        n_sessions += 1
        raw = np.asarray(coords[column].values)
        for value in (raw[~_missing(raw)] if raw.dtype.kind != "O" else raw).tolist():
            if not is_missing_value(value):
                value = plain(value)
                found.setdefault((type(value), value), value)
    return sorted(found.values(), key=lambda value: (_kind(value), str(value))), n_sessions


def match_key(text: str, values) -> list:
    """The values of ``values`` that the command-line text ``text`` names (see the module docstring).

    Examples
    --------
    >>> match_key("1", [True, False]), match_key("-1", [-1, 1]), match_key("0.25", [0.25, 0.5]), match_key("x", [1])
    ([True], [-1], [0.25], [])
    """
    text = str(text).strip()
    number = _number(text)
    matched = []
    for value in values:
        if isinstance(value, (bool, np.bool_)):
            hit = text.lower() in (_TRUE if value else _FALSE)
        elif isinstance(value, (int, float, np.integer, np.floating)):
            # a float32 column's 0.1 is float(np.float32(0.1)), which the text "0.1" names too
            hit = number is not None and (number == value or float(np.float32(number)) == value)
        elif isinstance(value, str):
            hit = value.strip() == text
        else:
            hit = str(value).strip() == text
        if hit:
            matched.append(value)
    return matched


def _binary(mapping: dict, option: str, text: str) -> dict:
    codes = set(mapping.values())
    if not codes <= {0, 1}:
        bad = sorted(str(c) for c in codes - {0, 1})
        raise argparse.ArgumentTypeError(
            f"{option}: expected codes 1 (correct) or 0 (incorrect), found {', '.join(bad)} in {text!r}"
        )
    if codes != {0, 1}:
        raise argparse.ArgumentTypeError(
            f"{option}: expected at least one value coded 1 and one coded 0, found only {sorted(codes)} in {text!r}"
        )
    return {key: int(code) for key, code in mapping.items()}


def _kind(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "numbers"
    return "strings" if isinstance(value, str) else type(value).__name__


def _number(text: str):
    try:
        number = float(text)
    except ValueError:
        return None
    return number if np.isfinite(number) else None


def _number_or_text(text: str):
    number = _number(text)
    if number is None:
        return text
    return int(number) if number.is_integer() and re.fullmatch(r"[+-]?\d+", text) else number


def _missing(values: np.ndarray) -> np.ndarray:
    return np.isnan(values) if values.dtype.kind in "fc" else np.zeros(values.shape, dtype=bool)
