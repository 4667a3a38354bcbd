"""The public surface: ``tsrnn.__all__``, the contract's imports, the import boundary
(no torch, statsmodels or matplotlib for ``import tsrnn`` or ``tsrnn --help``) and the
version number.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tsrnn

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "statsmodels", "matplotlib")

# Names whose module is built separately; skipped until that module exists.
OPTIONAL = {
    "ARIMAForecaster": "tsrnn.arima",
    "LSTMForecaster": "tsrnn.rnn",
    "GRUForecaster": "tsrnn.rnn",
    "RNNForecaster": "tsrnn.rnn",
    "backtest": "tsrnn.backtesting",
    "BacktestResult": "tsrnn.backtesting",
}

# The imports the contract promises (module, name).
CONTRACT = [
    ("tsrnn", name)
    for name in (
        "LSTMForecaster",
        "GRUForecaster",
        "RNNForecaster",
        "ARIMAForecaster",
        "NaiveForecaster",
        "SeasonalNaiveForecaster",
        "backtest",
        "ExpandingWindowSplitter",
        "SlidingWindowSplitter",
        "load",
    )
] + [
    ("tsrnn.datasets", "list_datasets"),
    ("tsrnn.datasets", "load_dataset"),
    *[("tsrnn.metrics", name) for name in ("mae", "rmse", "mape", "smape", "mase")],
    ("tsrnn.metrics", "mase_window"),
    ("tsrnn.compare", "diebold_mariano"),
    ("tsrnn.compare", "diebold_mariano_losses"),
    ("tsrnn.compare", "default_df"),
    ("tsrnn.compare", "describe_test"),
]


def _module_exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _skip_if_not_built(name: str) -> None:
    module = OPTIONAL.get(name)
    if module is not None and not _module_exists(module):
        pytest.skip(f"{module} does not exist yet")


def test_all_is_a_list_of_unique_strings():
    assert all(isinstance(name, str) for name in tsrnn.__all__)
    assert len(tsrnn.__all__) == len(set(tsrnn.__all__))
    assert "__version__" in tsrnn.__all__


@pytest.mark.parametrize("name", tsrnn.__all__)
def test_every_name_in_all_resolves(name):
    _skip_if_not_built(name)
    value = getattr(tsrnn, name)  # fails if the module exists but lacks the name
    assert value is not None
    assert name in dir(tsrnn)
    if name != "__version__":
        assert getattr(value, "__name__", name) == name


@pytest.mark.parametrize(("module", "name"), CONTRACT, ids=lambda x: x)
def test_contract_imports(module, name):
    if module == "tsrnn":
        _skip_if_not_built(name)
    elif not _module_exists(module):
        pytest.skip(f"{module} does not exist yet")
    assert callable(getattr(importlib.import_module(module), name))


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_thing"):
        tsrnn.no_such_thing  # noqa: B018


def test_exception_hierarchy():
    assert issubclass(tsrnn.InputError, tsrnn.TsrnnError)
    assert issubclass(tsrnn.InputError, ValueError)
    assert issubclass(tsrnn.DataError, tsrnn.InputError)
    assert issubclass(tsrnn.NotEnoughDataError, tsrnn.DataError)
    assert issubclass(tsrnn.ModelFileError, tsrnn.InputError)
    assert issubclass(tsrnn.DatasetNotFoundError, tsrnn.InputError)
    assert issubclass(tsrnn.DatasetNotFoundError, KeyError)
    assert issubclass(tsrnn.DataWarning, UserWarning)


def _loaded_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; return which HEAVY modules it loaded."""
    script = (
        f"import json, sys\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_and_help_do_not_load_heavy_modules():
    code = (
        "import tsrnn\n"
        "import tsrnn.cli\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    tsrnn.cli.main(['--help'], standalone_mode=False)\n"
    )
    assert _loaded_after(code) == []


def test_subcommand_help_does_not_load_heavy_modules():
    code = (
        "import contextlib, io\n"
        "import tsrnn.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for name in tsrnn.cli.main.commands:\n"
        "        tsrnn.cli.main([name, '--help'], standalone_mode=False)\n"
    )
    assert _loaded_after(code) == []


def test_baseline_forecast_does_not_load_heavy_modules():
    data = ROOT / "datasets" / "weather_seattle_daily.csv"
    code = (
        "import contextlib, io\n"
        "import tsrnn.cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    tsrnn.cli.main(['forecast', {str(data)!r}, '--target', 'temp_max',\n"
        "                    '--model', 'seasonal-naive'], standalone_mode=False)\n"
    )
    assert _loaded_after(code) == []


def test_version_matches_pyproject():
    tomllib = pytest.importorskip("tomllib")
    with open(ROOT / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    assert tsrnn.__version__ == project["version"]
