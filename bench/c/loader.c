// The C baseline of bench/collection-load.ts: opens and loads a BPF object with libbpf
// (bpf_object__open_file + bpf_object__load), closes it, N times; prints each round's
// microseconds on one line. Maps pinned by name go under PIN_DIR.
// Build: cc -O2 -o loader loader.c -lbpf
// Usage: loader OBJECT ROUNDS PIN_DIR
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (level == LIBBPF_WARN) return vfprintf(stderr, fmt, args);
  return 0;
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s OBJECT ROUNDS PIN_DIR\n", argv[0]);
    return 2;
  }
  int rounds = atoi(argv[2]);
  libbpf_set_print(quiet);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = argv[3]);
  for (int i = 0; i < rounds; i++) {
    double t0 = now_us();
    struct bpf_object *obj = bpf_object__open_file(argv[1], &opts);
    if (!obj) {
      fprintf(stderr, "open %s failed\n", argv[1]);
      return 1;
    }
    if (bpf_object__load(obj)) {
      fprintf(stderr, "load %s failed\n", argv[1]);
      return 1;
    }
    double t1 = now_us();
    bpf_object__close(obj);
    printf("%s%.1f", i ? " " : "", t1 - t0);
  }
  printf("\n");
  return 0;
}
