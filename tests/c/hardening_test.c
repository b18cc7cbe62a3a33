/*
 * tests/c/hardening_test.c — issue 12 through the C ABI: damage written by a buggy program is
 * reported (LMM_E_CORRUPTED, then LMM_E_POISONED) instead of crashing it, and calls racing
 * lmm_heap_destroy from other threads complete or get LMM_E_DESTROYED — never another code.
 *
 * Built and run by scripts/test like every C test (harness: tests/c/check.h).
 *
 * Under ThreadSanitizer (by hand): the engine as one instrumented object, linked with GCC's TSan
 * runtime (a shared library from zig would carry a second runtime), plus three functions LLVM's
 * instrumentation calls that GCC 12's runtime lacks (__tsan_memcpy/memmove/memset, each calling
 * the libc function of that name, which the runtime intercepts):
 *   (cd zig && zig build-obj -fsanitize-thread -fcompiler-rt -O ReleaseSafe -lc -fPIC \
 *      --name lmm src/lmm.zig -femit-bin=/tmp/lmm.o)
 *   gcc -std=c11 -O1 -g -fsanitize=thread -pthread -I zig/include tests/c/hardening_test.c \
 *      tsan_shim.c /tmp/lmm.o -o /tmp/hardening_tsan && /tmp/hardening_tsan
 * The same setup reports dozens of races for two threads sharing a LMM_HEAP_NO_LOCK heap.
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "lmm.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static lmm_heap_t *small_heap_with(uint64_t page_size, uint32_t page_cache, uint32_t flags) {
    lmm_config_t config;
    lmm_config_default(&config);
    config.page_size = page_size;
    config.page_cache = page_cache;
    config.flags = flags;
    config.reserve = 1u << 20;
    lmm_heap_t *heap = NULL;
    if (lmm_heap_create(&config, &heap) != LMM_OK) return NULL;
    return heap;
}

/* The worst-fit heap itself (exact: no front caches or size classes in front of it), where the
 * next allocation carves the block after a damaged one. */
static lmm_heap_t *small_heap(uint64_t page_size, uint32_t page_cache) {
    return small_heap_with(page_size, page_cache, LMM_HEAP_EXACT);
}

static int all_bytes(const void *p, size_t n, unsigned char value) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != value) return 0;
    return 1;
}

static unsigned char *page_of(const void *p, uintptr_t page_size) {
    return (unsigned char *)((uintptr_t)p & ~(page_size - 1));
}

/* Finding 1: 20 bytes written past a 32-byte block whose successor is the page's free tail.
 * The next alloc used to follow the damaged header (SIGSEGV in every build mode). */
static void test_overflow_into_the_free_tail_is_reported_not_followed(void) {
    current_test = "overflow into the free tail";
    lmm_heap_t *heap = small_heap(LMM_DEFAULT_PAGE_SIZE, LMM_DEFAULT_PAGE_CACHE);
    CHECK(heap != NULL);
    if (heap == NULL) return;
    void *a = NULL, *b = NULL;
    REQUIRE_OK(lmm_alloc(heap, LMM_BYTES_FAMILY, 32, &a));
    memset((unsigned char *)a + 32, 0xEE, 20);
    CHECK_STATUS(lmm_alloc(heap, LMM_BYTES_FAMILY, 100, &b), LMM_E_CORRUPTED);
    CHECK(b == NULL);
    /* Poisoned: every later call that would touch the heap's memory refuses. */
    CHECK_STATUS(lmm_alloc(heap, LMM_BYTES_FAMILY, 100, &b), LMM_E_POISONED);
    CHECK_STATUS(lmm_free(heap, a), LMM_E_POISONED);
    CHECK_STATUS(lmm_validate(heap, a), LMM_E_POISONED);
    CHECK_STATUS(lmm_heap_trim(heap), LMM_E_POISONED);
    char why[256] = "";
    CHECK_STATUS(lmm_check(heap, why, sizeof why), LMM_E_POISONED);
    CHECK(strstr(why, "integrity") != NULL);
    /* Statistics stay readable, and say so. */
    lmm_stats_t s = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.poisoned, 1);
    CHECK_EQ_U(s.app_bytes, 32);
    CHECK_STATUS(lmm_heap_release(heap), LMM_OK);
}

