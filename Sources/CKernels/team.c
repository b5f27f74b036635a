// A small thread team for the parallel loops of decode and the row ops (see fluxkernels.h).
//
// Why not a dispatch queue: decode runs ~60 parallel loops per token, each a few hundred
// microseconds, and a queue's wake-up costs tens of microseconds each time. Here the workers
// spin for a short while after each job (the next loop usually starts within microseconds),
// then sleep on a condition variable, so an idle process costs nothing.
//
// Pieces are claimed from one atomic ticket that carries the job's number in its high half, so
// a worker that wakes late can never take a piece of a later job, and the caller never waits
// for a worker that has not claimed anything: on a loaded machine, if the workers are
// descheduled, the caller runs every piece itself.
#include "fluxkernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sched.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_WORKERS 63
#define SPIN_NS 200000 // how long an idle worker polls before it sleeps

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    _Atomic uint64_t ticket;   // job number << 32 | next piece
    _Atomic int64_t done;      // pieces finished in the current job
    _Atomic(fk_task_fn) fn;
    _Atomic(void *) ctx;
    _Atomic int64_t total;
    _Atomic int sleepers;
    _Atomic int busy;          // a caller owns the team
    int started;               // workers created so far
    _Atomic int wanted;        // workers in use (threads - 1)
} team = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

// Claims and runs pieces of job `job` until none is left or a later job has begun.
static void work(uint32_t job) {
    // Sequentially consistent throughout (a handful of operations per job): if these reads
    // see a later job's values, the ticket read after them sees that job's number or the
    // closed mark, so a piece is never run with another job's function or count.
    fk_task_fn fn = atomic_load(&team.fn);
    void *ctx = atomic_load(&team.ctx);
    int64_t total = atomic_load(&team.total);
    uint64_t t = atomic_load(&team.ticket);
    for (;;) {
        if ((uint32_t)(t >> 32) != job || (int64_t)(t & 0xFFFFFFFFu) >= total) return;
        if (!atomic_compare_exchange_weak(&team.ticket, &t, t + 1)) continue;
        fn(ctx, (int64_t)(t & 0xFFFFFFFFu));
        atomic_fetch_add(&team.done, 1);
        t = atomic_load(&team.ticket);
    }
}

static void *worker(void *arg) {
    intptr_t index = (intptr_t)arg;
    uint32_t seen = (uint32_t)(atomic_load(&team.ticket) >> 32);
    for (;;) {
        // Poll for a new job, then sleep until one is posted.
        uint64_t t0 = now_ns();
        uint32_t job;
        for (int spins = 0;; spins++) {
            job = (uint32_t)(atomic_load_explicit(&team.ticket, memory_order_acquire) >> 32);
            if (job != seen) break;
            CPU_RELAX();
            if ((spins & 63) == 63 && now_ns() - t0 > SPIN_NS) {
                pthread_mutex_lock(&team.mu);
                atomic_fetch_add(&team.sleepers, 1);
                while ((job = (uint32_t)(atomic_load(&team.ticket) >> 32)) == seen) pthread_cond_wait(&team.cv, &team.mu);
                atomic_fetch_sub(&team.sleepers, 1);
                pthread_mutex_unlock(&team.mu);
                break;
            }
        }
        seen = job;
        if (index < atomic_load_explicit(&team.wanted, memory_order_relaxed)) work(job);
    }
    return NULL;
}

void fk_team_set_threads(int threads) {
    int w = threads - 1;
    if (w < 0) w = 0;
    if (w > MAX_WORKERS) w = MAX_WORKERS;
    atomic_store(&team.wanted, w);
}

int fk_team_threads(void) { return atomic_load(&team.wanted) + 1; }

int fk_team_busy(void) { return atomic_load_explicit(&team.busy, memory_order_relaxed); }

static void start_workers(int w) {
    pthread_mutex_lock(&team.mu);
    while (team.started < w) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &attr, worker, (void *)(intptr_t)team.started) != 0) {
            pthread_attr_destroy(&attr);
            break; // fewer workers: the caller runs more pieces itself
        }
        pthread_attr_destroy(&attr);
        team.started++;
    }
    pthread_mutex_unlock(&team.mu);
}

void fk_team_run(int64_t pieces, fk_task_fn fn, void *ctx) {
    if (pieces <= 0) return;
    int w = atomic_load(&team.wanted);
    int expected = 0;
    // One piece, no workers, or the team already in use (a nested loop, another thread's
    // request): run here, in order.
    if (pieces == 1 || w == 0 || !atomic_compare_exchange_strong(&team.busy, &expected, 1)) {
        for (int64_t i = 0; i < pieces; i++) fn(ctx, i);
        return;
    }
    if (team.started < w) start_workers(w);
    atomic_store(&team.fn, fn);
    atomic_store(&team.ctx, ctx);
    atomic_store(&team.total, pieces);
    atomic_store(&team.done, 0);
    uint32_t job = (uint32_t)(atomic_load(&team.ticket) >> 32) + 1;
    atomic_store(&team.ticket, (uint64_t)job << 32); // seq_cst: pairs with the sleepers check
    if (atomic_load(&team.sleepers) > 0) {
        pthread_mutex_lock(&team.mu);
        pthread_cond_broadcast(&team.cv);
        pthread_mutex_unlock(&team.mu);
    }
    work(job);
    // Pieces still running on workers: wait for them (yielding now and then, in case a worker
    // shares this core with us).
    for (int spins = 0; atomic_load_explicit(&team.done, memory_order_acquire) < pieces; spins++) {
        CPU_RELAX();
        if ((spins & 1023) == 1023) sched_yield();
    }
    // Close the job (index field all ones) before the next one's fields are written.
    atomic_store(&team.ticket, ((uint64_t)job << 32) | 0xFFFFFFFFu);
    atomic_store(&team.busy, 0);
}
