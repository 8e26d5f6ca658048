/* Matrix products: OpenBLAS, split over the pool's threads when large.
 *
 * A product is split along the longer of C's two dimensions, so that each
 * thread re-packs only the smaller operand: splitting C's rows repeats
 * op(B)'s packing, splitting its columns repeats op(A)'s. Each part is an
 * ordinary BLAS call on sub-matrices (pointer offsets, same leading
 * dimensions), so no data moves. The parts depend on the shape and the
 * thread count alone, so the bits do too: a product the pool runs on its
 * caller alone runs the same parts in order, or as one call (gemm_whole)
 * only where that call is known to give the parts' bits
 * (whole_call_gives_parts_bits).
 *
 * Products of at least large_min multiply-adds are cut into
 * PARTS_PER_THREAD parts per thread and always split, without the pool's
 * measured choice (thread_pool.h, SMLP_POOL_ALWAYS_SPLIT): threads claim
 * parts as they get to them, so a worker that is slow or descheduled
 * delays the caller by at most the one part it holds, a quarter of the
 * product with two threads, while the split as a whole runs on every CPU it
 * gets.
 *
 * Small products skip OpenBLAS's packing: on its AVX-512 cores through its
 * small-matrix kernels (run_small_nn), on its AVX2 cores through the
 * library's own (small_gemm.c, run_small_own). */
#include "smlp_kernels.h"
#include "thread_pool.h"

#include <cblas.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


enum {
    PART_ALIGN = 16,       /* parts start at multiples of 16 rows/columns */
    PARTS_PER_THREAD = 2,  /* parts of a large product (large_min) per thread */
};

/* OpenBLAS 0.3.21's small-matrix permit (the AVX-512 cores) refuses every
 * product of more multiply-adds than this. */
static const double SMALL_KERNEL_MAX = 1e6;

/* Products of fewer multiply-adds run on one thread. A 2^20 product takes
 * ~10-20 us on one AVX-512 core; below that the fork-join, the repeated
 * packing of the smaller operand and, on a loaded machine, the wait for a
 * worker to be scheduled cost about what the second thread saves. */
static const double parallel_min = 1048576.0;

double smlp_gemm_parallel_min(void) { return parallel_min; }

/* Products of at least this many multiply-adds are always split, in
 * PARTS_PER_THREAD parts per thread (the top of the file): 2^26, so that
 * the 4 parts of two threads are at least 2^24 multiply-adds each, over 16
 * times SMALL_KERNEL_MAX (the measurements: bench/README.md). */
static const double large_min = 67108864.0;

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
/* Below, with the paths it enables: the core's kind decides them. */
static void small_paths_setup(bool avx512_core, bool avx2_core);

/* Whether one call rounds every element of C as the calls on parts of C's
 * rows or columns do, [0] sgemm and [1] dgemm, for the core in use (setup,
 * once); where not, the pool's whole way runs the parts in order
 * (whole_call_gives_parts_bits). True only for the kernels where that was
 * checked. OpenBLAS 0.3.21's AVX2 cores (Haswell, Zen): their dgemm gives a
 * product and its parts the same bits; their sgemm rounds an element by
 * where the call's blocks put it, and one call differed from two parts in
 * 26-30 of 30 random shapes split along OpenBLAS's M (C's columns here),
 * whatever the alignment (bench/one_call_parts.c). The AVX-512 cores
 * (SkylakeX, Cooperlake): test_blas (b), which trains on 4 threads at once,
 * so that some products run whole, against one thread, passes on them;
 * ctest runs (b) on the CPU's best core and on Haswell. */
static bool one_call_rounds_as_parts[2];

#ifdef SMLP_PRIVATE_OPENBLAS
/* OpenBLAS's own (pthreads build): stops the server threads it started when
 * it was loaded; it would start them again only for a multi-threaded call. */
int blas_thread_shutdown_(void);
#endif

/* Once, before the first product: with the private OpenBLAS, correct its
 * core (blas_core.c), make it single-threaded (its own threads would split
 * every product again and allocate per call) and stop the server threads
 * it started when loaded (idle from then on, they spin in sched_yield for
 * about 0.1 s before they sleep, on a core the pool's workers or the
 * application could use), then start the pool; and decide, from the core's
 * kind, which of the small-product paths below it takes and whether a
 * product run whole may be one call. */
