/*
 * Baseline for bench/map-ops.ts: the same bpf(2) calls tsbpf makes, from C, with raw
 * syscall(SYS_bpf) and no libbpf. Creates a map (4-byte keys, 8-byte values) and fills
 * it, then:
 *
 *   map-ops <hash|array> <lookup|update> <entries> <iterations> <attr size>
 *     times a loop of one operation; prints "<ops per second>".
 *   map-ops <hash|array> batch <entries> <rounds> <attr size>
 *     times one BPF_MAP_LOOKUP_BATCH of every entry and a lookup of each entry, best
 *     of <rounds>; prints "<batch entries per second> <single entries per second>".
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

enum { MAP_CREATE = 0, MAP_LOOKUP_ELEM = 1, MAP_UPDATE_ELEM = 2, MAP_LOOKUP_BATCH = 24 };
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

static int batch(int fd, uint32_t entries, long rounds) {
  uint32_t *keys = calloc(entries, 4);
  uint64_t *values = calloc(entries, 8);
  uint32_t out = 0, key = 0;
  uint64_t value = 0;
  double best_batch = 1e9, best_single = 1e9;
  static union attr attr;
  for (long r = 0; r < rounds; r++) {
    memset(&attr, 0, sizeof attr);
    attr.b.out_batch = (uint64_t)(uintptr_t)&out;
    attr.b.keys = (uint64_t)(uintptr_t)keys;
    attr.b.values = (uint64_t)(uintptr_t)values;
    attr.b.count = entries;
    attr.b.map_fd = (uint32_t)fd;
    double t0 = now();
    if (bpf(MAP_LOOKUP_BATCH, &attr) < 0 && errno != ENOENT) die("lookup batch");
    double t1 = now();
    if (attr.b.count != entries) {
      fprintf(stderr, "lookup batch returned %u of %u entries\n", attr.b.count, entries);
      return 1;
    }
    if (t1 - t0 < best_batch) best_batch = t1 - t0;

    memset(&attr, 0, sizeof attr);
    attr.e.map_fd = (uint32_t)fd;
    attr.e.key = (uint64_t)(uintptr_t)&key;
    attr.e.value = (uint64_t)(uintptr_t)&value;
    t0 = now();
    for (key = 0; key < entries; key++)
      if (bpf(MAP_LOOKUP_ELEM, &attr) < 0) die("lookup");
    t1 = now();
    if (t1 - t0 < best_single) best_single = t1 - t0;
  }
  printf("%.0f %.0f\n", entries / best_batch, entries / best_single);
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

  if (strcmp(op, "batch") == 0) return batch((int)fd, entries, iterations);

  int cmd = strcmp(op, "lookup") == 0 ? MAP_LOOKUP_ELEM : MAP_UPDATE_ELEM;
  double t0 = now();
  for (long i = 0; i < iterations; i++) {
    key = (uint32_t)(i % entries);
    if (bpf(cmd, &attr) < 0) die("op");
  }
  double t1 = now();
  printf("%.0f\n", iterations / (t1 - t0));
  close((int)fd);
  return 0;
}
