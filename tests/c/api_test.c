/*
 * tests/c/api_test.c — the C ABI as a C user sees it, through zig/include/lmm.h only.
 *
 * The harness is tests/c/check.h: each check prints nothing when it holds and "file:line: what"
 * when it does not; the program ends with the line "N passed, N failed" (tests, not checks) and
 * exits 1 if anything failed. scripts/test builds it:
 *   cc -std=c11 -Wall -Wextra -Werror -pthread -I zig/include tests/c/api_test.c \
 *      -L zig/zig-out/lib -llmm -Wl,-rpath,zig/zig-out/lib
 *
 * Tests are named by behaviour; every error case also checks that the heap still passes
 * lmm_check() afterwards (bad input never corrupts the heap).
 */
#define _POSIX_C_SOURCE 200809L

#include "check.h"
#include "lmm.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the structures of the seed's demo --------------------------------------------------- */

typedef struct emp {
    char name[32];
    uint32_t emp_id;
} emp_t;

typedef struct student {
    char name[32];
    uint32_t rollno;
    uint32_t marks_phys;
    uint32_t marks_chem;
    uint32_t marks_maths;
    struct student *next;
} student_t;

#define REGISTER(heap, type, out) lmm_register((heap), #type, (uint32_t)strlen(#type), sizeof(type), (out))

static int all_bytes_are(const void *p, size_t n, unsigned char value) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != value) return 0;
    return 1;
}

/* lmm.h: 16-byte aligned, or 8 for a family whose struct size is not a multiple of 16. */
static int aligned_for(const void *p, size_t struct_size) {
    size_t want = struct_size % 16 == 0 ? LMM_ALIGNMENT : LMM_GRANULE;
    return ((uintptr_t)p % want) == 0;
}

/* The invariants every statistics record keeps, whatever the heap did. */
static void check_stats_consistent(const lmm_stats_t *s) {
    CHECK_EQ_U(s->size, sizeof(lmm_stats_t));
    CHECK_EQ_U(s->version, LMM_ABI_VERSION);
    CHECK_EQ_U(s->total_blocks, s->free_blocks + s->occupied_blocks);
    CHECK(s->occupied_bytes >= s->app_bytes);
    CHECK(s->peak_app_bytes >= s->app_bytes);
    CHECK(s->largest_free <= s->free_bytes);
    CHECK(s->soft_frag_blocks <= s->free_blocks);
    CHECK(s->soft_frag_bytes <= s->free_bytes);
    CHECK(s->free_count <= s->alloc_count);
    CHECK(s->pages_returned <= s->pages_taken);
    CHECK(s->hard_frag_bytes <= s->occupied_bytes);
    /* every mapped byte is a header, an occupied block or a free block */
    CHECK_EQ_U(s->bytes_mapped, s->header_bytes + s->occupied_bytes + s->free_bytes);
    if (s->pages == 0) {
        CHECK_EQ_U(s->bytes_mapped, 0);
        CHECK_EQ_U(s->total_blocks, 0);
    } else {
        CHECK(s->bytes_mapped >= s->pages * 4096u);
        CHECK(s->total_blocks >= s->pages);
    }
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_library_basics(void) {
    current_test = "library basics";
    CHECK_EQ_U(lmm_abi_version(), LMM_ABI_VERSION);

    lmm_config_t config;
    memset(&config, 0xFF, sizeof config);
    lmm_config_default(&config);
    CHECK_EQ_U(config.size, sizeof(lmm_config_t));
    CHECK_EQ_U(config.version, LMM_ABI_VERSION);
    CHECK_EQ_U(config.page_size, LMM_DEFAULT_PAGE_SIZE);
    CHECK_EQ_U(config.page_cache, LMM_DEFAULT_PAGE_CACHE);
    CHECK_EQ_U(config.flags, 0);
}

#define NAME_ENTRY(code) {code, #code}
static const struct {
    int code;
    const char *name;
} status_names[] = {
    NAME_ENTRY(LMM_OK),
    NAME_ENTRY(LMM_E_NOMEM),
    NAME_ENTRY(LMM_E_BAD_HANDLE),
    NAME_ENTRY(LMM_E_DESTROYED),
    NAME_ENTRY(LMM_E_UNKNOWN_FAMILY),
    NAME_ENTRY(LMM_E_DUPLICATE_NAME),
    NAME_ENTRY(LMM_E_NAME_TOO_LONG),
    NAME_ENTRY(LMM_E_BAD_NAME),
    NAME_ENTRY(LMM_E_ZERO_SIZE),
    NAME_ENTRY(LMM_E_OVERFLOW),
    NAME_ENTRY(LMM_E_BAD_SIZE),
    NAME_ENTRY(LMM_E_NOT_OWNED),
    NAME_ENTRY(LMM_E_INTERIOR),
    NAME_ENTRY(LMM_E_DOUBLE_FREE),
    NAME_ENTRY(LMM_E_CORRUPTED),
    NAME_ENTRY(LMM_E_BAD_CONFIG),
    NAME_ENTRY(LMM_E_BUFFER_TOO_SMALL),
    NAME_ENTRY(LMM_E_INVALID_ARG),
    NAME_ENTRY(LMM_E_BAD_ADDRESS),
    NAME_ENTRY(LMM_E_SITE_LIMIT),
    NAME_ENTRY(LMM_E_POISONED),
    NAME_ENTRY(LMM_E_SYSCALL),
};

static void test_status_names_and_messages(void) {
    current_test = "status names and messages";
    size_t n = sizeof status_names / sizeof status_names[0];
    CHECK_EQ_U(n, LMM_STATUS_COUNT);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ_U(status_names[i].code, i); /* the codes are dense, 0..COUNT-1 */
        const char *got = lmm_status_name(status_names[i].code);
        if (got && strcmp(got, status_names[i].name) == 0) {
            passed++;
        } else {
            char m[160];
            snprintf(m, sizeof m, "lmm_status_name(%d) is \"%s\", want \"%s\"", status_names[i].code,
                     got ? got : "(null)", status_names[i].name);
            report_failure(__FILE__, __LINE__, m);
        }
        const char *message = lmm_status_message(status_names[i].code);
        CHECK(message != NULL && message[0] != '\0');
    }
    const char *past = lmm_status_name(LMM_STATUS_COUNT);
    CHECK(past != NULL && strcmp(past, "LMM_E_UNKNOWN") == 0);
    past = lmm_status_name(1000);
    CHECK(past != NULL && strcmp(past, "LMM_E_UNKNOWN") == 0);
    past = lmm_status_name(-1);
    CHECK(past != NULL && strcmp(past, "LMM_E_UNKNOWN") == 0);
    const char *message = lmm_status_message(1000);
    CHECK(message != NULL && message[0] != '\0');
}

