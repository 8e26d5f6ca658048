/*
 * swiftmlp_driver.c — the "swiftmlp from C" peer of the benchmark: one
 * swiftmlp_train_step (forward + backward + the configured optimizer, here
 * plain SGD: momentum 0, weight decay 0) per step, in a loop.
 *
 *   swiftmlp_driver check --dir D --sizes 784,256,128,10 --batch 64 --dtype f32
 *                   --check-lr LR --check-steps 2 --out PARAMS.bin
 *       start from D/params0.bin, take the steps on D/x.bin, D/y.bin, write
 *       the parameters (the benchmark compares them with the slides' NumPy code)
 *   swiftmlp_driver time  --dir D --sizes ... --batch B --dtype f32|f64
 *                   --lr LR --seconds S --repeats R
 *       warm up, then R repeats of about S seconds each; prints one JSON line:
 *       steps/s of every repeat, heap allocations during the timed steps
 *       (when bench/alloc_count.so is LD_PRELOADed), the peak resident memory
 *       (VmHWM, reset just before the network's first step so that the
 *       driver's own copy of the initial parameters is not counted) next to
 *       the theoretical size, and the OpenBLAS core and thread count.
 *   swiftmlp_driver predict --dir D --sizes ... --batch B --dtype f32|f64
 *                   --out OUTPUTS.bin --seconds S --repeats R
 *       swiftmlp_predict on the B rows of D/x.bin: writes the outputs (the
 *       benchmark compares them with the NumPy forward pass), then times
 *       calls (one step = one call) and prints one JSON line as "time".
 */
#include "bench_util.h"

#include <swiftmlp.h>

typedef struct ctx {
    swiftmlp_net *net;
    swiftmlp_dtype dtype;
    const void *x, *y;
    size_t x_len, y_len, batch;
    double loss;
    void *out; /* predict: the outputs, y_len elements */
} ctx;

static int train_step(void *p) {
    ctx *c = p;
    return swiftmlp_train_step(c->net, c->dtype, c->x, c->x_len, c->y, c->y_len, c->batch, &c->loss) != SWIFTMLP_OK;
}

static int predict(void *p) {
    ctx *c = p;
    return swiftmlp_predict(c->net, c->dtype, c->x, c->x_len, c->batch, c->out, c->y_len) != SWIFTMLP_OK;
}

static void ok(swiftmlp_status s, const char *what) {
    if (s != SWIFTMLP_OK) {
        fprintf(stderr, "error: %s: %s: %s\n", what, swiftmlp_status_string(s), swiftmlp_last_error());
        exit(2);
    }
}

static void set_sgd(swiftmlp_net *net, double lr) {
    swiftmlp_optimizer o;
    ok(swiftmlp_optimizer_default(SWIFTMLP_OPT_SGD, &o), "swiftmlp_optimizer_default");
    o.lr = lr;
    o.momentum = 0;
    o.weight_decay = 0;
    ok(swiftmlp_set_optimizer(net, &o), "swiftmlp_set_optimizer");
}

static void print_openblas(FILE *f) {
    typedef char *(*str_fn)(void);
    typedef int (*int_fn)(void);
    str_fn config = (str_fn)dlsym(RTLD_DEFAULT, "openblas_get_config");
    str_fn core = (str_fn)dlsym(RTLD_DEFAULT, "openblas_get_corename");
    int_fn threads = (int_fn)dlsym(RTLD_DEFAULT, "openblas_get_num_threads");
    fprintf(f, "\"openblas\": {\"config\": \"%s\", \"core\": \"%s\", \"num_threads\": %d}",
            config ? config() : "?", core ? core() : "?", threads ? threads() : -1);
}

