"""Fitting reduced theory models to statistics: :func:`fit`, :func:`compare`, :class:`FitResult`.

The one fit layer: ``nl.fit``, ``nl.compare``, ``nl.FitResult`` ... are these names, re-exported by the
package.

One idea per module: :mod:`.problem` (model joined to statistics), :mod:`.fittable` (which statistics and
arguments a fit can use: a statistic with fewer than 2 fittable values is left out with a warning, arguments
are checked up front), :mod:`.multistart` (optimiser),
:mod:`.intervals` (profile likelihood / parametric bootstrap), :mod:`.result` (:class:`FitResult`),
:mod:`.least_squares` (:func:`fit`), :mod:`.selection` (:func:`compare`, :func:`cross_validate`),
:mod:`.synthetic` (statistics simulated from a model), :mod:`.recovery` (parameter-recovery studies).
"""

from neurolearn.fitting.least_squares import fit
from neurolearn.fitting.problem import FitWarning
from neurolearn.fitting.recovery import recovery_study, recovery_summary
from neurolearn.fitting.result import FitResult
from neurolearn.fitting.selection import compare, cross_validate
from neurolearn.fitting.synthetic import simulate_statistics

__all__ = ["fit", "compare", "cross_validate", "FitResult", "FitWarning", "simulate_statistics", "recovery_study",
           "recovery_summary"]
