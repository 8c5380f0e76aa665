# engine/net.mk - build fragment (included by Makefile.am): the HTTP/1.1 client, its response
# parser, TLS setup and the event-loop group (engine/libnet.a), and their unit tests.
noinst_LIBRARIES += engine/libnet.a
engine_libnet_a_SOURCES = \
	engine/http_client.c engine/http_client.h \
	engine/http_parse.c engine/http_parse.h \
	engine/tls.c engine/tls.h
# kernel receive timestamps for reads (plain sockets and an OpenSSL BIO)
engine_libnet_a_SOURCES += engine/rx_time.c engine/rx_time.h
check_PROGRAMS += tests/unit/check_rx_time
TESTS += tests/unit/check_rx_time
tests_unit_check_rx_time_SOURCES = tests/unit/check_rx_time.c \
	tests/unit/http_test_server.c tests/unit/http_test_server.h
tests_unit_check_rx_time_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_rx_time_LDADD = tests/lib/libtesthelp.a engine/libnet.a engine/libmeasure.a \
	engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
# one blocking request on a private loop (pre-flight checks, tests)
engine_libnet_a_SOURCES += engine/http_once.c engine/http_once.h

check_PROGRAMS += tests/unit/check_http_parse tests/unit/check_http_client
TESTS += tests/unit/check_http_parse tests/unit/check_http_client

tests_unit_check_http_parse_SOURCES = tests/unit/check_http_parse.c
tests_unit_check_http_parse_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_http_parse_LDADD = tests/lib/libtesthelp.a engine/libnet.a engine/libparse.a \
	$(DEPLIBS) $(TEST_LIBS)

tests_unit_check_http_client_SOURCES = tests/unit/check_http_client.c \
	tests/unit/http_test_server.c tests/unit/http_test_server.h
tests_unit_check_http_client_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_http_client_LDADD = tests/lib/libtesthelp.a engine/libnet.a engine/libmeasure.a \
	engine/libparse.a $(DEPLIBS) $(TEST_LIBS)

noinst_PROGRAMS += bench/client_bench
bench_client_bench_SOURCES = bench/client_bench.c \
	tests/unit/http_test_server.c tests/unit/http_test_server.h
bench_client_bench_LDADD = engine/libnet.a engine/libmeasure.a engine/libparse.a $(DEPLIBS)

EXTRA_DIST += docs/client.md

# N event loops on their own threads with ticks, interval snapshots, stop and drain (the
# fleet, the ACME actors and the operator run on it)
engine_libnet_a_SOURCES += engine/loop_group.c engine/loop_group.h
check_PROGRAMS += tests/unit/check_loop_group
TESTS += tests/unit/check_loop_group
tests_unit_check_loop_group_SOURCES = tests/unit/check_loop_group.c
tests_unit_check_loop_group_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_loop_group_LDADD = tests/lib/libtesthelp.a engine/libnet.a engine/libmeasure.a \
	engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
