/**
 * Generates src/uapi/bpf.generated.ts from a kernel's BTF, read with tsbpf's own BTF
 * parser. The input is committed (scripts/uapi-btf/vmlinux.btf.gz, with the release it
 * came from), so the file regenerates identically on any machine, whatever it runs;
 * `--adopt-running-kernel` moves tsbpf to a newer kernel's uapi.
 *
 * Usage: node --import tsx scripts/gen-uapi.ts [--adopt-running-kernel | --btf PATH --release NAME] [--out PATH]
 *
 * The output depends only on the BTF and the release string, so running it twice gives
 * the same file. It is written already formatted the way Biome wants it.
 *
 * @module
 */

import { readFileSync, writeFileSync } from "node:fs";
import { release as osRelease } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { type BTF, BTFError, type BTFType, describeType, parseBTF } from "../src/btf/index.ts";

/** Where the generated file goes, relative to the repository root. */
export const OUTPUT_PATH = "src/uapi/bpf.generated.ts";

/** How to turn one kernel enum into an exported const object. */
interface EnumSpec {
  /** Exported name. */
  readonly name: string;
  /** The named enum (`bpf_cmd`), or for an anonymous enum one of its members (`BPF_ANY`). */
  readonly from: { readonly enum: string } | { readonly member: string };
  /** Prefixes stripped from member names, first match wins; default: the common prefix. */
  readonly strip?: readonly string[];
  /** Print values in hex (flag sets). */
  readonly hex?: boolean;
  /** Missing from the running kernel is an error (the rest of tsbpf relies on it). */
  readonly required?: boolean;
  /** One-line description for the JSDoc. */
  readonly doc: string;
}

