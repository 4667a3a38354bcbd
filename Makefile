# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtualenv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU build of torch by default. CUDA users pick their build, for example
#   make demo TORCH_SPEC="torch==2.13.0" TORCH_PIP_ARGS="--index-url <CUDA wheel index>"
TORCH_SPEC ?= torch==2.13.0
TORCH_PIP_ARGS ?=

.PHONY: demo test lint format bench clean venv

$(BIN)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_SPEC)" $(TORCH_PIP_ARGS)
	$(BIN)/pip install --quiet -e ".[dev,plot,dask]"
	touch $@

venv: $(BIN)/.installed

demo: venv
	$(BIN)/tsrnn datasets list
	@echo
	@echo "LSTM forecast of Seattle's daily maximum temperature (degC), 7 days ahead:"
	$(BIN)/tsrnn forecast datasets/weather_seattle_daily.csv --target temp_max --horizon 7 --seed 0 --format table

test: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_arima.py
	$(BIN)/python benchmarks/bench_backtest.py
	$(BIN)/python benchmarks/bench_coverage.py

clean:
	rm -rf $(VENV) build dist *.egg-info
