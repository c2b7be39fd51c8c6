/**
 * `tsbpf_log.h` in the VM: programs run in a {@link VirtualMachine} write their log
 * records to the VM's `TSBPF_LOG` ring buffer; a {@link VmLogger} drains it and formats
 * them with the same decoder as the kernel's `BpfLogger`, so a program logs the same
 * lines on either backend.
 *
 * Pure: no `node:` imports.
 *
 * @module
 */
import { LogDecoder, type LogOptions, logDroppedOf, logMapOf } from "../spec/log-decoder.ts";
import { LogError } from "../spec/log-sites.ts";
import type { VmMap } from "./maps/map.ts";
import { VmRingBuf } from "./maps/ringbuf.ts";
import type { VirtualMachine } from "./virtual-machine.ts";

/**
 * Reads the log records of programs running in a VM. Nothing runs by itself in the
 * VM, so neither does the logger: call {@link drain} after running programs.
 *
 * @example
 * ```ts
 * const vm = VirtualMachine.load(spec, { constants: logLevelConstants("debug") });
 * const logger = new VmLogger(vm, { level: "info" });
 * vm.program("log_openat").run({ ctx });
 * logger.drain(); // prints "[INFO  log_openat] pid=42 comm=bash"
 * ```
 */
export class VmLogger {
  /** The decoder (call sites, counters of delivered, filtered and bad records). */
  readonly decoder: LogDecoder;
  readonly #vm: VirtualMachine;
  readonly #ring: VmRingBuf;

  /**
   * @throws LogError when the VM has no `TSBPF_LOG` ring buffer or a call site of the
   * object is malformed.
   */
  constructor(vm: VirtualMachine, opts: LogOptions = {}) {
    const ring = logMapOf<VmMap>(vm.maps);
    if (!(ring instanceof VmRingBuf))
      throw new LogError(`${ring}: the log map is not a ring buffer (BPF_MAP_TYPE_RINGBUF)`);
    this.#vm = vm;
    this.#ring = ring;
    this.decoder = new LogDecoder(vm, opts);
  }

  /**
   * Delivers every record in the ring now (per the options); returns how many were
   * read, bad and filtered ones included.
   */
  drain(): number {
    let n = 0;
    for (const rec of this.#ring.drain()) {
      this.decoder.handle(rec.data);
      n++;
    }
    return n;
  }

  /** Records the programs dropped because the ring was full (`tsbpf_log_dropped`). */
  get dropped(): bigint {
    return logDroppedOf(this.#vm);
  }
}
