/* RIM documents and their XML signatures: the one file of cachet that uses
 * libxml2's parser and xmlsec.
 *
 * DESIGN exception: src/crypto is the only OpenSSL user, except here.
 * XML-Signature verification needs canonical XML 1.1 and xmlsec's transform
 * pipeline, and xmlsec computes the digest and checks the ECDSA signature
 * through its OpenSSL backend (xmlsec1-openssl).  This file calls only
 * xmlsec and libxml2 APIs, never OpenSSL directly; every other decision
 * (which key, which chain, which root, which time) is made by cachet: the
 * signer certificate is chosen and chained to the built-in RIM root through
 * src/crypto before its key is handed to xmlsec, and xmlsec never reads a
 * key from KeyInfo or fetches anything.
 *
 * Parsing is hardened: a size limit, XML_PARSE_NONET, no DTD loading, no
 * entity substitution (no XML_PARSE_NOENT / DTDLOAD / DTDATTR / HUGE), and a
 * document with a DOCTYPE is refused outright.  The signature's shape is
 * checked before anything is verified (see nvgpu.h): one enveloped
 * signature over URI="" with exactly the C14N 1.1 and ECDSA-SHA384
 * algorithms, so the signed content is the document minus that element. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#include "cachet/encoding.h"
#include "evidence/nvgpu/nvgpu.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"
#define ALG_C14N11 "http://www.w3.org/2006/12/xml-c14n11"
#define ALG_ECDSA_SHA384 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_SHA384 "http://www.w3.org/2001/04/xmldsig-more#sha384"
#define MAX_CERT_B64 16384

struct nvgpu_xml {
    xmlDocPtr doc;
    xmlNodePtr root;
    xmlNodePtr sig; /* set by nvgpu_xml_signature_shape */
};

/* ---- one-time library setup ------------------------------------------------ */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool init_ok;

static void init_libs(void)
{
    xmlInitParser();
    if (xmlSecInit() < 0)
        return;
    /* xmlSecInit() turns on entity substitution and external-DTD loading as
     * libxml2's process defaults (for ID attributes); cachet references
     * nothing by ID and parses with explicit options, so put the safe
     * defaults back for anything else in the process. */
    xmlSubstituteEntitiesDefault(0);
    xmlLoadExtDtdDefaultValue = 0;
    if (xmlSecCheckVersion() != 1)
        return;
    /* Errors become cachet details; nothing goes to stderr. */
    xmlSecErrorsDefaultCallbackEnableOutput(0);
    if (xmlSecCryptoAppInit(NULL) < 0 || xmlSecCryptoInit() < 0)
        return;
    init_ok = true;
}

static cachet_rc ensure_init(void)
{
    pthread_once(&init_once, init_libs);
    if (!init_ok)
        return cachet_err(EV_RC(UNSUPPORTED), "xmlsec (OpenSSL backend) did not initialise");
    return CACHET_OK;
}

/* ---- parsing ------------------------------------------------------------------ */

cachet_rc nvgpu_xml_parse(const uint8_t *buf, size_t len, nvgpu_xml **out)
{
    *out = NULL;
    cachet_rc rc = ensure_init();
    if (rc != CACHET_OK)
        return rc;
    if (!buf || len == 0)
        return cachet_err(EV_RC(FORMAT), "empty XML document");
    if (len > NVGPU_RIM_MAX)
        return cachet_err(EV_RC(LIMIT), "XML document of %zu bytes (limit %zu)", len,
                          NVGPU_RIM_MAX);
    xmlParserCtxtPtr pc = xmlNewParserCtxt();
    if (!pc)
        return cachet_err(EV_RC(NOMEM), "XML: out of memory");
    /* Deliberately absent: XML_PARSE_NOENT, _DTDLOAD, _DTDATTR, _DTDVALID,
     * _XINCLUDE, _HUGE.  Blanks are kept: canonicalisation sees them. */
    const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
    xmlDocPtr doc = xmlCtxtReadMemory(pc, (const char *)buf, (int)len, NULL, NULL, opts);
    bool well_formed = pc->wellFormed != 0;
    xmlFreeParserCtxt(pc);
    if (!doc || !well_formed) {
        xmlFreeDoc(doc);
        return cachet_err(EV_RC(FORMAT), "not a well-formed XML document");
    }
    if (doc->intSubset || doc->extSubset) {
        xmlFreeDoc(doc);
        return cachet_err(EV_RC(FORMAT), "the document has a DOCTYPE (refused: no DTDs)");
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root) {
        xmlFreeDoc(doc);
        return cachet_err(EV_RC(FORMAT), "the document has no root element");
    }
    nvgpu_xml *x = calloc(1, sizeof *x);
    if (!x) {
        xmlFreeDoc(doc);
        return cachet_err(EV_RC(NOMEM), "XML: out of memory");
    }
    x->doc = doc;
    x->root = root;
    *out = x;
    return CACHET_OK;
}

