"""Train K independent recurrent networks in one pass (fold models, seed ensembles).

:func:`train_networks` takes K :class:`~tsrnn.nn.modules.RecurrentNet` s (optionally
wrapped in :class:`~tsrnn.nn.modules.LastValueAnchor`) of the same architecture, each
with its own windows, training and validation positions and seed, and trains them
together: their weights are stacked along a leading axis of size K and every time step
of every layer is one grouped matrix product (``torch.baddbmm``) for all K networks,
so the per-operation overhead of a small model is paid once per step, not K times.
(``torch.func.vmap`` has no batching rule for ``aten::lstm``, hence the hand-written
cells; they follow ``torch.nn.LSTM/GRU/RNN``'s equations and gate order exactly.) LSTM
and GRU layers run through :mod:`tsrnn.nn.stacked_cells`, whose hand-written backward
pass and reused buffers take 1.4-2.1x (LSTM) and 1.4-2.9x (GRU) less time than
autograd through the same cells here (``benchmarks/bench_batched_cells.py``); the plain
RNN cell keeps autograd.

The networks stay independent: each one sees only its own windows, in the order its own
seeded generator shuffles them (the same order :func:`~tsrnn.nn.training.train_network`
uses for that seed), and has its own Adam moments and step count, gradient clipping,
learning-rate plateau schedule and early stopping with best-weights restore. Its loss is
the mean over its own batch, so its gradients are those of a separate fit; a network whose
epoch has fewer batches, or that has stopped, is masked out of a step (no update of its
weights or Adam state) and dropped from the computation. The result equals K separate
fits with the same seeds up to floating-point rounding (the grouped products sum in a
different order than ``nn.LSTM``'s kernels); ``tests/nn/test_batched.py`` bounds it.

Estimator fits go through :func:`tsrnn.nn.batched_fit.fit_networks`, which decides what
can train together. Dropout between stacked layers is not supported here (its random masks could not match
a separate fit); callers fall back to separate fits for ``dropout > 0``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tsrnn.nn.modules import LastValueAnchor, RecurrentNet
from tsrnn.nn.networks import GRUNet, LSTMNet, RNNNet
from tsrnn.nn.stacked_cells import Workspace, gru_layer, lstm_layer
from tsrnn.nn.training import EVAL_BATCH_SIZE, TrainResult, resolve_device

__all__ = ["NetworkJob", "train_networks", "can_batch"]

#: Network classes whose forward pass the stacked cells reproduce exactly (a registered
#: subclass may change ``forward``, so subclasses are not batched).
_BATCHABLE = (RecurrentNet, LSTMNet, GRUNet, RNNNet)

#: Cells with a hand-written backward pass (:mod:`tsrnn.nn.stacked_cells`); the plain
#: RNN cell (one product and a tanh a step) gains little from one and keeps autograd.
_HAND_WRITTEN = {"lstm": lstm_layer, "gru": gru_layer}
_BETAS, _EPS = (0.9, 0.999), 1e-8
_PLATEAU_FACTOR, _PLATEAU_THRESHOLD = 0.5, 1e-4


@dataclass
class NetworkJob:
    """One network to train and its data.

    Attributes
    ----------
    net : torch.nn.Module
        A ``RecurrentNet``, or a ``LastValueAnchor`` around one; trained in place.
    series : torch.Tensor of shape (T, F)
        The scaled series (target in column 0).
    future : torch.Tensor of shape (T, K), optional
        Future-known features aligned with ``series``.
    train_idx, val_idx : np.ndarray
        Window positions for training and validation (``val_idx`` may be empty).
    seed : int
        Seeds the generator that shuffles this network's windows.
    """

    net: nn.Module
    series: torch.Tensor
    future: torch.Tensor | None
    train_idx: np.ndarray
    val_idx: np.ndarray
    seed: int


def _inner(net: nn.Module) -> tuple[RecurrentNet, bool]:
    if isinstance(net, LastValueAnchor):
        return net.net, True
    return net, False


def can_batch(nets: list[nn.Module]) -> bool:
    """Whether :func:`train_networks` can train these networks together.

    They must be ``RecurrentNet`` s (anchored or not) of one architecture, without
    active dropout.
    """
    if not nets:
        return False
    shapes = set()
    for net in nets:
        inner, anchored = _inner(net)
        if type(inner) not in _BATCHABLE:
            return False
        if inner.rnn.num_layers > 1 and inner.rnn.dropout > 0:
            return False
        shapes.add(
            (
                inner.cell,
                anchored,
                inner.future_size,
                inner.horizon,
                tuple((k, tuple(v.shape)) for k, v in inner.state_dict().items()),
            )
        )
    return len(shapes) == 1


class _Stacked:
    """The K networks' weights stacked along axis 0, and the batched forward pass."""

    def __init__(self, nets: list[RecurrentNet], device: torch.device) -> None:
        first = nets[0]
        self.cell, self.layers = first.cell, first.rnn.num_layers
        self.hidden, self.future_size = first.rnn.hidden_size, first.future_size
        self.names = list(first.state_dict())
        #: LSTM and GRU through the hand-written layers (False: autograd, for comparison)
        self.hand_written = self.cell in _HAND_WRITTEN
        layers = range(self.layers)
        self.workspaces = {mode: [Workspace() for _ in layers] for mode in ("train", "eval")}
        self.params = {
            name: torch.stack([net.state_dict()[name].detach() for net in nets])
            .to(device)
            .requires_grad_(True)
            for name in self.names
        }

    def tensors(self) -> list[torch.Tensor]:
        return [self.params[name] for name in self.names]

    def forward(self, x: torch.Tensor, future: torch.Tensor | None, rows=None) -> torch.Tensor:
        """``x`` (K', B, L, F) -> (K', B, horizon) for the networks ``rows`` (default all)."""
        p = self.params if rows is None else {k: v[rows] for k, v in self.params.items()}
        k, b = x.shape[:2]
        if self.hand_written:
            h = self._forward_hand_written(x, p)
        else:
            h = self._forward_autograd(x, p)
        features = h
        if self.future_size > 0:
            features = torch.cat([features, future.reshape(k, b, -1)], dim=2)
        return torch.baddbmm(
            p["head.bias"].unsqueeze(1), features, p["head.weight"].transpose(1, 2)
        )

    def _forward_hand_written(self, x: torch.Tensor, p: dict) -> torch.Tensor:
        """The last hidden state (K', B, H) through :mod:`tsrnn.nn.stacked_cells`."""
        layer_fn = _HAND_WRITTEN[self.cell]
        workspaces = self.workspaces["train" if torch.is_grad_enabled() else "eval"]
        seq = x.permute(2, 0, 3, 1).contiguous()  # (L, K', F, B)
        for layer in range(self.layers):
            seq = layer_fn(
                seq,
                p[f"rnn.weight_ih_l{layer}"],
                p[f"rnn.bias_ih_l{layer}"],
                p[f"rnn.weight_hh_l{layer}"],
                p[f"rnn.bias_hh_l{layer}"],
                full=layer < self.layers - 1,
                workspace=workspaces[layer],
            )
        return seq.transpose(1, 2)

    def _forward_autograd(self, x: torch.Tensor, p: dict) -> torch.Tensor:
        """The last hidden state (K', B, H), one autograd-recorded step at a time."""
        k, b, steps, _ = x.shape
        seq = x
        for layer in range(self.layers):
            w_ih, w_hh = p[f"rnn.weight_ih_l{layer}"], p[f"rnn.weight_hh_l{layer}"]
            b_ih, b_hh = p[f"rnn.bias_ih_l{layer}"], p[f"rnn.bias_hh_l{layer}"]
            if self.cell != "gru":  # fold the recurrent bias into the input projection
                b_ih, b_hh = b_ih + b_hh, None
            inputs = torch.baddbmm(
                b_ih.unsqueeze(1), seq.reshape(k, b * steps, -1), w_ih.transpose(1, 2)
            ).reshape(k, b, steps, -1)
            w_hh_t = w_hh.transpose(1, 2)
            b_hh = None if b_hh is None else b_hh.unsqueeze(1)
            h = x.new_zeros(k, b, self.hidden)
            c = x.new_zeros(k, b, self.hidden)
            last = layer == self.layers - 1
            outputs = []
            # unbind: one backward op (a stack), where indexing step t would zero-fill
            # the whole input gradient once per step
            for xi in inputs.unbind(2):
                h, c = self._step(xi, h, c, w_hh_t, b_hh)
                if not last:
                    outputs.append(h)
            if not last:
                seq = torch.stack(outputs, dim=2)
        return h

    def _step(self, xi, h, c, w_hh_t, b_hh):
        if self.cell == "lstm":  # gates i, f, g, o as torch.nn.LSTM
            gates = torch.baddbmm(xi, h, w_hh_t)
            i, f, _, o = gates.sigmoid().chunk(4, dim=-1)
            g = gates[..., 2 * self.hidden : 3 * self.hidden].tanh()
            c = torch.addcmul(f * c, i, g)
            return o * c.tanh(), c
        if self.cell == "gru":  # gates r, z, n as torch.nn.GRU
            hh = torch.baddbmm(b_hh, h, w_hh_t)
            xr, xz, xn = xi.chunk(3, dim=-1)
            hr, hz, hn = hh.chunk(3, dim=-1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            n = torch.tanh(torch.addcmul(xn, r, hn))
            return n + z * (h - n), c
        return torch.baddbmm(xi, h, w_hh_t).tanh(), c

    def export(self, nets: list[RecurrentNet], state: dict[str, torch.Tensor] | None) -> None:
        source = self.params if state is None else state
        for k, net in enumerate(nets):
            net.load_state_dict({name: source[name][k].detach().cpu() for name in self.names})


class _Adam:
    """Adam over stacked weights with a learning rate and step count per network.

    The same arithmetic as ``torch.optim.Adam`` (defaults, no weight decay) applied to
    each network's slice; networks outside ``mask`` keep their weights and moments.
    """

    def __init__(self, params: list[torch.Tensor], lr: torch.Tensor) -> None:
        self.params, self.lr = params, lr
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = torch.zeros_like(lr)

    def step(self, rows: torch.Tensor | None) -> None:
        """One step for the networks ``rows`` (default: all)."""
        b1, b2 = _BETAS
        if rows is None:
            self.t += 1
        else:
            self.t[rows] += 1
        t = self.t.clamp(min=1)
        step_size = self.lr / (1 - b1**t)
        bc2_sqrt = torch.sqrt(1 - b2**t)
        with torch.no_grad():
            if rows is None:  # all networks: each Adam operation once over all tensors
                shapes = [(-1,) + (1,) * (p.ndim - 1) for p in self.params]
                grads = [p.grad for p in self.params]
                torch._foreach_lerp_(self.m, grads, 1 - b1)
                torch._foreach_mul_(self.v, b2)
                torch._foreach_addcmul_(self.v, grads, grads, value=1 - b2)
                denom = torch._foreach_sqrt(self.v)
                torch._foreach_div_(denom, [bc2_sqrt.view(shape) for shape in shapes])
                torch._foreach_add_(denom, _EPS)
                update = torch._foreach_mul(self.m, [step_size.view(shape) for shape in shapes])
                torch._foreach_div_(update, denom)
                torch._foreach_sub_(self.params, update)
                return
            for p, m, v in zip(self.params, self.m, self.v, strict=True):
                shape = (-1,) + (1,) * (p.ndim - 1)
                g = p.grad[rows]
                m_r = m[rows].lerp_(g, 1 - b1)
                v_r = v[rows].mul_(b2).addcmul_(g, g, value=1 - b2)
                denom = (v_r.sqrt() / bc2_sqrt[rows].view(shape)).add_(_EPS)
                m[rows], v[rows] = m_r, v_r
                p[rows] -= m_r * step_size[rows].view(shape) / denom


def _clip(params: list[torch.Tensor], max_norm: float) -> None:
    """Per network: scale its gradients to a total 2-norm of at most ``max_norm``."""
    sq = sum(p.grad.pow(2).reshape(p.shape[0], -1).sum(1) for p in params)
    coef = torch.clamp(max_norm / (sq.sqrt() + 1e-6), max=1.0)
    for p in params:
        p.grad.mul_(coef.view((-1,) + (1,) * (p.ndim - 1)))


def _elementwise(loss: str):
    if loss == "mse":
        return lambda a, b: (a - b).pow(2)
    if loss == "mae":
        return lambda a, b: (a - b).abs()
    return lambda a, b: nn.functional.huber_loss(a, b, reduction="none")


class _Data:
    """All networks' windows in one concatenated series, addressed by global positions."""

    def __init__(self, jobs: list[NetworkJob], lookback: int, horizon: int, device) -> None:
        lengths = [len(job.series) for job in jobs]
        self.offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        series = torch.cat([job.series for job in jobs]).to(device)
        self.X = series.unfold(0, lookback, 1).transpose(1, 2)
        self.Y = series[lookback:, 0].unfold(0, horizon, 1)
        self.F = None
        if jobs[0].future is not None:
            future = torch.cat([job.future for job in jobs]).to(device)
            self.F = future[lookback:].unfold(0, horizon, 1).transpose(1, 2)
        self.anchored = False

    def gather(self, idx: torch.Tensor):
        """``idx`` (K', B) global positions -> anchored copies of the batch."""
        k, b = idx.shape
        flat = idx.reshape(-1)
        xb = self.X[flat].reshape(k, b, *self.X.shape[1:])
        yb = self.Y[flat].reshape(k, b, -1)
        fb = None if self.F is None else self.F[flat].reshape(k, b, *self.F.shape[1:])
        if self.anchored:
            anchor = xb[:, :, -1:, 0].clone()
            xb[..., 0] -= anchor
            yb = yb - anchor
        return xb, yb, fb


def _padded(lists: list[torch.Tensor], size: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad index vectors (lengths <= size) into (K, size) positions and a 0/1 mask."""
    idx = torch.zeros(len(lists), size, dtype=torch.long, device=device)
    mask = torch.zeros(len(lists), size, device=device)
    for k, part in enumerate(lists):
        idx[k, : len(part)] = part
        mask[k, : len(part)] = 1.0
    return idx, mask


def train_networks(
    jobs: list[NetworkJob],
    *,
    lookback: int,
    horizon: int,
    epochs: int = 100,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    loss: str = "mse",
    gradient_clip: float | None = 1.0,
    early_stopping: int | None = 10,
    lr_patience: int | None = 5,
    max_steps: int | None = None,
    device: str = "cpu",
) -> list[TrainResult]:
    """Train the jobs' networks together, each as :func:`~tsrnn.nn.training.train_network` would.

    Parameters
    ----------
    jobs : list of NetworkJob
        Networks accepted by :func:`can_batch`, with their data.
    lookback, horizon : int
        Window sizes (the same for all).
    epochs, batch_size, learning_rate, loss, gradient_clip, early_stopping, lr_patience
        As in :func:`~tsrnn.nn.training.train_network`, applied to each network separately.
    max_steps : int, optional
        Stop each network after this many optimizer steps (its last epoch may be partial).
    device : str, default='cpu'

    Returns
    -------
    list of TrainResult
        One per job, in order; each net is left with its best (or last) weights, in eval mode.
    """
    if not can_batch([job.net for job in jobs]):
        raise ValueError("train_networks needs RecurrentNets of one architecture, no dropout.")
    torch_device = resolve_device(device)
    inners = [_inner(job.net)[0] for job in jobs]
    stacked = _Stacked(inners, torch_device)
    data = _Data(jobs, lookback, horizon, torch_device)
    data.anchored = _inner(jobs[0].net)[1]
    n_models = len(jobs)
    train = [torch.as_tensor(job.train_idx, dtype=torch.long) for job in jobs]
    if any(len(t) == 0 for t in train):
        raise ValueError("train_idx is empty for a job; at least one training window is needed.")
    val = [
        torch.as_tensor(job.val_idx, dtype=torch.long) + int(off)
        for job, off in zip(jobs, data.offsets, strict=True)
    ]
    generators = [torch.Generator().manual_seed(job.seed) for job in jobs]
    lr = torch.full((n_models,), float(learning_rate), device=torch_device)
    adam = _Adam(stacked.tensors(), lr)
    criterion = _elementwise(loss)
    results = [TrainResult(n_train=len(t), n_val=len(v)) for t, v in zip(train, val, strict=True)]
    active = [True] * n_models
    best_loss = [math.inf] * n_models
    plateau_best, plateau_bad = [math.inf] * n_models, [0] * n_models
    steps_done = [0] * n_models
    best_state = (
        {name: t.detach().clone() for name, t in stacked.params.items()}
        if early_stopping is not None
        else None
    )
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        lrs = lr.tolist()
        orders = []
        for k in range(n_models):
            order = train[k][torch.randperm(len(train[k]), generator=generators[k])]
            if max_steps is not None:
                order = order[: max(0, max_steps - steps_done[k]) * batch_size]
            orders.append(order + int(data.offsets[k]) if active[k] else order[:0])
        n_batches = [math.ceil(len(o) / batch_size) for o in orders]
        idx_all, mask_all = _padded(orders, max(n_batches) * batch_size, torch_device)
        idx_all = idx_all.view(n_models, -1, batch_size)
        mask_all = mask_all.view(n_models, -1, batch_size)
        totals = torch.zeros(n_models, device=torch_device)
        for s in range(max(n_batches)):
            rows = [k for k in range(n_models) if s < n_batches[k]]
            every = len(rows) == n_models
            rows_t = None if every else torch.tensor(rows, device=torch_device)
            idx = idx_all[:, s] if every else idx_all[rows_t, s]
            mask = mask_all[:, s] if every else mask_all[rows_t, s]
            xb, yb, fb = data.gather(idx)
            for p in adam.params:
                p.grad = None
            out = stacked.forward(xb, fb, rows_t)
            n_in = mask.sum(1)
            per_model = (criterion(out, yb) * mask.unsqueeze(-1)).sum((1, 2)) / (n_in * horizon)
            per_model.sum().backward()
            if gradient_clip is not None:
                _clip(adam.params, gradient_clip)
            adam.step(None if every else rows_t)
            if every:
                totals += per_model.detach() * n_in
            else:
                totals[rows_t] += per_model.detach() * n_in
            for k in rows:
                steps_done[k] += 1
        counts = [len(o) for o in orders]
        train_losses = (totals.cpu() / torch.tensor([max(c, 1) for c in counts])).tolist()
        val_losses = _evaluate(stacked, data, val, criterion, horizon, torch_device, active)
        seconds = time.perf_counter() - start
        for k in range(n_models):
            if not active[k]:
                continue
            if not math.isfinite(train_losses[k]):
                raise ValueError(
                    f"training loss of network {k} became {train_losses[k]} at epoch {epoch}; "
                    "lower learning_rate or set gradient_clip."
                )
            record = dict(
                epoch=epoch,
                train_loss=train_losses[k],
                val_loss=val_losses[k],
                lr=lrs[k],
                seconds=seconds,
            )
            results[k].history.append(record)
            monitored = train_losses[k] if val_losses[k] is None else val_losses[k]
            if lr_patience is not None:
                _plateau(k, monitored, lr, plateau_best, plateau_bad, lr_patience)
            if monitored < best_loss[k]:
                best_loss[k], results[k].best_epoch = monitored, epoch
                if best_state is not None:
                    for name in stacked.names:
                        best_state[name][k] = stacked.params[name][k].detach()
            patience_spent = (
                early_stopping is not None and epoch - results[k].best_epoch >= early_stopping
            )
            out_of_steps = max_steps is not None and steps_done[k] >= max_steps
            if patience_spent or out_of_steps:
                results[k].stopped_early = epoch < epochs
                active[k] = False
        if not any(active):
            break
    stacked.export(inners, best_state)
    for job in jobs:
        job.net.eval()
    return results


def _plateau(k: int, value: float, lr: torch.Tensor, best: list, bad: list, patience: int) -> None:
    """``ReduceLROnPlateau(factor=0.5, patience)``'s rule (mode min, relative threshold)."""
    if value < best[k] * (1 - _PLATEAU_THRESHOLD):
        best[k], bad[k] = value, 0
    else:
        bad[k] += 1
    if bad[k] > patience:
        old = float(lr[k])
        new = old * _PLATEAU_FACTOR
        if old - new > 1e-8:
            lr[k] = new
        bad[k] = 0


def _evaluate(stacked, data, val, criterion, horizon, device, active) -> list[float | None]:
    """Mean validation loss of each active network over its own windows (else None)."""
    rows = [k for k, on in enumerate(active) if on and len(val[k])]
    out: list[float | None] = [None] * len(val)
    if not rows:
        return out
    rows_t = None if len(rows) == len(val) else torch.tensor(rows, device=device)
    totals = torch.zeros(len(rows), device=device)
    longest = max(len(val[k]) for k in rows)
    with torch.no_grad():
        for start in range(0, longest, EVAL_BATCH_SIZE):
            parts = [val[k][start : start + EVAL_BATCH_SIZE] for k in rows]
            idx, mask = _padded(parts, max(len(p) for p in parts), device)
            xb, yb, fb = data.gather(idx)
            err = criterion(stacked.forward(xb, fb, rows_t), yb) * mask.unsqueeze(-1)
            totals += err.sum((1, 2)) / horizon
    for k, total in zip(rows, totals.cpu(), strict=True):
        out[k] = float(total) / len(val[k])
    return out
