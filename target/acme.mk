# target/acme.mk - the target's CA and ACME server side (owner: acme); library target/libacme.a.
noinst_LIBRARIES += target/libacme.a
target_libacme_a_SOURCES = target/ca.c target/ca.h
