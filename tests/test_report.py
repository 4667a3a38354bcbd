"""Backtest reports: the parts a reader relies on, rendered from a small real backtest."""

from __future__ import annotations

import base64
import html
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import tsrnn
from tsrnn._report_parts import choose_baseline
from tsrnn.compare import diebold_mariano_losses
from tsrnn.datasets import load_dataset
from tsrnn.exceptions import InputError
from tsrnn.report import render_html_report, write_report

ROOT = Path(__file__).resolve().parents[1]
PLOTS = {"folds", "final_fold", "error_by_step", "errors", "coverage"}
PNG = b"\x89PNG\r\n\x1a\n"
COMMAND = "tsrnn backtest weather_seattle_daily.csv --models naive,seasonal-naive,drift"


def _backtest(n_folds: int = 5):
    y = load_dataset("seattle").iloc[-300:]
    models = {
        "naive": tsrnn.NaiveForecaster(),
        "seasonalnaive": tsrnn.SeasonalNaiveForecaster(),
        "drift": tsrnn.DriftForecaster(),
    }
    splitter = tsrnn.ExpandingWindowSplitter(horizon=7, n_folds=n_folds)
    return tsrnn.backtest(models, y, splitter), y, models


@pytest.fixture(scope="module")
def run():
    result, y, models = _backtest()
    return SimpleNamespace(result=result, y=y, models=models)


@pytest.fixture(scope="module")
def page(run) -> str:
    return render_html_report(
        run.result,
        title="Seattle",
        history=run.y,
        models=run.models,
        data_summary={"file": "weather_seattle_daily.csv", "units": "°C"},
        command=COMMAND,
    )


