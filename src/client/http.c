/* HTTP for the KBS client (libcurl): bounded responses, the session cookie
 * handled by hand (only kbs-session-id, only from this broker). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/client_int.h"
#include "cachet/buffer.h"
#include "cachet/secmem.h"

/* One parked handle per thread: a client freed on a thread leaves its
 * handle, with its connection cache, for the next client on that thread,
 * so back-to-back fetches to one broker reuse the connection (libcurl only
 * reuses a connection to the same host and port with the same TLS
 * settings; every request resets the handle's options, and the session
 * cookie is set by hand per request, never kept by libcurl). */
static pthread_key_t parked_key;
static bool parked_ok;

static void parked_free(void *h)
{
    curl_easy_cleanup(h);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    parked_ok = pthread_key_create(&parked_key, parked_free) == 0;
}

void cl_curl_global_init(void)
{
    pthread_once(&curl_once, curl_init_once);
}

static CURL *handle_take(void)
{
    CURL *h = parked_ok ? pthread_getspecific(parked_key) : NULL;
    if (h) {
        pthread_setspecific(parked_key, NULL);
        curl_easy_reset(h);
        return h;
    }
    return curl_easy_init();
}

static void handle_park(CURL *h)
{
    if (parked_ok && !pthread_getspecific(parked_key) && pthread_setspecific(parked_key, h) == 0)
        return;
    curl_easy_cleanup(h);
}

bool cl_loopback_http(const char *url)
{
    static const char *const ok[] = {"http://127.", "http://localhost:", "http://localhost/",
                                     "http://[::1]"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strncmp(url, ok[i], strlen(ok[i])) == 0)
            return true;
    return false;
}

cachet_rc cachet_kbs_client_new(const char *url, const cachet_kbs_client_opts *opts,
                                cachet_kbs_client **out)
{
    if (!url || !out || strlen(url) > 1024)
        return cl_err(INVALID_ARG, "client: no broker URL");
    *out = NULL;
    if (strncmp(url, "https://", 8) != 0 && !cl_loopback_http(url))
        return cl_err(POLICY, "client: plain http only to a loopback broker; use https");
    cl_curl_global_init();
    cachet_kbs_client *c = calloc(1, sizeof *c);
    if (!c)
        return cl_err(NOMEM, "client: out of memory");
    c->base = strdup(url);
    c->curl = handle_take();
    c->timeout = opts && opts->timeout > 0 ? opts->timeout : 30;
    if (opts && opts->ca_file)
        c->ca_file = strdup(opts->ca_file);
    if (!c->base || !c->curl || (opts && opts->ca_file && !c->ca_file)) {
        cachet_kbs_client_free(c);
        return cl_err(NOMEM, "client: out of memory");
    }
    size_t n = strlen(c->base);
    while (n && c->base[n - 1] == '/')
        c->base[--n] = 0;
    *out = c;
    return CACHET_OK;
}

void cachet_kbs_client_free(cachet_kbs_client *c)
{
    if (!c)
        return;
    if (c->curl)
        handle_park(c->curl);
    free(c->base);
    free(c->token);
    free(c->ca_file);
    cachet_pkey_free(c->key);
    free(c);
}

const char *cachet_kbs_client_session(const cachet_kbs_client *c)
{
    return c ? c->session : "";
}

void cachet_kbs_client_set_session(cachet_kbs_client *c, const char *id)
{
    if (c)
        snprintf(c->session, sizeof c->session, "%s", id ? id : "");
}

cachet_rc cachet_kbs_client_set_user_data(cachet_kbs_client *c, const uint8_t *data, size_t len)
{
    if (!c || (len && !data))
        return cl_err(INVALID_ARG, "user data: missing argument");
    if (len > sizeof c->user_data)
        return cl_err(LIMIT, "user data: %zu bytes, at most %zu", len, sizeof c->user_data);
    if (len)
        memcpy(c->user_data, data, len);
    c->user_data_len = len;
    return CACHET_OK;
}

typedef struct buf {
    char *p;
    size_t n;
    bool over;
} buf;

static size_t on_body(char *data, size_t sz, size_t nm, void *arg)
{
    buf *b = arg;
    size_t n = sz * nm;
    cachet_append_result r = b->over ? CACHET_APPEND_LIMIT
                                     : cachet_buf_append(&b->p, &b->n, data, n,
                                                         CACHET_KBS_CLIENT_MAX_RESPONSE);
    b->over = r == CACHET_APPEND_LIMIT;
    return r == CACHET_APPEND_OK ? n : 0;
}

static size_t on_header(char *data, size_t sz, size_t nm, void *arg)
{
    cachet_kbs_client *c = arg;
    size_t n = sz * nm;
    static const char h[] = "set-cookie:";
    if (n > sizeof h && strncasecmp(data, h, sizeof h - 1) == 0) {
        const char *p = data + sizeof h - 1;
        const char *end = data + n;
        while (p < end && *p == ' ')
            p++;
        static const char name[] = "kbs-session-id=";
        if ((size_t)(end - p) > sizeof name && strncmp(p, name, sizeof name - 1) == 0) {
            p += sizeof name - 1;
            size_t k = 0;
            while (p + k < end && p[k] != ';' && p[k] != '\r' && p[k] != '\n' && k < 63)
                k++;
            memcpy(c->session, p, k);
            c->session[k] = 0;
        }
    }
    return n;
}

cachet_rc cachet_kbs_client_request(cachet_kbs_client *c, const char *method, const char *path,
                                    const char *body, size_t body_len, const char *bearer,
                                    long *status, char **resp, size_t *resp_len)
{
    if (!c || !method || !path || !status)
        return cl_err(INVALID_ARG, "client: bad request");
    if (resp)
        *resp = NULL;
    size_t ul = strlen(c->base) + strlen(path) + 1;
    char *url = malloc(ul);
    if (!url)
        return cl_err(NOMEM, "client: out of memory");
    snprintf(url, ul, "%s%s", c->base, path);
    CURL *h = c->curl;
    curl_easy_reset(h);
    struct curl_slist *hdrs = NULL;
    char cookie[96], *auth = NULL;
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (c->session[0]) {
        snprintf(cookie, sizeof cookie, "kbs-session-id=%s", c->session);
        curl_easy_setopt(h, CURLOPT_COOKIE, cookie);
    }
    if (bearer) {
        size_t al = strlen(bearer) + 32;
        auth = malloc(al);
        if (auth) {
            snprintf(auth, al, "Authorization: Bearer %s", bearer);
            hdrs = curl_slist_append(hdrs, auth);
        }
    }
    buf b = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    CURLcode cr = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    if (auth) {
        cachet_wipe(auth, strlen(auth));
        free(auth);
    }
    free(url);
    if (cr != CURLE_OK) {
        free(b.p);
        return cl_err(IO, "client: %s %s: %s%s", method, path, curl_easy_strerror(cr),
                      b.over ? " (response too large)" : "");
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    if (resp) {
        *resp = b.p;
        if (resp_len)
            *resp_len = b.n;
    } else {
        free(b.p);
    }
    return CACHET_OK;
}
