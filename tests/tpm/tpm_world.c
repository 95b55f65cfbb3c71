/* See tpm_world.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include "cachet/clock.h"
#include "cachet/fileio.h"
#include "tpm_world.h"

static cachet_x509 *load_cert(const char *path)
{
    size_t n = 0;
    uint8_t *pem = NULL;
    cachet_x509 *c = NULL;
    if (cachet_file_read(path, 1 << 20, &pem, &n) == CACHET_OK)
        cachet_x509_parse(pem, n, &c);
    free(pem);
    return c;
}

static bool make_akca(tpm_world *w)
{
    char *pem = NULL, *kpem = NULL;
    int64_t now = cachet_clock_now(NULL);
    bool ok = cachet_pkey_generate_ec(CACHET_CURVE_P256, &w->akca_key) == CACHET_OK;
    cachet_x509_issue_params p = {.subject_key = w->akca_key, .subject_cn = "cachet test AK CA",
                                  .issuer_key = w->akca_key, .not_before = now - 3600,
                                  .not_after = now + 86400, .ca = true};
    ok = ok && cachet_x509_issue(&p, &pem, &w->akca) == CACHET_OK &&
         cachet_pkey_private_pem(w->akca_key, &kpem) == CACHET_OK;
    if (ok) {
        w->akca_path = tu_asprintf("%s/akca.pem", w->dir);
        w->akca_key_path = tu_asprintf("%s/akca.key", w->dir);
        tu_write_file(w->akca_path, pem, strlen(pem));
        tu_write_file(w->akca_key_path, kpem, strlen(kpem));
    }
    free(pem);
    free(kpem);
    return ok;
}

void tpm_world_setup(tpm_world *w, int n)
{
    memset(w, 0, sizeof *w);
    const char *missing = swtpm_missing();
    if (missing) {
        static char why[128];
        snprintf(why, sizeof why, "%s is not installed (scripts/install-deps)", missing);
        w->skip = why;
        return;
    }
    w->skip = "swtpm could not be set up (see the log above)";
    if (n < 1 || n > TPM_WORLD_MAX || !(w->dir = tu_mkdtemp()))
        return;
    w->ca_dir = tu_asprintf("%s/ca", w->dir);
    char *conf = NULL;
    bool ok = mkdir(w->ca_dir, 0700) == 0 && (conf = swtpm_ca_config(w->ca_dir)) != NULL;
    for (int i = 0; ok && i < n; i++) {
        char *st = tu_asprintf("%s/tpm-%d", w->dir, i);
        ok = mkdir(st, 0700) == 0 && swtpm_manufacture(st, conf) == 0 &&
             swtpm_start(&w->tpm[i], st) == 0;
        if (ok)
            w->n = i + 1;
        free(st);
    }
    free(conf);
    if (!ok)
        return;
    w->ek_root_path = tu_asprintf("%s/swtpm-localca-rootca-cert.pem", w->ca_dir);
    w->ek_issuer_path = tu_asprintf("%s/issuercert.pem", w->ca_dir);
    if (!(w->ek_root = load_cert(w->ek_root_path)) ||
        !(w->ek_issuer = load_cert(w->ek_issuer_path)) || !make_akca(w))
        return;
    w->skip = NULL;
}

cachet_rc tpm_world_enroll(tpm_world *w, int i, cachet_tpm_ak_type ak)
{
    cachet_tpm *t = NULL;
    cachet_rc rc = cachet_tpm_open(&(cachet_tpm_opts){.tcti = w->tpm[i].tcti, .ak_type = ak}, &t);
    if (rc != CACHET_OK)
        return rc;
    cachet_tpm_enroll_params p = {
        .ek_anchors = &w->ek_root, .n_ek_anchors = 1,
        .ek_intermediates = &w->ek_issuer, .n_ek_intermediates = 1,
        .ca_cert = w->akca, .ca_key = w->akca_key, .time = cachet_clock_now(NULL),
    };
    char *pem = NULL;
    rc = cachet_tpm_enroll_ak(t, &p, &pem, NULL);
    cachet_tpm_close(t);
    if (rc == CACHET_OK) {
        free(w->ak_cert_path[i]);
        w->ak_cert_path[i] = tu_asprintf("%s/ak%d.pem", w->dir, i);
        tu_write_file(w->ak_cert_path[i], pem, strlen(pem));
    }
    free(pem);
    return rc;
}

void tpm_world_teardown(tpm_world *w)
{
    for (int i = 0; i < TPM_WORLD_MAX; i++) {
        swtpm_stop(&w->tpm[i]);
        free(w->ak_cert_path[i]);
    }
    cachet_x509_free(w->ek_root);
    cachet_x509_free(w->ek_issuer);
    cachet_x509_free(w->akca);
    cachet_pkey_free(w->akca_key);
    if (w->dir)
        tu_rmtree(w->dir);
    free(w->dir);
    free(w->ca_dir);
    free(w->ek_root_path);
    free(w->ek_issuer_path);
    free(w->akca_path);
    free(w->akca_key_path);
    memset(w, 0, sizeof *w);
}
