/* Endorsement sets: files and directories given next to the evidence,
 * classified by content (certificates, CRL, JSON, XML, other), never by name.
 * Nothing here trusts anything: a certificate loaded here is an untrusted
 * intermediate for whichever family looks at it. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cachet/evidence.h"
#include "cachet/fileio.h"

#define EV_RC(code) CACHET_RC(CACHET_SUB_EVIDENCE, code)
#define MAX_ENDORSEMENTS 4096

struct cachet_endorsements {
    cachet_endorsement *items;
    size_t n, cap;
};

const char *cachet_endorsement_kind_str(cachet_endorsement_kind k)
{
    switch (k) {
    case CACHET_ENDORSEMENT_CERTS: return "certificates";
    case CACHET_ENDORSEMENT_CRL: return "CRL";
    case CACHET_ENDORSEMENT_JSON: return "JSON";
    case CACHET_ENDORSEMENT_XML: return "XML";
    case CACHET_ENDORSEMENT_OTHER: return "other";
    }
    return "other";
}

cachet_endorsements *cachet_endorsements_new(void) { return calloc(1, sizeof(cachet_endorsements)); }

static void item_clear(cachet_endorsement *it)
{
    free(it->name);
    free(it->data);
    cachet_x509_free_all(it->certs, it->n_certs);
    cachet_crl_free(it->crl);
    json_decref(it->json);
    memset(it, 0, sizeof *it);
}

void cachet_endorsements_free(cachet_endorsements *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->n; i++)
        item_clear(&e->items[i]);
    free(e->items);
    free(e);
}

size_t cachet_endorsements_count(const cachet_endorsements *e) { return e ? e->n : 0; }

const cachet_endorsement *cachet_endorsements_get(const cachet_endorsements *e, size_t i)
{
    return e && i < e->n ? &e->items[i] : NULL;
}

/* ---- classification ------------------------------------------------------ */

static const uint8_t *skip_space(const uint8_t *p, const uint8_t *end)
{
    /* A UTF-8 byte-order mark, then ASCII white space. */
    if (end - p >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        p += 3;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static bool contains(const uint8_t *buf, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0 || len < n)
        return false;
    for (size_t i = 0; i + n <= len; i++)
        if (buf[i] == (uint8_t)needle[0] && memcmp(buf + i, needle, n) == 0)
            return true;
    return false;
}

static void classify(cachet_endorsement *it)
{
    const uint8_t *p = it->data, *end = it->data + it->len;
    const uint8_t *s = skip_space(p, end);

    it->kind = CACHET_ENDORSEMENT_OTHER;
    if (it->len == 0) {
        it->why = "empty file";
        return;
    }
    /* JSON first: Intel's combined collateral carries PEM chains as strings. */
    if (s < end && (*s == '{' || *s == '[')) {
        json_error_t jerr;
        it->json = json_loadb((const char *)p, it->len, JSON_REJECT_DUPLICATES, &jerr);
        if (it->json) {
            it->kind = CACHET_ENDORSEMENT_JSON;
            return;
        }
        it->why = "JSON that does not parse (or repeats a key)";
        return;
    }
    if (contains(p, it->len, "-----BEGIN CERTIFICATE-----")) {
        if (cachet_x509_parse_all(p, it->len, &it->certs, &it->n_certs) == CACHET_OK) {
            it->kind = CACHET_ENDORSEMENT_CERTS;
            return;
        }
        it->certs = NULL;
        it->n_certs = 0;
        it->why = "PEM certificate block that does not parse";
        return;
    }
    if (contains(p, it->len, "-----BEGIN X509 CRL-----")) {
        if (cachet_crl_parse(p, it->len, &it->crl) == CACHET_OK) {
            it->kind = CACHET_ENDORSEMENT_CRL;
            return;
        }
        it->crl = NULL;
        it->why = "PEM CRL block that does not parse";
        return;
    }
    if (p[0] == 0x30) { /* DER SEQUENCE: a certificate or a CRL */
        if (cachet_x509_parse_all(p, it->len, &it->certs, &it->n_certs) == CACHET_OK) {
            it->kind = CACHET_ENDORSEMENT_CERTS;
            return;
        }
        it->certs = NULL;
        it->n_certs = 0;
        if (cachet_crl_parse(p, it->len, &it->crl) == CACHET_OK) {
            it->kind = CACHET_ENDORSEMENT_CRL;
            return;
        }
        it->crl = NULL;
        it->why = "DER that is neither a certificate nor a CRL";
        return;
    }
    if (s < end && *s == '<') {
        it->kind = CACHET_ENDORSEMENT_XML;
        return;
    }
    it->why = "not a certificate, CRL, JSON or XML document";
}

static cachet_rc add_owned(cachet_endorsements *e, const char *name, uint8_t *data, size_t len)
{
    if (e->n >= MAX_ENDORSEMENTS) {
        free(data);
        return cachet_err(EV_RC(CACHET_E_LIMIT), "more than %d endorsement files",
                          MAX_ENDORSEMENTS);
    }
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        cachet_endorsement *items = realloc(e->items, cap * sizeof *items);
        if (!items) {
            free(data);
            return cachet_err(EV_RC(CACHET_E_NOMEM), "endorsements: out of memory");
        }
        e->items = items;
        e->cap = cap;
    }
    cachet_endorsement *it = &e->items[e->n];
    memset(it, 0, sizeof *it);
    it->name = strdup(name ? name : "(bytes)");
    if (!it->name) {
        free(data);
        return cachet_err(EV_RC(CACHET_E_NOMEM), "endorsements: out of memory");
    }
    it->data = data;
    it->len = len;
    classify(it);
    e->n++;
    return CACHET_OK;
}

