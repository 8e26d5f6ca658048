/*
 * train_mpi.c — data-parallel training of the slides' network over MPI.
 *
 *   mpirun -np 4 ./train_mpi        (as root: OMPI_ALLOW_RUN_AS_ROOT=1
 *                                    OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)
 *
 * Network [2, 8, 1], float64, sigmoid units, MSE, plain SGD (lr 2.0): it
 * learns y = 1 where x0 + 2 x1 > 0.3, on 512 rows per global
 * batch split UNEVENLY over the ranks (rank r holds a share proportional to
 * r + 1; with 3 or more ranks the last one holds none: an empty shard).
 *
 * Every step (the pattern of Horovod and PyTorch DDP):
 *   1. each rank: forward + backward on its b_r rows (skipped when b_r = 0),
 *      which gives the mean gradient g_r over those rows;
 *   2. swiftmlp_get_grads into buf, buf *= b_r, plus b_r and b_r * loss_r
 *      and a failure flag at the end of buf;
 *   3. MPI_Allreduce(MPI_IN_PLACE, buf, SUM): sum b_r g_r, B = sum b_r, ...;
 *   4. if any rank failed, every rank stops (no rank is left waiting in the
 *      next collective); else buf /= B, swiftmlp_set_grads, swiftmlp_step.
 * So every rank takes the same step: the parameters stay bit-identical.
 *
 * At the end rank 0 trains a second network in one process on the same
 * 512-row global batches and compares: the exit status is 0 only when the
 * ranks' parameters are bit-identical, equal that single-process run to
 * 1e-12 relative, and the loss fell below 0.1.
 */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swiftmlp.h"

enum { N_IN = 2, N_HIDDEN = 8, N_OUT = 1, GLOBAL_ROWS = 512, STEPS = 300 };
static const double LR = 2.0;

/* Row i of step s of the global data set (the same on every rank). */
static void make_row(int step, int i, double *x, double *y)
{
    uint64_t z = (uint64_t)step * 1000003u + (uint64_t)i * 7919u + 1u;
    for (int k = 0; k < N_IN; k++) {
        z = z * 6364136223846793005u + 1442695040888963407u;
        x[k] = (double)(z >> 11) * 0x1.0p-53 * 2.0 - 1.0;
    }
    y[0] = x[0] + 2.0 * x[1] > 0.3 ? 1.0 : 0.0;
}

/* The rows [*begin, *end) of the global batch that `rank` holds: shares
 * proportional to rank + 1, none for the last of 3 or more ranks. */
static void shard(int rank, int size, int *begin, int *end)
{
    int holders = size >= 3 ? size - 1 : size;
    int weight_total = holders * (holders + 1) / 2, before = 0;
    for (int r = 0; r < rank && r < holders; r++) {
        before += r + 1;
    }
    *begin = GLOBAL_ROWS * before / weight_total;
    *end = rank < holders ? GLOBAL_ROWS * (before + rank + 1) / weight_total : *begin;
}

/* A library call; on failure remember the first message and go on to the
 * collective (which tells every rank). */
