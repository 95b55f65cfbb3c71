/* TPM structures through libtss2-mu: TPMS_ATTEST (quote), TPMT_SIGNATURE,
 * TPMT_PUBLIC; object Names; public keys; signature verification; hash
 * algorithm identifiers; PCR value sets, selections and digests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "cachet/secmem.h"
#include "evidence/tpm/tpm.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

/* ---- hash algorithms ---------------------------------------------------------- */

static const struct {
    uint16_t alg;
    const char *name;
    size_t len;
} algs[] = {
    { TPM2_ALG_SHA1, "sha1", 20 },
    { TPM2_ALG_SHA256, "sha256", 32 },
    { TPM2_ALG_SHA384, "sha384", 48 },
    { TPM2_ALG_SHA512, "sha512", 64 },
};

size_t tpm_alg_digest_len(uint16_t alg)
{
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (algs[i].alg == alg)
            return algs[i].len;
    return 0;
}

const char *tpm_alg_name(uint16_t alg)
{
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (algs[i].alg == alg)
            return algs[i].name;
    return NULL;
}

uint16_t tpm_alg_from_name(const char *name)
{
    for (size_t i = 0; name && i < sizeof algs / sizeof algs[0]; i++)
        if (strcmp(algs[i].name, name) == 0)
            return algs[i].alg;
    return TPM2_ALG_ERROR;
}

bool tpm_alg_hash(uint16_t alg, cachet_hash_alg *out)
{
    switch (alg) {
    case TPM2_ALG_SHA256: *out = CACHET_HASH_SHA256; return true;
    case TPM2_ALG_SHA384: *out = CACHET_HASH_SHA384; return true;
    case TPM2_ALG_SHA512: *out = CACHET_HASH_SHA512; return true;
    default: return false;
    }
}

/* ---- blobs -------------------------------------------------------------------- */

