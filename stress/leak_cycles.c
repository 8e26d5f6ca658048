/*
 * leak_cycles.c — N full life cycles of a network through the C ABI, for leak
 * checkers (LeakSanitizer in the ASan build, valgrind memcheck on the release
 * library).  Every cycle:
 *
 *   create (float64 / float32 alternating, [5, 8, 3]) -> set Adam (AdamW every
 *   4th) -> 3 x (forward, backward, optimizer_step) -> predict ->
 *   save_size + save_buffer (with the optimizer state every other cycle) ->
 *   load_buffer -> predict on the copy (must match the original bit for bit)
 *   -> a few failing calls (truncated model buffer, bad layer index, a
 *   wrong dtype; their error messages must not leak either) -> free both.
 *
 * Every 64th cycle also runs swiftmlp_fit (up to 3 epochs with early
 * stopping and restore_best, validation on the first half of the rows, a
 * progress callback) and swiftmlp_gradient_check, so the allocations those
 * make are cycled too.
 *
 *   leak_cycles [cycles]     (default 10000)
 *
 * Exit status 0 when every call returned what it should; the leak verdict
 * itself is the checker's (LSan reports at exit, valgrind's summary).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "swiftmlp.h"

#define N0 5
#define N1 8
#define N2 3
#define BATCH 4

static int fail_line;

#define EXPECT(call, expected)                                                        \
    do {                                                                              \
        swiftmlp_status st_ = (call);                                                 \
        if (st_ != (expected)) {                                                      \
            fprintf(stderr, "leak_cycles: %s:%d: %s returned %d (%s), expected %d: %s\n", \
                    __FILE__, __LINE__, #call, (int)st_, swiftmlp_status_string(st_),  \
                    (int)(expected), swiftmlp_last_error());                          \
            fail_line = __LINE__;                                                     \
            goto out;                                                                 \
        }                                                                             \
    } while (0)
#define OK(call) EXPECT(call, SWIFTMLP_OK)

static int progress_calls;
static int on_progress(const swiftmlp_progress *p, void *user)
{
    (void)p;
    (void)user;
    progress_calls++;
    return 0;
}

/* One cycle; returns 0 on success. */
static int cycle(unsigned long i)
{
    const size_t sizes[] = {N0, N1, N2};
    const swiftmlp_dtype dtype = (i % 2) ? SWIFTMLP_FLOAT32 : SWIFTMLP_FLOAT64;
    const size_t esize = dtype == SWIFTMLP_FLOAT32 ? sizeof(float) : sizeof(double);
    const uint32_t flags = (i % 4 < 2) ? SWIFTMLP_SAVE_OPTIMIZER_STATE : SWIFTMLP_SAVE_DEFAULT;
    swiftmlp_net *net = NULL, *copy = NULL;
    unsigned char *buf = NULL;
    int rc = 1;

    /* Inputs and targets in the network's element type. */
    double xd[BATCH * N0], yd[BATCH * N2];
    float xf[BATCH * N0], yf[BATCH * N2];
    for (int k = 0; k < BATCH * N0; k++) xf[k] = (float)(xd[k] = ((k * 7 + (int)i) % 11) / 10.0 - 0.5);
    for (int k = 0; k < BATCH * N2; k++) yf[k] = (float)(yd[k] = (k % 3 == 0) ? 1.0 : 0.0);
    const void *x = dtype == SWIFTMLP_FLOAT32 ? (const void *)xf : (const void *)xd;
    const void *y = dtype == SWIFTMLP_FLOAT32 ? (const void *)yf : (const void *)yd;
    double out1[BATCH * N2], out2[BATCH * N2]; /* large enough for either type */

    OK(swiftmlp_create(sizes, 3, dtype, (uint64_t)i, &net));
    swiftmlp_optimizer opt;
    OK(swiftmlp_optimizer_default(i % 4 == 3 ? SWIFTMLP_OPT_ADAMW : SWIFTMLP_OPT_ADAM, &opt));
    opt.lr = 0.01;
    OK(swiftmlp_set_optimizer(net, &opt));
    for (int s = 0; s < 3; s++) {
        double loss = 0;
        OK(swiftmlp_forward(net, dtype, x, BATCH * N0, BATCH, out1, BATCH * N2));
        OK(swiftmlp_backward(net, dtype, y, BATCH * N2, BATCH, &loss));
        OK(swiftmlp_optimizer_step(net));
    }

    if (i % 64 == 0) {
        swiftmlp_fit_options fo;
        swiftmlp_fit_result fr;
        OK(swiftmlp_fit_options_default(&fo));
        fo.epochs = 3;
        fo.batch_size = 3;
        fo.patience = 1; /* restore_best (the default) keeps a copy of the best epoch */
        fo.val_x = x;
        fo.val_x_len = BATCH / 2 * N0;
        fo.val_y = y;
        fo.val_y_len = BATCH / 2 * N2;
        fo.val_rows = BATCH / 2;
        fo.progress = on_progress;
        OK(swiftmlp_fit(net, dtype, x, BATCH * N0, y, BATCH * N2, BATCH, &fo, &fr));
        swiftmlp_gradcheck gc;
        OK(swiftmlp_gradient_check(net, dtype, x, BATCH * N0, y, BATCH * N2, BATCH, 1e-3, &gc));
    }
    OK(swiftmlp_predict(net, dtype, x, BATCH * N0, BATCH, out1, BATCH * N2));

    size_t size = 0, written = 0;
    OK(swiftmlp_save_size(net, flags, &size));
    buf = malloc(size);
    if (buf == NULL) { fprintf(stderr, "leak_cycles: malloc(%zu) failed\n", size); goto out; }
    EXPECT(swiftmlp_save_buffer(net, flags, buf, size - 1, &written), SWIFTMLP_ERR_BUFFER_SIZE);
    OK(swiftmlp_save_buffer(net, flags, buf, size, &written));
    if (written != size) { fprintf(stderr, "leak_cycles: wrote %zu of %zu bytes\n", written, size); goto out; }

    OK(swiftmlp_load_buffer(buf, size, &copy));
    OK(swiftmlp_predict(copy, dtype, x, BATCH * N0, BATCH, out2, BATCH * N2));
    if (memcmp(out1, out2, BATCH * N2 * esize) != 0) {
        fprintf(stderr, "leak_cycles: cycle %lu: the loaded copy predicts differently\n", i);
        goto out;
    }

    /* Failure paths allocate messages (and maybe partial networks) too. */
    swiftmlp_net *bad = NULL;
    EXPECT(swiftmlp_load_buffer(buf, size / 2, &bad), SWIFTMLP_ERR_FORMAT);
    size_t w_off, b_off;
    EXPECT(swiftmlp_get_layer_offsets(copy, 7, &w_off, &b_off), SWIFTMLP_ERR_LAYER_INDEX);
    EXPECT(swiftmlp_predict(copy, dtype == SWIFTMLP_FLOAT32 ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32,
                            x, BATCH * N0, BATCH, out2, BATCH * N2), SWIFTMLP_ERR_DTYPE);
    rc = 0;
out:
    if (rc != 0) fprintf(stderr, "leak_cycles: cycle %lu failed (line %d)\n", i, fail_line);
    free(buf);
    swiftmlp_free(copy);
    swiftmlp_free(net);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned long cycles = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned long i = 0; i < cycles; i++) {
        if (cycle(i) != 0) return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("leak_cycles: %lu cycles of create/train/save_buffer/load_buffer/free OK in %.2f s "
           "(%d fit progress calls)\n", cycles, secs, progress_calls);
    return 0;
}
