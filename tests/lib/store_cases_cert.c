/* tests/lib/store_cases_cert.c - behavioural cases of refserver/store.h, part 2, run against
 * each backend: certificate paging and filters, certificate creation, the bulk renewal's
 * 50-row clamp (on and off), id lists and skip rules, profiles, and fleet seeding. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sim/identity.h"
#include "tests/lib/store_cases_internal.h"

/* ---- certificates ----------------------------------------------------------------------- */

static int64_t list_page(struct store *s, const struct store_cert_filter *f, int64_t page,
                         int64_t per_page, int64_t *page_out, int64_t *per_page_out, int64_t *n_out,
                         char *first_id)
{
    json_object *l = NULL;
    ck_assert_int_eq(store_cert_list(s, f, page, per_page, &l), STORE_OK);
    json_object *data = json_object_object_get(l, "data");
    *n_out = (int64_t)json_object_array_length(data);
    *page_out = sc_jint(l, "page");
    *per_page_out = sc_jint(l, "per_page");
    if (first_id)
        snprintf(first_id, 64, "%s",
                 *n_out ? sc_jstr(json_object_array_get_idx(data, 0), "id") : "");
    int64_t total = sc_jint(l, "total");
    json_object_put(l);
    return total;
}

START_TEST(list_paging_rules)
{
    struct store *s = sc_seeded(3, 120, true);
    int64_t pg, pp, n;
    char first[64];
    ck_assert_int_eq(list_page(s, NULL, 0, 0, &pg, &pp, &n, first), 120);
    ck_assert(pg == 1 && pp == 50 && n == 50);
    ck_assert_str_eq(first, sc_cert_id(1)); /* oldest first */
    ck_assert_int_eq(list_page(s, NULL, 1, 600, &pg, &pp, &n, NULL), 120);
    ck_assert(pp == 50 && n == 50); /* over 500 → 50 */
    ck_assert_int_eq(list_page(s, NULL, 1, -3, &pg, &pp, &n, NULL), 120);
    ck_assert(pp == 50 && n == 50);
    ck_assert_int_eq(list_page(s, NULL, 1, 500, &pg, &pp, &n, NULL), 120);
    ck_assert(pp == 500 && n == 120);
    ck_assert_int_eq(list_page(s, NULL, 3, 50, &pg, &pp, &n, first), 120);
    ck_assert(pg == 3 && n == 20);
    ck_assert_str_eq(first, sc_cert_id(101));
    ck_assert_int_eq(list_page(s, NULL, 4, 50, &pg, &pp, &n, NULL), 120);
    ck_assert_int_eq(n, 0);

    struct store_cert_filter f = {.agent_id = sc_agent_id(2)};
    ck_assert_int_eq(list_page(s, &f, 1, 10, &pg, &pp, &n, first), 40);
    ck_assert_str_eq(first, sc_cert_id(2));
    f = (struct store_cert_filter){.status = "Active",
                                   .owner_id = "o-loadtest",
                                   .team_id = "t-loadtest",
                                   .issuer_id = "iss-local"};
    ck_assert_int_eq(list_page(s, &f, 1, 10, &pg, &pp, &n, NULL), 120);
    f = (struct store_cert_filter){.status = "RenewalInProgress"};
    ck_assert_int_eq(list_page(s, &f, 1, 1, &pg, &pp, &n, NULL), 0);
    f = (struct store_cert_filter){.owner_id = "o-other"};
    ck_assert_int_eq(list_page(s, &f, 1, 1, &pg, &pp, &n, NULL), 0);

    json_object *c = NULL;
    ck_assert_int_eq(store_cert_get(s, sc_cert_id(7), &c), STORE_OK);
    ck_assert_str_eq(sc_jstr(c, "name"), "loadtest-bulk-00007");
    ck_assert_str_eq(sc_jstr(c, "environment"), "loadtest");
    ck_assert_str_eq(json_object_get_string(
                         json_object_array_get_idx(json_object_object_get(c, "target_ids"), 0)),
                     "tgt-loadtest-00001");
    ck_assert_int_eq(json_object_array_length(json_object_object_get(c, "sans")), 0);
    json_object_put(c);
    ck_assert_int_eq(store_cert_get(s, "mc-nope", &c), STORE_NOT_FOUND);
    store_free(s);
}
END_TEST

