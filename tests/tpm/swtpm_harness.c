/* swtpm for tests: see swtpm_harness.h. */
#include "swtpm_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHILDREN 8

static pid_t children[MAX_CHILDREN];
static bool atexit_set;

static void kill_all(void)
{
    for (size_t i = 0; i < MAX_CHILDREN; i++)
        if (children[i] > 0) {
            kill(children[i], SIGKILL);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
}

static void remember(pid_t p)
{
    if (!atexit_set) {
        atexit(kill_all);
        atexit_set = true;
    }
    for (size_t i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == 0) {
            children[i] = p;
            return;
        }
}

static void forget(pid_t p)
{
    for (size_t i = 0; i < MAX_CHILDREN; i++)
        if (children[i] == p)
            children[i] = 0;
}

/* The full path of prog in $PATH into buf, or false. */
static bool which(const char *prog, char *buf, size_t cap)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(buf, cap, "%.*s/%s", (int)n, p, prog);
        if (access(buf, X_OK) == 0)
            return true;
        p += n + (e ? 1 : 0);
    }
    return false;
}

static bool in_path(const char *prog)
{
    char buf[4096];
    return which(prog, buf, sizeof buf);
}

const char *swtpm_missing(void)
{
    static const char *const progs[] = { "swtpm", "swtpm_setup", "swtpm_localca" };
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++)
        if (!in_path(progs[i]))
            return progs[i];
    return NULL;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int bad = fputs(text, f) < 0;
    return (fclose(f) != 0 || bad) ? -1 : 0;
}

char *swtpm_ca_config(const char *ca_dir)
{
    char *conf = NULL, *opts = NULL, *setup = NULL, *text = NULL;
    if (asprintf(&conf, "%s/localca.conf", ca_dir) < 0 ||
        asprintf(&opts, "%s/localca.options", ca_dir) < 0 ||
        asprintf(&setup, "%s/swtpm_setup.conf", ca_dir) < 0)
        goto bad;
    /* swtpm_localca: where its keys, certificates and serial live. */
    if (asprintf(&text, "statedir = %s\nsigningkey = %s/signkey.pem\nissuercert = %s/issuercert.pem\n"
                        "certserial = %s/certserial\n", ca_dir, ca_dir, ca_dir, ca_dir) < 0 ||
        write_file(conf, text) != 0)
        goto bad;
    free(text);
    text = NULL;
    if (write_file(opts, "--platform-manufacturer cachet\n--platform-version 2.1\n"
                         "--platform-model swtpm\n") != 0)
        goto bad;
    char tool[4096];
    if (!which("swtpm_localca", tool, sizeof tool))
        goto bad;
    if (asprintf(&text, "create_certs_tool = %s\ncreate_certs_tool_config = %s\n"
                        "create_certs_tool_options = %s\nactive_pcr_banks = sha256\n",
                 tool, conf, opts) < 0 ||
        write_file(setup, text) != 0)
        goto bad;
    free(text);
    free(conf);
    free(opts);
    return setup;
bad:
    free(text);
    free(conf);
    free(opts);
    free(setup);
    return NULL;
}

/* fork + exec with the child tied to our life; output to log (or /dev/null). */
static pid_t spawn(char *const argv[], const char *log)
{
    pid_t p = fork();
    if (p < 0)
        return -1;
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log ? log : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    remember(p);
    return p;
}

int swtpm_manufacture(const char *state_dir, const char *setup_conf)
{
    char log[4096];
    snprintf(log, sizeof log, "%s.setup.log", state_dir);
    char *const argv[] = { "swtpm_setup", "--tpm2", "--tpmstate", (char *)state_dir,
                           "--create-ek-cert", "--create-platform-cert", "--config",
                           (char *)setup_conf, "--overwrite", NULL };
    pid_t p = spawn(argv, log);
    if (p < 0)
        return -1;
    int st = 0;
    pid_t w = waitpid(p, &st, 0);
    forget(p);
    if (w != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "swtpm_setup failed; see %s\n", log);
        return -1;
    }
    return 0;
}

/* Two free consecutive loopback ports (server, control). */
static int free_ports(void)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof a;
        if (s < 0)
            return -1;
        if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 ||
            getsockname(s, (struct sockaddr *)&a, &al) != 0) {
            close(s);
            continue;
        }
        int port = ntohs(a.sin_port);
        int s2 = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(port + 1)),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        bool ok = port < 65535 && s2 >= 0 && bind(s2, (struct sockaddr *)&b, sizeof b) == 0;
        close(s);
        if (s2 >= 0)
            close(s2);
        if (ok)
            return port;
    }
    return -1;
}

static bool answers(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    bool ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

int swtpm_start(swtpm *s, const char *state_dir)
{
    memset(s, 0, sizeof *s);
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = free_ports();
        if (port < 0)
            return -1;
        char server[96], ctrl[96], state[4200], log[4200];
        snprintf(server, sizeof server, "type=tcp,port=%d,bindaddr=127.0.0.1", port);
        snprintf(ctrl, sizeof ctrl, "type=tcp,port=%d,bindaddr=127.0.0.1", port + 1);
        snprintf(state, sizeof state, "dir=%s", state_dir);
        snprintf(log, sizeof log, "%s.swtpm.log", state_dir);
        char *const argv[] = { "swtpm", "socket", "--tpm2", "--server", server, "--ctrl", ctrl,
                               "--tpmstate", state, "--flags", "not-need-init,startup-clear",
                               NULL };
        pid_t p = spawn(argv, log);
        if (p < 0)
            return -1;
        /* Up to 5 s for it to listen; give up early if it died. */
        for (int i = 0; i < 100; i++) {
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            if (waitpid(p, NULL, WNOHANG) == p) {
                forget(p);
                p = -1;
                break;
            }
            if (answers(port)) {
                s->pid = p;
                s->port = port;
                s->state_dir = strdup(state_dir);
                snprintf(s->tcti, sizeof s->tcti, "swtpm:host=127.0.0.1,port=%d", port);
                return 0;
            }
            nanosleep(&ts, NULL);
        }
        if (p > 0) {
            kill(p, SIGKILL);
            waitpid(p, NULL, 0);
            forget(p);
        }
    }
    return -1;
}

void swtpm_stop(swtpm *s)
{
    if (!s)
        return;
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int st;
        for (int i = 0; i < 40; i++) {
            struct timespec ts = { 0, 25 * 1000 * 1000 };
            if (waitpid(s->pid, &st, WNOHANG) == s->pid)
                goto gone;
            nanosleep(&ts, NULL);
        }
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &st, 0);
    gone:
        forget(s->pid);
        s->pid = 0;
    }
    free(s->state_dir);
    s->state_dir = NULL;
}
