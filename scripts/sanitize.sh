#!/usr/bin/env bash
# Sanitizer runs of libswiftmlp and the whole C test suite (see fuzz/README.md).
#
#   scripts/sanitize.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer:
#                              SwiftPM --sanitize=address (+ UBSan on the C
#                              sources) into .build-asan/, every C program
#                              with -fsanitize=address,undefined into
#                              build-asan/; runs the whole ctest suite there
#                              (cmocka tests, examples, stress, corpus replays,
#                              canaries), then leak_cycles 10^4 times under
#                              LeakSanitizer.
#   scripts/sanitize.sh tsan   ThreadSanitizer: .build-tsan/ + build-tsan/;
#                              runs the whole ctest suite (c_test_threads and
#                              stress_thread_rules are the ones that matter),
#                              then thread_stress at full length.
#   scripts/sanitize.sh        both.
#
# Any sanitizer report fails the run: halt_on_error=1 everywhere, leak
# detection on, UBSan checks compiled as fatal.  The C compiler is the Swift
# toolchain's clang, chosen by cmake/SanitizerCompiler.cmake so that the C
# programs and the instrumented libswiftmlp.so share one sanitizer runtime.
#
# Environment: LEAK_CYCLES (default 10000), THREAD_ROUNDS (default 1000),
# JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

jobs=${JOBS:-2}
leak_cycles=${LEAK_CYCLES:-10000}
thread_rounds=${THREAD_ROUNDS:-1000}

swift_bin=$(dirname "$(readlink -f "$(command -v swift)")")
symbolizer="$swift_bin/llvm-symbolizer"
supp="$root/cmake/sanitizers"

now() { date +%s; }
elapsed() { echo "$(( $(now) - $1 ))s"; }

# The instrumented library must reference the sanitizer's entry points:
# otherwise the run would check nothing and pass.
require_instrumented() { # lib symbol-prefix
    local n
    n=$(nm -D --undefined-only "$1" | grep -c "$2" || true)
    if [ "$n" -eq 0 ]; then
        echo "sanitize: $1 has no $2* references: not instrumented" >&2
        exit 1
    fi
    echo "sanitize: $(basename "$1") is instrumented ($n $2* references)"
}

configure_and_build() { # dir sanitizers
    local dir=$1 san=$2 t0
    t0=$(now)
    cmake -S . -B "$dir" -DSWIFTMLP_SANITIZE="$san" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$dir" -j"$jobs"
    echo "sanitize: $dir built in $(elapsed "$t0")"
}

# ctest_suite DIR HEADING NAME [NOTE]: the whole ctest suite of build
# directory DIR, announced as HEADING (and NOTE), timed.
ctest_suite() {
    local t0
    echo "== $2: the whole ctest suite${4:-}"
    t0=$(now)
    ctest --test-dir "$1" -j"$jobs" --output-on-failure
    echo "sanitize: $3 ctest passed in $(elapsed "$t0")"
}

run_asan() {
    local t0
    echo "== ASan + UBSan: build (SwiftPM .build-asan, CMake build-asan)"
    configure_and_build build-asan address,undefined
    require_instrumented build-asan/lib/libswiftmlp.so __asan_report
    export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_string_checks=1"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
    export LSAN_OPTIONS="report_objects=1"
    export ASAN_SYMBOLIZER_PATH="$symbolizer" UBSAN_SYMBOLIZER_PATH="$symbolizer"

    ctest_suite build-asan "ASan + UBSan" ASan/UBSan

    echo "== LeakSanitizer: $leak_cycles create/train/save_buffer/load_buffer/free cycles"
    t0=$(now)
    build-asan/stress/leak_cycles "$leak_cycles"
    echo "sanitize: LeakSanitizer found no leak in $leak_cycles cycles ($(elapsed "$t0"))"
}

run_tsan() {
    local t0
    echo "== TSan: build (SwiftPM .build-tsan, CMake build-tsan)"
    configure_and_build build-tsan thread
    require_instrumented build-tsan/lib/libswiftmlp.so __tsan_
    # OPENBLAS_NUM_THREADS=1 and the suppressions: see cmake/sanitizers/tsan.supp.
    # die_after_fork=0: c-tests/test_blas.c trains on in a child forked from a
    # process with worker threads (TSan otherwise refuses any fork with threads).
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:die_after_fork=0:suppressions=$supp/tsan.supp"
    export TSAN_SYMBOLIZER_PATH="$symbolizer" OPENBLAS_NUM_THREADS=1

    ctest_suite build-tsan TSan TSan " (c_test_threads, stress_thread_rules, ...)"

    echo "== TSan: thread_stress, $thread_rounds rounds per thread"
    t0=$(now)
    build-tsan/stress/thread_stress "$thread_rounds"
    echo "sanitize: TSan thread_stress passed in $(elapsed "$t0")"
}

case "${1:-all}" in
    asan) run_asan ;;
    tsan) run_tsan ;;
    all) (run_asan) && (run_tsan) ;;
    *) echo "usage: $0 [asan|tsan|all]" >&2; exit 2 ;;
esac
