"""The ``tsrnn`` command line: forecast, backtest, fit, predict, datasets, build-kernels.

Thin by design: options are parsed and validated by click, the work is done by the
library, and every library error becomes one or two plain lines on stderr with exit
status 2 (bad input) or 1 (anything else). Heavy modules (torch, statsmodels) are
imported only by the command that needs them, so ``tsrnn --help`` is instant.
"""

from __future__ import annotations

import sys
import traceback
import warnings
from pathlib import Path

import click

from tsrnn.cli.options import (
    coverage_option,
    data_options,
    date_format_option,
    emit,
    fit_model,
    format_option,
    id_col_option,
    model_option,
    model_options,
    refuse_overwrite,
    series_option,
)
from tsrnn.exceptions import InputError, TsrnnError

_MAX_MESSAGE = 1000


def one_line(text: object) -> str:
    """A message as one terminal line: control characters escaped, at most ~1,000 characters
    (a column name with a vertical tab, or a 100 KB cell, must not flood the terminal)."""
    text = str(text)
    shown = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
    if len(shown) > _MAX_MESSAGE:
        shown = f"{shown[:_MAX_MESSAGE]}... ({len(shown) - _MAX_MESSAGE:,} more characters)"
    return shown


def _show_warning(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001
    click.echo(f"warning: {one_line(message)}", err=True)


class _Group(click.Group):
    """A click group that turns library errors into short messages and exit codes."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # --debug is accepted after the subcommand too (tsrnn backtest ... --debug).
        stop = args.index("--") if "--" in args else len(args)
        if "--debug" in args[1:stop]:
            args = ["--debug", *[a for a in args[:stop] if a != "--debug"], *args[stop:]]
        return super().parse_args(ctx, args)

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
                click.echo(f"error: {one_line(exc)}", err=True)
                ctx.exit(2 if isinstance(exc, InputError) else 1)
            except Exception as exc:  # a bug or an environment problem
                if debug:
                    raise
                click.echo(f"error: {type(exc).__name__}: {one_line(exc)}", err=True)
                click.echo("(run again with --debug for the full traceback)", err=True)
                ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tsrnn")
@click.option(
    "--debug", is_flag=True, help="Show full tracebacks on errors (also after the command)."
)
def main(debug: bool) -> None:
    """tsrnn: LSTM/GRU/RNN forecasts you can trust, checked against classical baselines."""


@main.command()
@click.argument("data", type=click.Path(path_type=Path))
@data_options
@id_col_option
@series_option
@model_option
@model_options
@coverage_option
@click.option(
    "--output", "-o", help="Write the forecast to this CSV (or .json) file instead of stdout."
)
@click.option(
    "--plot", help="Save a plot of the history tail and the forecast (.png, .svg or .pdf)."
)
@format_option
def forecast(
    data: Path, model: str, coverage: float, output: str | None, plot: str | None, fmt: str, **opts
) -> None:
    """Forecast the next --horizon steps of a series in a CSV file.

    Prints one row per future step: date,forecast,lower,upper. With --id-col, every
    series of the file is forecast: ID_COL,date,forecast,lower,upper.
    """
    from tsrnn.cli.output import forecast_table
    from tsrnn.plotting import check_plot_path

    if plot and opts.get("id_col"):
        raise click.UsageError("--plot shows one series; leave out --id-col to plot one.")
    refuse_overwrite(data, output=output, plot=plot)
    if plot:
        check_plot_path(plot)
    if plot:
        from tsrnn.plotting import require_matplotlib

        require_matplotlib("--plot")
    estimator, loaded = fit_model(data, model, opts)
    table = forecast_table(estimator.predict(), estimator.predict_interval(coverage=coverage))
    if plot:
        from tsrnn.plotting import plot_forecast

        plot_forecast(loaded.y, table, plot, coverage=coverage, title=f"{data.name}: {model}")
    emit(table, fmt, output)


@main.command()
@click.argument("data", type=click.Path(path_type=Path))
@data_options
@id_col_option
@series_option
@model_option
@model_options
@click.option("--save", "save_path", required=True, help="Model file to write (e.g. model.tsrnn).")
def fit(data: Path, model: str, save_path: str, **opts) -> None:
    """Fit a model on a CSV file and save it to a model file."""
    refuse_overwrite(data, save=save_path)
    estimator, loaded = fit_model(data, model, opts)
    estimator.save(save_path)
    series = f"{len(estimator.series_ids_)} series, " if loaded.id_col else ""
    click.echo(
        f"saved {model} fitted on {loaded.source} ({series}{len(loaded.frame)} rows of "
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
@date_format_option
@click.option(
    "--id-col",
    help="Column of series ids in --data (default for a model fitted on many series: the "
    "id column it was fitted with).",
)
@click.option(
    "--horizon", type=click.IntRange(min=1), help="Steps to forecast (default: the model's)."
)
@coverage_option
@click.option("--output", "-o", help="Write the forecast to this CSV (or .json) file.")
@format_option
def predict(
    model_file: Path,
    newer: Path | None,
    date_col: str | None,
    date_format: str | None,
    id_col: str | None,
    horizon: int | None,
    coverage: float,
    output: str | None,
    fmt: str,
) -> None:
    """Forecast with a saved model, optionally after updating it with newer data.

    Rows of --data at or before the end of the model's data are skipped (with a warning).
    """
    from tsrnn.cli.output import forecast_table
    from tsrnn.cli.updating import update_from_file
    from tsrnn.persistence import load

    refuse_overwrite(model_file, newer, output=output)
    estimator = load(model_file)
    if newer is not None:
        update_from_file(estimator, newer, date_col, date_format, id_col)
    table = forecast_table(
        estimator.predict(horizon), estimator.predict_interval(horizon, coverage=coverage)
    )
    emit(table, fmt, output)


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
    # Fits an 80-column terminal; `tsrnn datasets show NAME` has the columns and source.
    table = table[["name", "kind", "freq", "rows", "start", "end", "target"]]
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


@main.command("build-kernels")
@click.option("--verbose", is_flag=True, help="Print the compiler command.")
def build_kernels(verbose: bool) -> None:
    """Compile the fused LSTM/GRU layers for folds trained together (once per machine).

    Needs a C++ compiler (about 20-40 s). Backtests with fit_together then train the
    stacked fold networks 1.2x (GRU) to 1.75x (LSTM) faster; without a build they use
    the Python layers, with the same results. TSRNN_FUSED=0 turns a build off.
    """
    from tsrnn.nn import fused

    if fused.library_path().exists():
        click.echo(f"already built: {fused.build(verbose=verbose)}", err=True)
        return
    click.echo("compiling the fused LSTM/GRU layers (about 20-40 s)...", err=True)
    click.echo(f"built {fused.build(verbose=verbose)}", err=True)


def _register() -> None:
    # Imported here so the backtest module can use the shared options without a cycle.
    from tsrnn.cli.backtest import backtest

    main.add_command(backtest)


_register()
