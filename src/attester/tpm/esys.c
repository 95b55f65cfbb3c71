/* The TPM through tpm2-tss ESAPI: connection (TCTI loader: swtpm socket or
 * /dev/tpmrm0), the EK from the TCG EK Credential Profile template L-1 and
 * an AK as primary keys of the endorsement hierarchy, the EK certificate
 * from NV, TPM2_ActivateCredential under the EK's PolicySecret, PCR_Event,
 * PCR_Read and Quote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#include "attester/tpm/tpm_int.h"
#include "cachet/fileio.h"

#define EK_CERT_NV_RSA 0x01C00002u
#define NV_CHUNK 512u

cachet_rc tpm_tss_err(uint32_t rc, const char *what)
{
    return cachet_err(AT_RC(IO), "tpm: %s failed (tss2 rc 0x%08x)", what, rc);
}

/* TCG EK Credential Profile 2.x, template L-1: RSA-2048, AES-128-CFB,
 * PolicySecret(TPM_RH_ENDORSEMENT) as authPolicy. */
static void ek_template(TPM2B_PUBLIC *t)
{
    static const uint8_t policy_a_sha256[32] = {
        0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7, 0x24,
        0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA,
    };
    memset(t, 0, sizeof *t);
    TPMT_PUBLIC *p = &t->publicArea;
    p->type = TPM2_ALG_RSA;
    p->nameAlg = TPM2_ALG_SHA256;
    p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                          TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
    p->authPolicy.size = sizeof policy_a_sha256;
    memcpy(p->authPolicy.buffer, policy_a_sha256, sizeof policy_a_sha256);
    p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
    p->parameters.rsaDetail.symmetric.keyBits.aes = 128;
    p->parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
    p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    p->parameters.rsaDetail.keyBits = 2048;
    p->parameters.rsaDetail.exponent = 0;
    p->unique.rsa.size = 256; /* zeros, as the template says */
}

/* A restricted signing key (evidence-formats §4.4). */
static void ak_template(TPM2B_PUBLIC *t, cachet_tpm_ak_type type)
{
    memset(t, 0, sizeof *t);
    TPMT_PUBLIC *p = &t->publicArea;
    p->nameAlg = TPM2_ALG_SHA256;
    p->objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                          TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                          TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_NODA;
    if (type == CACHET_TPM_AK_ECC) {
        p->type = TPM2_ALG_ECC;
        p->parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
        p->parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
        p->parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
        p->parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
        p->parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    } else {
        p->type = TPM2_ALG_RSA;
        p->parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
        p->parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
        p->parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
        p->parameters.rsaDetail.keyBits = 2048;
    }
}

/* TPMT_PUBLIC as the TPM marshals it (what the Name is computed over). */
static cachet_rc marshal_public(const TPMT_PUBLIC *p, tpm_blob *out)
{
    uint8_t buf[sizeof(TPMT_PUBLIC)];
    size_t off = 0;
    TSS2_RC r = Tss2_MU_TPMT_PUBLIC_Marshal(p, buf, sizeof buf, &off);
    if (r != TSS2_RC_SUCCESS)
        return tpm_tss_err(r, "marshalling TPMT_PUBLIC");
    return tpm_blob_set(out, buf, off);
}

