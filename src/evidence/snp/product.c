/* SNP product lines: from a v3+ report's CPUID bytes, or from a VCEK/VLEK
 * productName.  Turin changed the TCB_VERSION layout, so the product decides
 * how every TCB in the report is read (evidence-formats §1.1, §1.2). */
#include <string.h>

#include "evidence/snp/snp.h"

const char *snp_product_name(snp_product p)
{
    switch (p) {
    case SNP_PRODUCT_MILAN: return "Milan";
    case SNP_PRODUCT_GENOA: return "Genoa";
    case SNP_PRODUCT_TURIN: return "Turin";
    default: return "unknown";
    }
}

/* CPUID_FAM_ID is extended family + base family; CPUID_MOD_ID is
 * (extended model << 4) | model.  Family 19h: models 00h-0Fh Milan,
 * 10h-1Fh and A0h-AFh Genoa (incl. Bergamo/Siena); family 1Ah: models
 * 00h-11h Turin. */
snp_product snp_product_from_cpuid(uint8_t family, uint8_t model)
{
    if (family == 0x19) {
        if (model <= 0x0F)
            return SNP_PRODUCT_MILAN;
        if ((model >= 0x10 && model <= 0x1F) || (model >= 0xA0 && model <= 0xAF))
            return SNP_PRODUCT_GENOA;
        return SNP_PRODUCT_UNKNOWN;
    }
    if (family == 0x1A && model <= 0x11)
        return SNP_PRODUCT_TURIN;
    return SNP_PRODUCT_UNKNOWN;
}

/* "Milan-B0" -> Milan; a VLEK names the line without a stepping ("Milan"). */
snp_product snp_product_from_name(const char *name)
{
    static const struct { const char *line; snp_product p; } lines[] = {
        { "Milan", SNP_PRODUCT_MILAN },
        { "Genoa", SNP_PRODUCT_GENOA },
        { "Turin", SNP_PRODUCT_TURIN },
    };
    if (!name)
        return SNP_PRODUCT_UNKNOWN;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        size_t n = strlen(lines[i].line);
        if (strncmp(name, lines[i].line, n) == 0 && (name[n] == 0 || name[n] == '-'))
            return lines[i].p;
    }
    return SNP_PRODUCT_UNKNOWN;
}

bool snp_product_turin_layout(snp_product p) { return p == SNP_PRODUCT_TURIN; }
