/* Assertions over verification results shared by the evidence tests.
 * Include after testutil.h (cmocka). */
#ifndef CACHET_TESTS_EV_ASSERT_H
#define CACHET_TESTS_EV_ASSERT_H

#include <stdio.h>
#include <string.h>

#include "cachet/evidence.h"

/* How a test runs one verification (all optional). */
typedef struct ev_opts {
    const char *tee;
    const cachet_evidence_ops *ops; /* a family with a test trust store */
    const uint8_t *nonce;
    size_t nonce_len;
    cachet_x509 *const *anchors;
    size_t n_anchors;
    cachet_verify_cache *cache;
} ev_opts;

/* Verify at time t and return the result (asserts the call itself ran). */
static inline cachet_verify_result *ev_verify(const uint8_t *ev, size_t len,
                                              const cachet_endorsements *e, int64_t t,
                                              const ev_opts *o)
{
    ev_opts none = {0};
    if (!o)
        o = &none;
    cachet_verify_request req = {
        .evidence = ev, .evidence_len = len, .tee = o->tee, .endorsements = e, .time = t,
        .nonce = o->nonce, .nonce_len = o->nonce_len, .trust_anchors = o->anchors,
        .n_trust_anchors = o->n_anchors, .cache = o->cache,
    };
    cachet_verify_result *res = NULL;
    cachet_rc rc = o->ops ? cachet_evidence_verify_with(o->ops, &req, &res)
                          : cachet_evidence_verify(&req, &res);
    assert_int_equal(rc, CACHET_OK);
    assert_non_null(res);
    return res;
}

/* Print every check (visible in the TAP log when a test fails). */
static inline void ev_dump(const cachet_verify_result *r)
{
    for (size_t i = 0; i < cachet_checklog_count(r->checks); i++) {
        const cachet_check *c = cachet_checklog_get(r->checks, i);
        print_message("#   %-4s %s: %s%s%s%s%s\n", cachet_check_result_str(c->result), c->id,
                      c->detail ? c->detail : "", c->expected ? " expected=" : "",
                      c->expected ? c->expected : "", c->actual ? " actual=" : "",
                      c->actual ? c->actual : "");
    }
}

/* The check `id` was recorded with `want` (at least once). */
static inline void ev_assert_check_(const cachet_verify_result *r, const char *id,
                                    cachet_check_result want, const char *file, int line)
{
    for (size_t i = 0; i < cachet_checklog_count(r->checks); i++) {
        const cachet_check *c = cachet_checklog_get(r->checks, i);
        if (strcmp(c->id, id) == 0 && c->result == want)
            return;
    }
    ev_dump(r);
    print_error("check %s was not recorded as %s\n", id, cachet_check_result_str(want));
    _fail(file, line);
}
#define ev_assert_check(r, id, want) ev_assert_check_((r), (id), (want), __FILE__, __LINE__)
#define ev_assert_fail(r, id) ev_assert_check((r), (id), CACHET_CHECK_FAIL)
#define ev_assert_pass(r, id) ev_assert_check((r), (id), CACHET_CHECK_PASS)
#define ev_assert_na(r, id) ev_assert_check((r), (id), CACHET_CHECK_NA)

static inline void ev_assert_verdict_(const cachet_verify_result *r, cachet_ev_status status,
                                      bool verified, const char *file, int line)
{
    if (r->status == status && r->verified == verified)
        return;
    ev_dump(r);
    print_error("status %s verified %d, wanted %s verified %d\n",
                cachet_ev_status_str(r->status), r->verified, cachet_ev_status_str(status),
                verified);
    _fail(file, line);
}
#define ev_assert_verdict(r, s, v) ev_assert_verdict_((r), (s), (v), __FILE__, __LINE__)

/* No check failed except (optionally) the ones named (NULL-terminated). */
static inline void ev_assert_only_failures_(const cachet_verify_result *r, const char *const *ids,
                                            const char *file, int line)
{
    for (size_t i = 0; i < cachet_checklog_count(r->checks); i++) {
        const cachet_check *c = cachet_checklog_get(r->checks, i);
        if (c->result != CACHET_CHECK_FAIL)
            continue;
        bool allowed = false;
        for (const char *const *k = ids; k && *k; k++)
            if (strcmp(*k, c->id) == 0)
                allowed = true;
        if (!allowed) {
            ev_dump(r);
            print_error("unexpected failure of %s\n", c->id);
            _fail(file, line);
        }
    }
}
#define ev_assert_only_failures(r, ...)                                                     \
    do {                                                                                    \
        const char *const ids_[] = { __VA_ARGS__, NULL };                                   \
        ev_assert_only_failures_((r), ids_, __FILE__, __LINE__);                            \
    } while (0)
#define ev_assert_no_failures(r) ev_assert_only_failures_((r), NULL, __FILE__, __LINE__)

static inline const char *ev_claim_str(const cachet_verify_result *r, const char *key)
{
    return json_string_value(json_object_get(r->claims, key));
}

#endif
