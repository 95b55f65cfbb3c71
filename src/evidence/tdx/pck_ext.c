/* The PCK certificate's SGX extension, 1.2.840.113741.1.13.1 (Intel "SGX
 * PCK Certificate and CRL Profile"; evidence-formats §2.5):
 *
 *   SEQUENCE OF SEQUENCE { OID, value }
 *     .1 PPID OCTET STRING(16)      .2 TCB SEQUENCE OF SEQUENCE { OID .2.n, value }
 *     .3 PCE-ID OCTET STRING(2)     .4 FMSPC OCTET STRING(6)
 *     .5 SGX type ENUMERATED        .6 PlatformInstanceID OCTET STRING(16)
 *     .7 Configuration SEQUENCE OF SEQUENCE { OID .7.n, BOOLEAN }
 *   TCB: .2.1 .. .2.16 component SVNs (INTEGER 0..255), .2.17 PCESVN
 *   (INTEGER 0..65535), .2.18 CPUSVN (OCTET STRING(16)).
 *
 * A small DER walker over the bounded reader does the work: the value is
 * attacker-supplied bytes until the certificate chain has been verified, and
 * it is parsed before that (to pick collateral), so every length is checked
 * and every required entry must appear exactly once. */
#include <string.h>

#include "evidence/tdx/tdx.h"

#define DER_BOOLEAN 0x01
#define DER_INTEGER 0x02
#define DER_OCTETS 0x04
#define DER_OID 0x06
#define DER_ENUM 0x0a
#define DER_SEQ 0x30

/* 1.2.840.113741.1.13.1 */
static const uint8_t sgx_oid[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };

cachet_rc tdx_der_next(cachet_reader *r, tdx_der *out)
{
    uint8_t tag = 0, b = 0;
    memset(out, 0, sizeof *out);
    if (cachet_read_u8(r, &tag) != CACHET_OK || cachet_read_u8(r, &b) != CACHET_OK)
        return cachet_err(TDX_RC(TRUNCATED), "DER: truncated header");
    if ((tag & 0x1f) == 0x1f)
        return cachet_err(TDX_RC(FORMAT), "DER: multi-byte tags are not used here");
    size_t len = 0;
    if (b < 0x80) {
        len = b;
    } else {
        unsigned n = b & 0x7f;
        if (n == 0 || n > 3)
            return cachet_err(TDX_RC(FORMAT), "DER: length form 0x%02x not accepted", b);
        for (unsigned i = 0; i < n; i++) {
            uint8_t x = 0;
            if (cachet_read_u8(r, &x) != CACHET_OK)
                return cachet_err(TDX_RC(TRUNCATED), "DER: truncated length");
            if (i == 0 && x == 0)
                return cachet_err(TDX_RC(FORMAT), "DER: non-minimal length");
            len = (len << 8) | x;
        }
        if (len < 0x80)
            return cachet_err(TDX_RC(FORMAT), "DER: non-minimal length");
    }
    if (len > cachet_reader_remaining(r))
        return cachet_err(TDX_RC(TRUNCATED), "DER: value of %zu bytes, %zu left", len,
                          cachet_reader_remaining(r));
    out->tag = tag;
    out->len = len;
    cachet_read_slice(r, len, &out->val);
    return CACHET_OK;
}

static cachet_rc der_expect(cachet_reader *r, uint8_t tag, tdx_der *out, const char *what)
{
    cachet_rc rc = tdx_der_next(r, out);
    if (rc != CACHET_OK)
        return tdx_err_prefix(rc, "SGX extension", what);
    if (out->tag != tag)
        return cachet_err(TDX_RC(FORMAT), "SGX extension: %s has tag 0x%02x, expected 0x%02x",
                          what, out->tag, tag);
    return CACHET_OK;
}

/* A non-negative DER INTEGER up to max. */
static cachet_rc der_uint(const tdx_der *d, uint32_t max, uint32_t *out, const char *what)
{
    if (d->tag != DER_INTEGER && d->tag != DER_ENUM)
        return cachet_err(TDX_RC(FORMAT), "SGX extension: %s is not an INTEGER", what);
    if (d->len == 0 || d->len > 5)
        return cachet_err(TDX_RC(FORMAT), "SGX extension: %s has %zu content bytes", what, d->len);
    if (d->val[0] & 0x80)
        return cachet_err(TDX_RC(FORMAT), "SGX extension: %s is negative", what);
    if (d->len > 1 && d->val[0] == 0 && !(d->val[1] & 0x80))
        return cachet_err(TDX_RC(FORMAT), "SGX extension: %s is not minimally encoded", what);
    uint64_t v = 0;
    for (size_t i = 0; i < d->len; i++)
        v = (v << 8) | d->val[i];
    if (v > max)
        return cachet_err(TDX_RC(RANGE), "SGX extension: %s = %llu exceeds %u", what,
                          (unsigned long long)v, max);
    *out = (uint32_t)v;
    return CACHET_OK;
}

