/* sim/csr.h - what an agent does with keys: a fresh ECDSA P-256 key and a PKCS#10 CSR for a
 * certificate (Subject CN, SANs as DNS names or, when they hold "@", e-mail addresses), and the
 * check that a fetched certificate carries the key kept for it (docs/certctl.md, "The agent", steps
 * 4-5). The CSR's DER is built directly (fixed P-256 SubjectPublicKeyInfo prefix, EVP_DigestSign),
 * which costs about a quarter of X509_REQ's encoder round trip (docs/fleet.md, "Work: CSR and
 * deployment"); OpenSSL parses and verifies the result like any other CSR. */
#ifndef FLEETSIM_SIM_CSR_H
#define FLEETSIM_SIM_CSR_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a P-256 private scalar and of an uncompressed public point (0x04 || X || Y). */
#define CSR_PRIV_LEN 32
#define CSR_PUB_LEN 65

/* The key an agent keeps for one certificate (memory only, about 100 bytes). */
struct csr_key {
    uint8_t priv[CSR_PRIV_LEN];
    uint8_t pub[CSR_PUB_LEN];
};

/* A reusable key-generation context (one per event-loop thread; not thread-safe). */
struct csr_gen;

/* Creates a generator. Returns NULL on OpenSSL failure. */
struct csr_gen *csr_gen_new(void);

/* Frees a generator (NULL is fine). */
void csr_gen_free(struct csr_gen *g);

/* Generates a fresh P-256 key and a SHA-256-signed CSR with Subject CN=cn (omitted when cn is
 * NULL or "") and, when n_sans > 0, a subjectAltName extension request: sans[i] containing '@'
 * as rfc822Name, else dNSName. Stores the key in *key_out and a malloc'd NUL-terminated PEM
 * ("-----BEGIN CERTIFICATE REQUEST-----" ...) in *pem_out (caller frees) with its length in
 * *pem_len_out (may be NULL). Returns 0, -EINVAL for bad arguments (a name over 64 KiB), or
 * -EIO on an OpenSSL failure. */
int csr_generate(struct csr_gen *g, const char *cn, const char *const *sans, size_t n_sans,
                 struct csr_key *key_out, char **pem_out, size_t *pem_len_out);

/* Checks the first certificate of a PEM chain (pem, pem_len bytes, need not be NUL-terminated)
 * against key: returns 1 when its public key is key's P-256 point, 0 when it is another key,
 * -EBADMSG when no certificate can be parsed. */
int csr_cert_matches_key(const char *pem, size_t pem_len, const struct csr_key *key);

/* Hex digits of a SHA-256 certificate fingerprint. */
#define CSR_FINGERPRINT_HEX 64

/* Writes the SHA-256 fingerprint of the first certificate of a PEM chain (its DER) as 64
 * lower-case hex digits and a NUL into hex, as the real agent's verify report does. Returns 0
 * or -EBADMSG when no certificate can be parsed. */
int csr_cert_fingerprint(const char *pem, size_t pem_len, char hex[CSR_FINGERPRINT_HEX + 1]);

/* Overwrites a key with zeros (before it is dropped or reused). */
void csr_key_wipe(struct csr_key *key);

#endif