/* Finding 1 with thread caches (the default heap): blocks of a size class go through the calling
 * thread's cache, which flips a header bit and checks the seal on free. A write past a block is
 * found when the block after it is freed: CORRUPTED, then POISONED, never followed. */
static void test_overflow_with_thread_caches(void) {
    current_test = "overflow past a block from a thread cache";
    lmm_heap_t *heap = small_heap_with(LMM_DEFAULT_PAGE_SIZE, LMM_DEFAULT_PAGE_CACHE, 0);
    CHECK(heap != NULL);
    if (heap == NULL) return;
    void *a = NULL, *b = NULL;
    REQUIRE_OK(lmm_alloc(heap, LMM_BYTES_FAMILY, 32, &a));
    REQUIRE_OK(lmm_alloc(heap, LMM_BYTES_FAMILY, 32, &b));
    void *low = (uintptr_t)a < (uintptr_t)b ? a : b, *high = low == a ? b : a;
    CHECK((uintptr_t)high - (uintptr_t)low == 32 + LMM_META_BLOCK_SIZE); /* neighbours */
    memset((unsigned char *)low + 32, 0xEE, 20);
    CHECK_STATUS(lmm_free(heap, high), LMM_E_CORRUPTED);
    void *c = NULL;
    CHECK_STATUS(lmm_alloc(heap, LMM_BYTES_FAMILY, 32, &c), LMM_E_POISONED);
    CHECK(c == NULL);
    CHECK_STATUS(lmm_free(heap, low), LMM_E_POISONED);
    char why[256] = "";
    CHECK_STATUS(lmm_check(heap, why, sizeof why), LMM_E_POISONED);
    lmm_stats_t s = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.poisoned, 1);
    CHECK_STATUS(lmm_heap_release(heap), LMM_OK);
}

/* Finding 2: a page header whose size says 4 pages. Freeing the page's last block used to give
 * back 4 pages — a neighbouring family's page with them — and wrap bytes_mapped below zero. */
static void test_page_size_x4_in_a_page_header_is_reported(void) {
    current_test = "page size x4 in a page header";
    lmm_heap_t *heap = small_heap(4096, 0);
    CHECK(heap != NULL);
    if (heap == NULL) return;
    uint32_t other;
    void *a = NULL, *b = NULL;
    REQUIRE_OK(lmm_register(heap, "other_t", 7, 8, &other));
    REQUIRE_OK(lmm_alloc(heap, LMM_BYTES_FAMILY, 100, &a));
    REQUIRE_OK(lmm_alloc(heap, other, 10, &b));
    CHECK(page_of(b, 4096) == page_of(a, 4096) + 4096); /* the next page: another family's */
    memset(b, 0x5B, 80);
    uint64_t size;
    memcpy(&size, page_of(a, 4096) + 8, sizeof size); /* the header's size field */
    CHECK_EQ_U(size, 4096);
    size *= 4;
    memcpy(page_of(a, 4096) + 8, &size, sizeof size);
    CHECK_STATUS(lmm_free(heap, a), LMM_E_CORRUPTED);
    CHECK(all_bytes(b, 80, 0x5B)); /* still mapped, still there */
    lmm_stats_t s = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.bytes_mapped, 2 * 4096);
    CHECK_EQ_U(s.pages_returned, 0);
    CHECK_STATUS(lmm_heap_release(heap), LMM_OK);
}

/* ---- finding 4: destroy against concurrent calls ------------------------------------------ */

enum { THREADS = 4, ROUNDS = 300, SLOTS = 16 };

typedef struct {
    lmm_heap_t *heap;
    uint32_t family;
    atomic_uint *ops; /* calls that succeeded, all threads */
    unsigned seed;
    /* The first call that returned neither LMM_OK nor LMM_E_DESTROYED. */
    const char *wrong_call;
    int wrong_status;
} worker_t;

/* Calls the heap until it is destroyed: its own blocks only, so every call must succeed until
 * the destroy, and then return LMM_E_DESTROYED. */
