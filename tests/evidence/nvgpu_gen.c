/* Synthetic NVIDIA GPU evidence (see nvgpu_gen.h).  Tests may call OpenSSL
 * and xmlsec directly: this is where the signatures real vectors cannot
 * provide are made (test keys only). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/bio.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "cachet/encoding.h"
#include "evidence/registry.h"
#include "nvgpu_gen.h"

/* ---- the PKIs ------------------------------------------------------------------ */

/* 2.23.133.5.4.1 in NVIDIA's Hopper shape: SEQUENCE { INTEGER 1,
 * SEQUENCE { OID sha384, OCTET STRING fwid } }. */
static void fwid_ext(const uint8_t fwid[48], uint8_t out[68])
{
    static const uint8_t head[] = { 0x30, 0x42, 0x02, 0x01, 0x01, 0x30, 0x3d, 0x06, 0x09, 0x60,
                                    0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x04, 0x30 };
    memcpy(out, head, sizeof head);
    memcpy(out + sizeof head, fwid, 48);
}

static int64_t g_nb, g_na; /* validity of the PKI being minted */

static testpki_cert *ca(const char *cn, const char *org, const testpki_cert *issuer)
{
    return testpki_mint(&(testpki_cert_opts){ .cn = cn, .org = org, .key = TESTPKI_KEY_P384,
                                              .ca = true, .sig_hash = CACHET_HASH_SHA384,
                                              .not_before = g_nb, .not_after = g_na },
                        issuer);
}

nvgen_pki *nvgen_pki_new(int64_t t0, bool builtin_rim_root)
{
    nvgen_pki *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    /* xmlsec is initialised by the nvgpu module on first use; do it now so
     * that the RIM signer below finds it ready. */
    nvgpu_xml *warm = NULL;
    if (nvgpu_xml_parse((const uint8_t *)"<a/>", 4, &warm) == CACHET_OK)
        nvgpu_xml_free(warm);
    g_nb = t0 - 86400;
    g_na = t0 + 30 * 86400;
    for (size_t i = 0; i < sizeof p->fwid; i++)
        p->fwid[i] = (uint8_t)(0xA0 ^ (i * 7));
    uint8_t ext[68];
    fwid_ext(p->fwid, ext);
    testpki_ext e = { .oid = NVGPU_OID_DICE_TCBINFO, .value = ext, .len = sizeof ext };
    p->root = ca("NVIDIA Device Identity CA", "NVIDIA", NULL);
    p->identity = p->root ? ca("NVIDIA GH100 Identity", "NVIDIA Corporation", p->root) : NULL;
    p->ica = p->identity ? ca("NVIDIA GH100 Provisioner ICA 1", "NVIDIA Corporation", p->identity)
                         : NULL;
    p->brom = p->ica ? ca("GH100 A01 GSP BROM", "NVIDIA Corporation", p->ica) : NULL;
    p->leaf = p->brom ? testpki_mint(&(testpki_cert_opts){ .cn = "GH100 A01 GSP FMC LF",
                                                           .org = "NVIDIA Corporation",
                                                           .key = TESTPKI_KEY_P384,
                                                           .sig_hash = CACHET_HASH_SHA384,
                                                           .not_before = g_nb,
                                                           .not_after = g_na,
                                                           .exts = &e, .n_exts = 1 },
                                     p->brom)
                      : NULL;
    p->rim_root = ca("Test CoRIM signing Root CA", "cachet tests", NULL);
    p->rim_ca = p->rim_root ? ca("Test Reference Value GH100 CA", "cachet tests", p->rim_root)
                            : NULL;
    p->rim_signer = p->rim_ca ? testpki_mint(&(testpki_cert_opts){ .cn = "Test RIM L4 Signer",
                                                                   .key = TESTPKI_KEY_P384,
                                                                   .sig_hash = CACHET_HASH_SHA384,
                                                                   .not_before = g_nb,
                                                                   .not_after = g_na },
                                             p->rim_ca)
                              : NULL;
    if (!p->leaf || !p->rim_signer) {
        nvgen_pki_free(p);
        return NULL;
    }
    p->trust.device_root = testpki_x509(p->root);
    if (builtin_rim_root) {
        const nvgpu_trust *b = nvgpu_trust_builtin();
        p->trust.rim_root = b ? cachet_x509_ref(b->rim_root) : NULL;
    } else {
        p->trust.rim_root = testpki_x509(p->rim_root);
    }
    if (!p->trust.device_root || !p->trust.rim_root) {
        nvgen_pki_free(p);
        return NULL;
    }
    p->ops = cachet_nvgpu_ops;
    p->ops.config = &p->trust;
    return p;
}

