/* engine/parse_net.c - network-shaped command-line values: http(s) URLs, IPv4 ranges and
 * listen addresses (see parse.h). Pure: no name resolution, no sockets. */
#include "engine/parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HTTP_DEFAULT_PORT 80
#define HTTPS_DEFAULT_PORT 443
#define PORT_MAX 65535u
/* Longest unsupported scheme name quoted back in an error. */
#define SCHEME_SHOWN_MAX 16

static void set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads a port number (digits only, at most PORT_MAX) from [p, end). */
static int read_port(const char *p, const char *end, uint32_t min, uint16_t *out)
{
    uint32_t v = 0;
    if (p == end)
        return -EINVAL;
    for (; p < end; p++) {
        if (!is_digit(*p))
            return -EINVAL;
        v = v * 10 + (uint32_t)(*p - '0');
        if (v > PORT_MAX)
            return -ERANGE;
    }
    if (v < min)
        return -ERANGE;
    *out = (uint16_t)v;
    return 0;
}

/* Strict dotted quad in [p, end): four decimal parts 0-255, no leading zeros, no spaces.
 * Stores the address in host byte order. */
static int read_ipv4(const char *p, const char *end, uint32_t *out)
{
    uint32_t addr = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (p >= end || *p != '.')
                return -EINVAL;
            p++;
        }
        const char *start = p;
        uint32_t v = 0;
        while (p < end && is_digit(*p) && p - start < 4)
            v = v * 10 + (uint32_t)(*p++ - '0');
        size_t len = (size_t)(p - start);
        if (len == 0 || len > 3 || v > 255 || (len > 1 && *start == '0'))
            return -EINVAL;
        addr = (addr << 8) | v;
    }
    if (p != end)
        return -EINVAL;
    *out = addr;
    return 0;
}

/* A literal IPv6 address in [p, end) (no brackets), copied into out (size n). */
static int read_ipv6(const char *p, const char *end, char *out, size_t n, struct in6_addr *a)
{
    size_t len = (size_t)(end - p);
    char tmp[INET6_ADDRSTRLEN + 1];
    if (len == 0 || len >= sizeof(tmp) || len >= n)
        return -EINVAL;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    if (inet_pton(AF_INET6, tmp, a) != 1)
        return -EINVAL;
    memcpy(out, tmp, len + 1);
    return 0;
}

/* ---- URLs ---- */

static const char URL_EXPECT[] =
    "(expected http[s]://HOST[:PORT][/PATH], e.g. https://server.example.test:8443)";

static bool host_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
           c == '.' || c == '_';
}

/* Host and optional port from the authority [p, end). */
static int url_authority(const char *p, const char *end, struct parsed_url *u, const char **what)
{
    const char *host_end;
    const char *port_start = NULL;
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        struct in6_addr a;
        if (!close || read_ipv6(p + 1, close, u->host, sizeof(u->host), &a) != 0) {
            *what = "has a bad IPv6 address";
            return -EINVAL;
        }
        u->host_is_ipv6 = true;
        host_end = close + 1;
        if (host_end < end && *host_end != ':') {
            *what = "has a bad IPv6 address";
            return -EINVAL;
        }
    } else {
        host_end = memchr(p, ':', (size_t)(end - p));
        if (!host_end)
            host_end = end;
        size_t len = (size_t)(host_end - p);
        if (len == 0) {
            *what = "has no host";
            return -EINVAL;
        }
        if (len >= sizeof(u->host)) {
            *what = "has a host name that is too long";
            return -EINVAL;
        }
        bool numeric = true;
        for (const char *c = p; c < host_end; c++) {
            if (!host_char_ok(*c)) {
                *what = "has a bad host name";
                return -EINVAL;
            }
            if (!is_digit(*c) && *c != '.')
                numeric = false;
        }
        uint32_t v4;
        if (numeric && read_ipv4(p, host_end, &v4) != 0) {
            *what = "has a bad IPv4 address";
            return -EINVAL;
        }
        memcpy(u->host, p, len);
        u->host[len] = '\0';
    }
    if (host_end < end) {
        port_start = host_end + 1;
        int rc = read_port(port_start, end, 1, &u->port);
        if (rc != 0) {
            *what = rc == -ERANGE ? "has a port out of range 1-65535" : "has a bad port";
            return rc;
        }
        u->port_explicit = true;
    }
    return 0;
}

