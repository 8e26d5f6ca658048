/*
 * bench_util.h — small helpers shared by the C drivers of the benchmark
 * (bench/swiftmlp_driver.c, bench/fann_driver.c, bench/thread_time.c): options, raw files,
 * the clock, the timing loop, /proc/self/status, the optional malloc counter
 * (bench/alloc_count.c, LD_PRELOADed) and JSON output.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_SIZES 16
#define BENCH_MAX_REPEATS 64

typedef struct bench_opts {
    const char *mode;        /* "check" or "time" */
    const char *dir;         /* directory holding params0.bin, x.bin, y.bin */
    const char *out;         /* check: where the parameters after the check steps go */
    size_t sizes[BENCH_MAX_SIZES];
    size_t n_sizes;
    size_t batch;
    int f64;                 /* 0: float32, 1: float64 */
    double lr, check_lr;
    int check_steps;         /* batch steps (swiftmlp) or epochs over the batch (FANN) */
    double seconds;          /* target duration of one repeat */
    int repeats;
    const char *lib;         /* gemm_bound compare: the other BLAS library to load */
} bench_opts;

static inline void bench_die(const char *msg, const char *detail) {
    fprintf(stderr, "error: %s%s%s\n", msg, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static inline size_t bench_parse_sizes(const char *s, size_t *out, size_t cap) {
    size_t n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || v == 0 || n == cap) bench_die("bad --sizes", s);
        out[n++] = (size_t)v;
        p = (*end == ',') ? end + 1 : end;
        if (*end && *end != ',') bench_die("bad --sizes", s);
    }
    return n;
}

static inline void bench_parse(int argc, char **argv, bench_opts *o) {
    memset(o, 0, sizeof *o);
    o->lr = 0.1;
    o->check_lr = 0.5;
    o->check_steps = 2;
    o->seconds = 1.0;
    o->repeats = 5;
    if (argc < 2) bench_die("usage: MODE(check|time) --dir D --sizes a,b,c --batch B --dtype f32|f64 ...", NULL);
    o->mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        if (i + 1 >= argc) bench_die("missing value for", k);
        const char *v = argv[++i];
        if (!strcmp(k, "--dir")) o->dir = v;
        else if (!strcmp(k, "--out")) o->out = v;
        else if (!strcmp(k, "--sizes")) o->n_sizes = bench_parse_sizes(v, o->sizes, BENCH_MAX_SIZES);
        else if (!strcmp(k, "--batch")) o->batch = (size_t)strtoull(v, NULL, 10);
        else if (!strcmp(k, "--dtype")) o->f64 = !strcmp(v, "f64") || !strcmp(v, "float64");
        else if (!strcmp(k, "--lr")) o->lr = strtod(v, NULL);
        else if (!strcmp(k, "--check-lr")) o->check_lr = strtod(v, NULL);
        else if (!strcmp(k, "--check-steps")) o->check_steps = atoi(v);
        else if (!strcmp(k, "--seconds")) o->seconds = strtod(v, NULL);
        else if (!strcmp(k, "--repeats")) o->repeats = atoi(v);
        else if (!strcmp(k, "--lib")) o->lib = v;
        else bench_die("unknown option", k);
    }
    if (!o->dir || o->n_sizes < 2 || o->batch == 0) bench_die("--dir, --sizes and --batch are required", NULL);
    if (o->repeats < 1) o->repeats = 1;
    if (o->repeats > BENCH_MAX_REPEATS) o->repeats = BENCH_MAX_REPEATS;
}

/* Reads exactly n elements of elem bytes from DIR/NAME.bin into a new buffer. */
static inline void *bench_read(const char *dir, const char *name, size_t n, size_t elem) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) bench_die("cannot open", path);
    void *buf = malloc(n && elem ? n * elem : 1);
    if (!buf) bench_die("out of memory reading", path);
    if (fread(buf, elem, n, f) != n) bench_die("short file", path);
    if (fgetc(f) != EOF) bench_die("file longer than expected", path);
    fclose(f);
    return buf;
}

