/*
 * test_model_corpus.c — the hand-made model files in corpus/ (written by
 * corpus/make_corpus.py), one cmocka test each.
 *
 * Every malformed file (bad_*) is loaded with swiftmlp_load_file AND, after
 * reading it into an exactly-sized buffer, with swiftmlp_load_buffer; both
 * must return exactly SWIFTMLP_ERR_FORMAT (the content is malformed; I/O is
 * fine), leave *out NULL, and set a last_error that names the problem (a
 * distinctive substring per file, below).  The three valid_* files must load
 * with both functions and hold exactly what make_corpus.py wrote.  Every
 * *.safetensors file in the directory must be listed here, so a file added
 * to the corpus without an expectation fails the suite.
 *
 * SWIFTMLP_CORPUS_DIR is set by c-tests/CMakeLists.txt.
 */
#define _GNU_SOURCE
#include "model_test_util.h"

#ifndef SWIFTMLP_CORPUS_DIR
#error "SWIFTMLP_CORPUS_DIR must name the corpus directory (set in c-tests/CMakeLists.txt)"
#endif

typedef struct bad_case {
    const char *stem;      /* file name without .safetensors */
    const char *test_name; /* what cmocka prints */
    const char *message;   /* a substring last_error must contain */
} bad_case;

#define BAD(stem, message) {stem, stem "_returns_format_error", message}

