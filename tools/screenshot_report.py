"""Render a real backtest report and screenshot it in headless Chromium, as a person sees it.

The check behind ``tests/test_report.py``: those tests assert the report's content;
this script shows what it looks like at a laptop width, so a person can look at it.

Run from the repository root (needs Debian's ``chromium``: ``apt-get install chromium``)::

    .venv/bin/python tools/screenshot_report.py --out /tmp/tsrnn-report
    .venv/bin/python tools/screenshot_report.py --no-lstm --no-arima   # baselines only, ~5 s
    .venv/bin/python tools/screenshot_report.py --example docs/report_example.png

It backtests naive, seasonal-naive, drift, ARIMA (automatic order) and a small LSTM
(10 epochs, seed 0) on the last two years of the bundled Seattle temperatures (about a
minute on a laptop CPU), writes ``report.html`` and ``report.md`` (with its PNGs) to
``--out``, checks that the HTML references nothing external, and saves a 1366 px wide
screenshot ``report.png`` there. ``--example`` also saves the top of the screenshot as a
small PNG (for the README).
"""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sklearn.base import clone

import tsrnn
from tsrnn.datasets import DATASETS, dataset_path, load_dataset
from tsrnn.report import write_report

WIDTH = 1366


def build_models(lstm: bool, arima: bool) -> dict[str, object]:
    models = {
        "naive": tsrnn.NaiveForecaster(),
        "seasonal-naive": tsrnn.SeasonalNaiveForecaster(),
        "drift": tsrnn.DriftForecaster(),
    }
    if arima:
        models["arima"] = tsrnn.ARIMAForecaster()
    if lstm:
        models["lstm"] = tsrnn.LSTMForecaster(epochs=10, random_state=0)
    return models


def run_backtest(args: argparse.Namespace):
    y = load_dataset("seattle").iloc[-args.tail :]
    models = build_models(not args.no_lstm, not args.no_arima)
    splitter = tsrnn.ExpandingWindowSplitter(horizon=7, n_folds=args.folds)
    start = time.perf_counter()
    result = tsrnn.backtest(models, y, splitter)
    print(f"backtest: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    # The backtest fits clones; refit the neural models on the last fold's training
    # data so that the report can show their training curves.
    last_cutoff = result.forecasts["cutoff"].max()
    fitted = {
        name: clone(model).fit(y[y.index <= last_cutoff]) if name == "lstm" else model
        for name, model in models.items()
    }
    info = DATASETS["seattle"]
    summary = {
        "file": f"{dataset_path('seattle').name} (bundled dataset 'seattle', last {args.tail})",
        "units": info.units[info.target],
        "missing values": "interpolated by load_dataset",
    }
    return result, y, fitted, summary


def screenshot(html: Path, png: Path, height: int) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("chromium not found: apt-get install chromium")
    with tempfile.TemporaryDirectory() as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{height}",
            f"--screenshot={png}",
            html.resolve().as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)


def check_html(html: Path) -> None:
    text = html.read_text(encoding="utf-8")
    external = re.findall(r"(?:https?:)?//[\w.-]+\.\w+", text)
    if external:
        raise SystemExit(f"{html} references external resources: {sorted(set(external))[:5]}")
    print(f"{html}: {len(text) / 1e6:.2f} MB, {text.count('<img ')} images", file=sys.stderr)


def save_example(screenshot_png: Path, target: Path, height: int) -> None:
    """Crop the top of the screenshot and quantise it to stay small (README image)."""
    from PIL import Image

    with Image.open(screenshot_png) as image:
        top = image.convert("RGB").crop((0, 0, WIDTH, min(height, image.height)))
        small = top.quantize(colors=128, method=Image.Quantize.MEDIANCUT)
        target.parent.mkdir(parents=True, exist_ok=True)
        small.save(target, optimize=True)
    print(f"{target}: {target.stat().st_size / 1024:.0f} KB", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "tsrnn-report")
    parser.add_argument("--tail", type=int, default=730, help="Last observations of seattle.")
    parser.add_argument("--folds", type=int, default=8)
    parser.add_argument("--height", type=int, default=3000, help="Window height in pixels.")
    parser.add_argument("--no-lstm", action="store_true")
    parser.add_argument("--no-arima", action="store_true")
    parser.add_argument("--example", type=Path, help="Also save the top of the screenshot here.")
    parser.add_argument("--example-height", type=int, default=1240)
    args = parser.parse_args()

    result, y, fitted, summary = run_backtest(args)
    args.out.mkdir(parents=True, exist_ok=True)
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    options = {"history": y, "models": fitted, "data_summary": summary, "command": command}
    title = "Backtest of Seattle daily maximum temperature"
    html = args.out / "report.html"
    write_report(result, html, title=title, **options)
    written = write_report(result, args.out / "report.md", title=title, **options)
    print("markdown:", ", ".join(str(p) for p in written), file=sys.stderr)
    check_html(html)
    png = args.out / "report.png"
    screenshot(html, png, args.height)
    print(f"screenshot: {png}", file=sys.stderr)
    if args.example:
        save_example(png, args.example, args.example_height)


if __name__ == "__main__":
    main()
