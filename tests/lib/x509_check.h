/* tests/lib/x509_check.h - certificate checks the ACME tests share: a PEM chain whose leaf must
 * verify against a trust store with the rest as intermediates, the ARI renewal-info id of a
 * certificate computed independently of fleetsim's own (sim/acme_proto.c), a finalize CSR
 * built with OpenSSL's X509_REQ (not sim/csr's hand-built DER), and a fresh key for each JWS
 * algorithm. Users link engine/libjose.a. */
#ifndef FLEETSIM_TESTS_LIB_X509_CHECK_H
#define FLEETSIM_TESTS_LIB_X509_CHECK_H

#include <stddef.h>

#include <openssl/x509.h>

#include "engine/jose.h"

/* Parses pem (a leaf, then intermediates) and fails the test unless the leaf parses and
 * verifies against store with the rest as untrusted intermediates; what names the chain in the
 * failure message ("certificate 3"). Returns the leaf (the caller frees it) and, when n_rest is
 * not NULL, sets *n_rest to the number of intermediates. */
X509 *tx509_verified_leaf(const char *pem, X509_STORE *store, const char *what, int *n_rest);

/* "b64url(AKI).b64url(serial)": the renewal-info id of x (RFC 9773) into out (n bytes), for a
 * serial without its top bit set (fleetsim-target's and Pebble's). */
void tx509_ari_id(X509 *x, char *out, size_t n);

/* The base64url DER of a CSR signed by key with CN names[0] and one DNS SAN per name (n >= 1),
 * as an ACME finalize payload carries it; fails the test if OpenSSL cannot sign it. The caller
 * frees the string. */
char *tx509_csr_b64url(EVP_PKEY *key, const char *const *names, size_t n);

/* A fresh key for alg: P-256 for ES256, RSA-2048 for RS256, Ed25519 for EdDSA (NULL when
 * OpenSSL fails; the caller frees it). */
EVP_PKEY *tx509_gen_key(enum jose_alg alg);

#endif
