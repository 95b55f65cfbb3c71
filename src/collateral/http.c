/* HTTPS GET for collateral (libcurl): see cachet/collateral.h. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cachet/collateral.h"

#define HTTP_ERR(code) CACHET_RC(CACHET_SUB_COLLATERAL, code)
#define URL_MAX 2048

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* 127.0.0.0/8, ::1 or "localhost", as the URL parser reads the host. */
static bool loopback_host(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    size_t n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']' && n < 64) {
        char b[64];
        memcpy(b, host + 1, n - 2);
        b[n - 2] = 0;
        return inet_pton(AF_INET6, b, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return false;
}

/* https, or http to loopback when allowed; anything else is refused before
 * a socket is opened. */
typedef struct hdr_buf {
    const char *const *names; /* NULL-terminated; the first one present is kept */
    char *value;
    size_t rank;              /* index in names of what value holds */
    bool over;
    bool nomem;
} hdr_buf;

#define HDR_MAX ((size_t)64 << 10)

/* One header line at a time ("Name: value\r\n"); a later response (after a
 * 1xx) replaces what an earlier one set. */
static size_t on_header(char *data, size_t sz, size_t nm, void *arg)
{
    hdr_buf *h = arg;
    size_t n = sz * nm;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response begins */
        free(h->value);
        h->value = NULL;
        h->over = false;
        return n;
    }
    for (size_t i = 0; h->names[i]; i++) {
        size_t k = strlen(h->names[i]);
        if (n <= k || data[k] != ':' || strncasecmp(data, h->names[i], k) != 0)
            continue;
        if (h->value && h->rank <= i)
            break;
        const char *v = data + k + 1, *end = data + n;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
                           end[-1] == '\t'))
            end--;
        if ((size_t)(end - v) > HDR_MAX) {
            h->over = true;
            return 0;
        }
        char *c = malloc((size_t)(end - v) + 1);
        if (!c) {
            h->nomem = true;
            return 0;
        }
        memcpy(c, v, (size_t)(end - v));
        c[end - v] = 0;
        free(h->value);
        h->value = c;
        h->rank = i;
        break;
    }
    return n;
}

