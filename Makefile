# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYSPARK_PYTHON := $(abspath $(PY))
export PYSPARK_DRIVER_PYTHON := $(abspath $(PY))

.PHONY: install run test test-fast lint notebooks bench clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The main job: LSTM first, then GRU, on the bundled real dataset, tracked in mlruns/.
run: install
	$(VENV)/bin/forecast run pipelines/demo.yaml

# The whole suite, slow tests included (that is what CI runs).
test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest

# Everything but the tests marked slow.
test-fast: install
	$(PY) -m pytest -m "not slow"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The .ipynb files from their sources notebooks/NN_*.py (jupytext percent format); --update
# keeps the cell ids of the committed notebooks, so unchanged cells give unchanged files.
notebooks: install
	$(VENV)/bin/jupytext --update --to ipynb notebooks/[0-9]*.py

# The GRU speed benchmark: prints the table and logs it to MLflow; nothing is written here.
# Keep the files with e.g. `make bench BENCH_OUT=/tmp/bench`.
bench: install
	$(VENV)/bin/forecast benchmark speed $(if $(BENCH_OUT),--out $(BENCH_OUT))

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
