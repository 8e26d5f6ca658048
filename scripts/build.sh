#!/usr/bin/env bash
# Builds libswiftmlp.so and swiftmlp-dump-params (SwiftPM, release), the C
# tests and examples (CMake into build/). Run from anywhere; paths are
# relative to the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
# --manifest-cache none: Package.swift reads the SONAME from include/swiftmlp.h.
swift build -c release --product swiftmlp --manifest-cache none
swift build -c release --product swiftmlp-dump-params --manifest-cache none
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2