/** Every enum exported, in output order. */
const ENUMS: readonly EnumSpec[] = [
  { name: "BpfCmd", from: { enum: "bpf_cmd" }, required: true, doc: "bpf(2) commands" },
  { name: "MapType", from: { enum: "bpf_map_type" }, required: true, doc: "Map types" },
  { name: "ProgType", from: { enum: "bpf_prog_type" }, required: true, doc: "Program types" },
  {
    name: "AttachType",
    from: { enum: "bpf_attach_type" },
    strip: ["BPF_"],
    required: true,
    doc: "Attach types (expected_attach_type, BPF_PROG_ATTACH, BPF_LINK_CREATE)",
  },
  { name: "LinkType", from: { enum: "bpf_link_type" }, required: true, doc: "Link types" },
  {
    name: "HelperId",
    from: { enum: "bpf_func_id" },
    strip: ["BPF_FUNC_"],
    required: true,
    doc: "Helper function ids, keyed by the kernel's helper name without `bpf_`",
  },
  {
    name: "StatsType",
    from: { enum: "bpf_stats_type" },
    strip: ["BPF_STATS_"],
    required: true,
    doc: "Statistics that BPF_ENABLE_STATS turns on",
  },
  {
    name: "UpdateFlags",
    from: { member: "BPF_ANY" },
    strip: ["BPF_F_", "BPF_"],
    hex: true,
    required: true,
    doc: "Flags of BPF_MAP_UPDATE_ELEM and friends (ANY, NOEXIST, EXIST, LOCK)",
  },
  {
    name: "MapFlags",
    from: { member: "BPF_F_NO_PREALLOC" },
    strip: ["BPF_F_"],
    hex: true,
    required: true,
    doc: "Map creation flags (map_flags); RDONLY/WRONLY are also the file_flags of BPF_OBJ_GET and *_GET_FD_BY_ID",
  },
  {
    name: "TaskFdType",
    from: { enum: "bpf_task_fd_type" },
    strip: ["BPF_FD_TYPE_"],
    doc: "What BPF_TASK_FD_QUERY found behind a file descriptor",
  },
  {
    name: "PerfEventType",
    from: { enum: "bpf_perf_event_type" },
    strip: ["BPF_PERF_EVENT_"],
    doc: "Kinds of perf-event link in bpf_link_info.perf_event.type",
  },
  {
    name: "StackBuildIdStatus",
    from: { enum: "bpf_stack_build_id_status" },
    strip: ["BPF_STACK_BUILD_ID_"],
    doc: "Status of a struct bpf_stack_build_id entry (maps created with MapFlags.STACK_BUILD_ID)",
  },
  {
    name: "CgroupIterOrder",
    from: { enum: "bpf_cgroup_iter_order" },
    strip: ["BPF_CGROUP_ITER_"],
    doc: "Walk order of a cgroup iterator",
  },
  {
    name: "CoreReloKind",
    from: { enum: "bpf_core_relo_kind" },
    strip: ["BPF_CORE_"],
    doc: "CO-RE relocation kinds (struct bpf_core_relo)",
  },
  {
    name: "XdpAction",
    from: { enum: "xdp_action" },
    strip: ["XDP_"],
    doc: "Return codes of XDP programs",
  },
  {
    name: "SkAction",
    from: { enum: "sk_action" },
    strip: ["SK_"],
    doc: "Return codes of socket programs (sk_skb, sk_msg, sk_reuseport, sk_lookup)",
  },
  {
    name: "RetCode",
    from: { enum: "bpf_ret_code" },
    strip: ["BPF_"],
    doc: "Return codes of LWT and seg6local programs",
  },
  {
    name: "AdjRoomMode",
    from: { enum: "bpf_adj_room_mode" },
    strip: ["BPF_ADJ_ROOM_"],
    doc: "Modes of bpf_skb_adjust_room",
  },
  {
    name: "AdjRoomFlags",
    from: { member: "BPF_F_ADJ_ROOM_FIXED_GSO" },
    strip: ["BPF_F_ADJ_ROOM_"],
    hex: true,
    doc: "Flags of bpf_skb_adjust_room",
  },
  {
    name: "AdjRoomEncapL2",
    from: { member: "BPF_ADJ_ROOM_ENCAP_L2_MASK" },
    strip: ["BPF_ADJ_ROOM_ENCAP_L2_"],
    doc: "Where bpf_skb_adjust_room keeps the L2 header length in its flags",
  },
  {
    name: "RedirectFlags",
    from: { member: "BPF_F_INGRESS" },
    strip: ["BPF_F_"],
    hex: true,
    doc: "Flags of bpf_redirect, bpf_clone_redirect and bpf_redirect_map",
  },
  {
    name: "StackFlags",
    from: { member: "BPF_F_SKIP_FIELD_MASK" },
    strip: ["BPF_F_"],
    hex: true,
    doc: "Flags of bpf_get_stackid and bpf_get_stack",
  },
  {
    name: "PerfEventOutputFlags",
    from: { member: "BPF_F_INDEX_MASK" },
    strip: ["BPF_F_"],
    hex: true,
    doc: "Flags of bpf_perf_event_output, bpf_perf_event_read and bpf_skb_output",
  },
  {
    name: "RingbufOutputFlags",
    from: { member: "BPF_RB_NO_WAKEUP" },
    strip: ["BPF_RB_"],
    hex: true,
    doc: "Flags of bpf_ringbuf_output, bpf_ringbuf_submit and bpf_ringbuf_discard",
  },
  {
    name: "RingbufQuery",
    from: { member: "BPF_RB_AVAIL_DATA" },
    strip: ["BPF_RB_"],
    doc: "What bpf_ringbuf_query reports",
  },
  {
    name: "RingbufHeader",
    from: { member: "BPF_RINGBUF_BUSY_BIT" },
    strip: ["BPF_RINGBUF_"],
    hex: true,
    doc: "Ring buffer record header: length bits and header size",
  },
  {
    name: "LocalStorageFlags",
    from: { member: "BPF_LOCAL_STORAGE_GET_F_CREATE" },
    strip: ["BPF_"],
    hex: true,
    doc: "Flags of bpf_*_storage_get",
  },
  {
    name: "KprobeMultiFlags",
    from: { member: "BPF_F_KPROBE_MULTI_RETURN" },
    strip: ["BPF_F_KPROBE_MULTI_"],
    hex: true,
    doc: "link_create.kprobe_multi.flags",
  },
  {
    name: "UprobeMultiFlags",
    from: { member: "BPF_F_UPROBE_MULTI_RETURN" },
    strip: ["BPF_F_UPROBE_MULTI_"],
    hex: true,
    doc: "link_create.uprobe_multi.flags",
  },
  {
    name: "TimerFlags",
    from: { member: "BPF_F_TIMER_ABS" },
    strip: ["BPF_F_TIMER_"],
    hex: true,
    doc: "Flags of bpf_timer_start",
  },
  {
    name: "SkLookupFlags",
    from: { member: "BPF_SK_LOOKUP_F_REPLACE" },
    strip: ["BPF_SK_LOOKUP_F_"],
    hex: true,
    doc: "Flags of bpf_sk_assign in sk_lookup programs",
  },
  {
    name: "FibLookupFlags",
    from: { member: "BPF_FIB_LOOKUP_DIRECT" },
    strip: ["BPF_FIB_LOOKUP_"],
    hex: true,
    doc: "Flags of bpf_fib_lookup",
  },
  {
    name: "FibLookupResult",
    from: { member: "BPF_FIB_LKUP_RET_SUCCESS" },
    strip: ["BPF_FIB_LKUP_RET_"],
    doc: "Return values of bpf_fib_lookup",
  },
  {
    name: "CsumLevel",
    from: { member: "BPF_CSUM_LEVEL_QUERY" },
    strip: ["BPF_CSUM_LEVEL_"],
    doc: "Operations of bpf_csum_level",
  },
  {
    name: "TcpState",
    from: { member: "BPF_TCP_ESTABLISHED" },
    strip: ["BPF_TCP_"],
    doc: "TCP states as bpf_sock.state and sock_ops report them",
  },
  {
    name: "SockOpsOp",
    from: { member: "BPF_SOCK_OPS_VOID" },
    strip: ["BPF_SOCK_OPS_"],
    doc: "bpf_sock_ops.op values",
  },
  {
    name: "SockOpsCbFlags",
    from: { member: "BPF_SOCK_OPS_RTO_CB_FLAG" },
    strip: ["BPF_SOCK_OPS_"],
    hex: true,
    doc: "Callbacks a sock_ops program enables with bpf_sock_ops_cb_flags_set",
  },
  {
    name: "FlowDissectorFlags",
    from: { member: "BPF_FLOW_DISSECTOR_F_PARSE_1ST_FRAG" },
    strip: ["BPF_FLOW_DISSECTOR_F_"],
    hex: true,
    doc: "bpf_flow_keys.flags",
  },
];

