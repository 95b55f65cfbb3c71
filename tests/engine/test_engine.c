/* The inference engine (src/engine) on a tiny random llama model made by
 * cachet-gen-gguf from llama.cpp's real SentencePiece vocabulary: greedy
 * text equal to llama.cpp's own llama-simple, seeded sampling, stop
 * strings, limits, cancellation, chat templates, broken files and loading
 * through /proc/self/fd of a memfd.
 *
 * Environment (tests/engine/meson.build): CACHET_GEN_GGUF, CACHET_LLAMA_VOCAB,
 * CACHET_LLAMA_SIMPLE. */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine.h"
#include "engine_int.h"
#include "testutil.h"

#define PROMPT "Hello my name is"
#define N_GREEDY 24

typedef struct fixture {
    char *dir;
    char *model;      /* the generated model */
    cachet_engine *e; /* loaded with n_ctx 512, 2 threads */
    char *greedy;     /* the engine's greedy text for PROMPT, N_GREEDY tokens */
    cachet_gen_stats greedy_st;
} fixture;

static const char *need_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "# %s is not set (run through meson test)\n", name);
        abort();
    }
    return v;
}

/* ---- collecting text ---------------------------------------------------- */

typedef struct sink {
    char *buf;
    size_t len, cap;
    int calls;
    int cancel_after; /* return false on this call (1-based); 0: never */
    bool bad_utf8;
} sink;

static bool valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k = c < 0x80 ? 1 : (c >= 0xC2 && c <= 0xDF) ? 2 : (c & 0xF0) == 0xE0 ? 3
                 : (c >= 0xF0 && c <= 0xF4) ? 4 : 0;
        if (!k || i + k > n)
            return false;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
        i += k;
    }
    return true;
}

static bool sink_fn(void *arg, const char *text, size_t len)
{
    sink *s = arg;
    s->calls++;
    if (!valid_utf8((const unsigned char *)text, len))
        s->bad_utf8 = true;
    if (s->len + len + 1 > s->cap) {
        s->cap = (s->len + len + 1) * 2;
        s->buf = realloc(s->buf, s->cap);
        assert_non_null(s->buf);
    }
    memcpy(s->buf + s->len, text, len);
    s->len += len;
    s->buf[s->len] = '\0';
    return !(s->cancel_after && s->calls >= s->cancel_after);
}

/* Generate and return the text (malloc'd, never NULL on success). */
static cachet_rc gen(cachet_engine *e, const char *prompt, const cachet_gen_params *p,
                     cachet_gen_stats *st, char **text)
{
    sink s = {0};
    cachet_rc rc = cachet_engine_generate(e, prompt, p, sink_fn, &s, st);
    assert_false(s.bad_utf8);
    *text = s.buf ? s.buf : strdup("");
    return rc;
}

static cachet_gen_params greedy(int n)
{
    cachet_gen_params p = cachet_gen_defaults();
    p.temperature = 0.0f;
    p.max_tokens = n;
    return p;
}

/* ---- set-up ------------------------------------------------------------------ */

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp();
    f->model = tu_asprintf("%s/tiny.gguf", f->dir);
    if (tu_system("'%s' --vocab '%s' --out '%s' --seed 7", need_env("CACHET_GEN_GGUF"),
                  need_env("CACHET_LLAMA_VOCAB"), f->model) != 0) {
        fprintf(stderr, "# cachet-gen-gguf failed\n");
        return -1;
    }
    cachet_engine_opts o = {.n_threads = 2, .n_ctx = 512};
    cachet_rc rc = cachet_engine_load(f->model, &o, &f->e);
    if (rc) {
        fprintf(stderr, "# load: %s: %s\n", cachet_rc_str(rc), cachet_err_detail());
        return -1;
    }
    cachet_gen_params p = greedy(N_GREEDY);
    if (cachet_engine_generate(f->e, PROMPT, &p, NULL, NULL, &f->greedy_st) != CACHET_OK)
        return -1;
    sink s = {0};
    if (cachet_engine_generate(f->e, PROMPT, &p, sink_fn, &s, &f->greedy_st) != CACHET_OK || !s.buf)
        return -1;
    f->greedy = s.buf;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (!f)
        return 0;
    cachet_engine_free(f->e);
    tu_rmtree(f->dir);
    free(f->dir);
    free(f->model);
    free(f->greedy);
    free(f);
    return 0;
}