static cachet_rc check_url(const char *url, bool allow_loopback_http, bool *plain)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    cachet_rc rc = CACHET_OK;
    *plain = false;
    if (!u)
        return cachet_err(HTTP_ERR(CACHET_E_NOMEM), "http: out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        rc = cachet_err(HTTP_ERR(CACHET_E_INVALID_ARG), "http: '%s' is not a URL", url);
    } else if (strcasecmp(scheme, "https") == 0) {
        rc = CACHET_OK;
    } else if (strcasecmp(scheme, "http") == 0 && allow_loopback_http && loopback_host(host)) {
        *plain = true;
    } else {
        rc = cachet_err(HTTP_ERR(CACHET_E_POLICY), "http: refusing %s://%s: only https is allowed",
                        scheme, host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

typedef struct body_buf {
    uint8_t *p;
    size_t n;
    size_t max;
    bool over;
    bool nomem;
} body_buf;

static size_t on_body(char *data, size_t sz, size_t nm, void *arg)
{
    body_buf *b = arg;
    size_t n = sz * nm;
    if (b->over || n > b->max - b->n) {
        b->over = true;
        return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
    }
    uint8_t *np = realloc(b->p, b->n + n + 1);
    if (!np) {
        b->nomem = true;
        return 0;
    }
    b->p = np;
    memcpy(b->p + b->n, data, n);
    b->n += n;
    return n;
}

cachet_rc cachet_http_get(void *arg, const char *url, uint8_t **body, size_t *len, int *status,
                          int64_t *retry_after)
{
    return cachet_http_get_hdr(arg, url, NULL, NULL, body, len, status, retry_after);
}

/* One request: GET, or POST of post_len bytes (post non-NULL) as ctype. */
static cachet_rc http_do(const cachet_http_opts *o, const char *url, const uint8_t *post,
                         size_t post_len, const char *ctype, const char *const *hdr_names,
                         char **hdr_value, uint8_t **body, size_t *len, int *status,
                         int64_t *retry_after)
{
    if (!url || !body || !len || !status || !retry_after || strlen(url) > URL_MAX ||
        (hdr_names && !hdr_value))
        return cachet_err(HTTP_ERR(CACHET_E_INVALID_ARG), "http: bad arguments");
    if (hdr_value)
        *hdr_value = NULL;
    *body = NULL;
    *len = 0;
    *status = 0;
    *retry_after = 0;
    bool plain = false;
    cachet_rc rc = check_url(url, o && o->allow_loopback_http, &plain);
    if (rc != CACHET_OK)
        return rc;
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return cachet_err(HTTP_ERR(CACHET_E_STATE), "http: libcurl did not initialise");
    CURL *h = curl_easy_init();
    if (!h)
        return cachet_err(HTTP_ERR(CACHET_E_NOMEM), "http: out of memory");

    long timeout = o && o->timeout_s > 0 ? o->timeout_s : CACHET_HTTP_DEFAULT_TIMEOUT;
    body_buf b = { .max = o && o->max_body ? o->max_body : CACHET_HTTP_DEFAULT_MAX_BODY };
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *req_hdrs = NULL;
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (post) {
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
        struct curl_slist *l1 = curl_slist_append(NULL, ct);
        struct curl_slist *l2 = l1 ? curl_slist_append(l1, "Expect:") : NULL;
        if (!l2) {
            curl_slist_free_all(l1);
            curl_easy_cleanup(h);
            return cachet_err(HTTP_ERR(CACHET_E_NOMEM), "http: out of memory");
        }
        req_hdrs = l2;
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)post);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)post_len);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, req_hdrs);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, plain ? "http" : "https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)b.max);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "cachet");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    if (o && o->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    hdr_buf hb = { .names = hdr_names };
    if (hdr_names) {
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &hb);
    }

    CURLcode cr = curl_easy_perform(h);
    if (cr != CURLE_OK || b.over || b.nomem || hb.over || hb.nomem) {
        if (b.over || cr == CURLE_FILESIZE_EXCEEDED)
            rc = cachet_err(HTTP_ERR(CACHET_E_LIMIT), "http: response over %zu bytes", b.max);
        else if (hb.over)
            rc = cachet_err(HTTP_ERR(CACHET_E_LIMIT), "http: response header over %zu bytes",
                            HDR_MAX);
        else if (b.nomem || hb.nomem)
            rc = cachet_err(HTTP_ERR(CACHET_E_NOMEM), "http: out of memory");
        else
            rc = cachet_err(HTTP_ERR(CACHET_E_IO), "http: %s", /* the caller names the URL */
                            errbuf[0] ? errbuf : curl_easy_strerror(cr));
        free(b.p);
        free(hb.value);
        curl_easy_cleanup(h);
        curl_slist_free_all(req_hdrs);
        return rc;
    }
    long code = 0;
    curl_off_t ra = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        *retry_after = (int64_t)ra;
    curl_easy_cleanup(h);
    curl_slist_free_all(req_hdrs);
    *status = (int)code;
    *body = b.p;
    *len = b.n;
    if (hdr_value)
        *hdr_value = hb.value;
    return CACHET_OK;
}

cachet_rc cachet_http_get_hdr(void *arg, const char *url, const char *const *hdr_names,
                              char **hdr_value, uint8_t **body, size_t *len, int *status,
                              int64_t *retry_after)
{
    return http_do(arg, url, NULL, 0, NULL, hdr_names, hdr_value, body, len, status,
                   retry_after);
}

cachet_rc cachet_http_post(void *arg, const char *url, const char *content_type,
                           const uint8_t *req, size_t req_len, uint8_t **body, size_t *len,
                           int *status, int64_t *retry_after)
{
    if (!content_type || strlen(content_type) > 100 || strpbrk(content_type, "\r\n") || !req ||
        !req_len || req_len > CACHET_HTTP_MAX_POST)
        return cachet_err(HTTP_ERR(CACHET_E_INVALID_ARG), "http: bad POST arguments");
    return http_do(arg, url, req, req_len, content_type, NULL, NULL, body, len, status,
                   retry_after);
}
