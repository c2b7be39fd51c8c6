/*
 * Baseline for bench/map-ops.ts: the same bpf(2) calls tsbpf makes, from C, with raw
 * syscall(SYS_bpf) and no libbpf. Creates a map (4-byte keys, 8-byte values) and fills
 * it, then:
 *
 *   map-ops <hash|array> <lookup|update> <entries> <iterations> <attr size>
 *     times windows of WINDOW operations (<iterations> in all); prints the rate of the
 *     10th-percentile window, "<ops per second>" (see bench/map-ops.ts for why).
 *   map-ops <hash|array> batch <entries> <rounds> <attr size>
 *     times, best of <rounds>, one BPF_MAP_LOOKUP_BATCH / _UPDATE_BATCH / _DELETE_BATCH
 *     of every entry against a loop of single lookups / updates / deletes; prints
 *     "<lookup batch> <lookup single> <update batch> <update single> <delete batch>
 *     <delete single>" in entries per second (delete: 0 0 for arrays, which cannot).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum {
  MAP_CREATE = 0,
  MAP_LOOKUP_ELEM = 1,
  MAP_UPDATE_ELEM = 2,
  MAP_DELETE_ELEM = 3,
  MAP_LOOKUP_BATCH = 24,
  MAP_UPDATE_BATCH = 26,
  MAP_DELETE_BATCH = 27,
};
enum { WINDOW = 2000 };
enum { MAP_TYPE_HASH = 1, MAP_TYPE_ARRAY = 2 };
enum { ATTR_MAX = 256 };

/* The leading members of union bpf_attr for the commands used here. */
struct create_attr {
  uint32_t map_type, key_size, value_size, max_entries, map_flags;
};
struct elem_attr {
  uint32_t map_fd;
  uint32_t pad;
  uint64_t key, value, flags;
};
struct batch_attr {
  uint64_t in_batch, out_batch, keys, values;
  uint32_t count, map_fd;
  uint64_t elem_flags, flags;
};
union attr {
  struct create_attr c;
  struct elem_attr e;
  struct batch_attr b;
  char raw[ATTR_MAX];
};

static unsigned attr_size;

static long bpf(int cmd, union attr *attr) { return syscall(SYS_bpf, cmd, attr, attr_size); }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  exit(1);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* One batch command over `entries` keys (and values); seconds, or dies. */
static double batch_call(int cmd, int fd, uint32_t entries, uint32_t *keys, uint64_t *values) {
  static union attr attr;
  memset(&attr, 0, sizeof attr);
  attr.b.keys = (uint64_t)(uintptr_t)keys;
  attr.b.values = (uint64_t)(uintptr_t)values;
  attr.b.count = entries;
  attr.b.map_fd = (uint32_t)fd;
  uint32_t out = 0;
  if (cmd == MAP_LOOKUP_BATCH) attr.b.out_batch = (uint64_t)(uintptr_t)&out;
  if (cmd == MAP_DELETE_BATCH) attr.b.values = 0;
  double t0 = now();
  if (bpf(cmd, &attr) < 0 && !(cmd == MAP_LOOKUP_BATCH && errno == ENOENT)) die("batch");
  double t1 = now();
  if (attr.b.count != entries) {
    fprintf(stderr, "batch command %d did %u of %u entries\n", cmd, attr.b.count, entries);
    exit(1);
  }
  return t1 - t0;
}

/* A loop of one single-element command over keys 0..entries-1; seconds. */
static double single_loop(int cmd, int fd, uint32_t entries) {
  static union attr attr;
  uint32_t key = 0;
  uint64_t value = 0;
  memset(&attr, 0, sizeof attr);
  attr.e.map_fd = (uint32_t)fd;
  attr.e.key = (uint64_t)(uintptr_t)&key;
  if (cmd != MAP_DELETE_ELEM) attr.e.value = (uint64_t)(uintptr_t)&value;
  double t0 = now();
  for (key = 0; key < entries; key++)
    if (bpf(cmd, &attr) < 0) die("single");
  return now() - t0;
}

