/* tests/lib/pebble.h - start and stop Debian's Pebble (an independent ACME test server) on
 * loopback for tests and benchmarks: its own CA and 127.0.0.1/localhost certificate made with
 * refserver/ca.h, a config on 127.0.0.1 with free ports, no outbound validation
 * (PEBBLE_VA_ALWAYS_VALID, PEBBLE_VA_NOSLEEP, -dnsserver 127.0.0.1:1), output to a log file,
 * killed with the test process if it dies. Link with refserver/libacmesrv.a, engine/libnet.a,
 * engine/libjose.a, engine/libmeasure.a. */
#ifndef FLEETSIM_TESTS_LIB_PEBBLE_H
#define FLEETSIM_TESTS_LIB_PEBBLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PEBBLE_PATH_MAX 512
/* How long pebble_start waits for the listener. */
#define PEBBLE_START_TIMEOUT_MS 10000

/* Start options; zero-initialised = defaults. */
struct pebble_options {
    bool set_nonce_reject; /* false: Pebble's default PEBBLE_WFE_NONCEREJECT (5 %) */
    int nonce_reject_pct;  /* with set_nonce_reject: share of valid nonces rejected, 0..100 */
};

/* A running Pebble. pebble_start fills every field. */
struct pebble {
    pid_t pid;
    char dir[64];                  /* temporary directory: config, certificates, pebble.log */
    char ca_path[PEBBLE_PATH_MAX]; /* PEM of the CA that signed Pebble's TLS certificate */
    char log_path[PEBBLE_PATH_MAX];
    char dir_url[128]; /* https://127.0.0.1:PORT/dir */
    uint16_t port, mgmt_port;
};

/* The Pebble binary: $FLEETSIM_PEBBLE when set, else "pebble" found on PATH; NULL when absent.
 * Static storage. */
const char *pebble_binary(void);

/* Starts Pebble and waits until its ACME port accepts connections. Returns 0, or -1 with a
 * one-line reason in err (nothing left running). */
int pebble_start(struct pebble *p, const struct pebble_options *opts, char *err, size_t errlen);

/* Stops Pebble (SIGTERM, then SIGKILL after 3 s) and removes its directory. Safe to call twice
 * or after a failed start. */
void pebble_stop(struct pebble *p);

/* GETs path from the management port (https, trusting ca_path) into a malloc'd NUL-terminated
 * body (caller frees; *len_out may be NULL), e.g. "/roots/0" (Pebble's root, regenerated at
 * every start). Returns 0 on HTTP 200, else -1 with a reason in err. Blocks at most 10 s. */
int pebble_mgmt_get(const struct pebble *p, const char *path, char **body_out, size_t *len_out,
                    char *err, size_t errlen);

#endif
