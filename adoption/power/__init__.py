"""Monte Carlo power of the composite path model: Survey (with ``population``) -> :class:`PowerResults`.

Not a pipeline stage: a planning tool. For each sample size N and each replicate,

1. draw N clean respondents from the spec's population model, exactly as the simulator
   draws its clean rows (:meth:`adoption.simulate.population.PopulationModel.answers`: latent variables
   from the standardised paths, items cut at ``population.thresholds``), no
   contamination;
2. score the composites as the structural stage does on cleaned data (mean of each
   construct's items, reverse-keyed items recoded as ``min + max - x``);
3. fit the spec's ``structural`` model to the composites by ML, which for a recursive
   model with uncorrelated disturbances and ``fixed.x`` is equation-by-equation OLS
   (:func:`adoption.structural.ols.estimates_from_moments`; SEs from the expected
   information, as :func:`~adoption.structural.ols.fit_path_ols`);
4. compute every direct and indirect effect with its delta-method SE
   (:mod:`adoption.structural.effects`), a Wald test and the Wald interval.

Replicates run in blocks through :func:`adoption.parallel.run_tasks` (local cores or a
dask cluster). Replicate ``r`` of size N draws from ``SeedSequence([seed, N]).spawn(reps)[r]``,
so results do not depend on the backend, the worker count, the other sample sizes asked
for, or (for the first replicates) on ``reps``. Within a block the fits are batched
(one stack of covariance matrices); blocks have a fixed size, so batching never depends
on the number of workers either.

What the estimates are compared with
------------------------------------
Composites carry measurement error, so a composite-model coefficient does not estimate
the latent standardised path of ``population.paths``: it is attenuated (and an omitted
or zero latent path can be non-zero among composites). The population value of each
composite-model quantity is therefore computed *exactly* from the population model
(:func:`composite_population`): the covariance matrix of the ordinal items follows from
the bivariate normal (Plackett's identity, Gauss-Legendre quadrature), the composites'
covariance is ``W' C W``, and the path model fitted to it gives the values the estimator
converges to (its probability limit). Bias, relative bias and coverage refer to those;
the spec's latent value is reported beside them (``latent``) for orientation.

Interactions: an ``X:W`` term in ``structural`` is fitted as the product of the
mean-centred composites (:func:`composite_scores`), reported as the direct effect
``direct_X_x_W_Y``. Its population value needs fourth moments of the items, so with
interaction terms the composite covariance comes from one large sample
(:data:`MC_POPULATION_N` respondents, fixed seed) instead of the exact formula.

Modules
-------
* :mod:`.population` - the design (:func:`power_design`) and the exact population values
  (:func:`composite_population`, :func:`ordinal_item_covariance`);
* :mod:`.inference` - batched ML fits and delta-method effects of a stack of samples;
* :mod:`.analysis` - the replicates in parallel and their summary (:func:`power_analysis`);
* :mod:`.results` - :class:`PowerResults`, :func:`n_for_power`, :func:`power_summary`;
* :mod:`.figures` - power curves (plotly, SVG, PNG);
* :mod:`.files` - the output folder, written atomically (:func:`write_power`,
  :func:`run_power`).

Public names: those in ``__all__`` below.
"""

from adoption.power.analysis import BLOCK, DEFAULT_NS, parse_ns, power_analysis
from adoption.power.figures import power_figure, power_png, power_svg
from adoption.power.files import run_power, write_power
from adoption.power.inference import batched_path_inference, effect_gradients_batch
from adoption.power.population import (
    MC_POPULATION_N,
    PowerDesign,
    composite_population,
    composite_scores,
    ordinal_item_covariance,
    power_design,
)
from adoption.power.results import (
    N80_COLUMNS,
    POWER_COLUMNS,
    PowerResults,
    n80_label,
    n_for_power,
    power_summary,
)

__all__ = [
    "PowerResults", "PowerDesign", "POWER_COLUMNS", "N80_COLUMNS", "DEFAULT_NS", "BLOCK",
    "power_analysis", "power_design", "composite_population", "composite_scores",
    "MC_POPULATION_N", "ordinal_item_covariance",
    "batched_path_inference", "effect_gradients_batch", "n_for_power", "power_summary",
    "write_power",
    "power_figure", "power_svg", "power_png", "parse_ns", "run_power", "n80_label",
]