cachet_rc cachet_endorsements_add_bytes(cachet_endorsements *e, const char *name,
                                        const void *data, size_t len)
{
    if (!e || (!data && len))
        return cachet_err(EV_RC(CACHET_E_INVALID_ARG), "endorsements: bad arguments");
    uint8_t *copy = malloc(len + 1);
    if (!copy)
        return cachet_err(EV_RC(CACHET_E_NOMEM), "endorsements: out of memory");
    if (len)
        memcpy(copy, data, len);
    copy[len] = 0;
    return add_owned(e, name, copy, len);
}

static cachet_rc add_file(cachet_endorsements *e, const char *path)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    cachet_rc rc = cachet_file_read(path, CACHET_EVIDENCE_MAX_FILE, &buf, &len);
    if (rc != CACHET_OK)
        return cachet_err(EV_RC(CACHET_E_IO), "cannot read endorsement %s: %s", path,
                          cachet_err_detail());
    return add_owned(e, path, buf, len);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static cachet_rc add_dir(cachet_endorsements *e, const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return cachet_err(EV_RC(CACHET_E_IO), "cannot open directory %s: %s", path,
                          strerror(errno));
    char **names = NULL;
    size_t n = 0, cap = 0;
    cachet_rc rc = CACHET_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' &&
            (de->d_name[1] == 0 || (de->d_name[1] == '.' && de->d_name[2] == 0)))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn) {
                rc = cachet_err(EV_RC(CACHET_E_NOMEM), "endorsements: out of memory");
                goto out;
            }
            names = nn;
            cap = ncap;
        }
        size_t plen = strlen(path);
        while (plen > 1 && path[plen - 1] == '/')
            plen--; /* "dir/" names files "dir/x", not "dir//x" */
        if (asprintf(&names[n], "%.*s/%s", (int)plen, path, de->d_name) < 0) {
            rc = cachet_err(EV_RC(CACHET_E_NOMEM), "endorsements: out of memory");
            goto out;
        }
        n++;
    }
    if (n)
        qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n && rc == CACHET_OK; i++) {
        struct stat st;
        /* Only regular files directly in the directory (no recursion). */
        if (stat(names[i], &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        rc = add_file(e, names[i]);
    }
out:
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}

cachet_rc cachet_endorsements_add_path(cachet_endorsements *e, const char *path)
{
    if (!e || !path)
        return cachet_err(EV_RC(CACHET_E_INVALID_ARG), "endorsements: bad arguments");
    struct stat st;
    if (stat(path, &st) != 0)
        return cachet_err(EV_RC(errno == ENOENT ? CACHET_E_NOT_FOUND : CACHET_E_IO),
                          "cannot read endorsement %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return add_dir(e, path);
    return add_file(e, path);
}
