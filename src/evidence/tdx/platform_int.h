/* Internal to the platform checks (platform.c, collateral_docs.c). */
#ifndef CACHET_EVIDENCE_TDX_PLATFORM_INT_H
#define CACHET_EVIDENCE_TDX_PLATFORM_INT_H

#include "evidence/tdx/tdx.h"

typedef struct tdx_prun {
    const tdx_platform_input *in;
    tdx_platform *p;
    tdx_recs *r;
    tdx_pool pool;
    cachet_x509 **qchain;          /* the quote's PEM chain (owned) */
    size_t n_qchain;
    cachet_chain_result path;      /* PCK leaf .. root */
    bool path_ok;
    bool ext_ok;
    const cachet_x509 *anchor;     /* the root the paths end at */
    const cachet_x509 *pck_ca;     /* path[1] */
    cachet_x509_crl **root_crls;   /* verified at t */
    size_t n_root_crls;
    cachet_x509_crl **pck_crls;
    size_t n_pck_crls;
    int64_t t0;                    /* the verification time */
} tdx_prun;

/* Narrow the platform's window to [nb, na]. */
void tdx_prun_window(tdx_prun *s, int64_t nb, int64_t na);
/* A time at which some input changes state (a candidate's window edge): the
 * window stays on t0's side of it, so a cached result is exactly what a
 * fresh run would produce anywhere inside the window. */
void tdx_prun_edge(tdx_prun *s, int64_t edge);
/* Remember that the verification relied on endorsement src. */
void tdx_prun_use(tdx_prun *s, size_t src);
const char *tdx_prun_src_name(const tdx_prun *s, size_t src);
/* Edges at a candidate certificate's notBefore and notAfter. */
void tdx_prun_cert_edges(tdx_prun *s, const cachet_x509 *c);
/* Narrow the window to every certificate of a verified path. */
void tdx_prun_path_window(tdx_prun *s, const cachet_chain_result *res);
bool tdx_prun_is_anchor(const tdx_prun *s, const cachet_x509 *c);

/* TCB info and QE identity: selection, signing chain, signature, window and
 * the PCK bindings (collateral_docs.c). */
void tdx_step_tcb_info(tdx_prun *s);
void tdx_step_qe_identity(tdx_prun *s);

#endif
