/*
 * fann_driver.c — the FANN peer of the benchmark (Debian's libfann-dev,
 * FANN 2.2). FANN has no batch API: a "step" here is one pass of fann_train
 * (FANN's per-sample online backpropagation) over the B samples of the
 * batch, so samples/s = B * steps/s.
 *
 * Built twice by bench/run.sh:
 *   cc -O2 fann_driver.c -lfloatfann              -> fann_driver_f32 (fann_type = float)
 *   cc -O2 -DBENCH_FANN_DOUBLE fann_driver.c -ldoublefann -> fann_driver_f64 (double)
 *
 * The network is set up to compute the slides' function:
 *  - FANN_SIGMOID on every layer.  FANN computes 1/(1 + exp(-2*s*x)) with
 *    steepness s; s = 0.5 (FANN's default) IS the logistic 1/(1 + exp(-x)).
 *    (s = 1.0 would compute sigmoid(2x): the check below measures both.)
 *  - FANN_ERRORFUNC_LINEAR (the default, FANN_ERRORFUNC_TANH, would reshape
 *    the error), momentum 0.
 *  - the weights are the benchmark's initial parameters, mapped onto FANN's
 *    connections by (from_neuron, to_neuron): each layer's neurons are
 *    followed by one bias neuron (value 1), whose connection carries b.
 * FANN's update is per sample on 0.5*sum((g - y)^2) and its derivative
 * clips g to [0.01, 0.99] (fann_activation_derived), so the benchmark checks
 * it against a per-sample NumPy transcription (bench/common.py), not against
 * the slides' batch step.
 *
 *   fann_driver_fXX check --dir D --sizes 2,4,1 --batch 4 --check-lr LR --check-steps 2 --out P.bin
 *       writes P.bin (parameters after check-steps epochs over the batch,
 *       swiftmlp's flat layout), P.bin.fwd05 and P.bin.fwd10 (fann_run
 *       outputs on the batch with steepness 0.5 and 1.0, before training)
 *   fann_driver_fXX time --dir D --sizes ... --batch B --lr LR --seconds S --repeats R
 */
#include "bench_util.h"

#ifdef BENCH_FANN_DOUBLE
#include <doublefann.h>
#define DTYPE_NAME "float64"
#else
#include <floatfann.h>
#define DTYPE_NAME "float32"
#endif

typedef struct map {
    unsigned n_conn;
    struct fann_connection *conn;
    size_t *flat_index; /* connection -> index in swiftmlp's flat parameter layout */
} map;

static map build_map(struct fann *ann, const bench_opts *o) {
    map m;
    unsigned nl = fann_get_num_layers(ann);
    if (nl != o->n_sizes) bench_die("FANN layer count differs", NULL);
    unsigned layers[BENCH_MAX_SIZES], bias[BENCH_MAX_SIZES];
    fann_get_layer_array(ann, layers);
    fann_get_bias_array(ann, bias);
    size_t first[BENCH_MAX_SIZES + 1]; /* global index of each layer's first neuron */
    first[0] = 0;
    for (unsigned l = 0; l < nl; l++) {
        if (layers[l] != o->sizes[l]) bench_die("FANN layer size differs", NULL);
        first[l + 1] = first[l] + layers[l] + bias[l];
    }
    size_t woff[BENCH_MAX_SIZES], boff[BENCH_MAX_SIZES], off = 0;
    for (unsigned l = 0; l + 1 < nl; l++) {
        woff[l] = off;
        off += o->sizes[l] * o->sizes[l + 1];
        boff[l] = off;
        off += o->sizes[l + 1];
    }
    m.n_conn = fann_get_total_connections(ann);
    if (m.n_conn != off) bench_die("FANN connection count differs from the parameter count", NULL);
    m.conn = malloc(sizeof *m.conn * m.n_conn);
    m.flat_index = malloc(sizeof *m.flat_index * m.n_conn);
    char *seen = calloc(off, 1);
    fann_get_connection_array(ann, m.conn);
    for (unsigned k = 0; k < m.n_conn; k++) {
        size_t to = m.conn[k].to_neuron, from = m.conn[k].from_neuron;
        unsigned lt = 1;
        while (lt < nl && to >= first[lt + 1]) lt++;
        if (lt >= nl || to < first[lt]) bench_die("unexpected FANN connection (to)", NULL);
        size_t j = to - first[lt];
        if (j >= o->sizes[lt]) bench_die("a connection into a bias neuron", NULL);
        if (from < first[lt - 1] || from >= first[lt]) bench_die("not a layered FANN network", NULL);
        size_t i = from - first[lt - 1];
        unsigned wl = lt - 1;
        size_t idx;
        if (i < o->sizes[wl]) idx = woff[wl] + j * o->sizes[wl] + i;
        else if (i == o->sizes[wl]) idx = boff[wl] + j;
        else bench_die("unexpected FANN connection (from)", NULL);
        if (seen[idx]++) bench_die("two FANN connections map to one parameter", NULL);
        m.flat_index[k] = idx;
    }
    free(seen);
    return m;
}

static void set_params(struct fann *ann, map *m, const fann_type *flat) {
    for (unsigned k = 0; k < m->n_conn; k++) m->conn[k].weight = flat[m->flat_index[k]];
    fann_set_weight_array(ann, m->conn, m->n_conn);
}

