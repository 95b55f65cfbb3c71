/* Trustee's SNP evidence (../shared/docs/protocols.md §1.7): the `sev`
 * crate's serde form of ATTESTATION_REPORT, byte fields as JSON arrays of
 * integers and TCB_VERSION as objects, with an optional certificate table
 * (cert_chain).  It is rebuilt into the 0x4A0-byte report of AMD 56860 §7.3
 * that the verifier reads; reserved bytes are zero, as the firmware writes
 * them.  Nothing here is trusted: the report's signature covers the rebuilt
 * bytes, so a field placed wrongly fails verification, never passes it. */
#include <stdlib.h>
#include <string.h>

#include "cachet/evidence.h"
#include "evidence/snp/snp.h"

#define TR_ERR(...) cachet_err(CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_FORMAT), __VA_ARGS__)

typedef struct field {
    const char *name;
    enum { F_U8, F_U32, F_U64, F_BYTES, F_TCB, F_VERSION, F_SIG } kind;
    size_t off;
    size_t len;       /* F_BYTES */
    bool optional;    /* v5 additions */
} field;

/* AMD 56860 Table 23 (report version 3..5). */
static const field fields[] = {
    {"version", F_U32, 0x000, 0, false},
    {"guest_svn", F_U32, 0x004, 0, false},
    {"policy", F_U64, 0x008, 0, false},
    {"family_id", F_BYTES, 0x010, 16, false},
    {"image_id", F_BYTES, 0x020, 16, false},
    {"vmpl", F_U32, 0x030, 0, false},
    {"sig_algo", F_U32, 0x034, 0, false},
    {"current_tcb", F_TCB, 0x038, 0, false},
    {"plat_info", F_U64, 0x040, 0, false},
    {"key_info", F_U32, 0x048, 0, false},
    {"report_data", F_BYTES, 0x050, 64, false},
    {"measurement", F_BYTES, 0x090, 48, false},
    {"host_data", F_BYTES, 0x0C0, 32, false},
    {"id_key_digest", F_BYTES, 0x0E0, 48, false},
    {"author_key_digest", F_BYTES, 0x110, 48, false},
    {"report_id", F_BYTES, 0x140, 32, false},
    {"report_id_ma", F_BYTES, 0x160, 32, false},
    {"reported_tcb", F_TCB, 0x180, 0, false},
    {"cpuid_fam_id", F_U8, 0x188, 0, false},
    {"cpuid_mod_id", F_U8, 0x189, 0, false},
    {"cpuid_step", F_U8, 0x18A, 0, false},
    {"chip_id", F_BYTES, 0x1A0, 64, false},
    {"committed_tcb", F_TCB, 0x1E0, 0, false},
    {"current", F_VERSION, 0x1E8, 0, false},
    {"committed", F_VERSION, 0x1EC, 0, false},
    {"launch_tcb", F_TCB, 0x1F0, 0, false},
    {"launch_mit_vector", F_U64, 0x1F8, 0, true},
    {"current_mit_vector", F_U64, 0x200, 0, true},
    {"signature", F_SIG, 0x2A0, 0, false},
};

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static bool get_uint(const json_t *j, uint64_t max, uint64_t *out)
{
    if (!json_is_integer(j) || json_integer_value(j) < 0 ||
        (uint64_t)json_integer_value(j) > max)
        return false;
    *out = (uint64_t)json_integer_value(j);
    return true;
}

static cachet_rc get_bytes(const json_t *j, const char *name, uint8_t *out, size_t len)
{
    if (!json_is_array(j) || json_array_size(j) != len)
        return TR_ERR("trustee snp: %s must be an array of %zu integers", name, len);
    for (size_t i = 0; i < len; i++) {
        uint64_t v;
        if (!get_uint(json_array_get(j, i), 255, &v))
            return TR_ERR("trustee snp: %s[%zu] is not a byte", name, i);
        out[i] = (uint8_t)v;
    }
    return CACHET_OK;
}

