/* libFuzzer: the Nitro COSE_Sign1 / CBOR parser, the bounded CBOR walk,
 * the NSM response decoder's reader, and the family's whole verify path
 * over attacker-chosen bytes (with the built-in AWS root, so nothing a
 * fuzzer makes can be authentic).  Checks the parser's promises: every
 * slice lies inside the input, the limits hold, the Sig_structure builds,
 * and a parse failure always names its stage. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/evidence.h"
#include "evidence/nitro/nitro.h"
#include "evidence/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *data, size_t size, const nitro_bytes *b)
{
    if (b->len == 0)
        return;
    if (!b->p || b->p < data || b->len > size || b->p > data + size - b->len)
        abort();
}

static void check_doc(const uint8_t *data, size_t size, const nitro_doc *d)
{
    inside(data, size, &d->protected_hdr);
    inside(data, size, &d->payload);
    inside(data, size, &d->signature);
    inside(data, size, &d->module_id);
    inside(data, size, &d->digest);
    inside(data, size, &d->certificate);
    inside(data, size, &d->public_key);
    inside(data, size, &d->user_data);
    inside(data, size, &d->nonce);
    for (size_t i = 0; i < d->n_cabundle; i++)
        inside(data, size, &d->cabundle[i]);
    for (unsigned i = 0; i < NITRO_PCR_COUNT; i++)
        if (d->pcr_present & (1u << i)) {
            inside(data, size, &d->pcr[i]);
            if (d->pcr[i].len != NITRO_PCR_LEN)
                abort();
        }
    if (d->alg != -35 || d->signature.len != NITRO_SIG_LEN || d->payload.len == 0 ||
        d->payload.len > NITRO_PAYLOAD_MAX || d->n_cabundle == 0 ||
        d->n_cabundle > NITRO_CABUNDLE_MAX || d->module_id.len == 0 || d->timestamp == 0 ||
        (d->pcr_present & 7u) != 7u || d->nonce.len > NITRO_NONCE_MAX ||
        d->user_data.len > NITRO_USER_DATA_MAX || d->certificate.len == 0)
        abort();
    uint8_t *msg = NULL;
    size_t n = 0;
    if (nitro_sig_structure(d, &msg, &n) != CACHET_OK || n < d->payload.len)
        abort();
    free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nitro_doc d;
    nitro_parse_stage st = NITRO_PARSE_OK;
    if (nitro_doc_parse(data, size, &d, &st) == CACHET_OK) {
        if (st != NITRO_PARSE_OK)
            abort();
        check_doc(data, size, &d);
    } else if (st == NITRO_PARSE_OK) {
        abort();
    }

    /* The walk alone, with the most permissive flags it has. */
    nitro_cbor_limits lim = {
        .max_depth = NITRO_CBOR_MAX_DEPTH,
        .max_entries = NITRO_CBOR_MAX_ENTRIES,
        .max_items = NITRO_CBOR_MAX_ITEMS,
        .max_string = NITRO_PAYLOAD_MAX,
        .allow_indefinite_top_map = true,
        .allow_top_tag = true,
    };
    (void)nitro_cbor_check(data, size, &lim);

    /* The whole family, with a nonce taken from the first bytes. */
    cachet_verify_request req = {
        .evidence = data,
        .evidence_len = size,
        .time = 1766668537, /* 2025-12-25T13:15:37Z */
        .nonce = data,
        .nonce_len = size < 16 ? size : 16,
    };
    cachet_verify_result *res = NULL;
    if (cachet_evidence_verify_with(&cachet_nitro_ops, &req, &res) != CACHET_OK)
        abort();
    /* `verified` only ever follows a passed signature, root pin and chain
     * (a fuzzer cannot get there without a real AWS document as a seed). */
    if (res->verified) {
        static const char *const need[] = { "nitro.cose.signature", "nitro.cabundle.root",
                                            "nitro.cert.chain", "nitro.cert.leaf" };
        for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
            const cachet_check *c = cachet_checklog_find(res->checks, need[i]);
            if (!c || c->result != CACHET_CHECK_PASS)
                abort();
        }
    }
    json_t *j = cachet_verify_result_to_json(res);
    if (!j)
        abort();
    json_decref(j);
    cachet_verify_result_free(res);
    return 0;
}