/** Names of the anonymous structs in union bpf_attr, keyed by their first field. */
const ANONYMOUS_ATTR_NAMES: Readonly<Record<string, string>> = {
  map_type: "mapCreate",
  map_fd: "mapElem",
  prog_type: "progLoad",
  pathname: "objPin",
  target_fd: "progAttach",
  start_id: "getId",
  btf: "btfLoad",
};

/** Struct layouts exported besides bpfAttr: [export name, kernel struct, description]. */
const STRUCTS: readonly (readonly [string, string, string])[] = [
  ["bpfProgInfo", "bpf_prog_info", "struct bpf_prog_info (BPF_OBJ_GET_INFO_BY_FD on a program)"],
  ["bpfMapInfo", "bpf_map_info", "struct bpf_map_info (BPF_OBJ_GET_INFO_BY_FD on a map)"],
  ["bpfLinkInfo", "bpf_link_info", "struct bpf_link_info (BPF_OBJ_GET_INFO_BY_FD on a link)"],
  ["bpfBtfInfo", "bpf_btf_info", "struct bpf_btf_info (BPF_OBJ_GET_INFO_BY_FD on a BTF object)"],
  [
    "skBuff",
    "__sk_buff",
    "struct __sk_buff, the context of socket filter, tc and cgroup skb programs",
  ],
  ["xdpMd", "xdp_md", "struct xdp_md, the context of XDP programs"],
  [
    "bpfSockAddr",
    "bpf_sock_addr",
    "struct bpf_sock_addr, the context of cgroup sock_addr programs",
  ],
  ["bpfSock", "bpf_sock", "struct bpf_sock, a socket as programs see it"],
  ["bpfFlowKeys", "bpf_flow_keys", "struct bpf_flow_keys, what a flow dissector program fills in"],
];

/** A field in the shape of src/uapi/layout.ts's Field. */
interface GenField {
  offset: number;
  size: number;
  bitOffset?: number;
  bitSize?: number;
}

/** A struct layout before printing. */
interface GenLayout {
  size: number;
  fields: Map<string, GenField>;
}

function fail(message: string): never {
  throw new Error(`gen-uapi: ${message}`);
}

