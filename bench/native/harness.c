/*
 * Native comparison harness: the same workloads against LMM's C ABI and
 * against whatever malloc the process has (glibc, or jemalloc / mimalloc /
 * tcmalloc through LD_PRELOAD). Prints one JSON object per run on stdout.
 *
 *   harness <workload> <allocator> [--ops N] [--live N] [--bytes N]
 *           [--threads N] [--cross P] [--page-size N] [--page-cache N]
 *           [--exact] [--no-thread-cache] [--no-check]
 *
 *   workload   pair | pair16 | pair256 | pair4k | pair64k | pair1m | families | churn
 *              | threads | cpu
 *   allocator  lmm     LMM's C ABI (lmm_alloc / lmm_free on one heap)
 *              malloc  the process's malloc/free (calloc for families)
 *              calloc  the process's calloc/free (pairs: zeroed like LMM)
 *              none    no allocator (only with cpu)
 *
 * pair      alloc(--bytes) then free at once, --ops times (the fast-path floor).
 *           pair16 … pair1m are pair with --bytes 16, 256, 4096, 65536, 1048576.
 * families  three structures (40, 72, 200 B) allocated zeroed in bursts of
 *           1–32 (calloc / LMM families), a random number of random live blocks
 *           freed after each burst; --ops allocations in all, live set capped
 *           at --live (default 20000), the rest freed at the end. ns_per_op is
 *           per alloc+free pair.
 * churn     --live blocks (default 100000) of 8–512 B, then --ops times: free a
 *           random live block, allocate 8–512 B in its place. ns_per_op is per
 *           free+alloc pair; setup and teardown are timed apart.
 * threads   --threads N (default 2) threads share the allocator (one LMM
 *           heap). Each keeps 64 live blocks of 16–512 B and --ops times
 *           frees one and allocates another in its place; --cross P percent
 *           (default 25) of the blocks it lets go are swapped through a
 *           shared mailbox, so that another thread frees them (frees across
 *           threads; 0: none, each thread keeps to its own blocks). ns_per_op
 *           is wall time divided by every thread's pairs: total throughput.
 * cpu       --threads N threads each draw --ops random numbers and allocate
 *           nothing: the control of threads, how much faster N threads go
 *           than one on this machine at all. ns_per_op is wall time divided
 *           by every thread's draws.
 *
 * LMM's heap configuration comes from --page-size / --page-cache (and
 * --no-thread-cache: every call takes the heap's lock; --exact: the classic
 * worst-fit heap, LMM_HEAP_EXACT, without front caches, size classes or
 * idle pages), else the environment (LMM_PAGE_SIZE, LMM_PAGE_CACHE), else
 * the library defaults.
 * The harness's own arrays are mmap'd, never from the allocator under test.
 * The random stream is the same for every allocator (fixed seed), so every
 * allocator sees the same sequence of requests.
 *
 * Output fields: workload, allocator, malloc_lib (the shared object that
 * provides malloc: shows that LD_PRELOAD took), bytes, live, ops, ns_per_op
 * (timed loop only), setup_ms, teardown_ms, maxrss_kb (peak RSS: VmHWM,
 * sampled before the final check), minflt, threads, cross, checksum; for
 * LMM also page_size, page_cache, thread_cache, exact and (families, churn)
 * its heap totals at the peak live set: "lmm":{pages, bytes_mapped,
 * free_blocks, free_bytes, largest_free, pages_taken, pages_returned}.
 *
 * Not a test: nothing is asserted on time. The checksum keeps the work live.
 * Exit status: 0 ok, 1 LMM's check failed, 2 usage or allocation failure.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

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

/* Memory for the harness's own arrays: straight from the kernel. */
static void *harness_array(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "harness: mmap of %zu bytes failed\n", bytes);
        exit(2);
    }
    return p;
}

/* The allocator under test, behind two function pointers. */
static lmm_heap_t *heap;
static uint32_t fam[4]; /* bytes, s40, s72, s200 */
static const size_t struct_size[4] = {1, 40, 72, 200};

