#!/usr/bin/env bash
# The ways a C user gets swiftmlp, from a clean state (ctest: consumer_*):
# installs BUILD_DIR into a temporary prefix, checks the installed files,
# then builds and runs examples/train_xor.c (it exits 0 only when XOR was
# learned) and a version probe four ways: pkg-config, find_package, both
# again after moving the prefix, and add_subdirectory without cmocka;
# find_package(swiftmlp 99) must be refused.
#   bash c-tests/consumer/run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
here="$src/c-tests/consumer"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

header="$src/include/swiftmlp.h"
part() { sed -n "s/^#define SWIFTMLP_VERSION_$1 \([0-9][0-9]*\)$/\1/p" "$header"; }
version="$(part MAJOR).$(part MINOR).$(part PATCH)"
major=$(part MAJOR)
echo "header version $version"

# ---- install and what it put where
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
lib="$prefix/lib"
for f in "lib/libswiftmlp.so.$version" include/swiftmlp.h lib/pkgconfig/swiftmlp.pc \
         lib/cmake/swiftmlp/swiftmlpConfig.cmake lib/cmake/swiftmlp/swiftmlpConfigVersion.cmake \
         share/doc/swiftmlp/LICENSE share/doc/swiftmlp/THIRD_PARTY_NOTICES.md; do
    [ -f "$prefix/$f" ] && [ ! -L "$prefix/$f" ] || fail "not installed as a file: $f"
done
[ "$(readlink "$lib/libswiftmlp.so.$major")" = "libswiftmlp.so.$version" ] || fail "libswiftmlp.so.$major link"
[ "$(readlink "$lib/libswiftmlp.so")" = "libswiftmlp.so.$major" ] || fail "libswiftmlp.so link"
if readelf -S "$lib/libswiftmlp.so.$version" | grep -q '\.debug_'; then
    fail "the installed library still has debug sections"
fi
readelf -d "$lib/libswiftmlp.so.$version" | grep -q "Library soname: \[libswiftmlp.so.$major\]" \
    || fail "SONAME is not libswiftmlp.so.$major"
if grep -rlF -e "$build" -e "$src" -e "$prefix" "$lib/pkgconfig" "$lib/cmake"; then
    fail "absolute build or install paths in the files above"
fi
ls -l "$lib"

check_probe() { # $1: the probe's output
    set -- $1
    [ "$1" = "$version" ] && [ "$2" = "$version" ] || fail "version probe says $*, header $version"
}

# ---- pkg-config
use_pkg_config() { # $1: prefix, $2: output directory
    local pc="$1/lib/pkgconfig"
    [ "$(PKG_CONFIG_PATH="$pc" pkg-config --modversion swiftmlp)" = "$version" ] \
        || fail "pkg-config --modversion is not $version"
    mkdir -p "$2"
    # shellcheck disable=SC2046
    cc -std=c99 -Wall -Werror -o "$2/train_xor" "$src/examples/train_xor.c" \
        $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs swiftmlp)
    # shellcheck disable=SC2046
    cc -std=c99 -Wall -Werror -o "$2/version_probe" "$here/version_probe.c" \
        $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs swiftmlp)
    LD_LIBRARY_PATH="$1/lib" "$2/train_xor" >/dev/null || fail "train_xor (pkg-config, $1)"
    check_probe "$(LD_LIBRARY_PATH="$1/lib" "$2/version_probe")"
    echo "pkg-config ($1): ok"
}
use_pkg_config "$prefix" "$work/pc"

# ---- find_package
use_find_package() { # $1: prefix, $2: build directory
    local out
    # MAJOR.0: what a user of this major version asks for
    out=$(cmake -S "$here/find_package" -B "$2" -DCMAKE_PREFIX_PATH="$1" \
                -DSWIFTMLP_EXAMPLES="$src/examples" -DSWIFTMLP_REQUESTED_VERSION="${version%%.*}.0" 2>&1) ||
        { echo "$out"; fail "configure ($1)"; }
    grep -q "swiftmlp_VERSION=$version" <<<"$out" || fail "find_package did not report $version"
    cmake --build "$2" >/dev/null || fail "build ($1)"
    "$2/train_xor" >/dev/null || fail "train_xor (find_package, $1)"
    check_probe "$("$2/version_probe")"
    echo "find_package ($1): ok"
}
use_find_package "$prefix" "$work/fp"

# A major version this install is not: refused.
if out=$(cmake -S "$here/find_package" -B "$work/fp99" -DCMAKE_PREFIX_PATH="$prefix" \
               -DSWIFTMLP_EXAMPLES="$src/examples" -DSWIFTMLP_REQUESTED_VERSION=99 2>&1); then
    fail "find_package(swiftmlp 99 CONFIG REQUIRED) was accepted"
fi
grep -q 'requested version "99"' <<<"$out" || { echo "$out"; fail "no version message for 99"; }
echo "find_package(swiftmlp 99): refused"

# ---- the same after moving the prefix (nothing in it names its old place)
mv "$prefix" "$work/moved"
use_pkg_config "$work/moved" "$work/pc-moved"
use_find_package "$work/moved" "$work/fp-moved"

# ---- add_subdirectory, with cmocka out of reach: the library only
sub="$work/sub"
out=$(cmake -S "$here/subdirectory" -B "$sub" -DSWIFTMLP_SOURCE_DIR="$src" \
            -DSWIFTMLP_EXAMPLES="$src/examples" \
            -DCMAKE_DISABLE_FIND_PACKAGE_cmocka=ON -DCMAKE_DISABLE_FIND_PACKAGE_PkgConfig=ON 2>&1) \
    || { echo "$out"; fail "configure (add_subdirectory)"; }
cmake --build "$sub" >/dev/null || fail "build (add_subdirectory)"
"$sub/train_xor" >/dev/null || fail "train_xor (add_subdirectory)"
check_probe "$("$sub/version_probe")"
[ ! -e "$sub/swiftmlp/c-tests" ] && [ ! -e "$sub/swiftmlp/examples" ] && [ ! -e "$sub/swiftmlp/fuzz" ] \
    && [ ! -e "$sub/swiftmlp/stress" ] || fail "the subproject built more than the library"
(cd "$sub" && ctest -N | grep -q "Total Tests: 0") || fail "the subproject registered tests"
echo "add_subdirectory: ok"
echo "consumer: all ways work"
