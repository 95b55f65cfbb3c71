/* Fetching OCSP responses for NVIDIA evidence (`cachet verify --online`):
 * for every certificate of the device chains and the RIM signing chains
 * that revocation.c would check and that no endorsement already covers,
 * an OCSP request (RFC 6960 §4.1, SHA-1 CertID, no nonce so that answers
 * can be cached) is POSTed to the responder named by the certificate's AIA
 * extension, else to NVIDIA's (NVGPU_OCSP_DEFAULT_URL), over an injected
 * transport (nothing here opens a socket).
 *
 * What comes back is added to the endorsements as DER, named by the URL and
 * the certificate, and revocation.c verifies it exactly as a supplied file.
 * The on-disk cache is keyed by the SHA-256 of URL and request; a cached
 * response is used only while it still verifies (signature, responder path
 * to the chain's root, thisUpdate/nextUpdate at o->now), otherwise it is
 * dropped and fetched again.  A 429 or 503 answer records "not before"
 * (Retry-After or NVGPU_OCSP_DEFAULT_BACKOFF) in the cache directory. */
#ifndef CACHET_EVIDENCE_NVGPU_OCSP_FETCH_H
#define CACHET_EVIDENCE_NVGPU_OCSP_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "cachet/evidence.h"
#include "evidence/nvgpu/nvgpu.h"

#define NVGPU_OCSP_DEFAULT_URL "https://ocsp.ndis.nvidia.com/"
#define NVGPU_OCSP_URL_MAX 512
#define NVGPU_OCSP_MAX_BODY ((size_t)64 << 10)
#define NVGPU_OCSP_DEFAULT_BACKOFF 60 /* seconds, when a 429/503 names none */
#define NVGPU_OCSP_MAX_FETCH 32       /* requests per verification at most */

/* POST req to url as content_type (cachet_http_post matches): on success
 * *body is malloc'd and *status is the HTTP status; *retry_after is the
 * Retry-After delay in seconds (0 if none).  No answer: a non-OK rc. */
typedef cachet_rc (*nvgpu_ocsp_post_fn)(void *arg, const char *url, const char *content_type,
                                        const uint8_t *req, size_t req_len, uint8_t **body,
                                        size_t *len, int *status, int64_t *retry_after);

typedef struct nvgpu_ocsp_fetch_opts {
    const char *cache_dir;    /* NULL: no cache */
    nvgpu_ocsp_post_fn post;  /* NULL: cache only */
    void *post_arg;
    const char *url;          /* NULL: AIA, else NVGPU_OCSP_DEFAULT_URL; set: every request */
    const nvgpu_trust *trust; /* roots for chains without one; NULL: the built-in roots */
    int64_t now;
} nvgpu_ocsp_fetch_opts;

typedef struct nvgpu_ocsp_fetch_stats {
    size_t wanted;   /* certificates needing a status that no endorsement covered */
    size_t fetched;  /* responses from the transport */
    size_t cached;   /* responses from the cache */
} nvgpu_ocsp_fetch_stats;

/* Add the missing OCSP responses for the evidence (a report, hex, or a JSON
 * container) and the certificate and RIM endorsements in e.  Returns
 * CACHET_OK when every wanted response was added; otherwise the first
 * failure (its reason in cachet_err_detail()), with whatever did arrive
 * still added.  Nothing wanted: CACHET_OK. */
cachet_rc nvgpu_ocsp_fetch(const nvgpu_ocsp_fetch_opts *o, const uint8_t *evidence, size_t len,
                           cachet_endorsements *e, nvgpu_ocsp_fetch_stats *stats);

#endif