void nvgen_pki_free(nvgen_pki *p)
{
    if (!p)
        return;
    testpki_cert *all[] = { p->root, p->identity, p->ica, p->brom, p->leaf,
                            p->rim_root, p->rim_ca, p->rim_signer };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        testpki_free(all[i]);
    cachet_x509_free(p->trust.device_root);
    cachet_x509_free(p->trust.rim_root);
    free(p);
}

char *nvgen_chain_pem(const nvgen_pki *p, bool with_root)
{
    const testpki_cert *c[] = { p->leaf, p->brom, p->ica, p->identity, p->root };
    return testpki_bundle_pem(c, with_root ? 5 : 4);
}

/* ---- reports ---------------------------------------------------------------------- */

void nvgen_report_defaults(nvgen_report *o)
{
    memset(o, 0, sizeof *o);
    for (size_t i = 0; i < NVGPU_NONCE_LEN; i++)
        o->nonce[i] = (uint8_t)i;
    o->n_blocks = NVGEN_BLOCKS;
    for (size_t b = 0; b < NVGEN_BLOCKS; b++)
        for (size_t i = 0; i < 48; i++)
            o->values[b][i] = (uint8_t)(b * 31 + i * 3 + 1);
}

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *src, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q)
            abort();
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void put8(buf *b, uint8_t v) { put(b, &v, 1); }

