"""Readout statistics: what a linear readout of the population can do, session by session.

During overtraining behaviour saturates while the representation keeps improving ("hidden progress"). These
statistics see that progress: cross-validated decoding accuracy on single trials and on held-out stimuli, the
max-margin (linear SVM) margin of the condition means at a common neuron count and in common units, per-example
signed distances and the fraction of examples that flip from wrong to right, and a cross-validated Fisher
discriminant d'. :func:`readout_summary` gathers them over sessions in the statistics Dataset form of
:mod:`neurolearn.data`.

Cost model (why the uncertainty is computed the way it is): refitting a classifier per bootstrap resample would
make ``n_boot=1000`` a thousand times dearer than the point estimate. Accuracies and d' are therefore
bootstrapped over their *held-out predictions* (the classifiers stay fixed, resampling is a few vector sums),
and the margin, whose estimator is a fit, is refitted at most ``n_refits`` times whatever ``n_boot`` is.
Each docstring says what its interval does and does not include.

The package holds one idea per module: :mod:`.decoding` (cross-validated accuracies), :mod:`.margin` and
:mod:`.maxmargin` (the max-margin readout), :mod:`.flips`, :mod:`.fisher` (d'), :mod:`.scale` (common units),
:mod:`.summary` (:func:`readout_summary`), and the helpers :mod:`.trials` and :mod:`.intervals`.
"""

from __future__ import annotations

from neurolearn.stats.readout.decoding import decoder_accuracy, heldout_accuracy
from neurolearn.stats.readout.fisher import _shrunk_discriminant, fisher_discriminant
from neurolearn.stats.readout.flips import flip_fraction
from neurolearn.stats.readout.margin import margin, signed_distances
from neurolearn.stats.readout.maxmargin import DEFAULT_SVM_C
from neurolearn.stats.readout.scale import response_scale
from neurolearn.stats.readout.summary import readout_summary

__all__ = [
    "decoder_accuracy",
    "heldout_accuracy",
    "margin",
    "signed_distances",
    "flip_fraction",
    "fisher_discriminant",
    "response_scale",
    "readout_summary",
]