/* ---- the generator -------------------------------------------------------- */

static void test_gen_deterministic(void **state)
{
    fixture *f = *state;
    const char *exe = need_env("CACHET_GEN_GGUF"), *vocab = need_env("CACHET_LLAMA_VOCAB");
    char *again = tu_asprintf("%s/again.gguf", f->dir), *other = tu_asprintf("%s/other.gguf", f->dir);
    assert_int_equal(tu_system("'%s' --vocab '%s' --out '%s' --seed 7", exe, vocab, again), 0);
    assert_int_equal(tu_system("'%s' --vocab '%s' --out '%s' --seed 8", exe, vocab, other), 0);
    size_t n1, n2, n3;
    uint8_t *a = tu_read_file(f->model, &n1), *b = tu_read_file(again, &n2), *c = tu_read_file(other, &n3);
    assert_int_equal(n1, n2);
    assert_memory_equal(a, b, n1);
    assert_int_equal(n1, n3); /* same shapes */
    assert_memory_not_equal(a, c, n1);
    assert_true(n1 > 1000000 && n1 < 16000000); /* a few MB */
    /* No stray temporary files next to the output. */
    assert_int_equal(tu_system("ls '%s' | grep -q tmp", f->dir), 1);
    /* Bad usage is refused without writing anything. */
    assert_int_not_equal(tu_system("'%s' --vocab '%s' 2>/dev/null", exe, vocab), 0);
    assert_int_not_equal(tu_system("'%s' --vocab /nonexistent --out '%s/x.gguf' 2>/dev/null", exe, f->dir), 0);
    assert_int_not_equal(tu_system("'%s' --vocab '%s' --out '%s/x.gguf' --embd 30 --heads 4 2>/dev/null",
                                   exe, vocab, f->dir), 0);
    assert_int_equal(tu_system("test -e '%s/x.gguf'", f->dir), 1);
    free(a);
    free(b);
    free(c);
    free(again);
    free(other);
}

static void test_model_facts(void **state)
{
    fixture *f = *state;
    assert_int_equal(cachet_engine_n_ctx(f->e), 512);
    assert_string_equal(cachet_engine_arch(f->e), "llama");
    /* 2 x 32000 x 64 embeddings and output, 2 layers of 4x64x64 + 3x64x128, norms */
    assert_true(cachet_engine_n_params(f->e) > 4000000);
    assert_int_equal(cachet_engine_count_tokens(f->e, PROMPT, true),
                     cachet_engine_count_tokens(f->e, PROMPT, false) + 1);
    assert_true(cachet_engine_count_tokens(f->e, PROMPT, false) >= 4);
    /* Read into memory, not mapped from the file (LLAMA_LOAD_MODE_NONE). */
    char *maps = tu_read_text("/proc/self/maps");
    assert_null(strstr(maps, "tiny.gguf"));
    free(maps);
}

/* ---- greedy equals llama.cpp's llama-simple ------------------------------ */

static void test_greedy_matches_llama_simple(void **state)
{
    fixture *f = *state;
    assert_int_equal(f->greedy_st.completion_tokens, N_GREEDY);
    assert_int_equal(f->greedy_st.finish, CACHET_FINISH_LENGTH);
    assert_int_equal(f->greedy_st.prompt_tokens, cachet_engine_count_tokens(f->e, PROMPT, true));
    assert_true(strlen(f->greedy) > 0);

    char *out = tu_asprintf("%s/simple.out", f->dir);
    assert_int_equal(tu_system("'%s' -m '%s' -n %d '%s' >'%s' 2>/dev/null", need_env("CACHET_LLAMA_SIMPLE"),
                               f->model, N_GREEDY, PROMPT, out), 0);
    size_t n;
    char *got = (char *)tu_read_file(out, &n);
    /* llama-simple prints the prompt's tokens, the generated text and "\n". */
    size_t gl = strlen(f->greedy);
    print_message("# engine:       \"%s\"\n# llama-simple: \"%.*s\"\n", f->greedy, (int)(n ? n - 1 : 0), got);
    assert_true(n >= gl + 1 + strlen(PROMPT));
    assert_int_equal(got[n - 1], '\n');
    assert_memory_equal(got + n - 1 - gl, f->greedy, gl);
    assert_memory_equal(got + n - 1 - gl - strlen(PROMPT), PROMPT, strlen(PROMPT));
    free(got);
    free(out);

    /* The same request again: the KV cache is cleared, same text. */
    cachet_gen_params p = greedy(N_GREEDY);
    cachet_gen_stats st;
    char *t;
    assert_int_equal(gen(f->e, PROMPT, &p, &st, &t), CACHET_OK);
    assert_string_equal(t, f->greedy);
    assert_true(st.prompt_seconds > 0 && st.gen_seconds > 0);
    print_message("# %d tokens in %.4f s: %.0f tokens/s (prompt %d tokens in %.4f s)\n", st.completion_tokens,
                  st.gen_seconds, st.completion_tokens / st.gen_seconds, st.prompt_tokens, st.prompt_seconds);
    free(t);
}