static void test_heap_create_and_config(void) {
    current_test = "heap create: defaults, 4 KiB pages, bad configs";
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(NULL, &heap));
    CHECK(heap != NULL);
    CHECK_HEAP(heap);
    lmm_stats_t s = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.family, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.families, 1); /* "bytes" */
    CHECK_EQ_U(s.struct_size, 0);
    CHECK_EQ_U(s.pages, 0);
    CHECK_EQ_U(s.app_bytes, 0);
    check_stats_consistent(&s);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);

    lmm_config_t config;
    lmm_config_default(&config);
    config.page_size = 4096;
    heap = NULL;
    REQUIRE_OK(lmm_heap_create(&config, &heap));
    CHECK(heap != NULL);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);

    config.page_size = 1ull << 30; /* 1 GiB: the largest allowed; nothing is mapped yet */
    heap = NULL;
    CHECK_STATUS(lmm_heap_create(&config, &heap), LMM_OK);
    if (heap) CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);

    static const uint64_t bad_sizes[] = {0, 1, 2048, 12345, 4097, 65535, 1ull << 31, UINT64_MAX};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        lmm_config_default(&config);
        config.page_size = bad_sizes[i];
        heap = NULL;
        int status = lmm_heap_create(&config, &heap);
        if (status == LMM_E_BAD_CONFIG) {
            passed++;
        } else {
            char m[160];
            snprintf(m, sizeof m, "page_size %llu gave %s, want LMM_E_BAD_CONFIG",
                     (unsigned long long)bad_sizes[i], status_name(status));
            report_failure(__FILE__, __LINE__, m);
            if (status == LMM_OK && heap) lmm_heap_destroy(heap);
        }
    }

    lmm_config_default(&config);
    config.size = 8; /* a header that does not describe this struct */
    CHECK_STATUS(lmm_heap_create(&config, &heap), LMM_E_BAD_CONFIG);
    lmm_config_default(&config);
    config.version = LMM_ABI_VERSION + 100;
    CHECK_STATUS(lmm_heap_create(&config, &heap), LMM_E_BAD_CONFIG);

    lmm_config_default(&config);
    config.flags = 0x80; /* an unknown flag */
    CHECK_STATUS(lmm_heap_create(&config, &heap), LMM_E_BAD_CONFIG);
    lmm_config_default(&config);
    config.flags = LMM_HEAP_NO_LOCK; /* one thread at a time: no lock taken */
    CHECK_STATUS(lmm_heap_create(&config, &heap), LMM_OK);
    void *p = NULL;
    CHECK_STATUS(lmm_alloc(heap, LMM_BYTES_FAMILY, 100, &p), LMM_OK);
    CHECK_STATUS(lmm_free(heap, p), LMM_OK);
    CHECK_STATUS(lmm_free(heap, p), LMM_E_DOUBLE_FREE);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);

    lmm_config_default(&config);
    CHECK_STATUS(lmm_heap_create(&config, NULL), LMM_E_INVALID_ARG);
    CHECK_STATUS(lmm_heap_create(NULL, NULL), LMM_E_INVALID_ARG);
}

static void test_families(void) {
    current_test = "families: register, find, info, bad names";
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(NULL, &heap));

    uint32_t emp = 99, student = 99, id = 99, count = 0;
    CHECK_STATUS(REGISTER(heap, emp_t, &emp), LMM_OK);
    CHECK_STATUS(REGISTER(heap, student_t, &student), LMM_OK);
    CHECK_EQ_U(emp, 1);
    CHECK_EQ_U(student, 2);
    CHECK_STATUS(lmm_family_count(heap, &count), LMM_OK);
    CHECK_EQ_U(count, 3);

    CHECK_STATUS(lmm_family_find(heap, "emp_t", 5, &id), LMM_OK);
    CHECK_EQ_U(id, emp);
    CHECK_STATUS(lmm_family_find(heap, "bytes", 5, &id), LMM_OK);
    CHECK_EQ_U(id, LMM_BYTES_FAMILY);
    /* names travel with a length: no NUL needed, and a prefix is another name */
    CHECK_STATUS(lmm_family_find(heap, "student_t and more", 9, &id), LMM_OK);
    CHECK_EQ_U(id, student);
    CHECK_STATUS(lmm_family_find(heap, "emp", 3, &id), LMM_E_UNKNOWN_FAMILY);
    CHECK_STATUS(lmm_family_find(heap, "nope", 4, &id), LMM_E_UNKNOWN_FAMILY);

    lmm_family_info_t info;
    memset(&info, 0xFF, sizeof info);
    CHECK_STATUS(lmm_family_info(heap, emp, &info), LMM_OK);
    CHECK_EQ_U(info.id, emp);
    CHECK_EQ_U(info.name_len, 5);
    CHECK_EQ_U(info.struct_size, sizeof(emp_t));
    CHECK(strcmp(info.name, "emp_t") == 0);
    CHECK_STATUS(lmm_family_info(heap, LMM_BYTES_FAMILY, &info), LMM_OK);
    CHECK(strcmp(info.name, "bytes") == 0);
    CHECK_EQ_U(info.struct_size, 1);
    CHECK_STATUS(lmm_family_info(heap, 3, &info), LMM_E_UNKNOWN_FAMILY);
    CHECK_STATUS(lmm_family_info(heap, LMM_ALL_FAMILIES, &info), LMM_E_UNKNOWN_FAMILY);
    CHECK_HEAP(heap);

    /* errors: each leaves the family table as it was */
    char long_name[LMM_NAME_MAX + 2];
    memset(long_name, 'x', sizeof long_name);
    long_name[sizeof long_name - 1] = '\0';
    CHECK_STATUS(REGISTER(heap, emp_t, &id), LMM_E_DUPLICATE_NAME);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_register(heap, "bytes", 5, 8, &id), LMM_E_DUPLICATE_NAME);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_register(heap, long_name, LMM_NAME_MAX + 1, 8, &id), LMM_E_NAME_TOO_LONG);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_register(heap, "", 0, 8, &id), LMM_E_BAD_NAME);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_register(heap, "a\nb", 3, 8, &id), LMM_E_BAD_NAME);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_register(heap, "a\0b", 3, 8, &id), LMM_E_BAD_NAME);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_register(heap, "zero_t", 6, 0, &id), LMM_E_ZERO_SIZE);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_register(heap, "out_t", 5, 8, NULL), LMM_E_INVALID_ARG);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_register(heap, NULL, 4, 8, &id), LMM_E_INVALID_ARG);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_register(NULL, "null_t", 6, 8, &id), LMM_E_BAD_HANDLE);
    CHECK_STATUS(lmm_family_count(heap, NULL), LMM_E_INVALID_ARG);
    CHECK_STATUS(lmm_family_find(heap, "emp_t", 5, NULL), LMM_E_INVALID_ARG);
    CHECK_STATUS(lmm_family_info(heap, emp, NULL), LMM_E_INVALID_ARG);
    CHECK_STATUS(lmm_family_count(heap, &count), LMM_OK);
    CHECK_EQ_U(count, 3);

    /* the longest name is fine, and ids stay dense */
    CHECK_STATUS(lmm_register(heap, long_name, LMM_NAME_MAX, 8, &id), LMM_OK);
    CHECK_EQ_U(id, 3);
    CHECK_STATUS(lmm_family_info(heap, id, &info), LMM_OK);
    CHECK_EQ_U(info.name_len, LMM_NAME_MAX);
    CHECK_EQ_U(strlen(info.name), LMM_NAME_MAX);
    CHECK_HEAP(heap);

    lmm_stats_t s = stats_of(heap, emp);
    CHECK_EQ_U(s.family, emp);
    CHECK_EQ_U(s.struct_size, sizeof(emp_t));
    CHECK_EQ_U(s.families, 4);
    CHECK_EQ_U(s.pages, 0);
    lmm_stats_t dummy;
    CHECK_STATUS(lmm_stats(heap, 77, &dummy), LMM_E_UNKNOWN_FAMILY);
    CHECK_STATUS(lmm_stats(heap, emp, NULL), LMM_E_INVALID_ARG);
    CHECK_STATUS(lmm_stats(NULL, emp, &dummy), LMM_E_BAD_HANDLE);

    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
}

