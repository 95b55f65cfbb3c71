/* Hex, base64 (RFC 4648 §4) and base64url (§5, no padding on output,
 * padding optional on input).  Decoders reject any character outside the
 * alphabet, so untrusted text cannot smuggle bytes through whitespace. */
#ifndef CACHET_ENCODING_H
#define CACHET_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Lower-case hex; out must hold 2*len+1 bytes. */
void cachet_hex_encode(const uint8_t *in, size_t len, char *out);
/* Malloc'd lower-case hex string, or NULL on allocation failure. */
char *cachet_hex_string(const uint8_t *in, size_t len);
/* Decodes exactly strlen(hex)/2 bytes (an optional "0x" prefix is accepted).
 * Fails on odd length, a non-hex character, or more than cap bytes. */
cachet_rc cachet_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *outlen);

size_t cachet_base64_encoded_len(size_t len); /* without the NUL */
/* out must hold cachet_base64_encoded_len(len)+1 bytes. */
void cachet_base64_encode(const uint8_t *in, size_t len, char *out);
void cachet_base64url_encode(const uint8_t *in, size_t len, char *out);
/* Malloc'd outputs (caller frees); NULL on allocation failure. */
char *cachet_base64_string(const uint8_t *in, size_t len);
char *cachet_base64url_string(const uint8_t *in, size_t len);
/* Decode into a malloc'd buffer; *out is NULL on failure. */
cachet_rc cachet_base64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen);
cachet_rc cachet_base64url_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen);

#ifdef __cplusplus
}
#endif
#endif
