/* The inference engine over llama.cpp's C API (engine.h).
 *
 * One model and one llama_context per engine; cachet_engine_generate() holds
 * the engine's mutex for the whole request, clears the KV cache first and
 * builds a fresh sampler chain, so that a request's text depends only on its
 * prompt and parameters.  Text reaches the caller through textout.c (UTF-8
 * repair and stop strings).  Nothing here logs a prompt or a completion:
 * llama.cpp's own log goes to cachet's debug log. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ggml-cpu.h>
#include <llama.h>

#include "cachet/log.h"
#include "engine.h"
#include "engine_int.h"

struct cachet_engine {
    struct llama_model *model;
    struct llama_context *ctx;
    struct ggml_threadpool *pool; /* the compute threads, kept between tokens */
    const struct llama_vocab *vocab;
    pthread_mutex_t lock;
    int n_ctx;
    int n_batch;
    char arch[64];
};

/* ---- llama.cpp's log → cachet's debug log --------------------------------
 * llama.cpp logs in fragments (progress dots, GGML_LOG_LEVEL_CONT), so the
 * pieces are gathered per thread into lines. */
static _Thread_local char log_line[512];
static _Thread_local size_t log_len;

static void log_flush(void)
{
    if (log_len) {
        cachet_log(CACHET_LOG_DEBUG, "llama: %.*s", (int)log_len, log_line);
        log_len = 0;
    }
}

static void llama_log_cb(enum ggml_log_level level, const char *text, void *ud)
{
    (void)level;
    (void)ud;
    if (cachet_log_get_level() > CACHET_LOG_DEBUG || !text)
        return;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            log_flush();
            continue;
        }
        if (log_len == sizeof log_line)
            log_flush();
        log_line[log_len++] = *p;
    }
}

static pthread_once_t backend_once = PTHREAD_ONCE_INIT;
static void backend_init(void)
{
    /* Before anything else, so that even backend set-up logs go to us. */
    llama_log_set(llama_log_cb, NULL);
    llama_backend_init();
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

cachet_rc cachet_engine_load(const char *path, const cachet_engine_opts *opts, cachet_engine **out)
{
    if (!path || !out)
        return eng_err(INVALID_ARG, "engine load: path and out are required");
    *out = NULL;
    cachet_engine_opts o = opts ? *opts : (cachet_engine_opts){0};
    if (o.n_threads < 0 || o.n_ctx < 0 || o.n_batch < 0)
        return eng_err(INVALID_ARG, "engine load: negative option (threads %d, ctx %d, batch %d)",
                       o.n_threads, o.n_ctx, o.n_batch);

    /* llama.cpp says only "failed to load"; tell a missing file apart. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return eng_err(IO, "engine load: %s: %s", path, strerror(errno));
    close(fd);

    pthread_once(&backend_once, backend_init);

    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    /* read into anonymous memory unless the caller vouches that the file is
     * an immutable in-memory copy (a sealed memfd) */
    mp.load_mode = o.map_file ? LLAMA_LOAD_MODE_MMAP : LLAMA_LOAD_MODE_NONE;
    mp.check_tensors = false;

    cachet_engine *e = calloc(1, sizeof *e);
    if (!e)
        return eng_err(NOMEM, "engine load: out of memory");
    if (pthread_mutex_init(&e->lock, NULL)) {
        free(e);
        return eng_err(NOMEM, "engine load: mutex");
    }
    e->model = llama_model_load_from_file(path, mp);
    log_flush();
    if (!e->model) {
        pthread_mutex_destroy(&e->lock);
        free(e);
        return eng_err(FORMAT, "engine load: llama.cpp could not load %s as a GGUF model", path);
    }
    e->vocab = llama_model_get_vocab(e->model);
    if (llama_model_meta_val_str(e->model, "general.architecture", e->arch, sizeof e->arch) < 0)
        snprintf(e->arch, sizeof e->arch, "unknown");

    int train = llama_model_n_ctx_train(e->model);
    int n_ctx = o.n_ctx ? o.n_ctx : (train > 0 && train < 4096 ? train : 4096);
    int n_batch = o.n_batch ? o.n_batch : 512;
    int threads = o.n_threads ? o.n_threads : online_cpus();

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)n_ctx;
    cp.n_batch = (uint32_t)n_batch;
    cp.n_ubatch = (uint32_t)(n_batch < 512 ? n_batch : 512);
    cp.n_seq_max = 1;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.no_perf = true;
    cp.embeddings = false;
    e->ctx = llama_init_from_model(e->model, cp);
    log_flush();
    if (!e->ctx) {
        llama_model_free(e->model);
        pthread_mutex_destroy(&e->lock);
        free(e);
        return eng_err(NOMEM, "engine load: llama.cpp could not create a context of %d tokens",
                       n_ctx);
    }
    /* One persistent pool of compute threads.  Without it ggml starts and
     * joins its helper threads for every decoded token; the new threads land
     * on cores already busy and the others spin at ggml's barrier (measured:
     * about 10% fewer tokens/s than llama.cpp's own loop on 2 cores). */
    struct ggml_threadpool_params tpp = ggml_threadpool_params_default(threads);
    e->pool = ggml_threadpool_new(&tpp);
    if (e->pool)
        llama_attach_threadpool(e->ctx, e->pool, NULL);
    e->n_ctx = (int)llama_n_ctx(e->ctx);
    e->n_batch = (int)llama_n_batch(e->ctx);
    cachet_log(CACHET_LOG_INFO, "engine: %s model, %llu parameters, context %d tokens, %d threads",
               e->arch, (unsigned long long)llama_model_n_params(e->model), e->n_ctx, threads);
    *out = e;
    return CACHET_OK;
}

