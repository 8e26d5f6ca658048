/* A fork-join pool of (threads - 1) workers for splitting matrix products.
 *
 * A product's parts are claimed, not assigned: the caller publishes the task
 * in one atomic word (generation, part count, next part), then it and every
 * worker claim parts with compare-and-swap until none is left, and the
 * caller waits only for parts a worker has actually started. A worker that
 * is slow to wake (another process has the CPU) therefore costs nothing: the
 * caller does its parts too. Which thread computes a part never changes the
 * part, so results depend only on the part count, which the caller fixes
 * from the job's shape and the pool's size alone.
 *
 * A worker that claimed a part and then lost its CPU to another process
 * still holds the caller until the scheduler gives the CPU back; on a
 * shared machine that can cost more than the split saves. So whether the
 * workers are asked at all is decided per job shape (the caller's key) from
 * measurements (`choices` below): the job's first uses alternate between
 * "split" (workers and caller) and "whole" (the caller runs every part, in
 * order, or in one piece when the caller gives a smlp_whole_fn with the
 * parts' bits), later uses take the way whose running mean of times is
 * lower (by a margin, in the split's disfavour: smlp_pool_choose below),
 * and try the other way now and then, so a change in load (another
 * process starting or stopping) moves the choice. Either way gives the
 * same bits, so the choice never changes a result. Jobs with the key
 * SMLP_POOL_ALWAYS_SPLIT skip the measurement and are always split: a
 * caller gives that key to a job of many long parts, where the one part a
 * late worker holds costs less than the split saves (gemm.c's large
 * products).
 *
 * Workers spin briefly for new work (the products of one training step come
 * microseconds apart), yielding the CPU while they wait, then sleep on a
 * condition variable. A caller waiting for a worker's part spins only
 * briefly, then yields its CPU. One product at a time uses the pool: a
 * caller that finds it busy runs its whole product itself, in the same
 * parts, so concurrent callers never wait on each other.
 *
 * The size (threads a product may use, the caller included) can change at
 * any time (smlp_pool_set_size): worker i takes part only while
 * i < size - 1, the others sleep. A product's part count is fixed when it
 * is published, so a change never alters a running product's parts. The
 * CPUs the process may run on are read at start and at every size change:
 * with one, nothing is split (the workers would only take turns with the
 * caller on that CPU). */
#define _GNU_SOURCE
#include "thread_pool.h"

#include "smlp_kernels.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    POOL_MAX_THREADS = 64,
    POOL_DEFAULT_MAX = 8,      /* default cap: small products gain nothing from more */
    WORKER_PAUSES = 256,       /* spin rounds with `pause` ... */
    WORKER_YIELDS = 2000,      /* ... then with sched_yield, then sleep */
    CALLER_PAUSES = 1024,      /* a caller waiting for a worker's part spins this long, then yields */
    CHOICE_SLOTS = 128,        /* job shapes measured (a power of two); others are always split */
    CHOICE_PROBES = 8,         /* slots tried per key */
};

/* pool.work: generation << 32 | part count << 16 | next unclaimed part. */
#define WORK_GEN(w) ((uint32_t)((w) >> 32))
#define WORK_COUNT(w) ((unsigned)(((w) >> 16) & 0xffffu))
#define WORK_NEXT(w) ((unsigned)((w) & 0xffffu))

static struct {
    pthread_mutex_t init_lock;
    _Atomic int size;          /* 0: not started; else threads a product may use, incl. the caller */
    _Atomic int cpus;          /* CPUs this process may run on (at start and at each size change) */
    int requested;             /* smlp_pool_set_size's count (0: the default); survives fork */
    int workers;               /* started workers, indices 0..workers-1 (under init_lock) */
    pthread_t threads[POOL_MAX_THREADS];
    pthread_mutex_t busy;      /* held by the caller whose product uses the workers */
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;       /* new work, for workers within the size */
    pthread_cond_t resize;     /* a new size (or stop), for the others */
    _Atomic int stop;
    _Atomic uint64_t work;
    _Atomic unsigned done;     /* parts of the current generation finished */
    smlp_task_fn task;         /* the current generation's task (set before `work`) */
    void *context;
} pool = {
    .init_lock = PTHREAD_MUTEX_INITIALIZER,
    .busy = PTHREAD_MUTEX_INITIALIZER,
    .sleep_lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .resize = PTHREAD_COND_INITIALIZER,
};