START_TEST(cert_create_rules)
{
    struct store *s = sc_seeded(1, 0, true);
    const char *sans[] = {"a.example.test", "b.example.test"};
    struct store_cert_input in = {.name = "api",
                                  .common_name = "api.example.test",
                                  .owner_id = "o-loadtest",
                                  .team_id = "t-loadtest",
                                  .issuer_id = "iss-local",
                                  .renewal_policy_id = "rp-loadtest",
                                  .sans = sans,
                                  .n_sans = 2};
    json_object *c = NULL;
    ck_assert_int_eq(store_cert_create(s, &in, &c), STORE_OK);
    ck_assert_str_eq(sc_jstr(c, "status"), "Pending");
    ck_assert_str_eq(sc_jstr(c, "expires_at"), "0001-01-01T00:00:00Z");
    ck_assert_int_eq(strncmp(sc_jstr(c, "id"), "cert-", 5), 0);
    char id[128];
    snprintf(id, sizeof(id), "%s", sc_jstr(c, "id"));
    json_object_put(c);
    ck_assert_int_eq(store_cert_get(s, id, &c), STORE_OK);
    json_object *sv = json_object_object_get(c, "sans");
    ck_assert_int_eq(json_object_array_length(sv), 2);
    ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(sv, 1)), "b.example.test");
    ck_assert_int_eq(json_object_array_length(json_object_object_get(c, "target_ids")), 0);
    json_object_put(c);

    ck_assert_int_eq(store_cert_create(s, &in, NULL), STORE_ERROR); /* name taken: 500 */
    struct store_cert_input x = in;
    x.name = "other";
    x.owner_id = "o-missing";
    ck_assert_int_eq(store_cert_create(s, &x, NULL), STORE_ERROR); /* FK: 500 */
    x.owner_id = "o-loadtest";
    x.certificate_profile_id = "prof-missing";
    ck_assert_int_eq(store_cert_create(s, &x, NULL), STORE_ERROR);
    x.certificate_profile_id = NULL;
    x.renewal_policy_id = NULL;
    ck_assert_int_eq(store_cert_create(s, &x, NULL), STORE_INVALID);
    x.renewal_policy_id = "rp-loadtest";
    x.status = "Bogus";
    ck_assert_int_eq(store_cert_create(s, &x, NULL), STORE_INVALID);
    x.status = "Active";
    x.id = "mc-explicit";
    x.expires_at_unix_s = T0_NS / 1000000000LL + DAY_S;
    ck_assert_int_eq(store_cert_create(s, &x, &c), STORE_OK);
    ck_assert_str_eq(sc_jstr(c, "id"), "mc-explicit");
    ck_assert_str_eq(sc_jstr(c, "expires_at"), "2030-01-02T00:00:00Z");
    json_object_put(c);
    x.name = "third";
    ck_assert_int_eq(store_cert_create(s, &x, NULL), STORE_ERROR); /* id taken */
    /* API-created certs reach no agent until mapped. */
    ck_assert_int_eq(store_job_create_renewal(s, "mc-explicit", NULL), STORE_OK);
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(1), NULL), 0);
    ck_assert_int_eq(store_cert_map_target(s, "mc-explicit", "tgt-loadtest-00001"), STORE_OK);
    ck_assert_int_eq(store_cert_map_target(s, "mc-explicit", "tgt-loadtest-00001"), STORE_OK);
    ck_assert_int_eq(store_cert_map_target(s, "mc-explicit", "tgt-none"), STORE_NOT_FOUND);
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(1), NULL), 1);
    store_free(s);
}
END_TEST

/* ---- bulk renewal ----------------------------------------------------------------------- */

static json_object *bulk(struct store *s, const struct store_bulk_criteria *c)
{
    json_object *r = NULL;
    int rc = store_bulk_renew(s, c, &r);
    ck_assert_int_eq(rc, STORE_OK);
    return r;
}

static void bulk_expect(json_object *r, int64_t matched, int64_t enq, int64_t skipped)
{
    ck_assert_int_eq(sc_jint(r, "total_matched"), matched);
    ck_assert_int_eq(sc_jint(r, "total_enqueued"), enq);
    ck_assert_int_eq(sc_jint(r, "total_skipped"), skipped);
    ck_assert_int_eq(sc_jint(r, "total_failed"), 0);
    ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "enqueued_jobs")), enq);
    ck_assert_int_eq(json_object_array_length(json_object_object_get(r, "errors")), 0);
    json_object_put(r);
}

