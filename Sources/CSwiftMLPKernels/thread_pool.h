/* A fork-join pool for splitting one matrix product over a few threads.
 * Internal to the BLAS layer. */
#ifndef SWIFTMLP_THREAD_POOL_H
#define SWIFTMLP_THREAD_POOL_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*smlp_task_fn)(void *context, int index);
/* Runs the whole job in one piece, with the same result bits as its parts. */
typedef void (*smlp_whole_fn)(void *context);

/* Runs task(context, i) for i in 0..<count (count <= 65535) and returns
 * when all are done. Either the calling thread and the pool's workers claim
 * the parts as they get to them ("split"), or the calling thread runs the
 * job alone ("whole"): whole(context) if whole is not NULL, else the parts
 * in order. Jobs with the key SMLP_POOL_ALWAYS_SPLIT are split; for others
 * the choice is measured per `key` (a caller's name for the job's shape;
 * jobs with one key should take about the same time): both ways are timed
 * at the key's first uses and now and then afterwards, and the split is
 * taken when it is faster on average by a margin (the rule:
 * smlp_pool_choose and smlp_pool_mean in smlp_kernels.h). Everything runs
 * on the calling thread when the pool is busy with another caller's job,
 * has no workers, or the process may run on one CPU only. Never allocates
 * after the workers exist. */
void smlp_pool_run(uint64_t key, smlp_task_fn task, void *context, int count, smlp_whole_fn whole);

/* smlp_pool_run's key for jobs that are always split, never measured: for
 * parts long enough that a late worker costs less than the split saves
 * (gemm.c's large products). smlp_pool_key never returns it. */
#define SMLP_POOL_ALWAYS_SPLIT ((uint64_t)0)

/* A key for smlp_pool_run from four numbers that name a job's shape (what
 * runs, and its sizes): equal numbers give equal keys. */
static inline uint64_t smlp_pool_key(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    uint64_t h = 0xcbf29ce484222325u;
    const uint64_t v[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++) h = (h ^ v[i]) * 0x100000001b3u;
    return h ? h : 1;
}

/* The number of threads smlp_pool_run can use, the caller included (>= 1):
 * the count set or chosen, also when the process may run on one CPU only
 * (then nothing is split). The first call starts the workers. */
int smlp_pool_size(void);

/* Sets the number of threads products may use, the caller included
 * (1 <= size <= 64), starting workers if there are too few; extra workers
 * sleep. A product already running keeps its parts. False, changing
 * nothing, for a size out of range or when a worker cannot be started. */
bool smlp_pool_set_size(int size);

#endif
