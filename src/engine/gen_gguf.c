/* cachet-gen-gguf: write a small random llama-architecture GGUF model.
 *
 *   cachet-gen-gguf --vocab VOCAB.gguf --out FILE [--seed N] [--embd 64]
 *                   [--layers 2] [--heads 4] [--ff 128] [--ctx 512]
 *
 * The tokenizer (every tokenizer.* key, vocabulary arrays included) comes
 * from VOCAB.gguf (a vocab-only GGUF such as llama.cpp's
 * ggml-vocab-llama-spm.gguf); the weights are drawn from a seeded PRNG, so
 * the same arguments give a byte-identical file.  The model is nonsense but
 * real: llama.cpp loads it, tokenizes, applies its chat template
 * (chatml) and generates varied tokens, which is what the demo and the tests
 * need without shipping gigabytes.  Written to a temporary file in the
 * target directory, then renamed into place. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ggml.h>
#include <gguf.h>

#define CHATML_TEMPLATE                                                                            \
    "{% for message in messages %}"                                                                \
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"      \
    "{% endfor %}"                                                                                 \
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

typedef struct gen_opts {
    const char *vocab;
    const char *out;
    uint64_t seed;
    long embd, layers, heads, ff, ctx;
} gen_opts;

/* splitmix64: tiny, well-mixed and fully specified, so files are stable
 * across libc versions (unlike rand()). */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1) with 24 bits: exact in float, so no rounding depends
 * on the platform's libm. */
static float rng_sym(uint64_t *s)
{
    uint32_t v = (uint32_t)(rng_next(s) >> 40);
    return (float)v / 8388608.0f - 1.0f;
}

static void usage(FILE *f)
{
    fputs("usage: cachet-gen-gguf --vocab VOCAB.gguf --out FILE [--seed N] [--embd 64]\n"
          "                       [--layers 2] [--heads 4] [--ff 128] [--ctx 512]\n",
          f);
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, gen_opts *o)
{
    *o = (gen_opts){.seed = 1, .embd = 64, .layers = 2, .heads = 4, .ff = 128, .ctx = 512};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "cachet-gen-gguf: %s needs a value\n", a);
            return -1;
        }
        const char *v = argv[++i];
        bool ok = true;
        if (!strcmp(a, "--vocab"))
            o->vocab = v;
        else if (!strcmp(a, "--out"))
            o->out = v;
        else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 0);
            ok = !errno && end != v && !*end;
            o->seed = s;
        } else if (!strcmp(a, "--embd"))
            ok = parse_long(v, 8, 4096, &o->embd);
        else if (!strcmp(a, "--layers"))
            ok = parse_long(v, 1, 64, &o->layers);
        else if (!strcmp(a, "--heads"))
            ok = parse_long(v, 1, 64, &o->heads);
        else if (!strcmp(a, "--ff"))
            ok = parse_long(v, 8, 16384, &o->ff);
        else if (!strcmp(a, "--ctx"))
            ok = parse_long(v, 16, 1 << 20, &o->ctx);
        else {
            fprintf(stderr, "cachet-gen-gguf: unknown option %s\n", a);
            return -1;
        }
        if (!ok) {
            fprintf(stderr, "cachet-gen-gguf: bad value for %s: %s\n", a, v);
            return -1;
        }
    }
    if (!o->vocab || !o->out) {
        usage(stderr);
        return -1;
    }
    /* RoPE rotates pairs, so a head has an even size. */
    if (o->embd % o->heads || (o->embd / o->heads) % 2) {
        fprintf(stderr, "cachet-gen-gguf: --embd %ld is not a multiple of 2 x --heads %ld\n", o->embd,
                o->heads);
        return -1;
    }
    return 0;
}

typedef struct gen_state {
    struct ggml_context *g;
    struct gguf_context *out;
    uint64_t rng;
} gen_state;

/* A 2-D weight [ne0 = fan-in, ne1 = fan-out], entries uniform with standard
 * deviation `std` (uniform on [-a, a] has sd a/sqrt(3)). */