START_TEST(bulk_clamp_on)
{
    struct store *s = sc_seeded(4, 60, true);
    struct store_bulk_criteria none = {0};
    json_object *r = NULL;
    ck_assert_int_eq(store_bulk_renew(s, &none, &r), STORE_INVALID);
    ck_assert_ptr_null(r);
    struct store_bulk_criteria c = {.owner_id = "o-loadtest"};
    r = bulk(s, &c);
    json_object *first = json_object_array_get_idx(json_object_object_get(r, "enqueued_jobs"), 0);
    ck_assert_str_eq(sc_jstr(first, "certificate_id"), sc_cert_id(1)); /* the 50 oldest */
    bulk_expect(r, 50, 50, 0);
    /* The in-progress certs keep filling the 50 slots: no progress (certctl's behaviour). */
    bulk_expect(bulk(s, &c), 50, 0, 50);
    struct store_cert_filter f = {.status = "RenewalInProgress"};
    int64_t pg, pp, n;
    ck_assert_int_eq(list_page(s, &f, 1, 1, &pg, &pp, &n, NULL), 50);
    json_object *counts = NULL;
    ck_assert_int_eq(store_job_counts(s, &counts), STORE_OK);
    ck_assert_int_eq(sc_jint(counts, "AwaitingCSR"), 50);
    json_object_put(counts);
    /* Each agent sees exactly the jobs of its own certificates. */
    int total = 0;
    for (int i = 1; i <= 4; i++)
        total += sc_poll_n(s, sc_agent_id(i), NULL);
    ck_assert_int_eq(total, 50);
    ck_assert_int_eq(sc_poll_n(s, sc_agent_id(1), NULL), 13); /* certs 1,5,...,49 */
    store_free(s);
}
END_TEST

START_TEST(bulk_clamp_off)
{
    struct store *s = sc_seeded(4, 60, false);
    struct store_bulk_criteria c = {.team_id = "t-loadtest"};
    bulk_expect(bulk(s, &c), 60, 60, 0);
    bulk_expect(bulk(s, &c), 60, 0, 60);
    struct store_bulk_criteria by_agent = {.agent_id = sc_agent_id(2)};
    bulk_expect(bulk(s, &by_agent), 15, 0, 15);
    store_free(s);
}
END_TEST

START_TEST(bulk_ids_and_skip_rules)
{
    struct store *s = sc_seeded(2, 6, true);
    struct store_cert_input in = {.name = "archived",
                                  .common_name = "x.example.test",
                                  .owner_id = "o-loadtest",
                                  .team_id = "t-loadtest",
                                  .issuer_id = "iss-local",
                                  .renewal_policy_id = "rp-loadtest",
                                  .id = "mc-arch",
                                  .status = "Archived"};
    ck_assert_int_eq(store_cert_create(s, &in, NULL), STORE_OK);
    in = (struct store_cert_input){.name = "expired",
                                   .common_name = "y.example.test",
                                   .owner_id = "o-loadtest",
                                   .team_id = "t-loadtest",
                                   .issuer_id = "iss-local",
                                   .renewal_policy_id = "rp-loadtest",
                                   .id = "mc-exp",
                                   .status = "Expired"};
    ck_assert_int_eq(store_cert_create(s, &in, NULL), STORE_OK);
    in = (struct store_cert_input){.name = "fresh",
                                   .common_name = "z.example.test",
                                   .owner_id = "o-loadtest",
                                   .team_id = "t-loadtest",
                                   .issuer_id = "iss-local",
                                   .renewal_policy_id = "rp-loadtest",
                                   .id = "mc-new",
                                   .status = "Revoked"};
    ck_assert_int_eq(store_cert_create(s, &in, NULL), STORE_OK);
    in.id = "mc-zero";
    in.name = "zero";
    in.status = NULL; /* Pending, zero expires_at: an Issuance */
    ck_assert_int_eq(store_cert_create(s, &in, NULL), STORE_OK);

    const char *ids[] = {"mc-arch", "mc-unknown",        "mc-exp",           "mc-new",
                         "mc-zero", "mc-loadtest-00001", "mc-loadtest-00002"};
    struct store_bulk_criteria c = {.certificate_ids = ids, .n_certificate_ids = 7};
    json_object *r = bulk(s, &c);
    json_object *jobs = json_object_object_get(r, "enqueued_jobs");
    char zero_job[128];
    snprintf(zero_job, sizeof(zero_job), "%s",
             sc_jstr(json_object_array_get_idx(jobs, 0), "job_id"));
    ck_assert_str_eq(sc_jstr(json_object_array_get_idx(jobs, 0), "certificate_id"), "mc-zero");
    bulk_expect(r, 6, 3, 3); /* unknown dropped silently; Archived/Expired/Revoked skipped */
    json_object *j = NULL;
    ck_assert_int_eq(store_job_get(s, zero_job, &j), STORE_OK);
    ck_assert_str_eq(sc_jstr(j, "type"), "Issuance");
    ck_assert_str_eq(sc_jstr(j, "status"), "AwaitingCSR");
    ck_assert(!sc_jhas(j, "agent_id") && !sc_jhas(j, "target_id"));
    json_object_put(j);
    bulk_expect(bulk(s, &c), 6, 0, 6); /* now RenewalInProgress as well */

    /* Filter and ids together: the filter's matches, intersected with the ids. */
    const char *two[] = {"mc-loadtest-00003", "mc-loadtest-00004", "mc-arch"};
    struct store_bulk_criteria both = {
        .agent_id = sc_agent_id(1), .certificate_ids = two, .n_certificate_ids = 3};
    bulk_expect(bulk(s, &both), 1, 1, 0); /* cert 3 is agent 1's; 4 is agent 2's */
    store_free(s);
}
END_TEST

