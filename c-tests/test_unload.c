/*
 * test_unload.c — dlclose of libswiftmlp.so while threads that used it live
 * on. The program does not link the library: it dlopens the path given as
 * argv[1] (ctest passes the built library), so dlclose really unmaps it.
 *
 * Threads that ran mid-sized forward products on an AVX-512 OpenBLAS core
 * (the small-NN path of Sources/CSwiftMLPKernels/gemm.c, with its scratch
 * buffers) must end normally after the library is gone: no thread-exit
 * destructor may point into unmapped code (a per-thread buffer with a
 * pthread key destructor, tried first, crashed here with SIGSEGV), and the
 * unload destructor frees the buffers (LeakSanitizer checks that in the
 * ASan build). ctest runs it with OPENBLAS_CORETYPE unset, so the CPU's best
 * core is used.
 */
#define _GNU_SOURCE
#include "test_util.h"

#include <dlfcn.h>
#include <pthread.h>

typedef swiftmlp_status (*create_fn)(const size_t *, size_t, swiftmlp_dtype, uint64_t, swiftmlp_net **);
typedef swiftmlp_status (*forward_fn)(swiftmlp_net *, swiftmlp_dtype, const void *, size_t, size_t, void *,
                                      size_t);
typedef void (*free_fn)(swiftmlp_net *);

static const char *library_path;
static create_fn lib_create;
static forward_fn lib_forward;
static free_fn lib_free;
static pthread_barrier_t barrier;

/* The digits network's forward on 32 rows in both dtypes (the first product
 * takes the small-NN path on AVX-512 cores); 0 when every call succeeded. */
static int run_forward(void)
{
    static const size_t sizes[] = {64, 128, 10};
    double x64[32 * 64], y64[32 * 10];
    float x32[32 * 64], y32[32 * 10];
    for (int i = 0; i < 32 * 64; i++) x64[i] = x32[i] = (float)(i % 7) * 0.25f;
    for (int d = 0; d < 2; d++) {
        swiftmlp_dtype dt = d ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32;
        swiftmlp_net *net = NULL;
        if (lib_create(sizes, 3, dt, 5, &net) != SWIFTMLP_OK) return 1;
        swiftmlp_status st = d ? lib_forward(net, dt, x64, 32 * 64, 32, y64, 32 * 10)
                               : lib_forward(net, dt, x32, 32 * 64, 32, y32, 32 * 10);
        lib_free(net);
        if (st != SWIFTMLP_OK) return 1;
    }
    return 0;
}

/* Runs the forward, then lives on across the main thread's dlclose. */
static void *lingering(void *arg)
{
    int *status = arg;
    *status = run_forward();
    pthread_barrier_wait(&barrier); /* 1: the forward is done */
    pthread_barrier_wait(&barrier); /* 2: the library is unloaded */
    return NULL;
}

static int mapped(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    char line[4096];
    const char *base = strrchr(library_path, '/');
    base = base ? base + 1 : library_path;
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, base)) found = 1;
    fclose(f);
    return found;
}

static void threads_outlive_the_unloaded_library(void **state)
{
    (void)state;
    assert_null(getenv("OPENBLAS_CORETYPE"));
    void *lib = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(lib);
    lib_create = (create_fn)dlsym(lib, "swiftmlp_create");
    lib_forward = (forward_fn)dlsym(lib, "swiftmlp_forward");
    lib_free = (free_fn)dlsym(lib, "swiftmlp_free");
    assert_non_null(lib_create);
    assert_non_null(lib_forward);
    assert_non_null(lib_free);

    assert_int_equal(pthread_barrier_init(&barrier, NULL, 2), 0);
    pthread_t t;
    int status = -1;
    assert_int_equal(pthread_create(&t, NULL, lingering, &status), 0);
    pthread_barrier_wait(&barrier);
    assert_int_equal(status, 0);
    assert_int_equal(run_forward(), 0); /* the main thread's own buffer too */

    assert_int_equal(dlclose(lib), 0);
    assert_int_equal(mapped(), 0); /* really unloaded */
    pthread_barrier_wait(&barrier);
    assert_int_equal(pthread_join(t, NULL), 0); /* ends without calling into the library */
    pthread_barrier_destroy(&barrier);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH/TO/libswiftmlp.so\n", argv[0]);
        return 2;
    }
    library_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threads_outlive_the_unloaded_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
