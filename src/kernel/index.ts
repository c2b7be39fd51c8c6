/**
 * tsbpf's Linux backend (`tsbpf/kernel`): maps, programs, collections, links, ring and
 * perf buffer readers, pins, object walking, kernel BTF and feature probes — what a
 * user of cilium/ebpf or libbpf reaches for. Each name is documented where it is
 * defined. Everything else under src/kernel is internal (importable by path inside
 * this repository, not part of the API).
 *
 * @module
 */
// biome-ignore-all assist/source/organizeImports: grouped by topic, a comment per group

// ---- maps ----------------------------------------------------------------------------
export { BpfMap, type BpfMapCreateOptions, type BpfMapOpenOptions } from "./maps/map.ts";
export { MapBatchError } from "./maps/map-batch.ts";
export { type MapInfo, mapInfoByFd, mapInfoById } from "./maps/map-info.ts";

// ---- programs ------------------------------------------------------------------------
export { Program } from "./programs/program.ts";
export type { LoadOptions } from "./programs/program-load.ts";
export type { RunOptions, RunResult } from "./programs/test-run.ts";
export { type ProgramInfo, programInfoByFd } from "./programs/prog-info.ts";
export { VerifierError } from "./programs/verifier-error.ts";
export {
  type KernelVerdict,
  type KernelVerdictOptions,
  kernelVerdict,
} from "./programs/verdict.ts";
export {
  type KernelErrorLine,
  kernelErrorLine,
  parseVerifierLog,
  type VerifierStats,
  type VerifierVerdict,
  verifierStats,
} from "./programs/verifier-log.ts";
export { enableStats } from "./programs/program-stats.ts";

// ---- errors and the raw bpf(2) escape hatch ------------------------------------------
export { NotSupportedError } from "./features/not-supported-error.ts";
export { BpfCall, Fd, type OutBuffer, openFdCount, SyscallError } from "./sys/index.ts";

// ---- collections (an ELF object's maps, programs and variables, loaded) --------------
export { Collection, type CollectionOptions, kernelBackend } from "./collection/collection.ts";
export { CoreRelocationUnsatisfiedError } from "./collection/errors.ts";
export { ExternError } from "./collection/externs.ts";
export { Variable } from "./collection/variables.ts";
export { loadCollection } from "./collection/load-spec.ts";

// ---- links: attaching programs -------------------------------------------------------
export { Link } from "./links/link.ts";
export {
  type LinkDetail,
  type LinkInfo,
  linkInfoByFd,
  type PerfEventLinkInfo,
} from "./links/link-info.ts";
export { type AttachTarget, attachProgram } from "./links/attach-program.ts";
export { LinkSet } from "./links/link-set.ts";
export {
  attachCgroup,
  attachCgroupPersistent,
  CGROUP_ATTACH_TYPES,
  type CgroupAttachOptions,
  type CgroupProgram,
  type CgroupQuery,
  detachCgroup,
  queryCgroup,
} from "./links/cgroup.ts";
export {
  attachFlowDissector,
  attachSkLookup,
  CURRENT_NETNS,
  type NetnsRef,
} from "./links/netns.ts";
export {
  attachNetfilter,
  NETFILTER_IP_DEFRAG,
  NetfilterFamily,
  NetfilterHook,
  type NetfilterOptions,
} from "./links/netfilter.ts";
export { attachReuseport, attachSocketFilter, type SocketRef } from "./links/socket.ts";
export {
  type TaskFdInfo,
  taskFdQuery,
  taskFdTypeName,
  tryTaskFdQuery,
} from "./links/task-fd-query.ts";
export { attachSockmap, SOCKMAP_HOOKS, type SockmapRef } from "./links/sockmap.ts";
export {
  type AttachMode,
  attachModeFlags,
  type ProgAttachOptions,
  type ProgQuery,
  progAttach,
  progDetach,
  progQuery,
} from "./links/prog-attach.ts";
export {
  attachKprobe,
  attachKsyscall,
  type KprobeOptions,
  type KsyscallOptions,
} from "./links/kprobe.ts";
export { attachKprobeMulti, type KprobeMultiOptions } from "./links/kprobe-multi.ts";
export {
  attachTc,
  attachTcx,
  attachXdp,
  ifindexOf,
  interfaceNameOf,
  type TcOptions,
  type XdpOptions,
} from "./links/netdev.ts";
export {
  type ClsactOptions,
  listClsactFilters,
  type TcDirection,
} from "./links/tc-clsact.ts";
export { queryXdp, type XdpMode, type XdpPrograms } from "./links/xdp-netlink.ts";
export { attachToPerfEvent, type PerfAttachOptions } from "./links/perf-attach.ts";
export {
  attachPerfEvent,
  attachPerfEventPerCpu,
  onlineCpus,
  type SamplingOptions,
} from "./links/perf-sampling.ts";
export { attachRawTracepoint, type RawTracepointOptions } from "./links/raw-tracepoint.ts";
export { attachTracepoint } from "./links/tracepoint.ts";
export {
  attachIter,
  attachLsm,
  attachTracing,
  type IterOptions,
  type TracingOptions,
} from "./links/tracing.ts";
export { attachUprobe, type UprobeOptions } from "./links/uprobe.ts";
export {
  attachUsdt,
  findUsdtProbes,
  USDT_IP_MAP,
  USDT_SPECS_MAP,
  type UsdtOptions,
} from "./links/usdt.ts";
export { encodeUsdtSpec, USDT_SPEC } from "./links/usdt-spec.ts";
export {
  BpfIterator,
  ITER_READ_SIZE,
  type IteratorOptions,
  iterCreate,
  openIterator,
} from "./links/iter.ts";

