/* engine/parse.c - number-like command-line values: counts, durations, rates, percentages,
 * shard K/N, OS mix; hex digits and unreserved ids; the one-line error formatter (see
 * parse.h). Addresses and URLs live in parse_net.c, file checks in parse_file.c. */
#include "engine/parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL
#define NS_PER_MIN (60ULL * NS_PER_S)
#define NS_PER_HOUR (60ULL * NS_PER_MIN)
#define NS_PER_DAY (24ULL * NS_PER_HOUR)
/* Fraction digits kept when reading "1.5s"-style numbers (ns resolution of a second). */
#define FRACTION_DIGITS_MAX 9
/* Bytes of a value quoted in an error line before it is cut. */
#define ERROR_VALUE_MAX 64
/* Number of parts in an OS mix and the total they must reach. */
#define OS_MIX_PARTS 3
#define OS_MIX_TOTAL 100u

/* printf into err when there is room; never fails. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool parse_unreserved(const char *s, size_t max_len)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > max_len)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
              c == '.' || c == '_' || c == '~'))
            return false;
    }
    return true;
}

int parse_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads decimal digits at *p into *out, advancing *p. Returns 0, -EINVAL when no digit is
 * there, -ERANGE on overflow (digits are still consumed). */
static int read_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    bool overflow = false;
    if (!is_digit(*s))
        return -EINVAL;
    for (; is_digit(*s); s++) {
        if (__builtin_mul_overflow(v, 10u, &v) ||
            __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
            overflow = true;
    }
    *p = s;
    *out = v;
    return overflow ? -ERANGE : 0;
}

/* A decimal number "123" or "12.5" split into integer part and fraction (frac / 10^frac_digits). */
struct decimal {
    uint64_t whole;
    uint64_t frac;
    unsigned frac_digits;
};

/* Reads a decimal number at *p (digits, optionally '.' and digits). Extra fraction digits past
 * FRACTION_DIGITS_MAX are consumed and ignored. Returns 0, -EINVAL or -ERANGE. */
static int read_decimal(const char **p, struct decimal *d)
{
    const char *s = *p;
    int rc = read_u64(&s, &d->whole);
    if (rc == -EINVAL)
        return rc;
    d->frac = 0;
    d->frac_digits = 0;
    if (*s == '.') {
        s++;
        if (!is_digit(*s))
            return -EINVAL;
        for (; is_digit(*s); s++) {
            if (d->frac_digits < FRACTION_DIGITS_MAX) {
                d->frac = d->frac * 10 + (uint64_t)(*s - '0');
                d->frac_digits++;
            }
        }
    }
    *p = s;
    return rc;
}

static double decimal_value(const struct decimal *d)
{
    double f = (double)d->frac;
    for (unsigned i = 0; i < d->frac_digits; i++)
        f /= 10.0;
    return (double)d->whole + f;
}

/* ---- counts ---- */

int parse_count_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err,
                    size_t errlen)
{
    const char *p = s ? s : "";
    uint64_t v = 0;
    const char *what = NULL;
    int rc = 0;
    if (*p == '\0') {
        what = "is empty";
        rc = -EINVAL;
    } else if (*p == '-' && is_digit(p[1])) {
        what = "is negative";
        rc = -ERANGE;
    } else {
        rc = read_u64(&p, &v);
        if (rc == -EINVAL || (rc == 0 && *p != '\0') || (rc == -ERANGE && *p != '\0')) {
            what = "is not a number";
            rc = -EINVAL;
        } else if (rc == -ERANGE) {
            what = "is too large";
        } else if (v < min) {
            what = v == 0 ? "is zero" : "is too small";
            rc = -ERANGE;
        } else if (v > max) {
            what = "is too large";
            rc = -ERANGE;
        }
    }
    if (rc != 0) {
        set_err(err, errlen, "%s (expected an integer from %llu to %llu)", what,
                (unsigned long long)min, (unsigned long long)max);
        return rc;
    }
    *out = v;
    return 0;
}

int parse_count_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out, char *err,
                    size_t errlen)
{
    uint64_t v;
    int rc = parse_count_u64(s, min, max, &v, err, errlen);
    if (rc == 0)
        *out = (uint32_t)v;
    return rc;
}

/* ---- durations ---- */

struct duration_unit {
    const char *name;
    uint64_t ns;
};

