/* sim/scenario_file.c - loads a JSON scenario file into a struct preset (see scenario_file.h):
 * JSON through json-c, every setting through preset_set (the command line's rules), thresholds
 * through threshold_parse; the first problem found becomes the one-line error. */
#include "sim/scenario_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "engine/parse.h"
#include "engine/threshold.h"

/* Longest JSON value quoted in an error, bytes. */
#define SHOWN_MAX 64
/* The run without --scenario is tagged with this name. */
#define DEFAULT_SCENARIO "default"
#define NAME_EXPECT \
    "a lowercase letter then up to 31 lowercase letters, digits or hyphens, e.g. \"nightly-soak\""
#define THRESHOLD_EXPECT \
    "a threshold string METRIC[{tag:value,...}]:EXPR, e.g. \"http_req_failed:rate<0.001\""

/* A loaded preset and the strings it owns; the preset comes first, so a struct preset pointer
 * returned to the caller is also a pointer to this. */
struct loaded {
    struct preset p;
    char *name;
    char *description;
    char *thresholds[PRESET_MAX_THRESHOLDS];
};

/* Keys of a scenario file besides the settings (sim/preset.h's enum preset_setting). */
static const char *const KEY_NAME = "name";
static const char *const KEY_DESCRIPTION = "description";
static const char *const KEY_THRESHOLDS = "thresholds";

bool scenario_is_file(const char *arg)
{
    static const char ext[] = ".json";
    size_t len = strlen(arg), elen = sizeof(ext) - 1;
    return strchr(arg, '/') != NULL || (len >= elen && strcmp(arg + len - elen, ext) == 0);
}

int scenario_name_check(const char *name, char *reason, size_t n)
{
    size_t len = strlen(name);
    bool ok = len >= 1 && len <= SCENARIO_NAME_MAX && name[0] >= 'a' && name[0] <= 'z';
    for (size_t i = 1; ok && i < len; i++) {
        char c = name[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    }
    if (!ok)
        snprintf(reason, n, "is not a scenario name (expected %s)", NAME_EXPECT);
    else if (preset_find(name))
        snprintf(reason, n,
                 "is the name of a built-in preset (expected another name; "
                 "--scenario %s runs the preset)",
                 name);
    else if (strcmp(name, DEFAULT_SCENARIO) == 0)
        snprintf(reason, n, "is the name of the run without --scenario (expected another name)");
    else
        return 0;
    return -EINVAL;
}

/* ---- error lines ---- */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* The value as JSON text (strings quoted and escaped), cut to SHOWN_MAX bytes. */
static void show(json_object *v, char *buf, size_t n)
{
    const char *t =
        json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (strlen(t) > SHOWN_MAX)
        snprintf(buf, n, "%.*s...", SHOWN_MAX - 3, t);
    else
        snprintf(buf, n, "%s", t);
}

static const char *type_word(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
        return "a number with a fraction";
    case json_type_int:
        return "an integer";
    case json_type_object:
        return "an object";
    case json_type_array:
        return "an array";
    case json_type_string:
        return "a string";
    }
    return "of another type";
}

/* `"KEY": VALUE is TYPE (expected ...)`; expect is the "(expected ...)" text. */
static int wrong_type(const char *key, json_object *v, const char *expect, char *err, size_t errlen)
{
    char shown[SHOWN_MAX + 8];
    show(v, shown, sizeof(shown));
    if (json_object_get_type(v) == json_type_null)
        return fail(err, errlen, "\"%s\": is null %s", key, expect);
    return fail(err, errlen, "\"%s\": %s is %s %s", key, shown, type_word(v), expect);
}

/* A string value without NUL bytes (json-c keeps "\u0000" inside the string). */
static bool plain_string(json_object *v)
{
    return json_object_is_type(v, json_type_string) &&
           strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v);
}

/* ---- the settings ---- */

