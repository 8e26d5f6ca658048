#!/usr/bin/env bash
# The swiftmlp benchmark, one command:
#
#   bash bench/run.sh                  # full run (~5-10 min on 2 cores)
#   bash bench/run.sh --smoke          # CI: shrunk workloads, 1 short repeat, all peers,
#                                      # all checks; < 2 min; exit 1 if a correctness check fails
#   bash bench/run.sh --seconds 2 --repeats 7    # longer repeats
#   bash bench/run.sh --workloads tiny,small --peers numpy-slides,swiftmlp-py,swiftmlp-c,fann
#   bash bench/run.sh --skip gemm,fit,alloc
#   bash bench/run.sh --sweeps                   # also the width and batch sweeps (sweeps.md, sweeps.png)
#   bash bench/run.sh --runs 5 --sweeps          # 5 runs in a row: combined.md, the worst of the 5
#   bash bench/run.sh --machine-class avx2       # SWIFTMLP_CPU=avx2 OPENBLAS_CORETYPE=Haswell, every process
#   bash bench/run.sh --machine-class single-core   # every process on CPU 0 (taskset -c 0)
#
# Options of its own: --no-deps (do not install missing packages, bench/deps.sh),
# --no-build (do not run `swift build`; use the library as it is). Every other
# option goes to bench/bench.py (python3 bench/bench.py --help).
#
# It installs what is missing (bench/deps.sh), builds libswiftmlp (SwiftPM,
# release) and the C drivers (cc), then runs bench/bench.py with
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE UNSET for itself and every process it
# starts (they force slower OpenBLAS kernels), and says so; only the avx2
# machine class sets OPENBLAS_CORETYPE=Haswell again (bench/runner.py).
#
# Output: a markdown table on stdout and in bench/results/results.md,
# bench/results/results.json, bench/results/ratios.png (--smoke: in
# bench/results/smoke/, so that it never overwrites a full run; a machine
# class in bench/results/avx2/ or bench/results/single-core/; --runs N in
# run-1/ .. run-N/ below it with combined.md; bench/results/ is gitignored;
# the drivers are built into bench/results/bin/).
set -euo pipefail
cd "$(dirname "$0")/.."

deps=1
build=1
pass=()
for a in "$@"; do
    case "$a" in
        --no-deps) deps=0 ;;
        --no-build) build=0 ;;
        -h|--help)
            sed -n '2,30p' "$0"
            exec python3 bench/bench.py --help ;;
        *) pass+=("$a") ;;
    esac
done

PY=${PYTHON:-python3}
[ "$deps" = 1 ] && PYTHON="$PY" bash bench/deps.sh

if [ "$build" = 1 ] && command -v swift >/dev/null 2>&1 && [ -z "${SWIFTMLP_LIBRARY:-}" ]; then
    echo "bench: swift build -c release --product swiftmlp"
    swift build -c release --product swiftmlp --manifest-cache none 2>&1 | tail -n 3
fi
LIB=${SWIFTMLP_LIBRARY:-.build/release/libswiftmlp.so}
if [ ! -f "$LIB" ]; then
    echo "bench: $LIB not found (build it: swift build -c release --product swiftmlp)" >&2
    exit 2
fi
LIB_ABS=$(cd "$(dirname "$LIB")" && pwd)/$(basename "$LIB")

BIN=bench/results/bin
mkdir -p "$BIN"
# libswiftmlp.so carries the SONAME libswiftmlp.so.MAJOR: the drivers find it
# next to themselves ($ORIGIN); Python gets the same file through SWIFTMLP_LIBRARY.
SONAME=libswiftmlp.so.$(sed -n 's/^#define SWIFTMLP_VERSION_MAJOR //p' include/swiftmlp.h)
ln -sf "$LIB_ABS" "$BIN/$SONAME"
ln -sf "$SONAME" "$BIN/libswiftmlp.so"
export SWIFTMLP_LIBRARY="$LIB_ABS"

