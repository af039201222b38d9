"""The two declarations of the statistics registry: :class:`Requirements` (what the data must have) and
:class:`Statistic` (one statistic, declared as data). The table of entries is
:mod:`neurolearn.statistic_registry.entries`; the registry, its lookups and its generated page are
:mod:`neurolearn.statistic_registry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Requirements", "Statistic"]


@dataclass(frozen=True)
class Requirements:
    """What a session must have for a statistic to be computed (checked before computing it).

    ``min_conditions``/``min_trials``/``min_neurons``: at least this many conditions, trials per condition and
    neurons; ``min_classes``: distinct values of the task label (0 = no label needed); ``tracked``: the same
    cells declared across sessions; ``time_resolved``: a ``time`` dim; ``behavior``: a behaviour column.
    """

    min_conditions: int = 1
    min_trials: int = 1
    min_neurons: int = 1
    min_classes: int = 0
    tracked: bool = False
    time_resolved: bool = False
    behavior: bool = False
    #: why fewer conditions cannot do, added to the reason (e.g. a value fixed by construction)
    conditions_note: str = ""

    def describe(self) -> str:
        """One line for docs and error messages.

        Examples
        --------
        >>> Requirements(min_conditions=4, min_trials=2, min_neurons=2).describe()
        '>= 4 conditions, >= 2 trials per condition, >= 2 neurons'
        """
        parts = []
        if self.min_conditions > 1:
            parts.append(f">= {self.min_conditions} conditions")
        if self.min_trials > 1:
            parts.append(f">= {self.min_trials} trials per condition")
        if self.min_neurons > 1:
            parts.append(f">= {self.min_neurons} neurons")
        if self.min_classes:
            parts.append(f"a task label with >= {self.min_classes} classes")
        if self.tracked:
            parts.append("cells tracked across sessions (declared)")
        if self.time_resolved:
            parts.append("time-resolved trials")
        if self.behavior:
            parts.append("a behaviour column")
        return ", ".join(parts) or "any session"

    def unmet(self, *, n_conditions: int, min_trials: int, n_neurons: int, n_classes: int | None,
              tracked: bool = True, time_resolved: bool = False, behavior: bool = True) -> str:
        """Why a session of this shape cannot support the statistic (``""`` if it can).

        ``n_classes`` is None when no task label was given.

        Examples
        --------
        >>> Requirements(min_conditions=4, min_trials=2).unmet(n_conditions=3, min_trials=5, n_neurons=10,
        ...                                                    n_classes=2)
        'fewer than 4 conditions (found 3)'
        >>> Requirements(min_classes=2).unmet(n_conditions=8, min_trials=5, n_neurons=10, n_classes=None)
        'no task label (target=None)'
        """
        if self.behavior and not behavior:
            return "no behaviour column (behavior=None)"
        if self.time_resolved and not time_resolved:
            return "not time-resolved (no time dim; read with bin_size=)"
        if self.tracked and not tracked:
            return "cells not declared tracked across sessions"
        if self.min_classes:
            if n_classes is None:
                return "no task label (target=None)"
            if n_classes < self.min_classes:
                return f"fewer than {self.min_classes} classes of the task label (found {n_classes})"
        if n_conditions < self.min_conditions:
            note = f": {self.conditions_note}" if self.conditions_note else ""
            return f"fewer than {self.min_conditions} conditions (found {n_conditions}){note}"
        if min_trials < self.min_trials:
            return f"fewer than {self.min_trials} trials in some condition (found {min_trials})"
        if n_neurons < self.min_neurons:
            return f"fewer than {self.min_neurons} neurons (found {n_neurons})"
        return ""


@dataclass(frozen=True)
class Statistic:
    """One summary statistic, declared.

    Attributes
    ----------
    name : str
        The stable variable name in a statistics Dataset (``name``, ``name_se``, ``name_ci``, ``name_flag``).
    label : str
        Axis label for figures.
    meaning : str
        What the number says about learning, in one or two sentences.
    units : str
        ``""`` for dimensionless.
    range : (float, float)
        The estimand's natural range; a reported value never lies outside it by more than its sampling noise.
    family : str
        ``"behavior"``, ``"kernel"``, ``"spectral"``, ``"readout"``, ``"dynamics"`` or ``"generalization"``:
        which part of :func:`neurolearn.summarize` computes it; ``"capacity"``: computed by
        :func:`neurolearn.summarize` only where ``statistics=`` names one of its statistics (a linear program
        per dichotomy and neuron count is too costly to run in every summary); per session by
        :mod:`neurolearn.stats.capacity`.
    estimand : str
        The population quantity estimated (which neurons, conditions, trials it refers to).
    estimator : str
        The estimator and its bias handling.
    interval : str
        What the bootstrap resamples and how the interval is formed.
    chance : str
        How its chance level (``name_chance``) is computed at the actual shape; ``""`` if it has none.
    needs : Requirements
    reasons : tuple of str
        The reasons it can be NaN or flagged (the values ``name_flag`` can hold, in words).
    predicted_by : tuple of str
        Names of :data:`neurolearn.theory.MODELS` entries whose ``predict`` returns it.
    pairwise : bool
        Dims ``(session, session_other)`` instead of ``(session,)``.
    not_predicted : tuple of str
        Texts whose presence in ``<name>_flag`` marks a value that is kept but estimates another quantity than
        the models of ``predicted_by`` predict (e.g. the capacity of a finite sample of points rather than of
        the manifolds); :func:`neurolearn.fit` leaves those values out, with one warning naming the sessions
        and the flag.
    invariant_to : tuple of str
        Transformations of the recordings that leave the estimate unchanged, checked by the shared test
        over every statistic: ``"neuron order"`` (permuting neurons, ids with them), ``"response scale"``
        (multiplying every response by one positive constant), ``"condition labels"`` (renaming conditions
        by a one-to-one map), ``"baseline rates"`` (adding to each neuron a constant of its own, the same in
        every trial of a session and different between sessions: a baseline firing rate or an imaging F0).
    resolution_se : float, optional
        The standard error above which the data do not resolve the estimand (the value is then NaN, flagged
        "standard error ... exceeds ..."); ``None``: half the range when it is bounded (a 95 % interval wider
        than the whole range), no limit when it is not. Declared for an unbounded estimand with a natural
        unit, e.g. a change relative to a kernel's own norm; such a value is also resolved when its SE is
        below half its magnitude inside the range (2 SE from zero: a large change, measured; an estimate
        below the range's lower end has none).
    resolution_side : str
        What the resolution is judged on: ``"both"`` (default), the standard error (the replicates' spread on
        both sides); ``"lower"``, the interval's lower half-width ``(estimate - lower end) / z`` (``z`` the
        normal quantile of the interval's level), for an estimand whose upper side carries what a sample rarely
        holds. kernel_change with fresh neurons: a few high-rate cells carry a heavy-tailed population's kernel,
        a sample holding them reads higher with a long upper side and a sample lacking them reads low with a
        short one, so an SE rule kept the low readings (reported values covered 0.73-0.76 while all values
        covered 0.94); whether a change is told from none depends on the lower side alone.
    follows : str, optional
        The statistic this one is computed from (the timescale from the outlier eigenvalue): where that one
        is left NaN for lack of support or resolution, so is this one, with the same reason.
    """

    name: str
    label: str
    meaning: str
    units: str
    range: tuple[float, float]
    family: str
    estimand: str
    estimator: str
    interval: str
    chance: str = ""
    needs: Requirements = field(default_factory=Requirements)
    reasons: tuple[str, ...] = ()
    predicted_by: tuple[str, ...] = ()
    not_predicted: tuple[str, ...] = ()
    pairwise: bool = False
    invariant_to: tuple[str, ...] = ()
    resolution_se: float | None = None
    resolution_side: str = "both"
    follows: str = ""

    def unresolved_above(self) -> float:
        """The standard error above which a value is not resolved (see ``resolution_se``); ``inf`` if none.

        Examples
        --------
        >>> from neurolearn.statistic_registry import STATISTICS
        >>> STATISTICS["task_alignment"].unresolved_above(), STATISTICS["kernel_change"].unresolved_above()
        (1.0, 2.0)
        >>> STATISTICS["timescale"].unresolved_above()
        inf
        """
        if self.resolution_se is not None:
            return float(self.resolution_se)
        low, high = self.range
        return 0.5 * (high - low) if np.isfinite(high - low) else float("inf")

    def in_range(self, value: float, slack: float = 0.0) -> bool:
        """Whether ``value`` lies in the estimand's range, up to ``slack`` (e.g. a few standard errors).

        Examples
        --------
        >>> from neurolearn.statistic_registry import STATISTICS
        >>> STATISTICS["kernel_similarity"].in_range(1.02), STATISTICS["kernel_similarity"].in_range(1.02, 0.05)
        (False, True)
        """
        low, high = self.range
        return bool(low - slack <= value <= high + slack)
