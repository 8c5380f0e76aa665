/* tests/lib/procs.h - child processes for the tests that run the real programs (fleetsim,
 * fleetsim-target, pebble): start with output into files and the child bound to the test's life
 * (PR_SET_PDEATHSIG), wait with a deadline, stop with a signal then SIGKILL, run to completion
 * with the output read back, and a fleetsim-target started as its own process with its port,
 * URL, CA and generated key file read from the lines it prints. */
#ifndef FLEETSIM_TESTS_LIB_PROCS_H
#define FLEETSIM_TESTS_LIB_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCS_PATH_MAX 1024
/* Most arguments procs_start and procs_run pass after the program. */
#define PROCS_MAX_ARGS 60

/* Starts argv[0] (a path) with argv (NULL-terminated); its stdout goes to out_path and its
 * stderr to err_path, or also to out_path when err_path is NULL (both created or truncated,
 * mode 0600; stdin is /dev/null). env is NULL or a NULL-terminated list of "NAME=value" (set)
 * and "NAME" (unset) entries applied in the child. The child gets SIGKILL when the calling
 * thread ends. Returns the pid, or -1. */
pid_t procs_spawn(char *const argv[], const char *out_path, const char *err_path,
                  const char *const *env);

/* As procs_spawn for $top_builddir/prog with args (NULL-terminated, at most PROCS_MAX_ARGS),
 * stdout and stderr into out_path. */
pid_t procs_start(const char *prog, const char *const *args, const char *const *env,
                  const char *out_path);

/* Waits up to timeout_ms for pid: its exit code, 128 + signal when killed by one, or -1 after
 * the deadline (the child is then killed and reaped). */
int procs_wait(pid_t pid, unsigned timeout_ms);

/* Sends sig, then waits up to 10 s (SIGKILL after). Returns as procs_wait; pid <= 0 is a no-op
 * returning -1. */
int procs_stop(pid_t pid, int sig);

/* Runs $top_builddir/prog with args and env (as procs_start) to its end, at most timeout_ms.
 * Returns as procs_wait; *out gets its stdout (with its stderr too when err is NULL), *err its
 * stderr: malloc'd strings the caller frees. */
int procs_run(const char *prog, const char *const *args, const char *const *env,
              unsigned timeout_ms, char **out, char **err);

/* What procs_exec returns: the exit status and the output, cut to the buffers. */
struct procs_output {
    int status; /* as procs_wait */
    char out[65536];
    size_t out_len;
    char errb[8192];
    size_t err_len;
};

/* procs_run with stdout and stderr kept apart in r (no env changes). Returns false, running
 * nothing, when $top_builddir/prog is not built (the caller may skip). */
bool procs_exec(const char *prog, const char *const *args, unsigned timeout_ms,
                struct procs_output *r);

/* A fleetsim-target running as its own process. */
struct procs_target {
    pid_t pid;
    uint16_t port;
    char url[64];                  /* http(s)://127.0.0.1:PORT */
    char ca_path[PROCS_PATH_MAX];  /* the generated CA it printed ("" when none) */
    char key_file[PROCS_PATH_MAX]; /* the generated API key's file ("" when none) */
    char log[PROCS_PATH_MAX];      /* its stdout + stderr */
};

/* Starts $top_builddir/fleetsim-target --listen 127.0.0.1:0 followed by args (NULL-terminated,
 * at most PROCS_MAX_ARGS - 2) and waits up to 15 s for its "listening on" line. Returns 0, or
 * -1 (the process is stopped, the log kept for the message). */
int procs_target_start(struct procs_target *t, const char *const *args);

/* Stops the target with sig (SIGTERM, SIGINT) and removes its log. Returns its exit code as
 * procs_stop. */
int procs_target_stop(struct procs_target *t, int sig);

#endif
