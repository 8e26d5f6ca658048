/*
 * train_xor.c — learn XOR with libswiftmlp through its C ABI.
 *
 *   network [2, 4, 1], float64, sigmoid units, mean squared error,
 *   full-batch plain SGD (lr 2.0, 5000 steps).
 *
 * Exit status 0 when every prediction ends up on the right side of 0.5,
 * 1 otherwise (or when a library call fails).
 */
#include <stdio.h>
#include <stdlib.h>

#include "example_util.h"

int main(void)
{
    enum { BATCH = 4, N_IN = 2, N_OUT = 1 };
    const size_t sizes[] = {N_IN, 4, N_OUT};
    const double x[BATCH * N_IN] = {
        0, 0,
        0, 1,
        1, 0,
        1, 1,
    };
    const double y[BATCH * N_OUT] = {0, 1, 1, 0};
    const double lr = 2.0;
    const int steps = 5000, report_every = 500;

    double out[BATCH * N_OUT];
    double loss = 0.0;
    swiftmlp_net *net = NULL;
    int exit_code = 1;

    if (!library_matches_header()) {
        return 1;
    }

    CHECK(swiftmlp_create(sizes, sizeof sizes / sizeof sizes[0], SWIFTMLP_FLOAT64,
                          /* seed */ 42, &net));

    for (int step = 0; step <= steps; step++) {
        CHECK(swiftmlp_forward(net, SWIFTMLP_FLOAT64, x, BATCH * N_IN, BATCH, out, BATCH * N_OUT));
        CHECK(swiftmlp_backward(net, SWIFTMLP_FLOAT64, y, BATCH * N_OUT, BATCH, &loss));
        if (step % report_every == 0) {
            printf("step %5d  loss %.6f\n", step, loss);
        }
        if (step < steps) {
            CHECK(swiftmlp_step(net, lr));
        }
    }

    /* `out` holds the predictions of the final forward pass. */
    int correct = 0;
    printf("\n x0 x1 | target | prediction\n");
    for (int i = 0; i < BATCH; i++) {
        int right = (out[i] > 0.5) == (y[i] > 0.5);
        correct += right;
        printf("  %g  %g |   %g    | %.4f %s\n", x[2 * i], x[2 * i + 1], y[i], out[i],
               right ? "" : "  <-- wrong");
    }
    printf("\n%d/%d correct, final loss %.6f\n", correct, BATCH, loss);
    exit_code = correct == BATCH ? 0 : 1;

fail:
    swiftmlp_free(net);
    return exit_code;
}
