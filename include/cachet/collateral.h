/* Fetching collateral over HTTPS (libcurl): the real transport behind the
 * injected HTTP interface of the collateral fetchers (AMD KDS:
 * src/evidence/snp/kds.h, whose snp_kds_get_fn this matches; Intel PCS:
 * src/evidence/tdx/pcs.h, whose tdx_pcs_get_fn cachet_http_get_hdr matches).
 *
 * HTTPS only, with the peer's certificate and host name verified against
 * the system trust store (or ca_file); no redirects are followed; a total
 * timeout; a cap on the response body.  Plain http is refused unless the
 * caller sets allow_loopback_http (a test hook) and the host is a loopback
 * literal (127.0.0.0/8, ::1) or "localhost".
 *
 * Nothing here trusts what it fetches: callers verify every byte. */
#ifndef CACHET_COLLATERAL_H
#define CACHET_COLLATERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cachet/rc.h"

#define CACHET_HTTP_DEFAULT_TIMEOUT 30            /* seconds, total */
#define CACHET_HTTP_DEFAULT_MAX_BODY ((size_t)1 << 20)

typedef struct cachet_http_opts {
    long timeout_s;            /* total time for one request; <= 0: the default */
    size_t max_body;           /* 0: the default; a longer body is an error */
    const char *ca_file;       /* NULL: the system trust store */
    bool allow_loopback_http;  /* test hook: plain http to a loopback host */
} cachet_http_opts;

/* GET url.  arg: a const cachet_http_opts * or NULL (defaults).  On CACHET_OK
 * an answer came: *status is its HTTP status (any, including 3xx, 4xx, 5xx),
 * *body is malloc'd (caller frees, possibly NULL when empty), *retry_after
 * is the Retry-After delay in seconds (0 if none; an HTTP-date is turned
 * into a delay).  No answer (refused URL, DNS, connect, TLS, timeout, body
 * over the cap) is an error with the reason in cachet_err_detail(). */
cachet_rc cachet_http_get(void *arg, const char *url, uint8_t **body, size_t *len, int *status,
                          int64_t *retry_after);

/* cachet_http_get that also keeps one response header: the value (trimmed,
 * NUL-terminated, malloc'd; NULL when absent) of the first of hdr_names (a
 * NULL-terminated list, matched case-insensitively) that the response
 * carries, e.g. Intel PCS's URL-encoded issuer chains.  hdr_names NULL:
 * exactly cachet_http_get.  A header value over 64 KiB is an error. */
cachet_rc cachet_http_get_hdr(void *arg, const char *url, const char *const *hdr_names,
                              char **hdr_value, uint8_t **body, size_t *len, int *status,
                              int64_t *retry_after);

/* POST req (req_len bytes, at most CACHET_HTTP_MAX_POST) with this
 * Content-Type (e.g. "application/ocsp-request", RFC 6960 Appendix A.1),
 * with the hardening and the answer of cachet_http_get. */
#define CACHET_HTTP_MAX_POST ((size_t)64 << 10)
cachet_rc cachet_http_post(void *arg, const char *url, const char *content_type,
                           const uint8_t *req, size_t req_len, uint8_t **body, size_t *len,
                           int *status, int64_t *retry_after);

#endif
