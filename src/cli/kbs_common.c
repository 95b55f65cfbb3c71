/* KEK and trust-key loading for the kbs commands. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cachet/encoding.h"
#include "cachet/fileio.h"
#include "cachet/kbs.h"
#include "cachet/secmem.h"
#include "cli/cli.h"
#include "cli/kbs_common.h"

static bool same_dir(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX], da[PATH_MAX], db[PATH_MAX];
    snprintf(da, sizeof da, "%s", a);
    snprintf(db, sizeof db, "%s", b);
    if (!realpath(dirname(da), ra) || !realpath(dirname(db), rb))
        return false;
    return strcmp(ra, rb) == 0;
}

/* ~/.config/cachet/kbs.kek, created with a fresh random KEK when absent. */
static int default_kek_file(char *path, size_t cap)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char dir[4000];
    if (xdg && xdg[0])
        snprintf(dir, sizeof dir, "%s/cachet", xdg);
    else if (home && home[0])
        snprintf(dir, sizeof dir, "%s/.config/cachet", home);
    else
        return CLI_EXIT_FAIL;
    char parent[sizeof dir];
    snprintf(parent, sizeof parent, "%s", dir);
    mkdir(dirname(parent), 0700);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return CLI_EXIT_FAIL;
    if ((size_t)snprintf(path, cap, "%.4000s/kbs.kek", dir) >= cap)
        return CLI_EXIT_FAIL;
    struct stat st;
    if (stat(path, &st) == 0)
        return CLI_EXIT_OK;
    uint8_t k[CACHET_KBS_KEK_LEN];
    char hex[2 * CACHET_KBS_KEK_LEN + 2];
    if (cachet_random(k, sizeof k) != CACHET_OK)
        return CLI_EXIT_FAIL;
    cachet_hex_encode(k, sizeof k, hex);
    strcat(hex, "\n");
    cachet_rc rc = cachet_file_write_atomic(path, hex, strlen(hex), 0600);
    cachet_wipe(k, sizeof k);
    cachet_wipe(hex, sizeof hex);
    if (rc != CACHET_OK)
        return CLI_EXIT_FAIL;
    fprintf(stderr, "cachet kbs: created a new KEK in %s (keep it apart from the database)\n",
            path);
    return CLI_EXIT_OK;
}

int kbs_cli_load_kek(const kbs_cli_common *c, uint8_t kek[32])
{
    char def[PATH_MAX];
    const char *path = c->kek_file;
    if (!path && !getenv(CACHET_KBS_KEK_ENV)) {
        if (default_kek_file(def, sizeof def) != CLI_EXIT_OK) {
            fprintf(stderr, "cachet kbs: no KEK: give --kek-file or $" CACHET_KBS_KEK_ENV "\n");
            return CLI_EXIT_FAIL;
        }
        path = def;
    }
    if (path && c->db && same_dir(path, c->db)) {
        fprintf(stderr, "cachet kbs: the KEK file must not sit beside the database (%s)\n", path);
        return CLI_EXIT_FAIL;
    }
    if (cachet_kbs_kek_load(path, kek) != CACHET_OK) {
        fprintf(stderr, "cachet kbs: %s\n", cachet_err_detail());
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int kbs_cli_load_trust(const kbs_cli_common *c, cachet_pkey **keys)
{
    for (size_t i = 0; i < c->n_trust; i++) {
        uint8_t *b = NULL;
        size_t n = 0;
        if (cachet_file_read(c->trust_paths[i], 1 << 16, &b, &n) != CACHET_OK) {
            fprintf(stderr, "cachet kbs: cannot read %s\n", c->trust_paths[i]);
            return CLI_EXIT_FAIL;
        }
        cachet_rc rc = cachet_pkey_parse_public(b, n, &keys[i]);
        if (rc != CACHET_OK)
            rc = cachet_pkey_parse_private(b, n, &keys[i]);
        cachet_wipe(b, n);
        free(b);
        if (rc != CACHET_OK) {
            fprintf(stderr, "cachet kbs: %s: not a PEM key\n", c->trust_paths[i]);
            return CLI_EXIT_FAIL;
        }
    }
    return CLI_EXIT_OK;
}

int kbs_cli_load_admin(const char *const *paths, size_t n, cachet_pkey **keys)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = NULL;
        size_t len = 0;
        if (cachet_file_read(paths[i], 1 << 16, &b, &len) != CACHET_OK) {
            fprintf(stderr, "cachet kbs: cannot read %s\n", paths[i]);
            return CLI_EXIT_FAIL;
        }
        cachet_rc rc = cachet_ed25519_parse_public(b, len, &keys[i]);
        free(b);
        if (rc != CACHET_OK) {
            fprintf(stderr, "cachet kbs: %s: %s\n", paths[i], cachet_err_detail());
            return CLI_EXIT_FAIL;
        }
    }
    return CLI_EXIT_OK;
}

int kbs_cli_load_anchors(const char *const *paths, size_t n, cachet_x509 **out, size_t *n_out)
{
    *n_out = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = NULL;
        size_t len = 0;
        cachet_x509 **certs = NULL;
        size_t nc = 0;
        if (cachet_file_read(paths[i], 1 << 20, &b, &len) != CACHET_OK) {
            fprintf(stderr, "cachet kbs: cannot read %s\n", paths[i]);
            return CLI_EXIT_FAIL;
        }
        cachet_rc rc = cachet_x509_parse_all(b, len, &certs, &nc);
        free(b);
        if (rc != CACHET_OK || nc == 0 || *n_out + nc > KBS_CLI_MAX_ANCHORS) {
            fprintf(stderr, "cachet kbs: %s: %s\n", paths[i],
                    rc != CACHET_OK || nc == 0 ? "no certificate" : "too many trust anchors");
            cachet_x509_free_all(certs, nc);
            return CLI_EXIT_FAIL;
        }
        for (size_t j = 0; j < nc; j++)
            out[(*n_out)++] = cachet_x509_ref(certs[j]);
        cachet_x509_free_all(certs, nc);
    }
    return CLI_EXIT_OK;
}
