import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tsrnn.nn import (  # noqa: E402
    RecurrentNet,
    TrainResult,
    arrays_to_state,
    make_windows,
    predict_network,
    resolve_device,
    state_to_arrays,
    thread_policy,
    train_network,
)

LOOKBACK, HORIZON = 12, 3
FAST = {"batch_size": 16, "learning_rate": 1e-2, "lr_patience": None}


def _net(cell="lstm", future_size=0, seed=0):
    torch.manual_seed(seed)
    return RecurrentNet(cell, 1, 8, 1, 0.0, HORIZON, future_size=future_size)


@pytest.fixture(scope="module")
def sine():
    series = torch.sin(torch.arange(130, dtype=torch.float32) / 4).unsqueeze(1)
    X, Y = make_windows(series, LOOKBACK, HORIZON)
    return X, Y, np.arange(len(X) - 20), np.arange(len(X) - 20, len(X))


@pytest.fixture(scope="module")
def diverging():
    """Training targets +1, validation targets -1 on the same inputs: val loss only rises."""
    X = torch.randn(64, LOOKBACK, 1, generator=torch.Generator().manual_seed(1))
    Y = torch.cat([torch.ones(48, HORIZON), -torch.ones(16, HORIZON)])
    return X, Y, np.arange(48), np.arange(48, 64)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_loss_decreases_on_a_sine(sine, cell):
    result = train_network(_net(cell), *sine, epochs=30, early_stopping=None, **FAST)
    losses = [h["train_loss"] for h in result.history]
    assert len(losses) == 30
    assert losses[-1] < 0.2 * losses[0]
    assert result.history[-1]["val_loss"] < 0.2 * result.history[0]["val_loss"]


@pytest.mark.parametrize("loss", ["mae", "huber"])
def test_other_losses_train(sine, loss):
    result = train_network(_net("gru"), *sine, epochs=5, loss=loss, **FAST)
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_same_seed_same_weights_and_predictions(sine):
    nets = [_net(), _net(), _net()]
    for net, seed in zip(nets, [0, 0, 1], strict=True):
        train_network(net, *sine, epochs=3, seed=seed, **FAST)
    same, other = state_to_arrays(nets[1]), state_to_arrays(nets[2])
    for name, array in state_to_arrays(nets[0]).items():
        np.testing.assert_array_equal(array, same[name])
    assert not all(np.array_equal(a, other[n]) for n, a in state_to_arrays(nets[0]).items())
    X = sine[0]
    np.testing.assert_array_equal(predict_network(nets[0], X), predict_network(nets[1], X))


def test_early_stopping_restores_best_weights(diverging):
    net, snapshots = _net(), {}

    def snapshot(record):
        snapshots[record["epoch"]] = state_to_arrays(net)

    result = train_network(
        net, *diverging, epochs=50, early_stopping=3, epoch_callback=snapshot, **FAST
    )
    val_losses = [h["val_loss"] for h in result.history]
    assert result.stopped_early
    assert result.best_epoch == int(np.argmin(val_losses)) + 1
    assert len(result.history) == result.best_epoch + 3
    for name, array in state_to_arrays(net).items():
        np.testing.assert_array_equal(array, snapshots[result.best_epoch][name])
    last = snapshots[len(result.history)]
    assert not all(np.array_equal(a, last[n]) for n, a in state_to_arrays(net).items())


def test_epoch_callback_can_stop(sine):
    result = train_network(_net(), *sine, epochs=10, epoch_callback=lambda r: r["epoch"] == 2)
    assert len(result.history) == 2 and result.stopped_early


def _grad_norm(net):
    return torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in net.parameters()]))


def test_gradient_clipping_bound(sine):
    X, Y, train_idx, _ = sine
    big = Y * 1000  # huge errors -> huge gradients
    clipped, free = _net(), _net()
    train_network(clipped, X, big, train_idx, [], epochs=1, gradient_clip=0.1)
    train_network(free, X, big, train_idx, [], epochs=1, gradient_clip=None)
    assert _grad_norm(clipped) <= 0.1 + 1e-5
    assert _grad_norm(free) > 1.0


def test_empty_validation_monitors_training_loss(sine):
    X, Y, train_idx, _ = sine
    result = train_network(_net(), X, Y, train_idx, np.array([], dtype=np.int64), epochs=4)
    assert result.n_val == 0 and result.n_train == len(train_idx)
    assert all(h["val_loss"] is None for h in result.history)
    train_losses = [h["train_loss"] for h in result.history]
    assert result.best_epoch == int(np.argmin(train_losses)) + 1


