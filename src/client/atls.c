/* The attested inference client (docs/serve.md §3; protocols.md §4.6):
 * attest-then-pin over one libcurl easy handle.
 *
 * The first request (the attestation document) runs without WebPKI (the
 * certificate is self-issued) with CURLOPT_CERTINFO, so that we hold the
 * peer certificate of the very connection that answered.  Its key must be
 * the runtime data's tee-pubkey, the runtime data must carry our nonce, the
 * evidence must verify with SHA-384(JCS(runtime_data)) || 0^16 as its report
 * data and the policy must admit it.  Only then is the key pinned
 * (CURLOPT_PINNEDPUBLICKEY) for every later request. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "cachet/buffer.h"
#include "cachet/chat.h"
#include "cachet/encoding.h"
#include "cachet/runtime_data.h"
#include "cachet/secmem.h"
#include "client/atls_int.h"
#include "client/client_int.h"

#define ATLS_RC(code) CACHET_RC(CACHET_SUB_SERVE, CACHET_E_##code)
#define atls_err(code, ...) cachet_err(ATLS_RC(code), __VA_ARGS__)

#define ATLS_NONCE_LEN 32
#define ATLS_MAX_URL 1024
#define ATLS_MAX_SSE_LINE ((size_t)1 << 20)
#define ATLS_MAX_DEVICES 1

struct cachet_atls {
    CURL *curl;
    char *base;
    long timeout;
    bool allow_http;
    char pin[80];        /* "sha256//<base64>" */
    char *api_key;
    char model_id[256];
};

/* ---- bounded bodies ---------------------------------------------------- */

typedef struct body {
    char *p;
    size_t n;
    bool over;
} body;

static size_t on_body(char *data, size_t sz, size_t nm, void *arg)
{
    body *b = arg;
    size_t n = sz * nm;
    cachet_append_result r = b->over ? CACHET_APPEND_LIMIT
                                     : cachet_buf_append(&b->p, &b->n, data, n,
                                                         CACHET_ATLS_MAX_RESPONSE);
    b->over = r == CACHET_APPEND_LIMIT;
    return r == CACHET_APPEND_OK ? n : 0;
}

/* Options every request gets.  TLS: no WebPKI (self-issued), never a
 * redirect; once verified, the pinned key and nothing else. */
static cachet_rc setup(cachet_atls *s, const char *method, const char *path,
                       struct curl_slist **hdrs, char **url_out)
{
    size_t ul = strlen(s->base) + strlen(path) + 1;
    char *url = malloc(ul);
    if (!url)
        return atls_err(NOMEM, "tls: out of memory");
    snprintf(url, ul, "%s%s", s->base, path);
    CURL *h = s->curl;
    curl_easy_reset(h);
    *hdrs = curl_slist_append(NULL, "Expect:");
    if (s->pin[0] && s->api_key) {
        size_t al = strlen(s->api_key) + 32;
        char *auth = malloc(al);
        if (auth) {
            snprintf(auth, al, "Authorization: Bearer %s", s->api_key);
            struct curl_slist *n = curl_slist_append(*hdrs, auth);
            cachet_wipe(auth, strlen(auth));
            free(auth);
            if (n)
                *hdrs = n;
        }
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, s->timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, s->timeout < 30 ? s->timeout : 30L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, s->allow_http ? "http,https" : "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    if (s->pin[0])
        curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, s->pin);
    *url_out = url;
    return CACHET_OK;
}

/* ---- connect: fetch, bind, verify, appraise ----------------------------- */

void cachet_atls_report_free(cachet_atls_report *r)
{
    if (!r)
        return;
    cachet_verify_result_free(r->result);
    cachet_appraisal_free(r->appraisal);
    r->result = NULL;
    r->appraisal = NULL;
}

void cachet_atls_report_print(const cachet_atls_report *r, FILE *out)
{
    if (!r || !out)
        return;
    fprintf(out, "attestation: tee %s, status %s, %s\n", r->tee[0] ? r->tee : "-",
            r->status[0] ? r->status : "-", r->verified ? "verified" : "not verified");
    fprintf(out, "  nonce:  %s\n", r->nonce_matched ? "ours (fresh)" : "not matched");
    fprintf(out, "  tls key: sha256 %s, %s\n", r->tls_spki_sha256[0] ? r->tls_spki_sha256 : "-",
            r->key_bound ? "bound to the evidence" : "NOT bound");
    fprintf(out, "  model:  %s %s\n", r->model_id[0] ? r->model_id : "-",
            r->model_digest[0] ? r->model_digest : "(digest not bound)");
    if (r->admitted)
        fprintf(out, "  policy: admitted by rule %s\n", r->rule);
    else
        fprintf(out, "  refused: %s\n", r->why[0] ? r->why : "not verified");
}

