/* cachet's TPM quote bundle: one JSON object carrying a quote and everything
 * needed to judge it (docs/evidence/tpm.md).  The reader is strict: the
 * format marker and version must match, every key must be known, no key may
 * repeat, binary fields are standard base64 (PCR values hex), and every
 * field is bounded. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cachet/encoding.h"
#include "evidence/tpm/tpm.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

#define BUNDLE_FORMAT "cachet-tpm-quote-bundle"
#define BUNDLE_VERSION 1
#define MAX_STRUCT 4096u              /* TPM2B_PUBLIC, TPMS_ATTEST, TPMT_SIGNATURE, blobs */
#define MAX_CERT (64u << 10)
#define MAX_EVENT_LOG (16u << 20)

/* ---- reading ------------------------------------------------------------------- */

static cachet_rc b64_field(const json_t *v, const char *what, size_t max, tpm_blob *out)
{
    if (!json_is_string(v))
        return cachet_err(EV_RC(FORMAT), "%s: not a base64 string", what);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n == 0)
        return cachet_err(EV_RC(FORMAT), "%s: empty", what);
    if (n / 4 * 3 > max + 3)
        return cachet_err(EV_RC(LIMIT), "%s: more than %zu bytes", what, max);
    uint8_t *p = NULL;
    size_t len = 0;
    if (cachet_base64_decode(s, n, &p, &len) != CACHET_OK)
        return cachet_err(EV_RC(FORMAT), "%s: not base64", what);
    if (len == 0 || len > max) {
        free(p);
        return cachet_err(EV_RC(LIMIT), "%s: %zu bytes (1..%zu allowed)", what, len, max);
    }
    tpm_blob_free(out);
    out->p = p;
    out->len = len;
    return CACHET_OK;
}

/* A TPM2B_PUBLIC field, kept as its TPMT_PUBLIC contents. */
static cachet_rc public_field(const json_t *v, const char *what, tpm_blob *out)
{
    tpm_blob raw = { 0 };
    cachet_rc rc = b64_field(v, what, MAX_STRUCT, &raw);
    if (rc != CACHET_OK)
        return rc;
    const uint8_t *t;
    size_t tl;
    rc = tpm_public2b_contents(raw.p, raw.len, &t, &tl);
    if (rc == CACHET_OK)
        rc = tpm_blob_set(out, t, tl);
    else {
        char d[256];
        snprintf(d, sizeof d, "%s", cachet_err_detail());
        rc = cachet_err(EV_RC(FORMAT), "%s: %s", what, d);
    }
    tpm_blob_free(&raw);
    return rc;
}

static cachet_rc chain_field(const json_t *v, const char *what, tpm_blob *chain, size_t *n)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return cachet_err(EV_RC(FORMAT), "%s: not a non-empty array", what);
    if (json_array_size(v) > TPM_MAX_CHAIN)
        return cachet_err(EV_RC(LIMIT), "%s: more than %u certificates", what, TPM_MAX_CHAIN);
    size_t i;
    const json_t *c;
    json_array_foreach(v, i, c) {
        cachet_rc rc = b64_field(c, what, MAX_CERT, &chain[i]);
        if (rc != CACHET_OK)
            return rc;
        *n = i + 1;
    }
    return CACHET_OK;
}

static cachet_rc quotes_field(const json_t *v, tpm_evidence *e)
{
    if (!json_is_array(v) || json_array_size(v) == 0)
        return cachet_err(EV_RC(FORMAT), "quotes: not a non-empty array");
    if (json_array_size(v) > TPM_MAX_QUOTES)
        return cachet_err(EV_RC(LIMIT), "quotes: more than %u", TPM_MAX_QUOTES);
    size_t i;
    const json_t *q;
    json_array_foreach(v, i, q) {
        if (!json_is_object(q) || json_object_size(q) != 2)
            return cachet_err(EV_RC(FORMAT), "quotes[%zu]: not {\"attest\", \"signature\"}", i);
        cachet_rc rc = b64_field(json_object_get(q, "attest"), "quotes[].attest", MAX_STRUCT,
                                 &e->quotes[i].attest);
        if (rc == CACHET_OK)
            rc = b64_field(json_object_get(q, "signature"), "quotes[].signature", MAX_STRUCT,
                           &e->quotes[i].sig);
        e->n_quotes = i + 1;
        if (rc != CACHET_OK)
            return rc;
    }
    return CACHET_OK;
}

