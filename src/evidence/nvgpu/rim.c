/* Reading NVIDIA RIMs (ISO/IEC 19770-2:2015 SWID tags, evidence-formats
 * §3.6): Meta@colloquialVersion and every Payload/Resource measurement with
 * its alternatives.
 *
 * Only signed content is read.  nvgpu_xml_signature_shape() has established
 * that the one ds:Signature is the root's last element child and signs
 * URI="" with the enveloped-signature transform, so the signed node set is
 * the document minus that element; this reader looks at the root element
 * and its element children other than that Signature, and never inside it
 * (whatever an attacker adds there, e.g. in a ds:Object, is ignored).  The
 * values are used only after the signature verified. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "cachet/encoding.h"
#include "evidence/nvgpu/nvgpu.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

#define SWID_NS "http://standards.iso.org/iso/19770/-2/2015/schema.xsd"
#define SHA384_NS "http://www.w3.org/2001/04/xmlenc#sha384"

const char *nvgpu_rim_role_str(nvgpu_rim_role r)
{
    return r == NVGPU_RIM_DRIVER ? "driver" : "vbios";
}

bool nvgpu_version_is_vbios(const char *v)
{
    /* "96.00.5E.00.01": five two-digit hex groups. */
    if (!v || strlen(v) != 14)
        return false;
    for (size_t i = 0; i < 14; i++) {
        char c = v[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if ((i % 3 == 2) ? c != '.' : !hex)
            return false;
    }
    return true;
}

void nvgpu_rim_free(nvgpu_rim *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->entries[i].alt);
    free(r->entries);
    cachet_x509_free_all(r->certs, r->n_certs);
    free(r);
}

const nvgpu_rim_entry *nvgpu_rim_entry_at(const nvgpu_rim *r, unsigned index)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (r->entries[i].index == index)
            return &r->entries[i];
    return NULL;
}

static bool in_ns(const xmlNode *n, const char *ns)
{
    return n->ns && n->ns->href && strcmp((const char *)n->ns->href, ns) == 0;
}

static bool is_swid(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && in_ns(n, SWID_NS) &&
           strcmp((const char *)n->name, name) == 0;
}

/* A plain (no-namespace) attribute copied into buf; CACHET_E_NOT_FOUND
 * when absent. */
static cachet_rc attr_copy(xmlNodePtr n, const char *name, char *buf, size_t cap)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v)
        return cachet_err(EV_RC(NOT_FOUND), "attribute %s missing", name);
    size_t len = strlen((const char *)v);
    if (len >= cap) {
        xmlFree(v);
        return cachet_err(EV_RC(FORMAT), "attribute %s of %zu characters", name, len);
    }
    memcpy(buf, v, len + 1);
    xmlFree(v);
    return CACHET_OK;
}

