# src/cli.mk - build fragment (included by Makefile.am): fleetsim's command line (options,
# --help, --version) in src/libcli.a, its main, the man page and their tests.
noinst_LIBRARIES += src/libcli.a
src_libcli_a_SOURCES = src/options.c src/options.h src/options_values.c src/options_values.h \
	src/options_check.c src/options_json.c src/help.c src/help.h
fleetsim_SOURCES += src/main.c src/cmd_run.h
dist_man_MANS += man/fleetsim.1

check_PROGRAMS += tests/unit/check_options
TESTS += tests/unit/check_options
tests_unit_check_options_SOURCES = tests/unit/check_options.c
tests_unit_check_options_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_options_LDADD = tests/lib/libtesthelp.a src/libcli.a sim/libsim.a \
	engine/libmeasure.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)

TESTS += tests/unit/man_options.sh
EXTRA_DIST += tests/unit/man_options.sh