static cachet_rc pcr_index(const char *key, unsigned *out)
{
    /* Decimal, no sign, no leading zero: "0".."23". */
    size_t n = strlen(key);
    if (n == 0 || n > 2 || (n == 2 && key[0] == '0'))
        return cachet_err(EV_RC(FORMAT), "pcrs: index \"%s\"", key);
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (key[i] < '0' || key[i] > '9')
            return cachet_err(EV_RC(FORMAT), "pcrs: index \"%s\"", key);
        v = v * 10 + (unsigned)(key[i] - '0');
    }
    if (v >= TPM_PCR_COUNT)
        return cachet_err(EV_RC(FORMAT), "pcrs: index %u is not in 0..23", v);
    *out = v;
    return CACHET_OK;
}

static cachet_rc pcrs_field(const json_t *v, tpm_pcrs *pcrs)
{
    if (!json_is_object(v) || json_object_size(v) == 0)
        return cachet_err(EV_RC(FORMAT), "pcrs: not a non-empty object");
    const char *bank;
    const json_t *vals;
    json_object_foreach((json_t *)v, bank, vals) {
        uint16_t alg = tpm_alg_from_name(bank);
        if (alg == TPM2_ALG_ERROR)
            return cachet_err(EV_RC(FORMAT), "pcrs: unknown bank \"%s\"", bank);
        if (!json_is_object(vals) || json_object_size(vals) == 0)
            return cachet_err(EV_RC(FORMAT), "pcrs.%s: not a non-empty object", bank);
        const char *key;
        const json_t *hex;
        json_object_foreach((json_t *)vals, key, hex) {
            unsigned idx = 0;
            cachet_rc rc = pcr_index(key, &idx);
            if (rc != CACHET_OK)
                return rc;
            uint8_t d[TPM_MAX_DIGEST];
            size_t dl = 0;
            if (!json_is_string(hex) ||
                cachet_hex_decode(json_string_value(hex), d, sizeof d, &dl) != CACHET_OK)
                return cachet_err(EV_RC(FORMAT), "pcrs.%s.%s: not hex", bank, key);
            if ((rc = tpm_pcrs_set(pcrs, alg, idx, d, dl)) != CACHET_OK)
                return rc;
        }
    }
    return CACHET_OK;
}

static cachet_rc activation_field(const json_t *v, tpm_evidence *e)
{
    if (!json_is_object(v) || json_object_size(v) != 2)
        return cachet_err(EV_RC(FORMAT),
                          "activation: not {\"credential_blob\", \"encrypted_secret\"}");
    cachet_rc rc = b64_field(json_object_get(v, "credential_blob"), "activation.credential_blob",
                             MAX_STRUCT, &e->cred_blob);
    if (rc == CACHET_OK)
        rc = b64_field(json_object_get(v, "encrypted_secret"), "activation.encrypted_secret",
                       MAX_STRUCT, &e->enc_secret);
    return rc;
}

