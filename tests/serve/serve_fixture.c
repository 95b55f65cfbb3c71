#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "cachet/seal.h"
#include "serve_fixture.h"
#include "testutil.h"

void sv_resp_clear(sv_resp *r)
{
    free(r->body);
    free(r->cert_pem);
    memset(r, 0, sizeof *r);
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
    sv_resp *r = arg;
    size_t k = sz * n;
    char *b = realloc(r->body, r->len + k + 1);
    assert_non_null(b);
    memcpy(b + r->len, p, k);
    r->body = b;
    r->len += k;
    b[r->len] = 0;
    return k;
}

void sv_http(unsigned port, const char *method, const char *path, const char *body,
             const char *bearer, bool want_cert, sv_resp *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[512], auth[300];
    snprintf(url, sizeof url, "https://127.0.0.1:%u%s", port, path);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L); /* these tests check the certificate */
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (want_cert)
        curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK)
        print_message("# curl %s %s: %s\n", method, path, curl_easy_strerror(cc));
    assert_int_equal(cc, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    const char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(out->ctype, sizeof out->ctype, "%s", ct ? ct : "");
    if (want_cert) {
        struct curl_certinfo *ci = NULL;
        curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci);
        for (int i = 0; ci && i < ci->num_of_certs && i < 1; i++)
            for (struct curl_slist *s = ci->certinfo[i]; s; s = s->next)
                if (strncmp(s->data, "Cert:", 5) == 0)
                    out->cert_pem = strdup(s->data + 5);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

json_t *sv_json(const sv_resp *r)
{
    json_error_t e;
    json_t *j = r->body ? json_loads(r->body, 0, &e) : NULL;
    if (!j)
        print_message("# not JSON: %.300s\n", r->body ? r->body : "(empty)");
    assert_non_null(j);
    return j;
}

char *sv_make_sealed(const char *dir, const char *name)
{
    char *gguf = tu_asprintf("%s/tiny.gguf", dir);
    struct stat st;
    if (stat(gguf, &st) != 0) {
        const char *exe = getenv("CACHET_GEN_GGUF"), *vocab = getenv("CACHET_LLAMA_VOCAB");
        assert_non_null(exe);
        assert_non_null(vocab);
        assert_int_equal(tu_system("'%s' --vocab '%s' --out '%s' --seed 7", exe, vocab, gguf), 0);
    }
    const char *k = "llama-model-key-0123456789abcdef"; /* the fixture's resource */
    cachet_seal_key *key = NULL;
    assert_int_equal(cachet_seal_key_from_bytes((const uint8_t *)k, 32, &key), CACHET_OK);
    char *out = tu_asprintf("%s/%s.sealed", dir, name);
    cachet_seal_params p = {.chunk_size = 64 << 10, .key_id = "default/model-key/llama",
                            .media_type = "application/vnd.gguf"};
    assert_int_equal(cachet_seal_file(key, &p, gguf, out, NULL), CACHET_OK);
    cachet_seal_key_free(key);
    free(gguf);
    return out;
}
