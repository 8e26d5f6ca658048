#!/usr/bin/env bash
# The Python package as a user installs it (part of scripts/test.sh):
# builds the wheel and the sdist (scripts/wheel.sh), checks the wheel's
# platform tag and contents, installs it into a fresh venv with the test
# requirements, and runs the slides' parity tests and the thread tests from
# a directory outside the checkout with PYTHONPATH and SWIFTMLP_LIBRARY
# unset, checking that the installed package (and its own library) is the
# one imported. Then installs the sdist (a full build of the library from
# its native/ copy) and checks it the same way, and checks that a build
# without Swift on PATH fails with one clear sentence and no wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
unset PYTHONPATH SWIFTMLP_LIBRARY

part() { sed -n "s/^#define SWIFTMLP_VERSION_$1 \([0-9][0-9]*\)$/\1/p" include/swiftmlp.h; }
version="$(part MAJOR).$(part MINOR).$(part PATCH)"

bash scripts/wheel.sh "$work/dist"
shopt -s nullglob
wheels=("$work"/dist/swiftmlp-"$version"-py3-none-manylinux_*_x86_64.whl)
[ ${#wheels[@]} -eq 1 ] || fail "expected one swiftmlp-$version-py3-none-manylinux_*_x86_64.whl: $(ls "$work/dist")"
wheel=${wheels[0]}
sdist="$work/dist/swiftmlp-$version.tar.gz"
[ -f "$sdist" ] || fail "no $sdist"
echo "wheel: $(basename "$wheel"), $(stat -c %s "$wheel") bytes"

# ---- the wheel's contents: the stripped library, header and licences
mkdir "$work/unzipped"
python3 -m zipfile -e "$wheel" "$work/unzipped"
for f in swiftmlp/libswiftmlp.so."$(part MAJOR)" swiftmlp/swiftmlp.h swiftmlp/LICENSE \
         swiftmlp/THIRD_PARTY_NOTICES.md swiftmlp/__init__.py; do
    [ -f "$work/unzipped/$f" ] || fail "the wheel has no $f"
done
if readelf -S "$work/unzipped/swiftmlp/libswiftmlp.so.$(part MAJOR)" | grep -q '\.debug_'; then
    fail "the wheel's library has debug sections"
fi
grep -q "^Tag: py3-none-manylinux_" "$work/unzipped"/swiftmlp-"$version".dist-info/WHEEL \
    || fail "WHEEL does not carry a manylinux tag"
grep -q "^Root-Is-Purelib: false" "$work/unzipped"/swiftmlp-"$version".dist-info/WHEEL \
    || fail "the wheel installs into purelib"

# ---- the sdist carries what a build needs
listing=$(tar tzf "$sdist")
for f in native/Package.swift native/include/swiftmlp.h native/Sources/CSwiftMLP/exports.map \
         native/LICENSE setup.py pyproject.toml swiftmlp/_lib.py; do
    grep -qx "swiftmlp-$version/$f" <<<"$listing" || fail "the sdist has no $f"
done

# ---- installed from the wheel, used from outside the checkout
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --upgrade pip
"$py" -m pip install -q "$wheel" pytest "threadpoolctl>=3.5"
mkdir -p "$work/run/tests"
cp python-bindings/tests/{conftest.py,reference.py,test_parity.py,test_num_threads.py} "$work/run/tests/"

check_installed() { # the imported package is the venv's, with its own library and version
    (cd "$work/run" && "$py" - "$work/venv" "$version" <<'PY'
import importlib.metadata, os, sys
import swiftmlp
venv, version = sys.argv[1], sys.argv[2]
package_dir = os.path.dirname(os.path.realpath(swiftmlp.__file__))
assert package_dir.startswith(os.path.realpath(venv) + os.sep), package_dir
assert os.path.dirname(os.path.realpath(swiftmlp.library_path)) == package_dir, swiftmlp.library_path
assert swiftmlp.__version__ == swiftmlp.version() == importlib.metadata.version("swiftmlp") == version, (
    swiftmlp.__version__, swiftmlp.version(), importlib.metadata.version("swiftmlp"), version)
print(f"imported {package_dir}, library {swiftmlp.library_path}, version {version}")
PY
    ) || fail "the installed package is not the one imported"
    (cd "$work/run" && "$py" -m pytest -q -p no:cacheprovider tests) || fail "tests against the installed package"
}
check_installed

# ---- the console script the wheel installs
"$work/venv/bin/swiftmlp" --version | grep -qx "swiftmlp $version" || fail "swiftmlp --version"
(cd "$work/run" && "$py" -c "
import csv, numpy as np
rng = np.random.default_rng(0)
with open('xor.csv', 'w', newline='') as f:
    w = csv.writer(f); w.writerow(['a', 'b', 'label'])
    for a, b in rng.integers(0, 2, (200, 2)): w.writerow([a, b, 'yes' if a != b else 'no'])
" && "$work/venv/bin/swiftmlp" train xor.csv --target label --layers 8 --activation tanh \
        --epochs 300 --lr 0.05 -o xor.safetensors >/dev/null \
    && "$work/venv/bin/swiftmlp" evaluate xor.safetensors xor.csv --target label | grep -q "^accuracy 1.0000") \
    || fail "the installed swiftmlp command did not learn XOR"
echo "console script: ok"

# ---- installed from the sdist: the library built from native/
"$py" -m pip install -q --no-deps --force-reinstall --no-cache-dir "$sdist"
check_installed

# ---- without Swift: one clear sentence, no wheel
nopath=$(tr ':' '\n' <<<"$PATH" | while read -r d; do [ -x "$d/swift" ] || printf '%s:' "$d"; done)
if out=$(PATH="${nopath%:}" "$py" -m pip wheel --no-deps -w "$work/noswift" "$repo/python-bindings" 2>&1); then
    fail "a build without Swift succeeded"
fi
grep -q "swiftmlp: building this package needs the Swift toolchain" <<<"$out" \
    || { echo "$out"; fail "no clear message without Swift"; }
[ -z "$(ls "$work/noswift" 2>/dev/null)" ] || fail "a wheel was written without Swift"
echo "without Swift: refused with the message"
echo "wheel: all checks passed"
