/* sim/agent_work.c - an agent's jobs (see agent_work.h). One job at a time, in the order the
 * polls returned them, as the real agent: CSR jobs go through the loop's paced key generation
 * (the key is kept for the certificate, sim/agent_keys), then POST csr; deployment jobs report
 * Running, fetch the certificate, check its key, wait and probe when the target names a host,
 * report the verification, and report Completed or Failed. Failure texts are the real
 * agent's. */
#include "sim/agent_work.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "engine/clock.h"
#include "sim/agent_internal.h"
#include "sim/agent_keys.h"

/* Where the agent's current job stands. */
enum work_step {
    STEP_IDLE = 0, /* no job in progress */
    STEP_KEYGEN,   /* waiting for the loop's paced key + CSR generation */
    STEP_CSR,      /* POST csr waiting or in flight */
    STEP_RUNNING,  /* status Running waiting or in flight */
    STEP_FETCH,    /* GET certificate waiting or in flight */
    STEP_PROBE,    /* the wait before the probe and the simulated probe */
    STEP_VERIFY,   /* POST verify waiting or in flight */
    STEP_FINAL,    /* final status (Completed/Failed) waiting or in flight */
};

/* Where the real agent keeps its keys (its error texts name the file). */
#define AGENT_KEY_DIR "/var/lib/certctl/keys"
/* Most bytes of a rejecting answer's body quoted in a Failed status. */
#define AGENT_ERROR_BODY_MAX 1024

struct agent_work {
    struct agent_job *jobs; /* queue; jobs[0] is the current one */
    size_t n_jobs, cap_jobs;
    enum work_step step;
    char *body; /* body of the job request waiting or in flight */
    size_t body_len;
    struct agent_keys keys;
    struct event *probe_ev;           /* ends STEP_PROBE; made on first use */
    char fp[CSR_FINGERPRINT_HEX + 1]; /* fingerprint of the fetched certificate */
    bool probe_failed;                /* the current probe fails (--agent-failures verify) */
    struct agent *csr_next;
    bool in_csr_queue;
    uint64_t keygen_since_ns; /* when the current CSR job began waiting for its key */
};

/* ---- parsing ---------------------------------------------------------------------------- */

static bool id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= AGENT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_' || c == '~'))
            return false;
    }
    return true;
}

static const char *json_str(json_object *obj, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

void agent_job_clear(struct agent_job *job)
{
    free(job->id);
    free(job->cert_id);
    free(job->cn);
    for (size_t i = 0; i < job->n_sans; i++)
        free(job->sans[i]);
    free(job->sans);
    free(job->target_id);
    free(job->host);
    memset(job, 0, sizeof *job);
}

/* Copies the SANs array of a CSR item (missing or null: none). */
static int copy_sans(json_object *item, struct agent_job *job)
{
    json_object *arr;
    if (!json_object_object_get_ex(item, "sans", &arr) ||
        !json_object_is_type(arr, json_type_array))
        return 0;
    size_t n = json_object_array_length(arr);
    if (n == 0)
        return 0;
    job->sans = calloc(n, sizeof *job->sans);
    if (!job->sans)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
            continue;
        if (!(job->sans[job->n_sans] = strdup(json_object_get_string(v))))
            return -ENOMEM;
        job->n_sans++;
    }
    return 0;
}

/* Whether a target_config lets the real agent probe the target: a non-empty string host,
 * hostname, target or address (the first one, into *host), and a port (a JSON number, default
 * 443) in 1..65535 (into *port). */
static bool config_probes(json_object *item, const char **host, int *port)
{
    static const char *const host_keys[] = {"host", "hostname", "target", "address"};
    json_object *cfg, *jport;
    *host = NULL;
    *port = 443;
    if (!json_object_object_get_ex(item, "target_config", &cfg) ||
        !json_object_is_type(cfg, json_type_object))
        return false;
    for (size_t i = 0; i < sizeof host_keys / sizeof host_keys[0] && !*host; i++) {
        const char *h = json_str(cfg, host_keys[i]);
        *host = h && *h ? h : NULL;
    }
    if (!*host)
        return false;
    if (!json_object_object_get_ex(cfg, "port", &jport) ||
        !(json_object_is_type(jport, json_type_int) ||
          json_object_is_type(jport, json_type_double)))
        return true;
    int64_t p = (int64_t)json_object_get_double(jport); /* Go's int(float64) truncates */
    *port = (int)p;
    return p >= 1 && p <= 65535;
}

