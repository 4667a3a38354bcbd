"""Tests of the ``tsrnn`` command line with click's ``CliRunner``.

Only the baselines (naive, seasonal-naive, drift) are used, so these tests are fast
and never need torch. Expected forecasts are computed from the CSV files themselves.
Every file is written under ``tmp_path``.
"""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from tsrnn.cli import main
from tsrnn.datasets import dataset_path

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
SEATTLE = DATASETS / "weather_seattle_daily.csv"
MSFT = DATASETS / "stock_msft_daily.csv"
DATASET_NAMES = ["aapl", "ibm", "goog", "msft", "seattle", "clemson", "nyc_jfk"]
HEADER = "date,forecast,lower,upper"


# ---------------------------------------------------------------- helpers
def run(*args: object):
    """Invoke ``tsrnn ARGS`` in-process; stdout and stderr are kept apart."""
    return CliRunner().invoke(main, [str(a) for a in args])


def forecast_frame(text: str) -> pd.DataFrame:
    """Parse the CSV forecast printed on stdout."""
    return pd.read_csv(io.StringIO(text))


def days(n: int, start: str = "2024-01-01", freq: str = "D") -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(start, periods=n, freq=freq)]


def csv_file(path: Path, dates, values, header: str = "date,value") -> Path:
    body = "".join(f"{d},{v}\n" for d, v in zip(dates, values, strict=True))
    path.write_text(f"{header}\n{body}", encoding="utf-8")
    return path