/* The text is not one token repeated: the generated model is usable. */
static void test_varied_tokens(void **state)
{
    fixture *f = *state;
    cachet_gen_params p = cachet_gen_defaults();
    p.max_tokens = 32;
    p.seed = 1;
    cachet_gen_stats st;
    char *t;
    assert_int_equal(gen(f->e, "The quick brown fox", &p, &st, &t), CACHET_OK);
    size_t n = strlen(t);
    assert_true(n > 16);
    int distinct = 0;
    bool seen[256] = {0};
    for (size_t i = 0; i < n; i++)
        if (!seen[(unsigned char)t[i]]) {
            seen[(unsigned char)t[i]] = true;
            distinct++;
        }
    assert_true(distinct >= 8);
    free(t);
}

/* ---- sampling ------------------------------------------------------------------ */

static void test_seeded_sampling(void **state)
{
    fixture *f = *state;
    cachet_gen_params p = cachet_gen_defaults();
    p.max_tokens = 24;
    p.temperature = 0.9f;
    p.top_p = 0.95f;
    p.seed = 42;
    cachet_gen_stats st;
    char *a, *b, *c, *d;
    assert_int_equal(gen(f->e, PROMPT, &p, &st, &a), CACHET_OK);
    assert_int_equal(gen(f->e, PROMPT, &p, &st, &b), CACHET_OK);
    p.seed = 43;
    assert_int_equal(gen(f->e, PROMPT, &p, &st, &c), CACHET_OK);
    p.seed = 44;
    assert_int_equal(gen(f->e, PROMPT, &p, &st, &d), CACHET_OK);
    assert_string_equal(a, b);
    assert_true(strcmp(a, c) != 0 || strcmp(a, d) != 0);
    assert_true(strcmp(a, f->greedy) != 0);
    free(a);
    free(b);
    free(c);
    free(d);
}

/* ---- stop strings, limits, cancellation --------------------------------- */

static void test_stop_string(void **state)
{
    fixture *f = *state;
    const char *g = f->greedy;
    size_t gl = strlen(g);
    assert_true(gl >= 12);
    /* A stop string from the middle of the greedy text, on character bounds. */
    size_t at = gl / 2;
    while (at > 0 && ((unsigned char)g[at] & 0xC0) == 0x80)
        at--;
    size_t end = at + 3;
    while (end < gl && ((unsigned char)g[end] & 0xC0) == 0x80)
        end++;
    char *stop = strndup(g + at, end - at);
    size_t want = (size_t)(strstr(g, stop) - g);

    cachet_gen_params p = greedy(N_GREEDY);
    p.stop[0] = "\x01never";
    p.stop[1] = stop;
    cachet_gen_stats st;
    char *t;
    assert_int_equal(gen(f->e, PROMPT, &p, &st, &t), CACHET_OK);
    assert_int_equal(st.finish, CACHET_FINISH_STOP);
    assert_int_equal(strlen(t), want);
    assert_memory_equal(t, g, want);
    assert_true(st.completion_tokens < N_GREEDY);
    free(t);

    /* A stop string that never occurs changes nothing. */
    p.stop[0] = "\x01never";
    p.stop[1] = NULL;
    assert_int_equal(gen(f->e, PROMPT, &p, &st, &t), CACHET_OK);
    assert_string_equal(t, g);
    assert_int_equal(st.finish, CACHET_FINISH_LENGTH);
    free(t);
    free(stop);
}

