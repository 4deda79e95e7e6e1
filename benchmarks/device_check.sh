#!/usr/bin/env bash
# One prepared script for a lent GPU machine (see README "Speed and memory"), sized to a 15-minute
# lease (worst case ~10 minutes of timeouts, each step stamped with the seconds since the start;
# 2026-12-04 on an H200: tests 69 s, the rest 182 s; a later lease that day ran the tests past
# 120 s and the gated benchmark past 80 s, so both limits are longer now; the afternoon's lease
# ran the 602 tests in 110 s, the benchmarks below in 151 s):
# the CUDA and engine tests; why both norms ran long at B=64, H=1024 (benchmarks/
# diagnose_stalls.py); the engine benchmark at the large and the small config; the gated one.
# FULL=1 adds where the spectral norms' time goes (benchmarks/profile_spectral.py, ~4 minutes).
set -u
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
PY=${PY:-python3}
t0=$(date +%s)
stamp() { echo "=== [$(($(date +%s) - t0)) s] $* ==="; }
nvidia-smi -L
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
stamp "CUDA and engine tests"
# One process: 8 xdist workers of 16 torch threads each ran slower (2026-12-04: 30 % in 150 s).
# -p no:benchmark: pytest-benchmark's warning would be an error under pyproject's filterwarnings.
timeout 170 $PY -m pytest -q -p no:cacheprovider -p no:benchmark -o addopts="" \
  -W ignore::DeprecationWarning tests/test_cuda.py tests/test_engine_exact.py \
  tests/test_engine_oracle.py tests/test_spectral.py tests/test_engine_one_layer.py tests/test_engine_inputs.py \
  tests/test_gated_exact.py tests/test_gated_one_layer.py tests/test_gated_oracle.py \
  tests/test_deferred_checks.py 2>&1 | tail -15
stamp "both norms at the large size: checks and exact fallbacks (diagnose_stalls.py)"
timeout 90 $PY benchmarks/diagnose_stalls.py
stamp "engine benchmark, CUDA, large config"
timeout 150 $PY benchmarks/bench_engine.py --device cuda --config large --repeats 1
stamp "engine benchmark, CUDA, small config"
timeout 70 $PY benchmarks/bench_engine.py --device cuda
stamp "gated engine benchmark, CUDA"
timeout 110 $PY benchmarks/bench_gated.py --device cuda --repeats 2
if [ "${FULL:-0}" = 1 ]; then
  stamp "spectral norms: profile and settings, CUDA, small config"
  timeout 120 $PY benchmarks/profile_spectral.py --device cuda --repeats 3
  stamp "spectral norms: settings, CUDA, large config"
  timeout 90 $PY benchmarks/profile_spectral.py --device cuda --large --inputs --repeats 1
fi
stamp "done"
