/* Certificate facts for profile checks: names, validity, serial, CA flag,
 * and extensions by dotted OID. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "crypto/crypto_int.h"

/* The single commonName of name, NUL-terminated into buf. */
static cachet_rc name_cn(const X509_NAME *name, char *buf, size_t cap, const char *what)
{
    if (!buf || !cap)
        return crypto_err(INVALID_ARG, "%s: no buffer", what);
    buf[0] = '\0';
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0)
        return crypto_err(NOT_FOUND, "%s: no commonName", what);
    /* Two CNs make "the" CN ambiguous; an attacker picks which one a
     * checker sees. */
    if (X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
        return crypto_err(FORMAT, "%s: more than one commonName", what);
    const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, s);
    if (n < 0)
        return crypto_ossl(FORMAT, "%s: commonName is not a valid string", what);
    cachet_rc rc = CACHET_OK;
    if (memchr(utf8, '\0', (size_t)n))
        rc = crypto_err(FORMAT, "%s: commonName contains NUL", what);
    else if ((size_t)n >= cap)
        rc = crypto_err(LIMIT, "%s: commonName of %d bytes does not fit %zu", what, n, cap);
    else {
        memcpy(buf, utf8, (size_t)n);
        buf[n] = '\0';
    }
    OPENSSL_free(utf8);
    return rc;
}

cachet_rc cachet_x509_subject_cn(const cachet_x509 *c, char *buf, size_t cap)
{
    if (!c)
        return crypto_err(INVALID_ARG, "x509_subject_cn: NULL certificate");
    return name_cn(X509_get_subject_name(c->x), buf, cap, "x509_subject_cn");
}

cachet_rc cachet_x509_issuer_cn(const cachet_x509 *c, char *buf, size_t cap)
{
    if (!c)
        return crypto_err(INVALID_ARG, "x509_issuer_cn: NULL certificate");
    return name_cn(X509_get_issuer_name(c->x), buf, cap, "x509_issuer_cn");
}

char *cachet_x509_subject_str(const cachet_x509 *c)
{
    if (!c)
        return NULL;
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL, *data = NULL;
    if (bio && X509_NAME_print_ex(bio, X509_get_subject_name(c->x), 0, XN_FLAG_RFC2253) >= 0) {
        long n = BIO_get_mem_data(bio, &data);
        if (n >= 0 && (out = malloc((size_t)n + 1))) {
            if (n > 0) /* an empty name leaves data NULL */
                memcpy(out, data, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    return out;
}

cachet_rc cachet_x509_validity(const cachet_x509 *c, int64_t *not_before, int64_t *not_after)
{
    if (!c || !not_before || !not_after)
        return crypto_err(INVALID_ARG, "x509_validity: NULL argument");
    cachet_rc rc = crypto_asn1_time(X509_get0_notBefore(c->x), not_before);
    if (rc == CACHET_OK)
        rc = crypto_asn1_time(X509_get0_notAfter(c->x), not_after);
    return rc;
}

cachet_rc cachet_x509_serial(const cachet_x509 *c, uint8_t *out, size_t cap, size_t *len)
{
    if (!c || !out || !len)
        return crypto_err(INVALID_ARG, "x509_serial: NULL argument");
    *len = 0;
    const ASN1_INTEGER *ai = X509_get0_serialNumber(c->x);
    BIGNUM *bn = ai ? ASN1_INTEGER_to_BN(ai, NULL) : NULL;
    if (!bn)
        return crypto_ossl(FORMAT, "x509_serial: unreadable serial number");
    cachet_rc rc = CACHET_OK;
    /* RFC 5280 §4.1.2.2 wants positive serials; AMD VCEKs use 0, which we
     * report as the single byte 00. */
    int n = BN_num_bytes(bn);
    if (BN_is_negative(bn))
        rc = crypto_err(FORMAT, "x509_serial: negative serial number");
    else if ((size_t)(n ? n : 1) > cap)
        rc = crypto_err(LIMIT, "x509_serial: %d-byte serial does not fit %zu", n, cap);
    else if (n == 0) {
        out[0] = 0;
        *len = 1;
    } else {
        *len = (size_t)BN_bn2bin(bn, out);
    }
    BN_free(bn);
    return rc;
}

bool cachet_x509_is_ca(const cachet_x509 *c)
{
    /* basicConstraints cA = TRUE only; OpenSSL's X509_check_ca also counts
     * v1 self-signed certificates, which no attestation profile wants. */
    return c && (X509_get_extension_flags(c->x) & EXFLAG_CA) != 0;
}

cachet_rc cachet_x509_extension(const cachet_x509 *c, const char *oid, const uint8_t **value,
                                size_t *len)
{
    if (!c || !oid || !value || !len)
        return crypto_err(INVALID_ARG, "x509_extension: NULL argument");
    *value = NULL;
    *len = 0;
    /* no_name = 1: dotted numbers only, never a short/long name lookup. */
    ASN1_OBJECT *want = OBJ_txt2obj(oid, 1);
    if (!want)
        return crypto_ossl(INVALID_ARG, "x509_extension: '%s' is not a dotted OID", oid);
    /* X509_get_ext_by_OBJ stops at the first match; count them all so a
     * duplicate (one for the checker, one for someone else) is refused. */
    const X509_EXTENSION *found = NULL;
    int count = 0, n = X509_get_ext_count(c->x);
    for (int i = 0; i < n; i++) {
        const X509_EXTENSION *ext = X509_get_ext(c->x, i);
        if (ext && OBJ_cmp(X509_EXTENSION_get_object((X509_EXTENSION *)ext), want) == 0) {
            found = ext;
            count++;
        }
    }
    ASN1_OBJECT_free(want);
    if (count == 0)
        return crypto_err(NOT_FOUND, "x509_extension: %s absent", oid);
    if (count > 1)
        return crypto_err(FORMAT, "x509_extension: %s present %d times", oid, count);
    const ASN1_OCTET_STRING *data = X509_EXTENSION_get_data((X509_EXTENSION *)found);
    if (!data || ASN1_STRING_length(data) < 0)
        return crypto_err(FORMAT, "x509_extension: %s has no value", oid);
    *value = ASN1_STRING_get0_data(data);
    *len = (size_t)ASN1_STRING_length(data);
    return CACHET_OK;
}
