/* The way back from the addon's threads to one Node environment's event loop (back.c). */
#ifndef QUIRE_BACK_H
#define QUIRE_BACK_H
#define NAPI_VERSION 8
#include <node_api.h>

/* What is sent back: embedded first in the sender's own struct. */
struct back_item {
  struct back_item *next;
};

struct back;

/* The way back for `env`: deliver(env, item) runs on its JS thread for each item sent, inside a callback
 * scope (so promises settle after each batch); drop(item) frees an item that can no longer be delivered (the
 * environment is going away). NULL if it cannot be made. */
struct back *back_open(napi_env env, void (*deliver)(napi_env, struct back_item *),
                       void (*drop)(struct back_item *));
/* On the JS thread, before an item is handed to another thread: it will be sent or dropped, and the event loop
 * stays alive until then. */
void back_expect(struct back *b);
/* From any thread: sends `it` back, or drops it if the environment is going away. */
void back_send(struct back *b, struct back_item *it);

#endif
