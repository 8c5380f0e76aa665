/* refserver/ca.h - a small in-memory certificate authority for fleetsim-target: a self-signed
 * P-256 CA that issues the target's own TLS certificate and signs CSRs (agent renewals, ACME
 * finalize). After ca_new/ca_load_pem returns, ca_issue_server_cert, ca_sign_csr and the
 * readers may be called from several threads at once (they only read the CA key and cert);
 * ca_free must not race with them. */
#ifndef FLEETSIM_TARGET_CA_H
#define FLEETSIM_TARGET_CA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

struct target_ca;

/* Hex serial buffer size needed by ca_sign_csr (40 hex digits + NUL). */
#define CA_SERIAL_HEX_LEN 41
/* Validity of the CA certificate itself and of ca_issue_server_cert certificates, in days. */
#define CA_ROOT_VALIDITY_DAYS 3650u
#define CA_SERVER_VALIDITY_DAYS 825u
/* Upper bound on validity_days accepted by ca_sign_csr. */
#define CA_MAX_VALIDITY_DAYS 3650u

/* Creates a CA with a fresh P-256 key and a self-signed certificate (subject CN=cn,
 * basicConstraints CA:TRUE critical, keyUsage keyCertSign+cRLSign, SKI). Returns NULL and a
 * one-line reason in err on failure. Free with ca_free. */
struct target_ca *ca_new(const char *cn, char *err, size_t errlen);

/* Loads a CA from a PEM certificate file and a PEM private key file (the key must match the
 * certificate). Returns NULL and a reason in err on failure. */
struct target_ca *ca_load_pem(const char *cert_path, const char *key_path, char *err,
                              size_t errlen);

/* Issues a TLS server certificate for `names` (n >= 1; each a DNS name or an IPv4/IPv6
 * literal, which becomes an IP SAN). CN = names[0]. A fresh P-256 key is generated.
 * On success returns 0 and transfers ownership of *key_out and *cert_out to the caller
 * (EVP_PKEY_free / X509_free). Returns -EINVAL for bad arguments, -EIO on OpenSSL errors. */
int ca_issue_server_cert(struct target_ca *ca, const char *const *names, size_t n,
                         EVP_PKEY **key_out, X509 **cert_out);

/* Verifies the CSR's self-signature, then issues a leaf certificate (serverAuth+clientAuth,
 * digitalSignature, AKI/SKI) for the CSR's public key, valid validity_days (1..3650) from now.
 * dns_names NULL: subject CN and SANs copied from the CSR (CN only if it has no SAN DNS names);
 * otherwise SANs = dns_names[0..n) and CN = dns_names[0].
 * On success returns 0, *pem_chain_out is a malloc'd NUL-terminated PEM of leaf then CA
 * certificate (caller frees), and serial_hex_out (>= CA_SERIAL_HEX_LEN bytes) gets the
 * serial as lowercase hex without leading zeros (certctl's serial_number form).
 * Returns -EINVAL (bad arguments or no name), -EBADMSG (CSR signature does not verify),
 * -EIO (OpenSSL failure). */
int ca_sign_csr(struct target_ca *ca, X509_REQ *req, const char *const *dns_names, size_t n,
                uint32_t validity_days, char **pem_chain_out, char *serial_hex_out);

/* Formats a non-negative serial number as lowercase hex without leading zeros ("0" for zero)
 * into out. Returns 0, -EINVAL (NULL), -ERANGE (negative or longer than 40 digits; out = ""). */
int ca_serial_hex_from_bn(const BIGNUM *bn, char out[CA_SERIAL_HEX_LEN]);

/* Writes the CA certificate (only, no key) as PEM to path. Returns 0 or -errno / -EIO. */
int ca_write_pem(const struct target_ca *ca, const char *path);

/* Writes the CA private key as unencrypted PKCS#8 PEM to path, mode 0600. Returns 0 or
 * -errno / -EIO. */
int ca_write_key_pem(const struct target_ca *ca, const char *path);

/* The CA certificate, owned by the CA (do not free; valid until ca_free). */
X509 *ca_cert(const struct target_ca *ca);

/* Returns a malloc'd PEM string of the CA certificate (caller frees), or NULL. */
char *ca_cert_pem(const struct target_ca *ca);

/* Frees the CA (NULL is fine). */
void ca_free(struct target_ca *ca);

#endif
