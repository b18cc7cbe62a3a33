/*
 * tests/c/threads_test.c — one heap shared by threads (issue 9): thread caches in front of the
 * lock, frees across threads, readers that stop the caches while threads run.
 *
 * The stress test runs 4 threads for 250,000 operations each (10^6 in all) on one default heap:
 * untyped blocks of 1–512 bytes and a typed family, allocated, filled with the thread's own
 * byte, checked and freed — a quarter of them by another thread, through a shared mailbox — plus
 * some reallocs and multi-unit blocks (the engine's path). A fifth thread runs lmm_check and
 * lmm_stats while they work. At the end every block is freed: lmm_check is clean, no byte is
 * live, trim gives every page back.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define THREADS 4
#define OPS_PER_THREAD 250000
#define MAILBOX 512
#define LIVE 64

typedef struct {
    lmm_heap_t *heap;
    uint32_t family;
    unsigned seed;
    _Atomic(void *) *mailbox;
    atomic_ulong *ops;
    const char *wrong; /* first failed call, or NULL */
    int wrong_status;
} worker_t;

typedef struct {
    void *p;
    size_t len;
    unsigned char fill;
} block_t;

static unsigned next(unsigned *s) {
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static int filled(const void *p, size_t n, unsigned char v) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != v) return 0;
    return 1;
}

/* A block's length is in its first byte's neighbours: [len lo][len hi][fill...]. Blocks that
 * travel through the mailbox carry their own length and fill so that any thread can check them. */
static void stamp(void *p, size_t len, unsigned char fill) {
    unsigned char *b = p;
    memset(b, fill, len);
    if (len >= 3) {
        b[0] = (unsigned char)(len & 0xff);
        b[1] = (unsigned char)(len >> 8);
    }
}

static int intact(const void *p, size_t len, unsigned char fill) {
    const unsigned char *b = p;
    if (len < 3) return filled(b, len, fill);
    return b[0] == (unsigned char)(len & 0xff) && b[1] == (unsigned char)(len >> 8) &&
           filled(b + 2, len - 2, fill);
}

static int fail(worker_t *w, const char *call, int status) {
    if (!w->wrong) {
        w->wrong = call;
        w->wrong_status = status;
    }
    return 0;
}

static int release(worker_t *w, block_t *b) {
    if (!intact(b->p, b->len, b->fill)) return fail(w, "data of a live block changed", 0);
    int s = lmm_free(w->heap, b->p);
    if (s != LMM_OK) return fail(w, "lmm_free", s);
    b->p = NULL;
    return 1;
}

static void *worker_run(void *arg) {
    worker_t *w = arg;
    block_t mine[LIVE];
    memset(mine, 0, sizeof mine);
    unsigned char fill = (unsigned char)(0x40 + w->seed);
    for (long i = 0; i < OPS_PER_THREAD && !w->wrong; i++) {
        unsigned r = next(&w->seed);
        block_t *b = &mine[r % LIVE];
        if (b->p) {
            unsigned what = (r >> 8) % 16;
            if (what < 4) {
                /* Post it; free whatever another thread posted there. Posted blocks carry their
                 * length; their fill is the poster's, stamped in the block. */
                void *got = atomic_exchange(&w->mailbox[(r >> 12) % MAILBOX], b->p);
                b->p = NULL;
                if (got) {
                    unsigned char *g = got;
                    size_t len = (size_t)g[0] | (size_t)g[1] << 8;
                    block_t other = {got, len, g[2]};
                    if (!release(w, &other)) break;
                }
            } else if (what == 4) {
                size_t len = 3 + (r >> 16) % 600;
                void *moved = NULL;
                if (!intact(b->p, b->len, b->fill)) {
                    fail(w, "data of a live block changed", 0);
                    break;
                }
                int s = lmm_realloc(w->heap, b->p, len, &moved);
                if (s != LMM_OK) {
                    fail(w, "lmm_realloc", s);
                    break;
                }
                size_t kept = len < b->len ? len : b->len;
                if (kept >= 3 && !filled((unsigned char *)moved + 2, kept - 2, fill)) {
                    fail(w, "realloc lost data", 0);
                    break;
                }
                stamp(moved, len, fill);
                b->p = moved;
                b->len = len;
            } else if (!release(w, b)) {
                break;
            }
        } else {
            unsigned what = (r >> 8) % 8;
            void *p = NULL;
            size_t len;
            int s;
            if (what == 0) {
                len = 48 * (size_t)(1 + (r >> 16) % 3); /* the typed family: 1–3 units */
                s = lmm_alloc(w->heap, w->family, len / 48, &p);
            } else {
                len = 3 + (r >> 16) % 510;
                s = lmm_alloc(w->heap, LMM_BYTES_FAMILY, len, &p);
            }
            if (s != LMM_OK) {
                fail(w, "lmm_alloc", s);
                break;
            }
            if (!filled(p, len, 0)) {
                fail(w, "lmm_alloc handed out memory that is not zeroed", 0);
                break;
            }
            stamp(p, len, fill);
            *b = (block_t){p, len, fill};
        }
        atomic_fetch_add_explicit(w->ops, 1, memory_order_relaxed);
    }
    for (int k = 0; k < LIVE; k++)
        if (mine[k].p && !release(w, &mine[k])) break;
    return NULL;
}

