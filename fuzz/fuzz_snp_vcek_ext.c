/* libFuzzer: the VCEK/VLEK extension reader (AMD 57230 extensions).
 *
 * Input: a sequence of records { oid-index u8, length u8, value[length] }
 * standing for a certificate's extensions (an index may repeat: the lookup
 * then reports a duplicate, as cachet_x509_extension does).  The reader
 * must never read past a value, and what it accepts must be consistent.
 * Inputs starting with 0x30 are also parsed as a DER certificate and read
 * through the real X.509 path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/crypto.h"
#include "evidence/snp/snp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const oids[] = {
    SNP_OID_STRUCT_VERSION, SNP_OID_PRODUCT_NAME,
    "1.3.6.1.4.1.3704.1.3.1", "1.3.6.1.4.1.3704.1.3.2", "1.3.6.1.4.1.3704.1.3.3",
    "1.3.6.1.4.1.3704.1.3.4", "1.3.6.1.4.1.3704.1.3.5", "1.3.6.1.4.1.3704.1.3.6",
    "1.3.6.1.4.1.3704.1.3.7", "1.3.6.1.4.1.3704.1.3.8", "1.3.6.1.4.1.3704.1.3.9",
    SNP_OID_HWID, SNP_OID_CSP_ID,
};
#define N_OIDS (sizeof oids / sizeof oids[0])

typedef struct fake {
    const uint8_t *val[N_OIDS];
    size_t len[N_OIDS];
    int count[N_OIDS];
} fake;

static cachet_rc lookup(void *arg, const char *oid, const uint8_t **val, size_t *len)
{
    fake *f = arg;
    for (size_t i = 0; i < N_OIDS; i++) {
        if (strcmp(oids[i], oid) != 0)
            continue;
        if (f->count[i] == 0)
            return CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_NOT_FOUND);
        if (f->count[i] > 1)
            return CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_FORMAT);
        /* A private copy of exactly len bytes, so ASan sees any over-read. */
        *val = f->val[i];
        *len = f->len[i];
        return CACHET_OK;
    }
    return CACHET_RC(CACHET_SUB_CRYPTO, CACHET_E_NOT_FOUND);
}

static void check(const snp_vcek_info *v)
{
    if (v->product_name[0] == 0 || !v->has_spl[SNP_SPL_BL] || !v->has_spl[SNP_SPL_UCODE] ||
        (v->hwid_len != 0 && v->hwid_len != 8 && v->hwid_len != 64) ||
        (v->hwid_len && v->has_csp_id))
        abort();
    for (int p = SNP_PRODUCT_MILAN; p < SNP_PRODUCT__COUNT; p++) {
        uint64_t raw;
        if (snp_vcek_tcb(v, (snp_product)p, &raw) == CACHET_OK) {
            snp_tcb t = snp_tcb_decode(raw, (snp_product)p);
            if (t.snp != v->spl[SNP_SPL_SNP] || t.microcode != v->spl[SNP_SPL_UCODE])
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fake f;
    uint8_t *copies[N_OIDS] = { 0 };
    memset(&f, 0, sizeof f);
    size_t off = 0;
    while (off + 2 <= size) {
        size_t idx = data[off] % N_OIDS;
        size_t len = data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        f.count[idx]++;
        free(copies[idx]);
        copies[idx] = malloc(len ? len : 1);
        if (!copies[idx])
            goto out;
        memcpy(copies[idx], data + off, len);
        f.val[idx] = copies[idx];
        f.len[idx] = len;
        off += len;
    }
    snp_vcek_info v;
    if (snp_vcek_ext_read(lookup, &f, &v) == CACHET_OK)
        check(&v);

    if (size > 0 && data[0] == 0x30) {
        cachet_x509 *c = NULL;
        if (cachet_x509_parse(data, size, &c) == CACHET_OK) {
            if (snp_vcek_info_from_cert(c, &v) == CACHET_OK)
                check(&v);
            cachet_x509_free(c);
        }
    }
out:
    for (size_t i = 0; i < N_OIDS; i++)
        free(copies[i]);
    return 0;
}
