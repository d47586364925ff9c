/*
 * The Node-API face of publish.c: publishSync(...) runs a publish on the calling thread, publish(..., cb) as
 * one job on the addon's threads. Both take the same arguments (new_req). The numbers go in and the results
 * come out through `io`, one Float64Array(8) per environment, given once by setup(io): [kind, durable, dirSync,
 * mode, noTmpfile, counter, taken, spread] in, read by the call; [errno, syscall, where, attempts, tmpfile,
 * counter, taken, spread] out, written just before a sync call returns or an async call's cb is called (so the
 * caller reads them first thing). For a beforePublish
 * hook the publish comes in two halves: prepare[Sync](...[, cb]) gives a handle to the written file (or
 * nothing, on failure), then place[Sync](handle[, cb]) names it, or abort(handle) drops it. The async
 * calls run on the addon's own threads (pool.c) and come back through back.c; should no
 * thread start, on libuv's pool. readSync and read (addon-read.c) are readComplete's. Plain C and
 * node_api.h only (Node-API version 8), so one build serves every Node >= 20.
 */
#include <stddef.h>
#include <stdlib.h>

#include "addon-read.h"
#include "addon-req.h"

#define ARGC 7

static struct job *job_of(struct back_item *it) {
  return (struct job *)((char *)it - offsetof(struct job, back));
}

/* An environment's own: the way back from the addon's threads (none: libuv's pool is used), and `io`. */
struct instance {
  struct back *way;
  napi_ref io_ref; /* held for the environment's life: io's memory stays where `io` points */
  double *io;
};

/* This environment's `io`, or NULL having thrown: setup was not called (a bug in the library). */
static double *io_of(napi_env env) {
  struct instance *in = NULL;
  if (napi_get_instance_data(env, (void **)&in) == napi_ok && in && in->io) return in->io;
  napi_throw_type_error(env, NULL, "quire_fs: setup(io) first");
  return NULL;
}

/* A handle's finalizer: a prepared publish nobody placed or aborted (a bug, or an exit) leaves nothing. */
static void finalize_handle(napi_env env, void *data, void *hint) {
  struct publish_req *r = data;
  if (r->fd >= 0) publish_abort(r);
  drop_req(r);
}

/* The handle of a prepared publish: a napi_external owning the request (its block) until it is dropped. */
static napi_value make_handle(napi_env env, struct publish_req *r) {
  napi_value h;
  r->data = NULL; /* the data is in the file now: neither the caller's buffer nor a copy is kept */
  free(r->owned);
  r->owned = NULL;
  napi_create_external(env, r, finalize_handle, NULL, &h);
  return h;
}

static struct publish_req *get_handle(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external || napi_get_value_external(env, v, &p) != napi_ok)
    return NULL;
  struct publish_req *r = p;
  return r->fd >= 0 ? r : NULL;
}

static int is_function(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == napi_function;
}

/*
 * The request a publish call carries (the ARGC arguments new_req takes, then for an async call its callback,
 * left in a[ARGC]): the one place every publish and prepare reads its arguments. NULL once it has thrown.
 */
static struct publish_req *call_req(napi_env env, napi_callback_info info, int copy, napi_value *a,
                                    double **io) {
  int async = copy != COPY_NONE;
  if (!(*io = io_of(env))) return NULL;
  size_t argc = ARGC + 1;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < ARGC + (async ? 1 : 0) || (async && !is_function(env, a[ARGC]))) {
    napi_throw_type_error(env, NULL, async ? "quire_fs: publish needs a callback" : "quire_fs: too few arguments");
    return NULL;
  }
  return new_req(env, a, *io, copy);
}

static napi_value publish_sync(napi_env env, napi_callback_info info) {
  napi_value a[ARGC + 1];
  double *io;
  struct publish_req *r = call_req(env, info, COPY_NONE, a, &io);
  if (!r) return NULL;
  publish_run(r);
  report(r, io);
  drop_req(r);
  return NULL;
}

static napi_value prepare_sync(napi_env env, napi_callback_info info) {
  napi_value a[ARGC + 1];
  double *io;
  struct publish_req *r = call_req(env, info, COPY_NONE, a, &io);
  if (!r) return NULL;
  int failed = publish_prepare(r);
  report(r, io);
  if (failed) {
    drop_req(r);
    return NULL;
  }
  return make_handle(env, r);
}

static napi_value place_sync(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  double *io = io_of(env);
  struct publish_req *r = argc < 1 || !io ? NULL : get_handle(env, a[0]);
  if (!r) {
    if (io) napi_throw_type_error(env, NULL, "quire_fs: place needs a prepared handle");
    return NULL;
  }
  publish_place(r);
  report(r, io);
  return NULL;
}

static napi_value abort_prepared(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  struct publish_req *r = argc < 1 ? NULL : get_handle(env, a[0]);
  if (r) publish_abort(r);
  return NULL;
}

static void execute(napi_env env, void *data) {
  struct job *j = data;
  if (j->phase == PHASE_ALL) publish_run(&j->req);
  else if (j->phase == PHASE_PREPARE) j->failed = publish_prepare(&j->req) != 0;
  else publish_place(&j->req);
}

