/* Sample evidence for tests (sample_fixture.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "cachet/runtime_data.h"
#include "evidence/sample/sample.h"
#include "sample_fixture.h"

const uint8_t sfx_default_nonce[32] = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

static cachet_pkey *fixture_key;

const cachet_pkey *sfx_key(void)
{
    if (!fixture_key)
        assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &fixture_key), CACHET_OK);
    return fixture_key;
}

uint8_t *sfx_evidence(const sfx_opts *o, size_t *len)
{
    static const sfx_opts defaults = {0};
    if (!o)
        o = &defaults;
    const uint8_t *nonce = o->nonce ? o->nonce : sfx_default_nonce;
    size_t nonce_len = o->nonce ? o->nonce_len : sizeof sfx_default_nonce;
    sample_report r;
    memset(&r, 0, sizeof r);
    r.svn = o->svn;
    r.flags = o->debug ? SAMPLE_FLAG_DEBUG : 0;
    r.timestamp = 1767225600;
    memset(r.measurement, o->measurement_byte ? o->measurement_byte : SFX_MEASUREMENT_BYTE,
           sizeof r.measurement);
    char *jcs = NULL;
    size_t jcs_len = 0;
    if (o->no_runtime) {
        assert_true(nonce_len <= sizeof r.report_data);
        memcpy(r.report_data, nonce, nonce_len);
    } else {
        cachet_pkey *wk = NULL;
        if (o->with_pubkey)
            assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &wk), CACHET_OK);
        char *text = cachet_runtime_data_nonce_text(nonce, nonce_len);
        cachet_runtime_data_params p = {.nonce = text, .tee_pubkey = wk};
        json_t *rd = NULL;
        assert_int_equal(cachet_runtime_data_build(&p, &rd), CACHET_OK);
        assert_int_equal(cachet_runtime_data_report_data(rd, r.report_data), CACHET_OK);
        assert_int_equal(cachet_jcs_dump(rd, &jcs, &jcs_len), CACHET_OK);
        json_decref(rd);
        free(text);
        cachet_pkey_free(wk);
        r.runtime_data = (const uint8_t *)jcs;
        r.runtime_data_len = (uint32_t)jcs_len;
    }
    uint8_t *ev = NULL;
    assert_int_equal(sample_build(&r, sfx_key(), &ev, len), CACHET_OK);
    free(jcs);
    return ev;
}

cachet_verify_result *sfx_verify(const uint8_t *ev, size_t len, const uint8_t *nonce,
                                 size_t nonce_len, const cachet_pkey *key)
{
    cachet_pkey *keys[1] = {(cachet_pkey *)key};
    cachet_verify_request req = {
        .evidence = ev,
        .evidence_len = len,
        .time = 1767225600,
        .nonce = nonce,
        .nonce_len = nonce_len,
        .trust_keys = key ? keys : NULL,
        .n_trust_keys = key ? 1 : 0,
    };
    cachet_verify_result *res = NULL;
    assert_int_equal(cachet_evidence_verify(&req, &res), CACHET_OK);
    assert_non_null(res);
    assert_string_equal(res->tee, "sample");
    return res;
}

cachet_verify_result *sfx_result(const sfx_opts *o, bool check_nonce)
{
    size_t len = 0;
    uint8_t *ev = sfx_evidence(o, &len);
    const uint8_t *nonce = o && o->nonce ? o->nonce : sfx_default_nonce;
    size_t nonce_len = o && o->nonce ? o->nonce_len : sizeof sfx_default_nonce;
    cachet_verify_result *r =
        sfx_verify(ev, len, check_nonce ? nonce : NULL, check_nonce ? nonce_len : 0, sfx_key());
    free(ev);
    return r;
}

cachet_policy *sfx_policy(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    assert_true(vasprintf(&text, fmt, ap) >= 0);
    va_end(ap);
    cachet_policy *p = NULL;
    cachet_rc rc = cachet_policy_parse(text, strlen(text), &p);
    if (rc != CACHET_OK)
        print_message("# policy rejected: %s\n# %s\n", cachet_err_detail(), text);
    free(text);
    assert_int_equal(rc, CACHET_OK);
    return p;
}

bool sfx_admits(const cachet_policy *p, const cachet_verify_result *r, cachet_appraisal **out)
{
    cachet_appraisal_input in = {.primary = r};
    cachet_appraisal *a = NULL;
    assert_int_equal(cachet_policy_appraise(p, &in, &a), CACHET_OK);
    bool ok = cachet_appraisal_admitted(a);
    if (out)
        *out = a;
    else
        cachet_appraisal_free(a);
    return ok;
}

const char *sfx_condition(const cachet_appraisal *a, const char *rule, const char *id)
{
    const json_t *rules = json_object_get(cachet_appraisal_json(a), "rules");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        const json_t *r = json_array_get(rules, i);
        if (strcmp(json_string_value(json_object_get(r, "name")), rule) != 0)
            continue;
        const json_t *conds = json_object_get(r, "conditions");
        for (size_t k = 0; k < json_array_size(conds); k++) {
            const json_t *c = json_array_get(conds, k);
            if (strcmp(json_string_value(json_object_get(c, "id")), id) == 0)
                return json_string_value(json_object_get(c, "result"));
        }
    }
    return NULL;
}
