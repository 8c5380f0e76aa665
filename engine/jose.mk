# engine/jose.mk - JOSE helpers: base64url, JWK, thumbprint, flattened JWS (owner: acme).
noinst_LIBRARIES += engine/libjose.a
engine_libjose_a_SOURCES = engine/jose.h
