# The README's two commands: `make demo` (the main job) and `make test` (the suite).
# Each one alone creates or refreshes the virtual environment it needs.
PYTHON ?= python3
VENV ?= .venv
# The CPU build of PyTorch that lies on this machine's disk; override for a CUDA build,
# e.g. `make test TORCH_SPEC='torch>=2.2'`.
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.vanishlab-installed

.PHONY: demo test test-all lint format bench venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev,dask]"
	touch $(STAMP)

# The main job: the default sweep (resumes if runs/default exists) and its report. The report
# holds this machine's times and versions, so reports/ is not tracked (see .gitignore); --force:
# reports/default.html is the demo's own, even when runs/default was made afresh.
demo: $(STAMP)
	$(VENV)/bin/vanishlab sweep --out runs/default
	$(VENV)/bin/vanishlab report runs/default -o reports/default.html --force

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

test-all: $(STAMP)
	$(PY) -m pytest -q -m "slow or not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_sweep.py
	$(PY) benchmarks/bench_report.py
	$(PY) benchmarks/bench_gated.py
	$(PY) benchmarks/bench_monitor.py
	$(PY) benchmarks/bench_cli.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
