/*
 * Threads of the addon's own for the async publishes, instead of libuv's pool: a durable publish holds its
 * thread through two fsyncs, and libuv's 4 threads (UV_THREADPOOL_SIZE, which a library cannot set) would let
 * only 4 of them wait on the disk at once, where the disk merges many. A thread is started when a task finds
 * none idle, up to MAX_THREADS; threads then wait for work for the life of the process (they hold no
 * resources, and the process exits regardless). Keeping publishes off libuv's pool also leaves that pool to
 * the rest of the program's I/O. Since they outlive any one Node environment, the addon is linked `-z nodelete`
 * (binding.gyp): a worker thread that loaded it alone and exits must not unload the code they run
 * (worker-exit.test.ts; before, SIGSEGV).
 *
 * pool_submit runs on the event loop, so it does as little as it can there: it wakes no thread when one that
 * has just finished a task will look at the queue before it sleeps (counted from just before it answers, since
 * the answer is what brings the next task: a caller making one call at a time finds that thread most of the
 * time), and at most MAX_LOOP_WAKES at a time otherwise; a woken thread wakes the next while tasks are left.
 * A futex wake costs the caller a syscall and often its CPU: the woken thread may be put on it and run first.
 * A short spin of the finished thread before it sleeps (up to 30 or 150 us) was tried and measured slower on
 * a loaded 2-vCPU machine (0.76-0.94x in paired runs): the spinning thread takes the CPU the event loop needs.
 * An adaptive one (only while the caller's last task came within 60 us of an answer; none for a while after a
 * watch that found nothing or lost its CPU) was tried too (wave 6): the time from the call into the addon to
 * its task running stayed the same (median 7.4 against 7.3 us, durable, one at a time), since the woken thread
 * mostly runs at once on the caller's CPU; the time was in the event loop's JS, now cut (publish-native.ts).
 */
#define _GNU_SOURCE
#include "pool.h"

#include <pthread.h>
#include <stddef.h>

#define MAX_THREADS 64
#define MAX_LOOP_WAKES 2

/* Adaptive where glibc has it: a short spin before sleeping on the lock, which workers hold for nanoseconds. */
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
static pthread_mutex_t lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
#else
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#endif
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static struct pool_task *head, *tail;
/* Under the lock: threads and idle ones (asleep on `work`), woken (signalled but not yet running), queued
 * tasks. Atomic: returning, threads that finished a task and will look at the queue before they sleep. */
static int threads, idle, woken, queued, returning;

/* Under the lock: whether the tasks queued are more than the threads about to take them. */
static int short_of_takers(void) {
  return queued > woken + __atomic_load_n(&returning, __ATOMIC_SEQ_CST);
}

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
    queued--;
    int wake = short_of_takers() && idle > woken;
    if (wake) woken++;
    pthread_mutex_unlock(&lock);
    if (wake) pthread_cond_signal(&work);
    t->run(t);
    __atomic_add_fetch(&returning, 1, __ATOMIC_SEQ_CST);
    t->done(t);
    pthread_mutex_lock(&lock);
    __atomic_sub_fetch(&returning, 1, __ATOMIC_SEQ_CST);
  }
  return NULL;
}

int pool_submit(struct pool_task *t) {
  t->next = NULL;
  pthread_mutex_lock(&lock);
  if (tail) tail->next = t;
  else head = t;
  tail = t;
  queued++;
  int ok = 1, wake = 0;
  if (!short_of_takers()) {
    /* a thread about to look at the queue, or one woken already, takes it */
  } else if (idle > woken) {
    /* past MAX_LOOP_WAKES, the threads woken wake the rest */
    if (woken < MAX_LOOP_WAKES) {
      woken++;
      wake = 1;
    }
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
    queued = 0;
  }
  pthread_mutex_unlock(&lock);
  /* Signalled after the unlock: a thread woken under the lock would at once block on it again. */
  if (wake) pthread_cond_signal(&work);
  return ok ? 0 : -1;
}
