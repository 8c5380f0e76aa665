# target/acme.mk - the target's CA and ACME server side (owner: acme); library target/libacme.a.
noinst_LIBRARIES += target/libacme.a
target_libacme_a_SOURCES = target/ca.c target/ca.h \
	target/acme_server.c target/acme_server.h target/acme_internal.h \
	target/acme_ari.c target/acme_handlers.c target/acme_orders.c target/acme_state.c \
	target/acme_map.c target/acme_map.h

check_PROGRAMS += tests/unit/check_ca
TESTS += tests/unit/check_ca
tests_unit_check_ca_SOURCES = tests/unit/check_ca.c
tests_unit_check_ca_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_ca_LDADD = tests/lib/libtesthelp.a target/libacme.a engine/libjose.a $(DEPLIBS) \
	$(TEST_LIBS)

check_PROGRAMS += tests/unit/check_acme_server
TESTS += tests/unit/check_acme_server
tests_unit_check_acme_server_SOURCES = tests/unit/check_acme_server.c
tests_unit_check_acme_server_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_acme_server_LDADD = tests/lib/libtesthelp.a target/libacme.a engine/libjose.a \
	$(DEPLIBS) $(TEST_LIBS)

EXTRA_DIST += docs/acme.md