static void reset_choices(void); /* the measured choices (below) */

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* The next unclaimed part of generation `gen`, or -1 when there is none
 * (all claimed, or a newer generation was published). */
static int claim(uint32_t gen) {
    uint64_t w = atomic_load_explicit(&pool.work, memory_order_acquire);
    for (;;) {
        if (WORK_GEN(w) != gen || WORK_NEXT(w) >= WORK_COUNT(w)) return -1;
        if (atomic_compare_exchange_weak_explicit(&pool.work, &w, w + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return (int)WORK_NEXT(w);
    }
}

/* Run every part of generation `gen` this thread can claim. */
static void work_on(uint32_t gen) {
    int part;
    while ((part = claim(gen)) >= 0) {
        /* A successful claim means the generation's caller is still waiting
         * for this part, so pool.task/context are still that generation's. */
        pool.task(pool.context, part);
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    }
}

/* Whether worker `index` may take part in products now. */
static inline int active(int index) {
    return index < atomic_load_explicit(&pool.size, memory_order_acquire) - 1;
}

static void *worker_main(void *arg) {
    const int index = (int)(intptr_t)arg;
    uint32_t seen = 0; /* generations start at 1 (pool start and fork reset `work` to 0) */
    for (;;) {
        uint32_t gen;
        int spins = 0;
        while ((gen = WORK_GEN(atomic_load_explicit(&pool.work, memory_order_acquire))) == seen ||
               !active(index)) {
            if (atomic_load_explicit(&pool.stop, memory_order_relaxed)) return NULL;
            /* Spinning keeps the next product's wake-up short; yielding lets
             * the application's threads (or another process) have this CPU
             * when there are more runnable threads than cores. A worker
             * beyond the pool's size goes straight to sleep. */
            if (active(index) && ++spins < WORKER_PAUSES) {
                cpu_relax();
                continue;
            }
            if (active(index) && spins < WORKER_PAUSES + WORKER_YIELDS) {
                sched_yield();
                continue;
            }
            /* Workers beyond the size wait for a size change (`resize`),
             * so that products do not wake them. */
            pthread_mutex_lock(&pool.sleep_lock);
            while (!atomic_load_explicit(&pool.stop, memory_order_relaxed)) {
                if (!active(index))
                    pthread_cond_wait(&pool.resize, &pool.sleep_lock);
                else if (WORK_GEN(atomic_load_explicit(&pool.work, memory_order_acquire)) == seen)
                    pthread_cond_wait(&pool.wake, &pool.sleep_lock);
                else
                    break;
            }
            pthread_mutex_unlock(&pool.sleep_lock);
            spins = 0;
        }
        if (atomic_load_explicit(&pool.stop, memory_order_relaxed)) return NULL;
        seen = gen;
        work_on(gen);
    }
}

/* The CPUs this process may run on (>= 1). */
static int allowed_cpus(void) {
    cpu_set_t set;
    int n = 1;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
    return n < 1 ? 1 : n;
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
    int n = allowed_cpus();
    return n > POOL_DEFAULT_MAX ? POOL_DEFAULT_MAX : n;
}

/* Starts workers until there are `count` (under init_lock); false if one
 * could not be started (those started stay). */
static bool start_workers(int count) {
    sigset_t all, old;
    sigfillset(&all);
    /* Workers take no signals: they stay with the application's threads. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    while (pool.workers < count) {
        int index = pool.workers;
        if (pthread_create(&pool.threads[index], NULL, worker_main, (void *)(intptr_t)index) != 0) break;
        pthread_setname_np(pool.threads[index], "swiftmlp-blas");
        pool.workers++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return pool.workers >= count;
}

/* Wakes the workers sleeping on `cond`; a worker checks its condition under
 * this lock before it waits, so no wake-up is lost. */
static void wake_workers(pthread_cond_t *cond) {
    pthread_mutex_lock(&pool.sleep_lock);
    pthread_cond_broadcast(cond);
    pthread_mutex_unlock(&pool.sleep_lock);
}

/* In a child of fork() only the forking thread exists: forget the workers
 * (the child starts its own on first use) and re-create the locks. */
static void after_fork_in_child(void) {
    pthread_mutex_init(&pool.init_lock, NULL);
    pthread_mutex_init(&pool.busy, NULL);
    pthread_mutex_init(&pool.sleep_lock, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.resize, NULL);
    pool.workers = 0;
    atomic_store(&pool.work, 0);
    atomic_store(&pool.done, 0);
    atomic_store(&pool.stop, 0);
    atomic_store(&pool.size, 0);
    reset_choices();
}

/* Under init_lock: registers the fork handler once and starts the default
 * pool (or the requested size) if it is not running. */
static void start_pool_locked(void) {
    if (atomic_load_explicit(&pool.size, memory_order_relaxed)) return;
    static int registered;
    if (!registered) {
        pthread_atfork(NULL, NULL, after_fork_in_child);
        registered = 1;
    }
    atomic_store_explicit(&pool.cpus, allowed_cpus(), memory_order_relaxed);
    start_workers((pool.requested ? pool.requested : wanted_threads()) - 1);
    atomic_store_explicit(&pool.size, pool.workers + 1, memory_order_release);
    /* A worker that ran before this store saw size 0, took itself for one
     * beyond the size and waits for `resize`: wake it, or it would sleep
     * for the life of the process and every split would run on the caller
     * alone. */
    wake_workers(&pool.resize);
}

int smlp_pool_size(void) {
    int size = atomic_load_explicit(&pool.size, memory_order_acquire);
    if (size) return size;
    pthread_mutex_lock(&pool.init_lock);
    start_pool_locked();
    pthread_mutex_unlock(&pool.init_lock);
    return atomic_load_explicit(&pool.size, memory_order_acquire);
}

bool smlp_pool_set_size(int size) {
    if (size < 1 || size > POOL_MAX_THREADS) return false;
    pthread_mutex_lock(&pool.init_lock);
    start_pool_locked();
    bool ok = start_workers(size - 1);
    atomic_store_explicit(&pool.cpus, allowed_cpus(), memory_order_relaxed);
    if (ok) {
        pool.requested = size;
        atomic_store_explicit(&pool.size, size, memory_order_release);
    }
    pthread_mutex_unlock(&pool.init_lock);
    wake_workers(&pool.resize); /* workers now within the size look for work */
    return ok;
}

/* ---- measured choice between split and whole, per job key ----
 *
 * A slot holds a key, its use count and the running means of its split and
 * whole times in nanoseconds; smlp_pool_choose and smlp_pool_mean
 * (smlp_kernels.h) are the rule. Concurrent callers with one key may update
 * a slot at once; a lost update only delays the choice, and every field is
 * an atomic of its own. A key whose probe finds no slot is split. */
static struct choice {
    _Atomic uint64_t key;      /* 0: free */
    _Atomic uint32_t uses;
    _Atomic uint64_t mean_ns[2]; /* [0] split, [1] whole; 0: not measured yet */
} choices[CHOICE_SLOTS];

static void reset_choices(void) {
    for (int i = 0; i < CHOICE_SLOTS; i++) {
        atomic_store(&choices[i].key, 0);
        atomic_store(&choices[i].uses, 0);
        atomic_store(&choices[i].mean_ns[0], 0);
        atomic_store(&choices[i].mean_ns[1], 0);
    }
}

/* The slot of `key` (taking a free one), or NULL when the probe finds none. */
static struct choice *choice_slot(uint64_t key) {
    uint64_t h = key * 0x9e3779b97f4a7c15u;
    for (int p = 0; p < CHOICE_PROBES; p++) {
        struct choice *c = &choices[((h >> 32) + (uint64_t)p) & (CHOICE_SLOTS - 1)];
        uint64_t k = atomic_load_explicit(&c->key, memory_order_relaxed);
        if (k == key) return c;
        if (k == 0) {
            uint64_t free_key = 0;
            if (atomic_compare_exchange_strong_explicit(&c->key, &free_key, key, memory_order_relaxed,
                                                        memory_order_relaxed) ||
                free_key == key)
                return c;
        }
    }
    return NULL;
}

static inline bool exploring(uint32_t use) {
    return use >= SMLP_POOL_WARMUP_USES && use % SMLP_POOL_EXPLORE_EVERY == 0;
}

int smlp_pool_choose(uint32_t use, uint64_t split_ns, uint64_t whole_ns) {
    if (use < SMLP_POOL_WARMUP_USES) return (int)(use & 1);
    /* Split only when the whole time exceeds the split time by a sixteenth
     * of it: a split also costs what its time does not show (workers
     * spinning afterwards on CPUs that other threads, or the caller's
     * hyperthread sibling, could use). */
    int best = whole_ns < split_ns + split_ns / 16 ? 1 : 0;
    return exploring(use) ? 1 - best : best;
}

uint64_t smlp_pool_mean(uint32_t use, uint64_t mean_ns, uint64_t ns) {
    if (use < SMLP_POOL_COLD_USES) return mean_ns;
    /* An exploring use times the way not taken since the last one: its mean
     * is stale, so the new time replaces it. */
    if (mean_ns == 0 || exploring(use)) return ns;
    if (ns > 2 * mean_ns) ns = 2 * mean_ns; /* one preempted run moves the mean by at most 1/4 */
    return mean_ns - mean_ns / 4 + ns / 4;
}

static int choose(struct choice *c, uint32_t use) {
    return smlp_pool_choose(use, atomic_load_explicit(&c->mean_ns[0], memory_order_relaxed),
                            atomic_load_explicit(&c->mean_ns[1], memory_order_relaxed));
}

static void record(struct choice *c, uint32_t use, int way, uint64_t ns) {
    uint64_t mean = atomic_load_explicit(&c->mean_ns[way], memory_order_relaxed);
    atomic_store_explicit(&c->mean_ns[way], smlp_pool_mean(use, mean, ns), memory_order_relaxed);
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void run_whole(smlp_task_fn task, void *context, int count, smlp_whole_fn whole) {
    if (whole) whole(context);
    else
        for (int i = 0; i < count; i++) task(context, i);
}

/* Publishes the job to the workers, takes parts itself, and waits for the
 * parts workers started. False (nothing run) when the pool is busy. */
static bool run_split(smlp_task_fn task, void *context, int count) {
    if (pthread_mutex_trylock(&pool.busy) != 0) return false;
    pool.task = task;
    pool.context = context;
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    uint32_t gen = WORK_GEN(atomic_load_explicit(&pool.work, memory_order_relaxed)) + 1;
    if (gen == 0) gen = 1; /* 0 means "no work yet" to a new worker */
    atomic_store_explicit(&pool.work, (uint64_t)gen << 32 | (uint64_t)count << 16, memory_order_release);
    wake_workers(&pool.wake);

    work_on(gen);

    /* Only parts a worker claimed are left; a worker that lost its CPU holds
     * them until it gets it back, so after a short spin give this CPU away. */
    unsigned spins = 0;
    while (atomic_load_explicit(&pool.done, memory_order_acquire) < (unsigned)count) {
        if (++spins < CALLER_PAUSES) cpu_relax();
        else sched_yield();
    }
    pthread_mutex_unlock(&pool.busy);
    return true;
}

void smlp_pool_run(uint64_t key, smlp_task_fn task, void *context, int count, smlp_whole_fn whole) {
    int size = smlp_pool_size();
    if (count > 0xffff) count = 0xffff;
    if (count <= 1 || size <= 1 || atomic_load_explicit(&pool.cpus, memory_order_relaxed) <= 1) {
        run_whole(task, context, count, whole);
        return;
    }
    if (key == SMLP_POOL_ALWAYS_SPLIT) {
        if (!run_split(task, context, count)) run_whole(task, context, count, whole);
        return;
    }
    struct choice *c = choice_slot(key);
    uint32_t use = c ? atomic_fetch_add_explicit(&c->uses, 1, memory_order_relaxed) : 0;
    int way = c ? choose(c, use) : 0;
    uint64_t t0 = c ? now_ns() : 0;
    if (way == 0 && !run_split(task, context, count)) way = 1; /* busy: run whole, and time it as such */
    if (way == 1) run_whole(task, context, count, whole);
    if (c) record(c, use, way, now_ns() - t0);
}

/* At unload (dlclose or exit) stop and join the workers, whose code is in
 * this library. */
__attribute__((destructor)) static void pool_shutdown(void) {
    if (!atomic_load(&pool.size)) return;
    atomic_store(&pool.stop, 1);
    wake_workers(&pool.wake);
    wake_workers(&pool.resize);
    for (int i = 0; i < pool.workers; i++) pthread_join(pool.threads[i], NULL);
    pool.workers = 0;
    atomic_store(&pool.work, 0);
    atomic_store(&pool.done, 0);
    atomic_store(&pool.stop, 0);
    atomic_store(&pool.size, 0);
}
