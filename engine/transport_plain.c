/* engine/transport_plain.c - the plain TCP transport (see transport.h): a non-blocking socket
 * written with send() and read with recvmsg() through engine/rx_time, which returns when the
 * bytes reached the host; and the TCP connect the TLS transport shares. */
#include "engine/transport.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/rx_time.h"

/* errno values after which a non-blocking call is simply repeated on readiness */
static bool retryable(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

enum transport_io transport_tcp_connect(struct transport *t, const struct transport_peer *peer,
                                        uint64_t *started_ns, char *why, size_t n)
{
    int fd = socket(peer->addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, n, "socket: %s", strerror(errno));
        return TRANSPORT_ERR_LOCAL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    (void)rx_time_enable(fd); /* without it, reads are timed when they happen */
    if (peer->source && peer->addr->sa_family == AF_INET) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr = *peer->source};
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
            snprintf(why, n, "bind source address: %s", strerror(errno));
            close(fd);
            return TRANSPORT_ERR_CONNECT;
        }
    }
    *started_ns = clock_now_ns();
    if (connect(fd, peer->addr, peer->addr_len) != 0 && errno != EINPROGRESS) {
        snprintf(why, n, "connect: %s", strerror(errno));
        close(fd);
        return TRANSPORT_ERR_CONNECT;
    }
    t->fd = fd;
    return TRANSPORT_DONE;
}

int transport_connect_result(const struct transport *t)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        soerr = errno;
    return soerr;
}

void transport_tcp_close(struct transport *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}

static enum transport_io plain_write(struct transport *t, const void *buf, size_t len, size_t *done,
                                     char *why, size_t n)
{
    ssize_t r = send(t->fd, buf, len, MSG_NOSIGNAL);
    if (r >= 0) {
        *done = (size_t)r;
        return (size_t)r == len ? TRANSPORT_DONE : TRANSPORT_WANT_WRITE;
    }
    *done = 0;
    if (retryable(errno))
        return TRANSPORT_WANT_WRITE;
    snprintf(why, n, "send: %s", strerror(errno));
    return TRANSPORT_ERR_IO;
}

static enum transport_io plain_read(struct transport *t, void *buf, size_t cap, size_t *got,
                                    char *why, size_t n)
{
    ssize_t r = rx_time_recv(t->fd, buf, cap, &t->rx_ns);
    if (r > 0) {
        *got = (size_t)r;
        return TRANSPORT_DONE;
    }
    if (r == 0)
        return TRANSPORT_EOF;
    if (retryable(errno))
        return TRANSPORT_WANT_READ;
    snprintf(why, n, "%s", strerror(errno));
    return TRANSPORT_ERR_IO;
}

/* The kernel holds whatever was not read, and epoll sees it. */
static bool plain_nothing_buffered(const struct transport *t)
{
    (void)t;
    return false;
}

static bool plain_no_pending_data(struct transport *t)
{
    (void)t;
    return false;
}

static void plain_close(struct transport *t, bool clean)
{
    (void)clean;
    transport_tcp_close(t);
}

const struct transport_ops transport_plain = {
    .name = "tcp",
    .connect = transport_tcp_connect,
    .handshake = NULL,
    .write = plain_write,
    .read = plain_read,
    .readable = plain_nothing_buffered,
    .pending_data = plain_no_pending_data,
    .idle = NULL,
    .close = plain_close,
    .release = NULL,
};