/* Decimal 0..max, digits only. */
static bool parse_uint(const char *s, unsigned max, unsigned *out)
{
    unsigned v = 0;
    if (!*s || strlen(s) > 5)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static cachet_rc read_resource(xmlNodePtr n, nvgpu_rim_entry *e, size_t pos)
{
    char type[32], index[8], active[8], alts[8], size[8];
    unsigned idx = 0, n_alt = 0, sz = 0;
    if (attr_copy(n, "type", type, sizeof type) != CACHET_OK || strcmp(type, "Measurement") != 0)
        return cachet_err(EV_RC(FORMAT), "Resource %zu: type is not \"Measurement\"", pos);
    if (attr_copy(n, "index", index, sizeof index) != CACHET_OK ||
        !parse_uint(index, 254, &idx))
        return cachet_err(EV_RC(FORMAT), "Resource %zu: index missing or not 0..254", pos);
    if (attr_copy(n, "active", active, sizeof active) != CACHET_OK ||
        (strcasecmp(active, "true") != 0 && strcasecmp(active, "false") != 0))
        return cachet_err(EV_RC(FORMAT), "Resource index %u: active is not True/False", idx);
    if (attr_copy(n, "alternatives", alts, sizeof alts) != CACHET_OK ||
        !parse_uint(alts, NVGPU_RIM_MAX_ALT, &n_alt) || n_alt == 0)
        return cachet_err(EV_RC(FORMAT), "Resource index %u: alternatives not 1..%u", idx,
                          NVGPU_RIM_MAX_ALT);
    /* The hashes live in the SHA-384 namespace: 48-byte values only. */
    if (attr_copy(n, "size", size, sizeof size) != CACHET_OK || !parse_uint(size, 64, &sz) ||
        sz != CACHET_SHA384_LEN)
        return cachet_err(EV_RC(FORMAT), "Resource index %u: size is not 48 (SHA-384)", idx);
    e->index = (uint8_t)idx;
    e->active = strcasecmp(active, "true") == 0;
    e->n_alt = (uint8_t)n_alt;
    e->size = (uint8_t)sz;
    e->alt = calloc(n_alt, sz);
    if (!e->alt)
        return cachet_err(EV_RC(NOMEM), "RIM: out of memory");

    /* Exactly Hash0 .. Hash<alternatives-1> in the SHA-384 namespace. */
    bool have[NVGPU_RIM_MAX_ALT] = { false };
    for (xmlAttrPtr a = n->properties; a; a = a->next) {
        if (!a->ns || !a->ns->href || strcmp((const char *)a->ns->href, SHA384_NS) != 0)
            continue;
        const char *name = (const char *)a->name;
        unsigned k = 0;
        if (strncmp(name, "Hash", 4) != 0 || !parse_uint(name + 4, 255, &k) || k >= n_alt)
            return cachet_err(EV_RC(FORMAT), "Resource index %u: unexpected attribute %s", idx,
                              name);
        if (have[k])
            return cachet_err(EV_RC(FORMAT), "Resource index %u: Hash%u twice", idx, k);
        xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
        size_t got = 0;
        cachet_rc rc = v ? cachet_hex_decode((const char *)v, e->alt + (size_t)k * sz, sz, &got)
                         : EV_RC(FORMAT);
        xmlFree(v);
        if (rc != CACHET_OK || got != sz)
            return cachet_err(EV_RC(FORMAT), "Resource index %u: Hash%u is not %u bytes of hex",
                              idx, k, sz);
        have[k] = true;
    }
    for (unsigned k = 0; k < n_alt; k++)
        if (!have[k])
            return cachet_err(EV_RC(FORMAT), "Resource index %u: Hash%u missing", idx, k);
    return CACHET_OK;
}

static cachet_rc read_payload(xmlNodePtr payload, nvgpu_rim *r)
{
    size_t cap = 0;
    for (xmlNodePtr c = payload->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE)
            cap++;
    if (cap == 0 || cap > NVGPU_RIM_MAX_ENTRIES)
        return cachet_err(EV_RC(FORMAT), "Payload holds %zu elements (1..%u)", cap,
                          NVGPU_RIM_MAX_ENTRIES);
    r->entries = calloc(cap, sizeof *r->entries);
    if (!r->entries)
        return cachet_err(EV_RC(NOMEM), "RIM: out of memory");
    bool seen[256] = { false };
    for (xmlNodePtr c = payload->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (!is_swid(c, "Resource"))
            return cachet_err(EV_RC(FORMAT), "Payload holds a %s element", (const char *)c->name);
        nvgpu_rim_entry *e = &r->entries[r->n];
        r->n++; /* counted first so that free() releases a half-read entry */
        cachet_rc rc = read_resource(c, e, r->n);
        if (rc != CACHET_OK)
            return rc;
        if (seen[e->index])
            return cachet_err(EV_RC(FORMAT), "Resource index %u appears twice", e->index);
        seen[e->index] = true;
        if (e->active)
            r->n_active++;
    }
    return CACHET_OK;
}

/* Root element attributes and children, skipping the verified Signature. */
static cachet_rc read_content(nvgpu_xml *x, nvgpu_rim *r)
{
    xmlNodePtr root = nvgpu_xml_root(x);
    xmlNodePtr sig = nvgpu_xml_signature(x);
    if (!is_swid(root, "SoftwareIdentity"))
        return cachet_err(EV_RC(FORMAT), "the root is not an ISO 19770-2 SoftwareIdentity");
    xmlChar *tag = xmlGetNoNsProp(root, (const xmlChar *)"tagId");
    if (tag) {
        snprintf(r->tag_id, sizeof r->tag_id, "%s", (const char *)tag);
        xmlFree(tag);
    }
    xmlNodePtr meta = NULL, payload = NULL;
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c == sig || c->type != XML_ELEMENT_NODE)
            continue;
        if (is_swid(c, "Meta")) {
            if (meta)
                return cachet_err(EV_RC(FORMAT), "more than one Meta element");
            meta = c;
        } else if (is_swid(c, "Payload")) {
            if (payload)
                return cachet_err(EV_RC(FORMAT), "more than one Payload element");
            payload = c;
        }
    }
    if (!meta || !payload)
        return cachet_err(EV_RC(FORMAT), "the RIM lacks its Meta or Payload element");
    if (attr_copy(meta, "colloquialVersion", r->version, sizeof r->version) != CACHET_OK ||
        r->version[0] == 0)
        return cachet_err(EV_RC(FORMAT), "Meta has no colloquialVersion");
    if (attr_copy(meta, "product", r->product, sizeof r->product) != CACHET_OK)
        r->product[0] = 0;
    return read_payload(payload, r);
}