static int batch(int fd, int hash, uint32_t entries, long rounds) {
  uint32_t *keys = calloc(entries, 4);
  uint64_t *values = calloc(entries, 8);
  for (uint32_t i = 0; i < entries; i++) keys[i] = i;
  double best[6] = {1e9, 1e9, 1e9, 1e9, 1e9, 1e9};
  for (long r = 0; r < rounds; r++) {
    double t[6] = {
        batch_call(MAP_LOOKUP_BATCH, fd, entries, keys, values),
        single_loop(MAP_LOOKUP_ELEM, fd, entries),
        batch_call(MAP_UPDATE_BATCH, fd, entries, keys, values),
        single_loop(MAP_UPDATE_ELEM, fd, entries),
        1e9,
        1e9,
    };
    if (hash) {
      t[4] = batch_call(MAP_DELETE_BATCH, fd, entries, keys, values);
      batch_call(MAP_UPDATE_BATCH, fd, entries, keys, values); /* refill, untimed */
      t[5] = single_loop(MAP_DELETE_ELEM, fd, entries);
      batch_call(MAP_UPDATE_BATCH, fd, entries, keys, values);
    }
    for (int i = 0; i < 6; i++)
      if (t[i] < best[i]) best[i] = t[i];
  }
  for (int i = 0; i < 6; i++) printf(i ? " %.0f" : "%.0f", hash || i < 4 ? entries / best[i] : 0.0);
  printf("\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr,
            "usage: %s <hash|array> <lookup|update> <entries> <iterations> <attr size>\n"
            "       %s <hash|array> batch <entries> <rounds> <attr size>\n",
            argv[0], argv[0]);
    return 2;
  }
  int hash = strcmp(argv[1], "hash") == 0;
  const char *op = argv[2];
  uint32_t entries = (uint32_t)atoi(argv[3]);
  long iterations = atol(argv[4]);
  attr_size = (unsigned)atoi(argv[5]);
  if (attr_size < sizeof(struct batch_attr) || attr_size > ATTR_MAX) {
    fprintf(stderr, "attr size must be %zu..%d\n", sizeof(struct batch_attr), ATTR_MAX);
    return 2;
  }

  static union attr attr;
  memset(&attr, 0, sizeof attr);
  attr.c.map_type = hash ? MAP_TYPE_HASH : MAP_TYPE_ARRAY;
  attr.c.key_size = 4;
  attr.c.value_size = 8;
  attr.c.max_entries = entries;
  long fd = bpf(MAP_CREATE, &attr);
  if (fd < 0) die("map create");

  uint32_t key = 0;
  uint64_t value = 0;
  memset(&attr, 0, sizeof attr);
  attr.e.map_fd = (uint32_t)fd;
  attr.e.key = (uint64_t)(uintptr_t)&key;
  attr.e.value = (uint64_t)(uintptr_t)&value;
  for (key = 0; key < entries; key++) {
    value = key;
    if (bpf(MAP_UPDATE_ELEM, &attr) < 0) die("fill");
  }

  if (strcmp(op, "batch") == 0) return batch((int)fd, hash, entries, iterations);

  int cmd = strcmp(op, "lookup") == 0 ? MAP_LOOKUP_ELEM : MAP_UPDATE_ELEM;
  long windows = iterations / WINDOW;
  if (windows < 1) windows = 1;
  double *w = calloc((size_t)windows, sizeof(double));
  long i = 0;
  for (long n = 0; n < windows; n++) {
    double t0 = now();
    for (long end = i + WINDOW; i < end; i++) {
      key = (uint32_t)(i % entries);
      if (bpf(cmd, &attr) < 0) die("op");
    }
    w[n] = now() - t0;
  }
  qsort(w, (size_t)windows, sizeof(double), cmp_double);
  printf("%.0f\n", WINDOW / w[windows / 10]);
  close((int)fd);
  return 0;
}
