/* Internal entry points of the attested client (src/client/atls.c) for the
 * libFuzzer target fuzz/fuzz_atls.c: the attestation-document check and the
 * server-sent-event reader, run on untrusted bytes without a network. */
#ifndef CACHET_CLIENT_ATLS_INT_H
#define CACHET_CLIENT_ATLS_INT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cachet/chat.h"

/* check a document as if the peer's key had this JWK thumbprint and SPKI
 * hash and we had sent this nonce; true when it would be admitted. */
bool atls_fuzz_document(const char *text, size_t len, const cachet_atls_opts *o,
                        const char *nonce, const uint8_t thumb[32], const uint8_t spki[32]);
/* feed one chunk of an event stream; returns the bytes consumed (0: stop). */
size_t atls_fuzz_sse(const char *data, size_t len);

#endif
