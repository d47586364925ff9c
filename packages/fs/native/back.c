/*
 * The way back from the addon's threads to an event loop: a uv_async_t of our own and a lock-free stack of
 * finished items, instead of a Node-API thread-safe function. A thread-safe function holds its mutex while it
 * signals the loop, so the loop, woken by that signal, often found the mutex still held and slept on it again
 * right away (perf: every event-loop futex wait, about one call in three one at a time, was in its callback).
 * Here the sender pushes with a compare-and-swap and then signals; nothing is locked. An environment going
 * away (a worker thread's exit) is handled by an async cleanup hook: senders after it drop their items, and
 * the handle is closed before the environment's loop is.
 */
#include "back.h"

#include <sched.h>
#include <stdlib.h>
#include <uv.h>

struct back {
  uv_async_t async;
  napi_env env;
  void (*deliver)(napi_env, struct back_item *);
  void (*drop)(struct back_item *);
  struct back_item *done; /* atomic: the stack of items sent */
  int closing, sending;   /* atomic: the environment is going away; senders between their check and signal */
  int refs;               /* atomic: 1 for the environment, 1 per item expected */
  int inflight;           /* JS thread: items expected; the handle keeps the loop alive while any are */
  napi_async_context ctx;
  napi_ref resource;
  napi_async_cleanup_hook_handle hook;
};

static void put(struct back *b) {
  if (__atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) free(b);
}

/* The items sent, oldest first. */
static struct back_item *take_all(struct back *b) {
  struct back_item *it = __atomic_exchange_n(&b->done, NULL, __ATOMIC_ACQUIRE), *fifo = NULL;
  while (it) {
    struct back_item *next = it->next;
    it->next = fifo;
    fifo = it;
    it = next;
  }
  return fifo;
}

static void on_async(uv_async_t *a) {
  struct back *b = a->data;
  napi_env env = b->env;
  struct back_item *it = take_all(b);
  if (!it) return;
  napi_handle_scope hs;
  napi_callback_scope cs;
  napi_value resource;
  napi_open_handle_scope(env, &hs);
  napi_get_reference_value(env, b->resource, &resource);
  napi_open_callback_scope(env, resource, b->ctx, &cs);
  while (it) {
    struct back_item *next = it->next;
    if (--b->inflight == 0) uv_unref((uv_handle_t *)&b->async);
    b->deliver(env, it);
    bool pending = false;
    napi_value err;
    /* A callback that threw: reported as uncaught, as a thread-safe function's would be. */
    if (napi_is_exception_pending(env, &pending) == napi_ok && pending &&
        napi_get_and_clear_last_exception(env, &err) == napi_ok)
      napi_fatal_exception(env, err);
    put(b);
    it = next;
  }
  napi_close_callback_scope(env, cs);
  napi_close_handle_scope(env, hs);
}

void back_expect(struct back *b) {
  __atomic_add_fetch(&b->refs, 1, __ATOMIC_ACQ_REL);
  if (b->inflight++ == 0) uv_ref((uv_handle_t *)&b->async);
}

void back_send(struct back *b, struct back_item *it) {
  __atomic_add_fetch(&b->sending, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&b->closing, __ATOMIC_SEQ_CST)) {
    __atomic_sub_fetch(&b->sending, 1, __ATOMIC_SEQ_CST);
    b->drop(it);
    put(b);
    return;
  }
  it->next = __atomic_load_n(&b->done, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(&b->done, &it->next, it, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
  }
  uv_async_send(&b->async);
  __atomic_sub_fetch(&b->sending, 1, __ATOMIC_SEQ_CST);
}

static void closed(uv_handle_t *h) {
  struct back *b = h->data;
  napi_remove_async_cleanup_hook(b->hook);
  put(b);
}

/* The environment is going away: no sender may touch the handle after this, then it is closed. */
static void cleanup(napi_async_cleanup_hook_handle hook, void *arg) {
  struct back *b = arg;
  __atomic_store_n(&b->closing, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&b->sending, __ATOMIC_SEQ_CST) > 0) sched_yield();
  for (struct back_item *it = take_all(b), *next; it; it = next) {
    next = it->next;
    b->drop(it);
    put(b);
  }
  napi_async_destroy(b->env, b->ctx);
  napi_delete_reference(b->env, b->resource);
  uv_close((uv_handle_t *)&b->async, closed);
}

struct back *back_open(napi_env env, void (*deliver)(napi_env, struct back_item *),
                       void (*drop)(struct back_item *)) {
  struct uv_loop_s *loop;
  napi_value resource, name;
  struct back *b = calloc(1, sizeof *b);
  if (!b || napi_get_uv_event_loop(env, &loop) != napi_ok || uv_async_init(loop, &b->async, on_async) != 0) {
    free(b);
    return NULL;
  }
  b->async.data = b;
  b->env = env;
  b->deliver = deliver;
  b->drop = drop;
  b->refs = 1;
  uv_unref((uv_handle_t *)&b->async);
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "quire_fs.done", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, resource, 1, &b->resource);
  napi_async_init(env, resource, name, &b->ctx);
  napi_add_async_cleanup_hook(env, cleanup, b, &b->hook);
  return b;
}
