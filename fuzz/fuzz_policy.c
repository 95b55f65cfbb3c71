/* libFuzzer: the appraisal policy parser (an owner's file, but also what a
 * key broker's admin API accepts), then description and evaluation of any
 * policy it accepts against fixed CPU and GPU results.  Checks the
 * evaluator's promises: a decision to admit names a rule that admits, a
 * denial names none, every rule is reported. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cachet/appraisal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cachet_verify_result cpu, gpu;

static void init_results(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    json_error_t e;
    cpu.tee = "snp";
    cpu.status = CACHET_EV_WARNING;
    cpu.verified = true;
    cpu.claims = json_loads(
        "{\"measurement\":\"00ff\",\"debug\":false,\"freshness\":\"nonce-matched\","
        "\"tcb_status\":\"UpToDate\",\"host_data\":\"01\",\"rtmr1\":\"aa\",\"pcr00\":\"bb\","
        "\"reported_tcb\":{\"snp\":8,\"microcode\":115},\"policy\":{\"migrate_ma\":false},"
        "\"vmpl\":0,\"guest_svn\":2}",
        0, &e);
    gpu.tee = "nvgpu";
    gpu.status = CACHET_EV_AFFIRMING;
    gpu.verified = true;
    gpu.claims = json_loads("{\"gpus\":{\"gpu0\":{\"driver_version\":\"550.90.07\",\"vbios_version\":"
                            "\"96\",\"cc_mode\":\"on\",\"debug\":false,\"freshness\":"
                            "\"nonce-matched\",\"measurement\":\"ab\"}},\"debug\":false}",
                            0, &e);
    if (!cpu.claims || !gpu.claims)
        abort();
}

static void check(const cachet_policy *p, const cachet_appraisal *a)
{
    const json_t *j = cachet_appraisal_json(a);
    const json_t *rules = json_object_get(j, "rules");
    if (json_array_size(rules) != cachet_policy_rule_count(p))
        abort();
    const char *rule = cachet_appraisal_rule(a);
    if (cachet_appraisal_admitted(a) != (rule != NULL))
        abort();
    bool found = false;
    for (size_t i = 0; i < json_array_size(rules); i++) {
        const json_t *r = json_array_get(rules, i);
        if (rule && !found && strcmp(json_string_value(json_object_get(r, "name")), rule) == 0) {
            found = true;
            if (!json_is_true(json_object_get(r, "admits")))
                abort();
        }
        /* a rule admits exactly when none of its conditions failed */
        bool failed = false;
        const json_t *conds = json_object_get(r, "conditions");
        for (size_t k = 0; k < json_array_size(conds); k++)
            failed |= strcmp(json_string_value(json_object_get(json_array_get(conds, k),
                                                               "result")),
                             "fail") == 0;
        if (failed == json_is_true(json_object_get(r, "admits")))
            abort();
    }
    if (rule && !found)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_results();
    cachet_policy *p = NULL;
    if (cachet_policy_parse((const char *)data, size, &p) != CACHET_OK) {
        if (p)
            abort();
        return 0;
    }
    FILE *devnull = fopen("/dev/null", "w");
    if (devnull) {
        cachet_policy_describe(p, devnull);
        fclose(devnull);
    }
    const cachet_verify_result *devs[] = {&gpu};
    cachet_appraisal_input inputs[] = {
        {.primary = &cpu},
        {.primary = &cpu, .devices = devs, .n_devices = 1, .devices_bound = true},
        {.primary = &gpu},
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        cachet_appraisal *a = NULL;
        if (cachet_policy_appraise(p, &inputs[i], &a) != CACHET_OK)
            abort();
        check(p, a);
        cachet_appraisal_free(a);
    }
    cachet_policy_free(p);
    return 0;
}
