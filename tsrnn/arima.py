"""ARIMA forecasts on statsmodels, with automatic order selection and cheap updates.

:class:`ARIMAForecaster` is a thin estimator over ``statsmodels.tsa.arima.model.ARIMA``:
the statsmodels results object lives in the one fitted attribute ``results_``; the
automatic order search is in :mod:`tsrnn._autoarima`.
"""

from __future__ import annotations

import contextlib
import functools
import numbers
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted
from statsmodels.tools.sm_exceptions import ConvergenceWarning as SMConvergenceWarning
from threadpoolctl import ThreadpoolController

from tsrnn import _autoarima as auto
from tsrnn.base import BaseForecaster
from tsrnn.exceptions import DataError, DataWarning, InputError
from tsrnn.validation import season_length_for

__all__ = ["ARIMAForecaster", "ARIMAConvergenceWarning"]

_CRITERIA = ("aicc", "aic", "bic")
_TRENDS = (None, "n", "c", "t", "ct")
_METHODS = (None, "css-ml", "statespace", "innovations_mle", "hannan_rissanen", "burg")
_METHODS += ("innovations", "yule_walker")
_MAX_SEASON = 52  # longer seasons make the state space too large; use Fourier terms in X
_AUTO_MIN_LENGTH = 8
_SEASONAL_SLACK = 20  # seasonal terms need 3 m + 20 observations: short series fake seasons
# CSS-ranked search for seasonal series longer than this (auto.arima: any series)...
_APPROXIMATE_SEASONAL_ABOVE = 150
_APPROXIMATE_ABOVE = 5000  # ...and for any series longer than this
_SCALE_RANGE = (1e-3, 1e6)  # spreads outside it are rescaled by a power of ten
# Parameters estimated outside statsmodels' fit are filtered without a covariance matrix:
# its numerical Hessian costs ~k^2 filter passes (15 s for a seasonal m=24 model).
_NO_COV = {"cov_type": "none"}
_ADVICE = "try a lower order (max_p/max_q or order=), differencing (d=1), or rescaling y"


class ARIMAConvergenceWarning(DataWarning, ConvergenceWarning):
    """An ARIMA fit or order search ended early; the message says what to try."""


@dataclass(frozen=True)
class _Spec:
    order: tuple[int, int, int] | None  # None: automatic
    seasonal_order: tuple[int, int, int, int]