static const bad_case k_bad[] = {
    /* the 8-byte length prefix */
    BAD("bad_empty", "has 0 bytes"),
    BAD("bad_7_bytes", "has 7 bytes"),
    BAD("bad_only_length_prefix", "unexpected end"),
    BAD("bad_header_length_all_ones", "header length 18446744073709551615 exceeds the limit"),
    BAD("bad_header_length_17_mib", "header length 17825792 exceeds the limit"),
    BAD("bad_header_length_past_end", "runs past the end"),
    /* the JSON text */
    BAD("bad_non_utf8_byte_in_string", "not valid UTF-8"),
    BAD("bad_overlong_utf8_in_string", "not valid UTF-8"),
    BAD("bad_utf8_surrogate_in_key", "not valid UTF-8"),
    BAD("bad_utf8_bom_before_json", "unexpected character 0xef"),
    BAD("bad_truncated_json", "unexpected end"),
    BAD("bad_nesting_100000_deep", "nesting deeper than 16"),
    BAD("bad_nesting_17_deep_closed", "nesting deeper than 16"),
    BAD("bad_header_is_json_array", "not a JSON object"),
    BAD("bad_header_padded_with_nul", "unexpected data after the JSON value"),
    BAD("bad_data_after_json_value", "unexpected data after the JSON value"),
    BAD("bad_raw_control_char_in_string", "raw control character"),
    BAD("bad_invalid_escape", "invalid escape"),
    BAD("bad_unpaired_surrogate_escape", "unpaired surrogate"),
    BAD("bad_duplicate_tensor_name", "duplicate key \"layers.1.bias\""),
    BAD("bad_duplicate_metadata_key", "duplicate key \"seed\""),
    /* the metadata */
    BAD("bad_missing_metadata", "__metadata__ lacks \"format\""),
    BAD("bad_metadata_not_object", "__metadata__ is not an object"),
    BAD("bad_metadata_value_not_string", "\"seed\" is not a string"),
    BAD("bad_format_not_swiftmlp", "not a swiftmlp model"),
    BAD("bad_format_version_2", "format version 2 is not supported"),
    BAD("bad_format_version_missing", "lacks \"format_version\""),
    BAD("bad_metadata_dtype_float16", "unknown dtype \"float16\""),
    BAD("bad_unknown_activation_gelu", "unknown activation \"gelu\""),
    BAD("bad_activation_count_mismatch", "1 activations for 2 weight layers"),
    BAD("bad_unknown_loss", "unknown loss \"hinge\""),
    BAD("bad_unknown_init", "unknown init \"xavier\""),
    BAD("bad_leaky_slope_not_a_number", "\"leaky_slope\" is not a finite number"),
    BAD("bad_leaky_slope_nan", "\"leaky_slope\" is not a finite number"),
    BAD("bad_leaky_slope_inf", "\"leaky_slope\" is not a finite number"),
    BAD("bad_leaky_slope_embedded_nul", "\"leaky_slope\" is not a finite number"),
    BAD("bad_seed_negative", "\"seed\" is not an unsigned integer"),
    BAD("bad_seed_leading_zero", "\"seed\" is not an unsigned integer"),
    BAD("bad_seed_2_pow_64", "\"seed\" is not an unsigned integer"),
    BAD("bad_shuffle_state_missing", "lacks \"shuffle_state\""),
    BAD("bad_sizes_with_zero", "layer size 1 is 0"),
    BAD("bad_sizes_empty_entry", "sizes \"3,,2\""),
    BAD("bad_sizes_above_layer_limit", "sizes \"3,16777217,2\""),
    BAD("bad_sizes_param_count_above_limit", "more than 268435456 parameters"),
    BAD("bad_sizes_1026_entries", "more than 1025 layer sizes"),
    BAD("bad_softmax_on_hidden_layer", "softmax is allowed on the output layer only"),
    BAD("bad_cross_entropy_without_softmax", "cross-entropy needs a softmax output layer"),
    /* the optimizer */
    BAD("bad_unknown_optimizer", "unknown optimizer \"rmsprop\""),
    BAD("bad_optimizer_lr_zero", "learning rate"),
    BAD("bad_optimizer_lr_missing", "lacks \"optimizer_lr\""),
    BAD("bad_optimizer_beta1_one", "beta1"),
    BAD("bad_optimizer_eps_negative", "epsilon"),
    BAD("bad_optimizer_momentum_one", "momentum"),
    BAD("bad_optimizer_nesterov_2", "optimizer_nesterov"),
    BAD("bad_optimizer_weight_decay_negative", "weight decay"),
    BAD("bad_optimizer_steps_2_pow_63", "exceeds the limit"),
    BAD("bad_optimizer_state_without_steps", "unexpected tensor \"optimizer.m\""),
    BAD("bad_optimizer_steps_without_state", "missing tensor \"optimizer.v\""),
    /* the tensors */
    BAD("bad_tensor_byte_size_mismatch", "spans 104 bytes"),
    BAD("bad_overlapping_offsets", "overlaps"),
    BAD("bad_gap_between_offsets", "gap before tensor \"layers.0.bias\""),
    BAD("bad_trailing_bytes_after_last_tensor", "8 trailing bytes"),
    BAD("bad_shape_transposed", "tensor \"layers.0.weight\" has shape [3, 4]"),
    BAD("bad_shape_and_size_disagree_with_sizes", "tensor \"layers.1.bias\" has shape [3]"),
    BAD("bad_shape_negative_dim", "tensor \"layers.1.weight\" has shape"),
    BAD("bad_shape_scalar", "tensor \"layers.0.bias\" has shape []"),
    BAD("bad_tensor_dtype_f16", "has dtype F16"),
    BAD("bad_tensor_dtype_i32", "has dtype I32"),
    BAD("bad_tensor_dtype_f32_in_float64_model", "has dtype F32"),
    BAD("bad_nan_in_weight", "layers.1.weight holds a NaN or infinite value"),
    BAD("bad_inf_in_bias", "layers.0.bias holds a NaN or infinite value"),
    BAD("bad_f32_minus_inf_in_weight", "layers.0.weight holds a NaN or infinite value"),
    BAD("bad_nan_in_adam_state", "optimizer.v holds a NaN or infinite value"),
    BAD("bad_inf_in_momentum_state", "optimizer.momentum holds a NaN or infinite value"),
    BAD("bad_missing_tensor", "missing tensor \"layers.1.bias\""),
    BAD("bad_unexpected_extra_tensor", "unexpected tensor \"layers.2.weight\""),
    BAD("bad_extra_field_in_tensor_entry", "unknown field \"extra\""),
    BAD("bad_tensor_entry_without_offsets", "needs dtype, shape and data_offsets"),
    BAD("bad_offsets_past_data_section", "data_offsets"),
    BAD("bad_offsets_reversed", "data_offsets"),
    BAD("bad_offsets_not_integers", "data_offsets"),
    BAD("bad_offsets_three_numbers", "data_offsets"),
};

/* What make_corpus.py put into the valid files. */
typedef struct valid_case {
    const char *stem;
    const char *test_name;
    swiftmlp_dtype dtype;
    size_t sizes[4];
    size_t n_sizes;
    swiftmlp_activation activations[3];
    swiftmlp_loss loss;
    swiftmlp_init init;
    uint64_t seed;
    int has_optimizer;
    swiftmlp_optimizer_kind kind;
    double lr, momentum, beta1, beta2, eps, weight_decay;
    int nesterov;
    uint64_t steps;
} valid_case;

