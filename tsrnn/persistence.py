"""Model files that load without executing code from the file.

A model file is a zip archive with two members:

- ``model.json``: format name and version, the tsrnn version that wrote it, the
  forecaster's class name, its constructor parameters and its scalar fitted state;
- ``arrays.npz``: numeric arrays (fitted state, network weights), read with
  ``allow_pickle=False``.

Only classes in :data:`_REGISTRY` can be created, so a file cannot name arbitrary code,
and no member is ever unpickled. Files are written atomically.

A model fitted on a panel of series with one model per series (``estimators_``) keeps
them in the same file: each is stored as its class name, parameters and state (one
level deep; a stored model cannot itself hold stored models).
"""

from __future__ import annotations

import importlib
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from tsrnn._version import __version__
from tsrnn.exceptions import InputError, ModelFileError
from tsrnn.io import atomic_write

__all__ = ["save_model", "load", "FORMAT", "FORMAT_VERSION"]

FORMAT = "tsrnn-model"
FORMAT_VERSION = 1

_REGISTRY = {
    "NaiveForecaster": "tsrnn.baselines",
    "SeasonalNaiveForecaster": "tsrnn.baselines",
    "DriftForecaster": "tsrnn.baselines",
    "ARIMAForecaster": "tsrnn.arima",
    "LSTMForecaster": "tsrnn.rnn",
    "GRUForecaster": "tsrnn.rnn",
    "RNNForecaster": "tsrnn.rnn",
}


def _file_state(model: object) -> dict:
    """The fitted state to store: a panel of local models stores its models generically."""
    from tsrnn.base import BaseForecaster

    if "estimators_" in vars(model):
        return BaseForecaster._get_state(model)
    return model._get_state()


def _encode_model(model: object, key: str, arrays: dict[str, np.ndarray]) -> dict:
    """A forecaster inside a model's state (one level deep) as class, params and state."""
    name = type(model).__name__
    if name not in _REGISTRY:
        raise InputError(f"{name} cannot be saved: only tsrnn forecasters can.")
    return {
        "class": name,
        "params": _encode(model.get_params(deep=False), f"{key}.params", arrays),
        "state": _encode(_file_state(model), f"{key}.state", arrays),
    }


def _encode(value: object, key: str, arrays: dict[str, np.ndarray], nested: bool = False) -> object:
    """Encode a value as JSON, moving arrays to ``arrays`` under ``key``.

    ``nested`` allows forecasters (a panel's ``estimators_``), whose own state may not
    hold forecasters again.
    """
    from tsrnn.base import BaseForecaster

    if isinstance(value, BaseForecaster):
        if not nested:
            raise InputError(
                f"cannot save {key!r}: forecasters are stored only one level deep "
                "(the per-series models of a panel)."
            )
        return {"__model__": _encode_model(value, key, arrays)}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise InputError(f"cannot save {key!r}: object arrays are not allowed in model files.")
        arrays[key] = value
        return {"__array__": key}
    if isinstance(value, pd.Timestamp):
        return {"__timestamp__": value.isoformat()}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {
            "__tuple__": [_encode(v, f"{key}.{i}", arrays, nested) for i, v in enumerate(value)]
        }
    if isinstance(value, list):
        return [_encode(v, f"{key}.{i}", arrays, nested) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            "__dict__": {str(k): _encode(v, f"{key}.{k}", arrays, nested) for k, v in value.items()}
        }
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise InputError(
        f"cannot save {key!r} of type {type(value).__name__}: model files hold only numbers, "
        "strings and arrays (use a named scaler such as 'standard' rather than an object)."
    )


