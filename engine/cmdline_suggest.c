/* engine/cmdline_suggest.c - what an unknown option was probably meant to be (see
 * cmdline.h): the options it begins, else the nearest ones by edit distance. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/cmdline.h"

/* Longest word compared by cmdline_edit_distance, bytes. */
#define WORD_MAX 63
/* The built-in options, suggested like the table's. */
static const char help_name[] = "help", version_name[] = "version";

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t cmdline_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > WORD_MAX || lb > WORD_MAX)
        return SIZE_MAX;
    /* d[i][j]: distance between the first i bytes of a and the first j of b */
    size_t d[WORD_MAX + 1][WORD_MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < d[i][j])
                d[i][j] = d[i - 2][j - 2] + 1; /* two neighbours swapped */
        }
    }
    return d[la][lb];
}

/* The farthest a word of len bytes may be from an option and still suggest it. */
static size_t max_distance(size_t len)
{
    return len <= 4 ? 1 : (len <= 9 ? 2 : 3);
}

/* How many names are suggested from: the table's options, help and (maybe) version. */
static size_t n_candidates(const struct cmdline_spec *spec)
{
    return spec->n_opts + 1 + (spec->has_version ? 1 : 0);
}

/* The i-th of them (i < n_candidates). */
static const char *candidate(const struct cmdline_spec *spec, size_t i)
{
    if (i < spec->n_opts)
        return spec->opts[i].name;
    return i == spec->n_opts ? help_name : version_name;
}

/* Appends "--name" to the list in buf (size n, length *len), k-th of m. */
static void append(char *buf, size_t n, size_t *len, const char *name, size_t k, size_t m)
{
    if (*len >= n)
        return;
    const char *sep = k == 0 ? "" : (k + 1 == m ? " or " : ", ");
    int w = snprintf(buf + *len, n - *len, "%s--%s", sep, name);
    *len = w < 0 ? n : *len + (size_t)w;
}

/* Writes the candidates that begin with word (prefix) or are at edit distance best from it
 * into buf as "--a, --b or --c". Returns how many. */
static size_t list(const struct cmdline_spec *spec, const char *word, bool prefix, size_t best,
                   char *buf, size_t n)
{
    size_t plen = strlen(word), m = 0, len = 0;
    for (size_t pass = 0; pass < 2; pass++) { /* count, then write with the right separators */
        size_t k = 0;
        for (size_t i = 0; i < n_candidates(spec); i++) {
            const char *name = candidate(spec, i);
            bool hit =
                prefix ? strncmp(name, word, plen) == 0 : cmdline_edit_distance(word, name) == best;
            if (!hit)
                continue;
            if (pass == 1)
                append(buf, n, &len, name, k, m);
            k++;
        }
        m = k;
    }
    return m;
}

size_t cmdline_suggest(const struct cmdline_spec *spec, const char *word, char *buf, size_t n)
{
    if (n == 0)
        return 0;
    buf[0] = '\0';
    if (word[0] == '\0')
        return 0;
    size_t m = list(spec, word, true, 0, buf, n);
    if (m > 0)
        return m;
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < n_candidates(spec); i++) {
        size_t d = cmdline_edit_distance(word, candidate(spec, i));
        if (d < best)
            best = d;
    }
    if (best > max_distance(strlen(word)))
        return 0;
    return list(spec, word, false, best, buf, n);
}
