/**
 * The syscall layer: the only code in tsbpf that touches native code (koffi).
 * @module
 */
export { setThreadAffinity, threadAffinity } from "./affinity.ts";
export { BpfCall, bpfRaw, type FieldName, MAX_EAGAIN_RETRIES, OutBuffer } from "./bpf.ts";
export { SyscallError } from "./errors.ts";
export { Fd, openFdCount } from "./fd.ts";
export { dupFd, type FdEvents, FdWatch } from "./fd-watch.ts";
export { type MappingAccess, pageSize, SharedMapping } from "./mapping.ts";
export { mountFs } from "./mount.ts";
export { unshareNetworkNamespace } from "./namespace.ts";
export {
  addressOf,
  allocNative,
  Clock,
  clockGettimeNs,
  closeFd,
  freeNative,
  ioctlInt,
  ioctlPtr,
  lastErrno,
  mmap,
  munmap,
  type NativeMemory,
  syscall5,
  viewNative,
} from "./native.ts";
export {
  NetlinkOption,
  netlinkReceive,
  netlinkSend,
  openNetlinkSocket,
} from "./netlink.ts";
export { type SyscallName, syscallNumber } from "./numbers.ts";
export {
  bindInet,
  listenSocket,
  openSocket,
  Socket,
  setSocketOptionInt,
} from "./socket.ts";
