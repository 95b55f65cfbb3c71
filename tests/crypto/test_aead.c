/* AES-256-GCM: McGrew-Viega test cases 13, 14, 16 (the GCM submission's
 * AES-256 vectors, 16 with AAD), tamper detection with wiped output,
 * in-place use, context reuse, the incremental (begin/update/finish) API
 * against the one-shot calls, and a throughput report. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cachet/crypto.h"
#include "cachet/reader.h"
#include "tc_hex.h"

static void gcm_kat(const char *k, const char *iv, const char *aad, const char *p,
                    const char *c, const char *t)
{
    size_t kl, ivl, al, pl, cl, tl;
    uint8_t *K = tc_unhex(k, &kl), *IV = tc_unhex(iv, &ivl), *A = tc_unhex(aad, &al);
    uint8_t *P = tc_unhex(p, &pl), *C = tc_unhex(c, &cl), *T = tc_unhex(t, &tl);
    assert_int_equal(kl, 32);
    assert_int_equal(ivl, 12);
    assert_int_equal(tl, 16);
    uint8_t *out = malloc(pl + 1), tag[16];
    cachet_aead *a = cachet_aead_new(K);
    assert_non_null(a);
    assert_int_equal(cachet_aead_seal(a, IV, al ? A : NULL, al, P, pl, out, tag), CACHET_OK);
    assert_memory_equal(out, C, cl);
    assert_memory_equal(tag, T, 16);
    memset(out, 0xa5, pl + 1);
    assert_int_equal(cachet_aead_open(a, IV, al ? A : NULL, al, C, cl, out, T), CACHET_OK);
    assert_memory_equal(out, P, pl);
    cachet_aead_free(a);
    free(K); free(IV); free(A); free(P); free(C); free(T); free(out);
}

static void test_gcm_kat(void **state)
{
    (void)state;
    const char *zk = "0000000000000000000000000000000000000000000000000000000000000000";
    const char *ziv = "000000000000000000000000";
    /* Test case 13: empty everything. */
    gcm_kat(zk, ziv, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b");
    /* Test case 14: one zero block. */
    gcm_kat(zk, ziv, "", "00000000000000000000000000000000", "cea7403d4d606b6e074ec5d3baf39d18",
            "d0d1c8a799996bf0265b98b5d48ab919");
    /* Test case 16: AAD and a partial final block. */
    gcm_kat("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
            "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
            "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            "76fc6ece0f4e1768cddf8853bb2d551b");
}

struct msg {
    uint8_t key[32], iv[12], aad[20], pt[300], ct[300], tag[16];
};

static void make_msg(struct msg *m, cachet_aead **a)
{
    tc_fill_seq(m->key, 32, 1);
    tc_fill_seq(m->iv, 12, 50);
    tc_fill_seq(m->aad, 20, 90);
    tc_fill_seq(m->pt, 300, 3);
    *a = cachet_aead_new(m->key);
    assert_non_null(*a);
    assert_int_equal(cachet_aead_seal(*a, m->iv, m->aad, 20, m->pt, 300, m->ct, m->tag),
                     CACHET_OK);
}

/* Open with one field changed: must fail with CACHET_E_AUTH and leave
 * nothing of the plaintext in out. */
static void expect_auth_fail(cachet_aead *a, const uint8_t *iv, const uint8_t *aad, size_t aadlen,
                             const uint8_t *ct, size_t len, const uint8_t *tag)
{
    uint8_t out[300];
    memset(out, 0x5a, sizeof out);
    cachet_rc rc = cachet_aead_open(a, iv, aad, aadlen, ct, len, out, tag);
    assert_int_equal(cachet_rc_subsys(rc), CACHET_SUB_CRYPTO);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_AUTH);
    assert_true(tc_all_zero(out, len));
    assert_true(strstr(cachet_err_detail(), "tag") != NULL);
}