class _Tables(HTMLParser):
    """Every <table> as rows of (text, css class) cells, keyed by the preceding heading id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, str]]]] = {}
        self.section, self.cell = "summary", None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h2":
            self.section = attrs["id"]
        elif tag == "table":
            self.tables.setdefault(self.section, [])
            self.rows = self.tables[self.section]
            self.rows.append([])
        elif tag == "tr":
            self.rows[-1].append([])
        elif tag in ("td", "th"):
            self.cell = ["", attrs.get("class") or ""]

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[0] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1][-1].append(tuple(self.cell))
            self.cell = None


def _tables(page: str, section: str) -> list[list[list[tuple[str, str]]]]:
    parser = _Tables()
    parser.feed(page)
    return parser.tables[section]


def _summary(page: str) -> str:
    return re.search(r'<section class="summary">(.*?)</section>', page, re.S).group(1)


def _lead_pvalue(result, best: str, runner_up: str) -> float:
    """Two-sided DM p of best vs runner-up on the per-fold MASE values (B = 2 for few folds)."""
    by_fold = result.metrics_by("fold")["mase"]
    d = by_fold[best].to_numpy() - by_fold[runner_up].to_numpy()
    return diebold_mariano_losses(d, np.zeros_like(d)).pvalue


def test_headline_tests_the_best_model_against_the_runner_up(run, page):
    ranked = run.result.metrics["mase"].sort_values()
    best, runner_up = ranked.index[:2]
    p = _lead_pvalue(run.result, best, runner_up)
    assert p > 0.05  # 5 folds: these three baselines are not told apart
    assert (best, runner_up) == ("drift", "naive")
    summary = html.unescape(re.sub("<[^>]+>", "", _summary(page)))
    assert (
        f"No clear winner: drift has the lowest MASE over 5 folds of 7 steps: "
        f"{ranked[best]:.3f}, but its lead over the runner-up, the baseline naive "
        f"({ranked[runner_up]:.3f}) is not significant (two-sided "
        f"Diebold-Mariano test at the 5% level on absolute scaled error (the MASE of each "
        f"fold), p = {p:.3f} over 5 folds)."
    ) in summary


def test_a_significant_lead_is_named_as_the_winner():
    rng = np.random.default_rng(5)
    index = pd.date_range("2024-01-01", periods=200, freq="D")
    y = pd.Series(np.arange(200.0) + rng.normal(0, 0.3, 200), index=index, name="y")
    models = {"naive": tsrnn.NaiveForecaster(), "drift": tsrnn.DriftForecaster()}
    result = tsrnn.backtest(models, y, tsrnn.ExpandingWindowSplitter(horizon=5, n_folds=12))
    mase = result.metrics["mase"]
    p = _lead_pvalue(result, "drift", "naive")
    assert p < 0.05
    summary = html.unescape(re.sub("<[^>]+>", "", _summary(render_html_report(result))))
    assert summary.startswith(
        f"drift has the lowest MASE over 12 folds of 5 steps: {mase['drift']:.3f}, "
        f"significantly lower than the runner-up, the baseline naive "
        f"({mase['naive']:.3f}) (two-sided Diebold-Mariano test at the 5% level on absolute "
        f"scaled error (the MASE of each fold), p = {p:.3f} over 12 folds)."
    )
    assert "No clear winner" not in summary
    assert "drift is significantly more accurate than naive." in summary


def test_the_report_states_the_test_and_its_folds(run, page):
    comparison = run.result.compare("naive")
    statement = (
        "Diebold-Mariano test, two-sided at the 5% level, squared error per fold, over 5 "
        "folds; long-run variance: equal-weighted cosine with 2 terms (autocorrelation across "
        "folds allowed), t distribution with 2 degrees of freedom"
    )
    assert comparison.attrs["test"] == statement
    assert f"{statement}." in html.unescape(_summary(page))
    (table,) = _tables(page, "tests")
    header = [text for text, _ in table[0]]
    assert header == ["model", "MSE", "baseline MSE", "DM statistic", "p (two-sided)"] + [
        "folds",
        "t df",
    ]
    for row in table[1:]:
        cells = dict(zip(header, (text for text, _ in row), strict=True))
        expected = comparison.loc[cells["model"]]
        assert cells["p (two-sided)"] == f"{expected['p_value']:.3f}"
        assert (cells["folds"], cells["t df"]) == ("5", "2")


def test_headline_gives_every_verdict_against_naive(run, page):
    summary = html.unescape(_summary(page))
    comparison = run.result.compare("naive")
    for verdict in comparison["verdict"]:
        assert verdict in summary
    assert "baseline **naive**" not in summary  # markup was rendered
    assert "<b>naive</b>" in _summary(page)


def test_metrics_table_holds_the_numbers_and_highlights_the_best(run, page):
    (table,) = _tables(page, "metrics")
    header = [text for text, _ in table[0]]
    assert header[:3] == ["model", "MAE", "RMSE"]
    metrics = run.result.metrics
    rows = {row[0][0].removesuffix(" (baseline)"): row for row in table[1:]}
    assert list(rows) == run.result.models
    for model, row in rows.items():
        cells = dict(zip(header, row, strict=True))
        assert cells["MAE"][0] == f"{metrics.loc[model, 'mae']:.3f}"
        assert cells["MASE"][0] == f"{metrics.loc[model, 'mase']:.3f}"
        assert cells["coverage"][0] == f"{metrics.loc[model, 'coverage']:.1%}"
        assert (cells["MAE"][1] == "best") == (model == metrics["mae"].idxmin())
    assert rows["naive"][0][0] == "naive (baseline)"


def test_coverage_is_best_when_closest_to_nominal(run, page):
    (table,) = _tables(page, "metrics")
    column = [text for text, _ in table[0]].index("coverage")
    distance = (run.result.metrics["coverage"] - 0.9).abs()
    best = set(distance[distance == distance.min()].index)
    marked = {row[0][0].removesuffix(" (baseline)") for row in table[1:] if row[column][1]}
    assert marked == best


def test_error_by_step_table_has_one_row_per_step(run, page):
    (table,) = _tables(page, "steps")
    by_step = run.result.metrics_by("step")["mae"].unstack("model")
    assert [row[0][0] for row in table[1:]] == [str(s) for s in range(1, 8)]
    assert table[1][1][0] == f"{by_step.loc[1, 'naive']:.3f}"


def test_one_inline_png_per_promised_plot(page):
    figures = dict(
        re.findall(r'<figure id="plot-(\w+)"><img src="data:image/png;base64,([^"]+)"', page)
    )
    assert set(figures) == PLOTS
    assert page.count("<img ") == len(PLOTS)
    for data in figures.values():
        assert base64.b64decode(data)[:8] == PNG


def test_nothing_external(page):
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(src|href)=["']//""", page)
    assert "<script" not in page and "<link" not in page


def test_data_and_reproduction_sections(run, page):
    text = html.unescape(page)
    (data,) = _tables(page, "data")
    rows = {row[0][0]: row[1][0] for row in data}
    assert rows["observations"] == "300"
    assert rows["first"] == str(run.y.index[0].date())
    assert rows["units"] == "°C" and rows["file"] == "weather_seattle_daily.csv"
    assert COMMAND in text
    settings, timings, versions = _tables(page, "reproduce")
    assert dict((r[0][0], r[1][0]) for r in settings)["folds"] == "5"
    assert [row[0][0] for row in timings[1:]] == run.result.models
    packages = {row[0][0] for row in versions[1:]}
    assert {"tsrnn", "numpy", "pandas"} <= packages
    assert ("torch" in packages) == ("torch" in sys.modules)
    assert "DriftForecaster()" in text


def test_training_curves_when_models_have_history(run):
    curves = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e} for e in range(1, 6)]
    page = render_html_report(run.result, models={"lstm": curves})
    assert 'id="plot-training"' in page
    assert page.count("<img ") == len(PLOTS) + 1


