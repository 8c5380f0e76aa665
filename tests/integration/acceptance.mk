# tests/integration/acceptance.mk - integration tests proving the issues' acceptance items that
# the areas' own suites left open (owner: acceptance): ACME and certctl endpoints over HTTPS,
# the presets' thresholds and exit codes through the real binaries, and seed -> target --db ->
# fleet end to end on a throwaway PostgreSQL.

check_PROGRAMS += tests/integration/check_target_acme
TESTS += tests/integration/check_target_acme
tests_integration_check_target_acme_SOURCES = tests/integration/check_target_acme.c \
	tests/integration/target_client.c tests/integration/target_client.h
tests_integration_check_target_acme_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_target_acme_LDADD = tests/lib/libtesthelp.a $(TARGET_LIBS) $(DEPLIBS) \
	$(TEST_LIBS)

# These run the fleetsim and fleetsim-target programs as processes (tests/lib/procs.h).
check_PROGRAMS += tests/integration/check_presets
TESTS += tests/integration/check_presets
tests_integration_check_presets_SOURCES = tests/integration/check_presets.c \
	tests/integration/target_client.c tests/integration/target_client.h
tests_integration_check_presets_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_presets_LDADD = tests/lib/libtesthelp.a sim/libsim.a engine/libnet.a \
	engine/libmeasure.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
EXTRA_tests_integration_check_presets_DEPENDENCIES = fleetsim$(EXEEXT) fleetsim-target$(EXEEXT)

check_PROGRAMS += tests/integration/check_seed_e2e
TESTS += tests/integration/check_seed_e2e
tests_integration_check_seed_e2e_SOURCES = tests/integration/check_seed_e2e.c \
	tests/integration/target_client.c tests/integration/target_client.h
tests_integration_check_seed_e2e_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_seed_e2e_LDADD = tests/lib/libtesthelp.a sim/libsim.a engine/libnet.a \
	engine/libmeasure.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
EXTRA_tests_integration_check_seed_e2e_DEPENDENCIES = fleetsim$(EXEEXT) fleetsim-target$(EXEEXT)

check_PROGRAMS += tests/integration/check_fleet_retire
TESTS += tests/integration/check_fleet_retire
tests_integration_check_fleet_retire_SOURCES = tests/integration/check_fleet_retire.c \
	tests/integration/target_client.c tests/integration/target_client.h
tests_integration_check_fleet_retire_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_fleet_retire_LDADD = tests/lib/libtesthelp.a sim/libsim.a engine/libnet.a \
	engine/libmeasure.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
EXTRA_tests_integration_check_fleet_retire_DEPENDENCIES = fleetsim$(EXEEXT) fleetsim-target$(EXEEXT)
