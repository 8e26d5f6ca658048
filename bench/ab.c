/*
 * ab.c — two builds of libswiftmlp in one process, alternated: the A/B
 * comparison for a change whose effect is smaller than the swing between
 * processes on a shared machine (a few percent on the same binary).
 *
 *   cc -O2 -Iinclude bench/ab.c -o ab -ldl
 *   ./ab OLD.so NEW.so fit  [f32|f64]           # fit() on digits-shaped data:
 *                                               # [64, 128, 10], batch 32, 20 epochs of 1797 rows
 *   ./ab OLD.so NEW.so step SIZES BATCH [f32|f64]   # swiftmlp_train_step, e.g. 784,512,512,512,10 64
 *
 * Copy each library to its own path first (cp .build/release/libswiftmlp.so
 * /tmp/new.so): both are opened RTLD_LOCAL, so each binds its own symbols.
 * ROUNDS rounds, the order of the two swapped every round; a round times
 * each library on the same work (fit: the best of 3 fits from the same
 * initial parameters; step: about 2 GFLOP of steps). Prints the median time
 * per step of each and the median and quartiles of the per-round ratio
 * NEW ÷ OLD: above 1, NEW is slower. Two copies of one build give a ratio
 * within about ±1 %.
 *
 *   ./ab --processes N OLD.so NEW.so step|fit ...
 *
 * times each library in N processes of its own instead (2N in all, the two
 * alternating, each process PROCESS_ROUNDS rounds): for changes to the
 * thread pool, whose workers and measured choices each copy keeps, so that
 * two threaded copies in one process disturb each other (±20 %). Prints
 * every process's median time per step and each library's median over its
 * processes. With one competing busy process (taskset -c 0 sh -c 'while :;
 * do :; done' &) this is the contention case for two builds.
 */
#include <swiftmlp.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { ROUNDS = 40, WARMUP_ROUNDS = 2, FIT_ROWS = 1797, FIT_EPOCHS = 20, FIT_BATCH = 32, FIT_REPEATS = 3 };
enum { PROCESS_ROUNDS = 40, MAX_PROCESSES = 64 };

typedef struct {
    swiftmlp_status (*create)(const size_t *, size_t, swiftmlp_dtype, uint64_t, swiftmlp_net **);
    swiftmlp_status (*optimizer_default)(swiftmlp_optimizer_kind, swiftmlp_optimizer *);
    swiftmlp_status (*set_optimizer)(swiftmlp_net *, const swiftmlp_optimizer *);
    swiftmlp_status (*train_step)(swiftmlp_net *, swiftmlp_dtype, const void *, size_t, const void *, size_t,
                                  size_t, double *);
    swiftmlp_status (*fit_options_default)(swiftmlp_fit_options *);
    swiftmlp_status (*fit)(swiftmlp_net *, swiftmlp_dtype, const void *, size_t, const void *, size_t, size_t,
                           const swiftmlp_fit_options *, swiftmlp_fit_result *);
    swiftmlp_status (*get_params)(const swiftmlp_net *, swiftmlp_dtype, void *, size_t);
    swiftmlp_status (*set_params)(swiftmlp_net *, swiftmlp_dtype, const void *, size_t);
    swiftmlp_net *net;
} library;

typedef struct {
    int fit;
    swiftmlp_dtype dtype;
    size_t sizes[16], n_sizes, batch, rows, params;
    void *x, *y, *p0;
    long steps;  /* per timed piece of work */
} workload;