def assert_clean_error(result, *needles: str, code: int = 2) -> None:
    """Exit ``code``; an ``error:`` message of one or two lines naming ``needles``."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # nothing escaped
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.rstrip("\n").split("\n")
    start = next(i for i, line in enumerate(lines) if not line.startswith("warning: "))
    error = lines[start:]
    assert error[0].startswith("error: "), result.stderr
    assert 1 <= len(error) <= 2, result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


def seattle_tail(n: int) -> pd.Series:
    raw = pd.read_csv(SEATTLE, parse_dates=["date"], index_col="date")
    return raw["temp_max"].iloc[-n:]


# ------------------------------------------------------------------ help
def test_main_help():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("forecast", "fit", "predict", "datasets"):
        assert command in result.stdout


def _all_commands() -> list[list[str]]:
    paths = []
    for name, command in main.commands.items():
        paths.append([name])
        for sub in getattr(command, "commands", {}):
            paths.append([name, sub])
    return paths


@pytest.mark.parametrize("path", _all_commands(), ids=" ".join)
def test_every_subcommand_help(path):
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    assert result.stderr == ""


def test_version():
    import tsrnn

    result = run("--version")
    assert result.exit_code == 0
    assert tsrnn.__version__ in result.stdout


# -------------------------------------------------------------- forecast
def test_forecast_seasonal_naive_on_seattle():
    result = run(
        "forecast", SEATTLE, "--target", "temp_max", "--model", "seasonal-naive", "--horizon", 7
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == HEADER
    assert len(lines) == 8
    table = forecast_frame(result.stdout)
    assert table["date"].tolist() == days(7, "2016-01-01")
    expected = seattle_tail(7)
    assert expected.index[-1] == pd.Timestamp("2015-12-31")
    assert table["forecast"].to_numpy() == pytest.approx(expected.to_numpy())
    assert (table["lower"] < table["forecast"]).all()
    assert (table["forecast"] < table["upper"]).all()


def test_forecast_naive_on_stock_data_skips_weekends():
    raw = pd.read_csv(MSFT, parse_dates=["date"], index_col="date")
    last = raw.index[-1]
    assert last == pd.Timestamp("2017-11-10") and last.day_name() == "Friday"
    result = run("forecast", MSFT, "--target", "close", "--model", "naive")
    assert result.exit_code == 0, result.output
    table = forecast_frame(result.stdout)
    # no --horizon: a trading week of business days
    expected_dates = pd.bdate_range(last + pd.offsets.BDay(1), periods=5)
    assert table["date"].tolist() == list(expected_dates.strftime("%Y-%m-%d"))
    assert table["date"].iloc[0] == "2017-11-13"
    assert not {"2017-11-11", "2017-11-12", "2017-11-18", "2017-11-19"} & set(table["date"])
    assert table["forecast"].to_numpy() == pytest.approx(np.full(5, raw["close"].iloc[-1]))
    assert result.stdout.splitlines()[0] == HEADER  # warnings went to stderr, not stdout


def test_forecast_drift_follows_the_line_through_first_and_last():
    raw = pd.read_csv(SEATTLE)["temp_max"].to_numpy()
    result = run("forecast", SEATTLE, "--target", "temp_max", "--model", "drift", "--horizon", 3)
    assert result.exit_code == 0, result.output
    slope = (raw[-1] - raw[0]) / (len(raw) - 1)
    expected = raw[-1] + slope * np.arange(1, 4)
    assert forecast_frame(result.stdout)["forecast"].to_numpy() == pytest.approx(expected, 1e-5)


def test_forecast_json():
    args = ("forecast", SEATTLE, "--target", "temp_max", "--model", "seasonal-naive")
    as_csv = forecast_frame(run(*args).stdout)
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert isinstance(records, list) and len(records) == 7
    assert all(set(r) == {"date", "forecast", "lower", "upper"} for r in records)
    assert [r["date"] for r in records] == as_csv["date"].tolist()
    assert [r["forecast"] for r in records] == pytest.approx(seattle_tail(7).tolist())
    assert [r["upper"] for r in records] == pytest.approx(as_csv["upper"].tolist(), rel=1e-5)


def test_forecast_table():
    result = run(
        "forecast", SEATTLE, "--target", "temp_max", "--model", "naive", "--format", "table"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["date", "forecast", "lower", "upper"]
    assert len(lines) == 8
    first = lines[1].split()
    assert first[0] == "2016-01-01"
    assert float(first[1]) == pytest.approx(seattle_tail(1).iloc[0])


def test_forecast_infers_target_and_date_column(tmp_path):
    path = csv_file(tmp_path / "one.csv", days(20), [float(i % 7) for i in range(20)], "day,x")
    result = run("forecast", path, "--model", "seasonal-naive", "--horizon", 2)
    assert result.exit_code == 0, result.output
    table = forecast_frame(result.stdout)
    assert table["date"].tolist() == ["2024-01-21", "2024-01-22"]
    assert table["forecast"].tolist() == [6.0, 0.0]


def test_forecast_coverage_widens_the_interval():
    args = ("forecast", SEATTLE, "--target", "temp_max", "--model", "naive")
    narrow = forecast_frame(run(*args, "--coverage", "0.5").stdout)
    wide = forecast_frame(run(*args, "--coverage", "0.99").stdout)
    assert ((wide["upper"] - wide["lower"]) > (narrow["upper"] - narrow["lower"])).all()


def test_forecast_interval_method_matches_the_python_api():
    from tsrnn import NaiveForecaster

    y = seattle_tail(1461)
    args = ("forecast", SEATTLE, "--target", "temp_max", "--model", "naive", "--horizon", 3)
    for method in ("conformal", "model"):
        table = forecast_frame(run(*args, "--interval", method).stdout)
        band = NaiveForecaster(horizon=3, interval=method).fit(y).predict_interval(coverage=0.9)
        np.testing.assert_allclose(table["upper"], band["upper"], rtol=1e-5)
        np.testing.assert_allclose(table["lower"], band["lower"], rtol=1e-5)
    model = forecast_frame(run(*args, "--interval", "model").stdout)
    conformal = forecast_frame(run(*args).stdout)  # the default
    assert not np.allclose(model["upper"], conformal["upper"])
    bad = run(*args, "--interval", "bootstrap")
    assert bad.exit_code == 2 and "'--interval'" in bad.stderr and "conformal" in bad.stderr


def test_forecast_output_file_and_nothing_on_stdout(tmp_path):
    out = tmp_path / "out.csv"
    args = ("forecast", SEATTLE, "--target", "temp_max", "--model", "seasonal-naive")
    result = run(*args, "--output", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == run(*args).stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temporary left


def test_forecast_output_json_file(tmp_path):
    out = tmp_path / "out.json"
    result = run("forecast", SEATTLE, "--target", "temp_max", "--model", "naive", "-o", out)
    assert result.exit_code == 0, result.output
    assert [r["date"] for r in json.loads(out.read_text())] == days(7, "2016-01-01")


def test_output_into_a_missing_folder_fails_and_writes_nothing(tmp_path):
    out = tmp_path / "missing" / "out.csv"
    result = run("forecast", SEATTLE, "--target", "temp_max", "--model", "naive", "-o", out)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ")
    assert str(out) in result.stderr
    assert not out.parent.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["r.md", "r.html"])
def test_report_into_a_missing_folder_is_refused_before_any_work(tmp_path, name):
    report = tmp_path / "missing" / name
    args = ("backtest", SEATTLE, "--target", "temp_max", "--models", "naive", "--folds", 3)
    assert_clean_error(run(*args, "--report", report), "--report", "does not exist")
    assert list(tmp_path.iterdir()) == []  # no folder created


def test_failed_command_does_not_clobber_an_existing_output(tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("old content\n")
    bad = csv_file(tmp_path / "bad.csv", days(5), [1, 2, "oops", 4, 5])
    result = run("forecast", bad, "--model", "naive", "--output", out)
    assert_clean_error(result, str(bad), "line 4")
    assert out.read_text() == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "out.csv"]


# -------------------------------------------------------- bad input rows
def _dup(path: Path) -> Path:
    dates = days(8)
    dates[4] = dates[3]
    return csv_file(path, dates, range(8))


def _bad_date(path: Path) -> Path:
    dates = days(8)
    dates[4] = "2024-13-45"
    return csv_file(path, dates, range(8))


def _mixed_tz(path: Path) -> Path:
    stamps = [f"{d}T00:00:00+01:00" for d in days(4)]
    stamps += [f"{d}T00:00:00+02:00" for d in days(4, "2024-01-05")]
    return csv_file(path, stamps, range(8))


def _two_numeric(path: Path) -> Path:
    body = "".join(f"{d},{i},{-i}\n" for i, d in enumerate(days(8)))
    path.write_text("date,a,b\n" + body)
    return path


def _two_dates(path: Path) -> Path:
    body = "".join(f"{d},{d},{i}\n" for i, d in enumerate(days(8)))
    path.write_text("date,recorded,value\n" + body)
    return path


BAD_INPUTS = {
    # id: (make file at path -> path, extra CLI args, substrings the message must hold)
    "missing-file": (lambda p: p, (), ("no such file",)),
    "directory": (lambda p: (p.mkdir(), p)[1], (), ("directory",)),
    "not-utf8": (lambda p: (p.write_bytes(b"date,t\xfc\n2024-01-01,1\n"), p)[1], (), ("UTF-8",)),
    "empty": (lambda p: (p.write_text(""), p)[1], (), ("empty",)),
    "header-only": (lambda p: (p.write_text("date,value\n"), p)[1], (), ("no data rows",)),
    "no-date-column": (
        lambda p: csv_file(p, [f"x{i}" for i in range(8)], range(8), "id,value"),
        (),
        ("--date-col", "id, value"),
    ),
    "bad-date": (_bad_date, (), ("line 6", "column 'date'", "'2024-13-45'")),
    "mixed-time-zones": (_mixed_tz, (), ("column 'date'", "time zone")),
    "duplicate": (_dup, (), ("duplicate timestamp 2024-01-04", "lines 5, 6")),
    "missing-error": (
        lambda p: csv_file(p, days(8), [1, "", 3, "NA", 5, 6, 7, 8]),
        ("--missing", "error"),
        ("column 'value'", "2 missing", "2024-01-02"),
    ),
    "non-numeric": (
        lambda p: csv_file(p, days(8), [1, 2, 3, "n/a?", 5, 6, 7, 8]),
        (),
        ("line 5", "column 'value'", "'n/a?'"),
    ),
    "inf": (
        lambda p: csv_file(p, days(8), [1, 2, "inf", 4, 5, 6, 7, 8]),
        (),
        ("line 4", "column 'value'", "infinite"),
    ),
    "several-numeric": (_two_numeric, (), ("--target", "a, b")),
    "several-dates": (_two_dates, (), ("--date-col", "date, recorded")),
    "unknown-target": (_two_numeric, ("--target", "temp"), ("'temp'",)),
    "unknown-date-col": (_two_numeric, ("--target", "a", "--date-col", "when"), ("'when'",)),
    "too-short": (
        lambda p: csv_file(p, days(5), [1, 2, 3, 4, 5]),
        ("--model", "seasonal-naive"),
        ("column 'value'", "at least 8"),
    ),
    "too-short-for-a-frequency": (
        lambda p: csv_file(p, days(2), [1, 2]),
        (),
        ("at least 3", "--freq"),
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_a_clean_error(tmp_path, case):
    make, extra, needles = BAD_INPUTS[case]
    path = make(tmp_path / "data.csv")
    args = ("--model", "naive", *extra) if "--model" not in extra else extra
    result = run("forecast", path, *args)
    assert_clean_error(result, str(path), *needles)


@pytest.mark.parametrize("case", ["duplicate", "bad-date", "non-numeric", "missing-file"])
def test_bad_input_in_fit_is_a_clean_error(tmp_path, case):
    make, extra, needles = BAD_INPUTS[case]
    path = make(tmp_path / "data.csv")
    model = tmp_path / "m.tsrnn"
    result = run("fit", path, "--model", "drift", *extra, "--save", model)
    assert_clean_error(result, str(path), *needles)
    assert not model.exists()


def test_bad_input_in_a_real_process(tmp_path):
    """The installed entry point, not only CliRunner: exit 2, no traceback."""
    path = _dup(tmp_path / "dup.csv")
    code = "from tsrnn.cli import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "forecast", str(path), "--model", "naive"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    assert str(path) in proc.stderr


def test_repairs_are_warnings_on_stderr(tmp_path):
    dates = days(10)
    order = [0, 2, 1, 3, 4, 5, 6, 7, 8, 9]
    values = ["1", "2", "3", "", "5", "6", "7", "8", "9", "10"]
    path = csv_file(tmp_path / "messy.csv", [dates[i] for i in order], values)
    result = run("forecast", path, "--model", "naive", "--horizon", 2)
    assert result.exit_code == 0, result.output
    assert "sorted" in result.stderr
    assert "filled 1 missing value" in result.stderr
    assert all(line.startswith("warning: ") for line in result.stderr.splitlines())
    assert result.stdout.splitlines()[0] == HEADER


@pytest.mark.parametrize("model", ["naive", "seasonal-naive", "drift"])
def test_constant_series_forecasts_the_constant(tmp_path, model):
    path = csv_file(tmp_path / "const.csv", days(30), [4.25] * 30)
    result = run("forecast", path, "--model", model, "--horizon", 9)
    assert result.exit_code == 0, result.output
    table = forecast_frame(result.stdout)
    for column in ("forecast", "lower", "upper"):
        assert table[column].tolist() == pytest.approx([4.25] * 9)


@pytest.mark.parametrize("scale", [1e12, 1e-9])
@pytest.mark.parametrize("model", ["naive", "seasonal-naive", "drift"])
def test_huge_and_tiny_magnitudes_give_finite_forecasts(tmp_path, model, scale):
    rng = np.random.default_rng(0)
    values = scale * (10 + np.sin(np.arange(40)) + rng.normal(0, 0.1, 40))
    path = csv_file(tmp_path / "scale.csv", days(40), [repr(float(v)) for v in values])
    result = run("forecast", path, "--model", model, "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    numbers = np.array([[r["forecast"], r["lower"], r["upper"]] for r in records])
    assert np.isfinite(numbers).all()
    assert np.abs(numbers[:, 0]).max() == pytest.approx(12 * scale, rel=0.3)


def test_table_format_shows_tiny_and_huge_magnitudes(tmp_path):
    values = [f"{v:.4e}" for v in 1e-9 * (10 + np.sin(np.arange(40)))]
    result = run(
        "forecast",
        csv_file(tmp_path / "tiny.csv", days(40), values),
        "--model",
        "naive",
        "--horizon",
        2,
        "--format",
        "table",
    )
    assert result.exit_code == 0, result.output
    first = result.stdout.splitlines()[1].split()
    assert float(first[1]) == pytest.approx(float(values[-1]))  # not 0.0000


def test_dates_past_year_9999_are_printed(tmp_path):
    path = csv_file(tmp_path / "y.csv", days(40, start="9999-11-01"), range(40))
    result = run("forecast", path, "--model", "naive", "--horizon", 100)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("10000-03-")


def test_unknown_model_is_a_usage_error():
    result = run("forecast", SEATTLE, "--target", "temp_max", "--model", "prophet")
    assert result.exit_code == 2
    assert "--model" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_debug_shows_the_traceback_of_a_library_error(tmp_path):
    path = _dup(tmp_path / "dup.csv")
    result = run("--debug", "forecast", path, "--model", "naive")
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "DataError" in result.stderr
    assert "error: " in result.stderr


# ----------------------------------------------------------- fit/predict
@pytest.mark.parametrize("model", ["naive", "seasonal-naive", "drift"])
def test_fit_then_predict_equals_forecast(tmp_path, model):
    saved = tmp_path / "m.tsrnn"
    options = ("--target", "temp_max", "--model", model, "--horizon", 5)
    fitted = run("fit", SEATTLE, *options, "--save", saved)
    assert fitted.exit_code == 0, fitted.output
    assert fitted.stdout == ""
    assert saved.is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tsrnn"]
    predicted = run("predict", saved)
    assert predicted.exit_code == 0, predicted.output
    assert predicted.stdout == run("forecast", SEATTLE, *options).stdout
    assert len(predicted.stdout.splitlines()) == 6


def test_predict_horizon_and_formats(tmp_path):
    saved = tmp_path / "m.tsrnn"
    run("fit", SEATTLE, "--target", "temp_max", "--model", "naive", "--save", saved)
    result = run("predict", saved, "--horizon", 3, "--format", "json")
    assert result.exit_code == 0, result.output
    assert [r["date"] for r in json.loads(result.stdout)] == days(3, "2016-01-01")
    out = tmp_path / "p.csv"
    result = run("predict", saved, "--output", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert forecast_frame(out.read_text())["date"].tolist() == days(7, "2016-01-01")


def test_predict_with_newer_data_moves_the_forecast_forward(tmp_path):
    lines = SEATTLE.read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    early = tmp_path / "early.csv"
    newer = tmp_path / "newer.csv"
    early.write_text(header + "".join(rows[:-7]), encoding="utf-8")
    newer.write_text(header + "".join(rows[-7:]), encoding="utf-8")
    saved = tmp_path / "m.tsrnn"
    options = ("--target", "temp_max", "--model", "seasonal-naive")
    assert run("fit", early, *options, "--save", saved).exit_code == 0

    before = forecast_frame(run("predict", saved).stdout)
    assert before["date"].tolist() == days(7, "2015-12-25")

    result = run("predict", saved, "--data", newer)
    assert result.exit_code == 0, result.output
    after = forecast_frame(result.stdout)
    assert after["date"].tolist() == days(7, "2016-01-01")
    assert after["forecast"].to_numpy() == pytest.approx(seattle_tail(7).to_numpy())
    full = forecast_frame(run("forecast", SEATTLE, *options).stdout)
    assert after["forecast"].tolist() == full["forecast"].tolist()


def test_predict_with_newer_data_that_does_not_continue_is_an_error(tmp_path):
    saved = tmp_path / "m.tsrnn"
    run("fit", SEATTLE, "--target", "temp_max", "--model", "naive", "--save", saved)
    later = csv_file(tmp_path / "later.csv", days(5, "2016-03-01"), range(5), "date,temp_max")
    result = run("predict", saved, "--data", later)
    assert_clean_error(result, "2016-01-01")


class _Payload:
    """Pickles to a call that creates ``marker``: loading it would run code."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _saved_members(tmp_path: Path) -> dict[str, bytes]:
    saved = tmp_path / "good.tsrnn"
    result = run("fit", SEATTLE, "--target", "temp_max", "--model", "naive", "--save", saved)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(saved) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    saved.unlink()
    return members