void cachet_engine_free(cachet_engine *e)
{
    if (!e)
        return;
    llama_free(e->ctx);
    if (e->pool)
        ggml_threadpool_free(e->pool);
    llama_model_free(e->model);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

int cachet_engine_n_ctx(const cachet_engine *e)
{
    return e ? e->n_ctx : 0;
}

const char *cachet_engine_arch(const cachet_engine *e)
{
    return e ? e->arch : "";
}

uint64_t cachet_engine_n_params(const cachet_engine *e)
{
    return e ? llama_model_n_params(e->model) : 0;
}

/* ---- chat templates ---------------------------------------------------- */

cachet_rc cachet_engine_chat_prompt(const cachet_engine *e, const cachet_chat_msg *msgs, size_t n,
                                    char **prompt)
{
    if (!e || !prompt || (n && !msgs))
        return eng_err(INVALID_ARG, "chat prompt: missing argument");
    *prompt = NULL;
    const char *tmpl = llama_model_chat_template(e->model, NULL);
    if (!tmpl || !*tmpl)
        tmpl = "chatml";
    struct llama_chat_message *lm = calloc(n ? n : 1, sizeof *lm);
    if (!lm)
        return eng_err(NOMEM, "chat prompt: out of memory");
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!msgs[i].role || !msgs[i].content) {
            free(lm);
            return eng_err(INVALID_ARG, "chat prompt: message %zu has no role or content", i);
        }
        /* OpenAI's "developer" is the newer name of "system"; llama.cpp's
         * templates know only the latter. */
        lm[i].role = !strcmp(msgs[i].role, "developer") ? "system" : msgs[i].role;
        lm[i].content = msgs[i].content;
        total += strlen(msgs[i].content) + strlen(msgs[i].role);
    }
    if (total > INT32_MAX / 4) {
        free(lm);
        return eng_err(LIMIT, "chat prompt: %zu bytes of messages", total);
    }
    int32_t cap = (int32_t)(2 * total + 256);
    char *buf = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        char *nb = realloc(buf, (size_t)cap + 1);
        if (!nb) {
            free(buf);
            free(lm);
            return eng_err(NOMEM, "chat prompt: out of memory");
        }
        buf = nb;
        int32_t r = llama_chat_apply_template(tmpl, lm, n, true, buf, cap);
        if (r < 0) {
            free(buf);
            free(lm);
            return eng_err(UNSUPPORTED, "chat prompt: the model's chat template is not one llama.cpp knows");
        }
        if (r <= cap) {
            buf[r] = '\0';
            free(lm);
            *prompt = buf;
            return CACHET_OK;
        }
        cap = r;
    }
    free(buf);
    free(lm);
    return eng_err(STATE, "chat prompt: template output size changed between calls");
}

