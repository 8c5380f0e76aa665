/* tests/integration/target_client.c - blocking test client over engine/http_client and a
 * spawner for the fleetsim-target program (see target_client.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "engine/clock.h"
#include "engine/tls.h"
#include "tests/integration/target_client.h"

#define SPAWN_WAIT_MS 10000
#define STOP_WAIT_MS 10000
#define POLL_STEP_MS 10

struct tc {
	struct event_base *base;
	SSL_CTX *ssl;
	struct http_conn_config cfg;
	struct http_conn *conn;
	bool done;
	struct tc_resp *out;
};

struct tc *tc_new(uint16_t port, bool tls, const char *cafile)
{
	struct tc *c = calloc(1, sizeof *c);
	char err[256];
	if (!c)
		return NULL;
	c->base = event_base_new();
	if (tls)
		c->ssl = tls_client_ctx_new(cafile, false, err, sizeof err);
	if (!c->base || (tls && !c->ssl) ||
	    http_conn_config_init(&c->cfg, "127.0.0.1", port, c->ssl, err, sizeof err) < 0) {
		fprintf(stderr, "tc_new: %s\n", err);
		tc_free(c);
		return NULL;
	}
	c->cfg.timeout_ns = TC_TIMEOUT_NS;
	c->cfg.max_body_bytes = 8u << 20;
	c->conn = http_conn_new(c->base, &c->cfg);
	if (!c->conn) {
		tc_free(c);
		return NULL;
	}
	return c;
}

static void copy_header(const struct http_result *res, const char *name, char *dst)
{
	const char *v = http_result_header(res, name);
	snprintf(dst, TC_HEADER_MAX, "%s", v ? v : "");
}

static void tc_done(const struct http_result *res, void *arg)
{
	struct tc *c = arg;
	struct tc_resp *r = c->out;
	r->error = res->error;
	r->status = res->status;
	r->body = malloc(res->body_len + 1);
	if (r->body) {
		memcpy(r->body, res->body ? res->body : "", res->body_len);
		r->body[res->body_len] = '\0';
		r->body_len = res->body_len;
	}
	copy_header(res, "Content-Type", r->content_type);
	copy_header(res, "Retry-After", r->retry_after);
	copy_header(res, "WWW-Authenticate", r->www_authenticate);
	copy_header(res, "X-Request-ID", r->request_id);
	copy_header(res, "X-Content-Type-Options", r->nosniff);
	copy_header(res, "Location", r->location);
	copy_header(res, "Replay-Nonce", r->replay_nonce);
	r->duration_ns = res->done_ns - (res->sent_ns ? res->sent_ns : res->intended_ns);
	c->done = true;
}

void tc_request(struct tc *c, const char *method, const char *path, const char *auth_key,
		const char *extra_headers, const char *body, struct tc_resp *out)
{
	memset(out, 0, sizeof *out);
	out->error = HTTP_ERR_OTHER;
	char headers[1024];
	snprintf(headers, sizeof headers, "%s%s%sContent-Type: application/json\r\n%s",
		 auth_key ? "Authorization: Bearer " : "", auth_key ? auth_key : "",
		 auth_key ? "\r\n" : "", extra_headers ? extra_headers : "");
	struct http_request req = {.method = method,
				   .path = path,
				   .headers = headers,
				   .body = body,
				   .body_len = body ? strlen(body) : 0,
				   .intended_ns = clock_now_ns()};
	c->done = false;
	c->out = out;
	if (http_conn_send(c->conn, &req, tc_done, c) != 0)
		return;
	while (!c->done)
		event_base_loop(c->base, EVLOOP_ONCE);
}

void tc_resp_free(struct tc_resp *r)
{
	free(r->body);
	r->body = NULL;
}

void tc_free(struct tc *c)
{
	if (!c)
		return;
	http_conn_free(c->conn);
	if (c->ssl)
		SSL_CTX_free(c->ssl);
	if (c->base)
		event_base_free(c->base);
	free(c);
}

/* Reads one line from fd within the deadline into buf. Returns its length or -1. */
static int read_line(int fd, char *buf, size_t n, uint64_t deadline_ns)
{
	size_t len = 0;
	while (len + 1 < n) {
		uint64_t now = clock_now_ns();
		if (now >= deadline_ns)
			return -1;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, (int)((deadline_ns - now) / 1000000ULL) + 1);
		if (pr <= 0)
			continue;
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r <= 0)
			return -1;
		if (ch == '\n')
			break;
		buf[len++] = ch;
	}
	buf[len] = '\0';
	return (int)len;
}

static void copy_after(const char *line, const char *marker, char *dst, size_t n)
{
	const char *p = strstr(line, marker);
	if (!p)
		return;
	p += strlen(marker);
	size_t len = strcspn(p, " ");
	if (len >= n)
		len = n - 1;
	memcpy(dst, p, len);
	dst[len] = '\0';
}

int tc_spawn(const char *prog, char *const argv[], struct tc_proc *p)
{
	memset(p, 0, sizeof *p);
	int out[2];
	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	p->pid = fork();
	if (p->pid < 0) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	if (p->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a crashed test */
		dup2(out[1], STDOUT_FILENO);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDERR_FILENO);
		execv(prog, argv);
		_exit(127);
	}
	close(out[1]);
	p->out_fd = out[0];
	uint64_t deadline = clock_now_ns() + SPAWN_WAIT_MS * 1000000ULL;
	char line[1024];
	while (read_line(p->out_fd, line, sizeof line, deadline) >= 0) {
		copy_after(line, "CA certificate in ", p->ca_path, sizeof p->ca_path);
		copy_after(line, "API key generated into ", p->key_file, sizeof p->key_file);
		const char *l = strstr(line, "listening on ");
		const char *colon = l ? strrchr(l, ':') : NULL;
		if (colon) {
			p->port = (uint16_t)atoi(colon + 1);
			return p->port ? 0 : -1;
		}
	}
	tc_stop(p, SIGKILL);
	return -1;
}

int tc_stop(struct tc_proc *p, int sig)
{
	if (p->pid <= 0)
		return -1;
	kill(p->pid, sig);
	int status = -1;
	for (int waited = 0; waited < STOP_WAIT_MS; waited += POLL_STEP_MS) {
		pid_t r = waitpid(p->pid, &status, WNOHANG);
		if (r == p->pid)
			break;
		if (r < 0) {
			status = -1;
			break;
		}
		usleep(POLL_STEP_MS * 1000);
		if (waited + POLL_STEP_MS >= STOP_WAIT_MS) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			status = -1;
		}
	}
	if (p->out_fd > 0)
		close(p->out_fd);
	p->out_fd = -1;
	p->pid = 0;
	return status;
}

int tc_run_exit(const char *prog, char *const argv[], char *line, size_t n)
{
	int err[2];
	if (pipe2(err, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(err[1], STDERR_FILENO);
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execv(prog, argv);
		_exit(127);
	}
	close(err[1]);
	if (read_line(err[0], line, n, clock_now_ns() + SPAWN_WAIT_MS * 1000000ULL) < 0)
		line[0] = '\0';
	close(err[0]);
	struct tc_proc p = {.pid = pid, .out_fd = -1};
	int status = tc_stop(&p, 0);
	return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