static void *a_lmm(uint32_t family, size_t units) {
    void *p;
    int s = lmm_alloc(heap, fam[family], units, &p);
    if (s) die("lmm_alloc", s);
    return p;
}
static void f_lmm(void *p) {
    int s = lmm_free(heap, p);
    if (s) die("lmm_free", s);
}
static void *a_malloc(uint32_t family, size_t units) {
    void *p = family == 0 ? malloc(units) : calloc(units, struct_size[family]);
    if (!p) {
        fprintf(stderr, "harness: out of memory\n");
        exit(2);
    }
    return p;
}
static void *a_calloc(uint32_t family, size_t units) {
    void *p = calloc(units, struct_size[family]);
    if (!p) {
        fprintf(stderr, "harness: out of memory\n");
        exit(2);
    }
    return p;
}
static void f_malloc(void *p) { free(p); }

static void *(*do_alloc)(uint32_t, size_t);
static void (*do_free)(void *);

/* What one workload reports besides its loop time. */
struct run {
    double loop_ns, setup_ns, teardown_ns;
    long pairs; /* alloc+free pairs in the timed loop */
    uint64_t sum;
};

/*
 * Peak RSS of this program: VmHWM from /proc/self/status, read with plain
 * system calls (no stdio buffer from the allocator under test). Not
 * getrusage's ru_maxrss: Linux carries that across execve, so a child of a
 * big process (the Deno runner) would report its parent's peak.
 */
static void sample_rss(long *maxrss_kb, long *minflt) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *minflt = ru.ru_minflt;
    *maxrss_kb = -1;
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY);
    if (fd < 0) return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return;
    buf[n] = 0;
    const char *hwm = strstr(buf, "VmHWM:");
    if (hwm) *maxrss_kb = strtol(hwm + 6, NULL, 10);
}

/* The state at the workload's peak (largest live set): LMM's heap totals. */
static lmm_stats_t peak_stats;
static int have_peak_stats;

static void sample_peak(void) {
    if (!heap) return;
    peak_stats.size = sizeof peak_stats;
    peak_stats.version = LMM_ABI_VERSION;
    have_peak_stats = lmm_stats(heap, LMM_ALL_FAMILIES, &peak_stats) == LMM_OK;
}

static struct run pair(size_t size, long ops) {
    struct run r = {0};
    double t0 = now_ns();
    for (long i = 0; i < ops; i++) {
        char *p = do_alloc(0, size);
        p[0] = (char)i;
        r.sum += (uintptr_t)p[0];
        do_free(p);
    }
    r.loop_ns = now_ns() - t0;
    r.pairs = ops;
    return r;
}