static void setup(void) {
    bool avx512_core = false, avx2_core = false;
#ifdef SMLP_PRIVATE_OPENBLAS
    smlp_blas_correct_core();
    openblas_set_num_threads(1);
    blas_thread_shutdown_();
    const char *core = openblas_get_corename();
    avx512_core = core && (strcasecmp(core, "skylakex") == 0 || strcasecmp(core, "cooperlake") == 0);
    avx2_core = core && (strcasecmp(core, "haswell") == 0 || strcasecmp(core, "zen") == 0);
#endif
    one_call_rounds_as_parts[0] = avx512_core;
    one_call_rounds_as_parts[1] = avx512_core || avx2_core;
    small_paths_setup(avx512_core, avx2_core);
}

int smlp_blas_threads(void) {
    pthread_once(&setup_once, setup);
#ifdef SMLP_PRIVATE_OPENBLAS
    return smlp_pool_size();
#else
    return 1;
#endif
}

int smlp_blas_get_threads(void) {
#ifdef SMLP_PRIVATE_OPENBLAS
    return smlp_blas_threads();
#else
    pthread_once(&setup_once, setup);
    return openblas_get_num_threads();
#endif
}

bool smlp_blas_set_threads(int count) {
    pthread_once(&setup_once, setup);
#ifdef SMLP_PRIVATE_OPENBLAS
    return smlp_pool_set_size(count);
#else
    if (count < 1 || count > 64) return false;
    openblas_set_num_threads(count);
    return true;
#endif
}

typedef struct {
    int dbl, trans_a, trans_b, m, n, k, lda, ldb, ldc;
    double alpha, beta;
    const void *a, *b;
    void *c;
    int split_rows, chunk, total;
    bool large;  /* >= large_min multiply-adds and split: always split (plan) */
} gemm_job;

/* One row-major BLAS call of either element type (the pointers' type). */
static void blas_gemm(int dbl, bool trans_a, bool trans_b, int m, int n, int k, double alpha, const void *a,
                      int lda, const void *b, int ldb, double beta, void *c, int ldc) {
    enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
    if (dbl)
        cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    else
        cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, (float)alpha, a, lda, b, ldb, (float)beta, c, ldc);
}

static void gemm_part(void *context, int index) {
    const gemm_job *j = context;
    int start = index * j->chunk;
    int len = j->total - start < j->chunk ? j->total - start : j->chunk;
    if (len <= 0) return;
    size_t es = j->dbl ? sizeof(double) : sizeof(float);
    const char *a = j->a, *b = j->b;
    char *c = j->c;
    int m = j->m, n = j->n;
    if (j->split_rows) {
        m = len;
        a += (size_t)start * (j->trans_a ? 1 : (size_t)j->lda) * es;
        c += (size_t)start * (size_t)j->ldc * es;
    } else {
        n = len;
        b += (size_t)start * (j->trans_b ? (size_t)j->ldb : 1) * es;
        c += (size_t)start * es;
    }
    blas_gemm(j->dbl, j->trans_a, j->trans_b, m, n, j->k, j->alpha, a, j->lda, b, j->ldb, j->beta, c, j->ldc);
}

/* How many parts: one per thread (PARTS_PER_THREAD from large_min), each at
 * least PART_ALIGN long. */
static int plan(gemm_job *j) {
    double work = (double)j->m * (double)j->n * (double)j->k;
    int use = work >= parallel_min ? smlp_blas_threads() : 1;
    j->large = use > 1 && work >= large_min;
    if (j->large) use *= PARTS_PER_THREAD;
    j->split_rows = j->m >= j->n;
    j->total = j->split_rows ? j->m : j->n;
    int parts = j->total / PART_ALIGN;
    if (parts > use) parts = use;
    if (parts < 1) parts = 1;
    int chunk = (j->total + parts - 1) / parts;
    chunk = (chunk + PART_ALIGN - 1) / PART_ALIGN * PART_ALIGN;
    j->chunk = chunk;
    return (j->total + chunk - 1) / chunk;
}

