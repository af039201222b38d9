"""Parameter: the declaration of which bounds are natural limits of the quantity, and its validation."""

import numpy as np
import pytest

from neurolearn.errors import FitError
from neurolearn.theory import MODELS, Parameter


def test_bounds_are_search_edges_unless_declared_natural():
    assert Parameter("gamma0", 1.0, (1e-3, 100.0), "richness", log_scale=True).natural == (False, False)
    declared = Parameter("ceiling", 1.0, (0.0, 1.0), "fraction correct", natural=(True, np.True_))
    assert declared.natural == (True, True) and all(type(n) is bool for n in declared.natural)


@pytest.mark.parametrize("natural", [(True,), (True, False, True), [True, False], (1, 0), ("yes", "no"), True])
def test_a_natural_declaration_that_is_not_two_bools_is_refused(natural):
    with pytest.raises(FitError, match=r"parameter p: natural must be two bools \(lower, upper\), found "):
        Parameter("p", 0.5, (0.0, 1.0), "", natural=natural)


@pytest.mark.parametrize("model, name, natural", [
    ("lazy-rich", "ceiling", (True, True)),     # a fraction correct lies in [0, 1]
    ("lazy-rich", "chance", (True, True)),
    ("lazy-rich", "d_eff", (True, False)),      # at least one dimension; 1000 is only where the search stops
    ("lazy-rich", "gamma0", (False, False)),    # [1e-3, 100] is a search range
    ("transfer", "rho", (True, True)),          # an overlap (correlation) in [-1, 1]
    ("transfer", "d_eff", (False, False)),      # its floor is 2, not the limit 1
    ("learning-rule", "feedback", (False, True)),  # sqrt(1 - feedback^2): a correlation; negative is anti-aligned
    ("overtraining", "lapse", (True, False)),   # searched up to 0.5, a lapse rate could be larger
    ("overtraining", "margin_initial", (False, False)),  # a signed margin can be negative
    ("kernel-learning-curve", "noise", (True, False)),  # a noise variance may exceed the target's
    ("capacity", "radius_initial", (True, False)),
    ("integrator", "rho_star", (False, False)),  # 0.995, not the limit 1
])
def test_registered_models_declare_natural_limits_only_where_no_value_beyond_has_meaning(model, name, natural):
    assert MODELS[model].params[name].natural == natural


def test_every_natural_bound_is_a_limit_of_its_kind():
    # the limits a natural bound can be: 0 (fractions, variances, radii, rates of lapse), 1 (fractions; a dimension
    # or participation ratio from below), -1 (a correlation from below); never an arbitrary search edge
    for model in MODELS.values():
        for p in model.parameters:
            for side, (natural, bound) in enumerate(zip(p.natural, p.bounds)):
                if natural:
                    assert bound in ((0.0, 1.0, -1.0) if side == 0 else (1.0,)), (model.name, p.name, p.bounds)