static cachet_rc create_primary(cachet_tpm *t, const TPM2B_PUBLIC *tpl, ESYS_TR *handle,
                                tpm_blob *pub, const char *what)
{
    TPM2B_SENSITIVE_CREATE sens = { 0 };
    TPM2B_DATA outside = { 0 };
    TPML_PCR_SELECTION creation_pcr = { 0 };
    TPM2B_PUBLIC *out = NULL;
    TPM2B_CREATION_DATA *cd = NULL;
    TPM2B_DIGEST *ch = NULL;
    TPMT_TK_CREATION *tk = NULL;
    TSS2_RC r = Esys_CreatePrimary(t->esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD,
                                   ESYS_TR_NONE, ESYS_TR_NONE, &sens, tpl, &outside,
                                   &creation_pcr, handle, &out, &cd, &ch, &tk);
    cachet_rc rc = r == TSS2_RC_SUCCESS ? marshal_public(&out->publicArea, pub)
                                        : tpm_tss_err(r, what);
    Esys_Free(out);
    Esys_Free(cd);
    Esys_Free(ch);
    Esys_Free(tk);
    if (rc == CACHET_OK) {
        /* The Name ESAPI computed must be the one over the bytes we emit. */
        TPM2B_NAME *name = NULL;
        TPMT_PUBLIC parsed;
        uint8_t mine[TPM_MAX_NAME];
        size_t mine_len = 0;
        r = Esys_TR_GetName(t->esys, *handle, &name);
        if (r != TSS2_RC_SUCCESS)
            rc = tpm_tss_err(r, "Esys_TR_GetName");
        else if (tpm_public_parse(pub->p, pub->len, &parsed) != CACHET_OK ||
                 tpm_public_name(&parsed, pub->p, pub->len, mine, &mine_len) != CACHET_OK ||
                 mine_len != name->size || memcmp(mine, name->name, mine_len) != 0)
            rc = cachet_err(AT_RC(MISMATCH), "tpm: %s: the Name does not match its public area",
                            what);
        Esys_Free(name);
    }
    return rc;
}

/* Banks with at least one PCR allocated. */
static cachet_rc active_banks(cachet_tpm *t, uint16_t *algs, size_t *n)
{
    TPMI_YES_NO more = 0;
    TPMS_CAPABILITY_DATA *cap = NULL;
    TSS2_RC r = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                   TPM2_CAP_PCRS, 0, 1, &more, &cap);
    if (r != TSS2_RC_SUCCESS)
        return tpm_tss_err(r, "GetCapability(PCRS)");
    *n = 0;
    const TPML_PCR_SELECTION *s = &cap->data.assignedPCR;
    for (uint32_t i = 0; i < s->count && *n < TPM_EVENTLOG_MAX_ALGS; i++) {
        bool any = false;
        for (unsigned b = 0; b < s->pcrSelections[i].sizeofSelect; b++)
            any |= s->pcrSelections[i].pcrSelect[b] != 0;
        if (any && tpm_alg_digest_len(s->pcrSelections[i].hash))
            algs[(*n)++] = s->pcrSelections[i].hash;
    }
    Esys_Free(cap);
    return *n ? CACHET_OK : cachet_err(AT_RC(NOT_FOUND), "tpm: no active PCR bank");
}

void cachet_tpm_close(cachet_tpm *t)
{
    if (!t)
        return;
    if (t->esys) {
        if (t->ak != ESYS_TR_NONE)
            Esys_FlushContext(t->esys, t->ak);
        if (t->ek != ESYS_TR_NONE)
            Esys_FlushContext(t->esys, t->ek);
        Esys_Finalize(&t->esys);
    }
    if (t->tcti)
        Tss2_TctiLdr_Finalize(&t->tcti);
    tpm_blob_free(&t->ek_public);
    tpm_blob_free(&t->ak_public);
    tpm_free_ak_cert(t);
    tpm_log_free(&t->log);
    free(t);
}