void nvgpu_xml_free(nvgpu_xml *x)
{
    if (!x)
        return;
    xmlFreeDoc(x->doc);
    free(x);
}

void *nvgpu_xml_root(const nvgpu_xml *x) { return x ? x->root : NULL; }
void *nvgpu_xml_signature(const nvgpu_xml *x) { return x ? x->sig : NULL; }

void nvgpu_blobs_free(nvgpu_blob *b, size_t n)
{
    if (!b)
        return;
    for (size_t i = 0; i < n; i++)
        free(b[i].data);
    free(b);
}

/* ---- the signature's shape ------------------------------------------------------ */

static bool is_dsig(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           strcmp((const char *)n->ns->href, DSIG_NS) == 0 &&
           strcmp((const char *)n->name, name) == 0;
}

/* Next element sibling starting at n (itself included); text and comments
 * between elements are skipped.  Non-blank text is refused by the caller. */
static xmlNodePtr element_from(xmlNodePtr n)
{
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

static size_t count_signatures(const xmlNode *n, size_t depth)
{
    size_t c = 0;
    if (depth > 64)
        return 2; /* absurd nesting: treat as ambiguous */
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_dsig(n, "Signature"))
            c++;
        c += count_signatures(n->children, depth + 1);
        if (c > 1)
            return c;
    }
    return c;
}

/* An Algorithm attribute equal to want. */
static bool algorithm_is(xmlNodePtr n, const char *want)
{
    xmlChar *a = xmlGetNoNsProp(n, (const xmlChar *)"Algorithm");
    bool ok = a && strcmp((const char *)a, want) == 0;
    xmlFree(a);
    return ok;
}

/* Only whitespace text between the elements of a dsig structure. */
static bool only_blank_text(const xmlNode *n)
{
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE && n->content) {
            for (const xmlChar *p = n->content; *p; p++)
                if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
                    return false;
        } else if (n->type != XML_ELEMENT_NODE && n->type != XML_TEXT_NODE &&
                   n->type != XML_COMMENT_NODE) {
            return false;
        }
    }
    return true;
}

static cachet_rc check_reference(xmlNodePtr ref)
{
    xmlChar *uri = xmlGetNoNsProp(ref, (const xmlChar *)"URI");
    bool empty_uri = uri && uri[0] == 0;
    xmlFree(uri);
    if (!empty_uri)
        return cachet_err(EV_RC(UNSUPPORTED),
                          "the Reference does not have URI=\"\" (the whole document)");
    xmlNodePtr t = element_from(ref->children);
    if (!is_dsig(t, "Transforms"))
        return cachet_err(EV_RC(UNSUPPORTED), "the Reference has no Transforms");
    xmlNodePtr t1 = element_from(t->children);
    xmlNodePtr t2 = t1 ? element_from(t1->next) : NULL;
    if (!is_dsig(t1, "Transform") || !algorithm_is(t1, ALG_ENVELOPED) ||
        !is_dsig(t2, "Transform") || !algorithm_is(t2, ALG_C14N11) ||
        element_from(t2->next) || t1->children || t2->children)
        return cachet_err(EV_RC(UNSUPPORTED),
                          "the Reference's transforms are not exactly enveloped-signature, "
                          "C14N 1.1");
    xmlNodePtr dm = element_from(t->next);
    if (!is_dsig(dm, "DigestMethod") || !algorithm_is(dm, ALG_SHA384))
        return cachet_err(EV_RC(UNSUPPORTED), "the Reference's DigestMethod is not SHA-384");
    xmlNodePtr dv = element_from(dm->next);
    if (!is_dsig(dv, "DigestValue") || element_from(dv->next))
        return cachet_err(EV_RC(FORMAT), "the Reference has no single DigestValue at its end");
    return CACHET_OK;
}

