/* Internal to libswiftmlp: per-thread storage of the last error message.
 * Not part of the public ABI; the linker version script hides these symbols. */
#ifndef SWIFTMLP_SUPPORT_H
#define SWIFTMLP_SUPPORT_H
#include <stddef.h>

/* Copy up to len bytes of msg (truncated to the buffer) as this thread's message. */
void smlp_error_set(const char *msg, size_t len);
/* Make this thread's message the empty string. */
void smlp_error_clear(void);
/* This thread's message; never NULL. */
const char *smlp_error_get(void);

/* SWIFTMLP_VERSION_STRING of include/swiftmlp.h, as static text. */
const char *smlp_version_string(void);

/* The lock guarding the registry of live handles (C11 atomics with acquire/
 * release ordering, so that ThreadSanitizer sees it). Never held across
 * anything but the registry's own operations. */
void smlp_registry_lock(void);
void smlp_registry_unlock(void);

#endif
