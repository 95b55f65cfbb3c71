/* The NVIDIA roots built into cachet (evidence-formats §0.4): the device
 * identity root that ends every GPU certificate chain, and the CoRIM signing
 * root that ends every RIM signing chain.  Public certificates, published by
 * NVIDIA with nvtrust (certs/verifier_device_root.pem, verifier_RIM_root.pem)
 * and identical to ../shared/vectors/nvgpu/nvidia_roots.  A root that arrives
 * inside evidence or endorsements is compared with these, never trusted.
 * tests/evidence/test_nvgpu_units.c checks both pins below. */
#include <pthread.h>
#include <string.h>

#include "cachet/encoding.h"
#include "evidence/nvgpu/nvgpu.h"

static const char device_root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICCzCCAZCgAwIBAgIQLTZwscoQBBHB/sDoKgZbVDAKBggqhkjOPQQDAzA1MSIw\n"
    "IAYDVQQDDBlOVklESUEgRGV2aWNlIElkZW50aXR5IENBMQ8wDQYDVQQKDAZOVklE\n"
    "SUEwIBcNMjExMTA1MDAwMDAwWhgPOTk5OTEyMzEyMzU5NTlaMDUxIjAgBgNVBAMM\n"
    "GU5WSURJQSBEZXZpY2UgSWRlbnRpdHkgQ0ExDzANBgNVBAoMBk5WSURJQTB2MBAG\n"
    "ByqGSM49AgEGBSuBBAAiA2IABA5MFKM7+KViZljbQSlgfky/RRnEQScW9NDZF8SX\n"
    "gAW96r6u/Ve8ZggtcYpPi2BS4VFu6KfEIrhN6FcHG7WP05W+oM+hxj7nyA1r1jkB\n"
    "2Ry70YfThX3Ba1zOryOP+MJ9vaNjMGEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B\n"
    "Af8EBAMCAQYwHQYDVR0OBBYEFFeF/4PyY8xlfWi3Olv0jUrL+0lfMB8GA1UdIwQY\n"
    "MBaAFFeF/4PyY8xlfWi3Olv0jUrL+0lfMAoGCCqGSM49BAMDA2kAMGYCMQCPeFM3\n"
    "TASsKQVaT+8S0sO9u97PVGCpE9d/I42IT7k3UUOLSR/qvJynVOD1vQKVXf0CMQC+\n"
    "EY55WYoDBvs2wPAH1Gw4LbcwUN8QCff8bFmV4ZxjCRr4WXTLFHBKjbfneGSBWwA=\n"
    "-----END CERTIFICATE-----\n";

static const char rim_root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICKTCCAbCgAwIBAgIQRdrjoA5QN73fh1N17LXicDAKBggqhkjOPQQDAzBFMQsw\n"
    "CQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxOVklESUEgQ29S\n"
    "SU0gc2lnbmluZyBSb290IENBMCAXDTIzMDMxNjE1MzczNFoYDzIwNTMwMzA4MTUz\n"
    "NzM0WjBFMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxO\n"
    "VklESUEgQ29SSU0gc2lnbmluZyBSb290IENBMHYwEAYHKoZIzj0CAQYFK4EEACID\n"
    "YgAEuECyi9vNM+Iw2lfUzyBldHAwaC1HF7TCgp12QcEyUTm3Tagxwr48d55+K2VI\n"
    "lWYIDk7NlAIQdcV/Ff7euGLI+Qauj93HsSI4WX298PpW54RTgz9tC+Q684caR/BX\n"
    "WEeZo2MwYTAdBgNVHQ4EFgQUpaXrOPK4ZDAk08DBskn594zeZjAwHwYDVR0jBBgw\n"
    "FoAUpaXrOPK4ZDAk08DBskn594zeZjAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8B\n"
    "Af8EBAMCAQYwCgYIKoZIzj0EAwMDZwAwZAIwHGDyscDP6ihHqRvZlI3eqZ4YkvjE\n"
    "1duaN84tAHRVgxVMvNrp5Tnom3idHYGW/dskAjATvjIx6VzHm/4e2GiZAyZEIUBD\n"
    "OKPzp5ei/A0iUZpdvngenDwV8Qa/wGdiTmJ7Bp4=\n"
    "-----END CERTIFICATE-----\n";

static const nvgpu_root_pin pins[] = {
    { "NVIDIA Device Identity CA", device_root_pem,
      "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48",
      "a90c4eb5acfd3e3d03a25db6a26b84f720ad0503196c627c21ddd48dd85b06a4" },
    { "NVIDIA CoRIM signing Root CA", rim_root_pem,
      "12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1",
      "dec1dc316477aa851eebdf51327ae9f864bc8d89254657ed1e7eb9168af1e1a3" },
};

const nvgpu_root_pin *nvgpu_root_pins(size_t *n)
{
    if (n)
        *n = sizeof pins / sizeof pins[0];
    return pins;
}

static nvgpu_trust builtin;
static bool builtin_ok;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Parse both roots and check each against its pinned fingerprint: a build
 * whose embedded text was altered loads no trust at all. */
static cachet_x509 *load_pinned(const nvgpu_root_pin *p)
{
    cachet_x509 *c = NULL;
    uint8_t fp[CACHET_SHA256_LEN];
    char hex[2 * CACHET_SHA256_LEN + 1];
    if (cachet_x509_parse((const uint8_t *)p->pem, strlen(p->pem), &c) != CACHET_OK)
        return NULL;
    if (cachet_x509_fingerprint(c, fp) != CACHET_OK)
        goto bad;
    cachet_hex_encode(fp, sizeof fp, hex);
    if (strcmp(hex, p->cert_sha256) != 0)
        goto bad;
    if (cachet_x509_spki_fingerprint(c, fp) != CACHET_OK)
        goto bad;
    cachet_hex_encode(fp, sizeof fp, hex);
    if (strcmp(hex, p->spki_sha256) != 0)
        goto bad;
    return c;
bad:
    cachet_x509_free(c);
    return NULL;
}

static void load(void)
{
    builtin.device_root = load_pinned(&pins[0]);
    builtin.rim_root = load_pinned(&pins[1]);
    builtin_ok = builtin.device_root && builtin.rim_root;
}

const nvgpu_trust *nvgpu_trust_builtin(void)
{
    pthread_once(&once, load);
    return builtin_ok ? &builtin : NULL;
}
