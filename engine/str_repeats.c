/* engine/str_repeats.c - repeated strings found by sorting indexes (see str_repeats.h). */
#include "engine/str_repeats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One string and where it was. */
struct at {
    const char *s;
    size_t index;
};

/* By text, then by position: equal strings end up together, the first one first. */
static int by_text_then_index(const void *a, const void *b)
{
    const struct at *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

int str_mark_repeats(const char *const *s, size_t n, bool *repeat)
{
    struct at *order = malloc((n ? n : 1) * sizeof *order);
    if (order == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        order[i] = (struct at){s[i], i};
    qsort(order, n, sizeof *order, by_text_then_index);
    for (size_t i = 0; i < n; i++)
        repeat[order[i].index] = i > 0 && strcmp(order[i - 1].s, order[i].s) == 0;
    free(order);
    return 0;
}

size_t str_drop_repeats(char **s, size_t n, void (*free_fn)(void *))
{
    bool *repeat = malloc((n ? n : 1) * sizeof *repeat);
    if (repeat == NULL || str_mark_repeats((const char *const *)s, n, repeat) != 0) {
        free(repeat);
        return (size_t)-1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (!repeat[i])
            s[kept++] = s[i];
        else if (free_fn != NULL)
            free_fn(s[i]);
    }
    free(repeat);
    return kept;
}
