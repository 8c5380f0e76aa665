/* engine/parse.h - pure parsers for command-line values: durations, rates, counts, percentages,
 * URLs, shard K/N, OS mix, IPv4 ranges, listen addresses, and file checks. Shared by fleetsim's
 * options, fleetsim-target's options and fleetsim seed so every program reads a value the same way.
 *
 * Error convention: every parser returns 0 on success or a negative errno-style code
 * (-EINVAL: not the expected syntax; -ERANGE: out of the allowed range or overflow; for file
 * checks the errno of the failing call) and then writes into err (size errlen, may be 0) a
 * reason phrase meant to follow the quoted value, e.g.
 *     is not a number (expected an integer from 1 to 1000000)
 * so a caller prints `PROG: OPTION: "VALUE" REASON` (parse_error_line does exactly that).
 * On failure the output parameters are left untouched. No parser keeps state or allocates. */
#ifndef FLEETSIM_ENGINE_PARSE_H
#define FLEETSIM_ENGINE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Largest duration any parser accepts: 365 days, in ns (well inside uint64_t). */
#define PARSE_DURATION_MAX_NS (365ULL * 24 * 3600 * 1000000000ULL)
/* Longest host name kept by parse_url (DNS limit is 253). */
#define PARSE_HOST_MAX 256
/* Longest base path kept by parse_url, bytes including the NUL. */
#define PARSE_PATH_MAX 1024
/* Largest number of addresses an IPv4 range may hold. */
#define PARSE_IPV4_RANGE_MAX 65536u
/* Largest shard count N accepted by parse_shard. */
#define PARSE_SHARD_MAX 100000u

/* Duration such as "250ms", "30s", "5m", "8h", "2d", or a combination in descending unit order
 * ("1h30m", "1m30s", "1s500ms"); each part may have a decimal fraction ("1.5s"). Units: ms, s,
 * m, h, d. A bare "0" (no unit) is accepted only when min_ns is 0; any other bare number is an
 * error (missing unit). The value must lie in [min_ns, max_ns]. Stores nanoseconds in *out_ns. */
int parse_duration_ns(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns, char *err,
                      size_t errlen);

/* Writes ns as the shortest duration string parse_duration_ns reads back ("250ms", "1h30m",
 * "0s"; sub-millisecond remainders print as "1.5ms"-style decimals). Returns the length, or
 * -ENOSPC when buf (size n) is too small. */
int parse_format_duration(char *buf, size_t n, uint64_t ns);

/* Rate "N/s", "N/m" or "N/h" (N may have a decimal fraction: "0.5/s"), within
 * [min_per_s, max_per_s]. Stores events per second in *out_per_s. */
int parse_rate_per_s(const char *s, double min_per_s, double max_per_s, double *out_per_s,
                     char *err, size_t errlen);

/* Decimal unsigned integer (no sign, no spaces, no hex) within [min, max]; values past
 * UINT64_MAX are an overflow (-ERANGE). */
int parse_count_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
                    size_t errlen);

/* As parse_count_u64, for uint32_t values. */
int parse_count_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out, char *err,
                    size_t errlen);

/* Percentage "10%" or "2.5%" (the % sign is required) within [min_pct, max_pct]. Stores the
 * percentage (10.0 for "10%", not 0.1) in *out_pct. */
int parse_percent(const char *s, double min_pct, double max_pct, double *out_pct, char *err,
                  size_t errlen);

/* A parsed http:// or https:// URL. */
struct parsed_url {
    bool tls;                       /* https */
    char host[PARSE_HOST_MAX];      /* name or address, without IPv6 brackets */
    bool host_is_ipv6;              /* host is a literal IPv6 address ([::1] in the URL) */
    uint16_t port;                  /* explicit port, or 80 / 443 from the scheme */
    bool port_explicit;             /* the URL carried a port */
    char base_path[PARSE_PATH_MAX]; /* "" for "/" or none, else "/api" (no trailing slash) */
    char authority[PARSE_HOST_MAX +
                   8]; /* Host header value: host, [v6] and ":port" unless default */
};

/* URL "http[s]://host[:port][/base/path]" (scheme case-insensitive; host a DNS name, an IPv4
 * address or a bracketed IPv6 address; port 1-65535). Refuses other schemes, user:password@
 * (secrets do not belong in URLs: -EACCES, so the caller can say where the secret goes),
 * queries and fragments (-EINVAL). Fills *out. Returns 0 or the negative errno with a reason
 * in err. */