/** Lists the fields of a struct/union, hoisting anonymous members and dotting named ones. */
function flatten(
  btf: BTF,
  t: BTFType,
  baseBits: number,
  prefix: string,
  out: Map<string, GenField>,
): void {
  if (t.kind !== "STRUCT" && t.kind !== "UNION")
    fail(`${describeType(t)} is not a struct or union`);
  for (const m of t.members) {
    const bits = baseBits + m.bitOffset;
    const mt = btf.resolve(m.type);
    const composite = mt.kind === "STRUCT" || mt.kind === "UNION";
    if (composite) {
      flatten(btf, mt, bits, m.name === "" ? prefix : `${prefix}${m.name}.`, out);
      continue;
    }
    if (m.name === "") continue; // unnamed bitfield: padding
    const key = prefix + m.name;
    const size = btf.sizeof(m.type);
    let bitSize = m.bitfieldSize;
    if (bitSize === 0 && mt.kind === "INT" && mt.bits !== size * 8) bitSize = mt.bits;
    let field: GenField;
    if (bitSize > 0) {
      const unitBits = size * 8;
      const unitStart = Math.floor(bits / unitBits) * unitBits;
      const bitOffset = bits - unitStart;
      if (bitOffset + bitSize > unitBits) {
        fail(`bitfield ${key} of ${describeType(t)} crosses its ${size}-byte storage unit`);
      }
      field = { offset: unitStart / 8, size, bitOffset, bitSize };
    } else {
      if (bits % 8 !== 0) fail(`member ${key} of ${describeType(t)} is not byte aligned`);
      field = { offset: bits / 8, size };
    }
    const seen = out.get(key);
    if (seen !== undefined) {
      if (seen.offset === field.offset && seen.size === field.size) continue;
      fail(`member ${key} of ${describeType(t)} appears twice at different places`);
    }
    out.set(key, field);
  }
}

function layoutOf(btf: BTF, t: BTFType): GenLayout {
  const fields = new Map<string, GenField>();
  flatten(btf, t, 0, "", fields);
  return { size: btf.sizeof(t.id), fields };
}

