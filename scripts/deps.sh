#!/usr/bin/env bash
# Installs what swiftmlp needs to build and test, only where it is missing:
# Debian packages (cmake, ninja, cmocka, OpenBLAS, pkg-config, clang for the
# header check, abi-compliance-checker for the frozen-ABI check; Open MPI, iproute2 and procps for the data-parallel tests,
# which run mpirun on loopback and between two network namespaces) and
# Python packages (numpy, pytest, scikit-learn, tqdm, matplotlib,
# threadpoolctl, mpi4py, onnx, onnxruntime, pandas; safetensors and torch for
# the model-file interoperability tests, which fail -- never skip -- without
# them).
# Sourced or run by scripts/test.sh and scripts/demo.sh.
set -euo pipefail

bash "$(dirname "${BASH_SOURCE[0]}")/apt-install-missing.sh" deps \
    cmake ninja-build libcmocka-dev libopenblas-dev pkg-config \
    openmpi-bin libopenmpi-dev iproute2 procps abi-compliance-checker

py_missing=()
python3 -c "import numpy" 2>/dev/null || py_missing+=(numpy)
python3 -c "import pytest" 2>/dev/null || py_missing+=(pytest)
python3 -c "import sklearn" 2>/dev/null || py_missing+=(scikit-learn)
python3 -c "import tqdm" 2>/dev/null || py_missing+=(tqdm)
python3 -c "import matplotlib" 2>/dev/null || py_missing+=(matplotlib)
python3 -c "import safetensors.numpy" 2>/dev/null || py_missing+=(safetensors)
python3 -c "import threadpoolctl; threadpoolctl.register" 2>/dev/null || py_missing+=("threadpoolctl>=3.5")
python3 -c "import onnx" 2>/dev/null || py_missing+=(onnx)
python3 -c "import onnxruntime" 2>/dev/null || py_missing+=(onnxruntime)
python3 -c "import pandas" 2>/dev/null || py_missing+=(pandas)
# mpi4py builds against (or its wheel loads) the Open MPI installed above.
python3 -c "import mpi4py.MPI" 2>/dev/null || py_missing+=(mpi4py)
if [ ${#py_missing[@]} -gt 0 ]; then
    echo "deps: installing Python packages: ${py_missing[*]}"
    python3 -m pip install -q "${py_missing[@]}"
fi
if ! python3 -c "import torch" 2>/dev/null; then
    echo "deps: installing Python packages: torch"
    # Prefer a CPU build that pip's configured find-links offer (PIP_FIND_LINKS
    # or pip.conf), taken without asking the index (which would pick a newer
    # CUDA build); the second call adds torch's dependencies from the index
    # (the installed torch satisfies "torch").  Without such a wheel the
    # first call fails quietly and torch comes from the index.
    python3 -m pip install -q --no-index --no-deps torch 2>/dev/null || true
    python3 -m pip install -q torch
fi