cachet_rc cachet_tpm_open(const cachet_tpm_opts *opts, cachet_tpm **out)
{
    if (!out)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: NULL output");
    *out = NULL;
    cachet_tpm_opts o = opts ? *opts : (cachet_tpm_opts){ 0 };
    cachet_tpm *t = calloc(1, sizeof *t);
    if (!t)
        return cachet_err(AT_RC(NOMEM), "tpm: out of memory");
    t->ek = t->ak = ESYS_TR_NONE;
    t->pcr_mask = o.pcr_mask ? o.pcr_mask & ((1u << TPM_PCR_COUNT) - 1) : (1u << TPM_PCR_COUNT) - 1;
    t->pcr_bank = o.pcr_bank ? o.pcr_bank : TPM2_ALG_SHA256;
    cachet_rc rc = CACHET_OK;
    cachet_hash_alg h;
    if (!t->pcr_mask || !tpm_alg_hash(t->pcr_bank, &h)) {
        rc = cachet_err(AT_RC(INVALID_ARG), "tpm: quote bank 0x%04x / PCR mask 0x%x", t->pcr_bank,
                        t->pcr_mask);
        goto fail;
    }
    const char *conf = o.tcti ? o.tcti : "device:/dev/tpmrm0";
    TSS2_RC r = Tss2_TctiLdr_Initialize(conf, &t->tcti);
    if (r != TSS2_RC_SUCCESS) {
        rc = cachet_err(AT_RC(IO), "tpm: cannot open TCTI \"%s\" (tss2 rc 0x%08x)", conf, r);
        goto fail;
    }
    if ((r = Esys_Initialize(&t->esys, t->tcti, NULL)) != TSS2_RC_SUCCESS) {
        rc = tpm_tss_err(r, "Esys_Initialize");
        goto fail;
    }
    /* Already started (swtpm --flags startup-clear, the kernel) is fine. */
    r = Esys_Startup(t->esys, TPM2_SU_CLEAR);
    if (r != TSS2_RC_SUCCESS && r != TPM2_RC_INITIALIZE) {
        rc = tpm_tss_err(r, "Startup");
        goto fail;
    }
    TPM2B_PUBLIC tpl;
    ek_template(&tpl);
    if ((rc = create_primary(t, &tpl, &t->ek, &t->ek_public, "CreatePrimary(EK)")) != CACHET_OK)
        goto fail;
    ak_template(&tpl, o.ak_type);
    if ((rc = create_primary(t, &tpl, &t->ak, &t->ak_public, "CreatePrimary(AK)")) != CACHET_OK)
        goto fail;
    if (o.ak_cert_path && (rc = tpm_load_ak_cert(t, o.ak_cert_path)) != CACHET_OK)
        goto fail;
    if (o.event_log_path) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if ((rc = cachet_file_read(o.event_log_path, 16u << 20, &buf, &len)) == CACHET_OK)
            rc = tpm_log_load(&t->log, buf, len);
        free(buf);
    } else {
        uint16_t algs[TPM_EVENTLOG_MAX_ALGS];
        size_t n = 0;
        if ((rc = active_banks(t, algs, &n)) == CACHET_OK)
            rc = tpm_log_init(&t->log, algs, n);
    }
    if (rc != CACHET_OK)
        goto fail;
    *out = t;
    return CACHET_OK;
fail:
    cachet_tpm_close(t);
    return rc;
}

static cachet_rc public2b(const tpm_blob *t, uint8_t **pub, size_t *len)
{
    if (!pub || !len)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: NULL output");
    *pub = malloc(t->len + 2);
    if (!*pub)
        return cachet_err(AT_RC(NOMEM), "tpm: out of memory");
    (*pub)[0] = (uint8_t)(t->len >> 8);
    (*pub)[1] = (uint8_t)t->len;
    memcpy(*pub + 2, t->p, t->len);
    *len = t->len + 2;
    return CACHET_OK;
}

cachet_rc cachet_tpm_ek_public(cachet_tpm *t, uint8_t **pub, size_t *len)
{
    if (!t)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: NULL handle");
    return public2b(&t->ek_public, pub, len);
}

cachet_rc cachet_tpm_ak_public(cachet_tpm *t, uint8_t **pub, size_t *len)
{
    if (!t)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: NULL handle");
    return public2b(&t->ak_public, pub, len);
}

static cachet_rc nv_read(cachet_tpm *t, ESYS_TR nv, ESYS_TR auth, uint16_t size, uint8_t *out)
{
    for (uint16_t off = 0; off < size;) {
        uint16_t n = (uint16_t)(size - off) > NV_CHUNK ? (uint16_t)NV_CHUNK : (uint16_t)(size - off);
        TPM2B_MAX_NV_BUFFER *data = NULL;
        TSS2_RC r = Esys_NV_Read(t->esys, auth, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                 n, off, &data);
        if (r != TSS2_RC_SUCCESS)
            return tpm_tss_err(r, "NV_Read(EK certificate)");
        if (data->size != n) {
            Esys_Free(data);
            return cachet_err(AT_RC(IO), "tpm: NV_Read returned %u of %u bytes", data->size, n);
        }
        memcpy(out + off, data->buffer, n);
        Esys_Free(data);
        off += n;
    }
    return CACHET_OK;
}

