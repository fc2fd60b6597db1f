"""PLSpredict (Shmueli et al., 2016, 2019): k-fold cross-validated item predictions.

For each repetition the rows are shuffled and cut into ``folds`` folds; each fold is
predicted by the PLS model estimated on the other folds (all training fits are one
batched call of :func:`adoption.pls.algorithm.fit`), with seminr's direct-antecedents
technique (``predict_DA``): test items are standardised with the training means and SDs,
scored with the training weights, each endogenous construct predicted from the scores
of its direct antecedents (``scores @ beta``), and each item predicted as its construct's
prediction times its loading, back on the item's scale. The LM benchmark regresses each
indicator of an endogenous construct on the other constructs' indicators (seminr 2.3.1's
``generate_lm_predictions``: every indicator outside the construct's block). Predictions
of a row are averaged over the repetitions (as seminr), then RMSE, MAE and Q2predict
(against the training-fold mean) are computed per indicator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.errors import InputError
from adoption.pls import algorithm as alg
from adoption.pls.estimate import check_data, corrected_blocks
from adoption.pls.model import PLSModel
from adoption.vocabulary import DEFAULT_SEED

__all__ = ["PLSPredict", "fold_assignments", "pls_predict", "predictive_power", "prediction_metrics"]

#: Hair et al.'s (2019, 2022) reading of the PLS-vs-LM comparison of prediction errors.
POWER_LABELS = {"all": "high", "majority": "medium", "minority": "low", "none": "none"}


@dataclass(frozen=True)
class PLSPredict:
    """Result of :func:`pls_predict`.

    Attributes
    ----------
    metrics : DataFrame
        One row per indicator of an endogenous construct: ``construct, item,
        pls_rmse, pls_mae, lm_rmse, lm_mae, q2predict, pls_better_rmse, pls_better_mae``.
    verdict : dict
        ``{"rmse": ..., "mae": ...}``: ``"high"`` (PLS errs less than LM on all the
        indicators), ``"medium"`` (majority), ``"low"`` (minority), ``"none"``.
    folds, reps, seed : the cross-validation design.
    predictions : DataFrame
        The averaged out-of-sample PLS predictions (rows as the data, endogenous items).
    """

    metrics: pd.DataFrame
    verdict: dict
    folds: int
    reps: int
    seed: int | None
    predictions: pd.DataFrame


def fold_assignments(n: int, folds: int, reps: int, seed: int | None) -> np.ndarray:
    """Fold of each row in each repetition, shape (reps, n): a fresh shuffle per rep.

    Positions in the shuffled order are cut into ``folds`` contiguous, near-equal groups
    (R's ``cut(seq(1, n), breaks = folds)``).
    """
    if not 2 <= folds <= n:
        raise InputError(f"PLSpredict: folds must lie between 2 and the sample size ({n}), not {folds}.")
    rng = np.random.default_rng(seed)
    pos_fold = (np.arange(n) * folds) // n
    out = np.empty((reps, n), dtype=int)
    for r in range(reps):
        out[r, rng.permutation(n)] = pos_fold
    return out


def prediction_metrics(actual: np.ndarray, predicted: np.ndarray, naive: np.ndarray) -> dict:
    """RMSE, MAE and Q2predict of predictions (columns are indicators).

    ``RMSE = sqrt(mean(e^2))``, ``MAE = mean(|e|)`` with ``e = actual - predicted``
    (seminr's ``item_metrics``); ``Q2predict = 1 - sum(e^2) / sum((actual - naive)^2)``,
    ``naive`` the training-sample mean (Shmueli et al., 2019).
    """
    e = actual - predicted
    return {"rmse": np.sqrt((e ** 2).mean(axis=0)), "mae": np.abs(e).mean(axis=0),
            "q2predict": 1 - (e ** 2).sum(axis=0) / ((actual - naive) ** 2).sum(axis=0)}


def predictive_power(pls_error: np.ndarray, lm_error: np.ndarray) -> str:
    """Hair et al.'s verdict: PLS errs less than LM on all / majority / minority / none.

    Returns ``"high"``, ``"medium"``, ``"low"`` or ``"none"`` (:data:`POWER_LABELS`).
    """
    better = np.asarray(pls_error) < np.asarray(lm_error)
    k, m = int(better.sum()), better.size
    key = "all" if k == m else "none" if k == 0 else "majority" if 2 * k > m else "minority"
    return POWER_LABELS[key]


def subset_moments(X: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Means and covariance matrices (n - 1) of the training rows of each split, stacked.

    From row sums and cross-products weighted by the 0/1 training indicator (one
    ``einsum``, which keeps clear of multithreaded BLAS on a busy machine).
    """
    T = train.astype(float)
    k = T.sum(axis=1)
    Xc = X - X.mean(axis=0)
    s1 = T @ Xc
    s2 = np.einsum("kn,ni,nj->kij", T, Xc, Xc, optimize=False)
    mean_c = s1 / k[:, None]
    cov = (s2 - k[:, None, None] * mean_c[:, :, None] * mean_c[:, None, :]) / (k - 1)[:, None, None]
    return mean_c + X.mean(axis=0), cov


def _lm_predictions(Xtest: np.ndarray, mean: np.ndarray, cov: np.ndarray,
                    y_idx: np.ndarray) -> np.ndarray:
    """LM benchmark: items ``y_idx`` regressed (OLS with intercept) on every other item.

    From the training moments: ``b = S_xx^-1 S_xy``, prediction ``m_y + (x - m_x) b``.
    """
    x_idx = np.setdiff1d(np.arange(cov.shape[0]), y_idx)
    b = np.linalg.solve(cov[np.ix_(x_idx, x_idx)], cov[np.ix_(x_idx, y_idx)])
    return mean[y_idx] + (Xtest[:, x_idx] - mean[x_idx]) @ b


def pls_predict(data: pd.DataFrame, model: PLSModel, folds: int = 10, reps: int = 10,
                seed: int | None = DEFAULT_SEED, scheme: str = "path",
                consistent: bool = False) -> PLSPredict:
    """PLSpredict with the direct-antecedents technique and the LM benchmark.

    Parameters
    ----------
    data : DataFrame
        Item responses (complete, numeric).
    model : PLSModel
    folds, reps : int
        k of the k-fold cross-validation and its repetitions (Shmueli et al.: 10 x 10).
    seed : int or None
        Seed of the fold assignments (:func:`fold_assignments`).
    scheme, consistent
        As :func:`adoption.pls.estimate.estimate_pls`; under PLSc the prediction uses
        the consistent loadings and paths in the same chain.

    Returns
    -------
    PLSPredict

    Notes
    -----
    seminr 2.3.1 (``predict_pls(model, technique = predict_DA, noFolds = 10, reps = 10)``)
    draws one shuffle and reuses its folds in every repetition; here each repetition
    draws its own folds, so the averaged predictions vary less between seeds.

    References
    ----------
    Shmueli, G., Sarstedt, M., Hair, J. F., et al. (2019). Predictive model assessment in
    PLS-SEM: guidelines for using PLSpredict. European Journal of Marketing, 53(11).
    """
    X = check_data(data, model).to_numpy(dtype=float)
    n, p = X.shape
    fa = fold_assignments(n, folds, reps, seed)
    train = np.concatenate([fa != f for f in range(folds)])          # (reps*folds, n)
    mean, cov = subset_moments(X, train)
    sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
    S = cov / (sd[:, :, None] * sd[:, None, :])
    lay = alg.layout(model)
    f = alg.fit(S, lay, corrected_blocks(model, consistent), scheme)
    if not f.converged.all():
        raise InputError("PLSpredict: the model did not converge on a training fold; "
                         "check the model or use fewer folds.")
    endo = [j for j, pr in enumerate(lay.predictors) if pr.size]
    y_idx = np.concatenate([lay.blocks[j] for j in endo])
    pls_sum, lm_sum, naive_sum = (np.zeros((n, y_idx.size)) for _ in range(3))
    for k in range(train.shape[0]):
        test = ~train[k]
        Z = (X[test] - mean[k]) / sd[k]
        pred = (Z @ f.W[k]) @ f.beta[k]                               # predict_DA
        items = (pred @ f.L[k].T)[:, y_idx] * sd[k, y_idx] + mean[k, y_idx]
        pls_sum[test] += items
        lm_sum[test] += np.column_stack([_lm_predictions(X[test], mean[k], cov[k], lay.blocks[j])
                                         for j in endo])
        naive_sum[test] += mean[k, y_idx]
    actual = X[:, y_idx]
    pls_m = prediction_metrics(actual, pls_sum / reps, naive_sum / reps)
    lm_m = prediction_metrics(actual, lm_sum / reps, naive_sum / reps)
    names = list(model.items)
    metrics = pd.DataFrame({
        "construct": [model.constructs[lay.owner[i]] for i in y_idx],
        "item": [names[i] for i in y_idx],
        "pls_rmse": pls_m["rmse"], "pls_mae": pls_m["mae"],
        "lm_rmse": lm_m["rmse"], "lm_mae": lm_m["mae"], "q2predict": pls_m["q2predict"]})
    metrics["pls_better_rmse"] = metrics.pls_rmse < metrics.lm_rmse
    metrics["pls_better_mae"] = metrics.pls_mae < metrics.lm_mae
    verdict = {"rmse": predictive_power(metrics.pls_rmse, metrics.lm_rmse),
               "mae": predictive_power(metrics.pls_mae, metrics.lm_mae)}
    preds = pd.DataFrame(pls_sum / reps, index=data.index, columns=[names[i] for i in y_idx])
    return PLSPredict(metrics, verdict, folds, reps, seed, preds)
