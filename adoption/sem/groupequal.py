"""lavaan's rules for equality across groups: ``group.equal``, ``group.partial`` and
labels in multi-group models.

A multi-group fit (:mod:`adoption.sem.multigroup`) asks this module which parameter each
row of each group's parameter table is. lavaan 0.6-14 decides it by naming every row
(``lav_partable_labels``): rows with the same name are one parameter.

* A row with a user label is named by the label, in every group: a plain label
  (``a*x2``) is therefore the same parameter in all groups (lavaan warns about it), a
  vector ``c(a1, a2)*x2`` gives one label per group, ``c(a, a)*x2`` one for both.
* Otherwise a row of group 1 is named ``lhs op rhs``; a row of a later group is named
  after the group-1 row with the same ``lhs op rhs`` when the ``group.equal`` keyword of
  its kind (:func:`category`) is requested and the row is not in ``group.partial``,
  else it gets a name of its own. A user label wins over ``group.equal``.
* Latent means are free in groups 2..G when ``"intercepts"`` is in ``group.equal`` and
  ``"means"`` is not (:func:`latent_means_free`); with ``"means"`` they stay 0 in every
  group.

References
----------
lavaan 0.6-14 source: ``lav_partable_labels`` (``lav_partable_labels.R``) and the
``group.equal`` block of ``lav_partable_flat`` (``lav_partable_flat.R``).
"""

from __future__ import annotations

from adoption.errors import InputError
from adoption.vocabulary import OP_COVARIANCE, OP_INTERCEPT, OP_LOADING, OP_REGRESSION

#: lavaan's ``group.equal`` keywords supported here.
GROUP_EQUAL = ("loadings", "intercepts", "means", "residuals", "residual.covariances",
               "lv.variances", "lv.covariances", "regressions")
#: lavaan ``group.equal`` keywords refused, with the reason.
GROUP_EQUAL_NOT_SUPPORTED = {
    "thresholds": "thresholds exist only for ordinal (categorical) indicators, which this "
                  "engine does not support",
    "composite.loadings": "composites ('<~') are not supported",
}
#: The warning lavaan gives for a plain label in a multi-group model.
PLAIN_LABEL_WARNING = ("A single label per parameter in a multi-group model ({labels}) "
                       "holds the parameter equal across all groups, as in lavaan; to "
                       "label it per group write a vector of labels, e.g. c(a1, a2)*x.")


def check_group_equal(group_equal, supported: tuple[str, ...] = GROUP_EQUAL) -> tuple[str, ...]:
    """The ``group.equal`` keywords, checked.

    Parameters
    ----------
    group_equal : iterable of str
        lavaan's ``group.equal`` keywords.
    supported : tuple of str
        The keywords the fit takes (:data:`GROUP_EQUAL` for continuous indicators; the
        ordinal fit adds "thresholds").

    Raises
    ------
    InputError
        An unknown keyword, or one of :data:`GROUP_EQUAL_NOT_SUPPORTED` not in
        ``supported``, with its reason.
    """
    out = tuple(group_equal)
    for e in out:
        if e in GROUP_EQUAL_NOT_SUPPORTED and e not in supported:
            raise InputError(f"group.equal '{e}' is not supported: "
                             f"{GROUP_EQUAL_NOT_SUPPORTED[e]}.")
    unknown = [e for e in out if e not in supported]
    if unknown:
        raise InputError(f"Unknown group.equal keyword(s) {', '.join(unknown)}; use "
                         f"{', '.join(supported)}.")
    return out


def category(key: tuple, observed_nox, latent) -> str | None:
    """The ``group.equal`` keyword that covers parameter ``key`` = (lhs, op, rhs).

    Parameters
    ----------
    key : tuple
        (lhs, op, rhs); op ``~1`` for intercepts and means (rhs "").
    observed_nox : collection of str
        Observed variables that are not fixed-x predictors (lavaan's ``ov.nox``).
    latent : collection of str
        Latent variables.

    Returns
    -------
    str or None
        "loadings" (``=~``), "regressions" (``~``), "intercepts" (``~1`` of an observed
        non-x variable), "means" (``~1`` of a latent variable), "residuals" /
        "residual.covariances" (``~~`` with an observed non-x lhs, lhs == rhs / !=),
        "lv.variances" / "lv.covariances" (``~~`` with a latent lhs); None for anything
        else (fixed-x (co)variances and means), as lavaan's ``lav_partable_labels``.
    """
    lhs, op, rhs = key
    if op == OP_LOADING:
        return "loadings"
    if op == OP_REGRESSION:
        return "regressions"
    if op == OP_INTERCEPT:
        if lhs in latent:
            return "means"
        return "intercepts" if lhs in observed_nox else None
    if op == OP_COVARIANCE:
        if lhs in latent:
            return "lv.variances" if lhs == rhs else "lv.covariances"
        if lhs in observed_nox:
            return "residuals" if lhs == rhs else "residual.covariances"
    return None


def latent_means_free(group_equal) -> bool:
    """Whether the latent means of groups 2..G are free: lavaan frees them when the
    intercepts are held equal and the means are not (``lav_partable_flat``)."""
    return "intercepts" in group_equal and "means" not in group_equal


def parameter_name(key: tuple, label: str, group: int, equal_keys) -> tuple:
    """The name that identifies a row's parameter across groups (lavaan's rule).

    Parameters
    ----------
    key : tuple
        (lhs, op, rhs) of the row.
    label : str
        The row's user label in this group ("" for none).
    group : int
        0-based group index.
    equal_keys : collection of tuple
        Keys held equal across groups by ``group.equal`` (after ``group.partial``).

    Returns
    -------
    tuple
        ("label", label), ("key", key) for group 1 and the groups held equal to it, or
        ("key", key, group).
    """
    if label:
        return ("label", label)
    if group == 0 or key in equal_keys:
        return ("key", key)
    return ("key", key, group)
