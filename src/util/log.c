/* Level-filtered logging to stderr, one write per line. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cachet/log.h"

static int level = -1;

static cachet_log_level level_from_env(void)
{
    const char *e = getenv("CACHET_LOG");
    if (e && strcmp(e, "debug") == 0)
        return CACHET_LOG_DEBUG;
    if (e && strcmp(e, "info") == 0)
        return CACHET_LOG_INFO;
    if (e && strcmp(e, "error") == 0)
        return CACHET_LOG_ERROR;
    return CACHET_LOG_WARN;
}

cachet_log_level cachet_log_get_level(void)
{
    if (level < 0)
        level = (int)level_from_env();
    return (cachet_log_level)level;
}

void cachet_log_set_level(cachet_log_level l) { level = (int)l; }

void cachet_log(cachet_log_level l, const char *fmt, ...)
{
    if (l < cachet_log_get_level())
        return;
    static const char *const names[] = {"debug", "info", "warn", "error"};
    char line[1024];
    int n = snprintf(line, sizeof line, "cachet[%s]: ", names[l]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
