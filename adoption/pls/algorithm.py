"""The PLS algorithm on item correlation matrices, batched over a leading axis.

Every PLS estimate of standardised indicators is a function of the item correlation
matrix ``S`` alone: a construct score is ``Z w`` with ``w' S_bb w = 1``, so construct
correlations are ``W' S W``, the covariance of an item with an inner proxy is
``(S W E)``, loadings are ``S W`` and path coefficients solve the normal equations of
the construct correlations. The functions here therefore take a stack ``S`` of shape
``(B, p, p)``: ``B = 1`` for one estimate, the bootstrap draws (or jackknife samples)
for inference, all iterated at once.

Lohmöller's (1989) algorithm, as seminr's ``simplePLS`` runs it:

1. start from unit weights, scaled so every construct has unit variance;
2. inner weights ``E`` from the construct correlations ``C = W' S W``: centroid
   (``sign C`` between adjacent constructs), factor (``C``), or path weighting
   (for a construct, the regression coefficients on its predecessors and the
   correlations with its successors);
3. outer weights: mode A ``S_b. W E`` (covariances of the items with the inner proxy),
   mode B ``S_bb^{-1} S_b. W E`` (regression of the proxy on the items), rescaled to
   unit construct variance;
4. stop when no weight changes by ``tol`` or more (``max |w - w_old| < 1e-7``: this
   rule reproduces seminr's iteration counts, 6 for the ECSI model in mode A and 8
   with Image and Quality in mode B), or after ``max_iter`` iterations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adoption.pls.model import PLSModel

__all__ = ["SCHEMES", "Fit", "Layout", "fit", "layout", "outer_weights", "construct_correlations", "consistent_loadings", "without_path",
           "mode_b_singular",
           "rho_a", "consistent_correlations", "path_coefficients"]

#: Inner weighting schemes.
SCHEMES: tuple[str, ...] = ("path", "factor", "centroid")


@dataclass(frozen=True)
class Layout:
    """Index arrays of a PLS model over its items (rows) and constructs (columns).

    Attributes
    ----------
    member : ndarray of bool, shape (p, J)
        ``member[i, j]``: item i belongs to construct j.
    adjacent : ndarray of bool, shape (J, J)
        Constructs joined by an inner path (either direction).
    predictors : tuple of ndarray
        For each construct, the indices of its predictors (empty when exogenous).
    blocks : tuple of ndarray
        For each construct, the indices of its items.
    mode_b : tuple of int
        Constructs estimated in mode B (with more than one item).
    owner : ndarray of int, shape (p,)
        The construct of each item.
    """

    member: np.ndarray
    adjacent: np.ndarray
    predictors: tuple[np.ndarray, ...]
    blocks: tuple[np.ndarray, ...]
    mode_b: tuple[int, ...]
    owner: np.ndarray


def layout(model: PLSModel) -> Layout:
    """The :class:`Layout` of ``model`` (items in ``model.items`` order)."""
    items = model.items
    names = model.constructs
    pos = {c: j for j, c in enumerate(names)}
    ipos = {i: k for k, i in enumerate(items)}
    member = np.zeros((len(items), len(names)), dtype=bool)
    blocks = []
    for j, b in enumerate(model.blocks):
        idx = np.array([ipos[i] for i in b.items], dtype=int)
        member[idx, j] = True
        blocks.append(idx)
    adjacent = np.zeros((len(names), len(names)), dtype=bool)
    preds = [[] for _ in names]
    for target, source in model.edges:
        adjacent[pos[target], pos[source]] = adjacent[pos[source], pos[target]] = True
        preds[pos[target]].append(pos[source])
    mode_b = tuple(j for j, b in enumerate(model.blocks) if b.mode == "B" and len(b.items) > 1)
    return Layout(member, adjacent, tuple(np.array(p, dtype=int) for p in preds),
                  tuple(blocks), mode_b, member.argmax(axis=1))


def without_path(lay: Layout, source: int, target: int) -> Layout:
    """The layout with the inner path ``source -> target`` removed (for f-squared)."""
    adjacent = lay.adjacent.copy()
    adjacent[source, target] = adjacent[target, source] = False
    preds = list(lay.predictors)
    preds[target] = preds[target][preds[target] != source]
    return Layout(lay.member, adjacent, tuple(preds), lay.blocks, lay.mode_b, lay.owner)


def _scaled(w: np.ndarray, S: np.ndarray, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Compact weights ``w`` (B, p) rescaled to unit construct variance, and ``S W`` (B, p, J).

    ``W = w[:, :, None] * member`` (zero outside a block).
    """
    W = w[:, :, None] * lay.member
    SW = S @ W
    var = (W * SW).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = 1.0 / np.sqrt(var)
    return w * f[:, lay.owner], SW * f[:, None, :]


