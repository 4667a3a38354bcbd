"""The network table: every row follows the module contract; a new row trains end to end."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

import tsrnn  # noqa: E402
from tests.conftest import make_series  # noqa: E402
from tsrnn.exceptions import InputError  # noqa: E402
from tsrnn.neural import NeuralForecaster  # noqa: E402
from tsrnn.nn import networks  # noqa: E402
from tsrnn.nn.forecasting import zero_output  # noqa: E402
from tsrnn.nn.modules import LastValueAnchor  # noqa: E402


@pytest.mark.parametrize("name", sorted(networks.NETWORKS))
@pytest.mark.parametrize("future_size", [0, 2])
def test_every_network_follows_the_module_contract(name, future_size):
    net = networks.build(
        name,
        input_size=3,
        lookback=6,
        horizon=4,
        future_size=future_size,
        hidden_size=5,
        num_layers=2,
        dropout=0.1,
        seed=0,
    )
    x = torch.randn(7, 6, 3)
    future = torch.randn(7, 4, future_size) if future_size else None
    out = net(x, future)
    assert out.shape == (7, 4)
    assert net.horizon == 4
    assert isinstance(net.head, nn.Linear) and net.head.out_features == 4
    # Gradients reach the input: the output depends on the window.
    x.requires_grad_(True)
    net(x, future).sum().backward()
    assert x.grad.abs().sum() > 0
    # The same seed builds the same weights.
    again = networks.build(
        name,
        input_size=3,
        lookback=6,
        horizon=4,
        future_size=future_size,
        hidden_size=5,
        num_layers=2,
        dropout=0.1,
        seed=0,
    )
    for a, b in zip(net.state_dict().values(), again.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    # A zeroed head under the last-value anchor is exactly the naive forecast.
    anchored = LastValueAnchor(net).eval()
    zero_output(anchored)
    with torch.no_grad():
        naive = anchored(x.detach(), future)
    torch.testing.assert_close(naive, x.detach()[:, -1:, 0].expand(7, 4))


def test_presets_name_their_rows():
    assert tsrnn.LSTMForecaster._network == "lstm"
    assert tsrnn.GRUForecaster._network == "gru"
    assert tsrnn.RNNForecaster._network == "rnn"
    assert isinstance(networks.NETWORKS["gru"](input_size=1, lookback=3, horizon=2).rnn, nn.GRU)


class TinyMLP(nn.Module):
    """A network that needs ``lookback``: one hidden layer over the flattened window."""

    def __init__(
        self,
        *,
        input_size,
        lookback,
        horizon,
        future_size=0,
        hidden_size=8,
        num_layers=1,
        dropout=0.0,
    ):
        super().__init__()
        del num_layers, dropout
        self.horizon = horizon
        self.body = nn.Sequential(
            nn.Flatten(), nn.Linear(lookback * input_size, hidden_size), nn.ReLU()
        )
        self.head = nn.Linear(hidden_size + horizon * future_size, horizon)

    def forward(self, x, future=None):
        features = self.body(x)
        if future is not None:
            features = torch.cat([features, future.flatten(1)], dim=1)
        return self.head(features)


class MLPForecaster(NeuralForecaster):
    _network = "tiny-mlp"


@pytest.fixture
def tiny_row():
    networks.register_network("tiny-mlp", TinyMLP)
    yield
    networks.NETWORKS.pop("tiny-mlp")


def test_a_registered_network_trains_through_the_estimator_api(tiny_row):
    rng = np.random.default_rng(0)
    t = np.arange(160)
    y = make_series(10 + 3 * np.sin(2 * np.pi * t / 8) + rng.normal(0, 0.05, t.size))
    model = MLPForecaster(
        lookback=16,
        horizon=4,
        hidden_size=16,
        epochs=60,
        batch_size=16,
        learning_rate=1e-2,
        random_state=0,
        calendar_features=True,
    )
    model.fit(y)
    assert isinstance(model.net_.net, TinyMLP)
    assert model.history_[-1]["train_loss"] < model.history_[0]["train_loss"]
    forecast = model.predict(8)  # past the trained horizon: a recursive roll-out
    truth = 10 + 3 * np.sin(2 * np.pi * np.arange(160, 168) / 8)
    naive_error = np.abs(truth - y.iloc[-1]).mean()
    assert np.abs(forecast.to_numpy() - truth).mean() < 0.5 * naive_error
    interval = model.predict_interval(coverage=0.8)
    assert (interval["lower"] < forecast.iloc[:4]).all() and (
        forecast.iloc[:4] < interval["upper"]
    ).all()


def test_an_unknown_network_name_is_an_input_error():
    class Nowhere(NeuralForecaster):
        _network = "no-such-network"

    y = make_series(np.arange(60.0))
    with pytest.raises(InputError, match="no-such-network.*known: lstm, gru, rnn"):
        Nowhere(lookback=5, horizon=2, epochs=1).fit(y)