/* ---- profiles --------------------------------------------------------------------------- */

START_TEST(profile_rules)
{
    struct store *s = sc_seeded(1, 0, true);
    struct store_profile_input in = {.id = "prof-test", .name = "Test profile"};
    json_object *p = NULL;
    ck_assert_int_eq(store_profile_create(s, &in, &p), STORE_OK);
    ck_assert_str_eq(sc_jstr(p, "id"), "prof-test");
    ck_assert_str_eq(sc_jstr(p, "acme_auth_mode"), "trust_authenticated");
    json_object_put(p);
    ck_assert_int_eq(store_profile_get(s, "prof-test", &p), STORE_OK);
    json_object *algs = json_object_object_get(p, "allowed_key_algorithms");
    ck_assert_int_eq(json_object_array_length(algs), 2);
    ck_assert_str_eq(sc_jstr(json_object_array_get_idx(algs, 0), "algorithm"), "ECDSA");
    ck_assert_int_eq(sc_jint(json_object_array_get_idx(algs, 0), "min_size"), 256);
    json_object_put(p);
    ck_assert_int_eq(store_profile_get(s, "prof-none", NULL), STORE_NOT_FOUND);
    ck_assert_int_eq(store_profile_create(s, &in, NULL), STORE_CONFLICT); /* id */
    struct store_profile_input dup = {.name = "Test profile"};
    ck_assert_int_eq(store_profile_create(s, &dup, NULL), STORE_CONFLICT); /* name */
    struct store_profile_input noname = {.id = "prof-x"};
    ck_assert_int_eq(store_profile_create(s, &noname, NULL), STORE_INVALID);
    struct store_profile_input mode = {.name = "m", .acme_auth_mode = "magic"};
    ck_assert_int_eq(store_profile_create(s, &mode, NULL), STORE_INVALID);
    struct store_key_rule rsa = {"RSA", 3072};
    struct store_profile_input gen = {.name = "strong",
                                      .allowed_key_algorithms = &rsa,
                                      .n_allowed = 1,
                                      .acme_auth_mode = "challenge",
                                      .max_ttl_seconds = 3600};
    ck_assert_int_eq(store_profile_create(s, &gen, &p), STORE_OK);
    ck_assert_int_eq(strncmp(sc_jstr(p, "id"), "prof-", 5), 0);
    char pid[128];
    snprintf(pid, sizeof(pid), "%s", sc_jstr(p, "id"));
    json_object_put(p);
    ck_assert_int_eq(store_profile_get(s, pid, &p), STORE_OK);
    ck_assert_int_eq(sc_jint(p, "max_ttl_seconds"), 3600);
    ck_assert_str_eq(sc_jstr(p, "acme_auth_mode"), "challenge");
    json_object_put(p);

    /* A certificate bound to the profile is found by the profile filter and bulk renewal. */
    struct store_cert_input ci = {.name = "p1",
                                  .common_name = "p1.example.test",
                                  .owner_id = "o-loadtest",
                                  .team_id = "t-loadtest",
                                  .issuer_id = "iss-local",
                                  .renewal_policy_id = "rp-loadtest",
                                  .certificate_profile_id = "prof-test",
                                  .status = "Active",
                                  .expires_at_unix_s = T0_NS / 1000000000LL + 40 * DAY_S};
    ck_assert_int_eq(store_cert_create(s, &ci, NULL), STORE_OK);
    struct store_bulk_criteria c = {.profile_id = "prof-test"};
    bulk_expect(bulk(s, &c), 1, 1, 0);
    store_free(s);
}
END_TEST

