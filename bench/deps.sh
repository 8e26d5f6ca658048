#!/usr/bin/env bash
# Installs what the benchmark needs, only where it is missing:
#   Debian: libfann-dev (the FANN peer), libopenblas-dev (to build libswiftmlp), gcc (the C drivers)
#   Python: numpy, threadpoolctl, matplotlib, scikit-learn, torch (CPU), jax (CPU),
#           onnx and onnxruntime (the inference peers)
# torch is tried from the local wheel directory first (pip --no-index, which
# uses PIP_FIND_LINKS when it is set), then from the index; if it cannot be
# installed the benchmark runs without the torch peer and says so.
# Run by bench/run.sh (skip with --no-deps).
set -euo pipefail

bash "$(dirname "${BASH_SOURCE[0]}")/../scripts/apt-install-missing.sh" bench/deps \
    libfann-dev libopenblas-dev gcc

PY=${PYTHON:-python3}
py_missing=()
$PY -c "import numpy" 2>/dev/null || py_missing+=(numpy)
$PY -c "import threadpoolctl" 2>/dev/null || py_missing+=(threadpoolctl)
$PY -c "import matplotlib" 2>/dev/null || py_missing+=(matplotlib)
$PY -c "import sklearn" 2>/dev/null || py_missing+=(scikit-learn)
$PY -c "import jax" 2>/dev/null || py_missing+=(jax)
$PY -c "import onnx" 2>/dev/null || py_missing+=(onnx)
$PY -c "import onnxruntime" 2>/dev/null || py_missing+=(onnxruntime)
if [ ${#py_missing[@]} -gt 0 ]; then
    echo "bench/deps: installing Python packages: ${py_missing[*]}"
    $PY -m pip install -q "${py_missing[@]}" \
        || echo "bench/deps: WARNING: could not install ${py_missing[*]}; the peers that need them are skipped"
fi
if ! $PY -c "import torch" 2>/dev/null; then
    echo "bench/deps: installing torch (CPU)"
    $PY -m pip install -q --no-index torch 2>/dev/null \
        || $PY -m pip install -q torch \
        || echo "bench/deps: WARNING: torch could not be installed; the torch peer will be skipped"
fi
