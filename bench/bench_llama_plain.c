/* Plain llama.cpp, the baseline of bench/serve.sh: load a GGUF with
 * llama.cpp's default load mode (mmap on this CPU build; PLAIN_LOAD_MODE=read
 * reads it into memory instead) and generate greedily with the same threads
 * and prompt, straight through llama.h with nothing of cachet in between.
 *
 * usage: bench_llama_plain MODEL.gguf THREADS TOKENS PROMPT [CTX]
 * (CTX: the context length, as the server under comparison uses; default
 * just what the prompt and the tokens need)
 * prints "ctx_s" (context creation), "load_s" (model load),
 * "prompt_tokens", "completion_tokens", "gen_s", "gen_tok_s" lines (gen_s:
 * first to last sampled token, as the engine reports it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <llama.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void quiet(enum ggml_log_level level, const char *text, void *arg)
{
    (void)level;
    (void)text;
    (void)arg;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: bench_llama_plain MODEL.gguf THREADS TOKENS PROMPT [CTX]\n");
        return 2;
    }
    int threads = atoi(argv[2]), n_gen = atoi(argv[3]);
    const char *prompt = argv[4];
    if (threads < 1 || n_gen < 1)
        return 2;
    llama_log_set(quiet, NULL);
    llama_backend_init();

    struct llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    /* llama.cpp's default (auto: mmap on a CPU build) unless asked to read */
    const char *mode = getenv("PLAIN_LOAD_MODE");
    if (mode && strcmp(mode, "read") == 0)
        mp.load_mode = LLAMA_LOAD_MODE_NONE;
    double t0 = now_s();
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    double load_s = now_s() - t0;
    if (!model) {
        fprintf(stderr, "bench_llama_plain: cannot load %s\n", argv[1]);
        return 1;
    }
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    int n_prompt = -llama_tokenize(vocab, prompt, (int)strlen(prompt), NULL, 0, true, true);
    llama_token *toks = calloc((size_t)n_prompt, sizeof *toks);
    if (!toks || llama_tokenize(vocab, prompt, (int)strlen(prompt), toks, n_prompt, true, true) < 0)
        return 1;

    struct llama_context_params cp = llama_context_default_params();
    int ctx_len = argc == 6 ? atoi(argv[5]) : 0;
    cp.n_ctx = (uint32_t)(ctx_len > n_prompt + n_gen ? ctx_len : n_prompt + n_gen + 8);
    cp.n_batch = getenv("PLAIN_BATCH") ? (uint32_t)atoi(getenv("PLAIN_BATCH")) : (uint32_t)n_prompt;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.no_perf = true;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    struct llama_sampler *smpl = llama_sampler_chain_init(llama_sampler_chain_default_params());
    llama_sampler_chain_add(smpl, llama_sampler_init_greedy());
    if (!ctx || !smpl)
        return 1;
    double ctx_s = now_s() - t0 - load_s;

    struct llama_batch batch = llama_batch_get_one(toks, n_prompt);
    int produced = 0;
    double first = 0, last = 0;
    llama_token tok;
    for (;;) {
        if (llama_decode(ctx, batch) != 0)
            return 1;
        tok = llama_sampler_sample(smpl, ctx, -1);
        last = now_s();
        if (produced == 0)
            first = last;
        if (llama_vocab_is_eog(vocab, tok) || ++produced >= n_gen)
            break;
        batch = llama_batch_get_one(&tok, 1);
    }
    double gen_s = last - first;
    printf("ctx_s %.6f\nload_s %.6f\nprompt_tokens %d\ncompletion_tokens %d\ngen_s %.6f\ngen_tok_s %.3f\n",
           ctx_s, load_s, n_prompt, produced, gen_s, produced > 1 ? (produced - 1) / gen_s : 0.0);
    llama_sampler_free(smpl);
    llama_free(ctx);
    llama_model_free(model);
    free(toks);
    return 0;
}
