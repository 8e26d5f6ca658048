/*
 * handoff.c — the round trip of one cache line between CPU 0 and CPU 1:
 * what every hand-off between the pool's caller and its worker pays
 * (publishing a product, claiming a part, reading the other thread's
 * results).
 *
 *   cc -O2 -pthread bench/handoff.c -o handoff && ./handoff
 *
 * Prints the mean round trip in nanoseconds over ROUND_TRIPS. Two threads,
 * pinned to CPUs 0 and 1, take turns incrementing one atomic counter. A
 * reading several times the usual one means the host runs the two CPUs
 * far apart (no shared L3); what it reads on this project's VMs, and
 * beside which slow runs, is in README "The pool that loses".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

enum { ROUND_TRIPS = 200000 };

static _Atomic long counter __attribute__((aligned(64)));

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* CPU 1's side: answers every odd value with the next even one. */
static void *answer(void *arg) {
    (void)arg;
    pin(1); /* main checked that CPU 1 is allowed */
    for (long i = 0; i < ROUND_TRIPS; i++) {
        while (atomic_load_explicit(&counter, memory_order_acquire) != 2 * i + 1) {
        }
        atomic_store_explicit(&counter, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

int main(void) {
    cpu_set_t allowed;
    pthread_t other;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || !CPU_ISSET(0, &allowed) ||
        !CPU_ISSET(1, &allowed) || pin(0) != 0 || pthread_create(&other, NULL, answer, NULL) != 0) {
        fprintf(stderr, "handoff: needs CPUs 0 and 1\n");
        return 1;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < ROUND_TRIPS; i++) {
        atomic_store_explicit(&counter, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&counter, memory_order_acquire) != 2 * i + 2) {
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(other, NULL);
    double ns = (double)(end.tv_sec - start.tv_sec) * 1e9 + (double)(end.tv_nsec - start.tv_nsec);
    printf("%.0f ns per round trip between CPU 0 and CPU 1\n", ns / ROUND_TRIPS);
    return 0;
}