static const char *first_error(const cachet_verify_result *r)
{
    const char *e = json_string_value(json_array_get(r->errors, 0));
    return e ? e : "verification failed";
}

/* "policy: rule <name>: <condition>: <detail>" for the first failed
 * condition of the first rule. */
static void policy_why(const cachet_appraisal *a, char *why, size_t cap)
{
    const json_t *j = cachet_appraisal_json(a);
    const json_t *rules = json_object_get(j, "rules");
    if (json_array_size(rules) == 0) {
        snprintf(why, cap, "policy: \"%s\" has no rules (deny by default)",
                 cachet_appraisal_policy_id(a));
        return;
    }
    const json_t *rule = json_array_get(rules, 0);
    const json_t *conds = json_object_get(rule, "conditions");
    const char *name = json_string_value(json_object_get(rule, "name"));
    for (size_t i = 0; i < json_array_size(conds); i++) {
        const json_t *c = json_array_get(conds, i);
        const char *res = json_string_value(json_object_get(c, "result"));
        if (res && strcmp(res, "fail") == 0) {
            const char *id = json_string_value(json_object_get(c, "id"));
            const char *d = json_string_value(json_object_get(c, "detail"));
            snprintf(why, cap, "policy: rule %s: %s: %s", name ? name : "?", id ? id : "?",
                     d ? d : "fails");
            return;
        }
    }
    snprintf(why, cap, "policy: \"%s\" admits no rule", cachet_appraisal_policy_id(a));
}

/* The peer certificate of the connection that served the last transfer. */
static cachet_rc peer_certificate(CURL *h, cachet_x509 **out)
{
    struct curl_certinfo *ci = NULL;
    *out = NULL;
    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci ||
        ci->num_of_certs < 1)
        return atls_err(POLICY, "tls: no peer certificate");
    for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next)
        if (strncmp(l->data, "Cert:", 5) == 0) {
            const char *pem = l->data + 5;
            if (cachet_x509_parse((const uint8_t *)pem, strlen(pem), out) != CACHET_OK)
                return atls_err(POLICY, "tls: the peer certificate does not parse: %s",
                                cachet_err_detail());
            return CACHET_OK;
        }
    return atls_err(POLICY, "tls: no peer certificate");
}

typedef struct peer_key {
    uint8_t thumb[CACHET_SHA256_LEN];
    uint8_t spki[CACHET_SHA256_LEN];
} peer_key;

static cachet_rc peer_key_of(const cachet_x509 *c, peer_key *pk)
{
    cachet_pkey *k = NULL;
    json_t *jwk = NULL;
    cachet_rc rc = cachet_x509_public_key(c, &k);
    if (rc == CACHET_OK)
        rc = cachet_x509_spki_fingerprint(c, pk->spki);
    if (rc == CACHET_OK)
        rc = cachet_jwk_from_pkey(k, NULL, &jwk);
    if (rc == CACHET_OK)
        rc = cachet_jwk_thumbprint(jwk, pk->thumb);
    json_decref(jwk);
    cachet_pkey_free(k);
    if (rc != CACHET_OK)
        return atls_err(POLICY, "tls: the peer key is not an EC key: %s", cachet_err_detail());
    return CACHET_OK;
}

typedef struct verifier {
    const cachet_atls_opts *o;
    int64_t now;
    cachet_verify_result *devices[ATLS_MAX_DEVICES];
    size_t n_devices;
} verifier;

/* additional-evidence {"nvidia": <GPU evidence>}, bound by the CPU report
 * data; the GPU's nonce is the first 32 bytes of the device digest
 * (protocols.md §1.7; as src/kbs/attest.c verify_devices). */
