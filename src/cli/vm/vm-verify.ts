/**
 * `tsbpf vm verify FILE [name PROG] [type TYPE] [kernel VERSION] [log_level 1|2] [explain]`:
 * tsbpf's verifier on a program, without a kernel: the verdict Linux would give as root, printed the way
 * `tsbpf prog load CASE.json` prints the kernel's — `verified` (exit 0) or the
 * verifier's error line with its instruction (`insn 7: R0 invalid mem access
 * 'map_value_or_null'`, exit 1).
 *
 * FILE is a CASE.json (one program as data, src/verifier/case.ts), an ELF object (every
 * program, or `name PROG`; each line then starts with `PROG: `; `type` sets every
 * program's type, as bpftool's does), or assembly text (bpftool or LLVM syntax; `type`
 * names its program type, socket_filter by default).
 *
 * `kernel 6.1|6.12|6.18` words the error line as that kernel's verifier does (the verdict
 * follows 6.18's rules either way; src/verifier/wording.ts).
 *
 * `explain` prints, before the verdict, each instruction beside the state the verifier
 * holds for the registers it uses, and for a rejection the path and branches that reach
 * it and the instruction that set the offending register (src/verifier/explain.ts).
 */
import { loadCollectionSpec } from "../../elf/index.ts";
import { assemble } from "../../isa/index.ts";
import { MAX_OBJECT_BYTES, readInputFile } from "../../kernel/system/input-file.ts";
import { ProgType, progTypeName } from "../../uapi/index.ts";
import {
  CaseError,
  explain,
  explainCase,
  type KernelWording,
  parseCase,
  type VerifierCase,
  type VerifyResult,
  verdictLine,
  verify,
  verifyCase,
  wordingFor,
} from "../../verifier/index.ts";
import { objectCases } from "../../verifier/object-cases.ts";
import { type Args, parseU32 } from "../args.ts";
import type { Context } from "../command.ts";
import { CliError } from "../format/output.ts";
import { reason } from "../objects/selectors.ts";

interface Options {
  name?: string;
  type?: ProgType;
  logLevel?: 0 | 1 | 2;
  explain?: boolean;
  kernel?: KernelWording;
}

function parseOptions(args: Args): Options {
  const o: Options = {};
  while (args.count > 0) {
    const word = args.next();
    if (word === "explain") {
      o.explain = true;
      continue;
    }
    args.require(1);
    const value = args.next();
    if (word === "name") o.name = value;
    else if (word === "type") {
      const t = Object.values(ProgType).find((v) => progTypeName(v) === value);
      if (t === undefined || t === 0) throw new CliError(`type ${value}: not a program type`);
      o.type = t;
    } else if (word === "kernel") {
      const k = wordingFor(value);
      if (!k || k !== value)
        throw new CliError(`kernel ${value}: tsbpf words messages as 6.1, 6.12 or 6.18`);
      o.kernel = k;
    } else if (word === "log_level") {
      const n = parseU32(value);
      if (n !== 1 && n !== 2) throw new CliError(`log_level ${value}: expected 1 or 2`);
      o.logLevel = n;
    } else
      throw new CliError(
        `'${word}' is not an option of 'vm verify': name, type, kernel, log_level or explain`,
      );
  }
  return o;
}

function print(
  ctx: Context,
  label: string,
  r: VerifyResult,
  logLevel: number | undefined,
  explanation: string | undefined,
): void {
  const line = verdictLine({
    accepted: r.accepted,
    ...(r.error && { errorLine: r.error.message, insn: r.error.insn }),
  });
  if (ctx.out.json) {
    ctx.out.value({
      ...(label && { program: label }),
      accepted: r.accepted,
      ...(r.error && { error: r.error.message, insn: r.error.insn }),
      stats: {
        processed: r.stats.processed,
        max_states_per_insn: r.stats.maxStatesPerInsn,
        total_states: r.stats.totalStates,
        peak_states: r.stats.peakStates,
      },
      ...(logLevel && { log: r.log }),
      ...(explanation !== undefined && { explain: explanation }),
    });
    return;
  }
  if (logLevel && r.log) ctx.out.write(`${r.log}\n`);
  if (explanation !== undefined) ctx.out.write(`${explanation}\n\n`);
  ctx.out.write(`${label ? `${label}: ` : ""}${line}\n`);
}

/** `vm verify`. */
export async function vmVerify(ctx: Context, args: Args): Promise<void> {
  args.require(1);
  const file = args.next();
  const o = parseOptions(args);
  const logLevel = o.logLevel ?? (ctx.opts.debug ? 2 : undefined);
  let bytes: Uint8Array;
  try {
    bytes = readInputFile(file, MAX_OBJECT_BYTES, "program file");
  } catch (e) {
    throw new CliError(`failed to open ${file}: ${reason(e)}`);
  }
  const opts = {
    ...(logLevel ? { logLevel: logLevel as 1 | 2 } : {}),
    ...(o.kernel ? { kernel: o.kernel } : {}),
  };
  const results: [string, VerifyResult, string | undefined][] = [];
  const judge = (c: VerifierCase): [VerifyResult, string | undefined] => {
    if (!o.explain) return [verifyCase(c, opts), undefined];
    const e = explainCase(c);
    return [logLevel ? verifyCase(c, opts) : e.result, e.text];
  };
  if (file.toLowerCase().endsWith(".json")) {
    let c: VerifierCase;
    try {
      c = parseCase(new TextDecoder().decode(bytes), { source: file });
    } catch (e) {
      if (e instanceof CaseError) throw new CliError(e.message);
      throw e;
    }
    results.push(["", ...judge(c)]);
  } else if (bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    let spec: ReturnType<typeof loadCollectionSpec>;
    try {
      spec = loadCollectionSpec(bytes);
    } catch (e) {
      throw new CliError(`failed to read ${file}: ${reason(e)}`);
    }
    // `type` sets every program's type, as bpftool's does: objects whose section names
    // predate libbpf's (cilium's "2/1", "from-container") name none.
    if (o.type !== undefined) {
      const type = o.type;
      const programs = Object.fromEntries(
        Object.entries(spec.programs).map(([name, p]) => [name, { ...p, type }]),
      );
      spec = { ...spec, programs };
    }
    const { cases, skipped } = objectCases(spec, file);
    const wanted = o.name === undefined ? cases : cases.filter((c) => c.case.name === o.name);
    const skip = skipped.find((s) => s.program === o.name);
    if (skip)
      throw new CliError(`${file}: program ${o.name} cannot be verified yet: ${skip.reason}`);
    if (o.name !== undefined && wanted.length === 0)
      throw new CliError(`${file}: no program named ${o.name}`);
    for (const c of wanted)
      results.push([o.name === undefined ? c.case.name : "", ...judge(c.case)]);
    if (o.name === undefined)
      for (const s of skipped) ctx.out.info(`${s.program}: not verified: ${s.reason}`);
  } else {
    let insns: ReturnType<typeof assemble>;
    try {
      insns = assemble(new TextDecoder().decode(bytes));
    } catch (e) {
      throw new CliError(`${file}: ${reason(e)}`);
    }
    const vopts = { progType: o.type ?? ProgType.SOCKET_FILTER, ...opts };
    if (o.explain) {
      const e = explain(insns, { progType: vopts.progType });
      results.push(["", logLevel ? verify(insns, vopts) : e.result, e.text]);
    } else results.push(["", verify(insns, vopts), undefined]);
  }
  for (const [label, r, text] of results) print(ctx, label, r, logLevel, text);
  if (results.some(([, r]) => !r.accepted)) throw new CliError("", 1);
}