static cachet_rc get_tcb(const json_t *j, const char *name, snp_product p, uint8_t *out)
{
    static const char *const keys[] = {"fmc", "bootloader", "tee", "snp", "microcode"};
    if (!json_is_object(j))
        return TR_ERR("trustee snp: %s must be a TCB object", name);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)j, k, v) {
        bool known = false;
        for (size_t i = 0; i < 5; i++)
            known = known || strcmp(k, keys[i]) == 0;
        if (!known)
            return TR_ERR("trustee snp: %s: unknown member \"%.32s\"", name, k);
    }
    snp_tcb t;
    memset(&t, 0, sizeof t);
    uint8_t *dst[] = {&t.fmc, &t.bootloader, &t.tee, &t.snp, &t.microcode};
    bool turin = snp_product_turin_layout(p);
    for (size_t i = 0; i < 5; i++) {
        const json_t *c = json_object_get(j, keys[i]);
        uint64_t x;
        if (i == 0 && (!c || json_is_null(c))) {
            if (turin)
                return TR_ERR("trustee snp: %s.fmc is required on Turin", name);
            continue;
        }
        if (i == 0 && !turin)
            return TR_ERR("trustee snp: %s.fmc is set, but the CPU is not a Turin", name);
        if (!get_uint(c, 255, &x))
            return TR_ERR("trustee snp: %s.%s is not a byte", name, keys[i]);
        *dst[i] = (uint8_t)x;
    }
    put_le(out, snp_tcb_encode(&t, p), 8);
    return CACHET_OK;
}

static cachet_rc put_field(const field *f, const json_t *v, snp_product p, uint8_t *r)
{
    uint64_t x;
    switch (f->kind) {
    case F_U8:
    case F_U32:
    case F_U64: {
        size_t n = f->kind == F_U8 ? 1 : f->kind == F_U32 ? 4 : 8;
        uint64_t max = n == 8 ? (uint64_t)INT64_MAX : ((uint64_t)1 << (8 * n)) - 1;
        if (!get_uint(v, max, &x))
            return TR_ERR("trustee snp: %s is not an unsigned %zu-byte integer", f->name, n);
        put_le(r + f->off, x, n);
        return CACHET_OK;
    }
    case F_BYTES:
        return get_bytes(v, f->name, r + f->off, f->len);
    case F_TCB:
        return get_tcb(v, f->name, p, r + f->off);
    case F_VERSION: {
        static const char *const keys[] = {"build", "minor", "major"};
        if (!json_is_object(v) || json_object_size(v) != 3)
            return TR_ERR("trustee snp: %s must be {build, minor, major}", f->name);
        for (size_t i = 0; i < 3; i++) {
            if (!get_uint(json_object_get(v, keys[i]), 255, &x))
                return TR_ERR("trustee snp: %s.%s is not a byte", f->name, keys[i]);
            r[f->off + i] = (uint8_t)x;
        }
        return CACHET_OK;
    }
    case F_SIG:
        if (!json_is_object(v) || json_object_size(v) != 2)
            return TR_ERR("trustee snp: signature must be {r, s}");
        {
            cachet_rc rc = get_bytes(json_object_get(v, "r"), "signature.r", r + f->off,
                                     SNP_SIG_COMP_LEN);
            if (rc == CACHET_OK)
                rc = get_bytes(json_object_get(v, "s"), "signature.s",
                               r + f->off + SNP_SIG_COMP_LEN, SNP_SIG_COMP_LEN);
            return rc;
        }
    }
    return TR_ERR("trustee snp: internal: unknown field kind");
}

