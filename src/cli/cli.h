/* The `cachet` command: git-style subcommands, one file each. */
#ifndef CACHET_CLI_H
#define CACHET_CLI_H

#include <stdio.h>

/* Exit codes shared by every subcommand (verify-contract.md). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,  /* the operation ran and said no (contraindicated, bad tag...) */
    CLI_EXIT_USAGE = 2, /* usage error or unreadable input */
};

typedef struct cli_command {
    const char *name;
    const char *summary;                 /* one line for `cachet help` */
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
    void (*usage)(FILE *out);            /* full help for `cachet CMD --help` */
} cli_command;

/* True when argv holds -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);
/* Print "cachet CMD: message" to stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern const cli_command cli_cmd_attest;
extern const cli_command cli_cmd_chat;
extern const cli_command cli_cmd_get_resource;
extern const cli_command cli_cmd_kbs;
extern const cli_command cli_cmd_kbs_admin;
extern const cli_command cli_cmd_kbs_client;
extern const cli_command cli_cmd_policy;
extern const cli_command cli_cmd_seal;
extern const cli_command cli_cmd_serve;
extern const cli_command cli_cmd_token;
extern const cli_command cli_cmd_tpm_enroll;
extern const cli_command cli_cmd_unseal;
extern const cli_command cli_cmd_verify;
extern const cli_command cli_cmd_version;

#endif
