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
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from tsrnn._version import __version__
from tsrnn.exceptions import InputError, ModelFileError, quote
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
    name = entry.get("class") if isinstance(entry, dict) else entry
    if not isinstance(name, str) or name not in _REGISTRY:
        raise ModelFileError(f"unknown model class {quote(name)}.")
    class_name = entry["class"]
    cls = getattr(importlib.import_module(_REGISTRY[class_name]), class_name)
    model = cls(**_decode(entry["params"], arrays))
    model._min_length()  # the estimator's own parameter checks, before any allocation
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


#: What a model file may declare: its header, all arrays together, and JSON nesting.
MAX_HEADER_BYTES = 16 * 2**20
MAX_ARRAY_BYTES = 2**30
MAX_JSON_DEPTH = 64


def _corrupted(name: str, what: str) -> ModelFileError:
    return ModelFileError(
        f"{name}: not a tsrnn model file, or it is corrupted ({what}). "
        "Save the model again with `tsrnn fit ... --save` or model.save()."
    )


def _member(archive: zipfile.ZipFile, member: str, limit: int, name: str) -> bytes:
    """Read one zip member after checking the size it declares (a bomb is refused unread)."""
    info = archive.getinfo(member)
    if info.file_size > limit:
        raise _corrupted(name, f"{member} declares {info.file_size:,} bytes, over {limit:,}")
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _corrupted(name, f"{member} is larger than the {limit:,} bytes it may hold")
    return data


def _depth(value: object, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()], default=level + 1)
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value], default=level + 1)
    return level


def _array_refs(value: object) -> set[str]:
    """Names of the arrays the header refers to (only these are ever read)."""
    if isinstance(value, list):
        return set().union(*(_array_refs(v) for v in value))
    if isinstance(value, dict):
        if "__array__" in value:
            return {str(value["__array__"])}
        return set().union(*(_array_refs(v) for v in value.values()))
    return set()


def _read_arrays(data: bytes, refs: set[str], name: str) -> dict[str, np.ndarray]:
    """Load the referenced ``.npy`` members of ``arrays.npz``, each after checking that the
    shape its header declares matches the bytes it holds, within :data:`MAX_ARRAY_BYTES`."""
    arrays, total = {}, 0
    with zipfile.ZipFile(io.BytesIO(data)) as npz:
        for key in sorted(refs):
            member = f"{key}.npy"
            if member not in npz.namelist():
                raise _corrupted(name, f"array {key!r} is missing")
            info = npz.getinfo(member)
            total += info.file_size
            if total > MAX_ARRAY_BYTES:
                raise _corrupted(name, f"arrays over {MAX_ARRAY_BYTES:,} bytes")
            with npz.open(info) as handle:
                version = np.lib.format.read_magic(handle)
                read_header = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(handle)
                if dtype.hasobject:
                    raise _corrupted(name, f"array {key!r} holds Python objects")
                size = int(np.prod(shape, dtype=object)) * dtype.itemsize
                if size > info.file_size:
                    raise _corrupted(name, f"array {key!r} declares {size:,} bytes but holds fewer")
            with npz.open(info) as handle:
                arrays[key] = np.lib.format.read_array(handle, allow_pickle=False)
    return arrays


def _read_members(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    name = str(path)
    if not path.is_file():
        raise ModelFileError(f"{name}: no such model file.")
    try:
        with zipfile.ZipFile(path) as archive:
            header = json.loads(_member(archive, "model.json", MAX_HEADER_BYTES, name))
            if _depth(header) > MAX_JSON_DEPTH:
                raise _corrupted(name, f"model.json nests deeper than {MAX_JSON_DEPTH} levels")
            npz = _member(archive, "arrays.npz", MAX_ARRAY_BYTES, name)
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise ModelFileError(f"{name}: not a tsrnn model file.")
        arrays = _read_arrays(npz, _array_refs(header), name)
    except ModelFileError:
        raise
    except KeyError as exc:  # zipfile: "There is no item named 'model.json' in the archive"
        raise _corrupted(name, str(exc.args[0]) if exc.args else "a member is missing") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _corrupted(name, "the zip archive is damaged") from exc
    except (ValueError, UnicodeDecodeError) as exc:  # numpy's text may suggest unpickling
        raise _corrupted(
            name, f"a member is not valid JSON or numpy data: {type(exc).__name__}"
        ) from exc
    except RecursionError as exc:
        raise _corrupted(name, "model.json nests too deeply") from exc
    except MemoryError as exc:
        raise _corrupted(name, "it needs more memory than is available") from exc
    except Exception as exc:  # encrypted members, unknown compression methods, ...
        raise _corrupted(name, f"{type(exc).__name__}: {quote(str(exc), 120)}") from exc
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
        If the file is missing, is not a model file, is corrupted, was written in an
        incompatible format version, declares more than it may (a header over 16 MiB,
        arrays over 1 GiB, JSON nested over 64 levels, a network over
        :data:`tsrnn.limits.MAX_NETWORK_PARAMETERS` weights), or holds a state that
        cannot forecast (checked by forecasting one step).
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
    if not isinstance(class_name, str) or class_name not in _REGISTRY:
        raise ModelFileError(f"{path}: unknown model class {quote(class_name)}.")
    try:
        model = _build(header, arrays, nested=False)
        _check_state(model)
    except ModelFileError as exc:
        raise ModelFileError(f"{path}: {exc}") from exc
    except Exception as exc:  # anything a tampered file can trigger: refuse the file
        raise ModelFileError(
            f"{path}: the model file is inconsistent ({type(exc).__name__}: "
            f"{quote(str(exc), 200)}). Save the model again."
        ) from exc
    return model


def _check_state(model: object) -> None:
    """Forecast one step from the loaded state, so a file whose state is missing, of the
    wrong kind or not finite is refused at load rather than failing (or printing NaN)
    at the first ``predict``."""
    for key, value in vars(model).items():
        if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
            if not np.isfinite(value).all():
                raise ValueError(f"{key} holds values that are not finite")
        elif key == "scale_" and not (isinstance(value, float | int) and 0 < value < np.inf):
            raise ValueError(f"scale_ must be a positive number; got {value!r}")
    model._resolve_horizon(None)  # the stored horizon parameter, checked and bounded
    if getattr(model, "exog_names_", None):
        return  # forecasting needs the future regressors X, which the file does not hold
    point = model.predict(1)
    interval = model.predict_interval(1)
    if not (np.isfinite(point.to_numpy()).all() and np.isfinite(interval.to_numpy()).all()):
        raise ValueError("a one-step forecast from the stored state is not finite")
