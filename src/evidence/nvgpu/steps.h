/* The nvgpu verification procedure's shared state and steps (internal to
 * src/evidence/nvgpu: verify.c drives, the other files each do one step). */
#ifndef CACHET_EVIDENCE_NVGPU_STEPS_H
#define CACHET_EVIDENCE_NVGPU_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "evidence/family.h"
#include "evidence/nvgpu/nvgpu.h"

/* ---- OCSP outcome for one chain (revocation.c) ----------------------------- */

typedef struct nvgpu_ocsp_outcome {
    size_t wanted;      /* certificates that need a status */
    size_t good;        /* ... with a verified good response */
    size_t missing;     /* ... without any response */
    bool failed;        /* revoked, on hold, unknown, or a response that does not verify */
    char status[16];    /* "good" | "revoked" | "on-hold" | "unknown" | "invalid" | "not-checked" */
    char detail[512];
} nvgpu_ocsp_outcome;

/* Check path[from..to) (each against path[i+1]; the anchor is
 * path[depth-1]) with the OCSP responses of s, at time t. */
void nvgpu_ocsp_check_path(cachet_ev_ctx *ctx, const nvgpu_ocsp_set *s, cachet_x509 *const *path,
                           size_t depth, size_t from, size_t to, int64_t t,
                           nvgpu_ocsp_outcome *out);

/* ---- RIM candidates: every XML endorsement, read and verified once ---------- */

typedef struct nv_rim_cand {
    size_t src;                 /* endorsement index */
    const char *name;
    nvgpu_rim *rim;             /* content; NULL when unreadable */
    char read_error[256];
    nvgpu_rim_role role;
    bool checked;               /* chain and signature ran (once per verification) */
    bool chain_ok, sig_ok, leaf_ok, from_cache;
    char chain_detail[400];
    char sig_detail[256];
    char signer_cn[96];
    int64_t not_after;          /* signer's notAfter (claims) */
    nvgpu_xml *doc;             /* kept for the signature check (NULL after a memo hit) */
    cachet_chain_result path;   /* when verified now */
    bool ocsp_done;
    nvgpu_ocsp_outcome ocsp;
} nv_rim_cand;

/* ---- the whole verification ---------------------------------------------------- */

typedef struct nv_run {
    cachet_ev_ctx *ctx;
    const cachet_verify_request *req;
    const nvgpu_trust *trust;
    nvgpu_input in;
    nvgpu_ocsp_set *ocsp;
    nv_rim_cand *rims;
    size_t n_rims;
    bool multi;                 /* check ids and claims per GPU ("nvgpu.gpu1.") */
} nv_run;

/* ---- one GPU ---------------------------------------------------------------------- */

typedef struct nv_gpu {
    nv_run *run;
    size_t index;
    char name[12];              /* "gpu0" */
    char prefix[24];            /* "nvgpu." or "nvgpu.gpu0." */
    const nvgpu_item *item;
    json_t *claims;             /* this GPU's claims object (borrowed) */
    /* report */
    nvgpu_report rep;
    bool parsed;
    /* device chain */
    cachet_x509 **chain;        /* as supplied, leaf first */
    size_t n_chain;
    bool own_chain;
    cachet_chain_result path;   /* verified now (empty on a cache hit) */
    bool chain_ok;
    char chip[24];              /* "GH100" (leaf CN's first word) */
    const char *arch;           /* "HOPPER" | "BLACKWELL" | "UNKNOWN" */
    char hwmodel[96];           /* BROM certificate CN */
    char ueid[64];              /* leaf serial, decimal */
    bool has_fwid;
    uint8_t fwid[NVGPU_FWID_LEN];
    nvgpu_ocsp_outcome ocsp;
    bool sig_ok;
    bool auth_ok;               /* no authenticity step failed or was skipped */
    /* RIMs usable for the comparison (verified, version matched) */
    const nv_rim_cand *rim[2];  /* by nvgpu_rim_role */
    const nv_rim_cand *rim_seen[2]; /* the one whose version matched, verified or not */
    const char *rim_status[2];  /* "verified" | "failed" | "version-mismatch" | "absent" */
    const char *measres;        /* "success" | "fail" | "partial" | "not-checked" */
    json_t *mismatched;         /* array of RIM indices (borrowed from claims) */
    bool debug;
} nv_gpu;

/* Check recording with the GPU's prefix ("nvgpu." + check). */
void nv_pass(nv_gpu *g, const char *check, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void nv_fail(nv_gpu *g, cachet_ev_severity sev, const char *check, const char *spec,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void nv_na(nv_gpu *g, bool warn, const char *check, const char *spec, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
bool nv_compare(nv_gpu *g, cachet_ev_severity sev, const char *check, const char *spec,
                const char *expected, const char *actual);
/* "not checked: <why>" and the GPU is no longer authentic. */
void nv_skip(nv_gpu *g, const char *check, const char *spec, const char *why);

/* Steps (each records its checks; false when a later step cannot use it). */
bool nv_step_parse(nv_gpu *g);                 /* report.c */
void nv_step_signature(nv_gpu *g);             /* report.c */
void nv_step_nonce(nv_gpu *g);                 /* report.c */
bool nv_step_chain(nv_gpu *g);                 /* chain.c: find, length, root, path, leaf */
void nv_step_fwid(nv_gpu *g);                  /* chain.c */
void nv_step_chain_ocsp(nv_gpu *g);            /* chain.c */
void nv_step_host_fields(nv_gpu *g);           /* hostinfo.c: arch, versions, nonce, CC mode */
void nv_rims_load(nv_run *r);                  /* rimcheck.c: read every XML endorsement */
void nv_rims_free(nv_run *r);
void nv_step_rims(nv_gpu *g);                  /* rimcheck.c: select, verify, record */
void nv_step_measurements(nv_gpu *g);          /* measure.c */
void nv_gpu_claims(nv_gpu *g);                 /* claims.c */
/* RIM identifiers as NVIDIA's RIM service names them (claims.c). */
void nv_rim_id(const nv_gpu *g, nvgpu_rim_role role, char *buf, size_t cap);

#endif