def test_predict_on_random_bytes(tmp_path):
    path = tmp_path / "random.tsrnn"
    path.write_bytes(np.random.default_rng(0).bytes(512))
    assert_clean_error(run("predict", path), str(path), "not a tsrnn model file")


def test_predict_on_a_csv(tmp_path):
    assert_clean_error(run("predict", SEATTLE), str(SEATTLE), "not a tsrnn model file")


def test_predict_on_a_missing_model_file(tmp_path):
    path = tmp_path / "none.tsrnn"
    assert_clean_error(run("predict", path), str(path))


def test_predict_on_a_zip_without_model_json(tmp_path):
    path = _zip(tmp_path / "other.tsrnn", {"readme.txt": b"hello"})
    assert_clean_error(run("predict", path), str(path), "model.json")


def test_predict_on_a_future_format_version(tmp_path):
    members = _saved_members(tmp_path)
    header = json.loads(members["model.json"])
    header["format_version"] = 999
    members["model.json"] = json.dumps(header).encode()
    path = _zip(tmp_path / "future.tsrnn", members)
    assert_clean_error(run("predict", path), str(path), "999", "Refit")


def test_predict_on_an_unknown_class(tmp_path):
    members = _saved_members(tmp_path)
    header = json.loads(members["model.json"])
    header["class"] = "os.system"
    members["model.json"] = json.dumps(header).encode()
    path = _zip(tmp_path / "evil_class.tsrnn", members)
    assert_clean_error(run("predict", path), str(path), "os.system")


