// gb-test-labels: concurrency
/* The intrusive MPSC queue under mailboxes and run queues. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "actor/actor_test.h"
#include "actor/mpsc.h"

typedef struct item {
    gbi_mpsc_node node; /* first: the node's address is the item's */
    uint32_t producer;
    uint32_t seq;
} item;

GB_TEST(mpsc, pops_in_push_order_and_reports_empty)
{
    gbi_mpsc q;
    gbi_mpsc_init(&q);
    GB_CHECK(!gbi_mpsc_maybe_nonempty(&q), "new queue is empty");
    GB_CHECK(gbi_mpsc_pop(&q) == NULL, "pop of an empty queue");
    item it[3];
    for (int i = 0; i < 3; i++)
        gbi_mpsc_push(&q, &it[i].node);
    for (int i = 0; i < 3; i++) {
        GB_CHECK(gbi_mpsc_maybe_nonempty(&q), "holds %d items", 3 - i);
        GB_CHECK(gbi_mpsc_pop(&q) == &it[i].node, "item %d in order", i);
    }
    GB_CHECK(gbi_mpsc_pop(&q) == NULL, "empty again");
    GB_CHECK(!gbi_mpsc_maybe_nonempty(&q), "empty hint after draining");
}

/* Replays by hand the interleaving that once hid queued actors from idle
 * workers: the consumer re-inserts the stub right after a producer's
 * exchange, so the queue holds X -> Y -> stub while head == &stub. */
GB_TEST(mpsc, nonempty_hint_sees_nodes_queued_before_a_reinserted_stub)
{
    gbi_mpsc q;
    gbi_mpsc_init(&q);
    item w, x, y;
    gbi_mpsc_push(&q, &w.node);
    gbi_mpsc_push(&q, &x.node);
    GB_CHECK(gbi_mpsc_pop(&q) == &w.node, "w first");        /* tail is now x */
    atomic_store(&y.node.next, NULL);                        /* producer: push(y) ... */
    gbi_mpsc_node *prev = atomic_exchange(&q.head, &y.node); /* ... exchange done */
    gbi_mpsc_push(&q, &q.stub);                              /* consumer: re-insert stub */
    atomic_store(&prev->next, &y.node);                      /* producer: link */
    GB_CHECK(atomic_load(&q.head) == &q.stub, "the replayed state has head == stub");
    GB_CHECK(gbi_mpsc_maybe_nonempty(&q), "x and y are still queued");
    GB_CHECK(gbi_mpsc_pop(&q) == &x.node, "x");
    GB_CHECK(gbi_mpsc_pop(&q) == &y.node, "y");
    GB_CHECK(gbi_mpsc_pop(&q) == NULL, "then empty");
    GB_CHECK(!gbi_mpsc_maybe_nonempty(&q), "and reported empty");
}

#define PRODUCERS 3
#define PER 50000

typedef struct prod_arg {
    gbi_mpsc *q;
    item *items;
    uint32_t id;
} prod_arg;

static void *produce(void *p)
{
    prod_arg *a = p;
    for (uint32_t i = 0; i < PER; i++) {
        a->items[i].producer = a->id;
        a->items[i].seq = i;
        gbi_mpsc_push(a->q, &a->items[i].node);
    }
    return NULL;
}

GB_TEST(mpsc, concurrent_producers_lose_nothing_and_keep_their_order)
{
    gbi_mpsc q;
    gbi_mpsc_init(&q);
    pthread_t t[PRODUCERS];
    prod_arg a[PRODUCERS];
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        a[i] = (prod_arg){&q, calloc(PER, sizeof(item)), i};
        pthread_create(&t[i], NULL, produce, &a[i]);
    }
    uint32_t next[PRODUCERS] = {0};
    for (uint32_t got = 0; got < PRODUCERS * PER;) {
        item *it = (item *)(void *)gbi_mpsc_pop(&q);
        if (!it)
            continue; /* empty or a push half done: try again */
        GB_CHECK(it->seq == next[it->producer], "producer %u: got %u, expected %u", it->producer, it->seq,
                 next[it->producer]);
        next[it->producer]++;
        got++;
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    GB_CHECK(gbi_mpsc_pop(&q) == NULL, "nothing extra");
    GB_CHECK(!gbi_mpsc_maybe_nonempty(&q), "empty at the end");
    for (int i = 0; i < PRODUCERS; i++)
        free(a[i].items);
}