static cachet_rc parse_object(const json_t *root, tpm_evidence *e)
{
    if (!json_is_object(root))
        return cachet_err(EV_RC(FORMAT), "not a JSON object");
    const json_t *fmt = json_object_get(root, "format");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), BUNDLE_FORMAT) != 0)
        return cachet_err(EV_RC(FORMAT), "\"format\" is not \"%s\"", BUNDLE_FORMAT);
    const json_t *ver = json_object_get(root, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) != BUNDLE_VERSION)
        return cachet_err(EV_RC(UNSUPPORTED), "bundle version is not %d", BUNDLE_VERSION);
    if (!json_object_get(root, "ak_public") || !json_object_get(root, "quotes") ||
        !json_object_get(root, "pcrs"))
        return cachet_err(EV_RC(FORMAT), "ak_public, quotes and pcrs are required");

    const char *key;
    const json_t *v;
    cachet_rc rc = CACHET_OK;
    json_object_foreach((json_t *)root, key, v) {
        if (strcmp(key, "format") == 0 || strcmp(key, "version") == 0)
            continue;
        else if (strcmp(key, "ak_public") == 0)
            rc = public_field(v, key, &e->ak_public);
        else if (strcmp(key, "quotes") == 0)
            rc = quotes_field(v, e);
        else if (strcmp(key, "pcrs") == 0)
            rc = pcrs_field(v, &e->pcrs);
        else if (strcmp(key, "event_log") == 0)
            rc = b64_field(v, key, MAX_EVENT_LOG, &e->event_log);
        else if (strcmp(key, "ak_cert") == 0)
            rc = b64_field(v, key, MAX_CERT, &e->ak_cert);
        else if (strcmp(key, "ak_chain") == 0)
            rc = chain_field(v, key, e->ak_chain, &e->n_ak_chain);
        else if (strcmp(key, "ek_public") == 0)
            rc = public_field(v, key, &e->ek_public);
        else if (strcmp(key, "ek_cert") == 0)
            rc = b64_field(v, key, MAX_CERT, &e->ek_cert);
        else if (strcmp(key, "ek_chain") == 0)
            rc = chain_field(v, key, e->ek_chain, &e->n_ek_chain);
        else if (strcmp(key, "activation") == 0)
            rc = activation_field(v, e);
        else
            rc = cachet_err(EV_RC(FORMAT), "unknown key \"%s\"", key);
        if (rc != CACHET_OK)
            return rc;
    }
    if (e->cred_blob.len && (!e->ek_public.len || !e->ek_cert.len))
        return cachet_err(EV_RC(FORMAT), "an activation record needs ek_public and ek_cert");
    return CACHET_OK;
}

cachet_rc tpm_bundle_parse(const uint8_t *buf, size_t len, tpm_evidence *out)
{
    memset(out, 0, sizeof *out);
    out->format = "cachet TPM quote bundle v1";
    if (!buf || !len)
        return cachet_err(EV_RC(TRUNCATED), "empty bundle");
    json_error_t jerr;
    json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return cachet_err(EV_RC(FORMAT), "bundle JSON: %s (line %d)", jerr.text, jerr.line);
    cachet_rc rc = parse_object(root, out);
    json_decref(root);
    if (rc != CACHET_OK) {
        const char *fmt = out->format;
        tpm_evidence_free(out);
        out->format = fmt;
    }
    return rc;
}

bool tpm_bundle_looks(const uint8_t *buf, size_t len)
{
    /* Shape only: a JSON object naming the format near its start. */
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i >= len || buf[i] != '{')
        return false;
    static const char marker[] = "\"" BUNDLE_FORMAT "\"";
    size_t m = sizeof marker - 1, lim = len < 4096 ? len : 4096;
    for (; i + m <= lim; i++)
        if (memcmp(buf + i, marker, m) == 0)
            return true;
    return false;
}

/* ---- writing --------------------------------------------------------------------- */

static int set_b64(json_t *o, const char *key, const uint8_t *p, size_t len)
{
    char *s = cachet_base64_string(p, len);
    if (!s)
        return -1;
    int r = json_object_set_new(o, key, json_string(s));
    free(s);
    return r;
}

static int set_public(json_t *o, const char *key, const tpm_blob *t)
{
    if (t->len > UINT16_MAX)
        return -1;
    uint8_t *p = malloc(t->len + 2);
    if (!p)
        return -1;
    p[0] = (uint8_t)(t->len >> 8);
    p[1] = (uint8_t)t->len;
    memcpy(p + 2, t->p, t->len);
    int r = set_b64(o, key, p, t->len + 2);
    free(p);
    return r;
}

static int set_chain(json_t *o, const char *key, const tpm_blob *c, size_t n)
{
    json_t *a = json_array();
    if (!a)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char *s = cachet_base64_string(c[i].p, c[i].len);
        if (!s || json_array_append_new(a, json_string(s)) != 0) {
            free(s);
            json_decref(a);
            return -1;
        }
        free(s);
    }
    return json_object_set_new(o, key, a);
}

