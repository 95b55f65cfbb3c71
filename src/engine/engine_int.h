/* Engine internals shared by engine.c and textout.c. */
#ifndef CACHET_ENGINE_INT_H
#define CACHET_ENGINE_INT_H
#include <stdbool.h>
#include <stddef.h>

#include "cachet/rc.h"
#include "engine.h"

/* The engine has no subsystem of its own: it is the server's. */
#define ENG_RC(code) CACHET_RC(CACHET_SUB_SERVE, CACHET_E_##code)
#define eng_err(code, ...) cachet_err(ENG_RC(code), __VA_ARGS__)

/* Turns the bytes of token pieces into the text the caller sees: invalid
 * UTF-8 becomes U+FFFD, an incomplete character waits for the next piece,
 * a stop string ends the text (and is not part of it), and text that could
 * still be the start of a stop string is held back until it cannot. */
typedef struct eng_textout {
    const char *stop[CACHET_GEN_MAX_STOP];
    size_t stop_len[CACHET_GEN_MAX_STOP];
    int n_stop;
    cachet_gen_piece_fn fn;
    void *arg;
    unsigned char raw[4]; /* an incomplete UTF-8 sequence */
    size_t raw_len;
    char *pend;           /* valid UTF-8 not yet given to fn */
    size_t pend_len, pend_cap;
    bool done;
} eng_textout;

typedef enum eng_text_result {
    ENG_TEXT_MORE,      /* go on */
    ENG_TEXT_STOPPED,   /* a stop string matched; the text before it was given */
    ENG_TEXT_CANCELLED, /* fn returned false */
    ENG_TEXT_NOMEM,
} eng_text_result;

/* stop: up to CACHET_GEN_MAX_STOP strings, NULL-terminated if fewer; empty
 * ones are ignored.  fn may be NULL (the text is dropped). */
void eng_textout_init(eng_textout *t, const char *const *stop, cachet_gen_piece_fn fn, void *arg);
eng_text_result eng_textout_add(eng_textout *t, const char *bytes, size_t len);
/* The end of generation: give whatever was held back.  false when fn
 * returned false. */
bool eng_textout_finish(eng_textout *t);
void eng_textout_free(eng_textout *t);

#endif
