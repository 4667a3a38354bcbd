import pytest

torch = pytest.importorskip("torch")

from tsrnn.nn import last_window, make_windows  # noqa: E402


def _series():
    # column 0: 0, 1, ..., 6; column 1: 10, 11, ..., 16
    return torch.stack([torch.arange(7.0), torch.arange(10.0, 17.0)], dim=1)


def test_exact_windows():
    X, Y = make_windows(_series(), lookback=3, horizon=2, target_index=1)
    assert X.shape == (3, 3, 2) and Y.shape == (3, 2)
    assert X[:, :, 0].tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
    assert X[:, :, 1].tolist() == [[10, 11, 12], [11, 12, 13], [12, 13, 14]]
    assert Y.tolist() == [[13, 14], [14, 15], [15, 16]]


def test_windows_match_the_definition():
    series = torch.randn(20, 3)
    X, Y = make_windows(series, lookback=5, horizon=4)
    assert len(X) == len(Y) == 20 - 5 - 4 + 1
    for i in range(len(X)):
        assert torch.equal(X[i], series[i : i + 5])
        assert torch.equal(Y[i], series[i + 5 : i + 9, 0])


def test_windows_are_views_without_copy():
    series = _series()
    X, Y = make_windows(series, lookback=3, horizon=2)
    ptr = series.untyped_storage().data_ptr()
    assert X.untyped_storage().data_ptr() == ptr
    assert Y.untyped_storage().data_ptr() == ptr
    series[3, 0] = -1.0
    assert X[1, 2, 0] == -1.0 and Y[0, 0] == -1.0


def test_one_dimensional_series_is_one_feature():
    X, Y = make_windows(torch.arange(6.0), lookback=2, horizon=1)
    assert X.shape == (4, 2, 1)
    assert Y[:, 0].tolist() == [2, 3, 4, 5]


def test_last_window():
    series = _series()
    window = last_window(series, 3)
    assert window.shape == (1, 3, 2)
    assert window[0, :, 0].tolist() == [4, 5, 6]
    assert window.untyped_storage().data_ptr() == series.untyped_storage().data_ptr()


def test_too_short_series_names_the_minimum():
    with pytest.raises(ValueError, match="7 steps; lookback \\+ horizon needs at least 8"):
        make_windows(_series(), lookback=5, horizon=3)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lookback": 0, "horizon": 1}, "lookback=0"),
        ({"lookback": 2, "horizon": 1, "target_index": 2}, "got 2"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_windows(_series(), **kwargs)


def test_last_window_longer_than_series():
    with pytest.raises(ValueError, match="series length 7; got 8"):
        last_window(_series(), 8)
