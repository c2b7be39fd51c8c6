/**
 * `Link`: a program attached to a hook. Most attachments are kernel `bpf_link`
 * objects (an fd that keeps the attachment alive, with an id, info, pins and atomic
 * program replacement); a perf event attached the pre-5.15 way (PERF_EVENT_IOC_SET_BPF)
 * is a link too, owned through the perf event's fd, and says plainly which of those
 * operations it cannot do.
 *
 * One constructor per hook lives in src/kernel/links/ (`attachTracepoint`,
 * `attachRawTracepoint`, `attachKprobe`, `attachUprobe`, ...).
 *
 * @module
 */

import { BpfCmd, bpfAttr } from "../../uapi/index.ts";
import { NotSupportedError } from "../features/not-supported-error.ts";
import { requireFdKind } from "../objects/fd-kind.ts";
import { adoptOrClose, requireObjectFdById } from "../objects/objects.ts";
import { adoptPinned, pinObject } from "../objects/pin.ts";
import type { Program } from "../programs/program.ts";
import { BpfCall, Fd, SyscallError } from "../sys/index.ts";
import { type LinkInfo, linkInfoByFd } from "./link-info.ts";

/** What {@link newLink} assembles into a {@link Link}. */
export interface LinkParts {
  /** The kernel bpf_link, when the attachment is one. */
  readonly fd?: Fd;
  /** A perf event the link is attached to (closed with the link). */
  readonly perfEvent?: Fd;
  /**
   * Runs once after the descriptors close (e.g. removes a tracefs probe event); for an
   * attachment with neither a link nor a perf event (XDP or tc through netlink) it is
   * the detach itself.
   */
  readonly cleanup?: () => void;
  /**
   * Why the attachment has no bpf_link, for the errors of what only a bpf_link can do
   * (default: the perf event attached with PERF_EVENT_IOC_SET_BPF).
   */
  readonly noLinkReason?: string;
  /** What it is attached to, for messages: `tracepoint syscalls:sys_enter_getpid`. */
  readonly description: string;
}

/**
 * A program attached to a hook. `close()` (or `using`) detaches it unless it is pinned
 * (a pinned bpf_link stays until its pin is removed too).
 *
 * @example
 * ```ts
 * using prog = Program.load(spec);
 * using link = attachTracepoint(prog, "syscalls", "sys_enter_openat");
 * console.log(link.info());
 * ```
 */
export class Link implements Disposable {
  readonly #fd: Fd | undefined;
  readonly #perfEvent: Fd | undefined;
  #cleanup: (() => void) | undefined;
  #closed = false;
  readonly #noLinkReason: string | undefined;
  readonly #dependents = new Set<{ close(): void }>();
  /** What the link attaches to, e.g. `tracepoint syscalls:sys_enter_getpid`. */
  readonly description: string;

  /** @internal Use {@link newLink} or the static constructors. */
  constructor(parts: LinkParts) {
    this.#fd = parts.fd;
    this.#perfEvent = parts.perfEvent;
    this.#cleanup = parts.cleanup;
    this.#noLinkReason = parts.noLinkReason;
    this.description = parts.description;
  }

  /**
   * Takes ownership of a bpf_link descriptor (a number or an {@link Fd}).
   * @throws SyscallError when `fd` is not a link (a number is then left open).
   */
  static fromFd(fd: number | Fd): Link {
    const owned = typeof fd === "number" ? new Fd(fd) : fd;
    try {
      requireFdKind(owned.value, "link", "Link.fromFd");
      const info = linkInfoByFd(owned.value);
      return new Link({ fd: owned, description: `${info.typeName ?? "link"} link ${info.id}` });
    } catch (e) {
      if (typeof fd === "number") owned.release();
      throw e;
    }
  }

  /**
   * Opens the link pinned at `path` (on bpffs).
   * @throws SyscallError naming the path; Error when the object there is not a link.
   */
  static fromPin(path: string): Link {
    return adoptPinned(path, "BPF link", Link.fromFd);
  }

  /**
   * Opens the link with kernel id `id`.
   * @throws Error when there is no such link; SyscallError without privileges.
   */
  static fromId(id: number): Link {
    return adoptOrClose(requireObjectFdById("link", id), Link.fromFd);
  }

  /** True when the attachment is a kernel bpf_link (it has an id, info and pins). */
  get isBpfLink(): boolean {
    return this.#fd !== undefined;
  }

