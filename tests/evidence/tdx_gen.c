/* tdx_gen: synthetic DCAP quotes and collateral (see tdx_gen.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/clock.h"
#include "cachet/encoding.h"
#include "cachet/reader.h"
#include "evidence/registry.h"
#include "tdx_gen.h"

#define DAY ((int64_t)86400)
#define YEAR (365 * DAY)

static void die(const char *what)
{
    fprintf(stderr, "tdx_gen: %s\n", what);
    abort();
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        die("out of memory");
    va_end(ap);
    return s;
}

/* ---- a tiny DER writer for the SGX extension ------------------------------------- */

typedef struct dbuf {
    uint8_t b[4096];
    size_t n;
} dbuf;

static void d_raw(dbuf *d, const uint8_t *p, size_t n)
{
    if (d->n + n > sizeof d->b)
        die("DER buffer overflow");
    memcpy(d->b + d->n, p, n);
    d->n += n;
}

static void d_tlv(dbuf *d, uint8_t tag, const uint8_t *v, size_t n)
{
    uint8_t h[4];
    size_t k = 0;
    h[k++] = tag;
    if (n < 0x80) {
        h[k++] = (uint8_t)n;
    } else if (n < 0x100) {
        h[k++] = 0x81;
        h[k++] = (uint8_t)n;
    } else {
        h[k++] = 0x82;
        h[k++] = (uint8_t)(n >> 8);
        h[k++] = (uint8_t)n;
    }
    d_raw(d, h, k);
    d_raw(d, v, n);
}

static void d_uint(dbuf *d, uint8_t tag, unsigned v)
{
    uint8_t b[3];
    size_t n = 0;
    if (v >= 0x8000)
        b[n++] = 0, b[n++] = (uint8_t)(v >> 8), b[n++] = (uint8_t)v;
    else if (v >= 0x80)
        b[n++] = (uint8_t)(v >> 8), b[n++] = (uint8_t)v;
    else
        b[n++] = (uint8_t)v;
    if (n == 2 && b[0] == 0 && !(b[1] & 0x80))
        b[0] = b[1], n = 1;
    if (n >= 2 && b[0] == 0 && b[1] == 0)
        memmove(b, b + 1, --n);
    d_tlv(d, tag, b, n);
}

/* SEQUENCE { OID 1.2.840.113741.1.13.1.<a>[.<b>], value } */
static void d_entry(dbuf *out, unsigned a, int b, const dbuf *value)
{
    static const uint8_t base[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };
    uint8_t oid[16];
    size_t n = sizeof base;
    memcpy(oid, base, n);
    oid[n++] = (uint8_t)a;
    if (b >= 0)
        oid[n++] = (uint8_t)b;
    dbuf e = { .n = 0 };
    d_tlv(&e, 0x06, oid, n);
    d_raw(&e, value->b, value->n);
    d_tlv(out, 0x30, e.b, e.n);
}

static void sgx_extension(const tdxgen_pck_opts *o, dbuf *out)
{
    dbuf all = { .n = 0 }, v = { .n = 0 }, tcb = { .n = 0 };
    uint8_t ppid[16];
    memset(ppid, 0x77, sizeof ppid);
    d_tlv(&v, 0x04, ppid, 16);
    d_entry(&all, 1, -1, &v);
    for (int i = 0; i < 16; i++) {
        v.n = 0;
        d_uint(&v, 0x02, o->comp[i]);
        d_entry(&tcb, 2, i + 1, &v);
    }
    v.n = 0;
    d_uint(&v, 0x02, o->pcesvn);
    d_entry(&tcb, 2, 17, &v);
    v.n = 0;
    d_tlv(&v, 0x04, o->comp, 16);
    d_entry(&tcb, 2, 18, &v);
    v.n = 0;
    d_tlv(&v, 0x30, tcb.b, tcb.n);
    d_entry(&all, 2, -1, &v);
    v.n = 0;
    d_tlv(&v, 0x04, o->pceid, 2);
    d_entry(&all, 3, -1, &v);
    v.n = 0;
    d_tlv(&v, 0x04, o->fmspc, 6);
    d_entry(&all, 4, -1, &v);
    if (o->duplicate_fmspc)
        d_entry(&all, 4, -1, &v);
    v.n = 0;
    d_uint(&v, 0x0a, (unsigned)o->sgx_type);
    d_entry(&all, 5, -1, &v);
    out->n = 0;
    d_tlv(out, 0x30, all.b, all.n);
}