static cachet_rc check_signed_info(xmlNodePtr si)
{
    if (!only_blank_text(si->children))
        return cachet_err(EV_RC(FORMAT), "SignedInfo holds text or other nodes");
    xmlNodePtr c14n = element_from(si->children);
    if (!is_dsig(c14n, "CanonicalizationMethod") || !algorithm_is(c14n, ALG_C14N11) ||
        c14n->children)
        return cachet_err(EV_RC(UNSUPPORTED), "SignedInfo's canonicalization is not C14N 1.1");
    xmlNodePtr sm = element_from(c14n->next);
    if (!is_dsig(sm, "SignatureMethod") || !algorithm_is(sm, ALG_ECDSA_SHA384) || sm->children)
        return cachet_err(EV_RC(UNSUPPORTED), "SignedInfo's SignatureMethod is not ECDSA-SHA384");
    xmlNodePtr ref = element_from(sm->next);
    if (!is_dsig(ref, "Reference"))
        return cachet_err(EV_RC(FORMAT), "SignedInfo has no Reference");
    if (element_from(ref->next))
        return cachet_err(EV_RC(UNSUPPORTED), "SignedInfo has more than one Reference");
    return check_reference(ref);
}

static cachet_rc add_cert(xmlNodePtr n, nvgpu_blob *certs, size_t *k)
{
    if (*k >= NVGPU_RIM_MAX_CERTS)
        return cachet_err(EV_RC(LIMIT), "KeyInfo holds more than %u certificates",
                          NVGPU_RIM_MAX_CERTS);
    xmlChar *text = xmlNodeGetContent(n);
    if (!text)
        return cachet_err(EV_RC(FORMAT), "empty X509Certificate");
    size_t len = strlen((const char *)text);
    if (len == 0 || len > MAX_CERT_B64) {
        xmlFree(text);
        return cachet_err(EV_RC(FORMAT), "X509Certificate of %zu characters", len);
    }
    char *b64 = malloc(len + 1);
    if (!b64) {
        xmlFree(text);
        return cachet_err(EV_RC(NOMEM), "XML: out of memory");
    }
    size_t m = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = (char)text[i];
        if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
            b64[m++] = ch;
    }
    xmlFree(text);
    cachet_rc rc = cachet_base64_decode(b64, m, &certs[*k].data, &certs[*k].len);
    free(b64);
    if (rc != CACHET_OK)
        return cachet_err(EV_RC(FORMAT), "X509Certificate is not base64");
    (*k)++;
    return CACHET_OK;
}

static cachet_rc collect_certs(xmlNodePtr sig, nvgpu_blob **out, size_t *n)
{
    nvgpu_blob *certs = calloc(NVGPU_RIM_MAX_CERTS, sizeof *certs);
    if (!certs)
        return cachet_err(EV_RC(NOMEM), "XML: out of memory");
    size_t k = 0;
    cachet_rc rc = CACHET_OK;
    size_t key_infos = 0;
    for (xmlNodePtr ki = element_from(sig->children); ki && rc == CACHET_OK;
         ki = element_from(ki->next)) {
        if (!is_dsig(ki, "KeyInfo"))
            continue;
        key_infos++;
        for (xmlNodePtr xd = element_from(ki->children); xd && rc == CACHET_OK;
             xd = element_from(xd->next)) {
            if (!is_dsig(xd, "X509Data"))
                continue;
            for (xmlNodePtr c = element_from(xd->children); c && rc == CACHET_OK;
                 c = element_from(c->next))
                if (is_dsig(c, "X509Certificate"))
                    rc = add_cert(c, certs, &k);
        }
    }
    if (rc == CACHET_OK && key_infos != 1)
        rc = cachet_err(EV_RC(FORMAT), "the Signature has %zu KeyInfo elements (want 1)",
                        key_infos);
    if (rc == CACHET_OK && k == 0)
        rc = cachet_err(EV_RC(NOT_FOUND), "KeyInfo carries no X509Certificate");
    if (rc != CACHET_OK) {
        nvgpu_blobs_free(certs, k);
        return rc;
    }
    *out = certs;
    *n = k;
    return CACHET_OK;
}