static void *hammer(void *arg) {
    worker_t *w = arg;
    void *mine[SLOTS] = {0};
    for (unsigned i = 0;; i++) {
        unsigned k = (unsigned)rand_r(&w->seed) % SLOTS;
        const char *call;
        int s;
        switch (rand_r(&w->seed) % 5) {
        case 0:
            call = mine[k] ? "lmm_free" : "lmm_alloc";
            if (mine[k]) {
                s = lmm_free(w->heap, mine[k]);
                if (s == LMM_OK) mine[k] = NULL;
            } else {
                s = lmm_alloc(w->heap, w->family, 1 + i % 40, &mine[k]);
            }
            break;
        case 1: {
            call = "lmm_realloc";
            if (mine[k] == NULL) {
                s = lmm_alloc(w->heap, w->family, 1, &mine[k]);
                break;
            }
            void *moved = NULL;
            s = lmm_realloc(w->heap, mine[k], 1 + i % 300, &moved);
            if (s == LMM_OK) mine[k] = moved;
            break;
        }
        case 2: {
            call = "lmm_stats";
            lmm_stats_t st;
            memset(&st, 0, sizeof st);
            st.size = sizeof st;
            st.version = LMM_ABI_VERSION;
            s = lmm_stats(w->heap, i % 2 ? w->family : LMM_ALL_FAMILIES, &st);
            break;
        }
        case 3:
            call = "lmm_validate";
            s = mine[k] ? lmm_validate(w->heap, mine[k]) : lmm_family_find(w->heap, "node_t", 6, &(uint32_t){0});
            break;
        default: {
            call = "lmm_alloc_f64";
            double p = lmm_alloc_f64(w->heap, w->family, 3, 0);
            s = p < 0 ? (int)-p : -lmm_free_f64(w->heap, p);
            break;
        }
        }
        if (s == LMM_E_DESTROYED) return NULL;
        if (s != LMM_OK) {
            w->wrong_call = call;
            w->wrong_status = s;
            return NULL;
        }
        atomic_fetch_add_explicit(w->ops, 1, memory_order_relaxed);
    }
}

static void test_destroy_against_concurrent_calls(void) {
    current_test = "destroy against concurrent calls";
    unsigned seed = 12;
    unsigned wrong = 0, completed_after_destroy = 0;
    for (int round = 0; round < ROUNDS; round++) {
        /* Odd rounds: the worst-fit heap alone; even rounds: with thread caches (which the
         * destroy stops before it unmaps anything). */
        lmm_heap_t *heap = small_heap_with(4096, (unsigned)round % 3, round % 2 ? LMM_HEAP_EXACT : 0);
        CHECK(heap != NULL);
        if (heap == NULL) return;
        uint32_t family;
        REQUIRE_OK(lmm_register(heap, "node_t", 6, 24, &family));
        atomic_uint ops = 0;
        worker_t workers[THREADS];
        pthread_t threads[THREADS];
        for (int t = 0; t < THREADS; t++) {
            workers[t] = (worker_t){.heap = heap, .family = family, .ops = &ops, .seed = seed + (unsigned)t};
            CHECK(pthread_create(&threads[t], NULL, hammer, &workers[t]) == 0);
        }
        seed += THREADS;
        /* Destroy at a different moment each round: after 0 to ~2000 calls. */
        unsigned target = (unsigned)(round * 7919) % 2000;
        while (atomic_load(&ops) < target) sched_yield();
        CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
        unsigned at_destroy = atomic_load(&ops);
        for (int t = 0; t < THREADS; t++) {
            pthread_join(threads[t], NULL);
            if (workers[t].wrong_call != NULL) {
                if (wrong++ < 5) {
                    char m[256];
                    snprintf(m, sizeof m, "round %d: %s gave %s (%d)", round, workers[t].wrong_call,
                             status_name(workers[t].wrong_status), workers[t].wrong_status);
                    report_failure(__FILE__, __LINE__, m);
                }
            }
        }
        /* A call that got in before the destroy may count itself just after; none can count
         * more than one per thread. */
        if (atomic_load(&ops) > at_destroy + THREADS) completed_after_destroy++;
        CHECK_STATUS(lmm_stats(heap, LMM_ALL_FAMILIES, &(lmm_stats_t){.size = sizeof(lmm_stats_t)}),
                     LMM_E_DESTROYED);
        CHECK_STATUS(lmm_heap_release(heap), LMM_OK); /* the tombstone, now nobody calls */
    }
    CHECK_EQ_U(wrong, 0);
    CHECK_EQ_U(completed_after_destroy, 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    run(test_overflow_into_the_free_tail_is_reported_not_followed);
    run(test_page_size_x4_in_a_page_header_is_reported);
    run(test_overflow_with_thread_caches);
    run(test_destroy_against_concurrent_calls);
    return summary();
}