/* ---- the PKI --------------------------------------------------------------------- */

void tdxgen_pck_defaults(tdxgen_pck_opts *o)
{
    static const uint8_t comp[16] = { 3, 3, 2, 2, 4, 1, 0, 5 };
    static const uint8_t fmspc[6] = { 0xb0, 0xc0, 0x6f, 0, 0, 0 };
    memset(o, 0, sizeof *o);
    memcpy(o->comp, comp, 16);
    o->pcesvn = 11;
    memcpy(o->fmspc, fmspc, 6);
    o->sgx_type = 1;
}

static testpki_cert *mint(const char *cn, bool ca, int64_t nb, int64_t na, const testpki_cert *issuer,
                          const testpki_ext *exts, size_t n_exts)
{
    testpki_cert_opts o = {
        .cn = cn,
        .org = "Intel Corporation",
        .key = TESTPKI_KEY_P256,
        .not_before = nb,
        .not_after = na,
        .ca = ca,
        .has_path_len = ca && issuer == NULL,
        .path_len = 1,
        .exts = exts,
        .n_exts = n_exts,
    };
    testpki_cert *c = testpki_mint(&o, issuer);
    if (!c)
        die("testpki_mint");
    return c;
}

tdxgen *tdxgen_new(const tdxgen_pck_opts *pck)
{
    tdxgen_pck_opts def;
    if (!pck) {
        tdxgen_pck_defaults(&def);
        pck = &def;
    }
    tdxgen *g = calloc(1, sizeof *g);
    if (!g)
        die("out of memory");
    g->root = mint("Intel SGX Root CA", true, TDXGEN_T0 - 2 * YEAR, TDXGEN_T0 + 20 * YEAR, NULL, NULL, 0);
    g->pck_ca = mint(pck->processor_ca ? "Intel SGX PCK Processor CA" : "Intel SGX PCK Platform CA",
                     true, TDXGEN_T0 - 2 * YEAR, TDXGEN_T0 + 15 * YEAR, g->root, NULL, 0);
    dbuf ext;
    sgx_extension(pck, &ext);
    testpki_ext e = { .oid = TDX_OID_SGX_EXT, .critical = false, .value = ext.b, .len = ext.n };
    g->pck = mint("Intel SGX PCK Certificate", false, TDXGEN_T0 - YEAR, TDXGEN_T0 + 6 * YEAR,
                  g->pck_ca, &e, 1);
    g->tcb_signer = mint("Intel SGX TCB Signing", false, TDXGEN_T0 - YEAR, TDXGEN_T0 + 7 * YEAR,
                         g->root, NULL, 0);
    g->root_x509 = testpki_x509(g->root);
    g->roots[0] = g->root_x509;
    g->config.roots = g->roots;
    g->config.n_roots = 1;
    g->tdx_ops = cachet_tdx_ops;
    g->tdx_ops.config = &g->config;
    g->sgx_ops = cachet_sgx_ops;
    g->sgx_ops.config = &g->config;
    if (cachet_pkey_generate_ec(CACHET_CURVE_P256, &g->attest_key) != CACHET_OK)
        die("attestation key");
    uint8_t *spki = NULL;
    size_t n = 0;
    if (cachet_pkey_spki_der(g->attest_key, &spki, &n) != CACHET_OK || n < 65 || spki[n - 65] != 4)
        die("attestation key SPKI");
    memcpy(g->attest_raw, spki + n - 64, 64);
    free(spki);
    return g;
}

void tdxgen_free(tdxgen *g)
{
    if (!g)
        return;
    testpki_free(g->root);
    testpki_free(g->pck_ca);
    testpki_free(g->pck);
    testpki_free(g->tcb_signer);
    cachet_x509_free(g->root_x509);
    cachet_pkey_free(g->attest_key);
    free(g);
}

/* ---- quotes ------------------------------------------------------------------------ */

