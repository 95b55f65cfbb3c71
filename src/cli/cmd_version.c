/* cachet version */
#include <stdio.h>

#include <openssl/opensslv.h>

#include "cli/cli.h"

#ifndef CACHET_VERSION
#define CACHET_VERSION "unknown"
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: cachet version\n\nPrint cachet's version and the OpenSSL it was built with.\n");
}

static int run(int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return cli_usage_error("version", "takes no arguments");
    printf("cachet %s (%s)\n", CACHET_VERSION, OPENSSL_VERSION_TEXT);
    return CLI_EXIT_OK;
}

const cli_command cli_cmd_version = {"version", "print the version", run, usage};