def test_history_fields_and_plateau(diverging):
    result = train_network(
        _net(), *diverging, epochs=4, early_stopping=None, lr_patience=0, learning_rate=1e-2
    )
    assert isinstance(result, TrainResult) and not result.stopped_early
    assert [h["epoch"] for h in result.history] == [1, 2, 3, 4]
    for record in result.history:
        assert set(record) == {"epoch", "train_loss", "val_loss", "lr", "seconds"}
        assert record["seconds"] >= 0
    lrs = [h["lr"] for h in result.history]
    assert lrs[0] == 1e-2 and lrs[-1] < lrs[0]
    assert lrs == sorted(lrs, reverse=True)


def test_future_features_are_used(sine):
    X, Y, train_idx, val_idx = sine
    future = Y.unsqueeze(-1)  # the answer itself: easy to learn
    net = _net(future_size=1)
    result = train_network(net, X, Y, train_idx, val_idx, future=future, epochs=15, **FAST)
    assert result.history[-1]["val_loss"] < 0.05
    assert predict_network(net, X, future=future).shape == (len(X), HORIZON)


def test_predict_network(sine):
    X = sine[0]
    net = _net()
    out = predict_network(net, X, batch_size=7)
    assert out.shape == (len(X), HORIZON) and out.dtype == np.float32
    with torch.no_grad():
        np.testing.assert_allclose(out, net(X).numpy(), rtol=1e-5, atol=1e-6)
    assert predict_network(net, X[:0]).shape == (0, HORIZON)
    chosen = np.array([5, 0, 17])
    subset = predict_network(net, X, index=chosen, batch_size=2)
    np.testing.assert_allclose(subset, out[chosen], rtol=1e-5, atol=1e-6)


def test_state_round_trip_through_npz(sine, tmp_path):
    X, trained = sine[0], _net(seed=0)
    np.savez(tmp_path / "w.npz", **state_to_arrays(trained))
    with np.load(tmp_path / "w.npz", allow_pickle=False) as stored:
        fresh = _net(seed=1)
        arrays_to_state(fresh, dict(stored))
    np.testing.assert_array_equal(predict_network(fresh, X), predict_network(trained, X))


def test_state_mismatch_is_a_clear_error():
    arrays = state_to_arrays(_net())
    with pytest.raises(ValueError, match="missing \\['head.bias'\\]"):
        arrays_to_state(_net(), {k: v for k, v in arrays.items() if k != "head.bias"})
    arrays["head.bias"] = np.zeros(HORIZON + 1, dtype=np.float32)
    with pytest.raises(ValueError, match="'head.bias' has shape \\(4,\\)"):
        arrays_to_state(_net(), arrays)


def test_bad_loss_and_empty_training_set(sine):
    with pytest.raises(ValueError, match="loss must be one of"):
        train_network(_net(), *sine, epochs=1, loss="l2")
    with pytest.raises(ValueError, match="train_idx is empty"):
        train_network(_net(), sine[0], sine[1], [], sine[3], epochs=1)


def test_diverging_loss_is_an_error(sine):
    X, Y, train_idx, val_idx = sine
    with pytest.raises(ValueError, match="training loss became nan at epoch 1"):
        train_network(_net(), X, Y * float("nan"), train_idx, val_idx, epochs=2)


def test_verbose_progress_goes_to_stderr(sine, capsys):
    train_network(_net(), *sine, epochs=2, verbose=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "2/2" in captured.err and "train=" in captured.err


def test_resolve_device():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="got 'tpu-ish'"):
        resolve_device("tpu-ish")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available; use device='cpu'"):
            resolve_device("cuda")


def test_thread_policy_sets_and_restores():
    before = torch.get_num_threads()
    with thread_policy(n_params=10_000) as n:
        assert n == 1 == torch.get_num_threads()
    assert torch.get_num_threads() == before
    with thread_policy(n_params=10_000_000) as n:
        assert n == before == torch.get_num_threads()
    with thread_policy(n_params=10_000, n_threads=2):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="n_threads must be >= 1"):
        with thread_policy(10, n_threads=0):
            pass


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_and_predicts_on_cuda(sine):
    net = _net()
    result = train_network(net, *sine, epochs=3, device="cuda", **FAST)
    assert len(result.history) == 3
    assert next(net.parameters()).device.type == "cuda"
    X = sine[0]
    assert net(X[:4].cuda()).device.type == "cuda"
    out = predict_network(net, X, device="cuda")
    assert isinstance(out, np.ndarray) and out.shape == (len(X), HORIZON)
