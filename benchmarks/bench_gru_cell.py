"""One GRU network on CPU: the hand-written layer that fits use against ``torch.nn.GRU``.

:class:`tsrnn.nn.modules.RecurrentNet` runs a CPU GRU through
:func:`tsrnn.nn.stacked_cells.gru_layer` (K = 1 network) instead of ``torch.nn.GRU``,
whose CPU path runs step by step under autograd (torch's CPU LSTM is a fused oneDNN
kernel and keeps ``nn.LSTM``). For each configuration, the time of one training step
(forward, backward and an Adam step, batch 32 unless said, lookback 30, horizon 7,
1 thread) and of one forecast pass under ``torch.inference_mode``, through each path in
the same run, and the ratio; the LSTM's training step (``nn.LSTM``) is the reference the
issue compared the GRU with. Best of 3 rounds.

Usage::

    .venv/bin/python benchmarks/bench_gru_cell.py   # about a minute
"""

from __future__ import annotations

import os
import platform
import time

import torch

from tsrnn.nn import modules
from tsrnn.nn.modules import RecurrentNet

CONFIGS = (  # hidden, layers, input features, batch
    (32, 1, 1, 32),
    (64, 1, 1, 32),
    (128, 1, 1, 32),
    (32, 2, 1, 32),
    (64, 1, 5, 32),
    (32, 1, 1, 1024),
)


def best_ms(fn, repeats: int) -> float:
    for _ in range(5):
        fn()  # warm-up: buffers, allocator
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - start) / repeats * 1e3)
    return best


def timings(cell: str, hidden: int, layers: int, features: int, batch: int):
    torch.manual_seed(0)
    net = RecurrentNet(cell, features, hidden, layers, 0.0, 7)
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    x, y = torch.randn(batch, 30, features), torch.randn(batch, 7)

    def step():
        optimizer.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        optimizer.step()

    def predict():
        with torch.inference_mode():
            net(x)

    repeats = 20 if batch > 100 else 100
    return best_ms(step, repeats), best_ms(predict, repeats)


def main() -> None:
    torch.set_num_threads(1)
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')} UTC, torch {torch.__version__}, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}; lookback 30, "
        "horizon 7, 1 thread, best of 3\n"
    )
    print(
        "| hidden | layers | features | batch | train step: hand-written (ms) | nn.GRU (ms) "
        "| speed-up | nn.LSTM (ms) | forecast pass: hand-written (ms) | nn.GRU (ms) | speed-up |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    hand_written = dict(modules._HAND_WRITTEN_CPU)
    for hidden, layers, features, batch in CONFIGS:
        shape = (hidden, layers, features, batch)
        hand_step, hand_pred = timings("gru", *shape)
        modules._HAND_WRITTEN_CPU.clear()  # nn.GRU itself
        try:
            torch_step, torch_pred = timings("gru", *shape)
        finally:
            modules._HAND_WRITTEN_CPU.update(hand_written)
        lstm_step, _ = timings("lstm", *shape)
        print(
            f"| {hidden} | {layers} | {features} | {batch} | {hand_step:.2f} | {torch_step:.2f} "
            f"| {torch_step / hand_step:.2f}x | {lstm_step:.2f} | {hand_pred:.2f} | "
            f"{torch_pred:.2f} | {torch_pred / hand_pred:.2f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
