/* Claims of an SNP report (documented in docs/evidence/snp.md).  Values come
 * straight from the parsed report; the verdict on them is in the checks. */
#include <stdio.h>
#include <string.h>

#include "evidence/family.h"
#include "evidence/snp/snp.h"

static void claim_tcb(cachet_ev_ctx *ctx, const char *key, uint64_t raw, snp_product p)
{
    json_t *o = cachet_ev_claim_object(ctx, NULL, key);
    if (!o)
        return;
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)raw);
    cachet_ev_claim_str(ctx, o, "raw", hex);
    if (p == SNP_PRODUCT_UNKNOWN)
        return; /* the layout depends on the product: do not guess */
    snp_tcb t = snp_tcb_decode(raw, p);
    if (snp_product_turin_layout(p))
        cachet_ev_claim_int(ctx, o, "fmc", t.fmc);
    cachet_ev_claim_int(ctx, o, "bootloader", t.bootloader);
    cachet_ev_claim_int(ctx, o, "tee", t.tee);
    cachet_ev_claim_int(ctx, o, "snp", t.snp);
    cachet_ev_claim_int(ctx, o, "microcode", t.microcode);
}

static void claim_policy(cachet_ev_ctx *ctx, uint64_t pol)
{
    json_t *o = cachet_ev_claim_object(ctx, NULL, "policy");
    if (!o)
        return;
    char hex[19];
    snprintf(hex, sizeof hex, "0x%016llx", (unsigned long long)pol);
    cachet_ev_claim_str(ctx, o, "raw", hex);
    cachet_ev_claim_int(ctx, o, "abi_major", (int64_t)((pol >> 8) & 0xff));
    cachet_ev_claim_int(ctx, o, "abi_minor", (int64_t)(pol & 0xff));
    cachet_ev_claim_bool(ctx, o, "smt_allowed", pol & SNP_POLICY_SMT);
    cachet_ev_claim_bool(ctx, o, "migrate_ma", pol & SNP_POLICY_MIGRATE_MA);
    cachet_ev_claim_bool(ctx, o, "debug", pol & SNP_POLICY_DEBUG);
    cachet_ev_claim_bool(ctx, o, "single_socket", pol & SNP_POLICY_SINGLE_SOCKET);
    cachet_ev_claim_bool(ctx, o, "cxl_allowed", pol & SNP_POLICY_CXL_ALLOW);
    cachet_ev_claim_bool(ctx, o, "mem_aes_256_xts", pol & SNP_POLICY_MEM_AES_256_XTS);
    cachet_ev_claim_bool(ctx, o, "rapl_disabled", pol & SNP_POLICY_RAPL_DIS);
    cachet_ev_claim_bool(ctx, o, "ciphertext_hiding", pol & SNP_POLICY_CIPHERTEXT_HIDING);
    cachet_ev_claim_bool(ctx, o, "page_swap_disabled", pol & SNP_POLICY_PAGE_SWAP_DISABLE);
}

static void claim_platform(cachet_ev_ctx *ctx, uint64_t pi)
{
    json_t *o = cachet_ev_claim_object(ctx, NULL, "platform_info");
    if (!o)
        return;
    char hex[19];
    snprintf(hex, sizeof hex, "0x%016llx", (unsigned long long)pi);
    cachet_ev_claim_str(ctx, o, "raw", hex);
    cachet_ev_claim_bool(ctx, o, "smt_enabled", pi & SNP_PLAT_SMT_EN);
    cachet_ev_claim_bool(ctx, o, "tsme_enabled", pi & SNP_PLAT_TSME_EN);
    cachet_ev_claim_bool(ctx, o, "ecc_enabled", pi & SNP_PLAT_ECC_EN);
    cachet_ev_claim_bool(ctx, o, "rapl_disabled", pi & SNP_PLAT_RAPL_DIS);
    cachet_ev_claim_bool(ctx, o, "ciphertext_hiding_enabled", pi & SNP_PLAT_CIPHERTEXT_HIDING_EN);
    cachet_ev_claim_bool(ctx, o, "alias_check_complete", pi & SNP_PLAT_ALIAS_CHECK_COMPLETE);
    cachet_ev_claim_bool(ctx, o, "iommu_write_safe", pi & SNP_PLAT_IOMMU_WRITE_SAFE);
    cachet_ev_claim_bool(ctx, o, "sev_tio_enabled", pi & SNP_PLAT_SEV_TIO_EN);
}