/* Base path from [p, end): validated, trailing slashes dropped. */
static int url_path(const char *p, const char *end, struct parsed_url *u, const char **what)
{
    while (end > p && end[-1] == '/')
        end--;
    size_t len = (size_t)(end - p);
    if (len >= sizeof(u->base_path)) {
        *what = "has a path that is too long";
        return -EINVAL;
    }
    for (const char *c = p; c < end; c++) {
        unsigned char ch = (unsigned char)*c;
        if (ch <= 0x20 || ch >= 0x7f) {
            *what = "has a space or control character in its path";
            return -EINVAL;
        }
    }
    memcpy(u->base_path, p, len);
    u->base_path[len] = '\0';
    return 0;
}

/* Fills the Host header value from host, port and scheme. */
static void url_set_authority(struct parsed_url *u)
{
    uint16_t def = u->tls ? HTTPS_DEFAULT_PORT : HTTP_DEFAULT_PORT;
    const char *lb = u->host_is_ipv6 ? "[" : "", *rb = u->host_is_ipv6 ? "]" : "";
    if (u->port == def)
        snprintf(u->authority, sizeof(u->authority), "%s%s%s", lb, u->host, rb);
    else
        snprintf(u->authority, sizeof(u->authority), "%s%s%s:%u", lb, u->host, rb,
                 (unsigned)u->port);
}

/* Scheme at the start of s: sets u->tls and returns the authority's start, or NULL. */
static const char *url_scheme(const char *s, struct parsed_url *u, char *err, size_t errlen)
{
    if (strncasecmp(s, "https://", 8) == 0) {
        u->tls = true;
        return s + 8;
    }
    if (strncasecmp(s, "http://", 7) == 0) {
        u->tls = false;
        return s + 7;
    }
    const char *sep = strstr(s, "://");
    if (sep && sep > s && sep - s <= SCHEME_SHOWN_MAX) {
        if (err && errlen)
            snprintf(err, errlen,
                     "has an unsupported scheme \"%.*s\" (expected http:// or https://)",
                     (int)(sep - s), s);
    } else if (err && errlen) {
        snprintf(err, errlen, "is not a URL %s", URL_EXPECT);
    }
    return NULL;
}

int parse_url(const char *s, struct parsed_url *out, char *err, size_t errlen)
{
    struct parsed_url u;
    memset(&u, 0, sizeof(u));
    if (!s || !*s) {
        set_err(err, errlen,
                "is empty (expected http[s]://HOST[:PORT][/PATH], e.g. "
                "https://server.example.test:8443)");
        return -EINVAL;
    }
    const char *p = url_scheme(s, &u, err, errlen);
    if (!p)
        return -EINVAL;
    const char *what = NULL;
    size_t auth_len = strcspn(p, "/?#");
    const char *auth_end = p + auth_len;
    int rc = 0;
    if (memchr(p, '@', auth_len)) {
        what = "contains user:password@ (credentials do not belong in URLs)";
        rc = -EACCES;
    }
    if (rc == 0)
        rc = url_authority(p, auth_end, &u, &what);
    const char *path_end = auth_end + strcspn(auth_end, "?#");
    if (rc == 0 && *path_end != '\0') {
        what = "has a query or fragment (expected none)";
        rc = -EINVAL;
    }
    if (rc == 0)
        rc = url_path(auth_end, path_end, &u, &what);
    if (rc != 0) {
        /* a reason that carries its own "(...)" needs no generic expectation */
        if (err && errlen && strchr(what, '('))
            snprintf(err, errlen, "%s", what);
        else if (err && errlen)
            snprintf(err, errlen, "%s %s", what, URL_EXPECT);
        return rc;
    }
    if (!u.port_explicit)
        u.port = u.tls ? HTTPS_DEFAULT_PORT : HTTP_DEFAULT_PORT;
    url_set_authority(&u);
    *out = u;
    return 0;
}

int parse_url_format(const struct parsed_url *url, char *buf, size_t n)
{
    int w =
        snprintf(buf, n, "%s://%s%s", url->tls ? "https" : "http", url->authority, url->base_path);
    if (w < 0 || (size_t)w >= n) {
        if (n)
            buf[0] = '\0';
        return -ENOSPC;
    }
    return w;
}

