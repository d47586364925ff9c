/*
 * One publish (createUnique, createExclusive, replaceFile) as one function of plain syscalls, so the async API
 * costs one trip to libuv's pool instead of about seven. The protocol is the JS one in src/publish.ts (the
 * reasons for each step are given there and in docs/durability.md); what differs is where the temp lives:
 * where the filesystem supports O_TMPFILE the data is written and fsynced in an inode with no name, then named
 * by linkat(2) of /proc/self/fd/N, which fails with EEXIST instead of overwriting, so no temp name appears.
 */
#define _GNU_SOURCE
#include "publish.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef O_TMPFILE
#define O_TMPFILE 0
#endif

/* Devices on which O_TMPFILE was refused; checked only once one exists, so supporting filesystems pay nothing. */
#define MAX_NO_TMPFILE 64
static pthread_mutex_t devs_lock = PTHREAD_MUTEX_INITIALIZER;
static dev_t no_tmpfile[MAX_NO_TMPFILE];
static int no_tmpfile_count = 0;
static int proc_fd_ok = -1;

static int fail(struct publish_req *r, int err, int syscall, int where) {
  r->err = err;
  r->syscall = syscall;
  r->where = where;
  return -1;
}

static int tmpfile_refused(const char *dir) {
  pthread_mutex_lock(&devs_lock);
  int any = no_tmpfile_count;
  pthread_mutex_unlock(&devs_lock);
  if (any == 0) return 0;
  struct stat st;
  if (stat(dir, &st) != 0) return 0; /* the open that follows reports the error */
  int found = 0;
  pthread_mutex_lock(&devs_lock);
  for (int i = 0; i < no_tmpfile_count; i++) found |= no_tmpfile[i] == st.st_dev;
  pthread_mutex_unlock(&devs_lock);
  return found;
}

static void remember_refusal(const char *dir) {
  struct stat st;
  if (stat(dir, &st) != 0) return;
  pthread_mutex_lock(&devs_lock);
  int known = 0;
  for (int i = 0; i < no_tmpfile_count; i++) known |= no_tmpfile[i] == st.st_dev;
  if (!known && no_tmpfile_count < MAX_NO_TMPFILE) no_tmpfile[no_tmpfile_count++] = st.st_dev;
  pthread_mutex_unlock(&devs_lock);
}

/*
 * Opens the file to write: an unnamed inode in the directory (r->tmpfile = 1) or, where O_TMPFILE is refused
 * (EOPNOTSUPP: FUSE, NFS; EISDIR: a kernel without it), the named temp r->tmp, created exclusively.
 */
static int open_temp(struct publish_req *r) {
  if (proc_fd_ok < 0) proc_fd_ok = access("/proc/self/fd", X_OK) == 0;
  if (O_TMPFILE != 0 && proc_fd_ok && !r->no_tmpfile && !tmpfile_refused(r->dir)) {
    int fd = open(r->dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    if (fd >= 0) {
      r->tmpfile = 1;
      return fd;
    }
    if (errno != EOPNOTSUPP && errno != EISDIR) return fail(r, errno, SC_OPEN, WHERE_DIR);
    remember_refusal(r->dir);
  }
  int fd = open(r->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return fail(r, errno, SC_OPEN, errno == ENOENT ? WHERE_DIR : WHERE_TEMP);
  r->tmpfile = 0;
  r->tmp_exists = 1;
  return fd;
}

static int write_all(struct publish_req *r, int fd) {
  for (size_t off = 0; off < r->len;) {
    ssize_t n = write(fd, r->data + off, r->len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(r, errno, SC_WRITE, WHERE_TARGET);
    }
    off += (size_t)n;
  }
  return 0;
}

/* Ownership and mode after the data (the kernel clears setuid/setgid on write and chown): chown, then chmod. */
static int set_owner_mode(struct publish_req *r, int fd) {
  if (r->has_old && getuid() == 0 && (r->old_uid != 0 || r->old_gid != 0)) {
    if (fchown(fd, r->old_uid, r->old_gid) != 0) return fail(r, errno, SC_FCHOWN, WHERE_TARGET);
  }
  int mode = r->mode >= 0 ? r->mode : r->has_old ? r->old_mode : -1;
  if (mode >= 0 && fchmod(fd, (mode_t)mode) != 0) return fail(r, errno, SC_FCHMOD, WHERE_TARGET);
  return 0;
}

/* Names the file `to`: linkat of the unnamed inode, or link(2) of the named temp. Fails with EEXIST if taken. */
static int link_to(struct publish_req *r, int fd, const char *to) {
  if (r->tmpfile) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, AT_FDCWD, to, AT_SYMLINK_FOLLOW);
  }
  return link(r->tmp, to);
}

static __thread unsigned long long rng;

/* xorshift64*: the counter guess needs spread, not secrecy. */
static unsigned long long next_random(void) {
  if (rng == 0) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    rng = ((unsigned long long)ts.tv_nsec << 20) ^ (unsigned long long)ts.tv_sec ^ (unsigned long long)getpid() ^
          (unsigned long long)(size_t)&rng;
    if (rng == 0) rng = 88172645463325252ULL;
  }
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 2685821657736338717ULL;
}

#define MAX_SPREAD (1 << 16)

/*
 * createUnique's names: the counter JS's CounterProbe guessed first, then on each EEXIST the same backoff it
 * would do (spread doubles, a random slot above the highest counter seen taken). Reported back so the JS
 * probe learns what this call learned. Only the kernel's EEXIST decides who owns a name.
 */
