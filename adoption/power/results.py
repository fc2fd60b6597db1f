"""Results of the power analysis and their summaries: :class:`PowerResults`, the smallest
N reaching the target power (:func:`n_for_power`) and the per-effect summary table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ['POWER_COLUMNS', 'N80_COLUMNS', 'PowerResults', 'n_for_power', 'n80_label', 'power_summary']


#: Columns of :attr:`PowerResults.power`.
POWER_COLUMNS: tuple[str, ...] = (
    "name", "effect", "source", "target", "path", "n", "reps", "n.ok",
    "latent", "population", "population.std",
    "mean.est", "bias", "rel.bias", "sd.est", "mean.se", "se.ratio", "mean.std", "bias.std",
    "power", "power.mcse", "coverage", "coverage.mcse",
)

#: Columns of :attr:`PowerResults.n80`.
N80_COLUMNS: tuple[str, ...] = (
    "name", "effect", "source", "target", "path", "latent", "population", "population.std",
    "target.power", "n80", "n80.status",
)


# -------------------------------------------------------------------------------------
# results
# -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PowerResults:
    """Monte Carlo power of the composite path model.

    Attributes
    ----------
    power : DataFrame
        One row per effect and sample size, columns :data:`POWER_COLUMNS`:
        ``name`` (``direct_X_Y``, ``ind_X_M_Y``), ``effect`` (direct / indirect),
        ``source``, ``target``, ``path`` (``"X -> M -> Y"``), ``n``, ``reps``
        (replicates run), ``n.ok`` (replicates fitted; a replicate with collinear
        composites is dropped), ``latent`` (the spec's standardised latent value of the
        same path product), ``population`` (the composite model's population value,
        unstandardised, see :func:`composite_population`), ``population.std`` (its
        std.all), ``mean.est``, ``bias`` (``mean.est - population``), ``rel.bias``
        (``bias / population``; NaN when the population value is 0), ``sd.est`` (SD of
        the estimates over replicates), ``mean.se`` (mean delta-method / ML SE),
        ``se.ratio`` (``mean.se / sd.est``), ``mean.std`` (mean std.all estimate),
        ``bias.std`` (``mean.std - population.std``), ``power`` (share of replicates
        with a two-sided Wald p < alpha), ``power.mcse`` (its Monte Carlo SE,
        ``sqrt(p (1 - p) / n.ok)``), ``coverage`` (share of Wald intervals at
        ``level`` that contain ``population``) and ``coverage.mcse``.
    n80 : DataFrame
        One row per effect, columns :data:`N80_COLUMNS`: ``n80`` is the smallest N with
        power at ``target.power`` (see :func:`n_for_power`), ``n80.status`` one of
        ``"interpolated"``, ``"reached at the smallest N"`` (then ``n80`` is that N, an
        upper bound) or ``"not reached"`` (``n80`` NaN: more than the largest N).
    replicates : DataFrame
        Every replicate: ``n, rep, name, est, se, pvalue, std.all`` (long format).
    settings : dict
        ``ns, reps, seed, alpha, level, target_power, effects, syntax, population_paths,
        population_method, block, backend, seconds``.
    """

    power: pd.DataFrame
    n80: pd.DataFrame
    replicates: pd.DataFrame
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain JSON-ready content of the output's ``results.json`` (no replicates)."""
        return {"settings": self.settings,
                "power": self.power.to_dict(orient="records"),
                "n80": self.n80.to_dict(orient="records")}


def n_for_power(ns: Sequence[int], power: Sequence[float], target: float = 0.8,
                reps: int | None = None) -> tuple[float, str]:
    """Smallest N whose power reaches ``target``, interpolated between the Ns run.

    Parameters
    ----------
    ns : increasing sample sizes.
    power : the power at each.
    target : float
    reps : replicates behind each power (to keep the probit finite: powers are clipped
        to ``[1/(2 reps), 1 - 1/(2 reps)]``).

    Returns
    -------
    (n, status)
        ``status`` is ``"interpolated"`` (between the last N below ``target`` and the
        first N at or above it), ``"reached at the smallest N"`` (``n`` = that N: an
        upper bound) or ``"not reached"`` (``n`` NaN).

    Notes
    -----
    For a Wald test, power is about ``Phi(delta sqrt(N) - z_{1-alpha/2})``, so
    ``Phi^{-1}(power)`` is close to linear in ``sqrt(N)``; the interpolation is linear on
    those scales (the same as G*Power's normal approximation locally). The first
    crossing is taken, so Monte Carlo wiggles above the target are not smoothed over.
    """
    ns = np.asarray(ns, float)
    pw = np.asarray(power, float)
    hit = np.flatnonzero(pw >= target)
    if not hit.size:
        return math.nan, "not reached"
    k = int(hit[0])
    if k == 0:
        return float(ns[0]), "reached at the smallest N"
    eps = 0.5 / reps if reps else 1e-6
    z = stats.norm.ppf(np.clip(pw[k - 1:k + 1], eps, 1 - eps))
    zt = stats.norm.ppf(target)
    x = np.sqrt(ns[k - 1:k + 1])
    if z[1] <= z[0]:
        return float(ns[k]), "interpolated"
    xs = x[0] + (zt - z[0]) * (x[1] - x[0]) / (z[1] - z[0])
    return float(np.clip(xs ** 2, ns[k - 1], ns[k])), "interpolated"


def n80_label(n80: float, status: str, ns: Sequence[int]) -> str:
    """Display text for one row of :attr:`PowerResults.n80` (``"263"``, ``"<= 150"``,
    ``"> 500"``); rounding up to a whole respondent happens here, not in the table."""
    if status == "not reached":
        return f"> {max(ns)}"
    if status == "reached at the smallest N":
        return f"<= {min(ns)}"
    return f"{math.ceil(n80 - 1e-9)}"


def power_summary(results: PowerResults) -> pd.DataFrame:
    """One row per effect for a terminal or report table (numbers unrounded).

    Returns
    -------
    DataFrame
        ``name, effect, path, latent, population, population.std``, one column
        ``power@N`` per sample size, ``n80`` and ``n80.label`` (:func:`n80_label`).
    """
    t = results.power
    wide = t.pivot(index="name", columns="n", values="power")
    wide.columns = [f"power@{n}" for n in wide.columns]
    ns = results.settings.get("ns") or sorted(t["n"].unique())
    out = results.n80[["name", "effect", "path", "latent", "population", "population.std"]]
    out = out.merge(wide, left_on="name", right_index=True, how="left")
    out["n80"] = results.n80["n80"].to_numpy()
    out["n80.label"] = [n80_label(n, st, ns) for n, st in
                        zip(results.n80["n80"], results.n80["n80.status"])]
    return out.reset_index(drop=True)
