/* The OpenAI surface (protocols.md §6): request parsing and validation,
 * response objects, server-sent-event chunks, errors in the nested form. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/crypto.h"
#include "serve/serve_int.h"

#define MAX_MESSAGES 1024

static char *dump(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    return s;
}

char *oai_error_json(const char *type, const char *message, const char *param, const char *code)
{
    json_t *e = json_pack("{s:{s:s,s:s,s:o,s:o}}", "error", "message", message ? message : "",
                          "type", type ? type : "server_error", "param",
                          param ? json_string(param) : json_null(), "code",
                          code ? json_string(code) : json_null());
    return dump(e);
}

static unsigned fail(char **err, unsigned status, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static unsigned fail(char **err, unsigned status, const char *param, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    *err = oai_error_json(status == 404 ? "not_found_error" : "invalid_request_error", msg, param,
                          status == 404 ? "model_not_found" : NULL);
    return status;
}

void oai_request_clear(oai_request *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_msgs; i++)
        free(r->contents ? r->contents[i] : NULL);
    free(r->contents);
    free(r->msgs);
    free(r->prompt);
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}

/* content: a string, or an array of parts of which the {type:"text",text}
 * ones are concatenated. */
static char *content_text(const json_t *c, bool *ok)
{
    *ok = true;
    if (json_is_string(c))
        return strdup(json_string_value(c));
    if (json_is_null(c) || !c)
        return strdup("");
    if (!json_is_array(c)) {
        *ok = false;
        return NULL;
    }
    size_t total = 0, i;
    const json_t *part;
    json_array_foreach(c, i, part) {
        const char *type = json_string_value(json_object_get(part, "type"));
        const json_t *t = json_object_get(part, "text");
        if (!type || strcmp(type, "text") != 0 || !json_is_string(t)) {
            *ok = false;
            return NULL;
        }
        total += json_string_length(t);
    }
    char *s = malloc(total + 1), *p = s;
    if (!s)
        return NULL;
    json_array_foreach(c, i, part) {
        const json_t *t = json_object_get(part, "text");
        memcpy(p, json_string_value(t), json_string_length(t));
        p += json_string_length(t);
    }
    *p = 0;
    return s;
}

static bool role_ok(const char *r)
{
    static const char *const roles[] = {"system", "developer", "user", "assistant", "tool"};
    for (size_t i = 0; i < sizeof roles / sizeof *roles; i++)
        if (strcmp(r, roles[i]) == 0)
            return true;
    return false;
}

static unsigned parse_messages(oai_request *r, char **err)
{
    const json_t *m = json_object_get(r->root, "messages");
    if (!json_is_array(m) || json_array_size(m) == 0)
        return fail(err, 400, "messages", "messages must be a non-empty array");
    size_t n = json_array_size(m);
    if (n > MAX_MESSAGES)
        return fail(err, 400, "messages", "at most %d messages", MAX_MESSAGES);
    r->msgs = calloc(n, sizeof *r->msgs);
    r->contents = calloc(n, sizeof *r->contents);
    if (!r->msgs || !r->contents)
        return fail(err, 500, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *msg = json_array_get(m, i);
        const char *role = json_string_value(json_object_get(msg, "role"));
        if (!json_is_object(msg) || !role || !role_ok(role))
            return fail(err, 400, "messages",
                        "messages[%zu].role must be system, developer, user, assistant or tool",
                        i);
        bool ok;
        char *text = content_text(json_object_get(msg, "content"), &ok);
        if (!ok)
            return fail(err, 400, "messages",
                        "messages[%zu].content must be a string or an array of text parts", i);
        if (!text)
            return fail(err, 500, NULL, "out of memory");
        r->contents[i] = text;
        r->msgs[i].role = role;
        r->msgs[i].content = text;
        r->n_msgs = i + 1;
    }
    return 0;
}

static unsigned parse_stop(oai_request *r, char **err)
{
    const json_t *s = json_object_get(r->root, "stop");
    if (!s || json_is_null(s))
        return 0;
    if (json_is_string(s)) {
        if (json_string_length(s))
            r->gen.stop[0] = json_string_value(s);
        return 0;
    }
    if (!json_is_array(s) || json_array_size(s) > CACHET_GEN_MAX_STOP)
        return fail(err, 400, "stop", "stop must be a string or an array of up to %d strings",
                    CACHET_GEN_MAX_STOP);
    for (size_t i = 0; i < json_array_size(s); i++) {
        const json_t *e = json_array_get(s, i);
        if (!json_is_string(e) || json_string_length(e) == 0)
            return fail(err, 400, "stop", "stop[%zu] must be a non-empty string", i);
        r->gen.stop[i] = json_string_value(e);
    }
    return 0;
}