@functools.cache
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()  # inspecting the loaded libraries takes ~2 ms: once


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run statsmodels' small-matrix linear algebra on one BLAS thread: with several,
    OpenBLAS spends longer synchronising than computing (fits 3-10x slower on 2 busy
    cores). The previous limits are restored on exit."""
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


def _as_ints(value: object, name: str, length: int) -> tuple[int, ...]:
    ok = (
        isinstance(value, tuple | list)
        and len(value) == length
        and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0 for v in value
        )
    )
    if not ok:
        raise InputError(f"{name} must be {length} non-negative integers; got {value!r}.")
    return tuple(int(v) for v in value)


def _check_count(value: object, name: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    return int(value)


def _scale_for(y: np.ndarray) -> float:
    """1, or the power of ten near the spread of ``y`` when it is huge or tiny."""
    spread = float(np.std(y)) or float(np.max(np.abs(y)))
    if spread == 0 or _SCALE_RANGE[0] <= spread <= _SCALE_RANGE[1]:
        return 1.0
    return float(10.0 ** np.floor(np.log10(spread)))


def _regression_residuals(y: np.ndarray, exog: np.ndarray | None) -> np.ndarray:
    """``y`` less its least-squares fit on ``exog`` (auto.arima tests these for unit roots)."""
    if exog is None:
        return y
    design = np.column_stack([np.ones(len(y)), exog])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return y - design @ coef


def _align_X(
    X: object, index: pd.DatetimeIndex, names: list[str] | None, role: str
) -> tuple[np.ndarray, list[str]]:
    """Rows of ``X`` for ``index``: by timestamp for pandas with a DatetimeIndex, else by
    position (then exactly ``len(index)`` rows)."""
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        if names is not None:
            missing = [c for c in names if c not in X.columns]
            if missing:
                raise DataError(f"X for {role} lacks the column(s) {', '.join(missing)}.")
            X = X[names]
        if isinstance(X.index, pd.DatetimeIndex):
            absent = index.difference(X.index)
            if len(absent):
                raise DataError(
                    f"X for {role} has no row for {absent[0]}; it needs one row per timestamp "
                    f"from {index[0]} to {index[-1]}."
                )
            X = X.reindex(index)
        columns = [str(c) for c in X.columns]
    try:
        values = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"X for {role} must be numeric ({exc}).") from exc
    values = values[:, None] if values.ndim == 1 else values
    if not isinstance(X, pd.DataFrame):
        columns = [f"x{i}" for i in range(values.shape[1] if values.ndim == 2 else 0)]
    _check_X_values(values, index, names, role)
    return values, columns


def _check_X_values(
    values: np.ndarray, index: pd.DatetimeIndex, names: list[str] | None, role: str
) -> None:
    if values.ndim != 2 or values.shape[0] != len(index):
        raise DataError(
            f"X for {role} has {values.shape[0] if values.ndim else 0} rows but needs "
            f"{len(index)}, one per timestamp from {index[0]} to {index[-1]}."
        )
    if names is not None and values.shape[1] != len(names):
        raise DataError(
            f"X for {role} has {values.shape[1]} columns but the model was fitted with "
            f"{len(names)} ({', '.join(names)})."
        )
    if not np.isfinite(values).all():
        row = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
        raise DataError(f"X for {role} has a missing or infinite value at {index[row]}.")


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
        Bounds of the automatic search.
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
    horizon : int, default=7
        Steps ``predict()`` forecasts when called without a horizon.
    target : str, optional
        Column of a DataFrame ``y`` to forecast.
    freq : str, optional
        Pandas frequency alias; inferred from the data when omitted.

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
    3rd ed., chapter 9. See :mod:`tsrnn._autoarima` for the test references.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> y = pd.Series(np.cumsum(rng.normal(size=200)), index=pd.date_range("2024-01-01", periods=200))
    >>> model = ARIMAForecaster(order=(1, 1, 0), horizon=3).fit(y)
    >>> model.predict().shape
    (3,)
    """

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
        max_d: int = 2,
        max_D: int = 1,
        information_criterion: str = "aicc",
        stepwise: bool = True,
        approximation: bool | None = None,
        time_budget: float | None = None,
        method: str | None = None,
        horizon: int = 7,
        target: str | None = None,
        freq: str | None = None,
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
        self.horizon = horizon
        self.target = target
        self.freq = freq

    # ------------------------------------------------------------ public API
    def fit(self, y: pd.Series | pd.DataFrame, X: pd.DataFrame | None = None) -> ARIMAForecaster:
        """Fit to ``y``, with optional future-known regressors ``X`` (one row per
        observation: matched by timestamp for pandas with a DatetimeIndex, else by
        position). See :meth:`BaseForecaster.fit`."""
        with self._using_X(X), _one_blas_thread():
            return super().fit(y)

    def predict(self, horizon: int | None = None, X: pd.DataFrame | None = None) -> pd.Series:
        """Point forecasts; ``X`` (required iff ``fit`` had one) covers the horizon."""
        with self._using_X(X), _one_blas_thread():
            return super().predict(horizon)

    def predict_interval(
        self, horizon: int | None = None, coverage: float = 0.9, X: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Intervals from the model's forecast distribution (``get_forecast().conf_int``)."""
        with self._using_X(X), _one_blas_thread():
            return super().predict_interval(horizon, coverage)

    def update(
        self, y_new: pd.Series | pd.DataFrame, X: pd.DataFrame | None = None
    ) -> ARIMAForecaster:
        """Append observations (``results_.extend``: no re-estimation); ``X`` covers them."""
        with self._using_X(X), _one_blas_thread():
            return super().update(y_new)

    def refit(self) -> ARIMAForecaster:
        """Re-estimate on all data seen (fit plus updates); ``order='auto'`` searches again.

        Returns
        -------
        self
        """
        check_is_fitted(self, "results_")
        index = pd.date_range(end=self.cutoff_, periods=len(self._endog), freq=self.freq_)
        y = pd.Series(self._endog * self.scale_, index=index, name=self.target_name_)
        X = None
        if self._exog is not None:
            X = pd.DataFrame(self._exog, index=index, columns=self.exog_names_)
        return self.fit(y, X)

    # ----------------------------------------------------------------- hooks
    def _min_length(self) -> int:
        spec = self._spec()
        if spec.order is None:
            return _AUTO_MIN_LENGTH
        (p, d, q), (P, D, Q, m) = spec.order, spec.seasonal_order
        return d + D * m + max(p + P * m, q + Q * m) + 3

    def _fit(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        spec = self._spec()
        index = pd.date_range(end=self.cutoff_, periods=self.n_obs_, freq=self.freq_)
        exog = None
        self.exog_names_ = None
        if getattr(self, "_X_input", None) is not None:
            exog, self.exog_names_ = _align_X(self._X_input, index, None, "fit")
        self.scale_ = _scale_for(y)
        ys = y / self.scale_
        if auto.is_constant(ys):
            self._fit_constant(ys, exog)
        elif spec.order is None:
            self._fit_auto(ys, exog)
        else:
            self._fit_fixed(ys, exog, spec)

    def _predict(self, horizon: int) -> np.ndarray:
        return np.asarray(self._forecast(horizon).predicted_mean) * self.scale_

    def _predict_interval(self, horizon: int, coverage: float) -> tuple[np.ndarray, np.ndarray]:
        bounds = np.asarray(self._forecast(horizon).conf_int(alpha=1 - coverage)) * self.scale_
        return bounds[:, 0], bounds[:, 1]

    def _update(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        user = self._user_exog(len(y), "update")
        ys = y / self.scale_
        exog = auto.full_exog(self.trend_, len(self._endog) + 1, len(ys), user)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.results_ = self.results_.extend(ys, exog=exog)  # keeps the covariance
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
        model = auto.build_model(
            self._endog, self._exog, self.order_, self.seasonal_order_, self.trend_
        )
        with warnings.catch_warnings(), _one_blas_thread():
            warnings.simplefilter("ignore")
            self.results_ = model.filter(params, **_NO_COV)

    # --------------------------------------------------------------- fitting
    def _fit_fixed(self, ys: np.ndarray, exog: np.ndarray | None, spec: _Spec) -> None:
        (_, d, _), (_, D, _, _) = spec.order, spec.seasonal_order
        trend = self.trend if self.trend is not None else ("c" if d + D == 0 else "n")
        try:
            auto.check_trend(trend, d, D)
        except ValueError as exc:
            raise InputError(str(exc)) from exc
        model = auto.build_model(ys, exog, spec.order, spec.seasonal_order, trend)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                results, converged = self._estimate_fixed(model, ys, exog, spec, trend)
            except (ValueError, np.linalg.LinAlgError) as exc:
                raise DataError(
                    f"ARIMA{spec.order}x{spec.seasonal_order} could not be fitted ({exc}); "
                    f"{_ADVICE}."
                ) from exc
        converged &= not any(issubclass(w.category, SMConvergenceWarning) for w in caught)
        self._store(results, spec.order, spec.seasonal_order, trend, ys, exog)
        self.search_trace_ = [self._trace_entry(converged)]
        self._warn(converged, timed_out=False)

    def _estimate_fixed(self, model, ys, exog, spec: _Spec, trend: str) -> tuple[object, bool]:
        """statsmodels' own fit, or tsrnn's CSS-ML estimates filtered through the model."""
        if self.method != "css-ml":
            return model.fit(method=self.method), True
        (p, d, q), (P, D, Q, m) = spec.order, spec.seasonal_order
        settings = auto.SearchSettings(d, D, m, trend=trend)
        candidate = auto.Candidate(p, q, P, Q, False)
        # a second start from zeros where affordable, as the search's polish step
        starts = (False, True) if auto.second_start_affordable(len(ys), candidate, m) else (False,)
        fits = [auto.fit_css_ml(ys, exog, candidate, settings, zero) for zero in starts]
        best = max(fits, key=lambda fit: fit.llf)
        return model.filter(best.params, **_NO_COV), best.converged

    def _fit_auto(self, ys: np.ndarray, exog: np.ndarray | None) -> None:
        settings = self._search_settings(ys, exog)
        result = auto.select_order(ys, exog, settings)
        best = result.best
        if best.params is None:
            errors = [e["error"] for e in result.trace if e["error"]]
            raise DataError(
                f"no ARIMA model could be fitted to y ({len(result.trace)} tried; first "
                f"error: {errors[0] if errors else 'time budget spent'}); {_ADVICE}."
            )
        order, seasonal_order = settings.orders(best.candidate)
        trend = settings.trend_for(best.candidate)
        model = auto.build_model(ys, exog, order, seasonal_order, trend)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = model.filter(best.params, **_NO_COV)
        self._store(results, order, seasonal_order, trend, ys, exog)
        self.search_trace_ = result.trace
        self._warn(best.converged, result.timed_out)

    def _fit_constant(self, ys: np.ndarray, exog: np.ndarray | None) -> None:
        """A constant series: forecast that constant, with zero-width intervals."""
        model = auto.build_model(ys, exog, (0, 0, 0), (0, 0, 0, 0), "c")
        k_exog = 0 if exog is None else exog.shape[1]
        params = np.concatenate([[ys[0]], np.zeros(k_exog), [0.0]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = model.filter(params, **_NO_COV)
        self._store(results, (0, 0, 0), (0, 0, 0, 0), "c", ys, exog, aicc=float("nan"))
        self.search_trace_ = [self._trace_entry(True, "constant series: nothing estimated")]

    def _search_settings(self, ys: np.ndarray, exog: np.ndarray | None) -> auto.SearchSettings:
        m = self._season_length(len(ys))
        residuals = _regression_residuals(ys, exog)
        D = auto.nsdiffs(residuals, m, self.max_D) if m > 1 else 0
        for _ in range(D):
            residuals = residuals[m:] - residuals[:-m]
        d = auto.ndiffs(residuals, alpha=0.05, max_d=self.max_d)
        approximation = self.approximation
        if approximation is None:
            seasonal_and_long = m > 1 and len(ys) > _APPROXIMATE_SEASONAL_ABOVE
            approximation = seasonal_and_long or len(ys) > _APPROXIMATE_ABOVE
        return auto.SearchSettings(
            d, D, m, self.max_p, self.max_q, self.max_P, self.max_Q,
            criterion=self.information_criterion, stepwise=bool(self.stepwise),
            time_budget=self.time_budget, method=self.method, trend=self.trend,
            approximation=bool(approximation),
        )  # fmt: skip

    def _season_length(self, n: int) -> int:
        m = self.season_length if self.season_length is not None else season_length_for(self.freq_)
        if m > _MAX_SEASON:
            if self.season_length is not None:
                warnings.warn(
                    f"season_length={m} is too long for seasonal ARIMA (at most {_MAX_SEASON}); "
                    "fitting a non-seasonal model. Pass Fourier terms as X for long seasons.",
                    DataWarning,
                    stacklevel=7,
                )
            return 1
        return m if n >= 3 * m + _SEASONAL_SLACK else 1

    def _store(self, results, order, seasonal_order, trend, ys, exog, aicc=None) -> None:
        self.results_ = results
        self.order_, self.seasonal_order_, self.trend_ = order, seasonal_order, trend
        if aicc is None:
            n_eff = len(ys) - order[1] - seasonal_order[1] * seasonal_order[3]
            llf, k = float(results.llf), len(results.params)
            aicc = auto.information_criterion(llf, k, n_eff, "aicc")
        self.aicc_ = float(aicc)
        self._endog, self._exog = ys, exog

    def _trace_entry(self, converged: bool, error: str | None = None) -> dict:
        return {
            "order": self.order_,
            "seasonal_order": self.seasonal_order_,
            "trend": self.trend_,
            "method": self.method or "statespace",
            "ic": None if error else float(self.aicc_),
            "converged": converged,
            "seconds": None,
            "error": error,
        }

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
                f"{message}. Forecasts may be unreliable: {_ADVICE}.",
                ARIMAConvergenceWarning,
                stacklevel=6,
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
        return _align_X(X, index, self.exog_names_, role)[0]

    def _forecast(self, horizon: int):
        user = self._user_exog(horizon, "predict")
        exog = auto.full_exog(self.trend_, len(self._endog) + 1, horizon, user)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.results_.get_forecast(horizon, exog=exog)

    def _spec(self) -> _Spec:
        """Validate the parameters (messages name them) and normalise the orders."""
        is_auto = isinstance(self.order, str) and self.order == "auto"
        order = None if is_auto else _as_ints(self.order, "order ('auto' or p, d, q)", 3)
        if order is None and self.seasonal_order is not None:
            raise InputError(
                "seasonal_order is only used with an explicit order; with order='auto' set "
                "season_length instead."
            )
        seasonal = (0, 0, 0, 0)
        if self.seasonal_order is not None:
            seasonal = _as_ints(self.seasonal_order, "seasonal_order", 4)
            if seasonal[3] < 2 and any(seasonal[:3]):
                raise InputError(f"seasonal_order needs a season length m >= 2; got {seasonal!r}.")
        self._check_options()
        return _Spec(order, seasonal)

    def _check_options(self) -> None:
        if self.trend not in _TRENDS:
            raise InputError(
                f"trend must be one of 'n', 'c', 't', 'ct' or None; got {self.trend!r}."
            )
        if self.information_criterion not in _CRITERIA:
            raise InputError(
                f"information_criterion must be one of {', '.join(_CRITERIA)}; "
                f"got {self.information_criterion!r}."
            )
        for name in ("max_p", "max_q", "max_P", "max_Q", "max_d", "max_D"):
            _check_count(getattr(self, name), name)
        if self.season_length is not None:
            _check_count(self.season_length, "season_length", minimum=1)
        if self.method not in _METHODS:
            raise InputError(
                f"method must be None or one of {', '.join(map(str, _METHODS[1:]))}; "
                f"got {self.method!r}."
            )
        if self.approximation not in (None, True, False):
            raise InputError(
                f"approximation must be None, True or False; got {self.approximation!r}."
            )
        budget = self.time_budget
        if budget is not None and (not isinstance(budget, numbers.Real) or budget <= 0):
            raise InputError(f"time_budget must be a positive number of seconds; got {budget!r}.")
