"""Reading forecasting data from CSV files, and writing output files atomically.

:func:`read_csv` turns a real-world CSV (BOM, CRLF, ``;`` separators with decimal
commas, quoted numbers with thousands separators, extra text columns, time zones) into
a validated numeric frame on a regular ``DatetimeIndex``. Every error names the file,
the column and the line, and says what to do.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tsrnn._atomic import atomic_write
from tsrnn._dates import is_date_text, looks_like_dates, parse_dates
from tsrnn.exceptions import DataError, quote
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
    _check_text(path)
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
    _check_unique_names(list(raw.columns), name)
    if raw.empty:
        raise DataError(f"{name}: has a header but no data rows.")
    raw.attrs["decimal_comma"] = sep == ";"
    return raw


def _check_text(path: Path) -> None:
    """Refuse binary files (NUL bytes: a zip, a spreadsheet, a database) before parsing."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror}).") from exc
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(
            f"{path}: is not a text CSV file (it contains NUL bytes; a zip, spreadsheet or "
            "other binary file?). Export it as CSV text first."
        )


def _check_unique_names(columns: list[str], name: str) -> None:
    seen: set[str] = set()
    for column in columns:
        if column in seen:
            raise DataError(
                f"{name}: two columns are named '{column}' (after removing surrounding spaces); "
                "rename one of them in the header."
            )
        seen.add(column)


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


def _table(raw: pd.DataFrame, decimal_comma: bool) -> tuple[np.ndarray, np.ndarray]:
    """Numbers (NaN where a cell is not one) and the missing-cell mask of every column at
    once: one pass over all cells, not one pandas call per column (20,000-column files)."""
    flat = pd.Series(raw.to_numpy(dtype=object).ravel(order="F"), dtype=object).astype(str)
    numbers = _to_numbers(flat, decimal_comma).reshape(raw.shape, order="F")
    missing = _missing_mask(flat).reshape(raw.shape, order="F")
    return numbers, missing


def _date_candidates(raw: pd.DataFrame, numbers: np.ndarray, missing: np.ndarray) -> list[str]:
    """Columns whose first 50 present cells are all non-numbers and mostly parse as dates."""
    head_numbers, head_missing = numbers[:50], missing[:50]
    present = ~head_missing
    text_only = present.any(axis=0) & ~(present & ~np.isnan(head_numbers)).any(axis=0)
    # A date has digits: text columns without them (labels) skip the slow date parser.
    head = raw.iloc[:50]
    digits = np.asarray(
        pd.Series(head.to_numpy(dtype=object).ravel(order="F"), dtype=object)
        .astype(str)
        .str.contains(r"\d", regex=True)
        .to_numpy(),
        dtype=bool,
    ).reshape(head.shape, order="F")
    text_only &= (digits & present).sum(axis=0) >= 0.9 * present.sum(axis=0)
    return [
        c
        for j, c in enumerate(raw.columns)
        if text_only[j] and looks_like_dates(raw[c].iloc[:50][present[:, j]])
    ]


def _choose_date_column(
    raw: pd.DataFrame, date_col: str | None, name: str, numbers: np.ndarray, missing: np.ndarray
) -> str:
    if date_col is not None:
        if date_col not in raw.columns:
            raise DataError(f"{name}: no column '{date_col}'. Columns are: {_listed(raw.columns)}.")
        return date_col
    candidates = _date_candidates(raw, numbers, missing)
    if not candidates:  # a text column named like dates: its bad values get a precise error
        candidates = [
            c
            for j, c in enumerate(raw.columns)
            if c.lower() in _DATE_NAMES and np.isnan(numbers[:, j]).any()
        ]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise DataError(
            f"{name}: no column of dates found (columns: {_listed(raw.columns)}). "
            "Add one, or name it with date_col= (--date-col)."
        )
    raise DataError(
        f"{name}: several columns hold dates ({_listed(candidates)}); choose one with "
        "date_col= (--date-col)."
    )


def _listed(columns: object, limit: int = 20) -> str:
    """Column names for a message: the first ``limit`` of them, then how many more."""
    names = [str(c) for c in columns]
    more = f", ... ({len(names) - limit:,} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _check_header(raw: pd.DataFrame, date_column: str, name: str) -> None:
    """A file without a header row would lose its first row to the header (silently)."""
    if is_date_text(date_column):
        first = ",".join(str(c) for c in raw.columns[:4])
        raise DataError(
            f"{name}: the first line ({quote(first)}) looks like data, not a header: "
            f"{quote(date_column)} is a date. Add a header line naming the columns "
            "(e.g. 'date,value') as the first line."
        )


def _numeric_columns(
    raw: pd.DataFrame, skip: str, numbers: np.ndarray, missing: np.ndarray
) -> dict[str, np.ndarray]:
    """Columns whose cells are mostly numbers (text columns such as labels are left out)."""
    present = ~missing
    n_present = present.sum(axis=0)
    finite = (np.isfinite(numbers) & present).sum(axis=0) / np.maximum(n_present, 1)
    share = finite + np.isinf(numbers).mean(axis=0)
    return {
        column: numbers[:, j]
        for j, column in enumerate(raw.columns)
        if column != skip and n_present[j] > 0 and share[j] >= 0.5
    }


def _choose_target(
    numeric: dict[str, np.ndarray], raw: pd.DataFrame, target: str | None, name: str
) -> str:
    if target is not None:
        if target not in raw.columns:
            listed = _listed(numeric) or "none"
            raise DataError(f"{name}: no column '{target}'. Numeric columns are: {listed}.")
        return target
    if len(numeric) == 1:
        return next(iter(numeric))
    if not numeric:
        raise DataError(f"{name}: no numeric column to forecast (columns: {_listed(raw.columns)}).")
    raise DataError(
        f"{name}: {len(numeric)} numeric columns ({_listed(numeric)}); choose one with "
        "target= (--target)."
    )


def _check_numbers(
    raw: pd.Series, values: np.ndarray, column: str, name: str, lines: np.ndarray
) -> None:
    bad = np.isnan(values) & ~_missing_mask(raw)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{name}, line {lines[first]}, column '{column}': {quote(raw.iloc[first])} is not a "
            "number. Fix the value or leave the cell empty."
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
    date_format: str | None = None,
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
    date_format : str, optional
        ``strftime`` format of the dates, e.g. ``'%d/%m/%Y'``. By default ISO 8601 and
        common formats are recognised; the order of day and month in ``01/02/2024``-like
        dates is decided from the whole column (a day above 12), and a column where every
        date could be read either way is refused, asking for this format.
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
        Naming the file, line and column: missing, empty, binary or unreadable files, no
        header row, duplicate column names, no or ambiguous date/target column,
        unparseable, day/month-ambiguous or time-only dates, mixed time zones, duplicate
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
    numbers, missing_cells = _table(raw, raw.attrs["decimal_comma"])
    date_column = _choose_date_column(raw, date_col, name, numbers, missing_cells)
    if date_col is None:
        _check_header(raw, date_column, name)
    index = parse_dates(raw[date_column], date_column, name, lines, date_format)
    numeric = _numeric_columns(raw, date_column, numbers, missing_cells)
    target = _choose_target(numeric, raw, target, name)
    if target not in numeric:
        numeric[target] = numbers[:, raw.columns.get_loc(target)]
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
