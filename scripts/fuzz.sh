#!/usr/bin/env bash
# libFuzzer runs of the two fuzz targets (fuzz/README.md):
#
#   1. builds the coverage- and ASan-instrumented library (SwiftPM into
#      .build-fuzz/, see cmake/Sanitizers.cmake), checks that the Swift code
#      really carries both, and builds the libFuzzer binaries
#      fuzz_load and fuzz_api (toolchain clang -fsanitize=fuzzer,address) in
#      build-fuzz/;
#   2. replays the committed corpora through the plain replay drivers of the
#      fuzz build (every file once, no fuzzing: a regression test of every
#      past find; the normal `ctest` runs the same replays against the
#      release library);
#   3. fuzzes each target for FUZZ_SECONDS (default 60) with -max_total_time,
#      starting from the committed corpora (read-only: new inputs go to
#      build-fuzz/corpus-<target>/), and prints the executions from
#      libFuzzer's final stats;
#   4. replays fuzz/known-bugs/ and says which known bugs still reproduce
#      (informational; see "Known bugs" in fuzz/README.md).
# A crash, a sanitizer report, a leak, a timeout or a broken harness rule
# fails the run and leaves the input in build-fuzz/artifacts/ (the path is
# printed).
#
#   scripts/fuzz.sh [SECONDS]        (or FUZZ_SECONDS=...)
#   scripts/fuzz.sh --make-seeds     rewrite fuzz/corpus/*/seed-* and exit
#   FUZZ_PARALLEL=1 scripts/fuzz.sh 1800
#                                    the long run (not CI): both targets at
#                                    once, 30 minutes each, one core each
#                                    (fuzz/README.md, "Long runs")
#
# FUZZ_AVOID (default: the known open bugs listed in KNOWN_BUGS below) tells
# the harnesses not to generate inputs of those bug classes, so the run hunts
# for new bugs; FUZZ_AVOID= (empty) fuzzes everything.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Open library bugs the fuzzers already found (reproducers in fuzz/known-bugs/).
# Remove a name here when its bug is fixed (and move its reproducer into
# fuzz/corpus/<target>/).
KNOWN_BUGS=""

jobs=${JOBS:-2}
seconds=${FUZZ_SECONDS:-60}
make_seeds=0
case "${1:-}" in
    --make-seeds) make_seeds=1 ;;
    "") ;;
    *[!0-9]*) echo "usage: $0 [SECONDS | --make-seeds]" >&2; exit 2 ;;
    *) seconds=$1 ;;
esac

swift_bin=$(dirname "$(readlink -f "$(command -v swift)")")
export ASAN_SYMBOLIZER_PATH="$swift_bin/llvm-symbolizer"
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export OPENBLAS_NUM_THREADS=1   # tiny matrices: BLAS threads only cost time
export FUZZ_AVOID="${FUZZ_AVOID-$KNOWN_BUGS}"

now() { date +%s; }

