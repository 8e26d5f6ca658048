#include "swiftmlp_support.h"
#include <sched.h>
#include <stdatomic.h>

/* A test-and-test-and-set lock: every C call takes it once to look its handle
 * up, and the critical sections are a few instructions (a hash probe, a
 * retain), so an uncontended acquire is one atomic exchange and a release
 * one store, where a pthread mutex costs two atomic read-modify-writes and
 * some fifty instructions. A waiter yields the CPU instead of spinning hard.
 * C11 acquire/release atomics: ThreadSanitizer sees the ordering. */
static atomic_int smlp_registry_locked = 0;

void smlp_registry_lock(void) {
    while (atomic_exchange_explicit(&smlp_registry_locked, 1, memory_order_acquire)) {
        while (atomic_load_explicit(&smlp_registry_locked, memory_order_relaxed)) sched_yield();
    }
}

void smlp_registry_unlock(void) { atomic_store_explicit(&smlp_registry_locked, 0, memory_order_release); }