static void test_max_tokens(void **state)
{
    fixture *f = *state;
    cachet_gen_params p = greedy(5);
    cachet_gen_stats st;
    char *t;
    assert_int_equal(gen(f->e, PROMPT, &p, &st, &t), CACHET_OK);
    assert_int_equal(st.finish, CACHET_FINISH_LENGTH);
    assert_int_equal(st.completion_tokens, 5);
    /* A prefix of the longer greedy text. */
    assert_true(strlen(t) > 0 && strlen(t) < strlen(f->greedy));
    assert_memory_equal(t, f->greedy, strlen(t));
    free(t);

    p.max_tokens = 0;
    assert_int_equal(cachet_rc_code(cachet_engine_generate(f->e, PROMPT, &p, NULL, NULL, &st)), CACHET_E_RANGE);
    p = greedy(4);
    p.top_p = 0.0f;
    p.temperature = 1.0f;
    assert_int_equal(cachet_rc_code(cachet_engine_generate(f->e, PROMPT, &p, NULL, NULL, &st)), CACHET_E_RANGE);
}

static void test_cancel(void **state)
{
    fixture *f = *state;
    cachet_gen_params p = greedy(N_GREEDY);
    sink s = {.cancel_after = 2};
    cachet_gen_stats st;
    assert_int_equal(cachet_engine_generate(f->e, PROMPT, &p, sink_fn, &s, &st), CACHET_OK);
    assert_int_equal(st.finish, CACHET_FINISH_CANCELLED);
    assert_int_equal(s.calls, 2);
    assert_true(st.completion_tokens >= 2 && st.completion_tokens < N_GREEDY);
    assert_memory_equal(s.buf, f->greedy, s.len);
    assert_string_equal(cachet_finish_str(st.finish), "cancelled");
    assert_string_equal(cachet_finish_str(CACHET_FINISH_STOP), "stop");
    assert_string_equal(cachet_finish_str(CACHET_FINISH_LENGTH), "length");
    free(s.buf);
}

static void test_prompt_too_long(void **state)
{
    fixture *f = *state;
    size_t n = 700;
    char *long_prompt = malloc(n * 6 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(long_prompt + i * 6, "apple ", 6);
    long_prompt[n * 6] = '\0';
    int toks = cachet_engine_count_tokens(f->e, long_prompt, true);
    assert_true(toks > 512);
    cachet_gen_params p = greedy(4);
    cachet_gen_stats st;
    cachet_rc rc = cachet_engine_generate(f->e, long_prompt, &p, NULL, NULL, &st);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_LIMIT);
    assert_int_equal(st.prompt_tokens, toks);
    assert_non_null(strstr(cachet_err_detail(), "over"));
    /* The engine is still fine afterwards. */
    char *t;
    p = greedy(N_GREEDY);
    assert_int_equal(gen(f->e, PROMPT, &p, &st, &t), CACHET_OK);
    assert_string_equal(t, f->greedy);
    free(t);

    /* A prompt that just fits: generation stops when the context is full. */
    long_prompt[6 * 400] = '\0';
    toks = cachet_engine_count_tokens(f->e, long_prompt, true);
    assert_true(toks < 512);
    p = greedy(1000);
    assert_int_equal(cachet_engine_generate(f->e, long_prompt, &p, NULL, NULL, &st), CACHET_OK);
    if (st.finish == CACHET_FINISH_LENGTH)
        assert_int_equal(st.completion_tokens, 512 - toks);
    free(long_prompt);
}

/* ---- chat ------------------------------------------------------------------------------ */

