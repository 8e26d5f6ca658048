/*
 * train_classifier.c — a 3-class classifier with libswiftmlp's training API.
 *
 *   data       three noisy 2-D blobs, 300 training and 150 test points
 *   network    [2, 16, 3]: ReLU hidden layer, softmax output,
 *              cross-entropy loss, He initialisation (swiftmlp_create_with_config)
 *   optimizer  Adam, lr 0.01 (swiftmlp_set_optimizer)
 *   training   swiftmlp_fit: 30 epochs of shuffled mini-batches of 32, the
 *              test set as validation data, a progress callback printing
 *              each epoch's losses
 *   result     swiftmlp_predict on the test set, accuracy printed
 *
 * Exit status 0 when the test accuracy is at least 90%, 1 otherwise (or when
 * a library call fails).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "example_util.h"

enum { N_IN = 2, N_HIDDEN = 16, N_CLASSES = 3, N_TRAIN = 300, N_TEST = 150 };

/* ---- synthetic data ------------------------------------------------------ */

/* A small xorshift64* generator: the example's data are the same on every run. */
static uint64_t rng_state = UINT64_C(0x853C49E6748FEA9B);

static double uniform01(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * UINT64_C(0x2545F4914F6CDD1D)) >> 11) * 0x1.0p-53;
}

/* Blob centres on a triangle; points scattered around them. */
static void make_data(size_t rows, double *x, double *y_one_hot, int *label)
{
    static const double centre[N_CLASSES][N_IN] = {{-2.0, -1.2}, {2.0, -1.2}, {0.0, 2.2}};
    for (size_t i = 0; i < rows; i++) {
        const int c = (int)(i % N_CLASSES);
        for (int k = 0; k < N_IN; k++) {
            /* sum of two uniforms: a triangular spread of +-2.2 (the blobs overlap a little) */
            x[i * N_IN + k] = centre[c][k] + 2.2 * (uniform01() + uniform01() - 1.0);
        }
        for (int k = 0; k < N_CLASSES; k++) {
            y_one_hot[i * N_CLASSES + k] = k == c ? 1.0 : 0.0;
        }
        label[i] = c;
    }
}

/* ---- progress ------------------------------------------------------------ */

static int print_epoch(const swiftmlp_progress *p, void *user_data)
{
    (void)user_data;
    if (p->epoch_end) {
        printf("epoch %2zu/%zu  train loss %.4f  validation loss %.4f\n", p->epoch + 1, p->epochs,
               p->train_loss, p->val_loss);
    }
    return 0; /* non-zero would cancel the fit */
}

int main(void)
{
    static double x_train[N_TRAIN * N_IN], y_train[N_TRAIN * N_CLASSES];
    static double x_test[N_TEST * N_IN], y_test[N_TEST * N_CLASSES], out[N_TEST * N_CLASSES];
    static int label_train[N_TRAIN], label_test[N_TEST];
    swiftmlp_net *net = NULL;
    int exit_code = 1;

    if (!library_matches_header()) {
        return 1;
    }

    make_data(N_TRAIN, x_train, y_train, label_train);
    make_data(N_TEST, x_test, y_test, label_test);

    /* The network. */
    const size_t sizes[] = {N_IN, N_HIDDEN, N_CLASSES};
    const swiftmlp_activation activations[] = {SWIFTMLP_RELU, SWIFTMLP_SOFTMAX};
    swiftmlp_config config;
    CHECK(swiftmlp_config_default(&config));
    config.sizes = sizes;
    config.n_sizes = sizeof sizes / sizeof sizes[0];
    config.activations = activations;
    config.n_activations = sizeof activations / sizeof activations[0];
    config.loss = SWIFTMLP_LOSS_CROSS_ENTROPY;
    config.init = SWIFTMLP_INIT_HE;
    config.seed = 42;
    CHECK(swiftmlp_create_with_config(&config, &net));

    /* The optimizer. */
    swiftmlp_optimizer adam;
    CHECK(swiftmlp_optimizer_default(SWIFTMLP_OPT_ADAM, &adam));
    adam.lr = 0.01;
    CHECK(swiftmlp_set_optimizer(net, &adam));

    /* Training. */
    swiftmlp_fit_options options;
    CHECK(swiftmlp_fit_options_default(&options));
    options.epochs = 30;
    options.batch_size = 32;
    options.val_x = x_test;
    options.val_x_len = N_TEST * N_IN;
    options.val_y = y_test;
    options.val_y_len = N_TEST * N_CLASSES;
    options.val_rows = N_TEST;
    options.progress = print_epoch;
    options.report_batches = 0; /* epoch ends only */
    swiftmlp_fit_result result;
    CHECK(swiftmlp_fit(net, SWIFTMLP_FLOAT64, x_train, N_TRAIN * N_IN, y_train,
                       N_TRAIN * N_CLASSES, N_TRAIN, &options, &result));
    printf("\n%zu epochs, best validation loss %.4f after epoch %zu\n", result.epochs_run,
           result.best_loss, result.best_epoch + 1);

    /* Accuracy on the test set: the class with the largest probability. */
    CHECK(swiftmlp_predict(net, SWIFTMLP_FLOAT64, x_test, N_TEST * N_IN, N_TEST, out,
                           N_TEST * N_CLASSES));
    int correct = 0;
    for (int i = 0; i < N_TEST; i++) {
        int best = 0;
        for (int k = 1; k < N_CLASSES; k++) {
            if (out[i * N_CLASSES + k] > out[i * N_CLASSES + best]) {
                best = k;
            }
        }
        correct += best == label_test[i];
    }
    const double accuracy = (double)correct / N_TEST;
    printf("test accuracy %d/%d = %.1f%%\n", correct, N_TEST, 100.0 * accuracy);
    exit_code = accuracy >= 0.9 ? 0 : 1;

fail:
    swiftmlp_free(net);
    return exit_code;
}