/* Fills the deployment fields of job from a work item. Returns 0 or -ENOMEM. */
static int parse_deploy(json_object *item, struct agent_job *job)
{
    const char *target = json_str(item, "target_id"), *type = json_str(item, "target_type");
    const char *host;
    job->has_type = type && *type;
    job->probe = config_probes(item, &host, &job->port);
    if ((target && !(job->target_id = strdup(target))) ||
        (job->probe && !(job->host = strdup(host))))
        return -ENOMEM;
    return 0;
}

/* Fills job from one work item. Returns 1 when the agent acts on it, 0 to skip, -ENOMEM. */
static int parse_item(json_object *item, struct agent_job *job)
{
    const char *type = json_str(item, "type"), *status = json_str(item, "status");
    const char *id = json_str(item, "id"), *cert = json_str(item, "certificate_id");
    if (!id_ok(id) || !id_ok(cert))
        return 0;
    bool csr = status && strcmp(status, "AwaitingCSR") == 0;
    if (!csr && !(type && strcmp(type, "Deployment") == 0))
        return 0;
    const char *cn = json_str(item, "common_name");
    job->type = csr ? AGENT_JOB_CSR : AGENT_JOB_DEPLOY;
    job->id = strdup(id);
    job->cert_id = strdup(cert);
    job->cn = strdup(cn ? cn : "");
    if (!job->id || !job->cert_id || !job->cn || (csr && copy_sans(item, job) != 0) ||
        (!csr && parse_deploy(item, job) != 0))
        return -ENOMEM;
    return 1;
}

int agent_work_parse(const char *body, size_t len, struct agent_job **jobs_out, size_t *n_out)
{
    *jobs_out = NULL;
    *n_out = 0;
    if (!body || len == 0 || len > INT32_MAX)
        return -EBADMSG;
    json_tokener *tok = json_tokener_new();
    json_object *root = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
    json_tokener_free(tok);
    json_object *arr;
    if (!root || !json_object_object_get_ex(root, "jobs", &arr) ||
        !(json_object_is_type(arr, json_type_array) || json_object_is_type(arr, json_type_null))) {
        json_object_put(root);
        return -EBADMSG;
    }
    size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
    struct agent_job *jobs = n ? calloc(n, sizeof *jobs) : NULL;
    if (n && !jobs) {
        json_object_put(root);
        return -ENOMEM;
    }
    size_t kept = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        int r = parse_item(json_object_array_get_idx(arr, i), &jobs[kept]);
        if (r == 1)
            kept++;
        else
            agent_job_clear(&jobs[kept]);
        if (r < 0)
            rc = r;
    }
    json_object_put(root);
    if (rc != 0 || kept == 0) {
        for (size_t i = 0; i < kept; i++)
            agent_job_clear(&jobs[i]);
        free(jobs);
        return rc;
    }
    *jobs_out = jobs;
    *n_out = kept;
    return 0;
}

/* ---- small JSON bodies --------------------------------------------------------------------- */

/* Appends s as a JSON string (quoted, escaped) at out; returns the bytes written. out must
 * have room for 6 * strlen(s) + 2. */
