/* The fail-closed start-up of docs/serve.md §1: the sealed model's public
 * content digest D, key release from the broker to evidence that binds D,
 * unseal into a sealed memfd (D checked again after authentication), load
 * through /proc/self/fd/N.  Any failure leaves nothing behind and the
 * detail names the step. */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cachet/fileio.h"
#include "cachet/kbs_client.h"
#include "cachet/log.h"
#include "cachet/secmem.h"
#include "cachet/tpm.h"
#include "serve/serve_int.h"

double serve_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

cachet_rc serve_step_err(cachet_rc rc, const char *step)
{
    char why[768];
    snprintf(why, sizeof why, "%s", cachet_err_detail());
    uint32_t code = cachet_rc_code(rc) ? cachet_rc_code(rc) : CACHET_E_IO;
    return cachet_err(CACHET_RC(CACHET_SUB_SERVE, code), "%s: %s", step,
                      why[0] ? why : cachet_rc_str(rc));
}

cachet_rc serve_sealed_digest(const char *path, uint8_t out[CACHET_SEAL_DIGEST_LEN])
{
    cachet_seal_reader *r = NULL;
    cachet_rc rc = cachet_seal_reader_open(path, &r);
    if (rc == CACHET_OK)
        rc = cachet_seal_reader_claimed_digest(r, out);
    cachet_seal_reader_free(r);
    return rc;
}

void serve_model_clear(serve_model *m)
{
    if (!m)
        return;
    cachet_engine_free(m->engine);
    free(m->id);
    memset(m, 0, sizeof *m);
}

static char *default_id(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return NULL;
    char *id = strdup(basename(copy));
    free(copy);
    size_t n = id ? strlen(id) : 0;
    if (n > 7 && strcmp(id + n - 7, ".sealed") == 0)
        id[n - 7] = 0;
    return id;
}

cachet_rc serve_measure_model(const cachet_serve_opts *o, const uint8_t d[CACHET_SEAL_DIGEST_LEN])
{
    cachet_tpm *tpm = cachet_attester_tpm_handle(o->attester);
    if (!tpm)
        return CACHET_OK;
    int pcr = o->tpm_model_pcr ? o->tpm_model_pcr : CACHET_SERVE_TPM_PCR;
    if (pcr < 1 || pcr > 23)
        return serve_err(INVALID_ARG, "attestation: TPM model PCR %d (1..23)", pcr);
    char ds[CACHET_SEAL_DIGEST_STR_LEN], event[32 + CACHET_SEAL_DIGEST_STR_LEN];
    cachet_rc rc;
    cachet_seal_digest_format(d, ds);
    snprintf(event, sizeof event, "cachet-model %s", ds);
    if ((rc = cachet_tpm_extend(tpm, (unsigned)pcr, event, strlen(event))) != CACHET_OK)
        return serve_step_err(rc, "attestation: measuring the model into the TPM");
    cachet_log(CACHET_LOG_INFO, "serve: model %s measured into TPM PCR %d", ds, pcr);
    if (o->tpm_event_log) {
        uint8_t *log = NULL;
        size_t len = 0;
        if ((rc = cachet_tpm_event_log(tpm, &log, &len)) == CACHET_OK)
            rc = cachet_file_write_atomic(o->tpm_event_log, log, len, 0600);
        free(log);
        if (rc != CACHET_OK)
            return serve_step_err(rc, "attestation: keeping the TPM event log");
    }
    return CACHET_OK;
}

/* Key release: auth, evidence binding the challenge, a fresh key and D,
 * attest, resource.  Attester failures are "attestation", the broker's
 * refusals "key release". */
static cachet_rc release_key(const cachet_serve_opts *o, const char *resource,
                             const uint8_t digest[CACHET_SEAL_DIGEST_LEN], cachet_seal_key **key)
{
    cachet_kbs_client *c = NULL;
    uint8_t *secret = NULL;
    size_t len = 0;
    cachet_rc rc = cachet_kbs_client_new(o->kbs_url, &o->kbs, &c);
    if (rc != CACHET_OK)
        return serve_step_err(rc, "key release");
    if ((rc = cachet_kbs_client_set_user_data(c, digest, CACHET_SEAL_DIGEST_LEN)) != CACHET_OK) {
        rc = serve_step_err(rc, "key release");
        goto out;
    }
    if ((rc = cachet_kbs_client_attest(c, o->attester)) != CACHET_OK) {
        rc = serve_step_err(rc, cachet_rc_subsys(rc) == CACHET_SUB_ATTESTER
                                    ? "attestation"
                                    : "key release: attestation refused");
        goto out;
    }
    if ((rc = cachet_kbs_client_get_resource(c, resource, &secret, &len)) != CACHET_OK) {
        rc = serve_step_err(rc, "key release");
        goto out;
    }
    if ((rc = cachet_seal_key_from_bytes(secret, len, key)) != CACHET_OK)
        rc = serve_step_err(rc, "key release: the released secret is not a model key");
out:
    cachet_secure_free(secret);
    cachet_kbs_client_free(c);
    return rc;
}