cachet_rc cachet_tpm_ek_cert(cachet_tpm *t, uint8_t **der, size_t *len)
{
    if (!t || !der || !len)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: NULL argument");
    *der = NULL;
    *len = 0;
    ESYS_TR nv = ESYS_TR_NONE;
    TSS2_RC r = Esys_TR_FromTPMPublic(t->esys, EK_CERT_NV_RSA, ESYS_TR_NONE, ESYS_TR_NONE,
                                      ESYS_TR_NONE, &nv);
    if (r != TSS2_RC_SUCCESS)
        return cachet_err(AT_RC(NOT_FOUND), "tpm: no EK certificate at NV 0x%08x (tss2 rc 0x%08x)",
                          EK_CERT_NV_RSA, r);
    TPM2B_NV_PUBLIC *pub = NULL;
    TPM2B_NAME *name = NULL;
    cachet_rc rc;
    r = Esys_NV_ReadPublic(t->esys, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, &name);
    if (r != TSS2_RC_SUCCESS) {
        rc = tpm_tss_err(r, "NV_ReadPublic(EK certificate)");
        goto out;
    }
    uint16_t size = pub->nvPublic.dataSize;
    uint8_t *buf = size ? malloc(size) : NULL;
    if (!buf) {
        rc = size ? cachet_err(AT_RC(NOMEM), "tpm: out of memory")
                  : cachet_err(AT_RC(NOT_FOUND), "tpm: an empty EK certificate index");
        goto out;
    }
    /* The index authorizes its own reads on most TPMs; the owner on others. */
    rc = nv_read(t, nv, nv, size, buf);
    if (rc != CACHET_OK)
        rc = nv_read(t, nv, ESYS_TR_RH_OWNER, size, buf);
    if (rc != CACHET_OK) {
        free(buf);
        goto out;
    }
    /* NV areas are often larger than the DER: keep the certificate's bytes. */
    size_t der_len = size;
    if (size >= 4 && buf[0] == 0x30 && buf[1] == 0x82) {
        size_t l = ((size_t)buf[2] << 8 | buf[3]) + 4;
        if (l <= size)
            der_len = l;
    }
    *der = buf;
    *len = der_len;
out:
    Esys_Free(pub);
    Esys_Free(name);
    Esys_TR_Close(t->esys, &nv);
    return rc;
}

cachet_rc cachet_tpm_activate(cachet_tpm *t, const uint8_t *blob, size_t blob_len,
                              const uint8_t *secret, size_t secret_len, uint8_t *out,
                              size_t cap, size_t *out_len)
{
    if (!t || !blob || !secret || !out || !out_len)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: NULL argument");
    *out_len = 0;
    TPM2B_ID_OBJECT id;
    TPM2B_ENCRYPTED_SECRET es;
    size_t o1 = 0, o2 = 0;
    if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, blob_len, &o1, &id) != TSS2_RC_SUCCESS ||
        o1 != blob_len ||
        Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(secret, secret_len, &o2, &es) !=
            TSS2_RC_SUCCESS ||
        o2 != secret_len)
        return cachet_err(AT_RC(FORMAT), "tpm: the challenge is not a TPM2B_ID_OBJECT and a "
                          "TPM2B_ENCRYPTED_SECRET");
    /* The EK's authPolicy is PolicySecret(TPM_RH_ENDORSEMENT). */
    ESYS_TR session = ESYS_TR_NONE;
    TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
    TSS2_RC r = Esys_StartAuthSession(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                      ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym,
                                      TPM2_ALG_SHA256, &session);
    if (r != TSS2_RC_SUCCESS)
        return tpm_tss_err(r, "StartAuthSession(policy)");
    TPM2B_NONCE empty_nonce = { 0 };
    TPM2B_DIGEST empty_cp = { 0 };
    TPM2B_NONCE empty_ref = { 0 };
    cachet_rc rc = CACHET_OK;
    r = Esys_PolicySecret(t->esys, ESYS_TR_RH_ENDORSEMENT, session, ESYS_TR_PASSWORD,
                          ESYS_TR_NONE, ESYS_TR_NONE, &empty_nonce, &empty_cp, &empty_ref, 0,
                          NULL, NULL);
    if (r != TSS2_RC_SUCCESS) {
        rc = tpm_tss_err(r, "PolicySecret(endorsement)");
        goto out;
    }
    TPM2B_DIGEST *cred = NULL;
    r = Esys_ActivateCredential(t->esys, t->ak, t->ek, ESYS_TR_PASSWORD, session, ESYS_TR_NONE,
                                &id, &es, &cred);
    if (r != TSS2_RC_SUCCESS) {
        rc = tpm_tss_err(r, "ActivateCredential");
        goto out;
    }
    if (cred->size > cap) {
        rc = cachet_err(AT_RC(LIMIT), "tpm: a %u-byte credential", cred->size);
    } else {
        memcpy(out, cred->buffer, cred->size);
        *out_len = cred->size;
    }
    Esys_Free(cred);
