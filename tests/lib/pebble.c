/* tests/lib/pebble.c - Pebble on loopback for tests and benchmarks (see pebble.h): certificates
 * from refserver/ca.h, a JSON config with free 127.0.0.1 ports, the process started with the
 * no-validation environment and a parent-death signal, readiness by connecting, and a blocking
 * HTTPS GET on the management port with the engine's client. */
#include "tests/lib/pebble.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>

#include "engine/http_once.h"
#include "engine/tls.h"
#include "refserver/ca.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

#define LOOPBACK "127.0.0.1"
#define POLL_MS 20
#define MGMT_TIMEOUT_NS (10ULL * 1000000000ULL)
#define MGMT_MAX_BODY (1u << 20)

static int fail(char *err, size_t errlen, const char *fmt, const char *arg)
{
    snprintf(err, errlen, fmt, arg ? arg : "");
    return -1;
}

const char *pebble_binary(void)
{
    static char found[PEBBLE_PATH_MAX];
    const char *env = getenv("FLEETSIM_PEBBLE");
    if (env && *env)
        return access(env, X_OK) == 0 ? env : NULL;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        int w = snprintf(found, sizeof found, "%.*s/pebble", (int)n, path);
        if (w > 0 && (size_t)w < sizeof found && access(found, X_OK) == 0)
            return found;
        path += n + (path[n] == ':');
    }
    return NULL;
}

