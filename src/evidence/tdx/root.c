/* The Intel SGX Root CA, built in and pinned (evidence-formats §0.4).
 *
 * Public Intel data: the certificate every DCAP chain (PCK, TCB signing,
 * CRLs) ends at, valid 2018-05-21..2049-12-31, ECDSA P-256.  It is loaded
 * once and must match both pins (certificate and SubjectPublicKeyInfo
 * SHA-256) or it is not used at all. */
#include <pthread.h>
#include <string.h>

#include "evidence/tdx/tdx.h"

const char tdx_intel_root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIw\n"
    "aDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENv\n"
    "cnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJ\n"
    "BgNVBAYTAlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgG\n"
    "A1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0\n"
    "aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT\n"
    "AlVTMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi7\n"
    "1OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxFP2sJBK5zlKOB\n"
    "uzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJ\n"
    "MEegRaBDhkFodHRwczovL2NlcnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50\n"
    "ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInzg7SV\n"
    "Ur9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYI\n"
    "KoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9CiSDcNoowLuPRLsWGf/Yi7GSX94BgwTwg\n"
    "AiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=\n"
    "-----END CERTIFICATE-----\n";

/* 44A0196B2B99F889B8E149E95B807A350E7424964399E885A7CBB8CCFAB674D3 */
const uint8_t tdx_intel_root_sha256[32] = {
    0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49, 0xe9, 0x5b, 0x80, 0x7a, 0x35,
    0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85, 0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3,
};

/* a0af031289f5d5d4132f9186068a7fc13628633ba235777472e29b6b6c67a49e */
const uint8_t tdx_intel_root_spki_sha256[32] = {
    0xa0, 0xaf, 0x03, 0x12, 0x89, 0xf5, 0xd5, 0xd4, 0x13, 0x2f, 0x91, 0x86, 0x06, 0x8a, 0x7f, 0xc1,
    0x36, 0x28, 0x63, 0x3b, 0xa2, 0x35, 0x77, 0x74, 0x72, 0xe2, 0x9b, 0x6b, 0x6c, 0x67, 0xa4, 0x9e,
};

static cachet_x509 *root;
static pthread_once_t root_once = PTHREAD_ONCE_INIT;

static void root_load(void)
{
    cachet_x509 *c = NULL;
    uint8_t fp[CACHET_SHA256_LEN], spki[CACHET_SHA256_LEN];
    if (cachet_x509_parse((const uint8_t *)tdx_intel_root_pem, sizeof tdx_intel_root_pem - 1, &c) !=
            CACHET_OK ||
        cachet_x509_fingerprint(c, fp) != CACHET_OK ||
        cachet_x509_spki_fingerprint(c, spki) != CACHET_OK ||
        memcmp(fp, tdx_intel_root_sha256, sizeof fp) != 0 ||
        memcmp(spki, tdx_intel_root_spki_sha256, sizeof spki) != 0) {
        cachet_x509_free(c);
        return;
    }
    root = c; /* lives for the process */
}

cachet_x509 *tdx_intel_root(void)
{
    pthread_once(&root_once, root_load);
    return root;
}
