/*
 * A whole readComplete attempt in plain syscalls, so the async API makes one trip to libuv's pool instead of
 * four or five (open, fstat, read..., close; the lock check too where it goes off the event loop). The protocol
 * is readOnce in src/read.ts, whose comments say why each step is there: the shared OFD lock is taken on the
 * descriptor the data is read through, so a lock-honouring writer cannot start between the check and the read,
 * and closing that only descriptor drops the lock. An error closing a read-only descriptor is ignored, as JS's
 * closeReadOnly does: it cannot change what was read. Retries (ESTALE, ENOENT after open) and `accept` stay in
 * JS, around this.
 */
#define _GNU_SOURCE
#include "read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void failed(struct read_req *r, int syscall) {
  r->err = errno;
  r->syscall = syscall;
}

/* Reads fd to its end into r->data; 0, or -1 with the error set. `size`: fstat's guess, one byte more is
 * asked for so that the read that finds the end needs no larger buffer. */
static int read_all(struct read_req *r, int fd, size_t size) {
  size_t cap = size > 0 ? size + 1 : 8192, len = 0;
  char *buf = malloc(cap);
  if (!buf) {
    errno = ENOMEM;
    failed(r, RSC_READ);
    return -1;
  }
  for (;;) {
    if (len == cap) {
      char *bigger = realloc(buf, cap * 2);
      if (!bigger) {
        free(buf);
        errno = ENOMEM;
        failed(r, RSC_READ);
        return -1;
      }
      buf = bigger;
      cap *= 2;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed(r, RSC_READ);
      free(buf);
      return -1;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  r->data = buf;
  r->len = len;
  return 0;
}

void read_run(struct read_req *r) {
  r->state = READ_DATA;
  r->err = 0;
  r->data = NULL;
  r->len = 0;
  int fd;
  do fd = open(r->path, O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (errno == ENOENT) r->state = READ_MISSING;
    else failed(r, RSC_OPEN);
    return;
  }
  struct flock lk = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  struct stat st;
  if (fcntl(fd, F_OFD_SETLK, &lk) != 0) {
    if (errno == EAGAIN || errno == EACCES || errno == EBUSY) r->state = READ_LOCKED;
    else failed(r, RSC_FCNTL);
  } else if (fstat(fd, &st) != 0) {
    failed(r, RSC_FSTAT);
  } else {
    read_all(r, fd, st.st_size > 0 ? (size_t)st.st_size : 0);
  }
  close(fd); /* drops the lock with the only descriptor; its error is ignored (see above) */
}