out:
    Esys_FlushContext(t->esys, session); /* may already be gone: ignore */
    return rc;
}

cachet_rc cachet_tpm_event_log(cachet_tpm *t, uint8_t **log, size_t *len)
{
    if (!t || !log || !len)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: NULL argument");
    *log = malloc(t->log.len ? t->log.len : 1);
    if (!*log)
        return cachet_err(AT_RC(NOMEM), "tpm: out of memory");
    memcpy(*log, t->log.buf, t->log.len);
    *len = t->log.len;
    return CACHET_OK;
}

cachet_rc cachet_tpm_extend(cachet_tpm *t, unsigned pcr, const void *event, size_t event_len)
{
    if (!t || !event)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: NULL argument");
    if (pcr >= TPM_PCR_COUNT)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: PCR %u is not in 0..23", pcr);
    TPM2B_EVENT ev = { 0 };
    if (event_len == 0 || event_len > sizeof ev.buffer)
        return cachet_err(AT_RC(INVALID_ARG), "tpm: an event of %zu bytes (1..%zu)", event_len,
                          sizeof ev.buffer);
    ev.size = (UINT16)event_len;
    memcpy(ev.buffer, event, event_len);
    TPML_DIGEST_VALUES *d = NULL;
    TSS2_RC r = Esys_PCR_Event(t->esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                               ESYS_TR_NONE, &ev, &d);
    if (r != TSS2_RC_SUCCESS)
        return tpm_tss_err(r, "PCR_Event");
    cachet_rc rc = tpm_log_append(&t->log, pcr, TPM_EV_IPL, d, event, event_len);
    Esys_Free(d);
    return rc;
}

/* The values of every PCR in mask of one bank (PCR_Read returns at most
 * eight digests per call). */
static cachet_rc pcr_read(cachet_tpm *t, tpm_pcrs *out)
{
    memset(out, 0, sizeof *out);
    uint32_t left = t->pcr_mask;
    for (int round = 0; left && round < 8; round++) {
        TPML_PCR_SELECTION sel = { .count = 1 };
        sel.pcrSelections[0].hash = t->pcr_bank;
        sel.pcrSelections[0].sizeofSelect = 3;
        sel.pcrSelections[0].pcrSelect[0] = (uint8_t)left;
        sel.pcrSelections[0].pcrSelect[1] = (uint8_t)(left >> 8);
        sel.pcrSelections[0].pcrSelect[2] = (uint8_t)(left >> 16);
        UINT32 counter = 0;
        TPML_PCR_SELECTION *got = NULL;
        TPML_DIGEST *vals = NULL;
        TSS2_RC r = Esys_PCR_Read(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &sel,
                                  &counter, &got, &vals);
        if (r != TSS2_RC_SUCCESS)
            return tpm_tss_err(r, "PCR_Read");
        cachet_rc rc = CACHET_OK;
        uint32_t k = 0, read = 0;
        for (uint32_t s = 0; s < got->count && rc == CACHET_OK; s++) {
            const TPMS_PCR_SELECTION *ps = &got->pcrSelections[s];
            for (unsigned i = 0; i < TPM_PCR_COUNT && i / 8 < ps->sizeofSelect; i++) {
                if (!(ps->pcrSelect[i / 8] & (1u << (i % 8))))
                    continue;
                if (k >= vals->count || ps->hash != t->pcr_bank) {
                    rc = cachet_err(AT_RC(IO), "tpm: PCR_Read returned an inconsistent answer");
                    break;
                }
                rc = tpm_pcrs_set(out, t->pcr_bank, i, vals->digests[k].buffer,
                                  vals->digests[k].size);
                k++;
                read |= 1u << i;
            }
        }
        Esys_Free(got);
        Esys_Free(vals);
        if (rc != CACHET_OK)
            return rc;
        if (!read)
            return cachet_err(AT_RC(IO), "tpm: PCR_Read returned nothing (bank not active?)");
        left &= ~read;
    }
    return left ? cachet_err(AT_RC(IO), "tpm: PCR_Read did not return every PCR") : CACHET_OK;
}