#define TRY(call)                                                                  \
    do {                                                                           \
        if (!failed) {                                                             \
            swiftmlp_status status_ = (call);                                      \
            if (status_ != SWIFTMLP_OK) {                                          \
                failed = 1;                                                        \
                snprintf(message, sizeof message, "%s: %s (%s)", #call,            \
                         swiftmlp_status_string(status_), swiftmlp_last_error()); \
            }                                                                      \
        }                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank = 0, size = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    const size_t sizes[] = {N_IN, N_HIDDEN, N_OUT};
    int failed = 0, exit_code = 1;
    char message[512] = "";
    swiftmlp_net *net = NULL, *ref = NULL;
    size_t n = 0;
    double *buf = NULL, *params = NULL, *check = NULL, *x = NULL, *y = NULL, *out = NULL;
    double loss = 0.0, global_loss = NAN;

    if (swiftmlp_version_number() != SWIFTMLP_VERSION_NUMBER) {
        fprintf(stderr, "rank %d: header/library version mismatch\n", rank);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int begin = 0, end = 0;
    shard(rank, size, &begin, &end);
    const int rows = end - begin;

    TRY(swiftmlp_create(sizes, 3, SWIFTMLP_FLOAT64, /* seed */ 7, &net));
    TRY(swiftmlp_get_param_count(net, &n));
    /* the allreduce buffer: n gradient sums, then rows, rows * loss, failures */
    buf = calloc(n + 3, sizeof *buf);
    params = calloc(n, sizeof *params);
    check = calloc(n, sizeof *check);
    x = calloc(GLOBAL_ROWS * N_IN, sizeof *x);
    y = calloc(GLOBAL_ROWS * N_OUT, sizeof *y);
    out = calloc(GLOBAL_ROWS * N_OUT, sizeof *out);
    if (!failed && (!buf || !params || !check || !x || !y || !out)) {
        failed = 1;
        snprintf(message, sizeof message, "out of memory");
    }
    /* Rank 0's initial parameters everywhere (here they agree anyway: same seed). */
    int any_failed = failed;
    MPI_Allreduce(MPI_IN_PLACE, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any_failed) {
        goto done;
    }
    TRY(swiftmlp_get_params(net, SWIFTMLP_FLOAT64, params, n));
    MPI_Bcast(params, (int)n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    TRY(swiftmlp_set_params(net, SWIFTMLP_FLOAT64, params, n));

    for (int step = 0; step < STEPS; step++) {
        memset(buf, 0, (n + 3) * sizeof *buf);
        if (rows > 0 && !failed) {
            for (int i = 0; i < rows; i++) {
                make_row(step, begin + i, x + i * N_IN, y + i * N_OUT);
            }
            TRY(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, (size_t)rows * N_IN, (size_t)rows,
                                 out, (size_t)rows * N_OUT));
            TRY(swiftmlp_backward(net, SWIFTMLP_FLOAT64, y, (size_t)rows * N_OUT, (size_t)rows,
                                  &loss));
            TRY(swiftmlp_get_grads(net, SWIFTMLP_FLOAT64, buf, n));
            for (size_t i = 0; i < n; i++) {
                buf[i] *= rows;
            }
            buf[n] = rows;
            buf[n + 1] = loss * rows;
        }
        if (failed) {
            memset(buf, 0, (n + 3) * sizeof *buf);
            buf[n + 2] = 1;
        }
        MPI_Allreduce(MPI_IN_PLACE, buf, (int)(n + 3), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        if (buf[n + 2] != 0) {
            goto done; /* some rank failed: every rank stops here */
        }
        for (size_t i = 0; i < n; i++) {
            buf[i] /= buf[n];
        }
        global_loss = buf[n + 1] / buf[n];
        /* the same gradients and the same step on every rank */
        TRY(swiftmlp_set_grads(net, SWIFTMLP_FLOAT64, buf, n));
        TRY(swiftmlp_step(net, LR));
        if (rank == 0 && step % 50 == 0) {
            printf("step %3d  global loss %.6f\n", step, global_loss);
        }
    }

done:;
    /* Every rank learns whether any failed, then every rank checks. */
    any_failed = failed;
    MPI_Allreduce(MPI_IN_PLACE, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (failed) {
        fprintf(stderr, "rank %d: %s\n", rank, message);
    }
    if (any_failed) {
        if (rank == 0) {
            fprintf(stderr, "a rank failed: every rank stops\n");
        }
        goto out;
    }
    /* bit-identical on every rank: rank 0's parameters against each rank's */
    int same = swiftmlp_get_params(net, SWIFTMLP_FLOAT64, params, n) == SWIFTMLP_OK;
    memcpy(check, params, n * sizeof *check);
    MPI_Bcast(check, (int)n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    same = same && memcmp(check, params, n * sizeof *check) == 0;
    MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (rank == 0) {
        /* one process, the same global batches */
        int ok = swiftmlp_create(sizes, 3, SWIFTMLP_FLOAT64, 7, &ref) == SWIFTMLP_OK;
        for (int step = 0; ok && step < STEPS; step++) {
            for (int i = 0; i < GLOBAL_ROWS; i++) {
                make_row(step, i, x + i * N_IN, y + i * N_OUT);
            }
            ok = swiftmlp_forward(ref, SWIFTMLP_FLOAT64, x, GLOBAL_ROWS * N_IN, GLOBAL_ROWS, out,
                                  GLOBAL_ROWS * N_OUT) == SWIFTMLP_OK &&
                 swiftmlp_backward(ref, SWIFTMLP_FLOAT64, y, GLOBAL_ROWS * N_OUT, GLOBAL_ROWS,
                                   NULL) == SWIFTMLP_OK &&
                 swiftmlp_step(ref, LR) == SWIFTMLP_OK;
        }
        ok = ok && swiftmlp_get_params(ref, SWIFTMLP_FLOAT64, check, n) == SWIFTMLP_OK;
        double diff = 0.0, scale = 0.0;
        for (size_t i = 0; ok && i < n; i++) {
            diff = fmax(diff, fabs(params[i] - check[i]));
            scale = fmax(scale, fabs(check[i]));
        }
        double rel = ok ? diff / scale : INFINITY;
        printf("%d ranks, rows per rank", size);
        for (int r = 0; r < size; r++) {
            int b, e;
            shard(r, size, &b, &e);
            printf(" %d", e - b);
        }
        printf("\nfinal global loss %.6f; ranks bit-identical: %s; "
               "relative difference to one process: %.3e\n",
               global_loss, same ? "yes" : "NO", rel);
        exit_code = same && rel <= 1e-12 && global_loss < 0.1 ? 0 : 1;
    }
    MPI_Bcast(&exit_code, 1, MPI_INT, 0, MPI_COMM_WORLD);

out:
    swiftmlp_free(ref);
    swiftmlp_free(net);
    free(buf);
    free(params);
    free(check);
    free(x);
    free(y);
    free(out);
    MPI_Finalize();
    return exit_code;
}