/* The "(expected ...)" part of setting s's rule, as the command line would print it. */
static void setting_expect(enum preset_setting s, char *buf, size_t n)
{
    if (s == PRESET_SET_AGENTS) {
        snprintf(buf, n, "(expected 0 for no agents, or an integer from 1 to %u)",
                 PRESET_MAX_AGENTS);
        return;
    }
    struct preset scratch = {0};
    char reason[256] = "";
    preset_set(&scratch, s, "", reason, sizeof(reason));
    const char *e = strstr(reason, "(expected");
    snprintf(buf, n, "%s", e ? e : "(expected a valid value)");
}

/* Replaces the "(expected ...)" tail of reason (size n) with expect. */
static void replace_expect(char *reason, size_t n, const char *expect)
{
    char *e = strstr(reason, "(expected");
    if (e)
        snprintf(e, n - (size_t)(e - reason), "%s", expect);
}

/* Applies one setting's JSON value to p. */
static int load_setting(struct preset *p, enum preset_setting s, json_object *v, char *err,
                        size_t errlen)
{
    const char *key = preset_setting_key(s);
    char expect[256];
    setting_expect(s, expect, sizeof(expect));
    enum json_type type = json_object_get_type(v);
    bool count = preset_setting_is_count(s);
    if (count && type != json_type_int)
        return wrong_type(key, v, expect, err, errlen);
    if (!count && type != json_type_string && type != json_type_int && type != json_type_double)
        return wrong_type(key, v, expect, err, errlen);
    if (type == json_type_string && !plain_string(v))
        return fail(err, errlen, "\"%s\": has a NUL character %s", key, expect);
    /* counts and numbers are read as their JSON text, strings as they are */
    const char *text = type == json_type_string
                           ? json_object_get_string(v)
                           : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    if (s == PRESET_SET_AGENTS && strcmp(text, "0") == 0) {
        p->has_agents = true; /* no agents: only a scenario can say so (acme-burst does) */
        p->agents = 0;
        return 0;
    }
    char reason[512] = "";
    if (preset_set(p, s, text, reason, sizeof(reason)) == 0)
        return 0;
    if (s == PRESET_SET_AGENTS)
        replace_expect(reason, sizeof(reason), expect);
    char shown[SHOWN_MAX + 8];
    show(v, shown, sizeof(shown));
    return fail(err, errlen, "\"%s\": %s %s", key, shown, reason);
}

/* The setting a key names, or PRESET_SET__COUNT. */
static enum preset_setting setting_of(const char *key)
{
    for (int s = 0; s < PRESET_SET__COUNT; s++)
        if (strcmp(preset_setting_key((enum preset_setting)s), key) == 0)
            return (enum preset_setting)s;
    return PRESET_SET__COUNT;
}

static bool key_known(const char *key)
{
    return strcmp(key, KEY_NAME) == 0 || strcmp(key, KEY_DESCRIPTION) == 0 ||
           strcmp(key, KEY_THRESHOLDS) == 0 || setting_of(key) != PRESET_SET__COUNT;
}

/* `"KEY": is not a key of a scenario file (expected ...)`, with a hint for hyphens. */
static int unknown_key(const char *key, char *err, size_t errlen)
{
    char shown[SHOWN_MAX + 8];
    json_object *k = json_object_new_string(key);
    show(k, shown, sizeof(shown));
    json_object_put(k);
    char fixed[SHOWN_MAX];
    snprintf(fixed, sizeof(fixed), "%s", key);
    for (char *c = fixed; *c; c++)
        if (*c == '-')
            *c = '_';
    if (strcmp(fixed, key) != 0 && key_known(fixed))
        return fail(err, errlen,
                    "%s: is not a key of a scenario file (expected \"%s\": keys are "
                    "written with underscores)",
                    shown, fixed);
    char list[512];
    size_t len = (size_t)snprintf(list, sizeof(list), "%s, %s", KEY_NAME, KEY_DESCRIPTION);
    for (int s = 0; s < PRESET_SET__COUNT && len < sizeof(list); s++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, ", %s",
                                preset_setting_key((enum preset_setting)s));
    return fail(err, errlen, "%s: is not a key of a scenario file (expected %s or %s)", shown, list,
                KEY_THRESHOLDS);
}

