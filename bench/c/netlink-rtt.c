/*
 * Baseline for bench/netlink.ts: netlink round trips from C, the same request tsbpf
 * sends (RTM_GETLINK of one device, with NLM_F_ACK) on a NETLINK_ROUTE socket, each
 * answered by the link message and the acknowledgement.
 *
 *   netlink-rtt <ifindex> <iterations>
 *     times windows of WINDOW round trips (<iterations> in all); prints the rate of the
 *     10th-percentile window in round trips per second (see bench/map-ops.ts for why).
 */
#define _GNU_SOURCE
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { WINDOW = 2000 };

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: netlink-rtt IFINDEX ITERATIONS\n");
    return 2;
  }
  int ifindex = atoi(argv[1]);
  long iterations = atol(argv[2]);
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    perror("netlink socket");
    return 1;
  }
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
  } req = {0};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  req.i.ifi_index = ifindex;
  static char buf[1 << 18];
  long windows = iterations / WINDOW;
  double *ns = calloc(windows, sizeof *ns);
  uint32_t seq = 1;
  for (long w = 0; w < windows; w++) {
    double t0 = now_ns();
    for (int k = 0; k < WINDOW; k++) {
      req.h.nlmsg_seq = ++seq;
      if (send(fd, &req, sizeof req, 0) < 0) {
        perror("send");
        return 1;
      }
      /* Until the acknowledgement of this request. */
      for (int done = 0; !done;) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
          perror("recv");
          return 1;
        }
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
          if (h->nlmsg_seq != seq)
            continue;
          if (h->nlmsg_type == NLMSG_ERROR) {
            struct nlmsgerr *e = NLMSG_DATA(h);
            if (e->error) {
              fprintf(stderr, "error %d\n", e->error);
              return 1;
            }
            done = 1;
          }
        }
      }
    }
    ns[w] = (now_ns() - t0) / WINDOW;
  }
  qsort(ns, windows, sizeof *ns, cmp);
  printf("%.0f\n", 1e9 / ns[windows / 10]);
  return 0;
}