/* An exact heap: the classic worst-fit heap, no front caches or size classes. */
static lmm_heap_t *exact_heap(uint32_t page_size) {
    lmm_config_t config;
    lmm_config_default(&config);
    config.flags = LMM_HEAP_EXACT;
    if (page_size) config.page_size = page_size;
    lmm_heap_t *heap = NULL;
    if (lmm_heap_create(&config, &heap) != LMM_OK) return NULL;
    return heap;
}

static void test_alloc_write_free(void) {
    current_test = "alloc: zeroed, aligned, disjoint; free; stats (exact heap)";
    lmm_heap_t *heap = exact_heap(0);
    CHECK(heap != NULL);
    if (!heap) return;
    uint32_t emp = 0, student = 0;
    REQUIRE_OK(REGISTER(heap, emp_t, &emp));
    REQUIRE_OK(REGISTER(heap, student_t, &student));

    static const uint64_t emp_units[] = {1, 3, 10, 1, 2};
    enum { N_EMP = sizeof emp_units / sizeof emp_units[0] };
    emp_t *emps[N_EMP] = {0};
    uint64_t emp_bytes = 0;
    for (int i = 0; i < N_EMP; i++) {
        void *p = NULL;
        CHECK_STATUS(lmm_alloc(heap, emp, emp_units[i], &p), LMM_OK);
        if (!p) return;
        emps[i] = p;
        emp_bytes += emp_units[i] * sizeof(emp_t);
        CHECK(aligned_for(p, sizeof(emp_t)));
        CHECK((uintptr_t)p % _Alignof(emp_t) == 0);
        CHECK(all_bytes_are(p, emp_units[i] * sizeof(emp_t), 0));
        memset(p, 0x10 + i, emp_units[i] * sizeof(emp_t));
        CHECK_STATUS(lmm_validate(heap, p), LMM_OK);
    }
    student_t *students = NULL;
    CHECK_STATUS(lmm_alloc(heap, student, 4, (void **)&students), LMM_OK);
    if (!students) return;
    CHECK(aligned_for(students, sizeof(student_t)));
    CHECK(all_bytes_are(students, 4 * sizeof(student_t), 0));
    for (int i = 0; i < 4; i++) {
        snprintf(students[i].name, sizeof students[i].name, "student %d", i);
        students[i].rollno = 100u + (uint32_t)i;
        students[i].next = i < 3 ? &students[i + 1] : NULL;
    }
    void *raw = NULL;
    CHECK_STATUS(lmm_alloc(heap, LMM_BYTES_FAMILY, 1000, &raw), LMM_OK);
    if (!raw) return;
    memset(raw, 0x77, 1000);

    /* nothing overlapped: every pattern is intact */
    for (int i = 0; i < N_EMP; i++)
        CHECK(all_bytes_are(emps[i], emp_units[i] * sizeof(emp_t), (unsigned char)(0x10 + i)));
    CHECK(all_bytes_are(raw, 1000, 0x77));
    CHECK(students[3].rollno == 103 && students[0].next == &students[1]);
    CHECK_HEAP(heap);

    lmm_block_info_t bi;
    CHECK_STATUS(lmm_block_info(heap, emps[2], &bi), LMM_OK);
    CHECK_EQ_U(bi.family, emp);
    CHECK_EQ_U(bi.units, 10);
    CHECK_EQ_U(bi.requested, 10 * sizeof(emp_t));
    CHECK(bi.size >= bi.requested);
    CHECK_EQ_U(bi.site, 0);
    CHECK_STATUS(lmm_block_info(heap, raw, &bi), LMM_OK);
    CHECK_EQ_U(bi.family, LMM_BYTES_FAMILY);
    CHECK_EQ_U(bi.units, 1000);
    CHECK_STATUS(lmm_block_info(heap, emps[0], NULL), LMM_E_INVALID_ARG);

    lmm_stats_t s = stats_of(heap, emp);
    CHECK_EQ_U(s.occupied_blocks, N_EMP);
    CHECK_EQ_U(s.alloc_count, N_EMP);
    CHECK_EQ_U(s.free_count, 0);
    CHECK_EQ_U(s.app_bytes, emp_bytes);
    CHECK_EQ_U(s.peak_app_bytes, emp_bytes);
    CHECK(s.pages >= 1);
    check_stats_consistent(&s);

    lmm_stats_t total = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(total.alloc_count, N_EMP + 2);
    CHECK_EQ_U(total.occupied_blocks, N_EMP + 2);
    CHECK_EQ_U(total.app_bytes, emp_bytes + 4 * sizeof(student_t) + 1000);
    CHECK_EQ_U(total.families, 3);
    check_stats_consistent(&total);

    /* heap totals are the sums of the families */
    uint64_t sum_tbc = 0, sum_obc = 0, sum_pages = 0, sum_mapped = 0, sum_app = 0;
    for (uint32_t f = 0; f < 3; f++) {
        lmm_stats_t fs = stats_of(heap, f);
        check_stats_consistent(&fs);
        sum_tbc += fs.total_blocks;
        sum_obc += fs.occupied_blocks;
        sum_pages += fs.pages;
        sum_mapped += fs.bytes_mapped;
        sum_app += fs.app_bytes;
    }
    CHECK_EQ_U(total.total_blocks, sum_tbc);
    CHECK_EQ_U(total.occupied_blocks, sum_obc);
    CHECK_EQ_U(total.pages, sum_pages);
    CHECK_EQ_U(total.bytes_mapped, sum_mapped);
    CHECK_EQ_U(total.app_bytes, sum_app);

    /* free in a mixed order; the others keep their bytes */
    CHECK_STATUS(lmm_free(heap, emps[1]), LMM_OK);
    CHECK_STATUS(lmm_free(heap, emps[3]), LMM_OK);
    CHECK_HEAP(heap);
    CHECK(all_bytes_are(emps[0], sizeof(emp_t), 0x10));
    CHECK(all_bytes_are(emps[2], 10 * sizeof(emp_t), 0x12));
    CHECK(all_bytes_are(emps[4], 2 * sizeof(emp_t), 0x14));
    s = stats_of(heap, emp);
    CHECK_EQ_U(s.occupied_blocks, N_EMP - 2);
    CHECK_EQ_U(s.free_count, 2);
    CHECK_EQ_U(s.app_bytes, emp_bytes - 4 * sizeof(emp_t));
    CHECK_EQ_U(s.peak_app_bytes, emp_bytes);
    check_stats_consistent(&s);

    /* memory handed out again is zeroed again */
    void *again = NULL;
    CHECK_STATUS(lmm_alloc(heap, emp, 3, &again), LMM_OK);
    if (again) CHECK(all_bytes_are(again, 3 * sizeof(emp_t), 0));

    CHECK_STATUS(lmm_free(heap, emps[0]), LMM_OK);
    CHECK_STATUS(lmm_free(heap, emps[2]), LMM_OK);
    CHECK_STATUS(lmm_free(heap, emps[4]), LMM_OK);
    CHECK_STATUS(lmm_free(heap, again), LMM_OK);
    CHECK_STATUS(lmm_free(heap, students), LMM_OK);
    CHECK_STATUS(lmm_free(heap, raw), LMM_OK);
    CHECK_HEAP(heap);
    total = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(total.occupied_blocks, 0);
    CHECK_EQ_U(total.app_bytes, 0);
    /* empty pages are returned, or kept idle (still counted in pages) up to the page cache */
    CHECK_EQ_U(total.pages, total.cached_pages);
    CHECK(total.cached_pages <= LMM_DEFAULT_PAGE_CACHE);
    CHECK_EQ_U(total.alloc_count, total.free_count);
    check_stats_consistent(&total);
    CHECK_STATUS(lmm_heap_trim(heap), LMM_OK);
    total = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(total.cached_pages, 0);
    CHECK_EQ_U(total.cached_bytes, 0);
    CHECK_EQ_U(total.pages_taken, total.pages_returned);

    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
}

