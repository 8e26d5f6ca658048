/* Matrix products: OpenBLAS, split over the pool's threads when large.
 *
 * A product is split along the longer of C's two dimensions, so that each
 * thread re-packs only the smaller operand: splitting C's rows repeats
 * op(B)'s packing, splitting its columns repeats op(A)'s. Each part is an
 * ordinary BLAS call on sub-matrices (pointer offsets, same leading
 * dimensions), so no data moves and the sum order inside every element is
 * the same as in one call. */
#include "swiftmlp_blas.h"
#include "thread_pool.h"

#include <cblas.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>


enum { PART_ALIGN = 16 };  /* parts start at multiples of 16 rows/columns */

/* Products of fewer multiply-adds run on one thread. A 2^20 product takes
 * ~10-20 us on one AVX-512 core; below that the fork-join, the repeated
 * packing of the smaller operand and, on a loaded machine, the wait for a
 * worker to be scheduled cost about what the second thread saves. */
static const double parallel_min = 1048576.0;

double smlp_gemm_parallel_min(void) { return parallel_min; }

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static int threads = 1;

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
 * application could use), then start the pool. */
static void setup(void) {
#ifdef SMLP_PRIVATE_OPENBLAS
    smlp_blas_correct_core();
    openblas_set_num_threads(1);
    blas_thread_shutdown_();
    threads = smlp_pool_size();
#endif
}

int smlp_blas_threads(void) {
    pthread_once(&setup_once, setup);
    return threads;
}

typedef struct {
    int dbl, trans_a, trans_b, m, n, k, lda, ldb, ldc;
    double alpha, beta;
    const void *a, *b;
    void *c;
    int split_rows, chunk, total;
} gemm_job;

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
    enum CBLAS_TRANSPOSE ta = j->trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = j->trans_b ? CblasTrans : CblasNoTrans;
    if (j->dbl)
        cblas_dgemm(CblasRowMajor, ta, tb, m, n, j->k, j->alpha, (const double *)a, j->lda,
                    (const double *)b, j->ldb, j->beta, (double *)c, j->ldc);
    else
        cblas_sgemm(CblasRowMajor, ta, tb, m, n, j->k, (float)j->alpha, (const float *)a, j->lda,
                    (const float *)b, j->ldb, (float)j->beta, (float *)c, j->ldc);
}

/* How many parts: one per thread, each at least PART_ALIGN long. */
static int plan(gemm_job *j) {
    double work = (double)j->m * (double)j->n * (double)j->k;
    int use = work >= parallel_min ? threads : 1;
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

static void run(gemm_job *j) {
    pthread_once(&setup_once, setup);
    int parts = plan(j);
    if (parts <= 1) {
        j->chunk = j->total;
        gemm_part(j, 0);
    } else {
        smlp_pool_run(gemm_part, j, parts);
    }
}

void smlp_sgemm(bool trans_a, bool trans_b, int m, int n, int k,
                float alpha, const float *a, int lda, const float *b, int ldb,
                float beta, float *c, int ldc) {
    gemm_job j = {0, trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c, 0, 0, 0};
    run(&j);
}

void smlp_dgemm(bool trans_a, bool trans_b, int m, int n, int k,
                double alpha, const double *a, int lda, const double *b, int ldb,
                double beta, double *c, int ldc) {
    gemm_job j = {1, trans_a, trans_b, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c, 0, 0, 0};
    run(&j);
}
