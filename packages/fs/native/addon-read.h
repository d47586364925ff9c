/* The Node-API face of read.c (addon-read.c), and what it shares with addon.c (defined in addon-req.c). */
#ifndef QUIRE_ADDON_READ_H
#define QUIRE_ADDON_READ_H
#define NAPI_VERSION 8
#include <node_api.h>

/* readSync(path, out): the data as a Buffer, or undefined; out: [state, errno, syscall] (read.h). */
napi_value read_sync(napi_env env, napi_callback_info info);
/* read(path, out, cb): the same as one job on libuv's pool; cb gets the Buffer or undefined. */
napi_value read_async(napi_env env, napi_callback_info info);
/* A JS string as a malloc'd UTF-8 C string; NULL if it is not a string (addon-req.c). */
char *addon_string(napi_env env, napi_value v);
/* A Float64Array of at least `min` elements: its memory in *out, 0; -1 for anything else (addon-req.c). */
int addon_f64s(napi_env env, napi_value v, size_t min, double **out);

#endif