static cachet_rc take_certs(const json_t *chain, cachet_snp_trustee *out)
{
    if (!chain || json_is_null(chain))
        return CACHET_OK;
    if (!json_is_array(chain) || json_array_size(chain) > CACHET_SNP_TRUSTEE_MAX_CERTS)
        return TR_ERR("trustee snp: cert_chain must be null or an array of at most %d entries",
                      CACHET_SNP_TRUSTEE_MAX_CERTS);
    for (size_t i = 0; i < json_array_size(chain); i++) {
        const json_t *e = json_array_get(chain, i);
        const char *type = json_string_value(json_object_get(e, "cert_type"));
        const json_t *data = json_object_get(e, "data");
        if (!json_is_object(e) || json_object_size(e) != 2 || !type || strlen(type) >= 16 ||
            !json_is_array(data) || json_array_size(data) == 0 ||
            json_array_size(data) > CACHET_SNP_TRUSTEE_MAX_CERT)
            return TR_ERR("trustee snp: cert_chain[%zu] must be {cert_type, data: [bytes]}", i);
        size_t n = json_array_size(data);
        uint8_t *der = malloc(n);
        if (!der)
            return cachet_err(CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_NOMEM), "out of memory");
        cachet_rc rc = get_bytes(data, "cert_chain data", der, n);
        if (rc != CACHET_OK) {
            free(der);
            return rc;
        }
        snprintf(out->cert_type[out->n_certs], sizeof out->cert_type[0], "%s", type);
        out->certs[out->n_certs] = der;
        out->cert_len[out->n_certs++] = n;
    }
    return CACHET_OK;
}

cachet_rc cachet_snp_from_trustee_json(const json_t *ev, cachet_snp_trustee *out)
{
    if (!ev || !out)
        return cachet_err(CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_INVALID_ARG),
                          "trustee snp: missing argument");
    memset(out, 0, sizeof *out);
    const json_t *rep = json_object_get(ev, "attestation_report");
    if (!json_is_object(ev) || !json_is_object(rep))
        return TR_ERR("trustee snp: no attestation_report object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ev, k, v) {
        if (strcmp(k, "attestation_report") && strcmp(k, "cert_chain"))
            return TR_ERR("trustee snp: unknown member \"%.32s\"", k);
    }
    json_object_foreach((json_t *)rep, k, v) {
        bool known = false;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            known = known || strcmp(k, fields[i].name) == 0;
        if (!known)
            return TR_ERR("trustee snp: attestation_report: unknown member \"%.32s\"", k);
    }
    /* TCB_VERSION's layout depends on the CPU (§1.2); v3+ reports name it. */
    uint64_t ver, fam, mod;
    if (!get_uint(json_object_get(rep, "version"), UINT32_MAX, &ver) || ver < 3)
        return TR_ERR("trustee snp: report version must be 3 or later");
    if (!get_uint(json_object_get(rep, "cpuid_fam_id"), 255, &fam) ||
        !get_uint(json_object_get(rep, "cpuid_mod_id"), 255, &mod))
        return TR_ERR("trustee snp: cpuid_fam_id and cpuid_mod_id are required");
    snp_product p = snp_product_from_cpuid((uint8_t)fam, (uint8_t)mod);
    if (p == SNP_PRODUCT_UNKNOWN)
        return TR_ERR("trustee snp: CPU family 0x%02x model 0x%02x is not a known SNP product",
                      (unsigned)fam, (unsigned)mod);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const json_t *fv = json_object_get(rep, fields[i].name);
        if (!fv) {
            if (fields[i].optional)
                continue;
            return TR_ERR("trustee snp: attestation_report.%s is missing", fields[i].name);
        }
        cachet_rc rc = put_field(&fields[i], fv, p, out->report);
        if (rc != CACHET_OK)
            return rc;
    }
    cachet_rc rc = take_certs(json_object_get(ev, "cert_chain"), out);
    if (rc != CACHET_OK)
        cachet_snp_trustee_clear(out);
    return rc;
}

void cachet_snp_trustee_clear(cachet_snp_trustee *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_certs; i++)
        free(t->certs[i]);
    memset(t, 0, sizeof *t);
}
