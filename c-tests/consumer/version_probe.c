/* Prints the version three ways: the header's macro, the library's text and
 * its number; exits 1 if the header and the library disagree. */
#include <stdio.h>
#include <string.h>

#include "swiftmlp.h"

int main(void)
{
    printf("%s %s %u\n", SWIFTMLP_VERSION_STRING, swiftmlp_version_string(), swiftmlp_version_number());
    return strcmp(SWIFTMLP_VERSION_STRING, swiftmlp_version_string()) == 0 &&
                   swiftmlp_version_number() == SWIFTMLP_VERSION_NUMBER
               ? 0
               : 1;
}
