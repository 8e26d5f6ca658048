/*
 * alloc_check.c — "zero heap allocations per training step after the first".
 *
 * A plain C program (no cmocka) for the test suite: for each benchmark
 * workload (tiny [2,4,1] B=4, small [64,32,10] B=32, mnist-ish
 * [784,256,128,10] B=64, wide [1024,2048,2048,1024] B=256) in float32 and
 * float64, with plain SGD configured (momentum 0, weight decay 0):
 *   1. one swiftmlp_train_step (the first: it may allocate the batch cache),
 *      then STEPS more with the allocation counter on: must be 0;
 *   2. one forward + backward + optimizer_step, then STEPS more counted: must be 0.
 * Every allocation call of every thread is counted (bench/alloc_count.c is
 * linked in and interposes malloc & co. for the whole process, libswiftmlp
 * and OpenBLAS included); the call stacks of the first ones are printed.
 *
 *   cc -O2 -Iinclude bench/alloc_check.c bench/alloc_count.c -rdynamic \
 *      -L.build/release -lswiftmlp -o alloc_check
 *   ./alloc_check [--steps 100] [--quick] [--only tiny|small|mnist|wide]
 *                 [--workload NAME:N0,N1,...:BATCH[:STEPS]]...
 *
 * --quick shrinks the wide workload to [256,512,512,256] B=64; --workload
 * (repeatable) replaces the four workloads with the ones given (at most 4
 * layer sizes each; STEPS overrides --steps for that workload), e.g.
 * --workload tiny:2,4,1:4 --workload wide:1024,2048,2048,1024:256:10.
 * Exit status: 0 when nothing allocated, 1 when something did, 2 on an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <swiftmlp.h>

void alloc_count_enable(int on);
void alloc_count_get(unsigned long long *allocs, unsigned long long *frees, unsigned long long *bytes);
void alloc_count_report(FILE *f);

typedef struct workload {
    const char *name;
    size_t sizes[4];
    size_t n_sizes;
    size_t batch;
    int steps; /* 0: the --steps value */
} workload;

static int failed_call(swiftmlp_status s, const char *what, const char *wl) {
    if (s == SWIFTMLP_OK) return 0;
    fprintf(stderr, "alloc_check: %s: %s failed: %s: %s\n", wl, what, swiftmlp_status_string(s), swiftmlp_last_error());
    return 1;
}

/* Ends a counted phase whose calls returned st: its counts in *a, *f, *b
 * (allocations, frees, bytes), the allocations listed on stderr. Returns 1
 * if st is a failure (reported), else 0. */
static int end_phase(swiftmlp_status st, const char *what, const char *label, unsigned long long *a,
                     unsigned long long *f, unsigned long long *b) {
    alloc_count_enable(0);
    alloc_count_get(a, f, b);
    if (failed_call(st, what, label)) return 1;
    if (*a) {
        fprintf(stderr, "alloc_check: %s: %s allocated:\n", label, what);
        alloc_count_report(stderr);
    }
    return 0;
}