/* Largest first: a duration's parts must follow this order. "ms" precedes "m" when matching
 * by name, which match_unit handles by comparing whole unit words. */
static const struct duration_unit duration_units[] = {
    {"d", NS_PER_DAY}, {"h", NS_PER_HOUR}, {"m", NS_PER_MIN}, {"s", NS_PER_S}, {"ms", NS_PER_MS},
};
#define N_DURATION_UNITS (sizeof(duration_units) / sizeof(duration_units[0]))

/* Index in duration_units of the unit word [p, p+len), or -1. */
static int match_unit(const char *p, size_t len)
{
    for (size_t i = 0; i < N_DURATION_UNITS; i++) {
        if (strlen(duration_units[i].name) == len && memcmp(duration_units[i].name, p, len) == 0)
            return (int)i;
    }
    return -1;
}

/* d * unit_ns, with overflow detection. */
static int scale_decimal(const struct decimal *d, uint64_t unit_ns, uint64_t *out)
{
    uint64_t v;
    if (__builtin_mul_overflow(d->whole, unit_ns, &v))
        return -ERANGE;
    uint64_t frac = d->frac;
    uint64_t div = 1;
    for (unsigned i = 0; i < d->frac_digits; i++)
        div *= 10;
    /* frac < 1e9 and unit_ns <= one day (< 2^47), so the product needs up to 77 bits. */
    unsigned __int128 part = (unsigned __int128)frac * unit_ns / div;
    if (__builtin_add_overflow(v, (uint64_t)part, &v))
        return -ERANGE;
    *out = v;
    return 0;
}

/* Appends to buf at *len, tracking overflow of the buffer in *len (set to n when full). */
static void append(char *buf, size_t n, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
    if (*len >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *len, n - *len, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= n - *len)
        *len = n;
    else
        *len += (size_t)w;
}

int parse_format_duration(char *buf, size_t n, uint64_t ns)
{
    size_t len = 0;
    if (n == 0)
        return -ENOSPC;
    buf[0] = '\0';
    if (ns == 0) {
        append(buf, n, &len, "0");
        return len >= n ? -ENOSPC : (int)len;
    }
    uint64_t rest = ns;
    for (size_t i = 0; i + 1 < N_DURATION_UNITS; i++) {
        uint64_t q = rest / duration_units[i].ns;
        if (q) {
            append(buf, n, &len, "%llu%s", (unsigned long long)q, duration_units[i].name);
            rest -= q * duration_units[i].ns;
        }
    }
    if (rest) {
        uint64_t ms = rest / NS_PER_MS;
        uint64_t sub = rest % NS_PER_MS;
        if (sub == 0) {
            append(buf, n, &len, "%llums", (unsigned long long)ms);
        } else {
            char frac[8];
            snprintf(frac, sizeof(frac), "%06llu", (unsigned long long)sub);
            for (int i = 5; i > 0 && frac[i] == '0'; i--)
                frac[i] = '\0';
            append(buf, n, &len, "%llu.%sms", (unsigned long long)ms, frac);
        }
    }
    if (len >= n) {
        buf[0] = '\0';
        return -ENOSPC;
    }
    return (int)len;
}

/* Writes the "(expected a duration ...)" tail for [min_ns, max_ns]. */
static void duration_expect(char *out, size_t n, uint64_t min_ns, uint64_t max_ns)
{
    char lo[48], hi[48];
    parse_format_duration(lo, sizeof(lo), min_ns);
    parse_format_duration(hi, sizeof(hi), max_ns);
    snprintf(out, n, "(expected a duration from %s to %s, e.g. 250ms, 30s, 5m or 1h30m)", lo, hi);
}

