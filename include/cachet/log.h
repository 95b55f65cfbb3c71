/* Diagnostics to stderr.  CACHET_LOG=debug|info|warn|error sets the level
 * (default warn).  Never log key material or plaintext. */
#ifndef CACHET_LOG_H
#define CACHET_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cachet_log_level {
    CACHET_LOG_DEBUG,
    CACHET_LOG_INFO,
    CACHET_LOG_WARN,
    CACHET_LOG_ERROR,
} cachet_log_level;

void cachet_log(cachet_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cachet_log_set_level(cachet_log_level level);
cachet_log_level cachet_log_get_level(void);

#ifdef __cplusplus
}
#endif
#endif
