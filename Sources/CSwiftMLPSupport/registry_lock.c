#include "swiftmlp_support.h"
#include <pthread.h>

static pthread_mutex_t smlp_registry_mutex = PTHREAD_MUTEX_INITIALIZER;

void smlp_registry_lock(void) { pthread_mutex_lock(&smlp_registry_mutex); }

void smlp_registry_unlock(void) { pthread_mutex_unlock(&smlp_registry_mutex); }
