"""Hostile and odd input, from the reliability sweep's reproductions (issue 12): CSV files.

Each test names the failure it reproduces (D1, W1, ... in the sweep's REPORT.md).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tsrnn.cli.main import main
from tsrnn.exceptions import DataError, DataWarning
from tsrnn.io import atomic_write, read_csv


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


FOUR = "date,value\n2024-01-01,1\n2024-01-02,2\n2024-01-03,3\n2024-01-04,4\n"


# ------------------------------------------------------------------ D1: data loss
@pytest.mark.parametrize("option", ["--output", "--plot"])
def test_forecast_refuses_to_overwrite_its_input(tmp_path, option):
    data = _write(tmp_path, "copy.csv", FOUR)
    result = _cli("forecast", data, "--model", "naive", option, data)
    assert result.exit_code == 2
    assert "is the input file" in result.output
    assert data.read_text() == FOUR


def test_fit_refuses_to_save_onto_its_input(tmp_path, monkeypatch):
    data = _write(tmp_path, "copy.csv", FOUR)
    monkeypatch.chdir(tmp_path)
    result = _cli("fit", "copy.csv", "--model", "naive", "--save", "./copy.csv")
    assert result.exit_code == 2 and "--save" in result.output
    assert data.read_text() == FOUR


# ------------------------------------------------------------ W1: day-first dates
def test_day_first_dates_are_read_day_first(tmp_path):
    days = pd.date_range("2024-01-01", "2024-12-31")
    text = "date,value\n" + "".join(f"{d:%d/%m/%Y},{i}\n" for i, d in enumerate(days))
    data = read_csv(_write(tmp_path, "ddmm.csv", text))
    assert data.freq == "D"
    assert data.y.index[0] == pd.Timestamp("2024-01-01")
    np.testing.assert_array_equal(data.y.to_numpy()[:5], [0, 1, 2, 3, 4])


def test_month_first_dates_are_read_month_first(tmp_path):
    text = "date,value\n01/30/2024,1\n01/31/2024,2\n02/01/2024,3\n02/02/2024,4\n"
    data = read_csv(_write(tmp_path, "mmdd.csv", text))
    assert list(data.y.index.strftime("%Y-%m-%d"))[-1] == "2024-02-02"


@pytest.mark.parametrize("sep", ["/", "."])
def test_ambiguous_day_month_dates_are_refused_naming_date_format(tmp_path, sep):
    text = f"date,value\n01{sep}03{sep}2000,-17\n01{sep}04{sep}2000,-10\n01{sep}05{sep}2000,3\n"
    path = _write(tmp_path, "ddmm_monthly.csv", text)
    with pytest.raises(DataError, match="date_format=.*--date-format"):
        read_csv(path)
    result = _cli("forecast", path, "--model", "naive", "--horizon", "2")
    assert result.exit_code == 2 and "--date-format" in result.output
    fmt = f"%d{sep}%m{sep}%Y"
    assert read_csv(path, date_format=fmt).freq == "MS"
    ok = _cli("forecast", path, "--model", "naive", "--horizon", "2", "--date-format", fmt)
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.splitlines()[1].startswith("2000-06-01")


def test_a_column_mixing_both_orders_is_refused(tmp_path):
    text = "date,value\n13/01/2024,1\n01/14/2024,2\n01/15/2024,3\n"
    with pytest.raises(DataError, match="mixes day-first and month-first"):
        read_csv(_write(tmp_path, "mixed.csv", text))


# ------------------------------------------------------- W2, W3: header and times
def test_a_file_without_header_is_refused(tmp_path):
    path = _write(tmp_path, "no_header.csv", "2024-01-01,10\n2024-01-02,11\n2024-01-03,12\n")
    with pytest.raises(DataError, match="looks like data, not a header"):
        read_csv(path)


def test_time_only_stamps_are_refused(tmp_path):
    path = _write(tmp_path, "time_only.csv", "time,value\n00:00,0\n00:01,1\n00:02,2\n")
    with pytest.raises(DataError, match="line 2.*time without a date"):
        read_csv(path)


# ------------------------------------------------------------ C1, C2, M2, M3, M4
def test_duplicate_names_after_stripping_are_refused(tmp_path):
    path = _write(tmp_path, "dup.csv", "date,value,value \n2024-01-01,1,1\n2024-01-02,2,2\n")
    with pytest.raises(DataError, match="two columns are named 'value'"):
        read_csv(path)


def test_zero_frequency_is_refused(tmp_path):
    result = _cli("forecast", _write(tmp_path, "f.csv", FOUR), "--model", "naive", "--freq", "0D")
    assert result.exit_code == 2 and "does not step forward" in result.output


def test_long_cells_give_short_messages_fast(tmp_path):
    start = time.perf_counter()
    path = _write(tmp_path, "long.csv", FOUR + "2024-01-05," + "1 " * 50_000 + "\n")
    with pytest.raises(DataError) as info:
        read_csv(path)
    assert len(str(info.value)) < 300 and "characters" in str(info.value)
    long_date = _write(tmp_path, "long_date.csv", "date,value\n" + "9" * 200_000 + ",1\n")
    with pytest.raises(DataError):
        read_csv(long_date)
    assert time.perf_counter() - start < 5


def test_control_characters_stay_on_one_line(tmp_path):
    path = _write(tmp_path, "ctrl.csv", "date,val\x0bue\n2024-01-01,x\n2024-01-02,2\n")
    result = _cli("forecast", path, "--model", "naive")
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "\\x0b" in result.output


def test_binary_files_are_named_as_such(tmp_path):
    path = tmp_path / "zip.csv"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(DataError, match="not a text CSV file"):
        read_csv(path)


def test_read_csv_messages_name_the_python_argument(tmp_path):
    path = _write(tmp_path, "two.csv", "date,a,b\n2024-01-01,1,2\n2024-01-02,2,3\n")
    with pytest.raises(DataError, match=r"target= \(--target\)"):
        read_csv(path)


def test_wide_files_are_read_in_bounded_time(tmp_path):
    days = [f"2024-01-0{d}" for d in range(1, 6)]
    header = "date," + ",".join(f"c{k}" for k in range(3000)) + "\n"
    body = "".join(d + "," + ",".join("1" for _ in range(3000)) + "\n" for d in days)
    path = _write(tmp_path, "wide.csv", header + body)
    start = time.perf_counter()
    data = read_csv(path, target="c7", freq="D", covariates=False)
    assert time.perf_counter() - start < 3  # was ~3.5 ms per column: 10 s
    assert list(data.frame.columns) == ["c7"]


# ------------------------------------------------------------------ W4, W8
def test_huge_values_give_finite_forecasts_and_a_readable_csv(tmp_path):
    path = _write(
        tmp_path,
        "huge.csv",
        "date,value\n2024-01-01,1e300\n2024-01-02,-1e300\n2024-01-03,1e300\n2024-01-04,-1e300\n",
    )
    result = _cli("forecast", path, "--model", "naive", "--horizon", "2")
    assert result.exit_code == 0, result.output
    assert "inf" not in result.stdout
    top = _write(
        tmp_path,
        "top.csv",
        "date,value\n" + "".join(f"2024-01-0{d},1.7976931348623157e308\n" for d in range(1, 5)),
    )
    out = tmp_path / "out.csv"
    assert _cli("forecast", top, "--model", "naive", "--output", out).exit_code == 0
    back = pd.read_csv(out)
    assert np.isfinite(back[["forecast", "lower", "upper"]].to_numpy()).all()


# ------------------------------------------------------------ C3, M4: predict --data
@pytest.fixture
def saved_naive(tmp_path):
    days = pd.date_range("2024-01-01", periods=60)
    text = "date,value\n" + "".join(f"{d:%Y-%m-%d},{10 + i / 10}\n" for i, d in enumerate(days))
    model = tmp_path / "naive.tsrnn"
    assert (
        _cli("fit", _write(tmp_path, "d.csv", text), "--model", "naive", "--save", model).exit_code
        == 0
    )
    return model


def test_predict_with_newer_rows_in_another_time_zone(tmp_path, saved_naive):
    newer = _write(
        tmp_path,
        "tz.csv",
        "date,value\n2024-03-01T00:00:00Z,10.5\n2024-03-02T00:00:00Z,10.7\n2024-03-03T00:00:00Z,11\n",
    )
    result = _cli("predict", saved_naive, "--data", newer)
    assert result.exit_code == 2 and "tz.csv" in result.output and "time zone" in result.output


def test_predict_with_a_gap_names_the_file_and_dates(tmp_path, saved_naive):
    newer = _write(
        tmp_path, "gap.csv", "date,value\n2024-03-05,10.5\n2024-03-06,10.7\n2024-03-07,11\n"
    )
    result = _cli("predict", saved_naive, "--data", newer)
    assert result.exit_code == 2
    assert "gap.csv" in result.output and "2024-03-01" in result.output
    assert "y_new" not in result.output


def test_predict_skips_rows_already_seen_with_a_warning(tmp_path, saved_naive):
    newer = _write(tmp_path, "again.csv", "date,value\n2024-02-28,1\n2024-02-29,2\n2024-03-01,3\n")
    result = _cli("predict", saved_naive, "--data", newer, "--horizon", "1")
    assert result.exit_code == 0, result.output
    assert "skipped 2 row(s)" in result.output
    assert result.stdout.splitlines()[1].startswith("2024-03-02,3")


# ------------------------------------------------------------------ L1, C6
def test_stale_temporary_files_of_dead_processes_are_removed(tmp_path):
    stale = tmp_path / ".out.csv.999999999.abcd.tsrnn-tmp"
    stale.write_text("half")
    atomic_write(tmp_path / "out.csv", lambda tmp: open(tmp, "w").write("new"))
    assert not stale.exists()
    assert (tmp_path / "out.csv").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_writing_onto_a_directory_is_refused(tmp_path):
    result = _cli(
        "forecast", _write(tmp_path, "f.csv", FOUR), "--model", "naive", "--output", tmp_path
    )
    assert result.exit_code == 2 and "is a directory" in result.output


def test_plot_format_follows_the_ending(tmp_path):
    data = _write(tmp_path, "f.csv", FOUR)
    result = _cli("forecast", data, "--model", "naive", "--plot", tmp_path / "x.jpg")
    assert result.exit_code == 2 and ".png" in result.output


def test_warnings_point_at_the_callers_line(tmp_path):
    path = _write(tmp_path, "gaps.csv", "date,value\n2024-01-01,1\n2024-01-02,\n2024-01-03,3\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_csv(path)
    assert caught and all(w.filename == __file__ for w in caught if w.category is DataWarning)


# ------------------------------------------------------------------ smaller things
def test_help_shows_the_neural_defaults():
    import inspect

    from tsrnn.cli.options import NEURAL_DEFAULTS
    from tsrnn.rnn import LSTMForecaster

    signature = inspect.signature(LSTMForecaster.__init__).parameters
    assert {k: signature[k].default for k in NEURAL_DEFAULTS} == NEURAL_DEFAULTS
    text = " ".join(_cli("forecast", "--help").output.split())
    for value in NEURAL_DEFAULTS.values():
        assert f"[default: {value}]" in text


def test_datasets_list_fits_a_terminal():
    result = _cli("datasets", "list")
    assert result.exit_code == 0
    assert max(len(line) for line in result.output.splitlines()) <= 80


# ------------------------------------------- found by a new-user run after the merge
@pytest.mark.parametrize("freq, hint", [("M", "ME"), ("Q", "QE"), ("xyz", "xyz")])
def test_unknown_or_retired_frequency_is_a_usage_error(tmp_path, freq, hint):
    path = tmp_path / "w.csv"
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    pd.DataFrame({"date": days, "v": np.arange(30.0)}).to_csv(path, index=False)
    result = CliRunner().invoke(main, ["forecast", str(path), "--model", "naive", "--freq", freq])
    assert result.exit_code == 2, result.output
    assert f"frequency {freq!r} is not valid" in result.stderr and hint in result.stderr
    with pytest.raises(DataError, match="is not valid"):
        read_csv(path, freq=freq)


def test_two_outputs_naming_one_file_are_refused_before_any_work(tmp_path):
    path = tmp_path / "w.csv"
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    pd.DataFrame({"date": days, "v": np.arange(30.0)}).to_csv(path, index=False)
    same = tmp_path / "same.png"
    result = CliRunner().invoke(
        main,
        ["forecast", str(path), "--model", "naive", "--output", str(same), "--plot", str(same)],
    )
    assert result.exit_code == 2 and "--output and --plot both name" in result.stderr
    assert not same.exists()