typedef struct {
    lmm_heap_t *heap;
    atomic_int *stop;
    int checks, bad;
    char why[256];
} checker_t;

static void *checker_run(void *arg) {
    checker_t *c = arg;
    while (!atomic_load(c->stop)) {
        int s = lmm_check(c->heap, c->why, sizeof c->why);
        if (s != LMM_OK) {
            c->bad++;
            break;
        }
        lmm_stats_t st;
        memset(&st, 0, sizeof st);
        st.size = sizeof st;
        st.version = LMM_ABI_VERSION;
        if (lmm_stats(c->heap, LMM_ALL_FAMILIES, &st) != LMM_OK) c->bad++;
        c->checks++;
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    return NULL;
}

static void stress(uint32_t flags, const char *name) {
    current_test = name;
    lmm_config_t config;
    lmm_config_default(&config);
    config.flags = flags;
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(&config, &heap));
    uint32_t family;
    REQUIRE_OK(lmm_register(heap, "node_t", 6, 48, &family));
    static _Atomic(void *) mailbox[MAILBOX];
    for (int i = 0; i < MAILBOX; i++) atomic_init(&mailbox[i], NULL);
    atomic_ulong ops = 0;
    atomic_int stop = 0;
    worker_t w[THREADS];
    pthread_t t[THREADS], ct;
    checker_t c = {.heap = heap, .stop = &stop};
    CHECK(pthread_create(&ct, NULL, checker_run, &c) == 0);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){.heap = heap, .family = family, .seed = 7u + 31u * (unsigned)i, .mailbox = mailbox,
                          .ops = &ops};
        CHECK(pthread_create(&t[i], NULL, worker_run, &w[i]) == 0);
    }
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    atomic_store(&stop, 1);
    pthread_join(ct, NULL);
    for (int i = 0; i < THREADS; i++) {
        if (w[i].wrong) {
            char m[256];
            snprintf(m, sizeof m, "thread %d: %s (%s)", i, w[i].wrong, status_name(w[i].wrong_status));
            report_failure(__FILE__, __LINE__, m);
        }
    }
    CHECK(atomic_load(&ops) >= (unsigned long)THREADS * OPS_PER_THREAD);
    CHECK(c.bad == 0);
    if (c.bad) report_failure(__FILE__, __LINE__, c.why);
    CHECK(c.checks > 0);
    for (int i = 0; i < MAILBOX; i++) {
        void *p = atomic_exchange(&mailbox[i], NULL);
        if (p) CHECK_STATUS(lmm_free(heap, p), LMM_OK);
    }
    CHECK_HEAP(heap);
    lmm_stats_t s = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.app_bytes, 0);
    CHECK_EQ_U(s.occupied_blocks, 0);
    CHECK(s.alloc_count == s.free_count);
    CHECK(s.peak_app_bytes > 0);
    REQUIRE_OK(lmm_heap_trim(heap));
    s = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.pages, 0);
    CHECK_EQ_U(s.pages_taken, s.pages_returned);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_heap_release(heap), LMM_OK);
}

static void test_stress_thread_caches(void) {
    stress(0, "4 threads, frees across threads, checked while they run (thread caches)");
}

static void test_stress_one_lock(void) {
    stress(LMM_HEAP_NO_THREAD_CACHE, "4 threads, frees across threads, checked while they run (one lock)");
}

/* With one thread the counts are exact at every read, thread caches or not. */
static void test_exact_counts_through_a_thread_cache(void) {
    current_test = "exact counts through a thread cache";
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(NULL, &heap));
    lmm_heap_info_t info;
    REQUIRE_OK(lmm_heap_info(heap, &info));
    CHECK_EQ_U(info.flags & LMM_HEAP_NO_THREAD_CACHE, 0);
    void *p[300];
    uint64_t want = 0;
    for (int i = 0; i < 300; i++) {
        REQUIRE_OK(lmm_alloc(heap, LMM_BYTES_FAMILY, (uint64_t)(1 + i), &p[i]));
        want += (uint64_t)(1 + i);
    }
    lmm_stats_t s = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.app_bytes, want);
    CHECK_EQ_U(s.occupied_blocks, 300);
    CHECK_EQ_U(s.alloc_count, 300);
    CHECK_HEAP(heap);
    /* The blocks a thread cache holds are listed as free and cached; the live ones as live. */
    uint64_t n = 0;
    CHECK_STATUS(lmm_blocks(heap, LMM_ALL_FAMILIES, LMM_WALK_LIVE_ONLY, NULL, 0, &n), LMM_E_BUFFER_TOO_SMALL);
    CHECK_EQ_U(n, 300);
    for (int i = 0; i < 300; i += 2) REQUIRE_OK(lmm_free(heap, p[i]));
    CHECK_STATUS(lmm_free(heap, p[0]), LMM_E_DOUBLE_FREE);
    CHECK_STATUS(lmm_free(heap, (unsigned char *)p[1] + 1), LMM_E_INTERIOR);
    s = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.occupied_blocks, 150);
    CHECK_EQ_U(s.peak_app_bytes, want);
    /* A realloc of a cached block: the engine adopts it. */
    void *q = NULL;
    memset(p[1], 0x77, 2);
    REQUIRE_OK(lmm_realloc(heap, p[1], 5000, &q));
    CHECK(filled(q, 2, 0x77) && filled((unsigned char *)q + 2, 4998, 0));
    p[1] = q;
    for (int i = 1; i < 300; i += 2) REQUIRE_OK(lmm_free(heap, p[i]));
    s = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.app_bytes, 0);
    CHECK_EQ_U(s.occupied_blocks, 0);
    CHECK_HEAP(heap);
    /* The Deno module's caller-cache calls lend blocks of unlocked heaps only. */
    double addrs[4];
    uint32_t fam = 0;
    REQUIRE_OK(lmm_register(heap, "emp_t", 5, 40, &fam));
    CHECK_EQ_U(lmm_front_refill_f64(heap, fam, addrs, 4) == -LMM_E_INVALID_ARG, 1);
    REQUIRE_OK(lmm_heap_trim(heap));
    CHECK_EQ_U(stats_of(heap, LMM_ALL_FAMILIES).pages, 0);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
    CHECK_STATUS(lmm_alloc(heap, LMM_BYTES_FAMILY, 16, &q), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_free(heap, p[0]), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_heap_release(heap), LMM_OK);
}

