/**
 * `struct bpf_prog_info`, decoded: what the kernel tells about a loaded program
 * (BPF_OBJ_GET_INFO_BY_FD). The first call learns the sizes of the arrays; a second
 * call, with buffers of those sizes, fetches the arrays themselves (translated and
 * JITed instructions, map ids, JITed function lengths and symbols, func/line info).
 * @module
 */

import { BPF_TAG_SIZE, bpfProgInfo, progTypeName } from "../../uapi/index.ts";
import { objInfoByFd } from "../objects/obj-info.ts";
import { Clock, clockGettimeNs } from "../sys/index.ts";

/** Everything `bpf_prog_info` says about a program. 64-bit counters are bigint. */
export interface ProgramInfo {
  /** `enum bpf_prog_type`. */
  readonly type: number;
  /** bpftool's name for the type ("xdp"), or `type N` for one tsbpf does not know. */
  readonly typeName: string;
  readonly id: number;
  /** The kernel's tag (a truncated SHA-1 of the instructions): 16 lowercase hex digits. */
  readonly tag: string;
  /** The name given at load (at most 15 characters). */
  readonly name: string;
  /** Bytes of JITed machine code (0 when not JITed or withheld). */
  readonly jitedProgLen: number;
  /** Bytes of translated (post-verifier) BPF instructions. */
  readonly xlatedProgLen: number;
  /** The translated instructions, 8 bytes each; empty when withheld (see `xlatedUnavailable`). */
  readonly xlatedInstructions: Uint8Array;
  /** The JITed machine code; empty when withheld. */
  readonly jitedInstructions: Uint8Array;
  /**
   * Why `xlatedInstructions` is empty although `xlatedProgLen` is not: the kernel
   * withholds raw instructions when `kernel.kptr_restrict` (bpf_dump_raw_ok) forbids
   * showing kernel addresses to this process.
   */
  readonly xlatedUnavailable: string | undefined;
  /** Likewise for `jitedInstructions`. */
  readonly jitedUnavailable: string | undefined;
  /** When the program was loaded, in nanoseconds since boot (CLOCK_BOOTTIME), as the kernel stamps it. */
  readonly loadTime: bigint;
  /** {@link loadTime} as wall-clock time (CLOCK_REALTIME - CLOCK_BOOTTIME + loadTime). */
  readonly loadedAt: Date;
  /** The uid of the process that loaded it. */
  readonly createdByUid: number;
  /** Ids of the maps the program uses. */
  readonly mapIds: readonly number[];
  /** Offload device (0 when not offloaded). */
  readonly ifindex: number;
  readonly netnsDev: bigint;
  readonly netnsIno: bigint;
  /** The licence was GPL-compatible. */
  readonly gplCompatible: boolean;
  /** The BTF object with the program's func/line info (0 for none). */
  readonly btfId: number;
  /** Kernel addresses of the JITed functions (0 each when kptr_restrict hides them). */
  readonly jitedKsyms: readonly bigint[];
  /** Byte lengths of the JITed functions (main program first, then subprograms). */
  readonly jitedFuncLengths: readonly number[];
  /** Number of func_info records, and their raw bytes (`funcInfoRecordSize` each). */
  readonly funcInfoCount: number;
  readonly funcInfoRecordSize: number;
  readonly funcInfo: Uint8Array;
  /** Number of line_info records, and their raw bytes (`lineInfoRecordSize` each). */
  readonly lineInfoCount: number;
  readonly lineInfoRecordSize: number;
  readonly lineInfo: Uint8Array;
  /** Number of jited_line_info records (a kernel address per line_info). */
  readonly jitedLineInfoCount: number;
  /** Tags of every function (main, then subprograms), hex. */
  readonly progTags: readonly string[];
  /** Total run time in ns; counted only while BPF_ENABLE_STATS (or the sysctl) is on. */
  readonly runTimeNs: bigint;
  /** Number of runs counted while stats are on. */
  readonly runCnt: bigint;
  /** Runs skipped because the program was already running on that CPU. */
  readonly recursionMisses: bigint;
  /** Instructions the verifier processed (its `processed N insns`). */
  readonly verifiedInsns: number;
  /** For tracing/ext programs: the BTF object and type id attached to. */
  readonly attachBtfObjId: number;
  readonly attachBtfId: number;
}

