/*
 * The Node-API face of publish.c: publishSync(...) runs a publish on the calling thread, publish(..., cb) as
 * one napi_async_work on libuv's pool. Both take the same arguments and report through `out`, a Float64Array
 * the caller keeps: [errno, syscall, where, attempts, tmpfile, counter, taken, spread]. For a beforePublish
 * hook the publish comes in two halves: prepare[Sync](..., out[, cb]) gives a handle to the written file (or
 * nothing, on failure), then place[Sync](handle, out[, cb]) names it, or abort(handle) drops it. The async
 * calls run on the addon's own threads (pool.c) and come back through back.c; should no
 * thread start, on libuv's pool. readSync and read (addon-read.c) are readComplete's. Plain C and
 * node_api.h only (Node-API version 8), so one build serves every Node >= 20.
 */
#include "addon-read.h"
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "back.h"
#include "pool.h"
#include "publish.h"

#define ARGC 16
#define OUT_LEN 8

enum { PHASE_ALL, PHASE_PREPARE, PHASE_PLACE };

struct job {
  struct pool_task task; /* first: a job is its task */
  struct back_item back; /* how it is answered */
  struct back *way;
  struct publish_req *req;
  int phase, failed;
  napi_async_work work;
  napi_ref data_ref, out_ref, cb_ref;
  double *out;
};

static struct job *job_of(struct back_item *it) {
  return (struct job *)((char *)it - offsetof(struct job, back));
}

char *addon_string(napi_env env, napi_value v) {
  /* One call for a string that fits the stack buffer (every path in practice), where asking the length first
   * would walk each string twice: five strings per publish, on the event loop. */
  char buf[1024];
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, buf, sizeof buf, &len) != napi_ok) return NULL;
  /* Whole for sure only with room left for one more character (4 bytes at most in UTF-8): a string that did not
   * fit is cut at a character's boundary, which may be a few bytes short of the buffer's end. */
  if (len + 4 < sizeof buf - 1) {
    char *s = malloc(len + 1);
    if (s) memcpy(s, buf, len + 1);
    return s;
  }
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return NULL;
  char *s = malloc(len + 1);
  if (s && napi_get_value_string_utf8(env, v, s, len + 1, &len) != napi_ok) {
    free(s);
    return NULL;
  }
  return s;
}

static int get_bytes(napi_env env, napi_value v, const char **data, size_t *len) {
  napi_typedarray_type type;
  void *p;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &ab, &off) != napi_ok || type != napi_uint8_array)
    return -1;
  *data = p;
  return 0;
}

static int get_f64s(napi_env env, napi_value v, double **out) {
  napi_typedarray_type type;
  size_t len, off;
  void *p;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &len, &p, &ab, &off) != napi_ok || type != napi_float64_array ||
      len < OUT_LEN)
    return -1;
  *out = p;
  return 0;
}

static void free_req(struct publish_req *r) {
  free(r->dir);
  free(r->target);
  free(r->tmp);
  free(r->stamp);
  free(r->suffix);
  free(r->if_absent);
  free(r->linked);
  free(r->owned);
}

/* Reads the arguments (kind, dir, target, tmp, stamp, suffix, data, durable, dirSync, mode, counter, taken,
 * spread, noTmpfile, ifAbsent ('' for none), out) into `r`. Throws a TypeError and returns -1 on a malformed call: JS checks every
 * argument before, so that is a bug in the library, not in its caller. */
