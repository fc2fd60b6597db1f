"""Structural stage: path model, direct/indirect/total effects, bootstrap intervals.

* :mod:`.paths` - parse the regressions, variable roles, indirect paths;
* :mod:`.effects` - effects and delta-method standard errors;
* :mod:`.bootstrap` - closed-form ML fit of recursive path models, batched bootstrap,
  percentile / bca.simple / BCa intervals, and a refit-per-draw fallback.
"""

from adoption.structural.bootstrap import (
    BootstrapEffects,
    OLSRefit,
    PathFit,
    bootstrap_effects,
    bootstrap_path_draws,
    bootstrap_refit,
    fit_path_ols,
)
from adoption.structural.effects import PathEffects, effect_definitions, path_effects
from adoption.structural.paths import PathModel, indirect_paths, parse_structural

__all__ = [
    "BootstrapEffects", "OLSRefit", "PathEffects", "PathFit", "PathModel",
    "bootstrap_effects", "bootstrap_path_draws", "bootstrap_refit", "effect_definitions",
    "fit_path_ols", "indirect_paths", "parse_structural", "path_effects",
]
