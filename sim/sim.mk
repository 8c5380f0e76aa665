# sim/sim.mk - the certctl world on the engine: identity, agents, fleet (library sim/libsim.a).
noinst_LIBRARIES += sim/libsim.a
sim_libsim_a_SOURCES = sim/identity.c sim/identity.h
sim_libsim_a_SOURCES += sim/schedule.c sim/schedule.h sim/csr.c sim/csr.h \
	sim/agent.c sim/agent.h sim/agent_int.h sim/agent_work.c sim/agent_work.h \
	sim/fleet.c sim/fleet.h sim/register.c sim/register.h sim/preset.c sim/preset.h

check_PROGRAMS += tests/unit/check_identity tests/unit/check_schedule tests/unit/check_csr \
	tests/unit/check_agent
TESTS += tests/unit/check_identity tests/unit/check_schedule tests/unit/check_csr \
	tests/unit/check_agent
tests_unit_check_identity_SOURCES = tests/unit/check_identity.c
tests_unit_check_identity_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_identity_LDADD = tests/lib/libtesthelp.a sim/libsim.a $(DEPLIBS) $(TEST_LIBS)
tests_unit_check_schedule_SOURCES = tests/unit/check_schedule.c
tests_unit_check_schedule_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_schedule_LDADD = tests/lib/libtesthelp.a sim/libsim.a $(DEPLIBS) $(TEST_LIBS)
tests_unit_check_csr_SOURCES = tests/unit/check_csr.c
tests_unit_check_csr_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_csr_LDADD = tests/lib/libtesthelp.a sim/libsim.a $(DEPLIBS) $(TEST_LIBS)
tests_unit_check_agent_SOURCES = tests/unit/check_agent.c
tests_unit_check_agent_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_agent_LDADD = tests/lib/libtesthelp.a sim/libsim.a engine/libnet.a \
	engine/libmeasure.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)

check_PROGRAMS += tests/integration/check_fleet
TESTS += tests/integration/check_fleet
tests_integration_check_fleet_SOURCES = tests/integration/check_fleet.c
tests_integration_check_fleet_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_fleet_LDADD = tests/lib/libtesthelp.a sim/libsim.a engine/libnet.a \
	engine/libmeasure.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
# It runs the fleetsim and fleetsim-target programs.
EXTRA_tests_integration_check_fleet_DEPENDENCIES = fleetsim$(EXEEXT) fleetsim-target$(EXEEXT)

# fleetsim's own cost per agent (RSS, CPU per heartbeat); run by hand from the build directory: bench/fleet_bench.sh
EXTRA_DIST += bench/fleet_bench.sh docs/fleet.md
