/*
 * tests/c/check.h — the smallest test harness that does the job, shared by the C tests.
 *
 * Each check prints nothing when it holds and "file:line: [test] what" when it does not. A test
 * is a function run by run(); it passes when none of its checks failed. summary() prints
 * "(N checks passed, N failed)" and then the line scripts/test counts, "N passed, N failed"
 * (tests, not checks), and returns the exit status.
 */
#ifndef LMM_TESTS_CHECK_H
#define LMM_TESTS_CHECK_H

#include "lmm.h"

#include <stdio.h>
#include <string.h>

static unsigned passed, failed;
static const char *current_test = "";

static inline void report_failure(const char *file, int line, const char *what) {
    failed++;
    printf("%s:%d: [%s] %s\n", file, line, current_test, what);
    fflush(stdout);
}

/* CHECK(cond): a boolean expectation. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            passed++;                                                                              \
        else                                                                                       \
            report_failure(__FILE__, __LINE__, "CHECK(" #cond ") is false");                       \
    } while (0)

/* CHECK_EQ_U(a, b): two unsigned integers, both values printed on failure. */
#define CHECK_EQ_U(a, b)                                                                           \
    do {                                                                                           \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);             \
        if (a_ == b_) {                                                                            \
            passed++;                                                                              \
        } else {                                                                                   \
            char m_[256];                                                                          \
            snprintf(m_, sizeof m_, "%s == %s: %llu != %llu", #a, #b, a_, b_);                     \
            report_failure(__FILE__, __LINE__, m_);                                                \
        }                                                                                          \
    } while (0)

/* CHECK_STATUS(call, want): a call returning an lmm status. */
#define CHECK_STATUS(call, want)                                                                   \
    do {                                                                                           \
        int got_ = (call), want_ = (want);                                                         \
        if (got_ == want_) {                                                                       \
            passed++;                                                                              \
        } else {                                                                                   \
            char m_[512];                                                                          \
            snprintf(m_, sizeof m_, "%s gave %s (%d), want %s (%d)", #call,                        \
                     status_name(got_), got_, status_name(want_), want_);                          \
            report_failure(__FILE__, __LINE__, m_);                                                \
        }                                                                                          \
    } while (0)

/* CHECK_STATUS_EITHER(call, a, b): where the header allows two answers. */
#define CHECK_STATUS_EITHER(call, a, b)                                                            \
    do {                                                                                           \
        int got_ = (call);                                                                         \
        if (got_ == (a) || got_ == (b)) {                                                          \
            passed++;                                                                              \
        } else {                                                                                   \
            char m_[512];                                                                          \
            snprintf(m_, sizeof m_, "%s gave %s (%d), want %s or %s", #call, status_name(got_),    \
                     got_, status_name(a), status_name(b));                                        \
            report_failure(__FILE__, __LINE__, m_);                                                \
        }                                                                                          \
    } while (0)

/* CHECK_NEG(call, status): an *_f64 call that must fail with -status. */
#define CHECK_NEG(call, status)                                                                    \
    do {                                                                                           \
        double got_ = (double)(call), want_ = -(double)(status);                                   \
        if (got_ == want_) {                                                                       \
            passed++;                                                                              \
        } else {                                                                                   \
            char m_[512];                                                                          \
            snprintf(m_, sizeof m_, "%s gave %.17g, want -%s (%.0f)", #call, got_,                 \
                     status_name(status), want_);                                                  \
            report_failure(__FILE__, __LINE__, m_);                                                \
        }                                                                                          \
    } while (0)

/* CHECK_HEAP(heap): lmm_check() passes; its reason is printed when it does not. */
#define CHECK_HEAP(heap)                                                                           \
    do {                                                                                           \
        char why_[256] = "";                                                                       \
        int got_ = lmm_check((heap), why_, sizeof why_);                                           \
        if (got_ == LMM_OK) {                                                                      \
            passed++;                                                                              \
        } else {                                                                                   \
            char m_[512];                                                                          \
            snprintf(m_, sizeof m_, "lmm_check gave %s: %s", status_name(got_), why_);             \
            report_failure(__FILE__, __LINE__, m_);                                                \
        }                                                                                          \
    } while (0)

/* Fatal precondition: the rest of the test cannot run without it. */
#define REQUIRE_OK(call)                                                                           \
    do {                                                                                           \
        int got_ = (call);                                                                         \
        if (got_ != LMM_OK) {                                                                      \
            char m_[512];                                                                          \
            snprintf(m_, sizeof m_, "%s gave %s (%d); test stops here", #call, status_name(got_),  \
                     got_);                                                                        \
            report_failure(__FILE__, __LINE__, m_);                                                \
            return;                                                                                \
        }                                                                                          \
        passed++;                                                                                  \
    } while (0)

static inline const char *status_name(int status) {
    const char *name = lmm_status_name(status);
    return name ? name : "(null)";
}

/* A heap's statistics for `family` (LMM_ALL_FAMILIES: the totals); a status other than LMM_OK is a
 * failed check (and zeroed figures). */
static inline lmm_stats_t stats_of_at(lmm_heap_t *heap, uint32_t family, const char *file, int line) {
    lmm_stats_t s;
    memset(&s, 0xAB, sizeof s);
    s.size = sizeof s;
    s.version = LMM_ABI_VERSION;
    int status = lmm_stats(heap, family, &s);
    if (status == LMM_OK) {
        passed++;
    } else {
        char m[128];
        snprintf(m, sizeof m, "lmm_stats(family %u) gave %s", family, status_name(status));
        report_failure(file, line, m);
        memset(&s, 0, sizeof s);
    }
    return s;
}
#define stats_of(heap, family) stats_of_at((heap), (family), __FILE__, __LINE__)

/* Runs one test function; the test passes when none of its checks failed. The summary counts
 * tests (not individual checks), like the other runners. */
static unsigned tests_passed, tests_failed;
static inline void run(void (*test)(void)) {
    unsigned before = failed;
    test();
    if (failed == before) tests_passed++;
    else tests_failed++;
}

static inline int summary(void) {
    printf("(%u checks passed, %u failed)\n", passed, failed);
    printf("%u passed, %u failed\n", tests_passed, tests_failed);
    return tests_failed ? 1 : 0;
}

#endif
