/* tests/lib/procs.c - child processes for the tests (see procs.h). */
#include "tests/lib/procs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/testenv.h"

#define POLL_STEP_US 10000
#define STOP_WAIT_MS 10000
#define TARGET_START_WAIT_MS 15000
#define LISTENING "listening on "

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void apply_env(const char *const *env)
{
    for (size_t i = 0; env && env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        if (!eq) {
            unsetenv(env[i]);
            continue;
        }
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - env[i]), env[i]);
        setenv(name, eq + 1, 1);
    }
}

/* Opens path as the child's fd target (an output file, or /dev/null for stdin). */
static void redirect(const char *path, int flags, int target)
{
    int fd = open(path, flags, 0600);
    if (fd < 0)
        _exit(127);
    dup2(fd, target);
    close(fd);
}

pid_t procs_spawn(char *const argv[], const char *out_path, const char *err_path,
                  const char *const *env)
{
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* the child: die with the test, even if it died before prctl ran */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    redirect(out_path, O_WRONLY | O_CREAT | O_TRUNC, STDOUT_FILENO);
    if (err_path)
        redirect(err_path, O_WRONLY | O_CREAT | O_TRUNC, STDERR_FILENO);
    else
        dup2(STDOUT_FILENO, STDERR_FILENO);
    redirect("/dev/null", O_RDONLY, STDIN_FILENO);
    apply_env(env);
    execv(argv[0], argv);
    _exit(127);
}

/* argv for $top_builddir/prog followed by args; prog_path holds the path. */
static void build_argv(const char *prog, const char *const *args, char *prog_path, size_t n,
                       char *argv[PROCS_MAX_ARGS + 2])
{
    size_t k = 0;
    argv[k++] = testenv_build_path(prog, prog_path, n);
    for (size_t i = 0; args && args[i] && k <= PROCS_MAX_ARGS; i++)
        argv[k++] = (char *)args[i];
    argv[k] = NULL;
}

pid_t procs_start(const char *prog, const char *const *args, const char *const *env,
                  const char *out_path)
{
    char path[PROCS_PATH_MAX], *argv[PROCS_MAX_ARGS + 2];
    build_argv(prog, args, path, sizeof path, argv);
    return procs_spawn(argv, out_path, NULL, env);
}

int procs_wait(pid_t pid, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    int status;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_ms() >= end)
            break;
        usleep(POLL_STEP_US);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

int procs_stop(pid_t pid, int sig)
{
    if (pid <= 0)
        return -1;
    kill(pid, sig);
    return procs_wait(pid, STOP_WAIT_MS);
}

int procs_run(const char *prog, const char *const *args, const char *const *env,
              unsigned timeout_ms, char **out, char **err)
{
    static unsigned counter;
    char out_path[64], err_path[64], path[PROCS_PATH_MAX], *argv[PROCS_MAX_ARGS + 2];
    unsigned k = ++counter;
    snprintf(out_path, sizeof out_path, "/tmp/fleetsim_test_run.%d.%u.out", (int)getpid(), k);
    snprintf(err_path, sizeof err_path, "/tmp/fleetsim_test_run.%d.%u.err", (int)getpid(), k);
    build_argv(prog, args, path, sizeof path, argv);
    pid_t pid = procs_spawn(argv, out_path, err ? err_path : NULL, env);
    int rc = pid > 0 ? procs_wait(pid, timeout_ms) : -1;
    *out = testenv_slurp(out_path);
    unlink(out_path);
    if (err) {
        *err = testenv_slurp(err_path);
        unlink(err_path);
    }
    return rc;
}

/* Copies src into dst (size n, cut); returns the length copied. */
static size_t copy_text(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src);
    return strlen(dst);
}

bool procs_exec(const char *prog, const char *const *args, unsigned timeout_ms,
                struct procs_output *r)
{
    char path[PROCS_PATH_MAX];
    if (access(testenv_build_path(prog, path, sizeof path), X_OK) != 0)
        return false;
    char *out, *err;
    r->status = procs_run(prog, args, NULL, timeout_ms, &out, &err);
    r->out_len = copy_text(r->out, sizeof r->out, out);
    r->err_len = copy_text(r->errb, sizeof r->errb, err);
    free(out);
    free(err);
    return true;
}

/* Copies the word after marker in text (up to white space) into dst (size n), if present. */
static void copy_after(const char *text, const char *marker, char *dst, size_t n)
{
    const char *p = strstr(text, marker);
    if (!p)
        return;
    p += strlen(marker);
    snprintf(dst, n, "%.*s", (int)strcspn(p, " \t\r\n"), p);
}

/* Reads the port, URL, CA and key file from the log once its "listening on" line is complete.
 * Returns true when it is. */
static bool read_listening(struct procs_target *t)
{
    char *out = testenv_slurp(t->log);
    const char *l = strstr(out, LISTENING);
    const char *nl = l ? strchr(l, '\n') : NULL;
    if (nl) {
        const char *url = l + strlen(LISTENING);
        const char *colon = memrchr(url, ':', (size_t)(nl - url));
        t->port = colon ? (uint16_t)atoi(colon + 1) : 0;
        snprintf(t->url, sizeof t->url, "%.*s", (int)(nl - url), url);
        copy_after(out, "CA certificate in ", t->ca_path, sizeof t->ca_path);
        copy_after(out, "API key generated into ", t->key_file, sizeof t->key_file);
    }
    free(out);
    return t->port != 0;
}

int procs_target_start(struct procs_target *t, const char *const *args)
{
    static unsigned counter;
    memset(t, 0, sizeof *t);
    snprintf(t->log, sizeof t->log, "/tmp/fleetsim_test_target.%d.%u.log", (int)getpid(),
             ++counter);
    const char *all[PROCS_MAX_ARGS + 1] = {"--listen", "127.0.0.1:0"};
    size_t n = 2;
    for (size_t i = 0; args && args[i] && n < PROCS_MAX_ARGS; i++)
        all[n++] = args[i];
    all[n] = NULL;
    t->pid = procs_start("fleetsim-target", all, NULL, t->log);
    if (t->pid < 0)
        return -1;
    uint64_t end = now_ms() + TARGET_START_WAIT_MS;
    while (now_ms() < end) {
        if (read_listening(t))
            return 0;
        if (waitpid(t->pid, NULL, WNOHANG) == t->pid) { /* it exited: bad options */
            t->pid = 0;
            return -1;
        }
        usleep(POLL_STEP_US * 2);
    }
    procs_stop(t->pid, SIGTERM);
    t->pid = 0;
    return -1;
}

int procs_target_stop(struct procs_target *t, int sig)
{
    int rc = procs_stop(t->pid, sig);
    t->pid = 0;
    if (t->log[0])
        unlink(t->log);
    return rc;
}
