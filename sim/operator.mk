# sim/operator.mk - the operator actor (bulk-renewal campaigns) in sim/libsim.a, the run's glue
# in fleetsim, and their tests (included by Makefile.am after sim/sim.mk).
sim_libsim_a_SOURCES += sim/operator.c sim/operator.h sim/operator_plan.c
fleetsim_SOURCES += src/run_operator.c src/run_operator.h

check_PROGRAMS += tests/unit/check_operator
TESTS += tests/unit/check_operator
tests_unit_check_operator_SOURCES = tests/unit/check_operator.c \
	tests/unit/http_test_server.c tests/unit/http_test_server.h
tests_unit_check_operator_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_operator_LDADD = tests/lib/libtesthelp.a src/libcli.a sim/libsim.a \
	engine/libnet.a engine/libmeasure.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)

check_PROGRAMS += tests/integration/check_operator
TESTS += tests/integration/check_operator
tests_integration_check_operator_SOURCES = tests/integration/check_operator.c
tests_integration_check_operator_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_operator_LDADD = tests/lib/libtesthelp.a target/libtarget.a \
	target/libacme.a target/libstore.a seed/libseed.a sim/libsim.a engine/libnet.a \
	engine/libjose.a engine/libmeasure.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
