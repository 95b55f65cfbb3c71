/* Composite CPU+GPU evidence through the broker: sample CPU evidence whose
 * runtime data carries {"nvidia": {"device_evidence_list": [...]}} as
 * additional evidence, a synthetic GPU report (tests/evidence/nvgpu_gen)
 * whose SPDM nonce is the device digest, RIMs as the broker's endorsements.
 * Released when both verify; refused when the GPU nonce is not the
 * device digest or the GPU evidence is altered after binding. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/encoding.h"
#include "cachet/runtime_data.h"
#include "cachet/secmem.h"
#include "cachet/token.h"
#include "kbs_fixture.h"
#include "nvgpu_gen.h"
#include "testutil.h"

#define DRIVER "550.144.03"
#define VBIOS "96.00.9F.00.01"

typedef struct gpu_fix {
    kbs_fix f;
    nvgen_pki *pki;
    nvgen_report base;
    bool drv_active[64], vb_active[64];
    cachet_kbs *kbs;
    char url[64];
} gpu_fix;

static void write_rim(gpu_fix *g, const char *dir, bool driver)
{
    nvgen_rim o = {0};
    o.version = driver ? DRIVER : VBIOS;
    o.values = (const uint8_t(*)[48])g->base.values;
    o.n = 64;
    o.active = driver ? g->drv_active : g->vb_active;
    size_t len;
    char *x = nvgen_rim_build(g->pki, &o, &len);
    assert_non_null(x);
    char *p = tu_asprintf("%s/%s", dir, driver ? "driver.xml" : "vbios.xml");
    tu_write_file(p, x, len);
    free(p);
    free(x);
}

static int setup(void **state)
{
    gpu_fix *g = calloc(1, sizeof *g);
    *state = g;
    kbs_fix_setup(&g->f, false);
    g->pki = nvgen_pki_new(kbs_fix_now, false);
    assert_non_null(g->pki);
    nvgen_report_defaults(&g->base);
    for (size_t i = 0; i < 64; i++) {
        g->drv_active[i] = i < 20;
        g->vb_active[i] = i >= 20 && i <= 35;
    }
    char *edir = tu_asprintf("%s/endorse", g->f.dir);
    assert_int_equal(tu_system("mkdir -p %s", edir), 0);
    write_rim(g, edir, true);
    write_rim(g, edir, false);
    cachet_pkey *keys[1] = {g->f.trust};
    cachet_kbs_config cfg = {.listen = "127.0.0.1:0", .http = true, .db_path = g->f.db,
                             .kek = g->f.kek, .trust_keys = keys, .n_trust_keys = 1,
                             .endorsements_dir = edir, .nvidia_ops = &g->pki->ops};
    cachet_rc rc = cachet_kbs_start(&cfg, &g->kbs);
    if (rc != CACHET_OK)
        print_message("# %s\n", cachet_err_detail());
    assert_int_equal(rc, CACHET_OK);
    snprintf(g->url, sizeof g->url, "http://127.0.0.1:%u", cachet_kbs_port(g->kbs));
    free(edir);
    return 0;
}

static int teardown(void **state)
{
    gpu_fix *g = *state;
    cachet_kbs_stop(g->kbs);
    nvgen_pki_free(g->pki);
    kbs_fix_teardown(&g->f);
    free(g);
    return 0;
}

/* {"nvidia":{"device_evidence_list":[{"arch","evidence","certificate"}]}} for a
 * report made with nonce. */
static char *additional(gpu_fix *g, const uint8_t nonce[32], bool flip)
{
    nvgen_report o = g->base;
    memcpy(o.nonce, nonce, 32);
    size_t len;
    uint8_t *rep = nvgen_report_build(g->pki, &o, &len);
    assert_non_null(rep);
    if (flip)
        rep[len - 1] ^= 1;
    char *chain = nvgen_chain_pem(g->pki, true);
    char *ev = cachet_base64_string(rep, len);
    char *ce = cachet_base64_string((const uint8_t *)chain, strlen(chain));
    json_t *j = json_pack("{s:{s:[{s:s,s:s,s:s}]}}", "nvidia", "device_evidence_list", "arch",
                          "HOPPER", "evidence", ev, "certificate", ce);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    free(rep);
    free(chain);
    free(ev);
    free(ce);
    return s;
}

