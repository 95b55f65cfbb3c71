/* Bounded reader: every read is bounds-checked and failure is sticky. */
#include "testutil.h"

#include "cachet/reader.h"

static const uint8_t buf[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x00, 0x00};

static void test_integers_le_be(void **state)
{
    (void)state;
    cachet_reader r;
    cachet_reader_init(&r, buf, sizeof buf);
    uint16_t a;
    uint32_t b;
    uint64_t c;
    assert_int_equal(cachet_read_u16le(&r, &a), CACHET_OK);
    assert_int_equal(a, 0x0201);
    assert_int_equal(cachet_read_u32be(&r, &b), CACHET_OK);
    assert_int_equal(b, 0x03040506);
    cachet_reader_init(&r, buf, sizeof buf);
    assert_int_equal(cachet_read_u64le(&r, &c), CACHET_OK);
    assert_true(c == 0x0807060504030201ULL);
    cachet_reader_init(&r, buf, sizeof buf);
    assert_int_equal(cachet_read_u64be(&r, &c), CACHET_OK);
    assert_true(c == 0x0102030405060708ULL);
    assert_int_equal(cachet_read_u24le(&r, &b), CACHET_OK);
    assert_int_equal(b, 0x000a09);
    assert_int_equal(cachet_reader_remaining(&r), 1);
}

static void test_truncation_is_sticky(void **state)
{
    (void)state;
    cachet_reader r;
    cachet_reader_init(&r, buf, 3);
    uint32_t v = 0xffffffff;
    assert_int_equal(cachet_rc_code(cachet_read_u32le(&r, &v)), CACHET_E_TRUNCATED);
    assert_int_equal(v, 0);
    /* A read that would fit now must still fail: the parse is already broken. */
    uint8_t b;
    assert_int_not_equal(cachet_read_u8(&r, &b), CACHET_OK);
    assert_int_not_equal(cachet_reader_status(&r), CACHET_OK);
    assert_int_equal(cachet_reader_remaining(&r), 0);
    assert_false(cachet_reader_done(&r));
}

static void test_huge_length_does_not_wrap(void **state)
{
    (void)state;
    cachet_reader r;
    cachet_reader_init(&r, buf, sizeof buf);
    uint8_t b;
    assert_int_equal(cachet_read_u8(&r, &b), CACHET_OK);
    const uint8_t *p = (const uint8_t *)1;
    /* off + SIZE_MAX would wrap; the reader must compare against what remains. */
    assert_int_not_equal(cachet_read_slice(&r, SIZE_MAX, &p), CACHET_OK);
    assert_null(p);
    cachet_reader_init(&r, buf, sizeof buf);
    assert_int_not_equal(cachet_read_skip(&r, sizeof buf + 1), CACHET_OK);
}

static void test_slices_point_into_input(void **state)
{
    (void)state;
    cachet_reader r, sub;
    cachet_reader_init(&r, buf, sizeof buf);
    const uint8_t *p;
    assert_int_equal(cachet_read_slice(&r, 4, &p), CACHET_OK);
    assert_ptr_equal(p, buf);
    assert_int_equal(cachet_read_sub(&r, 4, &sub), CACHET_OK);
    assert_int_equal(cachet_reader_remaining(&sub), 4);
    uint32_t v;
    assert_int_equal(cachet_read_u32le(&sub, &v), CACHET_OK);
    assert_int_equal(v, 0x08070605);
    assert_true(cachet_reader_done(&sub));
    assert_int_not_equal(cachet_read_u8(&sub, (uint8_t *)&v), CACHET_OK);
    /* The parent is unaffected by the child's failure. */
    assert_int_equal(cachet_reader_status(&r), CACHET_OK);
    uint8_t dst[2];
    assert_int_equal(cachet_read_copy(&r, dst, 2), CACHET_OK);
    assert_int_equal(dst[1], 0x0a);
    assert_int_equal(cachet_read_zeros(&r, 2), CACHET_OK);
    assert_true(cachet_reader_done(&r));
}

static void test_reserved_must_be_zero(void **state)
{
    (void)state;
    cachet_reader r;
    cachet_reader_init(&r, buf, sizeof buf);
    assert_int_equal(cachet_rc_code(cachet_read_zeros(&r, 2)), CACHET_E_FORMAT);
    cachet_reader_init(&r, NULL, 10);
    assert_int_equal(cachet_reader_remaining(&r), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers_le_be),
        cmocka_unit_test(test_truncation_is_sticky),
        cmocka_unit_test(test_huge_length_does_not_wrap),
        cmocka_unit_test(test_slices_point_into_input),
        cmocka_unit_test(test_reserved_must_be_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
