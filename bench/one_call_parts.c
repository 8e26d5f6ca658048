/*
 * one_call_parts.c — does one OpenBLAS call give the bits of the same
 * product computed in two parts? gemm.c runs a product the pool does not
 * split as one call only on the cores where it does
 * (one_call_rounds_as_parts); this program is how that was checked.
 *
 *   cc -O2 bench/one_call_parts.c -o one_call_parts -lopenblas
 *   OPENBLAS_CORETYPE=Haswell ./one_call_parts
 *
 * For 30 random column-major shapes (m, n up to ~40 x the alignment, k up
 * to 600) and each split alignment, C = A·B is computed as one call and as
 * two calls on C's first rows and the rest (a split along OpenBLAS's M;
 * C's columns in swiftmlp's row-major terms), and again split along N
 * (swiftmlp's rows). Prints, per element type and alignment, how many of
 * the 30 shapes had any element whose bits differ. Debian's libopenblas is
 * the same 0.3.21 as swiftmlp's private copy.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *openblas_get_corename(void);

enum { SHAPES = 30 };

static double uniform(void) { return (double)rand() / RAND_MAX - 0.5; }

/* Whether any element of the two-part product differs from the one call. */
#define DEFINE_DIFFERS(name, T, gemm)                                                            \
    static int name(int m, int n, int k, int along_m, int at) {                                  \
        T *a = malloc(sizeof(T) * (size_t)m * k), *b = malloc(sizeof(T) * (size_t)k * n);       \
        T *one = calloc((size_t)m * n, sizeof(T)), *two = calloc((size_t)m * n, sizeof(T));      \
        if (!a || !b || !one || !two) {                                                          \
            fprintf(stderr, "out of memory\n");                                                  \
            exit(1);                                                                             \
        }                                                                                        \
        for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (T)uniform();                          \
        for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (T)uniform();                          \
        gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, a, m, b, k, 0, one, m);      \
        if (along_m) {                                                                           \
            gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, at, n, k, 1, a, m, b, k, 0, two, m); \
            gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m - at, n, k, 1, a + at, m, b, k, 0, \
                 two + at, m);                                                                   \
        } else {                                                                                 \
            gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, at, k, 1, a, m, b, k, 0, two, m); \
            gemm(CblasColMajor, CblasNoTrans, CblasNoTrans, m, n - at, k, 1, a, m,               \
                 b + (size_t)at * k, k, 0, two + (size_t)at * m, m);                             \
        }                                                                                        \
        int differs = memcmp(one, two, sizeof(T) * (size_t)m * n) != 0;                          \
        free(a), free(b), free(one), free(two);                                                  \
        return differs;                                                                          \
    }
DEFINE_DIFFERS(differs_f32, float, cblas_sgemm)
DEFINE_DIFFERS(differs_f64, double, cblas_dgemm)

int main(void) {
    openblas_set_num_threads(1);
    printf("OpenBLAS core %s; shapes (of %d) whose two-part product differs from one call\n",
           openblas_get_corename(), SHAPES);
    const int aligns[] = {12, 16, 24, 48, 192};
    for (int dbl = 0; dbl < 2; dbl++)
        for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
            int al = aligns[i], along_m = 0, along_n = 0;
            srand(1);
            for (int s = 0; s < SHAPES; s++) {
                int m = al * (2 + rand() % 40) + rand() % al, n = al * (2 + rand() % 40) + rand() % al;
                int k = 1 + rand() % 600;
                int at_m = al * (1 + rand() % (m / al - 1)), at_n = al * (1 + rand() % (n / al - 1));
                along_m += (dbl ? differs_f64 : differs_f32)(m, n, k, 1, at_m);
                along_n += (dbl ? differs_f64 : differs_f32)(m, n, k, 0, at_n);
            }
            printf("%s, split at a multiple of %3d: along M %2d, along N %2d\n", dbl ? "f64" : "f32", al,
                   along_m, along_n);
        }
    return 0;
}
