/* tests/lib/testenv.h - what the Check test programs share: running the suite, the
 * FLEETSIM_UNIT_ONLY skip of integration tests and other "=1" flags, paths below
 * $top_builddir and $top_srcdir, private temporary directories, and small file helpers. */
#ifndef FLEETSIM_TESTS_LIB_TESTENV_H
#define FLEETSIM_TESTS_LIB_TESTENV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct Suite; /* Check's suite, test case and test (check.h) */
struct TCase;
struct TTest;

/* The exit code that makes automake count a test as skipped. */
#define TESTENV_SKIP 77

/* Runs every test of s (CK_NORMAL output) and frees the runner. Returns EXIT_SUCCESS when no
 * test failed, else EXIT_FAILURE: main returns it. */
int testenv_run(struct Suite *s);

/* A new test case name added to s, with a timeout of timeout_s seconds (0: Check's default,
 * which make check sets through CK_DEFAULT_TIMEOUT). */
struct TCase *testenv_tcase(struct Suite *s, const char *name, double timeout_s);

/* testenv_tcase with the n tests (START_TEST names) added in order. Returns the test case. */
struct TCase *testenv_tcase_tests(struct Suite *s, const char *name, double timeout_s,
                                  const struct TTest *const *tests, size_t n);

/* True when the environment variable name is set to exactly "1". */
bool testenv_flag(const char *name);

/* True when FLEETSIM_UNIT_ONLY=1 (make distcheck): an integration test's main then returns
 * TESTENV_SKIP. */
bool testenv_unit_only(void);

/* "$top_builddir/rel" ("./rel" when the variable is unset or empty) into buf (size n).
 * Returns buf. */
char *testenv_build_path(const char *rel, char *buf, size_t n);

/* "$top_srcdir/rel" (the source tree this was built from when unset or empty) into buf (size
 * n). Returns the length, or -1 when it does not fit. */
int testenv_src_path(const char *rel, char *buf, size_t n);

/* Creates a private directory /tmp/NAME.XXXXXX into buf (size n); exits the program (status 1)
 * when it cannot, as no test could run without it. */
void testenv_mkdtemp(char *buf, size_t n, const char *name);

/* Removes dir and everything below it (links are removed, not followed). Returns 0, or -1 when
 * something could not be removed. */
int testenv_rmtree(const char *dir);

/* Writes len bytes of content to path (created with mode, or truncated). Returns 0 or -1. */
int testenv_write_file(const char *path, const char *content, size_t len, mode_t mode);

/* The whole file at path as a malloc'd NUL-terminated string ("" when it cannot be read); the
 * caller frees it. */
char *testenv_slurp(const char *path);

/* How much of a program's output an assertion message quotes: Check refuses messages longer
 * than CK_MAX_MSG_SIZE (8192 bytes), and fleetsim's verdict, result and threshold lines are at
 * the end of its output. */
#define TESTENV_TAIL_BYTES 2500

/* The last TESTENV_TAIL_BYTES bytes of s (from the start of a line when one begins within
 * them), or s itself when it is shorter; "" for NULL. Points into s: nothing to free. */
const char *testenv_tail(const char *s);

#endif