static cachet_rc der_octets(const tdx_der *d, uint8_t *out, size_t n, const char *what)
{
    if (d->tag != DER_OCTETS)
        return cachet_err(TDX_RC(FORMAT), "SGX extension: %s is not an OCTET STRING", what);
    if (d->len != n)
        return cachet_err(TDX_RC(FORMAT), "SGX extension: %s has %zu bytes, expected %zu", what,
                          d->len, n);
    memcpy(out, d->val, n);
    return CACHET_OK;
}

static cachet_rc der_bool(const tdx_der *d, int *out, const char *what)
{
    if (d->tag != DER_BOOLEAN || d->len != 1 || (d->val[0] != 0 && d->val[0] != 0xff))
        return cachet_err(TDX_RC(FORMAT), "SGX extension: %s is not a DER BOOLEAN", what);
    *out = d->val[0] ? 1 : 0;
    return CACHET_OK;
}

/* The arc after the SGX OID prefix: 1.2.840.113741.1.13.1.<a>[.<b>]; depth
 * tells how many arcs are expected (1 or 2).  Arcs are small (< 128). */
static cachet_rc sgx_arcs(const tdx_der *oid, const uint8_t *parent_tail, size_t tail_len,
                          unsigned *arc)
{
    if (oid->tag != DER_OID)
        return cachet_err(TDX_RC(FORMAT), "SGX extension: entry does not start with an OID");
    size_t plen = sizeof sgx_oid + tail_len;
    if (oid->len != plen + 1 || memcmp(oid->val, sgx_oid, sizeof sgx_oid) != 0 ||
        (tail_len && memcmp(oid->val + sizeof sgx_oid, parent_tail, tail_len) != 0) ||
        (oid->val[plen] & 0x80))
        return cachet_err(TDX_RC(FORMAT), "SGX extension: an entry's OID is not under the "
                          "expected SGX arc");
    *arc = oid->val[plen];
    return CACHET_OK;
}

static cachet_rc parse_tcb(const tdx_der *seq, tdx_pck_ext *out)
{
    static const uint8_t tail[] = { 0x02 };
    bool seen[19] = { false };
    cachet_reader r;
    cachet_reader_init(&r, seq->val, seq->len);
    while (!cachet_reader_done(&r)) {
        tdx_der ent, oid, val;
        cachet_rc rc = der_expect(&r, DER_SEQ, &ent, "TCB entry");
        if (rc != CACHET_OK)
            return rc;
        cachet_reader er;
        cachet_reader_init(&er, ent.val, ent.len);
        unsigned arc = 0;
        if ((rc = der_expect(&er, DER_OID, &oid, "TCB entry OID")) != CACHET_OK ||
            (rc = sgx_arcs(&oid, tail, sizeof tail, &arc)) != CACHET_OK)
            return rc;
        if ((rc = tdx_der_next(&er, &val)) != CACHET_OK)
            return tdx_err_prefix(rc, "SGX extension", "TCB entry value");
        if (!cachet_reader_done(&er))
            return cachet_err(TDX_RC(FORMAT), "SGX extension: trailing bytes in TCB entry %u", arc);
        if (arc < 1 || arc > 18)
            continue; /* a later profile's addition: not ours to interpret */
        if (seen[arc])
            return cachet_err(TDX_RC(FORMAT), "SGX extension: TCB entry %u repeated", arc);
        seen[arc] = true;
        uint32_t v = 0;
        if (arc <= 16) {
            if ((rc = der_uint(&val, 255, &v, "TCB component SVN")) != CACHET_OK)
                return rc;
            out->comp[arc - 1] = (uint8_t)v;
        } else if (arc == 17) {
            if ((rc = der_uint(&val, 65535, &v, "PCESVN")) != CACHET_OK)
                return rc;
            out->pcesvn = (uint16_t)v;
        } else if ((rc = der_octets(&val, out->cpusvn, 16, "CPUSVN")) != CACHET_OK) {
            return rc;
        }
    }
    for (unsigned i = 1; i <= 18; i++)
        if (!seen[i])
            return cachet_err(TDX_RC(FORMAT), "SGX extension: TCB entry %u is missing", i);
    return CACHET_OK;
}

