/*
 * dump_params.c — print a new network's initial parameters as raw bytes.
 *
 *   dump_params <f32|f64> <seed> <uniform|glorot|he> <size0> <size1> ...
 *
 * Creates the network with swiftmlp_create_with_config (sigmoid, MSE: only
 * sizes, dtype, seed and init matter for the parameters), reads all
 * parameters with swiftmlp_get_params and writes their bytes, in memory
 * order, to stdout as one line of lowercase hex.  Used to check that C,
 * Python and Swift produce bit-identical parameters from the same seed.
 *
 * Exit status: 0 on success; 1 when a library call fails (the library's
 * message goes to stderr); 2 on bad command-line arguments.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swiftmlp.h"

static int usage(const char *problem)
{
    fprintf(stderr,
            "dump_params: %s\n"
            "usage: dump_params <f32|f64> <seed> <uniform|glorot|he> <size0> <size1> ...\n",
            problem);
    return 2;
}

/* A whole decimal unsigned 64-bit number, nothing else. */
static int parse_u64(const char *text, uint64_t *value)
{
    if (text[0] < '0' || text[0] > '9') {
        return 0; /* no sign, no spaces */
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') {
        return 0;
    }
    *value = (uint64_t)v;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        return usage("expected a dtype, a seed, an init scheme and at least one size");
    }

    swiftmlp_config config;
    if (swiftmlp_config_default(&config) != SWIFTMLP_OK) {
        fprintf(stderr, "dump_params: %s\n", swiftmlp_last_error());
        return 1;
    }

    if (strcmp(argv[1], "f32") == 0) {
        config.dtype = SWIFTMLP_FLOAT32;
    } else if (strcmp(argv[1], "f64") == 0) {
        config.dtype = SWIFTMLP_FLOAT64;
    } else {
        return usage("dtype must be f32 or f64");
    }

    if (!parse_u64(argv[2], &config.seed)) {
        return usage("seed must be a decimal number in 0 .. 2^64-1");
    }

    if (strcmp(argv[3], "uniform") == 0) {
        config.init = SWIFTMLP_INIT_UNIFORM;
    } else if (strcmp(argv[3], "glorot") == 0) {
        config.init = SWIFTMLP_INIT_GLOROT;
    } else if (strcmp(argv[3], "he") == 0) {
        config.init = SWIFTMLP_INIT_HE;
    } else {
        return usage("init must be uniform, glorot or he");
    }

    const size_t n_sizes = (size_t)(argc - 4);
    size_t *sizes = malloc(n_sizes * sizeof *sizes);
    if (sizes == NULL) {
        fprintf(stderr, "dump_params: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < n_sizes; i++) {
        uint64_t v = 0;
        if (!parse_u64(argv[4 + i], &v) || v > SIZE_MAX) {
            free(sizes);
            return usage("sizes must be decimal numbers");
        }
        sizes[i] = (size_t)v;
    }
    config.sizes = sizes;
    config.n_sizes = n_sizes;

    int exit_code = 1;
    swiftmlp_net *net = NULL;
    void *params = NULL;
    size_t count = 0;
    swiftmlp_status status = swiftmlp_create_with_config(&config, &net);
    if (status == SWIFTMLP_OK) {
        status = swiftmlp_get_param_count(net, &count);
    }
    const size_t element = config.dtype == SWIFTMLP_FLOAT32 ? sizeof(float) : sizeof(double);
    if (status == SWIFTMLP_OK) {
        params = malloc(count * element);
        if (params == NULL) {
            fprintf(stderr, "dump_params: out of memory for %zu parameters\n", count);
            goto done;
        }
        status = swiftmlp_get_params(net, config.dtype, params, count);
    }
    if (status != SWIFTMLP_OK) {
        fprintf(stderr, "dump_params: %s: %s\n", swiftmlp_status_string(status),
                swiftmlp_last_error());
        goto done;
    }

    const unsigned char *bytes = params;
    for (size_t i = 0; i < count * element; i++) {
        printf("%02x", (unsigned)bytes[i]);
    }
    printf("\n");
    exit_code = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;

done:
    free(params);
    free(sizes);
    swiftmlp_free(net);
    return exit_code;
}
