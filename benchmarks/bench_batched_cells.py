"""Stacked cells versus one network after another: which folds train together on CPU.

For each cell (LSTM, GRU, RNN) and hidden size, K = 10 independent
:class:`~tsrnn.nn.modules.RecurrentNet` s of lookback 30, batch 32, 1 thread: the time
of one forward and backward pass of all K, run one network after another (torch's own
``nn.LSTM/GRU/RNN``, as a separate fit runs them) and stacked
(:class:`tsrnn.nn.batched._Stacked`, as :func:`tsrnn.nn.batched.train_networks` runs
them), through autograd and, for LSTM and GRU, through the hand-written backward pass of
:mod:`tsrnn.nn.stacked_cells` (what training uses). A speed-up (one after another over
what training uses) above 1 means training the folds together saves time on this machine;
``tsrnn.nn.batched_fit.CPU_BATCHED_MAX_HIDDEN`` follows the result. The last column runs
the compiled cells (``tsrnn build-kernels``, built first if needed;
``CPU_BATCHED_MAX_HIDDEN_COMPILED``) through the same pass.

Usage::

    .venv/bin/python benchmarks/bench_batched_cells.py   # about two minutes
"""

from __future__ import annotations

import os
import platform
import time

import torch

from tsrnn.nn import fused
from tsrnn.nn.batched import _Stacked
from tsrnn.nn.modules import RecurrentNet

K, BATCH, LOOKBACK, HORIZON = 10, 32, 30, 7


def per_pass(fn, repeats: int = 20) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    fused.build()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M')} UTC, torch {torch.__version__}, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}; K={K} networks, "
        f"batch {BATCH}, lookback {LOOKBACK}, 1 thread, forward + backward\n"
    )
    print(
        "| cell | hidden | one after another (ms) | stacked, autograd (ms) | "
        "stacked, hand-written backward (ms) | speed-up | compiled cells (ms) | speed-up |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for cell in ("lstm", "gru", "rnn"):
        for hidden in (16, 32, 64, 128):
            nets = [RecurrentNet(cell, 1, hidden, 1, 0.0, HORIZON) for _ in range(K)]
            x = torch.randn(K, BATCH, LOOKBACK, 1)
            stacked = _Stacked(nets, torch.device("cpu"))
            plain_stacked = _Stacked(nets, torch.device("cpu"))
            plain_stacked.hand_written = False

            def loop(nets=nets, x=x):
                for k, net in enumerate(nets):
                    net(x[k]).sum().backward()

            def autograd(stacked=plain_stacked, x=x):
                stacked.forward(x, None).sum().backward()

            def together(stacked=stacked, x=x):
                stacked.forward(x, None).sum().backward()

            alone, plain = per_pass(loop), per_pass(autograd)
            fused._loaded = False
            joint = per_pass(together) if stacked.hand_written else plain
            fused._loaded = True
            compiled = per_pass(together) if stacked.hand_written else plain
            hand = f"{joint * 1e3:.1f}" if stacked.hand_written else "(autograd)"
            built = f"{compiled * 1e3:.1f}" if stacked.hand_written else "(autograd)"
            print(
                f"| {cell} | {hidden} | {alone * 1e3:.1f} | {plain * 1e3:.1f} | {hand} | "
                f"{alone / joint:.2f}x | {built} | {alone / compiled:.2f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
