/**
 * The fast path feature probes load programs and create maps through: one
 * preallocated `union bpf_attr`, instruction buffer and log buffer, reused for every
 * call (thousands of loads in a full helper scan), and {@link bpfRaw} rather than the
 * field-by-name {@link BpfCall}. A probe's descriptor is closed at once: a probe only
 * wants the kernel's answer.
 * @module
 */

import { BPF_ATTR_SIZE, BpfCmd, bpfAttr, INSN_SIZE, LogLevel } from "../../uapi/index.ts";
import { allocNative, bpfRaw, closeFd, type NativeMemory } from "../sys/index.ts";
import { HELPER_PROBE_IMM_OFFSET, helperProbeProgram } from "./insns.ts";

/** Largest program a probe loads (the large-program probe: BPF_MAXINSNS + 1). */
const MAX_PROBE_INSNS = 4097;
/** Log buffer of probes that read the log; since Linux 6.4 it keeps the log's end. */
export const PROBE_LOG_SIZE = 4096;

interface Buffers {
  readonly logBuffer: Buffer;
  readonly attr: NativeMemory;
  readonly view: DataView;
  readonly insns: NativeMemory;
  readonly license: NativeMemory;
  readonly log: NativeMemory;
}
let buffers: Buffers | undefined;

function get(): Buffers {
  if (!buffers) {
    const attr = allocNative(BPF_ATTR_SIZE);
    const license = allocNative(8);
    license.bytes.set([0x47, 0x50, 0x4c, 0]); // "GPL"
    const log = allocNative(PROBE_LOG_SIZE);
    buffers = {
      logBuffer: Buffer.from(log.bytes.buffer, log.bytes.byteOffset, PROBE_LOG_SIZE),
      attr,
      view: new DataView(attr.bytes.buffer, attr.bytes.byteOffset, BPF_ATTR_SIZE),
      insns: allocNative(MAX_PROBE_INSNS * INSN_SIZE),
      license,
      log,
    };
  }
  return buffers;
}

/** What a probe load sets besides the type and instructions. */
export interface ProbeLoadAttrs {
  readonly expectedAttachType?: number;
  readonly flags?: number;
  readonly kernVersion?: number;
  readonly attachBtfId?: number;
  /** Read the verifier log (level 1) into {@link ProbeOutcome.log}. */
  readonly withLog?: boolean;
}

/** The kernel's answer to a probe. */
export interface ProbeOutcome {
  /** True when the kernel created the object (already closed again). */
  readonly ok: boolean;
  /** errno when it did not (0 on success). */
  readonly errno: number;
  /** The verifier log, when asked for (the end of it if it was long). */
  readonly log: string;
}

const decoder = new TextDecoder();

/**
 * Writes a fresh BPF_PROG_LOAD attribute into `b` for `count` instructions already in
 * `b.insns` (the log fields are left to the caller).
 */
function writeLoadAttr(b: Buffers, type: number, count: number, attrs: ProbeLoadAttrs): void {
  const F = bpfAttr.progLoad.fields;
  const v = b.view;
  b.attr.bytes.fill(0);
  v.setUint32(F.prog_type.offset, type, true);
  v.setUint32(F.insn_cnt.offset, count, true);
  v.setBigUint64(F.insns.offset, b.insns.address, true);
  v.setBigUint64(F.license.offset, b.license.address, true);
  v.setUint32(F.expected_attach_type.offset, attrs.expectedAttachType ?? 0, true);
  v.setUint32(F.prog_flags.offset, attrs.flags ?? 0, true);
  v.setUint32(F.kern_version.offset, attrs.kernVersion ?? 0, true);
  v.setUint32(F.attach_btf_id.offset, attrs.attachBtfId ?? 0, true);
}

/** Loads a program of `type` made of `insns` and closes it again. */
export function probeLoad(
  type: number,
  insns: Uint8Array,
  attrs: ProbeLoadAttrs = {},
): ProbeOutcome {
  const b = get();
  if (insns.length > b.insns.size)
    throw new Error(`internal: probe program too long (${insns.length} bytes)`);
  b.insns.bytes.set(insns);
  const F = bpfAttr.progLoad.fields;
  const v = b.view;
  writeLoadAttr(b, type, insns.length / INSN_SIZE, attrs);
  if (attrs.withLog) {
    b.log.bytes[0] = 0;
    v.setUint32(F.log_level.offset, 1, true);
    v.setUint32(F.log_size.offset, PROBE_LOG_SIZE, true);
    v.setBigUint64(F.log_buf.offset, b.log.address, true);
  }
  const r = bpfRaw(BpfCmd.PROG_LOAD, b.attr);
  if (r >= 0) closeFd(r);
  let log = "";
  if (attrs.withLog) {
    const end = b.log.bytes.indexOf(0);
    log = decoder.decode(b.log.bytes.subarray(0, end < 0 ? PROBE_LOG_SIZE : end));
  }
  return { ok: r >= 0, errno: r >= 0 ? 0 : -r, log };
}

