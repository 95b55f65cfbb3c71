/* Hex helpers for the crypto tests (known-answer vectors are written in hex). */
#ifndef CACHET_TESTS_TC_HEX_H
#define CACHET_TESTS_TC_HEX_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline int tc_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Malloc'd bytes of an even-length hex string (at least 1 byte allocated). */
static inline uint8_t *tc_unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    assert_int_equal(n % 2, 0);
    uint8_t *b = malloc(n / 2 + 1);
    assert_non_null(b);
    for (size_t i = 0; i < n / 2; i++) {
        int hi = tc_nibble(hex[2 * i]), lo = tc_nibble(hex[2 * i + 1]);
        assert_true(hi >= 0 && lo >= 0);
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n / 2;
    return b;
}

/* Assert that buf equals the hex string. */
static inline void tc_assert_hex(const uint8_t *buf, size_t len, const char *hex)
{
    size_t n = 0;
    uint8_t *want = tc_unhex(hex, &n);
    assert_int_equal(len, n);
    assert_memory_equal(buf, want, n);
    free(want);
}

static inline void tc_fill_seq(uint8_t *b, size_t n, uint8_t start)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(start + i);
}

static inline int tc_all_zero(const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

#endif