  /**
   * The bpf_link's descriptor number (valid until close(); the link owns it).
   * @throws NotSupportedError for a perf event attached without a bpf_link.
   */
  get fd(): number {
    return this.#need("a link descriptor").value;
  }

  /** The descriptor of the perf event behind a tracepoint, kprobe, uprobe or sampling link, if any. */
  get perfEvent(): number | undefined {
    return this.#perfEvent?.value;
  }

  #need(what: string): Fd {
    if (this.#fd) return this.#fd;
    throw new NotSupportedError(
      `${what} for ${this.description}`,
      this.#noLinkReason ??
        "it was attached with PERF_EVENT_IOC_SET_BPF because this kernel has no BPF perf links (Linux >= 5.15); such an attachment has no bpf_link",
    );
  }

  /** The kernel's `bpf_link_info`, decoded for the link's type. */
  info(): LinkInfo {
    return linkInfoByFd(this.#need("link info").value);
  }

  /** The link's kernel id. */
  get id(): number {
    return this.info().id;
  }

  /**
   * Pins the link at `path` on bpffs: it then outlives this process until the pin is
   * removed (unlink the file) and every descriptor is closed.
   */
  pin(path: string): void {
    pinObject(this.#need("pinning").value, path);
  }

  /**
   * Replaces the attached program atomically (BPF_LINK_UPDATE). With `expected`, the
   * kernel swaps only if that program is the one attached (BPF_F_REPLACE).
   * @throws SyscallError: EINVAL when the link type cannot be updated or the new
   * program's type differs, EPERM when `expected` is not attached.
   */
  update(prog: Program, expected?: Program): void {
    const fd = this.#need("update").value;
    const call = new BpfCall(BpfCmd.LINK_UPDATE, bpfAttr.linkUpdate);
    call.u32("link_fd", fd).u32("new_prog_fd", prog.fd);
    if (expected) call.u32("flags", 1 << 2 /* BPF_F_REPLACE */).u32("old_prog_fd", expected.fd);
    try {
      call.invoke(`update ${this.description} to ${prog}`);
    } catch (e) {
      if (e instanceof SyscallError && e.code === "EOPNOTSUPP") {
        throw new NotSupportedError(
          `updating ${this.description}`,
          "this link type cannot swap its program",
          e.errno,
        );
      }
      throw e;
    }
  }

  /**
   * Detaches the program (BPF_LINK_DETACH) while the link object, and its pins, stay:
   * `info()` then shows program id 0. For a link without bpf_link, disables and
   * closes the perf event.
   * @throws NotSupportedError when the link type cannot be detached this way.
   */
  detach(): void {
    if (!this.#fd) {
      this.close();
      return;
    }
    const call = new BpfCall(BpfCmd.LINK_DETACH, bpfAttr.linkDetach);
    call.u32("link_fd", this.#fd.value);
    try {
      call.invoke(`detach ${this.description}`);
    } catch (e) {
      if (e instanceof SyscallError && (e.code === "EOPNOTSUPP" || e.code === "ENOTSUPP")) {
        throw new NotSupportedError(
          `detaching ${this.description} with BPF_LINK_DETACH`,
          "this link type has no detach operation in this kernel (close every descriptor and pin instead)",
          e.errno,
        );
      }
      throw e;
    }
  }

  /**
   * @internal Ties `dependent` (an iterator opened on this link) to the link: closing
   * the link closes it first. Returns a function that unties it (for its own close).
   */
  adopt(dependent: { close(): void }): () => void {
    this.#dependents.add(dependent);
    return () => this.#dependents.delete(dependent);
  }

  /** True once {@link close} has run. */
  get closed(): boolean {
    return this.#closed || (this.#fd?.closed ?? false) || (this.#perfEvent?.closed ?? false);
  }

  /**
   * Closes the link's descriptors, and the iterators opened on it: the program is
   * detached unless the link is pinned (or another descriptor to it is open). Safe to
   * call more than once.
   */
  close(): void {
    this.#closed = true;
    for (const d of [...this.#dependents]) d.close();
    this.#dependents.clear();
    this.#fd?.close();
    this.#perfEvent?.close();
    const cleanup = this.#cleanup;
    this.#cleanup = undefined;
    cleanup?.();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** `tracepoint syscalls:sys_enter_getpid link`. */
  toString(): string {
    return `${this.description} link`;
  }
}

/** @internal Builds a {@link Link} from its parts (for the attach functions). */
export function newLink(parts: LinkParts): Link {
  return new Link(parts);
}