/* The parsing half of parse_duration_ns: the syntax and the sum. *what is set on failure. */
static int duration_scan(const char *s, uint64_t *total, const char **what, char *unit_buf,
                         size_t unit_len)
{
    const char *p = s;
    int last_unit = -1;
    *total = 0;
    if (*p == '\0') {
        *what = "is empty";
        return -EINVAL;
    }
    if (*p == '-' && is_digit(p[1])) {
        *what = "is negative";
        return -ERANGE;
    }
    while (*p) {
        struct decimal d;
        int rc = read_decimal(&p, &d);
        if (rc == -EINVAL) {
            *what = "is not a duration";
            return -EINVAL;
        }
        if (rc == -ERANGE) {
            *what = "is too large";
            return -ERANGE;
        }
        const char *u = p;
        while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
            p++;
        if (u == p) {
            bool bare_zero = (u == s + 1 && s[0] == '0' && *p == '\0');
            if (bare_zero)
                return 0;
            *what = *p == '\0' ? "has no unit" : "is not a duration";
            return -EINVAL;
        }
        int unit = match_unit(u, (size_t)(p - u));
        if (unit < 0) {
            snprintf(unit_buf, unit_len, "%.*s", (int)(p - u), u);
            *what = NULL; /* unknown unit: the caller quotes unit_buf */
            return -EINVAL;
        }
        if (unit <= last_unit) {
            *what = "has its units out of order";
            return -EINVAL;
        }
        last_unit = unit;
        uint64_t part;
        if (scale_decimal(&d, duration_units[unit].ns, &part) != 0 ||
            __builtin_add_overflow(*total, part, total)) {
            *what = "is too large";
            return -ERANGE;
        }
    }
    return 0;
}

int parse_duration_ns(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns, char *err,
                      size_t errlen)
{
    char expect[160];
    char unit[16] = "";
    const char *what = NULL;
    uint64_t total = 0;
    duration_expect(expect, sizeof(expect), min_ns, max_ns);
    int rc = duration_scan(s ? s : "", &total, &what, unit, sizeof(unit));
    if (rc == 0 && total == 0 && min_ns > 0) {
        what = "is zero";
        rc = -ERANGE;
    } else if (rc == 0 && total < min_ns) {
        what = "is too short";
        rc = -ERANGE;
    } else if (rc == 0 && total > max_ns) {
        what = "is too long";
        rc = -ERANGE;
    }
    if (rc != 0) {
        if (what)
            set_err(err, errlen, "%s %s", what, expect);
        else
            set_err(err, errlen,
                    "has an unknown unit \"%s\" (expected ms, s, m, h or d, e.g. 30s or 1h30m)",
                    unit);
        return rc;
    }
    *out_ns = total;
    return 0;
}

/* ---- rates and percentages ---- */

int parse_rate_per_s(const char *s, double min_per_s, double max_per_s, double *out_per_s,
                     char *err, size_t errlen)
{
    const char *p = s ? s : "";
    const char *what = NULL;
    int rc = 0;
    struct decimal d;
    double per_s = 0;
    if (*p == '\0') {
        what = "is empty";
        rc = -EINVAL;
    } else if (*p == '-') {
        what = "is negative";
        rc = -ERANGE;
    } else if ((rc = read_decimal(&p, &d)) != 0 || *p != '/') {
        what = rc == -ERANGE ? "is too large" : (*p == '\0' ? "has no unit" : "is not a rate");
        rc = rc == -ERANGE ? -ERANGE : -EINVAL;
    } else {
        p++;
        double per = 0;
        if (strcmp(p, "s") == 0)
            per = 1;
        else if (strcmp(p, "m") == 0)
            per = 60;
        else if (strcmp(p, "h") == 0)
            per = 3600;
        if (per == 0) {
            what = "has an unknown unit";
            rc = -EINVAL;
        } else {
            per_s = decimal_value(&d) / per;
            if (per_s < min_per_s || per_s > max_per_s) {
                what = per_s < min_per_s ? "is too low" : "is too high";
                rc = -ERANGE;
            }
        }
    }
    if (rc != 0) {
        set_err(err, errlen,
                "%s (expected a rate from %g/s to %g/s written N/s, N/m or N/h, e.g. 5/s or 300/m)",
                what, min_per_s, max_per_s);
        return rc;
    }
    *out_per_s = per_s;
    return 0;
}

int parse_percent(const char *s, double min_pct, double max_pct, double *out_pct, char *err,
                  size_t errlen)
{
    const char *p = s ? s : "";
    const char *what = NULL;
    int rc = 0;
    struct decimal d;
    double v = 0;
    if (*p == '\0') {
        what = "is empty";
        rc = -EINVAL;
    } else if (*p == '-') {
        what = "is negative";
        rc = -ERANGE;
    } else if ((rc = read_decimal(&p, &d)) != 0) {
        what = rc == -ERANGE ? "is too large" : "is not a percentage";
    } else if (*p != '%' || p[1] != '\0') {
        what = *p == '\0' ? "has no % sign" : "is not a percentage";
        rc = -EINVAL;
    } else {
        v = decimal_value(&d);
        if (v < min_pct || v > max_pct) {
            what = v < min_pct ? "is too small" : "is too large";
            rc = -ERANGE;
        }
    }
    if (rc != 0) {
        set_err(err, errlen, "%s (expected a percentage from %g%% to %g%%, e.g. 10%%)", what,
                min_pct, max_pct);
        return rc;
    }
    *out_pct = v;
    return 0;
}

