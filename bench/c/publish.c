/*
 * The physical-limit baseline for @quire/fs: the same durable publish protocol in plain syscalls, no runtime.
 *
 *   publish [--rename] [--nosync | --nodirsync] [--tmpfile] [--threads N] COUNT DIR [SIZE]
 *
 * Default (link, "durable publish"), per record:
 *   open(tmp, O_WRONLY|O_CREAT|O_EXCL), write SIZE bytes, fsync, close, link(tmp, DIR/c-PID-I), unlink(tmp),
 *   open(DIR, O_RDONLY|O_DIRECTORY), fsync, close
 * --rename ("durable overwrite"): the same, but rename(tmp, DIR/target) instead of link + unlink, so every
 *   record replaces the one file DIR/target (shared by every process given the same DIR). An overwrite keeps
 *   the replaced file's mode (and, as root, its owner), as replaceFile promises and write-file-atomic does too:
 *   stat(DIR/target) before the open, fchmod (and fchown) of the new file after its write.
 * --nosync: the same syscalls without the two fsyncs (the durable:false reference).
 * --nodirsync: fsync the file but not the directory (what write-file-atomic and atomically do).
 * --tmpfile: what @quire/fs's native addon does on Linux: open(DIR, O_TMPFILE|O_WRONLY), write, fsync,
 *   linkat("/proc/self/fd/N", DIR/c-PID-T-I, AT_SYMLINK_FOLLOW), close, then the directory fsync; with
 *   --rename, linkat to the temp name and rename over DIR/target.
 * --threads N: N threads in this process, COUNT/N records each, into DIR (names carry the thread).
 *
 * Prints one line: elapsed seconds, then the CLOCK_MONOTONIC start and end in nanoseconds (the same clock as
 * Node's process.hrtime, so the bench can merge the windows of several processes), then the user and system CPU
 * time the loop used, in microseconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what, const char *path) {
  fprintf(stderr, "publish: %s %s: %s\n", what, path, strerror(errno));
  exit(1);
}

static long long cpu_us(int user) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  struct timeval tv = user ? ru.ru_utime : ru.ru_stime;
  return (long long)tv.tv_sec * 1000000LL + tv.tv_usec;
}

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int rename_mode = 0, sync_mode = 1, dirsync_mode = 1, tmpfile_mode = 0;
static long per_thread, size;
static const char *dir;
static char *buf;

static void write_all(int fd, const char *what) {
  for (long off = 0; off < size;) {
    ssize_t n = write(fd, buf + off, (size_t)(size - off));
    if (n < 0) die("write", what);
    off += n;
  }
}

static void fsync_dir(void) {
  if (!dirsync_mode) return;
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) die("open", dir);
  if (fsync(dfd) != 0) die("fsync", dir);
  if (close(dfd) != 0) die("close", dir);
}

/* An overwrite's target as it was before: its mode and owner go to the new file (has = 0: none yet). */
struct old {
  int has;
  struct stat st;
};

static struct old stat_old(const char *dst) {
  struct old o = {0};
  if (!rename_mode) return o;
  if (stat(dst, &o.st) == 0) o.has = 1;
  else if (errno != ENOENT) die("stat", dst);
  return o;
}

/* After the data, as the kernel clears setuid/setgid on write and chown: chown (root only), then chmod. */
static void keep_mode(int fd, const struct old *o, const char *what) {
  if (!o->has) return;
  if (getuid() == 0 && (o->st.st_uid != 0 || o->st.st_gid != 0) && fchown(fd, o->st.st_uid, o->st.st_gid) != 0)
    die("fchown", what);
  if (fchmod(fd, o->st.st_mode & 07777) != 0) die("fchmod", what);
}