t0=$(now)
echo "== fuzz: build (SwiftPM .build-fuzz, CMake build-fuzz)"
cmake -S . -B build-fuzz -DSWIFTMLP_SANITIZE=fuzzer,address -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DSWIFTMLP_BUILD_TESTS=OFF -DSWIFTMLP_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-fuzz -j"$jobs"
# The Swift code itself must carry coverage counters (one byte per edge; the
# C shims alone have a handful) and ASan checks (the canary makes Swift code
# read past a heap block).
hex=$(readelf -SW build-fuzz/lib/libswiftmlp.so | awk '$2 == "__sancov_cntrs" {print $6}')
counters=$(( 16#${hex:-0} ))
if [ "${counters:-0}" -lt 1000 ]; then
    echo "fuzz: libswiftmlp has ${counters:-no} coverage counters: the Swift code is not instrumented" >&2
    exit 1
fi
canary=$(build-fuzz/stress/sanitizer_canary overread 2>&1 || true)
if ! grep -q "AddressSanitizer: heap-buffer-overflow" <<<"$canary"; then
    echo "fuzz: the ASan canary was not caught: the Swift code is not ASan-instrumented" >&2
    exit 1
fi
echo "fuzz: built in $(( $(now) - t0 ))s (libswiftmlp: $counters coverage counters, ASan canary caught)"

if [ "$make_seeds" = 1 ]; then
    rm -f fuzz/corpus/load/seed-* fuzz/corpus/api/seed-*
    build-fuzz/fuzz/fuzz_make_load_seeds fuzz/corpus/load
    python3 fuzz/make_api_seeds.py fuzz/corpus/api
    exit 0
fi

corpora_load=(fuzz/corpus/load)
[ -d c-tests/corpus ] && corpora_load+=(c-tests/corpus)
corpora_api=(fuzz/corpus/api)

t0=$(now)
echo "== fuzz: replaying the committed corpora (no fuzzing)"
for target in load api; do
    dirs_var="corpora_${target}[@]"
    rlog=build-fuzz/replay-$target.log
    out=$(FUZZ_AVOID= build-fuzz/fuzz/fuzz_replay_$target "${!dirs_var}" 2>"$rlog") || {
        tail -40 "$rlog"
        echo "fuzz: replay of the $target corpus FAILED (log: $rlog)" >&2
        exit 1
    }
    echo "fuzz: $target: $out"
done
echo "fuzz: replays passed in $(( $(now) - t0 ))s"

artifacts=build-fuzz/artifacts
mkdir -p "$artifacts"
status=0
summary=()
# One target's run: fuzzes, then writes its summary line to build-fuzz/summary-<target>
# and exits non-zero on a finding.
fuzz_one() {
    local target=$1 t0 work log dirs_var rc=0 execs rate cov ft line
    t0=$(now)
    work=build-fuzz/corpus-$target
    mkdir -p "$work"
    log=build-fuzz/fuzz-$target.log
    dirs_var="corpora_${target}[@]"
    echo "== fuzz: fuzz_$target for ${seconds}s (FUZZ_AVOID=${FUZZ_AVOID:-none})"
    # -timeout: an input running 10 s is a hang; -rss_limit_mb: ASan + a
    # 2^28-element limit must not take the machine.
    local dict=()
    [ -f fuzz/$target.dict ] && dict=(-dict=fuzz/$target.dict)
    build-fuzz/fuzz/fuzz_$target -max_total_time="$seconds" -print_final_stats=1 \
        -timeout=10 -rss_limit_mb=4096 -artifact_prefix="$artifacts/$target-" "${dict[@]}" \
        "$work" "${!dirs_var}" >"$log" 2>&1 || rc=$?
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    rate=$(grep -m1 'stat::average_exec_per_sec' "$log" | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | grep -o 'cov: [0-9]*' | tail -1)
    ft=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | grep -o 'ft: [0-9]*' | tail -1)
    line="fuzz_$target: ${execs:-?} executions in ${seconds}s (${rate:-?}/s, ${cov:-cov ?}, ${ft:-ft ?}, corpus $(ls "$work" | wc -l) new files)"
    if [ "$rc" -ne 0 ]; then
        grep -E 'FUZZ RULE BROKEN|ERROR: |SUMMARY: |runtime error|Test unit written' "$log" | head -20
        echo "fuzz: fuzz_$target FAILED (exit $rc); full log: $log" >&2
        line="$line -- FAILED, input left in $artifacts/"
    fi
    echo "$line" >build-fuzz/summary-$target
    echo "fuzz: $line ($(( $(now) - t0 ))s)"
    return "$rc"
}
if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
    pids=()
    for target in load api; do
        fuzz_one "$target" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
else
    for target in load api; do
        fuzz_one "$target" || status=1
    done
fi
for target in load api; do
    summary+=("$(cat build-fuzz/summary-$target)")
done

if [ -n "$(ls -A fuzz/known-bugs 2>/dev/null | grep -v README)" ]; then
    echo "== fuzz: known bugs (fuzz/known-bugs/)"
    for f in fuzz/known-bugs/*.bin; do
        target=$(basename "$f" | cut -d- -f1)
        # (handle_abort=1: ASan turns the expected abort into exit status 1,
        # so bash does not announce it.)
        if FUZZ_AVOID= ASAN_OPTIONS="$ASAN_OPTIONS:handle_abort=1" \
            build-fuzz/fuzz/fuzz_replay_$target "$f" >/dev/null 2>&1; then
            echo "fuzz: $(basename "$f"): no longer reproduces -- FIXED? move it to fuzz/corpus/$target/ and drop it from KNOWN_BUGS in scripts/fuzz.sh"
        else
            echo "fuzz: $(basename "$f"): still reproduces (open bug)"
        fi
    done
fi

printf 'fuzz: %s\n' "${summary[@]}"
exit $status
