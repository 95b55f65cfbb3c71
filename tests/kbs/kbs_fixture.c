#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cachet/fileio.h"
#include "kbs_fixture.h"
#include "testutil.h"

int64_t kbs_fix_now;

static int64_t fix_clock(const cachet_clock *c)
{
    (void)c;
    return kbs_fix_now;
}
static cachet_clock clk = {.now = fix_clock};

void kbs_fix_setup(kbs_fix *f, bool deny_all)
{
    memset(f, 0, sizeof *f);
    kbs_fix_now = (int64_t)time(NULL);
    f->dir = tu_mkdtemp();
    f->db = tu_asprintf("%s/kbs.db", f->dir);
    f->sample_key = tu_asprintf("%s/sample.pem", f->dir);
    assert_int_equal(cachet_random(f->kek, sizeof f->kek), CACHET_OK);
    cachet_sample_opts so = {.key_path = f->sample_key, .create_key = true, .svn = 1};
    assert_int_equal(cachet_attester_sample_new(&so, &f->attester, NULL), CACHET_OK);
    uint8_t *pem;
    size_t n;
    assert_int_equal(cachet_file_read(f->sample_key, 1 << 16, &pem, &n), CACHET_OK);
    assert_int_equal(cachet_pkey_parse_private(pem, n, &f->trust), CACHET_OK);
    free(pem);
    assert_int_equal(cachet_ed25519_generate(&f->admin), CACHET_OK);
    cachet_kbs_store *s;
    assert_int_equal(cachet_kbs_store_open(f->db, f->kek, &s), CACHET_OK);
    if (!deny_all) {
        assert_int_equal(cachet_kbs_store_set_policy(s, "attestation", FIX_POLICY), CACHET_OK);
        assert_int_equal(cachet_kbs_store_set_policy(s, "resource", FIX_RPOLICY), CACHET_OK);
    }
    const char *sec = "llama-model-key-0123456789abcdef";
    assert_int_equal(cachet_kbs_store_put(s, "default/model-key/llama", (const uint8_t *)sec,
                                          strlen(sec)), CACHET_OK);
    assert_int_equal(cachet_kbs_store_put(s, "default/data-key/ds1", (const uint8_t *)"dskey", 5),
                     CACHET_OK);
    cachet_kbs_store_close(s);
}

void kbs_fix_start(kbs_fix *f, size_t max_body)
{
    cachet_pkey *keys[1] = {f->trust};
    cachet_pkey *admins[1] = {f->admin};
    cachet_kbs_config cfg = {
        .listen = "127.0.0.1:0",
        .db_path = f->db,
        .kek = f->kek,
        .trust_keys = keys,
        .n_trust_keys = 1,
        .trust_anchors = f->anchors,
        .n_trust_anchors = f->n_anchors,
        .admin_keys = admins,
        .n_admin_keys = 1,
        .max_body = max_body,
        .clock = &clk,
        .conn_timeout = 10,
        .rate_limit = f->rate_limit,
        .rate_burst = f->rate_burst,
        .http = f->tls_cert == NULL,
        .tls_cert_path = f->tls_cert,
        .tls_key_path = f->tls_key,
    };
    cachet_rc rc = cachet_kbs_start(&cfg, &f->kbs);
    if (rc != CACHET_OK)
        print_message("# kbs start: %s\n", cachet_err_detail());
    assert_int_equal(rc, CACHET_OK);
    assert_true(cachet_kbs_port(f->kbs) != 0);
    snprintf(f->url, sizeof f->url, "%s://127.0.0.1:%u", f->tls_cert ? "https" : "http",
             cachet_kbs_port(f->kbs));
}

void kbs_fix_teardown(kbs_fix *f)
{
    cachet_kbs_stop(f->kbs);
    cachet_attester_free(f->attester);
    cachet_pkey_free(f->trust);
    cachet_pkey_free(f->admin);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->db);
    free(f->sample_key);
    free(f->tls_cert);
    free(f->tls_key);
    memset(f, 0, sizeof *f);
}