static cachet_rc parse_config(const tdx_der *seq, tdx_pck_ext *out)
{
    static const uint8_t tail[] = { 0x07 };
    cachet_reader r;
    cachet_reader_init(&r, seq->val, seq->len);
    while (!cachet_reader_done(&r)) {
        tdx_der ent, oid, val;
        cachet_rc rc = der_expect(&r, DER_SEQ, &ent, "configuration entry");
        if (rc != CACHET_OK)
            return rc;
        cachet_reader er;
        cachet_reader_init(&er, ent.val, ent.len);
        unsigned arc = 0;
        if ((rc = der_expect(&er, DER_OID, &oid, "configuration OID")) != CACHET_OK ||
            (rc = sgx_arcs(&oid, tail, sizeof tail, &arc)) != CACHET_OK ||
            (rc = tdx_der_next(&er, &val)) != CACHET_OK)
            return rc;
        if (!cachet_reader_done(&er))
            return cachet_err(TDX_RC(FORMAT), "SGX extension: trailing bytes in configuration");
        int *slot = arc == 1 ? &out->dynamic_platform : arc == 2 ? &out->cached_keys
                  : arc == 3 ? &out->smt_enabled : NULL;
        if (!slot)
            continue;
        if (*slot != -1)
            return cachet_err(TDX_RC(FORMAT), "SGX extension: configuration entry %u repeated", arc);
        if ((rc = der_bool(&val, slot, "configuration flag")) != CACHET_OK)
            return rc;
    }
    return CACHET_OK;
}

cachet_rc tdx_pck_ext_parse(const uint8_t *der, size_t len, tdx_pck_ext *out)
{
    memset(out, 0, sizeof *out);
    out->sgx_type = -1;
    out->dynamic_platform = out->cached_keys = out->smt_enabled = -1;
    if (!der || !len)
        return cachet_err(TDX_RC(FORMAT), "SGX extension: empty");
    cachet_reader top;
    cachet_reader_init(&top, der, len);
    tdx_der outer;
    cachet_rc rc = der_expect(&top, DER_SEQ, &outer, "the extension value");
    if (rc != CACHET_OK)
        return rc;
    if (!cachet_reader_done(&top))
        return cachet_err(TDX_RC(FORMAT), "SGX extension: trailing bytes after the SEQUENCE");

    bool seen[8] = { false };
    cachet_reader r;
    cachet_reader_init(&r, outer.val, outer.len);
    while (!cachet_reader_done(&r)) {
        tdx_der ent, oid, val;
        if ((rc = der_expect(&r, DER_SEQ, &ent, "entry")) != CACHET_OK)
            return rc;
        cachet_reader er;
        cachet_reader_init(&er, ent.val, ent.len);
        unsigned arc = 0;
        if ((rc = der_expect(&er, DER_OID, &oid, "entry OID")) != CACHET_OK ||
            (rc = sgx_arcs(&oid, NULL, 0, &arc)) != CACHET_OK)
            return rc;
        if ((rc = tdx_der_next(&er, &val)) != CACHET_OK)
            return tdx_err_prefix(rc, "SGX extension", "entry value");
        if (!cachet_reader_done(&er))
            return cachet_err(TDX_RC(FORMAT), "SGX extension: trailing bytes in entry %u", arc);
        if (arc < 1 || arc > 7)
            continue; /* later profile additions are not interpreted */
        if (seen[arc])
            return cachet_err(TDX_RC(FORMAT), "SGX extension: entry %u repeated", arc);
        seen[arc] = true;
        uint32_t v = 0;
        switch (arc) {
        case 1: rc = der_octets(&val, out->ppid, 16, "PPID"); break;
        case 2:
            rc = val.tag == DER_SEQ ? parse_tcb(&val, out)
                                    : cachet_err(TDX_RC(FORMAT), "SGX extension: TCB is not a SEQUENCE");
            break;
        case 3: rc = der_octets(&val, out->pceid, 2, "PCE-ID"); break;
        case 4: rc = der_octets(&val, out->fmspc, 6, "FMSPC"); break;
        case 5:
            if (val.tag != DER_ENUM)
                rc = cachet_err(TDX_RC(FORMAT), "SGX extension: SGX type is not ENUMERATED");
            else if ((rc = der_uint(&val, 255, &v, "SGX type")) == CACHET_OK)
                out->sgx_type = (int)v;
            break;
        case 6:
            rc = der_octets(&val, out->platform_instance_id, 16, "PlatformInstanceID");
            out->has_platform_instance_id = rc == CACHET_OK;
            break;
        case 7:
            rc = val.tag == DER_SEQ ? parse_config(&val, out)
                                    : cachet_err(TDX_RC(FORMAT), "SGX extension: configuration is not a SEQUENCE");
            break;
        default: break;
        }
        if (rc != CACHET_OK)
            return rc;
    }
    static const char *const names[] = { "", "PPID", "TCB", "PCE-ID", "FMSPC", "SGX type" };
    for (unsigned i = 1; i <= 5; i++)
        if (!seen[i])
            return cachet_err(TDX_RC(FORMAT), "SGX extension: %s (.%u) is missing", names[i], i);
    return CACHET_OK;
}

const char *tdx_sgx_type_str(int t)
{
    switch (t) {
    case 0: return "Standard";
    case 1: return "Scalable";
    case 2: return "ScalableWithIntegrity";
    default: return "unknown";
    }
}
