/* cachet policy: work with appraisal policies (docs/policy.md).
 *
 *   cachet policy check FILE      validate, and say in words what it admits
 *
 * Exit: 0 valid, 1 valid but admits nothing, 2 invalid or unreadable. */
#include <stdio.h>
#include <string.h>

#include "cachet/appraisal.h"
#include "cli/cli.h"

#define CMD "policy"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cachet policy check FILE\n\n"
            "Validate an appraisal policy (docs/policy.md) and print what it admits, with a\n"
            "warning for every relaxation (sample evidence, warning status, optional\n"
            "freshness, any workload).  Unknown keys, wrong types and malformed values are\n"
            "errors that name the JSON path.\n\n"
            "exit status: 0 valid, 1 valid but it admits nothing, 2 invalid or unreadable\n");
}

static int check(const char *path)
{
    cachet_policy *p = NULL;
    if (cachet_policy_load(path, &p) != CACHET_OK) {
        fprintf(stderr, "cachet policy: %s: %s\n", path, cachet_err_detail());
        return CLI_EXIT_USAGE;
    }
    size_t warnings = cachet_policy_describe(p, stdout);
    size_t rules = cachet_policy_rule_count(p);
    cachet_policy_free(p);
    printf("%s: valid; %zu rule(s), %zu warning(s)\n", path, rules, warnings);
    return rules ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(CMD, "which subcommand? (check)");
    if (strcmp(argv[1], "check") == 0) {
        if (argc != 3)
            return cli_usage_error(CMD, "check takes exactly one FILE");
        return check(argv[2]);
    }
    return cli_usage_error(CMD, "unknown subcommand '%s' (check)", argv[1]);
}

const cli_command cli_cmd_policy = { "policy", "validate an appraisal policy and say what it "
                                               "admits", run, usage };
