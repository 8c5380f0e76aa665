/* engine/out_file.c - output files that never destroy and never lose data silently (see
 * out_file.h): the file-type rules, the atomic whole-file writer and the line stream. */
#include "engine/out_file.h"

#include "engine/in_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPECT "(expected a regular file, a new file or - for standard output)"

struct out_stream {
    int fd;
    bool own_fd;  /* false for standard output */
    bool regular; /* a regular file this stream truncated: cut back on a failed write */
    off_t good;   /* bytes of complete lines written */
    int error;    /* first failure, negative errno */
};

bool out_file_is_stdout(const char *path)
{
    return path != NULL && strcmp(path, OUT_FILE_STDOUT) == 0;
}

const char *out_file_name(const char *path)
{
    return out_file_is_stdout(path) ? "standard output" : path;
}

static int say(char *err, size_t errlen, int rc, const char *fmt, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, what);
    return rc;
}

/* The file path stands for: the target of a symbolic link (so the link survives), else path. */
static int resolve(const char *path, char *out, size_t n, char *err, size_t errlen)
{
    struct stat st;
    if (strlen(path) >= n)
        return say(err, errlen, -ENAMETOOLONG, "cannot be written: %s " EXPECT,
                   strerror(ENAMETOOLONG));
    if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode)) {
        strcpy(out, path);
        return 0;
    }
    char *real = realpath(path, NULL);
    if (real == NULL || strlen(real) >= n) {
        free(real);
        return say(err, errlen, -ENOENT, "%s " EXPECT, "is a symbolic link to nothing");
    }
    strcpy(out, real);
    free(real);
    return 0;
}

/* The rules of out_file_check on an already resolved path; *st_out gets the file's status
 * (st_mode 0 when it does not exist yet). */
static int check_target(const char *target, struct stat *st_out, char *err, size_t errlen)
{
    struct stat st;
    memset(st_out, 0, sizeof *st_out);
    if (stat(target, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            return say(err, errlen, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL, "is %s " EXPECT,
                       in_file_kind_name(st.st_mode));
        if (access(target, W_OK) != 0)
            return say(err, errlen, -errno, "cannot be written: %s " EXPECT, strerror(errno));
        *st_out = st;
        return 0;
    }
    if (errno != ENOENT)
        return say(err, errlen, -errno, "cannot be written: %s " EXPECT, strerror(errno));
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", target);
    const char *d = dirname(dir);
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
        return say(err, errlen, -ENOENT, "cannot be written: %s " EXPECT,
                   "its directory does not exist");
    if (access(d, W_OK | X_OK) != 0)
        return say(err, errlen, -errno, "cannot be written: its directory: %s " EXPECT,
                   strerror(errno));
    return 0;
}

int out_file_check(const char *path, char *err, size_t errlen)
{
    char target[PATH_MAX];
    struct stat st;
    if (path == NULL || *path == '\0')
        return say(err, errlen, -EINVAL, "is empty %s", EXPECT);
    if (out_file_is_stdout(path))
        return 0;
    int rc = resolve(path, target, sizeof target, err, errlen);
    return rc != 0 ? rc : check_target(target, &st, err, errlen);
}

/* Keeps the first failure: returns rc when it is already an error, else -errno when failed. */
static int first_error(int rc, bool failed)
{
    return rc != 0 ? rc : failed ? -(errno ? errno : EIO) : 0;
}

static int fill_stdout(out_file_fill_fn fill, void *arg, char *err, size_t errlen)
{
    errno = 0;
    int rc = fill(stdout, arg, err, errlen);
    rc = first_error(rc, fflush(stdout) != 0);
    rc = first_error(rc, ferror(stdout) != 0);
    if (rc != 0) { /* reported by the caller: drop the rest, later output may still go */
        __fpurge(stdout);
        clearerr(stdout);
    }
    return rc;
}

/* Creates a new temporary file beside target (O_EXCL: never an existing file) with the mode of
 * the file it replaces. Returns the fd, or a negative errno. */
static int create_tmp(const char *target, const struct stat *old, char *tmp, size_t n)
{
    static unsigned serial;
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", target);
    const char *base = basename(copy);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", target);
    const char *d = dirname(dir);
    if ((size_t)snprintf(tmp, n, "%s/.%s.tmp.%ld.%u", d, base, (long)getpid(), serial++) >= n)
        return -ENAMETOOLONG;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0)
        return -errno;
    if (old->st_mode != 0 && fchmod(fd, old->st_mode & 07777) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return -e;
    }
    return fd;
}

