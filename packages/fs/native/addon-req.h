/* A publish call's request, read from its arguments into one block (addon-req.c), for addon.c's JS face. */
#ifndef QUIRE_ADDON_REQ_H
#define QUIRE_ADDON_REQ_H
#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>

#include "back.h"
#include "pool.h"
#include "publish.h"

/* The slots of `io` (addon.c): the numbers in, the results out. */
#define IO_LEN 8

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
  napi_ref data_ref, cb_ref;
  double *io;
  struct publish_req req;
};

static inline struct job *job_of_req(struct publish_req *r) {
  return (struct job *)((char *)r - offsetof(struct job, req));
}

/*
 * How an async call keeps its data: the caller may change its buffer, or a worker's exit free it, under the
 * write, so it is copied: into the request's block, or (a prepare, whose handle outlives the write) into a
 * buffer of its own that is freed once the data is in the file.
 */
enum { COPY_NONE, COPY_INLINE, COPY_OWNED };

/*
 * A new request in one block (struct job) from a publish call's arguments (dir, target, tmp, stamp, suffix,
 * ifAbsent ('' for none), data) and the numbers in `io`, the data kept as `copy` says. NULL once it has thrown.
 */
struct publish_req *new_req(napi_env env, napi_value *a, const double *io, int copy);
/* The request's results into `out` (the slots of `io`). */
void report(struct publish_req *r, double *out);
/* Frees a request and the block it is in. */
void drop_req(struct publish_req *r);

#endif
