/* engine/str_repeats.h - finding repeated strings in n log n (sorting an index), for inputs
 * that may hold many entries: the thresholds stored in merged summaries, the entries of a
 * summary file. */
#ifndef FLEETSIM_ENGINE_STR_REPEATS_H
#define FLEETSIM_ENGINE_STR_REPEATS_H

#include <stdbool.h>
#include <stddef.h>

/* Sets repeat[i] to true when s[i] equals some s[j] with j < i, false otherwise (the first
 * occurrence of every string is not a repeat). O(n log n) comparisons. Returns 0, or -ENOMEM
 * (repeat is then untouched). */
int str_mark_repeats(const char *const *s, size_t n, bool *repeat);

/* Removes the repeats from the n strings of s in place, keeping each first occurrence in
 * order; freed with free_fn when not NULL. Returns the new count, or (size_t)-1 on -ENOMEM
 * (s is then untouched). */
size_t str_drop_repeats(char **s, size_t n, void (*free_fn)(void *));

#endif