static void test_gcm_tamper(void **state)
{
    (void)state;
    struct msg m;
    cachet_aead *a;
    make_msg(&m, &a);
    for (size_t bit = 0; bit < 8; bit += 7) {
        uint8_t x[300];
        memcpy(x, m.tag, 16);
        x[15] ^= (uint8_t)(1u << bit);
        expect_auth_fail(a, m.iv, m.aad, 20, m.ct, 300, x);
        memcpy(x, m.ct, 300);
        x[150] ^= (uint8_t)(1u << bit);
        expect_auth_fail(a, m.iv, m.aad, 20, x, 300, m.tag);
        memcpy(x, m.aad, 20);
        x[0] ^= (uint8_t)(1u << bit);
        expect_auth_fail(a, m.iv, x, 20, m.ct, 300, m.tag);
        memcpy(x, m.iv, 12);
        x[11] ^= (uint8_t)(1u << bit);
        expect_auth_fail(a, x, m.aad, 20, m.ct, 300, m.tag);
    }
    /* Dropped AAD, truncated ciphertext, and a wrong key also fail. */
    expect_auth_fail(a, m.iv, NULL, 0, m.ct, 300, m.tag);
    expect_auth_fail(a, m.iv, m.aad, 20, m.ct, 299, m.tag);
    uint8_t k2[32];
    tc_fill_seq(k2, 32, 2);
    cachet_aead *b = cachet_aead_new(k2);
    expect_auth_fail(b, m.iv, m.aad, 20, m.ct, 300, m.tag);
    cachet_aead_free(b);

    /* A failure does not poison the context: the genuine message opens. */
    uint8_t out[300];
    assert_int_equal(cachet_aead_open(a, m.iv, m.aad, 20, m.ct, 300, out, m.tag), CACHET_OK);
    assert_memory_equal(out, m.pt, 300);
    cachet_aead_free(a);
}

static void test_gcm_inplace_and_reuse(void **state)
{
    (void)state;
    struct msg m;
    cachet_aead *a;
    make_msg(&m, &a);
    uint8_t buf[300], tag[16];
    for (int round = 0; round < 3; round++) {
        memcpy(buf, m.pt, 300);
        assert_int_equal(cachet_aead_seal(a, m.iv, m.aad, 20, buf, 300, buf, tag), CACHET_OK);
        assert_memory_equal(buf, m.ct, 300);
        assert_memory_equal(tag, m.tag, 16);
        assert_int_equal(cachet_aead_open(a, m.iv, m.aad, 20, buf, 300, buf, tag), CACHET_OK);
        assert_memory_equal(buf, m.pt, 300);
    }
    /* A different IV on the same context gives a different ciphertext. */
    uint8_t iv2[12];
    memcpy(iv2, m.iv, 12);
    iv2[0] ^= 1;
    assert_int_equal(cachet_aead_seal(a, iv2, m.aad, 20, m.pt, 300, buf, tag), CACHET_OK);
    assert_memory_not_equal(buf, m.ct, 300);
    /* Bad arguments. */
    assert_int_equal(cachet_rc_code(cachet_aead_seal(a, m.iv, NULL, 5, m.pt, 300, buf, tag)),
                     CACHET_E_INVALID_ARG);
    assert_int_equal(cachet_rc_code(cachet_aead_open(NULL, m.iv, NULL, 0, m.pt, 300, buf, tag)),
                     CACHET_E_INVALID_ARG);
    assert_null(cachet_aead_new(NULL));
    cachet_aead_free(a);
    cachet_aead_free(NULL);
}

/* Not a pass/fail benchmark (shared machines vary); prints GB/s so a
 * regression to per-message rekeying is visible. */
/* Split patterns for the incremental API: piece lengths, cycled until the
 * message is used up (0 = an empty update). */
struct split {
    size_t n[6], count;
};
static const struct split splits[] = {
    {{5000}, 1},                 /* all at once */
    {{1}, 1},                    /* byte by byte */
    {{16}, 1},                   /* block aligned */
    {{0, 7, 0, 33, 100, 0}, 6},  /* odd sizes and empty updates */
    {{4096, 15, 17}, 3},         /* a page, then straddling blocks */
    {{4999, 1}, 2},
};

/* Feed len bytes of in through update in the given pattern. */
static void feed(cachet_aead *a, bool enc, const struct split *pat, const uint8_t *in, size_t len,
                 uint8_t *out)
{
    for (size_t done = 0, k = 0; done < len; k++) {
        size_t n = pat->n[k % pat->count];
        if (n > len - done)
            n = len - done;
        cachet_rc rc = enc ? cachet_aead_seal_update(a, in + done, n, out + done)
                           : cachet_aead_open_update(a, in + done, n, out + done);
        assert_int_equal(rc, CACHET_OK);
        done += n;
    }
}

