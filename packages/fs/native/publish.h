/* One publish, as the addon hands it to a pool thread (or runs it on the caller's thread for the sync API). */
#ifndef QUIRE_PUBLISH_H
#define QUIRE_PUBLISH_H
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

enum { KIND_UNIQUE = 0, KIND_EXCLUSIVE = 1, KIND_REPLACE = 2 };
/* The syscall that failed, as JS names it in the error (SYSCALL_NAMES in src/native-publish.ts). */
enum { SC_OPEN = 1, SC_WRITE, SC_FSYNC, SC_FCHMOD, SC_FCHOWN, SC_CLOSE, SC_LINK, SC_RENAME, SC_UNLINK, SC_STAT, SC_LSTAT };
/* What the failed call's `path` is: the target, its directory, the named temp, the unique name tried, or the
 * directory in its fsync after the name was placed (told apart: a missing directory there is no cue to mkdir). */
enum { WHERE_TARGET = 0, WHERE_DIR = 1, WHERE_TEMP = 2, WHERE_NAME = 3, WHERE_DIR_SYNC = 4, WHERE_IF_ABSENT = 5 };

struct publish_req {
  /* in */
  int kind;
  char *dir;    /* absolute */
  char *target; /* absolute file (exclusive, replace) */
  char *tmp;    /* absolute named temp, used where O_TMPFILE is refused (and by replace) */
  char *stamp;  /* unique: YYYYMMDDTHHMMSSZ */
  char *suffix; /* unique: '' or .ext */
  const char *data;
  size_t len;
  char *owned; /* async: a copy of the data, so a worker thread's exit cannot free it under the write */
  int durable;  /* fsync the file */
  int dir_sync; /* fsync the directory before returning */
  int mode;     /* -1: none given */
  int no_tmpfile;
  char *if_absent; /* absolute, or '' or NULL for none: nothing is placed while it exists (WHERE_IF_ABSENT) */
  double counter; /* unique: the first counter to try; out: the one linked */
  double taken;   /* unique: highest counter known taken (in and out) */
  long spread;    /* unique: the probe's spread (in and out) */
  /* out */
  int err, syscall, where, attempts, tmpfile, tmp_exists;
  int fd; /* between publish_prepare and publish_place: the file written, complete */
  char *linked; /* the name placed by link (unique, exclusive), to take back on a later failure */
  int has_old, old_mode;
  uid_t old_uid;
  gid_t old_gid;
};

void publish_run(struct publish_req *r);
/* publish_run in two halves, for a caller's hook in between: the data written and fsynced (r->fd open), then
 * the name placed and the directory fsynced; or, if the hook vetoes, publish_abort. Each returns 0 or -1. */
int publish_prepare(struct publish_req *r);
int publish_place(struct publish_req *r);
void publish_abort(struct publish_req *r);
/* fsync(2) of `dir` shared with concurrent callers (group commit); 0 or an errno, *syscall says which failed. */
int dir_commit(const char *dir, int *syscall);

#endif
