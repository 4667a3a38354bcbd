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


def _torch_gru_forward(net, x, future=None):
    """RecurrentNet's forward through nn.GRU itself (the reference for the hand-written path)."""
    output, _ = net.rnn(x)
    features = output[:, -1, :]
    if future is not None:
        features = torch.cat([features, future.reshape(future.shape[0], -1)], dim=1)
    return net.head(features)


@pytest.mark.parametrize("layers", [1, 2])
def test_gru_on_cpu_equals_torch_gru_with_gradients(layers):
    """The CPU GRU runs through the hand-written layer; values and all gradients
    (weights and input) equal nn.GRU's to double-precision rounding."""
    torch.manual_seed(0)
    net = RecurrentNet("gru", 3, 6, layers, 0.0, horizon=2, future_size=1).double()
    x = torch.randn(5, 9, 3, dtype=torch.double, requires_grad=True)
    future = torch.randn(5, 2, 1, dtype=torch.double)
    weights = torch.randn(5, 2, dtype=torch.double)
    for _ in range(2):  # the second pass reuses the module's buffers
        net.zero_grad()
        x.grad = None
        (net(x, future) * weights).sum().backward()
    got = {name: p.grad.clone() for name, p in net.named_parameters()}
    got_x = x.grad.clone()
    net.zero_grad()
    x.grad = None
    (_torch_gru_forward(net, x, future) * weights).sum().backward()
    for name, p in net.named_parameters():
        torch.testing.assert_close(got[name], p.grad, rtol=0, atol=1e-12, msg=name)
    torch.testing.assert_close(got_x, x.grad, rtol=0, atol=1e-12)


def test_gru_buffers_across_inference_mode_threads_and_copies():
    import copy
    import pickle
    import threading

    torch.manual_seed(0)
    net = RecurrentNet("gru", 1, 8, 1, 0.0, horizon=3).eval()
    xs = [torch.randn(4 + i, 12, 1) for i in range(4)]
    with torch.no_grad():
        expected = [_torch_gru_forward(net, x) for x in xs]
    with torch.inference_mode():  # buffers made here are read-only outside it
        net(xs[0])
    with torch.no_grad():
        torch.testing.assert_close(net(xs[0]), expected[0])
    results = {}

    def predict(i):  # threads sharing one module get their own buffers
        with torch.no_grad():
            results[i] = [net(xs[i]) for _ in range(20)]

    threads = [threading.Thread(target=predict, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        for out in results[i]:
            torch.testing.assert_close(out, expected[i])
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        with torch.no_grad():
            torch.testing.assert_close(clone(xs[1]), expected[1])


def test_gru_training_dropout_keeps_torch_masks():
    """Dropout between layers in training mode stays with nn.GRU (its own random masks)."""
    net = RecurrentNet("gru", 1, 8, 2, 0.5, horizon=2).train()
    x = torch.randn(6, 10, 1)
    torch.manual_seed(3)
    got = net(x)
    torch.manual_seed(3)
    torch.testing.assert_close(got, _torch_gru_forward(net, x), rtol=0, atol=0)
