/* tests/lib/testenv.c - what the Check test programs share (see testenv.h). */
#include "tests/lib/testenv.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Directory levels nftw keeps open at once while removing a tree. */
#define RMTREE_OPEN_FDS 16

int testenv_run(struct Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

struct TCase *testenv_tcase(struct Suite *s, const char *name, double timeout_s)
{
    TCase *tc = tcase_create(name);
    if (timeout_s > 0)
        tcase_set_timeout(tc, timeout_s);
    suite_add_tcase(s, tc);
    return tc;
}

struct TCase *testenv_tcase_tests(struct Suite *s, const char *name, double timeout_s,
                                  const struct TTest *const *tests, size_t n)
{
    TCase *tc = testenv_tcase(s, name, timeout_s);
    for (size_t i = 0; i < n; i++)
        tcase_add_test(tc, tests[i]);
    return tc;
}

bool testenv_flag(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && strcmp(v, "1") == 0;
}

bool testenv_unit_only(void)
{
    return testenv_flag("FLEETSIM_UNIT_ONLY");
}

char *testenv_build_path(const char *rel, char *buf, size_t n)
{
    const char *top = getenv("top_builddir");
    snprintf(buf, n, "%s/%s", top && *top ? top : ".", rel);
    return buf;
}

int testenv_src_path(const char *rel, char *buf, size_t n)
{
    const char *top = getenv("top_srcdir");
    int len = snprintf(buf, n, "%s/%s", top && *top ? top : TESTLIB_SRCDIR, rel);
    return (len < 0 || (size_t)len >= n) ? -1 : len;
}

void testenv_mkdtemp(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "/tmp/%s.XXXXXX", name);
    if (mkdtemp(buf) == NULL) {
        perror("mkdtemp");
        exit(EXIT_FAILURE);
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int testenv_rmtree(const char *dir)
{
    return nftw(dir, rm_entry, RMTREE_OPEN_FDS, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int testenv_write_file(const char *path, const char *content, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    ssize_t put = write(fd, content, len);
    return close(fd) == 0 && put == (ssize_t)len ? 0 : -1;
}

char *testenv_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    size_t cap = 4096, len = 0, got;
    char *s = malloc(cap);
    while (s && (got = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (len + 1 == cap) {
            char *bigger = realloc(s, cap * 2);
            if (!bigger) {
                free(s);
                s = NULL;
                break;
            }
            s = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (!s)
        return strdup("");
    s[len] = '\0';
    return s;
}

const char *testenv_tail(const char *s)
{
    if (!s)
        return "";
    size_t len = strlen(s);
    if (len <= TESTENV_TAIL_BYTES)
        return s;
    const char *tail = s + len - TESTENV_TAIL_BYTES;
    const char *line = strchr(tail, '\n');
    return line && line[1] ? line + 1 : tail;
}
