/* The addon's threads for async publishes (pool.c). */
#ifndef QUIRE_POOL_H
#define QUIRE_POOL_H

struct pool_task {
  struct pool_task *next;
  void (*run)(struct pool_task *); /* on a pool thread */
  void (*done)(struct pool_task *); /* on the same thread, after run: hands the result back */
};

/* Queues `t`; 0, or -1 when no thread could be started (then nothing is queued). */
int pool_submit(struct pool_task *t);

#endif
