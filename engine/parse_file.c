/* engine/parse_file.c - file checks for command-line values: readable input files, writable
 * output paths, and reading a secret's first line; wiping a secret when done (see parse.h). */
#include "engine/parse.h"

#include "engine/out_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Bytes read per read() call while looking for the first line of a secret file. */
#define READ_CHUNK_BYTES 512

static void err_errno(char *err, size_t errlen, const char *what, int e, const char *expect)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s (expected %s)", what, strerror(e), expect);
}

/* Opens path for reading and checks it is a regular file. Returns the fd or a negative errno. */
static int open_regular(const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        if (err && errlen)
            snprintf(err, errlen, "is empty (expected a readable file)");
        return -EINVAL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        err_errno(err, errlen, "cannot be read", e, "a readable file");
        return -e;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        err_errno(err, errlen, "cannot be read", e, "a readable file");
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        if (err && errlen)
            snprintf(err, errlen, "is %s (expected a readable file)",
                     e == EISDIR ? "a directory" : "not a regular file");
        close(fd);
        return -e;
    }
    return fd;
}

int parse_readable_file(const char *path, char *err, size_t errlen)
{
    int fd = open_regular(path, err, errlen);
    if (fd < 0)
        return fd;
    close(fd);
    return 0;
}

int parse_writable_path(const char *path, char *err, size_t errlen)
{
    return out_file_check(path, err, errlen);
}

/* Reads from fd until a line end or EOF, keeping the first line's bytes in buf (size n).
 * Returns the line length, or a negative errno (-ENOSPC when the line does not fit). */
static int read_line(int fd, char *buf, size_t n)
{
    size_t len = 0;
    char chunk[READ_CHUNK_BYTES];
    int rc = 0;
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = -errno;
            break;
        }
        if (got == 0)
            break;
        char *nl = memchr(chunk, '\n', (size_t)got);
        size_t take = nl ? (size_t)(nl - chunk) : (size_t)got;
        if (len + take >= n) {
            rc = -ENOSPC;
            break;
        }
        memcpy(buf + len, chunk, take);
        len += take;
        if (nl)
            break;
    }
    explicit_bzero(chunk, sizeof(chunk));
    if (rc == 0)
        buf[len] = '\0';
    return rc < 0 ? rc : (int)len;
}

int parse_read_first_line(const char *path, char *buf, size_t n, char *err, size_t errlen)
{
    if (n == 0)
        return -ENOSPC;
    explicit_bzero(buf, n);
    int fd = open_regular(path, err, errlen);
    if (fd < 0)
        return fd;
    int len = read_line(fd, buf, n);
    close(fd);
    if (len < 0) {
        explicit_bzero(buf, n);
        if (len == -ENOSPC) {
            if (err && errlen)
                snprintf(err, errlen,
                         "has a first line longer than %zu bytes (expected one short line)", n - 1);
        } else {
            err_errno(err, errlen, "cannot be read", -len, "a readable file");
        }
        return len;
    }
    size_t start = 0, end = (size_t)len;
    while (end > 0 && (buf[end - 1] == ' ' || buf[end - 1] == '\t' || buf[end - 1] == '\r'))
        end--;
    while (start < end && (buf[start] == ' ' || buf[start] == '\t'))
        start++;
    int rc = 0;
    const char *what = NULL;
    if (start == end) {
        what = "has an empty first line (expected the secret on the first line)";
        rc = -EINVAL;
    }
    for (size_t i = start; i < end && rc == 0; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c < 0x20 || c == 0x7f) {
            what = "has a control character in its first line (expected printable text)";
            rc = -EINVAL;
        }
    }
    if (rc != 0) {
        explicit_bzero(buf, n);
        if (err && errlen)
            snprintf(err, errlen, "%s", what);
        return rc;
    }
    memmove(buf, buf + start, end - start);
    explicit_bzero(buf + (end - start), n - (end - start));
    return 0;
}

void parse_secret_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}