static cachet_rc parse_certs(const nvgpu_blob *b, size_t n, nvgpu_rim *r)
{
    r->certs = calloc(n, sizeof *r->certs);
    if (!r->certs)
        return cachet_err(EV_RC(NOMEM), "RIM: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (b[i].len == 0 || b[i].data[0] != 0x30 ||
            cachet_x509_parse(b[i].data, b[i].len, &r->certs[i]) != CACHET_OK)
            return cachet_err(EV_RC(FORMAT), "KeyInfo certificate %zu does not parse", i + 1);
        r->n_certs = i + 1;
    }
    return CACHET_OK;
}

cachet_rc nvgpu_rim_read(const uint8_t *buf, size_t len, nvgpu_rim **out, nvgpu_xml **doc)
{
    *out = NULL;
    if (doc)
        *doc = NULL;
    nvgpu_xml *x = NULL;
    cachet_rc rc = nvgpu_xml_parse(buf, len, &x);
    if (rc != CACHET_OK)
        return rc;
    nvgpu_rim *r = calloc(1, sizeof *r);
    if (!r) {
        nvgpu_xml_free(x);
        return cachet_err(EV_RC(NOMEM), "RIM: out of memory");
    }
    nvgpu_blob *blobs = NULL;
    size_t nb = 0;
    rc = nvgpu_xml_signature_shape(x, &blobs, &nb);
    if (rc == CACHET_OK)
        rc = parse_certs(blobs, nb, r);
    nvgpu_blobs_free(blobs, nb);
    if (rc == CACHET_OK)
        rc = read_content(x, r);
    if (rc == CACHET_OK)
        rc = cachet_sha256(buf, len, r->digest);
    if (rc != CACHET_OK) {
        nvgpu_rim_free(r);
        nvgpu_xml_free(x);
        return rc;
    }
    *out = r;
    if (doc)
        *doc = x;
    else
        nvgpu_xml_free(x);
    return CACHET_OK;
}

nvgpu_rim *nvgpu_rim_clone(const nvgpu_rim *r)
{
    if (!r)
        return NULL;
    nvgpu_rim *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    memcpy(c->version, r->version, sizeof c->version);
    memcpy(c->product, r->product, sizeof c->product);
    memcpy(c->tag_id, r->tag_id, sizeof c->tag_id);
    memcpy(c->digest, r->digest, sizeof c->digest);
    c->n_active = r->n_active;
    c->entries = calloc(r->n ? r->n : 1, sizeof *c->entries);
    c->certs = calloc(r->n_certs ? r->n_certs : 1, sizeof *c->certs);
    if (!c->entries || !c->certs) {
        nvgpu_rim_free(c);
        return NULL;
    }
    for (size_t i = 0; i < r->n; i++) {
        c->entries[i] = r->entries[i];
        c->entries[i].alt = malloc((size_t)r->entries[i].n_alt * r->entries[i].size);
        if (!c->entries[i].alt) {
            c->n = i;
            nvgpu_rim_free(c);
            return NULL;
        }
        memcpy(c->entries[i].alt, r->entries[i].alt,
               (size_t)r->entries[i].n_alt * r->entries[i].size);
        c->n = i + 1;
    }
    for (size_t i = 0; i < r->n_certs; i++)
        c->certs[i] = cachet_x509_ref(r->certs[i]);
    c->n_certs = r->n_certs;
    return c;
}
