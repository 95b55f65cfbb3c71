/* The AMD extensions of a VCEK or VLEK certificate (AMD 57230 §3;
 * evidence-formats §1.7), read through a lookup function so that the same
 * bounded reader serves certificates and the fuzzer.
 *
 *   1.3.6.1.4.1.3704.1.1     structVersion  INTEGER (0 legacy, 1 Turin layout)
 *   1.3.6.1.4.1.3704.1.2     productName    IA5String ("Milan-B0", "Genoa", "Turin")
 *   1.3.6.1.4.1.3704.1.3.n   SPLs           INTEGER 0..255 (n: 1 bl, 2 tee, 3 snp,
 *                                           4-7 reserved, 8 ucode, 9 fmc)
 *   1.3.6.1.4.1.3704.1.4     hwID           raw 64 bytes (8 on Turin), or an
 *                                           OCTET STRING of either size
 *   1.3.6.1.4.1.3704.1.5     cspID          IA5String (VLEK only) */
#include <stdio.h>
#include <string.h>

#include "evidence/snp/snp.h"

#define SNP_ERR(code) CACHET_RC(CACHET_SUB_EVIDENCE, code)

static cachet_rc read_spl(snp_ext_lookup_fn lookup, void *arg, unsigned n, snp_vcek_info *out)
{
    char oid[48];
    const uint8_t *val = NULL;
    size_t len = 0;
    snprintf(oid, sizeof oid, "%s%u", SNP_OID_SPL_PREFIX, n);
    cachet_rc rc = lookup(arg, oid, &val, &len);
    if (cachet_rc_code(rc) == CACHET_E_NOT_FOUND)
        return CACHET_OK;
    if (rc != CACHET_OK)
        return cachet_err(SNP_ERR(CACHET_E_FORMAT), "extension %s: %s", oid,
                          cachet_err_detail());
    uint64_t v = 0;
    if (cachet_der_read_uint(val, len, &v) != CACHET_OK)
        return cachet_err(SNP_ERR(CACHET_E_FORMAT), "extension %s is not a DER INTEGER", oid);
    if (v > 255)
        return cachet_err(SNP_ERR(CACHET_E_RANGE), "extension %s: SPL %llu exceeds 255", oid,
                          (unsigned long long)v);
    out->has_spl[n] = true;
    out->spl[n] = (uint8_t)v;
    return CACHET_OK;
}

/* hwID: the KDS served raw bytes for years and now wraps them in an OCTET
 * STRING; both are accepted, told apart by length (raw: exactly 64 or 8). */
static cachet_rc read_hwid(const uint8_t *val, size_t len, snp_vcek_info *out)
{
    if (len == SNP_CHIP_ID_LEN || len == SNP_TURIN_CHIP_ID_LEN) {
        memcpy(out->hwid, val, len);
        out->hwid_len = len;
        return CACHET_OK;
    }
    const uint8_t *inner = NULL;
    size_t inner_len = 0;
    if (len > 2 && val[0] == 0x04 && cachet_der_read_octets(val, len, &inner, &inner_len) == CACHET_OK &&
        (inner_len == SNP_CHIP_ID_LEN || inner_len == SNP_TURIN_CHIP_ID_LEN)) {
        memcpy(out->hwid, inner, inner_len);
        out->hwid_len = inner_len;
        out->hwid_was_octet_string = true;
        return CACHET_OK;
    }
    return cachet_err(SNP_ERR(CACHET_E_FORMAT),
                      "hwID extension is %zu bytes: neither 64/8 raw bytes nor an OCTET STRING of them",
                      len);
}