static int read_args(napi_env env, napi_value *a, struct publish_req *r, double **out) {
  int32_t i32;
  int64_t i64;
  bool b;
  memset(r, 0, sizeof *r);
  if (napi_get_value_int32(env, a[0], &i32) != napi_ok) goto bad;
  r->kind = i32;
  r->dir = addon_string(env, a[1]);
  r->target = addon_string(env, a[2]);
  r->tmp = addon_string(env, a[3]);
  r->stamp = addon_string(env, a[4]);
  r->suffix = addon_string(env, a[5]);
  r->if_absent = addon_string(env, a[14]); /* '' for none */
  if (!r->dir || !r->target || !r->tmp || !r->stamp || !r->suffix || !r->if_absent) goto bad;
  if (get_bytes(env, a[6], &r->data, &r->len) != 0) goto bad;
  if (napi_get_value_bool(env, a[7], &b) != napi_ok) goto bad;
  r->durable = b;
  if (napi_get_value_bool(env, a[8], &b) != napi_ok) goto bad;
  r->dir_sync = b;
  if (napi_get_value_int32(env, a[9], &i32) != napi_ok) goto bad;
  r->mode = i32;
  if (napi_get_value_double(env, a[10], &r->counter) != napi_ok) goto bad;
  if (napi_get_value_double(env, a[11], &r->taken) != napi_ok) goto bad;
  if (napi_get_value_int64(env, a[12], &i64) != napi_ok || i64 < 1) goto bad;
  r->spread = (long)i64;
  if (napi_get_value_bool(env, a[13], &b) != napi_ok) goto bad;
  r->no_tmpfile = b;
  if (get_f64s(env, a[15], out) != 0) goto bad;
  return 0;
bad:
  free_req(r);
  napi_throw_type_error(env, NULL, "quire_fs: malformed publish arguments");
  return -1;
}

static void report(struct publish_req *r, double *out) {
  out[0] = r->err;
  out[1] = r->syscall;
  out[2] = r->where;
  out[3] = r->attempts;
  out[4] = r->tmpfile;
  out[5] = r->counter;
  out[6] = r->taken;
  out[7] = (double)r->spread;
}

static void drop_req(struct publish_req *r) {
  free_req(r);
  free(r);
}

/* A handle's finalizer: a prepared publish nobody placed or aborted (a bug, or an exit) leaves nothing. */
static void finalize_handle(napi_env env, void *data, void *hint) {
  struct publish_req *r = data;
  if (r->fd >= 0) publish_abort(r);
  drop_req(r);
}

/* The handle of a prepared publish: a napi_external owning the request until it is placed or aborted. */
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

static struct publish_req *new_req(napi_env env, napi_value *a, double **out) {
  struct publish_req *r = malloc(sizeof *r);
  if (!r) {
    napi_throw_error(env, "ENOMEM", "quire_fs: out of memory");
    return NULL;
  }
  if (read_args(env, a, r, out) != 0) {
    free(r);
    return NULL;
  }
  r->fd = -1;
  return r;
}

static int is_function(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && t == napi_function;
}

/*
 * The request a publish call carries (the ARGC arguments read_args takes, then for an async call its callback,
 * left in a[ARGC]): the one place every publish and prepare reads its arguments. NULL once it has thrown.
 */
static struct publish_req *call_req(napi_env env, napi_callback_info info, int async, napi_value *a,
                                    double **out) {
  size_t argc = ARGC + 1;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < ARGC + (async ? 1 : 0) || (async && !is_function(env, a[ARGC]))) {
    napi_throw_type_error(env, NULL, async ? "quire_fs: publish needs a callback" : "quire_fs: too few arguments");
    return NULL;
  }
  struct publish_req *r = new_req(env, a, out);
  if (!r || !async) return r;
  /* An async call's data is copied: the caller may change its buffer, or a worker's exit free it, under write. */
  r->owned = malloc(r->len > 0 ? r->len : 1);
  if (!r->owned) {
    drop_req(r);
    napi_throw_error(env, "ENOMEM", "quire_fs: out of memory");
    return NULL;
  }
  memcpy(r->owned, r->data, r->len);
  r->data = r->owned;
  return r;
}

static napi_value publish_sync(napi_env env, napi_callback_info info) {
  napi_value a[ARGC + 1];
  double *out;
  struct publish_req *r = call_req(env, info, 0, a, &out);
  if (!r) return NULL;
  publish_run(r);
  report(r, out);
  drop_req(r);
  return NULL;
}

static napi_value prepare_sync(napi_env env, napi_callback_info info) {
  napi_value a[ARGC + 1];
  double *out;
  struct publish_req *r = call_req(env, info, 0, a, &out);
  if (!r) return NULL;
  int failed = publish_prepare(r);
  report(r, out);
  if (failed) {
    drop_req(r);
    return NULL;
  }
  return make_handle(env, r);
}

