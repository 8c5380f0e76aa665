/* tests/lib/http_test_server.c - the scripted HTTP/1.1 test server (see http_test_server.h):
 * evconnlistener + bufferevents (OpenSSL bufferevents for TLS) on the caller's event_base. */
#include "tests/lib/http_test_server.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

struct tconn {
    struct tsrv *s;
    struct bufferevent *bev;
    struct tconn *next;
    bool closing; /* close once the output is written */
};

static void tconn_free(struct tconn *tc)
{
    for (struct tconn **pp = &tc->s->conns; *pp; pp = &(*pp)->next) {
        if (*pp == tc) {
            *pp = tc->next;
            break;
        }
    }
    bufferevent_free(tc->bev);
    free(tc);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct tconn *tc = arg;
    if (tc->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        tconn_free(tc);
}

static void add(struct tconn *tc, const char *text)
{
    bufferevent_write(tc->bev, text, strlen(text));
}

static void respond(struct tconn *tc, enum tsrv_mode mode, int n)
{
    char buf[256];
    switch (mode) {
    case TS_OK:
    case TS_CONN_CLOSE:
    case TS_EXTRA: {
        char body[32];
        snprintf(body, sizeof(body), "body-%d", n);
        snprintf(buf, sizeof(buf),
                 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nreplay-nonce: nonce-%d\r\n"
                 "%sContent-Length: %zu\r\n\r\n%s",
                 n, mode == TS_CONN_CLOSE ? "Connection: close\r\n" : "", strlen(body), body);
        add(tc, buf);
        if (mode == TS_EXTRA)
            add(tc, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        tc->closing = mode == TS_CONN_CLOSE;
        break;
    }
    case TS_CHUNKED:
        add(tc, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nLocation: /x/1\r\n\r\n");
        add(tc, "5;ext=1\r\nhello\r\n");
        add(tc, "9\r\n chunked \r\n5\r\nworld\r\n0\r\nX-Trailer: yes\r\n\r\n");
        break;
    case TS_CLOSE_DELIM:
        add(tc, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-close");
        tc->closing = true;
        break;
    case TS_HEAD:
        add(tc, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
        break;
    case TS_NO_CONTENT:
        add(tc, "HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n");
        break;
    case TS_BAD_STATUS:
        add(tc, "HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n");
        break;
    case TS_BIG_HEADERS: {
        add(tc, "HTTP/1.1 200 OK\r\n");
        char line[1040];
        memset(line, 'v', sizeof(line));
        memcpy(line, "X-Filler: ", 10);
        memcpy(line + sizeof(line) - 2, "\r\n", 2);
        for (int i = 0; i < 70; i++)
            bufferevent_write(tc->bev, line, sizeof(line));
        add(tc, "Content-Length: 0\r\n\r\n");
        break;
    }
    case TS_BAD_CHUNK:
        add(tc, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
        break;
    case TS_TRUNCATED:
        add(tc, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
        tc->closing = true;
        break;
    case TS_BIG_BODY:
    case TS_BIG_CLOSE_BODY: {
        add(tc, mode == TS_BIG_BODY ? "HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n"
                                    : "HTTP/1.1 200 OK\r\n\r\n");
        char body[4096];
        memset(body, 'b', sizeof(body));
        bufferevent_write(tc->bev, body, sizeof(body));
        tc->closing = mode == TS_BIG_CLOSE_BODY;
        break;
    }
    case TS_GARBAGE: {
        static const unsigned char junk[] = {0x16, 0x03, 0x01, 0x00, 0xff, 0x00,
                                             'x',  '\r', '\n', '\r', '\n'};
        bufferevent_write(tc->bev, junk, sizeof(junk));
        break;
    }
    case TS_NEVER:
        break;
    case TS_PARTIAL:
        add(tc, "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789");
        break;
    case TS_RESET: {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(bufferevent_getfd(tc->bev), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        tconn_free(tc);
        return;
    }
    }
    if (tc->closing && evbuffer_get_length(bufferevent_get_output(tc->bev)) == 0)
        tconn_free(tc);
}

/* Reads complete requests (head + Content-Length body) and answers each. */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct tconn *tc = arg;
    struct tsrv *s = tc->s;
    struct evbuffer *in = bufferevent_get_input(bev);
    while (!tc->closing) {
        struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
        if (end.pos < 0)
            return;
        size_t head_len = (size_t)end.pos + 4;
        char head[8192];
        size_t hn = head_len < sizeof(head) ? head_len : sizeof(head) - 1;
        evbuffer_copyout(in, head, hn);
        head[hn] = '\0';
        const char *cl = strcasestr(head, "\r\nContent-Length:");
        size_t body_len = cl ? strtoul(cl + 17, NULL, 10) : 0;
        if (evbuffer_get_length(in) < head_len + body_len)
            return;
        size_t n = head_len + body_len;
        if (n >= sizeof(s->last_request))
            n = sizeof(s->last_request) - 1;
        evbuffer_copyout(in, s->last_request, n);
        s->last_request[n] = '\0';
        evbuffer_drain(in, head_len + body_len);
        int idx = s->requests++;
        int mi = idx < s->nmodes ? idx : s->nmodes - 1;
        enum tsrv_mode mode = s->nmodes ? s->modes[mi] : TS_OK;
        respond(tc, mode, idx);
        if (mode == TS_RESET)
            return;
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct tconn *tc = arg;
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        tc->s->peer_closed++;
        tconn_free(tc);
        return;
    }
    if ((what & BEV_EVENT_CONNECTED) && tc->s->ssl_ctx) {
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        if (ssl && SSL_session_reused(ssl))
            tc->s->tls_resumed++;
    }
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    struct tsrv *s = arg;
    (void)l;
    (void)salen;
    s->accepts++;
    const void *a = sa->sa_family == AF_INET
                        ? (const void *)&((struct sockaddr_in *)sa)->sin_addr
                        : (const void *)&((struct sockaddr_in6 *)sa)->sin6_addr;
    inet_ntop(sa->sa_family, a, s->last_peer, sizeof(s->last_peer));
    if (s->close_on_accept > 0) {
        s->close_on_accept--;
        close(fd);
        return;
    }
    struct tconn *tc = calloc(1, sizeof(*tc));
    tc->s = s;
    if (s->ssl_ctx) {
        tc->bev = bufferevent_openssl_socket_new(s->base, fd, SSL_new(s->ssl_ctx),
                                                 BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
        bufferevent_openssl_set_allow_dirty_shutdown(tc->bev, 1);
    } else {
        tc->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    tc->next = s->conns;
    s->conns = tc;
    bufferevent_setcb(tc->bev, on_read, on_write, on_event, tc);
    bufferevent_enable(tc->bev, EV_READ | EV_WRITE);
}

int tsrv_start(struct tsrv *s, struct event_base *base, const char *host, SSL_CTX *ssl_ctx)
{
    memset(s, 0, sizeof(*s));
    s->base = base;
    s->ssl_ctx = ssl_ctx;
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (strchr(host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return -1;
        len = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return -1;
        len = sizeof(*a);
    }
    s->lis = evconnlistener_new_bind(base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
                                     64, (struct sockaddr *)&ss, (int)len);
    if (!s->lis)
        return -1;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof(bound);
    getsockname(evconnlistener_get_fd(s->lis), (struct sockaddr *)&bound, &blen);
    s->port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
                                               : ((struct sockaddr_in6 *)&bound)->sin6_port);
    return 0;
}

void tsrv_script(struct tsrv *s, int n, const enum tsrv_mode *modes)
{
    s->nmodes = n < TSRV_MAX_MODES ? n : TSRV_MAX_MODES;
    memcpy(s->modes, modes, (size_t)s->nmodes * sizeof(*modes));
}

void tsrv_push(struct tsrv *s, const char *text)
{
    for (struct tconn *tc = s->conns; tc; tc = tc->next)
        add(tc, text);
}

void tsrv_close_all(struct tsrv *s)
{
    while (s->conns)
        tconn_free(s->conns);
}

void tsrv_stop(struct tsrv *s)
{
    while (s->conns)
        tconn_free(s->conns);
    if (s->lis)
        evconnlistener_free(s->lis);
    s->lis = NULL;
}

int tsrv_make_cert(EVP_PKEY **key_out, X509 **cert_out, char *path_out)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    if (!key || !x)
        return -1;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1,
                               0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    const char *exts[][2] = {{"subjectAltName", "DNS:localhost,IP:127.0.0.1,IP:::1"},
                             {"basicConstraints", "critical,CA:TRUE"},
                             {"keyUsage", "critical,digitalSignature,keyCertSign"},
                             {"extendedKeyUsage", "serverAuth"}};
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        X509_EXTENSION *e = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
        if (!e)
            return -1;
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    if (!X509_sign(x, key, EVP_sha256()))
        return -1;
    snprintf(path_out, 64, "/tmp/fleetsim-test-ca-XXXXXX");
    int fd = mkstemp(path_out);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    PEM_write_X509(f, x);
    fclose(f);
    *key_out = key;
    *cert_out = x;
    return 0;
}

SSL_CTX *tsrv_ssl_ctx(EVP_PKEY *key, X509 *cert, int max_version)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(ctx, cert);
    SSL_CTX_use_PrivateKey(ctx, key);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"tsrv", 4);
    if (max_version)
        SSL_CTX_set_max_proto_version(ctx, max_version);
    return ctx;
}
