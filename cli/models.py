"""Build forecasters from CLI model names and options (imports models lazily)."""

from __future__ import annotations

import importlib

from tsrnn.exceptions import InputError

# name -> (module, class); the module is imported only when the model is chosen.
MODELS = {
    "lstm": ("tsrnn.rnn", "LSTMForecaster"),
    "gru": ("tsrnn.rnn", "GRUForecaster"),
    "rnn": ("tsrnn.rnn", "RNNForecaster"),
    "arima": ("tsrnn.arima", "ARIMAForecaster"),
    "naive": ("tsrnn.baselines", "NaiveForecaster"),
    "seasonal-naive": ("tsrnn.baselines", "SeasonalNaiveForecaster"),
    "drift": ("tsrnn.baselines", "DriftForecaster"),
}
NEURAL = {"lstm", "gru", "rnn"}


def parse_int_tuple(text: str | None, name: str, length: int) -> tuple[int, ...] | None:
    """Parse ``"1,1,1"`` into ``(1, 1, 1)``; ``None`` stays ``None``."""
    if text is None:
        return None
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        values = ()
    if len(values) != length or min(values) < 0:
        raise InputError(
            f"--{name} must be {length} non-negative integers like "
            f"{','.join(['1'] * length)}; got {text!r}."
        )
    return values


def build_model(name: str, options: dict) -> object:
    """Create the forecaster called ``name`` with the options that apply to it.

    Parameters
    ----------
    name : str
        One of :data:`MODELS`.
    options : dict
        CLI options (``horizon``, ``lookback``, ``epochs``, ``seed``, ``order``, ...);
        ``None`` values keep the model's defaults.
    """
    module, cls_name = MODELS[name]
    cls = getattr(importlib.import_module(module), cls_name)
    accepted = cls().get_params(deep=False)
    params = {key: value for key, value in options.items() if value is not None and key in accepted}
    model = cls(**params)
    transform = options.get("transform")
    if transform in (None, "none"):
        return model
    from tsrnn.transforms import TransformedTargetForecaster

    return TransformedTargetForecaster(
        model, transform, horizon=model.horizon, target=options.get("target")
    )