static struct run families(long ops, long cap) {
    struct run r = {0};
    void **live = harness_array((size_t)cap * sizeof(void *));
    long n = 0, done = 0;
    double t0 = now_ns();
    while (done < ops) {
        long burst = 1 + (long)(next_rand() % 32);
        uint32_t f = 1 + (uint32_t)(next_rand() % 3);
        for (long k = 0; k < burst && done < ops; k++, done++) {
            if (n == cap) { /* free a random one to make room */
                long j = (long)(next_rand() % (uint64_t)n);
                do_free(live[j]);
                live[j] = live[--n];
            }
            char *p = do_alloc(f, 1);
            r.sum += (uintptr_t)p[struct_size[f] - 1]; /* zeroed: adds 0, keeps the read */
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
    double t1 = now_ns();
    sample_peak(); /* untimed */
    double t2 = now_ns();
    while (n > 0) do_free(live[--n]);
    r.loop_ns = now_ns() - t0 - (t2 - t1); /* every block is freed: ops pairs */
    r.pairs = ops;
    munmap(live, (size_t)cap * sizeof(void *));
    return r;
}


static struct run churn(long ops, long count) {
    struct run r = {0};
    void **live = harness_array((size_t)count * sizeof(void *));
    double t0 = now_ns();
    for (long i = 0; i < count; i++) {
        char *p = do_alloc(0, 8 + next_rand() % 505);
        p[0] = (char)i;
        live[i] = p;
    }
    double t1 = now_ns();
    for (long i = 0; i < ops; i++) {
        long j = (long)(next_rand() % (uint64_t)count);
        do_free(live[j]);
        char *p = do_alloc(0, 8 + next_rand() % 505);
        p[0] = (char)i;
        r.sum += (uintptr_t)p[0];
        live[j] = p;
    }
    double t2 = now_ns();
    sample_peak(); /* the live set is at its peak here, before teardown */
    for (long i = 0; i < count; i++) do_free(live[i]);
    double t3 = now_ns();
    r.setup_ns = t1 - t0;
    r.loop_ns = t2 - t1;
    r.teardown_ns = t3 - t2;
    r.pairs = ops;
    munmap(live, (size_t)count * sizeof(void *));
    return r;
}

/*
 * threads: one thread's loop (its own random stream; the mailbox is shared).
 * A thread keeps its stream and sum in locals and its struct on cache lines
 * of its own: written through a pointer every iteration (the allocator is
 * called through a pointer, so the compiler must store them), neighbouring
 * structs on one cache line made every allocator's threads contend for it.
 */
#define MAILBOX 1024
static _Atomic(void *) mailbox[MAILBOX];
struct worker { _Alignas(128) long ops; uint64_t rng, sum; unsigned cross; };

static inline uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static void *worker_run(void *arg) {
    struct worker *w = arg;
    uint64_t rng = w->rng, sum = 0;
    const long ops = w->ops;
    const unsigned cross = w->cross;
    void *live[64];
    for (int i = 0; i < 64; i++) live[i] = do_alloc(0, 16 + xorshift(&rng) % 497);
    for (long i = 0; i < ops; i++) {
        uint64_t x = xorshift(&rng);
        int j = (int)(x % 64);
        if ((x >> 8) % 100 < cross) {
            void *got = atomic_exchange(&mailbox[(x >> 16) % MAILBOX], live[j]);
            if (got) do_free(got);
        } else {
            do_free(live[j]);
        }
        char *p = do_alloc(0, 16 + (x >> 32) % 497);
        p[0] = (char)i;
        sum += (uintptr_t)p[0];
        live[j] = p;
    }
    for (int i = 0; i < 64; i++) do_free(live[i]);
    w->rng = rng, w->sum = sum;
    return NULL;
}

/* cpu: the same random stream as a worker, with no allocator behind it. */
static void *spin_run(void *arg) {
    struct worker *w = arg;
    uint64_t rng = w->rng, sum = 0;
    for (long i = 0; i < w->ops; i++) sum += xorshift(&rng) >> 56;
    w->rng = rng, w->sum = sum;
    return NULL;
}

static struct run threads(long ops, int n, unsigned cross, int spin) {
    struct run r = {0};
    pthread_t t[64];
    struct worker w[64];
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        w[i] = (struct worker){.ops = ops, .rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1), .sum = 0, .cross = cross};
        if (pthread_create(&t[i], NULL, spin ? spin_run : worker_run, &w[i])) {
            fprintf(stderr, "harness: pthread_create failed\n");
            exit(2);
        }
    }
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    double t1 = now_ns();
    for (int i = 0; i < MAILBOX; i++) {
        void *p = atomic_exchange(&mailbox[i], NULL);
        if (p) do_free(p);
    }
    for (int i = 0; i < n; i++) r.sum += w[i].sum;
    r.loop_ns = t1 - t0;
    r.pairs = ops * n;
    return r;
}

static long arg_long(const char *flag, const char *value) {
    char *end;
    long v = strtol(value ? value : "", &end, 0);
    if (!value || *end || v < 0) {
        fprintf(stderr, "harness: %s wants a non-negative integer, got '%s'\n", flag, value ? value : "");
        exit(2);
    }
    return v;
}

static long env_long(const char *name, long fallback) {
    const char *v = getenv(name);
    return v && *v ? arg_long(name, v) : fallback;
}

