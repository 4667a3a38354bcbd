"""Training and inference for :class:`~tsrnn.nn.modules.RecurrentNet`, as small named steps.

The loop reads top to bottom: :func:`train_network` (epochs, early stopping,
learning-rate plateau) -> :func:`_train_epoch` (shuffle, batches) ->
:func:`_batch_step` (forward, loss, backward, clip, step); :func:`_evaluate`
scores the validation windows. No estimator state lives here.

Per-batch overhead is kept low, so a fit trains about as fast as a minimal hand-written
loop (``benchmarks/bench_training.py``): batches are gathered with a ``LongTensor`` from
zero-copy window views and not moved when already on the device; the loss is
accumulated as a tensor and read once per epoch; Adam is fused; gradient clipping skips
``clip_grad_norm_``'s per-call bookkeeping; a :class:`~tsrnn.nn.modules.LastValueAnchor`
is applied to the gathered batch in place rather than as autograd-tracked operations;
and windows that are only calibrated (not validated) are not evaluated every epoch.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau
from tqdm.auto import tqdm

from tsrnn.exceptions import InputError
from tsrnn.limits import usable_threads
from tsrnn.nn.modules import LastValueAnchor

LOSSES: dict[str, type[nn.Module]] = {"mse": nn.MSELoss, "mae": nn.L1Loss, "huber": nn.HuberLoss}
SMALL_MODEL_PARAMS = 200_000
EVAL_BATCH_SIZE = 1024


@dataclass
class TrainResult:
    """What :func:`train_network` reports.

    Attributes
    ----------
    history : list of dict
        One dict per epoch with keys ``epoch`` (1-based), ``train_loss``,
        ``val_loss`` (None without validation windows), ``lr`` (learning rate
        used in the epoch) and ``seconds``.
    best_epoch : int
        Epoch with the lowest monitored loss (validation, else training).
    stopped_early : bool
        True if training ended before ``epochs`` (patience or callback).
    n_train, n_val : int
        Numbers of training and validation windows.
    """

    history: list[dict[str, float | None]] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False
    n_train: int = 0
    n_val: int = 0


def resolve_device(device: str) -> torch.device:
    """Turn ``'auto' | 'cpu' | 'cuda[:n]'`` into a :class:`torch.device` (auto: CUDA if any).

    Raises
    ------
    ValueError
        If CUDA is requested but not available, or the string is not a device.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda'; got {device!r}.") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use device='cpu'.")
    return resolved


@contextmanager
def thread_policy(n_params: int, n_threads: int | None = None) -> Iterator[int]:
    """Temporarily set ``torch.set_num_threads`` for a fit; restore it afterwards.

    With ``n_threads`` given, use it. Otherwise a small recurrent model (fewer
    than 200k parameters) runs on 1 thread: its batch-32 steps gain little from
    a second intra-op thread, and with 2 threads on 2 cores one competing busy
    process stalls every operation (each thread waits for the other, which waits
    for a core). Measured by ``benchmarks/bench_training.py`` on a shared 2-core
    machine (1-layer LSTM, hidden 64, lookback 30, batch 32; RESULTS_training.md):
    next to one busy process the default fit took 1.01x its time without it, an
    ``n_threads=2`` fit 3.7x (13.8x in a run while other jobs also ran);
    without the busy process 2 threads train at most ~1.2x faster
    (best of 3: 17.0k vs 14.5k windows/s at horizon 1, 14.4k vs 13.8k at horizon 7).
    The 1-thread default gives up that idle gain for robustness. Larger models
    keep torch's current setting. The setting is restored after the block.

    Parameters
    ----------
    n_params : int
        Number of trainable parameters of the model.
    n_threads : int, optional
        Explicit thread count (>= 1).

    Yields
    ------
    int
        The thread count in effect inside the block.
    """
    if n_threads is not None and n_threads < 1:
        raise ValueError(f"n_threads must be >= 1 or None; got {n_threads}.")
    previous = torch.get_num_threads()
    if n_threads is None:
        n_threads = 1 if n_params < SMALL_MODEL_PARAMS else previous
    n_threads = usable_threads(n_threads)  # more threads than cores only wait
    torch.set_num_threads(n_threads)
    try:
        yield n_threads
    finally:
        torch.set_num_threads(previous)