static size_t json_quote(char *out, const char *s)
{
    size_t o = 0;
    out[o++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c < 0x20) {
            o += (size_t)sprintf(out + o, "\\u%04x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return o;
}

/* {"k1":v1,"k2":v2} for two string pairs (k1 NULL: only the second pair). */
static char *json_pairs(const char *k1, const char *v1, const char *k2, const char *v2,
                        size_t *len_out)
{
    size_t cap = 16 + (k1 ? strlen(k1) + 6 * strlen(v1) : 0) + strlen(k2) + 6 * strlen(v2) + 16;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = 0;
    out[o++] = '{';
    if (k1) {
        o += json_quote(out + o, k1);
        out[o++] = ':';
        o += json_quote(out + o, v1);
        out[o++] = ',';
    }
    o += json_quote(out + o, k2);
    out[o++] = ':';
    o += json_quote(out + o, v2);
    out[o++] = '}';
    out[o] = '\0';
    if (len_out)
        *len_out = o;
    return out;
}

char *agent_work_verify_body(const char *target_id, const char *fp, const char *error,
                             size_t *len_out)
{
    if (error)
        fp = "";
    size_t cap = 2 * strlen(fp) + 6 * strlen(target_id) + 6 * (error ? strlen(error) : 0) + 128;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t o = (size_t)snprintf(out, cap, "{\"actual_fingerprint\":\"%s\",\"error\":", fp);
    o += json_quote(out + o, error ? error : "");
    o += (size_t)snprintf(out + o, cap - o, ",\"expected_fingerprint\":\"%s\",\"target_id\":", fp);
    o += json_quote(out + o, target_id);
    o += (size_t)snprintf(out + o, cap - o, ",\"verified\":%s}", error ? "false" : "true");
    out[o] = '\0';
    if (len_out)
        *len_out = o;
    return out;
}

char *agent_work_status_body(const char *status, const char *error, size_t *len_out)
{
    return error ? json_pairs("error", error, "status", status, len_out)
                 : json_pairs(NULL, NULL, "status", status, len_out);
}

const char *agent_work_cert_pem(const char *body, size_t len, void **holder, size_t *pem_len)
{
    *holder = NULL;
    if (!body || len == 0 || len > INT32_MAX)
        return NULL;
    json_tokener *tok = json_tokener_new();
    json_object *root = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
    json_tokener_free(tok);
    json_object *v;
    if (!root || !json_object_object_get_ex(root, "certificate_pem", &v) ||
        !json_object_is_type(v, json_type_string)) {
        json_object_put(root);
        return NULL;
    }
    *holder = root;
    *pem_len = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

/* ---- keys ------------------------------------------------------------------------------ */

/* Keeps the key made for cert_id (its public point); the loop counts the kept keys. */
static int key_keep(struct agent *a, const char *cert_id, const struct csr_key *key)
{
    int rc = agent_keys_put(&a->work->keys, cert_id, key->pub);
    if (rc == 1)
        a->loop->counters.keys_kept++;
    return rc < 0 ? rc : 0;
}

size_t agent_work_keys(const struct agent *a)
{
    return a->work ? a->work->keys.n : 0;
}

/* ---- job flow --------------------------------------------------------------------------- */

static struct agent_work *work_get(struct agent *a)
{
    if (!a->work)
        a->work = calloc(1, sizeof *a->work);
    return a->work;
}

/* Frees the work record once it holds nothing. */
static void work_maybe_free(struct agent *a)
{
    struct agent_work *w = a->work;
    if (w && w->n_jobs == 0 && w->keys.n == 0 && !w->in_csr_queue && w->step == STEP_IDLE) {
        if (w->probe_ev)
            event_free(w->probe_ev);
        free(w->jobs);
        free(w->body);
        free(w);
        a->work = NULL;
    }
}

static void set_body(struct agent_work *w, char *body, size_t len)
{
    free(w->body);
    w->body = body;
    w->body_len = len;
}

/* Queues a job request of endpoint ep intended now; body ownership passes to the work. */
static void step_request(struct agent *a, enum work_step step, enum agent_endpoint ep, char *body,
                         size_t len)
{
    struct agent_work *w = a->work;
    set_body(w, body, len);
    w->step = step;
    if (!agent_schedule(a, AGENT_KIND_JOB, ep, clock_now_ns()))
        w->step = STEP_IDLE; /* cannot happen: one job request at a time */
}

static void csr_enqueue(struct agent *a)
{
    struct agent_loop *l = a->loop;
    struct agent_work *w = a->work;
    w->in_csr_queue = true;
    w->csr_next = NULL;
    if (l->csr_tail)
        l->csr_tail->work->csr_next = a;
    else
        l->csr_head = a;
    l->csr_tail = a;
    if (!evtimer_pending(l->csr_ev, NULL)) {
        struct timeval zero = {0, 0};
        evtimer_add(l->csr_ev, &zero);
    }
}

static void csr_unlink(struct agent *a)
{
    struct agent_loop *l = a->loop;
    struct agent *prev = NULL;
    for (struct agent *p = l->csr_head; p; prev = p, p = p->work->csr_next) {
        if (p != a)
            continue;
        if (prev)
            prev->work->csr_next = a->work->csr_next;
        else
            l->csr_head = a->work->csr_next;
        if (l->csr_tail == a)
            l->csr_tail = prev;
        break;
    }
    a->work->in_csr_queue = false;
    a->work->csr_next = NULL;
}

static void job_done(struct agent *a);

/* Starts the first queued job if nothing is in progress. */
static void start_next(struct agent *a)
{
    struct agent_work *w = a->work;
    if (!w || w->step != STEP_IDLE || a->loop->stopping || a->stopped || a->retired)
        return;
    if (w->n_jobs == 0) {
        work_maybe_free(a);
        return;
    }
    if (w->jobs[0].type == AGENT_JOB_CSR) {
        w->step = STEP_KEYGEN;
        w->keygen_since_ns = clock_now_ns();
        csr_enqueue(a);
        return;
    }
    size_t len;
    char *body = agent_work_status_body("Running", NULL, &len);
    if (!body) {
        job_done(a);
        return;
    }
    step_request(a, STEP_RUNNING, AGENT_EP_JOB_STATUS, body, len);
}

static void job_done(struct agent *a)
{
    struct agent_work *w = a->work;
    if (w->n_jobs > 0) {
        agent_job_clear(&w->jobs[0]);
        memmove(&w->jobs[0], &w->jobs[1], (w->n_jobs - 1) * sizeof *w->jobs);
        w->n_jobs--;
    }
    w->step = STEP_IDLE;
    set_body(w, NULL, 0);
    start_next(a);
}

/* Reports the current job's final status (error NULL: Completed). */
static void final_status(struct agent *a, const char *error)
{
    size_t len;
    char *body = agent_work_status_body(error ? "Failed" : "Completed", error, &len);
    if (!body) {
        job_done(a);
        return;
    }
    step_request(a, STEP_FINAL, AGENT_EP_JOB_STATUS, body, len);
}

/* Whether job id is already queued (AwaitingCSR items come back on every poll). */
static bool job_known(const struct agent_work *w, const char *id)
{
    for (size_t i = 0; i < w->n_jobs; i++)
        if (strcmp(w->jobs[i].id, id) == 0)
            return true;
    return false;
}

static int jobs_append(struct agent_work *w, struct agent_job *job)
{
    if (w->n_jobs == w->cap_jobs) {
        size_t cap = w->cap_jobs ? w->cap_jobs * 2 : 2;
        struct agent_job *jobs = realloc(w->jobs, cap * sizeof *jobs);
        if (!jobs)
            return -ENOMEM;
        w->jobs = jobs;
        w->cap_jobs = cap;
    }
    w->jobs[w->n_jobs++] = *job;
    memset(job, 0, sizeof *job);
    return 0;
}

void agent_work_on_poll(struct agent *a, const struct http_result *res)
{
    struct agent_loop *l = a->loop;
    struct agent_job *jobs;
    size_t n;
    if (agent_work_parse(res->body, res->body_len, &jobs, &n) != 0) {
        l->counters.work_unparsed++;
        return;
    }
    if (n == 0 || l->stopping || a->stopped || !work_get(a)) {
        for (size_t i = 0; i < n; i++)
            agent_job_clear(&jobs[i]);
        free(jobs);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (job_known(a->work, jobs[i].id)) {
            agent_job_clear(&jobs[i]);
        } else if (jobs_append(a->work, &jobs[i]) != 0) {
            agent_job_clear(&jobs[i]); /* out of memory: it comes back on a later poll */
        } else {
            l->counters.jobs_received++;
        }
    }
    free(jobs);
    start_next(a);
    work_maybe_free(a);
}

/* Salts of the per-job draws (probe duration and the three --agent-failures draws). */
enum job_draw { DRAW_PROBE = 0, DRAW_FAIL_CSR, DRAW_FAIL_DEPLOY, DRAW_FAIL_VERIFY };

/* A uniform [0, 1) draw of kind for the agent's current job: a stream of the run seed, the
 * agent and the job id, so the same seed gives the same draws whatever the timing. */
static double job_draw(const struct agent *a, enum job_draw kind)
{
    uint64_t salt = 1469598103934665603ULL; /* FNV-1a of the job id */
    for (const char *p = a->work->jobs[0].id; *p; p++)
        salt = (salt ^ (unsigned char)*p) * 1099511628211ULL;
    uint64_t rng = schedule_rng_seed(a->loop->set->seed ^ salt ^ ((uint64_t)kind << 56), a->index,
                                     SCHEDULE_PROBE);
    return identity_rng_unit(&rng);
}

/* Whether the current job's step of kind fails on the agent's side (--agent-failures). */
static bool agent_side_failure(const struct agent *a, enum job_draw kind, double share)
{
    return share > 0 && job_draw(a, kind) < share;
}

/* Generates the key and CSR of the agent's current CSR job and queues POST csr. As the real
 * agent, the key is kept (written, for it) before the common name is checked. */
static void csr_make(struct agent *a)
{
    struct agent_loop *l = a->loop;
    struct agent_work *w = a->work;
    struct agent_job *job = &w->jobs[0];
    struct csr_key key;
    char *pem = NULL;
    if (csr_generate(l->csr, job->cn, (const char *const *)job->sans, job->n_sans, &key, &pem,
                     NULL) != 0) {
        l->counters.csr_failed++;
        final_status(a, "CSR creation failed: key or CSR generation failed");
        return;
    }
    l->counters.csr_generated++;
    if (agent_side_failure(a, DRAW_FAIL_CSR, l->set->fail_csr)) {
        /* the key file cannot be written (Go's os.WriteFile error text) */
        char why[AGENT_ID_MAX + 96];
        snprintf(why, sizeof why,
                 "key storage failed: open " AGENT_KEY_DIR "/%s.key: no space left on device",
                 job->cert_id);
        csr_key_wipe(&key);
        free(pem);
        l->counters.fail_csr++;
        l->counters.csr_failed++;
        final_status(a, why);
        return;
    }
    int rc = key_keep(a, job->cert_id, &key);
    csr_key_wipe(&key);
    if (rc != 0 || !*job->cn) {
        free(pem);
        l->counters.csr_failed++;
        final_status(a, rc != 0 ? "key storage failed: out of memory" : "empty common name");
        return;
    }
    size_t len;
    char *body = json_pairs("certificate_id", job->cert_id, "csr_pem", pem, &len);
    free(pem);
    if (!body) {
        job_done(a);
        return;
    }
    step_request(a, STEP_CSR, AGENT_EP_CSR, body, len);
}

void agent_work_csr_cb(int fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct agent_loop *l = arg;
    for (unsigned done = 0; done < AGENT_CSR_PER_ITERATION && l->csr_head; done++) {
        struct agent *a = l->csr_head;
        l->csr_head = a->work->csr_next;
        if (!l->csr_head)
            l->csr_tail = NULL;
        a->work->in_csr_queue = false;
        a->work->csr_next = NULL;
        if (l->stopping || a->stopped || a->retired) {
            a->work->step = STEP_IDLE;
            work_maybe_free(a);
            continue;
        }
        /* the agent's own deliberate work (a real agent makes its key too): agent_busy */
        uint64_t now = clock_now_ns();
        metrics_trend_record(l->metrics, METRIC_AGENT_BUSY, l->set->scenario, "agent",
                             agent_endpoint_name(AGENT_EP_CSR),
                             (now - a->work->keygen_since_ns) / CLOCK_NS_PER_US);
        csr_make(a);
        agent_kick(a);
    }
    if (l->csr_head) {
        struct timeval zero = {0, 0};
        evtimer_add(l->csr_ev, &zero); /* the rest after the loop has run I/O again */
    }
}

int agent_work_request(struct agent *a, struct http_request *req)
{
    struct agent_loop *l = a->loop;
    struct agent_work *w = a->work;
    if (!w || w->n_jobs == 0 || w->step == STEP_IDLE || w->step == STEP_KEYGEN ||
        w->step == STEP_PROBE)
        return -ENOENT;
    char id[AGENT_ID_MAX];
    if (agent_id(l->set, a->index, id, sizeof id) < 0)
        return -ENOSPC;
    const struct agent_job *job = &w->jobs[0];
    const char *base = l->set->base_path;
    int n;
    if (w->step == STEP_CSR)
        n = snprintf(l->scratch, AGENT_PATH_BYTES, "%s/api/v1/agents/%s/csr", base, id);
    else if (w->step == STEP_VERIFY)
        n = snprintf(l->scratch, AGENT_PATH_BYTES, "%s/api/v1/jobs/%s/verify", base, job->id);
    else if (w->step == STEP_FETCH)
        n = snprintf(l->scratch, AGENT_PATH_BYTES, "%s/api/v1/agents/%s/certificates/%s", base, id,
                     job->cert_id);
    else
        n = snprintf(l->scratch, AGENT_PATH_BYTES, "%s/api/v1/agents/%s/jobs/%s/status", base, id,
                     job->id);
    if (n < 0 || (size_t)n >= AGENT_PATH_BYTES)
        return -ENOSPC;
    req->path = l->scratch;
    if (w->step == STEP_FETCH) {
        req->method = "GET";
        req->headers = l->hdr_get;
        return 0;
    }
    req->method = "POST";
    req->headers = l->hdr_post;
    req->body = w->body;
    req->body_len = w->body_len;
    return 0;
}

/* The real agent's text for a request that failed (a Failed status's error): after prefix,
 * the transport error after transport_what, or the answer after status_what (the status code
 * when with_code) and its body, whole as Go's (long ones cut at AGENT_ERROR_BODY_MAX). */
static void failure_text(const struct http_result *res, const char *prefix,
                         const char *transport_what, const char *status_what, bool with_code,
                         char *buf, size_t n)
{
    if (res->error != HTTP_ERR_NONE) {
        snprintf(buf, n, "%s%s%s", prefix, transport_what, http_error_name(res->error));
        return;
    }
    size_t len = res->body ? res->body_len : 0;
    if (len > AGENT_ERROR_BODY_MAX)
        len = AGENT_ERROR_BODY_MAX;
    char code[16] = "";
    if (with_code)
        snprintf(code, sizeof code, "%d: ", res->status);
    snprintf(buf, n, "%s%s%s%.*s", prefix, status_what, code, (int)len, res->body ? res->body : "");
}

/* The deployment ended well: Completed, counted. */
static void deploy_completed(struct agent *a)
{
    a->loop->counters.deploy_completed++;
    final_status(a, NULL);
}

/* The probe is over: report what it saw (when the job names its target), else Completed. */
static void probe_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct agent *a = arg;
    struct agent_work *w = a->work;
    const struct agent_job *job = &w->jobs[0];
    if (a->loop->stopping || a->stopped || a->retired) {
        job_done(a);
        return;
    }
    char error[2 * AGENT_ID_MAX + 96];
    if (w->probe_failed) /* the real agent's probe error after its dial timed out */
        snprintf(error, sizeof error,
                 "failed to connect to %.100s:%d: dial tcp %.100s:%d: i/o timeout", job->host,
                 job->port, job->host, job->port);
    size_t len;
    char *body = job->target_id ? agent_work_verify_body(job->target_id, w->fp,
                                                         w->probe_failed ? error : NULL, &len)
                                : NULL;
    if (body)
        step_request(a, STEP_VERIFY, AGENT_EP_VERIFY, body, len);
    else
        deploy_completed(a);
    agent_kick(a);
}

/* The real agent's post-deployment wait and probe: verify_wait_ns, then a probe of a duration
 * drawn from [probe_min_ns, probe_max_ns] (a stream of the run seed, agent and job id). No
 * connection is made: the probe is taken to see the fetched certificate. */
static void probe_start(struct agent *a)
{
    struct agent_work *w = a->work;
    const struct agent_settings *set = a->loop->set;
    if (!w->probe_ev && !(w->probe_ev = evtimer_new(a->loop->base, probe_done, a))) {
        deploy_completed(a);
        return;
    }
    uint64_t span =
        set->probe_max_ns > set->probe_min_ns ? set->probe_max_ns - set->probe_min_ns : 0;
    uint64_t probe = set->probe_min_ns + (uint64_t)(job_draw(a, DRAW_PROBE) * (double)span);
    w->probe_failed = agent_side_failure(a, DRAW_FAIL_VERIFY, set->fail_verify);
    if (w->probe_failed) {
        probe = set->probe_timeout_ns; /* a failing probe waits for its dial timeout */
        a->loop->counters.fail_verify++;
    }
    uint64_t wait = set->verify_wait_ns + probe;
    struct timeval tv = {(time_t)(wait / 1000000000ULL),
                         (suseconds_t)(wait % 1000000000ULL / 1000)};
    w->step = STEP_PROBE;
    a->loop->counters.verify_probes++;
    evtimer_add(w->probe_ev, &tv);
}

/* The certificate answer arrived: check it against the kept key, then probe or report. */
static void on_fetched(struct agent *a, const struct http_result *res, bool ok)
{
    struct agent_loop *l = a->loop;
    struct agent_work *w = a->work;
    const struct agent_job *job = &w->jobs[0];
    char why[AGENT_ERROR_BODY_MAX + 64];
    if (!ok) {
        failure_text(res, "cert fetch failed: ", "request failed: ", "server returned ", true, why,
                     sizeof why);
        l->counters.deploy_failed++;
        final_status(a, why);
        return;
    }
    const uint8_t *pub = agent_keys_find(&w->keys, job->cert_id);
    void *holder;
    size_t pem_len = 0;
    const char *pem = agent_work_cert_pem(res->body, res->body_len, &holder, &pem_len);
    struct csr_key kept = {{0}, {0}};
    if (pub)
        memcpy(kept.pub, pub, CSR_PUB_LEN);
    int match = pem && pub ? csr_cert_matches_key(pem, pem_len, &kept) : 0;
    int fp_rc = pem ? csr_cert_fingerprint(pem, pem_len, w->fp) : -EBADMSG;
    json_object_put(holder);
    if (!pub) {
        l->counters.key_missing++;
        snprintf(why, sizeof why,
                 "key read failed: open " AGENT_KEY_DIR "/%.80s.key: no such file or directory",
                 job->cert_id);
    } else if (match != 1 || fp_rc != 0) {
        l->counters.key_mismatch++;
        snprintf(why, sizeof why, "%s",
                 match < 0 || !pem || fp_rc != 0
                     ? "deployment failed: certificate answer holds no parsable certificate"
                     : "deployment failed: certificate public key does not match the kept key");
    } else {
        l->counters.key_match++;
        why[0] = '\0';
        if (job->has_type && agent_side_failure(a, DRAW_FAIL_DEPLOY, l->set->fail_deploy)) {
            l->counters.fail_deploy++;
            snprintf(why, sizeof why,
                     "deployment failed: connector failed (simulated by fleetsim "
                     "--agent-failures)");
        }
    }
    if (why[0]) {
        l->counters.deploy_failed++;
        final_status(a, why);
    } else if (job->has_type && job->probe) {
        probe_start(a);
    } else {
        deploy_completed(a);
    }
}

void agent_work_on_result(struct agent *a, enum agent_endpoint ep, const struct http_result *res,
                          bool ok)
{
    (void)ep;
    struct agent_work *w = a->work;
    struct agent_loop *l = a->loop;
    if (!w || w->n_jobs == 0)
        return;
    char why[AGENT_ERROR_BODY_MAX + 64];
    switch (w->step) {
    case STEP_CSR:
        if (ok) {
            l->counters.csr_accepted++;
            job_done(a); /* the key stays for the agent's life */
            return;
        }
        l->counters.csr_failed++;
        failure_text(res, "", "CSR submission failed: ", "CSR rejected: ", false, why, sizeof why);
        if (!l->stopping && !a->stopped)
            final_status(a, why);
        else
            job_done(a);
        return;
    case STEP_RUNNING:
        if (l->stopping || a->stopped) {
            job_done(a);
            return;
        }
        step_request(a, STEP_FETCH, AGENT_EP_CERT_FETCH, NULL, 0);
        return;
    case STEP_FETCH:
        if (l->stopping || a->stopped) {
            job_done(a);
            return;
        }
        on_fetched(a, res, ok);
        return;
    case STEP_VERIFY: /* best effort, as the real agent: Completed whatever the answer */
        if (l->stopping || a->stopped) {
            job_done(a);
            return;
        }
        deploy_completed(a);
        return;
    case STEP_FINAL:
        job_done(a);
        return;
    default:
        return;
    }
}

void agent_work_free(struct agent *a)
{
    struct agent_work *w = a->work;
    if (!w)
        return;
    if (w->in_csr_queue)
        csr_unlink(a);
    if (w->probe_ev)
        event_del(w->probe_ev);
    a->loop->counters.keys_kept -= agent_keys_clear(&w->keys);
    for (size_t i = 0; i < w->n_jobs; i++)
        agent_job_clear(&w->jobs[i]);
    w->n_jobs = 0;
    w->step = STEP_IDLE;
    work_maybe_free(a);
}
