/* The family table: the one place that lists evidence families.  The core
 * reaches families only through their ops, so adding one is a line here. */
#include <string.h>

#include "evidence/registry.h"

static const cachet_evidence_ops *const families[] = {
    &cachet_snp_ops,
    &cachet_nitro_ops,
    &cachet_tdx_ops,
    &cachet_sgx_ops,
    &cachet_tpm_ops,
    &cachet_az_snp_vtpm_ops,
    &cachet_az_tdx_vtpm_ops,
    &cachet_nvgpu_ops,
    &cachet_sample_ops,
};
#define N_FAMILIES (sizeof families / sizeof families[0])

const cachet_evidence_ops *const *cachet_evidence_families(size_t *n)
{
    if (n)
        *n = N_FAMILIES;
    return families;
}

static bool names_family(const cachet_evidence_ops *ops, const char *name)
{
    if (strcmp(ops->name, name) == 0)
        return true;
    for (const char *const *a = ops->aliases; a && *a; a++)
        if (strcmp(*a, name) == 0)
            return true;
    return false;
}

const cachet_evidence_ops *cachet_evidence_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (names_family(families[i], name))
            return families[i];
    return NULL;
}

const cachet_evidence_ops *cachet_evidence_detect(const uint8_t *buf, size_t len)
{
    const cachet_evidence_ops *best = NULL;
    int best_score = 0;
    bool tie = false;
    if (!buf || !len)
        return NULL;
    for (size_t i = 0; i < N_FAMILIES; i++) {
        if (!families[i]->detect)
            continue;
        int s = families[i]->detect(buf, len);
        if (s > best_score) {
            best = families[i];
            best_score = s;
            tie = false;
        } else if (s > 0 && s == best_score) {
            tie = true;
        }
    }
    return tie ? NULL : best;
}