/* Returns 0 (no allocation), 1 (allocations), 2 (error). */
static int check(const workload *w, swiftmlp_dtype dtype, int steps) {
    const char *dname = dtype == SWIFTMLP_FLOAT64 ? "float64" : "float32";
    size_t elem = dtype == SWIFTMLP_FLOAT64 ? sizeof(double) : sizeof(float);
    size_t n0 = w->sizes[0], nl = w->sizes[w->n_sizes - 1];
    size_t xn = w->batch * n0, yn = w->batch * nl;
    void *x = malloc(xn * elem), *y = malloc(yn * elem), *out = malloc(yn * elem);
    if (!x || !y || !out) return 2;
    unsigned long long s = 88172645463325252ull; /* xorshift64: inputs in [0,1), targets 0/1 */
    for (size_t i = 0; i < xn + yn; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        double v = (double)(s >> 11) * (1.0 / 9007199254740992.0);
        if (i >= xn) v = v < 0.5 ? 0.0 : 1.0;
        if (dtype == SWIFTMLP_FLOAT64) ((double *)(i < xn ? x : y))[i < xn ? i : i - xn] = v;
        else ((float *)(i < xn ? x : y))[i < xn ? i : i - xn] = (float)v;
    }
    char label[64];
    snprintf(label, sizeof label, "%s %s", w->name, dname);

    swiftmlp_net *net = NULL;
    swiftmlp_optimizer opt;
    double loss = 0;
    int rc = 0;
    if (failed_call(swiftmlp_create(w->sizes, w->n_sizes, dtype, 1, &net), "swiftmlp_create", label) ||
        failed_call(swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &opt), "swiftmlp_optimizer_default", label))
        return 2;
    opt.lr = 0.01;
    if (failed_call(swiftmlp_set_optimizer(net, &opt), "swiftmlp_set_optimizer", label)) return 2;

    /* 1. swiftmlp_train_step */
    if (failed_call(swiftmlp_train_step(net, dtype, x, xn, y, yn, w->batch, &loss), "first swiftmlp_train_step", label))
        return 2;
    unsigned long long a1 = 0, f1 = 0, b1 = 0;
    swiftmlp_status st = SWIFTMLP_OK;
    alloc_count_enable(1);
    for (int i = 0; i < steps && st == SWIFTMLP_OK; i++) st = swiftmlp_train_step(net, dtype, x, xn, y, yn, w->batch, &loss);
    if (end_phase(st, "swiftmlp_train_step", label, &a1, &f1, &b1)) return 2;

    /* 2. forward + backward + optimizer_step */
    if (failed_call(swiftmlp_forward(net, dtype, x, xn, w->batch, out, yn), "first swiftmlp_forward", label) ||
        failed_call(swiftmlp_backward(net, dtype, y, yn, w->batch, &loss), "first swiftmlp_backward", label) ||
        failed_call(swiftmlp_optimizer_step(net), "first swiftmlp_optimizer_step", label))
        return 2;
    unsigned long long a2 = 0, f2 = 0, b2 = 0;
    alloc_count_enable(1);
    for (int i = 0; i < steps && st == SWIFTMLP_OK; i++) {
        st = swiftmlp_forward(net, dtype, x, xn, w->batch, out, yn);
        if (st == SWIFTMLP_OK) st = swiftmlp_backward(net, dtype, y, yn, w->batch, &loss);
        if (st == SWIFTMLP_OK) st = swiftmlp_optimizer_step(net);
    }
    if (end_phase(st, "forward/backward/optimizer_step", label, &a2, &f2, &b2)) return 2;
    if (!(loss == loss)) { fprintf(stderr, "alloc_check: %s: loss is NaN\n", label); rc = 2; }

    printf("%-8s %-7s train_step: %llu allocations (%llu bytes), %llu frees in %d steps; "
           "forward+backward+optimizer_step: %llu allocations (%llu bytes), %llu frees in %d steps  %s\n",
           w->name, dname, a1, b1, f1, steps, a2, b2, f2, steps, (a1 || a2) ? "FAIL" : "ok");
    fflush(stdout);
    swiftmlp_free(net);
    free(x); free(y); free(out);
    if (rc) return rc;
    return (a1 || a2) ? 1 : 0;
}

/* "name:2,4,1:4[:steps]" -> a workload (the name is kept by pointer into argv). */
static int parse_workload(char *arg, workload *w) {
    char *c1 = strchr(arg, ':');
    char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
    if (!c1 || !c2) return 0;
    *c1 = *c2 = '\0';
    w->steps = 0;
    if (c3) {
        *c3 = '\0';
        w->steps = atoi(c3 + 1);
        if (w->steps < 1) return 0;
    }
    w->name = arg;
    w->n_sizes = 0;
    for (char *p = c1 + 1; *p;) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || v == 0 || w->n_sizes == 4) return 0;
        w->sizes[w->n_sizes++] = (size_t)v;
        if (*end == ',') p = end + 1;
        else if (*end == '\0') p = end;
        else return 0;
    }
    w->batch = (size_t)strtoull(c2 + 1, NULL, 10);
    return w->n_sizes >= 2 && w->batch > 0;
}

int main(int argc, char **argv) {
    int steps = 100, quick = 0;
    const char *only = NULL;
    workload custom[16];
    size_t n_custom = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--workload") && i + 1 < argc && n_custom < 16 &&
                 parse_workload(argv[i + 1], &custom[n_custom])) { n_custom++; i++; }
        else {
            fprintf(stderr, "usage: %s [--steps N] [--quick] [--only tiny|small|mnist|wide] "
                            "[--workload NAME:N0,N1,...:BATCH[:STEPS]]...\n", argv[0]);
            return 2;
        }
    }
    if (steps < 1) steps = 1;
    workload wls[16] = {
        {"tiny", {2, 4, 1}, 3, 4, 0},
        {"small", {64, 32, 10}, 3, 32, 0},
        {"mnist", {784, 256, 128, 10}, 4, 64, 0},
        {"wide", {1024, 2048, 2048, 1024}, 4, 256, 0},
    };
    size_t n_wls = 4;
    if (quick) {
        workload q = {"wide", {256, 512, 512, 256}, 4, 64, 0};
        wls[3] = q;
    }
    if (n_custom) {
        memcpy(wls, custom, sizeof custom[0] * n_custom);
        n_wls = n_custom;
    }
    int worst = 0, ran = 0;
    for (size_t k = 0; k < n_wls; k++) {
        if (only && strcmp(only, wls[k].name)) continue;
        for (int d = 0; d < 2; d++) {
            int r = check(&wls[k], d ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32, wls[k].steps ? wls[k].steps : steps);
            if (r > worst) worst = r;
            ran++;
        }
    }
    if (!ran) { fprintf(stderr, "alloc_check: no workload named %s\n", only); return 2; }
    printf("alloc_check: %s\n", worst == 0 ? "no heap allocation after the first step" :
                                 worst == 1 ? "FAILED: heap allocations in steps after the first" : "ERROR");
    return worst;
}
