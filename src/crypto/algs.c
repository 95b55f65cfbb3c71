/* Algorithm handles fetched once per process (see crypto_int.h). */
#include <pthread.h>

#include <openssl/kdf.h>

#include "crypto/crypto_int.h"

static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256, *md_sha384, *md_sha512;
static EVP_CIPHER *cipher_gcm;
static EVP_KDF *kdf_hkdf;

/* Never freed: they live for the process, like OpenSSL's own tables. */
static void algs_fetch(void)
{
    md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    md_sha384 = EVP_MD_fetch(NULL, "SHA384", NULL);
    md_sha512 = EVP_MD_fetch(NULL, "SHA512", NULL);
    cipher_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    kdf_hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

const EVP_MD *crypto_md(cachet_hash_alg alg)
{
    pthread_once(&algs_once, algs_fetch);
    switch (alg) {
    case CACHET_HASH_SHA256: return md_sha256;
    case CACHET_HASH_SHA384: return md_sha384;
    case CACHET_HASH_SHA512: return md_sha512;
    }
    return NULL;
}

const char *crypto_md_name(cachet_hash_alg alg)
{
    switch (alg) {
    case CACHET_HASH_SHA256: return "SHA256";
    case CACHET_HASH_SHA384: return "SHA384";
    case CACHET_HASH_SHA512: return "SHA512";
    }
    return NULL;
}

const EVP_CIPHER *crypto_aes256gcm(void)
{
    pthread_once(&algs_once, algs_fetch);
    return cipher_gcm;
}

EVP_KDF *crypto_hkdf(void)
{
    pthread_once(&algs_once, algs_fetch);
    return kdf_hkdf;
}
