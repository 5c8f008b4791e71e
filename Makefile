# facecraft quick start: `make demo` runs the main job on sample inputs, `make test` runs the gates.
# Both create or reuse .venv and install the project into it; a stamp file makes a repeat run instant.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.facecraft-installed
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
DEMO_OUT ?= demo-output

.PHONY: install demo test lint typecheck unit bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements-nodeps.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[dev,train,serve]'
	$(PIP) install --no-deps -r requirements-nodeps.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m facecraft.cli.demo --out $(DEMO_OUT)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/detection_recall.py
	$(BIN)/python bench/analysis_speed.py
	$(BIN)/python bench/io_throughput.py
	$(BIN)/python bench/memory_flat.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .mypy_cache .ruff_cache .pytest_cache