static void add_matrix(gen_state *st, const char *name, int64_t ne0, int64_t ne1, float std,
                       enum ggml_type type)
{
    struct ggml_tensor *t = ggml_new_tensor_2d(st->g, type, ne0, ne1);
    ggml_set_name(t, name);
    float a = std * 1.7320508f;
    int64_t n = ne0 * ne1;
    if (type == GGML_TYPE_F16) {
        ggml_fp16_t *d = t->data;
        for (int64_t i = 0; i < n; i++)
            d[i] = ggml_fp32_to_fp16(a * rng_sym(&st->rng));
    } else {
        float *d = t->data;
        for (int64_t i = 0; i < n; i++)
            d[i] = a * rng_sym(&st->rng);
    }
    gguf_add_tensor(st->out, t);
}

/* An RMS-norm weight: around 1, a little jitter so layers differ. */
static void add_norm(gen_state *st, const char *name, int64_t n)
{
    struct ggml_tensor *t = ggml_new_tensor_1d(st->g, GGML_TYPE_F32, n);
    ggml_set_name(t, name);
    float *d = t->data;
    for (int64_t i = 0; i < n; i++)
        d[i] = 1.0f + 0.1f * rng_sym(&st->rng);
    gguf_add_tensor(st->out, t);
}

static int write_model(const gen_opts *o)
{
    int rc = 1;
    struct gguf_context *voc = NULL, *out = NULL;
    struct ggml_context *g = NULL;
    char *tmp = NULL;
    FILE *f = NULL;

    voc = gguf_init_from_file(o->vocab, (struct gguf_init_params){.no_alloc = true, .ctx = NULL});
    if (!voc) {
        fprintf(stderr, "cachet-gen-gguf: %s: not a readable GGUF file\n", o->vocab);
        goto done;
    }
    int64_t tok_id = gguf_find_key(voc, "tokenizer.ggml.tokens");
    if (tok_id < 0 || gguf_get_kv_type(voc, tok_id) != GGUF_TYPE_ARRAY) {
        fprintf(stderr, "cachet-gen-gguf: %s: no tokenizer.ggml.tokens array\n", o->vocab);
        goto done;
    }
    const int64_t n_vocab = (int64_t)gguf_get_arr_n(voc, tok_id);
    const int64_t n_embd = o->embd, n_ff = o->ff, n_layer = o->layers;

    out = gguf_init_empty();
    /* The general.* keys first (ours), then every tokenizer.* key of the
     * vocabulary in its order, then the architecture's. */
    gguf_set_val_str(out, "general.architecture", "llama");
    gguf_set_val_str(out, "general.name", "cachet-demo-tiny");
    gguf_set_val_str(out, "general.description",
                     "random weights for cachet's tests and demo (cachet-gen-gguf); not a language model");
    gguf_set_val_u32(out, "general.file_type", 1); /* mostly f16 */
    gguf_set_val_u64(out, "cachet.gen_gguf.seed", o->seed);
    int64_t n_kv = gguf_get_n_kv(voc);
    for (int64_t i = 0; i < n_kv; i++) {
        const char *key = gguf_get_key(voc, i);
        if (strncmp(key, "tokenizer.", 10) != 0 || !strcmp(key, "tokenizer.chat_template"))
            continue;
        enum gguf_type ty = gguf_get_kv_type(voc, i);
        switch (ty) {
        case GGUF_TYPE_UINT8: gguf_set_val_u8(out, key, gguf_get_val_u8(voc, i)); break;
        case GGUF_TYPE_INT8: gguf_set_val_i8(out, key, gguf_get_val_i8(voc, i)); break;
        case GGUF_TYPE_UINT16: gguf_set_val_u16(out, key, gguf_get_val_u16(voc, i)); break;
        case GGUF_TYPE_INT16: gguf_set_val_i16(out, key, gguf_get_val_i16(voc, i)); break;
        case GGUF_TYPE_UINT32: gguf_set_val_u32(out, key, gguf_get_val_u32(voc, i)); break;
        case GGUF_TYPE_INT32: gguf_set_val_i32(out, key, gguf_get_val_i32(voc, i)); break;
        case GGUF_TYPE_FLOAT32: gguf_set_val_f32(out, key, gguf_get_val_f32(voc, i)); break;
        case GGUF_TYPE_UINT64: gguf_set_val_u64(out, key, gguf_get_val_u64(voc, i)); break;
        case GGUF_TYPE_INT64: gguf_set_val_i64(out, key, gguf_get_val_i64(voc, i)); break;
        case GGUF_TYPE_FLOAT64: gguf_set_val_f64(out, key, gguf_get_val_f64(voc, i)); break;
        case GGUF_TYPE_BOOL: gguf_set_val_bool(out, key, gguf_get_val_bool(voc, i)); break;
        case GGUF_TYPE_STRING: gguf_set_val_str(out, key, gguf_get_val_str(voc, i)); break;
        case GGUF_TYPE_ARRAY: {
            enum gguf_type at = gguf_get_arr_type(voc, i);
            size_t n = gguf_get_arr_n(voc, i);
            if (at == GGUF_TYPE_STRING) {
                const char **v = calloc(n ? n : 1, sizeof *v);
                if (!v) {
                    fprintf(stderr, "cachet-gen-gguf: out of memory\n");
                    goto done;
                }
                for (size_t j = 0; j < n; j++)
                    v[j] = gguf_get_arr_str(voc, i, j);
                gguf_set_arr_str(out, key, v, n);
                free(v);
            } else if (at == GGUF_TYPE_ARRAY) {
                fprintf(stderr, "cachet-gen-gguf: %s: nested array %s not supported\n", o->vocab, key);
                goto done;
            } else {
                gguf_set_arr_data(out, key, at, gguf_get_arr_data(voc, i), n);
            }
            break;
        }
        default:
            fprintf(stderr, "cachet-gen-gguf: %s: key %s has unknown type %d\n", o->vocab, key, (int)ty);
            goto done;
        }
    }
    gguf_set_val_str(out, "tokenizer.chat_template", CHATML_TEMPLATE);

    gguf_set_val_u32(out, "llama.vocab_size", (uint32_t)n_vocab);
    gguf_set_val_u32(out, "llama.context_length", (uint32_t)o->ctx);
    gguf_set_val_u32(out, "llama.embedding_length", (uint32_t)n_embd);
    gguf_set_val_u32(out, "llama.block_count", (uint32_t)n_layer);
    gguf_set_val_u32(out, "llama.feed_forward_length", (uint32_t)n_ff);
    gguf_set_val_u32(out, "llama.attention.head_count", (uint32_t)o->heads);
    gguf_set_val_u32(out, "llama.attention.head_count_kv", (uint32_t)o->heads);
    gguf_set_val_u32(out, "llama.rope.dimension_count", (uint32_t)(n_embd / o->heads));
    gguf_set_val_f32(out, "llama.rope.freq_base", 10000.0f);
    gguf_set_val_f32(out, "llama.attention.layer_norm_rms_epsilon", 1e-5f);

    /* Room for every tensor's data and header. */
    size_t bytes = 2 * (size_t)n_vocab * (size_t)n_embd * sizeof(ggml_fp16_t) +
                   (size_t)(2 + 2 * n_layer) * (size_t)n_embd * sizeof(float) +
                   (size_t)n_layer * (4 * (size_t)n_embd * (size_t)n_embd + 3 * (size_t)n_embd * (size_t)n_ff) *
                       sizeof(float) +
                   (size_t)(4 + 9 * n_layer) * (ggml_tensor_overhead() + 64);
    g = ggml_init((struct ggml_init_params){.mem_size = bytes, .mem_buffer = NULL, .no_alloc = false});
    if (!g) {
        fprintf(stderr, "cachet-gen-gguf: cannot allocate %zu bytes\n", bytes);
        goto done;
    }
    gen_state st = {.g = g, .out = out, .rng = o->seed ^ 0x6361636865742167ull /* "cachet!g" */};

    const float s_embd = 1.0f / sqrtf((float)n_embd), s_ff = 1.0f / sqrtf((float)n_ff);
    /* Embeddings of unit scale; the output projection gives logits of
     * standard deviation ~3, peaked enough to differ from noise, flat enough
     * that sampling at temperature 1 still varies. */
    add_matrix(&st, "token_embd.weight", n_embd, n_vocab, 1.0f, GGML_TYPE_F16);
    add_norm(&st, "output_norm.weight", n_embd);
    add_matrix(&st, "output.weight", n_embd, n_vocab, 3.0f * s_embd, GGML_TYPE_F16);
    for (long l = 0; l < n_layer; l++) {
        char name[64];
#define NAME(fmt) (snprintf(name, sizeof name, "blk.%ld." fmt, l), name)
        add_norm(&st, NAME("attn_norm.weight"), n_embd);
        add_matrix(&st, NAME("attn_q.weight"), n_embd, n_embd, 2.0f * s_embd, GGML_TYPE_F32);
        add_matrix(&st, NAME("attn_k.weight"), n_embd, n_embd, 2.0f * s_embd, GGML_TYPE_F32);
        add_matrix(&st, NAME("attn_v.weight"), n_embd, n_embd, s_embd, GGML_TYPE_F32);
        add_matrix(&st, NAME("attn_output.weight"), n_embd, n_embd, s_embd, GGML_TYPE_F32);
        add_norm(&st, NAME("ffn_norm.weight"), n_embd);
        add_matrix(&st, NAME("ffn_gate.weight"), n_embd, n_ff, s_embd, GGML_TYPE_F32);
        add_matrix(&st, NAME("ffn_up.weight"), n_embd, n_ff, s_embd, GGML_TYPE_F32);
        add_matrix(&st, NAME("ffn_down.weight"), n_ff, n_embd, s_ff, GGML_TYPE_F32);
#undef NAME
    }

    size_t olen = strlen(o->out);
    tmp = malloc(olen + 16);
    if (!tmp) {
        fprintf(stderr, "cachet-gen-gguf: out of memory\n");
        goto done;
    }
    memcpy(tmp, o->out, olen);
    memcpy(tmp + olen, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "cachet-gen-gguf: %s: %s\n", tmp, strerror(errno));
        free(tmp);
        tmp = NULL;
        goto done;
    }
    /* mkstemp made it 0600; an ordinary file's mode instead. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask)) {
        close(fd);
        fprintf(stderr, "cachet-gen-gguf: chmod %s: %s\n", tmp, strerror(errno));
        goto done;
    }
    f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        fprintf(stderr, "cachet-gen-gguf: fdopen: %s\n", strerror(errno));
        goto done;
    }
    if (!gguf_write_to_file_ptr(out, f, false) || fflush(f) || fsync(fileno(f))) {
        fprintf(stderr, "cachet-gen-gguf: writing %s failed\n", tmp);
        goto done;
    }
    if (fclose(f)) {
        f = NULL;
        fprintf(stderr, "cachet-gen-gguf: closing %s: %s\n", tmp, strerror(errno));
        goto done;
    }
    f = NULL;
    if (rename(tmp, o->out)) {
        fprintf(stderr, "cachet-gen-gguf: rename to %s: %s\n", o->out, strerror(errno));
        goto done;
    }
    free(tmp);
    tmp = NULL;
    rc = 0;
done:
    if (f)
        fclose(f);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    if (g)
        ggml_free(g);
    if (out)
        gguf_free(out);
    if (voc)
        gguf_free(voc);
    return rc;
}

int main(int argc, char **argv)
{
    gen_opts o;
    if (parse_args(argc, argv, &o))
        return 2;
    return write_model(&o);
}
