# target/store.mk - certctl's data model for fleetsim-target (library target/libstore.a):
# memory and PostgreSQL backends behind target/store.h, and their tests. Links seed/libseed.a
# (PostgreSQL seeding) and sim/libsim.a (fleet identity).
noinst_LIBRARIES += target/libstore.a
target_libstore_a_SOURCES = target/store.h target/store_int.h target/store.c \
	target/store_renew.c target/store_json.c target/store_seed.c \
	target/store_map.c target/store_map.h \
	target/store_mem.h target/store_mem.c target/store_mem_cert.c target/store_mem_job.c \
	target/store_pg.h target/store_pg.c target/store_pg_sql.c target/store_pg_cert.c \
	target/store_pg_job.c

check_PROGRAMS += tests/unit/check_store_mem
TESTS += tests/unit/check_store_mem
tests_unit_check_store_mem_SOURCES = tests/unit/check_store_mem.c tests/unit/store_cases.c \
	tests/unit/store_cases_cert.c tests/unit/store_cases_int.h \
	tests/unit/store_cases.h
tests_unit_check_store_mem_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_store_mem_LDADD = tests/lib/libtesthelp.a target/libstore.a seed/libseed.a \
	sim/libsim.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)

check_PROGRAMS += tests/integration/check_store_pg
TESTS += tests/integration/check_store_pg
tests_integration_check_store_pg_SOURCES = tests/integration/check_store_pg.c \
	tests/unit/store_cases.c tests/unit/store_cases_cert.c tests/unit/store_cases.h \
	tests/unit/store_cases_int.h
tests_integration_check_store_pg_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_store_pg_LDADD = tests/lib/libtesthelp.a target/libstore.a seed/libseed.a \
	sim/libsim.a engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