void tdxgen_quote_defaults(tdxgen_quote_opts *o)
{
    memset(o, 0, sizeof *o);
    o->version = 4;
    o->tee_tcb_svn[0] = 6;
    o->tee_tcb_svn[1] = 1;
    o->tee_tcb_svn[2] = 3;
    memcpy(o->tee_tcb_svn2, o->tee_tcb_svn, 16);
    o->td_attributes = TDX_TD_ATTR_SEPT_VE_DISABLE;
    o->enclave_flags = TDX_SGX_ATTR_INIT | TDX_SGX_ATTR_MODE64;
    memset(o->report_data, 0x5a, 64);
    memset(o->qe_mrsigner, 0xdc, 32);
    o->qe_isvprodid = 2;
    o->qe_isvsvn = 6;
    o->qe_flags = 0x11;
    o->qe_auth_len = 32;
    o->nul_terminated_chain = true;
}

typedef struct obuf {
    uint8_t *b;
    size_t n, cap;
} obuf;

static void o_raw(obuf *o, const void *p, size_t n)
{
    if (o->n + n > o->cap) {
        size_t cap = (o->cap + n) * 2;
        uint8_t *b = realloc(o->b, cap);
        if (!b)
            die("out of memory");
        o->b = b;
        o->cap = cap;
    }
    if (p)
        memcpy(o->b + o->n, p, n);
    else
        memset(o->b + o->n, 0, n);
    o->n += n;
}

static void o_u16(obuf *o, uint16_t v)
{
    uint8_t b[2];
    cachet_put_le16(b, v);
    o_raw(o, b, 2);
}

static void o_u32(obuf *o, uint32_t v)
{
    uint8_t b[4];
    cachet_put_le32(b, v);
    o_raw(o, b, 4);
}

static void o_u64(obuf *o, uint64_t v)
{
    uint8_t b[8];
    cachet_put_le64(b, v);
    o_raw(o, b, 8);
}

static void fill(obuf *o, uint8_t v, size_t n)
{
    uint8_t b[64];
    memset(b, v, sizeof b);
    while (n) {
        size_t k = n < sizeof b ? n : sizeof b;
        o_raw(o, b, k);
        n -= k;
    }
}

static void enclave_report(obuf *o, const uint8_t cpusvn[16], uint64_t flags, const uint8_t mrenclave_byte,
                           const uint8_t mrsigner[32], uint16_t prodid, uint16_t svn,
                           const uint8_t reportdata[64])
{
    size_t start = o->n;
    o_raw(o, cpusvn, 16);
    o_u32(o, 0);           /* MISCSELECT */
    o_raw(o, NULL, 12);
    o_raw(o, NULL, 16);    /* ISVEXTPRODID */
    o_u64(o, flags);
    o_u64(o, 0xe7);        /* XFRM */
    fill(o, mrenclave_byte, 32);
    o_raw(o, NULL, 32);
    o_raw(o, mrsigner, 32);
    o_raw(o, NULL, 32);
    o_raw(o, NULL, 64);    /* CONFIGID */
    o_u16(o, prodid);
    o_u16(o, svn);
    o_u16(o, 0);           /* CONFIGSVN */
    o_raw(o, NULL, 42);
    o_raw(o, NULL, 16);    /* ISVFAMILYID */
    o_raw(o, reportdata, 64);
    if (o->n - start != TDX_ENCLAVE_REPORT_LEN)
        die("enclave report layout");
}

static void td_report(obuf *o, const tdxgen_quote_opts *q)
{
    size_t start = o->n;
    o_raw(o, q->tee_tcb_svn, 16);
    fill(o, 0x5b, 48);          /* MRSEAM */
    o_raw(o, q->mrsignerseam, 48);
    o_raw(o, q->seam_attributes, 8);
    o_u64(o, q->td_attributes);
    o_u64(o, 0x206e7);          /* XFAM */
    fill(o, 0x91, 48);          /* MRTD */
    o_raw(o, NULL, 48 * 3);     /* MRCONFIGID, MROWNER, MROWNERCONFIG */
    for (int i = 0; i < 4; i++)
        fill(o, (uint8_t)(0x40 + i), 48);
    o_raw(o, q->report_data, 64);
    if (q->td15) {
        o_raw(o, q->tee_tcb_svn2, 16);
        o_raw(o, q->mrservicetd, 48);
    }
    if (o->n - start != (q->td15 ? TDX_TD15_LEN : TDX_TD10_LEN))
        die("TD report layout");
}

