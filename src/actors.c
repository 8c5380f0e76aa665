/* src/actors.c - the registered actors of `fleetsim run` (see actor.h): the built-in ones, in
 * the order a run sets them up, starts them and prints them, then any added by
 * actor_register. */
#include "src/actor.h"

#include <errno.h>

/* The built-in actors. An actor is one file defining `const struct actor_ops NAME` and one
 * line X(NAME) here. */
#define BUILTIN_ACTORS(X) \
    X(fleet_actor)        \
    X(operator_actor)     \
    X(acme_actor)

#define DECLARE_ACTOR(name) extern const struct actor_ops name;
#define LIST_ACTOR(name) &name,

BUILTIN_ACTORS(DECLARE_ACTOR)

static const struct actor_ops *registered[ACTORS_MAX] = {BUILTIN_ACTORS(LIST_ACTOR)};
static size_t n_registered = sizeof((const struct actor_ops *[]){BUILTIN_ACTORS(LIST_ACTOR)}) /
                             sizeof(const struct actor_ops *);

int actor_register(const struct actor_ops *ops)
{
    if (!ops || !ops->name || !ops->wanted || !ops->setup || !ops->start || !ops->stop ||
        !ops->cut || !ops->finished || !ops->join || !ops->interval_take || !ops->merge ||
        !ops->in_flight || !ops->free)
        return -EINVAL;
    if (n_registered == ACTORS_MAX)
        return -ENOSPC;
    registered[n_registered++] = ops;
    return 0;
}

size_t actor_count(void)
{
    return n_registered;
}

const struct actor_ops *actor_at(size_t i)
{
    return i < n_registered ? registered[i] : NULL;
}

int actor_register_names(void)
{
    for (size_t i = 0; i < n_registered; i++) {
        int rc = registered[i]->register_names ? registered[i]->register_names() : 0;
        if (rc != 0)
            return rc;
    }
    return 0;
}
