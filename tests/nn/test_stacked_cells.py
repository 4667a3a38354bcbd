"""The hand-written stacked LSTM/GRU layers against torch.nn.LSTM/GRU, in double precision."""

import pytest

torch = pytest.importorskip("torch")

from tsrnn.nn.stacked_cells import Workspace, gru_layer, lstm_layer  # noqa: E402

K, B, T, H, F = 3, 5, 7, 6, 2
CELLS = {"lstm": (torch.nn.LSTM, lstm_layer), "gru": (torch.nn.GRU, gru_layer)}
NAMES = ("weight_ih", "bias_ih", "weight_hh", "bias_hh")
# every test runs through the Python cells and the compiled ones (tsrnn.nn.fused)
pytestmark = pytest.mark.usefixtures("cell_path")


def _setup(cell: str, layers: int, seed: int = 0):
    torch.manual_seed(seed)
    module, _ = CELLS[cell]
    nets = [module(F, H, num_layers=layers, batch_first=True).double() for _ in range(K)]
    stacked = [
        [
            torch.stack([getattr(n, f"{name}_l{i}").detach() for n in nets]).requires_grad_()
            for name in NAMES
        ]
        for i in range(layers)
    ]
    return nets, stacked


def _run(cell, stacked, x, workspaces=None):
    """x (K, B, T, F) -> last hidden state (K, B, H)."""
    _, layer_fn = CELLS[cell]
    seq = x.permute(2, 0, 3, 1).contiguous()
    for i, params in enumerate(stacked):
        ws = None if workspaces is None else workspaces[i]
        seq = layer_fn(seq, *params, full=i < len(stacked) - 1, workspace=ws)
    return seq.transpose(1, 2)


def _reference(nets, x, weights):
    outs = []
    for k, net in enumerate(nets):
        net.zero_grad()
        out, _ = net(x[k])
        (out[:, -1] * weights[k]).sum().backward()
        outs.append(out[:, -1].detach())
    return torch.stack(outs)


def _assert_grads(nets, stacked, atol=1e-12, rtol=0.0):
    for i, params in enumerate(stacked):
        for name, p in zip(NAMES, params, strict=True):
            expected = torch.stack([getattr(n, f"{name}_l{i}").grad for n in nets])
            torch.testing.assert_close(p.grad, expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
def test_outputs_and_gradients_equal_torch(cell, layers):
    nets, stacked = _setup(cell, layers)
    workspaces = [Workspace() for _ in range(layers)]
    for _ in range(3):  # the reused buffers give the same answers every time
        x = torch.randn(K, B, T, F, dtype=torch.double)
        weights = torch.randn(K, B, H, dtype=torch.double)
        for params in stacked:
            for p in params:
                p.grad = None
        out = _run(cell, stacked, x, workspaces)
        (out * weights).sum().backward()
        expected = _reference(nets, x, weights)
        torch.testing.assert_close(out.detach(), expected, rtol=0, atol=1e-12)
        _assert_grads(nets, stacked)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_pending_graph_keeps_its_buffers(cell):
    """A second forward pass (with or without gradients) before the first one's backward
    pass must not overwrite the buffers the first one saved."""
    nets, stacked = _setup(cell, 1)
    ws = [Workspace()]
    x = torch.randn(K, B, T, F, dtype=torch.double)
    weights = torch.randn(K, B, H, dtype=torch.double)
    first = _run(cell, stacked, x, ws)
    with torch.no_grad():
        _run(cell, stacked, torch.randn_like(x), ws)
    second = _run(cell, stacked, torch.randn_like(x), ws)  # fresh buffers: first is pending
    (first * weights).sum().backward()
    expected = _reference(nets, x, weights)
    torch.testing.assert_close(first.detach(), expected, rtol=0, atol=1e-12)
    _assert_grads(nets, stacked)
    assert second.shape == first.shape


def test_outputs_are_not_views_of_reused_buffers():
    _, stacked = _setup("lstm", 1)
    ws = [Workspace()]
    x = torch.randn(K, B, T, F, dtype=torch.double)
    with torch.no_grad():
        first = _run("lstm", stacked, x, ws)
        kept = first.clone()
        _run("lstm", stacked, torch.randn_like(x), ws)
    torch.testing.assert_close(first, kept, rtol=0, atol=0)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_single_precision_agrees_with_torch(cell):
    """Training runs in float32: outputs and gradients within float32 rounding of
    torch's own layers (1e-5 on values of order 1; the compiled exp is vectorised)."""
    nets, stacked = _setup(cell, 2)
    nets = [net.float() for net in nets]
    stacked = [[p.detach().float().requires_grad_() for p in params] for params in stacked]
    x = torch.randn(K, B, T, F)
    weights = torch.randn(K, B, H)
    out = _run(cell, stacked, x, [Workspace(), Workspace()])
    (out * weights).sum().backward()
    expected = _reference(nets, x, weights)
    torch.testing.assert_close(out.detach(), expected, rtol=1e-5, atol=1e-5)
    _assert_grads(nets, stacked, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_a_missing_value_stays_missing(cell, dtype):
    """A NaN in the input must reach the output (a plausible forecast from missing data
    would hide the problem), as through torch's own layers."""
    _, stacked = _setup(cell, 1)
    stacked = [[p.detach().to(dtype) for p in params] for params in stacked]
    x = torch.randn(K, B, T, F, dtype=dtype)
    x[1, 2, 3, 0] = float("nan")
    with torch.no_grad():
        out = _run(cell, stacked, x)
    assert torch.isnan(out[1, 2]).all()
    assert not torch.isnan(out[0]).any() and not torch.isnan(out[1, :2]).any()
