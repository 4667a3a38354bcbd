"""Parameters of the neural forecasters: storage, checks, the time split, the device.

A mixin of :class:`tsrnn.neural.NeuralForecaster`, kept apart so the core stays one job.
Torch-free.
"""

from __future__ import annotations

import numbers

import numpy as np

from tsrnn._neural_checks import check_neural_params
from tsrnn.conformal import check_interval
from tsrnn.exceptions import InputError

__all__ = ["NeuralParams", "PARAMS_DOC"]

_NORMALIZATIONS = ("last_value", None)
_LOSSES = ("mse", "mae", "huber")


class NeuralParams:
    """Constructor, parameter checks and window split shared by every neural forecaster."""

    def __init__(
        self,
        lookback: int = 30,
        horizon: int = 7,
        hidden_size: int = 32,
        num_layers: int = 1,
        dropout: float = 0.0,
        epochs: int = 100,
        max_steps: int | None = 3000,
        max_history: int | None = 5000,
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
        interval: str = "conformal",
    ):
        self.lookback = lookback
        self.horizon = horizon
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.epochs = epochs
        self.max_steps = max_steps
        self.max_history = max_history
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
        self.interval = interval

    # ------------------------------------------------------------- checks
    def _check_params(self) -> None:
        check_interval(self.interval)
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
        for name in ("early_stopping", "n_threads", "max_steps", "max_history"):
            if getattr(self, name) is not None:
                self._check_horizon(getattr(self, name), name)
        if not (isinstance(self.fine_tune_epochs, numbers.Integral) and self.fine_tune_epochs >= 0):
            raise InputError(
                f"fine_tune_epochs must be a non-negative integer; got {self.fine_tune_epochs!r}."
            )
        check_neural_params(self)

    def _counts(self, n_obs: int) -> tuple[int, int, int]:
        """Windows in all, validation windows, training windows (arithmetic, no arrays)."""
        n_windows = n_obs - self.lookback - self.horizon + 1
        n_val = (
            0
            if self.validation_fraction == 0
            else max(1, round(self.validation_fraction * n_windows))
        )
        gap = self.horizon - 1 if n_val else 0
        return n_windows, n_val, n_windows - n_val - gap

    def _split(self, n_obs: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Training and validation window positions, and the rows the training windows cover."""
        n_windows, n_val, n_train = self._counts(n_obs)
        train_idx = np.arange(max(n_train, 0))
        val_idx = np.arange(n_windows - n_val, max(n_windows, 0))
        return train_idx, val_idx, n_train - 1 + self.lookback + self.horizon

    def _min_length(self) -> int:
        self._check_params()
        # The number of training windows never falls as n_obs grows: double, then bisect
        # (a linear search takes minutes for a horizon in the millions), counting windows
        # without building index arrays (a lookback of 10**9 would allocate gigabytes).
        low = high = self.lookback + self.horizon
        while self._counts(high)[2] < 1:
            low, high = high + 1, 2 * high
        while low < high:
            mid = (low + high) // 2
            if self._counts(mid)[2] < 1:
                low = mid + 1
            else:
                high = mid
        return low

    def _seed(self) -> int:
        if self.random_state is None:
            return int(np.random.default_rng().integers(2**31 - 1))
        return int(self.random_state)

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


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


PARAMS_DOC = """{cell} forecaster: windowing, scaling and a PyTorch ``{module}`` behind fit/predict.

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
    max_steps : int or None, default=3000
        Training budget in optimizer steps (batches): training stops after this many
        even if ``epochs`` are not done, so its cost does not grow with the history
        (3,000 steps of batch 32: 96,000 windows seen, about 20 epochs of the default
        5,000-observation history). None: ``epochs`` full passes. On the clemson
        backtest of ``benchmarks/bench_default_accuracy.py`` 1,500 steps cost LSTM
        +3.3% and GRU +4.1% MASE against the pre-issue training, 3,000 steps +0.8% and
        +2.2%.
    max_history : int or None, default=5000
        Train on at most the last ``max_history`` observations of each series (scaler,
        time split and windows); None uses the whole history. Forecasts need only the
        last ``lookback`` observations either way.
    early_stopping : int or None, default=10
        Patience (epochs without a better validation loss); the best weights are kept.
    validation_fraction : float, default=0.2
        Share of the windows, at the end of the series, used for early stopping and
        for calibrating the prediction intervals.
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
        Exchange calendar of business-daily data: ``'infer'``, an exchange such as
        ``'XNYS'``, or ``'none'``. See :mod:`tsrnn.calendars`.
    interval : {{'conformal', 'model'}}, default='conformal'
        'conformal': adaptive conformal intervals from the validation windows' errors
        (the last 1,000), scaled by the recent volatility and, in ``update``, scored on
        the new observations with an adaptive conformal level (:mod:`tsrnn.conformal`).
        'model': split conformal on the validation errors as they are (no volatility
        scaling, no update), the method of earlier versions; also used with fewer
        than 30 windows.

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
    conformal_ : dict
        Calibration state of the conformal intervals (:func:`tsrnn.conformal.fit_state`).

    Examples
    --------
    >>> from tsrnn.datasets import load_dataset
    >>> y = load_dataset("seattle")
    >>> model = {cell}Forecaster(horizon=7, epochs=5, random_state=0).fit(y)  # doctest: +SKIP
    >>> model.predict().round(1)  # doctest: +SKIP
    """