static bool verify_devices(verifier *v, const json_t *rd, const char *additional, char *why,
                           size_t cap)
{
    json_t *j = json_loads(additional, JSON_REJECT_DUPLICATES, NULL);
    const char *k;
    json_t *val;
    bool ok = true;
    if (!json_is_object(j) || json_object_size(j) != 1) {
        json_decref(j);
        snprintf(why, cap, "evidence: additional-evidence must be a JSON object with one "
                           "device (\"nvidia\")");
        return false;
    }
    uint8_t dev[CACHET_SHA384_LEN];
    if (cachet_runtime_data_device_digest(rd, dev) != CACHET_OK) {
        json_decref(j);
        snprintf(why, cap, "binding: runtime_data: %s", cachet_err_detail());
        return false;
    }
    json_object_foreach(j, k, val) {
        const cachet_evidence_ops *ops = cachet_evidence_find("nvgpu");
        char *text = strcmp(k, "nvidia") == 0 ? json_dumps(val, JSON_COMPACT) : NULL;
        if (!ops || !text) {
            free(text);
            snprintf(why, cap, "evidence: additional evidence \"%.32s\" is not supported", k);
            ok = false;
            break;
        }
        cachet_verify_request req = {
            .evidence = (const uint8_t *)text,
            .evidence_len = strlen(text),
            .endorsements = v->o->endorsements,
            .trust_anchors = v->o->trust_anchors,
            .n_trust_anchors = v->o->n_trust_anchors,
            .time = v->now,
            .nonce = dev,
            .nonce_len = 32,
        };
        cachet_verify_result *r = NULL;
        cachet_rc rc = cachet_evidence_verify_with(ops, &req, &r);
        free(text);
        if (rc != CACHET_OK) {
            snprintf(why, cap, "evidence: GPU: %s", cachet_err_detail());
            ok = false;
            break;
        }
        v->devices[v->n_devices++] = r;
        if (!r->verified || r->status == CACHET_EV_CONTRAINDICATED) {
            snprintf(why, cap, "evidence: GPU: %s", first_error(r));
            ok = false;
            break;
        }
    }
    json_decref(j);
    return ok;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Everything after the transfer: returns false with rep->why set when the
 * server is refused (only allocation failures come back as *rc). */
static bool check_document(verifier *v, const char *nonce, const peer_key *pk, const char *text,
                           size_t len, cachet_atls_report *rep, cachet_rc *rc)
{
    char *why = rep->why;
    size_t cap = sizeof rep->why;
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *rd = NULL;
    uint8_t *ev = NULL;
    size_t ev_len = 0;
    bool ok = false;
    *rc = CACHET_OK;
    if (!json_is_object(doc)) {
        snprintf(why, cap, "document: not a JSON object (%s)", jerr.text);
        goto out;
    }
    const char *tee = json_string_value(json_object_get(doc, "tee"));
    const char *evs = json_string_value(json_object_get(doc, "evidence"));
    const json_t *model = json_object_get(doc, "model");
    copy_str(rep->model_id, sizeof rep->model_id,
             json_string_value(json_object_get(model, "id")));
    if (!evs || (cachet_base64url_decode(evs, strlen(evs), &ev, &ev_len) != CACHET_OK &&
                 cachet_base64_decode(evs, strlen(evs), &ev, &ev_len) != CACHET_OK)) {
        snprintf(why, cap, "document: \"evidence\" is missing or not base64url");
        goto out;
    }
    rd = json_deep_copy(json_object_get(doc, "runtime_data"));
    if (!json_is_object(rd) || cachet_runtime_data_check(rd) != CACHET_OK) {
        snprintf(why, cap, "binding: runtime_data: %s",
                 rd ? cachet_err_detail() : "missing or not an object");
        goto out;
    }
    /* 1. freshness: exactly our nonce */
    const char *got = json_string_value(json_object_get(rd, "nonce"));
    if (!got || strcmp(got, nonce) != 0) {
        snprintf(why, cap, "binding: nonce \"%.80s\" is not the one we sent", got ? got : "");
        goto out;
    }
    rep->nonce_matched = true;
    /* 2. the key: runtime data's tee-pubkey is this connection's TLS key */
    const json_t *jwk = json_object_get(rd, "tee-pubkey");
    uint8_t thumb[CACHET_SHA256_LEN];
    if (!jwk) {
        snprintf(why, cap, "binding: runtime_data has no tee-pubkey");
        goto out;
    }
    if (cachet_jwk_thumbprint(jwk, thumb) != CACHET_OK ||
        cachet_memeq_ct(thumb, pk->thumb, sizeof thumb) != 0) {
        snprintf(why, cap, "binding: tee-pubkey is not the TLS key");
        goto out;
    }
    rep->key_bound = true;
    /* 3. the evidence, with report data SHA-384(JCS(rd)) || 0^16 */
    uint8_t report_data[CACHET_REPORT_DATA_LEN];
    if (cachet_runtime_data_report_data(rd, report_data) != CACHET_OK) {
        snprintf(why, cap, "binding: runtime_data: %s", cachet_err_detail());
        goto out;
    }
    const cachet_evidence_ops *ops = tee ? cachet_evidence_find(tee)
                                         : cachet_evidence_detect(ev, ev_len);
    if (!ops) {
        snprintf(why, cap, "evidence: tee \"%.32s\" is not supported", tee ? tee : "?");
        goto out;
    }
    cachet_verify_request req = {
        .evidence = ev,
        .evidence_len = ev_len,
        .endorsements = v->o->endorsements,
        .trust_anchors = v->o->trust_anchors,
        .n_trust_anchors = v->o->n_trust_anchors,
        .trust_keys = v->o->trust_keys,
        .n_trust_keys = v->o->n_trust_keys,
        .time = v->now,
        /* TPM extraData / the Nitro nonce carry the 48-byte digest alone */
        .nonce = report_data,
        .nonce_len = cachet_runtime_data_binding_len(ops->name),
    };
    if (cachet_evidence_verify_with(ops, &req, &rep->result) != CACHET_OK) {
        snprintf(why, cap, "evidence: %s", cachet_err_detail());
        goto out;
    }
    copy_str(rep->tee, sizeof rep->tee, rep->result->tee);
    copy_str(rep->status, sizeof rep->status, cachet_ev_status_str(rep->result->status));
    if (!rep->result->verified || rep->result->status == CACHET_EV_CONTRAINDICATED) {
        snprintf(why, cap, "evidence: %s", first_error(rep->result));
        goto out;
    }
    const char *additional = json_string_value(json_object_get(rd, "additional-evidence"));
    if (additional && additional[0] && !verify_devices(v, rd, additional, why, cap))
        goto out;
    rep->verified = true;
    /* 4. the verified user-data is the model digest */
    if ((*rc = cachet_runtime_data_annotate(rep->result, rd)) != CACHET_OK)
        goto out;
    const char *ud = json_string_value(json_object_get(rep->result->claims, "user_data"));
    if (ud && strlen(ud) == 2 * CACHET_SHA256_LEN)
        snprintf(rep->model_digest, sizeof rep->model_digest, "sha256:%s", ud);
    const char *claimed = json_string_value(json_object_get(model, "digest"));
    if (claimed && (!rep->model_digest[0] || strcasecmp(claimed, rep->model_digest) != 0)) {
        snprintf(why, cap, "binding: model digest %.80s is not the attested user-data", claimed);
        rep->model_digest[0] = 0;
        goto out;
    }
    /* 5. the owner's policy */
    cachet_appraisal_input in = {
        .primary = rep->result,
        .devices = (const cachet_verify_result *const *)v->devices,
        .n_devices = v->n_devices,
        .devices_bound = v->n_devices > 0, /* the CPU report data covers their text */
    };
    if ((*rc = cachet_policy_appraise(v->o->policy, &in, &rep->appraisal)) != CACHET_OK)
        goto out;
    if (!cachet_appraisal_admitted(rep->appraisal)) {
        policy_why(rep->appraisal, why, cap);
        goto out;
    }
    rep->admitted = true;
    copy_str(rep->rule, sizeof rep->rule, cachet_appraisal_rule(rep->appraisal));
    ok = true;
out:
    free(ev);
    json_decref(rd);
    json_decref(doc);
    return ok;
}

/* A short error text from an OpenAI error body (or the HTTP status). */
static void server_message(const char *text, size_t len, char *out, size_t cap)
{
    json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
    const json_t *e = json_object_get(j, "error");
    const char *m = json_string_value(json_object_get(e, "message"));
    if (!m)
        m = json_string_value(e);
    if (!m)
        m = json_string_value(json_object_get(j, "message"));
    snprintf(out, cap, "%.300s", m ? m : "(no message)");
    json_decref(j);
}

cachet_rc cachet_atls_connect(const char *url, const cachet_atls_opts *opts, cachet_atls **out,
                              cachet_atls_report *report)
{
    cachet_atls_report local;
    cachet_atls_report *rep = report ? report : &local;
    memset(rep, 0, sizeof *rep);
    if (out)
        *out = NULL;
    if (!url || !opts || !opts->policy || !out || strlen(url) > ATLS_MAX_URL)
        return atls_err(INVALID_ARG, "tls: missing URL, options or policy");
    bool https = strncmp(url, "https://", 8) == 0;
    if (!https && !(opts->allow_http && cl_loopback_http(url))) {
        snprintf(rep->why, sizeof rep->why, "tls: %.200s is not https", url);
        cachet_rc rc = atls_err(POLICY, "%s", rep->why);
        if (rep == &local)
            cachet_atls_report_free(&local);
        return rc;
    }
    cl_curl_global_init();
    cachet_atls *s = calloc(1, sizeof *s);
    if (!s)
        return atls_err(NOMEM, "tls: out of memory");
    s->base = strdup(url);
    s->curl = curl_easy_init();
    s->timeout = opts->timeout > 0 ? opts->timeout : 120;
    s->allow_http = opts->allow_http;
    if (opts->api_key)
        s->api_key = strdup(opts->api_key);
    if (!s->base || !s->curl || (opts->api_key && !s->api_key)) {
        cachet_atls_free(s);
        return atls_err(NOMEM, "tls: out of memory");
    }
    for (size_t n = strlen(s->base); n && s->base[n - 1] == '/';)
        s->base[--n] = 0;

    /* our nonce: 32 random bytes, base64url without padding */
    uint8_t raw[ATLS_NONCE_LEN];
    char nonce[2 * ATLS_NONCE_LEN];
    char path[128];
    cachet_rc rc = cachet_random(raw, sizeof raw);
    if (rc != CACHET_OK) {
        cachet_atls_free(s);
        return rc;
    }
    cachet_base64url_encode(raw, sizeof raw, nonce);
    snprintf(path, sizeof path, "/cachet/v1/attestation?nonce=%s", nonce);

    struct curl_slist *hdrs = NULL;
    char *full = NULL;
    body b = {0};
    if ((rc = setup(s, "GET", path, &hdrs, &full)) != CACHET_OK) {
        cachet_atls_free(s);
        return rc;
    }
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(s->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(s->curl, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &b);
    CURLcode cr = curl_easy_perform(s->curl);
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    free(full);

    cachet_x509 *cert = NULL;
    peer_key pk;
    verifier v = {.o = opts, .now = (int64_t)time(NULL)};
    bool ok = false;
    if (cr != CURLE_OK) {
        snprintf(rep->why, sizeof rep->why, "tls: GET /cachet/v1/attestation: %s%s",
                 curl_easy_strerror(cr), b.over ? " (response too large)" : "");
        rc = atls_err(IO, "%s", rep->why);
    } else if (status != 200) {
        char m[320];
        server_message(b.p, b.n, m, sizeof m);
        snprintf(rep->why, sizeof rep->why, "attestation: HTTP %ld: %s", status, m);
        rc = atls_err(IO, "%s", rep->why);
    } else if ((rc = peer_certificate(s->curl, &cert)) != CACHET_OK ||
               (rc = peer_key_of(cert, &pk)) != CACHET_OK) {
        snprintf(rep->why, sizeof rep->why, "%s", cachet_err_detail());
    } else {
        cachet_hex_encode(pk.spki, sizeof pk.spki, rep->tls_spki_sha256);
        ok = check_document(&v, nonce, &pk, b.p, b.n, rep, &rc);
        if (!ok && rc == CACHET_OK)
            rc = atls_err(POLICY, "%s", rep->why);
    }
    free(b.p);
    cachet_x509_free(cert);
    for (size_t i = 0; i < v.n_devices; i++)
        cachet_verify_result_free(v.devices[i]);
    if (!ok) {
        if (rep == &local)
            cachet_atls_report_free(&local);
        cachet_atls_free(s);
        return rc ? rc : atls_err(POLICY, "refused");
    }
    /* Pin the verified key for every later request. */
    memcpy(s->pin, "sha256//", 8);
    cachet_base64_encode(pk.spki, sizeof pk.spki, s->pin + 8);
    copy_str(s->model_id, sizeof s->model_id, rep->model_id);
    if (rep == &local)
        cachet_atls_report_free(&local);
    *out = s;
    return CACHET_OK;
}

void cachet_atls_free(cachet_atls *s)
{
    if (!s)
        return;
    if (s->curl)
        curl_easy_cleanup(s->curl);
    free(s->base);
    if (s->api_key) {
        cachet_wipe(s->api_key, strlen(s->api_key));
        free(s->api_key);
    }
    free(s);
}

/* ---- requests on the pinned session ------------------------------------- */

cachet_rc cachet_atls_request(cachet_atls *s, const char *method, const char *path,
                              const char *body_text, size_t body_len, long *status, char **resp,
                              size_t *resp_len)
{
    if (!s || !method || !path || !status || path[0] != '/')
        return atls_err(INVALID_ARG, "request: bad arguments");
    if (!s->pin[0])
        return atls_err(STATE, "request: the session is not verified");
    if (resp)
        *resp = NULL;
    struct curl_slist *hdrs = NULL;
    char *url = NULL;
    body b = {0};
    cachet_rc rc = setup(s, method, path, &hdrs, &url);
    if (rc != CACHET_OK)
        return rc;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hdrs);
    if (body_text) {
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body_text);
        curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(s->curl, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &b);
    CURLcode cr = curl_easy_perform(s->curl);
    curl_slist_free_all(hdrs);
    free(url);
    if (cr != CURLE_OK) {
        free(b.p);
        return atls_err(IO, "tls: %s %s: %s%s", method, path, curl_easy_strerror(cr),
                        b.over ? " (response too large)" : "");
    }
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, status);
    if (resp) {
        if (!b.p && !(b.p = calloc(1, 1)))
            return atls_err(NOMEM, "request: out of memory");
        *resp = b.p;
        if (resp_len)
            *resp_len = b.n;
    } else {
        free(b.p);
    }
    return CACHET_OK;
}

