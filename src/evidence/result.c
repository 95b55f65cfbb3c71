/* Rendering a verification result: the --json object of verify-contract.md
 * and the human report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/evidence.h"

json_t *cachet_verify_result_to_json(const cachet_verify_result *r)
{
    if (!r)
        return NULL;
    json_t *checks = cachet_checklog_to_json(r->checks);
    json_t *claims = json_deep_copy(r->claims);
    json_t *errors = json_deep_copy(r->errors);
    if (!checks || !claims || !errors) {
        json_decref(checks);
        json_decref(claims);
        json_decref(errors);
        return NULL;
    }
    /* Key order is the contract's order (jansson keeps insertion order). */
    return json_pack("{s:s, s:s, s:b, s:o, s:o, s:o}", "tee", r->tee, "status",
                     cachet_ev_status_str(r->status), "verified", r->verified, "claims", claims,
                     "checks", checks, "errors", errors);
}

static void print_value(FILE *out, const json_t *v)
{
    if (json_is_string(v)) {
        fputs(json_string_value(v), out);
        return;
    }
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    fputs(s ? s : "?", out);
    free(s);
}

static void print_claim(FILE *out, const char *key, const json_t *v)
{
    fprintf(out, "  %-20s ", key);
    print_value(out, v);
    fputc('\n', out);
}

static size_t widest_id(const cachet_checklog *log)
{
    size_t w = 0;
    for (size_t i = 0; i < cachet_checklog_count(log); i++) {
        size_t n = strlen(cachet_checklog_get(log, i)->id);
        if (n > w)
            w = n;
    }
    return w > 48 ? 48 : w;
}

void cachet_verify_result_print(const cachet_verify_result *r, FILE *out)
{
    if (!r)
        return;
    fprintf(out, "evidence: %s (%s)%s\n", r->tee, r->tee_description ? r->tee_description : "",
            r->auto_detected ? ", recognised by content" : "");
    fprintf(out, "checks:\n");
    int w = (int)widest_id(r->checks);
    for (size_t i = 0; i < cachet_checklog_count(r->checks); i++) {
        const cachet_check *c = cachet_checklog_get(r->checks, i);
        fprintf(out, "  %-4s  %-*s  [%s]", cachet_check_result_str(c->result), w, c->id,
                c->spec ? c->spec : "");
        if (c->detail)
            fprintf(out, "  %s", c->detail);
        if (c->expected || c->actual) {
            if (c->result == CACHET_CHECK_PASS)
                fprintf(out, "  %s", c->actual ? c->actual : "");
            else
                fprintf(out, "  expected %s, got %s", c->expected ? c->expected : "(none)",
                        c->actual ? c->actual : "(none)");
        }
        fputc('\n', out);
    }

    fprintf(out, "claims:\n");
    if (r->key_claims) {
        for (const char *const *k = r->key_claims; *k; k++) {
            const json_t *v = json_object_get(r->claims, *k);
            if (v)
                print_claim(out, *k, v);
        }
    } else {
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *)r->claims, key, v) {
            if (!json_is_object(v) && !json_is_array(v))
                print_claim(out, key, v);
        }
    }
    fprintf(out, "  (all claims: --json)\n");

    size_t i;
    const json_t *v;
    if (json_array_size(r->errors)) {
        fprintf(out, "errors:\n");
        json_array_foreach(r->errors, i, v)
            fprintf(out, "  - %s\n", json_string_value(v));
    }
    if (json_array_size(r->warnings)) {
        fprintf(out, "warnings:\n");
        json_array_foreach(r->warnings, i, v)
            fprintf(out, "  - %s\n", json_string_value(v));
    }
    fprintf(out, "status: %s (evidence %s)\n", cachet_ev_status_str(r->status),
            r->verified ? "verified" : "NOT verified");
}