static void test_alloc_errors(void) {
    current_test = "alloc errors leave the heap unchanged";
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(NULL, &heap));
    uint32_t emp = 0;
    REQUIRE_OK(REGISTER(heap, emp_t, &emp));
    void *keep = NULL;
    REQUIRE_OK(lmm_alloc(heap, emp, 2, &keep));
    lmm_stats_t before = stats_of(heap, LMM_ALL_FAMILIES);

    void *p = NULL;
    CHECK_STATUS(lmm_alloc(heap, 42, 1, &p), LMM_E_UNKNOWN_FAMILY);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_alloc(heap, LMM_ALL_FAMILIES, 1, &p), LMM_E_UNKNOWN_FAMILY);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_alloc(heap, emp, 0, &p), LMM_E_ZERO_SIZE);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_alloc(heap, emp, UINT64_MAX, &p), LMM_E_OVERFLOW);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_alloc(heap, emp, UINT64_MAX / sizeof(emp_t) + 1, &p), LMM_E_OVERFLOW);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_alloc(heap, LMM_BYTES_FAMILY, LMM_MAX_BYTES + 1, &p), LMM_E_OVERFLOW);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_alloc(heap, emp, 1, NULL), LMM_E_INVALID_ARG);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_alloc(NULL, emp, 1, &p), LMM_E_BAD_HANDLE);
    CHECK_STATUS(lmm_alloc_site(heap, emp, 0, 0, &p), LMM_E_ZERO_SIZE);
    CHECK_HEAP(heap);

    lmm_stats_t after = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(after.alloc_count, before.alloc_count);
    CHECK_EQ_U(after.occupied_blocks, before.occupied_blocks);
    CHECK_EQ_U(after.app_bytes, before.app_bytes);
    CHECK_EQ_U(after.pages, before.pages);
    CHECK_STATUS(lmm_free(heap, keep), LMM_OK);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
}

static void test_free_errors(void) {
    current_test = "free errors: double, interior, not owned";
    lmm_heap_t *heap = NULL, *other = NULL;
    REQUIRE_OK(lmm_heap_create(NULL, &heap));
    REQUIRE_OK(lmm_heap_create(NULL, &other));
    uint32_t emp = 0;
    REQUIRE_OK(REGISTER(heap, emp_t, &emp));

    /* b sits between a and c whichever end of a free block the allocator carves from, so after
     * freeing it, its address is still the start of a (free) block: no coalescing moves it */
    void *a = NULL, *b = NULL, *c = NULL, *d = NULL, *foreign = NULL;
    REQUIRE_OK(lmm_alloc(heap, emp, 1, &a));
    REQUIRE_OK(lmm_alloc(heap, emp, 1, &b));
    REQUIRE_OK(lmm_alloc(heap, emp, 1, &c));
    REQUIRE_OK(lmm_alloc(heap, emp, 1, &d)); /* keeps the page in use to the end */
    REQUIRE_OK(lmm_alloc(other, LMM_BYTES_FAMILY, 64, &foreign));

    CHECK_STATUS(lmm_free(heap, b), LMM_OK);
    CHECK_STATUS(lmm_free(heap, b), LMM_E_DOUBLE_FREE);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_validate(heap, b), LMM_E_DOUBLE_FREE);
    CHECK_STATUS(lmm_block_info(heap, b, &(lmm_block_info_t){0}), LMM_E_DOUBLE_FREE);

    CHECK_STATUS(lmm_free(heap, (char *)a + 16), LMM_E_INTERIOR);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_free(heap, (char *)a + 1), LMM_E_INTERIOR);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_validate(heap, (char *)c + sizeof(emp_t) - 1), LMM_E_INTERIOR);

    int on_stack = 0;
    CHECK_STATUS(lmm_free(heap, &on_stack), LMM_E_NOT_OWNED);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_free(heap, foreign), LMM_E_NOT_OWNED);
    CHECK_HEAP(heap);
    CHECK_HEAP(other);
    CHECK(lmm_validate(heap, NULL) != LMM_OK);
    CHECK_STATUS(lmm_validate(other, foreign), LMM_OK);
    CHECK_STATUS(lmm_free(NULL, a), LMM_E_BAD_HANDLE);

    lmm_stats_t s = stats_of(heap, emp);
    CHECK_EQ_U(s.occupied_blocks, 3);
    CHECK_EQ_U(s.free_count, 1);
    check_stats_consistent(&s);

    CHECK_STATUS(lmm_free(heap, a), LMM_OK);
    CHECK_STATUS(lmm_free(heap, c), LMM_OK);
    /* a and c have coalesced with b: their addresses are no longer starts of blocks, but what
     * they pointed at is free already, and that is what a double free must say */
    CHECK_STATUS(lmm_free(heap, c), LMM_E_DOUBLE_FREE);
    CHECK_STATUS(lmm_free(heap, a), LMM_E_DOUBLE_FREE);
    CHECK_STATUS(lmm_validate(heap, c), LMM_E_DOUBLE_FREE);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_free(heap, d), LMM_OK);
    /* the page is empty now and may have left the heap: either answer is honest */
    CHECK_STATUS_EITHER(lmm_free(heap, d), LMM_E_DOUBLE_FREE, LMM_E_NOT_OWNED);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
    CHECK_STATUS(lmm_heap_destroy(other), LMM_OK); /* with a live block: destroy returns it */
}