static int place_unique(struct publish_req *r, int fd) {
  char to[PATH_MAX];
  double issued = r->counter;
  for (r->attempts = 1;; r->attempts++) {
    int n = snprintf(to, sizeof to, "%s/%s-%.0f%s", r->dir, r->stamp, r->counter, r->suffix);
    if (n < 0 || (size_t)n >= sizeof to) return fail(r, ENAMETOOLONG, SC_LINK, WHERE_TARGET);
    if (link_to(r, fd, to) == 0) break;
    if (errno != EEXIST) return fail(r, errno, SC_LINK, WHERE_NAME);
    if (r->counter > r->taken) r->taken = r->counter;
    r->spread = r->spread * 2 > MAX_SPREAD ? MAX_SPREAD : r->spread * 2;
    double base = (issued > r->taken ? issued : r->taken) + 1;
    r->counter = base + (double)(next_random() % (unsigned long long)r->spread);
    issued = r->counter;
  }
  r->linked = strdup(to);
  if (!r->linked) {
    unlink(to);
    return fail(r, ENOMEM, SC_LINK, WHERE_NAME);
  }
  return 0;
}

static int place(struct publish_req *r, int fd) {
  if (r->kind == KIND_UNIQUE) return place_unique(r, fd);
  r->attempts = 1;
  if (r->kind == KIND_EXCLUSIVE) {
    if (link_to(r, fd, r->target) != 0) return fail(r, errno, SC_LINK, WHERE_TARGET);
    r->linked = strdup(r->target);
    if (!r->linked) {
      unlink(r->target);
      return fail(r, ENOMEM, SC_LINK, WHERE_TARGET);
    }
    return 0;
  }
  /* replaceFile: rename(2) swaps the name atomically; an unnamed inode first takes the temp's name for it. */
  if (r->tmpfile) {
    if (link_to(r, fd, r->tmp) != 0) return fail(r, errno, SC_LINK, WHERE_TEMP);
    r->tmp_exists = 1;
  }
  if (rename(r->tmp, r->target) != 0) return fail(r, errno, SC_RENAME, WHERE_TARGET);
  r->tmp_exists = 0;
  return 0;
}

static int stat_old(struct publish_req *r) {
  struct stat st;
  if (stat(r->target, &st) == 0) {
    r->has_old = 1;
    r->old_mode = (int)(st.st_mode & 07777);
    r->old_uid = st.st_uid;
    r->old_gid = st.st_gid;
    return 0;
  }
  if (errno == ENOENT) return 0;
  return fail(r, errno, SC_STAT, WHERE_TARGET);
}

/* The data, complete and (when durable) fsynced, in the file `fd`; closes fd on failure. */
static int fill(struct publish_req *r, int fd) {
  if (write_all(r, fd) != 0 || set_owner_mode(r, fd) != 0) {
    close(fd);
    return -1;
  }
  /* fsync before the name exists, or the name can reach the disk before the data. Never retried. */
  if (r->durable && fsync(fd) != 0) {
    int e = errno;
    close(fd);
    return fail(r, e, SC_FSYNC, WHERE_TARGET);
  }
  return 0;
}

/* Takes the published name back and removes the temp: a failed call leaves nothing. */
static void undo(struct publish_req *r) {
  if (r->tmp_exists) unlink(r->tmp);
  r->tmp_exists = 0;
  if (r->linked) unlink(r->linked);
}

int publish_prepare(struct publish_req *r) {
  r->err = 0;
  r->fd = -1;
  if (r->kind == KIND_REPLACE && stat_old(r) != 0) return -1;
  int fd = open_temp(r);
  if (fd < 0) return -1;
  if (fill(r, fd) != 0) {
    undo(r);
    return -1;
  }
  r->fd = fd;
  return 0;
}

/*
 * The caller's precondition (ifAbsent), looked at as late as can be: just before the name is placed. Sound only
 * under a lock of the caller's that whoever makes the path also holds; then no one can make it in between.
 */
static int check_absent(struct publish_req *r) {
  if (r->if_absent == NULL || r->if_absent[0] == '\0') return 0;
  struct stat st;
  if (lstat(r->if_absent, &st) == 0) return fail(r, EEXIST, SC_LSTAT, WHERE_IF_ABSENT);
  if (errno == ENOENT || errno == ENOTDIR) return 0;
  return fail(r, errno, SC_LSTAT, WHERE_IF_ABSENT);
}

int publish_place(struct publish_req *r) {
  int fd = r->fd;
  r->fd = -1;
  if (check_absent(r) != 0) {
    close(fd);
    undo(r);
    return -1;
  }
  /* A named temp is closed before it is placed, an unnamed one after: linkat needs its descriptor. */
  if (!r->tmpfile && close(fd) != 0) {
    fail(r, errno, SC_CLOSE, WHERE_TARGET);
    undo(r);
    return -1;
  }
  int placed = place(r, fd);
  if (r->tmpfile && close(fd) != 0 && placed == 0) placed = fail(r, errno, SC_CLOSE, WHERE_TARGET);
  if (placed == 0 && r->tmp_exists && r->kind != KIND_REPLACE) {
    if (unlink(r->tmp) != 0) placed = fail(r, errno, SC_UNLINK, WHERE_TEMP);
    else r->tmp_exists = 0;
  }
  if (placed == 0 && r->dir_sync) {
    int e = dir_commit(r->dir, &r->syscall);
    if (e != 0) placed = fail(r, e, r->syscall, WHERE_DIR_SYNC);
  }
  if (placed != 0) undo(r);
  return placed;
}

void publish_abort(struct publish_req *r) {
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  undo(r);
}

void publish_run(struct publish_req *r) {
  if (publish_prepare(r) == 0) publish_place(r);
}