static const char *malloc_lib(void) {
    Dl_info info;
    void *(*m)(size_t) = malloc;
    if (dladdr((void *)m, &info) && info.dli_fname) {
        const char *slash = strrchr(info.dli_fname, '/');
        return slash ? slash + 1 : info.dli_fname;
    }
    return "unknown";
}

static void usage(void) {
    fprintf(stderr, "usage: harness <pair|pair16|pair256|pair4k|pair64k|pair1m|families|churn|threads|cpu> "
                    "<lmm|malloc|calloc|none> [--ops N] [--live N] [--bytes N] [--threads N] [--cross P] [--page-size N] "
                    "[--page-cache N] [--exact] [--no-thread-cache] [--no-check]\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 3) usage();
    const char *w = argv[1], *who = argv[2];
    long ops = -1, live = -1, bytes = -1;
    long page_size = env_long("LMM_PAGE_SIZE", 0), page_cache = env_long("LMM_PAGE_CACHE", -1);
    int check = 1, nthreads = 2, thread_cache = 1, exact = 0;
    long cross = 25;
    for (int i = 3; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--ops") == 0) ops = arg_long(a, v), i++;
        else if (strcmp(a, "--live") == 0) live = arg_long(a, v), i++;
        else if (strcmp(a, "--bytes") == 0) bytes = arg_long(a, v), i++;
        else if (strcmp(a, "--page-size") == 0) page_size = arg_long(a, v), i++;
        else if (strcmp(a, "--page-cache") == 0) page_cache = arg_long(a, v), i++;
        else if (strcmp(a, "--threads") == 0) nthreads = (int)arg_long(a, v), i++;
        else if (strcmp(a, "--cross") == 0) cross = arg_long(a, v), i++;
        else if (strcmp(a, "--no-thread-cache") == 0) thread_cache = 0;
        else if (strcmp(a, "--exact") == 0) exact = 1;
        else if (strcmp(a, "--no-check") == 0) check = 0;
        else if (a[0] != '-' && ops < 0) ops = arg_long("ops", a); /* old form: harness w a OPS */
        else usage();
    }

    static const struct { const char *name; long bytes; } pairs[] = {
        {"pair16", 16}, {"pair256", 256}, {"pair4k", 4096}, {"pair64k", 65536}, {"pair1m", 1048576},
    };
    const char *kind = w;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (strcmp(w, pairs[i].name) == 0) kind = "pair", bytes = bytes < 0 ? pairs[i].bytes : bytes;
    if (strcmp(kind, "pair") == 0) {
        if (bytes <= 0) bytes = 16;
        if (ops < 0) ops = bytes >= 65536 ? 1000000 : 10000000;
        live = 0;
    } else if (strcmp(kind, "families") == 0) {
        if (ops < 0) ops = 10000000;
        if (live <= 0) live = 20000;
        bytes = 0;
    } else if (strcmp(kind, "threads") == 0 || strcmp(kind, "cpu") == 0) {
        if (ops < 0) ops = 2000000;
        if (nthreads < 1 || nthreads > 64) {
            fprintf(stderr, "harness: --threads wants 1 to 64\n");
            exit(2);
        }
        live = strcmp(kind, "cpu") == 0 ? 0 : 64L * nthreads;
        bytes = 0;
    } else if (strcmp(kind, "churn") == 0) {
        if (ops < 0) ops = 10000000;
        if (live <= 0) live = 100000;
        bytes = 0;
    } else {
        fprintf(stderr, "harness: unknown workload %s\n", w);
        usage();
    }
    if (ops == 0) ops = 1;

    if (strcmp(who, "lmm") == 0) {
        lmm_config_t config;
        lmm_config_default(&config);
        if (page_size > 0) config.page_size = (uint64_t)page_size;
        if (page_cache >= 0) config.page_cache = (uint32_t)page_cache;
        if (!thread_cache) config.flags |= LMM_HEAP_NO_THREAD_CACHE;
        if (exact) config.flags |= LMM_HEAP_EXACT;
        int s = lmm_heap_create(&config, &heap);
        if (s) die("lmm_heap_create", s);
        fam[0] = LMM_BYTES_FAMILY;
        if ((s = lmm_register(heap, "s40", 3, 40, &fam[1])) || (s = lmm_register(heap, "s72", 3, 72, &fam[2])) ||
            (s = lmm_register(heap, "s200", 4, 200, &fam[3])))
            die("lmm_register", s);
        do_alloc = a_lmm;
        do_free = f_lmm;
        page_size = (long)config.page_size;
        page_cache = (long)config.page_cache;
    } else if (strcmp(who, "none") == 0 && strcmp(kind, "cpu") == 0) {
        page_size = 0;
        page_cache = 0;
    } else if (strcmp(who, "malloc") == 0 || strcmp(who, "calloc") == 0) {
        do_alloc = who[0] == 'm' ? a_malloc : a_calloc;
        do_free = f_malloc;
        page_size = 0;
        page_cache = 0;
    } else {
        fprintf(stderr, "harness: unknown allocator %s (none: only with cpu)\n", who);
        usage();
    }

    struct run r;
    long maxrss_kb, minflt;
    if (strcmp(kind, "pair") == 0) {
        r = pair((size_t)bytes, ops);
        sample_rss(&maxrss_kb, &minflt);
    } else if (strcmp(kind, "families") == 0) {
        r = families(ops, live);
        sample_rss(&maxrss_kb, &minflt);
    } else if (strcmp(kind, "threads") == 0 || strcmp(kind, "cpu") == 0) {
        if (cross > 100) {
            fprintf(stderr, "harness: --cross wants a percentage, 0 to 100\n");
            exit(2);
        }
        int spin = strcmp(kind, "cpu") == 0;
        r = threads(ops, nthreads, spin ? 0 : (unsigned)cross, spin);
        sample_rss(&maxrss_kb, &minflt);
    } else {
        r = churn(ops, live);
        sample_rss(&maxrss_kb, &minflt); /* VmHWM: the peak, whenever it was */
    }

    int status = 0;
    if (heap) {
        char msg[256];
        int s = check ? lmm_check(heap, msg, sizeof msg) : 0;
        if (s) {
            fprintf(stderr, "harness: check failed: %s\n", msg);
            status = 1;
        }
        lmm_heap_destroy(heap);
    }
    printf("{\"workload\":\"%s\",\"allocator\":\"%s\",\"malloc_lib\":\"%s\",\"bytes\":%ld,\"live\":%ld,"
           "\"ops\":%ld,\"ns_per_op\":%.2f,\"setup_ms\":%.3f,\"teardown_ms\":%.3f,\"maxrss_kb\":%ld,"
           "\"minflt\":%ld,\"threads\":%d,\"cross\":%ld,\"checksum\":%llu",
           w, who, malloc_lib(), bytes, live, r.pairs, r.loop_ns / (double)r.pairs, r.setup_ns / 1e6,
           r.teardown_ns / 1e6, maxrss_kb, minflt, strcmp(w, "threads") == 0 || strcmp(w, "cpu") == 0 ? nthreads : 1,
           strcmp(w, "threads") == 0 ? cross : 0L, (unsigned long long)r.sum);
    if (strcmp(who, "lmm") == 0) {
        printf(",\"page_size\":%ld,\"page_cache\":%ld,\"thread_cache\":%s,\"exact\":%s", page_size,
               page_cache, thread_cache ? "true" : "false", exact ? "true" : "false");
        if (have_peak_stats) {
            const lmm_stats_t *st = &peak_stats;
            printf(",\"lmm\":{\"pages\":%llu,\"bytes_mapped\":%llu,\"free_blocks\":%llu,\"free_bytes\":%llu,"
                   "\"largest_free\":%llu,\"pages_taken\":%llu,\"pages_returned\":%llu}",
                   (unsigned long long)st->pages, (unsigned long long)st->bytes_mapped,
                   (unsigned long long)st->free_blocks, (unsigned long long)st->free_bytes,
                   (unsigned long long)st->largest_free, (unsigned long long)st->pages_taken,
                   (unsigned long long)st->pages_returned);
        }
    }
    printf("}\n");
    return status;
}
