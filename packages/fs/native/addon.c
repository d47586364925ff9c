/*
 * The Node-API face of publish.c: publishSync(...) runs a publish on the calling thread, publish(..., cb) as
 * one job on the addon's threads. Both take the same arguments (read_args) and report through `out`, a
 * Float64Array(8) the caller keeps, which also carries the numbers in: [kind, durable, dirSync, mode, noTmpfile,
 * counter, taken, spread] in, [errno, syscall, where, attempts, tmpfile, counter, taken, spread] out. For a beforePublish
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

#define ARGC 8
#define OUT_LEN 8
/* The call's strings: dir, target, tmp, stamp, suffix, ifAbsent (arguments 0-5). */
#define NSTR 6

enum { PHASE_ALL, PHASE_PREPARE, PHASE_PLACE };

/*
 * A publish's one allocation: the job an async call queues, its request, and after them the request's strings
 * and (async) its copy of the data. A sync call uses the request only; a prepared publish's handle owns the
 * whole block, and its place reuses the job. One malloc instead of nine on the event loop per call.
 */
struct job {
  struct pool_task task; /* first: a job is its task */
  struct back_item back; /* how it is answered */
  struct back *way;
  int phase, failed;
  napi_async_work work;
  napi_ref data_ref, out_ref, cb_ref;
  double *out;
  struct publish_req req;
};

static struct job *job_of(struct back_item *it) {
  return (struct job *)((char *)it - offsetof(struct job, back));
}

