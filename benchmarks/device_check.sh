#!/usr/bin/env bash
# One prepared script for a lent GPU machine (see README "Speed and memory"): the CUDA tests,
# the engine benchmark on the GPU, and the same benchmark on two quiet CPU cores.
set -u
export PYTHONPATH=$PWD
PY=${PY:-python3}
nvidia-smi -L
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
$PY -m pytest -q -p no:cacheprovider -o addopts="" -W ignore::DeprecationWarning \
  tests/test_engine_exact.py tests/test_engine_oracle.py tests/test_spectral.py tests/test_engine_inputs.py 2>&1 | tail -5
echo "=== engine benchmark, CUDA ==="
$PY benchmarks/bench_engine.py --device cuda
echo "=== engine benchmark, 2 CPU cores ==="
OMP_NUM_THREADS=2 taskset -c 0,1 $PY benchmarks/bench_engine.py
