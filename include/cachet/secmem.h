/* Memory for secrets (keys) and plaintext models.
 *
 * cachet_secure_alloc() maps fresh pages that are excluded from core dumps
 * (MADV_DONTDUMP), not inherited by children (MADV_WIPEONFORK), locked in RAM
 * when RLIMIT_MEMLOCK allows, and wiped on free.  When the kernel offers
 * memfd_secret(2) and the caller asks for it, the pages are also removed from
 * the kernel's direct map.  Marking the process non-dumpable and disabling
 * core files is a separate, explicit step for processes that hold secrets. */
#ifndef CACHET_SECMEM_H
#define CACHET_SECMEM_H

#include <stdbool.h>
#include <stddef.h>

#include "cachet/rc.h"

#ifdef __cplusplus
extern "C" {
#endif

enum cachet_secure_flags {
    CACHET_SECURE_DEFAULT = 0,
    CACHET_SECURE_PREFER_SECRETMEM = 1 << 0, /* use memfd_secret when available */
    CACHET_SECURE_REQUIRE_LOCK = 1 << 1,     /* fail instead of running unlocked */
};

/* Zeroed, page-backed, dump-excluded memory; NULL on failure. */
void *cachet_secure_alloc(size_t len);
void *cachet_secure_alloc_flags(size_t len, unsigned flags);
/* Wipes and unmaps; p may be NULL. */
void cachet_secure_free(void *p);
/* What the allocation got (for diagnostics and tests). */
bool cachet_secure_is_locked(const void *p);
bool cachet_secure_is_secretmem(const void *p);
size_t cachet_secure_size(const void *p);

/* Wipe that the compiler cannot elide. */
void cachet_wipe(void *p, size_t len);
/* Constant-time equality (0 when equal, as CRYPTO_memcmp). */
int cachet_memeq_ct(const void *a, const void *b, size_t len);

/* memfd_secret(2) availability on this kernel (probed once). */
bool cachet_secretmem_available(void);

/* For processes that hold secrets: PR_SET_DUMPABLE 0 (no core, no ptrace by
 * non-root peers) and RLIMIT_CORE 0.  Idempotent. */
cachet_rc cachet_process_protect(void);

#ifdef __cplusplus
}
#endif
#endif
