"""The ``tsrnn`` command line: forecast, backtest, fit, predict and datasets.

Thin by design: options are parsed and validated by click, the work is done by the
library, and every library error becomes one or two plain lines on stderr with exit
status 2 (bad input) or 1 (anything else). Heavy modules (torch, statsmodels) are
imported only by the command that needs them, so ``tsrnn --help`` is instant.
"""

from __future__ import annotations

import shlex
import sys
import traceback
import warnings
from pathlib import Path

import click

from tsrnn.cli.models import MODELS, NEURAL, build_model, parse_int_tuple
from tsrnn.exceptions import DataError, InputError, TsrnnError

_MODEL_CHOICE = click.Choice(sorted(MODELS))


def _show_warning(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
    click.echo(f"warning: {message}", err=True)


class _Group(click.Group):
    """A click group that turns library errors into short messages and exit codes."""

    def invoke(self, ctx: click.Context):
        debug = "--debug" in sys.argv[1:] or bool(ctx.params.get("debug"))
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
                raise
            except TsrnnError as exc:
                if debug:
                    traceback.print_exc()
                click.echo(f"error: {exc}", err=True)
                ctx.exit(2 if isinstance(exc, InputError) else 1)
            except Exception as exc:  # a bug or an environment problem
                if debug:
                    raise
                click.echo(f"error: {type(exc).__name__}: {exc}", err=True)
                click.echo("(run again with --debug for the full traceback)", err=True)
                ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tsrnn")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def main(debug: bool) -> None:
    """tsrnn: LSTM/GRU/RNN forecasts you can trust, checked against classical baselines."""


def data_options(func):
    """Options that say how to read a CSV."""
    for option in reversed(
        [
            click.option(
                "--target", help="Column to forecast (optional when only one is numeric)."
            ),
            click.option(
                "--date-col", help="Column of timestamps (optional when only one parses as dates)."
            ),
            click.option(
                "--freq", help="Pandas frequency alias (D, B, h, MS...); inferred by default."
            ),
            click.option(
                "--missing",
                type=click.Choice(["interpolate", "ffill", "error"]),
                default="interpolate",
                show_default=True,
                help="What to do with blank cells and gaps in the dates.",
            ),
        ]
    ):
        func = option(func)
    return func


def model_options(func):
    """Options of the models; each applies to the models that have it."""
    for option in reversed(
        [
            click.option(
                "--horizon",
                type=click.IntRange(min=1),
                default=7,
                show_default=True,
                help="Steps to forecast.",
            ),
            click.option(
                "--lookback", type=click.IntRange(min=1), help="Input window of the neural models."
            ),
            click.option(
                "--epochs", type=click.IntRange(min=1), help="Training epochs of the neural models."
            ),
            click.option(
                "--hidden-size",
                type=click.IntRange(min=1),
                help="Hidden units of the neural models.",
            ),
            click.option(
                "--layers", "num_layers", type=click.IntRange(min=1), help="Recurrent layers."
            ),
            click.option(
                "--covariates/--no-covariates",
                default=False,
                show_default=True,
                help="Neural models: use the other numeric columns as past covariates.",
            ),
            click.option("--order", help="ARIMA order p,d,q (default: automatic)."),
            click.option("--seasonal-order", help="Seasonal ARIMA order P,D,Q,m."),
            click.option(
                "--season-length",
                type=click.IntRange(min=1),
                help="Season length for seasonal-naive and ARIMA (default from the frequency).",
            ),
            click.option(
                "--seed",
                "random_state",
                type=int,
                default=0,
                show_default=True,
                help="Random seed of the neural models.",
            ),
            click.option("--quiet", is_flag=True, help="No progress output."),
        ]
    ):
        func = option(func)
    return func


def _model_params(model: str, opts: dict) -> dict:
    params = {
        k: opts.get(k)
        for k in (
            "horizon",
            "lookback",
            "epochs",
            "hidden_size",
            "num_layers",
            "season_length",
            "random_state",
        )
    }
    params["order"] = parse_int_tuple(opts.get("order"), "order", 3)
    params["seasonal_order"] = parse_int_tuple(opts.get("seasonal_order"), "seasonal-order", 4)
    params["target"] = opts.get("target")
    if model in NEURAL:
        params["verbose"] = not opts.get("quiet") and sys.stderr.isatty()
    return params


def _fit_model(data_path: Path, model: str, opts: dict):
    from tsrnn.io import read_csv

    data = read_csv(
        data_path,
        opts.get("target"),
        opts.get("date_col"),
        freq=opts.get("freq"),
        missing=opts.get("missing", "interpolate"),
        covariates=bool(opts.get("covariates")) and model in NEURAL,
    )
    opts = {**opts, "target": data.target}
    estimator = build_model(model, _model_params(model, opts))
    try:
        estimator.fit(data.frame if data.frame.shape[1] > 1 else data.y)
    except DataError as exc:  # e.g. too short for the model: say which file and column
        raise type(exc)(f"{data.source}, column '{data.target}': {exc}") from exc
    return estimator, data


def _emit(table, fmt: str, output: str | None) -> None:
    from tsrnn.cli.output import render, write_output

    if output:
        write_output(table, output)
    else:
        click.echo(render(table, fmt), nl=False)


@main.command()
@click.argument("data", type=click.Path(path_type=Path))
@data_options
@click.option(
    "--model", type=_MODEL_CHOICE, default="lstm", show_default=True, help="Forecasting model."
)
@model_options
@click.option(
    "--coverage",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.9,
    show_default=True,
    help="Nominal coverage of the prediction interval.",
)
@click.option(
    "--output", "-o", help="Write the forecast to this CSV (or .json) file instead of stdout."
)
@click.option("--plot", help="Save a PNG plot of the history tail and the forecast.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "table", "json"]),
    default="csv",
    show_default=True,
    help="Format on stdout.",
)
def forecast(
    data: Path, model: str, coverage: float, output: str | None, plot: str | None, fmt: str, **opts
) -> None:
    """Forecast the next --horizon steps of a series in a CSV file.

    Prints one row per future step: date,forecast,lower,upper.
    """
    from tsrnn.cli.output import forecast_table

    estimator, loaded = _fit_model(data, model, opts)
    table = forecast_table(estimator.predict(), estimator.predict_interval(coverage=coverage))
    if plot:
        from tsrnn.plotting import plot_forecast

        plot_forecast(loaded.y, table, plot, coverage=coverage, title=f"{data.name}: {model}")
    _emit(table, fmt, output)


@main.command()
@click.argument("data", type=click.Path(path_type=Path))
@data_options
@click.option(
    "--model", type=_MODEL_CHOICE, default="lstm", show_default=True, help="Forecasting model."
)
@model_options
@click.option("--save", "save_path", required=True, help="Model file to write (e.g. model.tsrnn).")
def fit(data: Path, model: str, save_path: str, **opts) -> None:
    """Fit a model on a CSV file and save it to a model file."""
    estimator, loaded = _fit_model(data, model, opts)
    estimator.save(save_path)
    click.echo(
        f"saved {model} fitted on {loaded.source} ({len(loaded.frame)} rows of "
        f"'{loaded.target}', up to {estimator.cutoff_}) to {save_path}",
        err=True,
    )


@main.command()
@click.argument("model_file", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "newer",
    type=click.Path(path_type=Path),
    help="CSV of observations after the training data; the model is updated first.",
)
@click.option("--date-col", help="Column of timestamps in --data.")
@click.option(
    "--horizon", type=click.IntRange(min=1), help="Steps to forecast (default: the model's)."
)
@click.option(
    "--coverage",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.9,
    show_default=True,
    help="Nominal coverage of the prediction interval.",
)
@click.option("--output", "-o", help="Write the forecast to this CSV (or .json) file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "table", "json"]),
    default="csv",
    show_default=True,
    help="Format on stdout.",
)
def predict(
    model_file: Path,
    newer: Path | None,
    date_col: str | None,
    horizon: int | None,
    coverage: float,
    output: str | None,
    fmt: str,
) -> None:
    """Forecast with a saved model, optionally after updating it with newer data."""
    from tsrnn.cli.output import forecast_table
    from tsrnn.io import read_csv
    from tsrnn.persistence import load

    estimator = load(model_file)
    if newer is not None:
        loaded = read_csv(
            newer,
            estimator.target_name_,
            date_col,
            freq=estimator.freq_,
            covariates=bool(estimator.covariate_names_),
        )
        estimator.update(loaded.frame)
    table = forecast_table(
        estimator.predict(horizon), estimator.predict_interval(horizon, coverage=coverage)
    )
    _emit(table, fmt, output)


@main.group()
def datasets() -> None:
    """List, inspect and export the bundled stock and weather datasets."""


@datasets.command("list")
def datasets_list() -> None:
    """Show the bundled datasets."""
    from tsrnn.datasets import list_datasets

    table = list_datasets()
    for column in ("start", "end"):
        table[column] = [str(ts).removesuffix(" 00:00:00") for ts in table[column]]
    click.echo(table.to_string(index=False))


@datasets.command("show")
@click.argument("name")
@click.option(
    "--rows", type=click.IntRange(min=1), default=5, show_default=True, help="Rows to show."
)
def datasets_show(name: str, rows: int) -> None:
    """Print a summary and the first rows of a dataset."""
    from tsrnn.datasets import list_datasets, load_dataset

    frame = load_dataset(name, as_frame=True, fill=False)
    summary = list_datasets().set_index("name").loc[frame.attrs["dataset"]]
    click.echo(f"{'name':>12}: {frame.attrs['dataset']}")
    for key, value in summary.items():
        click.echo(f"{key:>12}: {value}")
    click.echo(
        f"{'missing':>12}: {int(frame.isna().sum().sum())} cells (incl. dates absent from the file)"
    )
    click.echo("")
    click.echo(frame.head(rows).to_string())


@datasets.command("export")
@click.argument("name")
@click.argument("file", type=click.Path(path_type=Path))
def datasets_export(name: str, file: Path) -> None:
    """Write a dataset's CSV (as shipped) to FILE."""
    from tsrnn.datasets import dataset_path
    from tsrnn.io import atomic_write

    content = dataset_path(name).read_bytes()
    atomic_write(file, lambda tmp: Path(tmp).write_bytes(content))
    click.echo(f"wrote {file}", err=True)


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


@main.command()
@click.argument("data", type=click.Path(path_type=Path))
@data_options
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
    "--step", type=click.IntRange(min=1), help="Steps between origins (default: horizon)."
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
@click.option("--baseline", help="Model to test the others against (default: naive, if included).")
@click.option(
    "--coverage",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.9,
    show_default=True,
    help="Nominal coverage of the prediction intervals.",
)
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
    **opts,
) -> None:
    """Compare models on rolling-origin folds: metrics and Diebold-Mariano tests.

    Prints the metrics table (one row per model) and the verdicts against the baseline.
    """
    import tsrnn
    from tsrnn.io import read_csv

    names, refit_policy = _parse_models(models), _parse_refit(refit)
    covariates = bool(opts.get("covariates"))
    loaded = read_csv(
        data,
        opts.get("target"),
        opts.get("date_col"),
        freq=opts.get("freq"),
        missing=opts.get("missing", "interpolate"),
        covariates=covariates,
    )
    progress = not opts.get("quiet") and sys.stderr.isatty()
    opts = {**opts, "target": loaded.target, "quiet": True}  # one bar over folds, none per fit
    if window == "expanding":
        splitter = tsrnn.ExpandingWindowSplitter(horizon=opts["horizon"], n_folds=folds, step=step)
    else:
        splitter = tsrnn.SlidingWindowSplitter(
            horizon=opts["horizon"], n_folds=folds, step=step, window=window_size
        )
    estimators = {name: build_model(name, _model_params(name, opts)) for name in names}
    result = tsrnn.backtest(
        estimators,
        loaded.frame if covariates else loaded.y,
        splitter,
        refit=refit_policy,
        warm_start=warm_start,
        n_jobs=n_jobs,
        coverage=coverage,
        verbose=progress,
    )
    click.echo(result.metrics.round(4).to_string())
    if len(names) > 1 and folds >= 3:
        click.echo("")
        for verdict in result.compare(baseline)["verdict"]:
            click.echo(verdict)
    if output:
        result.to_csv(output)
    if report:
        from tsrnn.report import write_report

        write_report(
            result,
            report,
            title=f"Backtest of {Path(loaded.source).name} ({loaded.target})",
            history=loaded.y,
            models=result.final_models,
            data_summary={"file": loaded.source, "frequency": loaded.freq},
            command=shlex.join(["tsrnn", *sys.argv[1:]]),
            baseline=baseline,
        )
