/*
 * make_load_seeds.c — writes the seed corpus of fuzz_load: model files saved
 * by the library itself (every dtype, activation, loss, init and optimizer,
 * with and without optimizer state), plus a few broken ones (truncated,
 * empty, a header length past the end).
 *
 *   make_load_seeds DIR
 *
 * The files in fuzz/corpus/load/seed-* were written by this program
 * (scripts/fuzz.sh --make-seeds rewrites them); they are committed so the
 * corpus does not change with the library unless someone regenerates it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swiftmlp.h"

static const char *g_dir;
static int g_failed;

static void write_file(const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || (len > 0 && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        perror(path);
        g_failed = 1;
        return;
    }
    printf("  %s (%zu bytes)\n", name, len);
}

#define CHECK(call)                                                                   \
    do {                                                                              \
        swiftmlp_status st_ = (call);                                                 \
        if (st_ != SWIFTMLP_OK) {                                                     \
            fprintf(stderr, "%s failed: %s: %s\n", #call, swiftmlp_status_string(st_), \
                    swiftmlp_last_error());                                           \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

/* Create, optionally train a few optimizer steps, save with `flags`. */
static void seed(const char *name, const size_t *sizes, size_t n, swiftmlp_dtype dtype,
                 const swiftmlp_activation *acts, size_t n_acts, swiftmlp_loss loss, swiftmlp_init init,
                 int opt_kind /* -1: none */, uint32_t flags, int also_broken)
{
    swiftmlp_config cfg;
    swiftmlp_net *net = NULL;
    CHECK(swiftmlp_config_default(&cfg));
    cfg.sizes = sizes;
    cfg.n_sizes = n;
    cfg.dtype = dtype;
    cfg.seed = 1234;
    cfg.activations = acts;
    cfg.n_activations = n_acts;
    cfg.loss = loss;
    cfg.init = init;
    CHECK(swiftmlp_create_with_config(&cfg, &net));
    if (opt_kind >= 0) {
        swiftmlp_optimizer o;
        CHECK(swiftmlp_optimizer_default((swiftmlp_optimizer_kind)opt_kind, &o));
        if (opt_kind == SWIFTMLP_OPT_SGD) {
            o.momentum = 0.9;
            o.nesterov = 1;
        }
        CHECK(swiftmlp_set_optimizer(net, &o));
        /* Two steps on a fixed batch of 2 rows with one-hot targets. */
        size_t n0 = sizes[0], nl = sizes[n - 1], es = dtype == SWIFTMLP_FLOAT32 ? 4 : 8;
        unsigned char *x = calloc(2 * n0, es), *y = calloc(2 * nl, es), *t = calloc(2 * nl, es);
        if (!x || !y || !t) exit(1);
        for (size_t i = 0; i < 2 * n0; i++) {
            if (dtype == SWIFTMLP_FLOAT32) ((float *)x)[i] = 0.25f * (float)(i % 5);
            else ((double *)x)[i] = 0.25 * (double)(i % 5);
        }
        for (size_t r = 0; r < 2; r++) {
            if (dtype == SWIFTMLP_FLOAT32) ((float *)t)[r * nl + r % nl] = 1.0f;
            else ((double *)t)[r * nl + r % nl] = 1.0;
        }
        for (int s = 0; s < 2; s++) {
            CHECK(swiftmlp_forward(net, dtype, x, 2 * n0, 2, y, 2 * nl));
            CHECK(swiftmlp_backward(net, dtype, t, 2 * nl, 2, NULL));
            CHECK(swiftmlp_optimizer_step(net));
        }
        free(x);
        free(y);
        free(t);
    }
    size_t size = 0;
    CHECK(swiftmlp_save_size(net, flags, &size));
    unsigned char *buf = malloc(size);
    if (!buf) exit(1);
    CHECK(swiftmlp_save_buffer(net, flags, buf, size, NULL));
    char fname[256];
    snprintf(fname, sizeof fname, "seed-%s.safetensors", name);
    write_file(fname, buf, size);
    if (also_broken) {
        /* Cut inside the JSON header, and one byte short of the end. */
        snprintf(fname, sizeof fname, "seed-%s-cut-header.bin", name);
        write_file(fname, buf, 8 + (size > 40 ? 24 : 0));
        snprintf(fname, sizeof fname, "seed-%s-cut-1.bin", name);
        write_file(fname, buf, size - 1);
    }
    free(buf);
    swiftmlp_free(net);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    printf("make_load_seeds: writing to %s\n", g_dir);

    const size_t s241[] = {2, 4, 1}, s352[] = {3, 5, 2}, s11[] = {1, 1}, s4333[] = {4, 3, 3, 3}, s23[] = {2, 3};
    const swiftmlp_activation tanh_relu[] = {SWIFTMLP_TANH, SWIFTMLP_RELU};
    const swiftmlp_activation leaky_soft[] = {SWIFTMLP_LEAKY_RELU, SWIFTMLP_SOFTMAX};
    const swiftmlp_activation id3[] = {SWIFTMLP_IDENTITY, SWIFTMLP_TANH, SWIFTMLP_SIGMOID};
    const swiftmlp_activation soft[] = {SWIFTMLP_SOFTMAX};

    seed("f64-sigmoid-2-4-1", s241, 3, SWIFTMLP_FLOAT64, NULL, 0, SWIFTMLP_LOSS_MSE, SWIFTMLP_INIT_UNIFORM, -1,
         SWIFTMLP_SAVE_DEFAULT, 1);
    seed("f32-tanh-relu-adam-state", s352, 3, SWIFTMLP_FLOAT32, tanh_relu, 2, SWIFTMLP_LOSS_MSE, SWIFTMLP_INIT_GLOROT,
         SWIFTMLP_OPT_ADAM, SWIFTMLP_SAVE_OPTIMIZER_STATE, 0);
    seed("f64-softmax-ce-sgd-momentum-state", s352, 3, SWIFTMLP_FLOAT64, leaky_soft, 2, SWIFTMLP_LOSS_CROSS_ENTROPY,
         SWIFTMLP_INIT_HE, SWIFTMLP_OPT_SGD, SWIFTMLP_SAVE_OPTIMIZER_STATE, 0);
    seed("f64-bce-adamw-no-state", s241, 3, SWIFTMLP_FLOAT64, NULL, 0, SWIFTMLP_LOSS_BCE, SWIFTMLP_INIT_UNIFORM,
         SWIFTMLP_OPT_ADAMW, SWIFTMLP_SAVE_DEFAULT, 0);
    seed("f32-1-1", s11, 2, SWIFTMLP_FLOAT32, NULL, 0, SWIFTMLP_LOSS_MSE, SWIFTMLP_INIT_UNIFORM, -1,
         SWIFTMLP_SAVE_DEFAULT, 1);
    seed("f64-identity-tanh-sigmoid-4-3-3-3", s4333, 4, SWIFTMLP_FLOAT64, id3, 3, SWIFTMLP_LOSS_MSE,
         SWIFTMLP_INIT_GLOROT, SWIFTMLP_OPT_ADAM, SWIFTMLP_SAVE_OPTIMIZER_STATE, 0);
    seed("f32-softmax-only-ce", s23, 2, SWIFTMLP_FLOAT32, soft, 1, SWIFTMLP_LOSS_CROSS_ENTROPY, SWIFTMLP_INIT_HE,
         SWIFTMLP_OPT_SGD, SWIFTMLP_SAVE_DEFAULT, 0);

    /* Hand-made broken headers. */
    write_file("seed-empty.bin", "", 0);
    const unsigned char huge_len[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '};
    write_file("seed-header-length-past-end.bin", huge_len, sizeof huge_len);
    const char tiny[] = "\x08\0\0\0\0\0\0\0{}      ";
    write_file("seed-empty-json.bin", tiny, sizeof tiny - 1);
    const char deep[] = "\x28\0\0\0\0\0\0\0[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]";
    write_file("seed-deep-json.bin", deep, sizeof deep - 1);
    return g_failed;
}
