/* tests/integration/target_client.h - a blocking wrapper over engine/http_client for the
 * target's integration tests: one keep-alive connection on a private event_base, one request at
 * a time, the response copied out with the headers the tests check. Also spawns the
 * fleetsim-target program and reads the address lines it prints. */
#ifndef FLEETSIM_TESTS_TARGET_CLIENT_H
#define FLEETSIM_TESTS_TARGET_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/http_client.h"

/* Per-request timeout of the test client. */
#define TC_TIMEOUT_NS (10ULL * 1000000000ULL)
#define TC_HEADER_MAX 256

struct tc;

struct tc_resp {
	enum http_error error;
	int status;
	char *body; /* malloc'd, NUL-terminated ("" when none) */
	size_t body_len;
	char content_type[TC_HEADER_MAX];
	char retry_after[TC_HEADER_MAX];
	char www_authenticate[TC_HEADER_MAX];
	char request_id[TC_HEADER_MAX];
	char nosniff[TC_HEADER_MAX];
	char location[TC_HEADER_MAX];
	char replay_nonce[TC_HEADER_MAX];
	uint64_t duration_ns; /* send to done */
};

/* Connects lazily to 127.0.0.1:port; TLS when tls, verified with cafile (NULL: system store).
 * Returns NULL on failure. */
struct tc *tc_new(uint16_t port, bool tls, const char *cafile);

/* Sends one request and waits for its end. auth_key (may be NULL) becomes "Authorization:
 * Bearer <key>"; extra_headers ("K: V\r\n" lines) may be NULL; body may be NULL (no body).
 * Always fills *out (free with tc_resp_free). */
void tc_request(struct tc *c, const char *method, const char *path, const char *auth_key,
		const char *extra_headers, const char *body, struct tc_resp *out);

/* Frees what tc_request put in out. */
void tc_resp_free(struct tc_resp *r);

/* Closes the connection and frees the client (NULL is fine). */
void tc_free(struct tc *c);

/* A running fleetsim-target process. */
struct tc_proc {
	pid_t pid;
	uint16_t port;
	char ca_path[512]; /* "" when none printed */
	char key_file[512];
	int out_fd; /* its stdout */
	char first_stderr_line[512];
};

/* Runs prog with argv (NULL-terminated, argv[0] included), waits up to 10 s for its
 * "listening on" line and parses the port, CA and key-file lines. Returns 0, or -1 (the
 * process is killed and reaped). */
int tc_spawn(const char *prog, char *const argv[], struct tc_proc *p);

/* Sends sig, waits up to 10 s and returns the exit status as from waitpid (or -1). */
int tc_stop(struct tc_proc *p, int sig);

/* Runs prog with argv to completion (10 s at most) and returns its exit code; the first line
 * it wrote to stderr goes into line (size n). Returns -1 on failure to run. */
int tc_run_exit(const char *prog, char *const argv[], char *line, size_t n);

#endif
