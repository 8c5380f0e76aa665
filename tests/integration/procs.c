/* tests/integration/procs.c - child processes for the integration tests (see procs.h). */
#include "tests/integration/procs.h"

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

#define POLL_STEP_US 10000
#define STOP_WAIT_MS 10000
#define TARGET_START_WAIT_MS 15000
#define TARGET_MAX_ARGS 40

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

pid_t procs_spawn(char *const argv[], const char *out_path, const char *const *env)
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
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		_exit(127);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	apply_env(env);
	execv(argv[0], argv);
	_exit(127);
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

int procs_stop(pid_t pid)
{
	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	return procs_wait(pid, STOP_WAIT_MS);
}

char *procs_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	size_t cap = 4096, len = 0;
	char *s = malloc(cap);
	size_t got;
	while (s && (got = fread(s + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (cap - len - 1 == 0) {
			char *bigger = realloc(s, cap * 2);
			if (!bigger) {
				free(s);
				s = NULL;
				break;
			}
			s = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	if (!s)
		return strdup("");
	s[len] = '\0';
	return s;
}

char *procs_build_path(const char *name, char *buf, size_t n)
{
	const char *b = getenv("top_builddir");
	snprintf(buf, n, "%s/%s", b && *b ? b : ".", name);
	return buf;
}

int procs_target_start(struct procs_target *t, const char *const *args)
{
	static unsigned counter;
	memset(t, 0, sizeof *t);
	char prog[PROCS_PATH_MAX];
	procs_build_path("fleetsim-target", prog, sizeof prog);
	snprintf(t->log, sizeof t->log, "/tmp/fleetsim_test_target.%d.%u.log", (int)getpid(),
		 ++counter);
	char *argv[TARGET_MAX_ARGS + 4] = {prog, "--listen", "127.0.0.1:0"};
	int n = 3;
	for (size_t i = 0; args && args[i] && n < TARGET_MAX_ARGS + 3; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	t->pid = procs_spawn(argv, t->log, NULL);
	if (t->pid < 0)
		return -1;
	uint64_t end = now_ms() + TARGET_START_WAIT_MS;
	while (now_ms() < end) {
		char *out = procs_slurp(t->log);
		const char *l = strstr(out, "listening on ");
		const char *nl = l ? strchr(l, '\n') : NULL;
		if (nl) {
			const char *scheme = l + strlen("listening on ");
			const char *colon = memrchr(scheme, ':', (size_t)(nl - scheme));
			t->port = colon ? (uint16_t)atoi(colon + 1) : 0;
			snprintf(t->url, sizeof t->url, "%.*s", (int)(nl - scheme), scheme);
		}
		free(out);
		if (t->port)
			return 0;
		if (waitpid(t->pid, NULL, WNOHANG) == t->pid) { /* it exited: bad options */
			t->pid = 0;
			return -1;
		}
		usleep(POLL_STEP_US * 2);
	}
	procs_stop(t->pid);
	t->pid = 0;
	return -1;
}

int procs_target_stop(struct procs_target *t)
{
	int rc = procs_stop(t->pid);
	t->pid = 0;
	if (t->log[0])
		unlink(t->log);
	return rc;
}
