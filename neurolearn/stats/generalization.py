"""Generalisation error measured from recordings: trials of held-out (novel) stimuli against trained ones.

The ``grokking`` and ``kernel-learning-curve`` models predict ``generalization_error``, the error on stimuli
not used in training relative to the error of predicting the mean target. A recording can measure it where its trials
table says which stimuli are held out: the documented trial column ``heldout`` (bool, True on trials of
stimuli never used in training), or any column with the value that means held out,
``heldout={"is_train": False}``.

Two estimators, because the two models predict the error of different predictors:

``method="readout"`` (the representation's generalisation; ``kernel-learning-curve``)
    A linear readout of the recorded population, kernel ridge regression of the target on the condition-mean
    responses of the training-stimulus conditions, both centred by the training conditions' means
    (``ybar_t``, ``rbar_t``): ``y_hat = ybar_t + K_ht (K_tt + ridge s I)^+ (y_t - ybar_t)`` with
    ``K = (R - rbar_t)(R - rbar_t)^T / n_neurons`` and ``s = tr(K_tt) / P_t`` (so ``ridge`` is relative to the
    centred kernel's trace, as the model's ``ridge``; 0 is the minimum-norm interpolant), evaluated on the
    held-out conditions:

        generalization_error = mean_h (y_hat_h - y_h)^2 / var_c(y_c),

    the held-out mean squared error over the target's variance across all conditions (``ddof=1``; the error
    of predicting the target's mean), so a readout that learned nothing reads about 1, and the value does not
    change when the target is recoded ``a * y + b`` (classes 0/1, 1/2 or -1/+1 give the same number); a
    common firing rate gives the readout no free intercept. The variance is taken about the conditions' own
    mean, not about the training mean: the training mean is an estimate from ``P_t`` conditions and its error
    is part of the readout's (predicting it reads ``1 + 1/P_t`` on average), whereas dividing by the spread
    about it deflates the error by that factor (0.11 where the exact error is 0.17, one simulated session at
    ``P_t = 8``).
    This is the estimand of the ``kernel-learning-curve`` model, ``E_g`` of kernel regression in units of
    the target variance (a centred target, ``sum v_k^2 = 1``), when the training-stimulus conditions are the
    examples the readout learned from and ``target`` is the regressed quantity itself (a continuous column,
    not its sign), with one difference: the model's learner knows the target's mean (0), the readout spends
    one of its ``P_t`` conditions estimating it, so it reads the model at about ``P_t - 1`` examples (on the
    simulated network, 20 seeds: 0.205 at ``P_t = 8`` where the model gives 0.21 at 7 and 0.19 at 8; 0.102 at
    16, model 0.103 at 15, 0.097 at 16; the difference is below the noise from ``P_t = 16`` on).
    Trial noise in the held-out means adds
    ``w^T Sigma_h w / n_h`` to their squared error (``w`` the readout's neuron weights); it is estimated from
    the within-condition spread of ``w . r`` and removed, so the estimate is unbiased for the noiseless
    held-out responses (it can fall below 0 by its sampling noise). Trial noise in the training means stays:
    it is part of what the readout learned from.

``method="behavior"`` (the animal's generalisation; ``grokking``)
    ``generalization_error = 1 - fraction correct on held-out trials``. The ``grokking`` model links
    behaviour to loss as ``behavior = 1 - L/L0`` (no chance or ceiling parameter), so the error on held-out
    trials is ``L_test / L0``, its ``generalization_error``. (The network's own readout of its hidden layer
    is fixed and unknown to an experimenter, and a readout trained on the few recorded training stimuli
    measures something else: on the simulated network (20 trained and 20 held-out probes, 60 units) it reads
    1.8 before training, where ``L_test / L0 = 1``, and 0.07 where the network's test loss is 0.018.)

Chance (``method="readout"``): ``generalization_error_chance`` is the mean error over permutations of the target
across the training conditions (the held-out targets, the responses and the normaliser unchanged; all of the
permutations up to 200 of them, 5 training conditions, else 200 drawn), refitting the readout each time
(:func:`~neurolearn.stats.heldout_readout.readout_null`). For responses carrying no stimulus information the
condition responses are exchangeable, so the observed error has the distribution of the permuted ones: the chance
level is its expectation at this session's shape and held-out targets, which is not 1 (a readout of noise adds
its own variance; with few held-out conditions, their targets' distance from the training mean decides much of
it), and ``generalization_error_pvalue`` (the fraction of permutations at or below the observed error, the
observed labelling counted once) is a valid one-sided test. A value below chance is information that
generalises; one at chance cannot be told from no information. On untuned Poisson populations (log-normal rates,
2-10 trials, 4-16 conditions, 2-4 held out; 400 sessions) the value minus its chance level averaged -0.006 +-
0.039 and 0.037 +- 0.009 of the p-values were at or below 0.05 (conservative: with few training conditions the
permutations are few). The test has less power than the distance from chance suggests: a permuted readout
interpolates its labels with large weights, whose held-out trial-noise correction spreads the null (median p
0.10 for a tuned population reading 0.001 against chance 1.45, 9 training and 3 held-out conditions). The
permutations draw from a jump of the session's random stream: every bootstrap replicate is what it was without
them.

A value whose interval holds both 0 (perfect generalisation) and its chance level is kept with the flag
``UNRESOLVED``: the held-out conditions resolve neither generalisation nor its absence. With two held-out conditions
the interval covers but spans about [0, 4]: Poisson counts of 40 log-normal-rate neurons, 8 conditions, 5 trials,
targets uniform with variance 1, 200 sessions each, against the error of the session's readout on new
stimuli (noiseless, the training stimuli fixed): untuned, coverage 0.945 +- 0.016 (median interval [-1.11,
4.03] before clipping at 0, flagged 0.91); tuning gain 0.1, 0.990 +- 0.007 ([-1.05, 3.03], flagged 0.93;
``training_set="fixed"`` 0.945 +- 0.016, [-0.24, 2.40], flagged 0.67); gain 0.2, 0.990 +- 0.007 ([-0.77, 1.60],
flagged 0.73). With four held out (and so four training conditions fewer) the flag falls to 0.61 (untuned) and
0.71 (gain 0.1), coverage 0.980 +- 0.010 both. The interval is kept as it is (it covers); the flag says it tells
nothing apart.

Every session also gets ``heldout_behavior``, the fraction correct on held-out trials, where a behaviour column
exists. Its estimand is the expected fraction correct on held-out stimuli of that kind: the held-out stimuli are a
sample of the task's novel stimuli (generalisation is to new stimuli in general, not to these few), so its SE and
interval are :func:`~neurolearn.stats.behavior.behavior_estimate`'s with ``by``, clustered by held-out stimulus
(the CR2 SE, Wilson's interval at the effective trial count, Student t on ``C_eff - 1`` degrees of freedom), as
``behavior``'s over its stimuli. One held-out stimulus with an outcome is NaN with the reason (it has no spread to
estimate); two give an interval on 1 degree of freedom, about 0.8 wide. Coverage of the task's held-out accuracy
(benchmarks/bench_behavior_coverage.py --heldout, 8 training + H held-out stimuli of Beta(1.5, 0.5) or
Beta(3.5, 1.5) accuracy, 2, 5, 10 or 2-10 trials each, 200 sessions a cell, binomial SE 0.015): H = 4-8,
0.935-0.995 (the per-trial binomial interval it replaced: 0.675-0.945, falling as trials grow, since the binomial SE
shrinks and the stimuli's spread does not); H = 2, 0.86-1.00 at width 0.75-0.86 (was 0.62-0.94).

Intervals: ``method="readout"`` bootstraps each session independently (trials resampled within every
condition, held-out conditions resampled), replicates in ``generalization_error_boot`` (attr
``resampling="independent"``), percentile intervals re-centred on the estimate. Which stimuli were trained on
is treated as a sample too: every replicate adds independent normal noise with the leave-one-training-
condition-out jackknife variance (:mod:`neurolearn.stats.heldout_readout`). That term dominates the SE and is
conservative: on the kernel-learning-curve network (140 probes, 10-100 trained) it is 2-3 times the spread of
one learner's error over training sets
(:func:`neurolearn.theory.learning_curve.learning_curve_covariance`). Sessions that share stimuli (one
animal's nested training sets, overlapping held-out sets) have errors correlated 0.8-0.99 from session to
session, which these independent replicates do not carry (benchmarks/bench_klc_recovery.py). The SE with
the training stimuli held fixed (the same replicates without the jackknife noise) is kept per session in the
coord ``generalization_error_fixed_se``, whichever ``training_set`` is chosen: a fit that adds the model's
learner covariance (one learner's scatter over training sets, the same source of variability) weights by it in
place of ``generalization_error_se`` so that the training set is counted once
(:mod:`neurolearn.fitting.training_set`); the statistic's own SE and interval stay those of the default.
``method="behavior"``: ``1 -`` ``heldout_behavior``, with its SE (clustered by held-out stimulus,
Agresti-Coull floor) and interval, normal replicates with that SE; NaN where ``heldout_behavior`` is.

A session without the held-out column (where other sessions have it), without held-out trials, without
training-stimulus trials (readout), with a held-out flag that is not constant within a condition (then
``heldout_behavior`` too: a stimulus partly marked held out was used in training), without a target, or
whose target is constant over the conditions (readout) is NaN with the reason in
``generalization_error_flag``
and one :class:`~neurolearn.stats.flags.StatisticWarning`; nothing is raised for one session's problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from neurolearn.data import CI_BOUND, NEURON, SESSION, TRIAL, ci_name, flag_name, se_name
from neurolearn.errors import DataError, InsufficientDataError, shown
from neurolearn.stats.behavior import coding_column, heldout_behavior_estimate
from neurolearn.stats.flags import warn_unsupported
from neurolearn.stats.heldout_trials import heldout_mask
from neurolearn.stats.heldout_readout import (
    N_PERMUTATIONS,
    bootstrap_draws,
    readout_generalization_error,
    readout_layout,
    readout_null,
    readout_session,
)

__all__ = ["generalization_summary", "heldout_mask", "readout_generalization_error", "prepare_generalization",
           "generalization_session", "combine_generalization", "GeneralizationContext"]

NAME = "generalization_error"
HELDOUT_BEHAVIOR = "heldout_behavior"
BOOTSTRAP = "bootstrap"
METHODS = ("readout", "behavior")
#: ``training_set`` of the readout's intervals: the training stimuli as a sample (jackknife spread added to the
#: replicates), or fixed (trials and held-out stimuli only: the error of the readout trained on these stimuli)
TRAINING_SETS = ("jackknife", "fixed")
#: Coord on ``session`` (``method="readout"``): the SE with the training stimuli held fixed, whatever
#: ``training_set`` is. A coord, not a statistic: a fit carries a statistics' session coords into its problem,
#: and one that adds the model's learner covariance weights by this SE in place of ``generalization_error_se``
#: (:mod:`neurolearn.fitting.training_set`).
FIXED_SE = "generalization_error_fixed_se"
FIXED_SE_DESCRIPTION = ("bootstrap SE of generalization_error with the training stimuli held fixed (trials "
                        "and held-out stimuli resampled; the training-set jackknife left out)")
#: Coord on ``session``: how many conditions (distinct ``by`` values) of the session are training stimuli (not
#: held out). A model whose time is the training set's size (``kernel-learning-curve``) is told when it never
#: changes (:func:`neurolearn.fitting.training_set.training_set_unchanged`).
TRAINING_CONDITIONS = "generalization_training_conditions"
TRAINING_CONDITIONS_DESCRIPTION = ("conditions of the session not held out (distinct values of the condition "
                                   "column among trials the held-out column does not mark)")

CHANCE_DESCRIPTION = (f"mean generalization_error over permutations of the target across the training conditions "
                      f"(all of them up to {N_PERMUTATIONS}, else {N_PERMUTATIONS} drawn): its expectation for "
                      "responses carrying no stimulus information, at this session's shape and held-out targets")
#: flag of a value kept whose interval holds both 0 and the chance level (too few held-out conditions, mostly)
UNRESOLVED = ("the interval holds both 0 (perfect generalisation) and generalization_error_chance (none): the "
              "held-out conditions resolve neither (value kept)")
PVALUE_DESCRIPTION = ("one-sided permutation p-value: the fraction of those permutations whose error is at or below "
                      "the observed one (the observed labelling counted once)")


def generalization_summary(
    recordings: dict[str, xr.DataArray],
    *,
    target,
    by: str,
    heldout="heldout",
    method: str = "readout",
    behavior="correct",
    ridge: float = 0.0,
    n_boot: int = 200,
    random_state=None,
    level: float = 0.95,
    training_set: str = "jackknife",
) -> xr.Dataset:
    """``generalization_error`` (and ``heldout_behavior``) of every session -> Dataset over ``session``.

    Parameters
    ----------
    recordings : dict of str -> xarray.DataArray
        Sessions (``trial`` x ``neuron``; a ``time`` dim is averaged over), in training order.
    target : str or None
        Trial column with the regressed quantity (``method="readout"``); None: every session is flagged.
    by : str
        Trial column defining conditions (stimuli).
    heldout : str or mapping
        The held-out column (see :func:`heldout_mask`).
    method : {"readout", "behavior"}
        Which generalisation error (see the module docstring): of a linear readout of the representation
        (``kernel-learning-curve``), or ``1 -`` held-out fraction correct (``grokking``).
    behavior : str, mapping or None
        Behaviour column (as :func:`neurolearn.summarize`'s ``behavior``), for ``heldout_behavior`` and
        ``method="behavior"``.
    ridge : float
        Readout ridge relative to the kernel's mean diagonal (0: minimum-norm interpolant).
    n_boot : int
        Bootstrap replicates per session (0: NaN SE and interval, no ``_boot`` variable).
    random_state : int or numpy.random.Generator, optional
    level : float
        Interval coverage.
    training_set : {"jackknife", "fixed"}
        ``method="readout"``: whether the replicates also carry the training set's variability (the default:
        independent normal noise with the leave-one-training-condition-out jackknife variance), or resample
        only the trials and the held-out stimuli (``"fixed"``: the estimand is the error of the readout trained
        on *these* stimuli). The random draws are the same either way; the point estimates are identical.
        A fit does not need ``"fixed"``: where it adds the model's learner covariance it reads the
        fixed-training-set SE from the coord ``generalization_error_fixed_se``, which both choices store.

    Returns
    -------
    xarray.Dataset
        Over ``session``: ``generalization_error``, ``_se``, ``_ci`` (dim ``ci_bound``), ``_flag`` and
        ``generalization_error_boot`` (dims ``session, bootstrap``, attr ``resampling="independent"``); with a
        behaviour column also ``heldout_behavior``, ``_se``, ``_ci``, ``_flag``. With ``method="readout"`` also
        ``generalization_error_chance`` and ``_pvalue`` (the permutation null; a flag ``UNRESOLVED`` on a value
        kept whose interval holds both 0 and the chance level). With ``method="readout"``
        and ``n_boot > 0`` also the coord ``generalization_error_fixed_se`` on ``session``: the SE with the
        training stimuli held fixed (equal to ``_se`` with ``training_set="fixed"``), which
        :func:`neurolearn.fit` uses in place of ``_se`` where it adds a model's learner covariance.

    Raises
    ------
    DataError
        Bad options, or a ``heldout``/``behavior`` column missing or miscoded (the user's to fix).

    Examples
    --------
    >>> from neurolearn.simulate.two_layer import simulate_readout_learning_sessions
    >>> tree, truth = simulate_readout_learning_sessions(n_sessions=4, n_conditions=60, n_neurons=300,
    ...                                                  trained_probes=True, rng=0)
    >>> recs = {k: c.dataset["responses"] for k, c in tree.children.items()}
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # session 0 has no training stimuli: NaN with its reason
    ...     ds = generalization_summary(recs, target="target_value", by="stimulus", n_boot=50, random_state=0)
    >>> str(ds["generalization_error_flag"].values[0])
    'no training-stimulus trials (heldout marks every trial held out)'
    >>> bool(ds["generalization_error"][3] < ds["generalization_error"][1] < 1.0)
    True
    >>> "generalization_error_fixed_se" in ds.coords  # the SE a fit adding the learner covariance weights by
    True
    >>> bool(ds["generalization_error"][3] < ds["generalization_error_chance"][3])  # below chance: it generalises
    True
    """
    # prepare_generalization checks the options
    context = prepare_generalization(recordings, target=target, by=by, heldout=heldout, method=method,
                                     behavior=behavior, ridge=ridge, n_boot=n_boot, random_state=random_state,
                                     level=level, training_set=training_set)
    parts = [generalization_session(key, rec, context) for key, rec in zip(context.keys, recordings.values())]
    return combine_generalization(parts, context)


@dataclass(frozen=True)
class GeneralizationContext:
    """What the sessions share and what coords alone decide: per session the held-out mask, the held-out
    behaviour, the reason known before any response is read, and the state the random stream has when the
    session's bootstrap starts (the stream runs through the sessions in order, as if computed one by one)."""

    keys: tuple
    target: object
    by: str
    heldout: object
    method: str
    ridge: float
    n_boot: int
    level: float
    has_behavior: bool
    masks: dict
    behavior: dict
    reasons: dict
    streams: dict
    bit_generator: type
    training_set: str = "jackknife"
    training_conditions: dict = field(default_factory=dict)


def prepare_generalization(recordings, *, target, by, heldout="heldout", method="readout", behavior="correct",
                           ridge=0.0, n_boot=200, random_state=None, level=0.95,
                           training_set="jackknife") -> GeneralizationContext:
    """Options checked, and everything coords decide (no response is read): a
    :class:`GeneralizationContext`.

    Examples
    --------
    >>> rec = xr.DataArray(np.zeros((4, 1)), dims=("trial", "neuron"),
    ...                    coords={"stimulus": ("trial", [0, 0, 1, 1]), "target": ("trial", [1.0, 1, -1, -1]),
    ...                            "heldout": ("trial", [False, False, True, True])})
    >>> prepare_generalization({"s": rec}, target="target", by="stimulus", behavior=None).masks["s"].tolist()
    [False, False, True, True]
    """
    if method not in METHODS:
        raise DataError(f"method: expected one of {METHODS}, found {method!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise DataError(f"n_boot: expected a non-negative integer, found {shown(n_boot)}")
    if not 0 < level < 1:
        raise DataError(f"level: expected a coverage in (0, 1), found {shown(level)}")
    if not (np.isfinite(ridge) and ridge >= 0):
        raise DataError(f"ridge: expected a non-negative number, found {shown(ridge)}")
    if method == "behavior" and behavior is None:
        raise DataError("method='behavior' needs a behaviour column (behavior=)")
    if not (isinstance(training_set, str) and training_set in TRAINING_SETS):
        raise DataError(f"training_set: expected one of {TRAINING_SETS}, found {training_set!r}")
    rng = np.random.default_rng(random_state)
    keys = tuple(str(k) for k in recordings)
    has_behavior = behavior is not None and any(coding_column(behavior) in rec.coords
                                                for rec in recordings.values())
    heldout_column = next(iter(heldout)) if isinstance(heldout, Mapping) else heldout
    with_column = [k for k, rec in enumerate(recordings.values()) if heldout_column in rec.coords]
    first_with_column = with_column[0] if with_column else 0  # none: the first session raises the reason
    masks, behave, reasons, streams, training_conditions = {}, {}, {}, {}, {}
    for k, (key, rec) in enumerate(zip(keys, recordings.values())):
        rec = _coords_only(rec)
        if heldout_column not in rec.coords and k != first_with_column:
            # other sessions have the column: this one's problem, not the user's option
            reasons[key] = f"no held-out column {heldout_column!r} in this session"
            behave[key] = (np.nan, np.nan, (np.nan, np.nan), reasons[key])
            continue
        mask = masks[key] = heldout_mask(rec, heldout)  # a column missing everywhere or miscoded: the user's
        training_conditions[key] = _training_condition_count(rec, mask, by)
        behave[key] = (np.nan, np.nan, (np.nan, np.nan), "")
        if has_behavior:
            try:
                behave[key] = (*heldout_behavior_estimate(rec, mask, behavior, level, by), "")
            except InsufficientDataError as error:
                behave[key] = (np.nan, np.nan, (np.nan, np.nan), str(error))
        try:
            if method == "readout":
                groups, flags, _, _ = readout_layout(rec, mask, target, by)
                streams[key] = rng.bit_generator.state
                # this session's share of the stream
                bootstrap_draws(rng, groups, np.nonzero(flags)[0], n_boot)
            else:
                if not has_behavior:
                    raise InsufficientDataError(f"no behaviour column {coding_column(behavior)!r}")
                if behave[key][3]:
                    raise InsufficientDataError(behave[key][3])
                streams[key] = rng.bit_generator.state
                rng.standard_normal(n_boot)
        except InsufficientDataError as error:
            reasons[key] = str(error)
    return GeneralizationContext(keys=keys, target=target, by=by, heldout=heldout, method=method, ridge=ridge,
                                 n_boot=n_boot, level=level, has_behavior=has_behavior, masks=masks,
                                 behavior=behave, reasons=reasons, streams=streams, bit_generator=type(rng.bit_generator),
                                 training_set=training_set, training_conditions=training_conditions)


def _training_condition_count(rec, mask, by) -> float:
    """Distinct values of ``by`` among the trials ``mask`` does not mark (NaN without a trial coord ``by``)."""
    if by not in rec.coords or rec.coords[by].dims != (TRIAL,):
        return float("nan")
    return float(np.unique(np.asarray(rec.coords[by].values)[~np.asarray(mask, dtype=bool)]).size)


def _coords_only(rec):
    """The session's coords and attrs without its responses (what every decision before the fit reads)."""
    rec = rec.isel({NEURON: slice(0, 0)}) if NEURON in rec.dims else rec
    return rec.mean("time", keep_attrs=True) if "time" in rec.dims else rec


def generalization_session(key, recording: xr.DataArray, context: GeneralizationContext):
    """One session's ``generalization_error``: (value, se, (lower, upper), replicates, fixed-training-set SE,
    chance, p-value, reason)."""
    c = context
    nan = (np.nan, np.nan, (np.nan, np.nan), np.full(c.n_boot, np.nan), np.nan, np.nan, np.nan)
    if key in c.reasons:
        return (*nan, c.reasons[key])
    bit_generator = c.bit_generator()
    bit_generator.state = c.streams[key]
    rng = np.random.Generator(bit_generator)
    try:
        if c.method == "readout":
            rec = recording.mean("time", keep_attrs=True) if "time" in recording.dims else recording
            with threadpool_limits(1):  # small matrices, many of them: threads only contend (2 shared cores)
                estimate = readout_session(rec, c.masks[key], c.target, c.by, c.ridge, c.n_boot, rng, c.level,
                                           training_jackknife=c.training_set == "jackknife")
                # the permutations draw from an independent jump of the session's stream: every bootstrap draw
                # (this session's and the next ones') is what it was without the null
                chance, pvalue, _ = readout_null(rec, c.masks[key], c.target, c.by, c.ridge,
                                                 np.random.Generator(_jumped(c, key)))
            return (*estimate, chance, pvalue, "")
        p, p_se, (lo, hi), _ = c.behavior[key]
        return (1.0 - p, p_se, (1.0 - hi, 1.0 - lo), 1.0 - p + p_se * rng.standard_normal(c.n_boot), np.nan,
                np.nan, np.nan, "")
    except InsufficientDataError as error:
        return (*nan, str(error))


def _jumped(context, key):
    """A bit generator independent of the session's bootstrap stream (a jump ahead of it, or seeded from it
    where the bit generator cannot jump)."""
    bit_generator = context.bit_generator()
    bit_generator.state = context.streams[key]
    if hasattr(bit_generator, "jumped"):
        return bit_generator.jumped()
    return np.random.PCG64(np.random.Generator(bit_generator).integers(2**63))


def combine_generalization(parts, context: GeneralizationContext, map_sessions=None) -> xr.Dataset:
    """The sessions' parts as one Dataset over ``session``; one warning per session left NaN."""
    c = context
    n, n_boot, ids = len(c.keys), c.n_boot, list(c.keys)
    value, se, ci = np.full(n, np.nan), np.full(n, np.nan), np.full((n, 2), np.nan)
    boot, fixed_se = np.full((n, n_boot), np.nan), np.full(n, np.nan)
    chance, pvalue = np.full(n, np.nan), np.full(n, np.nan)
    reasons = np.full(n, "", dtype=object)
    for k, (key, part) in enumerate(zip(ids, parts)):
        value[k], se[k], ci[k], boot[k], fixed_se[k], chance[k], pvalue[k], reasons[k] = part
        if reasons[k]:
            warn_unsupported(NAME, key, reasons[k])
    if c.method == "readout":
        # a value kept, flagged where its interval reaches from perfect generalisation to chance: it resolves
        # neither (two held-out conditions: 72-92 % of sessions; benchmarks in the module docstring)
        with np.errstate(invalid="ignore"):
            unresolved = (reasons == "") & (ci[:, 0] <= 0.0) & (ci[:, 1] >= chance)
        reasons[unresolved] = UNRESOLVED
    data_vars = {
        NAME: ((SESSION,), value),
        se_name(NAME): ((SESSION,), se),
        ci_name(NAME): ((SESSION, CI_BOUND), ci, {"level": c.level}),
        flag_name(NAME): ((SESSION,), reasons.astype(str)),
    }
    if n_boot:
        data_vars[f"{NAME}_boot"] = ((SESSION, BOOTSTRAP), boot, {"resampling": "independent"})
    if c.method == "readout":
        data_vars[f"{NAME}_chance"] = ((SESSION,), chance, {"description": CHANCE_DESCRIPTION})
        data_vars[f"{NAME}_pvalue"] = ((SESSION,), pvalue, {"description": PVALUE_DESCRIPTION})
    if c.has_behavior:
        behave = [c.behavior[key] for key in ids]
        data_vars[HELDOUT_BEHAVIOR] = ((SESSION,), np.array([b[0] for b in behave], float))
        data_vars[se_name(HELDOUT_BEHAVIOR)] = ((SESSION,), np.array([b[1] for b in behave], float))
        data_vars[ci_name(HELDOUT_BEHAVIOR)] = ((SESSION, CI_BOUND), np.array([b[2] for b in behave], float),
                                                {"level": c.level})
        data_vars[flag_name(HELDOUT_BEHAVIOR)] = ((SESSION,), np.array([b[3] for b in behave], object).astype(str))
    attrs = {"generalization_method": c.method, "heldout": str(c.heldout),
             "generalization_target": str(c.target), "generalization_ridge": float(c.ridge),
             "generalization_training_set": c.training_set,
             "generalization_estimand": (
                 "held-out MSE of a kernel ridge readout trained on the training-stimulus conditions (target "
                 "and responses centred by the training conditions' means) / variance of the target over the "
                 "conditions (held-out trial noise removed)" if c.method == "readout"
                 else "1 - fraction correct on held-out trials (the held-out stimuli a sample of the task's "
                 "novel stimuli: SE and interval clustered by held-out stimulus)")}
    coords = {SESSION: ids, CI_BOUND: ["lower", "upper"]}
    if c.method == "readout" and n_boot:
        coords[FIXED_SE] = ((SESSION,), fixed_se, {"description": FIXED_SE_DESCRIPTION})
    counts = np.array([c.training_conditions.get(key, np.nan) for key in ids], dtype=float)
    coords[TRAINING_CONDITIONS] = ((SESSION,), counts, {"description": TRAINING_CONDITIONS_DESCRIPTION})
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)
