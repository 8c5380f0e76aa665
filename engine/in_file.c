/* engine/in_file.c - inputs that may be forged or damaged (see in_file.h): regular files only,
 * a size cap, and control characters escaped for the terminal. */
#include "engine/in_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)
/* First buffer for a file whose size is not known yet. */
#define READ_FIRST_BYTES 4096
/* Bytes an escaped control character takes: \xHH. */
#define ESCAPED_LEN 4

const char *in_file_kind_name(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISSOCK(mode) ? "a socket"
                            : "a special file";
}

static int too_large(size_t max, char *err, size_t errlen)
{
    snprintf(err, errlen, "is larger than %zu MiB (the input size limit)", max / MIB);
    return -EFBIG;
}

/* Reads fd to its end into a new buffer (first sized for hint bytes), refusing more than max
 * bytes: a file may grow while it is read. */
static int read_all(int fd, size_t max, size_t hint, char **text, size_t *len, char *err,
                    size_t errlen)
{
    size_t cap = hint < READ_FIRST_BYTES ? READ_FIRST_BYTES : hint + 1, used = 0;
    cap = cap > max + 1 ? max + 1 : cap;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        if (used == cap) {
            if (cap > max)
                break; /* more than max bytes */
            size_t next = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *grown = realloc(buf, next + 1);
            if (grown == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap = next;
        }
        ssize_t got = read(fd, buf + used, cap - used);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            free(buf);
            snprintf(err, errlen, "cannot be read: %s", strerror(e));
            return -e;
        }
        if (got == 0)
            break;
        used += (size_t)got;
    }
    if (buf == NULL) {
        snprintf(err, errlen, "cannot be read: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    if (used > max) {
        free(buf);
        return too_large(max, err, errlen);
    }
    buf[used] = '\0';
    *text = buf;
    *len = used;
    return 0;
}

int in_file_read(const char *path, size_t max, char **text, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    *text = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot be read: %s", strerror(e));
        return -e;
    }
    int rc = 0;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot be read: %s", strerror(-rc));
    } else if (!S_ISREG(st.st_mode)) {
        rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        snprintf(err, errlen, "is %s, not a regular file", in_file_kind_name(st.st_mode));
    } else if ((uint64_t)st.st_size > max) {
        rc = too_large(max, err, errlen);
    } else {
        rc = read_all(fd, max, (size_t)st.st_size, text, len, err, errlen);
    }
    close(fd);
    return rc;
}

char *in_file_escape_controls(char *s, size_t n)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f)
            continue;
        if (len + ESCAPED_LEN - 1 >= n) { /* no room for the escape: cut the text here */
            s[i] = '\0';
            break;
        }
        char hex[ESCAPED_LEN + 1];
        snprintf(hex, sizeof hex, "\\x%02x", c);
        memmove(s + i + ESCAPED_LEN, s + i + 1, len - i); /* the rest and its NUL */
        memcpy(s + i, hex, ESCAPED_LEN);
        len += ESCAPED_LEN - 1;
        i += ESCAPED_LEN - 1;
    }
    return s;
}