/* More threads than slots, then all gone: the caches of exited threads are taken back when a new
 * thread needs one, their blocks go back to the heap, and nothing is lost. */
typedef struct {
    lmm_heap_t *heap;
    void *kept[8];
    atomic_int *ready;
    atomic_int *go;
    int failed;
} churn_t;

static void *churn_run(void *arg) {
    churn_t *c = arg;
    void *p[16];
    for (int i = 0; i < 16; i++)
        if (lmm_alloc(c->heap, LMM_BYTES_FAMILY, (uint64_t)(16 + 32 * (i % 4)), &p[i]) != LMM_OK) c->failed = 1;
    for (int i = 8; i < 16; i++)
        if (lmm_free(c->heap, p[i]) != LMM_OK) c->failed = 1;
    memcpy(c->kept, p, sizeof c->kept);
    atomic_fetch_add(c->ready, 1);
    while (!atomic_load(c->go)) sched_yield();
    return NULL;
}

static void test_threads_that_come_and_go(void) {
    current_test = "threads that come and go";
    enum { N = 70 };
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(NULL, &heap));
    atomic_int ready = 0, go = 0;
    static churn_t c[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        c[i] = (churn_t){.heap = heap, .ready = &ready, .go = &go};
        CHECK(pthread_create(&t[i], NULL, churn_run, &c[i]) == 0);
    }
    while (atomic_load(&ready) < N) sched_yield();
    lmm_heap_info_t info;
    REQUIRE_OK(lmm_heap_info(heap, &info));
    CHECK_EQ_U(info.thread_caches, 64); /* the other 6 use the lock */
    atomic_store(&go, 1);
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK(!c[i].failed);
    }
    void *p = NULL;
    REQUIRE_OK(lmm_alloc(heap, LMM_BYTES_FAMILY, 24, &p)); /* a new thread: takes exited caches back */
    REQUIRE_OK(lmm_heap_info(heap, &info));
    CHECK_EQ_U(info.thread_caches, 1);
    CHECK_EQ_U(info.thread_cache_reclaims, 64);
    CHECK_HEAP(heap);
    REQUIRE_OK(lmm_free(heap, p));
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 8; k++) CHECK_STATUS(lmm_free(heap, c[i].kept[k]), LMM_OK);
    lmm_stats_t s = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.app_bytes, 0);
    CHECK_EQ_U(s.occupied_blocks, 0);
    REQUIRE_OK(lmm_heap_trim(heap));
    CHECK_EQ_U(stats_of(heap, LMM_ALL_FAMILIES).pages, 0);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_heap_release(heap), LMM_OK);
}

/* A heap made without thread caches says so. */
static void test_no_thread_cache_flag(void) {
    current_test = "LMM_HEAP_NO_THREAD_CACHE";
    lmm_config_t config;
    lmm_config_default(&config);
    config.flags = LMM_HEAP_NO_THREAD_CACHE;
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(&config, &heap));
    lmm_heap_info_t info;
    REQUIRE_OK(lmm_heap_info(heap, &info));
    CHECK_EQ_U(info.flags & LMM_HEAP_NO_THREAD_CACHE, LMM_HEAP_NO_THREAD_CACHE);
    void *p = NULL;
    REQUIRE_OK(lmm_alloc(heap, LMM_BYTES_FAMILY, 24, &p));
    REQUIRE_OK(lmm_free(heap, p));
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_heap_release(heap), LMM_OK);
}

int main(void) {
    run(test_exact_counts_through_a_thread_cache);
    run(test_no_thread_cache_flag);
    run(test_threads_that_come_and_go);
    run(test_stress_thread_caches);
    run(test_stress_one_lock);
    return summary();
}
