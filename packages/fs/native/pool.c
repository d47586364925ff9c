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
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_THREADS 64
/* linux/futex.h's values, which musl's headers do not carry: FUTEX_WAIT or FUTEX_WAKE | FUTEX_PRIVATE_FLAG. */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define MAX_LOOP_WAKES 2

/* Adaptive where glibc has it: a short spin before sleeping on the lock, which workers hold for nanoseconds. */
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
static pthread_mutex_t lock = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
#else
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#endif

/*
 * A thread asleep waits on a futex of its own, on a stack of idle threads: a wake takes the one that went to
 * sleep last. With one condition variable for all (as before, wave 6), glibc woke them about in the order they
 * went to sleep, so after a burst had started 32 threads a caller making one call at a time had each call run
 * on another of them (24-28 of 32 in 40 calls), every one with its stack and kernel state cold; the bench's
 * pairs run such a burst (32 in flight) between their one-at-a-time chunks. Now one thread, still warm, takes
 * them. A plain futex rather than a condition variable: a thread leaving pthread_cond_wait holds the mutex
 * marked contended, so its next unlock was one more futex syscall on every call's path, for nobody.
 */
struct sleeper {
  struct sleeper *below; /* under the lock: the stack of idle threads */
  int woken;             /* the futex: set (under the lock) by the waker that took this thread off the stack */
};

static void futex_wait(int *word) {
  while (!__atomic_load_n(word, __ATOMIC_ACQUIRE)) syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static void futex_wake(int *word) {
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static struct sleeper *idle_top;
static struct pool_task *head, *tail;
/* Under the lock: threads, woken ones (taken off the idle stack but not yet running), queued tasks.
 * Atomic: returning, threads that finished a task and will look at the queue before they sleep. */
static int threads, woken, queued, returning;

/* Under the lock: whether the tasks queued are more than the threads about to take them. */
static int short_of_takers(void) {
  return queued > woken + __atomic_load_n(&returning, __ATOMIC_SEQ_CST);
}

/* Under the lock: the thread that went to sleep last, marked woken (its futex is woken after the unlock: a
 * thread woken under the lock would at once block on it again); NULL when none is asleep. */
static struct sleeper *take_sleeper(void) {
  struct sleeper *s = idle_top;
  if (!s) return NULL;
  idle_top = s->below;
  __atomic_store_n(&s->woken, 1, __ATOMIC_RELEASE);
  woken++;
  return s;
}

static void *worker(void *arg) {
  struct sleeper *self = arg;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (!head) {
      __atomic_store_n(&self->woken, 0, __ATOMIC_RELAXED);
      self->below = idle_top;
      idle_top = self;
      pthread_mutex_unlock(&lock);
      futex_wait(&self->woken);
      pthread_mutex_lock(&lock);
      woken--;
    }
    struct pool_task *t = head;
    head = t->next;
    if (!head) tail = NULL;
    queued--;
    struct sleeper *next = short_of_takers() ? take_sleeper() : NULL;
    pthread_mutex_unlock(&lock);
    if (next) futex_wake(&next->woken);
    t->run(t);
    __atomic_add_fetch(&returning, 1, __ATOMIC_SEQ_CST);
    t->done(t);
    pthread_mutex_lock(&lock);
    __atomic_sub_fetch(&returning, 1, __ATOMIC_SEQ_CST);
  }
  return NULL;
}

/* Under the lock: starts one more thread (it finds the queued task itself); 0 when it could not. */
static int start_thread(void) {
  struct sleeper *s = calloc(1, sizeof *s);
  if (!s) return 0;
  pthread_attr_t attr;
  pthread_t id;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  int ok = pthread_create(&id, &attr, worker, s) == 0;
  pthread_attr_destroy(&attr);
  if (!ok) {
    free(s);
    return 0;
  }
  threads++;
  /* Told apart from libuv's and Node's threads in /proc/PID/task/TID/comm (ps -L, top -H, tests). */
  pthread_setname_np(id, "quire-fs-io");
  return 1;
}

int pool_submit(struct pool_task *t) {
  t->next = NULL;
  pthread_mutex_lock(&lock);
  if (tail) tail->next = t;
  else head = t;
  tail = t;
  queued++;
  int ok = 1;
  struct sleeper *wake = NULL;
  if (!short_of_takers()) {
    /* a thread about to look at the queue, or one woken already, takes it */
  } else if (idle_top) {
    /* past MAX_LOOP_WAKES, the threads woken wake the rest */
    if (woken < MAX_LOOP_WAKES) wake = take_sleeper();
  } else if (threads < MAX_THREADS && !start_thread()) {
    ok = threads > 0; /* queued for a running thread; with none at all, the caller must run it */
  }
  if (!ok) {
    head = tail = NULL;
    queued = 0;
  }
  pthread_mutex_unlock(&lock);
  if (wake) futex_wake(&wake->woken);
  return ok ? 0 : -1;
}
