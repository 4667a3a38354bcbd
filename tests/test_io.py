"""Tests of ``tsrnn.io.read_csv`` and ``atomic_write`` on generated and real CSV files.

Every row of the contract's "Bad input" table that concerns data files has a test
asserting both the exception type and that the message names the file and the
column and/or line. Files are written under ``tmp_path`` only.
"""

from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrnn.exceptions import DataError, DataWarning, InputError, TsrnnError
from tsrnn.io import atomic_write, read_csv

SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"

# Known target and expected frequency of every shared CSV (file stem prefix -> freq).
SHARED_TARGETS = {
    "stock_aapl_daily.csv": "adj_close",
    "stock_goog_daily.csv": "adj_close",
    "stock_ibm_daily.csv": "adj_close",
    "stock_ge_daily.csv": "adj_close",
    "stock_msft_daily.csv": "close",
    "weather_seattle_daily.csv": "temp_max",
    "weather_clemson_daily.csv": "temp_max_f",
    "weather_melbourne_daily.csv": "temp_max",
    "weather_nyc_jfk_hourly.csv": "temp_f",
    "weather_beijing_hourly.csv": "temp",
}


# ---------------------------------------------------------------- helpers
def days(n: int, start: str = "2024-01-01", freq: str = "D") -> list[str]:
    """``n`` ISO dates from ``start`` at ``freq``."""
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(start, periods=n, freq=freq)]


def table(dates, values, header: str = "date,value", sep: str = ",") -> str:
    """CSV text with one row per (date, value)."""
    return header + "\n" + "".join(f"{d}{sep}{v}\n" for d, v in zip(dates, values, strict=True))


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    """Write ``content`` exactly (no newline translation) and return the path."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def load_quietly(path: Path, **kwargs):
    """``read_csv`` that fails the test on any DataWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        return read_csv(path, **kwargs)


# ----------------------------------------------------- unreadable files
def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(DataError, match="no such file") as info:
        read_csv(path)
    assert str(path) in str(info.value)


def test_directory_is_not_a_csv(tmp_path):
    with pytest.raises(DataError, match="directory") as info:
        read_csv(tmp_path)
    assert str(tmp_path) in str(info.value)


@pytest.mark.parametrize(
    "content",
    [b"date,temp\xfc\n2024-01-01,1\n", bytes(range(128, 256)) * 3],
    ids=["latin-1", "binary"],
)
def test_non_utf8_file_is_a_clear_error(tmp_path, content):
    path = write(tmp_path, "latin.csv", content)
    with pytest.raises(DataError, match="UTF-8") as info:
        read_csv(path)
    assert str(path) in str(info.value)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_a_clear_error(tmp_path):
    path = write(tmp_path, "locked.csv", table(days(5), range(5)))
    path.chmod(0)
    try:
        with pytest.raises(DataError) as info:
            read_csv(path)
    finally:
        path.chmod(0o644)
    assert str(path) in str(info.value)


