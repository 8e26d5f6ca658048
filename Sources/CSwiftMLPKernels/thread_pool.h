/* A fork-join pool for splitting one matrix product over a few threads.
 * Internal to the BLAS layer. */
#ifndef SWIFTMLP_THREAD_POOL_H
#define SWIFTMLP_THREAD_POOL_H

#include <stdbool.h>

typedef void (*smlp_task_fn)(void *context, int index);

/* Runs task(context, i) for i in 0..<count (count <= 65535) and returns
 * when all are done. The calling thread and the pool's workers claim the
 * parts as they get to them. When the pool is busy with another caller's
 * product, or has no workers, everything runs on the calling thread, in
 * order. Never allocates after the workers exist. */
void smlp_pool_run(smlp_task_fn task, void *context, int count);

/* The number of threads smlp_pool_run can use, the caller included (>= 1).
 * The first call starts the workers. */
int smlp_pool_size(void);

/* Sets the number of threads products may use, the caller included
 * (1 <= size <= 64), starting workers if there are too few; extra workers
 * sleep. A product already running keeps its parts. False, changing
 * nothing, for a size out of range or when a worker cannot be started. */
bool smlp_pool_set_size(int size);

#endif
