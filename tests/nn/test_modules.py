import warnings

import pytest

torch = pytest.importorskip("torch")

from tsrnn.nn import RecurrentNet  # noqa: E402


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("future_size", [0, 2])
def test_output_shape(cell, future_size):
    torch.manual_seed(0)
    net = RecurrentNet(cell, 3, 8, 2, 0.1, horizon=4, future_size=future_size)
    future = torch.randn(5, 4, future_size) if future_size else None
    out = net(torch.randn(5, 11, 3), future)
    assert out.shape == (5, 4)
    assert net.head.in_features == 8 + 4 * future_size


def test_cell_type_chosen_by_name():
    nets = {c: RecurrentNet(c, 1, 4, 1, 0.0, 1) for c in ("lstm", "gru", "rnn")}
    assert isinstance(nets["lstm"].rnn, torch.nn.LSTM)
    assert isinstance(nets["gru"].rnn, torch.nn.GRU)
    assert type(nets["rnn"].rnn) is torch.nn.RNN


def test_dropout_only_between_layers():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns about dropout with one layer
        single = RecurrentNet("lstm", 1, 4, num_layers=1, dropout=0.5, horizon=1)
    assert single.rnn.dropout == 0.0
    assert RecurrentNet("lstm", 1, 4, num_layers=2, dropout=0.5, horizon=1).rnn.dropout == 0.5


def test_future_features_change_the_output():
    torch.manual_seed(0)
    net = RecurrentNet("gru", 1, 4, 1, 0.0, horizon=2, future_size=1)
    x = torch.randn(3, 6, 1)
    assert not torch.equal(net(x, torch.zeros(3, 2, 1)), net(x, torch.ones(3, 2, 1)))


def test_missing_future_is_an_error():
    net = RecurrentNet("gru", 1, 4, 1, 0.0, horizon=2, future_size=1)
    with pytest.raises(ValueError, match="future_size=1"):
        net(torch.randn(3, 6, 1))


def test_unknown_cell_lists_choices():
    with pytest.raises(ValueError, match=r"\['gru', 'lstm', 'rnn'\]; got 'transformer'"):
        RecurrentNet("transformer", 1, 4, 1, 0.0, 1)


def test_last_value_anchor_training_shortcut_matches_forward():
    from torch import nn

    from tsrnn.nn import LastValueAnchor

    torch.manual_seed(0)
    net = LastValueAnchor(RecurrentNet("lstm", 2, 6, 1, 0.0, horizon=3))
    x, y = torch.randn(5, 7, 2), torch.randn(5, 3)
    through_forward = nn.functional.mse_loss(net(x), y)
    grads = torch.autograd.grad(through_forward, list(net.parameters()))
    x_rel, y_rel = LastValueAnchor.relative_(x.clone(), y.clone())
    assert torch.equal(x_rel[:, -1, 0], torch.zeros(5)) and torch.equal(x_rel[..., 1], x[..., 1])
    shortcut = nn.functional.mse_loss(net.net(x_rel), y_rel)
    torch.testing.assert_close(shortcut, through_forward)
    for a, b in zip(grads, torch.autograd.grad(shortcut, list(net.parameters())), strict=True):
        torch.testing.assert_close(a, b)
    assert net.horizon == 3
