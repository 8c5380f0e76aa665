# seed/seed.mk - seeding certctl's database with the simulated fleet (library seed/libseed.a),
# certctl's table shapes (seed/schema.sql), the `fleetsim seed` command and its tests/bench.
noinst_LIBRARIES += seed/libseed.a
seed_libseed_a_SOURCES = seed/seed.c seed/seed.h seed/seed_private.h seed/seed_pq.c \
	seed/seed_conn.c seed/seed_copy.c seed/seed_sql.c seed/seed_print.c \
	seed/seed_cmd.c seed/seed_cmd.h
EXTRA_DIST += seed/schema.sql bench/seed_bench.sh docs/seeding.md

check_PROGRAMS += tests/integration/check_seed
TESTS += tests/integration/check_seed
tests_integration_check_seed_SOURCES = tests/integration/check_seed.c
tests_integration_check_seed_CFLAGS = $(TEST_CFLAGS)
tests_integration_check_seed_LDADD = tests/lib/libtesthelp.a seed/libseed.a sim/libsim.a \
	engine/libparse.a $(DEPLIBS) $(TEST_LIBS)
