"""Scalers for the neural forecasters: named sklearn scalers, fitted on training rows only.

The fitted state of a named scaler is plain arrays, so model files store it without
pickle (:func:`scaler_state` / :func:`restore_scaler`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, RobustScaler, StandardScaler

from tsrnn.exceptions import InputError

__all__ = ["SCALERS", "make_scaler", "scaler_state", "restore_scaler", "inverse_target"]


class _StandardScaler(StandardScaler):
    """``StandardScaler`` that also fits values above ~1e154, whose squares overflow.

    Such columns are divided by a power of two before the sklearn fit, and ``mean_`` and
    ``scale_`` multiplied back (exact: powers of two); transforms are unchanged.
    """

    def fit(self, X, y=None, sample_weight=None):
        X = np.asarray(X, dtype=float)
        peak = np.max(np.abs(X), axis=0, initial=0.0) if X.size else np.zeros(X.shape[1:])
        factor = np.where(peak > 1e150, 2.0 ** np.ceil(np.log2(np.maximum(peak, 1.0))), 1.0)
        if (factor == 1).all():
            return super().fit(X, y, sample_weight)
        super().fit(X / factor, y, sample_weight)
        self.mean_, self.scale_ = self.mean_ * factor, self.scale_ * factor
        with np.errstate(over="ignore"):
            self.var_ = self.var_ * factor**2
        return self


SCALERS = {"standard": _StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}


def make_scaler(spec: object) -> object:
    """Return an unfitted transformer for ``'standard' | 'minmax' | 'robust' | None`` or a clone.

    ``None`` is the identity. Constant columns are safe with every named scaler
    (scikit-learn uses a scale of 1 where the spread is 0).
    """
    if spec is None:
        return FunctionTransformer(validate=False)
    if isinstance(spec, str):
        if spec not in SCALERS:
            raise InputError(
                f"scaler={spec!r} is not one of {', '.join(SCALERS)}, None or an sklearn transformer."
            )
        return SCALERS[spec]()
    if not (
        hasattr(spec, "fit") and hasattr(spec, "transform") and hasattr(spec, "inverse_transform")
    ):
        raise InputError(
            f"scaler must be a name, None or an object with fit/transform/inverse_transform; got {spec!r}."
        )
    return clone(spec)


def scaler_state(scaler: object) -> dict:
    """Fitted attributes (names ending in ``_``) of a scaler."""
    return {k: v for k, v in vars(scaler).items() if k.endswith("_") and not k.startswith("_")}


def restore_scaler(spec: object, state: dict) -> object:
    """Rebuild a fitted scaler from :func:`scaler_state`."""
    scaler = make_scaler(spec)
    for key, value in state.items():
        setattr(scaler, key, value)
    return scaler


def inverse_target(scaler: object, values: np.ndarray, n_features: int) -> np.ndarray:
    """Undo the scaling of target values (column 0) of any shape."""
    flat = np.asarray(values, dtype=float).reshape(-1)
    full = np.zeros((flat.size, n_features))
    full[:, 0] = flat
    return scaler.inverse_transform(full)[:, 0].reshape(np.shape(values))
