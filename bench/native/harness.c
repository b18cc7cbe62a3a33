/*
 * Native comparison harness: the same workloads against LMM's C ABI and
 * against whatever malloc the process has (glibc, or jemalloc / mimalloc /
 * tcmalloc through LD_PRELOAD). Prints one JSON object per measurement.
 *
 *   harness <workload> <allocator> [ops]
 *     workload:  pair16 | pair256 | pair4k | families | churn
 *     allocator: lmm | malloc
 *
 * pairN     alloc(N) then free at once, `ops` times (the fast-path floor).
 * families  three structures (40, 72, 200 B) allocated zeroed in bursts of
 *           1–32 (calloc / LMM families), freed in random order; `ops`
 *           allocations in all, live set up to 20k.
 * churn     100k live blocks of 8–512 B, then `ops` random free+alloc.
 *
 * Not a test: nothing is asserted on time. A checksum keeps the work live.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lmm.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static inline uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, int status) {
    fprintf(stderr, "harness: %s: %s\n", what, lmm_status_name(status));
    exit(2);
}

/* The allocator under test, behind two function pointers. */
static lmm_heap_t *heap;
static uint32_t fam[4]; /* bytes, s40, s72, s200 */

static void *a_lmm(uint32_t family, size_t units) {
    void *p;
    int s = lmm_alloc(heap, family, units, &p);
    if (s) die("lmm_alloc", s);
    return p;
}
static void f_lmm(void *p) {
    int s = lmm_free(heap, p);
    if (s) die("lmm_free", s);
}
static const size_t struct_size[4] = {1, 40, 72, 200};
static void *a_malloc(uint32_t family, size_t units) {
    void *p = family == 0 ? malloc(units) : calloc(units, struct_size[family]);
    if (!p) { fprintf(stderr, "harness: out of memory\n"); exit(2); }
    return p;
}
static void f_malloc(void *p) { free(p); }

static void *(*do_alloc)(uint32_t, size_t);
static void (*do_free)(void *);

static uint64_t pair(size_t size, long ops) {
    uint64_t sum = 0;
    for (long i = 0; i < ops; i++) {
        char *p = do_alloc(0, size);
        p[0] = (char)i;
        sum += (uintptr_t)p[0];
        do_free(p);
    }
    return sum;
}

static uint64_t families(long ops) {
    enum { LIVE = 20000 };
    static void *live[LIVE];
    long n = 0, done = 0;
    uint64_t sum = 0;
    while (done < ops) {
        long burst = 1 + (long)(next_rand() % 32);
        uint32_t f = 1 + (uint32_t)(next_rand() % 3);
        for (long k = 0; k < burst && done < ops; k++, done++) {
            if (n == LIVE) { /* free a random one to make room */
                long j = (long)(next_rand() % (uint64_t)n);
                do_free(live[j]);
                live[j] = live[--n];
            }
            char *p = do_alloc(f, 1);
            sum += (uintptr_t)p[struct_size[f] - 1]; /* zeroed: adds 0, keeps the read */
            p[0] = 1;
            live[n++] = p;
        }
        long frees = (long)(next_rand() % (uint64_t)(burst + 1));
        for (long k = 0; k < frees && n > 0; k++) {
            long j = (long)(next_rand() % (uint64_t)n);
            do_free(live[j]);
            live[j] = live[--n];
        }
    }
    while (n > 0) do_free(live[--n]);
    return sum;
}

static uint64_t churn(long ops) {
    enum { LIVE = 100000 };
    static void *live[LIVE];
    uint64_t sum = 0;
    for (long i = 0; i < LIVE; i++) live[i] = do_alloc(0, 8 + next_rand() % 505);
    for (long i = 0; i < ops; i++) {
        long j = (long)(next_rand() % LIVE);
        do_free(live[j]);
        char *p = do_alloc(0, 8 + next_rand() % 505);
        p[0] = (char)i;
        sum += (uintptr_t)p[0];
        live[j] = p;
    }
    for (long i = 0; i < LIVE; i++) do_free(live[i]);
    return sum;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: harness <pair16|pair256|pair4k|families|churn> <lmm|malloc> [ops]\n");
        return 2;
    }
    const char *w = argv[1], *who = argv[2];
    long ops = argc > 3 ? atol(argv[3]) : 0;
    if (strcmp(who, "lmm") == 0) {
        int s = lmm_heap_create(NULL, &heap);
        if (s) die("lmm_heap_create", s);
        fam[0] = LMM_BYTES_FAMILY;
        if ((s = lmm_register(heap, "s40", 3, 40, &fam[1])) || (s = lmm_register(heap, "s72", 3, 72, &fam[2])) ||
            (s = lmm_register(heap, "s200", 4, 200, &fam[3])))
            die("lmm_register", s);
        do_alloc = a_lmm;
        do_free = f_lmm;
    } else if (strcmp(who, "malloc") == 0) {
        do_alloc = a_malloc;
        do_free = f_malloc;
    } else {
        fprintf(stderr, "harness: unknown allocator %s\n", who);
        return 2;
    }
    uint64_t sum;
    double t0 = now_ns();
    if (strcmp(w, "pair16") == 0) sum = pair(16, ops ? ops : 20000000);
    else if (strcmp(w, "pair256") == 0) sum = pair(256, ops ? ops : 20000000);
    else if (strcmp(w, "pair4k") == 0) sum = pair(4096, ops ? ops : 10000000);
    else if (strcmp(w, "families") == 0) sum = families(ops ? ops : 10000000);
    else if (strcmp(w, "churn") == 0) sum = churn(ops ? ops : 10000000);
    else {
        fprintf(stderr, "harness: unknown workload %s\n", w);
        return 2;
    }
    double t1 = now_ns();
    if (ops == 0) ops = strcmp(w, "pair16") == 0 || strcmp(w, "pair256") == 0 ? 20000000 : 10000000;
    if (heap) {
        char msg[256];
        int s = lmm_check(heap, msg, sizeof msg);
        if (s) { fprintf(stderr, "harness: check failed: %s\n", msg); return 1; }
        lmm_heap_destroy(heap);
    }
    printf("{\"workload\":\"%s\",\"allocator\":\"%s\",\"ops\":%ld,\"ns_per_op\":%.2f,\"checksum\":%llu}\n", w, who, ops,
           (t1 - t0) / (double)ops, (unsigned long long)sum);
    return 0;
}