uint8_t *tdxgen_quote(const tdxgen *g, const tdxgen_quote_opts *q, size_t *len)
{
    obuf o = { 0 };
    bool sgx = q->sgx || q->version == 3;
    /* header */
    o_u16(&o, q->version);
    o_u16(&o, TDX_ATT_KEY_ECDSA_P256);
    o_u32(&o, sgx ? TDX_TEE_TYPE_SGX : TDX_TEE_TYPE_TDX);
    o_u16(&o, 0);
    o_u16(&o, 0);
    o_raw(&o, tdx_intel_qe_vendor_id, 16);
    fill(&o, 0x33, 20);
    /* body */
    if (q->version == 5) {
        o_u16(&o, sgx ? TDX_BODY_SGX : q->td15 ? TDX_BODY_TD15 : TDX_BODY_TD10);
        o_u32(&o, sgx ? TDX_ENCLAVE_REPORT_LEN : q->td15 ? TDX_TD15_LEN : TDX_TD10_LEN);
    }
    if (sgx) {
        static const uint8_t cpusvn[16] = { 3, 3, 2, 2, 4, 1, 0, 5 };
        uint8_t signer[32];
        memset(signer, 0x81, sizeof signer);
        enclave_report(&o, cpusvn, q->enclave_flags, 0x33, signer, 7, 1, q->report_data);
    } else {
        td_report(&o, q);
    }
    size_t signed_len = o.n;

    /* QE report and its signature */
    uint8_t auth[TDX_QE_AUTH_MAX];
    for (size_t i = 0; i < q->qe_auth_len && i < sizeof auth; i++)
        auth[i] = (uint8_t)i;
    uint8_t rd[64] = { 0 };
    cachet_hash_ctx *h = cachet_hash_new(CACHET_HASH_SHA256);
    if (!h || cachet_hash_update(h, g->attest_raw, 64) != CACHET_OK ||
        cachet_hash_update(h, auth, q->qe_auth_len) != CACHET_OK || cachet_hash_final(h, rd) != CACHET_OK)
        die("QE binding hash");
    cachet_hash_free(h);
    if (q->bad_binding)
        rd[0] ^= 1;
    obuf qe = { 0 };
    static const uint8_t qe_cpusvn[16] = { 3, 3, 2, 2, 4, 1, 0, 5 };
    enclave_report(&qe, qe_cpusvn, q->qe_flags, 0x0a, q->qe_mrsigner,
                   sgx && q->qe_isvprodid == 2 ? 1 : q->qe_isvprodid, q->qe_isvsvn, rd);
    uint8_t qe_sig[64];
    cachet_pkey *pck_key = testpki_key(g->pck);
    if (!pck_key || cachet_ecdsa_sign_raw(pck_key, CACHET_HASH_SHA256, qe.b, qe.n, qe_sig, 32,
                                          CACHET_BIG_ENDIAN) != CACHET_OK)
        die("QE report signature");
    cachet_pkey_free(pck_key);

    /* PEM chain */
    const testpki_cert *chain[3] = { g->pck, g->pck_ca, g->root };
    char *pem = testpki_bundle_pem(chain, 3);
    if (!pem)
        die("PEM chain");
    size_t pem_len = strlen(pem) + (q->nul_terminated_chain ? 1 : 0);

    /* the QE part: report | sig | auth | 5 | PEM */
    obuf tail = { 0 };
    o_raw(&tail, qe.b, qe.n);
    o_raw(&tail, qe_sig, 64);
    o_u16(&tail, q->qe_auth_len);
    o_raw(&tail, auth, q->qe_auth_len);
    o_u16(&tail, TDX_CERT_PCK_CHAIN);
    o_u32(&tail, (uint32_t)pem_len);
    o_raw(&tail, pem, pem_len);
    free(pem);
    free(qe.b);

    uint8_t sig[64];
    if (cachet_ecdsa_sign_raw(g->attest_key, CACHET_HASH_SHA256, o.b, signed_len, sig, 32,
                              CACHET_BIG_ENDIAN) != CACHET_OK)
        die("quote signature");
    size_t sd_len = 128 + (q->version == 3 ? tail.n : 6 + tail.n);
    o_u32(&o, (uint32_t)sd_len);
    o_raw(&o, sig, 64);
    o_raw(&o, g->attest_raw, 64);
    if (q->version != 3) {
        o_u16(&o, TDX_CERT_QE_REPORT);
        o_u32(&o, (uint32_t)tail.n);
    }
    o_raw(&o, tail.b, tail.n);
    free(tail.b);
    o_raw(&o, NULL, q->trailing);
    *len = o.n;
    return o.b;
}