static inline void bench_write(const char *path, const void *buf, size_t n, size_t elem) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, elem, n, f) != n || fclose(f) != 0) bench_die("cannot write", path);
}

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A "kB" field of /proc/self/status (VmHWM, VmRSS, ...), -1 if unreadable. */
static inline long bench_status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    size_t n = strlen(field);
    long v = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, field, n) && line[n] == ':') { v = strtol(line + n + 1, NULL, 10); break; }
    }
    fclose(f);
    return v;
}

/* Resets VmHWM to the current RSS (Linux >= 4.0: "5" > /proc/self/clear_refs). */
static inline int bench_reset_hwm(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return 0;
    int ok = fputs("5", f) >= 0;
    return (fclose(f) == 0) && ok;
}

/* ---- the optional malloc counter (bench/alloc_count.c via LD_PRELOAD) ---- */
typedef void (*bench_count_enable_fn)(int);
typedef void (*bench_count_get_fn)(unsigned long long *, unsigned long long *, unsigned long long *);
typedef void (*bench_count_report_fn)(FILE *);

typedef struct bench_counter {
    bench_count_enable_fn enable;
    bench_count_get_fn get;
    bench_count_report_fn report;
} bench_counter;

static inline bench_counter bench_counter_find(void) {
    bench_counter c;
    c.enable = (bench_count_enable_fn)dlsym(RTLD_DEFAULT, "alloc_count_enable");
    c.get = (bench_count_get_fn)dlsym(RTLD_DEFAULT, "alloc_count_get");
    c.report = (bench_count_report_fn)dlsym(RTLD_DEFAULT, "alloc_count_report");
    if (!c.enable || !c.get) c.enable = NULL;
    return c;
}

/* ---- the timing loop: warm-up, calibration, repeats ---- */
typedef int (*bench_step_fn)(void *ctx); /* returns 0 on success */

typedef struct bench_timing {
    long steps_per_repeat;
    int repeats;
    double rates[BENCH_MAX_REPEATS];  /* steps per second of each repeat */
    unsigned long long allocs, frees, alloc_bytes; /* during the timed repeats */
    int counted;                       /* the malloc counter was present */
} bench_timing;

static inline void bench_time(bench_step_fn step, void *ctx, double seconds, int repeats, bench_timing *t) {
    memset(t, 0, sizeof *t);
    if (step(ctx)) bench_die("the first step failed", NULL);     /* never timed */
    double warm = seconds / 4;
    if (warm < 0.05) warm = 0.05;
    if (warm > 0.5) warm = 0.5;
    long n = 0;
    double t0 = bench_now(), el;
    for (;;) {
        if (step(ctx)) bench_die("a warm-up step failed", NULL);
        n++;
        el = bench_now() - t0;
        if (n >= 3 && el >= warm) break;
    }
    double per = el / (double)n;
    long steps = (long)(seconds / per + 0.5);
    if (steps < 1) steps = 1;
    t->steps_per_repeat = steps;
    t->repeats = repeats;
    bench_counter c = bench_counter_find();
    if (c.enable) { t->counted = 1; c.enable(1); }
    for (int r = 0; r < repeats; r++) {
        double s = bench_now();
        for (long i = 0; i < steps; i++)
            if (step(ctx)) bench_die("a timed step failed", NULL);
        t->rates[r] = (double)steps / (bench_now() - s);
    }
    if (c.enable) {
        c.enable(0);
        c.get(&t->allocs, &t->frees, &t->alloc_bytes);
        if (t->allocs && c.report) c.report(stderr);
    }
}

static inline void bench_print_rates(FILE *f, const bench_timing *t) {
    fprintf(f, "\"steps_per_repeat\": %ld, \"rates\": [", t->steps_per_repeat);
    for (int r = 0; r < t->repeats; r++) fprintf(f, "%s%.17g", r ? ", " : "", t->rates[r]);
    fprintf(f, "]");
    if (t->counted)
        fprintf(f, ", \"alloc_counted\": true, \"allocs\": %llu, \"frees\": %llu, \"alloc_bytes\": %llu, "
                   "\"timed_steps\": %ld",
                t->allocs, t->frees, t->alloc_bytes, t->steps_per_repeat * (long)t->repeats);
    else
        fprintf(f, ", \"alloc_counted\": false");
}

#endif /* BENCH_UTIL_H */
