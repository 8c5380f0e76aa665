# sim/acme.mk - ACME client actors (in sim/libsim.a), their glue in `fleetsim run`, their unit
# and integration tests (fleetsim-target and Pebble), and the lego benchmark (owner: acme).
sim_libsim_a_SOURCES += sim/acme.c sim/acme.h sim/acme_int.h sim/acme_proto.c sim/acme_proto.h \
	sim/acme_send.c sim/acme_flow.c sim/acme_check.c
fleetsim_SOURCES += src/run_acme.c src/run_acme.h

check_PROGRAMS += tests/unit/check_acme_client
TESTS += tests/unit/check_acme_client
tests_unit_check_acme_client_SOURCES = tests/unit/check_acme_client.c
tests_unit_check_acme_client_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_acme_client_LDADD = tests/lib/libtesthelp.a target/libacme.a sim/libsim.a \
	engine/libnet.a engine/libjose.a engine/libmeasure.a engine/libparse.a $(DEPLIBS) \
	$(TEST_LIBS)

check_PROGRAMS += tests/integration/check_acme_pebble
TESTS += tests/integration/check_acme_pebble
tests_integration_check_acme_pebble_SOURCES = tests/integration/check_acme_pebble.c
tests_integration_check_acme_pebble_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_acme_pebble_LDADD = tests/lib/libtesthelp.a target/libacme.a \
	sim/libsim.a engine/libnet.a engine/libjose.a engine/libmeasure.a engine/libparse.a \
	$(DEPLIBS) $(TEST_LIBS)

check_PROGRAMS += tests/integration/check_acme_target
TESTS += tests/integration/check_acme_target
tests_integration_check_acme_target_SOURCES = tests/integration/check_acme_target.c \
	tests/integration/target_client.c tests/integration/target_client.h
tests_integration_check_acme_target_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_acme_target_LDADD = tests/lib/libtesthelp.a $(TARGET_LIBS) $(DEPLIBS) \
	$(TEST_LIBS)

# bench/acme_bench.sh: fleetsim's ACME orders per second against 8 lego processes on Pebble.
noinst_PROGRAMS += bench/acme_drive
bench_acme_drive_SOURCES = bench/acme_drive.c
bench_acme_drive_LDADD = sim/libsim.a engine/libnet.a engine/libjose.a engine/libmeasure.a \
	engine/libparse.a $(DEPLIBS)
EXTRA_DIST += bench/acme_bench.sh
