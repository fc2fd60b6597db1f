"""The project's one vocabulary: lavaan's names.

Parameter tables use the columns of lavaan's ``parameterEstimates()`` and fit measures
the names of lavaan's ``fitMeasures()``. Every module that builds such a table takes the
names from here.
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