static void test_chat_prompt(void **state)
{
    fixture *f = *state;
    cachet_chat_msg m[] = {
        {"developer", "You are terse."},
        {"user", "Hi there"},
        {"assistant", "Hello."},
        {"user", "Name a colour."},
    };
    char *pr;
    assert_int_equal(cachet_engine_chat_prompt(f->e, m, 4, &pr), CACHET_OK);
    assert_string_equal(pr, "<|im_start|>system\nYou are terse.<|im_end|>\n"
                            "<|im_start|>user\nHi there<|im_end|>\n"
                            "<|im_start|>assistant\nHello.<|im_end|>\n"
                            "<|im_start|>user\nName a colour.<|im_end|>\n"
                            "<|im_start|>assistant\n");
    cachet_gen_params p = greedy(8);
    p.add_bos = true;
    p.stop[0] = "<|im_end|>";
    cachet_gen_stats st;
    char *t;
    assert_int_equal(gen(f->e, pr, &p, &st, &t), CACHET_OK);
    assert_true(st.prompt_tokens > 20);
    assert_null(strstr(t, "<|im_end|>"));
    free(t);
    free(pr);

    /* A long message: the buffer grows. */
    char *big = malloc(5001);
    memset(big, 'x', 5000);
    big[5000] = '\0';
    cachet_chat_msg one = {"user", big};
    assert_int_equal(cachet_engine_chat_prompt(f->e, &one, 1, &pr), CACHET_OK);
    assert_non_null(strstr(pr, big));
    free(pr);
    free(big);
    cachet_chat_msg bad = {"user", NULL};
    assert_int_equal(cachet_rc_code(cachet_engine_chat_prompt(f->e, &bad, 1, &pr)), CACHET_E_INVALID_ARG);
}

/* ---- loading ------------------------------------------------------------------------- */

static void expect_format(const char *path)
{
    cachet_engine *e = NULL;
    cachet_engine_opts o = {.n_threads = 1, .n_ctx = 64};
    cachet_rc rc = cachet_engine_load(path, &o, &e);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_FORMAT);
    assert_null(e);
}

static void test_corrupt_gguf(void **state)
{
    fixture *f = *state;
    size_t n;
    uint8_t *m = tu_read_file(f->model, &n);
    char *p = tu_asprintf("%s/bad.gguf", f->dir);

    tu_write_file(p, m, n / 2); /* truncated in the tensor data */
    expect_format(p);
    tu_write_file(p, m, 200); /* truncated in the key-values */
    expect_format(p);
    tu_write_file(p, "", 0);
    expect_format(p);
    uint8_t junk[4096];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)(i * 131 + 7);
    memcpy(junk, "GGUF", 4);
    tu_write_file(p, junk, sizeof junk);
    expect_format(p);
    /* A huge declared string length in the vocabulary. */
    memcpy(m + 60, "\xff\xff\xff\xff\xff\xff\xff\x7f", 8);
    tu_write_file(p, m, n);
    expect_format(p);
    /* The vocabulary alone is no model. */
    expect_format(need_env("CACHET_LLAMA_VOCAB"));

    cachet_engine *e = NULL;
    assert_int_equal(cachet_rc_code(cachet_engine_load("/nonexistent/model.gguf", NULL, &e)), CACHET_E_IO);
    free(m);
    free(p);
}

static void test_memfd(void **state)
{
    fixture *f = *state;
    size_t n;
    uint8_t *m = tu_read_file(f->model, &n);
    int fd = memfd_create("cachet-model", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    assert_true(fd >= 0);
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, m + off, n - off);
        assert_true(w > 0);
        off += (size_t)w;
    }
    assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL), 0);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    cachet_engine *e;
    cachet_engine_opts o = {.n_threads = 2, .n_ctx = 256, .n_batch = 32};
    assert_int_equal(cachet_engine_load(path, &o, &e), CACHET_OK);
    close(fd); /* loaded into memory: the fd is no longer needed */
    cachet_gen_params p = greedy(N_GREEDY);
    cachet_gen_stats st;
    char *t;
    assert_int_equal(gen(e, PROMPT, &p, &st, &t), CACHET_OK);
    assert_string_equal(t, f->greedy);
    assert_int_equal(cachet_engine_n_ctx(e), 256);
    free(t);
    /* A prompt of several batches. */
    char *longer = malloc(41 * 5 + 1);
    for (int i = 0; i < 40; i++)
        memcpy(longer + i * 5, i % 2 ? "pear " : "plum ", 5);
    strcpy(longer + 200, "fruit");
    p.max_tokens = 8;
    assert_int_equal(gen(e, longer, &p, &st, &t), CACHET_OK);
    assert_true(st.prompt_tokens > 64 && st.prompt_tokens < 200);
    assert_int_equal(st.completion_tokens, 8);
    free(longer);
    /* Nothing of the model is mapped from the memfd. */
    char *maps = tu_read_text("/proc/self/maps");
    assert_null(strstr(maps, "memfd:cachet-model"));
    free(maps);
    free(t);
    cachet_engine_free(e);
    free(m);
}

/* ---- concurrency ------------------------------------------------------------------- */