#if defined(SMLP_PRIVATE_OPENBLAS) && defined(__x86_64__)
/* ---- Small x·W^T products through OpenBLAS's small-matrix kernels ----
 *
 * A layer's forward product f = x·W^T (row-major; x is B x N_in, W is
 * N_out x N_in) reaches OpenBLAS, which computes a row-major product as the
 * column-major one with the operands swapped, as a "TN" product with
 * M = N_out, N = B, K = N_in. OpenBLAS 0.3.21's AVX-512 cores
 * (SkylakeX, Cooperlake) have small-matrix kernels that skip packing, but
 * their permit (kernel/x86_64/sgemm_small_kernel_permit_skylakex.c, also
 * used for double) refuses TN when M·N > 1200 or K < 32, while it accepts
 * NN and TT for every product of at most 100³ multiply-adds. So for such a
 * product the smaller operand is copied transposed here (an AVX-512 tile
 * transpose) and the product runs as one the permit accepts: x (B x N_in)
 * when B < N_out, as (x^T)^T·W^T (TT: W as it is), else W, as x·(W^T)
 * (NN). The copy is of the batch when the batch is the smaller, so a layer
 * wider than its batch (the digits' 128 outputs at batch 32) no longer
 * transposes its W on every call. The choice depends only on the shape, so
 * a product gives the same bits every time; the kernels may round a sum
 * differently from each other (test_small_products compares each with a
 * naive forward pass and with a core without the small kernels).
 *
 * Only when the batch has >= 16 rows and the transposed operand has
 * <= SMALL_NN_MAX elements. The transposed copy
 * goes to one of SCRATCH_SLOTS shared buffers, each taken by one product at
 * a time (an atomic flag; a product that finds every slot taken runs as
 * before), allocated at its first use and grown only for a larger operand, so
 * nothing is allocated once the shapes repeat. They are not per thread, so
 * no thread-exit destructor points into this library after a dlclose; the
 * library's unload destructor frees every slot not in use. */
enum { SMALL_NN_MIN_ROWS = 16, SMALL_NN_MAX = 1 << 17, SCRATCH_SLOTS = 8 };

#include <immintrin.h>
#include <stdatomic.h>

static bool small_nn_core;  /* the core has the small-matrix kernels (setup, once) */
static bool own_small_core; /* the core is one of small_gemm.c's (setup, once) */

static struct scratch_slot {
    atomic_int taken;
    void *data;
    size_t bytes;
} slots[SCRATCH_SLOTS];

static void small_paths_setup(bool avx512_core, bool avx2_core) {
    small_nn_core = avx512_core && smlp_cpu_level() >= SMLP_CPU_AVX512;
    /* OpenBLAS's AVX2 cores, whose kernels need the CPU's AVX2 and FMA as
     * small_gemm.c's do: which products take those kernels goes with the
     * core, like the rest of the products' rounding, not with the level. */
    own_small_core = avx2_core && smlp_cpu_detected_level() >= SMLP_CPU_AVX2;
}

/* A free slot with at least `bytes`, taken (give it back with
 * scratch_give), or NULL. */
static struct scratch_slot *scratch_take(size_t bytes) {
    for (int i = 0; i < SCRATCH_SLOTS; i++) {
        struct scratch_slot *s = &slots[i];
        if (atomic_exchange_explicit(&s->taken, 1, memory_order_acquire)) continue;
        if (s->bytes < bytes) {
            void *p = NULL;
            if (posix_memalign(&p, 64, bytes) != 0) {
                atomic_store_explicit(&s->taken, 0, memory_order_release);
                return NULL;
            }
            free(s->data);
            s->data = p;
            s->bytes = bytes;
        }
        return s;
    }
    return NULL;
}

static void scratch_give(struct scratch_slot *s) { atomic_store_explicit(&s->taken, 0, memory_order_release); }

/* At unload (dlclose, or exit): free the slots nobody holds and keep them
 * taken, so a product still running elsewhere at exit falls back to the
 * plain call instead of using freed memory. */
__attribute__((destructor)) static void scratch_unload(void) {
    for (int i = 0; i < SCRATCH_SLOTS; i++) {
        struct scratch_slot *s = &slots[i];
        if (atomic_exchange_explicit(&s->taken, 1, memory_order_acquire)) continue;
        free(s->data);
        s->data = NULL;
        s->bytes = 0;
    }
}