/* ---- chat --------------------------------------------------------------- */

static const char *finish_text(const char *f)
{
    static const char *const known[] = {"stop", "length", "tool_calls", "content_filter"};
    for (size_t i = 0; f && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(f, known[i]) == 0)
            return known[i];
    return "";
}

static json_t *chat_body(const cachet_atls *s, const cachet_chat_message *msgs, size_t n,
                         const cachet_chat_request *req)
{
    json_t *j = json_object(), *arr = json_array();
    if (!j || !arr || json_object_set_new(j, "messages", arr)) {
        json_decref(j);
        return NULL;
    }
    const char *model = req && req->model ? req->model : s->model_id;
    int bad = 0;
    if (model && model[0])
        bad |= json_object_set_new(j, "model", json_string(model));
    for (size_t i = 0; i < n; i++)
        bad |= json_array_append_new(arr, json_pack("{s:s,s:s}", "role", msgs[i].role, "content",
                                                    msgs[i].content));
    if (req) {
        if (req->max_tokens > 0)
            bad |= json_object_set_new(j, "max_tokens", json_integer(req->max_tokens));
        if (req->temperature >= 0)
            bad |= json_object_set_new(j, "temperature", json_real(req->temperature));
        if (req->top_p > 0)
            bad |= json_object_set_new(j, "top_p", json_real(req->top_p));
        if (req->seed >= 0)
            bad |= json_object_set_new(j, "seed", json_integer(req->seed));
    }
    bad |= json_object_set_new(j, "stream", json_boolean(req && req->stream));
    if (bad) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* Server-sent events: lines accumulate in `line` (bounded); each
 * `data: {json}` adds choices[0].delta.content to the answer. */
typedef struct sse {
    CURL *h;
    int mode;               /* 0 undecided, 1 events, 2 raw body (an HTTP error) */
    char *line;
    size_t n, cap;
    body raw;
    char *answer;
    size_t alen;
    const char *finish;
    bool done, stopped, nomem, too_long, bad;
    char error[320];
    cachet_chat_delta_fn fn;
    void *arg;
} sse;

static bool sse_line(sse *e, char *l, size_t n)
{
    if (n && l[n - 1] == '\r')
        l[--n] = 0;
    if (n < 5 || strncmp(l, "data:", 5) != 0)
        return true; /* blank separators, comments, event:/id: fields */
    l += 5;
    n -= 5;
    if (n && *l == ' ')
        l++, n--;
    if (e->done)
        return true;
    if (n == 6 && memcmp(l, "[DONE]", 6) == 0) {
        e->done = true;
        return true;
    }
    json_t *j = json_loadb(l, n, 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        e->bad = true;
        snprintf(e->error, sizeof e->error, "an event is not JSON");
        return false;
    }
    const json_t *err = json_object_get(j, "error");
    if (err) {
        char *t = json_dumps(j, JSON_COMPACT);
        server_message(t, t ? strlen(t) : 0, e->error, sizeof e->error);
        free(t);
        json_decref(j);
        return false;
    }
    const json_t *c0 = json_array_get(json_object_get(j, "choices"), 0);
    const char *text = json_string_value(json_object_get(json_object_get(c0, "delta"), "content"));
    const char *fin = json_string_value(json_object_get(c0, "finish_reason"));
    if (fin)
        e->finish = finish_text(fin);
    bool go = true;
    if (text && text[0]) {
        size_t tl = strlen(text);
        cachet_append_result r =
            cachet_buf_append(&e->answer, &e->alen, text, tl, CACHET_ATLS_MAX_RESPONSE);
        e->too_long = r == CACHET_APPEND_LIMIT;
        e->nomem = r == CACHET_APPEND_NOMEM;
        go = r == CACHET_APPEND_OK;
        if (go && e->fn && !e->fn(e->arg, text, tl)) {
            e->stopped = true;
            go = false;
        }
    }
    json_decref(j);
    return go;
}

static size_t on_sse(char *data, size_t sz, size_t nm, void *arg)
{
    sse *e = arg;
    size_t n = sz * nm;
    if (e->mode == 0) {
        long st = 0;
        curl_easy_getinfo(e->h, CURLINFO_RESPONSE_CODE, &st);
        e->mode = st == 200 ? 1 : 2;
    }
    if (e->mode == 2)
        return on_body(data, sz, nm, &e->raw);
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            if (e->n == e->cap) {
                char *np = realloc(e->line, e->cap + 1);
                if (!np) {
                    e->nomem = true;
                    return 0;
                }
                e->line = np;
                e->cap++;
            }
            e->line[e->n] = 0;
            size_t len = e->n;
            e->n = 0;
            if (!sse_line(e, e->line, len))
                return 0;
            continue;
        }
        if (e->n >= ATLS_MAX_SSE_LINE) {
            e->too_long = true;
            return 0;
        }
        if (e->n == e->cap) {
            size_t nc = e->cap ? e->cap * 2 : 4096;
            char *np = realloc(e->line, nc);
            if (!np) {
                e->nomem = true;
                return 0;
            }
            e->line = np;
            e->cap = nc;
        }
        e->line[e->n++] = data[i];
    }
    return n;
}