/* One quote, and the PCR values it covers (re-read until the digest of the
 * values read matches the quote: no extend may slip in between). */
cachet_rc tpm_do_quote(cachet_tpm *t, const uint8_t *nonce, size_t nonce_len, tpm_quote_raw *q,
                       tpm_pcrs *pcrs)
{
    TPM2B_DATA qd = { 0 };
    if (nonce_len > sizeof qd.buffer || (nonce_len && !nonce))
        return cachet_err(AT_RC(INVALID_ARG), "tpm: a %zu-byte nonce (0..%zu)", nonce_len,
                          sizeof qd.buffer);
    qd.size = (UINT16)nonce_len;
    if (nonce_len)
        memcpy(qd.buffer, nonce, nonce_len);
    TPML_PCR_SELECTION sel = { .count = 1 };
    sel.pcrSelections[0].hash = t->pcr_bank;
    sel.pcrSelections[0].sizeofSelect = 3;
    sel.pcrSelections[0].pcrSelect[0] = (uint8_t)t->pcr_mask;
    sel.pcrSelections[0].pcrSelect[1] = (uint8_t)(t->pcr_mask >> 8);
    sel.pcrSelections[0].pcrSelect[2] = (uint8_t)(t->pcr_mask >> 16);
    TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL }; /* the AK's own */
    for (int attempt = 0; attempt < 4; attempt++) {
        cachet_rc rc = pcr_read(t, pcrs);
        if (rc != CACHET_OK)
            return rc;
        TPM2B_ATTEST *quoted = NULL;
        TPMT_SIGNATURE *sig = NULL;
        TSS2_RC r = Esys_Quote(t->esys, t->ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd,
                               &scheme, &sel, &quoted, &sig);
        if (r != TSS2_RC_SUCCESS)
            return tpm_tss_err(r, "Quote");
        uint8_t sbuf[sizeof(TPMT_SIGNATURE)];
        size_t slen = 0;
        TPMS_ATTEST a;
        tpm_attest_stage st;
        cachet_hash_alg h = CACHET_HASH_SHA256;
        uint8_t d[CACHET_HASH_MAX_LEN];
        if (Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sbuf, sizeof sbuf, &slen) != TSS2_RC_SUCCESS)
            rc = cachet_err(AT_RC(FORMAT), "tpm: marshalling the quote signature");
        else if (tpm_attest_parse(quoted->attestationData, quoted->size, &a, &st) != CACHET_OK)
            rc = cachet_err(AT_RC(FORMAT), "tpm: the TPM returned a malformed quote");
        uint16_t sh = sig->sigAlg == TPM2_ALG_ECDSA ? sig->signature.ecdsa.hash
                                                    : sig->signature.rsassa.hash;
        bool same = false;
        if (rc == CACHET_OK && tpm_alg_hash(sh, &h) &&
            tpm_pcr_digest(&a.attested.quote.pcrSelect, pcrs, h, d) == CACHET_OK)
            same = a.attested.quote.pcrDigest.size == cachet_hash_len(h) &&
                   memcmp(d, a.attested.quote.pcrDigest.buffer, cachet_hash_len(h)) == 0;
        if (rc == CACHET_OK && same) {
            rc = tpm_blob_set(&q->attest, quoted->attestationData, quoted->size);
            if (rc == CACHET_OK)
                rc = tpm_blob_set(&q->sig, sbuf, slen);
        }
        Esys_Free(quoted);
        Esys_Free(sig);
        if (rc != CACHET_OK || same)
            return rc;
    }
    return cachet_err(AT_RC(STATE), "tpm: the PCRs kept changing while quoting");
}
