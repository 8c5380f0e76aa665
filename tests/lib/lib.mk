# tests/lib/lib.mk - test helpers (library tests/lib/libtesthelp.a): what every Check program
# shares (tests/lib/testenv.h: suite runner, skips, paths, temporary directories), child
# processes (tests/lib/procs.h), throwaway PostgreSQL clusters (tests/lib/pg.h over
# tests/lib/pgtmp.sh). Link it first, before the project's libraries and $(DEPLIBS).
noinst_LIBRARIES += tests/lib/libtesthelp.a
tests_lib_libtesthelp_a_SOURCES = tests/lib/pg.c tests/lib/pg.h
tests_lib_libtesthelp_a_SOURCES += tests/lib/testenv.c tests/lib/testenv.h \
	tests/lib/procs.c tests/lib/procs.h
tests_lib_libtesthelp_a_CFLAGS = $(TEST_CFLAGS)
tests_lib_libtesthelp_a_CPPFLAGS = $(AM_CPPFLAGS) -DTESTLIB_SRCDIR='"$(abs_top_srcdir)"'
EXTRA_DIST += tests/lib/pgtmp.sh
# Pebble on loopback for the ACME tests and benchmark (owner: acme); users also link
# target/libacme.a engine/libnet.a engine/libjose.a engine/libmeasure.a.
tests_lib_libtesthelp_a_SOURCES += tests/lib/pebble.c tests/lib/pebble.h
# ACME client groups run to their end in a test (tests/lib/acme_run.h); users also link
# sim/libsim.a and the engine libraries.
tests_lib_libtesthelp_a_SOURCES += tests/lib/acme_run.c tests/lib/acme_run.h
# The in-process fleetsim-target fixture of the target's integration tests (tests/lib/target_fx.h);
# users also compile tests/integration/target_client.c and link $(TARGET_LIBS).
tests_lib_libtesthelp_a_SOURCES += tests/lib/target_fx.c tests/lib/target_fx.h
# Certificate checks of the ACME tests (tests/lib/x509_check.h); users also link engine/libjose.a.
tests_lib_libtesthelp_a_SOURCES += tests/lib/x509_check.c tests/lib/x509_check.h