def construct_correlations(S: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Construct correlations ``W' S W`` of shape (B, J, J) (unit-variance weights)."""
    return np.swapaxes(W, 1, 2) @ (S @ W)


def _inner_weights(C: np.ndarray, lay: Layout, scheme: str) -> np.ndarray:
    A = lay.adjacent
    if scheme == "centroid":
        return np.sign(C) * A
    E = C * A
    if scheme == "path":
        for j, p in enumerate(lay.predictors):
            if p.size:
                E[:, p, j] = np.linalg.solve(C[:, p[:, None], p[None, :]], C[:, p, j][..., None])[..., 0]
    return E


def outer_weights(S: np.ndarray, lay: Layout, scheme: str = "path", max_iter: int = 300,
                  tol: float = 1e-7, init: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Converged outer weights of a stack of item correlation matrices.

    Parameters
    ----------
    S : ndarray, shape (B, p, p)
        Item correlation matrices (items in the layout's order).
    lay : Layout
    scheme : {"path", "factor", "centroid"}
        Inner weighting scheme.
    max_iter : int
        Iteration cap (seminr's ``maxIt = 300``).
    tol : float
        Stop when ``max |W - W_old| < tol`` (seminr's ``stopCriterion = 7``).
    init : ndarray, shape (B, p, J), optional
        Starting weights (a warm start, e.g. the full model's weights when refitting
        without one path); default unit weights, as seminr.

    Returns
    -------
    W : ndarray, shape (B, p, J)
        Weights giving unit-variance construct scores (zero outside a block).
    iterations : ndarray of int, shape (B,)
        Iterations used by each matrix.
    converged : ndarray of bool, shape (B,)

    Notes
    -----
    Each matrix stops at its own iteration: once converged its weights are frozen, so
    the result for one matrix does not depend on the others in the stack. A construct
    without inner paths (left when f-squared removes its only path) has no inner proxy:
    it keeps its starting weights and does not affect the others, as when seminr
    re-estimates the model without it.
    """
    B, p, _ = S.shape
    start = np.ones((B, p)) if init is None else init.sum(axis=2)
    w, SW = _scaled(start, S, lay)
    M = lay.member.astype(float)
    cols = np.arange(p)
    keep = ~lay.adjacent.any(axis=0)[lay.owner]
    iterations = np.zeros(B, dtype=int)
    active = np.ones(B, dtype=bool)
    for it in range(1, max_iter + 1):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        full = idx.size == B
        Sa, wa, SWa = (S, w, SW) if full else (S[idx], w[idx], SW[idx])
        E = _inner_weights(M.T @ (wa[:, :, None] * SWa), lay, scheme)
        cov = SWa @ E
        new = cov[:, cols, lay.owner]
        if keep.any():  # a construct without inner paths keeps its weights
            new[:, keep] = wa[:, keep]
        for j in lay.mode_b:
            b = lay.blocks[j]
            new[:, b] = np.linalg.solve(Sa[:, b[:, None], b[None, :]], cov[:, b, j][..., None])[..., 0]
        new, SWn = _scaled(new, Sa, lay)
        change = np.abs(new - wa).max(axis=1)
        w[idx] = new
        SW[idx] = SWn
        iterations[idx] = it
        done = ~(change >= tol)  # NaN counts as done: reported by the caller
        active[idx[done]] = False
    return w[:, :, None] * M, iterations, ~active


def mode_b_singular(S: np.ndarray, lay: Layout, tol: float = 1e-10) -> np.ndarray:
    """Which matrices have a (numerically) singular mode-B block, bool shape (B,).

    A mode-B block regresses the inner proxy on its items, so its item correlation
    matrix must be invertible; rounding makes an exactly collinear block merely
    ill-conditioned, so the smallest eigenvalue is compared with ``tol``.
    """
    bad = np.zeros(S.shape[0], dtype=bool)
    for j in lay.mode_b:
        b = lay.blocks[j]
        with np.errstate(invalid="ignore"):
            ev = np.linalg.eigvalsh(np.nan_to_num(S[:, b[:, None], b[None, :]]))
        bad |= ~(ev[:, 0] > tol)
    return bad


def rho_a(S: np.ndarray, W: np.ndarray, lay: Layout) -> np.ndarray:
    """Dijkstra-Henseler's reliability rhoA of every construct, shape (B, J).

    Notes
    -----
    For a block with unit-variance weights ``w`` and item correlations ``S_bb``,
    ``rhoA = (w'w)^2 w'(S_bb - diag S_bb) w / w'(w w' - diag(w w')) w`` (Dijkstra &
    Henseler, 2015, eq. 21; seminr ``rhoA``). A single-item block has ``rhoA = 1``, and
    so has a mode-B block (seminr reports 1: rhoA is a reliability of reflective
    measurement).
    """
    out = np.ones(S.shape[0:1] + (len(lay.blocks),))
    for j, b in enumerate(lay.blocks):
        if b.size < 2 or j in lay.mode_b:
            continue
        w = W[:, b, j]
        Sb = S[:, b[:, None], b[None, :]]
        ww = (w * w).sum(axis=1)
        num = np.einsum("bi,bij,bj->b", w, Sb, w) - (w * w * np.diagonal(Sb, axis1=1, axis2=2)).sum(axis=1)
        den = ww ** 2 - (w ** 4).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = ww ** 2 * num / den
    return out


def consistent_correlations(C: np.ndarray, rho: np.ndarray, corrected: np.ndarray) -> np.ndarray:
    """Construct correlations disattenuated for PLSc (Dijkstra & Henseler, 2015).

    Parameters
    ----------
    C : ndarray, shape (B, J, J)
        Composite correlations.
    rho : ndarray, shape (B, J)
        rhoA of each construct.
    corrected : ndarray of bool, shape (J,)
        Constructs treated as common factors (reflective); the others keep ``rhoA = 1``.

    Returns
    -------
    ndarray, shape (B, J, J)
        ``C_ij / sqrt(q_i q_j)`` off the diagonal, 1 on it, with ``q = rhoA`` for
        corrected constructs and 1 otherwise.
    """
    q = np.where(corrected, rho, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = C / np.sqrt(q[:, :, None] * q[:, None, :])
    J = C.shape[-1]
    out[:, np.arange(J), np.arange(J)] = 1.0
    return out


def path_coefficients(C: np.ndarray, lay: Layout) -> tuple[np.ndarray, np.ndarray]:
    """OLS path coefficients and R-squared from construct correlations.

    Parameters
    ----------
    C : ndarray, shape (B, J, J)
    lay : Layout

    Returns
    -------
    beta : ndarray, shape (B, J, J)
        ``beta[:, i, j]``: coefficient of predictor i in the equation of construct j
        (zero where there is no path).
    r2 : ndarray, shape (B, J)
        ``R2_j = beta_j' C_{P j}``; NaN for exogenous constructs.
    """
    B, J, _ = C.shape
    beta = np.zeros((B, J, J))
    r2 = np.full((B, J), np.nan)
    for j, p in enumerate(lay.predictors):
        if p.size:
            b = np.linalg.solve(C[:, p[:, None], p[None, :]], C[:, p, j][..., None])[..., 0]
            beta[:, p, j] = b
            r2[:, j] = (b * C[:, p, j]).sum(axis=1)
    return beta, r2


@dataclass(frozen=True)
class Fit:
    """Arrays of a PLS fit of a stack of correlation matrices (leading axis B).

    Attributes
    ----------
    W : (B, p, J) outer weights; L : (B, p, J) loadings (consistent for corrected
    blocks); C : (B, J, J) construct correlations (disattenuated for PLSc);
    rho : (B, J) rhoA; beta : (B, J, J) path coefficients (source, target);
    r2 : (B, J); iterations : (B,); converged : (B,)
    """

    W: np.ndarray
    L: np.ndarray
    C: np.ndarray
    rho: np.ndarray
    beta: np.ndarray
    r2: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


def consistent_loadings(W: np.ndarray, rho: np.ndarray, lay: Layout,
                        corrected: np.ndarray) -> np.ndarray:
    """PLSc loadings ``c w`` with ``c = sqrt(rhoA) / (w'w)`` for corrected blocks.

    Notes
    -----
    Dijkstra & Henseler (2015), eq. 19: ``c^2 = w'(S - diag S)w / w'(ww' - diag ww')w``
    and ``rhoA = (w'w)^2 c^2``. Returns zero outside corrected blocks.
    """
    out = np.zeros_like(W)
    for j, b in enumerate(lay.blocks):
        if corrected[j]:
            w = W[:, b, j]
            out[:, b, j] = w * (np.sqrt(rho[:, j]) / (w * w).sum(axis=1))[:, None]
    return out


def fit(S: np.ndarray, lay: Layout, corrected: np.ndarray, scheme: str = "path",
        max_iter: int = 300, tol: float = 1e-7, init: np.ndarray | None = None) -> Fit:
    """The whole PLS (or PLSc) estimate of every matrix in ``S`` (B, p, p).

    ``corrected`` (bool, shape (J,)) marks the blocks treated as common factors (PLSc);
    all False gives ordinary PLS; ``init`` warm-starts :func:`outer_weights`.
    """
    W, its, conv = outer_weights(S, lay, scheme, max_iter, tol, init)
    C = construct_correlations(S, W)
    rho = rho_a(S, W, lay)
    L = (S @ W) * lay.member
    if corrected.any():
        C = consistent_correlations(C, rho, corrected)
        L = np.where(corrected[None, None, :], consistent_loadings(W, rho, lay, corrected), L)
    beta, r2 = path_coefficients(C, lay)
    return Fit(W, L, C, rho, beta, r2, its, conv)