def test_baseline_can_be_chosen(run):
    page = render_html_report(run.result, baseline="seasonalnaive")
    assert "Diebold-Mariano tests against seasonalnaive" in page
    mase = run.result.metrics["mase"]
    assert mase.idxmax() == "seasonalnaive"  # neither best nor runner-up: named apart
    assert f"(baseline seasonalnaive: {mase['seasonalnaive']:.3f}), but" in _summary(page)
    assert "naive is" in html.unescape(page) or "between naive and seasonalnaive" in page
    with pytest.raises(InputError, match="'arima' is not one of the models"):
        render_html_report(run.result, baseline="arima")


@pytest.mark.parametrize(
    ("models", "season_length", "expected"),
    [
        (["naive", "seasonal-naive", "lstm"], 7, "seasonal-naive"),
        (["naive", "seasonal-naive", "lstm"], 1, "naive"),
        (["lstm", "arima"], 7, "lstm"),
    ],
)
def test_default_baseline(models, season_length, expected):
    result = SimpleNamespace(models=models, season_length=season_length)
    assert choose_baseline(result, None) == expected


def test_too_few_folds_skips_the_tests():
    result, _, _ = _backtest(n_folds=2)
    page = render_html_report(result)
    assert "need at least 3 folds" in page
    assert 'id="tests"' not in page
    assert page.count("<img ") == len(PLOTS)


def test_without_mase_the_headline_and_steps_use_another_metric():
    y = load_dataset("seattle").iloc[-120:]
    models = [tsrnn.NaiveForecaster(), tsrnn.DriftForecaster()]
    splitter = tsrnn.ExpandingWindowSplitter(horizon=7, n_folds=3)
    result = tsrnn.backtest(models, y, splitter, metrics=["rmse", "coverage"])
    page = render_html_report(result, history=y)
    assert f"<b>{result.best_model('rmse')}</b> has the lowest RMSE" in _summary(page)
    assert "on squared error, p = " in _summary(page)  # the lead is tested on RMSE's loss
    assert "RMSE at each forecast step" in page


def test_markdown_variant_writes_md_and_pngs(run, tmp_path):
    path = tmp_path / "report.md"
    written = write_report(run.result, path, history=run.y, command=COMMAND)
    assert written[0] == path and len(written) == 1 + len(PLOTS)
    text = path.read_text(encoding="utf-8")
    for png in written[1:]:
        assert png.parent == tmp_path / "report_files" and png.read_bytes()[:8] == PNG
        assert f"](report_files/{png.name})" in text
    mae = run.result.metrics["mae"]
    for model in run.result.models:
        line = next(ln for ln in text.splitlines() if ln.startswith(f"| {model}"))
        assert f"{mae[model]:.3f}" in line
    assert f"| **{mae.idxmin()}**" not in text  # model names are not bold, best cells are
    assert f"**{mae.min():.3f}**" in text
    for verdict in run.result.compare("naive")["verdict"]:
        assert verdict in text
    assert "http://" not in text and "https://" not in text


def test_write_report_dispatches_on_suffix(run, tmp_path):
    path = tmp_path / "report.HTM"
    assert write_report(run.result, path) == [path]
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(InputError, match=r"must end in \.html, \.htm or \.md"):
        write_report(run.result, tmp_path / "report.txt")
    assert not (tmp_path / "report.txt").exists()


def test_to_html_uses_the_report(run, tmp_path):
    run.result.to_html(tmp_path / "r.html", title="From the result", history=run.y)
    assert "<h1>From the result</h1>" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_plot_forecast_writes_a_png(tmp_path):
    from tsrnn.plotting import plot_forecast

    y = load_dataset("seattle")
    model = tsrnn.NaiveForecaster().fit(y)
    table = model.predict(7).to_frame("forecast").join(model.predict_interval(7))
    plot_forecast(y, table, tmp_path / "f.png", units="°C")
    assert (tmp_path / "f.png").read_bytes()[:8] == PNG
    assert isinstance(table.index, pd.DatetimeIndex)


def test_matplotlib_is_imported_only_to_draw():
    code = (
        "import sys, tsrnn, tsrnn.report, tsrnn.plotting, tsrnn.report_plots\n"
        "assert 'matplotlib' not in sys.modules, 'imported early'\n"
        "from tsrnn.datasets import load_dataset\n"
        "y = load_dataset('seattle').iloc[-60:]\n"
        "r = tsrnn.backtest([tsrnn.NaiveForecaster()], y,"
        " tsrnn.ExpandingWindowSplitter(horizon=7, n_folds=2))\n"
        "assert 'matplotlib' not in sys.modules, 'imported by backtest'\n"
        "tsrnn.report.render_html_report(r)\n"
        "assert 'matplotlib' in sys.modules\n"
        "import matplotlib.pyplot as plt; assert plt.get_fignums() == [], 'figures left open'\n"
        "assert 'torch' not in sys.modules\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
