/* engine/rx_time.c - kernel receive timestamps for the client's reads (see rx_time.h): the
 * SCM_TIMESTAMPNS control message of recvmsg(), moved from CLOCK_REALTIME to CLOCK_MONOTONIC,
 * and an OpenSSL BIO method over a socket that reads with it. */
#include "engine/rx_time.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engine/clock.h"

int rx_time_enable(int fd)
{
    int on = 1;
    return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) == 0 ? 0 : -errno;
}

uint64_t rx_time_to_monotonic_ns(int64_t sec, long nsec)
{
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    uint64_t now = clock_now_ns();
    int64_t age_ns = ((int64_t)real.tv_sec - sec) * (int64_t)CLOCK_NS_PER_S + (real.tv_nsec - nsec);
    if (age_ns <= 0)
        return now;
    return (uint64_t)age_ns >= now ? now : now - (uint64_t)age_ns;
}

ssize_t rx_time_recv(int fd, void *buf, size_t cap, uint64_t *arrival_ns)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct timespec))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t r = recvmsg(fd, &msg, 0);
    if (r <= 0)
        return r;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS &&
            cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(cm), sizeof ts);
            *arrival_ns = rx_time_to_monotonic_ns(ts.tv_sec, ts.tv_nsec);
            return r;
        }
    }
    *arrival_ns = clock_now_ns();
    return r;
}

/* ---- the BIO ------------------------------------------------------------------------------ */

struct rx_bio {
    int fd;
    uint64_t *arrival_ns;
};

/* errno values after which a non-blocking read or write is simply retried later */
static int retryable(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

static int bio_read(BIO *b, char *out, int len)
{
    struct rx_bio *rb = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    ssize_t r = rx_time_recv(rb->fd, out, (size_t)len, rb->arrival_ns);
    if (r < 0 && retryable(errno))
        BIO_set_retry_read(b);
    return (int)r;
}

static int bio_write(BIO *b, const char *in, int len)
{
    struct rx_bio *rb = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (len <= 0)
        return 0;
    ssize_t r = send(rb->fd, in, (size_t)len, MSG_NOSIGNAL);
    if (r < 0 && retryable(errno))
        BIO_set_retry_write(b);
    return (int)r;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    struct rx_bio *rb = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1; /* nothing is buffered here */
    case BIO_C_GET_FD:
        if (ptr)
            *(int *)ptr = rb->fd;
        return rb->fd;
    default:
        return 0;
    }
}

static int bio_destroy(BIO *b)
{
    free(BIO_get_data(b));
    BIO_set_data(b, NULL);
    return 1;
}

static BIO_METHOD *bio_method;
static pthread_once_t bio_method_once = PTHREAD_ONCE_INIT;

/* Built once per process; OpenSSL keeps it until exit. */
static void make_bio_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "fleetsim socket with receive times");
    if (m && BIO_meth_set_read(m, bio_read) && BIO_meth_set_write(m, bio_write) &&
        BIO_meth_set_ctrl(m, bio_ctrl) && BIO_meth_set_destroy(m, bio_destroy)) {
        bio_method = m;
        return;
    }
    BIO_meth_free(m);
}

BIO *rx_time_bio_new(int fd, uint64_t *arrival_ns)
{
    pthread_once(&bio_method_once, make_bio_method);
    if (!bio_method)
        return NULL;
    struct rx_bio *rb = malloc(sizeof *rb);
    BIO *b = rb ? BIO_new(bio_method) : NULL;
    if (!b) {
        free(rb);
        return NULL;
    }
    rb->fd = fd;
    rb->arrival_ns = arrival_ns;
    BIO_set_data(b, rb);
    BIO_set_init(b, 1);
    return b;
}
