# sim/scenario.mk - build fragment (included by Makefile.am after sim/sim.mk): JSON scenario
# files (sim/scenario_file.c) in sim/libsim.a, their test, and the example files.
sim_libsim_a_SOURCES += sim/scenario_file.c sim/scenario_file.h

check_PROGRAMS += tests/unit/check_scenario_file
TESTS += tests/unit/check_scenario_file
tests_unit_check_scenario_file_SOURCES = tests/unit/check_scenario_file.c
tests_unit_check_scenario_file_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_scenario_file_LDADD = tests/lib/libtesthelp.a src/libcli.a sim/libsim.a \
	engine/libmeasure.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)

EXTRA_DIST += docs/examples/nightly-soak.json docs/examples/renewal-wave.json \
	docs/examples/acme-orders.json
