/**
 * The pure part of scripts/verifier-corpus.ts: what test_loader.c reads from a
 * selftests program's BTF decl tags, how it matches `__msg` patterns against a log, and
 * the libbpf load conventions tsbpf's loader does not follow yet. Tested in
 * test/verifier-corpus.test.ts.
 * @module
 */
import type { BTF } from "../src/btf/btf.ts";
import { describeSection } from "../src/elf/index.ts";
import { parseSectionName } from "../src/elf/section-def.ts";
import type { CollectionSpec } from "../src/spec/collection-spec.ts";
import type { MapSpec } from "../src/spec/map-spec.ts";
import type { ProgramSpec } from "../src/spec/program-spec.ts";
import { MapType, ProgLoadFlags } from "../src/uapi/index.ts";

/** What test_loader reads from one program's decl tags (see {@link expectations}). */
export interface Expectations {
  readonly description?: string;
  /** The modes the program is a test in. */
  readonly modes: readonly ("priv" | "unpriv")[];
  readonly priv: {
    readonly failure: boolean;
    readonly msgs: readonly string[];
    readonly retval?: string;
  };
  readonly unpriv: {
    readonly failure: boolean;
    readonly msgs: readonly string[];
    readonly retval?: string;
  };
  readonly logLevel: number;
  /** prog_flags: test_loader's defaults with the tagged ones set or cleared. */
  readonly flags: number;
  readonly auxiliary: boolean;
  readonly arch: readonly string[];
  readonly btfPath?: string;
}

/** test_loader's default flags (testing_prog_flags()). */
export const TESTING_FLAGS = ProgLoadFlags.TEST_RND_HI32 | ProgLoadFlags.TEST_REG_INVARIANTS;

const PFX = "comment:";

/**
 * A program's expectations from its BTF decl tags, as test_loader.c's parse_test_spec
 * reads them: the tags on the program's FUNC (component -1); `__msg`'s counter orders
 * the messages; a program with no mode tag is a privileged test; or undefined when
 * the object's BTF has no FUNC of that name.
 */
export function expectations(btf: BTF, program: string): Expectations | undefined {
  const func = btf.findAllByName(program).find((t) => t.kind === "FUNC");
  if (!func) return undefined;
  const tags: string[] = [];
  for (const t of btf.types) {
    if (t.kind === "DECL_TAG" && t.type === func.id && t.componentIdx === -1) tags.push(t.name);
  }
  // __msg tags carry a __COUNTER__ so their order survives: sort by it.
  const msgs = (pfx: string) =>
    tags
      .filter((s) => s.startsWith(pfx))
      .map((s) => {
        const rest = s.slice(pfx.length);
        const eq = rest.indexOf("=");
        return { n: Number(rest.slice(0, eq)), msg: rest.slice(eq + 1) };
      })
      .sort((a, b) => a.n - b.n)
      .map((m) => m.msg);
  let privMode = false;
  let unprivMode = false;
  let privFailure = false;
  let unprivFailure = false;
  let logLevel = 0;
  let flags = TESTING_FLAGS;
  let auxiliary = false;
  let description: string | undefined;
  let privRetval: string | undefined;
  let unprivRetval: string | undefined;
  let btfPath: string | undefined;
  const arch: string[] = [];
  for (const tag of tags) {
    if (!tag.startsWith(PFX)) continue;
    const s = tag.slice(PFX.length);
    if (s === "test_expect_failure") [privFailure, privMode] = [true, true];
    else if (s === "test_expect_success") [privFailure, privMode] = [false, true];
    else if (s === "test_expect_failure_unpriv") [unprivFailure, unprivMode] = [true, true];
    else if (s === "test_expect_success_unpriv") [unprivFailure, unprivMode] = [false, true];
    else if (s === "test_auxiliary") [auxiliary, privMode] = [true, true];
    else if (s === "test_auxiliary_unpriv") [auxiliary, unprivMode] = [true, true];
    else if (s.startsWith("test_expect_msg_unpriv=") || s.startsWith("test_retval_unpriv=")) {
      unprivMode = true;
      if (s.startsWith("test_retval_unpriv=")) unprivRetval = s.slice(19);
    } else if (
      s.startsWith("test_expect_msg=") ||
      s.startsWith("test_expect_xlated=") ||
      s.startsWith("test_jited=")
    ) {
      privMode = true;
    } else if (s.startsWith("test_expect_xlated_unpriv=") || s.startsWith("test_jited_unpriv=")) {
      unprivMode = true;
    } else if (s.startsWith("test_retval=")) {
      privMode = true;
      privRetval = s.slice(12);
    } else if (s.startsWith("test_log_level=")) logLevel = Number(s.slice(15)) || 0;
    else if (s.startsWith("test_prog_flags=")) {
      let v = s.slice(16);
      const clear = v.startsWith("!");
      if (clear) v = v.slice(1);
      const named = (ProgLoadFlags as Record<string, number>)[v.replace(/^BPF_F_/, "")];
      const bit = named ?? Number(v);
      flags = clear ? flags & ~bit : flags | bit;
    } else if (s.startsWith("test_description=")) description = s.slice(17);
    else if (s.startsWith("test_arch=")) arch.push(s.slice(10));
    else if (s.startsWith("test_btf_path=")) btfPath = s.slice(14);
  }
  if (!privMode && !unprivMode) privMode = true;
  const modes: ("priv" | "unpriv")[] = [];
  if (privMode) modes.push("priv");
  if (unprivMode) modes.push("unpriv");
  return {
    ...(description !== undefined ? { description } : {}),
    modes,
    priv: {
      failure: privFailure,
      msgs: msgs(`${PFX}test_expect_msg=`),
      ...(privRetval !== undefined ? { retval: privRetval } : {}),
    },
    unpriv: {
      failure: unprivFailure,
      msgs: msgs(`${PFX}test_expect_msg_unpriv=`),
      ...(unprivRetval !== undefined ? { retval: unprivRetval } : {}),
    },
    logLevel,
    flags: flags >>> 0,
    auxiliary,
    arch,
    ...(btfPath !== undefined ? { btfPath } : {}),
  };
}