START_TEST(seed_rules)
{
    struct store *s = sc_seeded(4, 10, true);
    struct store_seed_config again = {.agents = 4, .certs = 10, .prefix = P, .run_seed = 7};
    char err[256];
    int rc = store_seed_fleet(s, &again, err, sizeof(err));
    /* Memory refuses a second seeding; seed/ (PostgreSQL) is idempotent. */
    ck_assert(rc == STORE_CONFLICT || rc == STORE_OK);
    struct store_seed_config bad = {.agents = 0, .certs = 3, .prefix = P};
    ck_assert_int_eq(store_seed_fleet(s, &bad, err, sizeof(err)), STORE_INVALID);
    bad = (struct store_seed_config){.agents = 1, .prefix = "Bad-Prefix"};
    ck_assert_int_eq(store_seed_fleet(s, &bad, err, sizeof(err)), STORE_INVALID);

    json_object *a = NULL;
    ck_assert_int_eq(store_agent_get(s, sc_agent_id(4), &a), STORE_OK);
    ck_assert_str_eq(sc_jstr(a, "name"), "loadtest-agent-00004");
    ck_assert_str_eq(sc_jstr(a, "version"), "2.1.0");
    ck_assert_str_eq(sc_jstr(a, "status"), "Online");
    ck_assert(sc_jhas(a, "last_heartbeat_at"));
    int64_t seeded_at = sc_rfc3339_s(sc_jstr(a, "registered_at"));
    struct identity_os_mix mix = identity_default_os_mix();
    struct identity_agent_meta meta;
    identity_agent_meta(7, 4, &mix, &meta);
    ck_assert_str_eq(sc_jstr(a, "os"), meta.os);
    ck_assert_str_eq(sc_jstr(a, "architecture"), meta.architecture);
    json_object_put(a);
    struct store_agent_counts c;
    ck_assert_int_eq(store_agent_counts(s, &c), STORE_OK);
    ck_assert_uint_eq(c.total, 4);
    ck_assert_uint_eq(c.retired, 0);

    json_object *cert = NULL;
    ck_assert_int_eq(store_cert_get(s, sc_cert_id(10), &cert), STORE_OK);
    ck_assert_str_eq(sc_jstr(cert, "status"), "Active");
    ck_assert_str_eq(sc_jstr(cert, "owner_id"), "o-loadtest");
    int64_t left = sc_rfc3339_s(sc_jstr(cert, "expires_at")) - seeded_at;
    ck_assert_msg(left >= 32 * DAY_S && left <= 90 * DAY_S, "expires %" PRId64 " s after seeding",
                  left);
    ck_assert_str_eq(json_object_get_string(
                         json_object_array_get_idx(json_object_object_get(cert, "target_ids"), 0)),
                     "tgt-loadtest-00002");
    json_object_put(cert);
    store_free(s);
}
END_TEST

void store_cases_add_certs(TCase *tc)
{
    tcase_add_test(tc, list_paging_rules);
    tcase_add_test(tc, cert_create_rules);
    tcase_add_test(tc, bulk_clamp_on);
    tcase_add_test(tc, bulk_clamp_off);
    tcase_add_test(tc, bulk_ids_and_skip_rules);
    tcase_add_test(tc, profile_rules);
    tcase_add_test(tc, seed_rules);
}
