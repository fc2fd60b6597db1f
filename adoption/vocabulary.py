"""The project's one vocabulary: lavaan's names, and the constants every stage shares.

Parameter tables use the columns of lavaan's ``parameterEstimates()`` and fit measures
the names of lavaan's ``fitMeasures()``. Every module that builds such a table takes the
names from here. So do the estimator list (:data:`ESTIMATORS`), the default random seed
(:data:`DEFAULT_SEED`) and the exclusion reasons of the cleaning stage (``REASON_*``).
"""

from __future__ import annotations

#: Columns of a parameter table, as ``lavaan::parameterEstimates(fit, standardized=TRUE)``.
PARAMETER_COLUMNS: tuple[str, ...] = (
    "lhs", "op", "rhs", "est", "se", "z", "pvalue", "ci.lower", "ci.upper", "std.all",
)

#: Delta-method inference on ``std.all`` (lavaan's ``se``, ``z``, ``pvalue``, ``ci.lower``,
#: ``ci.upper`` of ``standardizedSolution(type = "std.all")``), appended to an estimates
#: table after its ``std.all`` column.
STD_ALL_COLUMNS: tuple[str, ...] = (
    "std.all.se", "std.all.z", "std.all.pvalue", "std.all.ci.lower", "std.all.ci.upper",
)

#: Fit measures reported for every model, named as ``lavaan::fitMeasures()``.
FIT_MEASURES: tuple[str, ...] = (
    "npar", "chisq", "df", "pvalue", "baseline.chisq", "baseline.df",
    "cfi", "tli", "nfi", "rmsea", "rmsea.ci.lower", "rmsea.ci.upper", "rmsea.pvalue",
    "srmr", "gfi", "agfi", "aic", "bic", "logl",
)

#: Extra fit measures under a robust estimator (MLM, MLR), as lavaan names them.
ROBUST_FIT_MEASURES: tuple[str, ...] = (
    "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
    "baseline.chisq.scaled", "baseline.df.scaled", "baseline.pvalue.scaled",
    "baseline.chisq.scaling.factor",
    "cfi.scaled", "tli.scaled", "cfi.robust", "tli.robust",
    "rmsea.scaled", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled",
    "rmsea.robust", "rmsea.ci.lower.robust", "rmsea.ci.upper.robust",
)

#: Estimators of models of items treated as continuous (lavaan's names).
CONTINUOUS_ESTIMATORS: tuple[str, ...] = ("ML", "MLM", "MLR")
#: Estimators of models of ordered-category items (lavaan's ``ordered =`` route).
ORDINAL_ESTIMATORS: tuple[str, ...] = ("WLSMV", "ULSMV")
#: Every estimator a run accepts (``--estimator``, the spec's ``estimator``).
ESTIMATORS: tuple[str, ...] = CONTINUOUS_ESTIMATORS + ORDINAL_ESTIMATORS

#: The default random seed of every random computation (bootstrap, simulation, parallel
#: analysis, power): ``--seed`` and every function's ``seed=`` default.
DEFAULT_SEED: int = 20261125

#: Exclusion reasons of the cleaning stage (:data:`adoption.clean.REASON_ORDER` gives
#: their order), as the flow table, the exclusion log and the report name them.
REASON_FILTER = "outside the filter"
REASON_NO_ANSWER = "no item answered"
REASON_DUPLICATE_ID = "duplicate id"
REASON_IDENTICAL = "identical submission"
REASON_ATTENTION = "failed attention check"
REASON_TOO_FAST = "too fast"
REASON_TOO_MANY_MISSING = "too many missing answers"
REASON_STRAIGHT_LINING = "straight-lining"
REASON_LOW_VARIABILITY = "low response variability"
REASON_OUTLIER = "multivariate outlier"
REASON_LISTWISE = "incomplete (listwise deletion)"

#: Operators of lavaan's model syntax.
OP_LOADING = "=~"
OP_REGRESSION = "~"
OP_COVARIANCE = "~~"
OP_INTERCEPT = "~1"
OP_DEFINED = ":="

#: Expected signs of hypotheses ("+" / "-" in the spec) as words in tables: a lone sign
#: is easy to misread in print and shows a guarding apostrophe in some CSV readers.
SIGN_WORDS: dict[str | None, str] = {"+": "positive", "-": "negative", "−": "negative", None: "any"}


def sign_word(sign: str | None) -> str:
    """An expected sign as a word: '+' -> 'positive', '-' -> 'negative', None -> 'any'."""
    if isinstance(sign, float) and sign != sign:     # NaN from a DataFrame
        sign = None
    return SIGN_WORDS.get(sign, str(sign))
