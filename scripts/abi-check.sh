#!/usr/bin/env bash
# Checks that include/swiftmlp.h keeps the frozen C ABI of its major version.
#
#   bash scripts/abi-check.sh [HEADER]       # default include/swiftmlp.h
#   bash scripts/abi-check.sh --update-baseline
#
# The baseline is abi/swiftmlp.h, a copy of the header as released. Debian's
# abi-compliance-checker (scripts/deps.sh installs it) compares the two from
# the header alone (-headers-only -lang C: the Swift-built .so carries no
# type information): a removed function, a changed parameter or return
# type, a struct field moved, resized or removed, a changed enum value...
# is a binary incompatibility, and the check fails on any, unless HEADER's
# SWIFTMLP_VERSION_MAJOR is above the baseline's (a new major version may
# break the ABI; its SONAME changes with it). Additions pass.
#
# After a release, freeze its header as the new baseline with
# --update-baseline (copies include/swiftmlp.h to abi/swiftmlp.h).
# Exit status: 0 compatible (or a new major), 1 incompatible, 2 usage or
# tool error. On failure the HTML report is kept (the path is printed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
baseline=$root/abi/swiftmlp.h

if [ "${1:-}" = "--update-baseline" ]; then
    cp "$root/include/swiftmlp.h" "$baseline"
    echo "abi-check: baseline is now include/swiftmlp.h ($(grep -m1 'define SWIFTMLP_VERSION_MAJOR' "$baseline"))"
    exit 0
fi
header=$(realpath "${1:-$root/include/swiftmlp.h}")
command -v abi-compliance-checker >/dev/null || {
    echo "abi-check: abi-compliance-checker is missing (apt-get install abi-compliance-checker)" >&2
    exit 2
}

version() {  # MAJOR.MINOR.PATCH of a header
    local v=""
    for part in MAJOR MINOR PATCH; do
        v+=$(sed -n "s/^#define SWIFTMLP_VERSION_$part \([0-9][0-9]*\)$/\1/p" "$1").
    done
    echo "${v%.}"
}
old=$(version "$baseline") new=$(version "$header")
if [ "${new%%.*}" -gt "${old%%.*}" ]; then
    echo "abi-check: major version $old -> $new: the ABI may change (refresh the baseline when released)"
    exit 0
fi

work=$(mktemp -d)
printf '<version>%s</version>\n<headers>%s</headers>\n' "$old" "$baseline" > "$work/old.xml"
printf '<version>%s</version>\n<headers>%s</headers>\n' "$new" "$header" > "$work/new.xml"
set +e
# (run from $work: the tool writes its logs under the current directory)
(cd "$work" && abi-compliance-checker -lib swiftmlp -headers-only -lang C -binary \
    -old old.xml -new new.xml -report-path report.html > log.txt 2>&1)
status=$?
set -e
case $status in
    0) echo "abi-check: $header keeps the ABI of $old"
       rm -rf "$work" ;;
    1) echo "abi-check: $header breaks the ABI of $old without a new major version:" >&2
       grep -E "^Total|compatibility:" "$work/log.txt" >&2
       echo "abi-check: see $work/report.html" >&2 ;;
    *) echo "abi-check: abi-compliance-checker failed (status $status):" >&2
       cat "$work/log.txt" >&2
       status=2 ;;
esac
exit $status
