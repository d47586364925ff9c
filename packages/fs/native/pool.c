/*
 * Threads of the addon's own for the async publishes, instead of libuv's pool: a durable publish holds its
 * thread through two fsyncs, and libuv's 4 threads (UV_THREADPOOL_SIZE, which a library cannot set) would let
 * only 4 of them wait on the disk at once, where the disk merges many. A thread is started when a task finds
 * none idle, up to MAX_THREADS; threads then wait for work for the life of the process (they hold no
 * resources, and the process exits regardless). Keeping publishes off libuv's pool also leaves that pool to
 * the rest of the program's I/O.
 */
#define _GNU_SOURCE
#include "pool.h"

#include <pthread.h>
#include <stddef.h>

#define MAX_THREADS 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static struct pool_task *head, *tail;
/* woken: idle threads already signalled for a task but not yet running; a task finding every idle thread
 * woken starts a thread of its own, so a burst of submits never queues behind one waking thread. */
static int threads, idle, woken;

static void *worker(void *unused) {
  (void)unused;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (!head) {
      idle++;
      pthread_cond_wait(&work, &lock);
      idle--;
      if (woken > 0) woken--;
    }
    struct pool_task *t = head;
    head = t->next;
    if (!head) tail = NULL;
    pthread_mutex_unlock(&lock);
    t->run(t);
    t->done(t);
    pthread_mutex_lock(&lock);
  }
  return NULL;
}

int pool_submit(struct pool_task *t) {
  t->next = NULL;
  pthread_mutex_lock(&lock);
  if (tail) tail->next = t;
  else head = t;
  tail = t;
  int ok = 1, wake = 0;
  if (idle > woken) {
    woken++;
    wake = 1;
  } else if (threads < MAX_THREADS) {
    pthread_attr_t attr;
    pthread_t id;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    if (pthread_create(&id, &attr, worker, NULL) == 0) {
      threads++;
      /* Told apart from libuv's and Node's threads in /proc/PID/task/TID/comm (ps -L, top -H, tests). */
      pthread_setname_np(id, "quire-fs-io");
    } else {
      ok = threads > 0; /* queued for a running thread; with none at all, the caller must run it */
    }
    pthread_attr_destroy(&attr);
  }
  if (!ok) {
    head = tail = NULL;
  }
  pthread_mutex_unlock(&lock);
  /* Signalled after the unlock: a thread woken under the lock would at once block on it again. */
  if (wake) pthread_cond_signal(&work);
  return ok ? 0 : -1;
}