/* ---- collateral -------------------------------------------------------------------- */

static char *rfc3339(int64_t t)
{
    char b[21];
    cachet_time_format_rfc3339(t, b);
    return xasprintf("%s", b);
}

static const char *default_levels(bool tdx)
{
    if (tdx)
        return "[{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":3},{\"svn\":3},{\"svn\":2},{\"svn\":2},"
               "{\"svn\":4},{\"svn\":1},{\"svn\":0},{\"svn\":5},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
               "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}],\"pcesvn\":11,"
               "\"tdxtcbcomponents\":[{\"svn\":5},{\"svn\":0},{\"svn\":2},{\"svn\":0},{\"svn\":0},"
               "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
               "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}]},\"tcbDate\":\"2024-03-13T00:00:00Z\","
               "\"tcbStatus\":\"UpToDate\"},"
               "{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":2},{\"svn\":2},{\"svn\":2},{\"svn\":2},"
               "{\"svn\":3},{\"svn\":1},{\"svn\":0},{\"svn\":3},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
               "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}],\"pcesvn\":5,"
               "\"tdxtcbcomponents\":[{\"svn\":3},{\"svn\":0},{\"svn\":1},{\"svn\":0},{\"svn\":0},"
               "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
               "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}]},\"tcbDate\":\"2018-01-04T00:00:00Z\","
               "\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-00106\"]}]";
    return "[{\"tcb\":{\"sgxtcbcomponents\":[{\"svn\":3},{\"svn\":3},{\"svn\":2},{\"svn\":2},"
           "{\"svn\":4},{\"svn\":1},{\"svn\":0},{\"svn\":5},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
           "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}],\"pcesvn\":11},"
           "\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]";
}

static const char default_modules[] =
    "[{\"id\":\"TDX_01\",\"mrsigner\":\"000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000\",\"attributes\":\"0000000000000000\",\"attributesMask\":"
    "\"FFFFFFFFFFFFFFFF\",\"tcbLevels\":[{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2024-03-13T00:00:00Z\","
    "\"tcbStatus\":\"UpToDate\"},{\"tcb\":{\"isvsvn\":2},\"tcbDate\":\"2023-08-09T00:00:00Z\","
    "\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-01000\"]}]}]";

char *tdxgen_tcb_info_text(bool tdx, const char *fmspc_hex, const char *levels_json,
                           const char *modules_json, int64_t issue, int64_t next)
{
    char *a = rfc3339(issue), *b = rfc3339(next);
    char *s;
    if (tdx)
        s = xasprintf("{\"id\":\"TDX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
                      "\"fmspc\":\"%s\",\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":17,"
                      "\"tdxModule\":{\"mrsigner\":\"0000000000000000000000000000000000000000000000000000"
                      "00000000000000000000000000000000000000000000\",\"attributes\":\"0000000000000000\","
                      "\"attributesMask\":\"FFFFFFFFFFFFFFFF\"},\"tdxModuleIdentities\":%s,\"tcbLevels\":%s}",
                      a, b, fmspc_hex ? fmspc_hex : "B0C06F000000",
                      modules_json ? modules_json : default_modules,
                      levels_json ? levels_json : default_levels(true));
    else
        s = xasprintf("{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
                      "\"fmspc\":\"%s\",\"pceId\":\"0000\",\"tcbType\":0,\"tcbEvaluationDataNumber\":17,"
                      "\"tcbLevels\":%s}",
                      a, b, fmspc_hex ? fmspc_hex : "B0C06F000000",
                      levels_json ? levels_json : default_levels(false));
    free(a);
    free(b);
    return s;
}

char *tdxgen_qe_identity_text(bool tdx, const char *mrsigner_hex, int isvprodid, int64_t issue,
                              int64_t next)
{
    char *a = rfc3339(issue), *b = rfc3339(next);
    char *s = xasprintf(
        "{\"id\":\"%s\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":\"%s\","
        "\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\",\"miscselectMask\":\"FFFFFFFF\","
        "\"attributes\":\"11000000000000000000000000000000\",\"attributesMask\":"
        "\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"%s\",\"isvprodid\":%d,\"tcbLevels\":["
        "{\"tcb\":{\"isvsvn\":4},\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"},"
        "{\"tcb\":{\"isvsvn\":2},\"tcbDate\":\"2023-02-15T00:00:00Z\",\"tcbStatus\":\"OutOfDate\","
        "\"advisoryIDs\":[\"INTEL-SA-00999\"]}]}",
        tdx ? "TD_QE" : "QE", a, b,
        mrsigner_hex ? mrsigner_hex : "DCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDCDC",
        isvprodid);
    free(a);
    free(b);
    return s;
}