static void test_realloc(void) {
    current_test = "realloc: grow keeps bytes and zeroes the rest, shrink, errors";
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(NULL, &heap));
    uint32_t emp = 0;
    REQUIRE_OK(REGISTER(heap, emp_t, &emp));

    emp_t *e = NULL;
    REQUIRE_OK(lmm_alloc(heap, emp, 1, (void **)&e));
    strcpy(e->name, "Abhishek");
    e->emp_id = 1234;
    void *blocker = NULL; /* something after it, so growing may have to move */
    REQUIRE_OK(lmm_alloc(heap, emp, 1, &blocker));

    emp_t *grown = NULL;
    CHECK_STATUS(lmm_realloc(heap, e, 5, (void **)&grown), LMM_OK);
    if (!grown) return;
    CHECK(aligned_for(grown, sizeof(emp_t)));
    CHECK(strcmp(grown[0].name, "Abhishek") == 0 && grown[0].emp_id == 1234);
    CHECK(all_bytes_are(&grown[1], 4 * sizeof(emp_t), 0));
    lmm_block_info_t bi;
    CHECK_STATUS(lmm_block_info(heap, grown, &bi), LMM_OK);
    CHECK_EQ_U(bi.units, 5);
    CHECK_EQ_U(bi.requested, 5 * sizeof(emp_t));
    if (grown != e) CHECK(lmm_validate(heap, e) != LMM_OK);
    CHECK_HEAP(heap);

    memset(&grown[1], 0x5A, 4 * sizeof(emp_t));
    emp_t *shrunk = NULL;
    CHECK_STATUS(lmm_realloc(heap, grown, 2, (void **)&shrunk), LMM_OK);
    if (!shrunk) return;
    CHECK(strcmp(shrunk[0].name, "Abhishek") == 0 && shrunk[0].emp_id == 1234);
    CHECK(all_bytes_are(&shrunk[1], sizeof(emp_t), 0x5A));
    CHECK_STATUS(lmm_block_info(heap, shrunk, &bi), LMM_OK);
    CHECK_EQ_U(bi.units, 2);
    CHECK_HEAP(heap);

    /* growing again zeroes the bytes that come back, not the old 0x5A */
    emp_t *regrown = NULL;
    CHECK_STATUS(lmm_realloc(heap, shrunk, 4, (void **)&regrown), LMM_OK);
    if (!regrown) return;
    CHECK(all_bytes_are(&regrown[1], sizeof(emp_t), 0x5A));
    CHECK(all_bytes_are(&regrown[2], 2 * sizeof(emp_t), 0));

    lmm_stats_t before = stats_of(heap, emp);
    void *out = (void *)&before; /* must not be used on failure, but must not crash either */
    CHECK_STATUS(lmm_realloc(heap, regrown, 0, &out), LMM_E_ZERO_SIZE);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_realloc(heap, regrown, UINT64_MAX, &out), LMM_E_OVERFLOW);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_realloc(heap, regrown, 2, NULL), LMM_E_INVALID_ARG);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_realloc(heap, (char *)regrown + 32, 2, &out), LMM_E_INTERIOR);
    CHECK_HEAP(heap);
    CHECK(strcmp(regrown[0].name, "Abhishek") == 0); /* a failed realloc keeps the block */
    CHECK_STATUS(lmm_validate(heap, regrown), LMM_OK);
    lmm_stats_t after = stats_of(heap, emp);
    CHECK_EQ_U(after.realloc_count, before.realloc_count);
    CHECK_EQ_U(after.app_bytes, before.app_bytes);
    CHECK_EQ_U(before.realloc_count, 3);

    CHECK_STATUS(lmm_free(heap, blocker), LMM_OK);
    CHECK_STATUS(lmm_realloc(heap, blocker, 2, &out), LMM_E_DOUBLE_FREE);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_free(heap, regrown), LMM_OK);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
}

static void test_f64_functions(void) {
    current_test = "f64 functions: addresses and counts as doubles, failures as -status";
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(NULL, &heap));
    uint32_t emp = 0;
    REQUIRE_OK(REGISTER(heap, emp_t, &emp));

    void *keeper = NULL; /* keeps the family's page in use while blocks come and go */
    REQUIRE_OK(lmm_alloc(heap, emp, 1, &keeper));
    double addr = lmm_alloc_f64(heap, emp, 2.0, 0);
    CHECK(addr > 0);
    if (!(addr > 0)) return;
    CHECK(addr == floor(addr) && addr < 9007199254740992.0);
    void *p = (void *)(uintptr_t)addr;
    CHECK(aligned_for(p, sizeof(emp_t)));
    CHECK(all_bytes_are(p, 2 * sizeof(emp_t), 0));
    CHECK_STATUS(lmm_validate(heap, p), LMM_OK);
    CHECK_EQ_U(lmm_validate_f64(heap, addr), LMM_OK);
    CHECK(lmm_size_f64(heap, addr) >= 2.0 * sizeof(emp_t));
    lmm_block_info_t bi;
    CHECK_STATUS(lmm_block_info(heap, p, &bi), LMM_OK);
    CHECK(lmm_size_f64(heap, addr) == (double)bi.requested); /* lmm.h: "bytes asked for" */
    CHECK(bi.size >= bi.requested);
    CHECK_EQ_U(lmm_family_of_f64(heap, addr), emp);

    static const double bad_units[] = {NAN, -1.0, 1.5, INFINITY, -INFINITY, -0.5};
    for (size_t i = 0; i < sizeof bad_units / sizeof bad_units[0]; i++) {
        CHECK_NEG(lmm_alloc_f64(heap, emp, bad_units[i], 0), LMM_E_BAD_SIZE);
        CHECK_NEG(lmm_realloc_f64(heap, addr, bad_units[i]), LMM_E_BAD_SIZE);
    }
    CHECK_HEAP(heap);
    CHECK_NEG(lmm_alloc_f64(heap, emp, 0.0, 0), LMM_E_ZERO_SIZE);
    CHECK_NEG(lmm_alloc_f64(heap, 99, 1.0, 0), LMM_E_UNKNOWN_FAMILY);
    CHECK_NEG(lmm_alloc_f64(heap, emp, 1e300, 0), LMM_E_OVERFLOW);
    CHECK_NEG(lmm_alloc_f64(NULL, emp, 1.0, 0), LMM_E_BAD_HANDLE);
    CHECK_HEAP(heap);

    static const double bad_addrs[] = {NAN, -1.0, 1.5, INFINITY, 9007199254740992.0 /* 2^53 */};
    for (size_t i = 0; i < sizeof bad_addrs / sizeof bad_addrs[0]; i++) {
        double a = bad_addrs[i];
        CHECK_NEG(lmm_free_f64(heap, a), LMM_E_BAD_ADDRESS);
        CHECK_NEG(lmm_realloc_f64(heap, a, 1.0), LMM_E_BAD_ADDRESS);
        CHECK_NEG(lmm_validate_f64(heap, a), LMM_E_BAD_ADDRESS);
        CHECK_NEG(lmm_size_f64(heap, a), LMM_E_BAD_ADDRESS);
        CHECK_NEG(lmm_family_of_f64(heap, a), LMM_E_BAD_ADDRESS);
    }
    CHECK_HEAP(heap);
    CHECK_NEG(lmm_free_f64(heap, addr + 16), LMM_E_INTERIOR);
    CHECK_HEAP(heap);

    double moved = lmm_realloc_f64(heap, addr, 8.0);
    CHECK(moved > 0);
    if (moved > 0) {
        CHECK(lmm_size_f64(heap, moved) >= 8.0 * sizeof(emp_t));
        addr = moved;
    }
    CHECK_EQ_U(lmm_free_f64(heap, addr), LMM_OK);
    CHECK_NEG(lmm_free_f64(heap, addr), LMM_E_DOUBLE_FREE);
    CHECK_NEG(lmm_validate_f64(heap, addr), LMM_E_DOUBLE_FREE);
    CHECK_NEG(lmm_size_f64(heap, addr), LMM_E_DOUBLE_FREE);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_free(heap, keeper), LMM_OK);

    lmm_stats_t s = stats_of(heap, emp);
    CHECK_EQ_U(s.occupied_blocks, 0);
    CHECK_EQ_U(s.app_bytes, 0);
    check_stats_consistent(&s);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
}