int parse_url(const char *s, struct parsed_url *out, char *err, size_t errlen);

/* Writes the URL back as "scheme://authority/base" into buf (size n). Returns the length or
 * -ENOSPC. */
int parse_url_format(const struct parsed_url *url, char *buf, size_t n);

/* Copies the URL text s into buf (size n) with any user:password@ part replaced by "***@",
 * so a mistyped URL can be quoted in an error without its secret. Always NUL-terminates. */
void parse_url_redact(const char *s, char *buf, size_t n);

/* Shard "K/N" with 0 <= K < N and 1 <= N <= PARSE_SHARD_MAX. */
int parse_shard(const char *s, uint32_t *out_k, uint32_t *out_n, char *err, size_t errlen);

/* OS mix "L/W/D": three integer percentages (linux/windows/darwin) adding up to 100.
 * Stores them in out_pct[0..2]. */
int parse_os_mix(const char *s, uint32_t out_pct[3], char *err, size_t errlen);

/* An inclusive IPv4 address range, host byte order. */
struct ipv4_range {
    uint32_t first;
    uint32_t last;
};

/* Range "a.b.c.d-a.b.c.e" (ascending, at most PARSE_IPV4_RANGE_MAX addresses) or a single
 * address "a.b.c.d" (a range of one). Dotted quads only: four decimal parts 0-255 without
 * leading zeros. */
int parse_ipv4_range(const char *s, struct ipv4_range *out, char *err, size_t errlen);

/* Number of addresses in a range (last - first + 1). */
uint32_t parse_ipv4_range_count(const struct ipv4_range *r);

/* Writes "a.b.c.d-a.b.c.e" (or "a.b.c.d" for one address) into buf (size n). Returns the
 * length or -ENOSPC. */
int parse_ipv4_range_format(const struct ipv4_range *r, char *buf, size_t n);

/* A parsed listen address. */
struct parsed_listen {
    struct sockaddr_storage addr; /* AF_INET or AF_INET6, port set */
    socklen_t addr_len;
    char host[64]; /* numeric address as given, without brackets */
    uint16_t port; /* 0 means "any free port" */
};

/* Listen address "ADDR:PORT": ADDR a numeric IPv4 address or a bracketed IPv6 address
 * ("[::1]:9090"); PORT 0-65535 (0 = the kernel picks one). */
int parse_listen_addr(const char *s, struct parsed_listen *out, char *err, size_t errlen);

/* Checks that path names a regular file this process can open for reading (it is opened and
 * closed again). Returns 0 or the negative errno (-EISDIR for a directory). */
int parse_readable_file(const char *path, char *err, size_t errlen);

/* Checks, without creating anything, that path can be an output (engine/out_file.h): "-"
 * (standard output), an existing regular file we may write, or a new name in an existing
 * writable directory; a directory, device node, FIFO or socket is refused. Returns 0 or the
 * negative errno (-EISDIR for a directory). */
int parse_writable_path(const char *path, char *err, size_t errlen);

/* Reads the first line of a file (a secret such as an API key) into buf (size n), without the
 * line end and with surrounding spaces and tabs removed. Fails with -EINVAL when the line is
 * empty or holds control characters, -ENOSPC when it does not fit. The reason never contains
 * the file's content. On any failure buf is zeroed. */
int parse_read_first_line(const char *path, char *buf, size_t n, char *err, size_t errlen);

/* Overwrites the NUL-terminated secret s (an API key, a header block or URL holding one) with
 * zeros and frees it. NULL is a no-op. */
void parse_secret_free(char *s);

/* True when s (NULL is false) is 1 to max_len bytes, all RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - . _ ~): an id that can go into a URL path segment as it is. */
bool parse_unreserved(const char *s, size_t max_len);

/* The value of the hexadecimal digit c (0-9, a-f, A-F), or -1 when c is none. */
int parse_hex_digit(int c);

/* Formats the one-line error `PROG: OPTION: "VALUE" REASON` into out (size outlen). VALUE is
 * shown with non-printable bytes as \xNN and cut to 64 bytes ("..." appended); pass
 * value NULL to leave the value out (for secrets): `PROG: OPTION: REASON`. */
void parse_error_line(char *out, size_t outlen, const char *prog, const char *option,
                      const char *value, const char *reason);

#endif
