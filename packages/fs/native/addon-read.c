/*
 * readSync and read: one readComplete attempt (read.c) on the caller's thread, or as one napi_async_work on
 * libuv's pool, as the pure-JS protocol's reads run there too (a read holds its thread only for the read, not
 * through fsyncs as a publish does, so it needs none of the addon's own threads). The data comes back as a
 * Buffer copied from the C buffer: records are small, and a copy is freed with V8's heap, with no finalizer.
 */
#include "addon-read.h"

#include <errno.h>
#include <stdlib.h>

#include "read.h"

#define READ_OUT 3

struct read_job {
  struct read_req req;
  napi_async_work work;
  napi_ref out_ref, cb_ref;
  double *out;
};

/* Writes the outcome to `out` and gives the data as a Buffer (undefined when there is none); frees it. */
static napi_value settle(napi_env env, struct read_req *r, double *out) {
  napi_value v = NULL;
  if (r->err == 0 && r->state == READ_DATA) {
    void *copy;
    if (napi_create_buffer_copy(env, r->len, r->data ? r->data : "", &copy, &v) != napi_ok) {
      bool pending = false;
      napi_value ignored;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending)
        napi_get_and_clear_last_exception(env, &ignored);
      v = NULL; /* more than a Buffer holds: reported as the read's ENOMEM */
      r->err = ENOMEM;
      r->syscall = RSC_READ;
    }
  }
  free(r->data);
  r->data = NULL;
  out[0] = r->state;
  out[1] = r->err;
  out[2] = r->syscall;
  if (!v) napi_get_undefined(env, &v);
  return v;
}

/* The call's path and out, or NULL after throwing a TypeError (JS checks them before: a library bug). */
static char *read_args(napi_env env, napi_value *a, size_t argc, size_t want, double **out) {
  char *path = argc < want ? NULL : addon_string(env, a[0]);
  if (path && addon_f64s(env, a[1], READ_OUT, out) == 0) return path;
  free(path);
  napi_throw_type_error(env, NULL, "quire_fs: read needs a path and out");
  return NULL;
}

napi_value read_sync(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  double *out;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  struct read_req r = {.path = read_args(env, a, argc, 2, &out)};
  if (!r.path) return NULL;
  read_run(&r);
  free(r.path);
  return settle(env, &r, out);
}

static void execute(napi_env env, void *data) {
  read_run(&((struct read_job *)data)->req);
}

static void complete(napi_env env, napi_status status, void *data) {
  struct read_job *j = data;
  napi_value cb, global, arg = settle(env, &j->req, j->out);
  napi_get_reference_value(env, j->cb_ref, &cb);
  napi_delete_reference(env, j->cb_ref);
  napi_delete_reference(env, j->out_ref);
  napi_delete_async_work(env, j->work);
  free(j->req.path);
  free(j);
  napi_get_global(env, &global);
  napi_call_function(env, global, cb, 1, &arg, NULL);
}

napi_value read_async(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3], name;
  napi_valuetype t;
  double *out;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  if (argc < 3 || napi_typeof(env, a[2], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "quire_fs: read needs a callback");
    return NULL;
  }
  char *path = read_args(env, a, argc, 3, &out);
  if (!path) return NULL;
  struct read_job *j = calloc(1, sizeof *j);
  if (!j) {
    free(path);
    napi_throw_error(env, "ENOMEM", "quire_fs: out of memory");
    return NULL;
  }
  j->req.path = path;
  j->out = out;
  /* out stays referenced, so alive and in place, until the job is done. */
  napi_create_reference(env, a[1], 1, &j->out_ref);
  napi_create_reference(env, a[2], 1, &j->cb_ref);
  napi_create_string_utf8(env, "quire_fs.read", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, execute, complete, j, &j->work) != napi_ok ||
      napi_queue_async_work(env, j->work) != napi_ok) {
    napi_delete_reference(env, j->cb_ref);
    napi_delete_reference(env, j->out_ref);
    free(path);
    free(j);
    napi_throw_error(env, NULL, "quire_fs: cannot queue");
  }
  return NULL;
}