/* Fuzz entries (atls_int.h): the same code paths on untrusted bytes. */
bool atls_fuzz_document(const char *text, size_t len, const cachet_atls_opts *o,
                        const char *nonce, const uint8_t thumb[32], const uint8_t spki[32])
{
    verifier v = {.o = o, .now = (int64_t)time(NULL)};
    peer_key pk;
    memcpy(pk.thumb, thumb, sizeof pk.thumb);
    memcpy(pk.spki, spki, sizeof pk.spki);
    cachet_atls_report rep;
    memset(&rep, 0, sizeof rep);
    cachet_rc rc = CACHET_OK;
    bool ok = check_document(&v, nonce, &pk, text, len, &rep, &rc);
    for (size_t i = 0; i < v.n_devices; i++)
        cachet_verify_result_free(v.devices[i]);
    cachet_atls_report_free(&rep);
    return ok;
}

size_t atls_fuzz_sse(const char *data, size_t len)
{
    sse e;
    memset(&e, 0, sizeof e);
    e.mode = 1; /* an event stream (HTTP 200) */
    size_t used = on_sse((char *)data, 1, len, &e);
    free(e.line);
    free(e.raw.p);
    free(e.answer);
    return used;
}

static cachet_rc chat_stream(cachet_atls *s, const char *text, cachet_chat_delta_fn fn,
                             void *arg, char **answer, const char **finish)
{
    struct curl_slist *hdrs = NULL;
    char *url = NULL;
    cachet_rc rc = setup(s, "POST", "/v1/chat/completions", &hdrs, &url);
    if (rc != CACHET_OK)
        return rc;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Accept: text/event-stream");
    sse e = {.h = s->curl, .fn = fn, .arg = arg, .finish = ""};
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, text);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_sse);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &e);
    CURLcode cr = curl_easy_perform(s->curl);
    curl_slist_free_all(hdrs);
    free(url);
    /* a last line without its newline */
    if (cr == CURLE_OK && e.mode == 1 && e.n && !e.error[0] && !e.stopped) {
        if (e.n == e.cap) {
            char *np = realloc(e.line, e.cap + 1);
            if (np)
                e.line = np, e.cap++;
        }
        if (e.n < e.cap) {
            e.line[e.n] = 0;
            sse_line(&e, e.line, e.n);
        }
    }
    long status = 0;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (e.mode == 2 || (cr == CURLE_OK && status != 200)) {
        char m[320];
        server_message(e.raw.p, e.raw.n, m, sizeof m);
        rc = atls_err(IO, "chat: HTTP %ld: %s", status, m);
    } else if (e.error[0]) {
        rc = atls_err(FORMAT, "chat: %s", e.error);
    } else if (e.nomem) {
        rc = atls_err(NOMEM, "chat: out of memory");
    } else if (e.too_long) {
        rc = atls_err(LIMIT, "chat: the answer exceeds the size limit");
    } else if (e.stopped) {
        rc = CACHET_OK;
    } else if (cr != CURLE_OK) {
        rc = atls_err(IO, "chat: %s", curl_easy_strerror(cr));
    } else if (!e.done) {
        rc = atls_err(FORMAT, "chat: the stream ended before [DONE]");
    }
    free(e.line);
    free(e.raw.p);
    if (finish)
        *finish = e.finish;
    if (rc == CACHET_OK && answer) {
        *answer = e.answer ? e.answer : calloc(1, 1);
        if (!*answer)
            return atls_err(NOMEM, "chat: out of memory");
    } else {
        free(e.answer);
    }
    return rc;
}

