/* sim/swarm/swarm_registry.c: the engine's algorithms by name (see swarm_internal.h).
 * Adding a training, sync, routing algorithm or schedule: its file with its table, one
 * line here. */
#include <string.h>

#include "sim/swarm/swarm_internal.h"

static const swarm_phase_ops *const trainings[] = {&swarm_train_pipeline, &swarm_train_ddp};
static const swarm_phase_ops *const syncs[] = {&swarm_sync_butterfly, &swarm_sync_ring,
                                               &swarm_sync_storage};
static const swarm_router *const routers[] = {&swarm_route_iota, &swarm_route_swarm,
                                              &swarm_route_fixed};
static const swarm_schedule *const schedules[] = {&swarm_schedule_sequential,
                                                  &swarm_schedule_overlap};

#define FIND(table, name)                                                                          \
    do {                                                                                           \
        for (size_t i = 0; name && i < sizeof table / sizeof table[0]; i++)                        \
            if (!strcmp(table[i]->name, name)) return table[i];                                    \
        return NULL;                                                                               \
    } while (0)

const swarm_phase_ops *swarm_training_find(const char *name) { FIND(trainings, name); }
const swarm_phase_ops *swarm_sync_find(const char *name) { FIND(syncs, name); }
const swarm_router *swarm_router_find(const char *name) { FIND(routers, name); }
const swarm_schedule *swarm_schedule_find(const char *name) { FIND(schedules, name); }
