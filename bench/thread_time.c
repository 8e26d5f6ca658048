/*
 * thread_time.c — where a training process's threads spend their time: the
 * mnist-ish step (swiftmlp_train_step, [784, 256, 128, 10], batch 64) for
 * SECONDS, then steps/s and, per thread of the process, the time it ran
 * and the time it waited for a CPU while runnable (the kernel's
 * /proc/self/task/TID/schedstat). For the contention case: with a busy
 * process on CPU 0, it shows whether the pool's worker runs at all, and
 * whether the caller waits for a CPU.
 *
 *   cc -O2 -Iinclude bench/thread_time.c -o thread_time -lswiftmlp
 *   ./thread_time [SECONDS [f32|f64]]
 *   SWIFTMLP_NUM_THREADS=1 ./thread_time 3 f32     # the 1-thread process
 *
 * The times cover the whole process (creation and warm-up included).
 * What it read on this project's machines is in README, "The busy case
 * on this machine, where the time goes".
 */
#include "bench_util.h"

#include <swiftmlp.h>

#include <dirent.h>

/* One line per thread: its name, run and runnable-wait time, time slices. */
static void print_threads(void) {
    DIR *dir = opendir("/proc/self/task");
    if (!dir) return;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.') continue;
        char path[300], name[64] = "?";
        unsigned long long run, wait, slices;
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(name, sizeof name, f)) name[strcspn(name, "\n")] = '\0';
            fclose(f);
        }
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        if (!(f = fopen(path, "r"))) continue;
        if (fscanf(f, "%llu %llu %llu", &run, &wait, &slices) == 3)
            printf("  thread %-14s ran %7.1f ms, waited for a CPU %7.1f ms, %llu slices\n", name, run / 1e6,
                   wait / 1e6, slices);
        fclose(f);
    }
    closedir(dir);
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    const int f64 = argc > 2 && strcmp(argv[2], "f64") == 0;
    const swiftmlp_dtype dtype = f64 ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32;
    const size_t sizes[] = {784, 256, 128, 10}, batch = 64;
    const size_t nx = batch * sizes[0], ny = batch * sizes[3], width = f64 ? 8 : 4;
    swiftmlp_net *net = NULL;
    swiftmlp_optimizer opt;
    unsigned char *x = malloc(nx * width), *y = malloc(ny * width);
    if (!x || !y || swiftmlp_create(sizes, 4, dtype, 1, &net) != SWIFTMLP_OK ||
        swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &opt) != SWIFTMLP_OK ||
        swiftmlp_set_optimizer(net, &opt) != SWIFTMLP_OK)
        bench_die("thread_time: setup failed", swiftmlp_last_error());
    for (size_t i = 0; i < nx + ny; i++) {
        double v = i < nx ? (double)((i * 2654435761u) % 1000) / 1000.0 : (double)((i - nx) % 10 == 0);
        unsigned char *p = i < nx ? x + i * width : y + (i - nx) * width;
        if (f64) memcpy(p, &v, 8);
        else {
            float s = (float)v;
            memcpy(p, &s, 4);
        }
    }
    double loss;
    for (int i = 0; i < 50; i++) /* warm-up */
        if (swiftmlp_train_step(net, dtype, x, nx, y, ny, batch, &loss) != SWIFTMLP_OK)
            bench_die("thread_time: train_step failed", swiftmlp_last_error());
    long steps = 0;
    const double t0 = bench_now();
    while (bench_now() - t0 < seconds) {
        if (swiftmlp_train_step(net, dtype, x, nx, y, ny, batch, &loss) != SWIFTMLP_OK)
            bench_die("thread_time: train_step failed", swiftmlp_last_error());
        steps++;
    }
    printf("%s: %.1f steps/s (%s)\n", f64 ? "f64" : "f32", (double)steps / (bench_now() - t0), swiftmlp_blas_info());
    print_threads();
    swiftmlp_free(net);
    free(x);
    free(y);
    return 0;
}