/* One record through an unnamed O_TMPFILE inode, named by linkat of /proc/self/fd/N. */
static void publish_tmpfile(const char *tmp, const char *dst) {
  struct old o = stat_old(dst);
  int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) die("open O_TMPFILE", dir);
  write_all(fd, dir);
  keep_mode(fd, &o, dst);
  if (sync_mode && fsync(fd) != 0) die("fsync", dir);
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (linkat(AT_FDCWD, proc, AT_FDCWD, rename_mode ? tmp : dst, AT_SYMLINK_FOLLOW) != 0) die("linkat", dst);
  if (close(fd) != 0) die("close", dst);
  if (rename_mode && rename(tmp, dst) != 0) die("rename", dst);
}

static void publish_named(const char *tmp, const char *dst) {
  struct old o = stat_old(dst);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) die("open", tmp);
  write_all(fd, tmp);
  keep_mode(fd, &o, tmp);
  if (sync_mode && fsync(fd) != 0) die("fsync", tmp);
  if (close(fd) != 0) die("close", tmp);
  if (rename_mode) {
    if (rename(tmp, dst) != 0) die("rename", dst);
  } else {
    if (link(tmp, dst) != 0) die("link", dst);
    if (unlink(tmp) != 0) die("unlink", tmp);
  }
}

static void *run(void *arg) {
  long t = (long)arg;
  char tmp[4096], dst[4096];
  int pid = (int)getpid();
  for (long i = 0; i < per_thread; i++) {
    snprintf(tmp, sizeof tmp, "%s/.c-tmp-%d-%ld-%ld", dir, pid, t, i);
    if (rename_mode) snprintf(dst, sizeof dst, "%s/target", dir);
    else snprintf(dst, sizeof dst, "%s/c-%d-%ld-%ld", dir, pid, t, i);
    if (tmpfile_mode) publish_tmpfile(tmp, dst);
    else publish_named(tmp, dst);
    fsync_dir();
  }
  return NULL;
}

int main(int argc, char **argv) {
  long threads = 1;
  int argi = 1;
  for (; argi < argc && strncmp(argv[argi], "--", 2) == 0; argi++) {
    if (strcmp(argv[argi], "--rename") == 0) rename_mode = 1;
    else if (strcmp(argv[argi], "--nosync") == 0) sync_mode = dirsync_mode = 0;
    else if (strcmp(argv[argi], "--nodirsync") == 0) dirsync_mode = 0;
    else if (strcmp(argv[argi], "--tmpfile") == 0) tmpfile_mode = 1;
    else if (strcmp(argv[argi], "--threads") == 0 && argi + 1 < argc) threads = strtol(argv[++argi], NULL, 10);
    else {
      fprintf(stderr, "publish: unknown option %s\n", argv[argi]);
      return 2;
    }
  }
  if (argc - argi < 2) {
    fprintf(stderr, "usage: publish [--rename] [--nosync | --nodirsync] [--tmpfile] [--threads N] COUNT DIR [SIZE]\n");
    return 2;
  }
  long count = strtol(argv[argi], NULL, 10);
  dir = argv[argi + 1];
  size = argc - argi > 2 ? strtol(argv[argi + 2], NULL, 10) : 1024;
  if (count < 0 || size < 0 || threads < 1 || count % threads != 0) {
    fprintf(stderr, "publish: COUNT and SIZE must be >= 0, N >= 1 and divide COUNT\n");
    return 2;
  }
  per_thread = count / threads;
  buf = malloc(size > 0 ? (size_t)size : 1);
  if (!buf) die("malloc", "");
  memset(buf, 'x', (size_t)size);

  long long user0 = cpu_us(1), sys0 = cpu_us(0);
  long long start = now_ns();
  if (threads == 1) {
    run(0);
  } else {
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    if (!ids) die("calloc", "");
    for (long t = 0; t < threads; t++)
      if (pthread_create(&ids[t], NULL, run, (void *)t) != 0) die("pthread_create", "");
    for (long t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    free(ids);
  }
  long long end = now_ns();
  printf("%.6f %lld %lld %lld %lld\n", (double)(end - start) / 1e9, start, end, cpu_us(1) - user0,
         cpu_us(0) - sys0);
  free(buf);
  return 0;
}
