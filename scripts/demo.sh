#!/usr/bin/env bash
# The main job: builds libswiftmlp.so and runs the Python demo, which trains
# a classifier on the digits data with the library (progress bar, test
# accuracy, confusion matrix, loss curve saved as swiftmlp_digits_loss.png in
# the directory this script is run from) and checks the library against the
# slides' NumPy code. Installs missing dependencies.
set -euo pipefail
start_dir="$(pwd)"
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
bash scripts/deps.sh
swift build -c release --product swiftmlp --manifest-cache none
cd "$start_dir"
PYTHONPATH="$repo/python-bindings" python3 "$repo/python-bindings/examples/demo.py" "$@"
