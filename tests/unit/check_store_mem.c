/* tests/unit/check_store_mem.c - the store's shared behavioural cases on the memory backend,
 * plus what only the memory backend promises: no memory growth per heartbeat or poll, and
 * per-agent costs that do not depend on the fleet's size. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/identity.h"
#include "tests/lib/testenv.h"
#include "tests/lib/store_cases.h"

static struct store *open_mem(struct store_config *cfg)
{
    char err[256];
    struct store *s = store_new(cfg, err, sizeof(err));
    ck_assert_msg(s != NULL, "%s", err);
    ck_assert_str_eq(store_backend_name(s), "memory");
    return s;
}

static struct store *big_fleet(uint32_t agents, uint32_t certs)
{
    struct store_config cfg;
    store_config_init(&cfg);
    cfg.expect_agents = agents;
    cfg.expect_certs = certs;
    struct store *s = open_mem(&cfg);
    struct store_seed_config sc = {
        .agents = agents, .certs = certs, .run_seed = 3, .os_mix = identity_default_os_mix()};
    char err[256] = "";
    ck_assert_msg(store_seed_fleet(s, &sc, err, sizeof(err)) == STORE_OK, "%s", err);
    return s;
}

static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(heartbeat_and_poll_allocate_nothing_lasting)
{
    struct store *s = big_fleet(1000, 2000);
    char id[IDENTITY_NAME_MAX];
    struct store_agent_meta m = {.hostname = "h",
                                 .os = "linux",
                                 .architecture = "amd64",
                                 .ip_address = "127.0.0.9",
                                 .version = "2.1.0"};
    /* First pass sets every agent's metadata once; later passes must not grow the heap. */
    for (uint32_t i = 1; i <= 1000; i++) {
        identity_agent_id(id, sizeof(id), IDENTITY_DEFAULT_PREFIX, i);
        ck_assert_int_eq(store_agent_heartbeat(s, id, &m), STORE_OK);
        json_object *items = NULL;
        ck_assert_int_eq(store_work_poll(s, id, &items), STORE_OK);
        json_object_put(items);
    }
    size_t before = heap_in_use();
    for (int round = 0; round < 20; round++)
        for (uint32_t i = 1; i <= 1000; i++) {
            identity_agent_id(id, sizeof(id), IDENTITY_DEFAULT_PREFIX, i);
            ck_assert_int_eq(store_agent_heartbeat(s, id, &m), STORE_OK);
            json_object *items = NULL;
            ck_assert_int_eq(store_work_poll(s, id, &items), STORE_OK);
            ck_assert_int_eq(json_object_array_length(items), 0);
            json_object_put(items);
        }
    ck_assert_uint_eq(heap_in_use(), before);
    store_free(s);
}
END_TEST

/* 50,000 agents / 100,000 certificates (the sizing target): a heartbeat and a poll cost the
 * same as in a small fleet, within a generous factor (never a scan of all certificates). */
START_TEST(per_agent_cost_independent_of_fleet)
{
    double t[2];
    const uint32_t agents[2] = {100, 50000}, certs[2] = {200, 100000};
    for (int k = 0; k < 2; k++) {
        struct store *s = big_fleet(agents[k], certs[k]);
        char id[IDENTITY_NAME_MAX];
        identity_agent_id(id, sizeof(id), IDENTITY_DEFAULT_PREFIX, 7);
        double t0 = now_s();
        for (int i = 0; i < 20000; i++) {
            ck_assert_int_eq(store_agent_heartbeat(s, id, NULL), STORE_OK);
            json_object *items = NULL;
            ck_assert_int_eq(store_work_poll(s, id, &items), STORE_OK);
            json_object_put(items);
        }
        t[k] = now_s() - t0;
        store_free(s);
    }
    ck_assert_msg(t[1] < t[0] * 5 + 0.05, "small fleet %.3f s, large fleet %.3f s", t[0], t[1]);
}
END_TEST

static const struct store_backend mem_backend = {.name = "memory", .open = open_mem};

int main(void)
{
    Suite *s = suite_create("store_mem");
    store_cases_add(s, &mem_backend, 10);
    TCase *tc = testenv_tcase(s, "memory_only", 60);
    tcase_add_test(tc, heartbeat_and_poll_allocate_nothing_lasting);
    tcase_add_test(tc, per_agent_cost_independent_of_fleet);
    return testenv_run(s);
}
