"""Simulated survey exports: Survey (with a ``population`` section) -> :class:`SimulatedExport`.

Not a pipeline stage: a test bench. :func:`simulate` draws respondents from the spec's
population model and contaminates some of them the way real exports are contaminated
(careless rows, a duplicated submission, missing answers, PII); :func:`write_export`
writes the result as an SPSS, CSV (Google Forms style) or Excel file. The truth record
says which data rows received which contamination, so the cleaning stage's flow table can
be compared with what was injected.

Modules:

* :mod:`.population` - the population model (:func:`parse_paths`,
  :func:`implied_covariance`, :class:`PopulationModel`, :func:`population_model`);
* :mod:`.draw` - :func:`simulate`: the rows of each contamination kind and the truth
  record (:class:`Truth`, :class:`SimulatedExport`);
* :mod:`.rules` - which screening rules a simulated row breaks (the screening stage's
  statistics);
* :mod:`.columns` - id, PII, demographics, questionnaire order, labels;
* :mod:`.export` - :func:`write_export`.

Public names: those in ``__all__`` below.
"""

from adoption.simulate.draw import (
    ALLOWED_REASONS,
    CONTAMINATION_DEFAULTS,
    EXPECTED_REASON,
    KINDS,
    SimulatedExport,
    Truth,
    simulate,
)
from adoption.simulate.export import write_export
from adoption.simulate.population import (
    PopulationModel,
    implied_covariance,
    parse_paths,
    population_model,
)

__all__ = [
    "ALLOWED_REASONS", "CONTAMINATION_DEFAULTS", "EXPECTED_REASON", "KINDS", "PopulationModel",
    "SimulatedExport", "Truth", "implied_covariance", "parse_paths", "population_model",
    "simulate", "write_export",
]