static void get_params(struct fann *ann, map *m, fann_type *flat) {
    fann_get_connection_array(ann, m->conn);
    for (unsigned k = 0; k < m->n_conn; k++) flat[m->flat_index[k]] = m->conn[k].weight;
}

static struct fann *create(const bench_opts *o, float lr, fann_type steepness) {
    unsigned layers[BENCH_MAX_SIZES];
    for (size_t l = 0; l < o->n_sizes; l++) layers[l] = (unsigned)o->sizes[l];
    struct fann *ann = fann_create_standard_array((unsigned)o->n_sizes, layers);
    if (!ann) bench_die("fann_create_standard_array failed", NULL);
    fann_set_activation_function_hidden(ann, FANN_SIGMOID);
    fann_set_activation_function_output(ann, FANN_SIGMOID);
    fann_set_activation_steepness_hidden(ann, steepness);
    fann_set_activation_steepness_output(ann, steepness);
    fann_set_train_error_function(ann, FANN_ERRORFUNC_LINEAR);
    fann_set_learning_momentum(ann, 0.0f);
    fann_set_learning_rate(ann, lr);
    return ann;
}

typedef struct ctx {
    struct fann *ann;
    fann_type *x, *y;
    size_t batch, n0, nl;
} ctx;

static int epoch(void *p) {
    ctx *c = p;
    for (size_t i = 0; i < c->batch; i++) fann_train(c->ann, c->x + i * c->n0, c->y + i * c->nl);
    return 0;
}

static void write_forward(const bench_opts *o, ctx *c, const fann_type *p0, fann_type steep, const char *suffix) {
    struct fann *ann = create(o, 0.5f, steep);
    map m = build_map(ann, o);
    set_params(ann, &m, p0);
    fann_type *out = malloc(sizeof *out * c->batch * c->nl);
    for (size_t i = 0; i < c->batch; i++) {
        fann_type *r = fann_run(ann, c->x + i * c->n0);
        memcpy(out + i * c->nl, r, sizeof *out * c->nl);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s%s", o->out, suffix);
    bench_write(path, out, c->batch * c->nl, sizeof *out);
    free(out);
    free(m.conn);
    free(m.flat_index);
    fann_destroy(ann);
}

int main(int argc, char **argv) {
    bench_opts o;
    bench_parse(argc, argv, &o);
    if ((o.f64 != 0) != (sizeof(fann_type) == sizeof(double)))
        bench_die("this build of the FANN driver is for " DTYPE_NAME, NULL);
    ctx c = {0};
    c.batch = o.batch;
    c.n0 = o.sizes[0];
    c.nl = o.sizes[o.n_sizes - 1];
    c.x = bench_read(o.dir, "x", c.batch * c.n0, sizeof(fann_type));
    c.y = bench_read(o.dir, "y", c.batch * c.nl, sizeof(fann_type));
    size_t p = 0;
    for (size_t l = 0; l + 1 < o.n_sizes; l++) p += o.sizes[l] * o.sizes[l + 1] + o.sizes[l + 1];
    fann_type *p0 = bench_read(o.dir, "params0", p, sizeof(fann_type));

    int check = !strcmp(o.mode, "check");
    if (!check && strcmp(o.mode, "time")) bench_die("unknown mode", o.mode);
    if (check && !o.out) bench_die("check needs --out", NULL);
    c.ann = create(&o, (float)(check ? o.check_lr : o.lr), (fann_type)0.5);
    map m = build_map(c.ann, &o);
    set_params(c.ann, &m, p0);
    {   /* the weights must read back exactly as set */
        fann_type *back = malloc(sizeof *back * p);
        get_params(c.ann, &m, back);
        if (memcmp(back, p0, sizeof *back * p)) bench_die("FANN weights do not read back as set", NULL);
        free(back);
    }

    if (check) {
        write_forward(&o, &c, p0, (fann_type)0.5, ".fwd05");
        write_forward(&o, &c, p0, (fann_type)1.0, ".fwd10");
        for (int e = 0; e < o.check_steps; e++) epoch(&c);
        fann_type *after = malloc(sizeof *after * p);
        get_params(c.ann, &m, after);
        bench_write(o.out, after, p, sizeof *after);
        printf("{\"mode\": \"check\", \"learning_rate\": %.9g, \"steepness\": 0.5, \"fann_type\": \"%s\"}\n",
               (double)fann_get_learning_rate(c.ann), DTYPE_NAME);
        return 0;
    }

    bench_timing t;
    bench_time(epoch, &c, o.seconds, o.repeats, &t);
    fann_type *after = malloc(sizeof *after * p);
    get_params(c.ann, &m, after);
    int finite = 1;
    for (size_t i = 0; i < p; i++) if (!(after[i] - after[i] == 0)) finite = 0;
    printf("{\"mode\": \"time\", ");
    bench_print_rates(stdout, &t);
    printf(", \"samples_per_step\": %zu, \"finite\": %s, \"fann_type\": \"%s\", \"fann_version\": \"2.2 (Debian libfann-dev)\"}\n",
           c.batch, finite ? "true" : "false", DTYPE_NAME);
    fann_destroy(c.ann);
    return 0;
}