static void test_sites(void) {
    current_test = "allocation sites";
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(NULL, &heap));
    uint32_t site = 0, len = 0;
    const char *text = "api_test.c:42";
    CHECK_STATUS(lmm_site_register(heap, text, (uint32_t)strlen(text), &site), LMM_OK);
    CHECK(site != 0);
    char buf[64];
    CHECK_STATUS(lmm_site_text(heap, site, buf, sizeof buf, &len), LMM_OK);
    CHECK_EQ_U(len, strlen(text));
    CHECK(len < sizeof buf && memcmp(buf, text, len) == 0);
    CHECK_STATUS(lmm_site_text(heap, site, buf, 4, &len), LMM_E_BUFFER_TOO_SMALL);
    CHECK_EQ_U(len, strlen(text));
    CHECK_STATUS(lmm_site_register(heap, text, (uint32_t)strlen(text), NULL), LMM_E_INVALID_ARG);

    void *p = NULL;
    CHECK_STATUS(lmm_alloc_site(heap, LMM_BYTES_FAMILY, 100, site, &p), LMM_OK);
    lmm_block_info_t bi;
    CHECK_STATUS(lmm_block_info(heap, p, &bi), LMM_OK);
    CHECK_EQ_U(bi.site, site);
    double q = lmm_alloc_f64(heap, LMM_BYTES_FAMILY, 10.0, site);
    CHECK(q > 0);
    CHECK_STATUS(lmm_block_info(heap, (void *)(uintptr_t)q, &bi), LMM_OK);
    CHECK_EQ_U(bi.site, site);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
}

static void test_introspection_buffers(void) {
    current_test = "lmm_blocks and lmm_pages: listings and too-small buffers";
    lmm_config_t config;
    lmm_config_default(&config);
    config.page_size = 4096;
    config.page_cache = 0;
    config.flags = LMM_HEAP_EXACT; /* every freed block merges at once, as the test expects */
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(&config, &heap));
    uint32_t emp = 0, student = 0;
    REQUIRE_OK(REGISTER(heap, emp_t, &emp));
    REQUIRE_OK(REGISTER(heap, student_t, &student));

    enum { N = 300 };
    emp_t *e[N];
    for (int i = 0; i < N; i++) {
        REQUIRE_OK(lmm_alloc(heap, emp, 1, (void **)&e[i]));
        e[i]->emp_id = (uint32_t)i;
        snprintf(e[i]->name, sizeof e[i]->name, "emp %d", i);
    }
    void *s1 = NULL, *big = NULL;
    REQUIRE_OK(lmm_alloc(heap, student, 3, &s1));
    REQUIRE_OK(lmm_alloc(heap, LMM_BYTES_FAMILY, 100000, &big)); /* larger than one 4 KiB page */
    memset(big, 0xEE, 100000);
    for (int i = 0; i < N; i += 3) CHECK_STATUS(lmm_free(heap, e[i]), LMM_OK);
    CHECK_HEAP(heap);
    int intact = 1;
    for (int i = 0; i < N; i++)
        if (i % 3 != 0 && (e[i]->emp_id != (uint32_t)i)) intact = 0;
    CHECK(intact);
    CHECK(all_bytes_are(big, 100000, 0xEE));

    lmm_stats_t total = stats_of(heap, LMM_ALL_FAMILIES);
    lmm_stats_t es = stats_of(heap, emp);
    check_stats_consistent(&total);
    check_stats_consistent(&es);
    CHECK(es.pages > 1); /* 300 emp_t do not fit one 4 KiB page */
    CHECK_EQ_U(es.occupied_blocks, N - N / 3);

    /* blocks: the count is written even when the buffer is too small */
    lmm_block_record_t one[1];
    uint64_t count = 0;
    CHECK_STATUS(lmm_blocks(heap, LMM_ALL_FAMILIES, 0, one, 1, &count), LMM_E_BUFFER_TOO_SMALL);
    CHECK_EQ_U(count, total.total_blocks);
    count = 0;
    CHECK_STATUS(lmm_blocks(heap, LMM_ALL_FAMILIES, 0, one, 0, &count), LMM_E_BUFFER_TOO_SMALL);
    CHECK_EQ_U(count, total.total_blocks);
    CHECK_STATUS(lmm_blocks(heap, LMM_ALL_FAMILIES, 0, one, 1, NULL), LMM_E_INVALID_ARG);
    CHECK_STATUS(lmm_blocks(heap, 9, 0, one, 1, &count), LMM_E_UNKNOWN_FAMILY);
    CHECK_HEAP(heap);

    uint64_t cap = total.total_blocks;
    lmm_block_record_t *recs = calloc(cap ? cap : 1, sizeof *recs);
    if (!recs) return;
    CHECK_STATUS(lmm_blocks(heap, LMM_ALL_FAMILIES, 0, recs, cap, &count), LMM_OK);
    CHECK_EQ_U(count, cap);
    uint64_t occupied = 0, free_blocks = 0, app = 0;
    int ordered = 1, aligned = 1, sane = 1;
    for (uint64_t i = 0; i < count && i < cap; i++) {
        if (recs[i].flags & LMM_BLOCK_FREE) {
            free_blocks++;
            if (recs[i].requested != 0) sane = 0;
        } else {
            occupied++;
            app += recs[i].requested;
            if (recs[i].size < recs[i].requested) sane = 0;
            if (lmm_validate(heap, (void *)(uintptr_t)recs[i].addr) != LMM_OK) sane = 0;
        }
        if (recs[i].addr % (recs[i].family == LMM_BYTES_FAMILY ? LMM_ALIGNMENT : LMM_GRANULE) != 0) aligned = 0;
        if (recs[i].addr < recs[i].page) sane = 0;
        if (i > 0 && recs[i].page == recs[i - 1].page && recs[i].addr <= recs[i - 1].addr)
            ordered = 0;
    }
    CHECK_EQ_U(occupied, total.occupied_blocks);
    CHECK_EQ_U(free_blocks, total.free_blocks);
    CHECK_EQ_U(app, total.app_bytes);
    CHECK(ordered);
    CHECK(aligned);
    CHECK(sane);

    CHECK_STATUS(lmm_blocks(heap, emp, LMM_WALK_LIVE_ONLY, recs, cap, &count), LMM_OK);
    CHECK_EQ_U(count, es.occupied_blocks);
    int only_emp_live = 1;
    for (uint64_t i = 0; i < count && i < cap; i++)
        if (recs[i].family != emp || (recs[i].flags & LMM_BLOCK_FREE)) only_emp_live = 0;
    CHECK(only_emp_live);
    free(recs);

    /* pages */
    lmm_page_info_t page1[1];
    count = 0;
    CHECK_STATUS(lmm_pages(heap, emp, page1, 1, &count), LMM_E_BUFFER_TOO_SMALL);
    CHECK_EQ_U(count, es.pages);
    CHECK_STATUS(lmm_pages(heap, emp, page1, 1, NULL), LMM_E_INVALID_ARG);
    lmm_page_info_t *pages = calloc(total.pages ? total.pages : 1, sizeof *pages);
    if (!pages) return;
    CHECK_STATUS(lmm_pages(heap, LMM_ALL_FAMILIES, pages, total.pages, &count), LMM_OK);
    CHECK_EQ_U(count, total.pages);
    uint64_t sum_blocks = 0, sum_free = 0, sum_size = 0;
    int page_ok = 1;
    for (uint64_t i = 0; i < count && i < total.pages; i++) {
        sum_blocks += pages[i].blocks;
        sum_free += pages[i].free_blocks;
        sum_size += pages[i].size;
        if (pages[i].base % 4096 != 0 || pages[i].size < 4096 || pages[i].size % 4096 != 0) page_ok = 0;
        if (pages[i].largest_free > pages[i].free_bytes) page_ok = 0;
        if (pages[i].family == emp && pages[i].size != 4096) page_ok = 0;
    }
    CHECK(page_ok);
    CHECK_EQ_U(sum_blocks, total.total_blocks);
    CHECK_EQ_U(sum_free, total.free_blocks);
    CHECK_EQ_U(sum_size, total.bytes_mapped);
    free(pages);

    /* free everything: with page_cache = 0 every page goes back to the kernel at once */
    for (int i = 0; i < N; i++)
        if (i % 3 != 0) CHECK_STATUS(lmm_free(heap, e[i]), LMM_OK);
    CHECK_STATUS(lmm_free(heap, s1), LMM_OK);
    CHECK_STATUS(lmm_free(heap, big), LMM_OK);
    CHECK_HEAP(heap);
    total = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(total.pages, 0);
    CHECK_EQ_U(total.cached_pages, 0);
    CHECK_EQ_U(total.bytes_mapped, 0);
    CHECK_EQ_U(total.pages_taken, total.pages_returned);
    CHECK_EQ_U(total.total_blocks, 0);
    CHECK_STATUS(lmm_blocks(heap, LMM_ALL_FAMILIES, 0, one, 0, &count), LMM_OK);
    CHECK_EQ_U(count, 0);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
}