void tpm_blob_free(tpm_blob *b)
{
    if (!b)
        return;
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

cachet_rc tpm_blob_set(tpm_blob *b, const uint8_t *p, size_t len)
{
    tpm_blob_free(b);
    b->p = malloc(len ? len : 1);
    if (!b->p)
        return cachet_err(EV_RC(NOMEM), "tpm: out of memory");
    if (len)
        memcpy(b->p, p, len);
    b->len = len;
    return CACHET_OK;
}

void tpm_evidence_free(tpm_evidence *e)
{
    if (!e)
        return;
    tpm_blob_free(&e->ak_public);
    for (size_t i = 0; i < e->n_quotes; i++) {
        tpm_blob_free(&e->quotes[i].attest);
        tpm_blob_free(&e->quotes[i].sig);
    }
    tpm_blob_free(&e->event_log);
    tpm_blob_free(&e->ak_cert);
    for (size_t i = 0; i < e->n_ak_chain; i++)
        tpm_blob_free(&e->ak_chain[i]);
    tpm_blob_free(&e->ek_public);
    tpm_blob_free(&e->ek_cert);
    for (size_t i = 0; i < e->n_ek_chain; i++)
        tpm_blob_free(&e->ek_chain[i]);
    tpm_blob_free(&e->cred_blob);
    tpm_blob_free(&e->enc_secret);
    memset(e, 0, sizeof *e);
}

/* ---- PCR value sets --------------------------------------------------------------- */

const tpm_pcr_bank *tpm_pcrs_find(const tpm_pcrs *p, uint16_t alg)
{
    for (size_t i = 0; p && i < p->n; i++)
        if (p->bank[i].alg == alg)
            return &p->bank[i];
    return NULL;
}

cachet_rc tpm_pcrs_set(tpm_pcrs *p, uint16_t alg, unsigned index, const uint8_t *v, size_t len)
{
    size_t dlen = tpm_alg_digest_len(alg);
    if (!dlen)
        return cachet_err(EV_RC(UNSUPPORTED), "PCR bank 0x%04x is not supported", alg);
    if (index >= TPM_PCR_COUNT)
        return cachet_err(EV_RC(FORMAT), "PCR index %u is not in 0..23", index);
    if (len != dlen)
        return cachet_err(EV_RC(FORMAT), "PCR %u of bank %s has %zu bytes, not %zu", index,
                          tpm_alg_name(alg), len, dlen);
    tpm_pcr_bank *b = (tpm_pcr_bank *)tpm_pcrs_find(p, alg);
    if (!b) {
        if (p->n >= TPM_MAX_BANKS)
            return cachet_err(EV_RC(LIMIT), "more than %u PCR banks", TPM_MAX_BANKS);
        b = &p->bank[p->n++];
        memset(b, 0, sizeof *b);
        b->alg = alg;
    }
    if (b->present & (1u << index)) {
        if (memcmp(b->v[index], v, len) != 0)
            return cachet_err(EV_RC(FORMAT), "two different values for %s PCR %u",
                              tpm_alg_name(alg), index);
        return CACHET_OK;
    }
    memcpy(b->v[index], v, len);
    b->present |= 1u << index;
    return CACHET_OK;
}

/* ---- TPMS_ATTEST ------------------------------------------------------------------- */

const char *tpm_attest_stage_check(tpm_attest_stage s)
{
    switch (s) {
    case TPM_ATTEST_MAGIC: return "tpm.quote.magic";
    case TPM_ATTEST_TYPE: return "tpm.quote.type";
    case TPM_ATTEST_STRUCTURE: return "tpm.quote.structure";
    case TPM_ATTEST_OK: break;
    }
    return "tpm.quote.structure";
}

static cachet_rc selection_in_range(const TPML_PCR_SELECTION *sel)
{
    for (uint32_t i = 0; i < sel->count; i++) {
        const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
        if (s->sizeofSelect > TPM2_PCR_SELECT_MAX)
            return cachet_err(EV_RC(FORMAT), "sizeofSelect %u", s->sizeofSelect);
        for (unsigned byte = 0; byte < s->sizeofSelect; byte++)
            for (unsigned bit = 0; bit < 8; bit++)
                if ((s->pcrSelect[byte] & (1u << bit)) && byte * 8 + bit >= TPM_PCR_COUNT)
                    return cachet_err(EV_RC(FORMAT), "the selection names PCR %u (only 0..23 exist)",
                                      byte * 8 + bit);
        for (uint32_t j = 0; j < i; j++)
            if (sel->pcrSelections[j].hash == s->hash)
                return cachet_err(EV_RC(FORMAT), "bank 0x%04x is selected twice", s->hash);
    }
    return CACHET_OK;
}

cachet_rc tpm_attest_parse(const uint8_t *buf, size_t len, TPMS_ATTEST *out,
                           tpm_attest_stage *stage)
{
    *stage = TPM_ATTEST_MAGIC;
    memset(out, 0, sizeof *out);
    if (!buf)
        return cachet_err(EV_RC(INVALID_ARG), "no TPMS_ATTEST");
    size_t off = 0;
    UINT32 magic = 0;
    if (Tss2_MU_UINT32_Unmarshal(buf, len, &off, &magic) != TSS2_RC_SUCCESS)
        return cachet_err(EV_RC(TRUNCATED), "%zu bytes: too short for TPM_GENERATED", len);
    if (magic != TPM2_GENERATED_VALUE)
        return cachet_err(EV_RC(FORMAT), "magic 0x%08x is not TPM_GENERATED_VALUE 0xff544347",
                          magic);
    *stage = TPM_ATTEST_TYPE;
    UINT16 type = 0;
    if (Tss2_MU_UINT16_Unmarshal(buf, len, &off, &type) != TSS2_RC_SUCCESS)
        return cachet_err(EV_RC(TRUNCATED), "%zu bytes: too short for the attestation type", len);
    if (type != TPM2_ST_ATTEST_QUOTE)
        return cachet_err(EV_RC(FORMAT), "type 0x%04x is not TPM_ST_ATTEST_QUOTE 0x8018", type);
    *stage = TPM_ATTEST_STRUCTURE;
    off = 0;
    TSS2_RC r = Tss2_MU_TPMS_ATTEST_Unmarshal(buf, len, &off, out);
    if (r != TSS2_RC_SUCCESS)
        return cachet_err(EV_RC(FORMAT), "TPMS_ATTEST does not unmarshal (tss2 rc 0x%x)", r);
    if (off != len)
        return cachet_err(EV_RC(FORMAT), "%zu bytes after the TPMS_ATTEST", len - off);
    cachet_rc rc = selection_in_range(&out->attested.quote.pcrSelect);
    if (rc != CACHET_OK)
        return rc;
    *stage = TPM_ATTEST_OK;
    return CACHET_OK;
}

/* ---- TPMT_SIGNATURE and TPMT_PUBLIC ------------------------------------------------- */

cachet_rc tpm_signature_parse(const uint8_t *buf, size_t len, TPMT_SIGNATURE *out)
{
    memset(out, 0, sizeof *out);
    size_t off = 0;
    TSS2_RC r = buf ? Tss2_MU_TPMT_SIGNATURE_Unmarshal(buf, len, &off, out) : 1;
    if (r != TSS2_RC_SUCCESS)
        return cachet_err(EV_RC(FORMAT), "TPMT_SIGNATURE does not unmarshal (tss2 rc 0x%x)", r);
    if (off != len)
        return cachet_err(EV_RC(FORMAT), "%zu bytes after the TPMT_SIGNATURE", len - off);
    return CACHET_OK;
}

cachet_rc tpm_public_parse(const uint8_t *buf, size_t len, TPMT_PUBLIC *out)
{
    memset(out, 0, sizeof *out);
    size_t off = 0;
    TSS2_RC r = buf ? Tss2_MU_TPMT_PUBLIC_Unmarshal(buf, len, &off, out) : 1;
    if (r != TSS2_RC_SUCCESS)
        return cachet_err(EV_RC(FORMAT), "TPMT_PUBLIC does not unmarshal (tss2 rc 0x%x)", r);
    if (off != len)
        return cachet_err(EV_RC(FORMAT), "%zu bytes after the TPMT_PUBLIC", len - off);
    return CACHET_OK;
}

cachet_rc tpm_public2b_contents(const uint8_t *buf, size_t len, const uint8_t **tpmt,
                                size_t *tpmt_len)
{
    size_t off = 0;
    UINT16 size = 0;
    if (!buf || Tss2_MU_UINT16_Unmarshal(buf, len, &off, &size) != TSS2_RC_SUCCESS)
        return cachet_err(EV_RC(TRUNCATED), "TPM2B_PUBLIC: %zu bytes", len);
    if ((size_t)size != len - off)
        return cachet_err(EV_RC(FORMAT), "TPM2B_PUBLIC says %u bytes, %zu follow", size,
                          len - off);
    *tpmt = buf + off;
    *tpmt_len = size;
    return CACHET_OK;
}

static bool curve_of(TPMI_ECC_CURVE id, cachet_curve *c, size_t *field)
{
    switch (id) {
    case TPM2_ECC_NIST_P256: *c = CACHET_CURVE_P256; *field = 32; return true;
    case TPM2_ECC_NIST_P384: *c = CACHET_CURVE_P384; *field = 48; return true;
    case TPM2_ECC_NIST_P521: *c = CACHET_CURVE_P521; *field = 66; return true;
    default: return false;
    }
}

cachet_rc tpm_public_pkey(const TPMT_PUBLIC *pub, cachet_pkey **out)
{
    *out = NULL;
    if (pub->type == TPM2_ALG_RSA) {
        const TPM2B_PUBLIC_KEY_RSA *n = &pub->unique.rsa;
        uint32_t e = pub->parameters.rsaDetail.exponent ? pub->parameters.rsaDetail.exponent
                                                         : 65537u;
        if (n->size * 8u != pub->parameters.rsaDetail.keyBits)
            return cachet_err(EV_RC(FORMAT), "RSA modulus of %u bytes for keyBits %u", n->size,
                              pub->parameters.rsaDetail.keyBits);
        uint8_t eb[4] = { (uint8_t)(e >> 24), (uint8_t)(e >> 16), (uint8_t)(e >> 8), (uint8_t)e };
        size_t skip = 0;
        while (skip < 3 && eb[skip] == 0)
            skip++;
        return cachet_pkey_from_rsa(n->buffer, n->size, eb + skip, 4 - skip, out);
    }
    if (pub->type == TPM2_ALG_ECC) {
        cachet_curve c;
        size_t field;
        if (!curve_of(pub->parameters.eccDetail.curveID, &c, &field))
            return cachet_err(EV_RC(UNSUPPORTED), "ECC curve 0x%04x is not supported",
                              pub->parameters.eccDetail.curveID);
        const TPMS_ECC_POINT *pt = &pub->unique.ecc;
        if (pt->x.size > field || pt->y.size > field || !pt->x.size || !pt->y.size)
            return cachet_err(EV_RC(FORMAT), "ECC point coordinates of %u/%u bytes", pt->x.size,
                              pt->y.size);
        uint8_t xy[2 * 66] = { 0 };
        memcpy(xy + field - pt->x.size, pt->x.buffer, pt->x.size);
        memcpy(xy + 2 * field - pt->y.size, pt->y.buffer, pt->y.size);
        return cachet_pkey_from_ec_point(c, xy, 2 * field, out);
    }
    return cachet_err(EV_RC(UNSUPPORTED), "object type 0x%04x is not RSA or ECC", pub->type);
}

cachet_rc tpm_public_name(const TPMT_PUBLIC *pub, const uint8_t *bytes, size_t len,
                          uint8_t name[TPM_MAX_NAME], size_t *name_len)
{
    cachet_hash_alg h;
    if (!tpm_alg_hash(pub->nameAlg, &h))
        return cachet_err(EV_RC(UNSUPPORTED), "nameAlg 0x%04x is not SHA-256/384/512",
                          pub->nameAlg);
    name[0] = (uint8_t)(pub->nameAlg >> 8);
    name[1] = (uint8_t)pub->nameAlg;
    cachet_rc rc = cachet_hash(h, bytes, len, name + 2);
    if (rc == CACHET_OK)
        *name_len = 2 + cachet_hash_len(h);
    return rc;
}

/* ---- signatures ------------------------------------------------------------------- */

const char *tpm_sig_alg_name(uint16_t alg)
{
    switch (alg) {
    case TPM2_ALG_RSASSA: return "RSASSA";
    case TPM2_ALG_RSAPSS: return "RSAPSS";
    case TPM2_ALG_ECDSA: return "ECDSA";
    case TPM2_ALG_ECDAA: return "ECDAA";
    case TPM2_ALG_SM2: return "SM2";
    case TPM2_ALG_ECSCHNORR: return "ECSCHNORR";
    case TPM2_ALG_HMAC: return "HMAC";
    case TPM2_ALG_NULL: return "NULL";
    default: return "unknown";
    }
}

cachet_rc tpm_signature_verify(const cachet_pkey *k, const TPMT_SIGNATURE *sig,
                               const uint8_t *msg, size_t len)
{
    cachet_hash_alg h;
    switch (sig->sigAlg) {
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS: {
        const TPMS_SIGNATURE_RSA *s = &sig->signature.rsassa;
        if (!tpm_alg_hash(s->hash, &h))
            return cachet_err(EV_RC(UNSUPPORTED), "signature hash 0x%04x", s->hash);
        if (!cachet_pkey_is_rsa(k))
            return cachet_err(EV_RC(MISMATCH), "an RSA signature but not an RSA key");
        if (sig->sigAlg == TPM2_ALG_RSASSA)
            return cachet_rsa_pkcs1_verify(k, h, msg, len, s->sig.buffer, s->sig.size);
        /* TPMs salt with the digest length (Part 1 §B.7) or, older ones, with
         * the largest salt the modulus allows: accept exactly either. */
        cachet_rc rc = cachet_rsa_pss_verify(k, h, -1, msg, len, s->sig.buffer, s->sig.size);
        if (rc == CACHET_OK)
            return rc;
        size_t kb = cachet_pkey_rsa_bytes(k), hl = cachet_hash_len(h);
        if (kb < hl + 2)
            return rc;
        return cachet_rsa_pss_verify(k, h, (int)(kb - hl - 2), msg, len, s->sig.buffer,
                                     s->sig.size);
    }
    case TPM2_ALG_ECDSA: {
        const TPMS_SIGNATURE_ECC *s = &sig->signature.ecdsa;
        if (!tpm_alg_hash(s->hash, &h))
            return cachet_err(EV_RC(UNSUPPORTED), "signature hash 0x%04x", s->hash);
        size_t field = cachet_pkey_is_ec(k, CACHET_CURVE_P256)   ? 32
                     : cachet_pkey_is_ec(k, CACHET_CURVE_P384) ? 48
                     : cachet_pkey_is_ec(k, CACHET_CURVE_P521) ? 66 : 0;
        if (!field)
            return cachet_err(EV_RC(MISMATCH), "an ECDSA signature but not an EC key");
        /* r and s are big-endian and may be shorter than the field. */
        if (s->signatureR.size > field || s->signatureS.size > field || !s->signatureR.size ||
            !s->signatureS.size)
            return cachet_err(EV_RC(FORMAT), "ECDSA r/s of %u/%u bytes for a %zu-byte field",
                              s->signatureR.size, s->signatureS.size, field);
        uint8_t rs[2 * 66] = { 0 };
        memcpy(rs + field - s->signatureR.size, s->signatureR.buffer, s->signatureR.size);
        memcpy(rs + 2 * field - s->signatureS.size, s->signatureS.buffer, s->signatureS.size);
        return cachet_ecdsa_verify_raw(k, h, msg, len, rs, field, CACHET_BIG_ENDIAN);
    }
    default:
        return cachet_err(EV_RC(UNSUPPORTED), "signature scheme %s (0x%04x) is not accepted",
                          tpm_sig_alg_name(sig->sigAlg), sig->sigAlg);
    }
}

/* ---- selection and digest ---------------------------------------------------------- */

static uint32_t selection_mask(const TPMS_PCR_SELECTION *s)
{
    uint32_t m = 0;
    for (unsigned byte = 0; byte < s->sizeofSelect && byte < 3; byte++)
        m |= (uint32_t)s->pcrSelect[byte] << (8 * byte);
    return m;
}

bool tpm_selection_matches(const TPML_PCR_SELECTION *sel, const tpm_pcrs *p, char *why,
                           size_t cap)
{
    if (sel->count == 0) {
        snprintf(why, cap, "the quote selects no PCR");
        return false;
    }
    for (uint32_t i = 0; i < sel->count; i++) {
        const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
        const tpm_pcr_bank *b = tpm_pcrs_find(p, s->hash);
        uint32_t m = selection_mask(s);
        const char *bn = tpm_alg_name(s->hash) ? tpm_alg_name(s->hash) : "unknown";
        if (!b) {
            snprintf(why, cap, "the quote selects bank %s (0x%04x) but no values were given",
                     bn, s->hash);
            return false;
        }
        if ((b->present & m) != m) {
            snprintf(why, cap, "%s PCRs selected 0x%06x, values given 0x%06x", bn, m, b->present);
            return false;
        }
        if (b->present != m) {
            snprintf(why, cap, "%s values given for PCRs 0x%06x the quote does not select "
                     "(selected 0x%06x)", bn, b->present & ~m, m);
            return false;
        }
    }
    snprintf(why, cap, "every selected PCR has exactly one value");
    return true;
}

cachet_rc tpm_pcr_digest(const TPML_PCR_SELECTION *sel, const tpm_pcrs *p, cachet_hash_alg h,
                         uint8_t *out)
{
    cachet_hash_ctx *hc = cachet_hash_new(h);
    if (!hc)
        return cachet_err(EV_RC(NOMEM), "tpm: digest context");
    cachet_rc rc = CACHET_OK;
    for (uint32_t i = 0; i < sel->count && rc == CACHET_OK; i++) {
        const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
        const tpm_pcr_bank *b = tpm_pcrs_find(p, s->hash);
        size_t dl = tpm_alg_digest_len(s->hash);
        uint32_t m = selection_mask(s);
        if (!b || !dl) {
            rc = cachet_err(EV_RC(NOT_FOUND), "no values for bank 0x%04x", s->hash);
            break;
        }
        for (unsigned pcr = 0; pcr < TPM_PCR_COUNT && rc == CACHET_OK; pcr++) {
            if (!(m & (1u << pcr)))
                continue;
            if (!(b->present & (1u << pcr)))
                rc = cachet_err(EV_RC(NOT_FOUND), "no value for %s PCR %u", tpm_alg_name(s->hash),
                                pcr);
            else
                rc = cachet_hash_update(hc, b->v[pcr], dl);
        }
    }
    if (rc == CACHET_OK)
        rc = cachet_hash_final(hc, out);
    cachet_hash_free(hc);
    return rc;
}
