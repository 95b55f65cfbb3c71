/* The FWID in the attestation leaf ("GSP FMC LF") certificate.
 *
 * Hopper leaves carry 2.23.133.5.4.1 as SEQUENCE { INTEGER, SPKI, FWID };
 * Blackwell leaves carry 2.23.133.5.4.1.1 as a TCG DiceTcbInfo whose
 * fwids [6] list holds FWID entries.  An FWID is SEQUENCE { hashAlg OID,
 * digest OCTET STRING }.  nvtrust takes "the last 48 bytes" of the value,
 * which is right for Hopper only; here the DER is walked (bounded, definite
 * lengths, single-byte tags) and the first SHA-384 FWID is returned. */
#include <string.h>

#include "evidence/nvgpu/nvgpu.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

/* 2.16.840.1.101.3.4.2.2 (id-sha384), DER contents. */
static const uint8_t oid_sha384[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02 };

typedef struct tlv {
    uint8_t tag;
    const uint8_t *val;
    size_t len;
} tlv;

/* Next TLV from [*p, end): false on malformed or truncated input. */
static bool der_next(const uint8_t **p, const uint8_t *end, tlv *out)
{
    const uint8_t *q = *p;
    if (end - q < 2)
        return false;
    out->tag = *q++;
    if ((out->tag & 0x1F) == 0x1F)
        return false; /* high tag numbers do not occur here */
    size_t len = *q++;
    if (len & 0x80) {
        size_t nb = len & 0x7F;
        if (nb == 0 || nb > 3 || (size_t)(end - q) < nb)
            return false; /* indefinite or absurd lengths */
        len = 0;
        for (size_t i = 0; i < nb; i++)
            len = (len << 8) | *q++;
        if (len < 0x80)
            return false; /* not minimal */
    }
    if ((size_t)(end - q) < len)
        return false;
    out->val = q;
    out->len = len;
    *p = q + len;
    return true;
}

/* Is this SEQUENCE's content exactly { OID sha384, OCTET STRING(48) }? */
static int as_fwid(const tlv *seq, uint8_t out[NVGPU_FWID_LEN])
{
    const uint8_t *p = seq->val, *end = seq->val + seq->len;
    tlv oid, dig;
    if (!der_next(&p, end, &oid) || oid.tag != 0x06)
        return 0;
    if (!der_next(&p, end, &dig) || dig.tag != 0x04 || p != end)
        return 0;
    if (oid.len != sizeof oid_sha384 || memcmp(oid.val, oid_sha384, sizeof oid_sha384) != 0)
        return 0;
    if (dig.len != NVGPU_FWID_LEN)
        return -1;
    memcpy(out, dig.val, NVGPU_FWID_LEN);
    return 1;
}

cachet_rc nvgpu_fwid_from_ext(const uint8_t *der, size_t len, uint8_t out[NVGPU_FWID_LEN])
{
    const uint8_t *p = der, *end = der + len;
    tlv outer;
    if (!der || !der_next(&p, end, &outer) || outer.tag != 0x30 || p != end)
        return cachet_err(EV_RC(FORMAT), "FWID extension: not one DER SEQUENCE");
    const uint8_t *c = outer.val, *cend = outer.val + outer.len;
    while (c < cend) {
        tlv child;
        if (!der_next(&c, cend, &child))
            return cachet_err(EV_RC(FORMAT), "FWID extension: malformed element");
        int r = 0;
        if (child.tag == 0x30) {
            r = as_fwid(&child, out);
        } else if (child.tag == 0xA6) { /* DiceTcbInfo fwids [6] IMPLICIT SEQUENCE OF FWID */
            const uint8_t *f = child.val, *fend = child.val + child.len;
            while (f < fend && r == 0) {
                tlv fw;
                if (!der_next(&f, fend, &fw) || fw.tag != 0x30)
                    return cachet_err(EV_RC(FORMAT), "FWID extension: malformed fwids list");
                r = as_fwid(&fw, out);
            }
        }
        if (r < 0)
            return cachet_err(EV_RC(FORMAT), "FWID extension: SHA-384 digest is not %u bytes",
                              NVGPU_FWID_LEN);
        if (r > 0)
            return CACHET_OK;
    }
    return cachet_err(EV_RC(NOT_FOUND), "FWID extension carries no SHA-384 FWID");
}

cachet_rc nvgpu_fwid_from_cert(const cachet_x509 *leaf, uint8_t out[NVGPU_FWID_LEN])
{
    const uint8_t *v1 = NULL, *v2 = NULL;
    size_t l1 = 0, l2 = 0;
    cachet_rc r1 = cachet_x509_extension(leaf, NVGPU_OID_DICE_TCBINFO, &v1, &l1);
    cachet_rc r2 = cachet_x509_extension(leaf, NVGPU_OID_DICE_TCBINFO_NV, &v2, &l2);
    if ((r1 != CACHET_OK && cachet_rc_code(r1) != CACHET_E_NOT_FOUND) ||
        (r2 != CACHET_OK && cachet_rc_code(r2) != CACHET_E_NOT_FOUND))
        return cachet_err(EV_RC(FORMAT), "the DICE TcbInfo extension appears more than once");
    if (r1 == CACHET_OK && r2 == CACHET_OK)
        return cachet_err(EV_RC(FORMAT), "the leaf carries both %s and %s",
                          NVGPU_OID_DICE_TCBINFO, NVGPU_OID_DICE_TCBINFO_NV);
    if (r1 == CACHET_OK)
        return nvgpu_fwid_from_ext(v1, l1, out);
    if (r2 == CACHET_OK)
        return nvgpu_fwid_from_ext(v2, l2, out);
    return cachet_err(EV_RC(NOT_FOUND), "no FWID extension (%s) in the signing certificate",
                      NVGPU_OID_DICE_TCBINFO);
}
