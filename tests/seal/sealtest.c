#include "sealtest.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

cachet_seal_key *st_key(uint8_t seed)
{
    uint8_t raw[CACHET_SEAL_KEY_LEN];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(seed * 31u + i * 7u + 1u);
    cachet_seal_key *k = NULL;
    assert_seal_ok(cachet_seal_key_from_bytes(raw, sizeof raw, &k));
    return k;
}

uint8_t *st_pattern(size_t len, uint32_t seed)
{
    uint8_t *p = malloc(len ? len : 1);
    assert_non_null(p);
    uint64_t x = 0x9e3779b97f4a7c15ull ^ seed;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
    return p;
}

char *st_seal_buffer(const char *dir, const char *name, const uint8_t *data, size_t len,
                     const cachet_seal_key *key, uint32_t chunk, unsigned threads,
                     uint8_t digest[CACHET_SEAL_DIGEST_LEN])
{
    char *in = tu_asprintf("%s/%s", dir, name);
    char *out = tu_asprintf("%s/%s.sealed", dir, name);
    tu_write_file(in, data, len);
    cachet_seal_params p = {.chunk_size = chunk, .threads = threads,
                            .key_id = "default/model-key/test", .media_type = "application/octet-stream",
                            .metadata = "{\"name\":\"test\"}", .metadata_len = 15};
    assert_seal_ok(cachet_seal_file(key, &p, in, out, digest));
    free(in);
    return out;
}

int st_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

bool st_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

void st_flip_bit(const char *path, uint64_t offset, unsigned bit)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, (off_t)offset), 1);
    b ^= (uint8_t)(1u << bit);
    assert_int_equal(pwrite(fd, &b, 1, (off_t)offset), 1);
    close(fd);
}

void st_read_header(const char *path, cachet_seal_header *h, uint8_t **bytes, size_t *len)
{
    *bytes = tu_read_file(path, len);
    assert_seal_ok(cachet_seal_header_parse(*bytes, *len, h));
}