int main(int argc, char **argv) {
    bench_opts o;
    bench_parse(argc, argv, &o);
    if (swiftmlp_version_number() != SWIFTMLP_VERSION_NUMBER) {
        fprintf(stderr, "error: header version %d, library %u\n", SWIFTMLP_VERSION_NUMBER, swiftmlp_version_number());
        return 2;
    }
    size_t elem = o.f64 ? sizeof(double) : sizeof(float);
    size_t n0 = o.sizes[0], nl = o.sizes[o.n_sizes - 1];
    ctx c = {0};
    c.dtype = o.f64 ? SWIFTMLP_FLOAT64 : SWIFTMLP_FLOAT32;
    c.batch = o.batch;
    c.x_len = o.batch * n0;
    c.y_len = o.batch * nl;
    c.x = bench_read(o.dir, "x", c.x_len, elem);
    c.y = bench_read(o.dir, "y", c.y_len, elem);

    long rss_before_net = bench_status_kib("VmRSS");
    ok(swiftmlp_create(o.sizes, o.n_sizes, c.dtype, 0, &c.net), "swiftmlp_create");
    size_t p = 0;
    ok(swiftmlp_get_param_count(c.net, &p), "swiftmlp_get_param_count");
    void *p0 = bench_read(o.dir, "params0", p, elem);
    ok(swiftmlp_set_params(c.net, c.dtype, p0, p), "swiftmlp_set_params");

    if (!strcmp(o.mode, "check")) {
        if (!o.out) bench_die("check needs --out", NULL);
        set_sgd(c.net, o.check_lr);
        for (int i = 0; i < o.check_steps; i++) ok(swiftmlp_train_step(c.net, c.dtype, c.x, c.x_len, c.y, c.y_len, c.batch, &c.loss), "swiftmlp_train_step");
        ok(swiftmlp_get_params(c.net, c.dtype, p0, p), "swiftmlp_get_params");
        bench_write(o.out, p0, p, elem);
        printf("{\"mode\": \"check\", \"loss\": %.17g}\n", c.loss);
        free(p0);
        swiftmlp_free(c.net);
        return 0;
    }
    if (!strcmp(o.mode, "predict")) {
        if (!o.out) bench_die("predict needs --out", NULL);
        c.out = malloc(c.y_len * elem);
        if (!c.out) bench_die("out of memory", NULL);
        ok(swiftmlp_predict(c.net, c.dtype, c.x, c.x_len, c.batch, c.out, c.y_len), "swiftmlp_predict");
        bench_write(o.out, c.out, c.y_len, elem);
        bench_timing t;
        bench_time(predict, &c, o.seconds, o.repeats, &t);
        printf("{\"mode\": \"predict\", ");
        bench_print_rates(stdout, &t);
        printf("}\n"); /* the outputs are checked by the orchestrator */
        free(c.out);
        free(p0);
        swiftmlp_free(c.net);
        return 0;
    }
    if (strcmp(o.mode, "time")) bench_die("unknown mode", o.mode);

    free(p0); /* the network holds its own copy */
    set_sgd(c.net, o.lr);
    int hwm_reset = bench_reset_hwm();
    long rss_net = bench_status_kib("VmRSS");
    bench_timing t;
    bench_time(train_step, &c, o.seconds, o.repeats, &t);
    long hwm = bench_status_kib("VmHWM"), rss = bench_status_kib("VmRSS");

    /* parameters + gradients + optimizer state (plain SGD: none) + the
       activations the ABI keeps readable: g_0 = x and f, g, dL/df, dL/dg of
       every layer (swiftmlp_get_quantity) */
    size_t sum_hidden = 0;
    for (size_t i = 1; i < o.n_sizes; i++) sum_hidden += o.sizes[i];
    double theory = (double)elem * (2.0 * (double)p + (double)o.batch * (double)(n0 + 4 * sum_hidden));
    double data = (double)elem * (double)(c.x_len + c.y_len);

    int finite = c.loss == c.loss && c.loss - c.loss == 0;
    printf("{\"mode\": \"time\", ");
    bench_print_rates(stdout, &t);
    printf(", \"loss\": %.17g, \"finite\": %s, \"param_count\": %zu, "
           "\"memory\": {\"vmhwm_kib\": %ld, \"vmrss_kib\": %ld, \"rss_before_net_kib\": %ld, "
           "\"rss_after_setup_kib\": %ld, \"hwm_reset\": %s, \"theory_bytes\": %.0f, \"driver_data_bytes\": %.0f}, ",
           c.loss, finite ? "true" : "false", p, hwm, rss, rss_before_net, rss_net,
           hwm_reset ? "true" : "false", theory, data);
    print_openblas(stdout);
    printf(", \"swiftmlp_version\": \"%s\"}\n", swiftmlp_version_string());
    swiftmlp_free(c.net);
    return 0;
}
