# engine/parse.mk - build fragment (included by Makefile.am): pure parsers for command-line
# values (engine/libparse.a) and their unit test.
noinst_LIBRARIES += engine/libparse.a
engine_libparse_a_SOURCES = engine/parse.c engine/parse_net.c engine/parse_file.c engine/parse.h

check_PROGRAMS += tests/unit/check_parse
TESTS += tests/unit/check_parse
tests_unit_check_parse_SOURCES = tests/unit/check_parse.c
tests_unit_check_parse_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_parse_LDADD = tests/lib/libtesthelp.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
