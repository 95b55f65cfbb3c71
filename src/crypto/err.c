/* Error reporting with OpenSSL's reason attached. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "crypto/crypto_int.h"

cachet_rc crypto_ossl_err(cachet_rc rc, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        msg[0] = '\0';

    /* The newest entry is the most specific reason. */
    unsigned long e = ERR_peek_last_error();
    if (e != 0) {
        char reason[200];
        ERR_error_string_n(e, reason, sizeof reason);
        size_t used = strlen(msg);
        if (used < sizeof msg - 1)
            snprintf(msg + used, sizeof msg - used, " (openssl: %s)", reason);
    }
    ERR_clear_error();
    return cachet_err(rc, "%s", msg);
}

int crypto_looks_pem(const uint8_t *buf, size_t len)
{
    static const char tag[] = "-----BEGIN";
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    return len - i >= sizeof tag - 1 && memcmp(buf + i, tag, sizeof tag - 1) == 0;
}