function camelCase(s: string): string {
  return s.replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** One layout per member of union bpf_attr, named as the README of bpf.generated.ts says. */
function bpfAttrLayouts(btf: BTF): Map<string, GenLayout> {
  const attr = btf.findByName("UNION", "bpf_attr") ?? fail("union bpf_attr not found");
  const out = new Map<string, GenLayout>();
  for (const m of attr.members) {
    const mt = btf.resolve(m.type);
    if (m.bitOffset !== 0) fail(`bpf_attr member ${m.name || "(anonymous)"} does not start at 0`);
    const layout = layoutOf(btf, mt);
    let name: string;
    if (m.name !== "") {
      name = camelCase(m.name);
    } else {
      const first = layout.fields.keys().next().value ?? fail("empty anonymous member in bpf_attr");
      const known = ANONYMOUS_ATTR_NAMES[first];
      if (known === undefined) {
        name = `${camelCase(first)}Attr`;
        process.stderr.write(
          `gen-uapi: warning: unknown anonymous bpf_attr member starting with ${first}; named ${name}\n`,
        );
      } else {
        name = known;
      }
    }
    if (out.has(name)) fail(`two bpf_attr members are named ${name}`);
    out.set(name, layout);
  }
  return out;
}

/** A generated enum: ordered [key, value] pairs. */
interface GenEnum {
  readonly spec: EnumSpec;
  readonly kernelName: string;
  readonly entries: readonly (readonly [string, number | bigint])[];
}

function commonPrefix(names: readonly string[]): string {
  if (names.length < 2) {
    const only = names[0] ?? "";
    return only.slice(0, only.lastIndexOf("_") + 1);
  }
  let p = names[0] ?? "";
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  return p.slice(0, p.lastIndexOf("_") + 1);
}

function findEnum(btf: BTF, spec: EnumSpec): BTFType | undefined {
  if ("enum" in spec.from) {
    return btf.findByName("ENUM", spec.from.enum) ?? btf.findByName("ENUM64", spec.from.enum);
  }
  const member = spec.from.member;
  for (const t of btf.types) {
    if ((t.kind === "ENUM" || t.kind === "ENUM64") && t.values.some((v) => v.name === member))
      return t;
  }
  return undefined;
}

function buildEnum(btf: BTF, spec: EnumSpec): GenEnum | undefined {
  const t = findEnum(btf, spec);
  if (t === undefined || (t.kind !== "ENUM" && t.kind !== "ENUM64")) {
    const what =
      "enum" in spec.from ? `enum ${spec.from.enum}` : `an enum with ${spec.from.member}`;
    if (spec.required) fail(`${what} not found`);
    process.stderr.write(`gen-uapi: note: ${what} not in this kernel; ${spec.name} left out\n`);
    return undefined;
  }
  const values = (t.values as readonly { name: string; value: number | bigint }[]).filter(
    (v) => !v.name.startsWith("__"),
  );
  const prefix = spec.strip === undefined ? commonPrefix(values.map((v) => v.name)) : undefined;
  const entries = values.map((v): readonly [string, number | bigint] => {
    let key = v.name;
    if (prefix !== undefined) key = key.slice(prefix.length);
    else {
      const p = spec.strip?.find((s) => key.startsWith(s));
      if (p !== undefined) key = key.slice(p.length);
    }
    if (key === "") key = v.name;
    let value = v.value;
    if (
      typeof value === "bigint" &&
      value >= BigInt(Number.MIN_SAFE_INTEGER) &&
      value <= BigInt(Number.MAX_SAFE_INTEGER)
    ) {
      value = Number(value);
    }
    return [key, value];
  });
  const seen = new Set<string>();
  for (const [k] of entries) {
    if (seen.has(k)) fail(`${spec.name} has key ${k} twice`);
    seen.add(k);
  }
  return { spec, kernelName: t.name === "" ? "" : `enum ${t.name}`, entries };
}

// ---- printing ----

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function key(k: string): string {
  return IDENT.test(k) ? k : JSON.stringify(k);
}

function literal(v: number | bigint, hex: boolean): string {
  if (typeof v === "bigint") return hex && v >= 0n ? `0x${v.toString(16)}n` : `${v}n`;
  return hex && v >= 0 ? `0x${v.toString(16)}` : String(v);
}

function printEnum(e: GenEnum): string {
  const { spec } = e;
  const source =
    e.kernelName !== ""
      ? e.kernelName
      : `the anonymous enum holding ${(spec.from as { member: string }).member}`;
  const lines = [`/** ${spec.doc}: ${source}. */`, `export const ${spec.name} = {`];
  for (const [k, v] of e.entries) lines.push(`  ${key(k)}: ${literal(v, spec.hex === true)},`);
  lines.push("} as const;");
  lines.push(`/** A value of {@link ${spec.name}}. */`);
  lines.push(`export type ${spec.name} = (typeof ${spec.name})[keyof typeof ${spec.name}];`);
  return lines.join("\n");
}

function printField(f: GenField): string {
  const parts = [`offset: ${f.offset}`, `size: ${f.size}`];
  if (f.bitSize !== undefined) parts.push(`bitOffset: ${f.bitOffset}`, `bitSize: ${f.bitSize}`);
  return `{ ${parts.join(", ")} }`;
}

function printLayoutBody(l: GenLayout, indent: string): string[] {
  const lines = [`${indent}size: ${l.size},`, `${indent}fields: {`];
  for (const [k, f] of l.fields) lines.push(`${indent}  ${key(k)}: ${printField(f)},`);
  lines.push(`${indent}},`);
  return lines;
}

/**
 * The text of src/uapi/bpf.generated.ts for the given kernel BTF and release.
 *
 * @throws {Error} when something the rest of tsbpf needs is missing from the BTF
 */
export function generateUapi(btf: BTF, release: string): string {
  const out: string[] = [];
  out.push(
    `// @generated by scripts/gen-uapi.ts from the BTF of Linux ${release}; do not edit.`,
    "// Regenerate (on any machine): node --import tsx scripts/gen-uapi.ts — it reads the",
    "// committed scripts/uapi-btf/vmlinux.btf.gz; --adopt-running-kernel replaces that first.",
    "",
    'import type { StructLayout } from "./layout.ts";',
    "",
    'export type { Field, StructLayout } from "./layout.ts";',
    "",
    "/** `uname -r` of the kernel whose BTF this file was generated from. */",
    `export const KERNEL_RELEASE = ${JSON.stringify(release)};`,
  );
  for (const spec of ENUMS) {
    const e = buildEnum(btf, spec);
    if (e !== undefined) out.push("", printEnum(e));
  }

  const attr = btf.findByName("UNION", "bpf_attr") ?? fail("union bpf_attr not found");
  out.push(
    "",
    "/** sizeof(union bpf_attr) in this kernel. */",
    `export const BPF_ATTR_SIZE = ${btf.sizeof(attr.id)};`,
    "",
    "/**",
    " * One layout per member of union bpf_attr (every member starts at offset 0). Named",
    " * members are camelCased (`link_create` is `linkCreate`); anonymous ones are named for",
    " * their command (`mapCreate`, `mapElem`, `progLoad`, `objPin`, `progAttach`, `getId`,",
    " * `btfLoad`). Members of anonymous unions/structs are hoisted; named nested ones are",
    ' * dotted (`"perf_event.bpf_cookie"`).',
    " */",
    "export const bpfAttr = {",
  );
  for (const [name, l] of bpfAttrLayouts(btf)) {
    out.push(`  ${name}: {`, ...printLayoutBody(l, "    "), "  },");
  }
  out.push("} as const satisfies Readonly<Record<string, StructLayout>>;");

  for (const [exportName, structName, doc] of STRUCTS) {
    const t = btf.findByName("STRUCT", structName) ?? fail(`struct ${structName} not found`);
    out.push("", `/** Layout of ${doc}. */`, `export const ${exportName} = {`);
    out.push(...printLayoutBody(layoutOf(btf, t), "  "));
    out.push("} as const satisfies StructLayout;");
  }
  out.push("");
  return out.join("\n");
}

/** The committed BTF the generated file is made from, relative to the repository root. */
export const BLOB_PATH = "scripts/uapi-btf/vmlinux.btf.gz";
/** `uname -r` of the kernel the committed BTF came from. */
export const BLOB_RELEASE_PATH = "scripts/uapi-btf/release.txt";

/** The committed BTF blob (gunzipped) and the release it came from. */
export function committedBtf(root: string): { bytes: Uint8Array; release: string } {
  return {
    bytes: new Uint8Array(gunzipSync(readFileSync(join(root, BLOB_PATH)))),
    release: readFileSync(join(root, BLOB_RELEASE_PATH), "utf8").trim(),
  };
}

const USAGE = `usage: node --import tsx scripts/gen-uapi.ts [--adopt-running-kernel | --btf PATH --release NAME] [--out PATH]
  (no option)             generate from the committed ${BLOB_PATH}
  --adopt-running-kernel  first replace the committed blob with /sys/kernel/btf/vmlinux and uname -r
  --btf PATH              generate from another raw (or .gz) BTF file, named --release NAME
`;

function main(argv: readonly string[]): void {
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  let btfPath: string | undefined;
  let release: string | undefined;
  let adopt = false;
  let outPath = join(root, OUTPUT_PATH);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === "--adopt-running-kernel") {
      adopt = true;
    } else if ((a === "--btf" || a === "--release" || a === "--out") && v !== undefined) {
      if (a === "--btf") btfPath = v;
      else if (a === "--release") release = v;
      else outPath = v;
      i++;
    } else {
      process.stderr.write(USAGE);
      process.exit(2);
    }
  }
  if (adopt) {
    const raw = readFileSync("/sys/kernel/btf/vmlinux");
    writeFileSync(join(root, BLOB_PATH), gzipSync(raw, { level: 9 }));
    writeFileSync(join(root, BLOB_RELEASE_PATH), `${osRelease()}\n`);
    process.stdout.write(`wrote ${BLOB_PATH} from Linux ${osRelease()}\n`);
  }
  let input: { bytes: Uint8Array; release: string };
  if (btfPath !== undefined) {
    const raw = readFileSync(btfPath);
    input = {
      bytes: new Uint8Array(btfPath.endsWith(".gz") ? gunzipSync(raw) : raw),
      release: release ?? osRelease(),
    };
  } else {
    input = committedBtf(root);
  }
  let btf: BTF;
  try {
    btf = parseBTF(input.bytes);
  } catch (e) {
    if (e instanceof BTFError) {
      process.stderr.write(`gen-uapi: ${btfPath ?? BLOB_PATH}: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  writeFileSync(outPath, generateUapi(btf, input.release));
  process.stdout.write(`wrote ${outPath} (Linux ${input.release})\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2));
}
