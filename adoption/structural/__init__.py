"""Structural stage: the path model between constructs, its effects and their intervals.

Takes the cleaned responses and the measurement results and returns
:class:`~adoption.structural.stage.StructuralResults` (:func:`fit_structural`).

Modules, in the order of the data flow:

* :mod:`.paths` - parse the regressions, variable roles, indirect paths (:class:`PathModel`);
* :mod:`.scores` - construct scores for the path model;
* :mod:`.ols` - closed-form ML (= OLS) fit of recursive path models, batched over samples;
* :mod:`.effects` - direct, indirect and total effects and delta-method standard errors;
* :mod:`.intervals` - bootstrap interval formulas (percentile, bca.simple, BCa);
* :mod:`.bootstrap` - the batched bootstrap of the closed-form fit;
* :mod:`.refit` - the refit-per-draw bootstrap for every other model, in parallel;
* :mod:`.hypotheses` - the hypotheses table read from the fitted models;
* :mod:`.moderation` - interaction terms (products), Delta R-squared, simple slopes,
  Johnson-Neyman points;
* :mod:`.covariates` - controls and dummy-coded categorical predictors and moderators;
* :mod:`.conditional` - conditional indirect effects, index of moderated mediation;
* :mod:`.process` - PROCESS model numbers as interaction syntax;
* :mod:`.moderated` - the composite model's moderation results (used by the stage);
* :mod:`.stage` - the stage: composite and latent models, alternatives, hypotheses.

Public names: :class:`PathModel`, :func:`parse_structural`, :func:`indirect_paths`,
:class:`PathFit`, :func:`fit_path_ols`, :class:`PathEffects`, :func:`effect_definitions`,
:func:`path_effects`, :data:`CI_TYPES`, :func:`norm_inter`, :func:`percentile_interval`,
:func:`bias_corrected_interval`, :func:`jackknife_acceleration`, :class:`BootstrapEffects`,
:func:`bootstrap_path_draws`, :func:`bootstrap_effects`, :class:`OLSRefit`,
:func:`bootstrap_refit`. The stage (:func:`fit_structural`, :class:`StructuralResults`)
is imported from :mod:`.stage` (it pulls in the SEM engine).
"""

from adoption.structural.bootstrap import BootstrapEffects, bootstrap_effects, bootstrap_path_draws
from adoption.structural.effects import PathEffects, effect_definitions, path_effects
from adoption.structural.intervals import (
    CI_TYPES,
    bias_corrected_interval,
    jackknife_acceleration,
    norm_inter,
    percentile_interval,
)
from adoption.structural.ols import PathFit, fit_path_ols
from adoption.structural.paths import PathModel, indirect_paths, parse_structural
from adoption.structural.refit import OLSRefit, bootstrap_refit

__all__ = [
    "BootstrapEffects", "CI_TYPES", "OLSRefit", "PathEffects", "PathFit", "PathModel",
    "bias_corrected_interval", "bootstrap_effects", "bootstrap_path_draws",
    "bootstrap_refit", "effect_definitions", "fit_path_ols", "indirect_paths",
    "jackknife_acceleration", "norm_inter", "parse_structural", "path_effects",
    "percentile_interval",
]
