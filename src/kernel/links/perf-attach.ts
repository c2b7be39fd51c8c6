/**
 * Attaching a program to an open perf event (tracepoint, kprobe, uprobe or sampling
 * event): a BPF perf link (BPF_LINK_CREATE with BPF_PERF_EVENT, Linux >= 5.15), or on
 * older kernels PERF_EVENT_IOC_SET_BPF; either way the event is then enabled.
 *
 * @module
 */

import { AttachType, Errno } from "../../uapi/index.ts";
import type { Program } from "../programs/program.ts";
import { type Fd, SyscallError } from "../sys/index.ts";
import { type Link, newLink } from "./link.ts";
import { linkCreate } from "./link-create.ts";
import { perfEventEnable, perfEventSetBpf } from "./perf-event.ts";

/** Options shared by perf-event attachments. */
export interface PerfAttachOptions {
  /** A value the program reads with bpf_get_attach_cookie() (perf links only). */
  readonly cookie?: bigint;
  /**
   * How to attach, as libbpf's `attach_mode`: "link" needs a BPF perf link, "perf"
   * uses PERF_EVENT_IOC_SET_BPF (what kernels before 5.15 get), "legacy" (kprobes and
   * uprobes) creates the probe through tracefs `kprobe_events`/`uprobe_events` instead
   * of the kprobe/uprobe PMU (what kernels before 4.17 get). Default: the best this
   * kernel has.
   */
  readonly mode?: "link" | "perf" | "legacy";
}

/**
 * Gives `prog` to the perf event `event` (which the returned link then owns, with
 * `cleanup`) and enables the event. On kernels without perf links the attachment is
 * made with PERF_EVENT_IOC_SET_BPF and the link has no bpf_link (no id, pin or info).
 *
 * @throws SyscallError naming the program and `what` (the event is closed and
 * `cleanup` run first).
 */
export function attachToPerfEvent(
  prog: Program,
  event: Fd,
  what: string,
  opts: PerfAttachOptions = {},
  cleanup?: () => void,
): Link {
  let fd: Fd | undefined;
  try {
    const ioctlOnly = opts.mode === "perf";
    if (ioctlOnly && opts.cookie) {
      throw new TypeError(`${what}: a cookie needs a BPF perf link (mode "link")`);
    }
    try {
      if (!ioctlOnly) {
        fd = linkCreate(prog, event.value, AttachType.PERF_EVENT, what, (call) => {
          if (opts.cookie) call.set("perf_event.bpf_cookie", opts.cookie);
        });
      }
    } catch (e) {
      // Kernels before 5.15 answer EINVAL to BPF_PERF_EVENT; a program of the wrong type
      // also gets EINVAL, and the ioctl below then reports it again.
      if (
        !(e instanceof SyscallError) ||
        e.errno !== Errno.EINVAL ||
        opts.cookie ||
        opts.mode === "link"
      ) {
        throw e;
      }
    }
    if (!fd) perfEventSetBpf(event.value, prog.fd);
    perfEventEnable(event.value);
    return newLink({
      ...(fd && { fd }),
      perfEvent: event,
      ...(cleanup && { cleanup }),
      description: what,
    });
  } catch (e) {
    fd?.close();
    event.close();
    cleanup?.();
    throw e;
  }
}
