# engine/jose.mk - JOSE helpers: base64url, JWK, thumbprint, flattened JWS (owner: acme).
noinst_LIBRARIES += engine/libjose.a
engine_libjose_a_SOURCES = engine/jose.c engine/jose_jwk.c engine/jose.h engine/jose_int.h

check_PROGRAMS += tests/unit/check_jose
TESTS += tests/unit/check_jose
tests_unit_check_jose_SOURCES = tests/unit/check_jose.c
tests_unit_check_jose_CFLAGS = $(TEST_CFLAGS)
tests_unit_check_jose_LDADD = tests/lib/libtesthelp.a engine/libjose.a $(DEPLIBS) $(TEST_LIBS)