static struct job *job_of_req(struct publish_req *r) {
  return (struct job *)((char *)r - offsetof(struct job, req));
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

/* A string argument: whole in `buf` when it fits (one walk of the string), else only its length measured. */
struct text {
  char buf[1024];
  size_t len;
  int fits;
};

static int measure(napi_env env, napi_value v, struct text *t) {
  if (napi_get_value_string_utf8(env, v, t->buf, sizeof t->buf, &t->len) != napi_ok) return -1;
  /* Whole for sure only with room left for one more character (4 bytes at most in UTF-8), as in addon_string. */
  t->fits = t->len + 4 < sizeof t->buf - 1;
  if (!t->fits && napi_get_value_string_utf8(env, v, NULL, 0, &t->len) != napi_ok) return -1;
  return 0;
}

/* Copies a measured string to `at`; returns where the next one goes. */
static char *put_text(napi_env env, napi_value v, const struct text *t, char *at) {
  size_t len;
  if (t->fits) memcpy(at, t->buf, t->len + 1);
  else napi_get_value_string_utf8(env, v, at, t->len + 1, &len);
  return at + t->len + 1;
}

/* The numbers `out` carries in (see the top): checked, since they come from a typed array, not JS values. */
static int read_numbers(const double *in, struct publish_req *r) {
  if (!(in[0] == KIND_UNIQUE || in[0] == KIND_EXCLUSIVE || in[0] == KIND_REPLACE)) return -1;
  if (!(in[3] >= -1 && in[3] <= 07777 && in[3] == (int)in[3]) || !(in[7] >= 1 && in[7] <= 1 << 30)) return -1;
  r->kind = (int)in[0];
  r->durable = in[1] != 0;
  r->dir_sync = in[2] != 0;
  r->mode = (int)in[3];
  r->no_tmpfile = in[4] != 0;
  r->counter = in[5];
  r->taken = in[6];
  r->spread = (long)in[7];
  return 0;
}

/* Whether the string argument `i` is read: createUnique's target is its directory, read once. */
static int reads(int kind, int i) {
  return !(i == 1 && kind == KIND_UNIQUE);
}

/*
 * How an async call keeps its data: the caller may change its buffer, or a worker's exit free it, under the
 * write, so it is copied: into the request's block, or (a prepare, whose handle outlives the write) into a
 * buffer of its own that is freed once the data is in the file.
 */
enum { COPY_NONE, COPY_INLINE, COPY_OWNED };

/*
 * A new request in one block (struct job) from the arguments (dir, target, tmp, stamp, suffix, ifAbsent ('' for
 * none), data, out) and the numbers in `out`, the data kept as `copy` says. NULL once it has thrown: a
 * malformed call is a bug in the library (JS checks every argument before), not its caller's.
 */
static struct publish_req *new_req(napi_env env, napi_value *a, double **out, int copy) {
  struct text t[NSTR];
  struct publish_req in;
  const char *data;
  size_t len, size = sizeof(struct job);
  if (get_f64s(env, a[7], out) != 0 || read_numbers(*out, &in) != 0 || get_bytes(env, a[6], &data, &len) != 0)
    goto bad;
  for (int i = 0; i < NSTR; i++) {
    if (!reads(in.kind, i)) continue;
    if (measure(env, a[i], &t[i]) != 0) goto bad;
    size += t[i].len + 1;
  }
  struct job *j = malloc(size + (copy == COPY_INLINE ? len : 0));
  char *owned = copy == COPY_OWNED ? malloc(len > 0 ? len : 1) : NULL;
  if (!j || (copy == COPY_OWNED && !owned)) {
    free(j);
    free(owned);
    napi_throw_error(env, "ENOMEM", "quire_fs: out of memory");
    return NULL;
  }
  memset(j, 0, sizeof *j);
  struct publish_req *r = &j->req;
  *r = in;
  char *at = (char *)(j + 1), **dest[NSTR] = {&r->dir, &r->target, &r->tmp, &r->stamp, &r->suffix, &r->if_absent};
  for (int i = 0; i < NSTR; i++)
    if (reads(r->kind, i)) at = put_text(env, a[i], &t[i], *dest[i] = at);
  if (r->kind == KIND_UNIQUE) r->target = r->dir;
  r->len = len;
  r->owned = owned;
  r->data = copy == COPY_INLINE ? memcpy(at, data, len) : owned ? memcpy(owned, data, len) : data;
  r->fd = -1;
  return r;
bad:
  napi_throw_type_error(env, NULL, "quire_fs: malformed publish arguments");
  return NULL;
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

/* Frees a request and the block it is in. */
static void drop_req(struct publish_req *r) {
  free(r->linked);
  free(r->owned);
  free(job_of_req(r));
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
                                    double **out) {
  int async = copy != COPY_NONE;
  size_t argc = ARGC + 1;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < ARGC + (async ? 1 : 0) || (async && !is_function(env, a[ARGC]))) {
    napi_throw_type_error(env, NULL, async ? "quire_fs: publish needs a callback" : "quire_fs: too few arguments");
    return NULL;
  }
  return new_req(env, a, out, copy);
}

static napi_value publish_sync(napi_env env, napi_callback_info info) {
  napi_value a[ARGC + 1];
  double *out;
  struct publish_req *r = call_req(env, info, COPY_NONE, a, &out);
  if (!r) return NULL;
  publish_run(r);
  report(r, out);
  drop_req(r);
  return NULL;
}

static napi_value prepare_sync(napi_env env, napi_callback_info info) {
  napi_value a[ARGC + 1];
  double *out;
  struct publish_req *r = call_req(env, info, COPY_NONE, a, &out);
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
  if (j->phase == PHASE_ALL) publish_run(&j->req);
  else if (j->phase == PHASE_PREPARE) j->failed = publish_prepare(&j->req) != 0;
  else publish_place(&j->req);
}

static void complete_job(napi_env env, struct job *j) {
  napi_value cb, global, arg;
  report(&j->req, j->out);
  napi_get_reference_value(env, j->cb_ref, &cb);
  napi_delete_reference(env, j->cb_ref);
  if (j->data_ref) napi_delete_reference(env, j->data_ref);
  napi_delete_reference(env, j->out_ref);
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
  struct back *way = NULL;
  if (napi_get_instance_data(env, (void **)&way) != napi_ok || !way) return -1;
  j->way = way;
  j->task.run = run_task;
  j->task.done = task_done;
  if (pool_submit(&j->task) != 0) return -1;
  back_expect(way); /* answers are delivered on this thread, so none before this */
  return 0;
}

/* Queues `phase` of `r` as the job of its block; cb is called with a handle (a prepare that succeeded) or undefined. */
static void queue(napi_env env, int phase, struct publish_req *r, napi_value data, napi_value out, napi_value cb) {
  struct job *j = job_of_req(r);
  j->phase = phase;
  j->failed = 0;
  j->work = NULL;
  j->data_ref = NULL;
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
  struct publish_req *r = call_req(env, info, phase == PHASE_PREPARE ? COPY_OWNED : COPY_INLINE, a, &out);
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