/* ---- name, description, thresholds ---- */

static int load_name(struct loaded *l, json_object *root, char *err, size_t errlen)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(root, KEY_NAME, &v))
        return fail(err, errlen, "\"name\": is missing (expected %s)", NAME_EXPECT);
    char expect[160];
    snprintf(expect, sizeof(expect), "(expected %s)", NAME_EXPECT);
    if (!json_object_is_type(v, json_type_string))
        return wrong_type(KEY_NAME, v, expect, err, errlen);
    char reason[256];
    if (!plain_string(v) ||
        scenario_name_check(json_object_get_string(v), reason, sizeof(reason)) != 0) {
        if (!plain_string(v))
            snprintf(reason, sizeof(reason), "is not a scenario name %s", expect);
        char shown[SHOWN_MAX + 8];
        show(v, shown, sizeof(shown));
        return fail(err, errlen, "\"name\": %s %s", shown, reason);
    }
    l->name = strdup(json_object_get_string(v));
    if (!l->name)
        return -ENOMEM;
    l->p.name = l->name;
    return 0;
}

static int load_description(struct loaded *l, json_object *v, char *err, size_t errlen)
{
    char expect[96];
    snprintf(expect, sizeof(expect), "(expected one line of text of at most %d bytes)",
             SCENARIO_DESCRIPTION_MAX);
    if (!json_object_is_type(v, json_type_string))
        return wrong_type(KEY_DESCRIPTION, v, expect, err, errlen);
    const char *s = json_object_get_string(v);
    if (!plain_string(v))
        return fail(err, errlen, "\"description\": has a NUL character %s", expect);
    if (strlen(s) > SCENARIO_DESCRIPTION_MAX)
        return fail(err, errlen, "\"description\": is %zu bytes long %s", strlen(s), expect);
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return fail(err, errlen, "\"description\": has a control character %s", expect);
    free(l->description);
    l->description = strdup(s);
    if (!l->description)
        return -ENOMEM;
    l->p.description = l->description;
    return 0;
}

/* One threshold spec: it parses, and it filters on no scenario but the file's own. */
static int check_threshold(const char *name, size_t i, json_object *v, char *err, size_t errlen)
{
    char expect[160];
    snprintf(expect, sizeof(expect), "(expected %s)", THRESHOLD_EXPECT);
    char key[32];
    snprintf(key, sizeof(key), "thresholds\"[%zu]", i);
    char shown[SHOWN_MAX + 8];
    if (!json_object_is_type(v, json_type_string) || !plain_string(v)) {
        show(v, shown, sizeof(shown));
        if (json_object_get_type(v) == json_type_null)
            return fail(err, errlen, "\"%s: is null %s", key, expect);
        return fail(err, errlen, "\"%s: %s is %s %s", key, shown,
                    json_object_is_type(v, json_type_string) ? "a string with a NUL character"
                                                             : type_word(v),
                    expect);
    }
    const char *spec = json_object_get_string(v);
    show(v, shown, sizeof(shown));
    struct threshold t;
    char reason[1024] = "";
    if (threshold_parse(spec, &t, reason, sizeof(reason)) != 0) {
        /* threshold_parse's reasons start "threshold 'SPEC': ": the spec is shown once */
        char prefix[THRESHOLD_SPEC_MAX + 16];
        snprintf(prefix, sizeof(prefix), "threshold '%s': ", spec);
        size_t plen = strlen(prefix);
        const char *r = strncmp(reason, prefix, plen) == 0 ? reason + plen : reason;
        return fail(err, errlen, "\"%s: %s %s", key, shown, r);
    }
    const char *names[] = {name};
    if (threshold_check_scenarios(&t, names, 1, reason, sizeof(reason)) != 0)
        return fail(err, errlen,
                    "\"%s: %s filters on another scenario (expected scenario:%s, "
                    "the file's own name, or no scenario tag)",
                    key, shown, name);
    return 0;
}