char *tdxgen_pcs_body(const tdxgen *g, bool tcb_info, const char *text)
{
    uint8_t sig[64];
    cachet_pkey *k = testpki_key(g->tcb_signer);
    if (!k || cachet_ecdsa_sign_raw(k, CACHET_HASH_SHA256, text, strlen(text), sig, 32,
                                    CACHET_BIG_ENDIAN) != CACHET_OK)
        die("collateral signature");
    cachet_pkey_free(k);
    char hex[129];
    cachet_hex_encode(sig, 64, hex);
    return xasprintf("{\"%s\":%s,\"signature\":\"%s\"}", tcb_info ? "tcbInfo" : "enclaveIdentity",
                     text, hex);
}

char *tdxgen_signing_chain_pem(const tdxgen *g)
{
    const testpki_cert *chain[2] = { g->tcb_signer, g->root };
    char *pem = testpki_bundle_pem(chain, 2);
    if (!pem)
        die("signing chain");
    return pem;
}

uint8_t *tdxgen_root_crl(const tdxgen *g, bool revoke_pck_ca, size_t *len)
{
    const testpki_cert *rev[1] = { g->pck_ca };
    testpki_crl_opts o = {
        .this_update = TDXGEN_T0 - 10 * DAY,
        .next_update = TDXGEN_T0 + 20 * DAY,
        .revoked = revoke_pck_ca ? rev : NULL,
        .n_revoked = revoke_pck_ca ? 1 : 0,
    };
    uint8_t *crl = testpki_crl(g->root, &o, len);
    if (!crl)
        die("root CRL");
    return crl;
}

uint8_t *tdxgen_pck_crl(const tdxgen *g, bool revoke_pck, size_t *len)
{
    const testpki_cert *rev[1] = { g->pck };
    testpki_crl_opts o = {
        .this_update = TDXGEN_T0 - 10 * DAY,
        .next_update = TDXGEN_T0 + 20 * DAY,
        .revoked = revoke_pck ? rev : NULL,
        .n_revoked = revoke_pck ? 1 : 0,
    };
    uint8_t *crl = testpki_crl(g->pck_ca, &o, len);
    if (!crl)
        die("PCK CRL");
    return crl;
}

static void add(cachet_endorsements *e, const char *name, const void *p, size_t n)
{
    if (cachet_endorsements_add_bytes(e, name, p, n) != CACHET_OK)
        die("endorsement");
}

cachet_endorsements *tdxgen_endorsements(const tdxgen *g, bool tdx)
{
    cachet_endorsements *e = cachet_endorsements_new();
    if (!e)
        die("out of memory");
    char *ti = tdxgen_tcb_info_text(tdx, NULL, NULL, NULL, TDXGEN_T0 - 10 * DAY, TDXGEN_T0 + 20 * DAY);
    char *qi = tdxgen_qe_identity_text(tdx, NULL, tdx ? 2 : 1, TDXGEN_T0 - 10 * DAY, TDXGEN_T0 + 20 * DAY);
    char *tb = tdxgen_pcs_body(g, true, ti), *qb = tdxgen_pcs_body(g, false, qi);
    char *chain = tdxgen_signing_chain_pem(g);
    size_t rl, pl;
    uint8_t *rc = tdxgen_root_crl(g, false, &rl), *pc = tdxgen_pck_crl(g, false, &pl);
    add(e, "tcb_info.json", tb, strlen(tb));
    add(e, "qe_identity.json", qb, strlen(qb));
    add(e, "tcb_signing_chain.pem", chain, strlen(chain));
    add(e, "root_ca.crl", rc, rl);
    add(e, "pck.crl", pc, pl);
    free(ti);
    free(qi);
    free(tb);
    free(qb);
    free(chain);
    free(rc);
    free(pc);
    return e;
}
