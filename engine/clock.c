/* engine/clock.c - monotonic time in nanoseconds and the wall-clock text helpers used by
 * the reports (RFC 3339 timestamps, short durations). */
#include "engine/clock.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

uint64_t clock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * CLOCK_NS_PER_S + (uint64_t)ts.tv_nsec;
}

time_t clock_wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

void clock_format_rfc3339(char *buf, size_t n, time_t t)
{
    struct tm tm;
    if (n == 0)
        return;
    if (gmtime_r(&t, &tm) == NULL || strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        buf[0] = '\0';
}

/* Parse "+HH:MM" / "-HH:MM" / "Z" at p into an offset east of UTC in seconds. */
static int parse_zone(const char *p, long *offset_s)
{
    int hh, mm, used = 0;
    if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
        *offset_s = 0;
        return 0;
    }
    if ((p[0] != '+' && p[0] != '-') || sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &used) != 2 ||
        used != 5 || p[6] != '\0' || hh > 23 || mm > 59)
        return -EINVAL;
    *offset_s = (hh * 3600L + mm * 60L) * (p[0] == '-' ? -1 : 1);
    return 0;
}

int clock_parse_rfc3339(const char *text, time_t *out)
{
    struct tm tm;
    long offset_s;
    memset(&tm, 0, sizeof tm);
    const char *p = text ? strptime(text, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (p == NULL)
        return -EINVAL;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (parse_zone(p, &offset_s) != 0)
        return -EINVAL;
    *out = timegm(&tm) - offset_s;
    return 0;
}

char *clock_format_duration(char *buf, size_t n, uint64_t duration_ns)
{
    if (duration_ns < CLOCK_NS_PER_MS) {
        snprintf(buf, n, "%lluus", (unsigned long long)(duration_ns / CLOCK_NS_PER_US));
    } else if (duration_ns < CLOCK_NS_PER_S) {
        snprintf(buf, n, "%.1fms", (double)duration_ns / (double)CLOCK_NS_PER_MS);
    } else if (duration_ns < 60 * CLOCK_NS_PER_S) {
        snprintf(buf, n, "%.2fs", (double)duration_ns / (double)CLOCK_NS_PER_S);
    } else {
        unsigned long long s = duration_ns / CLOCK_NS_PER_S;
        if (s < 3600)
            snprintf(buf, n, "%llum%llus", s / 60, s % 60);
        else
            snprintf(buf, n, "%lluh%llum%llus", s / 3600, s % 3600 / 60, s % 60);
    }
    return buf;
}