/* The small products' transpose, for floats and doubles alike: a tile is
 * the 16 x 16 floats or 8 x 8 doubles of 16 or 8 512-bit registers, held
 * as __m512 whatever the element type (loads, stores, interleaves and lane
 * shuffles move bits, never convert them). */

/* out[b + 2j], out[b + 2j + 1] = the low and high interleave (within each
 * 128-bit lane) of the 32-bit (or, when wide, 64-bit) elements of in[b + j]
 * and in[b + j + d], for j < d, in each block of 2d of the n registers. */
__attribute__((target("avx512f"), always_inline))
static inline void interleave(__m512 *restrict out, const __m512 *restrict in, int n, int d, bool wide) {
    for (int b = 0; b < n; b += 2 * d)
        for (int j = 0; j < d; j++) {
            __m512 x = in[b + j], y = in[b + j + d];
            __m512d xd = _mm512_castps_pd(x), yd = _mm512_castps_pd(y);
            out[b + 2 * j] = wide ? _mm512_castpd_ps(_mm512_unpacklo_pd(xd, yd)) : _mm512_unpacklo_ps(x, y);
            out[b + 2 * j + 1] = wide ? _mm512_castpd_ps(_mm512_unpackhi_pd(xd, yd)) : _mm512_unpackhi_ps(x, y);
        }
}

/* For each g < s, the 4 x 4 matrix of 128-bit lanes of r[g], r[g + s],
 * r[g + 2s], r[g + 3s], transposed in place. */
__attribute__((target("avx512f"), always_inline))
static inline void transpose_lanes(__m512 *r, int s) {
    for (int g = 0; g < s; g++) {
        __m512 a = _mm512_shuffle_f32x4(r[g], r[g + s], 0x88), b = _mm512_shuffle_f32x4(r[g], r[g + s], 0xdd);
        __m512 c = _mm512_shuffle_f32x4(r[g + 2 * s], r[g + 3 * s], 0x88);
        __m512 e = _mm512_shuffle_f32x4(r[g + 2 * s], r[g + 3 * s], 0xdd);
        r[g] = _mm512_shuffle_f32x4(a, c, 0x88);
        r[g + s] = _mm512_shuffle_f32x4(b, e, 0x88);
        r[g + 2 * s] = _mm512_shuffle_f32x4(a, c, 0xdd);
        r[g + 3 * s] = _mm512_shuffle_f32x4(b, e, 0xdd);
    }
}

/* dst (k x n, leading dimension n) = src^T, src (n x k, leading dimension
 * lds), of elements of `size` (4 or 8) bytes: the full tiles in registers,
 * the edges element by element. Always inlined with a constant size. */
__attribute__((target("avx512f"), always_inline))
static inline void transpose_sized(const char *restrict src, size_t lds, char *restrict dst, size_t n, size_t k,
                                   size_t size) {
    size_t tile = 64 / size, nt = n / tile * tile, kt = k / tile * tile, src_row = lds * size, dst_row = n * size;
    for (size_t j0 = 0; j0 < nt; j0 += tile)
        for (size_t p0 = 0; p0 < kt; p0 += tile) {
            const char *from = src + (j0 * lds + p0) * size;
            char *to = dst + (p0 * n + j0) * size;
            __m512 a[16], b[16];
            for (size_t i = 0; i < tile; i++) a[i] = _mm512_loadu_ps(from + i * src_row);
            /* Interleave elements, then pairs of them, up to 128-bit lanes
             * (two steps for floats, one for doubles), then the lanes. */
            interleave(b, a, (int)tile, 1, size == 8);
            if (size == 4) interleave(a, b, 16, 2, true);
            __m512 *r = size == 4 ? a : b;
            transpose_lanes(r, (int)tile / 4);
            for (size_t i = 0; i < tile; i++) _mm512_storeu_ps(to + i * dst_row, r[i]);
        }
    for (size_t j = 0; j < n; j++)
        for (size_t p = j < nt ? kt : 0; p < k; p++) memcpy(dst + (p * n + j) * size, src + (j * lds + p) * size, size);
}

/* src^T into dst as transpose_sized, of doubles or floats. */
__attribute__((target("avx512f")))
static void transpose(bool dbl, const void *src, size_t lds, void *dst, size_t n, size_t k) {
    if (dbl) transpose_sized(src, lds, dst, n, k, sizeof(double));
    else transpose_sized(src, lds, dst, n, k, sizeof(float));
}