/* ---- tokens -------------------------------------------------------------- */

/* Tokens of text into a malloc'd array; parse_special so that a chat
 * template's control tokens become tokens (llama-simple and llama-server do
 * the same). */
static cachet_rc tokenize(const struct llama_vocab *vocab, const char *text, bool add_bos,
                          llama_token **toks, int *n)
{
    size_t len = strlen(text);
    if (len > (size_t)INT32_MAX / 2)
        return eng_err(LIMIT, "prompt of %zu bytes", len);
    int32_t r = llama_tokenize(vocab, text, (int32_t)len, NULL, 0, add_bos, true);
    if (r == INT32_MIN || r > 0)
        return eng_err(LIMIT, "prompt too long to tokenize");
    int32_t need = -r;
    llama_token *t = malloc(((size_t)need + 1) * sizeof *t);
    if (!t)
        return eng_err(NOMEM, "tokenize: out of memory");
    int32_t got = need ? llama_tokenize(vocab, text, (int32_t)len, t, need, add_bos, true) : 0;
    if (got < 0) {
        free(t);
        return eng_err(STATE, "tokenize: llama.cpp failed (%d)", got);
    }
    *toks = t;
    *n = got;
    return CACHET_OK;
}

int cachet_engine_count_tokens(const cachet_engine *e, const char *text, bool add_bos)
{
    if (!e || !text)
        return -1;
    llama_token *t = NULL;
    int n = 0;
    if (tokenize(e->vocab, text, add_bos, &t, &n) != CACHET_OK)
        return -1;
    free(t);
    return n;
}

/* ---- generation ---------------------------------------------------------- */

cachet_gen_params cachet_gen_defaults(void)
{
    return (cachet_gen_params){
        .max_tokens = 16,
        .temperature = 1.0f,
        .top_p = 1.0f,
        .seed = 0xC0FFEE,
        .add_bos = true,
    };
}

const char *cachet_finish_str(cachet_finish f)
{
    switch (f) {
    case CACHET_FINISH_STOP: return "stop";
    case CACHET_FINISH_LENGTH: return "length";
    case CACHET_FINISH_CANCELLED: return "cancelled";
    }
    return "unknown";
}

static struct llama_sampler *make_sampler(const cachet_gen_params *p)
{
    struct llama_sampler_chain_params sp = llama_sampler_chain_default_params();
    sp.no_perf = true;
    struct llama_sampler *s = llama_sampler_chain_init(sp);
    if (!s)
        return NULL;
    if (p->temperature == 0.0f) {
        llama_sampler_chain_add(s, llama_sampler_init_greedy());
    } else {
        if (p->top_p < 1.0f)
            llama_sampler_chain_add(s, llama_sampler_init_top_p(p->top_p, 1));
        llama_sampler_chain_add(s, llama_sampler_init_temp(p->temperature));
        llama_sampler_chain_add(s, llama_sampler_init_dist(p->seed));
    }
    return s;
}

/* The text of one token (special tokens not rendered); *buf grows. */
static int token_piece(const struct llama_vocab *vocab, llama_token t, char **buf, size_t *cap)
{
    for (int i = 0; i < 2; i++) {
        int32_t n = llama_token_to_piece(vocab, t, *buf, (int32_t)*cap, 0, false);
        if (n >= 0)
            return n;
        char *nb = realloc(*buf, (size_t)-n);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = (size_t)-n;
    }
    return -1;
}

static cachet_rc check_params(const cachet_gen_params *p)
{
    if (p->max_tokens < 1)
        return eng_err(RANGE, "max_tokens %d: must be at least 1", p->max_tokens);
    if (!(p->temperature >= 0.0f && p->temperature <= 100.0f))
        return eng_err(RANGE, "temperature %g: must be in [0, 100]", (double)p->temperature);
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return eng_err(RANGE, "top_p %g: must be in (0, 1]", (double)p->top_p);
    return CACHET_OK;
}

