// A persistent thread pool for the data-parallel loops of the inference kernels.
//
// A loop is published by bumping `generation`; workers spin on it for a short while after each
// loop (a forward pass runs ~170 loops per token, microseconds apart) and then sleep on a
// condition variable. Tasks are claimed one at a time from an atomic counter, so a core slowed
// by another process just takes fewer tasks. The calling thread claims tasks too.
#include "CKBKernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/// How many polls a worker spins for a new loop before it sleeps (roughly 0.1-0.5 ms).
enum { SPIN_POLLS = 20000 };

// The loop state is one 64-bit word, so a worker still finishing an earlier loop can never claim
// a task of the next one: generation (20 bits) | task count (22 bits) | next task (22 bits).
enum { INDEX_BITS = 22, COUNT_BITS = 22 };
#define INDEX_MASK ((UINT64_C(1) << INDEX_BITS) - 1)
#define MAX_TASKS ((int64_t)INDEX_MASK)

static inline uint64_t loop_word(uint64_t generation, uint64_t count) {
    return (generation << (INDEX_BITS + COUNT_BITS)) | (count << INDEX_BITS);
}
static inline uint64_t word_generation(uint64_t word) { return word >> (INDEX_BITS + COUNT_BITS); }
static inline int64_t word_count(uint64_t word) { return (int64_t)((word >> INDEX_BITS) & INDEX_MASK); }
static inline int64_t word_index(uint64_t word) { return (int64_t)(word & INDEX_MASK); }

struct kb_pool {
    int workerCount;
    pthread_t *workers;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    pthread_mutex_t running;     // held by the caller of the loop in progress
    atomic_uint_least64_t loop;  // see loop_word
    atomic_llong completed;      // tasks of the current loop that have returned
    atomic_int sleepers;         // workers blocked on `wake`
    atomic_int stopping;
    uint64_t generation;         // the caller's count of loops
    // The current loop's body; written before `loop` publishes a new generation and not
    // changed until all its tasks have completed.
    kb_task_fn fn;
    void *context;
};

/// Claims and runs tasks of loop `generation` until none is left.
static void run_tasks(kb_pool *pool, uint64_t generation) {
    for (;;) {
        uint64_t word = atomic_load_explicit(&pool->loop, memory_order_acquire);
        if (word_generation(word) != generation || word_index(word) >= word_count(word)) return;
        if (!atomic_compare_exchange_weak_explicit(&pool->loop, &word, word + 1, memory_order_acq_rel,
                                                   memory_order_relaxed)) continue;
        pool->fn(pool->context, word_index(word));
        atomic_fetch_add_explicit(&pool->completed, 1, memory_order_release);
    }
}

static uint64_t current_generation(kb_pool *pool) {
    return word_generation(atomic_load_explicit(&pool->loop, memory_order_acquire));
}

static void *worker_main(void *argument) {
    kb_pool *pool = argument;
    uint64_t seen = 0;  // the generation at creation: a loop published before this thread ran is still new to it
    for (;;) {
        uint64_t current;
        int polls = 0;
        while ((current = current_generation(pool)) == seen && polls < SPIN_POLLS) {
            CPU_RELAX();
            polls++;
        }
        if (current == seen) {
            pthread_mutex_lock(&pool->mutex);
            atomic_fetch_add(&pool->sleepers, 1);
            while ((current = word_generation(atomic_load(&pool->loop))) == seen && !atomic_load(&pool->stopping)) {
                pthread_cond_wait(&pool->wake, &pool->mutex);
            }
            atomic_fetch_sub(&pool->sleepers, 1);
            pthread_mutex_unlock(&pool->mutex);
        }
        seen = current;
        if (atomic_load(&pool->stopping)) return NULL;
        run_tasks(pool, current);
    }
}

kb_pool *kb_pool_create(int threads) {
    kb_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->workerCount = threads > 1 ? threads - 1 : 0;
    pool->workers = calloc(pool->workerCount ? pool->workerCount : 1, sizeof(pthread_t));
    if (!pool->workers) { free(pool); return NULL; }
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_mutex_init(&pool->running, NULL);
    for (int i = 0; i < pool->workerCount; i++) {
        if (pthread_create(&pool->workers[i], NULL, worker_main, pool) != 0) {
            pool->workerCount = i;
            kb_pool_destroy(pool);
            return NULL;
        }
    }
    return pool;
}

/// Publishes a new generation of `loop` and wakes sleeping workers.
static void publish(kb_pool *pool, uint64_t word) {
    atomic_store(&pool->loop, word);  // seq_cst: ordered before the read of `sleepers`
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->mutex);
    }
}

void kb_pool_run(kb_pool *pool, int64_t count, kb_task_fn fn, void *context) {
    if (count <= 0) return;
    // Inline: one thread, one task, an unexpectedly large count (tasks are chunks of rows), or a
    // loop already in progress (a nested call from a task, or a second caller thread).
    if (pool->workerCount == 0 || count == 1 || count > MAX_TASKS || pthread_mutex_trylock(&pool->running) != 0) {
        for (int64_t t = 0; t < count; t++) fn(context, t);
        return;
    }
    pool->fn = fn;
    pool->context = context;
    atomic_store_explicit(&pool->completed, 0, memory_order_relaxed);
    uint64_t generation = ++pool->generation & ((UINT64_C(1) << (64 - INDEX_BITS - COUNT_BITS)) - 1);
    publish(pool, loop_word(generation, (uint64_t)count));
    run_tasks(pool, generation);
    int polls = 0;
    while (atomic_load_explicit(&pool->completed, memory_order_acquire) < count) {
        CPU_RELAX();
        if (++polls > SPIN_POLLS) { sched_yield(); polls = 0; }  // a worker was descheduled mid-task
    }
    pthread_mutex_unlock(&pool->running);
}

void kb_pool_destroy(kb_pool *pool) {
    if (!pool) return;
    atomic_store(&pool->stopping, 1);
    publish(pool, loop_word((++pool->generation) & ((UINT64_C(1) << (64 - INDEX_BITS - COUNT_BITS)) - 1), 0));
    for (int i = 0; i < pool->workerCount; i++) pthread_join(pool->workers[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->mutex);
    pthread_mutex_destroy(&pool->running);
    free(pool->workers);
    free(pool);
}