typedef struct job {
    cachet_engine *e;
    char *text;
    cachet_rc rc;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    cachet_gen_params p = greedy(N_GREEDY);
    cachet_gen_stats st;
    sink s = {0};
    j->rc = cachet_engine_generate(j->e, PROMPT, &p, sink_fn, &s, &st);
    j->text = s.buf;
    return NULL;
}

static void test_serialised(void **state)
{
    fixture *f = *state;
    pthread_t th[3];
    job jobs[3];
    for (int i = 0; i < 3; i++) {
        jobs[i] = (job){.e = f->e};
        assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].rc, CACHET_OK);
        assert_string_equal(jobs[i].text, f->greedy);
        free(jobs[i].text);
    }
}

/* ---- text output (UTF-8 and stop strings), no model -------------------- */

static void test_textout(void **state)
{
    (void)state;
    eng_textout t;
    sink s = {0};
    /* A character split across pieces is delivered whole. */
    eng_textout_init(&t, NULL, sink_fn, &s);
    assert_int_equal(eng_textout_add(&t, "caf\xC3", 4), ENG_TEXT_MORE);
    assert_string_equal(s.buf, "caf");
    assert_int_equal(eng_textout_add(&t, "\xA9!", 2), ENG_TEXT_MORE);
    assert_string_equal(s.buf, "caf\xC3\xA9!");
    /* Invalid bytes become U+FFFD; so does a character cut by the end. */
    assert_int_equal(eng_textout_add(&t, "\xFF" "a\xE2\x82" "b", 5), ENG_TEXT_MORE);
    assert_int_equal(eng_textout_add(&t, "\xF0\x9F", 2), ENG_TEXT_MORE);
    assert_true(eng_textout_finish(&t));
    assert_string_equal(s.buf, "caf\xC3\xA9!\xEF\xBF\xBD" "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
    assert_false(s.bad_utf8);
    eng_textout_free(&t);
    free(s.buf);

    /* A stop string across pieces; what might start one is held back. */
    const char *stops[CACHET_GEN_MAX_STOP] = {"", "END", NULL};
    s = (sink){0};
    eng_textout_init(&t, stops, sink_fn, &s);
    assert_int_equal(eng_textout_add(&t, "abcE", 4), ENG_TEXT_MORE);
    assert_string_equal(s.buf, "abc");
    assert_int_equal(eng_textout_add(&t, "x E", 3), ENG_TEXT_MORE);
    assert_string_equal(s.buf, "abcEx ");
    assert_int_equal(eng_textout_add(&t, "N", 1), ENG_TEXT_MORE);
    assert_string_equal(s.buf, "abcEx ");
    assert_int_equal(eng_textout_add(&t, "Dtail", 5), ENG_TEXT_STOPPED);
    assert_string_equal(s.buf, "abcEx ");
    assert_true(eng_textout_finish(&t));
    assert_string_equal(s.buf, "abcEx ");
    eng_textout_free(&t);
    free(s.buf);

    /* Held-back text is given at the end when no stop string completes. */
    s = (sink){0};
    eng_textout_init(&t, stops, sink_fn, &s);
    assert_int_equal(eng_textout_add(&t, "xEN", 3), ENG_TEXT_MORE);
    assert_string_equal(s.buf, "x");
    assert_true(eng_textout_finish(&t));
    assert_string_equal(s.buf, "xEN");
    eng_textout_free(&t);
    free(s.buf);

    /* Cancellation from the callback. */
    s = (sink){.cancel_after = 1};
    eng_textout_init(&t, NULL, sink_fn, &s);
    assert_int_equal(eng_textout_add(&t, "a", 1), ENG_TEXT_CANCELLED);
    eng_textout_free(&t);
    free(s.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_textout),
        cmocka_unit_test(test_gen_deterministic),
        cmocka_unit_test(test_model_facts),
        cmocka_unit_test(test_greedy_matches_llama_simple),
        cmocka_unit_test(test_varied_tokens),
        cmocka_unit_test(test_seeded_sampling),
        cmocka_unit_test(test_stop_string),
        cmocka_unit_test(test_max_tokens),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_prompt_too_long),
        cmocka_unit_test(test_chat_prompt),
        cmocka_unit_test(test_corrupt_gguf),
        cmocka_unit_test(test_memfd),
        cmocka_unit_test(test_serialised),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