def _build(entry: object, arrays: dict[str, np.ndarray], nested: bool) -> object:
    """A forecaster from its stored class name, parameters and state."""
    if not isinstance(entry, dict) or entry.get("class") not in _REGISTRY:
        name = entry.get("class") if isinstance(entry, dict) else entry
        raise ModelFileError(f"unknown model class {name!r}.")
    class_name = entry["class"]
    cls = getattr(importlib.import_module(_REGISTRY[class_name]), class_name)
    model = cls(**_decode(entry["params"], arrays))
    state = _decode(entry["state"], arrays, allow_models=not nested)
    if not isinstance(state, dict):
        raise ModelFileError("the model's state is not a mapping.")
    if "estimators_" in state:
        from tsrnn.base import BaseForecaster

        BaseForecaster._set_state(model, state)
    else:
        model._set_state(state)
    if "series_ids_" in state:
        from tsrnn._panel_models import check_panel_state

        check_panel_state(model)
    return model


def _decode(value: object, arrays: dict[str, np.ndarray], allow_models: bool = False) -> object:
    if isinstance(value, list):
        return [_decode(v, arrays, allow_models) for v in value]
    if isinstance(value, dict):
        if "__model__" in value:
            if not allow_models:
                raise ModelFileError("a stored model holds stored models, which is not allowed.")
            return _build(value["__model__"], arrays, nested=True)
        if "__array__" in value:
            return arrays[value["__array__"]]
        if "__timestamp__" in value:
            return pd.Timestamp(value["__timestamp__"])
        if "__tuple__" in value:
            return tuple(_decode(v, arrays, allow_models) for v in value["__tuple__"])
        if "__dict__" in value:
            return {k: _decode(v, arrays, allow_models) for k, v in value["__dict__"].items()}
    return value


def save_model(model: object, path: str | os.PathLike) -> None:
    """Write a fitted forecaster to ``path`` (see the module docstring for the format).

    Parameters
    ----------
    model : BaseForecaster
        A fitted tsrnn forecaster.
    path : str or path-like
        Destination file; replaced atomically.

    Raises
    ------
    InputError
        If the model is of an unknown class or holds something that cannot be stored
        without pickle (for example a custom scaler object).
    """
    from sklearn.utils.validation import check_is_fitted

    name = type(model).__name__
    if name not in _REGISTRY:
        raise InputError(f"{name} cannot be saved: only tsrnn forecasters can.")
    check_is_fitted(model, "cutoff_")
    arrays: dict[str, np.ndarray] = {}
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tsrnn_version": __version__,
        "class": name,
        "params": _encode(model.get_params(deep=False), "params", arrays),
        "state": _encode(_file_state(model), "state", arrays, nested=True),
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)

    def write(tmp: str) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("model.json", json.dumps(header, indent=1))
            archive.writestr("arrays.npz", buffer.getvalue())

    atomic_write(path, write)


def _read_members(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    name = str(path)
    if not path.is_file():
        raise ModelFileError(f"{name}: no such model file.")
    try:
        with zipfile.ZipFile(path) as archive:
            header = json.loads(archive.read("model.json"))
            with np.load(io.BytesIO(archive.read("arrays.npz")), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise ModelFileError(
            f"{name}: not a tsrnn model file, or it is corrupted ({type(exc).__name__}: {exc}). "
            "Save the model again with `tsrnn fit ... --save` or model.save()."
        ) from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"{name}: not a tsrnn model file.")
    return header, arrays


def load(path: str | os.PathLike) -> object:
    """Load a forecaster saved with ``save``; nothing from the file is executed.

    Parameters
    ----------
    path : str or path-like
        A file written by :meth:`BaseForecaster.save`.

    Returns
    -------
    BaseForecaster
        The fitted forecaster, ready to ``predict`` or ``update``.

    Raises
    ------
    ModelFileError
        If the file is missing, is not a model file, is corrupted, or was written in an
        incompatible format version.
    """
    path = Path(path)
    header, arrays = _read_members(path)
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: model file format {version} (written by tsrnn "
            f"{header.get('tsrnn_version', '?')}) cannot be read by tsrnn {__version__}, which "
            f"reads format {FORMAT_VERSION}. Refit the model with this version."
        )
    class_name = header.get("class")
    if class_name not in _REGISTRY:
        raise ModelFileError(f"{path}: unknown model class {class_name!r}.")
    try:
        return _build(header, arrays, nested=False)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: the model file is inconsistent ({exc}).") from exc
