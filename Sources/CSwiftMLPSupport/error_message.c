#include "swiftmlp_support.h"
#include <string.h>

#define SMLP_ERROR_CAP 512

static _Thread_local char smlp_error_buf[SMLP_ERROR_CAP];

void smlp_error_set(const char *msg, size_t len) {
    if (msg == NULL) len = 0;
    if (len >= SMLP_ERROR_CAP) len = SMLP_ERROR_CAP - 1;
    if (len > 0) memcpy(smlp_error_buf, msg, len);
    smlp_error_buf[len] = '\0';
}

void smlp_error_clear(void) { smlp_error_buf[0] = '\0'; }

const char *smlp_error_get(void) { return smlp_error_buf; }
