/* Small products on AVX2 cores: the library's own kernels, no packing.
 *
 * OpenBLAS 0.3.21 has small-matrix kernels (no packing) only in its AVX-512
 * cores; its Haswell core, the one of AVX2-only CPUs, packs both operands of
 * every product. These kernels read the operands where they are and take
 * 0.37-0.88 of its time on the layers measured up to 2^17 multiply-adds
 * (bench/README.md, "Small products on OpenBLAS's AVX2 cores"). They run in
 * the three forms a layer's products take (row-major, as smlp_gemm):
 * C = op(A)·B with op(A) = A (dg_prev = df·W) or A^T
 * (dW = df^T·g_prev) as outer products (a row of B times a broadcast
 * element of op(A), MR x 2 vectors of C in registers), and C = A·B^T
 * (f = g_prev·W^T) as dot products (3 rows of A against 4 rows of B, summed
 * along k, then reduced to 4 neighbouring elements of C).
 *
 * The sum over k runs in one fixed order per element that depends on the
 * shape alone (outer: p = 0, 1, ... fused multiply-adds; dot: one partial
 * sum per vector lane, the lanes added pairwise at the end), so a product
 * gives the same bits every time. Edges: C's last columns (outer) and
 * A's and B's last elements along k (dot) are read with masked loads, never
 * past an operand's end; C's last rows take tiles of fewer rows. With beta
 * 0, C is only written (its old contents, even NaN, do not count). */
#include "smlp_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

enum { MR = 6, DR = 3 };  /* rows of C per tile (outer, dot): 12 accumulators either way */

/* outer_rows_'s cases for ROWS rows: 1 or 2 vectors of columns, the last
 * one masked or not. */
#define OUTER_KEY(ROWS, NV, MASKED) ((ROWS) * 4 + ((NV) - 1) * 2 + (MASKED))
#define OUTER_CASE(SUF, ROWS, NV, MASKED)                                                                   \
    case OUTER_KEY(ROWS, NV, MASKED):                                                                        \
        outer_tile_##SUF(ROWS, NV, MASKED, mask, k, alpha, a, ai, ap, b, ldb, beta, c, ldc);                \
        break;
#define OUTER_CASES(SUF, ROWS)                                                                              \
    OUTER_CASE(SUF, ROWS, 1, false) OUTER_CASE(SUF, ROWS, 1, true) OUTER_CASE(SUF, ROWS, 2, false)          \
    OUTER_CASE(SUF, ROWS, 2, true)

/* One element type's kernels. T: the element; V: lanes per vector; VEC: the
 * vector type; the rest: the intrinsics and helpers the kernels use. */
