"""Target transforms for every forecaster: log or Box-Cox in, inverted on output.

:class:`TransformedTargetForecaster` wraps any tsrnn forecaster: ``fit`` transforms the
target (``'log'``, or ``'boxcox'`` with its lambda estimated on the training data by
maximum likelihood, :func:`scipy.stats.boxcox`), the wrapped model fits the transformed
series, and forecasts and interval bounds are transformed back. Both transforms are
monotone, so a back-transformed interval keeps its coverage; a back-transformed point
forecast is the median of the forecast distribution, not its mean (Hyndman &
Athanasopoulos, *FPP3*, section 5.6). On prices a log target makes changes relative
(a 1% move is the same at $40 and at $700) and forbids negative forecasts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from tsrnn.base import BaseForecaster
from tsrnn.exceptions import DataError, InputError

__all__ = ["TransformedTargetForecaster", "TRANSFORMS"]

TRANSFORMS = ("log", "boxcox")


def _forward(values: np.ndarray, transform: str, lam: float) -> np.ndarray:
    if transform == "log" or lam == 0:
        return np.log(values)
    return (np.power(values, lam) - 1) / lam


def _inverse(values: np.ndarray, transform: str, lam: float) -> np.ndarray:
    if transform == "log" or lam == 0:
        return np.exp(values)
    base = np.maximum(lam * np.asarray(values, dtype=float) + 1, 0)
    return np.power(base, 1 / lam)


class TransformedTargetForecaster(BaseForecaster):
    """Fit ``forecaster`` on a log / Box-Cox transformed target; forecast in the data's units.

    Parameters
    ----------
    forecaster : forecaster
        Any tsrnn forecaster; cloned at ``fit`` (with ``horizon`` set to this one's).
    transform : {'log', 'boxcox'}, default='log'
        The target transform. Both need a strictly positive target.
    horizon : int, default=7
        Steps ``predict()`` forecasts; passed to the wrapped forecaster.
    target, freq : str, optional
        As for every forecaster.

    Attributes
    ----------
    forecaster_ : forecaster
        The fitted clone, on the transformed scale.
    lambda_ : float
        The Box-Cox lambda (0 for ``'log'``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tsrnn import DriftForecaster
    >>> y = pd.Series(100 * 1.01 ** np.arange(50), index=pd.date_range("2024-01-01", periods=50))
    >>> model = TransformedTargetForecaster(DriftForecaster(), "log", horizon=2).fit(y)
    >>> (model.predict() / y.iloc[-1]).round(4).tolist()   # 1% a day, compounded
    [1.01, 1.0201]
    """

    def __init__(
        self,
        forecaster: object = None,
        transform: str = "log",
        horizon: int = 7,
        target: str | None = None,
        freq: str | None = None,
    ):
        self.forecaster = forecaster
        self.transform = transform
        self.horizon = horizon
        self.target = target
        self.freq = freq

    @property
    def _uses_covariates(self) -> bool:  # as the wrapped model
        return bool(getattr(self.forecaster, "_uses_covariates", False))

    def _check(self) -> None:
        if self.transform not in TRANSFORMS:
            raise InputError(
                f"transform must be one of {', '.join(TRANSFORMS)}; got {self.transform!r}."
            )
        if not hasattr(self.forecaster, "fit") or not hasattr(self.forecaster, "get_params"):
            raise InputError(
                f"forecaster must be a tsrnn forecaster; got {type(self.forecaster).__name__}."
            )

    def _min_length(self) -> int:
        self._check()
        return self.forecaster._min_length()

    def _positive(self, y: np.ndarray, where: str) -> None:
        if np.any(~(y > 0)):
            i = int(np.flatnonzero(~(y > 0))[0])
            raise DataError(
                f"y, column '{self.target_name_}', {where} row {i}: value {float(y[i])!r} is not "
                f"positive; transform={self.transform!r} needs a strictly positive target "
                "(shift the series, or use no transform)."
            )

    def _frame(self, z: np.ndarray, covariates: np.ndarray | None, index) -> object:
        series = pd.Series(z, index=index, name=self.target_name_)
        if covariates is None:
            return series
        extra = pd.DataFrame(covariates, index=index, columns=self.covariate_names_)
        return pd.concat([series, extra], axis=1)

    def _fit(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        self._check()
        self._positive(y, "training")
        self.lambda_ = 0.0
        if self.transform == "boxcox":
            from scipy import stats

            self.lambda_ = float(stats.boxcox_normmax(y, method="mle"))
        inner = clone(self.forecaster)
        if "horizon" in inner.get_params(deep=False):
            inner.set_params(horizon=self.horizon)
        if "target" in inner.get_params(deep=False):
            inner.set_params(target=self.target_name_)
        z = _forward(y, self.transform, self.lambda_)
        self.forecaster_ = inner.fit(self._frame(z, covariates, self._past_index(len(y))))

    def _predict(self, horizon: int) -> np.ndarray:
        z = self.forecaster_.predict(horizon).to_numpy(dtype=float)
        return _inverse(z, self.transform, self.lambda_)

    def _predict_interval(self, horizon: int, coverage: float) -> tuple[np.ndarray, np.ndarray]:
        bounds = self.forecaster_.predict_interval(horizon, coverage=coverage)
        lower = _inverse(bounds["lower"].to_numpy(dtype=float), self.transform, self.lambda_)
        upper = _inverse(bounds["upper"].to_numpy(dtype=float), self.transform, self.lambda_)
        return lower, upper

    def _update(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        self._positive(y, "new")
        z = _forward(y, self.transform, self.lambda_)
        self.forecaster_.update(self._frame(z, covariates, self._future_index(len(y))))
