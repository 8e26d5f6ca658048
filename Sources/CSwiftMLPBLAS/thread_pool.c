/* A fork-join pool of (threads - 1) workers for splitting matrix products.
 *
 * Each worker owns a slot: the caller writes the task into the slot and
 * bumps the slot's `posted` counter; the worker runs the task and publishes
 * the same counter value in `done`. A worker spins briefly for new work
 * (products of one training step come microseconds apart), then sleeps on a
 * condition variable. One product at a time uses the pool: a caller that
 * finds it busy runs its whole product itself, so concurrent callers never
 * wait on each other. */
#define _GNU_SOURCE
#include "thread_pool.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    POOL_MAX_THREADS = 64,
    POOL_DEFAULT_MAX = 8,      /* default cap: small products gain nothing from more */
    WORKER_SPIN = 4000,        /* pause rounds before sleeping, ~100-200 us */
};

typedef struct {
    _Atomic unsigned long posted;
    _Atomic unsigned long done;
    smlp_task_fn task;
    void *context;
    int index;
} slot_t;

static struct {
    pthread_mutex_t init_lock;
    _Atomic int size;          /* 0: not started; else threads incl. the caller */
    int workers;               /* started workers */
    pthread_t threads[POOL_MAX_THREADS];
    pthread_mutex_t busy;      /* held by the caller whose product uses the workers */
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;
    _Atomic int stop;
    slot_t slots[POOL_MAX_THREADS];
} pool = {
    .init_lock = PTHREAD_MUTEX_INITIALIZER,
    .busy = PTHREAD_MUTEX_INITIALIZER,
    .sleep_lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void *worker_main(void *arg) {
    slot_t *slot = arg;
    /* Slots count from 0 when their worker starts (pool start and fork
     * reset them), and a task may be posted before this thread first runs. */
    unsigned long seen = 0;
    for (;;) {
        unsigned long posted;
        int spins = 0;
        while ((posted = atomic_load_explicit(&slot->posted, memory_order_acquire)) == seen) {
            if (atomic_load_explicit(&pool.stop, memory_order_relaxed)) return NULL;
            if (++spins < WORKER_SPIN) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&pool.sleep_lock);
            while (atomic_load_explicit(&slot->posted, memory_order_acquire) == seen &&
                   !atomic_load_explicit(&pool.stop, memory_order_relaxed))
                pthread_cond_wait(&pool.wake, &pool.sleep_lock);
            pthread_mutex_unlock(&pool.sleep_lock);
            spins = 0;
        }
        seen = posted;
        slot->task(slot->context, slot->index);
        atomic_store_explicit(&slot->done, posted, memory_order_release);
    }
}

/* SWIFTMLP_NUM_THREADS if it is a number in 1...64, else the CPUs this
 * process may run on, at most POOL_DEFAULT_MAX. */
static int wanted_threads(void) {
    const char *env = getenv("SWIFTMLP_NUM_THREADS");
    if (env && *env) {
        char *end = NULL;
        long v = strtol(env, &end, 10);
        if (end && *end == '\0' && v >= 1 && v <= POOL_MAX_THREADS) return (int)v;
    }
    cpu_set_t set;
    int n = 1;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    if (n < 1) n = 1;
    return n > POOL_DEFAULT_MAX ? POOL_DEFAULT_MAX : n;
}

static void start_workers(void) {
    int want = wanted_threads();
    sigset_t all, old;
    sigfillset(&all);
    /* Workers take no signals: they stay with the application's threads. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int started = 0;
    for (int i = 1; i < want; i++) {
        slot_t *slot = &pool.slots[started];
        if (pthread_create(&pool.threads[started], NULL, worker_main, slot) != 0) break;
        pthread_setname_np(pool.threads[started], "swiftmlp-blas");
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pool.workers = started;
    atomic_store_explicit(&pool.size, started + 1, memory_order_release);
}

static void reset_slots(void) {
    for (int i = 0; i < POOL_MAX_THREADS; i++) {
        atomic_store(&pool.slots[i].posted, 0);
        atomic_store(&pool.slots[i].done, 0);
    }
}

/* In a child of fork() only the forking thread exists: forget the workers
 * (the child starts its own on first use) and re-create the locks. */
static void after_fork_in_child(void) {
    pthread_mutex_init(&pool.init_lock, NULL);
    pthread_mutex_init(&pool.busy, NULL);
    pthread_mutex_init(&pool.sleep_lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pool.workers = 0;
    reset_slots();
    atomic_store(&pool.stop, 0);
    atomic_store(&pool.size, 0);
}

int smlp_pool_size(void) {
    int size = atomic_load_explicit(&pool.size, memory_order_acquire);
    if (size) return size;
    pthread_mutex_lock(&pool.init_lock);
    if (!atomic_load_explicit(&pool.size, memory_order_relaxed)) {
        static int registered;
        if (!registered) {
            pthread_atfork(NULL, NULL, after_fork_in_child);
            registered = 1;
        }
        start_workers();
    }
    pthread_mutex_unlock(&pool.init_lock);
    return atomic_load_explicit(&pool.size, memory_order_acquire);
}

void smlp_pool_run(smlp_task_fn task, void *context, int count) {
    int size = smlp_pool_size();
    if (count > size) count = size;
    if (count <= 1 || pthread_mutex_trylock(&pool.busy) != 0) {
        for (int i = 0; i < count; i++) task(context, i);
        return;
    }
    unsigned long ticket[POOL_MAX_THREADS];
    for (int i = 1; i < count; i++) {
        slot_t *slot = &pool.slots[i - 1];
        slot->task = task;
        slot->context = context;
        slot->index = i;
        ticket[i] = atomic_load_explicit(&slot->posted, memory_order_relaxed) + 1;
        atomic_store_explicit(&slot->posted, ticket[i], memory_order_release);
    }
    /* Wake sleepers; a worker checks `posted` under this lock before it
     * waits, so no wake-up is lost. */
    pthread_mutex_lock(&pool.sleep_lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.sleep_lock);

    task(context, 0);

    for (int i = 1; i < count; i++) {
        slot_t *slot = &pool.slots[i - 1];
        unsigned spins = 0;
        while (atomic_load_explicit(&slot->done, memory_order_acquire) != ticket[i]) {
            if (++spins < 1u << 16) cpu_relax();
            else sched_yield();
        }
    }
    pthread_mutex_unlock(&pool.busy);
}

/* At unload (dlclose or exit) stop and join the workers, whose code is in
 * this library. */
__attribute__((destructor)) static void pool_shutdown(void) {
    if (!atomic_load(&pool.size)) return;
    atomic_store(&pool.stop, 1);
    pthread_mutex_lock(&pool.sleep_lock);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.sleep_lock);
    for (int i = 0; i < pool.workers; i++) pthread_join(pool.threads[i], NULL);
    pool.workers = 0;
    reset_slots();
    atomic_store(&pool.stop, 0);
    atomic_store(&pool.size, 0);
}
