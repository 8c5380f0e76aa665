# engine/parse.mk - build fragment (included by Makefile.am): pure parsers for command-line
# values (engine/libparse.a) and their unit test.
noinst_LIBRARIES += engine/libparse.a
engine_libparse_a_SOURCES = engine/parse.c engine/parse_net.c engine/parse_file.c engine/parse.h

check_PROGRAMS += tests/unit/check_parse
TESTS += tests/unit/check_parse
tests_unit_check_parse_SOURCES = tests/unit/check_parse.c
tests_unit_check_parse_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_parse_LDADD = tests/lib/libtesthelp.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)

# engine/text_out.h (header-only): text assembled without printf on the per-request paths
EXTRA_DIST += engine/text_out.h
check_PROGRAMS += tests/unit/check_text_out
TESTS += tests/unit/check_text_out
tests_unit_check_text_out_SOURCES = tests/unit/check_text_out.c
tests_unit_check_text_out_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_text_out_LDADD = tests/lib/libtesthelp.a $(DEPLIBS) $(TEST_LIBS)