static napi_value place_sync(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  double *out;
  struct publish_req *r = argc < 2 ? NULL : get_handle(env, a[0]);
  if (!r || get_f64s(env, a[1], &out) != 0) {
    napi_throw_type_error(env, NULL, "quire_fs: place needs a prepared handle and out");
    return NULL;
  }
  publish_place(r);
  report(r, out);
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
  if (j->phase == PHASE_ALL) publish_run(j->req);
  else if (j->phase == PHASE_PREPARE) j->failed = publish_prepare(j->req) != 0;
  else publish_place(j->req);
}

static void complete_job(napi_env env, struct job *j) {
  napi_value cb, global, arg;
  report(j->req, j->out);
  napi_get_reference_value(env, j->cb_ref, &cb);
  napi_delete_reference(env, j->cb_ref);
  if (j->data_ref) napi_delete_reference(env, j->data_ref);
  napi_delete_reference(env, j->out_ref);
  if (j->work) napi_delete_async_work(env, j->work);
  if (j->phase == PHASE_PREPARE && !j->failed) arg = make_handle(env, j->req);
  else {
    if (j->phase != PHASE_PLACE) drop_req(j->req);
    napi_get_undefined(env, &arg);
  }
  free(j);
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
  if (j->phase == PHASE_PREPARE && !j->failed) publish_abort(j->req);
  if (j->phase != PHASE_PLACE) drop_req(j->req);
  free(j);
}

static void deliver_job(napi_env env, struct back_item *it) {
  complete_job(env, job_of(it));
}

static void task_done(struct pool_task *t) {
  struct job *j = (struct job *)t;
  back_send(j->way, &j->back);
}

static int submit(napi_env env, struct job *j) {
  struct back *way = NULL;
  if (napi_get_instance_data(env, (void **)&way) != napi_ok || !way) return -1;
  j->way = way;
  j->task.run = run_task;
  j->task.done = task_done;
  if (pool_submit(&j->task) != 0) return -1;
  back_expect(way); /* answers are delivered on this thread, so none before this */
  return 0;
}

/* Queues `phase` of `r`; cb is called with a handle (a prepare that succeeded) or undefined. */
static void queue(napi_env env, int phase, struct publish_req *r, napi_value data, napi_value out, napi_value cb) {
  struct job *j = calloc(1, sizeof *j);
  if (!j) {
    if (phase != PHASE_PLACE) drop_req(r);
    napi_throw_error(env, "ENOMEM", "quire_fs: out of memory");
    return;
  }
  j->req = r;
  j->phase = phase;
  get_f64s(env, out, &j->out);
  /* The buffers (or the handle) stay referenced, so alive and in place, until the job is done. */
  if (data) napi_create_reference(env, data, 1, &j->data_ref);
  napi_create_reference(env, out, 1, &j->out_ref);
  napi_create_reference(env, cb, 1, &j->cb_ref);
  if (submit(env, j) == 0) return;
  napi_value name;
  napi_create_string_utf8(env, "quire_fs.publish", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  if (napi_queue_async_work(env, j->work) != napi_ok) napi_throw_error(env, NULL, "quire_fs: cannot queue");
}

/* The way back this environment's jobs come through (back.c); none: libuv's pool is used. */
static void make_instance(napi_env env) {
  struct back *way = back_open(env, deliver_job, drop_job);
  if (way) napi_set_instance_data(env, way, NULL, NULL);
}

static napi_value start_async(napi_env env, napi_callback_info info, int phase) {
  napi_value a[ARGC + 1];
  double *out;
  struct publish_req *r = call_req(env, info, 1, a, &out);
  if (r) queue(env, phase, r, NULL, a[ARGC - 1], a[ARGC]);
  return NULL;
}

static napi_value publish_async(napi_env env, napi_callback_info info) {
  return start_async(env, info, PHASE_ALL);
}

static napi_value prepare_async(napi_env env, napi_callback_info info) {
  return start_async(env, info, PHASE_PREPARE);
}

static napi_value place_async(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  double *out;
  struct publish_req *r = argc < 3 ? NULL : get_handle(env, a[0]);
  if (!r || get_f64s(env, a[1], &out) != 0 || !is_function(env, a[2])) {
    napi_throw_type_error(env, NULL, "quire_fs: place needs a prepared handle, out and a callback");
    return NULL;
  }
  queue(env, PHASE_PLACE, r, a[0], a[1], a[2]); /* a[0]: the handle stays alive while the pool uses it */
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  make_instance(env);
  napi_property_descriptor props[] = {
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
