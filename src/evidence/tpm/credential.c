/* The verifier side of TPM2_MakeCredential (TPM 2.0 Part 1 §24 credential
 * protection, Part 3 §12.6) for an RSA endorsement key:
 *
 *   seed        random, or derived (see tpm_make_credential)
 *   secret      RSA-OAEP(EK, seed, hash = EK nameAlg, label "IDENTITY\0")
 *   symKey      KDFa(nameAlg, seed, "STORAGE", AKName, -, EK symmetric key bits)
 *   encIdentity AES-CFB(symKey, IV 0, TPM2B_DIGEST(credential))
 *   hmacKey     KDFa(nameAlg, seed, "INTEGRITY", -, -, digest bits)
 *   outerHMAC   HMAC(hmacKey, encIdentity || AKName)
 *   blob        TPM2B_ID_OBJECT(TPM2B_DIGEST(outerHMAC) || encIdentity)
 *
 * The TPM's ActivateCredential releases the credential only when the key
 * named AKName is loaded in the TPM that holds the EK's private key. */
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "cachet/secmem.h"
#include "evidence/tpm/tpm.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

/* Labels of cachet's deterministic derivation (docs/evidence/tpm.md). */
#define SEED_LABEL "CACHET-CREDENTIAL-SEED"
#define OAEP_LABEL "CACHET-CREDENTIAL-OAEP"

cachet_rc tpm_kdfa(cachet_hash_alg h, const uint8_t *key, size_t keylen, const char *label,
                   const uint8_t *ctx_u, size_t ulen, const uint8_t *ctx_v, size_t vlen,
                   uint32_t bits, uint8_t *out)
{
    if (bits == 0 || bits % 8 || bits > 8192)
        return cachet_err(EV_RC(INVALID_ARG), "kdfa: %u bits", bits);
    size_t hl = cachet_hash_len(h), want = bits / 8, labl = strlen(label) + 1;
    size_t inlen = 4 + labl + ulen + vlen + 4;
    uint8_t *in = malloc(inlen);
    if (!in)
        return cachet_err(EV_RC(NOMEM), "kdfa: out of memory");
    /* [i]32 || Label || 0x00 || Context U || Context V || [L]32 */
    memcpy(in + 4, label, labl);
    if (ulen)
        memcpy(in + 4 + labl, ctx_u, ulen);
    if (vlen)
        memcpy(in + 4 + labl + ulen, ctx_v, vlen);
    in[inlen - 4] = (uint8_t)(bits >> 24);
    in[inlen - 3] = (uint8_t)(bits >> 16);
    in[inlen - 2] = (uint8_t)(bits >> 8);
    in[inlen - 1] = (uint8_t)bits;
    cachet_rc rc = CACHET_OK;
    uint8_t block[CACHET_HASH_MAX_LEN];
    for (uint32_t i = 1, done = 0; done < want; i++) {
        in[0] = (uint8_t)(i >> 24);
        in[1] = (uint8_t)(i >> 16);
        in[2] = (uint8_t)(i >> 8);
        in[3] = (uint8_t)i;
        if ((rc = cachet_hmac(h, key, keylen, in, inlen, block)) != CACHET_OK)
            break;
        size_t n = want - done < hl ? want - done : hl;
        memcpy(out + done, block, n);
        done += (uint32_t)n;
    }
    cachet_wipe(block, sizeof block);
    free(in);
    return rc;
}

static cachet_rc ek_profile(const TPMT_PUBLIC *ek, cachet_hash_alg *h, size_t *symbytes)
{
    if (ek->type != TPM2_ALG_RSA)
        return cachet_err(EV_RC(UNSUPPORTED), "MakeCredential: the EK is not an RSA key "
                          "(type 0x%04x); only RSA EKs are supported", ek->type);
    if (!tpm_alg_hash(ek->nameAlg, h))
        return cachet_err(EV_RC(UNSUPPORTED), "MakeCredential: EK nameAlg 0x%04x", ek->nameAlg);
    const TPMT_SYM_DEF_OBJECT *s = &ek->parameters.rsaDetail.symmetric;
    if (s->algorithm != TPM2_ALG_AES || s->mode.aes != TPM2_ALG_CFB ||
        (s->keyBits.aes != 128 && s->keyBits.aes != 192 && s->keyBits.aes != 256))
        return cachet_err(EV_RC(UNSUPPORTED), "MakeCredential: EK symmetric definition is not "
                          "AES-CFB (algorithm 0x%04x, mode 0x%04x, %u bits)", s->algorithm,
                          s->mode.aes, s->keyBits.aes);
    TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
    if ((ek->objectAttributes & need) != need || (ek->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT))
        return cachet_err(EV_RC(FORMAT), "MakeCredential: the EK is not a restricted "
                          "decryption key (attributes 0x%08x)", ek->objectAttributes);
    *symbytes = s->keyBits.aes / 8u;
    return CACHET_OK;
}