static cachet_rc generate_locked(cachet_engine *e, const char *prompt, const cachet_gen_params *p,
                                 cachet_gen_piece_fn on_piece, void *arg, cachet_gen_stats *st)
{
    llama_token *toks = NULL;
    int n_prompt = 0;
    cachet_rc rc = tokenize(e->vocab, prompt, p->add_bos, &toks, &n_prompt);
    if (rc)
        return rc;
    st->prompt_tokens = n_prompt;
    if (n_prompt == 0) {
        free(toks);
        return eng_err(INVALID_ARG, "empty prompt");
    }
    /* A prompt fits when at least one token can follow it. */
    if (n_prompt >= e->n_ctx) {
        free(toks);
        return eng_err(LIMIT, "prompt is %d tokens, the context %d: %d over", n_prompt, e->n_ctx,
                       n_prompt - e->n_ctx + 1);
    }
    int room = e->n_ctx - n_prompt;
    int max_gen = p->max_tokens < room ? p->max_tokens : room;

    struct llama_sampler *smpl = make_sampler(p);
    eng_textout to;
    eng_textout_init(&to, p->stop, on_piece, arg);
    char *piece = malloc(64);
    size_t piece_cap = piece ? 64 : 0;
    if (!smpl || !piece) {
        rc = eng_err(NOMEM, "generate: out of memory");
        goto done;
    }

    llama_memory_clear(llama_get_memory(e->ctx), true);

    double t0 = now_s();
    for (int i = 0; i < n_prompt; i += e->n_batch) {
        int chunk = n_prompt - i < e->n_batch ? n_prompt - i : e->n_batch;
        int32_t d = llama_decode(e->ctx, llama_batch_get_one(toks + i, chunk));
        if (d) {
            rc = eng_err(STATE, "generate: llama_decode of the prompt failed (%d)", (int)d);
            goto done;
        }
    }
    double t1 = now_s(), t_last = t1;
    st->prompt_seconds = t1 - t0;

    cachet_finish finish = CACHET_FINISH_LENGTH;
    for (int n = 0;;) {
        llama_token tok = llama_sampler_sample(smpl, e->ctx, -1);
        t_last = now_s();
        if (llama_vocab_is_eog(e->vocab, tok)) {
            finish = CACHET_FINISH_STOP;
            break;
        }
        n++;
        st->completion_tokens = n;
        int len = token_piece(e->vocab, tok, &piece, &piece_cap);
        if (len < 0) {
            rc = eng_err(NOMEM, "generate: token %d has no text", (int)tok);
            goto done;
        }
        eng_text_result r = eng_textout_add(&to, piece, (size_t)len);
        if (r == ENG_TEXT_STOPPED) {
            finish = CACHET_FINISH_STOP;
            break;
        }
        if (r == ENG_TEXT_CANCELLED) {
            finish = CACHET_FINISH_CANCELLED;
            break;
        }
        if (r == ENG_TEXT_NOMEM) {
            rc = eng_err(NOMEM, "generate: out of memory");
            goto done;
        }
        if (n >= max_gen)
            break;
        int32_t d = llama_decode(e->ctx, llama_batch_get_one(&tok, 1));
        if (d == 1) /* no room left in the KV cache: the context is full */
            break;
        if (d) {
            rc = eng_err(STATE, "generate: llama_decode failed (%d)", (int)d);
            goto done;
        }
    }
    if (finish != CACHET_FINISH_CANCELLED && !eng_textout_finish(&to))
        finish = CACHET_FINISH_CANCELLED;
    st->finish = finish;
    st->gen_seconds = t_last - t1;
done:
    eng_textout_free(&to);
    free(piece);
    if (smpl)
        llama_sampler_free(smpl);
    free(toks);
    return rc;
}

cachet_rc cachet_engine_generate(cachet_engine *e, const char *prompt, const cachet_gen_params *p,
                                 cachet_gen_piece_fn on_piece, void *arg, cachet_gen_stats *stats)
{
    cachet_gen_stats st = {0};
    if (stats)
        *stats = st;
    if (!e || !prompt || !p)
        return eng_err(INVALID_ARG, "generate: engine, prompt and params are required");
    cachet_rc rc = check_params(p);
    if (rc)
        return rc;
    pthread_mutex_lock(&e->lock);
    rc = generate_locked(e, prompt, p, on_piece, arg, &st);
    log_flush();
    pthread_mutex_unlock(&e->lock);
    if (stats)
        *stats = st;
    return rc;
}