const F = bpfProgInfo.fields;
const WITHHELD =
  "the kernel withheld them: bpf_dump_raw_ok() is false for this process (kernel.kptr_restrict, or not CAP_SYSLOG/CAP_PERFMON)";

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/** Reads the info of the program behind `fd`, arrays included. */
export function programInfoByFd(fd: number): ProgramInfo {
  const first = objInfoByFd(fd, bpfProgInfo);
  const u32 = (v: DataView, f: { offset: number }) => v.getUint32(f.offset, true);
  const u64 = (v: DataView, f: { offset: number }) => v.getBigUint64(f.offset, true);

  const xlatedLen = u32(first, F.xlated_prog_len);
  const jitedLen = u32(first, F.jited_prog_len);
  const nrMaps = u32(first, F.nr_map_ids);
  const nrKsyms = u32(first, F.nr_jited_ksyms);
  const nrFuncLens = u32(first, F.nr_jited_func_lens);
  const nrFuncInfo = u32(first, F.nr_func_info);
  const funcRec = u32(first, F.func_info_rec_size);
  const nrLineInfo = u32(first, F.nr_line_info);
  const lineRec = u32(first, F.line_info_rec_size);
  const nrJitedLine = u32(first, F.nr_jited_line_info);
  const jitedLineRec = u32(first, F.jited_line_info_rec_size);
  const nrTags = u32(first, F.nr_prog_tags);

  let xlated: Uint8Array = new Uint8Array(0);
  let jited: Uint8Array = new Uint8Array(0);
  let maps: Uint8Array = new Uint8Array(0);
  let ksyms: Uint8Array = new Uint8Array(0);
  let funcLens: Uint8Array = new Uint8Array(0);
  let funcInfo: Uint8Array = new Uint8Array(0);
  let lineInfo: Uint8Array = new Uint8Array(0);
  let tags: Uint8Array = new Uint8Array(0);
  const info = objInfoByFd(fd, bpfProgInfo, (req) => {
    const arr = (lenField: string, count: number, ptrField: string, size: number) => {
      req.set(lenField, count);
      return count > 0 ? req.output(ptrField, size) : new Uint8Array(0);
    };
    xlated = arr("xlated_prog_len", xlatedLen, "xlated_prog_insns", xlatedLen);
    jited = arr("jited_prog_len", jitedLen, "jited_prog_insns", jitedLen);
    maps = arr("nr_map_ids", nrMaps, "map_ids", nrMaps * 4);
    ksyms = arr("nr_jited_ksyms", nrKsyms, "jited_ksyms", nrKsyms * 8);
    funcLens = arr("nr_jited_func_lens", nrFuncLens, "jited_func_lens", nrFuncLens * 4);
    if (nrFuncInfo > 0) req.set("func_info_rec_size", funcRec);
    funcInfo = arr("nr_func_info", nrFuncInfo, "func_info", nrFuncInfo * funcRec);
    if (nrLineInfo > 0) req.set("line_info_rec_size", lineRec);
    lineInfo = arr("nr_line_info", nrLineInfo, "line_info", nrLineInfo * lineRec);
    tags = arr("nr_prog_tags", nrTags, "prog_tags", nrTags * BPF_TAG_SIZE);
    // jited_line_info is only counted: its addresses say nothing without the ksyms.
    void nrJitedLine;
    void jitedLineRec;
  });

  // When raw dumps are not allowed, the kernel zeroes the pointer it was given.
  const xlatedWithheld = xlatedLen > 0 && u64(info, F.xlated_prog_insns) === 0n;
  const jitedWithheld = jitedLen > 0 && u64(info, F.jited_prog_insns) === 0n;

  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const mapIds: number[] = [];
  const mv = dv(maps);
  for (let i = 0; i < Math.min(nrMaps, u32(info, F.nr_map_ids)); i++) {
    mapIds.push(mv.getUint32(i * 4, true));
  }
  const kv = dv(ksyms);
  const jitedKsyms: bigint[] = [];
  for (let i = 0; i < ksyms.length / 8; i++) jitedKsyms.push(kv.getBigUint64(i * 8, true));
  const lv = dv(funcLens);
  const jitedFuncLengths: number[] = [];
  for (let i = 0; i < funcLens.length / 4; i++) jitedFuncLengths.push(lv.getUint32(i * 4, true));
  const progTags: string[] = [];
  for (let i = 0; i < tags.length / BPF_TAG_SIZE; i++) {
    progTags.push(hex(tags.subarray(i * BPF_TAG_SIZE, (i + 1) * BPF_TAG_SIZE)));
  }

  const type = u32(info, F.type);
  const nameBytes = new Uint8Array(info.buffer, F.name.offset, F.name.size);
  const nul = nameBytes.indexOf(0);
  const loadTime = u64(info, F.load_time);
  return {
    type,
    typeName: progTypeName(type) ?? `type ${type}`,
    id: u32(info, F.id),
    tag: hex(new Uint8Array(info.buffer, F.tag.offset, BPF_TAG_SIZE)),
    name: new TextDecoder().decode(nameBytes.subarray(0, nul < 0 ? nameBytes.length : nul)),
    jitedProgLen: jitedLen,
    xlatedProgLen: xlatedLen,
    xlatedInstructions: xlatedWithheld ? new Uint8Array(0) : xlated,
    jitedInstructions: jitedWithheld ? new Uint8Array(0) : jited,
    xlatedUnavailable: xlatedWithheld ? WITHHELD : undefined,
    jitedUnavailable: jitedWithheld ? WITHHELD : undefined,
    loadTime,
    loadedAt: bootTimeToDate(loadTime),
    createdByUid: u32(info, F.created_by_uid),
    mapIds,
    ifindex: u32(info, F.ifindex),
    netnsDev: u64(info, F.netns_dev),
    netnsIno: u64(info, F.netns_ino),
    gplCompatible: (u32(info, F.gpl_compatible) & 1) === 1,
    btfId: u32(info, F.btf_id),
    jitedKsyms,
    jitedFuncLengths,
    funcInfoCount: nrFuncInfo,
    funcInfoRecordSize: funcRec,
    funcInfo,
    lineInfoCount: nrLineInfo,
    lineInfoRecordSize: lineRec,
    lineInfo,
    jitedLineInfoCount: nrJitedLine,
    progTags,
    runTimeNs: u64(info, F.run_time_ns),
    runCnt: u64(info, F.run_cnt),
    recursionMisses: u64(info, F.recursion_misses),
    verifiedInsns: u32(info, F.verified_insns),
    attachBtfObjId: u32(info, F.attach_btf_obj_id),
    attachBtfId: u32(info, F.attach_btf_id),
  };
}

/**
 * Converts a CLOCK_BOOTTIME timestamp in ns (how the kernel stamps BPF objects) to a
 * wall-clock Date, as bpftool does: realtime - boottime + t.
 */
export function bootTimeToDate(bootNs: bigint): Date {
  const real = clockGettimeNs(Clock.REALTIME);
  const boot = clockGettimeNs(Clock.BOOTTIME);
  return new Date(Number((real - boot + bootNs) / 1_000_000n));
}