/** Map creation attributes for {@link probeMapCreate}. */
export interface ProbeMapAttrs {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
  readonly innerMapFd?: number;
  readonly btfFd?: number;
  readonly btfKeyTypeId?: number;
  readonly btfValueTypeId?: number;
  readonly btfVmlinuxValueTypeId?: number;
  readonly mapExtra?: bigint;
}

/**
 * Creates a map with `attrs`. With `keep`, returns the fd for the caller to close
 * (inner maps); otherwise closes it at once.
 */
export function probeMapCreate(attrs: ProbeMapAttrs, keep = false): ProbeOutcome & { fd: number } {
  const b = get();
  const F = bpfAttr.mapCreate.fields;
  const v = b.view;
  b.attr.bytes.fill(0);
  v.setUint32(F.map_type.offset, attrs.type, true);
  v.setUint32(F.key_size.offset, attrs.keySize, true);
  v.setUint32(F.value_size.offset, attrs.valueSize, true);
  v.setUint32(F.max_entries.offset, attrs.maxEntries, true);
  v.setUint32(F.map_flags.offset, attrs.flags ?? 0, true);
  v.setUint32(F.inner_map_fd.offset, attrs.innerMapFd ?? 0, true);
  v.setUint32(F.btf_fd.offset, attrs.btfFd ?? 0, true);
  v.setUint32(F.btf_key_type_id.offset, attrs.btfKeyTypeId ?? 0, true);
  v.setUint32(F.btf_value_type_id.offset, attrs.btfValueTypeId ?? 0, true);
  v.setUint32(F.btf_vmlinux_value_type_id.offset, attrs.btfVmlinuxValueTypeId ?? 0, true);
  v.setBigUint64(F.map_extra.offset, attrs.mapExtra ?? 0n, true);
  const r = bpfRaw(BpfCmd.MAP_CREATE, b.attr);
  if (r >= 0 && !keep) closeFd(r);
  return { ok: r >= 0, errno: r >= 0 ? 0 : -r, log: "", fd: keep ? r : -1 };
}

/** Calls bpf(2) with a zeroed attribute for `cmd`: for "is the syscall there" probes. */
export function probeBareCommand(cmd: number): ProbeOutcome {
  const b = get();
  b.attr.bytes.fill(0);
  const r = bpfRaw(cmd as BpfCmd, b.attr);
  if (r >= 0) closeFd(r);
  return { ok: r >= 0, errno: r >= 0 ? 0 : -r, log: "" };
}

/** The verifier's ways of saying a helper is not there (see helpers.ts), as bytes. */
const MISSING_HELPER = [
  "program of this type cannot use helper ",
  "invalid func ",
  "unknown func ",
].map((m) => Buffer.from(m, "latin1"));

/**
 * The helper-scan hot path: for each id in `ids`, loads {@link helperProbeProgram} as
 * `type` and tells whether the verifier said the helper is missing; returns one flag
 * per id (1: missing). A full scan makes thousands of loads, so the attribute and the
 * program are written once per scan and only the helper id changes between loads; the
 * log is BPF_LOG_STATS (the verifier's messages without the state dumps of level 1,
 * which cost the kernel about a microsecond a load) and is searched in native memory,
 * up to its end, without decoding it.
 */
export function probeHelpersMissing(
  type: number,
  ids: ArrayLike<number>,
  attrs: ProbeLoadAttrs,
): Uint8Array {
  const b = get();
  const v = b.view;
  const F = bpfAttr.progLoad.fields;
  const program = helperProbeProgram(0);
  b.insns.bytes.set(program);
  const insnView = new DataView(b.insns.bytes.buffer, b.insns.bytes.byteOffset, program.length);
  writeLoadAttr(b, type, program.length / INSN_SIZE, attrs);
  v.setUint32(F.log_level.offset, LogLevel.STATS, true);
  v.setUint32(F.log_size.offset, PROBE_LOG_SIZE, true);
  v.setBigUint64(F.log_buf.offset, b.log.address, true);
  const trueSize = F.log_true_size?.offset;
  const log = b.logBuffer;
  const logBytes = b.log.bytes;
  const missing = new Uint8Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    insnView.setInt32(HELPER_PROBE_IMM_OFFSET, ids[i] as number, true);
    logBytes[0] = 0;
    if (trueSize !== undefined) v.setUint32(trueSize, 0, true);
    const r = bpfRaw(BpfCmd.PROG_LOAD, b.attr);
    if (r >= 0) {
      closeFd(r);
      continue;
    }
    const end = log.indexOf(0);
    const text = end < 0 ? log : log.subarray(0, end);
    for (let m = 0; m < MISSING_HELPER.length; m++) {
      if (text.indexOf(MISSING_HELPER[m] as Buffer) >= 0) {
        missing[i] = 1;
        break;
      }
    }
  }
  return missing;
}