static void put16(buf *b, uint16_t v)
{
    uint8_t t[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
    put(b, t, 2);
}

static void tlv(buf *b, uint16_t type, const void *v, size_t n)
{
    put16(b, type);
    put16(b, (uint16_t)n);
    put(b, v, n);
}

static void tlv_str(buf *b, uint16_t type, const char *s)
{
    tlv(b, type, s, strlen(s) + 1);
}

uint8_t *nvgen_report_build(const nvgen_pki *p, const nvgen_report *o, size_t *len)
{
    buf b = { 0 }, op = { 0 };
    uint8_t ver = o->spdm_version ? o->spdm_version : NVGPU_SPDM_VERSION_11;
    uint8_t nb = o->n_blocks ? o->n_blocks : NVGEN_BLOCKS;
    /* request */
    uint8_t req[4] = { ver, NVGPU_SPDM_GET_MEASUREMENTS, 0x01, 0xFF };
    put(&b, req, 4);
    put(&b, o->nonce, NVGPU_NONCE_LEN);
    put8(&b, 0);
    /* opaque data */
    static const uint8_t default_vbios[8] = { 0x00, 0x9f, 0x00, 0x96, 0x01, 0, 0, 0 };
    static const uint8_t zero8[8] = { 0 };
    tlv(&op, NVGPU_TLV_VBIOS_VERSION, memcmp(o->vbios, zero8, 8) ? o->vbios : default_vbios, 8);
    static const uint8_t board[4] = { 0xb1, 0x03, 0x00, 0x00 };
    tlv(&op, NVGPU_TLV_BOARD_ID, board, 4);
    tlv_str(&op, NVGPU_TLV_CHIP_SKU, o->chip_sku ? o->chip_sku : "882");
    tlv_str(&op, NVGPU_TLV_PROJECT, o->project ? o->project : "1010");
    tlv_str(&op, NVGPU_TLV_PROJECT_SKU, o->project_sku ? o->project_sku : "0200");
    const char *drv = o->driver_version ? o->driver_version : "550.144.03";
    tlv_str(&op, NVGPU_TLV_DRIVER_VERSION, drv);
    if (o->duplicate_tlv)
        tlv_str(&op, NVGPU_TLV_DRIVER_VERSION, drv);
    uint8_t nvdec = o->nvdec0 ? NVGPU_NVDEC0_ENABLED : NVGPU_NVDEC0_DISABLED;
    tlv(&op, NVGPU_TLV_NVDEC0_STATUS, &nvdec, 1);
    if (!o->no_fwid) {
        uint8_t f[48];
        memcpy(f, p->fwid, 48);
        if (o->other_fwid)
            f[0] ^= 0xFF;
        tlv(&op, NVGPU_TLV_FWID, f, 48);
    }
    /* response */
    uint8_t head[5] = { ver, NVGPU_SPDM_MEASUREMENTS, 0, 0, nb };
    put(&b, head, 5);
    uint32_t l1 = (uint32_t)nb * 55u;
    uint8_t l1b[3] = { (uint8_t)l1, (uint8_t)(l1 >> 8), (uint8_t)(l1 >> 16) };
    put(&b, l1b, 3);
    for (unsigned i = 0; i < nb; i++) {
        put8(&b, (uint8_t)(i + 1));
        put8(&b, NVGPU_DMTF_SPEC);
        put16(&b, 51);
        put8(&b, 0x01);
        put16(&b, 48);
        put(&b, o->values[i % NVGEN_BLOCKS], 48);
    }
    uint8_t rn[32];
    memset(rn, 0x5A, sizeof rn);
    put(&b, rn, sizeof rn);
    put16(&b, (uint16_t)op.len);
    put(&b, op.p, op.len);
    free(op.p);
    /* signature */
    uint8_t sig[NVGPU_SIG_LEN];
    cachet_pkey *k = testpki_key(o->signer ? o->signer : p->leaf);
    if (!k || cachet_ecdsa_sign_raw(k, CACHET_HASH_SHA384, b.p, b.len, sig, NVGPU_SIG_COMP_LEN,
                                    CACHET_BIG_ENDIAN) != CACHET_OK) {
        cachet_pkey_free(k);
        free(b.p);
        return NULL;
    }
    cachet_pkey_free(k);
    if (o->corrupt_signature)
        sig[10] ^= 0x01;
    put(&b, sig, sizeof sig);
    for (size_t i = 0; i < o->trailing; i++)
        put8(&b, o->trailing_byte);
    *len = b.len;
    return b.p;
}

/* ---- RIMs ---------------------------------------------------------------------------- */

static void append(char **s, size_t *len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char **s, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *piece = NULL;
    int n = vasprintf(&piece, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    char *q = realloc(*s, *len + (size_t)n + 1);
    if (!q)
        abort();
    memcpy(q + *len, piece, (size_t)n + 1);
    *s = q;
    *len += (size_t)n;
    free(piece);
}

static char *rim_template(const nvgen_rim *o, size_t *tlen)
{
    char *s = NULL;
    size_t len = 0;
    append(&s, &len,
           "<SoftwareIdentity xmlns=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" "
           "xmlns:ns0=\"http://standards.iso.org/iso/19770/-2/2015/schema.xsd\" "
           "xmlns:ns2=\"http://www.w3.org/2001/04/xmlenc#sha384\" corpus=\"false\" name=\"%s\" "
           "patch=\"false\" supplemental=\"false\" tagId=\"cachet-test\" version=\"1.0\" "
           "tagVersion=\"0\">\n"
           "    <ns0:Entity name=\"cachet tests\" role=\"softwareCreator tagCreator\"/>\n"
           "    <ns0:Meta colloquialVersion=\"%s\" edition=\"GPU\" product=\"%s\" "
           "revision=\"r1\"/>\n    <ns0:Payload>\n",
           o->product ? o->product : "GH100", o->version, o->product ? o->product : "GH100");
    for (size_t i = 0; i < o->n; i++) {
        char h0[97], h1[97];
        cachet_hex_encode(o->values[i], 48, h0);
        bool two = o->alt1 != NULL;
        if (two)
            cachet_hex_encode(o->alt1[i], 48, h1);
        append(&s, &len,
               "        <ns0:Resource type=\"Measurement\" index=\"%zu\" active=\"%s\" "
               "alternatives=\"%d\" ns2:Hash0=\"%s\"%s%s%s name=\"Measurement_%zu\" "
               "size=\"48\"/>\n",
               i, !o->active || o->active[i] ? "True" : "False", two ? 2 : 1, h0,
               two ? " ns2:Hash1=\"" : "", two ? h1 : "", two ? "\"" : "", i);
    }
    append(&s, &len,
           "    </ns0:Payload>\n"
           "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
           "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"/>"
           "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384\"/>"
           "<ds:Reference URI=\"\"><ds:Transforms>"
           "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>"
           "<ds:Transform Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"/></ds:Transforms>"
           "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#sha384\"/>"
           "<ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo>"
           "<ds:SignatureValue></ds:SignatureValue></ds:Signature></SoftwareIdentity>\n");
    *tlen = len;
    return s;
}

/* KeyInfo/X509Data with the chain, added after signing (KeyInfo is inside
 * the enveloped Signature, so it is not covered by the digest). */
static bool add_keyinfo(xmlNodePtr sig, const testpki_cert *const *certs, size_t n)
{
    xmlNodePtr ki = xmlNewChild(sig, sig->ns, (const xmlChar *)"KeyInfo", NULL);
    xmlNodePtr xd = ki ? xmlNewChild(ki, sig->ns, (const xmlChar *)"X509Data", NULL) : NULL;
    if (!xd)
        return false;
    for (size_t i = 0; i < n; i++) {
        size_t dl;
        const uint8_t *der = testpki_der(certs[i], &dl);
        char *b64 = cachet_base64_string(der, dl);
        xmlNodePtr c = b64 ? xmlNewChild(xd, sig->ns, (const xmlChar *)"X509Certificate",
                                         (const xmlChar *)b64)
                           : NULL;
        free(b64);
        if (!c)
            return false;
    }
    return true;
}

char *nvgen_rim_build(const nvgen_pki *p, const nvgen_rim *o, size_t *out_len)
{
    size_t tlen = 0;
    char *tmpl = rim_template(o, &tlen);
    xmlDocPtr doc = xmlReadMemory(tmpl, (int)tlen, NULL, NULL, XML_PARSE_NONET);
    free(tmpl);
    if (!doc)
        return NULL;
    char *result = NULL;
    xmlSecDSigCtxPtr d = NULL;
    xmlNodePtr sig = xmlSecFindNode(xmlDocGetRootElement(doc), xmlSecNodeSignature, xmlSecDSigNs);
    const testpki_cert *signer = o->signer ? o->signer : p->rim_signer;
    char *pem = testpki_key_pem(signer);
    const char *step = "template";
    if (!sig || !pem)
        goto out;
    step = "context";
    d = xmlSecDSigCtxCreate(NULL);
    if (!d)
        goto out;
    step = "key";
    d->signKey = xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)pem, (xmlSecSize)strlen(pem),
                                              xmlSecKeyDataFormatPem, NULL, NULL, NULL);
    if (!d->signKey)
        goto out;
    step = "sign";
    if (xmlSecDSigCtxSign(d, sig) < 0)
        goto out;
    step = "keyinfo";
    const testpki_cert *chain[] = { signer, p->rim_ca, p->rim_root };
    if (!add_keyinfo(sig, chain, 3))
        goto out;
    step = "edit";
    if (o->corrupt_after_sign) {
        xmlNodePtr payload = NULL;
        for (xmlNodePtr c = xmlDocGetRootElement(doc)->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "Payload") == 0)
                payload = c;
        xmlNodePtr res = payload ? xmlFirstElementChild(payload) : NULL;
        xmlNsPtr ns = res ? xmlSearchNsByHref(doc, res, (const xmlChar *)"http://www.w3.org/2001/04/xmlenc#sha384") : NULL;
        if (!ns)
            goto out;
        xmlSetNsProp(res, ns, (const xmlChar *)"Hash0",
                     (const xmlChar *)"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    }
    if (o->wrap_payload) {
        /* An unsigned Payload inside the Signature: the enveloped transform
         * removes it from the digest, so the signature still verifies. */
        xmlNodePtr obj = xmlSecAddChild(sig, (const xmlChar *)"Object", xmlSecDSigNs);
        xmlNsPtr swid = xmlSearchNsByHref(doc, xmlDocGetRootElement(doc),
                                          (const xmlChar *)"http://standards.iso.org/iso/19770/-2/2015/schema.xsd");
        xmlNodePtr pl = obj ? xmlNewChild(obj, swid, (const xmlChar *)"Payload", NULL) : NULL;
        xmlNodePtr rs = pl ? xmlNewChild(pl, swid, (const xmlChar *)"Resource", NULL) : NULL;
        if (!rs)
            goto out;
        xmlNewProp(rs, (const xmlChar *)"type", (const xmlChar *)"Measurement");
        xmlNewProp(rs, (const xmlChar *)"index", (const xmlChar *)"0");
    }
    step = "dump";
    xmlChar *mem = NULL;
    int size = 0;
    xmlDocDumpMemory(doc, &mem, &size);
    if (!mem || size <= 0)
        goto out;
    const char *prefix = o->doctype ? "<!DOCTYPE SoftwareIdentity [<!ENTITY x \"y\">]>\n" : "";
    /* The dump starts with an XML declaration; a DOCTYPE goes after it. */
    const char *body = (const char *)mem;
    const char *nl = o->doctype ? strchr(body, '\n') : NULL;
    size_t decl = nl ? (size_t)(nl - body) + 1 : 0;
    size_t total = (size_t)size + strlen(prefix);
    result = malloc(total + 1);
    if (result) {
        memcpy(result, body, decl);
        memcpy(result + decl, prefix, strlen(prefix));
        memcpy(result + decl + strlen(prefix), body + decl, (size_t)size - decl);
        result[total] = 0;
        *out_len = total;
    }
    xmlFree(mem);
out:
    if (!result)
        fprintf(stderr, "nvgen_rim_build: %s failed\n", step);
    xmlSecDSigCtxDestroy(d);
    free(pem);
    xmlFreeDoc(doc);
    return result;
}

/* ---- OCSP -------------------------------------------------------------------------------- */

static X509 *x509_of(const testpki_cert *c)
{
    size_t n;
    const uint8_t *der = testpki_der(c, &n);
    return d2i_X509(NULL, &der, (long)n);
}

static EVP_PKEY *key_of(const testpki_cert *c)
{
    char *pem = testpki_key_pem(c);
    BIO *bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
    EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    free(pem);
    return k;
}

uint8_t *nvgen_ocsp(const testpki_cert *cert, const testpki_cert *issuer,
                    const testpki_cert *responder, int status, int reason, int64_t this_update,
                    int64_t next_update, size_t *len)
{
    uint8_t *out = NULL;
    X509 *cx = x509_of(cert), *ix = x509_of(issuer), *rx = x509_of(responder);
    EVP_PKEY *rk = key_of(responder);
    OCSP_CERTID *id = cx && ix ? OCSP_cert_to_id(EVP_sha384(), cx, ix) : NULL;
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    ASN1_TIME *tu = ASN1_TIME_set(NULL, (time_t)this_update);
    ASN1_TIME *nu = next_update ? ASN1_TIME_set(NULL, (time_t)next_update) : NULL;
    ASN1_TIME *rt = status == 1 ? ASN1_TIME_set(NULL, (time_t)(this_update - 3600)) : NULL;
    STACK_OF(X509) *certs = sk_X509_new_null();
    OCSP_RESPONSE *resp = NULL;
    if (!id || !bs || !tu || !rx || !rk || !certs || !sk_X509_push(certs, rx))
        goto out;
    if (!OCSP_basic_add1_status(bs, id, status, reason, rt, tu, nu))
        goto out;
    if (!OCSP_basic_sign(bs, rx, rk, EVP_sha384(), certs, 0))
        goto out;
    resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    unsigned char *der = NULL;
    int n = resp ? i2d_OCSP_RESPONSE(resp, &der) : -1;
    if (n > 0) {
        out = malloc((size_t)n);
        if (out) {
            memcpy(out, der, (size_t)n);
            *len = (size_t)n;
        }
    }
    OPENSSL_free(der);
out:
    OCSP_RESPONSE_free(resp);
    sk_X509_free(certs);
    ASN1_TIME_free(tu);
    ASN1_TIME_free(nu);
    ASN1_TIME_free(rt);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(id);
    EVP_PKEY_free(rk);
    X509_free(cx);
    X509_free(ix);
    X509_free(rx);
    return out;
}

testpki_cert *nvgen_ocsp_responder(const testpki_cert *issuer, int64_t t0)
{
    /* extKeyUsage = id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9) */
    static const uint8_t eku[] = { 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01,
                                   0x05, 0x05, 0x07, 0x03, 0x09 };
    testpki_ext e = { .oid = "2.5.29.37", .value = eku, .len = sizeof eku };
    return testpki_mint(&(testpki_cert_opts){ .cn = "Test OCSP Responder",
                                              .key = TESTPKI_KEY_P384,
                                              .sig_hash = CACHET_HASH_SHA384, .exts = &e,
                                              .n_exts = 1, .not_before = t0 - 86400,
                                              .not_after = t0 + 30 * 86400 },
                        issuer);
}
