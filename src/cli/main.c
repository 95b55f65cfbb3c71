/* cachet: entry point and subcommand dispatch. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command *const commands[] = {
    &cli_cmd_attest,
    &cli_cmd_chat,
    &cli_cmd_get_resource,
    &cli_cmd_kbs,
    &cli_cmd_kbs_admin,
    &cli_cmd_kbs_client,
    &cli_cmd_policy,
    &cli_cmd_seal,
    &cli_cmd_serve,
    &cli_cmd_token,
    &cli_cmd_tpm_enroll,
    &cli_cmd_unseal,
    &cli_cmd_verify,
    &cli_cmd_version,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "cachet %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'cachet %s --help')\n", cmd);
    return CLI_EXIT_USAGE;
}

static void print_overview(FILE *out)
{
    fprintf(out,
            "usage: cachet <command> [options]\n\n"
            "Confidential computing for AI: verify attestation evidence, release keys\n"
            "only to attested workloads, and keep models sealed until they are in\n"
            "protected memory.\n\ncommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "  %-10s %s\n", "help", "show this list, or 'cachet help CMD' for one command");
}

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    /* tpm2-tss logs malformed input to stderr itself; our errors already say
     * what failed.  Set before any thread starts (setenv is not thread-safe). */
    setenv("TSS2_LOG", "all+NONE", 0);
    if (argc < 2) {
        print_overview(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc > 2 && strcmp(name, "help") == 0) {
            const cli_command *c = find_command(argv[2]);
            if (!c) {
                fprintf(stderr, "cachet: unknown command '%s'\n", argv[2]);
                return CLI_EXIT_USAGE;
            }
            c->usage(stdout);
            return CLI_EXIT_OK;
        }
        print_overview(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0)
        name = "version";
    const cli_command *c = find_command(name);
    if (!c) {
        fprintf(stderr, "cachet: unknown command '%s'\n\n", name);
        print_overview(stderr);
        return CLI_EXIT_USAGE;
    }
    if (cli_wants_help(argc - 1, argv + 1)) {
        c->usage(stdout);
        return CLI_EXIT_OK;
    }
    return c->run(argc - 1, argv + 1);
}
