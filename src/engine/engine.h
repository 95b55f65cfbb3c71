/* The inference engine: a small C interface over llama.cpp (libllama,
 * linked statically; scripts/build-llama), so that nothing else in cachet
 * includes llama.h.  One model, one llama context; generation requests are
 * serialised by the engine (the server queues them).
 *
 *   cachet_engine *e;
 *   cachet_engine_opts o = {.n_threads = 2, .n_ctx = 2048};
 *   if (cachet_engine_load(path, &o, &e) == CACHET_OK) {
 *       cachet_gen_params g = cachet_gen_defaults();
 *       cachet_gen_stats st;
 *       cachet_engine_generate(e, "Hello", &g, on_piece, arg, &st);
 *       cachet_engine_free(e);
 *   }
 */
#ifndef CACHET_ENGINE_H
#define CACHET_ENGINE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cachet/rc.h"

typedef struct cachet_engine cachet_engine;

typedef struct cachet_engine_opts {
    int n_threads;   /* generation threads; 0: online CPUs */
    int n_ctx;       /* context length in tokens; 0: min(model's, 4096) */
    int n_batch;     /* prompt batch; 0: 512 */
    /* Map the file instead of reading it (llama.cpp's own default).  Only
     * for an immutable sealed memfd (cachet serve): its pages are the
     * plaintext already in memory, so mapping them saves a copy, and the
     * seals guarantee nobody changes the weights under the model.  Never
     * for a file on disk. */
    bool map_file;
} cachet_engine_opts;

/* Load a GGUF model from a path (a regular file, or /proc/self/fd/N for a
 * memfd holding the unsealed model).  By default the model is read into
 * anonymous memory (LLAMA_LOAD_MODE_NONE), so nothing of it stays mapped
 * from a file; opts->map_file maps it instead (a sealed memfd only).  llama.cpp's own log goes to cachet's debug log only.
 * CACHET_E_FORMAT when llama.cpp refuses the file. */
cachet_rc cachet_engine_load(const char *path, const cachet_engine_opts *opts, cachet_engine **out);
void cachet_engine_free(cachet_engine *e);

/* Model facts for /v1/models and logs. */
int cachet_engine_n_ctx(const cachet_engine *e);
const char *cachet_engine_arch(const cachet_engine *e);   /* "llama" */
uint64_t cachet_engine_n_params(const cachet_engine *e);

/* One chat message (OpenAI roles: system, developer, user, assistant, tool). */
typedef struct cachet_chat_msg {
    const char *role;
    const char *content;
} cachet_chat_msg;

/* The model's chat template (tokenizer.chat_template) applied to msgs with
 * the assistant turn opened; falls back to "chatml" when the model has none.
 * *prompt: malloc'd.  CACHET_E_UNSUPPORTED when the template is not one
 * llama.cpp knows. */
cachet_rc cachet_engine_chat_prompt(const cachet_engine *e, const cachet_chat_msg *msgs, size_t n,
                                    char **prompt);

#define CACHET_GEN_MAX_STOP 4
typedef struct cachet_gen_params {
    int max_tokens;          /* >= 1; capped by the context */
    float temperature;       /* 0: greedy */
    float top_p;             /* (0, 1] */
    uint32_t seed;           /* sampler seed (used when temperature > 0) */
    const char *stop[CACHET_GEN_MAX_STOP]; /* stop strings, NULL-terminated if fewer */
    bool add_bos;            /* tokenize the prompt with BOS (completions: true;
                                a chat template's text already has it) */
} cachet_gen_params;
cachet_gen_params cachet_gen_defaults(void); /* 16 tokens, temperature 1, top_p 1, seed 0xC0FFEE */

typedef enum cachet_finish {
    CACHET_FINISH_STOP,      /* end-of-generation token or a stop string */
    CACHET_FINISH_LENGTH,    /* max_tokens or the context filled */
    CACHET_FINISH_CANCELLED, /* the callback returned false */
} cachet_finish;
const char *cachet_finish_str(cachet_finish f); /* "stop" | "length" | "cancelled" */

typedef struct cachet_gen_stats {
    int prompt_tokens;
    int completion_tokens;
    cachet_finish finish;
    double prompt_seconds;   /* prompt evaluation */
    double gen_seconds;      /* token generation (first to last sampled token) */
} cachet_gen_stats;

/* Called with each piece of text as it is produced (UTF-8, never splitting
 * a character; text that could still become a stop string is held back
 * until it cannot).  Return false to cancel (client went away). */
typedef bool (*cachet_gen_piece_fn)(void *arg, const char *text, size_t len);

/* Generate from a fresh context state (the KV cache is cleared first, so
 * the result depends only on prompt and params).  Thread-safe: calls are
 * serialised on the engine's lock.  CACHET_E_LIMIT when the prompt does not
 * fit the context (detail says by how much). */
cachet_rc cachet_engine_generate(cachet_engine *e, const char *prompt, const cachet_gen_params *p,
                                 cachet_gen_piece_fn on_piece, void *arg, cachet_gen_stats *stats);

/* Tokens in text (for request limits); -1 on error. */
int cachet_engine_count_tokens(const cachet_engine *e, const char *text, bool add_bos);

#endif
