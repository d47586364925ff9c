/*
 * Group commit for directory fsyncs, the rule of src/coalescer.ts in threads: a caller never shares an fsync
 * that began before it called (that fsync may have missed the caller's link); it joins the queued one, or
 * queues one behind the running one and runs it itself once that finishes. Any number of concurrent publishes
 * into one directory share about two fsyncs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "publish.h"

struct gen {
  int refs, done, err, syscall;
};

struct dirent_commit {
  struct dirent_commit *next;
  char *dir;
  int users;
  struct gen *running, *queued;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct dirent_commit *dirs;

static int fsync_dir(const char *dir, int *syscall) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    *syscall = SC_OPEN;
    return errno;
  }
  int err = 0;
  if (fsync(fd) != 0) {
    err = errno;
    *syscall = SC_FSYNC;
  }
  if (close(fd) != 0 && err == 0) {
    err = errno;
    *syscall = SC_CLOSE;
  }
  return err;
}

static struct dirent_commit *entry_for(const char *dir) {
  for (struct dirent_commit *e = dirs; e; e = e->next)
    if (strcmp(e->dir, dir) == 0) return e;
  struct dirent_commit *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  e->dir = strdup(dir);
  if (!e->dir) {
    free(e);
    return NULL;
  }
  e->next = dirs;
  dirs = e;
  return e;
}

static void release_entry(struct dirent_commit *e) {
  if (--e->users > 0) return;
  for (struct dirent_commit **p = &dirs; *p; p = &(*p)->next) {
    if (*p == e) {
      *p = e->next;
      break;
    }
  }
  free(e->dir);
  free(e);
}

/* Runs generation g (the caller owns the run) with the lock released, then tells its waiters. */
static void run_gen(struct dirent_commit *e, struct gen *g, const char *dir) {
  pthread_mutex_unlock(&lock);
  int syscall = 0;
  int err = fsync_dir(dir, &syscall);
  pthread_mutex_lock(&lock);
  g->err = err;
  g->syscall = syscall;
  g->done = 1;
  e->running = NULL;
  pthread_cond_broadcast(&changed);
}

int dir_commit(const char *dir, int *syscall) {
  pthread_mutex_lock(&lock);
  struct dirent_commit *e = entry_for(dir);
  if (!e) {
    pthread_mutex_unlock(&lock);
    return fsync_dir(dir, syscall);
  }
  e->users++;
  struct gen *g;
  if (e->queued) {
    g = e->queued;
    g->refs++;
  } else {
    g = calloc(1, sizeof *g);
    if (!g) {
      release_entry(e);
      pthread_mutex_unlock(&lock);
      return fsync_dir(dir, syscall);
    }
    g->refs = 1;
    if (!e->running) {
      e->running = g;
      run_gen(e, g, dir);
    } else {
      e->queued = g;
      while (e->running) pthread_cond_wait(&changed, &lock);
      e->queued = NULL;
      e->running = g;
      run_gen(e, g, dir);
    }
  }
  while (!g->done) pthread_cond_wait(&changed, &lock);
  int err = g->err;
  *syscall = g->syscall;
  if (--g->refs == 0) free(g);
  release_entry(e);
  pthread_mutex_unlock(&lock);
  return err;
}