static const valid_case k_valid[] = {
    {"valid_f64_sigmoid_mse", "valid_f64_sigmoid_mse_loads_with_its_contents",
     SWIFTMLP_FLOAT64, {3, 4, 2}, 3, {SWIFTMLP_SIGMOID, SWIFTMLP_SIGMOID}, SWIFTMLP_LOSS_MSE,
     SWIFTMLP_INIT_UNIFORM, 7, 0, SWIFTMLP_OPT_SGD, 0, 0, 0, 0, 0, 0, 0, 0},
    {"valid_f32_relu_softmax_adam", "valid_f32_relu_softmax_adam_loads_with_its_contents",
     SWIFTMLP_FLOAT32, {4, 5, 3}, 3, {SWIFTMLP_RELU, SWIFTMLP_SOFTMAX}, SWIFTMLP_LOSS_CROSS_ENTROPY,
     SWIFTMLP_INIT_HE, 42, 1, SWIFTMLP_OPT_ADAM, 0.001, 0.0, 0.9, 0.999, 1e-8, 0.0, 0, 3},
    {"valid_f64_tanh_identity_sgd_momentum",
     "valid_f64_tanh_identity_sgd_momentum_loads_with_its_contents",
     SWIFTMLP_FLOAT64, {2, 3, 3, 1}, 4, {SWIFTMLP_TANH, SWIFTMLP_TANH, SWIFTMLP_IDENTITY},
     SWIFTMLP_LOSS_MSE, SWIFTMLP_INIT_GLOROT, 123, 1, SWIFTMLP_OPT_SGD, 0.05, 0.9, 0.9, 0.999, 1e-8,
     0.0001, 1, 5},
};

static void corpus_path(char *path, size_t cap, const char *stem)
{
    int n = snprintf(path, cap, "%s/%s.safetensors", SWIFTMLP_CORPUS_DIR, stem);
    assert_true(n > 0 && (size_t)n < cap);
}

/* ---- malformed files ------------------------------------------------------ */

static void test_bad_file(void **state)
{
    const bad_case *c = *state;
    char path[4096];
    corpus_path(path, sizeof path, c->stem);

    swiftmlp_net *out = NOT_NULL_SENTINEL;
    swiftmlp_status s = swiftmlp_load_file(path, &out);
    if (s == SWIFTMLP_OK) {
        swiftmlp_free(out); /* accepted: free it, then report */
        out = NULL;
    }
    assert_status_impl(s, SWIFTMLP_ERR_FORMAT, "swiftmlp_load_file(path, &out)", __FILE__, __LINE__);
    assert_null(out);
    assert_last_error_set();
    assert_last_error_contains(c->message);

    size_t len = 0;
    unsigned char *bytes = read_whole_file(path, &len);
    out = NOT_NULL_SENTINEL;
    s = swiftmlp_load_buffer(bytes, len, &out);
    free(bytes);
    if (s == SWIFTMLP_OK) {
        swiftmlp_free(out);
        out = NULL;
    }
    assert_status_impl(s, SWIFTMLP_ERR_FORMAT, "swiftmlp_load_buffer(bytes, len, &out)", __FILE__,
                       __LINE__);
    assert_null(out);
    assert_last_error_set();
    assert_last_error_contains(c->message);
}

/* ---- valid files ------------------------------------------------------------ */

static size_t param_count_of(const size_t *sizes, size_t n)
{
    size_t p = 0;
    for (size_t l = 0; l + 1 < n; l++) {
        p += sizes[l + 1] * sizes[l] + sizes[l + 1];
    }
    return p;
}

/* net holds exactly what c describes, and its parameters are the first
 * P elements of the file's data section (make_corpus.py writes the layer
 * tensors in the flat parameter layout's order). */