static void test_gcm_incremental(void **state)
{
    (void)state;
    enum { LEN = 5000 };
    uint8_t key[32], iv[12], aad[45], *pt = malloc(LEN), *ct = malloc(LEN), *got = malloc(LEN);
    uint8_t tag[16], tag2[16];
    assert_non_null(pt);
    assert_non_null(ct);
    assert_non_null(got);
    tc_fill_seq(key, 32, 7);
    tc_fill_seq(iv, 12, 70);
    tc_fill_seq(aad, sizeof aad, 140);
    tc_fill_seq(pt, LEN, 9);
    cachet_aead *a = cachet_aead_new(key);
    assert_non_null(a);
    const size_t lens[] = {0, 1, 16, 300, LEN};
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        const size_t len = lens[l];
        assert_int_equal(cachet_aead_seal(a, iv, aad, sizeof aad, pt, len, ct, tag), CACHET_OK);
        for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++) {
            /* Seal in pieces: the same ciphertext and tag as one shot. */
            memset(got, 0, LEN);
            assert_int_equal(cachet_aead_seal_begin(a, iv, aad, sizeof aad), CACHET_OK);
            feed(a, true, &splits[s], pt, len, got);
            assert_int_equal(cachet_aead_seal_finish(a, tag2), CACHET_OK);
            assert_memory_equal(got, ct, len);
            assert_memory_equal(tag2, tag, 16);
            /* Open in pieces, in place. */
            memcpy(got, ct, len);
            assert_int_equal(cachet_aead_open_begin(a, iv, aad, sizeof aad), CACHET_OK);
            feed(a, false, &splits[s], got, len, got);
            assert_int_equal(cachet_aead_open_finish(a, tag), CACHET_OK);
            assert_memory_equal(got, pt, len);
        }
    }
    cachet_aead_free(a);
    free(pt);
    free(ct);
    free(got);
}

static void expect_incremental_auth_fail(cachet_aead *a, const uint8_t *iv, const uint8_t *aad,
                                         size_t aadlen, const uint8_t *ct, size_t len,
                                         const uint8_t *tag)
{
    uint8_t out[300];
    assert_int_equal(cachet_aead_open_begin(a, iv, aad, aadlen), CACHET_OK);
    assert_int_equal(cachet_aead_open_update(a, ct, len / 3, out), CACHET_OK);
    assert_int_equal(cachet_aead_open_update(a, ct + len / 3, len - len / 3, out + len / 3),
                     CACHET_OK);
    cachet_rc rc = cachet_aead_open_finish(a, tag);
    assert_int_equal(cachet_rc_subsys(rc), CACHET_SUB_CRYPTO);
    assert_int_equal(cachet_rc_code(rc), CACHET_E_AUTH);
}

static void test_gcm_incremental_tamper(void **state)
{
    (void)state;
    struct msg m;
    cachet_aead *a;
    make_msg(&m, &a);
    uint8_t bad[300], t[16], iv[12], aad[20];
    memcpy(bad, m.ct, 300);
    bad[299] ^= 0x01;
    expect_incremental_auth_fail(a, m.iv, m.aad, 20, bad, 300, m.tag);
    memcpy(t, m.tag, 16);
    t[0] ^= 0x80;
    expect_incremental_auth_fail(a, m.iv, m.aad, 20, m.ct, 300, t);
    memcpy(iv, m.iv, 12);
    iv[11] ^= 1;
    expect_incremental_auth_fail(a, iv, m.aad, 20, m.ct, 300, m.tag);
    memcpy(aad, m.aad, 20);
    aad[0] ^= 1;
    expect_incremental_auth_fail(a, m.iv, aad, 20, m.ct, 300, m.tag);
    expect_incremental_auth_fail(a, m.iv, m.aad, 20, m.ct, 299, m.tag); /* truncated */
    /* The context is still good afterwards. */
    uint8_t out[300];
    assert_int_equal(cachet_aead_open_begin(a, m.iv, m.aad, 20), CACHET_OK);
    assert_int_equal(cachet_aead_open_update(a, m.ct, 300, out), CACHET_OK);
    assert_int_equal(cachet_aead_open_finish(a, m.tag), CACHET_OK);
    assert_memory_equal(out, m.pt, 300);
    cachet_aead_free(a);
}

