/*
 * sanitizer_canary.c — proves that a sanitizer build really checks the Swift
 * library: each mode breaks a rule of the C ABI on purpose, and the ctest
 * test passes only when the sanitizer's report appears (registered in ASan
 * builds only; see stress/CMakeLists.txt).  Without these, a broken runtime
 * set-up (say, an uninstrumented .so) would make every sanitizer run pass
 * silently.
 *
 *   sanitizer_canary overread   predict is told x has 4 elements but the
 *                               buffer holds 3: the library trusts the
 *                               (pointer, length) pair, so the Swift code
 *                               reads past the heap block; ASan must report
 *                               heap-buffer-overflow in libswiftmlp.
 *   sanitizer_canary leak       a network is never freed: LeakSanitizer
 *                               must report it at exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swiftmlp.h"

int main(int argc, char **argv)
{
    const size_t sizes[] = {2, 3, 1};
    swiftmlp_net *net = NULL;
    if (argc != 2) {
        fprintf(stderr, "usage: %s overread|leak\n", argv[0]);
        return 2;
    }
    if (swiftmlp_create(sizes, 3, SWIFTMLP_FLOAT64, 1, &net) != SWIFTMLP_OK) return 2;
    if (strcmp(argv[1], "overread") == 0) {
        double *x = malloc(3 * sizeof *x); /* 2 rows x 2 inputs need 4 */
        double y[2];
        if (x == NULL) return 2;
        x[0] = x[1] = x[2] = 0.5;
        swiftmlp_status st = swiftmlp_predict(net, SWIFTMLP_FLOAT64, x, 4, 2, y, 2);
        printf("canary: predict returned %d without a sanitizer report\n", (int)st);
        free(x);
        swiftmlp_free(net);
        return 1;
    }
    if (strcmp(argv[1], "leak") == 0) {
        net = NULL; /* the only reference: leaked */
        printf("canary: leaking a network\n");
        return 0;
    }
    return 2;
}
