/**
 * `tsbpf btf dump { file FILE | id BTF_ID | map MAP [key|value|kv|all] | prog PROG }
 * [format { raw | c }]`: BTF as bpftool's raw listing (the default; `-j` gives its JSON)
 * or as C (a vmlinux.h). FILE is raw BTF (/sys/kernel/btf/vmlinux, a module's split
 * BTF — on vmlinux automatically, or on `-B FILE`) or an ELF object's `.BTF` section.
 */

import { dirname, resolve } from "node:path";
import {
  type BTF,
  BTFError,
  type BTFType,
  dumpCTo,
  dumpRaw,
  formatRawType,
  parseBTF,
} from "../../btf/index.ts";
import { parseELF } from "../../elf/index.ts";
import { SYSFS_BTF_DIR, vmlinuxBTF } from "../../kernel/btf/sysfs.ts";
import { MAX_OBJECT_BYTES, readInputFile } from "../../kernel/system/input-file.ts";
import { Errno } from "../../uapi/index.ts";
import { type Args, isPrefix, parseU32 } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError, exitForErrno, UsageError } from "../format/output.ts";
import { errnoOf, reason } from "../objects/error-text.ts";
import { rawTypeJson } from "./format-btf.ts";

const VMLINUX = `${SYSFS_BTF_DIR}/vmlinux`;
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
/** bpftool returns -EINVAL for bad options: the shell sees 234. */
const EINVAL_EXIT = exitForErrno(Errno.EINVAL);

/** bpftool's strerror text for a failure reading a file (ENOENT → "No such file..."). */
function fileError(path: string, e: unknown): CliError {
  return new CliError(`failed to load BTF from ${path}: ${reason(e)}`, exitForErrno(errnoOf(e)));
}

/**
 * Parses BTF from a file as libbpf's btf__parse_split does: an ELF object's `.BTF`
 * section, or raw BTF; split on `base` when given.
 */
export function readBtfFile(path: string, base: BTF | undefined): BTF {
  let bytes: Uint8Array;
  try {
    bytes = readInputFile(path, MAX_OBJECT_BYTES, "BTF file");
  } catch (e) {
    throw fileError(path, e);
  }
  // What the kernel publishes in /sys/kernel/btf it checked when it took it in.
  const kernelChecked = dirname(resolve(path)) === SYSFS_BTF_DIR;
  const opts = base ? { base, kernelChecked } : { kernelChecked };
  try {
    if (ELF_MAGIC.every((b, i) => bytes[i] === b)) {
      const sec = parseELF(bytes).section(".BTF");
      if (!sec) throw new Error("the ELF object has no .BTF section");
      return parseBTF(sec.data, opts);
    }
    return parseBTF(bytes, opts);
  } catch (e) {
    throw new CliError(`failed to load BTF from ${path}: ${e instanceof Error ? e.message : e}`);
  }
}

/** Reads `-B FILE` once per run. */
function baseFromOption(ctx: Context): BTF | undefined {
  const file = ctx.opts.baseBtf;
  if (!file) return undefined;
  return readBtfFile(file, undefined);
}

function vmlinux(): BTF {
  try {
    return vmlinuxBTF();
  } catch (e) {
    throw new CliError(`failed to load vmlinux BTF from ${VMLINUX}: ${reason(e)}`);
  }
}

/** Where the BTF comes from and which types to print. */
export interface Source {
  btf?: BTF;
  btfId: number;
  roots: number[];
}

function fromFile(ctx: Context, path: string): Source {
  let base = baseFromOption(ctx);
  if (!base && path.startsWith(`${SYSFS_BTF_DIR}/`) && path !== VMLINUX) base = vmlinux();
  return { btf: readBtfFile(path, base), btfId: 0, roots: [] };
}

/** `btf dump ...`. */
export async function dumpBtf(ctx: Context, args: Args): Promise<void> {
  if (args.count < 2) {
    throw new UsageError(`'dump' needs at least 2 arguments, ${args.count} found`);
  }
  const src = args.next();
  let source: Source;
  // Sources in the kernel load the syscall layer; a file does not need it.
  const kernel = isPrefix(src, "file") ? undefined : await import("./btf-dump-kernel.ts");
  if (kernel && isPrefix(src, "map")) source = kernel.fromMap(args);
  else if (kernel && isPrefix(src, "prog")) source = kernel.fromProg(args);
  else if (isPrefix(src, "id")) {
    const w = args.next();
    const id = parseU32(w);
    if (id === undefined) throw new CliError(`can't parse ${w} as ID`);
    source = { btfId: id, roots: [] };
  } else if (isPrefix(src, "file")) {
    source = fromFile(ctx, args.next());
  } else {
    throw new CliError(`unrecognized BTF source specifier: '${src}'`);
  }

  let formatC = false;
  while (args.count > 0) {
    const w = args.next();
    if (!isPrefix(w, "format")) throw new CliError(`unrecognized option: '${w}'`, EINVAL_EXIT);
    if (args.count < 1) throw new CliError("expecting value for 'format' option\n", EINVAL_EXIT);
    const f = args.next();
    if (f === "c") formatC = true;
    else if (f === "raw") formatC = false;
    else {
      throw new CliError(
        `unrecognized format specifier: '${f}', possible values: raw, c`,
        EINVAL_EXIT,
      );
    }
  }

  let btf = source.btf;
  if (!btf) {
    let base = baseFromOption(ctx);
    const k = kernel ?? (await import("./btf-dump-kernel.ts"));
    if (!base && k.isKernelModule(ctx, source.btfId)) {
      ctx.out.info(
        `Warning: valid base BTF was not specified with -B option, falling back to standard base BTF (${VMLINUX})`,
      );
      base = vmlinux();
    }
    btf = k.btfFromKernel(source.btfId, base);
  }

  if (formatC) {
    if (ctx.out.json) {
      throw new CliError(
        "JSON output for C-syntax dump is not supported",
        exitForErrno(Errno.ENOTSUP),
      );
    }
    const roots = source.roots.filter((id) => id !== 0);
    // Streamed: each chunk goes to stdout as it is made (a 4 GiB struct is half a
    // billion padding lines), and the dump stops when the reader is gone.
    const stopped = new Error("stdout closed");
    try {
      dumpCTo(
        btf,
        (chunk) => {
          ctx.out.write(chunk);
          if (ctx.out.stdoutClosed) throw stopped;
        },
        source.roots.length ? { rootIds: roots } : {},
      );
    } catch (e) {
      if (e === stopped) return;
      if (e instanceof BTFError) throw new CliError(`failed to dump BTF as C: ${e.message}`);
      throw e;
    }
    return;
  }
  printRaw(ctx, btf, source.roots);
}

/** bpftool's dump_btf_raw: the given types, or every type the blob defines itself. */
function printRaw(ctx: Context, btf: BTF, roots: readonly number[]): void {
  const types: BTFType[] = roots.length
    ? roots.map((id) => btf.type(id))
    : (btf.ownTypes as BTFType[]);
  if (ctx.out.json) {
    const w = ctx.out.w;
    w.startObject().name("types").startArray();
    for (const t of types) rawTypeJson(w, t);
    w.endArray().endObject();
    return;
  }
  if (!roots.length) {
    ctx.out.write(dumpRaw(btf));
    return;
  }
  for (const t of types) {
    ctx.out.write(t.kind === "VOID" ? "[0] UNKNOWN '(anon)'\n" : `${formatRawType(btf, t)}\n`);
  }
}