def _as_index(idx: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(idx, dtype=torch.long, device=device)


@dataclass
class _Loop:
    """Everything one epoch needs, built once by :func:`train_network`."""

    net: nn.Module
    X: torch.Tensor
    Y: torch.Tensor
    future: torch.Tensor | None
    device: torch.device
    criterion: nn.Module
    optimizer: torch.optim.Optimizer
    generator: torch.Generator
    batch_size: int
    gradient_clip: float | None
    prepare: Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None
    params: list[torch.Tensor] = field(init=False)

    def __post_init__(self) -> None:
        self.params = [p for p in self.net.parameters() if p.requires_grad]

    def gather(self, idx: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Copy the windows ``idx`` (and only those), moving them only if off-device."""
        xb, yb = self.X[idx], self.Y[idx]
        fb = None if self.future is None else self.future[idx]
        if xb.device != self.device:
            xb, yb = xb.to(self.device, non_blocking=True), yb.to(self.device)
            fb = None if fb is None else fb.to(self.device, non_blocking=True)
        if self.prepare is not None:
            xb, yb = self.prepare(xb, yb)
        return xb, yb, fb


def _trainable(net: nn.Module) -> tuple[nn.Module, Callable | None]:
    """The module the loop steps, and an in-place batch transform it needs (or None).

    A :class:`~tsrnn.nn.modules.LastValueAnchor` is trained through its inner network on
    anchored batches: the same loss and gradients, minus the wrapper's per-step ops.
    """
    if isinstance(net, LastValueAnchor):
        return net.net, LastValueAnchor.relative_
    return net, None


def _make_optimizer(net: nn.Module, learning_rate: float) -> torch.optim.Adam:
    """Adam, fused where torch supports it (CPU since torch 2.4; ~8% faster per step here)."""
    try:
        return torch.optim.Adam(net.parameters(), lr=learning_rate, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(net.parameters(), lr=learning_rate)


def _clip_gradients(params: list[torch.Tensor], max_norm: float) -> None:
    """Scale gradients to a total 2-norm of at most ``max_norm``, in place.

    The same arithmetic as ``torch.nn.utils.clip_grad_norm_(foreach=True)`` (coefficient
    ``max_norm / (norm + 1e-6)`` clamped at 1), without its per-call grouping and
    checks: half its cost, which is a few percent of a small model's step.
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, torch.clamp(max_norm / (total + 1e-6), max=1.0))


def _batch_step(loop: _Loop, xb, yb, fb) -> torch.Tensor:
    """One optimisation step on one batch; returns the detached batch loss."""
    loop.optimizer.zero_grad(set_to_none=True)
    loss = loop.criterion(loop.net(xb, fb), yb)
    loss.backward()
    if loop.gradient_clip is not None:
        _clip_gradients(loop.params, loop.gradient_clip)
    loop.optimizer.step()
    return loss.detach()


def _train_epoch(loop: _Loop, idx: torch.Tensor, max_batches: int | None = None) -> float:
    """Shuffle ``idx``, step through its batches (at most ``max_batches``), return the
    mean training loss."""
    loop.net.train()
    order = idx[torch.randperm(len(idx), generator=loop.generator)]
    if max_batches is not None:
        order = order[: max_batches * loop.batch_size]
        idx = order
    total = torch.zeros((), device=loop.device)
    for batch in order.split(loop.batch_size):
        total += _batch_step(loop, *loop.gather(batch)) * len(batch)
    return total.item() / len(idx)  # the one device sync of the epoch


def _evaluate(loop: _Loop, idx: torch.Tensor) -> float | None:
    """Mean loss over the windows ``idx`` in eval mode; None when ``idx`` is empty."""
    if len(idx) == 0:
        return None
    loop.net.eval()
    total = torch.zeros((), device=loop.device)
    with torch.no_grad():
        for batch in idx.split(EVAL_BATCH_SIZE):
            xb, yb, fb = loop.gather(batch)
            total += loop.criterion(loop.net(xb, fb), yb) * len(batch)
    return total.item() / len(idx)


def _run_epoch(
    loop: _Loop, epoch: int, train_idx, val_idx, max_batches: int | None = None
) -> dict[str, float | None]:
    """Train one epoch, then validate; return the epoch's history record."""
    start, lr = time.perf_counter(), loop.optimizer.param_groups[0]["lr"]
    train_loss = _train_epoch(loop, train_idx, max_batches)
    if not np.isfinite(train_loss):
        raise InputError(
            f"training loss became {train_loss} at epoch {epoch}; "
            "lower learning_rate or set gradient_clip."
        )
    val_loss = _evaluate(loop, val_idx)
    seconds = time.perf_counter() - start
    return dict(epoch=epoch, train_loss=train_loss, val_loss=val_loss, lr=lr, seconds=seconds)


def train_network(
    net: nn.Module,
    X: torch.Tensor,
    Y: torch.Tensor,
    train_idx: np.ndarray | torch.Tensor,
    val_idx: np.ndarray | torch.Tensor,
    *,
    future: torch.Tensor | None = None,
    epochs: int = 100,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    loss: str = "mse",
    gradient_clip: float | None = 1.0,
    early_stopping: int | None = 10,
    lr_patience: int | None = 5,
    max_steps: int | None = None,
    seed: int = 0,
    device: str = "cpu",
    verbose: bool = False,
    epoch_callback: Callable[[dict], bool | None] | None = None,
) -> TrainResult:
    """Train ``net`` in place with Adam on the windows ``train_idx``.

    Parameters
    ----------
    net : torch.nn.Module
        Maps ``(batch, lookback, F)`` (and ``future``) to ``(batch, horizon)``;
        moved to ``device``.
    X : torch.Tensor of shape (N, lookback, F)
        Input windows, typically views from :func:`~tsrnn.nn.windows.make_windows`.
    Y : torch.Tensor of shape (N, horizon)
        Target windows.
    train_idx, val_idx : int array or LongTensor
        Window positions for training and validation. ``val_idx`` may be empty:
        early stopping and the plateau schedule then follow the training loss.
    future : torch.Tensor of shape (N, horizon, future_size), optional
        Future-known features per window.
    epochs, batch_size, learning_rate : int, int, float
    loss : {'mse', 'mae', 'huber'}, default='mse'
    gradient_clip : float or None, default=1.0
        Max total gradient norm (``clip_grad_norm_``); None disables clipping.
    early_stopping : int or None, default=10
        Patience in epochs. The best epoch's weights are restored at the end.
        None trains all epochs and keeps the last weights.
    lr_patience : int or None, default=5
        ``ReduceLROnPlateau`` patience (factor 0.5); None keeps the rate fixed.
    max_steps : int, optional
        Budget in optimizer steps: training ends after this many batches (the last
        epoch may be partial; it is validated and counts as an epoch).
    seed : int, default=0
        Seeds the shuffling generator. Call ``torch.manual_seed`` before building
        ``net`` for reproducible initial weights and dropout.
    device : {'cpu', 'cuda', 'auto'}, default='cpu'
    verbose : bool, default=False
        Show a tqdm progress bar over epochs on stderr.
    epoch_callback : callable, optional
        Called with each epoch's history dict; returning True stops training.

    Returns
    -------
    TrainResult
        History and stopping information; ``net`` is left in eval mode.

    Raises
    ------
    ValueError
        For an unknown ``loss``, empty ``train_idx``, unavailable CUDA, or a
        non-finite training loss.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}; got {loss!r}.")
    train_idx, val_idx = _as_index(train_idx, X.device), _as_index(val_idx, X.device)
    if len(train_idx) == 0:
        raise ValueError("train_idx is empty; at least one training window is needed.")
    torch_device = resolve_device(device)
    optimizer = _make_optimizer(net.to(torch_device), learning_rate)
    generator = torch.Generator().manual_seed(seed)
    criterion = LOSSES[loss]()
    stepped, prepare = _trainable(net)
    loop = _Loop(
        stepped,
        X,
        Y,
        future,
        torch_device,
        criterion,
        optimizer,
        generator,
        batch_size,
        gradient_clip,
        prepare,
    )
    plateau = None
    if lr_patience is not None:
        plateau = ReduceLROnPlateau(optimizer, factor=0.5, patience=lr_patience)
    result = TrainResult(n_train=len(train_idx), n_val=len(val_idx))
    best_loss, best_state = float("inf"), None
    bar = tqdm(range(1, epochs + 1), disable=not verbose, file=sys.stderr, unit="epoch")
    per_epoch, steps = math.ceil(len(train_idx) / batch_size), 0
    for epoch in bar:
        budget = None if max_steps is None else max_steps - steps
        record = _run_epoch(loop, epoch, train_idx, val_idx, budget)
        steps += per_epoch if budget is None else min(per_epoch, budget)
        result.history.append(record)
        train_loss, val_loss = record["train_loss"], record["val_loss"]
        monitored = train_loss if val_loss is None else val_loss
        bar.set_postfix(
            train=f"{train_loss:.4g}", val="-" if val_loss is None else f"{val_loss:.4g}"
        )
        if plateau is not None:
            plateau.step(monitored)
        if monitored < best_loss:
            best_loss, result.best_epoch = monitored, epoch
            if early_stopping is not None:
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        stop_requested = epoch_callback is not None and epoch_callback(record) is True
        patience_spent = early_stopping is not None and epoch - result.best_epoch >= early_stopping
        out_of_steps = max_steps is not None and steps >= max_steps
        if stop_requested or patience_spent or out_of_steps:
            result.stopped_early = epoch < epochs
            break
    bar.close()
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return result


def predict_network(
    net: nn.Module,
    X: torch.Tensor,
    future: torch.Tensor | None = None,
    batch_size: int = EVAL_BATCH_SIZE,
    device: str = "cpu",
    index: np.ndarray | torch.Tensor | None = None,
) -> np.ndarray:
    """Forecast windows of ``X`` in eval mode under ``torch.inference_mode``.

    Parameters
    ----------
    net : torch.nn.Module
        A trained net; moved to ``device``.
    X : torch.Tensor of shape (N, lookback, F)
        Typically zero-copy views; only one batch of windows is gathered at a time.
    future : torch.Tensor of shape (N, horizon, future_size), optional
    batch_size : int, default=1024
    device : {'cpu', 'cuda', 'auto'}, default='cpu'
    index : int array or LongTensor, optional
        Forecast only these windows (default: all), batch by batch, so memory does not
        grow with ``len(index) * lookback``.

    Returns
    -------
    numpy.ndarray of shape (len(index) or N, horizon)
    """
    torch_device = resolve_device(device)
    net.to(torch_device).eval()
    positions = torch.arange(len(X)) if index is None else _as_index(index, X.device)
    outputs = []
    with torch.inference_mode():
        for batch in positions.split(batch_size):
            fb = None if future is None else future[batch].to(torch_device)
            outputs.append(net(X[batch].to(torch_device), fb).cpu())
    if not outputs:
        return np.empty((0, getattr(net, "horizon", 0)), dtype=np.float32)
    return torch.cat(outputs).numpy()


def state_to_arrays(net: nn.Module) -> dict[str, np.ndarray]:
    """Copy ``net.state_dict()`` into plain numpy arrays (safe for ``np.savez``)."""
    return {name: t.detach().cpu().numpy().copy() for name, t in net.state_dict().items()}


def arrays_to_state(net: nn.Module, arrays: dict[str, np.ndarray]) -> None:
    """Load arrays from :func:`state_to_arrays` into ``net`` in place.

    Raises
    ------
    ValueError
        If names or shapes do not match the net's parameters and buffers.
    """
    expected = net.state_dict()
    missing, unexpected = set(expected) - set(arrays), set(arrays) - set(expected)
    if missing or unexpected:
        raise ValueError(
            f"weights do not match the network: missing {sorted(missing)}, "
            f"unexpected {sorted(unexpected)}."
        )
    for name, tensor in expected.items():
        if tuple(arrays[name].shape) != tuple(tensor.shape):
            raise ValueError(
                f"weight {name!r} has shape {tuple(arrays[name].shape)}; "
                f"the network expects {tuple(tensor.shape)}."
            )
    net.load_state_dict({name: torch.tensor(np.asarray(a)) for name, a in arrays.items()})
