# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtualenv and installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU build of torch by default; CUDA users: make TORCH_SPEC="torch==2.13.0" TORCH_INDEX=...
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test lint format bench clean venv

$(BIN)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[dev,plot]"
	touch $@

venv: $(BIN)/.installed

demo: venv
	$(BIN)/tsrnn forecast datasets/weather_seattle_daily.csv --target temp_max --horizon 7 --model seasonal-naive

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

clean:
	rm -rf $(VENV) build dist *.egg-info