static void check_valid_net(const swiftmlp_net *net, const valid_case *c, const unsigned char *file,
                            size_t file_len)
{
    swiftmlp_config cfg;
    assert_ok(swiftmlp_get_config(net, &cfg));
    assert_int_equal(cfg.dtype, c->dtype);
    assert_int_equal(cfg.n_sizes, c->n_sizes);
    for (size_t i = 0; i < c->n_sizes; i++) {
        assert_int_equal(cfg.sizes[i], c->sizes[i]);
    }
    assert_int_equal(cfg.n_activations, c->n_sizes - 1);
    for (size_t i = 0; i + 1 < c->n_sizes; i++) {
        assert_int_equal(cfg.activations[i], c->activations[i]);
    }
    assert_int_equal(cfg.loss, c->loss);
    assert_int_equal(cfg.init, c->init);
    assert_true(cfg.seed == c->seed);
    assert_true(cfg.leaky_slope == 0.01);

    swiftmlp_optimizer opt;
    if (c->has_optimizer) {
        assert_ok(swiftmlp_get_optimizer(net, &opt));
        assert_int_equal(opt.kind, c->kind);
        assert_true(opt.lr == c->lr);
        assert_true(opt.momentum == c->momentum);
        assert_int_equal(opt.nesterov != 0, c->nesterov != 0);
        assert_true(opt.beta1 == c->beta1);
        assert_true(opt.beta2 == c->beta2);
        assert_true(opt.eps == c->eps);
        assert_true(opt.weight_decay == c->weight_decay);
    } else {
        assert_status(swiftmlp_get_optimizer(net, &opt), SWIFTMLP_ERR_STATE);
    }
    uint64_t steps = 99;
    assert_ok(swiftmlp_get_step_count(net, &steps));
    assert_true(steps == c->steps);

    size_t p = param_count_of(c->sizes, c->n_sizes);
    size_t count = 0;
    assert_ok(swiftmlp_get_param_count(net, &count));
    assert_int_equal(count, p);
    uint64_t header_len = 0;
    for (int i = 7; i >= 0; i--) {
        header_len = header_len << 8 | file[i];
    }
    size_t esize = dtype_size(c->dtype);
    assert_true(8 + header_len + p * esize <= file_len);
    snapshot s = snapshot_params(net);
    assert_int_equal(s.bytes, p * esize);
    assert_memory_equal(s.data, file + 8 + header_len, s.bytes);
    snapshot_free(&s);

    /* It predicts finite outputs. */
    enum { ROWS = 3 };
    size_t n0 = c->sizes[0], nl = c->sizes[c->n_sizes - 1];
    double x64[ROWS * 4], y64[ROWS * 3];
    float x32[ROWS * 4], y32[ROWS * 3];
    for (size_t i = 0; i < ROWS * n0; i++) {
        x64[i] = 0.25 * (double)i - 1.0;
        x32[i] = (float)x64[i];
    }
    if (c->dtype == SWIFTMLP_FLOAT64) {
        assert_ok(swiftmlp_predict((swiftmlp_net *)net, c->dtype, x64, ROWS * n0, ROWS, y64, ROWS * nl));
        for (size_t i = 0; i < ROWS * nl; i++) {
            assert_true(isfinite(y64[i]));
        }
    } else {
        assert_ok(swiftmlp_predict((swiftmlp_net *)net, c->dtype, x32, ROWS * n0, ROWS, y32, ROWS * nl));
        for (size_t i = 0; i < ROWS * nl; i++) {
            assert_true(isfinite(y32[i]));
        }
    }
}

static void test_valid_file(void **state)
{
    const valid_case *c = *state;
    char path[4096];
    corpus_path(path, sizeof path, c->stem);
    size_t len = 0;
    unsigned char *bytes = read_whole_file(path, &len);

    swiftmlp_net *from_file = NOT_NULL_SENTINEL;
    assert_ok(swiftmlp_load_file(path, &from_file));
    assert_last_error_empty();
    assert_non_null(from_file);
    check_valid_net(from_file, c, bytes, len);

    swiftmlp_net *from_buffer = NOT_NULL_SENTINEL;
    assert_ok(swiftmlp_load_buffer(bytes, len, &from_buffer));
    assert_non_null(from_buffer);
    assert_true(from_buffer != from_file);
    check_valid_net(from_buffer, c, bytes, len);

    swiftmlp_free(from_file);
    swiftmlp_free(from_buffer);
    free(bytes);
}

/* ---- edge cases: well-formed but extreme ----------------------------------- */

/*
 * optimizer_steps = 2^63 - 1 passes the loader's range check. Loading may
 * reject it (FORMAT) or accept it; if it is accepted, the next optimizer step
 * and a fit must not crash (the library "never aborts on bad input"): they
 * run in a child process so that a crash is reported instead of killing the
 * suite. Exit code = the status of optimizer_step (low part) and of fit.
 */
