/*
 * A publish call's arguments read into one block (struct job): the job, its request, then the request's strings
 * and an async call's copy of the data, one malloc on the event loop per call where there were nine. The
 * numbers come from `io`, memory the addon holds, not as JS values: eight Node-API calls fewer per call.
 */
#include "addon-req.h"

#include <stdlib.h>
#include <string.h>

#include "addon-read.h"

/* The call's strings: dir, target, tmp, stamp, suffix, ifAbsent (arguments 0-5). */
#define NSTR 6

/*
 * A string argument: whole in `buf` when it fits (every path in practice: one walk of the string, where asking
 * its length first would walk it twice), else only its length measured.
 */
struct text {
  char buf[1024];
  size_t len;
  int fits;
};

static int measure(napi_env env, napi_value v, struct text *t) {
  if (napi_get_value_string_utf8(env, v, t->buf, sizeof t->buf, &t->len) != napi_ok) return -1;
  /* Whole for sure only with room left for one more character (4 bytes at most in UTF-8): a string that did not
   * fit is cut at a character's boundary, which may be a few bytes short of the buffer's end. */
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

char *addon_string(napi_env env, napi_value v) {
  struct text t;
  if (measure(env, v, &t) != 0) return NULL;
  char *s = malloc(t.len + 1);
  if (s) put_text(env, v, &t, s);
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

int addon_f64s(napi_env env, napi_value v, size_t min, double **out) {
  napi_typedarray_type type;
  size_t len, off;
  void *p;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &len, &p, &ab, &off) != napi_ok || type != napi_float64_array ||
      len < min)
    return -1;
  *out = p;
  return 0;
}

/* The numbers `io` carries in (see the top): checked, since they come from a typed array, not JS values. */
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
 * A new request in one block (struct job) from the arguments (dir, target, tmp, stamp, suffix, ifAbsent ('' for
 * none), data) and the numbers in `io`, the data kept as `copy` says. NULL once it has thrown: a
 * malformed call is a bug in the library (JS checks every argument before), not its caller's.
 */
struct publish_req *new_req(napi_env env, napi_value *a, const double *io, int copy) {
  struct text t[NSTR];
  struct publish_req in;
  const char *data;
  size_t len, size = sizeof(struct job);
  if (read_numbers(io, &in) != 0 || get_bytes(env, a[6], &data, &len) != 0)
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

void report(struct publish_req *r, double *out) {
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
void drop_req(struct publish_req *r) {
  free(r->linked);
  free(r->owned);
  free(job_of_req(r));
}