static void claim_firmware(cachet_ev_ctx *ctx, const char *key, uint8_t major, uint8_t minor,
                           uint8_t build)
{
    char v[16];
    snprintf(v, sizeof v, "%u.%u.%u", major, minor, build);
    cachet_ev_claim_str(ctx, NULL, key, v);
}

void snp_report_claims(cachet_ev_ctx *ctx, const snp_report *r, snp_product p)
{
    unsigned key = snp_report_signing_key(r);
    cachet_ev_claim_hex(ctx, NULL, "measurement", r->measurement, 48);
    cachet_ev_claim_hex(ctx, NULL, "report_data", r->report_data, SNP_REPORT_DATA_LEN);
    cachet_ev_claim_bool(ctx, NULL, "debug", r->policy & SNP_POLICY_DEBUG);
    cachet_ev_claim_str(ctx, NULL, "tcb_status", "unknown"); /* set by the TCB checks */
    cachet_ev_claim_hex(ctx, NULL, "host_data", r->host_data, 32);
    cachet_ev_claim_hex(ctx, NULL, "id_key_digest", r->id_key_digest, 48);
    cachet_ev_claim_hex(ctx, NULL, "author_key_digest", r->author_key_digest, 48);
    cachet_ev_claim_bool(ctx, NULL, "author_key_en", r->signer_info & SNP_SIGNER_AUTHOR_KEY_EN);
    cachet_ev_claim_hex(ctx, NULL, "family_id", r->family_id, 16);
    cachet_ev_claim_hex(ctx, NULL, "image_id", r->image_id, 16);
    cachet_ev_claim_hex(ctx, NULL, "report_id", r->report_id, 32);
    cachet_ev_claim_hex(ctx, NULL, "report_id_ma", r->report_id_ma, 32);
    cachet_ev_claim_int(ctx, NULL, "guest_svn", r->guest_svn);
    cachet_ev_claim_int(ctx, NULL, "vmpl", r->vmpl);
    cachet_ev_claim_int(ctx, NULL, "report_version", r->version);
    cachet_ev_claim_str(ctx, NULL, "signing_key",
                        key == SNP_KEY_VCEK ? "vcek" : key == SNP_KEY_VLEK ? "vlek" : "none");
    cachet_ev_claim_str(ctx, NULL, "product", snp_product_name(p));
    if (r->version >= 3) {
        json_t *o = cachet_ev_claim_object(ctx, NULL, "cpuid");
        if (o) {
            cachet_ev_claim_int(ctx, o, "family", r->cpuid_fam);
            cachet_ev_claim_int(ctx, o, "model", r->cpuid_mod);
            cachet_ev_claim_int(ctx, o, "stepping", r->cpuid_step);
        }
    }
    cachet_ev_claim_hex(ctx, NULL, "chip_id", r->chip_id, SNP_CHIP_ID_LEN);
    claim_policy(ctx, r->policy);
    claim_platform(ctx, r->platform_info);
    claim_tcb(ctx, "reported_tcb", r->reported_tcb, p);
    claim_tcb(ctx, "current_tcb", r->current_tcb, p);
    claim_tcb(ctx, "committed_tcb", r->committed_tcb, p);
    claim_tcb(ctx, "launch_tcb", r->launch_tcb, p);
    claim_firmware(ctx, "current_firmware", r->current_major, r->current_minor, r->current_build);
    claim_firmware(ctx, "committed_firmware", r->committed_major, r->committed_minor,
                   r->committed_build);
    if (r->version >= 5) {
        char hex[19];
        snprintf(hex, sizeof hex, "0x%016llx", (unsigned long long)r->launch_mit_vector);
        cachet_ev_claim_str(ctx, NULL, "launch_mit_vector", hex);
        snprintf(hex, sizeof hex, "0x%016llx", (unsigned long long)r->current_mit_vector);
        cachet_ev_claim_str(ctx, NULL, "current_mit_vector", hex);
    }
}
