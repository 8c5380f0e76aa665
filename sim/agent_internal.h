/* sim/agent_internal.h - private glue between sim/agent.c (timers, queue, connection) and
 * sim/agent_work.c (jobs and keys). Not for use outside sim/agent*.c. */
#ifndef FLEETSIM_SIM_AGENT_INT_H
#define FLEETSIM_SIM_AGENT_INT_H

#include <stdint.h>

#include "sim/agent.h"

/* State of one request kind of an agent. */
enum agent_slot { AGENT_SLOT_IDLE = 0, AGENT_SLOT_WAITING, AGENT_SLOT_IN_FLIGHT };

/* Schedules a request of kind (endpoint ep) intended at intended_ns: counts it scheduled and
 * queues it, or counts it dropped when the previous one of that kind is still waiting or in
 * flight. Returns true when queued. Call agent_kick afterwards. */
bool agent_schedule(struct agent *a, enum agent_kind kind, enum agent_endpoint ep,
                    uint64_t intended_ns);

/* Sends the next waiting request if the connection allows, and re-arms the agent's timer. */
void agent_kick(struct agent *a);

#endif
