"""ARIMA forecasts on statsmodels, with automatic order selection and cheap updates.

:class:`ARIMAForecaster` is a thin estimator over ``statsmodels.tsa.arima.model.ARIMA``:
the statsmodels results object lives in the one fitted attribute ``results_``. The work
is done in private modules: the checks of parameters and ``X`` in
:mod:`tsrnn._arima_inputs`, the fitting in :mod:`tsrnn._arima_estimation`, the
differencing tests in :mod:`tsrnn._unitroot` and the automatic order search in
:mod:`tsrnn._autoarima`.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from tsrnn import conformal
from tsrnn._arima_conformal import fit_calibration, update_calibration
from tsrnn._arima_estimation import (
    ADVICE,
    Fitted,
    filter_quietly,
    fit_auto,
    fit_constant,
    fit_fixed,
    one_blas_thread,
    scale_for,
    search_settings,
)
from tsrnn._arima_inputs import align_X, check_params
from tsrnn._arima_spec import build_model, full_exog
from tsrnn._unitroot import is_constant
from tsrnn.base import BaseForecaster
from tsrnn.exceptions import DataError, DataWarning

__all__ = ["ARIMAForecaster", "ARIMAConvergenceWarning"]

_AUTO_MIN_LENGTH = 8


class ARIMAConvergenceWarning(DataWarning, ConvergenceWarning):
    """An ARIMA fit or order search ended early; the message says what to try."""


class ARIMAForecaster(BaseForecaster):
    """(Seasonal) ARIMA with automatic order selection, on statsmodels.

    Parameters
    ----------
    order : 'auto' or tuple of int, default='auto'
        ``(p, d, q)``, or ``'auto'`` for the stepwise search described in the Notes.
    seasonal_order : tuple of int, optional
        ``(P, D, Q, m)`` for an explicit ``order``; must be None with ``order='auto'``
        (set ``season_length`` instead).
    season_length : int, optional
        Season length ``m`` for ``order='auto'``; by default from the frequency (5 for
        business days, 7 for daily, 24 for hourly data). 1 turns seasonal terms off.
    trend : {'n', 'c', 't', 'ct'}, optional
        Deterministic terms: none, constant, linear trend (drift once differenced), both.
        None: a constant when ``d + D == 0`` for an explicit order (statsmodels' default);
        chosen by the search with ``order='auto'``.
    max_p, max_q, max_P, max_Q, max_d, max_D : int
        Bounds of the automatic search. ``max_d`` is 1 by default (auto.arima: 2): a
        second difference extrapolates a trend in the trend, which on long price
        histories chose ARIMA(3,2,0) and forecast +4.6% in 7 trading days; set
        ``max_d=2`` to allow it.
    information_criterion : {'aicc', 'aic', 'bic'}, default='aicc'
        What the search minimises.
    stepwise : bool, default=True
        Stepwise search; False tries every model with ``p + q + P + Q <= 5``.
    approximation : bool, optional
        Rank the search's candidates by conditional sum of squares (fast), then fit the
        best by exact maximum likelihood, as auto.arima. None (default): approximate
        seasonal searches over more than 150 observations (where exact fits are slow)
        and any search over more than 5,000; auto.arima approximates above 150 or for
        ``m > 12``. False fits every candidate by exact ML.
    time_budget : float, optional
        Seconds after which the search stops with the best model so far (and warns).
    method : str, optional
        Estimation method: 'css-ml' (tsrnn's exact maximum likelihood by the innovations
        algorithm, started from conditional-sum-of-squares estimates, as R's default) or a
        statsmodels ``ARIMA.fit`` method ('statespace', 'innovations_mle', ...). None:
        statsmodels' default ('statespace') for an explicit order, so results equal
        statsmodels' own; 'css-ml' for the automatic search (2-10x faster per fit).
    max_history : int or None, default=2000
        Fit (and search) on at most the last ``max_history`` observations, so a long
        series costs what a short one does (an order search over 43,824 hourly points
        took 3.5 minutes); None uses all of them. ``update`` and ``refit`` continue from
        the observations kept.
    horizon : int, default=7
        Steps ``predict()`` forecasts when called without a horizon.
    target : str, optional
        Column of a DataFrame ``y`` to forecast.
    freq : str, optional
        Pandas frequency alias; inferred from the data when omitted.
    calendar : str, default='infer'
        Exchange calendar of business-daily data: ``'infer'`` (data whose absent
        weekdays are an exchange's holidays goes on its trading sessions), an exchange
        such as ``'XNYS'``, or ``'none'`` (plain business days). See :mod:`tsrnn.calendars`.
    interval : {'conformal', 'model'}, default='conformal'
        'conformal': adaptive conformal intervals from the out-of-sample errors at the
        last origins of the training data (forecasts from each origin's filtered state,
        :mod:`tsrnn._arima_conformal`), scaled by the recent volatility and adjusted
        online in ``update`` (:mod:`tsrnn.conformal`). 'model': the forecast
        distribution of the model (``get_forecast().conf_int``), which assumes a
        constant innovation variance. With ``X``, ``update`` does not score new origins.
    n_jobs : int, optional
        Parallel jobs (joblib) when fitting a panel, one model per series; None means 1
        unless a ``joblib.parallel_config`` says otherwise.

    Attributes
    ----------
    results_ : statsmodels ARIMAResults
        The fitted (or, after ``update``, extended) statsmodels results, on ``y / scale_``.
    order_, seasonal_order_ : tuple of int
        The orders used.
    trend_ : str
        Deterministic terms used ('n', 'c', 't' or 'ct').
    search_trace_ : list of dict
        One entry per model tried: ``order``, ``seasonal_order``, ``trend``, ``method``
        ('css' ranks, 'css-ml' or a statsmodels method fits), ``ic`` (None when it
        failed), ``converged``, ``seconds``, ``error``.
    aicc_ : float
        AICc of the fitted model (the criterion values of the search are in the trace).
    scale_ : float
        ``y`` is divided by it before fitting: 1 unless its spread is outside [1e-3, 1e6].
    exog_names_ : list of str or None
        Columns of the ``X`` given to ``fit``.
    conformal_ : dict or None
        Calibration state of the conformal intervals, on ``y / scale_``.

    Notes
    -----
    ``order='auto'`` follows Hyndman & Khandakar (2008), as R's ``forecast::auto.arima``
    and pmdarima:

    1. With ``X``, the tests below run on the residuals of a regression of y on X.
    2. ``m`` is ``season_length`` or the frequency's season; seasonal terms are used only
       for ``2 <= m <= 52`` and at least ``3 m + 20`` observations.
    3. ``D``: a seasonal difference while the STL seasonal strength is >= 0.64
       (``nsdiffs(test='seas')``), at most ``max_D``.
    4. ``d``: a difference while a KPSS test rejects level stationarity at 5%, at most
       ``max_d`` (``ndiffs(test='kpss')``).
    5. Fit ARIMA(2,d,2)(1,D,1), (0,d,0)(0,D,0), (1,d,0)(1,D,0), (0,d,1)(0,D,1), with a
       constant (``d + D = 0``) or drift (``d + D = 1``), and (0,d,0)(0,D,0) without.
    6. Move to the first neighbour that lowers the criterion -- p, q, P, Q changed by
       +-1 singly or in pairs, or the constant toggled -- until none does, 94 models
       were fitted, or ``time_budget`` ran out. Candidates that fail, or whose AR/MA
       roots have a modulus below 1.001, are skipped and kept in the trace.
       Candidates are scored by exact ML ('css-ml'), or with ``approximation`` by
       conditional sum of squares, after which the best-ranked models are refitted by
       exact ML until one succeeds (auto.arima's ``approximation``).
    7. The chosen parameters are filtered over the data into ``results_``.

    Trend terms are regression columns (time 1, 2, ... from the first observation), as
    ``ARIMA(trend=...)`` builds them. ``update`` calls ``results_.extend`` with the next
    trend values: parameters are kept and each step costs the same, where
    ``results_.append`` refilters the whole history (1.2-2.8x slower per step at
    1,500-3,000 observations, same forecasts to 1e-9; see ``benchmarks/bench_arima.py``).
    Forecasts after ``update`` differ from a refit on all data only through the
    re-estimated parameters: by less than 5% of the series' standard deviation in the
    tests (0.1-2% on the benchmark series). ``refit`` re-estimates on all data seen.
    Parameters estimated outside statsmodels' own ``fit`` (the search, 'css-ml', loading
    a file) are filtered with ``cov_type='none'``: the numerical Hessian would cost more
    than the fit, so ``results_.bse`` is NaN there. statsmodels runs on one BLAS thread
    inside every call (small matrices; several threads only add synchronisation).

    References
    ----------
    Hyndman, R.J. & Khandakar, Y. (2008). Automatic time series forecasting: the
    forecast package for R. *Journal of Statistical Software* 27(3).
    Hyndman, R.J. & Athanasopoulos, G. (2021). *Forecasting: Principles and Practice*,
    3rd ed., chapter 9. See :mod:`tsrnn._unitroot` for the test references.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> y = pd.Series(np.cumsum(rng.normal(size=200)), index=pd.date_range("2024-01-01", periods=200))
    >>> model = ARIMAForecaster(order=(1, 1, 0), horizon=3).fit(y)
    >>> model.predict().shape
    (3,)
    """

    _uses_X = True

    def __init__(
        self,
        order: str | tuple[int, int, int] = "auto",
        seasonal_order: tuple[int, int, int, int] | None = None,
        season_length: int | None = None,
        trend: str | None = None,
        max_p: int = 5,
        max_q: int = 5,
        max_P: int = 2,
        max_Q: int = 2,
        max_d: int = 1,
        max_D: int = 1,
        information_criterion: str = "aicc",
        stepwise: bool = True,
        approximation: bool | None = None,
        time_budget: float | None = None,
        method: str | None = None,
        max_history: int | None = 2000,
        horizon: int = 7,
        target: str | None = None,
        freq: str | None = None,
        calendar: str = "infer",
        interval: str = "conformal",
        n_jobs: int | None = None,
    ):
        self.order = order
        self.seasonal_order = seasonal_order
        self.season_length = season_length
        self.trend = trend
        self.max_p = max_p
        self.max_q = max_q
        self.max_P = max_P
        self.max_Q = max_Q
        self.max_d = max_d
        self.max_D = max_D
        self.information_criterion = information_criterion
        self.stepwise = stepwise
        self.approximation = approximation
        self.time_budget = time_budget
        self.method = method
        self.max_history = max_history
        self.horizon = horizon
        self.target = target
        self.freq = freq
        self.calendar = calendar
        self.interval = interval
        self.n_jobs = n_jobs

    # ------------------------------------------------------------ public API
    def fit(self, y: pd.Series | pd.DataFrame, X: pd.DataFrame | None = None) -> ARIMAForecaster:
        """Fit to ``y``, with optional future-known regressors ``X`` (one row per
        observation: matched by timestamp for pandas with a DatetimeIndex, else by
        position). See :meth:`BaseForecaster.fit`."""
        with self._using_X(X), one_blas_thread():
            return super().fit(y)

    def predict(self, horizon: int | None = None, X: pd.DataFrame | None = None) -> pd.Series:
        """Point forecasts; ``X`` (required iff ``fit`` had one) covers the horizon."""
        with self._using_X(X), one_blas_thread():
            return super().predict(horizon)

    def predict_interval(
        self, horizon: int | None = None, coverage: float = 0.9, X: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Intervals (see ``interval``); ``X`` as for :meth:`predict`."""
        with self._using_X(X), one_blas_thread():
            return super().predict_interval(horizon, coverage)

    def update(
        self, y_new: pd.Series | pd.DataFrame, X: pd.DataFrame | None = None
    ) -> ARIMAForecaster:
        """Append observations (``results_.extend``: no re-estimation); ``X`` covers them."""
        with self._using_X(X), one_blas_thread():
            return super().update(y_new)

    def refit(self) -> ARIMAForecaster:
        """Re-estimate on all data seen (fit plus updates); ``order='auto'`` searches again.

        Returns
        -------
        self
        """
        check_is_fitted(self, "results_")
        index = self._past_index(len(self._endog))
        y = pd.Series(self._endog * self.scale_, index=index, name=self.target_name_)
        X = None
        if self._exog is not None:
            X = pd.DataFrame(self._exog, index=index, columns=self.exog_names_)
        return self.fit(y, X)

    def _search_result(self) -> dict:
        """Parameters that repeat this fit's order search without searching (for backtests).

        ``backtest(search_once=True)`` searches once, on the first fold, then refits
        the other folds with these: the same order and trend, parameters re-estimated.
        Empty for an explicit order.
        """
        check_is_fitted(self, "results_")
        if not (isinstance(self.order, str) and self.order == "auto"):
            return {}
        seasonal = self.seasonal_order_ if any(self.seasonal_order_[:3]) else None
        return {
            "order": tuple(self.order_),
            "seasonal_order": None if seasonal is None else tuple(seasonal),
            "trend": self.trend_,
            "method": self.method or "css-ml",
        }

    # ----------------------------------------------------------------- hooks
    def _min_length(self) -> int:
        spec = check_params(self)
        if spec.order is None:
            return _AUTO_MIN_LENGTH
        (p, d, q), (P, D, Q, m) = spec.order, spec.seasonal_order
        return d + D * m + max(p + P * m, q + Q * m) + 3

    def _fit(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        conformal.check_interval(self.interval)
        spec = check_params(self)
        index = self._past_index(self.n_obs_)
        exog = None
        self.exog_names_ = None
        if getattr(self, "_X_input", None) is not None:
            exog, self.exog_names_ = align_X(self._X_input, index, None, "fit")
        if self.max_history is not None and len(y) > self.max_history:
            y = y[-self.max_history :]
            exog = None if exog is None else exog[-self.max_history :]
        self.scale_ = scale_for(y)
        ys = y / self.scale_
        if is_constant(ys):
            fitted = fit_constant(ys, exog, self.method)
        elif spec.order is None:
            fitted = fit_auto(ys, exog, search_settings(self, ys, exog))
        else:
            fitted = fit_fixed(ys, exog, spec.order, spec.seasonal_order, self.trend, self.method)
        self._store(fitted, ys, exog)
        self._warn(fitted.converged, fitted.timed_out)

    def _predict(self, horizon: int) -> np.ndarray:
        return np.asarray(self._forecast(horizon).predicted_mean) * self.scale_

    def _predict_interval(self, horizon: int, coverage: float) -> tuple[np.ndarray, np.ndarray]:
        if self.interval == "conformal" and conformal.state_is_usable(self.conformal_):
            point = self._predict(horizon)
            half = conformal.adaptive_half_widths(self.conformal_, coverage, horizon)
            return point - half * self.scale_, point + half * self.scale_
        bounds = np.asarray(self._forecast(horizon).conf_int(alpha=1 - coverage)) * self.scale_
        return bounds[:, 0], bounds[:, 1]

    def _update(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        user = self._user_exog(len(y), "update")
        ys = y / self.scale_
        exog = full_exog(self.trend_, len(self._endog) + 1, len(ys), user)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            extended = self.results_.extend(ys, exog=exog)  # keeps the covariance
        self.conformal_ = update_calibration(
            self.conformal_, extended, ys, self.trend_, len(self._endog)
        )
        self.results_ = extended
        self._endog = np.concatenate([self._endog, ys])
        if user is not None:
            self._exog = np.concatenate([self._exog, user])

    def _get_state(self) -> dict:
        state = super()._get_state()
        del state["results_"]
        state.update(_params=np.asarray(self.results_.params, dtype=float))
        state.update(_endog=self._endog, _exog=self._exog)
        return state

    def _set_state(self, state: dict) -> None:
        state = dict(state)
        params = state.pop("_params")
        self._endog, self._exog = state.pop("_endog"), state.pop("_exog")
        super()._set_state(state)
        self.order_, self.seasonal_order_ = tuple(self.order_), tuple(self.seasonal_order_)
        model = build_model(self._endog, self._exog, self.order_, self.seasonal_order_, self.trend_)
        with one_blas_thread():
            self.results_ = filter_quietly(model, params)

    # --------------------------------------------------------------- fitting
    def _store(self, fitted: Fitted, ys: np.ndarray, exog: np.ndarray | None) -> None:
        self.results_ = fitted.results
        self.order_, self.seasonal_order_ = fitted.order, fitted.seasonal_order
        self.trend_ = fitted.trend
        self.aicc_ = fitted.aicc
        self._endog, self._exog = ys, exog
        self.search_trace_ = fitted.trace
        self.conformal_ = fit_calibration(self.results_, ys, self.trend_, self.horizon)

    def _warn(self, converged: bool, timed_out: bool) -> None:
        problems = []
        if not converged:
            problems.append(
                f"the optimizer did not converge for ARIMA{self.order_}x{self.seasonal_order_}"
            )
        if timed_out:
            problems.append(
                f"the order search stopped at time_budget={self.time_budget}s after "
                f"{len(self.search_trace_)} models"
            )
        if problems:
            message = "; ".join(problems)
            warnings.warn(
                f"{message}. Forecasts may be unreliable: {ADVICE}.",
                ARIMAConvergenceWarning,
                stacklevel=5,
            )

    # --------------------------------------------------------------- helpers
    @contextlib.contextmanager
    def _using_X(self, X: object) -> Iterator[None]:
        """Hand ``X`` to the hooks for the duration of one public call."""
        self._X_input = X
        try:
            yield
        finally:
            del self._X_input

    def _user_exog(self, steps: int, role: str) -> np.ndarray | None:
        """Rows of the ``X`` given to this call for the next ``steps`` timestamps."""
        X = getattr(self, "_X_input", None)
        if self.exog_names_ is None:
            if X is not None:
                raise DataError(f"X was given for {role} but the model was fitted without X.")
            return None
        index = self._future_index(steps)
        if X is None:
            raise DataError(
                f"the model was fitted with X ({', '.join(self.exog_names_)}); {role} needs X "
                f"with one row per timestamp from {index[0]} to {index[-1]}."
            )
        return align_X(X, index, self.exog_names_, role)[0]

    def _forecast(self, horizon: int):
        user = self._user_exog(horizon, "predict")
        exog = full_exog(self.trend_, len(self._endog) + 1, horizon, user)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.results_.get_forecast(horizon, exog=exog)
