/**
 * The LINK selector as bpftool parses it (link_parse_fd): `id N` or `pinned PATH`,
 * with bpftool's error messages.
 */
import { objectFdById } from "../../kernel/objects/objects.ts";
import type { Fd } from "../../kernel/sys/index.ts";
import { Errno, errnoMessage } from "../../uapi/index.ts";
import type { Args } from "../args.ts";
import { parseU32 } from "../args.ts";
import { CliError, exitForErrno } from "../format/output.ts";
import { errnoOf, openPinnedOfKind, reason } from "../objects/selectors.ts";

/** Opens the link a LINK selector names; `exitCode` is what a failure exits with. */
export function openLink(args: Args, exitCode?: number): Fd {
  const fail = (message: string) => new CliError(message, exitCode);
  if (args.is("id")) {
    args.skip();
    const w = args.next();
    const id = parseU32(w);
    if (id === undefined) throw fail(`can't parse ${w} as ID`);
    // libbpf returns -errno here, and bpftool's show exits with it (254 for ENOENT).
    let fd: Fd | undefined;
    try {
      fd = objectFdById("link", id);
    } catch (e) {
      throw new CliError(
        `failed to get link with ID ${id | 0}: ${reason(e)}`,
        exitCode ?? exitForErrno(errnoOf(e)),
      );
    }
    if (!fd) {
      throw new CliError(
        `failed to get link with ID ${id | 0}: ${errnoMessage(Errno.ENOENT)}`,
        exitCode ?? exitForErrno(Errno.ENOENT),
      );
    }
    return fd;
  }
  if (args.is("pinned")) {
    args.skip();
    try {
      return openPinnedOfKind(args.next(), "link");
    } catch (e) {
      if (e instanceof CliError && exitCode !== undefined) throw fail(e.message);
      throw e;
    }
  }
  throw fail(`expected 'id' or 'pinned', got: '${args.peek()}'?`);
}