static void test_gcm_incremental_state(void **state)
{
    (void)state;
    struct msg m;
    cachet_aead *a;
    make_msg(&m, &a);
    uint8_t out[300], tag[16];
    /* Update or finish without begin; finish twice. */
    assert_int_equal(cachet_rc_code(cachet_aead_open_update(a, m.ct, 300, out)), CACHET_E_STATE);
    assert_int_equal(cachet_rc_code(cachet_aead_open_finish(a, m.tag)), CACHET_E_STATE);
    assert_int_equal(cachet_rc_code(cachet_aead_seal_update(a, m.pt, 300, out)), CACHET_E_STATE);
    assert_int_equal(cachet_rc_code(cachet_aead_seal_finish(a, tag)), CACHET_E_STATE);
    assert_int_equal(cachet_aead_seal_begin(a, m.iv, m.aad, 20), CACHET_OK);
    assert_int_equal(cachet_aead_seal_finish(a, tag), CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_aead_seal_finish(a, tag)), CACHET_E_STATE);
    /* A one-shot call abandons an unfinished message; encrypt and decrypt
     * messages are independent. */
    assert_int_equal(cachet_aead_open_begin(a, m.iv, m.aad, 20), CACHET_OK);
    assert_int_equal(cachet_aead_seal_begin(a, m.iv, m.aad, 20), CACHET_OK);
    assert_int_equal(cachet_aead_open_update(a, m.ct, 300, out), CACHET_OK);
    assert_int_equal(cachet_aead_seal_update(a, m.pt, 300, out), CACHET_OK);
    assert_int_equal(cachet_aead_seal_finish(a, tag), CACHET_OK);
    assert_memory_equal(tag, m.tag, 16);
    assert_int_equal(cachet_aead_open(a, m.iv, m.aad, 20, m.ct, 300, out, m.tag), CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_aead_open_finish(a, m.tag)), CACHET_E_STATE);
    /* NULL arguments. */
    assert_int_equal(cachet_rc_code(cachet_aead_open_begin(NULL, m.iv, NULL, 0)),
                     CACHET_E_INVALID_ARG);
    assert_int_equal(cachet_rc_code(cachet_aead_open_begin(a, m.iv, NULL, 5)),
                     CACHET_E_INVALID_ARG);
    assert_int_equal(cachet_aead_open_begin(a, m.iv, NULL, 0), CACHET_OK);
    assert_int_equal(cachet_rc_code(cachet_aead_open_update(a, NULL, 5, out)),
                     CACHET_E_INVALID_ARG);
    /* ...which ended the message. */
    assert_int_equal(cachet_rc_code(cachet_aead_open_finish(a, m.tag)), CACHET_E_STATE);
    cachet_aead_free(a);
}

static void test_gcm_throughput(void **state)
{
    (void)state;
    const size_t chunk = 1 << 20, n = 64;
    uint8_t *buf = calloc(1, chunk), key[32] = {9}, iv[12] = {0}, tag[16];
    assert_non_null(buf);
    cachet_aead *a = cachet_aead_new(key);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (size_t i = 0; i < n; i++) {
        cachet_put_le64(iv, i);
        assert_int_equal(cachet_aead_seal(a, iv, iv, 12, buf, chunk, buf, tag), CACHET_OK);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("# aes-256-gcm seal: %.2f GB/s (%zu x %zu KiB)\n",
                  (double)(chunk * n) / s / 1e9, n, chunk >> 10);
    cachet_aead_free(a);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gcm_kat),
        cmocka_unit_test(test_gcm_tamper),
        cmocka_unit_test(test_gcm_inplace_and_reuse),
        cmocka_unit_test(test_gcm_incremental),
        cmocka_unit_test(test_gcm_incremental_tamper),
        cmocka_unit_test(test_gcm_incremental_state),
        cmocka_unit_test(test_gcm_throughput),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
