"""Fold invariants and exact indices for tsrnn.splitters."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from tsrnn.splitters import ExpandingWindowSplitter, SlidingWindowSplitter

# (horizon, n_folds, step, gap, window)
GRID = list(itertools.product([1, 3], [1, 4], [None, 1, 2, 5], [0, 2], [1, 6]))


def _make(kind, horizon, n_folds, step, gap, window):
    if kind == "expanding":
        return ExpandingWindowSplitter(horizon, n_folds, step, initial=window, gap=gap)
    return SlidingWindowSplitter(horizon, n_folds, step, window=window, gap=gap)


def _minimum(horizon, n_folds, step, gap, window):
    return window + gap + horizon + (n_folds - 1) * (horizon if step is None else step)


@pytest.mark.parametrize("kind", ["expanding", "sliding"])
@pytest.mark.parametrize(("horizon", "n_folds", "step", "gap", "window"), GRID)
@pytest.mark.parametrize("extra", [0, 7])
def test_fold_invariants(kind, horizon, n_folds, step, gap, window, extra):
    n = _minimum(horizon, n_folds, step, gap, window) + extra
    splitter = _make(kind, horizon, n_folds, step, gap, window)
    folds = list(splitter.split(n))
    cutoffs = splitter.cutoffs(n)

    assert len(folds) == n_folds == splitter.get_n_splits() == len(cutoffs)
    assert folds[-1][1][-1] == n - 1
    assert np.all(np.diff(cutoffs) == (horizon if step is None else step))
    for (train, test), cutoff in zip(folds, cutoffs, strict=True):
        assert train.dtype.kind == test.dtype.kind == "i"
        assert np.array_equal(test, np.arange(test[0], test[0] + horizon))
        assert np.array_equal(train, np.arange(train[0], train[-1] + 1))
        assert train.max() < test.min()
        assert train[-1] == cutoff
        assert test[0] - cutoff - 1 == gap
        assert train[0] >= 0 and test[-1] <= n - 1
        if kind == "expanding":
            assert train[0] == 0 and len(train) >= window
        else:
            assert len(train) == window


@pytest.mark.parametrize("kind", ["expanding", "sliding"])
@pytest.mark.parametrize(("horizon", "n_folds", "step", "gap", "window"), GRID)
def test_one_observation_too_few_raises_with_minimum(kind, horizon, n_folds, step, gap, window):
    needed = _minimum(horizon, n_folds, step, gap, window)
    splitter = _make(kind, horizon, n_folds, step, gap, window)
    with pytest.raises(ValueError, match=f"needs at least {needed} observations.*got {needed - 1}"):
        splitter.cutoffs(needed - 1)


def test_expanding_exact_indices_tiny_case():
    splitter = ExpandingWindowSplitter(horizon=2, n_folds=3, step=1)
    folds = list(splitter.split(10))
    expected = [
        (np.arange(0, 6), np.array([6, 7])),
        (np.arange(0, 7), np.array([7, 8])),
        (np.arange(0, 8), np.array([8, 9])),
    ]
    for (train, test), (exp_train, exp_test) in zip(folds, expected, strict=True):
        np.testing.assert_array_equal(train, exp_train)
        np.testing.assert_array_equal(test, exp_test)
    np.testing.assert_array_equal(splitter.cutoffs(10), [5, 6, 7])


def test_sliding_exact_indices_tiny_case():
    splitter = SlidingWindowSplitter(horizon=2, n_folds=3, step=1, window=4)
    folds = [(train.tolist(), test.tolist()) for train, test in splitter.split(10)]
    assert folds == [
        ([2, 3, 4, 5], [6, 7]),
        ([3, 4, 5, 6], [7, 8]),
        ([4, 5, 6, 7], [8, 9]),
    ]


def test_gap_skips_observations_before_test():
    folds = ExpandingWindowSplitter(horizon=2, n_folds=2, gap=1).split(8)
    assert [(train.tolist(), test.tolist()) for train, test in folds] == [
        ([0, 1, 2], [4, 5]),
        ([0, 1, 2, 3, 4], [6, 7]),
    ]


def test_step_defaults_to_horizon():
    cutoffs = ExpandingWindowSplitter(horizon=3, n_folds=3).cutoffs(20)
    np.testing.assert_array_equal(cutoffs, [10, 13, 16])


@pytest.mark.parametrize(
    "y",
    [
        20,
        np.int64(20),
        np.zeros(20),
        list(range(20)),
        pd.Series(range(20), index=pd.date_range("2024-01-01", periods=20)),
        pd.DataFrame({"a": range(20), "b": range(20)}),
    ],
)
def test_split_accepts_length_array_series_and_frame(y):
    splitter = SlidingWindowSplitter(horizon=2, n_folds=3, window=5)
    np.testing.assert_array_equal(splitter.cutoffs(y), [13, 15, 17])
    assert len(list(splitter.split(y))) == 3


@pytest.mark.parametrize("y", [None, 2.5, True, object()])
def test_split_rejects_y_without_length(y):
    with pytest.raises(TypeError, match="y must be"):
        list(ExpandingWindowSplitter(horizon=1, n_folds=1).split(y))


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"horizon": 0}, ValueError, "horizon must be an integer >= 1; got 0"),
        ({"n_folds": 0}, ValueError, "n_folds must be an integer >= 1; got 0"),
        ({"step": 0}, ValueError, "step must be an integer >= 1; got 0"),
        ({"gap": -1}, ValueError, "gap must be an integer >= 0; got -1"),
        ({"horizon": 2.0}, TypeError, "horizon must be an integer"),
        ({"n_folds": "3"}, TypeError, "n_folds must be an integer"),
    ],
)
@pytest.mark.parametrize("cls", [ExpandingWindowSplitter, SlidingWindowSplitter])
def test_invalid_parameters_are_named(cls, params, error, match):
    with pytest.raises(error, match=match):
        cls(**params).cutoffs(10_000)


def test_invalid_window_and_initial_are_named():
    with pytest.raises(ValueError, match="window must be an integer >= 1; got 0"):
        SlidingWindowSplitter(window=0).cutoffs(10_000)
    with pytest.raises(ValueError, match="initial must be an integer >= 1; got 0"):
        ExpandingWindowSplitter(initial=0).cutoffs(10_000)


def test_too_short_message_says_how_many_folds_fit():
    splitter = ExpandingWindowSplitter(horizon=7, n_folds=10, initial=30)
    with pytest.raises(ValueError) as info:
        splitter.cutoffs(60)
    message = str(info.value)
    assert "needs at least 100 observations" in message
    assert "n_folds=10, horizon=7, step=7, gap=0, initial=30; got 60" in message
    assert "only 4 fold(s) fit" in message  # 30 + 7 + 3 * 7 = 58 <= 60


def test_default_sliding_window_needs_long_series():
    with pytest.raises(ValueError, match="needs at least 570 observations.*window=500; got 100"):
        SlidingWindowSplitter().cutoffs(100)


def test_init_only_stores_params_and_repr():
    splitter = SlidingWindowSplitter(horizon=-5, n_folds="x", step=None, window=3)
    assert splitter.get_params() == {
        "horizon": -5,
        "n_folds": "x",
        "step": None,
        "window": 3,
        "gap": 0,
    }
    assert repr(ExpandingWindowSplitter(horizon=3)) == (
        "ExpandingWindowSplitter(horizon=3, n_folds=10, step=None, initial=None, gap=0)"
    )


def test_set_params_and_sklearn_clone():
    sklearn_base = pytest.importorskip("sklearn.base")
    splitter = ExpandingWindowSplitter(horizon=2).set_params(n_folds=3, step=1)
    assert splitter.get_params()["n_folds"] == 3
    clone = sklearn_base.clone(splitter)
    assert clone is not splitter and clone.get_params() == splitter.get_params()
    with pytest.raises(ValueError, match="no parameter 'window'"):
        splitter.set_params(window=4)


def test_works_as_sklearn_cv():
    model_selection = pytest.importorskip("sklearn.model_selection")
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X @ np.array([1.0, -2.0]) + rng.normal(scale=0.1, size=40)
    splitter = SlidingWindowSplitter(horizon=5, n_folds=4, window=15)
    scores = model_selection.cross_val_score(linear_model.LinearRegression(), X, y, cv=splitter)
    assert scores.shape == (4,)