static cachet_rc read_string(snp_ext_lookup_fn lookup, void *arg, const char *oid, bool *present,
                             char *buf, size_t cap)
{
    const uint8_t *val = NULL;
    size_t len = 0;
    *present = false;
    cachet_rc rc = lookup(arg, oid, &val, &len);
    if (cachet_rc_code(rc) == CACHET_E_NOT_FOUND)
        return CACHET_OK;
    if (rc != CACHET_OK)
        return cachet_err(SNP_ERR(CACHET_E_FORMAT), "extension %s: %s", oid,
                          cachet_err_detail());
    if (cachet_der_read_string(val, len, buf, cap) != CACHET_OK)
        return cachet_err(SNP_ERR(CACHET_E_FORMAT), "extension %s is not a short DER string", oid);
    for (const char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            return cachet_err(SNP_ERR(CACHET_E_FORMAT),
                              "extension %s holds a non-printable character", oid);
    *present = true;
    return CACHET_OK;
}

cachet_rc snp_vcek_ext_read(snp_ext_lookup_fn lookup, void *arg, snp_vcek_info *out)
{
    cachet_rc rc;
    const uint8_t *val = NULL;
    size_t len = 0;
    bool present = false;

    if (!lookup || !out)
        return cachet_err(SNP_ERR(CACHET_E_INVALID_ARG), "snp: bad arguments");
    memset(out, 0, sizeof *out);

    rc = lookup(arg, SNP_OID_STRUCT_VERSION, &val, &len);
    if (rc == CACHET_OK) {
        if (cachet_der_read_uint(val, len, &out->struct_version) != CACHET_OK)
            return cachet_err(SNP_ERR(CACHET_E_FORMAT), "structVersion is not a DER INTEGER");
        out->has_struct_version = true;
    } else if (cachet_rc_code(rc) != CACHET_E_NOT_FOUND) {
        return cachet_err(SNP_ERR(CACHET_E_FORMAT), "structVersion: %s", cachet_err_detail());
    }

    if ((rc = read_string(lookup, arg, SNP_OID_PRODUCT_NAME, &present, out->product_name,
                          sizeof out->product_name)) != CACHET_OK)
        return rc;
    if (!present)
        return cachet_err(SNP_ERR(CACHET_E_NOT_FOUND), "productName extension is missing");

    for (unsigned n = 1; n <= SNP_SPL_MAX; n++)
        if ((rc = read_spl(lookup, arg, n, out)) != CACHET_OK)
            return rc;
    static const unsigned required[] = { SNP_SPL_BL, SNP_SPL_TEE, SNP_SPL_SNP, SNP_SPL_UCODE };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!out->has_spl[required[i]])
            return cachet_err(SNP_ERR(CACHET_E_NOT_FOUND), "SPL extension %s%u is missing",
                              SNP_OID_SPL_PREFIX, required[i]);

    rc = lookup(arg, SNP_OID_HWID, &val, &len);
    if (rc == CACHET_OK) {
        if ((rc = read_hwid(val, len, out)) != CACHET_OK)
            return rc;
    } else if (cachet_rc_code(rc) != CACHET_E_NOT_FOUND) {
        return cachet_err(SNP_ERR(CACHET_E_FORMAT), "hwID: %s", cachet_err_detail());
    }

    if ((rc = read_string(lookup, arg, SNP_OID_CSP_ID, &out->has_csp_id, out->csp_id,
                          sizeof out->csp_id)) != CACHET_OK)
        return rc;
    if (out->has_csp_id && out->hwid_len)
        return cachet_err(SNP_ERR(CACHET_E_FORMAT),
                          "certificate carries both hwID (VCEK) and cspID (VLEK)");
    return CACHET_OK;
}

static cachet_rc cert_lookup(void *arg, const char *oid, const uint8_t **val, size_t *len)
{
    return cachet_x509_extension((const cachet_x509 *)arg, oid, val, len);
}

cachet_rc snp_vcek_info_from_cert(const cachet_x509 *cert, snp_vcek_info *out)
{
    return snp_vcek_ext_read(cert_lookup, (void *)cert, out);
}

cachet_rc snp_vcek_tcb(const snp_vcek_info *v, snp_product p, uint64_t *raw)
{
    snp_tcb t;
    memset(&t, 0, sizeof t);
    t.bootloader = v->spl[SNP_SPL_BL];
    t.tee = v->spl[SNP_SPL_TEE];
    t.snp = v->spl[SNP_SPL_SNP];
    t.microcode = v->spl[SNP_SPL_UCODE];
    if (snp_product_turin_layout(p)) {
        if (!v->has_spl[SNP_SPL_FMC])
            return cachet_err(SNP_ERR(CACHET_E_NOT_FOUND),
                              "Turin certificate lacks fmcSPL (%s9)", SNP_OID_SPL_PREFIX);
        t.fmc = v->spl[SNP_SPL_FMC];
        /* Turin has three reserved bytes (4..6) and no spl_4 byte; the
         * reserved SPLs must be zero for the layout to say anything. */
        for (unsigned n = 4; n <= 7; n++)
            if (v->spl[n] != 0)
                return cachet_err(SNP_ERR(CACHET_E_FORMAT),
                                  "Turin certificate has non-zero reserved SPL %s%u",
                                  SNP_OID_SPL_PREFIX, n);
    } else {
        if (v->has_spl[SNP_SPL_FMC])
            return cachet_err(SNP_ERR(CACHET_E_FORMAT),
                              "%s certificate carries fmcSPL, which only Turin defines",
                              snp_product_name(p));
        for (unsigned n = 4; n <= 7; n++)
            t.reserved[n - 4] = v->spl[n]; /* absent reads as zero */
    }
    *raw = snp_tcb_encode(&t, p);
    return CACHET_OK;
}
