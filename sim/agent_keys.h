/* sim/agent_keys.h - the keys one agent keeps: one per certificate for the agent's whole life,
 * as the real agent keeps <cert_id>.key in its key directory and never deletes it (a new CSR
 * for the same certificate replaces it). Nothing caps the count: it is bounded by the
 * certificates mapped to the agent's targets. Compact: per key fleetsim keeps the public point
 * (65 bytes, what a fetched certificate is checked against; the private scalar is wiped once
 * the CSR is signed) and the certificate id in one allocation, plus one pointer in a sorted
 * array: about 100 bytes for a 20-character id (docs/fleet.md). */
#ifndef FLEETSIM_SIM_AGENT_KEYS_H
#define FLEETSIM_SIM_AGENT_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "sim/csr.h"

struct agent_key_entry;

/* An agent's kept keys, sorted by certificate id (binary search). Zero-initialised = empty. */
struct agent_keys {
    struct agent_key_entry **v;
    uint32_t n, cap;
};

/* Keeps pub (CSR_PUB_LEN bytes) for cert_id, replacing the key kept for it before. Returns 1
 * when a new certificate's key was added, 0 when one was replaced, -ENOMEM. */
int agent_keys_put(struct agent_keys *k, const char *cert_id, const uint8_t *pub);

/* The public point kept for cert_id (CSR_PUB_LEN bytes), or NULL. */
const uint8_t *agent_keys_find(const struct agent_keys *k, const char *cert_id);

/* Bytes one kept key costs for a certificate id of id_len characters (allocation rounded to
 * malloc's 16-byte granules, its 8-byte header, and the array slot). */
size_t agent_keys_bytes_per_key(size_t id_len);

/* Frees every kept key and returns how many there were. */
uint32_t agent_keys_clear(struct agent_keys *k);

#endif
