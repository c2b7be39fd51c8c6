/*
 * Baseline for bench/map-ops.ts: the same bpf(2) calls tsbpf makes, from C, with raw
 * syscall(SYS_bpf) and no libbpf. Creates a map, fills it, then times a loop of one
 * operation and prints "<ops per second>".
 *
 *   map-ops <hash|array> <lookup|update> <entries> <iterations> <attr size>
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

enum { MAP_CREATE = 0, MAP_LOOKUP_ELEM = 1, MAP_UPDATE_ELEM = 2 };
enum { MAP_TYPE_HASH = 1, MAP_TYPE_ARRAY = 2 };
enum { ATTR_MAX = 256 };

/* The leading members of union bpf_attr for BPF_MAP_CREATE and the element commands. */
struct create_attr {
  uint32_t map_type, key_size, value_size, max_entries, map_flags;
};
struct elem_attr {
  uint32_t map_fd;
  uint32_t pad;
  uint64_t key, value, flags;
};

static long bpf(int cmd, void *attr, unsigned size) { return syscall(SYS_bpf, cmd, attr, size); }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s <hash|array> <lookup|update> <entries> <iterations> <attr size>\n", argv[0]);
    return 2;
  }
  int hash = strcmp(argv[1], "hash") == 0;
  int lookup = strcmp(argv[2], "lookup") == 0;
  uint32_t entries = (uint32_t)atoi(argv[3]);
  long iterations = atol(argv[4]);
  unsigned attr_size = (unsigned)atoi(argv[5]);
  if (attr_size < sizeof(struct elem_attr) || attr_size > ATTR_MAX) {
    fprintf(stderr, "attr size must be %zu..%d\n", sizeof(struct elem_attr), ATTR_MAX);
    return 2;
  }

  static union { struct create_attr c; struct elem_attr e; char raw[ATTR_MAX]; } attr;
  memset(&attr, 0, sizeof attr);
  attr.c.map_type = hash ? MAP_TYPE_HASH : MAP_TYPE_ARRAY;
  attr.c.key_size = 4;
  attr.c.value_size = 8;
  attr.c.max_entries = entries;
  long fd = bpf(MAP_CREATE, &attr, attr_size);
  if (fd < 0) {
    fprintf(stderr, "map create: %s\n", strerror(errno));
    return 1;
  }

  uint32_t key = 0;
  uint64_t value = 0;
  memset(&attr, 0, sizeof attr);
  attr.e.map_fd = (uint32_t)fd;
  attr.e.key = (uint64_t)(uintptr_t)&key;
  attr.e.value = (uint64_t)(uintptr_t)&value;
  for (key = 0; key < entries; key++) {
    value = key;
    if (bpf(MAP_UPDATE_ELEM, &attr, attr_size) < 0) {
      fprintf(stderr, "fill: %s\n", strerror(errno));
      return 1;
    }
  }

  int cmd = lookup ? MAP_LOOKUP_ELEM : MAP_UPDATE_ELEM;
  double t0 = now();
  for (long i = 0; i < iterations; i++) {
    key = (uint32_t)(i % entries);
    if (bpf(cmd, &attr, attr_size) < 0) {
      fprintf(stderr, "op: %s\n", strerror(errno));
      return 1;
    }
  }
  double t1 = now();
  printf("%.0f\n", iterations / (t1 - t0));
  close((int)fd);
  return 0;
}
