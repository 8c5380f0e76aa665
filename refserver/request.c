/* refserver/request.c - the protocol-independent half of the request object: header lookup,
 * the server's own authority, response headers, and the reply calls that hand over to the
 * request's protocol module. */
#include "refserver/request.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "refserver/conn_internal.h"

const char *http_req_header(const struct http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *http_method_name(enum req_method m)
{
    static const char *const names[] = {"GET",    "HEAD",  "POST",    "PUT",
                                        "DELETE", "PATCH", "OPTIONS", "OTHER"};
    return (unsigned)m < sizeof names / sizeof names[0] ? names[m] : "OTHER";
}

bool http_req_local_authority(const struct http_req *req, char *buf, size_t n)
{
    char addr[INET6_ADDRSTRLEN];
    const struct sockaddr *sa = req->local;
    int len = -1;
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &in4->sin_addr, addr, sizeof addr))
            len = snprintf(buf, n, "%s:%u", addr, (unsigned)ntohs(in4->sin_port));
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof addr))
            len = snprintf(buf, n, "[%s]:%u", addr, (unsigned)ntohs(in6->sin6_port));
    }
    return len > 0 && (size_t)len < n;
}

int http_reply_header(struct http_req *req, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value), need = nl + 2 + vl + 2;
    if (req->resp_headers_len + need > req->resp_headers_cap) {
        size_t cap = req->resp_headers_cap ? req->resp_headers_cap : 256;
        while (cap < req->resp_headers_len + need)
            cap *= 2;
        char *p = realloc(req->resp_headers, cap);
        if (!p)
            return -ENOMEM;
        req->resp_headers = p;
        req->resp_headers_cap = cap;
    }
    char *o = req->resp_headers + req->resp_headers_len;
    memcpy(o, name, nl);
    memcpy(o + nl, ": ", 2);
    memcpy(o + nl + 2, value, vl);
    memcpy(o + nl + 2 + vl, "\r\n", 2);
    req->resp_headers_len += need;
    return 0;
}

const char *http_status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "Request Entity Too Large";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Unknown";
    }
}

void http_reply_send(struct http_req *req, int status, const char *reason)
{
    req->proto->reply(req, status, reason);
}

void http_reply_close(struct http_req *req)
{
    req->proto->abandon(req);
}