/* Whether j's x·W^T is a product the permit refuses as it comes and takes
 * with one operand transposed (see above); false (nothing done) otherwise. */
static bool small_nn_applies(bool trans_a, bool trans_b, int m, int n, int k) {
    /* Never a product plan() would split: 1e6 multiply-adds < parallel_min. */
    if (!small_nn_core || trans_a || !trans_b || m < SMALL_NN_MIN_ROWS) return false;
    double mnk = (double)m * (double)n * (double)k;
    bool tn_refused = (double)m * (double)n > 1200.0 || k < 32;
    return mnk <= SMALL_KERNEL_MAX && tn_refused && (size_t)(m < n ? m : n) * (size_t)k <= SMALL_NN_MAX;
}

/* Runs j with its smaller operand transposed into a scratch slot: A (x, m x
 * k) as a TT product when m < n, else B (W, n x k) as an NN product. */
static bool run_small_nn(const gemm_job *j) {
    if (!small_nn_applies(j->trans_a, j->trans_b, j->m, j->n, j->k)) return false;
    bool x_smaller = j->m < j->n;
    size_t rows = (size_t)(x_smaller ? j->m : j->n), k = (size_t)j->k;
    const void *src = x_smaller ? j->a : j->b;
    size_t lds = (size_t)(x_smaller ? j->lda : j->ldb);
    struct scratch_slot *slot = scratch_take(rows * k * (j->dbl ? sizeof(double) : sizeof(float)));
    if (!slot) return false;
    transpose(j->dbl, src, lds, slot->data, rows, k);
    if (x_smaller)
        blas_gemm(j->dbl, true, true, j->m, j->n, j->k, j->alpha, slot->data, j->m, j->b, j->ldb, j->beta,
                  j->c, j->ldc);
    else
        blas_gemm(j->dbl, false, false, j->m, j->n, j->k, j->alpha, j->a, j->lda, slot->data, j->n, j->beta,
                  j->c, j->ldc);
    scratch_give(slot);
    return true;
}

/* Small products on OpenBLAS's AVX2 cores, which pack both operands of every
 * product: the library's own kernels (small_gemm.c), which read them in
 * place. Up to own_small_max multiply-adds, where those kernels are faster
 * in all three of a layer's forms (measured: bench/README.md); never a
 * product plan() would split. */
static const double own_small_max = 131072.0;