def test_empty_file(tmp_path):
    path = write(tmp_path, "empty.csv", "")
    with pytest.raises(DataError, match="empty") as info:
        read_csv(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("content", ["date,value\n", "date,value", "date,value\r\n"])
def test_header_only(tmp_path, content):
    path = write(tmp_path, "header.csv", content)
    with pytest.raises(DataError, match="no data rows") as info:
        read_csv(path)
    assert str(path) in str(info.value)


def test_errors_are_value_errors_of_the_tsrnn_hierarchy(tmp_path):
    with pytest.raises(ValueError) as info:
        read_csv(tmp_path / "nope.csv")
    assert isinstance(info.value, TsrnnError)
    assert isinstance(info.value, InputError)


# --------------------------------------------------------------- dates
def test_no_date_column_lists_the_columns_and_says_date_col(tmp_path):
    path = write(tmp_path, "nodate.csv", table([f"x{i}" for i in range(5)], range(5), "a,value"))
    with pytest.raises(DataError, match="--date-col") as info:
        read_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert "a, value" in message


def test_numbers_are_not_taken_for_dates(tmp_path):
    # A numeric "day" column (1, 2, 3, ...) is values, not timestamps.
    path = write(tmp_path, "daynum.csv", table(range(1, 11), range(10), "day,value"))
    with pytest.raises(DataError, match="no column of dates") as info:
        read_csv(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("date_col", [None, "date"])
@pytest.mark.parametrize("bad", ["2024-13-45", "not a date"])
def test_unparseable_date_names_line_column_and_value(tmp_path, bad, date_col):
    dates = days(10)
    dates[4] = bad  # row 5 of the data is line 6 of the file
    path = write(tmp_path, "baddate.csv", table(dates, range(10)))
    with pytest.raises(DataError) as info:
        read_csv(path, date_col=date_col)
    message = str(info.value)
    assert str(path) in message
    assert "line 6" in message
    assert "column 'date'" in message
    assert repr(bad) in message


def test_several_bad_dates_in_the_date_column_name_the_first(tmp_path):
    # Too many bad values to look like a date column, but the column is called "date":
    # the user gets the first bad line, not "no column of dates".
    dates = days(10)
    dates[2], dates[7] = "31/02/2024", "tomorrow"
    path = write(tmp_path, "bad2.csv", table(dates, range(10)))
    with pytest.raises(DataError) as info:
        read_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert "line 4" in message
    assert "'31/02/2024'" in message
    assert "column 'date'" in message


@pytest.mark.parametrize("date_col", [None, "date"])
def test_mixed_utc_offsets_are_an_error_naming_the_column(tmp_path, date_col):
    stamps = [f"{d}T00:00:00+01:00" for d in days(5)]
    stamps += [f"{d}T00:00:00+02:00" for d in days(5, "2024-01-06")]
    path = write(tmp_path, "mixed.csv", table(stamps, range(10)))
    with pytest.raises(DataError, match="time zone") as info:
        read_csv(path, date_col=date_col)
    message = str(info.value)
    assert str(path) in message
    assert "column 'date'" in message


def test_naive_and_aware_timestamps_mixed_are_an_error(tmp_path):
    stamps = [f"{d}T00:00:00+01:00" for d in days(5)] + days(5, "2024-01-06")
    path = write(tmp_path, "mixed2.csv", table(stamps, range(10)))
    with pytest.raises(DataError, match="time zone") as info:
        read_csv(path)
    assert "column 'date'" in str(info.value)


@pytest.mark.parametrize(
    ("suffix", "offset"), [("+01:00", pd.Timedelta(hours=1)), ("Z", pd.Timedelta(0))]
)
def test_one_consistent_offset_is_kept(tmp_path, suffix, offset):
    stamps = [f"{d}T00:00:00{suffix}" for d in days(10)]
    path = write(tmp_path, "tz.csv", table(stamps, range(10)))
    data = load_quietly(path)
    index = data.frame.index
    assert index.tz is not None
    assert index[0].utcoffset() == offset
    assert index[0] == pd.Timestamp(f"2024-01-01T00:00:00{suffix}")
    assert data.freq == "D"
    assert data.y.tolist() == [float(v) for v in range(10)]


def test_unsorted_dates_are_sorted_with_a_warning(tmp_path):
    dates = days(10)
    order = [0, 1, 3, 2, 4, 5, 9, 6, 7, 8]
    path = write(tmp_path, "unsorted.csv", table([dates[i] for i in order], order))
    with pytest.warns(DataWarning, match="sorted") as record:
        data = read_csv(path)
    assert str(path) in str(record[0].message)
    assert data.frame.index.is_monotonic_increasing
    assert list(data.frame.index.strftime("%Y-%m-%d")) == dates
    assert data.y.tolist() == [float(v) for v in range(10)]  # values travel with their dates


@pytest.mark.parametrize(
    ("positions", "lines"), [((2, 3), "lines 4, 5"), ((2, 6), "lines 4, 8")], ids=["adj", "far"]
)
def test_duplicate_timestamps_name_the_first_and_its_lines(tmp_path, positions, lines):
    dates = days(10)
    first, second = positions
    dates[second] = dates[first]
    path = write(tmp_path, "dup.csv", table(dates, range(10)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # the far duplicate is also unsorted
        with pytest.raises(DataError, match="duplicate timestamp") as info:
            read_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert dates[first] in message
    assert lines in message


def test_duplicates_are_never_averaged(tmp_path):
    dates = days(6)
    dates[5] = dates[4]
    path = write(tmp_path, "dup_last.csv", table(dates, [1, 2, 3, 4, 5, 50]))
    with pytest.raises(DataError, match="duplicate"):
        read_csv(path, missing="ffill")


# ------------------------------------------------- spacing and frequency
def test_gaps_become_missing_values_and_are_interpolated_with_a_count(tmp_path):
    dates = days(10)
    keep = [0, 1, 2, 3, 6, 7, 8, 9]  # 2024-01-05 and 2024-01-06 are absent
    path = write(tmp_path, "gaps.csv", table([dates[i] for i in keep], [10.0 * i for i in keep]))
    with pytest.warns(DataWarning) as record:
        data = read_csv(path)
    message = str(record[0].message)
    assert str(path) in message
    assert "filled 2 missing value(s)" in message
    assert "2 timestamps were absent" in message
    assert data.freq == "D"
    assert data.frame.index.freqstr == "D"
    assert list(data.frame.index.strftime("%Y-%m-%d")) == dates
    assert data.y.tolist() == pytest.approx([10.0 * i for i in range(10)])


def test_gaps_with_ffill(tmp_path):
    dates = days(6)
    path = write(tmp_path, "gaps.csv", table([dates[i] for i in (0, 1, 4, 5)], [1, 2, 5, 6]))
    with pytest.warns(DataWarning, match="forward fill"):
        data = read_csv(path, missing="ffill")
    assert data.y.tolist() == [1.0, 2.0, 2.0, 2.0, 5.0, 6.0]


def test_gaps_with_missing_error_name_the_column_and_first_gap(tmp_path):
    dates = days(6)
    path = write(tmp_path, "gaps.csv", table([dates[i] for i in (0, 1, 4, 5)], [1, 2, 5, 6]))
    with pytest.raises(DataError, match="2 missing value") as info:
        read_csv(path, missing="error")
    message = str(info.value)
    assert str(path) in message
    assert "column 'value'" in message
    assert "2024-01-03" in message


def test_irregular_spacing_without_a_frequency_is_an_error(tmp_path):
    dates = ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-07", "2024-01-11", "2024-01-12"]
    path = write(tmp_path, "irregular.csv", table(dates, range(6)))
    with pytest.raises(DataError, match="irregular") as info:
        read_csv(path)
    assert str(path) in str(info.value)


def test_too_few_rows_to_infer_a_frequency(tmp_path):
    path = write(tmp_path, "two.csv", table(days(2), [1, 2]))
    with pytest.raises(DataError, match="at least 3 timestamps") as info:
        read_csv(path)
    assert str(path) in str(info.value)
    assert load_quietly(path, freq="D").y.tolist() == [1.0, 2.0]


def test_business_days(tmp_path):
    dates = days(15, "2024-01-01", "B")
    path = write(tmp_path, "bdays.csv", table(dates, range(15)))
    data = load_quietly(path)
    assert data.freq == "B"
    assert len(data.frame) == 15  # weekends are not inserted as gaps
    assert (data.frame.index.day_of_week < 5).all()


def test_business_days_with_a_holiday(tmp_path):
    dates = days(15, "2024-01-01", "B")
    del dates[5]  # Monday 2024-01-08 closed
    path = write(tmp_path, "holiday.csv", table(dates, range(14)))
    with pytest.warns(DataWarning, match="filled 1 missing"):
        data = read_csv(path)
    assert data.freq == "B"
    assert len(data.frame) == 15
    # Interpolation is time-weighted (documented): Fri 4 -> Tue 5 puts Monday at 4.75.
    assert data.y["2024-01-08"] == pytest.approx(4.75)


def test_hourly(tmp_path):
    stamps = [f"2024-03-01T{h:02d}:00:00" for h in range(24)] + ["2024-03-02T00:00:00"]
    path = write(tmp_path, "hourly.csv", table(stamps, range(25), "time,temp"))
    data = load_quietly(path)
    assert data.freq == "h"
    assert data.date_col == "time"
    assert data.target == "temp"
    assert len(data.frame) == 25


def test_monthly(tmp_path):
    dates = [f"2023-{m:02d}-01" for m in range(1, 13)]
    data = load_quietly(write(tmp_path, "monthly.csv", table(dates, range(12))))
    assert data.freq == "MS"


# ------------------------------------------------------------ missing values
MISSING_CELLS = ["1", "2", "", "4", "NA", "NaN", "7", "8", "9", "10"]


def test_missing_values_error(tmp_path):
    path = write(tmp_path, "missing.csv", table(days(10), MISSING_CELLS))
    with pytest.raises(DataError, match="3 missing value") as info:
        read_csv(path, missing="error")
    message = str(info.value)
    assert str(path) in message
    assert "column 'value'" in message
    assert "2024-01-03" in message  # the first one
    assert "--missing" in message


def test_missing_values_interpolate_is_the_default_and_warns_with_the_count(tmp_path):
    path = write(tmp_path, "missing.csv", table(days(10), MISSING_CELLS))
    with pytest.warns(DataWarning, match="filled 3 missing value") as record:
        data = read_csv(path)
    assert str(path) in str(record[0].message)
    assert "interpolation" in str(record[0].message)
    assert data.y.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]


def test_missing_values_ffill(tmp_path):
    path = write(tmp_path, "missing.csv", table(days(10), MISSING_CELLS))
    with pytest.warns(DataWarning, match="filled 3 missing value.*forward fill"):
        data = read_csv(path, missing="ffill")
    assert data.y.tolist() == [1.0, 2.0, 2.0, 4.0, 4.0, 4.0, 7.0, 8.0, 9.0, 10.0]


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ("interpolate", [3.0, 3.0, 3.0, 4.0, 5.0, 5.0]),
        ("ffill", [3.0, 3.0, 3.0, 4.0, 5.0, 5.0]),
    ],
)
def test_missing_values_at_the_ends(tmp_path, missing, expected):
    path = write(tmp_path, "ends.csv", table(days(6), ["", "NA", "3", "4", "5", ""]))
    with pytest.warns(DataWarning, match="filled 3 missing value"):
        data = read_csv(path, missing=missing)
    assert data.y.tolist() == expected


def test_time_weighted_interpolation_across_blank_cells_and_gaps(tmp_path):
    dates = days(7)
    rows = [(dates[0], "0"), (dates[1], ""), (dates[4], "8"), (dates[5], "10"), (dates[6], "")]
    path = write(tmp_path, "mix.csv", table([d for d, _ in rows], [v for _, v in rows]))
    with pytest.warns(DataWarning, match="filled 4 missing value"):
        data = read_csv(path)
    assert data.y.tolist() == pytest.approx([0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 10.0])


def test_all_missing_target_is_an_error(tmp_path):
    body = "date,value,other\n" + "".join(f"{d},,{i}\n" for i, d in enumerate(days(6)))
    path = write(tmp_path, "allmissing.csv", body)
    with pytest.raises(DataError, match="every value is missing") as info:
        read_csv(path, target="value")
    assert "column 'value'" in str(info.value)


def test_unknown_missing_policy(tmp_path):
    path = write(tmp_path, "ok.csv", table(days(5), range(5)))
    with pytest.raises(DataError, match="missing="):
        read_csv(path, missing="mean")


# ------------------------------------------------------------- bad numbers
@pytest.mark.parametrize("target", [None, "value"])
def test_non_numeric_target_names_the_line(tmp_path, target):
    values = ["1", "2", "abc", "4", "5", "6", "7", "8", "9", "10"]
    path = write(tmp_path, "text.csv", table(days(10), values))
    with pytest.raises(DataError, match="not a number") as info:
        read_csv(path, target=target)
    message = str(info.value)
    assert str(path) in message
    assert "line 4" in message
    assert "column 'value'" in message
    assert "'abc'" in message


def test_mostly_text_target_named_explicitly_names_the_first_bad_line(tmp_path):
    values = ["1", "low", "high", "mid", "5"]
    body = "date,value,other\n" + "".join(
        f"{d},{v},{i}\n" for i, (d, v) in enumerate(zip(days(5), values, strict=True))
    )
    path = write(tmp_path, "words.csv", body)
    with pytest.raises(DataError, match="not a number") as info:
        read_csv(path, target="value")
    assert "line 3" in str(info.value)
    assert "'low'" in str(info.value)


@pytest.mark.parametrize("bad", ["inf", "-inf", "Infinity", "-Infinity"])
def test_infinite_value_names_the_line(tmp_path, bad):
    values = ["1", "2", "3", "4", bad, "6"]
    path = write(tmp_path, "inf.csv", table(days(6), values))
    with pytest.raises(DataError, match="infinite") as info:
        read_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert "line 6" in message
    assert "column 'value'" in message


def test_constant_series(tmp_path):
    data = load_quietly(write(tmp_path, "const.csv", table(days(10), ["5"] * 10)))
    assert data.y.tolist() == [5.0] * 10


@pytest.mark.parametrize("scale", [1e12, 1e-9])
def test_huge_and_tiny_magnitudes_are_kept_exactly(tmp_path, scale):
    values = [scale * (1 + i / 10) for i in range(10)]
    path = write(tmp_path, "scale.csv", table(days(10), [repr(v) for v in values]))
    data = load_quietly(path)
    assert np.isfinite(data.y).all()
    assert data.y.tolist() == pytest.approx(values, rel=1e-12)


def test_scientific_notation(tmp_path):
    data = load_quietly(write(tmp_path, "sci.csv", table(days(3), ["1e12", "2.5E-9", "-3e+2"])))
    assert data.y.tolist() == [1e12, 2.5e-9, -300.0]


# ----------------------------------------------------- real-world variety
def test_utf8_bom(tmp_path):
    content = b"\xef\xbb\xbf" + table(days(5), range(5)).encode("utf-8")
    data = load_quietly(write(tmp_path, "bom.csv", content))
    assert data.date_col == "date"  # not "\ufeffdate"
    assert data.target == "value"
    assert data.y.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_crlf_line_ends(tmp_path):
    content = table(days(5), ["1.5", "2.5", "", "4.5", "5.5"]).replace("\n", "\r\n")
    path = write(tmp_path, "crlf.csv", content)
    assert b"\r\n" in path.read_bytes()
    with pytest.warns(DataWarning, match="filled 1 missing"):
        data = read_csv(path)
    assert data.y.tolist() == [1.5, 2.5, 3.5, 4.5, 5.5]


def test_quoted_thousands_separators(tmp_path):
    values = ['"1,234.5"', '"12,000"', "17.25", '"-1,000,000.75"', '"999"']
    data = load_quietly(write(tmp_path, "thousands.csv", table(days(5), values)))
    assert data.y.tolist() == [1234.5, 12000.0, 17.25, -1000000.75, 999.0]


def test_semicolons_with_decimal_commas(tmp_path):
    values = ["1.234,5", "0,5", "12", "-3,25", "1.000.000,01"]
    path = write(tmp_path, "semi.csv", table(days(5), values, "date;value", sep=";"))
    data = load_quietly(path)
    assert data.date_col == "date"
    assert data.target == "value"
    assert data.y.tolist() == [1234.5, 0.5, 12.0, -3.25, 1000000.01]


def test_semicolons_with_decimal_commas_only(tmp_path):
    # Every cell like "1.234,5": numbers, not dates, even though a date parser might try.
    values = [f"1.23{i},5" for i in range(6)]
    path = write(tmp_path, "semi_only.csv", table(days(6), values, "date;value", sep=";"))
    data = load_quietly(path)
    assert (data.date_col, data.target) == ("date", "value")
    assert data.y.tolist() == [1230.5, 1231.5, 1232.5, 1233.5, 1234.5, 1235.5]


def test_semicolons_with_several_columns(tmp_path):
    body = "Datum;Temp;Label\n" + "".join(
        f"{d};{i},5;obs{i}\n" for i, d in enumerate(days(5, "2024-06-01"))
    )
    data = load_quietly(write(tmp_path, "de.csv", body))
    assert (data.date_col, data.target) == ("Datum", "Temp")
    assert data.y.tolist() == [0.5, 1.5, 2.5, 3.5, 4.5]


def test_tab_separated(tmp_path):
    path = write(tmp_path, "tab.tsv", table(days(4), ["1.5", "2", "3", "4"], "date\tv", sep="\t"))
    assert load_quietly(path).y.tolist() == [1.5, 2.0, 3.0, 4.0]


def test_extra_text_columns_are_ignored(tmp_path):
    body = "station,date,label,value\n" + "".join(
        f"SEA,{d},note {i},{i}\n" for i, d in enumerate(days(6))
    )
    data = load_quietly(write(tmp_path, "text_cols.csv", body))
    assert data.target == "value"
    assert list(data.frame.columns) == ["value"]


def test_whitespace_around_cells_and_headers(tmp_path):
    body = "date , value\n" + "".join(f" {d} , {i} \n" for i, d in enumerate(days(4)))
    data = load_quietly(write(tmp_path, "spaces.csv", body))
    assert (data.date_col, data.target) == ("date", "value")
    assert data.y.tolist() == [0.0, 1.0, 2.0, 3.0]


# ------------------------------------------------ choosing date and target
def _two_value_file(tmp_path: Path) -> Path:
    body = "date,a,b\n" + "".join(f"{d},{i},{2 * i}\n" for i, d in enumerate(days(6)))
    return write(tmp_path, "two.csv", body)


def test_several_numeric_columns_need_target(tmp_path):
    path = _two_value_file(tmp_path)
    with pytest.raises(DataError, match="--target") as info:
        read_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert "a, b" in message


def test_target_chooses_and_other_numeric_columns_are_covariates(tmp_path):
    path = _two_value_file(tmp_path)
    data = load_quietly(path, target="b")
    assert data.target == "b"
    assert list(data.frame.columns) == ["b", "a"]  # target first
    assert data.y.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert list(load_quietly(path, target="b", covariates=False).frame.columns) == ["b"]


def test_unknown_target_names_the_column_and_the_choices(tmp_path):
    path = _two_value_file(tmp_path)
    with pytest.raises(DataError, match="'temp'") as info:
        read_csv(path, target="temp")
    assert str(path) in str(info.value)
    assert "a, b" in str(info.value)


def test_several_date_columns_need_date_col(tmp_path):
    body = "date,recorded,value\n" + "".join(f"{d},{d},{i}\n" for i, d in enumerate(days(6)))
    path = write(tmp_path, "dates.csv", body)
    with pytest.raises(DataError, match="--date-col") as info:
        read_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert "date, recorded" in message
    data = load_quietly(path, date_col="recorded")
    assert data.date_col == "recorded"
    assert data.target == "value"


def test_unknown_date_col_names_the_column(tmp_path):
    path = _two_value_file(tmp_path)
    with pytest.raises(DataError, match="'when'") as info:
        read_csv(path, target="a", date_col="when")
    assert str(path) in str(info.value)


def test_loaded_data_fields(tmp_path):
    path = write(tmp_path, "ok.csv", table(days(5), range(5), "day,sales"))
    data = load_quietly(path)
    assert data.source == str(path)
    assert (data.date_col, data.target, data.freq) == ("day", "sales", "D")
    assert isinstance(data.frame.index, pd.DatetimeIndex)
    assert data.frame.index.freqstr == "D"
    assert data.y.name == "sales"
    assert data.y.dtype == float


# --------------------------------------------------------- atomic writes
def test_atomic_write_writes_and_replaces(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")
    atomic_write(path, lambda tmp: Path(tmp).write_text("new"))
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old")

    def fail(tmp):
        Path(tmp).write_text("half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        atomic_write(path, fail)
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temporary left


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_atomic_write_gives_new_files_the_umask_mode_and_keeps_an_existing_mode(tmp_path):
    old_umask = os.umask(0o022)
    try:
        new = tmp_path / "new.csv"
        atomic_write(new, lambda tmp: Path(tmp).write_text("x"))
        assert stat.S_IMODE(new.stat().st_mode) == 0o644  # not mkstemp's private 0600
        kept = tmp_path / "kept.csv"
        kept.write_text("old")
        kept.chmod(0o640)
        atomic_write(kept, lambda tmp: Path(tmp).write_text("new"))
        assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    finally:
        os.umask(old_umask)


def test_atomic_write_into_a_missing_folder_names_the_path(tmp_path):
    path = tmp_path / "nowhere" / "out.csv"
    with pytest.raises(InputError) as info:
        atomic_write(path, lambda tmp: Path(tmp).write_text("x"))
    assert str(path) in str(info.value)
    assert not path.parent.exists()


# ---------------------------------------------------- the shared real files
def _shared_csvs() -> list[Path]:
    return sorted(SHARED_DATASETS.glob("*.csv")) if SHARED_DATASETS.is_dir() else []


def _expected_freq(name: str) -> str:
    if name.startswith("stock_"):
        return "B"
    if name.endswith("_hourly.csv"):
        return "h"
    assert name.endswith("_daily.csv"), name
    return "D"


@pytest.mark.skipif(not _shared_csvs(), reason=f"{SHARED_DATASETS} is absent")
@pytest.mark.parametrize("path", _shared_csvs(), ids=lambda p: p.name)
def test_shared_dataset_loads(path):
    target = SHARED_TARGETS.get(path.name)
    if target is None:  # a file added later: its first value column
        target = pd.read_csv(path, nrows=0).columns[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # market holidays, sensor gaps
        data = read_csv(path, target=target, covariates=False)
    raw = pd.read_csv(path, usecols=["date", target], parse_dates=["date"], index_col="date")
    assert data.freq == _expected_freq(path.name)
    assert data.date_col == "date"
    assert data.target == target
    assert data.frame.index[0] == raw.index[0]
    assert data.frame.index[-1] == raw.index[-1]
    assert len(data.frame) >= len(raw)
    assert np.isfinite(data.y.to_numpy()).all()
    observed = raw[target].dropna()
    assert data.y.loc[observed.index].to_numpy() == pytest.approx(observed.to_numpy())
