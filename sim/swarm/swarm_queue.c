/* sim/swarm/swarm_queue.c: a growable FIFO ring of microbatch ids. */
#include <stdlib.h>
#include <string.h>

#include "sim/swarm/swarm_internal.h"
#include "sim/base/util.h"

void mbq_init(mbq *q, int cap) {
    q->cap = cap > 4 ? cap : 4;
    q->v = xmalloc(sizeof *q->v * (size_t)q->cap);
    q->head = q->n = 0;
}

void mbq_free(mbq *q) {
    free(q->v);
    q->v = NULL;
    q->cap = q->head = q->n = 0;
}

void mbq_push(mbq *q, int64_t v) {
    if (q->n == q->cap) {
        int64_t *nv = xmalloc(sizeof *nv * (size_t)q->cap * 2);
        for (int i = 0; i < q->n; i++) nv[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = nv;
        q->head = 0;
        q->cap *= 2;
    }
    q->v[(q->head + q->n) % q->cap] = v;
    q->n++;
}

int64_t mbq_pop(mbq *q) {
    if (!q->n) return -1;
    int64_t v = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return v;
}

void mbq_clear(mbq *q) { q->head = q->n = 0; }