static void die(const char *what, const char *detail) {
    fprintf(stderr, "ab: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static void *symbol(void *h, const char *name) {
    void *p = dlsym(h, name);
    if (!p) die("missing symbol", name);
    return p;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* count values: with one_hot_width 0, random levels k/16 (the digits'
 * pixels); else rows of that width, each one-hot at a row-dependent column. */
static void *fill(size_t count, swiftmlp_dtype dtype, size_t one_hot_width) {
    size_t es = dtype == SWIFTMLP_FLOAT64 ? 8 : 4;
    char *v = calloc(count, es);
    if (!v) die("out of memory", NULL);
    for (size_t i = 0; i < count; i++) {
        size_t wd = one_hot_width;
        double x = wd ? (double)(i % wd == (i / wd) * 7 % wd) : (rand() % 17) / 16.0;
        if (es == 8) ((double *)v)[i] = x;
        else ((float *)v)[i] = (float)x;
    }
    return v;
}

static void open_library(library *L, const char *path, const workload *w) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) die("dlopen", dlerror());
    L->create = symbol(h, "swiftmlp_create");
    L->optimizer_default = symbol(h, "swiftmlp_optimizer_default");
    L->set_optimizer = symbol(h, "swiftmlp_set_optimizer");
    L->train_step = symbol(h, "swiftmlp_train_step");
    L->fit_options_default = symbol(h, "swiftmlp_fit_options_default");
    L->fit = symbol(h, "swiftmlp_fit");
    L->get_params = symbol(h, "swiftmlp_get_params");
    L->set_params = symbol(h, "swiftmlp_set_params");
    swiftmlp_optimizer o;
    if (L->create(w->sizes, w->n_sizes, w->dtype, 0, &L->net) || L->optimizer_default(SWIFTMLP_OPT_SGD, &o))
        die("create", path);
    o.lr = w->fit ? 2.0 : 1e-3;
    if (L->set_optimizer(L->net, &o)) die("set_optimizer", path);
}

/* Seconds per step of one timed piece of work on L. */
static double time_work(library *L, const workload *w) {
    size_t x_len = w->rows * w->sizes[0], y_len = w->rows * w->sizes[w->n_sizes - 1];
    if (!w->fit) {
        double loss, start = now();
        for (long i = 0; i < w->steps; i++)
            if (L->train_step(L->net, w->dtype, w->x, x_len, w->y, y_len, w->batch, &loss)) die("train_step", NULL);
        return (now() - start) / (double)w->steps;
    }
    swiftmlp_fit_options fo;
    swiftmlp_fit_result result;
    L->fit_options_default(&fo);
    fo.epochs = FIT_EPOCHS;
    fo.batch_size = FIT_BATCH;
    fo.shuffle = 0;
    fo.report_batches = 0;
    double best = 1e300;
    for (int r = 0; r < FIT_REPEATS; r++) {
        if (L->set_params(L->net, w->dtype, w->p0, w->params)) die("set_params", NULL);
        double start = now();
        if (L->fit(L->net, w->dtype, w->x, x_len, w->y, y_len, w->rows, &fo, &result)) die("fit", NULL);
        double t = now() - start;
        if (t < best) best = t;
    }
    return best / (double)w->steps;
}

/* The median seconds per step of PROCESS_ROUNDS rounds of `w` on the
 * library at `path`, in a child process of its own. */
static double time_in_process(const char *path, workload *w) {
    int fd[2];
    if (pipe(fd) != 0) die("pipe", NULL);
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) die("fork", NULL);
    if (pid == 0) {
        library L;
        open_library(&L, path, w);
        if (L.get_params(L.net, w->dtype, w->p0, w->params)) die("get_params", NULL);
        double t[PROCESS_ROUNDS];
        for (int r = -WARMUP_ROUNDS; r < PROCESS_ROUNDS; r++) {
            double per = time_work(&L, w);
            if (r >= 0) t[r] = per;
        }
        qsort(t, PROCESS_ROUNDS, sizeof(double), by_value);
        double median = t[PROCESS_ROUNDS / 2];
        _exit(write(fd[1], &median, sizeof median) == sizeof median ? 0 : 1);
    }
    close(fd[1]);
    double median = 0;
    int status = 0;
    ssize_t got = read(fd[0], &median, sizeof median);
    close(fd[0]);
    waitpid(pid, &status, 0);
    if (got != (ssize_t)sizeof median || !WIFEXITED(status) || WEXITSTATUS(status) != 0) die("child", path);
    return median;
}

static int run_processes(int n, char **paths, workload *w) {
    double t[2][MAX_PROCESSES];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 2; j++) {
            int k = (i & 1) ? 1 - j : j;
            t[k][i] = time_in_process(paths[k], w);
        }
    for (int k = 0; k < 2; k++) {
        printf("%s us/step per process:", k ? "NEW" : "OLD");
        for (int i = 0; i < n; i++) printf(" %.1f", t[k][i] * 1e6);
        printf("\n");
        qsort(t[k], (size_t)n, sizeof(double), by_value);
    }
    printf("%s %s: OLD %.3f us/step, NEW %.3f us/step (medians over %d processes each); NEW / OLD %.4f\n",
           w->fit ? "fit" : "step", w->dtype == SWIFTMLP_FLOAT64 ? "f64" : "f32", t[0][n / 2] * 1e6,
           t[1][n / 2] * 1e6, n, t[1][n / 2] / t[0][n / 2]);
    return 0;
}