static json_t *pcrs_json(const tpm_pcrs *p)
{
    json_t *o = json_object();
    for (size_t b = 0; o && b < p->n; b++) {
        const tpm_pcr_bank *bk = &p->bank[b];
        json_t *vals = json_object();
        size_t dl = tpm_alg_digest_len(bk->alg);
        if (!vals || json_object_set_new(o, tpm_alg_name(bk->alg), vals) != 0) {
            json_decref(o);
            return NULL;
        }
        for (unsigned i = 0; i < TPM_PCR_COUNT; i++) {
            if (!(bk->present & (1u << i)))
                continue;
            char key[4], hex[2 * TPM_MAX_DIGEST + 1];
            snprintf(key, sizeof key, "%u", i);
            cachet_hex_encode(bk->v[i], dl, hex);
            if (json_object_set_new(vals, key, json_string(hex)) != 0) {
                json_decref(o);
                return NULL;
            }
        }
    }
    return o;
}

cachet_rc tpm_bundle_write(const tpm_evidence *e, char **out)
{
    *out = NULL;
    if (!e || !e->ak_public.len || !e->n_quotes || !e->pcrs.n)
        return cachet_err(EV_RC(INVALID_ARG), "bundle: ak_public, a quote and PCRs are required");
    json_t *o = json_object();
    json_t *quotes = json_array();
    json_t *pcrs = pcrs_json(&e->pcrs);
    int bad = !o || !quotes || !pcrs;
    bad = bad || json_object_set_new(o, "format", json_string(BUNDLE_FORMAT)) != 0;
    bad = bad || json_object_set_new(o, "version", json_integer(BUNDLE_VERSION)) != 0;
    bad = bad || set_public(o, "ak_public", &e->ak_public) != 0;
    for (size_t i = 0; !bad && i < e->n_quotes; i++) {
        json_t *q = json_object();
        bad = !q || set_b64(q, "attest", e->quotes[i].attest.p, e->quotes[i].attest.len) != 0 ||
              set_b64(q, "signature", e->quotes[i].sig.p, e->quotes[i].sig.len) != 0 ||
              json_array_append(quotes, q) != 0;
        json_decref(q);
    }
    bad = bad || json_object_set(o, "quotes", quotes) != 0;
    bad = bad || json_object_set(o, "pcrs", pcrs) != 0;
    if (!bad && e->event_log.len)
        bad = set_b64(o, "event_log", e->event_log.p, e->event_log.len) != 0;
    if (!bad && e->ak_cert.len)
        bad = set_b64(o, "ak_cert", e->ak_cert.p, e->ak_cert.len) != 0;
    if (!bad && e->n_ak_chain)
        bad = set_chain(o, "ak_chain", e->ak_chain, e->n_ak_chain) != 0;
    if (!bad && e->ek_public.len)
        bad = set_public(o, "ek_public", &e->ek_public) != 0;
    if (!bad && e->ek_cert.len)
        bad = set_b64(o, "ek_cert", e->ek_cert.p, e->ek_cert.len) != 0;
    if (!bad && e->n_ek_chain)
        bad = set_chain(o, "ek_chain", e->ek_chain, e->n_ek_chain) != 0;
    if (!bad && e->cred_blob.len) {
        json_t *a = json_object();
        bad = !a || set_b64(a, "credential_blob", e->cred_blob.p, e->cred_blob.len) != 0 ||
              set_b64(a, "encrypted_secret", e->enc_secret.p, e->enc_secret.len) != 0 ||
              json_object_set(o, "activation", a) != 0;
        json_decref(a);
    }
    char *s = bad ? NULL : json_dumps(o, JSON_INDENT(2));
    json_decref(o);
    json_decref(quotes);
    json_decref(pcrs);
    if (!s)
        return cachet_err(EV_RC(NOMEM), "bundle: out of memory");
    *out = s;
    return CACHET_OK;
}
