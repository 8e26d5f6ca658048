#!/usr/bin/env bash
# Tests scripts/abi-check.sh on mutated copies of include/swiftmlp.h
# against the baseline dump: it must pass on the header as it is, with a
# function added, with a new minor version (and on a break that comes with
# a new major version), and fail on a double parameter turned float, a
# removed function and two swapped struct fields. The header must be at
# the baseline's major version (true until a new major is released and
# frozen with abi-check.sh --update-baseline).
# Prints "N passed, N failed"; exit status 1 if any case went wrong.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base=$root/include/swiftmlp.h
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# mutate NAME PERL-EXPRESSION: a copy of the baseline, which must change
mutate() {
    perl -0pe "$2" "$base" > "$work/$1.h"
    if cmp -s "$base" "$work/$1.h"; then
        echo "test-abi-check: the mutation '$1' matched nothing in include/swiftmlp.h" >&2
        exit 1
    fi
}
# expect NAME WANTED-STATUS (TMPDIR: the report abi-check.sh keeps on a
# failure goes with $work)
expect() {
    local header=$work/$1.h status=0
    [ "$1" = unchanged ] && header=$base
    TMPDIR=$work bash "$root/scripts/abi-check.sh" "$header" > "$work/$1.log" 2>&1 || status=$?
    if [ "$status" = "$2" ]; then
        passed=$((passed + 1)); echo "ok: $1 (status $status)"
    else
        failed=$((failed + 1)); echo "FAILED: $1: status $status, expected $2"; cat "$work/$1.log"
    fi
}

expect unchanged 0
mutate added 's/^(void swiftmlp_free\(swiftmlp_net \*net\);)$/$1\nswiftmlp_status swiftmlp_added_later(const swiftmlp_net *net, double *value);/m'
expect added 0
mutate new-minor 's/^#define SWIFTMLP_VERSION_MINOR (\d+)$/"#define SWIFTMLP_VERSION_MINOR " . ($1 + 1)/me'
expect new-minor 0
mutate double-to-float 's/^(swiftmlp_status swiftmlp_step\(swiftmlp_net \*net, )double lr\);/$1float lr);/m'
expect double-to-float 1
mutate removed 's/^swiftmlp_status swiftmlp_set_learning_rate\([^;]*;\n//m'
expect removed 1
mutate reordered 's/^(    size_t index;[^\n]*\n)(    double analytic;[^\n]*\n)/$2$1/m'
expect reordered 1
mutate new-major 's/^(swiftmlp_status swiftmlp_step\(swiftmlp_net \*net, )double lr\);/$1float lr);/m; s/^#define SWIFTMLP_VERSION_MAJOR (\d+)$/"#define SWIFTMLP_VERSION_MAJOR " . ($1 + 1)/me'
expect new-major 0

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
