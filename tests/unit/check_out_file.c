/* tests/unit/check_out_file.c - outputs never destroy and never lose data silently
 * (engine/out_file): a FIFO, a copy of /dev/null's device node (made with mknod, as root), a
 * socket and a directory are refused and left as they were; a regular file is replaced with
 * its mode kept, through a symbolic link the link survives; "-" is standard output; standard
 * output on /dev/full reports ENOSPC by name; a stream on a regular file that hits its size
 * limit ends at its last complete line; and the real fleetsim refuses such outputs with exit 2
 * before anything runs, and exits 1 naming ENOSPC when its interval log is lost. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/out_file.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"

/* /dev/null's device numbers (Linux). */
#define DEV_NULL_MAJOR 1
#define DEV_NULL_MINOR 3
/* Size limit of the stream test's file and the line written into it until it fails. */
#define FSIZE_LIMIT_BYTES 1000
#define LINE_TEXT "{\"time\":\"2026-01-01T00:00:00Z\",\"series\":[1,2,3]}\n"

static char dir[64], fifo[128], node[128], sock[96], regular[128], link_path[128], fresh[128];

static int fill_hello(FILE *f, void *arg, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    return fputs(arg, f) >= 0 ? 0 : -errno;
}

static void setup(void)
{
    testenv_mkdtemp(dir, sizeof dir, "check_out_file");
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(node, sizeof node, "%s/null", dir);
    snprintf(sock, sizeof sock, "%s/sock", dir);
    snprintf(regular, sizeof regular, "%s/regular.json", dir);
    snprintf(link_path, sizeof link_path, "%s/link.json", dir);
    snprintf(fresh, sizeof fresh, "%s/new.json", dir);
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
}

static void teardown(void)
{
    testenv_rmtree(dir);
}

static mode_t kind_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    return st.st_mode & S_IFMT;
}

/* Every way of writing path is refused with reason_part in the message; path keeps its kind. */
static void assert_refused(const char *path, const char *reason_part)
{
    char err[256];
    mode_t kind = kind_of(path);
    ck_assert_int_ne(out_file_check(path, err, sizeof err), 0);
    ck_assert_msg(strstr(err, reason_part) != NULL, "%s: %s", path, err);
    ck_assert_int_ne(out_file_write(path, fill_hello, "x\n", err, sizeof err), 0);
    ck_assert_msg(strstr(err, reason_part) != NULL, "%s: %s", path, err);
    ck_assert_ptr_null(out_stream_open(path, err, sizeof err));
    ck_assert_msg(strstr(err, reason_part) != NULL, "%s: %s", path, err);
    ck_assert_int_eq(kind_of(path), kind);
}

START_TEST(fifo_refused_without_waiting)
{
    assert_refused(fifo, "is a FIFO");
}
END_TEST

START_TEST(device_node_copy_refused)
{
    if (geteuid() != 0)
        return; /* mknod needs root; the FIFO, socket and directory cases still run */
    ck_assert_int_eq(mknod(node, S_IFCHR | 0666, makedev(DEV_NULL_MAJOR, DEV_NULL_MINOR)), 0);
    assert_refused(node, "is a character device");
}
END_TEST

START_TEST(socket_and_directory_refused)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_refused(sock, "is a socket");
    close(fd);
    assert_refused(dir, "is a directory");
}
END_TEST

