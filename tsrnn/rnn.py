"""LSTM, GRU and simple-RNN forecasters: scikit-learn estimators over PyTorch.

This module does not import torch; :mod:`tsrnn.nn` is imported on the first ``fit``
or ``load``. The pipeline of ``fit``:

1. split the windows in time: training windows, a gap of ``horizon - 1`` windows (so no
   training target overlaps a validation target), then the validation tail
   (``validation_fraction`` of the windows);
2. fit the scaler on the rows the training windows cover, and scale everything;
3. train the network (Adam, mini-batches of shuffled windows, gradient clipping, early
   stopping on the validation tail with best-weights restore, learning rate halved on
   plateaus);
4. keep the validation tail's absolute errors per horizon step for split-conformal
   prediction intervals (:mod:`tsrnn.conformal`; without a validation tail, the
   training windows' in-sample errors, which give narrower intervals).

A series whose target is constant has nothing to learn: the network's output layer is
zeroed and not trained, so it forecasts exactly that constant. ``update`` moves the
input window to the newest rows (and, with ``fine_tune_epochs``, trains briefly on the
windows that end in them); ``predict`` beyond ``horizon`` feeds forecasts back in.

By default each input window is normalised by its last target value
(``window_normalization='last_value'``): the network forecasts changes from the last
observation, so it starts out as the naive forecast and is not thrown off by levels
outside the training range (prices at a new high), the failure that makes globally
scaled LSTMs lose to naive on stock prices.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from tsrnn.base import BaseForecaster
from tsrnn.conformal import half_widths, loo_coverage
from tsrnn.exceptions import InputError
from tsrnn.features import calendar_features
from tsrnn.scaling import inverse_target, make_scaler, restore_scaler, scaler_state

__all__ = ["LSTMForecaster", "GRUForecaster", "RNNForecaster"]

_NORMALIZATIONS = ("last_value", None)
_LOSSES = ("mse", "mae", "huber")


class _RecurrentForecaster(BaseForecaster):
    """Shared implementation; see :class:`LSTMForecaster` for the parameters."""

    _cell = "lstm"
    _uses_covariates = True

    def __init__(
        self,
        lookback: int = 30,
        horizon: int = 7,
        hidden_size: int = 32,
        num_layers: int = 1,
        dropout: float = 0.0,
        epochs: int = 100,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        early_stopping: int | None = 10,
        validation_fraction: float = 0.2,
        gradient_clip: float | None = 1.0,
        scaler: object = "standard",
        window_normalization: str | None = "last_value",
        calendar_features: bool = False,
        loss: str = "mse",
        warm_start: bool = False,
        fine_tune_epochs: int = 0,
        n_threads: int | None = None,
        random_state: int | None = None,
        device: str = "auto",
        verbose: bool = False,
        target: str | None = None,
        freq: str | None = None,
        calendar: str = "infer",
    ):
        self.lookback = lookback
        self.horizon = horizon
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.gradient_clip = gradient_clip
        self.scaler = scaler
        self.window_normalization = window_normalization
        self.calendar_features = calendar_features
        self.loss = loss
        self.warm_start = warm_start
        self.fine_tune_epochs = fine_tune_epochs
        self.n_threads = n_threads
        self.random_state = random_state
        self.device = device
        self.verbose = verbose
        self.target = target
        self.freq = freq
        self.calendar = calendar

    # ------------------------------------------------------------- checks
    def _check_params(self) -> None:
        for name in ("lookback", "hidden_size", "num_layers", "epochs", "batch_size"):
            self._check_horizon(getattr(self, name), name)
        if not 0 <= self.validation_fraction < 1:
            raise InputError(
                f"validation_fraction must be in [0, 1); got {self.validation_fraction!r}."
            )
        if not 0 <= self.dropout < 1:
            raise InputError(f"dropout must be in [0, 1); got {self.dropout!r}.")
        if not (isinstance(self.learning_rate, numbers.Real) and self.learning_rate > 0):
            raise InputError(
                f"learning_rate must be a positive number; got {self.learning_rate!r}."
            )
        if self.window_normalization not in _NORMALIZATIONS:
            raise InputError(
                f"window_normalization must be 'last_value' or None; got {self.window_normalization!r}."
            )
        if self.device not in ("auto", "cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise InputError(f"device must be 'auto', 'cpu' or 'cuda'; got {self.device!r}.")
        if self.loss not in _LOSSES:
            raise InputError(f"loss must be one of {', '.join(_LOSSES)}; got {self.loss!r}.")
        for name in ("early_stopping", "n_threads"):
            if getattr(self, name) is not None:
                self._check_horizon(getattr(self, name), name)
        if not (isinstance(self.fine_tune_epochs, numbers.Integral) and self.fine_tune_epochs >= 0):
            raise InputError(
                f"fine_tune_epochs must be a non-negative integer; got {self.fine_tune_epochs!r}."
            )

    def _split(self, n_obs: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Training and validation window positions, and the rows the training windows cover."""
        n_windows = n_obs - self.lookback - self.horizon + 1
        n_val = (
            0
            if self.validation_fraction == 0
            else max(1, round(self.validation_fraction * n_windows))
        )
        gap = self.horizon - 1 if n_val else 0
        n_train = n_windows - n_val - gap
        train_idx = np.arange(max(n_train, 0))
        val_idx = np.arange(n_windows - n_val, max(n_windows, 0))
        return train_idx, val_idx, n_train - 1 + self.lookback + self.horizon

    def _min_length(self) -> int:
        self._check_params()
        # The number of training windows never falls as n_obs grows: double, then bisect
        # (a linear search takes minutes for a horizon in the millions).
        low = high = self.lookback + self.horizon
        while len(self._split(high)[0]) < 1:
            low, high = high + 1, 2 * high
        while low < high:
            mid = (low + high) // 2
            if len(self._split(mid)[0]) < 1:
                low = mid + 1
            else:
                high = mid
        return low

    def _seed(self) -> int:
        if self.random_state is None:
            return int(np.random.default_rng().integers(2**31 - 1))
        return int(self.random_state)

    # ---------------------------------------------------------------- fit
    def _fit(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        from tsrnn.nn import forecasting

        values = y[:, None] if covariates is None else np.column_stack([y, covariates])
        device = self._device()  # fails before any work if CUDA is asked for but missing
        train_idx, val_idx, covered = self._split(len(values))
        reuse = self.warm_start and getattr(self, "n_inputs_", None) == values.shape[1]
        if not reuse:
            self.scaler_ = make_scaler(self.scaler).fit(values[:covered])
            self.n_inputs_ = values.shape[1]
        future = self._calendar(self._past_index(len(values)))
        self.future_size_ = 0 if future is None else future.shape[1]
        seed = self._seed()
        if not reuse:
            self.net_ = self._build_net(seed)
        constant = np.ptp(y) == 0
        if constant:  # nothing to learn: forecast "no change", which is exactly the constant
            forecasting.zero_output(self.net_)
        settings = dict(
            self._settings(seed, device),
            epochs=0 if constant else self.epochs,
            early_stopping=self.early_stopping,
        )
        outcome = forecasting.fit_network(
            self.net_,
            self.scaler_.transform(values),
            future,
            lookback=self.lookback,
            horizon=self.horizon,
            train_idx=train_idx,
            val_idx=val_idx,
            calib_idx=val_idx if len(val_idx) else train_idx,
            settings=settings,
            n_threads=self.n_threads,
        )
        self.history_ = outcome.result.history
        self.best_epoch_ = outcome.result.best_epoch
        self.stopped_early_ = outcome.result.stopped_early
        forecasts = inverse_target(self.scaler_, outcome.val_forecasts, self.n_inputs_)
        actuals = inverse_target(self.scaler_, outcome.val_targets, self.n_inputs_)
        self.calibration_residuals_ = np.abs(actuals - forecasts)
        self.interval_coverage_ = loo_coverage(self.calibration_residuals_, 0.9)
        self.recent_ = values[-self.lookback :].copy()
        self.context_ = values[-(self.lookback + self.horizon - 1) :].copy()

    def _settings(self, seed: int, device: str) -> dict:
        """Training settings shared by ``fit`` and the fine-tuning in ``update``."""
        return dict(
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            loss=self.loss,
            gradient_clip=self.gradient_clip,
            seed=seed,
            device=device,
            verbose=self.verbose,
        )

    def _build_net(self, seed: int):
        from tsrnn.nn import forecasting

        return forecasting.build_network(
            self._cell,
            self.n_inputs_,
            self.hidden_size,
            self.num_layers,
            self.dropout,
            self.horizon,
            self.future_size_,
            self.window_normalization == "last_value",
            seed,
        )

    def _calendar(self, index: pd.DatetimeIndex) -> np.ndarray | None:
        return calendar_features(index, self.freq_) if self.calendar_features else None

    # ------------------------------------------------------------ predict
    def _forecast_from(self, recent: np.ndarray, start: pd.Timestamp) -> np.ndarray:
        """One direct multi-horizon forecast (original units) from a raw input window."""
        from tsrnn.nn import forecasting

        future_index = self._future_index(self.horizon, start)
        scaled = forecasting.forecast_window(
            self.net_,
            self.scaler_.transform(recent),
            self._calendar(future_index),
            self._device(),
            self.n_threads,
        )
        return inverse_target(self.scaler_, scaled, self.n_inputs_)

    def _device(self) -> str:
        """The device to use: 'auto' picks CUDA when available; CUDA asked for must exist."""
        if self.device == "auto":
            return "cuda" if _cuda_available() else "cpu"
        if self.device != "cpu" and not _cuda_available():
            raise InputError(
                f"device={self.device!r} but CUDA is not available to torch on this machine; "
                "use device='cpu' or device='auto'."
            )
        return self.device

    def _predict(self, horizon: int) -> np.ndarray:
        if horizon > self.horizon and self.n_inputs_ > 1:
            raise InputError(
                f"horizon={horizon} exceeds the trained horizon {self.horizon}, and the model "
                "uses covariates whose future values are unknown; refit with a larger horizon."
            )
        recent, start = self.recent_, self.cutoff_
        out = [self._forecast_from(recent, start)]
        while len(out) * self.horizon < horizon:
            # Beyond the trained horizon: recursive roll-out, feeding forecasts back in.
            recent = np.concatenate([recent, out[-1][:, None]])[-self.lookback :]
            start = self._future_index(self.horizon, start)[-1]
            out.append(self._forecast_from(recent, start))
        return np.concatenate(out)[:horizon]

    def _predict_interval(self, horizon: int, coverage: float) -> tuple[np.ndarray, np.ndarray]:
        point = self._predict(horizon)
        half = half_widths(self.calibration_residuals_, coverage, horizon)
        return point - half, point + half

    # ------------------------------------------------------------- update
    def _update(self, y: np.ndarray, covariates: np.ndarray | None) -> None:
        new = y[:, None] if covariates is None else np.column_stack([y, covariates])
        rows = np.concatenate([getattr(self, "context_", self.recent_), new])
        if self.fine_tune_epochs:
            self._fine_tune(rows)
        self.recent_ = rows[-self.lookback :].copy()
        self.context_ = rows[-(self.lookback + self.horizon - 1) :].copy()

    def _fine_tune(self, rows: np.ndarray) -> None:
        """Train ``fine_tune_epochs`` epochs on the windows whose targets reach the new rows.

        The scaler and the calibration residuals stay as fitted; ``history_`` is unchanged.
        """
        from tsrnn.nn import forecasting

        before = self._past_index(len(self.context_) + 1)[0]  # the step before the context
        future = self._calendar(self._future_index(len(rows), before))
        forecasting.fine_tune(
            self.net_,
            self.scaler_.transform(rows),
            future,
            lookback=self.lookback,
            horizon=self.horizon,
            settings=dict(
                self._settings(self._seed(), self._device()),
                epochs=self.fine_tune_epochs,
                early_stopping=None,
                lr_patience=None,
            ),
            n_threads=self.n_threads,
        )

    # -------------------------------------------------------- persistence
    def _get_state(self) -> dict:
        from tsrnn.nn import forecasting

        state = super()._get_state()
        state["net_"] = forecasting.export_weights(self.net_)
        state["scaler_"] = scaler_state(self.scaler_)
        return state

    def _set_state(self, state: dict) -> None:
        from tsrnn.nn import forecasting

        weights, fitted_scaler = state.pop("net_"), state.pop("scaler_")
        super()._set_state(state)
        self.scaler_ = restore_scaler(self.scaler, fitted_scaler)
        self.net_ = self._build_net(seed=0)
        forecasting.import_weights(self.net_, weights)
        self.net_.eval()


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


_DOC = """{cell} forecaster: windowing, scaling and a PyTorch ``{module}`` behind fit/predict.

    Parameters
    ----------
    lookback : int, default=30
        Length of the input window.
    horizon : int, default=7
        Steps forecast at once (one network output per step). ``predict`` beyond it
        rolls the forecast out recursively (univariate models only).
    hidden_size, num_layers, dropout : int, int, float
        Size of the recurrent network; dropout applies between stacked layers.
    epochs, batch_size, learning_rate : int, int, float
        Adam training settings.
    early_stopping : int or None, default=10
        Patience (epochs without a better validation loss); the best weights are kept.
    validation_fraction : float, default=0.2
        Share of the windows, at the end of the series, used for early stopping and
        for calibrating the prediction intervals (split conformal).
    gradient_clip : float or None, default=1.0
        Maximum gradient norm.
    scaler : {{'standard', 'minmax', 'robust'}}, None or sklearn transformer
        Fitted on the rows covered by the training windows only.
    window_normalization : {{'last_value', None}}, default='last_value'
        Subtract each window's last target value (forecast changes, not levels).
    calendar_features : bool, default=False
        Feed day-of-week, day-of-year (and hour-of-day) of the forecast steps to the head.
    loss : {{'mse', 'mae', 'huber'}}, default='mse'
    warm_start : bool, default=False
        A second ``fit`` continues from the current weights and scaler.
    fine_tune_epochs : int, default=0
        Epochs of training at each ``update`` on the windows whose targets reach the new
        observations (0: ``update`` only shifts the input window; the scaler and the
        interval calibration always stay as fitted).
    n_threads : int, optional
        Torch CPU threads while training; by default 1 for small models (robust on busy
        machines), see :func:`tsrnn.nn.training.thread_policy`.
    random_state : int, optional
        Seed for weights and shuffling; the same seed gives identical forecasts on CPU.
    device : {{'auto', 'cpu', 'cuda'}}, default='auto'
    verbose : bool, default=False
        Show a progress bar (epoch, train/validation loss) on stderr.
    target, freq : str, optional
        Column to forecast in a DataFrame ``y`` (the other numeric columns become past
        covariates), and the frequency (inferred by default).
    calendar : str, default='infer'
        Exchange calendar of business-daily data: ``'infer'`` (data whose absent
        weekdays are an exchange's holidays goes on its trading sessions), an exchange
        such as ``'XNYS'``, or ``'none'`` (plain business days). See :mod:`tsrnn.calendars`.

    Attributes
    ----------
    net_ : torch.nn.Module
    scaler_ : fitted transformer
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``val_loss``, ``lr``, ``seconds``.
    best_epoch_ : int
    calibration_residuals_ : np.ndarray of shape (n_windows, horizon)
        Absolute validation errors per step, in the data's units.
    interval_coverage_ : float
        Leave-one-out empirical coverage of the 90% interval on the validation windows.

    Examples
    --------
    >>> from tsrnn.datasets import load_dataset
    >>> y = load_dataset("seattle")
    >>> model = {cell}Forecaster(horizon=7, epochs=5, random_state=0).fit(y)  # doctest: +SKIP
    >>> model.predict().round(1)  # doctest: +SKIP
    """


class LSTMForecaster(_RecurrentForecaster):
    _cell = "lstm"
    __doc__ = _DOC.format(cell="LSTM", module="nn.LSTM")


class GRUForecaster(_RecurrentForecaster):
    _cell = "gru"
    __doc__ = _DOC.format(cell="GRU", module="nn.GRU")


class RNNForecaster(_RecurrentForecaster):
    _cell = "rnn"
    __doc__ = _DOC.format(cell="RNN", module="nn.RNN")