static bool run_small_own(const gemm_job *j) {
    if (!own_small_core || (double)j->m * (double)j->n * (double)j->k > own_small_max) return false;
    return smlp_small_gemm_avx2(j->dbl, j->trans_a, j->trans_b, j->m, j->n, j->k, j->alpha, j->a, j->lda, j->b,
                                j->ldb, j->beta, j->c, j->ldc);
}
#else
static const bool small_nn_core = false;
static void small_paths_setup(bool avx512_core, bool avx2_core) { (void)avx512_core, (void)avx2_core; }
static bool run_small_own(const gemm_job *j) {
    (void)j;
    return false;
}
static bool small_nn_applies(bool trans_a, bool trans_b, int m, int n, int k) {
    (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k;
    return false;
}
static bool run_small_nn(const gemm_job *j) {
    (void)j;
    return false;
}
#endif

/* ---- Products with one row or one column of C: one matrix-vector call ----
 *
 * A batch of one (predict on one sample, a forward or backward at B = 1)
 * and a layer of one output unit make C (1 x n) or (m x 1). GEMM packs its
 * whole matrix operand for such a product and then runs it through kernels
 * built for many rows; ?gemv reads the matrix once, in place. OpenBLAS's
 * AVX-512 cores (small_nn_core) skip the packing through their
 * small-matrix kernels, which are at least as fast there, so this path is
 * for the other cores, Haswell (the AVX2 class) among them.
 * Its sum over k is not in GEMM's order: results differ in the last bits
 * from a many-row product, within the products' tolerance (test_blas.c).
 * With beta 0, C's old contents (uninitialized, even NaN) must not count:
 * OpenBLAS scales y by beta before adding, and whether a scale by 0 clears
 * a NaN depends on its version, so C is cleared here and beta 1 passed. */
static bool run_gemv(const gemm_job *j) {
    if (small_nn_core || (j->m != 1 && j->n != 1)) return false;
    bool row = j->m == 1;  /* C = x^T op(M)^T: M is op(B); else C = op(A) x: M is A */
    size_t es = j->dbl ? sizeof(double) : sizeof(float);
    const void *mat = row ? j->b : j->a, *vec = row ? j->a : j->b;
    int ld = row ? j->ldb : j->lda, len = row ? j->n : j->m;
    /* The vector's stride: op(A)'s row 0 or op(B)'s column 0. */
    int incx = row ? (j->trans_a ? j->lda : 1) : (j->trans_b ? 1 : j->ldb);
    int incy = row ? 1 : j->ldc;
    /* M is stored (len x k) when op(B) = B^T (row) or op(A) = A (column). */
    bool stored_len_by_k = row ? j->trans_b : !j->trans_a;
    enum CBLAS_TRANSPOSE t = stored_len_by_k ? CblasNoTrans : CblasTrans;
    int rows = stored_len_by_k ? len : j->k, cols = stored_len_by_k ? j->k : len;
    double beta = j->beta;
    if (beta == 0.0) {
        for (int i = 0; i < len; i++) memset((char *)j->c + (size_t)i * (size_t)incy * es, 0, es);
        beta = 1.0;
    }
    if (j->dbl)
        cblas_dgemv(CblasRowMajor, t, rows, cols, j->alpha, mat, ld, vec, incx, beta, j->c, incy);
    else
        cblas_sgemv(CblasRowMajor, t, rows, cols, (float)j->alpha, mat, ld, vec, incx, (float)beta, j->c, incy);
    return true;
}

/* The product as one call (the pool's "whole" way). */
static void gemm_whole(void *context) {
    gemm_job *j = context;
    j->chunk = j->total;
    gemm_part(j, 0);
}

/* Whether one call gives the bits of j's `parts` parts run in order, so that
 * the pool's "whole" way may be that call (fewer packings of the shared
 * operand). It takes two things. The core's kernels must round an element
 * of a part as they round it in the whole product (one_call_rounds_as_parts:
 * OpenBLAS 0.3.21's Haswell and Zen sgemm do not, see setup). And on the
 * AVX-512 cores the smallest part must be above SMALL_KERNEL_MAX, so that
 * the parts and the one call take the same path, not the small-matrix
 * kernels for some. */
static bool whole_call_gives_parts_bits(const gemm_job *j, int parts) {
    if (!one_call_rounds_as_parts[j->dbl]) return false;
    int last = j->total - (parts - 1) * j->chunk;
    int shortest = last < j->chunk ? last : j->chunk;
    double other = j->split_rows ? (double)j->n : (double)j->m;
    return (double)shortest * other * (double)j->k > SMALL_KERNEL_MAX;
}

static void run(gemm_job *j) {
    pthread_once(&setup_once, setup);
    if (run_gemv(j) || run_small_nn(j) || run_small_own(j)) return;
    int parts = plan(j);
    if (parts <= 1) {
        gemm_whole(j);
    } else {
        uint64_t kind = (uint64_t)(j->dbl | j->trans_a << 1 | j->trans_b << 2 | parts << 3);
        uint64_t key = j->large ? SMLP_POOL_ALWAYS_SPLIT
                           : smlp_pool_key(kind, (uint64_t)j->m, (uint64_t)j->n, (uint64_t)j->k);
        smlp_pool_run(key, gemm_part, j, parts, whole_call_gives_parts_bits(j, parts) ? gemm_whole : NULL);
    }
}

void smlp_sgemm(bool trans_a, bool trans_b, int m, int n, int k,
                float alpha, const float *a, int lda, const float *b, int ldb,
                float beta, float *c, int ldc) {
    gemm_job j = {0, trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c, 0, 0, 0, false};
    run(&j);
}

void smlp_dgemm(bool trans_a, bool trans_b, int m, int n, int k,
                double alpha, const double *a, int lda, const double *b, int ldb,
                double beta, double *c, int ldc) {
    gemm_job j = {1, trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c, 0, 0, 0, false};
    run(&j);
}
