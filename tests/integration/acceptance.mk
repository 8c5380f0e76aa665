# tests/integration/acceptance.mk - integration tests proving the issues' acceptance items that
# the areas' own suites left open (owner: acceptance): ACME and certctl endpoints over HTTPS,
# the presets' thresholds and exit codes through the real binaries, and seed -> target --db ->
# fleet end to end on a throwaway PostgreSQL.

# Every test here is a Check program with the target's test client (target_client.c).
ACCEPTANCE_CLIENT = tests/integration/target_client.c tests/integration/target_client.h
# The tests running fleetsim and fleetsim-target as processes (tests/lib/procs.h) link the
# simulator side only and need both programs built.
ACCEPTANCE_PROC_LDADD = tests/lib/libtesthelp.a sim/libsim.a engine/libnet.a engine/libmeasure.a \
	engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
ACCEPTANCE_PROC_DEPS = fleetsim$(EXEEXT) fleetsim-target$(EXEEXT)

check_PROGRAMS += tests/integration/check_target_acme
TESTS += tests/integration/check_target_acme
tests_integration_check_target_acme_SOURCES = tests/integration/check_target_acme.c \
	$(ACCEPTANCE_CLIENT)
tests_integration_check_target_acme_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_target_acme_LDADD = tests/lib/libtesthelp.a $(TARGET_LIBS) $(DEPLIBS) \
	$(TEST_LIBS)

check_PROGRAMS += tests/integration/check_presets
TESTS += tests/integration/check_presets
tests_integration_check_presets_SOURCES = tests/integration/check_presets.c $(ACCEPTANCE_CLIENT)
tests_integration_check_presets_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_presets_LDADD = $(ACCEPTANCE_PROC_LDADD)
EXTRA_tests_integration_check_presets_DEPENDENCIES = $(ACCEPTANCE_PROC_DEPS)

check_PROGRAMS += tests/integration/check_seed_e2e
TESTS += tests/integration/check_seed_e2e
tests_integration_check_seed_e2e_SOURCES = tests/integration/check_seed_e2e.c $(ACCEPTANCE_CLIENT)
tests_integration_check_seed_e2e_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_seed_e2e_LDADD = $(ACCEPTANCE_PROC_LDADD)
EXTRA_tests_integration_check_seed_e2e_DEPENDENCIES = $(ACCEPTANCE_PROC_DEPS)

check_PROGRAMS += tests/integration/check_fleet_retire
TESTS += tests/integration/check_fleet_retire
tests_integration_check_fleet_retire_SOURCES = tests/integration/check_fleet_retire.c \
	$(ACCEPTANCE_CLIENT)
tests_integration_check_fleet_retire_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_fleet_retire_LDADD = $(ACCEPTANCE_PROC_LDADD)
EXTRA_tests_integration_check_fleet_retire_DEPENDENCIES = $(ACCEPTANCE_PROC_DEPS)