static void complete_job(napi_env env, struct job *j) {
  napi_value cb, global, arg;
  report(&j->req, j->io);
  napi_get_reference_value(env, j->cb_ref, &cb);
  napi_delete_reference(env, j->cb_ref);
  if (j->data_ref) napi_delete_reference(env, j->data_ref);
  if (j->work) napi_delete_async_work(env, j->work);
  if (j->phase == PHASE_PREPARE && !j->failed) arg = make_handle(env, &j->req);
  else {
    napi_get_undefined(env, &arg);
    if (j->phase != PHASE_PLACE) drop_req(&j->req); /* frees j */
  }
  napi_get_global(env, &global);
  napi_call_function(env, global, cb, 1, &arg, NULL);
}

static void complete(napi_env env, napi_status status, void *data) {
  complete_job(env, data);
}

static void run_task(struct pool_task *t) {
  execute(NULL, t);
}

/* A job that cannot be answered (its environment is going away): the file is published or not, as reported. */
static void drop_job(struct back_item *it) {
  struct job *j = job_of(it);
  if (j->phase == PHASE_PREPARE && !j->failed) publish_abort(&j->req);
  if (j->phase != PHASE_PLACE) drop_req(&j->req); /* frees j; a place's block is its handle's */
}

static void deliver_job(napi_env env, struct back_item *it) {
  complete_job(env, job_of(it));
}

static void task_done(struct pool_task *t) {
  struct job *j = (struct job *)t;
  back_send(j->way, &j->back);
}

static int submit(napi_env env, struct job *j) {
  struct instance *in = NULL;
  if (napi_get_instance_data(env, (void **)&in) != napi_ok || !in || !in->way) return -1;
  struct back *way = in->way;
  j->way = way;
  j->task.run = run_task;
  j->task.done = task_done;
  if (pool_submit(&j->task) != 0) return -1;
  back_expect(way); /* answers are delivered on this thread, so none before this */
  return 0;
}

/* Queues `phase` of `r` as the job of its block; cb is called with a handle (a prepare that succeeded) or undefined. */
static void queue(napi_env env, int phase, struct publish_req *r, napi_value data, double *io, napi_value cb) {
  struct job *j = job_of_req(r);
  j->phase = phase;
  j->failed = 0;
  j->work = NULL;
  j->data_ref = NULL;
  j->io = io;
  /* The handle (for a place) stays referenced, so alive, until the job is done. */
  if (data) napi_create_reference(env, data, 1, &j->data_ref);
  napi_create_reference(env, cb, 1, &j->cb_ref);
  if (submit(env, j) == 0) return;
  napi_value name;
  napi_create_string_utf8(env, "quire_fs.publish", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  if (napi_queue_async_work(env, j->work) != napi_ok) napi_throw_error(env, NULL, "quire_fs: cannot queue");
}

static void free_instance(napi_env env, void *data, void *hint) {
  free(data);
}

/* This environment's instance: the way back its jobs come through (back.c); `io` comes with setup. */
static void make_instance(napi_env env) {
  struct instance *in = calloc(1, sizeof *in);
  if (!in) return; /* every call then throws: no io */
  in->way = back_open(env, deliver_job, drop_job);
  napi_set_instance_data(env, in, free_instance, NULL);
}

/* setup(io): the Float64Array(8) this environment's calls read their numbers from and report into. */
static napi_value setup(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  struct instance *in = NULL;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  double *io;
  if (argc < 1 || addon_f64s(env, a[0], IO_LEN, &io) != 0 || napi_get_instance_data(env, (void **)&in) != napi_ok ||
      !in) {
    napi_throw_type_error(env, NULL, "quire_fs: setup needs a Float64Array(8)");
    return NULL;
  }
  if (in->io_ref) napi_delete_reference(env, in->io_ref);
  napi_create_reference(env, a[0], 1, &in->io_ref);
  in->io = io;
  return NULL;
}

static napi_value start_async(napi_env env, napi_callback_info info, int phase) {
  napi_value a[ARGC + 1];
  double *io;
  struct publish_req *r = call_req(env, info, phase == PHASE_PREPARE ? COPY_OWNED : COPY_INLINE, a, &io);
  if (r) queue(env, phase, r, NULL, io, a[ARGC]);
  return NULL;
}

static napi_value publish_async(napi_env env, napi_callback_info info) {
  return start_async(env, info, PHASE_ALL);
}

static napi_value prepare_async(napi_env env, napi_callback_info info) {
  return start_async(env, info, PHASE_PREPARE);
}

static napi_value place_async(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  double *io = io_of(env);
  struct publish_req *r = argc < 2 || !io ? NULL : get_handle(env, a[0]);
  if (!r || !is_function(env, a[1])) {
    if (io) napi_throw_type_error(env, NULL, "quire_fs: place needs a prepared handle and a callback");
    return NULL;
  }
  queue(env, PHASE_PLACE, r, a[0], io, a[1]); /* a[0]: the handle stays alive while the pool uses it */
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  make_instance(env);
  napi_property_descriptor props[] = {
      {"setup", NULL, setup, NULL, NULL, NULL, napi_enumerable, NULL},
      {"publishSync", NULL, publish_sync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"publish", NULL, publish_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"prepareSync", NULL, prepare_sync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"prepare", NULL, prepare_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"placeSync", NULL, place_sync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"place", NULL, place_async, NULL, NULL, NULL, napi_enumerable, NULL},
      {"abort", NULL, abort_prepared, NULL, NULL, NULL, napi_enumerable, NULL},
      {"readSync", NULL, read_sync, NULL, NULL, NULL, napi_enumerable, NULL},
      {"read", NULL, read_async, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