static unsigned parse_number(const json_t *root, const char *name, double lo, double hi,
                             bool lo_open, double *out, char **err)
{
    const json_t *v = json_object_get(root, name);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v))
        return fail(err, 400, name, "%s must be a number", name);
    double d = json_number_value(v);
    if (!isfinite(d) || d > hi || d < lo || (lo_open && d == lo))
        return fail(err, 400, name, "%s must be in %s%g, %g]", name, lo_open ? "(" : "[", lo, hi);
    *out = d;
    return 0;
}

unsigned oai_parse(oai_kind kind, const char *body, size_t len, const char *model_id,
                   int max_tokens_default, oai_request *r, char **err)
{
    memset(r, 0, sizeof *r);
    *err = NULL;
    r->kind = kind;
    r->gen = cachet_gen_defaults();
    r->gen.add_bos = kind == OAI_COMPLETION;
    json_error_t je;
    r->root = body && len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!json_is_object(r->root))
        return fail(err, 400, NULL, "the body must be a JSON object");
    const json_t *root = r->root;
    const json_t *model = json_object_get(root, "model");
    if (model && !json_is_string(model))
        return fail(err, 400, "model", "model must be a string");
    if (model && strcmp(json_string_value(model), model_id) != 0)
        return fail(err, 404, "model", "The model '%.200s' does not exist (this server has '%.200s')",
                    json_string_value(model), model_id);
    const json_t *n = json_object_get(root, "n");
    if (n && !json_is_null(n) && !(json_is_integer(n) && json_integer_value(n) == 1))
        return fail(err, 400, "n", "only n = 1 is supported");
    const json_t *st = json_object_get(root, "stream");
    if (st && !json_is_null(st) && !json_is_boolean(st))
        return fail(err, 400, "stream", "stream must be a boolean");
    r->stream = json_is_true(st);
    const json_t *so = json_object_get(root, "stream_options");
    if (so && json_is_object(so))
        r->include_usage = json_is_true(json_object_get(so, "include_usage"));
    unsigned s;
    double t = 1.0, tp = 1.0;
    if ((s = parse_number(root, "temperature", 0, 2, false, &t, err)) ||
        (s = parse_number(root, "top_p", 0, 1, true, &tp, err)))
        return s;
    r->gen.temperature = (float)t;
    r->gen.top_p = (float)tp;
    int64_t mt = max_tokens_default > 0 ? max_tokens_default : kind == OAI_CHAT ? 256 : 16;
    const char *mt_names[] = {"max_completion_tokens", "max_tokens"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *v = json_object_get(root, mt_names[i]);
        if (!v || json_is_null(v))
            continue;
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1 << 20)
            return fail(err, 400, mt_names[i], "%s must be a positive integer", mt_names[i]);
        mt = json_integer_value(v);
        break;
    }
    r->gen.max_tokens = (int)mt;
    const json_t *seed = json_object_get(root, "seed");
    if (seed && !json_is_null(seed)) {
        if (!json_is_integer(seed))
            return fail(err, 400, "seed", "seed must be an integer");
        r->gen.seed = (uint32_t)(uint64_t)json_integer_value(seed);
    } else {
        uint32_t rnd;
        if (cachet_random(&rnd, sizeof rnd) == CACHET_OK)
            r->gen.seed = rnd;
    }
    if ((s = parse_stop(r, err)))
        return s;
    if (kind == OAI_CHAT)
        return parse_messages(r, err);
    const json_t *p = json_object_get(root, "prompt");
    if (json_is_array(p) && json_array_size(p) == 1 && json_is_string(json_array_get(p, 0)))
        p = json_array_get(p, 0);
    if (!json_is_string(p))
        return fail(err, 400, "prompt", "prompt must be a string (or an array of one string)");
    const json_t *echo = json_object_get(root, "echo");
    if (json_is_true(echo))
        return fail(err, 400, "echo", "echo is not supported");
    r->prompt = strdup(json_string_value(p));
    if (!r->prompt)
        return fail(err, 500, NULL, "out of memory");
    return 0;
}

const char *oai_finish_str(cachet_finish f)
{
    return f == CACHET_FINISH_LENGTH ? "length" : "stop";
}

