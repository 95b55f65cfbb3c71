/* From token bytes to the caller's text: UTF-8 repair, stop strings,
 * hold-back (engine_int.h). */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

void eng_textout_init(eng_textout *t, const char *const *stop, cachet_gen_piece_fn fn, void *arg)
{
    memset(t, 0, sizeof *t);
    t->fn = fn;
    t->arg = arg;
    for (int i = 0; stop && i < CACHET_GEN_MAX_STOP && stop[i]; i++) {
        if (!stop[i][0])
            continue;
        t->stop[t->n_stop] = stop[i];
        t->stop_len[t->n_stop] = strlen(stop[i]);
        t->n_stop++;
    }
}

void eng_textout_free(eng_textout *t)
{
    free(t->pend);
    t->pend = NULL;
    t->pend_len = t->pend_cap = 0;
}

static bool pend_append(eng_textout *t, const void *b, size_t n)
{
    if (t->pend_len + n > t->pend_cap) {
        size_t cap = t->pend_cap ? t->pend_cap : 64;
        while (cap < t->pend_len + n)
            cap *= 2;
        char *p = realloc(t->pend, cap);
        if (!p)
            return false;
        t->pend = p;
        t->pend_cap = cap;
    }
    memcpy(t->pend + t->pend_len, b, n);
    t->pend_len += n;
    return true;
}

static bool append_replacement(eng_textout *t) { return pend_append(t, "\xEF\xBF\xBD", 3); }

/* Length of the UTF-8 sequence a lead byte starts, 0 when it cannot start one. */
static size_t seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

/* Whether byte b may follow at position k (1..3) of a sequence led by c:
 * the second byte's range rules out overlong forms, surrogates and values
 * past U+10FFFF. */
static bool cont_ok(unsigned char c, size_t k, unsigned char b)
{
    if (k == 1) {
        if (c == 0xE0)
            return b >= 0xA0 && b <= 0xBF;
        if (c == 0xED)
            return b >= 0x80 && b <= 0x9F;
        if (c == 0xF0)
            return b >= 0x90 && b <= 0xBF;
        if (c == 0xF4)
            return b >= 0x80 && b <= 0x8F;
    }
    return (b & 0xC0) == 0x80;
}

/* Decode bytes (after any held incomplete sequence) into pend. */
static bool take_bytes(eng_textout *t, const unsigned char *in, size_t len)
{
    size_t i = 0;
    while (t->raw_len && i < len) {
        /* Continue the held sequence one byte at a time. */
        size_t need = seq_len(t->raw[0]);
        /* need <= 4 and raw_len < need hold by construction; the bound keeps
         * the store provably inside raw[] */
        if (t->raw_len >= need || t->raw_len >= sizeof t->raw ||
            !cont_ok(t->raw[0], t->raw_len, in[i])) {
            t->raw_len = 0;
            if (!append_replacement(t))
                return false;
            break; /* in[i] is looked at afresh below */
        }
        t->raw[t->raw_len++] = in[i++];
        if (t->raw_len == need) {
            if (!pend_append(t, t->raw, need))
                return false;
            t->raw_len = 0;
        }
    }
    while (i < len) {
        unsigned char c = in[i];
        size_t need = seq_len(c);
        if (need == 0) {
            if (!append_replacement(t))
                return false;
            i++;
            continue;
        }
        size_t k = 1;
        while (k < need && i + k < len && cont_ok(c, k, in[i + k]))
            k++;
        if (k == need) {
            if (!pend_append(t, in + i, need))
                return false;
            i += need;
        } else if (i + k == len) {
            /* So far valid, cut by the piece's end: wait for more. */
            memcpy(t->raw, in + i, k);
            t->raw_len = k;
            i += k;
        } else {
            if (!append_replacement(t))
                return false;
            i += k;
        }
    }
    return true;
}

/* Give pend[0, n) to the caller and drop it; false when cancelled. */
static bool emit(eng_textout *t, size_t n)
{
    if (!n)
        return true;
    bool go = t->fn ? t->fn(t->arg, t->pend, n) : true;
    memmove(t->pend, t->pend + n, t->pend_len - n);
    t->pend_len -= n;
    return go;
}

/* pos moved back to the start of the character it falls in (pos == len:
 * the end, already a boundary). */
static size_t char_start(const char *s, size_t len, size_t pos)
{
    if (pos >= len)
        return len;
    while (pos > 0 && ((unsigned char)s[pos] & 0xC0) == 0x80)
        pos--;
    return pos;
}

/* Earliest full stop-string match in pend, or SIZE_MAX. */
static size_t find_stop(const eng_textout *t)
{
    size_t best = SIZE_MAX;
    for (int s = 0; s < t->n_stop; s++) {
        const char *m = memmem(t->pend, t->pend_len, t->stop[s], t->stop_len[s]);
        if (m && (size_t)(m - t->pend) < best)
            best = (size_t)(m - t->pend);
    }
    return best;
}

/* The longest tail of pend that is a proper prefix of some stop string. */
static size_t holdback(const eng_textout *t)
{
    size_t hold = 0;
    for (int s = 0; s < t->n_stop; s++) {
        size_t max = t->stop_len[s] - 1;
        if (max > t->pend_len)
            max = t->pend_len;
        for (size_t k = max; k > hold; k--) {
            if (!memcmp(t->pend + t->pend_len - k, t->stop[s], k)) {
                hold = k;
                break;
            }
        }
    }
    return hold;
}

eng_text_result eng_textout_add(eng_textout *t, const char *bytes, size_t len)
{
    if (t->done)
        return ENG_TEXT_STOPPED;
    if (!take_bytes(t, (const unsigned char *)bytes, len))
        return ENG_TEXT_NOMEM;
    size_t at = find_stop(t);
    if (at != SIZE_MAX) {
        t->done = true;
        emit(t, char_start(t->pend, t->pend_len, at));
        t->pend_len = 0;
        return ENG_TEXT_STOPPED;
    }
    size_t cut = char_start(t->pend, t->pend_len, t->pend_len - holdback(t));
    return emit(t, cut) ? ENG_TEXT_MORE : ENG_TEXT_CANCELLED;
}

bool eng_textout_finish(eng_textout *t)
{
    if (t->done)
        return true;
    t->done = true;
    if (t->raw_len) {
        t->raw_len = 0;
        if (!append_replacement(t))
            return true; /* the held bytes are lost; nothing else to do */
    }
    size_t at = find_stop(t);
    size_t n = at == SIZE_MAX ? t->pend_len : char_start(t->pend, t->pend_len, at);
    bool go = emit(t, n);
    t->pend_len = 0;
    return go;
}