// ---- readers: ring buffers, perf buffers, trace_pipe, records ------------------------
export {
  RingBatch,
  type RingBufferMapLike,
  RingBufferReader,
  RingBufferSet,
  type RingSetRecord,
} from "./readers/ringbuf.ts";
export type { RecordFn } from "./readers/ring-walk.ts";
export { RawRingReader, RING_EMPTY } from "./readers/ringbuf-raw.ts";
export {
  type PerfBufferOptions,
  PerfBufferReader,
  type PerfEventArrayLike,
  type PerfLost,
  type PerfRecord,
  type PerfSample,
} from "./readers/perfbuf.ts";
export { PerfRingStatus, RawPerfRing } from "./readers/perfbuf-raw.ts";
// ---- logging from BPF programs (tsbpf_log.h) ---------------------------------------
export {
  formatLogLine,
  LogDecoder,
  LogError,
  LogLevel,
  type LogOptions,
  type LogRecord,
  logLevelConstants,
} from "../spec/index.ts";
export { BpfLogger } from "./readers/bpf-logger.ts";
export { type TracePipeOptions, TracePipeReader, type TraceRecord } from "./readers/trace-pipe.ts";
export { RecordReader, type RecordReaderOptions, type RecordSource } from "./readers/poll.ts";
export { decodeRecord, type RecordType, recordDecoder } from "./readers/record-decode.ts";

// ---- pins ----------------------------------------------------------------------------
export { ObjectNotFoundError } from "./objects/objects.ts";
export { ensureBpffs, isOnBpffs, openPinned, pinObject } from "./objects/pin.ts";

// ---- walking the kernel's objects ----------------------------------------------------
export {
  btfIds,
  linkIds,
  mapIds,
  type ObjectKind,
  objectFdById,
  progIds,
} from "./objects/objects.ts";

// ---- kernel BTF ----------------------------------------------------------------------
export {
  BTFLoadError,
  KernelBTF,
  type LoadBTFOptions,
  moduleBTF,
  moduleBTFNames,
  vmlinuxBTF,
} from "./btf/kernel-btf.ts";
export { type BtfInfo, btfInfoById } from "./btf/btf-info.ts";

// ---- feature probes ------------------------------------------------------------------
export { type HelperScan, haveHelper, scanHelpers } from "./features/helpers.ts";
export { haveMapType } from "./features/map-types.ts";
export {
  haveBoundedLoops,
  haveIsaV2,
  haveIsaV3,
  haveIsaV4,
  haveLargeInsnLimit,
  probeMiscFeatures,
} from "./features/misc.ts";
export { haveProgType } from "./features/prog-types.ts";
export {
  type FeatureReport,
  haveBpfSyscall,
  type ProbeOptions,
  probeKernelFeatures,
  type TypeStatus,
} from "./features/report.ts";
export { type FeatureStatus, requireFeature } from "./features/status.ts";
export { type BpfSysctls, probeSystemConfig, type SystemConfig } from "./features/system-config.ts";
export {
  Capability,
  type CapabilityName,
  effectiveCapabilities,
  hasCapability,
  missingCapabilities,
} from "./system/capabilities.ts";

// ---- CPUs ----------------------------------------------------------------------------
export { onCpu, possibleCpus } from "./system/cpus.ts";
