"""``tsrnn backtest``: compare models on rolling-origin folds."""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path

import click

from tsrnn.cli.models import MODELS, build_model
from tsrnn.cli.options import (
    check_series_option,
    coverage_option,
    data_options,
    frequency_text,
    id_col_option,
    load_data,
    model_options,
    model_params,
    pick_series,
    refuse_overwrite,
    resolve_horizon,
    series_option,
)
from tsrnn.cli.output import table_number
from tsrnn.defaults import default_baseline, default_step, fold_span, season_cycle
from tsrnn.exceptions import InputError


def _parse_refit(text: str) -> bool | int:
    lowered = text.strip().lower()
    if lowered in ("true", "always", "yes"):
        return True
    if lowered in ("false", "never", "no", "0"):
        return False
    if lowered.isdigit():
        return int(lowered)
    raise InputError(f"--refit must be always, never or a number of folds; got {text!r}.")


def _parse_models(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in MODELS]
    if unknown or not names:
        raise InputError(
            f"--models: unknown model(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(sorted(MODELS))}."
        )
    return list(dict.fromkeys(names))


def _placement(y, freq: str, horizon: int, folds: int, step: int | None, min_train: int) -> dict:
    """The default step between origins and a sentence on what the folds cover.

    On a panel the longest series decides (every series shares the cutoff dates)."""
    import pandas as pd

    if isinstance(y.index, pd.MultiIndex):
        n_obs = int(y.groupby(level=0).size().max())
    else:
        n_obs = len(y)
    cycle = season_cycle(freq)
    chosen = step or default_step(freq, n_obs, horizon, folds, min_train)
    fit = max(0, (n_obs - min_train - horizon) // chosen + 1)
    if folds > fit:  # said in the options' terms, before any work
        raise InputError(
            f"--folds {folds} does not fit the data: {folds} test windows of {horizon} steps, "
            f"{chosen} apart, after at least {min_train} training observation(s) need "
            f"{min_train + horizon + (folds - 1) * chosen} observations and the data have "
            f"{n_obs}. Use --folds {fit} or fewer"
            + (", or a smaller --step." if chosen > 1 else ", or a shorter --horizon.")
        )
    span = fold_span(chosen, horizon, folds)
    how = "--step" if step else "default"
    note = f"{folds} folds {chosen} steps apart ({how}): test windows span the last {span} steps"
    if cycle is not None:
        covered = "at least one" if span >= cycle else f"{span / cycle:.0%} of one"
        note += f", {covered} season cycle of {cycle} steps"
    return {"step": chosen, "note": note}


@click.command()
@click.argument("data", type=click.Path(path_type=Path))
@data_options
@id_col_option
@series_option
@click.option(
    "--models",
    default="naive,seasonal-naive,arima,lstm",
    show_default=True,
    help="Comma-separated models to compare.",
)
@model_options
@click.option(
    "--folds",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Number of rolling origins.",
)
@click.option(
    "--step",
    type=click.IntRange(min=1),
    help="Steps between origins (default: folds spread over one season cycle -- the last "
    "year of daily or hourly data -- where the data allow, and at least the horizon).",
)
@click.option(
    "--window",
    type=click.Choice(["expanding", "sliding"]),
    default="expanding",
    show_default=True,
    help="Training window at each origin.",
)
@click.option(
    "--window-size",
    type=click.IntRange(min=2),
    default=500,
    show_default=True,
    help="Training observations of a sliding window.",
)
@click.option(
    "--refit",
    default="always",
    show_default=True,
    help="Refit at every fold (always), never (fit once, then update), or every N folds.",
)
@click.option(
    "--warm-start", is_flag=True, help="Neural refits start from the previous fold's weights."
)
@click.option(
    "--baseline",
    help="Model to test the others against (default: seasonal-naive for seasonal data, "
    "else naive, if included).",
)
@coverage_option
@click.option(
    "--n-jobs", type=int, default=1, show_default=True, help="Parallel jobs (-1: all cores)."
)
@click.option("--output", "-o", help="Write the tidy forecasts table to this CSV file.")
@click.option("--report", help="Write a report: self-contained HTML (.html) or Markdown (.md).")
def backtest(
    data: Path,
    models: str,
    folds: int,
    step: int | None,
    window: str,
    window_size: int,
    refit: str,
    warm_start: bool,
    baseline: str | None,
    coverage: float,
    n_jobs: int,
    output: str | None,
    report: str | None,
    series_ids: str | None,
    **opts,
) -> None:
    """Compare models on rolling-origin folds: metrics and Diebold-Mariano tests.

    Prints the metrics table (one row per model) and the verdicts against the baseline.
    """
    import tsrnn

    names, refit_policy = _parse_models(models), _parse_refit(refit)
    # Check the cheap options before the (possibly long) backtest runs.
    if baseline is not None and baseline not in names:
        raise InputError(
            f"--baseline {baseline!r} is not one of --models ({', '.join(names)}); "
            "add it to --models or choose one of those."
        )
    if report and Path(report).suffix.lower() not in (".html", ".htm", ".md", ".markdown"):
        raise InputError(
            f"--report {report!r} must end in .html, .htm or .md "
            f"(got {Path(report).suffix or 'no suffix'!r})."
        )
    check_series_option({**opts, "series_ids": series_ids})
    refuse_overwrite(data, output=output, report=report)
    if report:
        from tsrnn.plotting import require_matplotlib

        require_matplotlib("--report")
    covariates = bool(opts.get("covariates"))
    loaded = load_data(data, opts, covariates)
    y, history = (loaded.frame if covariates else loaded.y), loaded.y
    if series_ids is not None:
        y = pick_series(y, series_ids, loaded.source, opts["id_col"])
        history = pick_series(history, series_ids, loaded.source, opts["id_col"])
    progress = not opts.get("quiet") and sys.stderr.isatty()
    calendar = loaded.calendar or "none"
    horizon = resolve_horizon(opts, loaded.freq)
    # one bar over folds, none per fit
    opts = {
        **opts,
        "target": loaded.target,
        "quiet": True,
        "calendar": calendar,
        "horizon": horizon,
    }
    placement = _placement(
        y, loaded.freq, horizon, folds, step, window_size if window == "sliding" else 1
    )
    step = step or placement["step"]
    baseline = baseline or default_baseline(names, loaded.freq)
    if window == "expanding":
        splitter = tsrnn.ExpandingWindowSplitter(horizon=horizon, n_folds=folds, step=step)
    else:
        splitter = tsrnn.SlidingWindowSplitter(
            horizon=horizon, n_folds=folds, step=step, window=window_size
        )
    estimators = {name: build_model(name, model_params(name, opts)) for name in names}
    result = tsrnn.backtest(
        estimators,
        y,
        splitter,
        refit=refit_policy,
        warm_start=warm_start,
        n_jobs=n_jobs,
        coverage=coverage,
        verbose=progress,
        filled=loaded.filled,
    )
    click.echo(result.metrics.to_string(float_format=table_number))
    if getattr(result, "is_panel", False):
        echo_panel_verdicts(result, baseline, len(names), folds)
    elif len(names) > 1 and folds >= 3:
        comparison = result.compare(baseline)
        click.echo(f"\n{comparison.attrs['test']}:")
        for verdict, p_value in zip(comparison["verdict"], comparison["p_value"], strict=True):
            click.echo(verdict if math.isnan(p_value) else f"{verdict} (p = {p_value:.3f})")
    if output:
        result.to_csv(output)
    if report:
        from tsrnn.report import write_report

        write_report(
            result,
            report,
            title=f"Backtest of {Path(loaded.source).name} ({loaded.target})",
            history=history.mask(
                loaded.filled[loaded.target].reindex(history.index, fill_value=False)
            ),  # no invented actuals
            models=result.final_models,
            data_summary={
                "file": Path(loaded.source).name,
                "frequency": frequency_text(loaded),
                "fold placement": placement["note"],
                **({"series id column": opts["id_col"]} if opts.get("id_col") else {}),
            },
            command=shlex.join(["tsrnn", *sys.argv[1:]]),
            baseline=baseline,
        )


def echo_panel_verdicts(result, baseline: str | None, n_models: int, folds: int) -> None:
    """The panel verdicts (one line per model), the rank test, failures and skipped folds."""
    if n_models > 1 and folds >= 3:
        try:
            verdicts = result.compare(baseline)
        except InputError as exc:
            click.echo(f"\nno Diebold-Mariano tests: {exc}")
        else:
            click.echo(f"\n{verdicts.attrs['test']}:")
            for verdict in verdicts["verdict"]:
                click.echo(verdict)
    if n_models > 1:
        try:
            text = result.rank_test().verdict()
            click.echo(text[0].upper() + text[1:])
        except InputError:
            pass
    if len(result.failures):
        first = result.failures.iloc[0]
        click.echo(
            f"{len(result.failures)} forecasts failed (first: {first['model']} on "
            f"{first['series']}, fold {first['fold']}: {first['error']})",
            err=True,
        )
    if len(result.skipped):
        reasons = result.skipped.groupby("reason", sort=False)["series"].unique()
        why = "; ".join(f"{', '.join(map(str, ids))}: {reason}" for reason, ids in reasons.items())
        click.echo(f"{len(result.skipped)} series-folds skipped ({why})", err=True)
