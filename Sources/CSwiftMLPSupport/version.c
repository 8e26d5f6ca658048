/* The library's version text, from the header's macros (the one place the
 * version is written). */
#include "swiftmlp.h"
#include "swiftmlp_support.h"

const char *smlp_version_string(void) { return SWIFTMLP_VERSION_STRING; }
