#!/usr/bin/env bash
# Checks that include/swiftmlp.h keeps the frozen C ABI of its major version.
#
#   bash scripts/abi-check.sh [HEADER]       # default include/swiftmlp.h
#   bash scripts/abi-check.sh --update-baseline
#
# The baseline is abi/swiftmlp.abi.dump: Debian's abi-compliance-checker's
# ABI dump of the header as released (its version is the dump's
# LibraryVersion). The tool compares HEADER against it from the header
# alone (-headers-only -lang C: the Swift-built .so carries no type
# information): a removed function, a changed parameter or return type, a
# struct field moved, resized or removed, a changed enum value... is a
# binary incompatibility, and the check fails on any, unless HEADER's
# SWIFTMLP_VERSION_MAJOR is above the baseline's (a new major version may
# break the ABI; its SONAME changes with it). Additions pass.
#
# After a release, freeze its header as the new baseline with
# --update-baseline (abi/README.md gives the tool's command it runs).
# The dump is Perl, the tool's default, not its .tar.gz form, which
# version 2.3 cannot read back (it unpacks into the wrong directory).
# Exit status: 0 compatible (or a new major), 1 incompatible, 2 usage or
# tool error. On failure the HTML report is kept (the path is printed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
baseline=$root/abi/swiftmlp.abi.dump
command -v abi-compliance-checker >/dev/null || {
    echo "abi-check: abi-compliance-checker is missing (apt-get install abi-compliance-checker)" >&2
    exit 2
}
work=$(mktemp -d)

header_version() {  # MAJOR.MINOR.PATCH of a header
    local v=""
    for part in MAJOR MINOR PATCH; do
        v+=$(sed -n "s/^#define SWIFTMLP_VERSION_$part \([0-9][0-9]*\)$/\1/p" "$1").
    done
    echo "${v%.}"
}

# descriptor HEADER NAME: $work/NAME.xml describes a copy of HEADER
# in $work/NAME/swiftmlp.h
descriptor() {
    mkdir "$work/$2"
    cp "$1" "$work/$2/swiftmlp.h"
    printf '<version>%s</version>\n<headers>%s</headers>\n' \
        "$(header_version "$1")" "$work/$2/swiftmlp.h" > "$work/$2.xml"
}

# acc ARGS...: the tool with the options every call shares, from $work
# (it writes its logs under the current directory), its output in log.txt
acc() {
    (cd "$work" && abi-compliance-checker -lib swiftmlp -headers-only -lang C "$@" > log.txt 2>&1)
}

if [ "${1:-}" = "--update-baseline" ]; then
    descriptor "$root/include/swiftmlp.h" new
    acc -dump new.xml -dump-path "$baseline" || {
        echo "abi-check: abi-compliance-checker could not dump the header:" >&2
        cat "$work/log.txt" >&2
        exit 2
    }
    rm -rf "$work"
    echo "abi-check: the baseline is now include/swiftmlp.h $(header_version "$root/include/swiftmlp.h")"
    exit 0
fi
header=$(realpath "${1:-$root/include/swiftmlp.h}")

old=$(sed -n "s/^ *'LibraryVersion' => '\(.*\)',$/\1/p" "$baseline" 2>/dev/null || true)
[ -n "$old" ] || {
    rm -rf "$work"
    echo "abi-check: $baseline is missing or has no LibraryVersion" >&2
    exit 2
}
new=$(header_version "$header")
if [ "${new%%.*}" -gt "${old%%.*}" ]; then
    rm -rf "$work"
    echo "abi-check: major version $old -> $new: the ABI may change (refresh the baseline when released)"
    exit 0
fi

descriptor "$header" new
set +e
acc -binary -old "$baseline" -new new.xml -report-path report.html
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
