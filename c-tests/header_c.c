/* Compiled (syntax only) by the header_* ctest tests: swiftmlp.h must be
 * clean C99 under -Wall -Wextra -Werror -pedantic.  Included twice to check
 * the include guard. */
#include "swiftmlp.h"
#include "swiftmlp.h"

/* C99 has no static_assert: a negative array size fails to compile. */
typedef char check_status_values[(SWIFTMLP_OK == 0 && SWIFTMLP_ERR_NON_FINITE == 9 && SWIFTMLP_ERR_CANCELLED == 10 && SWIFTMLP_ERR_BAD_HANDLE == 14) ? 1 : -1];
typedef char check_dtype_values[(SWIFTMLP_FLOAT32 == 1 && SWIFTMLP_FLOAT64 == 2) ? 1 : -1];
typedef char check_version[(SWIFTMLP_VERSION_NUMBER == SWIFTMLP_VERSION_MAJOR * 10000 + SWIFTMLP_VERSION_MINOR * 100 + SWIFTMLP_VERSION_PATCH) ? 1 : -1];

int header_c_uses_the_declarations(void);
int header_c_uses_the_declarations(void)
{
    swiftmlp_net *net = 0;
    swiftmlp_status (*create)(const size_t *, size_t, swiftmlp_dtype, uint64_t,
                              swiftmlp_net **) = swiftmlp_create;
    return net == 0 && create != 0;
}