START_TEST(regular_file_replaced_keeping_mode_and_link)
{
    char err[256];
    struct stat st;
    ck_assert_int_eq(testenv_write_file(regular, "old\n", 4, 0640), 0);
    ck_assert_int_eq(chmod(regular, 0640), 0);
    ck_assert_int_eq(out_file_write(regular, fill_hello, "new\n", err, sizeof err), 0);
    char *text = testenv_slurp(regular);
    ck_assert_str_eq(text, "new\n");
    free(text);
    ck_assert_int_eq(stat(regular, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0640);
    ck_assert_int_eq(symlink("regular.json", link_path), 0);
    ck_assert_int_eq(out_file_write(link_path, fill_hello, "linked\n", err, sizeof err), 0);
    ck_assert_int_eq(kind_of(link_path), S_IFLNK);
    text = testenv_slurp(regular);
    ck_assert_str_eq(text, "linked\n");
    free(text);
    ck_assert_int_eq(out_file_write(fresh, fill_hello, "fresh\n", err, sizeof err), 0);
    ck_assert_int_eq(kind_of(fresh), S_IFREG);
}
END_TEST

/* A failing fill leaves the old file and no temporary file behind. */
static int fill_fails(FILE *f, void *arg, char *err, size_t errlen)
{
    (void)arg;
    fputs("partial", f);
    snprintf(err, errlen, "made up failure");
    return -EINVAL;
}

START_TEST(failed_write_leaves_target_untouched)
{
    char err[256];
    ck_assert_int_eq(testenv_write_file(regular, "old\n", 4, 0644), 0);
    ck_assert_int_eq(out_file_write(regular, fill_fails, NULL, err, sizeof err), -EINVAL);
    ck_assert_str_eq(err, "made up failure");
    char *text = testenv_slurp(regular);
    ck_assert_str_eq(text, "old\n");
    free(text);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 2", dir); /* fifo and regular */
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Points standard output at path (the test runs in its own process). */
static void stdout_to(const char *path)
{
    fflush(stdout);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
    close(fd);
}

START_TEST(dash_is_stdout)
{
    char err[256];
    ck_assert(out_file_is_stdout("-"));
    ck_assert_int_eq(out_file_check("-", err, sizeof err), 0);
    ck_assert_str_eq(out_file_name("-"), "standard output");
    stdout_to(regular);
    ck_assert_int_eq(out_file_write("-", fill_hello, "to stdout\n", err, sizeof err), 0);
    struct out_stream *s = out_stream_open("-", err, sizeof err);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(out_stream_write_line(s, LINE_TEXT, strlen(LINE_TEXT)), 0);
    ck_assert_int_eq(out_stream_close(s), 0);
    char *text = testenv_slurp(regular);
    ck_assert_str_eq(text, "to stdout\n" LINE_TEXT);
    free(text);
}
END_TEST

START_TEST(full_disk_named_as_such)
{
    char err[256];
    stdout_to("/dev/full");
    ck_assert_int_eq(out_file_write("-", fill_hello, "lost\n", err, sizeof err), -ENOSPC);
    ck_assert_str_eq(err, "No space left on device");
    struct out_stream *s = out_stream_open("-", err, sizeof err);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(out_stream_write_line(s, LINE_TEXT, strlen(LINE_TEXT)), -ENOSPC);
    ck_assert_int_eq(out_stream_write_line(s, LINE_TEXT, strlen(LINE_TEXT)), -ENOSPC);
    ck_assert_int_eq(out_stream_error(s), -ENOSPC);
    ck_assert_int_eq(out_stream_close(s), -ENOSPC);
}
END_TEST

START_TEST(stream_ends_at_last_complete_line)
{
    char err[256];
    struct rlimit lim = {FSIZE_LIMIT_BYTES, FSIZE_LIMIT_BYTES};
    signal(SIGXFSZ, SIG_IGN); /* EFBIG instead of the signal */
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    struct out_stream *s = out_stream_open(regular, err, sizeof err);
    ck_assert_ptr_nonnull(s);
    size_t len = strlen(LINE_TEXT), good = 0;
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++) { /* 100 lines are far beyond the limit */
        rc = out_stream_write_line(s, LINE_TEXT, len);
        good += rc == 0 ? 1 : 0;
    }
    ck_assert_int_eq(rc, -EFBIG);
    ck_assert_int_eq(out_stream_close(s), -EFBIG);
    struct stat st;
    ck_assert_int_eq(stat(regular, &st), 0);
    ck_assert_int_eq((size_t)st.st_size, good * len);
    ck_assert_uint_eq(good, FSIZE_LIMIT_BYTES / len);
}
END_TEST

/* fleetsim with args; returns its exit status with its stderr in err. */
static int fleetsim(const char *const *args, const char *out_path, char *err_text, size_t n)
{
    char prog[PROCS_PATH_MAX], err_path[160];
    const char *argv[PROCS_MAX_ARGS + 2] = {testenv_build_path("fleetsim", prog, sizeof prog)};
    for (size_t i = 0; args[i] && i < PROCS_MAX_ARGS; i++)
        argv[i + 1] = args[i];
    snprintf(err_path, sizeof err_path, "%s/stderr.txt", dir);
    pid_t pid = procs_spawn((char *const *)argv, out_path, err_path, NULL);
    ck_assert_int_gt(pid, 0);
    int status = procs_wait(pid, 60000);
    char *text = testenv_slurp(err_path);
    snprintf(err_text, n, "%s", text);
    free(text);
    return status;
}

START_TEST(fleetsim_refuses_special_outputs_up_front)
{
    char err[4096], out[160];
    snprintf(out, sizeof out, "%s/stdout.txt", dir);
    const char *const opts[] = {"--summary-json", "--html", "--interval-log"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const char *args[] = {"--agents", "1", "--duration", "1h", opts[i], fifo, NULL};
        ck_assert_int_eq(fleetsim(args, out, err, sizeof err), 2);
        ck_assert_msg(strstr(err, "is a FIFO") != NULL && strstr(err, "started") == NULL, "%s",
                      err);
    }
    const char *merge[] = {"merge", "x.json", "--summary-json", fifo, NULL};
    ck_assert_int_eq(fleetsim(merge, out, err, sizeof err), 2);
    ck_assert_msg(strstr(err, "is a FIFO") != NULL, "%s", err);
    const char *two[] = {"--summary-json", "-", "--html", "-", NULL};
    ck_assert_int_eq(fleetsim(two, out, err, sizeof err), 2);
    ck_assert_msg(strstr(err, "standard output") != NULL, "%s", err);
    ck_assert_int_eq(kind_of(fifo), S_IFIFO);
}
END_TEST

START_TEST(fleetsim_interval_log_on_full_disk_exits_1)
{
    char err[8192];
    const char *args[] = {"--agents", "2",  "--duration",     "2s", "--report-interval",
                          "1s",       "-q", "--interval-log", "-",  NULL};
    ck_assert_int_eq(fleetsim(args, "/dev/full", err, sizeof err), 1);
    ck_assert_msg(strstr(err, "--interval-log standard output: No space left on device") != NULL,
                  "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("out_file");
    const TTest *files[] = {fifo_refused_without_waiting,
                            device_node_copy_refused,
                            socket_and_directory_refused,
                            regular_file_replaced_keeping_mode_and_link,
                            failed_write_leaves_target_untouched,
                            dash_is_stdout,
                            full_disk_named_as_such,
                            stream_ends_at_last_complete_line};
    TCase *tc = testenv_tcase_tests(s, "files", 0, files, sizeof files / sizeof files[0]);
    tcase_add_checked_fixture(tc, setup, teardown);
    const TTest *prog[] = {fleetsim_refuses_special_outputs_up_front,
                           fleetsim_interval_log_on_full_disk_exits_1};
    tc = testenv_tcase_tests(s, "fleetsim", 0, prog, sizeof prog / sizeof prog[0]);
    tcase_add_checked_fixture(tc, setup, teardown);
    return testenv_run(s);
}
