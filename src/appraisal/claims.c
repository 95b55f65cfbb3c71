/* Reading verifier claims by path, and the value helpers the parser and
 * the evaluator share. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "appraisal/policy_int.h"

const json_t *claims_lookup(const json_t *claims, const char *path)
{
    if (!json_is_object(claims) || !path)
        return NULL;
    char seg[POLICY_MAX_PATH + 1];
    const json_t *cur = claims;
    const char *p = path;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || n > POLICY_MAX_PATH || !json_is_object(cur))
            return NULL;
        memcpy(seg, p, n);
        seg[n] = '\0';
        cur = json_object_get(cur, seg);
        if (!cur)
            return NULL;
        p += n;
        if (*p == '.')
            p++;
    }
    return cur;
}

const json_t *claims_lookup_any(const json_t *claims, char *const *paths, size_t n,
                                const char **used)
{
    if (used)
        *used = NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = claims_lookup(claims, paths[i]);
        if (v) {
            if (used)
                *used = paths[i];
            return v;
        }
    }
    return NULL;
}

bool claim_path_valid(const char *path)
{
    size_t n = path ? strlen(path) : 0;
    if (n == 0 || n > POLICY_MAX_PATH || path[0] == '.' || path[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = path[i];
        if (c == '.' && path[i + 1] == '.')
            return false;
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '_' || c == '-' ||
              c == '.'))
            return false;
    }
    return true;
}

char *hex_normalize(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n % 2 || n > 4096)
        return NULL;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i])) {
            free(out);
            return NULL;
        }
        out[i] = (char)tolower((unsigned char)s[i]);
    }
    out[n] = '\0';
    return out;
}

static void append(char *dst, size_t cap, size_t *n, const char *s)
{
    while (*s && *n + 1 < cap)
        dst[(*n)++] = *s++;
    dst[*n] = '\0';
}

void join_names(char *dst, size_t cap, const char *a, const char *sep, const char *b)
{
    size_t n = 0;
    if (!cap)
        return;
    dst[0] = '\0';
    append(dst, cap, &n, a);
    if (*a && *b)
        append(dst, cap, &n, sep);
    append(dst, cap, &n, b);
}

const json_t *claims_gpus(const json_t *claims)
{
    const json_t *g = json_object_get(claims, "gpus");
    return json_is_object(g) && json_object_size(g) ? g : NULL;
}

void pol_conds_free(pol_conds *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        for (size_t k = 0; k < c->v[i].n_paths; k++)
            free(c->v[i].paths[k]);
        json_decref(c->v[i].allowed);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}