/* auth, then a composite attestation; returns the HTTP status of /attest. */
static long composite(gpu_fix *g, cachet_kbs_client *c, const cachet_pkey *k, bool wrong_nonce,
                      bool flip, char **resp)
{
    char *nonce = NULL;
    assert_int_equal(cachet_kbs_client_auth(c, "sample", &nonce), CACHET_OK);
    json_t *rd;
    cachet_runtime_data_params p = {.nonce = nonce, .tee_pubkey = k};
    assert_int_equal(cachet_runtime_data_build(&p, &rd), CACHET_OK);
    uint8_t dev[CACHET_SHA384_LEN];
    assert_int_equal(cachet_runtime_data_device_digest(rd, dev), CACHET_OK);
    json_decref(rd);
    if (wrong_nonce)
        dev[0] ^= 1;
    char *add = additional(g, dev, flip);
    p.additional_evidence = add;
    assert_int_equal(cachet_runtime_data_build(&p, &rd), CACHET_OK);
    uint8_t report[CACHET_REPORT_DATA_LEN];
    assert_int_equal(cachet_runtime_data_report_data(rd, report), CACHET_OK);
    char *text;
    size_t tl;
    assert_int_equal(cachet_jcs_dump(rd, &text, &tl), CACHET_OK);
    uint8_t *ev;
    size_t evl;
    assert_int_equal(cachet_attester_collect_bound(g->f.attester, report, text, tl, &ev, &evl),
                     CACHET_OK);
    json_object_del(rd, "additional-evidence");
    char *b64 = cachet_base64_string(ev, evl);
    json_t *j = json_pack("{s:n,s:o,s:{s:{s:s},s:s}}", "init-data", "runtime-data", rd,
                          "tee-evidence", "primary_evidence", "evidence", b64,
                          "additional_evidence", add);
    char *body = json_dumps(j, JSON_COMPACT);
    long st = 0;
    assert_int_equal(cachet_kbs_client_request(c, "POST", "/kbs/v0/attest", body, strlen(body),
                                               NULL, &st, resp, NULL),
                     CACHET_OK);
    json_decref(j);
    free(body);
    free(b64);
    free(ev);
    free(text);
    free(add);
    free(nonce);
    return st;
}

static void test_composite_release(void **state)
{
    gpu_fix *g = *state;
    cachet_kbs_client *c;
    assert_int_equal(cachet_kbs_client_new(g->url, NULL, &c), CACHET_OK);
    cachet_pkey *k;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k), CACHET_OK);
    char *resp = NULL;
    long st = composite(g, c, k, false, false, &resp);
    if (st != 200)
        print_message("# %ld %s\n", st, resp ? resp : "");
    assert_int_equal(st, 200);
    /* the token names both components */
    json_t *j = json_loads(resp, 0, NULL);
    const char *tok = json_string_value(json_object_get(j, "token"));
    assert_non_null(tok);
    const char *dot = strchr(tok, '.');
    const char *dot2 = strchr(dot + 1, '.');
    uint8_t *claims;
    size_t cl;
    assert_int_equal(cachet_base64url_decode(dot + 1, (size_t)(dot2 - dot - 1), &claims, &cl),
                     CACHET_OK);
    assert_non_null(memmem(claims, cl, "\"gpu0\"", 6));
    free(claims);
    json_decref(j);
    free(resp);
    long rst;
    assert_int_equal(cachet_kbs_client_request(c, "GET", "/kbs/v0/resource/default/model-key/llama",
                                               NULL, 0, NULL, &rst, &resp, NULL),
                     CACHET_OK);
    assert_int_equal(rst, 200);
    uint8_t *pt;
    size_t ptl;
    assert_int_equal(cachet_jwe_decrypt(k, resp, strlen(resp), &pt, &ptl), CACHET_OK);
    assert_int_equal(ptl, 32);
    cachet_secure_free(pt);
    free(resp);
    cachet_pkey_free(k);
    cachet_kbs_client_free(c);
}

static void test_composite_refusals(void **state)
{
    gpu_fix *g = *state;
    cachet_kbs_client *c;
    assert_int_equal(cachet_kbs_client_new(g->url, NULL, &c), CACHET_OK);
    cachet_pkey *k;
    assert_int_equal(cachet_pkey_generate_ec(CACHET_CURVE_P256, &k), CACHET_OK);
    char *resp = NULL;
    /* the GPU answered another nonce than the device digest */
    assert_int_equal(composite(g, c, k, true, false, &resp), 401);
    assert_non_null(strstr(resp, "GPU evidence"));
    free(resp);
    /* a GPU report altered (signature broken) */
    assert_int_equal(composite(g, c, k, false, true, &resp), 401);
    assert_non_null(strstr(resp, "AttestationError"));
    free(resp);
    cachet_pkey_free(k);
    cachet_kbs_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_composite_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_composite_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
