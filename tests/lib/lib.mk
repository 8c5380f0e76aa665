# tests/lib/lib.mk - test helpers (library tests/lib/libtesthelp.a): throwaway PostgreSQL clusters
# (tests/lib/pg.h over tests/lib/pgtmp.sh). Link it before $(DEPLIBS) (it uses libpq).
noinst_LIBRARIES += tests/lib/libtesthelp.a
tests_lib_libtesthelp_a_SOURCES = tests/lib/pg.c tests/lib/pg.h
tests_lib_libtesthelp_a_CPPFLAGS = $(AM_CPPFLAGS) -DPGTMP_SRCDIR='"$(abs_top_srcdir)"'
EXTRA_DIST += tests/lib/pgtmp.sh
# Pebble on loopback for the ACME tests and benchmark (owner: acme); users also link
# target/libacme.a engine/libnet.a engine/libjose.a engine/libmeasure.a.
tests_lib_libtesthelp_a_SOURCES += tests/lib/pebble.c tests/lib/pebble.h
