# target/target.mk - fleetsim-target, the certctl-compatible reference server (owner: target):
# library target/libtarget.a (everything but main), the fleetsim-target program, its man page,
# unit and integration tests, and the wrk benchmark script.
noinst_LIBRARIES += target/libtarget.a
target_libtarget_a_SOURCES = \
	target/target.c target/target.h target/target_internal.h \
	target/router.c target/reply.c \
	target/endpoint.c target/endpoint.h \
	target/auth.c target/auth.h \
	target/ratelimit.c target/ratelimit.h \
	target/fault.c target/fault.h \
	target/stats.c target/stats.h \
	target/json_scan.c target/json_scan.h \
	target/json_write.c target/json_write.h \
	target/tls_server.c target/tls_server.h \
	target/handlers_misc.c target/handlers_agent.c target/handlers_csr.c \
	target/handlers_operator.c

# Everything fleetsim-target and the target's tests link, users before what they use.
TARGET_LIBS = target/libtarget.a target/libacme.a target/libstore.a seed/libseed.a \
	sim/libsim.a engine/libnet.a engine/libjose.a engine/libmeasure.a engine/libparse.a

bin_PROGRAMS += fleetsim-target
fleetsim_target_SOURCES = target/target_main.c
fleetsim_target_LDADD = $(TARGET_LIBS) $(DEPLIBS)
dist_man_MANS += man/fleetsim-target.1

check_PROGRAMS += tests/unit/check_target_parts
TESTS += tests/unit/check_target_parts
tests_unit_check_target_parts_SOURCES = tests/unit/check_target_parts.c
tests_unit_check_target_parts_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_target_parts_LDADD = tests/lib/libtesthelp.a $(TARGET_LIBS) $(DEPLIBS) \
	$(TEST_LIBS)

check_PROGRAMS += tests/integration/check_target
TESTS += tests/integration/check_target
tests_integration_check_target_SOURCES = tests/integration/check_target.c \
	tests/integration/target_client.c tests/integration/target_client.h
tests_integration_check_target_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_target_LDADD = tests/lib/libtesthelp.a $(TARGET_LIBS) $(DEPLIBS) \
	$(TEST_LIBS)
# The integration test also runs the fleetsim-target program as a separate process.
EXTRA_tests_integration_check_target_DEPENDENCIES = fleetsim-target$(EXEEXT)

EXTRA_DIST += bench/target_bench.sh bench/target_heartbeat.lua docs/target.md
