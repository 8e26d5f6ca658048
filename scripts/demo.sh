#!/usr/bin/env bash
# The main job: builds libswiftmlp.so and runs the Python demo, which trains
# a network with the library, prints the loss falling, and checks the
# library against the slides' NumPy code. Installs missing dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
swift build -c release --product swiftmlp
PYTHONPATH=python-bindings python3 python-bindings/examples/demo.py "$@"
