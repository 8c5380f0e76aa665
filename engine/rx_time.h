/* engine/rx_time.h - when response bytes reached this host: the kernel's receive timestamp
 * (SO_TIMESTAMPNS) of the data a read returns, on CLOCK_MONOTONIC, for plain sockets and,
 * through a socket BIO of its own, for OpenSSL. Measuring a response from its arrival rather
 * than from when the event loop got round to reading it keeps fleetsim's own busy moments
 * (and its wake-up latency) out of the server's service time (docs/client.md). */
#ifndef FLEETSIM_ENGINE_RX_TIME_H
#define FLEETSIM_ENGINE_RX_TIME_H

#include <stdint.h>
#include <sys/types.h>

#include <openssl/bio.h>

/* Asks the kernel to timestamp the data fd receives. Returns 0 or -errno (reads then report
 * the time of the read itself). */
int rx_time_enable(int fd);

/* recv(fd, buf, cap, 0) that also sets *arrival_ns (CLOCK_MONOTONIC ns) to when the last of
 * the returned bytes reached the host, or to now when the kernel gave no timestamp. Returns
 * what recv returns (errno set on -1); *arrival_ns is set only when it returns > 0. */
ssize_t rx_time_recv(int fd, void *buf, size_t cap, uint64_t *arrival_ns);

/* Converts a CLOCK_REALTIME timestamp (seconds, nanoseconds) taken by the kernel to
 * CLOCK_MONOTONIC ns, using the two clocks' current offset; never later than now. */
uint64_t rx_time_to_monotonic_ns(int64_t sec, long nsec);

/* A socket BIO for fd (non-blocking; never closes fd) whose reads go through rx_time_recv
 * and store the arrival time in *arrival_ns (which must outlive the BIO); writes use send()
 * with MSG_NOSIGNAL. Returns NULL when out of memory. */
BIO *rx_time_bio_new(int fd, uint64_t *arrival_ns);

#endif
