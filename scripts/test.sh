#!/usr/bin/env bash
# Builds everything and runs all three test suites: Swift (swift test),
# C (cmocka via ctest) and Python (pytest), then the benchmark in its smoke
# mode (every peer and check on shrunk workloads; no timing is asserted) and
# the hardening runs. Installs missing dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh

# A debug build compiles the C kernels at -O0, unvectorized; the shipped
# library runs their vectorized clones. So the kernel tests (bit equality of
# the C sigmoid with the Swift kernel at every block length, the products)
# run against an optimized build too. First: this build (-enable-testing)
# shares .build/release, and build.sh then rebuilds the shipped library.
echo "== Swift kernel tests, release build (swift test -c release --filter KernelTests)"
swift test -c release -Xswiftc -enable-testing --filter KernelTests

bash scripts/build.sh

echo "== Swift tests (swift test)"
swift test

echo "== C tests (cmocka via ctest)"
ctest --test-dir build --output-on-failure

echo "== Python tests (pytest)"
python3 -m pytest python-bindings/tests -q

# The wheel and the sdist as a user installs them: a fresh venv, run from
# outside the checkout.
echo "== Python package: wheel and sdist in a fresh venv (scripts/test-wheel.sh)"
bash scripts/test-wheel.sh

# The benchmark works: every peer runs and computes the same parameters
# (bench/README.md). Exit 1 on a failed correctness check, never on speed.
echo "== Benchmark smoke run (bash bench/run.sh --smoke)"
bash bench/run.sh --smoke --no-build

# The data-parallel benchmark runs (small networks, np = 1 and 2 over TCP on
# loopback; no timing is asserted).
echo "== Data-parallel benchmark smoke run (python3 bench/distributed.py --smoke)"
python3 bench/distributed.py --smoke

# Sanitizers (ASan+UBSan, LSan, TSan), valgrind and libFuzzer; see
# fuzz/README.md.  SWIFTMLP_HARDENING=skip leaves them out (local use).
if [ "${SWIFTMLP_HARDENING:-run}" != skip ]; then
    echo "== Hardening: sanitizers, valgrind, fuzzing (scripts/ci-hardening.sh)"
    bash scripts/ci-hardening.sh
fi