cachet_rc serve_startup(const cachet_serve_opts *o, const uint8_t d[CACHET_SEAL_DIGEST_LEN],
                        serve_model *m, cachet_serve_timings *t)
{
    memset(m, 0, sizeof *m);
    cachet_seal_reader *r = NULL;
    cachet_seal_key *key = NULL;
    int memfd = -1;
    cachet_rc rc;
    /* 1. the sealed model and its public content digest D */
    if ((rc = cachet_seal_reader_open(o->model_path, &r)) != CACHET_OK ||
        (rc = cachet_seal_reader_claimed_digest(r, m->digest)) != CACHET_OK) {
        rc = serve_step_err(rc, "unseal: sealed model");
        goto fail;
    }
    /* The TPM measured d and the evidence will bind it: the file we unseal
     * (through this very descriptor, checked again after unlock) must be it. */
    if (memcmp(m->digest, d, CACHET_SEAL_DIGEST_LEN) != 0) {
        rc = serve_err(MISMATCH, "unseal: sealed model: the file changed while the server "
                                 "was starting");
        goto fail;
    }
    cachet_seal_digest_format(m->digest, m->digest_str);
    const cachet_seal_header *h = cachet_seal_reader_header(r);
    const char *resource = o->kbs_resource ? o->kbs_resource : h->key_id;
    if (!resource || !resource[0]) {
        rc = serve_err(INVALID_ARG, "key release: the sealed model names no key id (give the "
                                    "broker resource)");
        goto fail;
    }
    m->id = o->model_id ? strdup(o->model_id) : default_id(o->model_path);
    if (!m->id) {
        rc = serve_err(NOMEM, "out of memory");
        goto fail;
    }
    /* 3. key release bound to D */
    double t0 = serve_mono_now();
    if ((rc = release_key(o, resource, m->digest, &key)) != CACHET_OK)
        goto fail;
    double t1 = serve_mono_now();
    t->attest_release = t1 - t0;
    /* 4. unseal into a sealed memfd, D checked after authentication */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cachet_unseal_opts uo = {.threads = ncpu > 1 ? (unsigned)(ncpu > 8 ? 8 : ncpu) : 1};
    if ((rc = cachet_seal_reader_unlock(r, key)) != CACHET_OK ||
        (rc = cachet_seal_reader_expect_digest(r, m->digest)) != CACHET_OK ||
        (rc = cachet_seal_reader_decrypt_memfd(r, &uo, &memfd)) != CACHET_OK) {
        rc = serve_step_err(rc, "unseal");
        goto fail;
    }
    cachet_seal_key_free(key);
    key = NULL;
    cachet_seal_reader_free(r);
    r = NULL;
    double t2 = serve_mono_now();
    t->unseal = t2 - t1;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    /* The memfd is sealed against writes and growth: map it rather than
     * copy 100s of MB once more (the mapping keeps it alive after close). */
    cachet_engine_opts eo = {.n_threads = o->threads, .n_ctx = o->n_ctx, .map_file = true};
    if ((rc = cachet_engine_load(path, &eo, &m->engine)) != CACHET_OK) {
        rc = serve_step_err(rc, "model");
        goto fail;
    }
    /* The engine's mapping holds the weights now: drop our descriptor. */
    close(memfd);
    memfd = -1;
    t->load = serve_mono_now() - t2;
    cachet_log(CACHET_LOG_INFO, "serve: model %s %s loaded (%s, %llu parameters, context %d)",
               m->id, m->digest_str, cachet_engine_arch(m->engine),
               (unsigned long long)cachet_engine_n_params(m->engine),
               cachet_engine_n_ctx(m->engine));
    return CACHET_OK;
fail:
    if (memfd >= 0)
        close(memfd);
    cachet_seal_key_free(key);
    cachet_seal_reader_free(r);
    serve_model_clear(m);
    return rc;
}