static json_t *usage_obj(const cachet_gen_stats *st)
{
    return json_pack("{s:i,s:i,s:i}", "prompt_tokens", st->prompt_tokens, "completion_tokens",
                     st->completion_tokens, "total_tokens",
                     st->prompt_tokens + st->completion_tokens);
}

/* Non-standard, as llama.cpp's own server reports it: generation speed
 * between the first and the last sampled token (bench/serve.sh compares it
 * with plain llama.cpp measured the same way). */
static json_t *timings_obj(const cachet_gen_stats *st)
{
    double per_s = st->completion_tokens > 1 && st->gen_seconds > 0
                       ? (st->completion_tokens - 1) / st->gen_seconds
                       : 0.0;
    return json_pack("{s:i,s:f,s:i,s:f,s:f}", "prompt_n", st->prompt_tokens, "prompt_ms",
                     st->prompt_seconds * 1e3, "predicted_n", st->completion_tokens,
                     "predicted_ms", st->gen_seconds * 1e3, "predicted_per_second", per_s);
}

char *oai_response_json(const oai_meta *m, const char *text, size_t len,
                        const cachet_gen_stats *st)
{
    json_t *choice;
    if (m->kind == OAI_CHAT)
        choice = json_pack("{s:i,s:{s:s,s:s%},s:n,s:s}", "index", 0, "message", "role",
                           "assistant", "content", text, len, "logprobs", "finish_reason",
                           oai_finish_str(st->finish));
    else
        choice = json_pack("{s:s%,s:i,s:n,s:s}", "text", text, len, "index", 0, "logprobs",
                           "finish_reason", oai_finish_str(st->finish));
    json_t *j = json_pack("{s:s,s:s,s:I,s:s,s:[o],s:o,s:o}", "id", m->id, "object",
                          m->kind == OAI_CHAT ? "chat.completion" : "text_completion", "created",
                          (json_int_t)m->created, "model", m->model, "choices", choice, "usage",
                          usage_obj(st), "timings", timings_obj(st));
    return dump(j);
}

static char *sse(json_t *j, size_t *outlen)
{
    char *s = dump(j);
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *e = malloc(n + 9);
    if (e) {
        memcpy(e, "data: ", 6);
        memcpy(e + 6, s, n);
        memcpy(e + 6 + n, "\n\n", 3);
        *outlen = n + 8;
    }
    free(s);
    return e;
}

char *oai_sse_delta(const oai_meta *m, bool role, const char *text, size_t len,
                    const char *finish, size_t *outlen)
{
    json_t *choice;
    json_t *fin = finish ? json_string(finish) : json_null();
    if (m->kind == OAI_CHAT) {
        json_t *delta = json_object();
        if (role)
            json_object_set_new(delta, "role", json_string("assistant"));
        if (text)
            json_object_set_new(delta, "content", json_stringn(text, len));
        choice = json_pack("{s:i,s:o,s:n,s:o}", "index", 0, "delta", delta, "logprobs",
                           "finish_reason", fin);
    } else {
        choice = json_pack("{s:s%,s:i,s:n,s:o}", "text", text ? text : "", text ? len : 0,
                           "index", 0, "logprobs", "finish_reason", fin);
    }
    json_t *j = json_pack("{s:s,s:s,s:I,s:s,s:[o]}", "id", m->id, "object",
                          m->kind == OAI_CHAT ? "chat.completion.chunk" : "text_completion",
                          "created", (json_int_t)m->created, "model", m->model, "choices",
                          choice);
    return sse(j, outlen);
}

char *oai_sse_usage(const oai_meta *m, const cachet_gen_stats *st, size_t *outlen)
{
    json_t *j = json_pack("{s:s,s:s,s:I,s:s,s:[],s:o}", "id", m->id, "object",
                          m->kind == OAI_CHAT ? "chat.completion.chunk" : "text_completion",
                          "created", (json_int_t)m->created, "model", m->model, "choices",
                          "usage", usage_obj(st));
    return sse(j, outlen);
}

char *oai_sse_error(const char *type, const char *message, size_t *outlen)
{
    json_t *j = json_pack("{s:{s:s,s:s,s:n,s:n}}", "error", "message", message, "type", type,
                          "param", "code");
    return sse(j, outlen);
}

char *oai_models_json(const char *model_id, int64_t created, bool single)
{
    json_t *m = json_pack("{s:s,s:s,s:I,s:s}", "id", model_id, "object", "model", "created",
                          (json_int_t)created, "owned_by", "cachet");
    if (single)
        return dump(m);
    return dump(json_pack("{s:s,s:[o]}", "object", "list", "data", m));
}
