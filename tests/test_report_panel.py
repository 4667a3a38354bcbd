"""The panel report: headline in words, per-series table sorted by gain, figures, problems."""

import re

import numpy as np
import pandas as pd
import pytest

from tsrnn import DriftForecaster, NaiveForecaster, backtest
from tsrnn.datasets import load_dataset
from tsrnn.report import render_html_report, write_report
from tsrnn.splitters import ExpandingWindowSplitter

pytest.importorskip("matplotlib")


class ColdOnlyNaive(NaiveForecaster):
    """Fails on hot series, as an ARIMA that does not converge would."""

    def _fit(self, y, covariates):
        if np.nanmax(y) > 28:
            raise ValueError("did not converge")
        super()._fit(y, covariates)


@pytest.fixture(scope="module")
def result():
    seattle = load_dataset("seattle", as_frame=True).loc["2015-08-01":"2015-10-30"]
    clemson = load_dataset("clemson", as_frame=True).loc["2015-08-01":"2015-10-30"]
    panel = {
        "seattle_max": seattle["temp_max"],
        "seattle_min": seattle["temp_min"],
        "clemson_max": (clemson["temp_max_f"] - 32) / 1.8,
        "clemson_min": (clemson["temp_min_f"] - 32) / 1.8,
        "short": seattle["temp_max"].iloc[:-10].rename("x"),
    }
    models = {"naive": NaiveForecaster(), "drift": DriftForecaster(), "cold": ColdOnlyNaive()}
    return backtest(models, panel, ExpandingWindowSplitter(horizon=3, n_folds=6)), panel


@pytest.fixture(scope="module")
def html(result):
    res, panel = result
    return render_html_report(res, history=panel, command="tsrnn backtest x.csv --id-col city")


def test_html_report_has_the_panel_sections(result, html):
    res, _ = result
    verdicts = res.compare()
    ranks = res.rank_test()
    challenger = [m for m in ranks.mean_ranks.index if m != "naive"][0]  # best-ranked other
    row = verdicts.loc[challenger]
    assert (
        f"<b>{challenger}</b> beats naive on {row['n_better']} of {row['n_series']} series, "
        f"significantly on {row['n_better_significant']}" in html
    )
    assert "ranks first" in html or "share the best mean rank" in html
    for anchor in ("metrics", "ranks", "series", "small", "problems", "reproduce"):
        assert f'id="{anchor}"' in html
    assert html.count("data:image/png;base64,") == 2  # rank chart and small multiples
    assert not re.search(r'(src|href)="(https?:)?//', html)  # self-contained
    assert "ValueError: did not converge" in html  # the failure is reported
    assert "the series ends before the test window" in html  # and the skipped folds


def test_per_series_table_is_sorted_by_gain(result, html):
    res, _ = result
    section = html[html.index('id="series"') : html.index('id="small"')]
    gains = [float(g) for g in re.findall(r"<td>([+-]\d+\.\d)%</td>", section)]
    assert len(gains) == res.scores("mase").shape[0]
    assert gains == sorted(gains, reverse=True)


def test_markdown_report_writes_its_figures(result, tmp_path):
    res, panel = result
    written = write_report(res, tmp_path / "panel.md", history=panel)
    text = written[0].read_text()
    assert "## Ranks across series" in text and "## MASE per series, by gain over naive" in text
    assert sorted(p.name for p in written[1:]) == ["ranks.png", "small_multiples.png"]
    assert all(p.stat().st_size > 1000 for p in written[1:])


def test_small_multiples_are_capped():
    from tsrnn import report_panel

    gains = pd.DataFrame({"gain": np.linspace(0.5, -0.5, 50), "best challenger": "drift"},
                         index=[f"s{i}" for i in range(50)])  # fmt: skip
    chosen, labels = report_panel._small_multiples(gains)
    assert chosen == ["s0", "s1", "s2", "s47", "s48", "s49"]
    assert labels[0] == "s0: drift +50.0% vs baseline"


def test_coverage_far_from_nominal_is_flagged_pooled_and_per_series(result):
    import copy

    from tsrnn.report_panel import _coverage_per_series

    res, panel = result
    broken = copy.copy(res)
    table = res.forecasts.copy()
    drift = (table["model"] == "drift") & (table["series"] == "seattle_max")
    table.loc[drift, "lower"] = table.loc[drift, "forecast"] + 100
    table.loc[drift, "upper"] = table.loc[drift, "forecast"] + 101
    broken.forecasts = table  # drift's intervals miss every actual of one series
    text = _coverage_per_series(broken)
    assert text is not None and "drift on 1 of" in text and "naive" not in text
    page = render_html_report(broken, history=panel)
    assert "off the nominal 90%, beyond chance (binomial test, 5%), for drift on 1 of" in page
    assert _coverage_per_series(res) is None  # 18 actuals per series: a few points is chance
