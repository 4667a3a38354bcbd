"""The one base class of every tsrnn forecaster.

:class:`BaseForecaster` owns everything the forecasters share: validating pandas
input, the fitted time axis (``cutoff_``, ``freq_``), future timestamps, horizon and
coverage checks, ``update`` bookkeeping and ``save``. A concrete forecaster implements
five small hooks on numpy arrays: ``_fit``, ``_predict``, ``_predict_interval``,
``_update`` and ``_min_length``. A panel (many series, :mod:`tsrnn.panel`) is handed
to :mod:`tsrnn._panel_models`, which fits a clone per series, or calls the ``_*_panel`` hooks of
a global model (``_global_model = True``).
"""

from __future__ import annotations

import numbers
import os

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from tsrnn import _panel_models as panel_models
from tsrnn import calendars
from tsrnn.exceptions import DataError, InputError, NotEnoughDataError
from tsrnn.limits import check_horizon_bound
from tsrnn.panel import fitted_on_panel, is_panel
from tsrnn.validation import prepare

__all__ = ["BaseForecaster"]


class BaseForecaster(BaseEstimator):
    """Shared fit/predict/update/save logic over pandas series with a ``DatetimeIndex``.

    Subclasses store their constructor arguments unchanged (scikit-learn rules), expose
    ``horizon``, ``target``, ``freq`` and ``calendar`` parameters, and implement the hooks
    below. The time axis is ``freq_`` and, for data on an exchange's trading sessions,
    ``calendar_`` (an exchange name such as ``"XNYS"``, else None); compute timestamps
    with :meth:`_future_index` and :meth:`_past_index`, never ``pd.date_range(freq=...)``.
    """

    #: Whether the other numeric columns of a DataFrame ``y`` are used as covariates.
    _uses_covariates = False
    #: Whether one model learns from all series of a panel (else one clone per series).
    _global_model = False

    # ------------------------------------------------------------------ hooks
    def _fit(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        raise NotImplementedError

    def _predict(self, horizon: int) -> np.ndarray:
        raise NotImplementedError

    def _predict_interval(self, horizon: int, coverage: float) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _update(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        raise NotImplementedError

    def _min_length(self) -> int:
        """Fewest observations ``fit`` accepts (per series on a panel)."""
        return 2

    # Global models only. Arrays are in the order of ``self.series_ids_``; the base layer
    # sets ``series_ids_`` and ``cutoffs_`` before ``_fit_panel`` and advances ``cutoffs_``
    # after ``_update_panel``.
    def _fit_panel(self, ys: list[np.ndarray], covariates: list[np.ndarray | None]) -> None:
        raise NotImplementedError

    def _predict_panel(self, horizon: int) -> list[np.ndarray]:
        raise NotImplementedError

    def _predict_interval_panel(
        self, horizon: int, coverage: float
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError

    def _update_panel(self, updates: dict[int, tuple[np.ndarray, np.ndarray | None]]) -> None:
        """``updates`` maps a position in ``series_ids_`` to that series' new rows."""
        raise NotImplementedError

    # ------------------------------------------------------------ public API
    def fit(self, y: pd.Series | pd.DataFrame, X: pd.DataFrame | None = None) -> BaseForecaster:
        """Fit the forecaster to a series.

        Parameters
        ----------
        y : pd.Series or pd.DataFrame, or a panel
            Observations on a ``DatetimeIndex``. For a DataFrame, the column named by the
            ``target`` parameter is forecast (the only column needs no name); models
            that use covariates take the other numeric columns as past covariates.
            Missing values and gaps are interpolated with a :class:`~tsrnn.DataWarning`.
            A panel (a dict of series, or pandas on a (series id, timestamp)
            ``MultiIndex``) fits every series; see :mod:`tsrnn.panel`.
        X : pd.DataFrame, optional
            Future-known regressors, for models that support them.

        Returns
        -------
        self
            The fitted forecaster.

        Raises
        ------
        DataError
            If ``y`` is not a numeric series with a ``DatetimeIndex``, has duplicate
            timestamps or infinite values, or no regular frequency can be inferred.
        NotEnoughDataError
            If ``y`` is shorter than the model needs; the message gives the minimum.
        """
        self._check_horizon(self.horizon, "horizon")
        self._check_unused_X(X)
        if is_panel(y):
            return panel_models.fit_panel(self, y, X)
        panel_models.forget_panel(self)
        frame, target, freq = self._validate_y(y)
        minimum = self._min_length()
        if len(frame) < minimum:
            raise NotEnoughDataError(
                f"y has {len(frame)} observations but {type(self).__name__} with these "
                f"parameters needs at least {minimum}; use a longer series or a smaller "
                "lookback/horizon."
            )
        self.target_name_ = target
        self.freq_ = freq
        self.calendar_ = self._calendar_seen
        self.cutoff_ = frame.index[-1]
        self.n_obs_ = len(frame)
        self.covariate_names_ = list(frame.columns[1:])
        covariates = frame.iloc[:, 1:].to_numpy(dtype=float) if self.covariate_names_ else None
        self._fit(frame.iloc[:, 0].to_numpy(dtype=float), covariates)
        return self

    def predict(self, horizon: int | None = None) -> pd.Series:
        """Forecast the next ``horizon`` steps after the end of the data.

        Parameters
        ----------
        horizon : int, optional
            Number of steps; ``None`` means the ``horizon`` the model was built for.

        Returns
        -------
        pd.Series
            Point forecasts indexed by the future timestamps, named like the target;
            for a panel, on a (series id, timestamp) ``MultiIndex``.
        """
        check_is_fitted(self, "cutoff_")
        steps = self._resolve_horizon(horizon)
        if fitted_on_panel(self):
            return panel_models.predict_panel(self, steps)
        index = self._forecast_index(steps)
        values = np.asarray(self._predict(steps), dtype=float)
        return pd.Series(values, index=index, name=self.target_name_)

    def predict_interval(self, horizon: int | None = None, coverage: float = 0.9) -> pd.DataFrame:
        """Prediction intervals for the next ``horizon`` steps.

        Parameters
        ----------
        horizon : int, optional
            Number of steps; ``None`` means the ``horizon`` the model was built for.
        coverage : float
            Nominal probability that an interval holds the actual value, in (0, 1).

        Returns
        -------
        pd.DataFrame
            Columns ``lower`` and ``upper`` on the future timestamps (for a panel, on a
            (series id, timestamp) ``MultiIndex``).
        """
        check_is_fitted(self, "cutoff_")
        steps = self._resolve_horizon(horizon)
        if (
            isinstance(coverage, bool)
            or not isinstance(coverage, numbers.Real)
            or not 0 < coverage < 1
        ):
            raise InputError(
                f"coverage must be a number between 0 and 1 (exclusive); got {coverage!r}."
            )
        if fitted_on_panel(self):
            return panel_models.predict_interval_panel(self, steps, float(coverage))
        index = self._forecast_index(steps)
        lower, upper = self._predict_interval(steps, float(coverage))
        return pd.DataFrame({"lower": lower, "upper": upper}, index=index)

    def update(self, y_new: pd.Series | pd.DataFrame) -> BaseForecaster:
        """Append newer observations without a full refit.

        Parameters
        ----------
        y_new : pd.Series or pd.DataFrame
            Observations continuing the training data (same target and covariates),
            starting one step after the end of the data the model has seen. A Series is
            taken as the target whatever its name. A model fitted on a panel takes a
            panel, holding any of its series.

        Returns
        -------
        self
            The next ``predict`` starts after the new data.

        Raises
        ------
        DataError
            If ``y_new`` holds rows the model has already seen (at or before ``cutoff_``:
            they are refused, not silently ignored or replaced; pass
            ``y_new[y_new.index > model.cutoff_]``, or refit to use corrected values), does
            not start one step after ``cutoff_``, or its time zone differs from the fit's.
        """
        check_is_fitted(self, "cutoff_")
        if is_panel(y_new) or fitted_on_panel(self):
            return panel_models.update_panel(self, y_new)
        if isinstance(y_new, pd.Series):
            y_new = y_new.rename(self.target_name_)
        self._check_same_zone(y_new)
        seen = _rows_up_to(y_new, self.cutoff_)
        if seen:
            raise DataError(
                f"y_new has {seen} row(s) at or before {self.cutoff_}, the end of the data the "
                "model has seen; update takes only newer rows (y_new[y_new.index > "
                "model.cutoff_]). Refit to use corrected values of seen rows."
            )
        rows = self._continuing_rows(y_new, self.cutoff_)
        if rows is None:
            return self
        target, covariates, last = rows
        self._update(target, covariates)
        self.cutoff_ = last
        self.n_obs_ += len(target)
        return self

    def _continuing_rows(
        self, y_new: pd.Series | pd.DataFrame, cutoff: pd.Timestamp
    ) -> tuple[np.ndarray, np.ndarray | None, pd.Timestamp] | None:
        """Validate rows after ``cutoff`` that must continue the data one step after it.

        Returns the target values, the covariates (or None) and the last new timestamp;
        None when ``y_new`` has no row after ``cutoff``.
        """
        frame, _, _ = self._validate_y(y_new, after=cutoff)
        if frame is None:
            return None
        expected = self._future_index(1, cutoff=cutoff)[0]
        if frame.index[0] != expected:
            raise DataError(
                f"y_new starts at {frame.index[0]} but must continue the data at {expected}."
            )
        missing_cols = [c for c in self.covariate_names_ if c not in frame.columns]
        if missing_cols:
            raise DataError(f"y_new lacks the covariate column(s) {', '.join(missing_cols)}.")
        covariates = (
            frame[self.covariate_names_].to_numpy(dtype=float) if self.covariate_names_ else None
        )
        return frame[self.target_name_].to_numpy(dtype=float), covariates, frame.index[-1]

    def save(self, path: str | os.PathLike) -> None:
        """Save the fitted forecaster to a model file (no pickle; written atomically).

        Parameters
        ----------
        path : str or path-like
            Destination; conventionally ending in ``.tsrnn``. Load it with :func:`tsrnn.load`.
        """
        from tsrnn.persistence import save_model

        save_model(self, path)

    # --------------------------------------------------------------- helpers
    def _get_state(self) -> dict:
        """Fitted attributes to persist: everything public ending in ``_``."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def _set_state(self, state: dict) -> None:
        for key, value in state.items():
            if not _is_state_name(key) or hasattr(type(self), key):
                raise InputError(f"{key!r} is not a fitted attribute of {type(self).__name__}.")
            setattr(self, key, value)

    def _check_same_zone(self, y_new: pd.Series | pd.DataFrame) -> None:
        index = getattr(y_new, "index", None)
        zone, fitted = getattr(index, "tz", None), self.cutoff_.tz
        if isinstance(index, pd.DatetimeIndex) and str(zone) != str(fitted):
            raise DataError(
                f"y_new's timestamps are in time zone {zone or 'none (naive)'}, but the model "
                f"was fitted on {fitted or 'naive'} timestamps; convert them first "
                "(tz_convert / tz_localize)."
            )

    @staticmethod
    def _check_horizon(value: object, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise InputError(f"{name} must be a positive integer; got {value!r}.")
        return int(value)

    def _resolve_horizon(self, horizon: int | None) -> int:
        steps = self._check_horizon(self.horizon if horizon is None else horizon, "horizon")
        check_horizon_bound(steps, int(getattr(self, "n_obs_", 0)), "the fitted series")
        return steps

    def _forecast_index(self, steps: int) -> pd.DatetimeIndex:
        """``_future_index``, with dates past what pandas can represent reported plainly."""
        try:
            return self._future_index(steps)
        except (pd.errors.OutOfBoundsDatetime, OverflowError) as exc:
            raise InputError(
                f"{steps:,} steps of {self.freq_} after {self.cutoff_} go past the last date "
                "pandas can represent; ask for fewer steps."
            ) from exc

    def _future_index(self, steps: int, cutoff: pd.Timestamp | None = None) -> pd.DatetimeIndex:
        """The ``steps`` timestamps after ``cutoff`` (default ``cutoff_``).

        Exchange sessions when the data is on a calendar: weekends, holidays and
        closures are skipped.
        """
        cutoff = self.cutoff_ if cutoff is None else cutoff
        return calendars.future_dates(cutoff, steps, self.freq_, self._fitted_calendar())

    def _past_index(self, periods: int, end: pd.Timestamp | None = None) -> pd.DatetimeIndex:
        """The ``periods`` timestamps ending at ``end`` (default ``cutoff_``), inclusive."""
        end = self.cutoff_ if end is None else end
        return calendars.past_dates(end, periods, self.freq_, self._fitted_calendar())

    def _fitted_calendar(self) -> str | None:
        """The exchange the data is on: ``calendar_``, else the one the last validation
        found (a layer that validates series itself, such as a panel's, may not set
        ``calendar_``); None for model files of before calendars."""
        if hasattr(self, "calendar_"):
            return self.calendar_
        return getattr(self, "_calendar_seen", None)

    #: Whether ``fit`` uses ``X`` (future-known regressors).
    _uses_X = False

    def _check_unused_X(self, X: object) -> None:
        if X is not None and not self._uses_X:
            raise InputError(
                f"{type(self).__name__} does not use X (future-known regressors), so it "
                "would be ignored; fit without X, or use a model that supports it "
                "(ARIMAForecaster)."
            )

    def _validate_y(
        self, y: pd.Series | pd.DataFrame, after: pd.Timestamp | None = None
    ) -> tuple[pd.DataFrame | None, str, str]:
        """Turn ``y`` into a regular numeric frame with the target first."""
        frame, target = self._as_frame(y)
        if not isinstance(frame.index, pd.DatetimeIndex):
            raise DataError(
                f"y must have a DatetimeIndex; got {type(frame.index).__name__}. "
                "Use tsrnn.read_csv, or y.set_index(pd.to_datetime(...))."
            )
        if after is not None:
            frame = frame[frame.index > after]
            if frame.empty:
                return None, target, self.freq_
            freq, calendar = self.freq_, self._fitted_calendar() or calendars.NONE
        else:
            freq, calendar = self.freq, getattr(self, "calendar", calendars.INFER)
        if not self._uses_covariates:
            frame = frame[[target]]
        prepared = prepare(frame, target=target, freq=freq, calendar=calendar, source="y")
        self._calendar_seen = prepared.calendar
        return prepared.frame, target, prepared.freq

    def _as_frame(self, y: pd.Series | pd.DataFrame) -> tuple[pd.DataFrame, str]:
        if isinstance(y, pd.Series):
            target = str(y.name) if y.name is not None else (self.target or "y")
            return self._numeric(y.to_frame(target), target), target
        if not isinstance(y, pd.DataFrame):
            raise DataError(f"y must be a pandas Series or DataFrame; got {type(y).__name__}.")
        target = getattr(self, "target_name_", None) or self.target
        if target is None:
            if y.shape[1] != 1:
                raise DataError(
                    f"y has {y.shape[1]} columns ({', '.join(map(str, y.columns))}); name the "
                    "one to forecast with target=."
                )
            target = y.columns[0]
        if target not in y.columns:
            raise DataError(
                f"y has no column {target!r}; columns are {', '.join(map(str, y.columns))}."
            )
        numeric = [c for c in y.columns if c == target or pd.api.types.is_numeric_dtype(y[c])]
        return self._numeric(y[numeric], target), str(target)

    @staticmethod
    def _numeric(frame: pd.DataFrame, target: str) -> pd.DataFrame:
        if len(frame) == 0:
            raise NotEnoughDataError("y is empty.")
        for column in frame.columns:
            _check_real_values(frame[column], column)
        if not pd.api.types.is_numeric_dtype(frame[target]) or pd.api.types.is_bool_dtype(
            frame[target]
        ):
            values = pd.to_numeric(frame[target], errors="coerce")
            bad = values.isna() & frame[target].notna()
            if bad.any():
                stamp = frame.index[int(np.flatnonzero(bad.to_numpy())[0])]
                raise DataError(
                    f"y, column '{target}', at {stamp}: {frame[target][bad].iloc[0]!r} is not a number."
                )
            frame = frame.assign(**{target: values})
        return frame.astype(float)


def _is_state_name(key: object) -> bool:
    """Fitted attributes end in ``_`` (private ones start with one); never dunders."""
    return (
        isinstance(key, str)
        and key.isidentifier()
        and not key.startswith("__")
        and (key.endswith("_") or key.startswith("_"))
    )


def _rows_up_to(y: object, cutoff: pd.Timestamp) -> int:
    index = getattr(y, "index", None)
    if not isinstance(index, pd.DatetimeIndex) or str(index.tz) != str(cutoff.tz):
        return 0
    return int((index <= cutoff).sum())


def _check_real_values(values: pd.Series, column: object) -> None:
    """Refuse dates, durations and complex numbers, which would pass as (wrong) numbers."""
    kind = getattr(values.dtype, "kind", "O")
    what = {"M": "dates", "m": "time durations", "c": "complex numbers"}.get(kind)
    if what is None and pd.api.types.is_object_dtype(values.dtype):
        sample = values.dropna().head(1)
        if len(sample) and isinstance(sample.iloc[0], complex):
            what = "complex numbers"
    if what is not None:
        raise DataError(
            f"y, column '{column}': holds {what} ({values.dtype}), not real numbers to "
            "forecast; pass the numeric values (for complex data, the real part or the "
            "absolute value)."
        )
