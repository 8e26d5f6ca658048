/*
 * example_util.h — what the C examples share: checking a call's status and
 * that the library is the one the header describes.
 */
#ifndef SWIFTMLP_EXAMPLE_UTIL_H
#define SWIFTMLP_EXAMPLE_UTIL_H

#include <stdio.h>

#include "swiftmlp.h"

/* Evaluate a swiftmlp call; on failure print what went wrong and bail out
 * (to the caller's `fail:` label). */
#define CHECK(call)                                                                 \
    do {                                                                            \
        swiftmlp_status status_ = (call);                                           \
        if (status_ != SWIFTMLP_OK) {                                               \
            fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__,      \
                    #call, swiftmlp_status_string(status_), swiftmlp_last_error()); \
            goto fail;                                                              \
        }                                                                           \
    } while (0)

/* 1 when the loaded library has the header's version (and print it), 0
 * (after saying why) otherwise. */
static int library_matches_header(void)
{
    if (swiftmlp_version_number() != SWIFTMLP_VERSION_NUMBER) {
        fprintf(stderr, "header/library version mismatch: header %d, library %s\n",
                SWIFTMLP_VERSION_NUMBER, swiftmlp_version_string());
        return 0;
    }
    printf("libswiftmlp %s\n", swiftmlp_version_string());
    return 1;
}

#endif