cachet_rc tpm_make_credential(const TPMT_PUBLIC *ek, const uint8_t *ak_name, size_t ak_name_len,
                              const uint8_t *credential, size_t cred_len, const uint8_t *derive,
                              size_t derive_len, tpm_blob *id_object, tpm_blob *enc_secret)
{
    cachet_hash_alg h;
    size_t symbytes = 0;
    cachet_rc rc = ek_profile(ek, &h, &symbytes);
    if (rc != CACHET_OK)
        return rc;
    size_t hl = cachet_hash_len(h);
    if (!credential || cred_len == 0 || cred_len > hl)
        return cachet_err(EV_RC(RANGE), "MakeCredential: a %zu-byte credential (1..%zu)",
                          cred_len, hl);
    if (!ak_name || ak_name_len < 2 || ak_name_len > TPM_MAX_NAME)
        return cachet_err(EV_RC(INVALID_ARG), "MakeCredential: bad object name");
    if (derive && derive_len < 16)
        return cachet_err(EV_RC(RANGE), "MakeCredential: derivation input of %zu bytes (>= 16)",
                          derive_len);

    uint8_t seed[CACHET_HASH_MAX_LEN], oaep_seed[CACHET_HASH_MAX_LEN];
    uint8_t sym[32], hmac_key[CACHET_HASH_MAX_LEN], outer[CACHET_HASH_MAX_LEN];
    uint8_t secret[TPM2_MAX_RSA_KEY_BYTES];
    size_t secret_len = 0;
    uint8_t ident[2 + CACHET_HASH_MAX_LEN]; /* TPM2B_DIGEST(credential), then encrypted */
    size_t ident_len = 0;
    cachet_pkey *ekk = NULL;
    uint8_t *macin = NULL;

    if (derive) {
        rc = tpm_kdfa(h, derive, derive_len, SEED_LABEL, ak_name, ak_name_len, NULL, 0,
                      (uint32_t)hl * 8, seed);
        if (rc == CACHET_OK)
            rc = tpm_kdfa(h, derive, derive_len, OAEP_LABEL, ak_name, ak_name_len, NULL, 0,
                          (uint32_t)hl * 8, oaep_seed);
    } else {
        rc = cachet_random(seed, hl);
    }
    if (rc == CACHET_OK)
        rc = tpm_public_pkey(ek, &ekk);
    if (rc == CACHET_OK) {
        static const char identity[] = "IDENTITY"; /* sizeof includes the NUL */
        rc = cachet_rsa_oaep_encrypt(ekk, h, identity, sizeof identity, seed, hl,
                                     derive ? oaep_seed : NULL, secret, sizeof secret,
                                     &secret_len);
    }
    if (rc == CACHET_OK)
        rc = tpm_kdfa(h, seed, hl, "STORAGE", ak_name, ak_name_len, NULL, 0,
                      (uint32_t)symbytes * 8, sym);
    if (rc == CACHET_OK) {
        TPM2B_DIGEST d = { .size = (UINT16)cred_len };
        memcpy(d.buffer, credential, cred_len);
        size_t off = 0;
        if (Tss2_MU_TPM2B_DIGEST_Marshal(&d, ident, sizeof ident, &off) != TSS2_RC_SUCCESS)
            rc = cachet_err(EV_RC(FORMAT), "MakeCredential: marshalling the credential");
        ident_len = off;
        cachet_wipe(&d, sizeof d);
    }
    if (rc == CACHET_OK) {
        static const uint8_t zero_iv[16];
        rc = cachet_aes_cfb_encrypt(sym, symbytes, zero_iv, ident, ident_len, ident);
    }
    if (rc == CACHET_OK)
        rc = tpm_kdfa(h, seed, hl, "INTEGRITY", NULL, 0, NULL, 0, (uint32_t)hl * 8, hmac_key);
    if (rc == CACHET_OK) {
        macin = malloc(ident_len + ak_name_len);
        if (!macin)
            rc = cachet_err(EV_RC(NOMEM), "MakeCredential: out of memory");
    }
    if (rc == CACHET_OK) {
        memcpy(macin, ident, ident_len);
        memcpy(macin + ident_len, ak_name, ak_name_len);
        rc = cachet_hmac(h, hmac_key, hl, macin, ident_len + ak_name_len, outer);
    }
    if (rc == CACHET_OK) {
        /* TPM2B_ID_OBJECT { TPM2B_DIGEST integrityHMAC || encIdentity }. */
        TPM2B_ID_OBJECT id = { 0 };
        TPM2B_DIGEST mac = { .size = (UINT16)hl };
        memcpy(mac.buffer, outer, hl);
        size_t off = 0;
        if (Tss2_MU_TPM2B_DIGEST_Marshal(&mac, id.credential, sizeof id.credential, &off) !=
                TSS2_RC_SUCCESS ||
            off + ident_len > sizeof id.credential) {
            rc = cachet_err(EV_RC(FORMAT), "MakeCredential: marshalling the integrity HMAC");
        } else {
            memcpy(id.credential + off, ident, ident_len);
            id.size = (UINT16)(off + ident_len);
            uint8_t buf[sizeof(TPM2B_ID_OBJECT)];
            size_t n = 0;
            if (Tss2_MU_TPM2B_ID_OBJECT_Marshal(&id, buf, sizeof buf, &n) != TSS2_RC_SUCCESS)
                rc = cachet_err(EV_RC(FORMAT), "MakeCredential: marshalling TPM2B_ID_OBJECT");
            else
                rc = tpm_blob_set(id_object, buf, n);
        }
    }
    if (rc == CACHET_OK) {
        TPM2B_ENCRYPTED_SECRET es = { .size = (UINT16)secret_len };
        uint8_t buf[sizeof(TPM2B_ENCRYPTED_SECRET)];
        size_t n = 0;
        memcpy(es.secret, secret, secret_len);
        if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(&es, buf, sizeof buf, &n) != TSS2_RC_SUCCESS)
            rc = cachet_err(EV_RC(FORMAT), "MakeCredential: marshalling the secret");
        else
            rc = tpm_blob_set(enc_secret, buf, n);
    }
    if (rc != CACHET_OK) {
        tpm_blob_free(id_object);
        tpm_blob_free(enc_secret);
    }
    free(macin);
    cachet_pkey_free(ekk);
    cachet_wipe(seed, sizeof seed);
    cachet_wipe(oaep_seed, sizeof oaep_seed);
    cachet_wipe(sym, sizeof sym);
    cachet_wipe(hmac_key, sizeof hmac_key);
    cachet_wipe(ident, sizeof ident);
    return rc;
}