cachet_rc nvgpu_xml_signature_shape(nvgpu_xml *x, nvgpu_blob **certs, size_t *n)
{
    *certs = NULL;
    *n = 0;
    size_t count = count_signatures(x->root, 0);
    if (count != 1)
        return cachet_err(EV_RC(FORMAT), "the document holds %zu ds:Signature elements (want 1)",
                          count);
    /* The signature must be the root's last element child: enveloped, not
     * wrapped somewhere inside the content. */
    xmlNodePtr last = NULL;
    for (xmlNodePtr c = element_from(x->root->children); c; c = element_from(c->next))
        last = c;
    if (!is_dsig(last, "Signature"))
        return cachet_err(EV_RC(FORMAT),
                          "the ds:Signature is not the last child element of the root");
    xmlNodePtr si = element_from(last->children);
    if (!is_dsig(si, "SignedInfo"))
        return cachet_err(EV_RC(FORMAT), "the Signature does not start with SignedInfo");
    xmlNodePtr sv = element_from(si->next);
    if (!is_dsig(sv, "SignatureValue"))
        return cachet_err(EV_RC(FORMAT), "SignedInfo is not followed by SignatureValue");
    for (xmlNodePtr c = element_from(sv->next); c; c = element_from(c->next))
        if (!is_dsig(c, "KeyInfo") && !is_dsig(c, "Object"))
            return cachet_err(EV_RC(FORMAT), "unexpected element %s in the Signature",
                              (const char *)c->name);
    cachet_rc rc = check_signed_info(si);
    if (rc != CACHET_OK)
        return rc;
    rc = collect_certs(last, certs, n);
    if (rc != CACHET_OK)
        return rc;
    x->sig = last;
    return CACHET_OK;
}

/* ---- verification ------------------------------------------------------------------ */

cachet_rc nvgpu_xml_verify(nvgpu_xml *x, const uint8_t *signer_der, size_t signer_len)
{
    cachet_rc rc = ensure_init();
    if (rc != CACHET_OK)
        return rc;
    if (!x || !x->sig)
        return cachet_err(EV_RC(STATE), "XML signature shape not checked");
    if (!signer_der || signer_len == 0 || signer_len > (size_t)MAX_CERT_B64)
        return cachet_err(EV_RC(INVALID_ARG), "no signer certificate");
    xmlSecDSigCtxPtr d = xmlSecDSigCtxCreate(NULL);
    if (!d)
        return cachet_err(EV_RC(NOMEM), "xmlsec: cannot create a signature context");
    /* Only what NVIDIA's RIMs use: the empty URI (no fetching, no ID
     * lookups), enveloped + C14N 1.1 + SHA-384 in the Reference, C14N 1.1 +
     * ECDSA-SHA384 for SignedInfo.  Manifests are not followed. */
    d->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
    d->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
    if (xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformEnvelopedId) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformInclC14N11Id) < 0 ||
        xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformSha384Id) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(d, xmlSecTransformInclC14N11Id) < 0 ||
        xmlSecDSigCtxEnableSignatureTransform(d, xmlSecTransformEcdsaSha384Id) < 0) {
        xmlSecDSigCtxDestroy(d);
        return cachet_err(EV_RC(UNSUPPORTED), "xmlsec lacks C14N 1.1, SHA-384 or ECDSA-SHA384");
    }
    /* The key of the certificate cachet chained to the RIM root; with
     * signKey preset xmlsec does not read KeyInfo. */
    d->signKey = xmlSecCryptoAppKeyLoadMemory(signer_der, (xmlSecSize)signer_len,
                                              xmlSecKeyDataFormatCertDer, NULL, NULL, NULL);
    if (!d->signKey) {
        xmlSecDSigCtxDestroy(d);
        return cachet_err(EV_RC(FORMAT), "xmlsec cannot use the signer certificate's key");
    }
    int r = xmlSecDSigCtxVerify(d, x->sig);
    bool ok = r == 0 && d->status == xmlSecDSigStatusSucceeded;
    bool refs_one = xmlSecPtrListGetSize(&d->signedInfoReferences) <= 1;
    xmlSecDSigCtxDestroy(d);
    if (r < 0)
        return cachet_err(EV_RC(SIGNATURE), "the XML signature could not be processed");
    if (!ok)
        return cachet_err(EV_RC(SIGNATURE),
                          "the XML signature does not verify (digest or ECDSA-SHA384 signature)");
    if (!refs_one)
        return cachet_err(EV_RC(SIGNATURE), "more than one Reference was processed");
    return CACHET_OK;
}