static void test_edge_optimizer_steps_int_max_is_rejected_or_stepping_does_not_crash(void **state)
{
    (void)state;
    char path[4096];
    corpus_path(path, sizeof path, "edge_optimizer_steps_int_max");
    size_t len = 0;
    unsigned char *bytes = read_whole_file(path, &len);
    swiftmlp_net *net = NOT_NULL_SENTINEL;
    swiftmlp_status s = swiftmlp_load_buffer(bytes, len, &net);
    free(bytes);
    if (s == SWIFTMLP_ERR_FORMAT) {
        assert_null(net);
        assert_last_error_contains("optimizer_steps");
        return;
    }
    assert_int_equal(s, SWIFTMLP_OK);
    uint64_t steps = 0;
    assert_ok(swiftmlp_get_step_count(net, &steps));
    assert_true(steps == UINT64_C(9223372036854775807));

    const float x[4] = {0.5f, -0.25f, 1.0f, 0.0f}, y[3] = {0, 1, 0};
    float out[3];
    const char *names[2] = {"optimizer_step", "fit"};
    int codes[2];
    for (int which = 0; which < 2; which++) {
        pid_t pid = fork_child();
        if (pid == 0) {
            swiftmlp_status r;
            if (which == 0) {
                if (swiftmlp_forward(net, SWIFTMLP_FLOAT32, x, 4, 1, out, 3) != SWIFTMLP_OK ||
                    swiftmlp_backward(net, SWIFTMLP_FLOAT32, y, 3, 1, NULL) != SWIFTMLP_OK) {
                    _exit(90);
                }
                r = swiftmlp_optimizer_step(net);
            } else {
                r = swiftmlp_fit(net, SWIFTMLP_FLOAT32, x, 4, y, 3, 1, NULL, NULL);
            }
            if (r != SWIFTMLP_OK && swiftmlp_last_error()[0] == '\0') {
                _exit(CHILD_EMPTY_LAST_ERROR);
            }
            _exit((int)r);
        }
        codes[which] = wait_child(pid);
    }
    swiftmlp_free(net);
    int bad = 0;
    for (int which = 0; which < 2; which++) {
        if (codes[which] < 0) {
            print_error("%s after 2^63-1 steps killed the process with signal %d (%s)\n", names[which],
                        -codes[which], strsignal(-codes[which]));
            bad = 1;
        } else if (codes[which] > SWIFTMLP_ERR_BAD_HANDLE) {
            print_error("%s after 2^63-1 steps: child exit code %d\n", names[which], codes[which]);
            bad = 1;
        } else {
            print_message("    %s after 2^63-1 steps returned status %d (%s)\n", names[which], codes[which],
                          swiftmlp_status_string((swiftmlp_status)codes[which]));
        }
    }
    assert_false(bad);
}

/* ---- the corpus is fully covered -------------------------------------------- */

static int listed(const char *stem)
{
    for (size_t i = 0; i < ARRAY_LEN(k_bad); i++) {
        if (strcmp(k_bad[i].stem, stem) == 0) {
            return 1;
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(k_valid); i++) {
        if (strcmp(k_valid[i].stem, stem) == 0) {
            return 1;
        }
    }
    return strcmp(stem, "edge_optimizer_steps_int_max") == 0;
}

static void test_every_corpus_file_has_an_expectation(void **state)
{
    (void)state;
    DIR *d = opendir(SWIFTMLP_CORPUS_DIR);
    assert_non_null(d);
    size_t files = 0, unlisted = 0;
    struct dirent *e;
    const char *ext = ".safetensors";
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), m = strlen(ext);
        if (n <= m || strcmp(e->d_name + n - m, ext) != 0) {
            continue;
        }
        char stem[256];
        assert_true(n - m < sizeof stem);
        memcpy(stem, e->d_name, n - m);
        stem[n - m] = '\0';
        files++;
        if (!listed(stem)) {
            print_error("corpus file %s has no expectation in test_model_corpus.c\n", e->d_name);
            unlisted++;
        }
    }
    closedir(d);
    print_message("    %zu corpus files: %zu malformed, %zu valid, 1 edge case\n", files,
                  ARRAY_LEN(k_bad), ARRAY_LEN(k_valid));
    assert_int_equal(unlisted, 0);
    assert_int_equal(files, ARRAY_LEN(k_bad) + ARRAY_LEN(k_valid) + 1);
}

int main(void)
{
    enum { N_TESTS = ARRAY_LEN(k_bad) + ARRAY_LEN(k_valid) + 2 };
    static struct CMUnitTest tests[N_TESTS];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_every_corpus_file_has_an_expectation);
    for (size_t i = 0; i < ARRAY_LEN(k_valid); i++) {
        tests[n++] = (struct CMUnitTest){k_valid[i].test_name, test_valid_file, NULL, NULL,
                                         (void *)&k_valid[i]};
    }
    for (size_t i = 0; i < ARRAY_LEN(k_bad); i++) {
        tests[n++] = (struct CMUnitTest){k_bad[i].test_name, test_bad_file, NULL, NULL,
                                         (void *)&k_bad[i]};
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(
        test_edge_optimizer_steps_int_max_is_rejected_or_stepping_does_not_crash);
    return _cmocka_run_group_tests("test_model_corpus", tests, n, NULL, NULL);
}