/* A port on 127.0.0.1 that was free a moment ago. */
static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, LOOPBACK, &sin.sin_addr);
    socklen_t sl = sizeof sin;
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
        getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
        port = ntohs(sin.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool port_accepts(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, LOOPBACK, &sin.sin_addr);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Pebble's TLS key and certificate (127.0.0.1 and localhost) and the CA's PEM in p->dir. */
static int write_certs(struct pebble *p, char *cert_path, char *key_path, size_t n, char *err,
                       size_t errlen)
{
    char cerr[160] = "";
    struct target_ca *ca = ca_new("fleetsim test Pebble TLS CA", cerr, sizeof cerr);
    if (!ca)
        return fail(err, errlen, "pebble: CA: %s", cerr);
    static const char *const names[] = {LOOPBACK, "localhost"};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int rc = ca_issue_server_cert(ca, names, 2, &key, &cert);
    snprintf(p->ca_path, sizeof p->ca_path, "%s/ca.pem", p->dir);
    snprintf(cert_path, n, "%s/cert.pem", p->dir);
    snprintf(key_path, n, "%s/key.pem", p->dir);
    FILE *fc = rc == 0 ? fopen(cert_path, "w") : NULL;
    FILE *fk = rc == 0 ? fopen(key_path, "w") : NULL;
    bool ok = fc && fk && PEM_write_X509(fc, cert) == 1 &&
              PEM_write_PrivateKey(fk, key, NULL, NULL, 0, NULL, NULL) == 1 &&
              ca_write_pem(ca, p->ca_path) == 0;
    if (fc)
        ok = fclose(fc) == 0 && ok;
    if (fk)
        ok = fclose(fk) == 0 && ok;
    EVP_PKEY_free(key);
    X509_free(cert);
    ca_free(ca);
    return ok ? 0 : fail(err, errlen, "pebble: cannot write certificates in %s", p->dir);
}

static int write_config(const struct pebble *p, const char *path, const char *cert, const char *key,
                        char *err, size_t errlen)
{
    uint16_t http_port = free_port(), tls_port = free_port();
    FILE *f = fopen(path, "w");
    if (!f || !http_port || !tls_port) {
        if (f)
            fclose(f);
        return fail(err, errlen, "pebble: cannot write %s", path);
    }
    fprintf(f,
            "{\"pebble\": {\"listenAddress\": \"" LOOPBACK ":%u\", "
            "\"managementListenAddress\": \"" LOOPBACK ":%u\", \"certificate\": \"%s\", "
            "\"privateKey\": \"%s\", \"httpPort\": %u, \"tlsPort\": %u, "
            "\"ocspResponderURL\": \"\", \"externalAccountBindingRequired\": false}}\n",
            p->port, p->mgmt_port, cert, key, http_port, tls_port);
    return fclose(f) == 0 ? 0 : fail(err, errlen, "pebble: cannot write %s", path);
}

/* In the child: environment, output, parent-death signal, exec. Never returns. */
static void exec_pebble(const char *bin, const struct pebble *p, const char *config,
                        const struct pebble_options *o)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setenv("PEBBLE_VA_ALWAYS_VALID", "1", 1);
    setenv("PEBBLE_VA_NOSLEEP", "1", 1);
    if (o && o->set_nonce_reject) {
        char v[16];
        snprintf(v, sizeof v, "%d", o->nonce_reject_pct);
        setenv("PEBBLE_WFE_NONCEREJECT", v, 1);
    } else {
        unsetenv("PEBBLE_WFE_NONCEREJECT");
    }
    int fd = open(p->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    if (chdir(p->dir) != 0)
        _exit(126);
    execl(bin, "pebble", "-config", config, "-dnsserver", LOOPBACK ":1", (char *)NULL);
    _exit(127);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int pebble_start(struct pebble *p, const struct pebble_options *opts, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    const char *bin = pebble_binary();
    if (!bin)
        return fail(err, errlen,
                    "pebble: no pebble binary (install Debian's pebble or set "
                    "FLEETSIM_PEBBLE)%s",
                    NULL);
    snprintf(p->dir, sizeof p->dir, "/tmp/fleetsim-pebble.XXXXXX");
    if (!mkdtemp(p->dir)) {
        p->dir[0] = '\0';
        return fail(err, errlen, "pebble: mkdtemp: %s", strerror(errno));
    }
    char cert[PEBBLE_PATH_MAX], key[PEBBLE_PATH_MAX], config[PEBBLE_PATH_MAX];
    snprintf(config, sizeof config, "%s/pebble-config.json", p->dir);
    snprintf(p->log_path, sizeof p->log_path, "%s/pebble.log", p->dir);
    p->port = free_port();
    p->mgmt_port = free_port();
    snprintf(p->dir_url, sizeof p->dir_url, "https://" LOOPBACK ":%u/dir", p->port);
    if (write_certs(p, cert, key, sizeof cert, err, errlen) != 0 ||
        write_config(p, config, cert, key, err, errlen) != 0) {
        pebble_stop(p);
        return -1;
    }
    p->pid = fork();
    if (p->pid < 0) {
        p->pid = 0;
        pebble_stop(p);
        return fail(err, errlen, "pebble: fork: %s", strerror(errno));
    }
    if (p->pid == 0)
        exec_pebble(bin, p, config, opts);
    for (long waited = 0; waited < PEBBLE_START_TIMEOUT_MS; waited += POLL_MS) {
        int status;
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            snprintf(err, errlen, "pebble exited at start (status %d); see its log %s", status,
                     p->log_path);
            return -1; /* the directory stays for the log */
        }
        if (port_accepts(p->port) && port_accepts(p->mgmt_port))
            return 0;
        sleep_ms(POLL_MS);
    }
    pebble_stop(p);
    return fail(err, errlen, "pebble: not listening after %s ms", "10000");
}

void pebble_stop(struct pebble *p)
{
    procs_stop(p->pid, SIGTERM);
    p->pid = 0;
    if (p->dir[0] && !getenv("FLEETSIM_KEEP_PEBBLE"))
        testenv_rmtree(p->dir);
    p->dir[0] = '\0';
}

int pebble_mgmt_get(const struct pebble *p, const char *path, char **body_out, size_t *len_out,
                    char *err, size_t errlen)
{
    *body_out = NULL;
    char terr[200] = "";
    SSL_CTX *ctx = tls_client_ctx_new(p->ca_path, false, terr, sizeof terr);
    if (!ctx)
        return fail(err, errlen, "pebble: TLS: %s", terr);
    struct http_conn_config cc;
    int rc = -1;
    if (http_conn_config_init(&cc, LOOPBACK, p->mgmt_port, ctx, terr, sizeof terr) != 0) {
        fail(err, errlen, "pebble: %s", terr);
        goto out;
    }
    cc.timeout_ns = MGMT_TIMEOUT_NS;
    cc.max_body_bytes = MGMT_MAX_BODY;
    struct http_once o;
    http_once(&cc, "GET", path, NULL, NULL, &o);
    if (o.error != HTTP_ERR_NONE || o.status != 200) {
        char why[200];
        snprintf(err, errlen, "pebble: GET %s on the management port: %s", path,
                 http_once_describe(&o, why, sizeof why));
        http_once_release(&o);
        goto out;
    }
    *body_out = o.body;
    if (len_out)
        *len_out = o.body_len;
    rc = 0;
out:
    SSL_CTX_free(ctx);
    return rc;
}
