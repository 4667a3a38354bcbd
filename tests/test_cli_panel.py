"""``tsrnn backtest --id-col`` on a long CSV: panel verdicts, --series, --output, --report."""

import pandas as pd
import pytest
from click.testing import CliRunner

from tsrnn.cli import main
from tsrnn.datasets import load_dataset


@pytest.fixture(scope="module")
def long_csv(tmp_path_factory):
    """Three real daily temperature series, 60 days each, in one long CSV with a 'city' column."""
    seattle = load_dataset("seattle", as_frame=True).loc["2015-09-01":"2015-10-30"]
    clemson = load_dataset("clemson", as_frame=True).loc["2015-09-01":"2015-10-30"]
    parts = {
        "seattle": seattle["temp_max"],
        "seattle_low": seattle["temp_min"],
        "clemson": (clemson["temp_max_f"] - 32) / 1.8,
    }
    frame = pd.concat(parts, names=["city", "date"]).rename("temp_c").reset_index()
    path = tmp_path_factory.mktemp("panel") / "cities.csv"
    frame.to_csv(path, index=False)
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_backtest_long_csv_prints_panel_verdicts_and_writes_the_id_column(long_csv, tmp_path):
    out = tmp_path / "f.csv"
    result = run(
        "backtest", long_csv, "--id-col", "city", "--target", "temp_c", "--models",
        "naive,drift", "--horizon", "3", "--folds", "5", "--output", out,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "n_series" in result.output
    assert "drift beats naive on " in result.output and " of 3 series" in result.output
    assert "Holm-adjusted" in result.output
    table = pd.read_csv(out)
    assert list(table.columns[:2]) == ["city", "model"]
    assert set(table["city"]) == {"seattle", "seattle_low", "clemson"}
    assert len(table) == 3 * 2 * 5 * 3


def test_series_picks_some_and_names_unknown_ones(long_csv, tmp_path):
    out = tmp_path / "f.csv"
    ok = run("backtest", long_csv, "--id-col", "city", "--series", "clemson,seattle",
             "--models", "naive", "--horizon", "3", "--folds", "3", "--output", out)  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert set(pd.read_csv(out)["city"]) == {"clemson", "seattle"}
    bad = run("backtest", long_csv, "--id-col", "city", "--series", "paris", "--models", "naive")
    assert bad.exit_code == 2
    assert "paris not in column 'city'" in bad.output and "seattle_low" in bad.output
    alone = run("backtest", long_csv, "--series", "paris", "--models", "naive")
    assert alone.exit_code == 2 and "--id-col" in alone.output


def test_backtest_report_of_a_panel(long_csv, tmp_path):
    pytest.importorskip("matplotlib")
    report = tmp_path / "r.html"
    result = run("backtest", long_csv, "--id-col", "city", "--models", "naive,drift",
                 "--horizon", "3", "--folds", "4", "--report", report)  # fmt: skip
    assert result.exit_code == 0, result.output
    html = report.read_text()
    assert "Ranks across series" in html and "series id column" in html


def test_forecast_and_fit_take_series_too(long_csv, tmp_path):
    import io

    args = ("--id-col", "city", "--target", "temp_c", "--model", "naive", "--horizon", "2")
    some = run("forecast", long_csv, *args, "--series", "clemson,seattle")
    assert some.exit_code == 0, some.output
    table = pd.read_csv(io.StringIO(some.stdout))
    assert sorted(set(table["city"])) == ["clemson", "seattle"] and len(table) == 4
    every = pd.read_csv(io.StringIO(run("forecast", long_csv, *args).stdout))
    pd.testing.assert_frame_equal(table, every[every["city"].isin(["clemson", "seattle"])]
                                  .reset_index(drop=True))  # fmt: skip
    bad = run("forecast", long_csv, *args, "--series", "paris")
    assert bad.exit_code == 2 and "paris not in column 'city'" in bad.output
    saved = tmp_path / "m.tsrnn"
    fitted = run("fit", long_csv, *args, "--series", "seattle", "--save", saved)
    assert fitted.exit_code == 0, fitted.output and "1 series" in fitted.output
    alone = run("forecast", long_csv, "--target", "temp_c", "--series", "seattle")
    assert alone.exit_code == 2 and "--id-col" in alone.output