static void test_front_tier(void) {
    current_test = "front tier: freed blocks reused at once, counted free, flushed; size classes";
    lmm_heap_t *heap = NULL;
    /* the engine's own front caches: without thread caches, which lend blocks of a locked heap */
    lmm_config_t config;
    lmm_config_default(&config);
    config.flags = LMM_HEAP_NO_THREAD_CACHE;
    REQUIRE_OK(lmm_heap_create(&config, &heap));
    uint32_t emp = 0;
    REQUIRE_OK(REGISTER(heap, emp_t, &emp));
    void *a = NULL, *b = NULL, *keep = NULL;
    REQUIRE_OK(lmm_alloc(heap, emp, 1, &a));
    REQUIRE_OK(lmm_alloc(heap, emp, 1, &keep));
    memset(a, 0x5A, sizeof(emp_t));
    REQUIRE_OK(lmm_free(heap, a));
    CHECK_STATUS(lmm_free(heap, a), LMM_E_DOUBLE_FREE);
    lmm_stats_t s = stats_of(heap, emp);
    CHECK_EQ_U(s.occupied_blocks, 1);
    CHECK_EQ_U(s.app_bytes, sizeof(emp_t));
    CHECK_HEAP(heap);
    /* listed as free, and as cached */
    lmm_block_record_t recs[8];
    uint64_t count = 0;
    REQUIRE_OK(lmm_blocks(heap, emp, 0, recs, 8, &count));
    int cached = 0;
    for (uint64_t i = 0; i < count; i++)
        if (recs[i].addr == (uintptr_t)a) cached = recs[i].flags == (LMM_BLOCK_FREE | LMM_BLOCK_CACHED);
    CHECK(cached);
    REQUIRE_OK(lmm_alloc(heap, emp, 1, &b));
    CHECK(b == a);                                    /* the newest cached block */
    CHECK(all_bytes_are(b, sizeof(emp_t), 0));       /* zeroed again */
    REQUIRE_OK(lmm_free(heap, b));
    REQUIRE_OK(lmm_free(heap, keep));
    CHECK_STATUS(lmm_front_flush(heap), LMM_OK);
    REQUIRE_OK(lmm_heap_trim(heap));
    s = stats_of(heap, LMM_ALL_FAMILIES);
    CHECK_EQ_U(s.pages, 0);
    CHECK_HEAP(heap);
    /* untyped requests of up to LMM_MAX_CLASS bytes go to a size class */
    void *u = NULL;
    REQUIRE_OK(lmm_alloc(heap, LMM_BYTES_FAMILY, 33, &u));
    lmm_block_info_t bi;
    REQUIRE_OK(lmm_block_info(heap, u, &bi));
    CHECK(bi.family != LMM_BYTES_FAMILY);
    CHECK_EQ_U(bi.size, 48);
    CHECK_EQ_U(bi.requested, 33);
    lmm_family_info_t fi;
    REQUIRE_OK(lmm_family_info(heap, bi.family, &fi));
    CHECK(strcmp(fi.name, "bytes/48") == 0);
    CHECK_EQ_U(fi.class_size, 48);
    REQUIRE_OK(lmm_free(heap, u));
    CHECK_HEAP(heap);
    /* the caller-cache calls refuse bad input and change nothing */
    double addrs[4];
    CHECK_EQ_U(lmm_front_refill_f64(heap, LMM_BYTES_FAMILY, addrs, 4) == -LMM_E_INVALID_ARG, 1);
    CHECK_EQ_U(lmm_front_refill_f64(heap, 99, addrs, 4) == -LMM_E_UNKNOWN_FAMILY, 1);
    CHECK_EQ_U(lmm_front_refill_f64(heap, emp, NULL, 4) == -LMM_E_INVALID_ARG, 1);
    int32_t n = lmm_front_refill_f64(heap, emp, addrs, 4);
    CHECK_EQ_U(n, 4);
    double bogus = addrs[0] + 8;
    CHECK_STATUS(lmm_front_return_f64(heap, emp, &bogus, 1), LMM_E_INVALID_ARG);
    lmm_front_delta_t d = {.family = emp, .frees = 1, .net_size = -(int64_t)sizeof(emp_t)};
    CHECK_STATUS(lmm_front_settle(heap, &d, 1), LMM_E_INVALID_ARG); /* nothing was handed out */
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_front_return_f64(heap, emp, addrs, 4), LMM_OK);
    CHECK_HEAP(heap);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
}

