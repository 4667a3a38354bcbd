"""Size of tsrnn's Diebold-Mariano test under a true null, against the tests it replaced.

Two equally accurate models; per-fold errors AR(1) across folds with coefficient
``phi`` (0: independent folds), loss squared or absolute, ``n`` folds. For each
setting, the share of seeded replications in which a test rejects "equal accuracy"
at the stated 5% level:

- ``tsrnn``: :func:`tsrnn.compare.diebold_mariano_losses` (two-sided, EWC long-run
  variance with ``default_df(n)`` terms, t reference);
- ``HLN, folds independent``: the HLN-corrected test with no lags, two-sided (what
  tsrnn ran on folds that do not overlap before issue 14);
- ``HLN, either one-sided``: the same statistic, a verdict when either one-sided p is
  below 5% (the old plain-words verdicts: a 10% test);
- ``NW 3 lags + HLN``: Newey-West with 3 lags and the HLN factor for h = 4, two-sided
  (the fix tried in issue 14).

Usage::

    .venv/bin/python benchmarks/bench_dm_size.py [--reps 2000] [--out benchmarks/RESULTS_dm_size.md]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
from scipy import stats

from tsrnn.compare import default_df, diebold_mariano_losses


def ar1_errors(rng: np.random.Generator, reps: int, n: int, phi: float) -> np.ndarray:
    shocks = rng.normal(size=(reps, 2, n + 50))
    errors = np.zeros_like(shocks)
    for t in range(1, n + 50):
        errors[..., t] = phi * errors[..., t - 1] + shocks[..., t]
    return errors[..., 50:]


def hln_pvalues(d: np.ndarray, lags: int) -> tuple[float, float]:
    """Two-sided and smaller one-sided x 2 p-values of the Bartlett/HLN test."""
    n, h = len(d), lags + 1
    centred = d - d.mean()
    gamma = [centred[k:] @ centred[: n - k] / n for k in range(h)]
    lrv = gamma[0] + 2 * sum((1 - k / h) * gamma[k] for k in range(1, h))
    if lrv <= 0:
        return 1.0, 1.0
    statistic = d.mean() / math.sqrt(lrv / n) * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    two = 2 * stats.t.sf(abs(statistic), n - 1)
    return two, two  # either one-sided p < a  <=>  two-sided p < 2a


def run(reps: int) -> list[str]:
    lines = [
        "| folds n | phi | loss | lag-1 autocorr. of d (mean) | B | tsrnn | "
        "HLN, folds independent | HLN, either one-sided | NW 3 lags + HLN |",
        "| --: | --: | :-- | --: | --: | --: | --: | --: | --: |",
    ]
    for n in (10, 15, 20, 30, 60):
        for phi in (0.0, 0.5, 0.7, 0.9):
            for loss in ("squared", "absolute"):
                errors = ar1_errors(np.random.default_rng(1), reps, n, phi)
                losses = errors**2 if loss == "squared" else np.abs(errors)
                d = losses[:, 0] - losses[:, 1]
                ours = np.mean([diebold_mariano_losses(a, b).pvalue < 0.05 for a, b in losses])
                hln = np.array([hln_pvalues(x, 0)[0] for x in d])
                nw3 = np.mean([hln_pvalues(x, 3)[0] < 0.05 for x in d])
                centred = d - d.mean(axis=1, keepdims=True)
                r1 = np.mean((centred[:, 1:] * centred[:, :-1]).sum(1) / (centred**2).sum(1))
                lines.append(
                    f"| {n} | {phi} | {loss} | {r1:.2f} | {default_df(n)} | {ours:.1%} | "
                    f"{np.mean(hln < 0.05):.1%} | {np.mean(hln < 0.10):.1%} | {nw3:.1%} |"
                )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    lines = run(args.reps)
    command = "python benchmarks/bench_dm_size.py " + " ".join(sys.argv[1:])
    text = "\n".join(
        [
            "# Diebold-Mariano: rejection rate under a true null at the stated 5% level",
            "",
            f"Command: `{command.strip()}` ({args.reps} seeded replications per row; "
            "two equally accurate models, fold errors AR(1) with coefficient phi).",
            "",
            *lines,
            "",
        ]
    )
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