void parse_url_redact(const char *s, char *buf, size_t n)
{
    if (!buf || n == 0)
        return;
    if (!s) {
        buf[0] = '\0';
        return;
    }
    const char *sep = strstr(s, "://");
    const char *auth = sep ? sep + 3 : s;
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *c = auth; c < auth + auth_len; c++) {
        if (*c == '@')
            at = c; /* the last '@' ends the userinfo */
    }
    if (!at)
        snprintf(buf, n, "%s", s);
    else
        snprintf(buf, n, "%.*s***%s", (int)(auth - s), s, at);
}

/* ---- IPv4 ranges ---- */

static const char RANGE_EXPECT[] = "(expected a.b.c.d-a.b.c.e in ascending order with at most "
                                   "65536 addresses, e.g. 127.0.0.2-127.0.0.254)";

int parse_ipv4_range(const char *s, struct ipv4_range *out, char *err, size_t errlen)
{
    const char *p = s ? s : "";
    const char *dash = strchr(p, '-');
    const char *end = p + strlen(p);
    struct ipv4_range r;
    const char *what = NULL;
    int rc = 0;
    if (read_ipv4(p, dash ? dash : end, &r.first) != 0 ||
        (dash && read_ipv4(dash + 1, end, &r.last) != 0)) {
        what = "is not an IPv4 range";
        rc = -EINVAL;
    } else {
        if (!dash)
            r.last = r.first;
        if (r.last < r.first) {
            what = "is descending";
            rc = -ERANGE;
        } else if ((uint64_t)r.last - r.first + 1 > PARSE_IPV4_RANGE_MAX) {
            what = "holds too many addresses";
            rc = -ERANGE;
        }
    }
    if (rc != 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s %s", what, RANGE_EXPECT);
        return rc;
    }
    *out = r;
    return 0;
}

uint32_t parse_ipv4_range_count(const struct ipv4_range *r)
{
    return r->last - r->first + 1;
}

int parse_ipv4_range_format(const struct ipv4_range *r, char *buf, size_t n)
{
    int w;
    uint32_t a = r->first, b = r->last;
    if (a == b)
        w = snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    else
        w = snprintf(buf, n, "%u.%u.%u.%u-%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
                     a & 255, b >> 24, (b >> 16) & 255, (b >> 8) & 255, b & 255);
    if (w < 0 || (size_t)w >= n) {
        if (n)
            buf[0] = '\0';
        return -ENOSPC;
    }
    return w;
}

/* ---- listen addresses ---- */

int parse_listen_addr(const char *s, struct parsed_listen *out, char *err, size_t errlen)
{
    const char *p = s ? s : "";
    const char *end = p + strlen(p);
    struct parsed_listen l;
    memset(&l, 0, sizeof(l));
    const char *colon;
    int rc = -EINVAL;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        struct in6_addr a;
        if (close && close[1] == ':' && read_ipv6(p + 1, close, l.host, sizeof(l.host), &a) == 0) {
            colon = close + 1;
            rc = read_port(colon + 1, end, 0, &l.port);
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l.addr;
            sin6->sin6_family = AF_INET6;
            sin6->sin6_addr = a;
            sin6->sin6_port = htons(l.port);
            l.addr_len = sizeof(*sin6);
        }
    } else if ((colon = strrchr(p, ':')) != NULL) {
        uint32_t v4;
        if (read_ipv4(p, colon, &v4) == 0 && (size_t)(colon - p) < sizeof(l.host)) {
            memcpy(l.host, p, (size_t)(colon - p));
            rc = read_port(colon + 1, end, 0, &l.port);
            struct sockaddr_in *sin = (struct sockaddr_in *)&l.addr;
            sin->sin_family = AF_INET;
            sin->sin_addr.s_addr = htonl(v4);
            sin->sin_port = htons(l.port);
            l.addr_len = sizeof(*sin);
        }
    }
    if (rc != 0) {
        if (err && errlen)
            snprintf(err, errlen,
                     "%s (expected ADDR:PORT with a numeric address and a port 0-65535, e.g. "
                     "127.0.0.1:9090 or [::1]:9090)",
                     rc == -ERANGE ? "has a port out of range" : "is not a listen address");
        return rc;
    }
    *out = l;
    return 0;
}
