/* engine/transport.c - the transport tables by kind (see transport.h). */
#include "engine/transport.h"

#include <string.h>

const struct transport_ops *const transport_tables[] = {
    [TRANSPORT_PLAIN] = &transport_plain,
    [TRANSPORT_TLS] = &transport_tls,
};

void transport_init(struct transport *t, enum transport_kind kind)
{
    memset(t, 0, sizeof(*t));
    t->kind = (uint8_t)kind;
    t->fd = -1;
}
