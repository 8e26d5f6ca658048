/*
 * fuzz_common.h — helpers shared by the swiftmlp fuzz targets.
 *
 * A broken rule aborts with a message naming it, which libFuzzer reports as
 * a crash (and saves the input); so does the replay driver (replay_main.c).
 */
#ifndef SWIFTMLP_FUZZ_COMMON_H
#define SWIFTMLP_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swiftmlp.h"

#define FUZZ_LAST_STATUS SWIFTMLP_ERR_BAD_HANDLE
#define SM(name) (1u << SWIFTMLP_##name)
/* Every status code the header defines. */
#define SM_ANY ((1u << (FUZZ_LAST_STATUS + 1)) - 1u)
/* Every failure. */
#define SM_FAIL (SM_ANY & ~SM(OK))

#define FUZZ_DIE(...)                                                       \
    do {                                                                    \
        fprintf(stderr, "\nFUZZ RULE BROKEN at %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        abort();                                                            \
    } while (0)

#define FUZZ_ASSERT(cond, ...)                                              \
    do {                                                                    \
        if (!(cond)) FUZZ_DIE(__VA_ARGS__);                                 \
    } while (0)

/*
 * A status must be one of `allowed` (a mask of SM(...)), and the thread's
 * last_error must be "" after success and a non-empty text after failure.
 * Returns the status.
 */
static inline swiftmlp_status fuzz_expect(swiftmlp_status st, uint32_t allowed, const char *call,
                                          const char *file, int line)
{
    const char *msg = swiftmlp_last_error();
    static int trace = -1; /* FUZZ_TRACE=1 prints every checked call (for reading a reproducer) */
    if (trace < 0) trace = getenv("FUZZ_TRACE") != NULL;
    if (trace) fprintf(stderr, "  [%d %s] %s  %s\n", (int)st, swiftmlp_status_string(st), call, msg ? msg : "");
    if ((unsigned)st > FUZZ_LAST_STATUS || !(allowed & (1u << (unsigned)st))) {
        fprintf(stderr, "\nFUZZ RULE BROKEN at %s:%d: %s returned %d (%s), allowed mask 0x%x; last_error \"%s\"\n",
                file, line, call, (int)st, swiftmlp_status_string(st), allowed, msg ? msg : "(NULL)");
        abort();
    }
    if (msg == NULL) FUZZ_DIE("%s (%s:%d): swiftmlp_last_error() returned NULL", call, file, line);
    if (st == SWIFTMLP_OK && msg[0] != '\0')
        FUZZ_DIE("%s (%s:%d): last_error is \"%s\" after success", call, file, line, msg);
    if (st != SWIFTMLP_OK && msg[0] == '\0')
        FUZZ_DIE("%s (%s:%d): last_error is empty after status %d", call, file, line, (int)st);
    return st;
}
/*
 * Known open library bugs the harness can be told to steer around, so a
 * fuzzing run looks for NEW bugs (fuzz/README.md, "Known bugs"):
 *   FUZZ_AVOID=name[,name...]   e.g. FUZZ_AVOID=optimizer-nonfinite-unused
 * The harness then does not generate the inputs of that bug class; it never
 * relaxes a check.  Unset (the default for replay tests), everything runs.
 */
static inline int fuzz_avoid(const char *name)
{
    const char *list = getenv("FUZZ_AVOID");
    size_t n = strlen(name);
    while (list != NULL && *list != '\0') {
        if (strncmp(list, name, n) == 0 && (list[n] == '\0' || list[n] == ',')) return 1;
        list = strchr(list, ',');
        if (list != NULL) list++;
    }
    return 0;
}

#define EXPECT(call, allowed) fuzz_expect((call), (allowed), #call, __FILE__, __LINE__)

#endif