#define SMALL_GEMM_KERNELS(SUF, T, V, VEC, ZERO, LOADU, MASKLOAD, STOREU, MASKSTORE, BCAST, FMA, MUL, SET1,  \
                           REDUCE4, PUT4)                                                                       \
    /* The mask of the first `count` lanes (0 < count <= V). */                                             \
    __attribute__((target("avx2,fma"), always_inline)) static inline __m256i mask_##SUF(int count) {        \
        return V == 4 ? _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), _mm256_setr_epi64x(0, 1, 2, 3))       \
                      : _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); \
    }                                                                                                       \
                                                                                                            \
    /* c[0..V) = alpha * acc + beta * c, or only mask's lanes when masked. */                              \
    __attribute__((target("avx2,fma"), always_inline)) static inline void put_##SUF(                        \
        T *c, VEC acc, VEC alpha, T beta, bool masked, __m256i mask) {                                      \
        VEC r = MUL(acc, alpha);                                                                            \
        if (beta != 0) r = FMA(SET1(beta), masked ? MASKLOAD(c, mask) : LOADU(c), r);                       \
        if (masked) MASKSTORE(c, mask, r);                                                                  \
        else STOREU(c, r);                                                                                  \
    }                                                                                                       \
                                                                                                            \
    /* Rows [0, ROWS) x columns [0, NV vectors) of C = alpha op(A) B + beta C, op(A)'s element (i, p) at \
     * a[i * ai + p * ap]; the last vector masked when `masked`. */                                         \
    __attribute__((target("avx2,fma"), always_inline)) static inline void outer_tile_##SUF(                 \
        int ROWS, int NV, bool masked, __m256i mask, int k, T alpha, const T *a, size_t ai, size_t ap,      \
        const T *b, size_t ldb, T beta, T *c, size_t ldc) {                                                 \
        VEC acc[MR][2];                                                                                     \
        for (int r = 0; r < ROWS; r++) acc[r][0] = acc[r][1] = ZERO();                                      \
        for (int p = 0; p < k; p++) {                                                                       \
            const T *bp = b + (size_t)p * ldb;                                                              \
            VEC b0 = NV == 1 && masked ? MASKLOAD(bp, mask) : LOADU(bp);                                    \
            VEC b1 = NV == 2 ? (masked ? MASKLOAD(bp + V, mask) : LOADU(bp + V)) : ZERO();                  \
            for (int r = 0; r < ROWS; r++) {                                                                \
                VEC x = BCAST(a + (size_t)r * ai + (size_t)p * ap);                                         \
                acc[r][0] = FMA(x, b0, acc[r][0]);                                                          \
                if (NV == 2) acc[r][1] = FMA(x, b1, acc[r][1]);                                             \
            }                                                                                               \
        }                                                                                                   \
        VEC va = SET1(alpha);                                                                               \
        for (int r = 0; r < ROWS; r++) {                                                                    \
            T *cr = c + (size_t)r * ldc;                                                                    \
            put_##SUF(cr, acc[r][0], va, beta, NV == 1 && masked, mask);                                    \
            if (NV == 2) put_##SUF(cr + V, acc[r][1], va, beta, masked, mask);                              \
        }                                                                                                   \
    }                                                                                                       \
                                                                                                            \
    /* outer_tile_ with ROWS (1..MR), NV (1, 2) and masked as constants. */                                 \
    __attribute__((target("avx2,fma"))) static void outer_rows_##SUF(                                       \
        int rows, int nv, bool masked, __m256i mask, int k, T alpha, const T *a, size_t ai, size_t ap,      \
        const T *b, size_t ldb, T beta, T *c, size_t ldc) {                                                 \
        switch (OUTER_KEY(rows, nv, masked)) {                                                              \
        OUTER_CASES(SUF, 1) OUTER_CASES(SUF, 2) OUTER_CASES(SUF, 3)                                         \
        OUTER_CASES(SUF, 4) OUTER_CASES(SUF, 5) OUTER_CASES(SUF, 6)                                         \
        }                                                                                                   \
    }                                                                                                       \
                                                                                                            \
    /* C = alpha op(A) B + beta C, in blocks of 2 vectors of columns by MR rows. */                          \
    __attribute__((target("avx2,fma"))) static void outer_##SUF(                                            \
        int m, int n, int k, T alpha, const T *a, size_t ai, size_t ap, const T *b, size_t ldb, T beta,     \
        T *c, size_t ldc) {                                                                                 \
        for (int j = 0; j < n; j += 2 * V) {                                                                \
            int cols = n - j < 2 * V ? n - j : 2 * V;                                                       \
            int nv = cols > V ? 2 : 1, last = cols - (nv - 1) * V;                                          \
            __m256i mask = mask_##SUF(last);                                                                \
            for (int i = 0; i < m; i += MR) {                                                               \
                int rows = m - i < MR ? m - i : MR;                                                         \
                outer_rows_##SUF(rows, nv, last < V, mask, k, alpha, a + (size_t)i * ai, ai, ap, b + j,     \
                                 ldb, beta, c + (size_t)i * ldc + j, ldc);                                  \
            }                                                                                               \
        }                                                                                                   \
    }                                                                                                       \
                                                                                                            \
    /* C = alpha A B^T + beta C: DR rows of A (lda) against 4 rows of B (ldb) at a time; a tile's         \
     * missing rows of A or B repeat its last one and are not stored. */                                   \
    __attribute__((target("avx2,fma"))) static void dot_##SUF(                                              \
        int m, int n, int k, T alpha, const T *a, size_t lda, const T *b, size_t ldb, T beta, T *c,         \
        size_t ldc) {                                                                                       \
        int kv = k / V * V;                                                                                 \
        __m256i tail = mask_##SUF(k - kv > 0 ? k - kv : V);                                                 \
        for (int i = 0; i < m; i += DR) {                                                                   \
            const T *ar[DR];                                                                                \
            for (int r = 0; r < DR; r++) ar[r] = a + (size_t)(i + r < m ? i + r : m - 1) * lda;             \
            for (int j = 0; j < n; j += 4) {                                                                \
                const T *bq[4];                                                                             \
                for (int q = 0; q < 4; q++) bq[q] = b + (size_t)(j + q < n ? j + q : n - 1) * ldb;          \
                VEC s[DR][4];                                                                               \
                for (int r = 0; r < DR; r++)                                                                \
                    for (int q = 0; q < 4; q++) s[r][q] = ZERO();                                           \
                for (int p = 0; p < kv; p += V) {                                                           \
                    VEC x[DR];                                                                              \
                    for (int r = 0; r < DR; r++) x[r] = LOADU(ar[r] + p);                                   \
                    for (int q = 0; q < 4; q++) {                                                           \
                        VEC y = LOADU(bq[q] + p);                                                           \
                        for (int r = 0; r < DR; r++) s[r][q] = FMA(x[r], y, s[r][q]);                       \
                    }                                                                                       \
                }                                                                                           \
                if (kv < k) {                                                                               \
                    VEC x[DR];                                                                              \
                    for (int r = 0; r < DR; r++) x[r] = MASKLOAD(ar[r] + kv, tail);                         \
                    for (int q = 0; q < 4; q++) {                                                           \
                        VEC y = MASKLOAD(bq[q] + kv, tail);                                                 \
                        for (int r = 0; r < DR; r++) s[r][q] = FMA(x[r], y, s[r][q]);                       \
                    }                                                                                       \
                }                                                                                           \
                int cols = n - j < 4 ? n - j : 4;                                                           \
                for (int r = 0; r < DR && i + r < m; r++)                                                   \
                    PUT4(c + (size_t)(i + r) * ldc + j, REDUCE4(s[r]), alpha, beta, cols);                  \
            }                                                                                               \
        }                                                                                                   \
    }

