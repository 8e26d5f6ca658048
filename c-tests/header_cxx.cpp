// Compiled (syntax only) by the header_* ctest tests: swiftmlp.h must be
// clean C++11 under -Wall -Wextra -Werror -pedantic, with C linkage.
#include "swiftmlp.h"
#include "swiftmlp.h"

static_assert(SWIFTMLP_OK == 0 && SWIFTMLP_ERR_NON_FINITE == 9 && SWIFTMLP_ERR_CANCELLED == 10 && SWIFTMLP_ERR_BAD_HANDLE == 14, "status values are pinned");
static_assert(SWIFTMLP_FLOAT32 == 1 && SWIFTMLP_FLOAT64 == 2, "dtype values are pinned");
static_assert(SWIFTMLP_VERSION_NUMBER == SWIFTMLP_VERSION_MAJOR * 10000 + SWIFTMLP_VERSION_MINOR * 100 + SWIFTMLP_VERSION_PATCH, "version encoding");

extern "C" {
typedef swiftmlp_status (*create_fn)(const size_t *, size_t, swiftmlp_dtype, uint64_t,
                                     swiftmlp_net **);
}

int header_cxx_uses_the_declarations();
int header_cxx_uses_the_declarations()
{
    create_fn create = &swiftmlp_create;
    swiftmlp_net *net = nullptr;
    return net == nullptr && create != nullptr;
}
