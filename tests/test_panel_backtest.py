"""Backtests over panels: same cutoffs, skipped folds, failures, parallel routes, metrics."""

import joblib
import numpy as np
import pandas as pd
import pytest

from tsrnn import ARIMAForecaster, DriftForecaster, NaiveForecaster, backtest
from tsrnn.compare import compare_forecasts
from tsrnn.datasets import load_dataset
from tsrnn.exceptions import InputError
from tsrnn.splitters import ExpandingWindowSplitter, SlidingWindowSplitter


@pytest.fixture(scope="module")
def cities() -> dict[str, pd.Series]:
    """Daily maximum temperatures of two real cities over the same 60 days, plus Seattle's minimum."""
    frame = load_dataset("seattle", as_frame=True).loc["2015-09-01":"2015-10-30"]
    clemson = load_dataset("clemson", as_frame=True).loc["2015-09-01":"2015-10-30"]
    return {
        "seattle_max": frame["temp_max"].rename("temp"),
        "seattle_min": frame["temp_min"].rename("temp"),
        "clemson_max": ((clemson["temp_max_f"] - 32) / 1.8).rename("temp"),
    }


SPLIT = ExpandingWindowSplitter(horizon=3, n_folds=5)


def test_series_column_same_cutoffs_and_equal_to_single_series(cities):
    result = backtest([NaiveForecaster(), DriftForecaster()], cities, SPLIT)
    table = result.forecasts
    assert list(table.columns[:2]) == ["series", "model"]
    assert set(table["series"]) == set(cities)
    cutoffs = table.groupby(["fold", "series"])["cutoff"].first().unstack("series")
    assert (cutoffs.nunique(axis=1) == 1).all()  # one cutoff date per fold for every series
    for sid, series in cities.items():
        single = backtest([NaiveForecaster(), DriftForecaster()], series, SPLIT).forecasts
        mine = table[table["series"] == sid].drop(columns="series").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, single, check_dtype=False)
    assert result.skipped.empty and result.failures.empty


def test_multiindex_input_equals_dict_and_keeps_level_name(cities, tmp_path):
    long = pd.concat(cities, names=["station", "date"])
    result = backtest(NaiveForecaster(), long, SPLIT)
    pd.testing.assert_frame_equal(
        result.forecasts, backtest(NaiveForecaster(), cities, SPLIT).forecasts
    )
    assert result.id_name == "station"
    result.to_csv(tmp_path / "f.csv")
    written = pd.read_csv(tmp_path / "f.csv")
    assert list(written.columns[:2]) == ["station", "model"]
    assert len(written) == 3 * 5 * 3


def test_short_series_skip_folds_and_are_recorded(cities):
    panel = dict(cities)
    panel["late"] = cities["seattle_max"].iloc[45:]  # starts after early cutoffs
    panel["early_end"] = cities["clemson_max"].iloc[:-4]  # ends inside the last test windows
    result = backtest(
        NaiveForecaster(), panel, ExpandingWindowSplitter(horizon=3, n_folds=5, initial=5)
    )
    skipped = result.skipped
    reasons = skipped.set_index(["series", "fold"])["reason"]
    assert reasons[("late", 0)] == "the series starts after the cutoff"
    assert reasons[("late", 1)] == "3 training observations; at least 5 needed"
    assert reasons[("early_end", 3)] == "the series ends before the test window (2 of 3 steps)"
    assert reasons[("early_end", 4)] == "the series ends before the cutoff"
    assert len(skipped) == 4
    assert set(result.forecasts.loc[result.forecasts["series"] == "late", "fold"]) == {2, 3, 4}
    got = result.forecasts.groupby("series")["fold"].unique()
    assert list(got["early_end"]) == [0, 1, 2]
    assert result.metrics.loc["naive", "n_series"] == 5


class FussyNaive(NaiveForecaster):
    """A naive forecaster that cannot handle hot days (stands in for an ARIMA that fails)."""

    def _fit(self, y, covariates):
        if np.nanmax(y) > 28:
            raise np.linalg.LinAlgError("SVD did not converge")
        super()._fit(y, covariates)


def test_a_failing_series_is_recorded_and_the_rest_goes_on(cities):
    models = {"naive": NaiveForecaster(), "fussy": FussyNaive()}
    result = backtest(models, cities, SPLIT)
    fails = result.failures
    assert set(fails["series"]) == {"clemson_max"}  # Clemson is the hot one
    assert (fails["model"] == "fussy").all() and len(fails) == 5
    assert fails["error"].str.contains("LinAlgError: SVD did not converge").all()
    fussy = result.forecasts[result.forecasts["model"] == "fussy"]
    assert set(fussy["series"]) == {"seattle_max", "seattle_min"}
    # panel metrics on the common cells: both models on the same 2 series
    assert result.metrics["n_series"].tolist() == [2, 2]


def test_refit_policies_and_update_chains(cities):
    arima = ARIMAForecaster(order=(1, 0, 0))
    every = backtest(arima, cities, SPLIT, refit=True)
    never = backtest(arima, cities, SPLIT, refit=False)
    actions = never.timings.groupby("series")["action"].apply(list)
    assert all(a == ["fit"] + ["update"] * 4 for a in actions)
    assert set(every.timings["action"]) == {"fit"}
    first = every.forecasts["fold"] == 0  # fold 0 is fitted the same way by both
    np.testing.assert_allclose(
        every.forecasts.loc[first, "forecast"], never.forecasts.loc[first, "forecast"]
    )


def test_n_jobs_gives_identical_results(cities):
    models = [NaiveForecaster(), DriftForecaster()]  # cheap to import in fresh workers
    one = backtest(models, cities, SPLIT, refit=2)
    two = backtest(models, cities, SPLIT, refit=2, n_jobs=2)
    pd.testing.assert_frame_equal(one.forecasts, two.forecasts)
    pd.testing.assert_frame_equal(one.metrics, two.metrics)


