/* File helpers: limits, atomic writes, error codes. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include "cachet/buffer.h"
#include "cachet/fileio.h"
#include "cachet/netaddr.h"

static void test_read_write_atomic(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    char *path = tu_asprintf("%s/f", dir);
    assert_int_equal(cachet_file_write_atomic(path, "hello", 5, 0600), CACHET_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    uint8_t *buf;
    size_t n;
    assert_int_equal(cachet_file_read(path, 100, &buf, &n), CACHET_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(buf[5], 0);
    free(buf);
    assert_int_equal(cachet_rc_code(cachet_file_read(path, 4, &buf, &n)), CACHET_E_LIMIT);
    assert_null(buf);
    char *missing = tu_asprintf("%s/none", dir);
    assert_int_equal(cachet_rc_code(cachet_file_read(missing, 4, &buf, &n)), CACHET_E_NOT_FOUND);
    assert_int_equal(cachet_rc_code(cachet_file_read(dir, 4, &buf, &n)), CACHET_E_IO);
    assert_non_null(strstr(cachet_err_detail(), "not a regular file"));
    char *nodir = tu_asprintf("%s/no/such/dir/f", dir);
    assert_int_equal(cachet_rc_code(cachet_file_write_atomic(nodir, "x", 1, 0600)), CACHET_E_IO);
    free(nodir);
    free(missing);
    free(path);
    tu_rmtree(dir);
    free(dir);
}

/* Run as root, a rename onto /dev/null would replace the device with a file. */
static void test_never_replaces_a_device(void **state)
{
    (void)state;
    assert_int_equal(cachet_rc_code(cachet_file_write_atomic("/dev/null", "x", 1, 0600)), CACHET_E_IO);
    assert_non_null(strstr(cachet_err_detail(), "not a regular file"));
    struct stat st;
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    assert_int_equal(cachet_rc_code(cachet_path_replaceable("/tmp")), CACHET_E_IO);
    assert_int_equal(cachet_path_replaceable("/nonexistent-cachet-path"), CACHET_OK);
}

/* Bounded growing buffers and listen addresses (small util helpers the
 * servers and clients share). */
static void test_buf_append_and_listen(void **state)
{
    (void)state;
    char *b = NULL;
    size_t n = 0;
    assert_int_equal(cachet_buf_append(&b, &n, "abc", 3, 5), CACHET_APPEND_OK);
    assert_string_equal(b, "abc");
    assert_int_equal(cachet_buf_append(&b, &n, "de", 2, 5), CACHET_APPEND_OK);
    assert_int_equal(cachet_buf_append(&b, &n, "f", 1, 5), CACHET_APPEND_LIMIT);
    assert_int_equal(n, 5);
    assert_string_equal(b, "abcde");
    assert_int_equal(cachet_buf_append(&b, &n, "", 0, 5), CACHET_APPEND_OK);
    free(b);

    struct sockaddr_in sa;
    assert_int_equal(cachet_listen_parse("127.0.0.1:8443", &sa), CACHET_OK);
    assert_int_equal(ntohs(sa.sin_port), 8443);
    assert_true(cachet_addr_is_loopback(&sa));
    assert_int_equal(cachet_listen_parse("localhost:0", &sa), CACHET_OK);
    assert_true(cachet_addr_is_loopback(&sa));
    assert_int_equal(cachet_listen_parse("0.0.0.0:1", &sa), CACHET_OK);
    assert_false(cachet_addr_is_loopback(&sa));
    assert_int_not_equal(cachet_listen_parse("127.0.0.1", &sa), CACHET_OK);
    assert_int_not_equal(cachet_listen_parse(":80", &sa), CACHET_OK);
    assert_int_not_equal(cachet_listen_parse("127.0.0.1:65536", &sa), CACHET_OK);
    assert_int_not_equal(cachet_listen_parse("127.0.0.1:8x", &sa), CACHET_OK);
    assert_int_not_equal(cachet_listen_parse("example.com:80", &sa), CACHET_OK);
    assert_int_not_equal(cachet_listen_parse(NULL, &sa), CACHET_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_write_atomic),
        cmocka_unit_test(test_never_replaces_a_device),
        cmocka_unit_test(test_buf_append_and_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