/* The sum of each of s[0..3]'s lanes (lanes added in pairs), as one vector. */
__attribute__((target("avx2,fma"), always_inline)) static inline __m256d reduce4_f64(const __m256d *s) {
    __m256d t0 = _mm256_hadd_pd(s[0], s[1]), t1 = _mm256_hadd_pd(s[2], s[3]);
    return _mm256_add_pd(_mm256_permute2f128_pd(t0, t1, 0x20), _mm256_permute2f128_pd(t0, t1, 0x31));
}

__attribute__((target("avx2,fma"), always_inline)) static inline __m128 reduce4_f32(const __m256 *s) {
    __m256 u = _mm256_hadd_ps(_mm256_hadd_ps(s[0], s[1]), _mm256_hadd_ps(s[2], s[3]));
    return _mm_add_ps(_mm256_castps256_ps128(u), _mm256_extractf128_ps(u, 1));
}

/* put4_SUF(c, v, alpha, beta, cols): c[0..cols) = alpha v + beta c, v
 * holding 4 elements (R: its vector type). */
#define PUT4(SUF, T, R, MUL, SET1, FMADD, LOADU, STOREU, FMA1)                                              \
    __attribute__((target("avx2,fma"), always_inline)) static inline void put4_##SUF(T *c, R v, T alpha,    \
                                                                                    T beta, int cols) {     \
        v = MUL(v, SET1(alpha));                                                                            \
        if (cols == 4) {                                                                                    \
            if (beta != 0) v = FMADD(SET1(beta), LOADU(c), v);                                              \
            STOREU(c, v);                                                                                   \
            return;                                                                                         \
        }                                                                                                   \
        T r[4];                                                                                             \
        STOREU(r, v);                                                                                       \
        for (int q = 0; q < cols; q++) c[q] = beta != 0 ? FMA1(beta, c[q], r[q]) : r[q];                    \
    }
PUT4(f64, double, __m256d, _mm256_mul_pd, _mm256_set1_pd, _mm256_fmadd_pd, _mm256_loadu_pd, _mm256_storeu_pd,
     __builtin_fma)
PUT4(f32, float, __m128, _mm_mul_ps, _mm_set1_ps, _mm_fmadd_ps, _mm_loadu_ps, _mm_storeu_ps, __builtin_fmaf)

#define MASKLOAD_PD(p, m) _mm256_maskload_pd((p), (m))
#define MASKSTORE_PD(p, m, v) _mm256_maskstore_pd((p), (m), (v))
#define MASKLOAD_PS(p, m) _mm256_maskload_ps((p), (m))
#define MASKSTORE_PS(p, m, v) _mm256_maskstore_ps((p), (m), (v))

SMALL_GEMM_KERNELS(f64, double, 4, __m256d, _mm256_setzero_pd, _mm256_loadu_pd, MASKLOAD_PD, _mm256_storeu_pd,
                   MASKSTORE_PD, _mm256_broadcast_sd, _mm256_fmadd_pd, _mm256_mul_pd, _mm256_set1_pd, reduce4_f64,
                   put4_f64)
SMALL_GEMM_KERNELS(f32, float, 8, __m256, _mm256_setzero_ps, _mm256_loadu_ps, MASKLOAD_PS, _mm256_storeu_ps,
                   MASKSTORE_PS, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_mul_ps, _mm256_set1_ps, reduce4_f32,
                   put4_f32)

bool smlp_small_gemm_avx2(bool dbl, bool trans_a, bool trans_b, int m, int n, int k, double alpha, const void *a,
                          int lda, const void *b, int ldb, double beta, void *c, int ldc) {
    if ((trans_a && trans_b) || m < 1 || n < 1 || k < 1) return false;
    size_t la = (size_t)lda, lb = (size_t)ldb, lc = (size_t)ldc;
    /* op(A)'s element (i, p): A[i][p], or A[p][i] when transposed. */
    size_t ai = trans_a ? 1 : la, ap = trans_a ? la : 1;
    if (dbl) {
        if (trans_b) dot_f64(m, n, k, alpha, a, la, b, lb, beta, c, lc);
        else outer_f64(m, n, k, alpha, a, ai, ap, b, lb, beta, c, lc);
    } else {
        float fa = (float)alpha, fb = (float)beta;
        if (trans_b) dot_f32(m, n, k, fa, a, la, b, lb, fb, c, lc);
        else outer_f32(m, n, k, fa, a, ai, ap, b, lb, fb, c, lc);
    }
    return true;
}
#else
bool smlp_small_gemm_avx2(bool dbl, bool trans_a, bool trans_b, int m, int n, int k, double alpha, const void *a,
                          int lda, const void *b, int ldb, double beta, void *c, int ldc) {
    (void)dbl, (void)trans_a, (void)trans_b, (void)m, (void)n, (void)k, (void)alpha, (void)a, (void)lda, (void)b;
    (void)ldb, (void)beta, (void)c, (void)ldc;
    return false;
}
#endif
