# engine/net.mk - build fragment (included by Makefile.am): the HTTP/1.1 client, its response
# parser and TLS setup (engine/libnet.a), and their unit tests.
noinst_LIBRARIES += engine/libnet.a
engine_libnet_a_SOURCES = \
	engine/http_client.c engine/http_client.h \
	engine/http_parse.c engine/http_parse.h \
	engine/tls.c engine/tls.h
# one blocking request on a private loop (pre-flight checks, tests)
engine_libnet_a_SOURCES += engine/http_once.c engine/http_once.h

check_PROGRAMS += tests/unit/check_http_parse tests/unit/check_http_client
TESTS += tests/unit/check_http_parse tests/unit/check_http_client

tests_unit_check_http_parse_SOURCES = tests/unit/check_http_parse.c
tests_unit_check_http_parse_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_http_parse_LDADD = tests/lib/libtesthelp.a engine/libnet.a $(DEPLIBS) \
	$(TEST_LIBS)

tests_unit_check_http_client_SOURCES = tests/unit/check_http_client.c \
	tests/unit/http_test_server.c tests/unit/http_test_server.h
tests_unit_check_http_client_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_http_client_LDADD = tests/lib/libtesthelp.a engine/libnet.a engine/libmeasure.a \
	$(DEPLIBS) $(TEST_LIBS)

noinst_PROGRAMS += bench/client_bench
bench_client_bench_SOURCES = bench/client_bench.c \
	tests/unit/http_test_server.c tests/unit/http_test_server.h
bench_client_bench_LDADD = engine/libnet.a engine/libmeasure.a $(DEPLIBS)

EXTRA_DIST += docs/client.md
