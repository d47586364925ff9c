/* One readComplete as the addon runs it: on a libuv pool thread (async) or the caller's (sync). */
#ifndef QUIRE_READ_H
#define QUIRE_READ_H
#include <stddef.h>

/* What the read found: the data, no file, or a file some writer holds a lock on ("not there yet"). */
enum { READ_DATA = 0, READ_MISSING = 1, READ_LOCKED = 2 };
/* The syscall that failed, as JS names it (READ_SYSCALLS in src/native-read.ts). */
enum { RSC_OPEN = 1, RSC_FCNTL, RSC_FSTAT, RSC_READ };

struct read_req {
  char *path; /* in: absolute */
  int state, err, syscall;
  char *data; /* out (READ_DATA): malloc'd, len bytes */
  size_t len;
};

/* open, OFD read lock of the whole file, fstat, read to the end, close: the pure-JS readOnce in one call. */
void read_run(struct read_req *r);

#endif
