/**
 * The options of `Collection.load`, read by the load stages.
 * @module
 */
import { moduleBTF, moduleBTFNames, vmlinuxBTF } from "../btf/kernel-btf.ts";
import type { BpfMap } from "../maps/map.ts";
import type { KernelBTFSource } from "./externs.ts";

/** Options of {@link Collection.load}. */
export interface CollectionOptions {
  /** Verifier log level for every program (see `LoadOptions.logLevel`); default 0. */
  readonly logLevel?: number;
  /** First verifier log buffer size. */
  readonly logSize?: number;
  /**
   * Directory on bpffs for maps with `pinning: "byName"` (LIBBPF_PIN_BY_NAME);
   * default /sys/fs/bpf.
   */
  readonly pinPath?: string;
  /**
   * Existing maps to use instead of creating the map of the same name (they must be
   * compatible: type, key and value size, max entries, flags). The collection does not
   * close them.
   */
  readonly mapReplacements?: Readonly<Record<string, BpfMap>>;
  /**
   * New initial values of read-only global variables (`const volatile` in `.rodata`),
   * written before the map is frozen and the programs verified — libbpf skeletons'
   * `rodata`, cilium/ebpf's `RewriteConstants`. Bytes of the variable's size, or a
   * number/bigint stored little-endian.
   */
  readonly constants?: Readonly<Record<string, Uint8Array | number | bigint>>;
  /**
   * The object's name, prefixing global-data map names like libbpf's (`xdp_prog.bss`);
   * {@link loadCollection} passes the file name up to its first dot. Default: none.
   */
  readonly objectName?: string;
  /** Extra `CONFIG_X=value` for kconfig externs, over the kernel's own configuration. */
  readonly kconfig?: Readonly<Record<string, string>>;
  /**
   * The value of libbpf's `LINUX_HAS_BPF_COOKIE` kconfig extern (usdt.bpf.h reads it to
   * choose the BPF cookie or its IP map). Default: whether this kernel's kprobe
   * programs may call bpf_get_attach_cookie (Linux >= 5.15), probed when an object
   * declares the extern, as libbpf does.
   */
  readonly hasBpfCookie?: boolean;
  /** The kernel BTF CO-RE and ksyms resolve against; default /sys/kernel/btf. */
  readonly kernelBTF?: KernelBTFSource;
  /** Only these programs are loaded (default: every program of the spec). */
  readonly programs?: readonly string[];
}

/** Where CO-RE and ksyms find the running kernel's BTF unless the options say otherwise. */
export const defaultKernelBTF: KernelBTFSource = {
  vmlinux: vmlinuxBTF,
  moduleNames: moduleBTFNames,
  module: moduleBTF,
};
