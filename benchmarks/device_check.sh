#!/usr/bin/env bash
# One prepared script for a lent GPU machine (see README "Speed and memory"): the CUDA tests,
# then the engine benchmarks on the GPU at the small and the large config, and the gated one,
# and where the spectral norms' time goes (benchmarks/profile_spectral.py).
set -u
export PYTHONPATH=$PWD
PY=${PY:-python3}
nvidia-smi -L
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
timeout 120 $PY -m pytest -q -p no:cacheprovider -o addopts="" -W ignore::DeprecationWarning \
  tests/test_cuda.py tests/test_engine_exact.py tests/test_engine_oracle.py tests/test_spectral.py \
  tests/test_engine_one_layer.py tests/test_engine_inputs.py tests/test_gated_exact.py \
  tests/test_gated_one_layer.py tests/test_gated_oracle.py tests/test_deferred_checks.py \
  2>&1 | tail -8
echo "=== engine benchmark, CUDA, small config ==="
timeout 90 $PY benchmarks/bench_engine.py --device cuda
echo "=== spectral norms: profile and settings, CUDA, small config ==="
timeout 120 $PY benchmarks/profile_spectral.py --device cuda --repeats 3
echo "=== engine benchmark, CUDA, large config ==="
timeout 140 $PY benchmarks/bench_engine.py --device cuda --config large --repeats 2
echo "=== gated engine benchmark, CUDA ==="
timeout 100 $PY benchmarks/bench_gated.py --device cuda --repeats 2
echo "=== spectral norms: settings, CUDA, large config ==="
timeout 90 $PY benchmarks/profile_spectral.py --device cuda --large --repeats 1
