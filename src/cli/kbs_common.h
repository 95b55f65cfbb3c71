/* Shared by cmd_kbs.c and cmd_kbs_admin.c. */
#ifndef CACHET_CLI_KBS_COMMON_H
#define CACHET_CLI_KBS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "cachet/crypto.h"

#define KBS_CLI_MAX_TRUST 8

typedef struct kbs_cli_common {
    const char *db, *kek_file;
    const char *trust_paths[KBS_CLI_MAX_TRUST];
    size_t n_trust;
} kbs_cli_common;

/* The KEK: --kek-file, else $CACHET_KBS_KEK, else ~/.config/cachet/kbs.kek
 * (created 0600), refusing a KEK file in the database's directory.
 * Prints the error; returns CLI_EXIT_OK or CLI_EXIT_FAIL. */
int kbs_cli_load_kek(const kbs_cli_common *c, uint8_t kek[32]);
/* Public (or private) PEM keys sample evidence is signed with. */
int kbs_cli_load_trust(const kbs_cli_common *c, cachet_pkey **keys);

/* Certificate trust anchors (every certificate of each PEM file, at most
 * KBS_CLI_MAX_ANCHORS in all). */
#define KBS_CLI_MAX_ANCHORS 32
int kbs_cli_load_anchors(const char *const *paths, size_t n, cachet_x509 **out, size_t *n_out);

/* Ed25519 public keys for the admin API. */
int kbs_cli_load_admin(const char *const *paths, size_t n, cachet_pkey **keys);

#endif
