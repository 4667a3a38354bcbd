"""Options and helpers shared by the data commands of the CLI."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tsrnn.cli.models import MODELS, NEURAL, build_model, parse_int_tuple
from tsrnn.exceptions import DataError, InputError

#: Defaults of the neural models, shown by --help (tests/test_cli.py checks them against
#: LSTMForecaster's signature; reading them here would import the model code on --help).
NEURAL_DEFAULTS = {"lookback": 30, "epochs": 100, "hidden_size": 32, "num_layers": 1}

date_format_option = click.option(
    "--date-format",
    help="strftime format of the dates, e.g. %d/%m/%Y (default: detected; dates such as "
    "01/02/2024 that read either way are refused without it).",
)


def refuse_overwrite(*inputs: Path | str | None, **outputs: str | None) -> None:
    """Refuse an output option that names an input file (it would be destroyed), the
    same file as another output option (one would silently replace the other), or a
    file in a folder that does not exist: before any work, and no folder is created."""
    given = [(option, output) for option, output in outputs.items() if output]
    for i, (option, output) in enumerate(given):
        folder = Path(output).parent
        if not folder.is_dir():
            raise InputError(
                f"--{option} {output}: the folder {folder} does not exist; create it first "
                "or choose a file in an existing folder."
            )
        for source in inputs:
            if source is not None and _same_file(Path(source), Path(output)):
                raise InputError(
                    f"--{option} {output} is the input file {source}; writing there would "
                    "destroy it. Choose another file name."
                )
        for other, earlier in given[:i]:
            if _same_file(Path(earlier), Path(output)):
                raise InputError(
                    f"--{other} and --{option} both name {output}; one would overwrite the "
                    "other. Give them different file names."
                )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare the resolved paths
        return a.resolve() == b.resolve()


calendar_option = click.option(
    "--calendar",
    default="infer",
    show_default=True,
    help=(
        "Exchange calendar of daily stock data: infer (weekday data whose absent days are "
        "an exchange's holidays), an exchange such as XNYS or XLON, or none (plain "
        "business days)."
    ),
)


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
            date_format_option,
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
            calendar_option,
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
                help="Steps to forecast (default: one period of the data's frequency: "
                "24 hourly, 7 daily, 5 business days, 12 monthly; 7 otherwise).",
            ),
            click.option(
                "--lookback",
                type=click.IntRange(min=1),
                help=f"Input window of the neural models.  [default: {NEURAL_DEFAULTS['lookback']}]",
            ),
            click.option(
                "--epochs",
                type=click.IntRange(min=1),
                help=f"Training epochs of the neural models.  [default: {NEURAL_DEFAULTS['epochs']}]",
            ),
            click.option(
                "--hidden-size",
                type=click.IntRange(min=1),
                help=f"Hidden units of the neural models.  [default: {NEURAL_DEFAULTS['hidden_size']}]",
            ),
            click.option(
                "--layers",
                "num_layers",
                type=click.IntRange(min=1),
                help=f"Recurrent layers of the neural models.  [default: {NEURAL_DEFAULTS['num_layers']}]",
            ),
            click.option(
                "--covariates/--no-covariates",
                default=False,
                show_default=True,
                help="Neural models: use the other numeric columns as past covariates.",
            ),
            click.option(
                "--transform",
                type=click.Choice(["none", "log", "boxcox"]),
                default="none",
                show_default=True,
                help="Target transform for every model, inverted on output (positive data).",
            ),
            click.option(
                "--interval",
                type=click.Choice(["conformal", "model"]),
                default="conformal",
                show_default=True,
                help="Prediction intervals: adaptive conformal (calibrated on recent "
                "out-of-sample errors) or each model's own formula.",
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


def model_params(model: str, opts: dict) -> dict:
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
    params["calendar"] = opts.get("calendar")
    params["transform"] = opts.get("transform")
    params["interval"] = opts.get("interval")
    if model in NEURAL:
        params["verbose"] = not opts.get("quiet") and sys.stderr.isatty()
    return params


def load_data(data_path: Path, opts: dict, covariates: bool):
    """Read the CSV named on the command line with the data options."""
    from tsrnn.io import read_csv

    return read_csv(
        data_path,
        opts.get("target"),
        opts.get("date_col"),
        freq=opts.get("freq"),
        missing=opts.get("missing", "interpolate"),
        covariates=covariates,
        calendar=opts.get("calendar") or "infer",
        date_format=opts.get("date_format"),
        id_col=opts.get("id_col"),
    )


def resolve_horizon(opts: dict, freq: str | None) -> int:
    """``--horizon``, or one period of the frequency (:func:`tsrnn.defaults.default_horizon`)."""
    from tsrnn.defaults import default_horizon

    return opts.get("horizon") or default_horizon(freq)


def fit_model(data_path: Path, model: str, opts: dict):
    from tsrnn.limits import check_horizon_bound

    check_series_option(opts)
    data = load_data(data_path, opts, covariates=bool(opts.get("covariates")) and model in NEURAL)
    opts = {
        **opts,
        "target": data.target,
        "calendar": data.calendar or "none",
        "horizon": resolve_horizon(opts, data.freq),
    }
    check_horizon_bound(opts["horizon"], len(data.frame), data.source)
    estimator = build_model(model, model_params(model, opts))
    y = data.frame if data.frame.shape[1] > 1 else data.y
    if opts.get("series_ids") is not None:
        y = pick_series(y, opts["series_ids"], data.source, data.id_col)
    try:
        if opts.get("drop_short") and data.id_col is not None:
            from tsrnn.panel import drop_short_series

            y = drop_short_series(y, estimator)
        estimator.fit(y)
    except DataError as exc:  # e.g. too short for the model: say which file and column
        raise type(exc)(f"{data.source}, column '{data.target}': {exc}") from exc
    return estimator, data


def frequency_text(data) -> str:
    """The frequency of loaded data, with its exchange calendar (``B (XNYS sessions)``)."""
    return f"{data.freq} ({data.calendar} sessions)" if data.calendar else str(data.freq)


def emit(table, fmt: str, output: str | None) -> None:
    from tsrnn.cli.output import render, write_output

    if output:
        write_output(table, output)
    else:
        click.echo(render(table, fmt), nl=False)


def check_series_option(opts: dict) -> None:
    """``--series`` picks series of a long CSV, so it needs ``--id-col``: before any work."""
    if opts.get("series_ids") is not None and not opts.get("id_col"):
        raise click.UsageError("--series picks series of a long CSV; give --id-col as well.")


def pick_series(y, text: str, source: str, id_col: str):
    """The rows of the series named in ``--series``; unknown ids are an error naming them."""
    wanted = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    ids = list(dict.fromkeys(y.index.get_level_values(0)))
    unknown = [name for name in wanted if name not in ids]
    if unknown or not wanted:
        shown = ", ".join(map(str, ids[:20])) + (", ..." if len(ids) > 20 else "")
        raise InputError(
            f"--series: {', '.join(unknown) or '(none given)'} not in column '{id_col}' of "
            f"{source}; its series are: {shown}."
        )
    return y[y.index.get_level_values(0).isin(wanted)]


series_option = click.option(
    "--series",
    "series_ids",
    help="With --id-col: comma-separated series ids to use (default: all of them).",
)


def id_col_option(func):
    """``--id-col`` (a long CSV of many series) and ``--drop-short``."""
    func = click.option(
        "--drop-short",
        is_flag=True,
        help="With --id-col: leave out, with a warning, series too short for the model.",
    )(func)
    return click.option(
        "--id-col",
        help="Column of series ids: the CSV holds many series (one row per series and date); "
        "every series is forecast.",
    )(func)


coverage_option = click.option(
    "--coverage",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.9,
    show_default=True,
    help="Nominal coverage of the prediction intervals.",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "table", "json"]),
    default="csv",
    show_default=True,
    help="Format on stdout.",
)
model_option = click.option(
    "--model",
    type=click.Choice(sorted(MODELS)),
    default="lstm",
    show_default=True,
    help="Forecasting model.",
)
