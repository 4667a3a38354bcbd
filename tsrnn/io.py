"""Reading forecasting data from CSV files, and writing output files atomically.

:func:`read_csv` turns a real-world CSV (BOM, CRLF, ``;`` separators with decimal
commas, quoted numbers with thousands separators, extra text columns, time zones) into
a validated numeric frame on a regular ``DatetimeIndex``. Every error names the file,
the column and the line, and says what to do.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tsrnn.exceptions import DataError, InputError
from tsrnn.validation import prepare_frame

__all__ = ["LoadedData", "read_csv", "atomic_write"]

_NA_STRINGS = {"", "na", "n/a", "nan", "null", "none", "-", "?", "#n/a"}
_DATE_NAMES = {"date", "time", "datetime", "timestamp", "ds", "day"}
_THOUSANDS_COMMA = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_SEPARATORS = (",", ";", "\t", "|")


@dataclass
class LoadedData:
    """A validated CSV: ``frame`` holds the target first, then numeric covariates.

    With ``id_col`` (a long CSV of many series), ``frame`` and ``y`` are on a
    (series id, timestamp) ``MultiIndex`` whose levels are named ``id_col`` and
    ``date_col``.
    """

    frame: pd.DataFrame
    target: str
    date_col: str
    freq: str
    source: str
    id_col: str | None = None

    @property
    def y(self) -> pd.Series:
        """The target column as a series."""
        return self.frame[self.target]


def _sniff_separator(path: Path) -> str:
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        header = handle.readline()
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_strings(path: Path) -> pd.DataFrame:
    """Read every cell as a string, with errors that name the file."""
    name = str(path)
    if not path.exists():
        raise DataError(f"{name}: no such file. Check the path.")
    if path.is_dir():
        raise DataError(f"{name}: is a directory, not a CSV file.")
    sep = _sniff_separator(path)
    try:
        raw = pd.read_csv(
            path,
            sep=sep,
            dtype=str,
            keep_default_na=False,
            encoding="utf-8-sig",
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{name}: the file is empty; expected a header row and data rows.") from exc
    except UnicodeDecodeError as exc:
        raise DataError(f"{name}: not UTF-8 text ({exc.reason}); save it as UTF-8 CSV.") from exc
    except (pd.errors.ParserError, OSError) as exc:
        raise DataError(f"{name}: cannot be read as CSV: {str(exc).strip()}") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    if raw.empty:
        raise DataError(f"{name}: has a header but no data rows.")
    raw.attrs["decimal_comma"] = sep == ";"
    return raw


def _missing_mask(raw: pd.Series) -> np.ndarray:
    return raw.str.strip().str.lower().isin(_NA_STRINGS).to_numpy()


def _to_numbers(raw: pd.Series, decimal_comma: bool) -> np.ndarray:
    """Parse strings to floats (NaN where they are not numbers)."""
    text = raw.str.strip().str.replace(r"^\((.*)\)$", r"-\1", regex=True)
    if decimal_comma:
        text = text.where(~text.str.match(_DECIMAL_COMMA), text.str.replace(".", "", regex=False))
        text = text.str.replace(",", ".", regex=False)
    else:
        text = text.where(~text.str.match(_THOUSANDS_COMMA), text.str.replace(",", "", regex=False))
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)


def _parse_dates(raw: pd.Series, column: str, name: str, lines: np.ndarray) -> pd.DatetimeIndex:
    text = raw.str.strip()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
            if parsed.isna().any():
                parsed = pd.to_datetime(text, format="mixed", errors="coerce")
    except (ValueError, TypeError) as exc:
        if "zone" in str(exc).lower() or "offset" in str(exc).lower() or "utc" in str(exc):
            raise DataError(
                f"{name}, column '{column}': timestamps mix time zones or UTC offsets. "
                "Convert them to one time zone (or to UTC) first."
            ) from exc
        raise DataError(f"{name}, column '{column}': dates cannot be parsed ({exc}).") from exc
    if not pd.api.types.is_datetime64_any_dtype(parsed):
        raise DataError(
            f"{name}, column '{column}': timestamps mix time zones or UTC offsets. "
            "Convert them to one time zone (or to UTC) first."
        )
    bad = parsed.isna().to_numpy()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{name}, line {lines[first]}, column '{column}': {text.iloc[first]!r} is not a date. "
            "Fix the value, or choose the date column with --date-col."
        )
    return pd.DatetimeIndex(parsed, name=column)


def _looks_like_dates(raw: pd.Series, decimal_comma: bool) -> bool:
    sample = raw[~_missing_mask(raw)].head(50)
    if sample.empty or not np.isnan(_to_numbers(sample, decimal_comma)).all():
        return False  # numbers (even 20240101) are values, not dates
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(sample.str.strip(), format="mixed", errors="coerce", utc=True)
        except (ValueError, TypeError):
            return False
    return bool(parsed.notna().mean() >= 0.9)


def _choose_date_column(raw: pd.DataFrame, date_col: str | None, name: str) -> str:
    if date_col is not None:
        if date_col not in raw.columns:
            raise DataError(
                f"{name}: no column '{date_col}'. Columns are: {', '.join(raw.columns)}."
            )
        return date_col
    decimal_comma = raw.attrs.get("decimal_comma", False)
    candidates = [c for c in raw.columns if _looks_like_dates(raw[c], decimal_comma)]
    if not candidates:  # a text column named like dates: its bad values get a precise error
        candidates = [
            c
            for c in raw.columns
            if c.lower() in _DATE_NAMES and np.isnan(_to_numbers(raw[c], decimal_comma)).any()
        ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise DataError(
            f"{name}: no column of dates found (columns: {', '.join(raw.columns)}). "
            "Add one, or name it with --date-col."
        )
    raise DataError(
        f"{name}: several columns hold dates ({', '.join(candidates)}); choose one with --date-col."
    )


def _numeric_columns(raw: pd.DataFrame, skip: str) -> dict[str, np.ndarray]:
    """Columns whose cells are mostly numbers (text columns such as labels are left out)."""
    decimal_comma = raw.attrs.get("decimal_comma", False)
    numeric = {}
    for column in raw.columns:
        if column == skip:
            continue
        values = _to_numbers(raw[column], decimal_comma)
        present = ~_missing_mask(raw[column])
        if present.any() and np.isfinite(values[present]).mean() + np.isinf(values).mean() >= 0.5:
            numeric[column] = values
    return numeric


def _choose_target(
    numeric: dict[str, np.ndarray], raw: pd.DataFrame, target: str | None, name: str
) -> str:
    if target is not None:
        if target not in raw.columns:
            listed = ", ".join(numeric) or "none"
            raise DataError(f"{name}: no column '{target}'. Numeric columns are: {listed}.")
        return target
    if len(numeric) == 1:
        return next(iter(numeric))
    if not numeric:
        raise DataError(
            f"{name}: no numeric column to forecast (columns: {', '.join(raw.columns)})."
        )
    raise DataError(
        f"{name}: {len(numeric)} numeric columns ({', '.join(numeric)}); choose one with --target."
    )


def _check_numbers(
    raw: pd.Series, values: np.ndarray, column: str, name: str, lines: np.ndarray
) -> None:
    bad = np.isnan(values) & ~_missing_mask(raw)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{name}, line {lines[first]}, column '{column}': {raw.iloc[first]!r} is not a number. "
            "Fix the value or leave the cell empty."
        )


def _series_ids(raw: pd.DataFrame, id_col: str, name: str, lines: np.ndarray) -> np.ndarray:
    """The stripped series id of every row; a missing or blank id is an error."""
    if id_col not in raw.columns:
        raise DataError(f"{name}: no column '{id_col}'. Columns are: {', '.join(raw.columns)}.")
    missing = np.flatnonzero(_missing_mask(raw[id_col]))
    if missing.size:
        first = int(missing[0])
        raise DataError(
            f"{name}, line {lines[first]}, column '{id_col}': the series id is missing "
            f"({raw[id_col].iloc[first]!r}). Give every row a series id."
        )
    return raw[id_col].str.strip().to_numpy(dtype=object)


def _prepare_panel(
    frame: pd.DataFrame, ids: np.ndarray, id_col: str, lines: np.ndarray, **options
) -> tuple[pd.DataFrame, str]:
    """Validate each series of a long file as a single series; one frequency for all."""
    from tsrnn.panel import join_panel

    name, date_col = options.pop("source"), frame.index.name
    groups = pd.Series(ids).groupby(ids, sort=False).indices
    parts, first = {}, None
    # series of one or two rows cannot show their frequency: they take the panel's
    short = {key for key, rows in groups.items() if len(rows) < 3 and options["freq"] is None}
    for key in [k for k in groups if k not in short] + [k for k in groups if k in short]:
        rows = groups[key]
        if key in short and first is not None:
            options = {**options, "freq": first[1]}
        part, freq = prepare_frame(
            frame.iloc[rows], source=f"{name}, series {key!r}", lines=lines[rows], **options
        )
        if first is None:
            first = (key, freq)
        elif freq != first[1]:
            raise DataError(
                f"{name}, column '{id_col}': series {key!r} has frequency {freq!r} but series "
                f"{first[0]!r} has {first[1]!r}; a panel has one frequency: resample the "
                "series, or pass freq= (--freq)."
            )
        parts[key] = part
    parts = {key: parts[key] for key in groups}  # order of first appearance
    return join_panel(parts, names=(id_col, date_col)), first[1]


def read_csv(
    path: str | os.PathLike,
    target: str | None = None,
    date_col: str | None = None,
    *,
    freq: str | None = None,
    missing: str = "interpolate",
    covariates: bool = True,
    id_col: str | None = None,
) -> LoadedData:
    """Read a CSV of timestamps and numbers into a validated, regular frame.

    Parameters
    ----------
    path : str or path-like
        The CSV file. Separators ``,``, ``;``, tab and ``|`` are detected; with ``;`` a
        decimal comma is expected (``1.234,5``); with ``,`` quoted thousands separators
        (``"1,234.5"``) are understood. A UTF-8 BOM and CRLF line ends are fine.
    target : str, optional
        Column to forecast; may be omitted when exactly one numeric column exists.
    date_col : str, optional
        Column of timestamps; may be omitted when exactly one column parses as dates.
    freq : str, optional
        Pandas frequency alias; inferred when omitted (business days for trading data).
    missing : {'interpolate', 'ffill', 'error'}
        What to do with blank cells and gaps in the dates (default: interpolate, with a
        warning that says how many values were filled).
    covariates : bool
        Keep the other numeric columns (past covariates) after the target.
    id_col : str, optional
        Column of series ids of a long CSV (one row per series and date). Each series
        is validated as a single series is (errors name the series as well as the
        file, line and column) and all must share one frequency; ``frame`` and ``y``
        are then on a (series id, timestamp) ``MultiIndex``, series in order of first
        appearance.

    Returns
    -------
    LoadedData
        ``frame`` (target first), ``target``, ``date_col``, ``freq``, ``source`` and
        ``id_col``.

    Raises
    ------
    DataError
        Naming the file, line and column: missing, empty or unreadable files, no or
        ambiguous date/target column, unparseable dates, mixed time zones, duplicate
        timestamps, non-numeric or infinite values, missing values under
        ``missing='error'``.

    Examples
    --------
    >>> data = read_csv("datasets/weather_seattle_daily.csv", target="temp_max")  # doctest: +SKIP
    >>> data.freq, data.frame.shape  # doctest: +SKIP
    ('D', (1461, 4))
    """
    path = Path(path)
    name = str(path)
    raw = _read_strings(path)
    lines = np.arange(2, len(raw) + 2)  # line 1 is the header
    ids = None
    if id_col is not None:
        ids = _series_ids(raw, id_col, name, lines)
        raw = raw.drop(columns=[id_col])
    date_column = _choose_date_column(raw, date_col, name)
    index = _parse_dates(raw[date_column], date_column, name, lines)
    numeric = _numeric_columns(raw, skip=date_column)
    target = _choose_target(numeric, raw, target, name)
    if target not in numeric:
        numeric[target] = _to_numbers(raw[target], raw.attrs["decimal_comma"])
    _check_numbers(raw[target], numeric[target], target, name, lines)
    keep = [target] + ([c for c in numeric if c != target] if covariates else [])
    for column in keep[1:]:
        _check_numbers(raw[column], numeric[column], column, name, lines)
    frame = pd.DataFrame({c: numeric[c] for c in keep}, index=index)
    options = dict(target=target, freq=freq, missing=missing, source=name)
    if ids is None:
        frame, freq = prepare_frame(frame, lines=lines, **options)
    else:
        frame, freq = _prepare_panel(frame, ids, id_col, lines, **options)
    return LoadedData(
        frame=frame, target=target, date_col=date_column, freq=freq, source=name, id_col=id_col
    )


def _mode_for(path: Path) -> int:
    """File permissions for a new file at ``path``: the existing file's, else 0666 & ~umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Write a file through a temporary file in the same folder, then rename it into place.

    A crash or an error in ``write`` never leaves a half-written file at ``path`` and
    never touches an existing file there.

    Parameters
    ----------
    path : str or path-like
        Destination.
    write : callable
        Called with the temporary file's path; must write the whole content.

    Raises
    ------
    InputError
        If no file can be created in the destination folder (missing or not writable).
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(
            f"{path}: cannot write the file ({exc.strerror}). "
            f"Check that the folder {folder} exists and is writable."
        ) from exc
    os.close(fd)
    try:
        write(tmp)
        # mkstemp creates the file private (0600); give it the mode a plain open() would
        # (the existing file's, else 0666 less the umask).
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
