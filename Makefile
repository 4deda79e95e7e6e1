# The README's two commands: `make demo` (the main job) and `make test` (the suite).
# Each one alone creates or refreshes the virtual environment it needs.
PYTHON ?= python3
VENV ?= .venv
# The CPU build of PyTorch that lies on this machine's disk; override for a CUDA build,
# e.g. `make test TORCH_SPEC='torch>=2.2'`.
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.vanishlab-installed

.PHONY: demo test test-all test-avx2 test-floors lint format bench venv clean

venv: $(STAMP)

# pip compiles what it installs one file at a time; compileall -j 0 does it on every core
# afterwards (the same .pyc files). Its status is not read: like pip, it fails on files this
# Python cannot parse (torch ships one in Python 3.12 syntax), which are never imported.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-compile \
		"$(TORCH_SPEC)" -e ".[dev,dask,safetensors]"
	$(PY) -m compileall -qq -j 0 "$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" || true
	touch $(STAMP)

# The main job: the default sweep (resumes if runs/default exists) and its report. The report
# holds this machine's times and versions, so reports/ is not tracked (see .gitignore); --force:
# reports/default.html is the demo's own, even when runs/default was made afresh.
demo: $(STAMP)
	$(VENV)/bin/vanishlab sweep --out runs/default
	$(VENV)/bin/vanishlab report runs/default -o reports/default.html --force

# The suite runs on one pytest-xdist worker per core, each with torch on one thread: on 2 cores
# that took 2:31-2:43 against 4:51-4:55 in one process (2026-12-02), where torch's two threads
# per process would fight the other worker for the cores. `make test PYTEST_WORKERS=0` runs it
# in one process.
PYTEST_WORKERS ?= auto
PYTEST_PAR := $(if $(PYTEST_WORKERS),-n $(PYTEST_WORKERS))

# The tests' temporary files go to a RAM disk where there is one with 1 GiB free (/dev/shm):
# their sweeps fsync every file they write. On a quiet 2-core machine that costs nothing
# measurable (the fast tier 2:55 either way, 2026-12-08); on a loaded one, three sweep-heavy
# test files took 49.7 s here against 51.7-56.9 s on the disk. `TEST_TMPDIR=` keeps the system's.
TEST_TMPDIR ?= $(shell test -w /dev/shm && df -Pk /dev/shm | awk 'NR == 2 && $$4 >= 1048576 {print "/dev/shm"}')
TEST_ENV := $(if $(TEST_TMPDIR),TMPDIR=$(TEST_TMPDIR)) OMP_NUM_THREADS=1

test: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -q -m "not slow" $(PYTEST_PAR)

test-all: $(STAMP)
	$(TEST_ENV) $(PY) -m pytest -q -m "slow or not slow" $(PYTEST_PAR)

# The fast suite on the matrix kernels of a CPU without AVX-512: MKL and oneDNN pick theirs by
# the CPU (these variables cap them), and a test that pins a value of the rounding fails here
# first (2026-12-04: a GRU's overflowing dot product read NaN on AVX-512 and inf on AVX2). On a
# CPU without AVX-512 it is make test again. CI runs it after the slow tier.
test-avx2: $(STAMP)
	MKL_ENABLE_INSTRUCTIONS=AVX2 DNNL_MAX_CPU_ISA=AVX2 $(TEST_ENV) \
	  $(PY) -m pytest -q -m "not slow" $(PYTEST_PAR)

# The fast suite at the oldest versions pyproject.toml allows (constraints-floors.txt), in a
# virtual environment of its own (docs/supported-versions.md). Not part of `make test` or CI: it
# downloads ~3 GB, 5.5 GB on disk (PyPI's torch 2.2.2 is a CUDA build; it runs on the CPU).
FLOORS_VENV ?= .venv-floors

test-floors:
	test -x $(FLOORS_VENV)/bin/python || $(PYTHON) -m venv $(FLOORS_VENV)
	$(FLOORS_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-c constraints-floors.txt -e ".[dev,dask,safetensors]"
	OMP_NUM_THREADS=1 $(FLOORS_VENV)/bin/python -m pytest -q -m "not slow" $(PYTEST_PAR) \
		-p no:cacheprovider

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
	rm -rf $(VENV) $(FLOORS_VENV) .pytest_cache .ruff_cache
