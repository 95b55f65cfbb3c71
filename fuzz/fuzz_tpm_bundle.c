/* libFuzzer: the TPM evidence containers (cachet's JSON quote bundle and
 * go-tpm-tools' Attestation protobuf), the TPM structures inside them
 * (TPMS_ATTEST, TPMT_SIGNATURE, TPMT_PUBLIC through libtss2-mu), the Azure
 * HCL report, and the tpm family's whole verify path with no trust
 * anchors.  Checks the parsers' promises: a parsed container has an AK and
 * 1..8 quotes, a bundle that parses writes back and parses to the same
 * quotes, and verification never calls attacker bytes authentic. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/evidence.h"
#include "evidence/azure/azure.h"
#include "evidence/tpm/tpm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void structures(const tpm_evidence *e)
{
    if (!e->ak_public.len || e->n_quotes == 0 || e->n_quotes > TPM_MAX_QUOTES)
        abort();
    TPMT_PUBLIC pub;
    if (tpm_public_parse(e->ak_public.p, e->ak_public.len, &pub) == CACHET_OK) {
        uint8_t name[TPM_MAX_NAME];
        size_t nl = 0;
        cachet_pkey *k = NULL;
        if (tpm_public_name(&pub, e->ak_public.p, e->ak_public.len, name, &nl) == CACHET_OK &&
            (nl < 2 || nl > TPM_MAX_NAME))
            abort();
        if (tpm_public_pkey(&pub, &k) == CACHET_OK)
            cachet_pkey_free(k);
    }
    for (size_t i = 0; i < e->n_quotes; i++) {
        TPMS_ATTEST a;
        tpm_attest_stage st;
        cachet_rc rc = tpm_attest_parse(e->quotes[i].attest.p, e->quotes[i].attest.len, &a, &st);
        if ((rc == CACHET_OK) != (st == TPM_ATTEST_OK))
            abort();
        if (rc == CACHET_OK && (a.magic != TPM2_GENERATED_VALUE || a.type != TPM2_ST_ATTEST_QUOTE ||
                                a.extraData.size > sizeof a.extraData.buffer))
            abort();
        TPMT_SIGNATURE s;
        (void)tpm_signature_parse(e->quotes[i].sig.p, e->quotes[i].sig.len, &s);
        if (rc == CACHET_OK) {
            char why[160];
            uint8_t d[CACHET_HASH_MAX_LEN];
            if (tpm_selection_matches(&a.attested.quote.pcrSelect, &e->pcrs, why, sizeof why))
                (void)tpm_pcr_digest(&a.attested.quote.pcrSelect, &e->pcrs, CACHET_HASH_SHA256, d);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tpm_evidence e;
    if (tpm_bundle_parse(data, size, &e) == CACHET_OK) {
        structures(&e);
        char *again = NULL;
        tpm_evidence e2;
        if (tpm_bundle_write(&e, &again) != CACHET_OK ||
            tpm_bundle_parse((const uint8_t *)again, strlen(again), &e2) != CACHET_OK ||
            e2.n_quotes != e.n_quotes || e2.quotes[0].attest.len != e.quotes[0].attest.len ||
            memcmp(e2.quotes[0].attest.p, e.quotes[0].attest.p, e.quotes[0].attest.len) != 0)
            abort();
        tpm_evidence_free(&e2);
        free(again);
        tpm_evidence_free(&e);
    }
    if (tpm_gce_parse(data, size, &e) == CACHET_OK) {
        structures(&e);
        tpm_evidence_free(&e);
    }
    az_hcl hcl;
    if (az_hcl_parse(data, size, &hcl) == CACHET_OK &&
        (hcl.var < data || hcl.var + hcl.var_size > data + size))
        abort();

    const cachet_evidence_ops *ops = cachet_evidence_find("tpm");
    cachet_verify_request req = { .evidence = data, .evidence_len = size, .time = 1700000000 };
    cachet_verify_result *r = NULL;
    if (!ops || cachet_evidence_verify_with(ops, &req, &r) != CACHET_OK || !r)
        abort();
    /* Without a trust anchor nothing can be authentic. */
    if (r->verified)
        abort();
    cachet_verify_result_free(r);
    return 0;
}
