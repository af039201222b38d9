"""Behaviour from a trial column, with the outcome coding declared: fraction correct and its interval.

Labs code outcomes in many ways ("correct"/"incorrect"/"no response", ±1 feedback, 1/2, booleans). A 0/1 or
boolean column is read as is; any other coding is declared with a mapping ``{column: {value: 1 or 0}}`` and
values outside the mapping (e.g. "no response") are excluded with a warning that counts them. Nothing is
guessed: a column that is not 0/1 without a mapping is refused with a message showing the mapping to pass.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr
from scipy.stats import norm
from scipy.stats import t as student_t

from neurolearn.data import TRIAL
from neurolearn.errors import DataError, InsufficientDataError, session_label, shown
from neurolearn.stats.estimate import agresti_coull_se

__all__ = ["behavior_estimate", "heldout_behavior_estimate", "outcome_values", "coding_column",
           "refuse_shared_column"]

#: fewest held-out stimuli (with an outcome) for heldout_behavior and the behaviour generalisation error: their
#: interval is clustered by stimulus, and one stimulus has no spread to estimate (two: 1 degree of freedom)
MIN_HELDOUT_STIMULI = 2


def coding_column(coding) -> str:
    """The trial column a behaviour/target coding reads: the string itself, or the mapping's one key.

    Examples
    --------
    >>> coding_column("correct"), coding_column({"outcome": {"hit": 1, "miss": 0}})
    ('correct', 'outcome')
    """
    if isinstance(coding, str):
        return coding
    if isinstance(coding, Mapping) and len(coding) == 1:
        column, mapping = next(iter(coding.items()))
        if isinstance(column, str) and isinstance(mapping, Mapping) and mapping:
            return column
    raise DataError(f"expected a trial column name or a mapping {{column: {{value: code}}}} with one column, "
                    f"found {shown(coding)}")


def refuse_shared_column(target, behavior) -> None:
    """Refuse ``target=`` and ``behavior=`` naming one trial column (adversary S8-6).

    The target is what each condition asks for (one value per condition); ``behavior=`` is whether each trial
    was answered correctly. One column cannot be both: read as a label, an outcome differs between the trials
    of a condition (every session is then summarised without its label), and where it does not, each
    condition is all correct or all wrong and the fraction correct is set by which conditions the label
    names. Before this, a plain ``target=`` column was taken by the label's checks and ``behavior=`` then
    reported it missing from a list of trial coords that left it out.

    A target given as a declared coding of that column (``{column: {value: class}}``) is read on its own and
    left to ``behavior=`` as recorded, so it is not refused.

    Raises
    ------
    DataError
        A plain ``target=`` column name that ``behavior=`` names too (plainly or as its coding's key).

    Examples
    --------
    >>> refuse_shared_column("side", {"outcome": {"hit": 1, "miss": 0}})
    >>> refuse_shared_column(None, "accuracy"), refuse_shared_column("accuracy", None)
    (None, None)
    >>> refuse_shared_column({"correct": {True: 1, False: -1}}, "correct")  # a declared coding: read on its own
    >>> refuse_shared_column("accuracy", {"accuracy": {1: 1, 2: 0}})
    Traceback (most recent call last):
    ...
    neurolearn.errors.DataError: target= and behavior= name the same column 'accuracy': ...
    """
    if target is None or behavior is None or isinstance(target, Mapping):
        # a declared coding of the column (target={"correct": {True: 1, False: -1}}) reads it per condition on
        # its own and leaves the column as recorded for behavior= (tests/stats/test_selection.py)
        return
    column = coding_column(target)
    if column != coding_column(behavior):
        return
    raise DataError(
        f"target= and behavior= name the same column {column!r}: the target is the task's label of each "
        "condition and behavior= whether each trial was answered correctly, and one column cannot be both (as a "
        "label an outcome is not one value per condition, or each condition is all correct or all wrong); name "
        f"the task's label column in target=, or pass behavior=None to use {column!r} as the label")


def outcome_values(recording: xr.DataArray, behavior, *, session_id: str = "session") -> np.ndarray:
    """Per-trial 1 (correct) / 0 (incorrect) / NaN (excluded) from a 0/1 column or a declared mapping.

    Examples
    --------
    >>> rec = xr.DataArray(np.zeros((3, 1)), dims=("trial", "neuron"),
    ...                    coords={"outcome": ("trial", ["hit", "miss", "no response"])})
    >>> outcome_values(rec, {"outcome": {"hit": 1, "miss": 0}}).tolist()
    [1.0, 0.0, nan]
    """
    column = coding_column(behavior)
    if column not in recording.coords or recording.coords[column].dims != (TRIAL,):
        available = sorted(str(c) for c, v in recording.coords.items() if v.dims == (TRIAL,))
        raise DataError(f"{session_label(session_id)}: expected a trial coord {column!r} (behavior=), "
                        f"available trial coords: {available}")
    raw = np.asarray(recording.coords[column].values)
    if isinstance(behavior, Mapping):
        mapping = behavior[column]
        bad = {key: code for key, code in mapping.items() if code not in (0, 1, True, False)}
        if bad:
            raise DataError(f"behavior mapping for {column!r}: expected codes 1 (correct) or 0 (incorrect), "
                            f"found {shown(bad)}")
        lookup = {_key(key): float(code) for key, code in mapping.items()}
        coded = np.array([lookup.get(_key(value), np.nan) for value in raw.tolist()], dtype=float)
        if raw.size and np.isnan(coded).all():
            # a declaration that names none of the values (a case typo, str keys of an int column) is a mistake
            found = sorted({_key(value) for value in raw.tolist()}, key=str)[:8]  # shown as typed: 1 vs '1'
            raise DataError(f"{session_label(session_id)}: expected the behavior mapping's keys among the values of "
                            f"{column!r}, found keys {shown(list(mapping)[:8])} and values {shown(found)}")
        return coded
    if raw.dtype.kind == "O":  # pandas' nullable columns (boolean, Int64) hold pd.NA where no outcome was scored
        raw = np.array([np.nan if is_missing_value(value) else value for value in raw.tolist()], dtype=object)
    try:
        values = raw.astype(float)
    except (TypeError, ValueError):
        values = None
    if values is None or not np.all(np.isnan(values) | (values == 0) | (values == 1)):
        found = _distinct(raw[~_is_nan(raw)])
        coding, uncoded = example_coding(found)
        example = {column: coding}
        unsure = f"; {shown(uncoded[:6])} read as neither here: code them or they are excluded" if uncoded else ""
        found = found[:6]
        raise DataError(f"{session_label(session_id)}: expected 0/1 (or boolean) values in {column!r}, found "
                        f"{shown(found)}; declare the coding, e.g. behavior={shown(example)} (check it{unsure}; "
                        "values outside the mapping are excluded and counted)")
    return values


def behavior_estimate(recording: xr.DataArray, behavior="correct", level: float = 0.95, by: str | None = None):
    """Fraction correct, its standard error and interval (Wilson's; cluster-robust over stimuli with ``by``).

    Parameters
    ----------
    recording : xarray.DataArray
        One session.
    behavior : str or mapping
        A 0/1 (or boolean) trial coord, or ``{column: {value: 1 or 0}}`` declaring the coding; trials whose
        value is outside the mapping, or NaN, are excluded and counted in a warning.
    level : float
        Interval coverage.
    by : str, optional
        The trial coord of the stimulus (condition). The estimand is the probability of a correct trial on
        the task's stimuli, the shown stimuli a sample of them: trials of one stimulus are not independent
        draws of the task (some stimuli are harder than others), so with ``by`` the variance is also computed
        over stimuli (below). Without ``by`` only the trials' coin flips are counted.

    Returns
    -------
    (value, se, (lower, upper))
        ``value`` is the fraction correct over the trials with an outcome. It is unbiased for the
        trial-weighted accuracy of the shown stimuli, and for the task's when the stimuli are drawn
        independently of their trial counts (with equal trials per stimulus it is the mean of the stimuli's
        fractions correct); nothing is corrected. ``se`` is the larger of the binomial ``sqrt(p(1-p)/n)``
        and, with ``by``, the cluster-robust CR2 SE over the C stimuli,
        ``sqrt(sum_c w_c^2 (p_c - p)^2 / (1 - w_c))`` with ``w_c = n_c / n`` (Bell-McCaffrey; equal to
        CR1 with equal trials per stimulus, and unbiased there for the variance over draws of stimuli and
        trials), with the Agresti-Coull SE as a floor, so a session at 100% correct keeps a positive SE instead
        of an infinite fitting weight. The interval is Wilson's at an effective trial count (Dean and Pagano
        2015): ``n_eff = p(1-p) / max(p(1-p)/n, (t/z)^2 CR2^2)``, ``t`` the Student-t quantile on
        ``C_eff - 1`` degrees of freedom (``C_eff = 1 / sum_c w_c^2``, C with equal trials; at least 1):
        the small-C correction, since the CR2 variance over a handful of stimuli is itself uncertain. It
        stays in [0, 1] and is asymmetric near 100% correct. With equal accuracy on every stimulus it is the
        binomial Wilson interval or, where the CR2 variance reads larger by chance, a little wider.

    Raises
    ------
    DataError
        The column is missing, its coding is not 0/1 and no mapping declares it, or no trial is left.

    Examples
    --------
    >>> rec = xr.DataArray(np.zeros((4, 1)), dims=("trial", "neuron"),
    ...                    coords={"correct": ("trial", [True, True, True, False])})
    >>> value, se, (lo, hi) = behavior_estimate(rec)
    >>> value, round(se, 4), round(lo, 3), round(hi, 3)
    (0.75, 0.2165, 0.301, 0.954)

    Four stimuli of different difficulty, five trials each: the interval is wider than the trials' alone.

    >>> rec = xr.DataArray(np.zeros((20, 1)), dims=("trial", "neuron"), coords={
    ...     "correct": ("trial", [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0]),
    ...     "stimulus": ("trial", np.repeat([0, 1, 2, 3], 5))})
    >>> value, se, (lo, hi) = behavior_estimate(rec, by="stimulus")
    >>> value, round(se, 3), round(lo, 2), round(hi, 2)
    (0.8, 0.141, 0.29, 0.98)
    >>> [round(b, 2) for b in behavior_estimate(rec)[2]]
    [0.58, 0.92]
    """
    session_id = str(recording.attrs.get("session_id", recording.name))
    values = outcome_values(recording, behavior, session_id=session_id)
    excluded = int(np.isnan(values).sum())
    stimuli = np.asarray(recording.coords[by].values)[~np.isnan(values)] if by is not None else None
    values = values[~np.isnan(values)]
    if excluded:
        warnings.warn(f"{session_label(session_id)}: {excluded} of {excluded + values.size} trials have no "
                      f"correct/incorrect outcome in {coding_column(behavior)!r} and are left out of behavior",
                      stacklevel=2)
    if values.size == 0:
        raise DataError(f"{session_label(session_id)}: no trial with a correct/incorrect outcome in "
                        f"{coding_column(behavior)!r}")
    n, p = values.size, float(values.mean())
    z = float(norm.ppf(0.5 + level / 2))
    binomial = p * (1 - p) / n
    clustered, dof = _cluster_robust_variance(values, stimuli, p) if stimuli is not None else (0.0, np.inf)
    se = float(max(np.sqrt(binomial), np.sqrt(clustered), agresti_coull_se(values.sum(), n)))
    inflation = (float(student_t.ppf(0.5 + level / 2, dof)) / z) ** 2 if np.isfinite(dof) else 1.0
    effective = n if binomial == 0 else n * binomial / max(binomial, inflation * clustered)
    lower, upper = _wilson(p, effective, z)
    return p, se, (lower, upper)


def heldout_behavior_estimate(rec, mask, behavior="correct", level: float = 0.95, by: str = "stimulus"):
    """Fraction correct on the trials ``mask`` marks held out: :func:`behavior_estimate` with ``by``, clustered
    by held-out stimulus (the held-out stimuli a sample of the task's novel stimuli; ``heldout_behavior``).

    Raises
    ------
    InsufficientDataError
        (the statistic's NaN reason) No trial held out; fewer than :data:`MIN_HELDOUT_STIMULI` held-out stimuli
        with an outcome (one has no spread of difficulty to estimate); no trial coord ``by``; the held-out mark
        varying within a condition of ``by`` (a stimulus partly marked held out was used in training).
    DataError
        The behaviour column is missing or its coding undeclared (the user's to fix).

    Examples
    --------
    >>> rec = xr.DataArray(np.zeros((12, 1)), dims=("trial", "neuron"), coords={
    ...     "correct": ("trial", [1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1]), "stimulus": ("trial", np.repeat(range(4), 3))})
    >>> value, se, (lo, hi) = heldout_behavior_estimate(rec, np.arange(12) >= 6)
    >>> round(value, 3), round(lo, 2), round(hi, 2)  # two held-out stimuli: 1 degree of freedom, wide
    (0.5, 0.01, 0.99)
    """
    if not mask.any():
        raise InsufficientDataError("no held-out trials (heldout marks none)")
    if by not in rec.coords or rec.coords[by].dims != (TRIAL,):
        raise InsufficientDataError(f"no trial coord {by!r} (by=) to tell the held-out stimuli apart: the interval "
                                    "counts each held-out stimulus as one draw of the task's novel stimuli")
    _, inverse = np.unique(np.asarray(rec.coords[by].values), return_inverse=True)
    inverse = inverse.ravel()
    held = np.bincount(inverse, weights=mask.astype(float))
    if np.any((held > 0) & (held < np.bincount(inverse))):
        raise InsufficientDataError("the held-out column varies within a condition")
    heldout = rec.isel({TRIAL: np.nonzero(mask)[0]})
    try:
        outcomes = outcome_values(heldout, behavior)
        scored = np.unique(np.asarray(heldout.coords[by].values)[~np.isnan(outcomes)]).size
        if 0 < scored < MIN_HELDOUT_STIMULI:
            raise InsufficientDataError(
                f"{scored} held-out stimulus with an outcome (expected at least {MIN_HELDOUT_STIMULI}): the "
                "held-out stimuli are a sample of the task's novel stimuli, and one tells nothing of how "
                "their difficulty varies")
        return behavior_estimate(heldout, behavior, level, by=by)
    except DataError as error:
        if "expected" in str(error) and not isinstance(error, InsufficientDataError):
            raise  # a missing column or an undeclared coding: the user's to fix
        raise InsufficientDataError(str(error)) from None


def _wilson(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval of a proportion p at a (possibly effective, non-integer) trial count n."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def _cluster_robust_variance(values, stimuli, p) -> tuple[float, float]:
    """CR2 (Bell-McCaffrey) variance of a mean over trials clustered by stimulus, and its degrees of freedom
    ``C_eff - 1`` (``C_eff = 1 / sum w_c^2``, at least 1); (0, inf) with fewer than 2 stimuli.

    Examples
    --------
    >>> variance, dof = _cluster_robust_variance(np.array([1., 1, 0, 0, 1, 0]), np.array([0, 0, 1, 1, 2, 2]), 0.5)
    >>> round(variance, 4), dof  # the stimuli's fractions correct 1, 0, 0.5: sample variance 0.25 over 3
    (0.0833, 2.0)
    """
    _, cluster = np.unique(stimuli, return_inverse=True)
    n_clusters = int(cluster.max()) + 1 if cluster.size else 0
    if n_clusters < 2:
        return 0.0, np.inf
    counts = np.bincount(cluster, minlength=n_clusters).astype(float)
    weights = counts / values.size
    sums = np.bincount(cluster, weights=values - p, minlength=n_clusters)
    variance = float(np.sum(sums**2 / (1.0 - weights)) / values.size**2)
    return variance, max(1.0 / float(np.sum(weights**2)) - 1.0, 1.0)


_RIGHT_WORDS = ("correct", "hit", "cr", "correct rejection", "correct_rejection", "rewarded", "reward", "success",
                "true", "yes", "1")
#: -1 as in ±1 feedback; "no" as in a yes/no column named for the outcome (``correct``, ``rewarded``)
_WRONG_WORDS = ("incorrect", "miss", "fa", "false alarm", "false_alarm", "error", "unrewarded", "failure", "fail",
                "false", "no", "0", "-1")


def example_coding(found) -> tuple[dict, list]:
    """A mapping to suggest, and the values it could not read: every value that reads as correct (hit,
    correct rejection, ...) or incorrect (miss, false alarm, ...); where none does, numbers as "more is
    better" (a reward volume: the largest correct, the next incorrect, the rest read as neither), other values
    the first two as found. -1 is incorrect as in +-1 feedback, but beside 0 and 1 it is an omission as often
    as an error, so it is read as neither there.

    Examples
    --------
    >>> example_coding(["CR", "FA", "Hit", "Miss", "no response"])
    ({'CR': 1, 'FA': 0, 'Hit': 1, 'Miss': 0}, ['no response'])
    >>> example_coding([0.0, 5.0])
    ({5.0: 1, 0.0: 0}, [])
    >>> example_coding([-1, 0, 1])
    ({0: 0, 1: 1}, [-1])
    """
    coding, uncoded = {}, []
    for value in found:
        word = str(value).strip().lower()
        if word in _RIGHT_WORDS or word in _WRONG_WORDS:
            coding[value] = 1 if word in _RIGHT_WORDS else 0
        else:
            uncoded.append(value)
    minus = [v for v in coding if str(v).strip() == "-1"]
    if minus and any(str(v).strip() == "0" for v in coding):
        # -1 beside 0 and 1: an omission as often as an error (and 0 then the error): read as neither
        for value in minus:
            del coding[value]
        uncoded.extend(minus)
    if not (1 in coding.values() and 0 in coding.values()):
        numbers = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
                      for v in found)
        ordered = sorted(found, reverse=True) if numbers and len(found) >= 2 else list(found)
        right, wrong = (ordered + ["correct", "incorrect"])[:2]
        return {right: 1, wrong: 0}, [value for value in found if value not in (right, wrong)]
    return coding, uncoded


def _key(value):
    """Mapping keys and trial values compared as Python scalars (numpy str/int/float and bytes alike), strings
    without surrounding spaces (``'Hit '`` as a lab's table wrote it is ``'Hit'``)."""
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value


def _distinct(values: np.ndarray) -> list:
    """The distinct values, sorted, as Python values; a column mixing kinds (1 and 'x') sorted by kind."""
    try:
        return np.unique(values).tolist()
    except TypeError:
        return sorted({_key(value) for value in values.tolist()}, key=lambda value: (type(value).__name__, str(value)))


def is_missing_value(value) -> bool:
    """Whether one trial value is missing: None, NaN, or pandas' NA and NaT (nullable and categorical columns).

    Examples
    --------
    >>> import pandas as pd
    >>> [is_missing_value(v) for v in (None, float("nan"), pd.NA, "", 0, "x")]
    [True, True, True, False, False, False]
    """
    if value is None:
        return True
    if isinstance(value, (str, bytes)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # an array-like value: not one missing entry
        return False


def _is_nan(values):
    if values.dtype.kind == "O":
        return np.array([is_missing_value(value) for value in values.tolist()], dtype=bool)
    try:
        return np.isnan(values.astype(float))
    except (TypeError, ValueError):
        return np.zeros(values.shape, dtype=bool)
