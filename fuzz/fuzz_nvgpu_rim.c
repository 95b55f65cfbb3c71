/* libFuzzer: the RIM reader over attacker-chosen XML: libxml2 with the
 * hardened options (no network, no DTD, no entities), the signature-shape
 * checks, the SWID content reader, and xmlsec's verification with the key
 * of the first KeyInfo certificate (which must fail or succeed cleanly,
 * never crash).  Checks the reader's promises on what it returns. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "evidence/nvgpu/nvgpu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nvgpu_rim *rim = NULL;
    nvgpu_xml *doc = NULL;
    if (nvgpu_rim_read(data, size, &rim, &doc) != CACHET_OK) {
        if (rim || doc)
            abort();
        return 0;
    }
    if (!rim->version[0] || rim->n == 0 || rim->n > NVGPU_RIM_MAX_ENTRIES ||
        rim->n_active > rim->n || rim->n_certs == 0 || rim->n_certs > NVGPU_RIM_MAX_CERTS)
        abort();
    bool seen[256] = { false };
    for (size_t i = 0; i < rim->n; i++) {
        const nvgpu_rim_entry *e = &rim->entries[i];
        if (seen[e->index] || e->n_alt == 0 || e->n_alt > NVGPU_RIM_MAX_ALT ||
            e->size != CACHET_SHA384_LEN || !e->alt)
            abort();
        seen[e->index] = true;
        if (nvgpu_rim_entry_at(rim, e->index) != e)
            abort();
    }
    const uint8_t *der;
    size_t len;
    if (cachet_x509_der(rim->certs[0], &der, &len) == CACHET_OK)
        (void)nvgpu_xml_verify(doc, der, len);
    (void)nvgpu_version_is_vbios(rim->version);
    nvgpu_rim *c = nvgpu_rim_clone(rim);
    if (c && (c->n != rim->n || strcmp(c->version, rim->version) != 0))
        abort();
    nvgpu_rim_free(c);
    nvgpu_xml_free(doc);
    nvgpu_rim_free(rim);
    return 0;
}
