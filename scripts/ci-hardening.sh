#!/usr/bin/env bash
# The hardening run of CI (called by scripts/test.sh after the test suites):
#
#   asan      scripts/sanitize.sh asan   ASan+UBSan ctest, LSan 10^4 cycles
#   tsan      scripts/sanitize.sh tsan   TSan ctest, thread_stress
#   valgrind  scripts/valgrind.sh        memcheck on the release library
#   fuzz      scripts/fuzz.sh 60         corpus replay + 60 s per fuzz target
#
# Every step runs even when an earlier one failed; each prints its runtime,
# and the run fails if any step failed.  Measured on the 2-core machine from
# clean scratch directories: 9 minutes while other sessions' benchmarks kept
# it busy, about 5.5 on an idle machine (fuzz/README.md has the numbers).
#
#   scripts/ci-hardening.sh [STEP...]        (default: all four)
#   SWIFTMLP_HARDENING=skip scripts/test.sh  skips this run (local use)
# FUZZ_SECONDS, LEAK_CYCLES, THREAD_ROUNDS, VALGRIND_CYCLES pass through.
set -uo pipefail
cd "$(dirname "$0")/.."

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(asan tsan valgrind fuzz)

# clang's runtimes and valgrind come with the toolchain and Debian; objcopy and
# nm with binutils.
for tool in valgrind objcopy nm; do
    if ! command -v "$tool" >/dev/null; then
        echo "hardening: installing $tool"
        pkg=$tool
        [ "$tool" != valgrind ] && pkg=binutils
        SUDO=""
        [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$pkg" >/dev/null
    fi
done

results=()
failed=0
start=$(date +%s)
for step in "${steps[@]}"; do
    case "$step" in
        asan) cmd=(bash scripts/sanitize.sh asan) ;;
        tsan) cmd=(bash scripts/sanitize.sh tsan) ;;
        valgrind) cmd=(bash scripts/valgrind.sh) ;;
        fuzz) cmd=(bash scripts/fuzz.sh "${FUZZ_SECONDS:-60}") ;;
        *) echo "hardening: unknown step $step (asan, tsan, valgrind, fuzz)" >&2; exit 2 ;;
    esac
    echo
    echo "==== hardening: $step (${cmd[*]})"
    t0=$(date +%s)
    if "${cmd[@]}"; then
        r=passed
    else
        r=FAILED
        failed=$((failed + 1))
    fi
    results+=("$(printf '%-9s %-7s %4ss' "$step" "$r" "$(( $(date +%s) - t0 ))")")
done

echo
echo "==== hardening summary ($(( $(date +%s) - start ))s in all)"
printf '  %s\n' "${results[@]}"
passed=$(( ${#steps[@]} - failed ))
echo "hardening: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