CC=${CC:-cc}
CFLAGS="-O2 -std=c11 -Wall -Wextra -D_GNU_SOURCE"
echo "bench: building the C drivers ($CC)"
$CC $CFLAGS -Iinclude bench/swiftmlp_driver.c -L"$BIN" -lswiftmlp -ldl -Wl,-rpath,'$ORIGIN' -o "$BIN/swiftmlp_driver"
$CC $CFLAGS -shared -fPIC bench/alloc_count.c -ldl -o "$BIN/alloc_count.so"
$CC $CFLAGS -Iinclude bench/alloc_check.c bench/alloc_count.c -rdynamic -L"$BIN" -lswiftmlp -Wl,-rpath,'$ORIGIN' \
    -o "$BIN/alloc_check"
$CC $CFLAGS -Iinclude bench/ab.c -ldl -o "$BIN/ab"  # two builds in one process (bench/README.md)
$CC $CFLAGS -pthread bench/handoff.c -o "$BIN/handoff"  # the CPUs' hand-off (bench/README.md)
$CC $CFLAGS -Iinclude bench/thread_time.c -L"$BIN" -lswiftmlp -Wl,-rpath,'$ORIGIN' -o "$BIN/thread_time"  # per-thread run/wait (bench/README.md)
# The step's matrix products alone, through the library's own BLAS layer
# compiled in (bench/gemm_bound.c): with the private OpenBLAS archive when
# there is one, as Package.swift links it, else the shared libopenblas.
ARCHIVE=""
for a in /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a /usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.a; do
    [ -f "$a" ] && ARCHIVE=$a && break
done
# Compiled by the Swift toolchain's clang, as SwiftPM compiles them into the
# library (gcc keeps small_gemm.c's register tiles in memory: 2.3x slower).
KCC=$(command -v clang || echo "$CC")
BLAS_SRC="Sources/CSwiftMLPKernels/gemm.c Sources/CSwiftMLPKernels/small_gemm.c Sources/CSwiftMLPKernels/thread_pool.c Sources/CSwiftMLPKernels/blas_core.c Sources/CSwiftMLPKernels/cpu.c"
if [ -n "$ARCHIVE" ]; then
    $KCC -O2 -std=c11 -Wall -Wextra -DSMLP_PRIVATE_OPENBLAS -Ibench -ISources/CSwiftMLPKernels/include -ISources/CSwiftMLPKernels \
        bench/gemm_bound.c $BLAS_SRC "$ARCHIVE" -lpthread -lm -ldl -o "$BIN/gemm_bound"
else
    $KCC -O2 -std=c11 -Wall -Wextra -Ibench -ISources/CSwiftMLPKernels/include -ISources/CSwiftMLPKernels \
        bench/gemm_bound.c $BLAS_SRC -lopenblas -lpthread -lm -ldl -o "$BIN/gemm_bound"
fi
# The own small-product kernels against OpenBLAS, shape by shape (bench/small_products.c; run by hand).
$KCC -O2 -std=c11 -Wall -Wextra -ISources/CSwiftMLPKernels/include bench/small_products.c \
    Sources/CSwiftMLPKernels/small_gemm.c ${ARCHIVE:--lopenblas} -lpthread -lm -o "$BIN/small_products"
rm -f "$BIN/fann_driver_f32" "$BIN/fann_driver_f64"
if $CC $CFLAGS bench/fann_driver.c -lfloatfann -lm -ldl -o "$BIN/fann_driver_f32" &&
   $CC $CFLAGS -DBENCH_FANN_DOUBLE bench/fann_driver.c -ldoublefann -lm -ldl -o "$BIN/fann_driver_f64"; then
    :
else
    echo "bench: WARNING: the FANN driver did not build (libfann-dev missing?); the FANN peer will be skipped" >&2
    rm -f "$BIN/fann_driver_f32" "$BIN/fann_driver_f64"
fi

# Remember what we unset, so that the report can say it.
orig=()
for v in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
    if [ -n "${!v+x}" ]; then
        echo "bench: unsetting $v (was '${!v}') for all benchmark processes"
        orig+=("SWIFTMLP_BENCH_ORIG_$v=${!v}")
    else
        echo "bench: $v is not set (and stays unset for all benchmark processes)"
    fi
done
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${orig[@]}" "$PY" bench/bench.py "${pass[@]}"