/* Fills the new temporary file fd and makes it durable. Returns 0 or a negative errno. */
static int fill_tmp(int fd, out_file_fill_fn fill, void *arg, char *err, size_t errlen)
{
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        int e = errno;
        close(fd);
        return -e;
    }
    errno = 0;
    int rc = fill(f, arg, err, errlen);
    rc = first_error(rc, fflush(f) != 0 || ferror(f));
    rc = first_error(rc, rc == 0 && fsync(fileno(f)) != 0);
    return first_error(rc, fclose(f) != 0);
}

/* out_file_write for a path other than "-". */
static int write_via_tmp(const char *path, out_file_fill_fn fill, void *arg, char *err,
                         size_t errlen)
{
    char target[PATH_MAX], tmp[PATH_MAX + 64];
    struct stat old;
    int rc = resolve(path, target, sizeof target, err, errlen);
    if (rc == 0)
        rc = check_target(target, &old, err, errlen);
    if (rc != 0)
        return rc;
    int fd = create_tmp(target, &old, tmp, sizeof tmp);
    if (fd < 0)
        return fd;
    rc = fill_tmp(fd, fill, arg, err, errlen);
    if (rc == 0) /* the target may have changed while the file was written */
        rc = check_target(target, &old, err, errlen);
    if (rc == 0 && rename(tmp, target) != 0)
        rc = -errno;
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int out_file_write(const char *path, out_file_fill_fn fill, void *arg, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    int rc = out_file_is_stdout(path) ? fill_stdout(fill, arg, err, errlen)
                                      : write_via_tmp(path, fill, arg, err, errlen);
    if (rc != 0 && err && errlen && err[0] == '\0')
        snprintf(err, errlen, "%s", strerror(-rc));
    return rc;
}

/* Opens the resolved target of a stream; a FIFO without a reader fails at once (ENXIO). */
static int open_stream_fd(const char *target, char *err, size_t errlen)
{
    int fd = open(target, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666);
    struct stat st;
    if (fd < 0)
        return errno == ENXIO
                   ? say(err, errlen, -EINVAL, "is %s " EXPECT, "a FIFO")
                   : say(err, errlen, -errno, "cannot be written: %s " EXPECT, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return say(err, errlen, -EINVAL, "is %s " EXPECT, in_file_kind_name(st.st_mode));
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 || ftruncate(fd, 0) != 0) {
        int e = errno;
        close(fd);
        return say(err, errlen, -e, "cannot be written: %s " EXPECT, strerror(e));
    }
    return fd;
}

struct out_stream *out_stream_open(const char *path, char *err, size_t errlen)
{
    char target[PATH_MAX];
    struct stat st;
    struct out_stream *s = calloc(1, sizeof *s);
    if (s == NULL) {
        say(err, errlen, -ENOMEM, "cannot be written: %s", strerror(ENOMEM));
        return NULL;
    }
    if (out_file_is_stdout(path)) {
        s->fd = STDOUT_FILENO;
        return s;
    }
    int rc = out_file_check(path, err, errlen);
    if (rc == 0)
        rc = resolve(path, target, sizeof target, err, errlen);
    if (rc == 0)
        rc = check_target(target, &st, err, errlen);
    if (rc == 0)
        rc = s->fd = open_stream_fd(target, err, errlen);
    if (rc < 0) {
        free(s);
        return NULL;
    }
    s->own_fd = s->regular = true;
    return s;
}

int out_stream_write_line(struct out_stream *s, const char *line, size_t len)
{
    size_t done = 0;
    if (s->error != 0)
        return s->error;
    while (done < len) {
        ssize_t w = write(s->fd, line + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            s->error = w < 0 ? -errno : -EIO;
            break;
        }
        done += (size_t)w;
    }
    if (s->error == 0) {
        s->good += (off_t)len;
        return 0;
    }
    if (s->regular && ftruncate(s->fd, s->good) == 0) /* no half line left behind */
        lseek(s->fd, s->good, SEEK_SET);
    return s->error;
}

int out_stream_error(const struct out_stream *s)
{
    return s ? s->error : 0;
}

int out_stream_close(struct out_stream *s)
{
    if (s == NULL)
        return 0;
    int rc = s->error;
    if (s->own_fd) {
        rc = first_error(rc, rc == 0 && fsync(s->fd) != 0);
        rc = first_error(rc, close(s->fd) != 0);
    }
    free(s);
    return rc;
}