int main(int argc, char **argv) {
    int processes = 0;
    if (argc > 2 && strcmp(argv[1], "--processes") == 0) {
        processes = atoi(argv[2]);
        if (processes < 1 || processes > MAX_PROCESSES) die("--processes: 1 to 64", argv[2]);
        argc -= 2;
        argv += 2;
    }
    if (argc < 4) die("usage: ab [--processes N] OLD.so NEW.so fit [f32|f64] | step SIZES BATCH [f32|f64]", NULL);
    workload w = {.fit = strcmp(argv[3], "fit") == 0};
    const char *dtype_arg = NULL;
    if (w.fit) {
        size_t sizes[] = {64, 128, 10};
        memcpy(w.sizes, sizes, sizeof sizes);
        w.n_sizes = 3;
        w.batch = FIT_BATCH;
        w.rows = FIT_ROWS;
        w.steps = FIT_EPOCHS * ((FIT_ROWS + FIT_BATCH - 1) / FIT_BATCH);
        dtype_arg = argc > 4 ? argv[4] : NULL;
    } else {
        if (strcmp(argv[3], "step") != 0 || argc < 6) die("usage: ab OLD.so NEW.so step SIZES BATCH [f32|f64]", NULL);
        for (char *s = strtok(argv[4], ","); s && w.n_sizes < 16; s = strtok(NULL, ","))
            w.sizes[w.n_sizes++] = strtoul(s, NULL, 10);
        w.batch = w.rows = strtoul(argv[5], NULL, 10);
        if (w.n_sizes < 2 || w.batch == 0) die("bad SIZES or BATCH", NULL);
        dtype_arg = argc > 6 ? argv[6] : NULL;
    }
    w.dtype = dtype_arg && strcmp(dtype_arg, "f64") == 0 ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32;
    double flops = 0;
    for (size_t l = 0; l + 1 < w.n_sizes; l++) {
        flops += 6.0 * (double)w.batch * (double)w.sizes[l] * (double)w.sizes[l + 1];
        w.params += w.sizes[l + 1] * (w.sizes[l] + 1);
    }
    if (!w.fit) w.steps = (long)(2e9 / flops) + 1;
    srand(1);
    w.x = fill(w.rows * w.sizes[0], w.dtype, 0);
    w.y = fill(w.rows * w.sizes[w.n_sizes - 1], w.dtype, w.sizes[w.n_sizes - 1]);
    w.p0 = malloc(w.params * (w.dtype == SWIFTMLP_FLOAT64 ? 8 : 4));
    if (!w.p0) die("out of memory", NULL);

    if (processes) return run_processes(processes, argv + 1, &w);

    library L[2];
    for (int k = 0; k < 2; k++) open_library(&L[k], argv[1 + k], &w);
    /* Both start from seed 0's parameters; fit restarts from them every time. */
    if (L[0].get_params(L[0].net, w.dtype, w.p0, w.params)) die("get_params", NULL);

    double t[2][ROUNDS], ratio[ROUNDS];
    for (int r = -WARMUP_ROUNDS; r < ROUNDS; r++) {
        double per[2];
        for (int i = 0; i < 2; i++) {
            int k = (r & 1) ? 1 - i : i;
            per[k] = time_work(&L[k], &w);
        }
        if (r >= 0) {
            t[0][r] = per[0];
            t[1][r] = per[1];
            ratio[r] = per[1] / per[0];
        }
    }
    qsort(t[0], ROUNDS, sizeof(double), by_value);
    qsort(t[1], ROUNDS, sizeof(double), by_value);
    qsort(ratio, ROUNDS, sizeof(double), by_value);
    printf("%s %s: OLD %.3f us/step, NEW %.3f us/step; NEW / OLD median %.4f [q1 %.4f, q3 %.4f] over %d rounds\n",
           w.fit ? "fit" : "step", w.dtype == SWIFTMLP_FLOAT64 ? "f64" : "f32", t[0][ROUNDS / 2] * 1e6,
           t[1][ROUNDS / 2] * 1e6, ratio[ROUNDS / 2], ratio[ROUNDS / 4], ratio[3 * ROUNDS / 4], ROUNDS);
    return 0;
}