/* ---- shard and OS mix ---- */

int parse_shard(const char *s, uint32_t *out_k, uint32_t *out_n, char *err, size_t errlen)
{
    const char *p = s ? s : "";
    uint64_t k, n;
    const char *what = NULL;
    int rc;
    if ((rc = read_u64(&p, &k)) != 0 || *p++ != '/' || (rc = read_u64(&p, &n)) != 0 || *p != '\0') {
        what = rc == -ERANGE ? "is too large" : "is not a shard";
        rc = rc == -ERANGE ? -ERANGE : -EINVAL;
    } else if (n == 0) {
        what = "has N = 0";
        rc = -ERANGE;
    } else if (n > PARSE_SHARD_MAX) {
        what = "has N too large";
        rc = -ERANGE;
    } else if (k >= n) {
        what = "has K >= N";
        rc = -ERANGE;
    }
    if (rc != 0) {
        set_err(err, errlen, "%s (expected K/N with 0 <= K < N <= %u, e.g. 0/4)", what,
                PARSE_SHARD_MAX);
        return rc;
    }
    *out_k = (uint32_t)k;
    *out_n = (uint32_t)n;
    return 0;
}

int parse_os_mix(const char *s, uint32_t out_pct[3], char *err, size_t errlen)
{
    const char *p = s ? s : "";
    uint64_t v[OS_MIX_PARTS];
    uint64_t sum = 0;
    const char *what = NULL;
    int rc = 0;
    for (int i = 0; i < OS_MIX_PARTS && rc == 0; i++) {
        if (i > 0 && *p++ != '/') {
            rc = -EINVAL;
            break;
        }
        rc = read_u64(&p, &v[i]);
        if (rc == 0 && v[i] > OS_MIX_TOTAL)
            rc = -ERANGE;
        if (rc == 0)
            sum += v[i];
    }
    if (rc == 0 && *p != '\0')
        rc = -EINVAL;
    char sum_what[48];
    if (rc == -EINVAL)
        what = "is not an OS mix";
    else if (rc == -ERANGE)
        what = "has a share over 100";
    else if (sum != OS_MIX_TOTAL) {
        snprintf(sum_what, sizeof(sum_what), "adds up to %llu", (unsigned long long)sum);
        what = sum_what;
        rc = -ERANGE;
    }
    if (rc != 0) {
        set_err(
            err, errlen,
            "%s (expected three percentages linux/windows/darwin adding up to 100, e.g. 80/10/10)",
            what);
        return rc;
    }
    for (int i = 0; i < OS_MIX_PARTS; i++)
        out_pct[i] = (uint32_t)v[i];
    return 0;
}

/* ---- error lines ---- */

/* Copies value into out (size n) with non-printable bytes as \xNN, cut to ERROR_VALUE_MAX. */
static void quote_value(char *out, size_t n, const char *value)
{
    size_t len = 0;
    size_t shown = 0;
    const unsigned char *v = (const unsigned char *)value;
    for (; *v && shown < ERROR_VALUE_MAX; v++, shown++) {
        if (*v >= 0x20 && *v < 0x7f && *v != '"' && *v != '\\')
            append(out, n, &len, "%c", *v);
        else
            append(out, n, &len, "\\x%02x", *v);
    }
    if (*v)
        append(out, n, &len, "...");
    if (len >= n && n > 0)
        out[n - 1] = '\0';
}

void parse_error_line(char *out, size_t outlen, const char *prog, const char *option,
                      const char *value, const char *reason)
{
    if (!out || outlen == 0)
        return;
    if (value) {
        char q[ERROR_VALUE_MAX * 4 + 8] = "";
        quote_value(q, sizeof(q), value);
        snprintf(out, outlen, "%s: %s: \"%s\" %s", prog, option, q, reason);
    } else {
        snprintf(out, outlen, "%s: %s: %s", prog, option, reason);
    }
}