def test_predict_on_a_pickle_runs_no_code(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.tsrnn"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    assert_clean_error(run("predict", path), str(path), "not a tsrnn model file")
    assert not marker.exists()
    pickle.loads(path.read_bytes()).close()  # the payload is live: unpickling runs it
    assert marker.exists()


def test_predict_on_pickled_arrays_runs_no_code(tmp_path):
    marker = tmp_path / "pwned"
    members = _saved_members(tmp_path)
    buffer = io.BytesIO()
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload(marker)
    header = json.loads(members["model.json"])
    np.savez(buffer, **{"state.last_value_": evil})
    header["state"]["__dict__"]["last_value_"] = {"__array__": "state.last_value_"}
    members = {"model.json": json.dumps(header).encode(), "arrays.npz": buffer.getvalue()}
    path = _zip(tmp_path / "evil_arrays.tsrnn", members)
    assert_clean_error(run("predict", path), str(path))
    assert not marker.exists()


# --------------------------------------------------------------- datasets
def test_datasets_list():
    result = run("datasets", "list")
    assert result.exit_code == 0, result.output
    for name in DATASET_NAMES:
        assert name in result.stdout


def test_datasets_show():
    result = run("datasets", "show", "seattle")
    assert result.exit_code == 0, result.output
    assert "seattle" in result.stdout
    assert "temp_max" in result.stdout
    assert "2012-01-01" in result.stdout


def test_datasets_export_is_byte_identical(tmp_path):
    out = tmp_path / "seattle.csv"
    result = run("datasets", "export", "seattle", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert out.read_bytes() == dataset_path("seattle").read_bytes()
    assert out.read_bytes() == SEATTLE.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seattle.csv"]


@pytest.mark.parametrize("command", [("show", "atlantis"), ("export", "atlantis", "x.csv")])
def test_unknown_dataset_lists_the_names(tmp_path, command):
    args = [tmp_path / a if a.endswith(".csv") else a for a in command]
    result = run("datasets", *args)
    assert_clean_error(result, "'atlantis'", *DATASET_NAMES)
    assert not (tmp_path / "x.csv").exists()


def test_backtest_too_many_folds_says_how_many_fit_in_option_terms():
    args = ("backtest", SEATTLE, "--target", "temp_max", "--models", "naive", "--quiet")
    assert_clean_error(run(*args, "--folds", 209), "--folds 209", "Use --folds 208 or fewer")
    assert run(*args, "--folds", 208).exit_code == 0