static cachet_rc chat_once(cachet_atls *s, const char *text, cachet_chat_delta_fn fn, void *arg,
                           char **answer, const char **finish)
{
    long status = 0;
    char *resp = NULL;
    size_t rlen = 0;
    cachet_rc rc = cachet_atls_request(s, "POST", "/v1/chat/completions", text, strlen(text),
                                       &status, &resp, &rlen);
    if (rc != CACHET_OK)
        return rc;
    if (status != 200) {
        char m[320];
        server_message(resp, rlen, m, sizeof m);
        free(resp);
        return atls_err(IO, "chat: HTTP %ld: %s", status, m);
    }
    json_t *j = json_loadb(resp, rlen, 0, NULL);
    free(resp);
    const json_t *c0 = json_array_get(json_object_get(j, "choices"), 0);
    const json_t *content = json_object_get(json_object_get(c0, "message"), "content");
    if (!json_is_string(content)) {
        json_decref(j);
        return atls_err(FORMAT, "chat: the reply has no choices[0].message.content");
    }
    if (finish)
        *finish = finish_text(json_string_value(json_object_get(c0, "finish_reason")));
    size_t n = json_string_length(content);
    char *a = malloc(n + 1);
    if (!a) {
        json_decref(j);
        return atls_err(NOMEM, "chat: out of memory");
    }
    memcpy(a, json_string_value(content), n + 1);
    json_decref(j);
    if (fn && n)
        fn(arg, a, n);
    if (answer)
        *answer = a;
    else
        free(a);
    return CACHET_OK;
}

cachet_rc cachet_atls_chat(cachet_atls *s, const cachet_chat_message *msgs, size_t n,
                           const cachet_chat_request *req, cachet_chat_delta_fn on_delta,
                           void *arg, char **answer, const char **finish)
{
    if (answer)
        *answer = NULL;
    if (finish)
        *finish = "";
    if (!s || !msgs || n == 0)
        return atls_err(INVALID_ARG, "chat: no messages");
    for (size_t i = 0; i < n; i++)
        if (!msgs[i].role || !msgs[i].content)
            return atls_err(INVALID_ARG, "chat: message %zu has no role or content", i);
    if (!s->pin[0])
        return atls_err(STATE, "chat: the session is not verified");
    json_t *j = chat_body(s, msgs, n, req);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return atls_err(NOMEM, "chat: out of memory");
    cachet_rc rc = req && req->stream ? chat_stream(s, text, on_delta, arg, answer, finish)
                                      : chat_once(s, text, on_delta, arg, answer, finish);
    cachet_wipe(text, strlen(text));
    free(text);
    return rc;
}