/**
 * test_loader's match: each pattern in order, each after the previous match; verbatim
 * text with `{{regex}}` parts (POSIX extended, here as a JavaScript regex).
 */
export function msgsMatch(log: string, patterns: readonly string[]): number {
  let pos = 0;
  for (let i = 0; i < patterns.length; i++) {
    const p = patterns[i] as string;
    if (!p.includes("{{")) {
      const at = log.indexOf(p, pos);
      if (at < 0) return i;
      pos = at + p.length;
      continue;
    }
    let re = "";
    let rest = p;
    while (rest.length > 0) {
      const open = rest.indexOf("{{");
      if (open < 0) {
        re += escapeRe(rest);
        break;
      }
      re += escapeRe(rest.slice(0, open));
      const close = rest.indexOf("}}", open + 2);
      if (close < 0) return i;
      re += rest.slice(open + 2, close);
      rest = rest.slice(close + 2);
    }
    let m: RegExpExecArray | null;
    try {
      const rx = new RegExp(re, "gm");
      rx.lastIndex = pos;
      m = rx.exec(log);
    } catch {
      return i;
    }
    if (!m) return i;
    pos = m.index + m[0].length;
  }
  return patterns.length;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * What libbpf does on load that tsbpf's loader does not (yet), so the corpus loads as
 * test_loader loads it:
 * - SEC("?name"): libbpf's "not autoloaded" prefix; the program is of SEC("name")'s type;
 * - ring buffer sizes are rounded up to a power-of-2 multiple of the page size
 *   (libbpf's adjust_ringbuf_sz), so `max_entries 8` becomes 4096.
 */
export function asLibbpfLoads(spec: CollectionSpec): CollectionSpec {
  const programs: Record<string, ProgramSpec> = {};
  for (const [name, p] of Object.entries(spec.programs)) {
    const section = p.section;
    const sec = section?.startsWith("?") ? parseSectionName(section.slice(1)) : undefined;
    programs[name] =
      sec && section
        ? {
            ...p,
            type: sec.type,
            ...(sec.expectedAttachType !== undefined
              ? { expectedAttachType: sec.expectedAttachType }
              : {}),
            ...(sec.attachTo !== undefined ? { attachTo: sec.attachTo } : {}),
            ...(sec.flags !== 0 ? { flags: (p.flags ?? 0) | sec.flags } : {}),
            attach: describeSection(section.slice(1)),
          }
        : p;
  }
  const maps: Record<string, MapSpec> = {};
  for (const [name, m] of Object.entries(spec.maps)) {
    const ring = m.type === MapType.RINGBUF || m.type === MapType.USER_RINGBUF;
    maps[name] = ring ? { ...m, maxEntries: ringbufSize(m.maxEntries) } : m;
  }
  return { ...spec, programs, maps };
}

const PAGE_SIZE = 4096;

export function ringbufSize(size: number): number {
  if (size === 0) return 0;
  const pages = size / PAGE_SIZE;
  if (size % PAGE_SIZE === 0 && (pages & (pages - 1)) === 0) return size;
  let mul = 1;
  while (mul * PAGE_SIZE <= size) mul *= 2;
  return mul * PAGE_SIZE;
}
