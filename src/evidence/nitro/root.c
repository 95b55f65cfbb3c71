/* The AWS Nitro Enclaves root, built in (verify-contract: vendor roots are
 * built in and pinned; a root that arrives inside evidence is never trusted
 * for being there).
 *
 * The certificate is public AWS data: "AWS_NitroEnclaves_Root-G1", published
 * by AWS in AWS_NitroEnclaves_Root-G1.zip (attestation_process.md §2.1),
 * CN=aws.nitro-enclaves, OU=AWS, O=Amazon, C=US, EC P-384, valid
 * 2019-10-28..2049-10-28.  Its SHA-256 over the DER certificate is pinned
 * below as evidence-formats §0.4 gives it; the embedded PEM is checked
 * against that pin before it is used, so a damaged copy fails closed. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "evidence/nitro/nitro.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, CACHET_E_##code)

/* 641A0321A3E244EFE456463195D606317ED7CDCC3C1756E09893F3C68F79BB5B */
const uint8_t nitro_root_g1_sha256[CACHET_SHA256_LEN] = {
    0x64, 0x1a, 0x03, 0x21, 0xa3, 0xe2, 0x44, 0xef, 0xe4, 0x56, 0x46,
    0x31, 0x95, 0xd6, 0x06, 0x31, 0x7e, 0xd7, 0xcd, 0xcc, 0x3c, 0x17,
    0x56, 0xe0, 0x98, 0x93, 0xf3, 0xc6, 0x8f, 0x79, 0xbb, 0x5b,
};

const char nitro_root_g1_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL\n"
    "MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD\n"
    "VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4\n"
    "MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL\n"
    "DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG\n"
    "BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb\n"
    "48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE\n"
    "h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF\n"
    "R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC\n"
    "MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW\n"
    "rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N\n"
    "IwLz3/Y=\n"
    "-----END CERTIFICATE-----\n";

static pthread_once_t root_once = PTHREAD_ONCE_INIT;
static cachet_x509 *root_cert;
static char root_error[160];

static void load_root(void)
{
    cachet_x509 *c = NULL;
    uint8_t fp[CACHET_SHA256_LEN];
    if (cachet_x509_parse((const uint8_t *)nitro_root_g1_pem, strlen(nitro_root_g1_pem), &c) !=
        CACHET_OK) {
        snprintf(root_error, sizeof root_error, "built-in AWS Nitro root does not parse");
        return;
    }
    if (cachet_x509_fingerprint(c, fp) != CACHET_OK ||
        memcmp(fp, nitro_root_g1_sha256, sizeof fp) != 0) {
        snprintf(root_error, sizeof root_error,
                 "built-in AWS Nitro root does not match its SHA-256 pin");
        cachet_x509_free(c);
        return;
    }
    root_cert = c; /* lives for the process */
}

const cachet_x509 *nitro_root_builtin(void)
{
    pthread_once(&root_once, load_root);
    if (!root_cert)
        cachet_err(EV_RC(CHAIN), "%s", root_error[0] ? root_error : "no built-in AWS root");
    return root_cert;
}
