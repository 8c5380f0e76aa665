/* tests/integration/procs.h - child processes for the integration tests that run the real
 * programs (fleetsim, fleetsim-target): start with output into a file and the child bound to
 * the test's life (PR_SET_PDEATHSIG), wait with a deadline, stop with SIGTERM then SIGKILL,
 * and a fleetsim-target started as its own process with its port read from its first lines. */
#ifndef FLEETSIM_TESTS_PROCS_H
#define FLEETSIM_TESTS_PROCS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROCS_PATH_MAX 1024

/* Starts argv[0] (a path) with argv (NULL-terminated); its stdout and stderr go to out_path
 * (created or truncated, mode 0600). env is NULL or a NULL-terminated list of "NAME=value"
 * (set) and "NAME" (unset) entries applied in the child. The child gets SIGKILL when the
 * calling thread ends. Returns the pid, or -1. */
pid_t procs_spawn(char *const argv[], const char *out_path, const char *const *env);

/* Waits up to timeout_ms for pid: its exit code, 128 + signal when killed by one, or -1 after
 * the deadline (the child is then killed and reaped). */
int procs_wait(pid_t pid, unsigned timeout_ms);

/* SIGTERM, then waits up to 10 s (SIGKILL after). Returns as procs_wait. pid <= 0 is a no-op
 * returning -1. */
int procs_stop(pid_t pid);

/* The whole file at path as a malloc'd NUL-terminated string ("" when unreadable); caller frees. */
char *procs_slurp(const char *path);

/* "$top_builddir/name" (or "./name") into buf. Returns buf. */
char *procs_build_path(const char *name, char *buf, size_t n);

/* A fleetsim-target running as its own process. */
struct procs_target {
	pid_t pid;
	uint16_t port;
	char url[64];		   /* http(s)://127.0.0.1:PORT */
	char log[PROCS_PATH_MAX]; /* its stdout + stderr */
};

/* Starts $top_builddir/fleetsim-target --listen 127.0.0.1:0 followed by args (NULL-terminated,
 * at most 40) and waits up to 15 s for its "listening on" line. Returns 0, or -1 (the process is
 * stopped, the log kept for the message). */
int procs_target_start(struct procs_target *t, const char *const *args);

/* Stops the target (SIGTERM) and removes its log. Returns its exit code as procs_stop. */
int procs_target_stop(struct procs_target *t);

#endif