static void test_destroyed_heap(void) {
    current_test = "a destroyed heap answers LMM_E_DESTROYED";
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(NULL, &heap));
    uint32_t emp = 0, count = 0;
    REQUIRE_OK(REGISTER(heap, emp_t, &emp));
    void *p = NULL;
    REQUIRE_OK(lmm_alloc(heap, emp, 1, &p));
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);

    lmm_stats_t s;
    char msg[64];
    uint64_t n = 0;
    lmm_block_record_t rec[1];
    CHECK_STATUS(lmm_alloc(heap, emp, 1, &p), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_free(heap, p), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_realloc(heap, p, 2, &p), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_validate(heap, p), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_register(heap, "late_t", 6, 8, &emp), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_family_count(heap, &count), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_stats(heap, LMM_ALL_FAMILIES, &s), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_blocks(heap, LMM_ALL_FAMILIES, 0, rec, 1, &n), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_check(heap, msg, sizeof msg), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_heap_trim(heap), LMM_E_DESTROYED);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_E_DESTROYED);
    CHECK_NEG(lmm_alloc_f64(heap, emp, 1.0, 0), LMM_E_DESTROYED);
    CHECK_NEG(lmm_free_f64(heap, (double)(uintptr_t)p), LMM_E_DESTROYED);

    CHECK_STATUS(lmm_heap_destroy(NULL), LMM_E_BAD_HANDLE);
    CHECK_STATUS(lmm_check(NULL, NULL, 0), LMM_E_BAD_HANDLE);
    CHECK_STATUS(lmm_heap_trim(NULL), LMM_E_BAD_HANDLE);
}

/* ---- threads: the heap's lock ------------------------------------------------------------ */

enum { THREADS = 4, ROUNDS = 3000, LIVE = 32 };

struct worker {
    lmm_heap_t *heap;
    uint32_t family;
    unsigned seed;
    unsigned errors;
};

static void *worker_main(void *arg) {
    struct worker *w = arg;
    void *live[LIVE] = {0};
    unsigned char tag[LIVE] = {0};
    uint64_t units[LIVE] = {0};
    unsigned x = w->seed;
    for (int r = 0; r < ROUNDS; r++) {
        x = x * 1103515245u + 12345u;
        int slot = (int)((x >> 16) % LIVE);
        if (live[slot]) {
            if (!all_bytes_are(live[slot], units[slot] * sizeof(emp_t), tag[slot])) w->errors++;
            if (lmm_free(w->heap, live[slot]) != LMM_OK) w->errors++;
            live[slot] = NULL;
        } else {
            units[slot] = 1 + (x >> 8) % 7;
            if (lmm_alloc(w->heap, w->family, units[slot], &live[slot]) != LMM_OK) {
                w->errors++;
                live[slot] = NULL;
                continue;
            }
            tag[slot] = (unsigned char)(x >> 24) | 1u;
            memset(live[slot], tag[slot], units[slot] * sizeof(emp_t));
        }
    }
    for (int i = 0; i < LIVE; i++)
        if (live[i] && lmm_free(w->heap, live[i]) != LMM_OK) w->errors++;
    return NULL;
}

static void test_threads_share_a_heap(void) {
    current_test = "threads share a heap";
    lmm_heap_t *heap = NULL;
    REQUIRE_OK(lmm_heap_create(NULL, &heap));
    uint32_t emp = 0;
    REQUIRE_OK(REGISTER(heap, emp_t, &emp));
    struct worker workers[THREADS];
    pthread_t tids[THREADS];
    int started = 0;
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (struct worker){heap, emp, 7u + 31u * (unsigned)i, 0};
        if (pthread_create(&tids[i], NULL, worker_main, &workers[i]) == 0) started++;
        else break;
    }
    CHECK_EQ_U(started, THREADS);
    unsigned errors = 0;
    for (int i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
        errors += workers[i].errors;
    }
    CHECK_EQ_U(errors, 0);
    CHECK_HEAP(heap);
    lmm_stats_t s = stats_of(heap, emp);
    CHECK_EQ_U(s.occupied_blocks, 0);
    CHECK_EQ_U(s.app_bytes, 0);
    CHECK_EQ_U(s.alloc_count, s.free_count);
    check_stats_consistent(&s);
    CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
}

/* The address space this process has mapped: the sum of /proc/self/maps, which is VmSize
 * natively and, under qemu-user (tests/aarch64_test.ts), the guest's own mappings — where
 * /proc/self/status would report qemu's, translation buffers included. */
static long vm_size_kib(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long start, end, bytes = 0;
    int at_line_start = 1; /* a long path may take several reads: parse only line starts */
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        if (at_line_start && sscanf(line, "%lx-%lx", &start, &end) == 2) bytes += end - start;
        at_line_start = strchr(line, '\n') != NULL;
    }
    fclose(f);
    return (long)(bytes / 1024);
}

static void test_release_leaves_nothing_behind(void) {
    current_test = "lmm_heap_release returns everything; lmm_heap_destroy keeps a 4 KiB tombstone";
    lmm_heap_t *heap = NULL;
    /* Thousands of heaps with a small first arena: the reservation is address space only, but
     * qemu-user (tests/aarch64_test.ts) tracks every page a guest reserves, 4 GiB by default. */
    lmm_config_t small;
    lmm_config_default(&small);
    small.reserve = 1u << 20;
    long before = vm_size_kib();
    for (int i = 0; i < 10; i++) { /* the default 4 GiB arena goes back too */
        CHECK_STATUS(lmm_heap_create(NULL, &heap), LMM_OK);
        CHECK_STATUS(lmm_heap_release(heap), LMM_OK);
    }
    CHECK(vm_size_kib() - before < 1024);
    before = vm_size_kib();
    for (int i = 0; i < 5000; i++) {
        uint32_t id, site;
        void *p = NULL;
        CHECK_STATUS(lmm_heap_create(&small, &heap), LMM_OK);
        CHECK_STATUS(lmm_register(heap, "emp_t", 5, 36, &id), LMM_OK);
        CHECK_STATUS(lmm_site_register(heap, "a.c:1", 5, &site), LMM_OK);
        CHECK_STATUS(lmm_alloc_site(heap, id, 3, site, &p), LMM_OK);
        CHECK_STATUS(lmm_heap_release(heap), LMM_OK); /* with a live block: released too */
    }
    long grown = vm_size_kib() - before;
    CHECK(grown >= 0 && grown < 1024); /* 5000 leaked heaps would be >= 20 MiB */
    before = vm_size_kib();
    for (int i = 0; i < 1000; i++) {
        CHECK_STATUS(lmm_heap_create(&small, &heap), LMM_OK);
        CHECK_STATUS(lmm_heap_destroy(heap), LMM_OK);
    }
    CHECK_EQ_U(vm_size_kib() - before, 1000 * 4); /* the tombstones, and nothing else */
    CHECK_STATUS(lmm_heap_release(NULL), LMM_E_BAD_HANDLE);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    run(test_library_basics);
    run(test_status_names_and_messages);
    run(test_heap_create_and_config);
    run(test_families);
    run(test_alloc_write_free);
    run(test_alloc_errors);
    run(test_free_errors);
    run(test_realloc);
    run(test_f64_functions);
    run(test_sites);
    run(test_introspection_buffers);
    run(test_front_tier);
    run(test_destroyed_heap);
    run(test_threads_share_a_heap);
    run(test_release_leaves_nothing_behind);
    return summary();
}