def test_dask_cluster_gives_identical_results(cities):
    distributed = pytest.importorskip("dask.distributed")
    models = [NaiveForecaster(), DriftForecaster()]
    local = backtest(models, cities, SPLIT)
    with (
        distributed.LocalCluster(
            n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
        joblib.parallel_config(backend="dask"),
    ):
        remote = backtest(models, cities, SPLIT, n_jobs=2)
    pd.testing.assert_frame_equal(local.forecasts, remote.forecasts)


def test_panel_metrics_are_means_of_series_or_pooled(cities):
    result = backtest([NaiveForecaster(), DriftForecaster()], cities, SPLIT)
    per_series = result.metrics_by("series")
    panel = result.metrics
    for model in ("naive", "drift"):
        assert panel.loc[model, "mase"] == pytest.approx(per_series.loc[model, "mase"].mean())
        rows = result.forecasts[result.forecasts["model"] == model]
        assert panel.loc[model, "mae"] == pytest.approx(
            (rows["actual"] - rows["forecast"]).abs().mean()
        )
    assert panel["n_series"].tolist() == [3, 3]
    assert result.scores("mase").shape == (3, 2)


def test_compare_per_series_and_panel_verdict(cities):
    result = backtest([NaiveForecaster(), DriftForecaster()], cities, SPLIT)
    per_series = result.compare(level="series")
    for sid in cities:
        single = compare_forecasts(
            result.forecasts[result.forecasts["series"] == sid], "naive", fold_spacing=3
        )
        assert per_series.loc[("drift", sid), "p_value"] == pytest.approx(
            single.loc["drift", "p_value"]
        )
    panel = result.compare()
    assert panel.loc["drift", "n_series"] == 3
    assert panel.loc["drift", "verdict"].startswith("drift beats naive on ")
    ranks = result.rank_test()
    assert set(ranks.mean_ranks.index) == {"naive", "drift"}
    assert ranks.n_series == 3


def test_sliding_window_and_splitter_that_does_not_fit(cities):
    result = backtest(
        NaiveForecaster(), cities, SlidingWindowSplitter(horizon=3, n_folds=2, window=20)
    )
    assert result.forecasts.groupby("series").size().tolist() == [6, 6, 6]
    with pytest.raises(InputError, match="does not fit"):
        backtest(NaiveForecaster(), cities, ExpandingWindowSplitter(horizon=30, n_folds=5))


def test_a_backtest_where_everything_fails_says_why(cities):
    hot = {"clemson_max": cities["clemson_max"]}
    with pytest.raises(
        InputError, match="every forecast of the backtest failed.*clemson_max.*LinAlgError"
    ):
        backtest(FussyNaive(), hot, SPLIT)


# ---------------------------------------------------------------- global (neural) models
def tiny_lstm():
    from tsrnn import LSTMForecaster

    return LSTMForecaster(lookback=7, horizon=3, hidden_size=4, epochs=1, random_state=0)


def test_global_model_trains_one_network_per_fold_over_all_series(cities):
    pytest.importorskip("torch")
    from sklearn.base import clone

    split = ExpandingWindowSplitter(horizon=3, n_folds=3)
    result = backtest({"naive": NaiveForecaster(), "lstm": tiny_lstm()}, cities, split)
    lstm = result.forecasts[result.forecasts["model"] == "lstm"]
    assert set(lstm["series"]) == set(cities) and lstm["forecast"].notna().all()
    timings = result.timings[result.timings["model"] == "lstm"]
    assert (timings.groupby("fold")["action"].apply(set) == {"fit"}).all()
    assert result.final_models["lstm"].series_ids_ == list(cities)
    # the last fold equals one global fit on every series cut at that fold's cutoff
    cutoff = lstm["cutoff"].max()
    direct = clone(tiny_lstm()).fit({s: y.loc[:cutoff] for s, y in cities.items()}).predict()
    last = lstm[lstm["cutoff"] == cutoff]
    for sid in cities:
        np.testing.assert_allclose(
            last.loc[last["series"] == sid, "forecast"], direct.xs(sid, level=0), rtol=1e-5
        )


@pytest.mark.parametrize(
    ("policy", "actions"),
    [
        ({"refit": False}, ["fit", "update", "update"]),
        ({"warm_start": True}, ["fit", "warm", "warm"]),
    ],
)
def test_global_model_update_and_warm_start(cities, policy, actions):
    pytest.importorskip("torch")
    split = ExpandingWindowSplitter(horizon=3, n_folds=3)
    result = backtest({"lstm": tiny_lstm()}, cities, split, **policy)
    per_fold = result.timings.groupby("fold")["action"].first().tolist()
    assert per_fold == actions
    assert result.forecasts["forecast"].notna().all() and result.failures.empty


@pytest.mark.parametrize("search_once", [True, False])
def test_auto_arima_searches_once_per_series_as_for_one_series(cities, search_once):
    model = ARIMAForecaster(season_length=1, max_p=1, max_q=1)
    panel = backtest(model, cities, SPLIT, search_once=search_once)
    searches = panel.timings[panel.timings["action"] == "search"]
    assert sorted(searches["series"]) == (sorted(cities) if search_once else [])
    assert set(searches["fold"]) <= {0}
    for sid, series in cities.items():
        single = backtest(model, series, SPLIT, search_once=search_once).forecasts
        mine = panel.forecasts[panel.forecasts["series"] == sid].drop(columns="series")
        np.testing.assert_allclose(mine["forecast"], single["forecast"], rtol=1e-9)