static int load_thresholds(struct loaded *l, json_object *v, char *err, size_t errlen)
{
    char expect[192];
    snprintf(expect, sizeof(expect),
             "(expected an array of threshold strings, e.g. "
             "[\"http_req_failed:rate<0.001\"])");
    if (!json_object_is_type(v, json_type_array))
        return wrong_type(KEY_THRESHOLDS, v, expect, err, errlen);
    size_t n = json_object_array_length(v);
    if (n > PRESET_MAX_THRESHOLDS)
        return fail(err, errlen, "\"thresholds\": has %zu entries (expected at most %d)", n,
                    PRESET_MAX_THRESHOLDS);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        int rc = check_threshold(l->name, i, e, err, errlen);
        if (rc != 0)
            return rc;
        l->thresholds[i] = strdup(json_object_get_string(e));
        if (!l->thresholds[i])
            return -ENOMEM;
        l->p.thresholds[i] = l->thresholds[i];
    }
    return 0;
}

/* ---- the text as a whole ---- */

/* Line and column (from 1) of byte offset off in text. */
static void line_col(const char *text, size_t off, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* Parses text as one JSON value with json-c's strict tokener. */
static json_object *parse_json(const char *text, size_t len, char *err, size_t errlen)
{
    size_t i = 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
        i++;
    if (i == len) {
        fail(err, errlen, "is empty (expected a JSON object with at least \"name\")");
        return NULL;
    }
    if (len > (size_t)SCENARIO_FILE_MAX_BYTES) {
        fail(err, errlen, "is larger than %d bytes (expected a scenario file)",
             SCENARIO_FILE_MAX_BYTES);
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new();
    if (!tok) {
        fail(err, errlen, "cannot be parsed: out of memory");
        return NULL;
    }
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (root && e == json_tokener_success)
        return root;
    json_object_put(root);
    size_t line, col;
    if (e == json_tokener_continue) {
        line_col(text, len, &line, &col);
        fail(err, errlen,
             "is not valid JSON: it ends early at line %zu, column %zu (expected a "
             "complete JSON object)",
             line, col);
    } else {
        line_col(text, end < len ? end : len, &line, &col);
        fail(err, errlen,
             "is not valid JSON: %s at line %zu, column %zu (expected a JSON object "
             "of scenario settings)",
             json_tokener_error_desc(e), line, col);
    }
    return NULL;
}

/* Skips a JSON string starting at text[*i] == '"'; *i ends after the closing quote. */
static void skip_string(const char *text, size_t len, size_t *i)
{
    for ((*i)++; *i < len && text[*i] != '"'; (*i)++)
        if (text[*i] == '\\')
            (*i)++;
    (*i)++;
}

/* json-c keeps the last of two equal keys; a scenario file refuses them. Scans the (already
 * valid) text for the raw keys of the outer object. Returns 0 or fails naming the key. */
static int check_duplicate_keys(const char *text, size_t len, char *err, size_t errlen)
{
    enum { MAX_KEYS = 64 };
    size_t start[MAX_KEYS], klen[MAX_KEYS], n = 0;
    int depth = 0;
    for (size_t i = 0; i < len;) {
        char c = text[i];
        if (c == '"') {
            size_t s = i;
            skip_string(text, len, &i);
            size_t j = i;
            while (j < len &&
                   (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r'))
                j++;
            if (depth != 1 || j >= len || text[j] != ':' || n == MAX_KEYS)
                continue;
            for (size_t k = 0; k < n; k++)
                if (klen[k] == i - s && memcmp(text + start[k], text + s, i - s) == 0)
                    return fail(err, errlen, "%.*s: is given twice (expected each key once)",
                                (int)(i - s > SHOWN_MAX ? SHOWN_MAX : i - s), text + s);
            start[n] = s;
            klen[n++] = i - s;
            continue;
        }
        depth += (c == '{' || c == '[') ? 1 : (c == '}' || c == ']') ? -1 : 0;
        i++;
    }
    return 0;
}

/* Fills l from the parsed object: unknown keys first, then the name, then the rest in the
 * file's order. */
static int load_object(struct loaded *l, json_object *root, char *err, size_t errlen)
{
    json_object_object_foreach(root, key, val)
    {
        (void)val;
        if (!key_known(key))
            return unknown_key(key, err, errlen);
    }
    int rc = load_name(l, root, err, errlen);
    if (rc != 0)
        return rc;
    json_object_object_foreach(root, k, v)
    {
        enum preset_setting s = setting_of(k);
        if (strcmp(k, KEY_DESCRIPTION) == 0)
            rc = load_description(l, v, err, errlen);
        else if (strcmp(k, KEY_THRESHOLDS) == 0)
            rc = load_thresholds(l, v, err, errlen);
        else if (s != PRESET_SET__COUNT)
            rc = load_setting(&l->p, s, v, err, errlen);
        if (rc != 0)
            return rc;
    }
    if (!l->p.description)
        l->p.description = "";
    return 0;
}

int scenario_file_parse(const char *text, size_t len, struct preset **out, char *err, size_t errlen)
{
    *out = NULL;
    json_object *root = parse_json(text, len, err, errlen);
    if (!root)
        return -EINVAL;
    int rc;
    struct loaded *l = NULL;
    if (!json_object_is_type(root, json_type_object)) {
        rc = fail(err, errlen, "is %s, not an object (expected {\"name\": \"...\", ...})",
                  type_word(root));
    } else if ((rc = check_duplicate_keys(text, len, err, errlen)) == 0) {
        l = calloc(1, sizeof(*l));
        rc = l ? load_object(l, root, err, errlen) : -ENOMEM;
    }
    json_object_put(root);
    if (rc == -ENOMEM)
        fail(err, errlen, "cannot be loaded: out of memory");
    if (rc != 0) {
        scenario_file_free(l ? &l->p : NULL);
        return rc;
    }
    *out = &l->p;
    return 0;
}

int scenario_file_load(const char *path, struct preset **out, char *err, size_t errlen)
{
    *out = NULL;
    int rc = parse_readable_file(path, err, errlen);
    if (rc != 0)
        return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = -errno;
        if (fd >= 0)
            close(fd);
        fail(err, errlen, "cannot be read: %s (expected a readable file)", strerror(-rc));
        return rc;
    }
    if (st.st_size > SCENARIO_FILE_MAX_BYTES) {
        close(fd);
        return fail(err, errlen, "is larger than %d bytes (expected a scenario file)",
                    SCENARIO_FILE_MAX_BYTES);
    }
    char *text = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    ssize_t r = 1;
    while (text && got < (size_t)st.st_size &&
           (r = read(fd, text + got, (size_t)st.st_size - got)) > 0)
        got += (size_t)r;
    rc = r < 0 ? -errno : 0;
    close(fd);
    if (!text || rc != 0) {
        free(text);
        if (!text) {
            fail(err, errlen, "cannot be read: out of memory");
            return -ENOMEM;
        }
        fail(err, errlen, "cannot be read: %s (expected a readable file)", strerror(-rc));
        return rc;
    }
    text[got] = '\0';
    rc = scenario_file_parse(text, got, out, err, errlen);
    free(text);
    return rc;
}

void scenario_file_free(struct preset *p)
{
    if (!p)
        return;
    struct loaded *l = (struct loaded *)p;
    free(l->name);
    free(l->description);
    for (size_t i = 0; i < PRESET_MAX_THRESHOLDS; i++)
        free(l->thresholds[i]);
    free(l);
}
